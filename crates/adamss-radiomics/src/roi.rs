//! The region of interest: the image cropped to the mask's bounding box.

use adamss_io::Volume;

use crate::error::{Error, Result};
use crate::pixel::Pixel;
use crate::settings::{ResegmentMode, Settings};

/// The image inside the bounding box of one mask label, with the ROI membership per voxel.
/// Voxel `[i, j, k]` of the box is at `i + d0·(j + d1·k)`.
#[derive(Debug, Clone)]
pub struct Roi {
    /// Box size `[d0, d1, d2]`.
    pub dims: [usize; 3],
    /// Image values in the box (f64).
    pub image: Vec<f64>,
    /// Whether each box voxel belongs to the ROI.
    pub mask: Vec<bool>,
    /// Voxel spacing, mm.
    pub spacing: [f64; 3],
    /// Whether the image PyRadiomics bins is a float32 array (a float32 image, its wavelet or
    /// LoG): NumPy then computes the lower and upper bin bounds in single precision
    /// ([`crate::bin_edges`]). `false` for integer and float64 images.
    pub single_precision: bool,
}

/// Refuses a non-finite voxel of `values` (whose index `[0, 0, 0]` is voxel `origin` of the
/// image) for an operation that would spread it over the image.
pub(crate) fn require_finite<T: Pixel>(
    values: ndarray::ArrayView3<'_, T>,
    origin: [usize; 3],
    reader: &'static str,
) -> Result<()> {
    match values.indexed_iter().find(|(_, v)| !v.to_f64().is_finite()) {
        None => Ok(()),
        Some(((i, j, k), v)) => Err(Error::NonFiniteRead {
            index: [origin[0] + i, origin[1] + j, origin[2] + k],
            value: v.to_f64(),
            reader,
        }),
    }
}

/// The image PyRadiomics computes on, in f64: the original values, or with `normalize` the
/// z-scores over the whole image (mean and sample standard deviation, as SimpleITK's
/// `Normalize`), clipped to ±`removeOutliers`, times `normalizeScale`.
pub fn image_values<T: Pixel>(
    image: &Volume<T>,
    settings: &Settings,
) -> Result<ndarray::Array3<f64>> {
    settings.validate()?;
    let values = image.data().mapv(adamss_io::Voxel::to_f64);
    if !settings.normalize {
        return Ok(values);
    }
    require_finite(
        values.view(),
        [0; 3],
        "normalize (the whole image's mean and SD)",
    )?;
    // ITK's arithmetic, so that z-scores equal SimpleITK's to the last bit: bin edges often
    // fall exactly on the z-score of an integer CT value, and one ulp moves every voxel of that
    // value to the next bin (texture features 1-14 % off on such images). StatisticsImageFilter
    // sums the values and their squares with Kahan's compensation (in buffer order, x fastest;
    // for integer images both sums are exact, so any order gives the same bits), takes the
    // variance as (Σx² − (Σx)²/n)/(n − 1), and ShiftScaleImageFilter computes
    // (x + (−mean)) · (1/σ). For float images ITK sums per thread, so its last bit depends on
    // the machine's core count; ours is the one-thread sum.
    let (mut sum, mut sum_sq) = (Kahan::default(), Kahan::default());
    for &v in values.t().iter() {
        sum.add(v);
        sum_sq.add(v * v);
    }
    let n = values.len() as f64;
    let mean = sum.total / n;
    let sd = ((sum_sq.total - sum.total * sum.total / n) / (n - 1.0)).sqrt();
    if !(sd > 0.0 && sd.is_finite()) {
        return Err(Error::Settings(format!(
            "normalize: the image has no spread (standard deviation {sd}) to normalise by"
        )));
    }
    let (shift, scale) = (-mean, 1.0 / sd);
    let limit = settings.remove_outliers.unwrap_or(f64::INFINITY);
    Ok(values.mapv(|v| ((v + shift) * scale).clamp(-limit, limit) * settings.normalize_scale))
}

/// Kahan's compensated sum, as ITK's `CompensatedSummation`.
#[derive(Default)]
struct Kahan {
    total: f64,
    compensation: f64,
}

impl Kahan {
    fn add(&mut self, v: f64) {
        let input = v - self.compensation;
        let next = self.total + input;
        self.compensation = (next - self.total) - input;
        self.total = next;
    }
}

/// The mask after PyRadiomics' resegmentation (`resegmentRange`, `resegmentMode`): voxels
/// of `settings.label` whose image value lies below the lower threshold, or above the upper
/// one, are removed (set to 0). Thresholds are sorted; in relative mode they are fractions of
/// the ROI's largest value, in sigma mode multiples of its standard deviation (population)
/// around its mean. `None` when no range is set. Fewer than two voxels left is an error.
pub fn resegment<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Option<Volume<u8>>> {
    if settings.resegment_range.is_none() {
        return Ok(None);
    }
    check_grids(image, mask, settings)?;
    resegment_values(&image_values(image, settings)?, mask, settings)
}

/// [`resegment`] on values already computed by [`image_values`] (same grid as `mask`).
pub(crate) fn resegment_values(
    values: &ndarray::Array3<f64>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Option<Volume<u8>>> {
    let Some(range) = &settings.resegment_range else {
        return Ok(None);
    };
    settings.validate()?;
    let label = settings.label;
    let inside: Vec<f64> = values
        .iter()
        .zip(mask.data())
        .filter(|(_, &m)| m == label)
        .map(|(&v, _)| v)
        .collect();
    if inside.is_empty() {
        return Err(label_absent(mask.data(), label));
    }
    let mut bounds = range.clone();
    bounds.sort_by(f64::total_cmp);
    let thresholds: Vec<f64> = match settings.resegment_mode {
        ResegmentMode::Absolute => bounds,
        ResegmentMode::Relative => {
            let max = inside.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            bounds.iter().map(|t| max * t).collect()
        }
        ResegmentMode::Sigma => {
            let n = inside.len() as f64;
            let mean = inside.iter().sum::<f64>() / n;
            let sd = (inside.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            bounds.iter().map(|t| mean + sd * t).collect()
        }
    };
    let mut kept = 0usize;
    let data = ndarray::Zip::from(values)
        .and(mask.data())
        .map_collect(|&v, &m| {
            let keep =
                m == label && v >= thresholds[0] && thresholds.get(1).is_none_or(|&hi| v <= hi);
            kept += usize::from(keep);
            if keep {
                label
            } else {
                0
            }
        });
    if kept <= 1 {
        return Err(Error::RoiTooSmall(format!(
            "resegmentation to {thresholds:?} left {kept} of {} voxels with label {label}",
            inside.len()
        )));
    }
    Ok(Some(Volume::new(data, *mask.geometry())?))
}

impl Roi {
    /// Crops `image` to the bounding box of `mask == settings.label`, checking that mask and
    /// image share a grid, that the label is present, that the ROI is large enough, and that
    /// ROI voxels are finite. A `Volume<f32>` is binned as float32 data (PyRadiomics on a
    /// float32 image); pass an integer-stored image (a CT) as `Volume<f64>`.
    pub fn new<T: Pixel>(
        image: &Volume<T>,
        mask: &Volume<u8>,
        settings: &Settings,
    ) -> Result<Self> {
        check_grids(image, mask, settings)?;
        if settings.normalize {
            let img = image_values(image, settings)?;
            return Self::from_fn(
                image.shape(),
                |i, j, k| img[[i, j, k]],
                mask.data(),
                image.geometry().spacing,
                settings,
            );
        }
        let img = image.data();
        let mut roi = Self::from_fn(
            image.shape(),
            |i, j, k| img[[i, j, k]].to_f64(),
            mask.data(),
            image.geometry().spacing,
            settings,
        )?;
        // A `Volume<f32>` is float32 data; an integer-stored image comes as `Volume<f64>`.
        roi.single_precision = T::SINGLE;
        Ok(roi)
    }

    /// As [`Roi::new`] for an image given voxel by voxel (`image(i, j, k)`, e.g. a filtered
    /// image in f64) on the mask's grid.
    pub fn from_fn(
        shape: [usize; 3],
        image: impl Fn(usize, usize, usize) -> f64,
        mask: &ndarray::Array3<u8>,
        spacing: [f64; 3],
        settings: &Settings,
    ) -> Result<Self> {
        settings.validate()?;
        let md = mask.dim();
        if [md.0, md.1, md.2] != shape {
            return Err(Error::GeometryMismatch(format!(
                "image shape {shape:?}, mask shape {md:?}"
            )));
        }
        let label = settings.label;
        let (lo, hi, count) = bounding_box(mask, label);
        if count == 0 {
            return Err(label_absent(mask, label));
        }
        let dims = [0, 1, 2].map(|a| hi[a] - lo[a] + 1);
        let extended = dims.iter().filter(|&&n| n > 1).count();
        if extended < settings.minimum_roi_dimensions {
            return Err(Error::RoiTooSmall(format!(
                "the ROI extends over {extended} dimension(s) ({dims:?} voxels), minimumROIDimensions is {}",
                settings.minimum_roi_dimensions
            )));
        }
        if let Some(min) = settings.minimum_roi_size {
            if count < min {
                return Err(Error::RoiTooSmall(format!(
                    "the ROI has {count} voxels, minimumROISize is {min}"
                )));
            }
        }
        let n = dims[0] * dims[1] * dims[2];
        let mut img = Vec::with_capacity(n);
        let mut msk = Vec::with_capacity(n);
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let v = image(i, j, k);
                    let inside = mask[[i, j, k]] == label;
                    if inside && !v.is_finite() {
                        return Err(Error::NonFinite {
                            index: [i, j, k],
                            value: v,
                        });
                    }
                    img.push(v);
                    msk.push(inside);
                }
            }
        }
        Ok(Self {
            dims,
            image: img,
            mask: msk,
            spacing,
            single_precision: false,
        })
    }

    /// The ROI's values, in box order.
    pub fn values(&self) -> Vec<f64> {
        self.image
            .iter()
            .zip(&self.mask)
            .filter_map(|(&v, &m)| m.then_some(v))
            .collect()
    }
}

/// Bounding box `(lo, hi)` (inclusive) and voxel count of `mask == label`; the scan runs over
/// memory order a row (the stride-1 axis) at a time — most rows hold no ROI voxel and are
/// passed over by a memchr — and decodes indices only for rows that hold some.
pub(crate) fn bounding_box(
    mask: &ndarray::Array3<u8>,
    label: u8,
) -> ([usize; 3], [usize; 3], usize) {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    let mut count = 0usize;
    let mut visit = |idx: [usize; 3]| {
        for a in 0..3 {
            lo[a] = lo[a].min(idx[a]);
            hi[a] = hi[a].max(idx[a]);
        }
    };
    match mask.as_slice_memory_order() {
        Some(data) if mask.strides().iter().all(|&s| s > 0) => {
            let st = mask.strides();
            // Axes ordered by stride, largest first, to decode a flat offset. An axis of
            // length 1 has index 0 and takes no part: its stride may tie another axis's (a
            // Fortran-order [1, n, m] array has strides [1, 1, n]), which would decode the
            // other axis's offset into it.
            let shape = mask.shape();
            let mut order: Vec<usize> = (0..3).filter(|&a| shape[a] > 1).collect();
            order.sort_by_key(|&a| std::cmp::Reverse(st[a]));
            // In a contiguous array the last of them has stride 1: its lines are the rows.
            let (fast, row_len) = match order.last() {
                Some(&f) if st[f] == 1 => (Some(f), shape[f]),
                _ => (None, 1),
            };
            for (r, row) in data.chunks_exact(row_len).enumerate() {
                // `contains` on bytes is a memchr.
                if !row.contains(&label) {
                    continue;
                }
                let first = row.iter().position(|&v| v == label).unwrap_or(0);
                let last = row.iter().rposition(|&v| v == label).unwrap_or(0);
                count += row[first..=last].iter().filter(|&&v| v == label).count();
                let mut rem = r * row_len;
                let mut idx = [0usize; 3];
                for &a in &order {
                    let s = st[a] as usize;
                    idx[a] = rem / s;
                    rem %= s;
                }
                // The row's first and last ROI voxels bound it along the row (a row of one
                // voxel: the decoded index is the voxel's).
                if let Some(f) = fast {
                    idx[f] = first;
                    visit(idx);
                    idx[f] = last;
                }
                visit(idx);
            }
        }
        _ => {
            for ((i, j, k), &v) in mask.indexed_iter() {
                if v == label {
                    count += 1;
                    visit([i, j, k]);
                }
            }
        }
    }
    (lo, hi, count)
}

/// The box (first and last voxel index per axis) the extraction crops the image to before
/// filtering — the ROI's box plus `padDistance`, clamped to the image — with `preCrop`, or with
/// a `resampledPixelSpacing` equal to the image's own spacing (PyRadiomics then crops instead
/// of resampling); `None` when the whole image is used. A `resampledPixelSpacing` that would
/// really resample is an error here: [`crate::resample()`] does that, once per image, first.
pub(crate) fn crop_window<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Option<([usize; 3], [usize; 3])>> {
    if settings.resampled_pixel_spacing.is_none() && !settings.pre_crop {
        return Ok(None);
    }
    let (lo, hi, count) = bounding_box(mask.data(), settings.label);
    if count == 0 {
        return Err(label_absent(mask.data(), settings.label));
    }
    let dims = image.shape();
    let pad = settings.pad_distance;
    let window = (
        [0, 1, 2].map(|a| lo[a].saturating_sub(pad)),
        [0, 1, 2].map(|a| hi[a].saturating_add(pad).min(dims[a] - 1)),
    );
    let Some(target) = settings.resampled_spacing_3d()? else {
        return Ok(Some(window));
    };
    let spacing = image.geometry().spacing;
    // PyRadiomics: 0 keeps the mask's spacing, and so does an axis the ROI is one voxel thick
    // along; no interpolation when the result is `allclose` to the image's spacing.
    let effective: Vec<f64> = (0..3)
        .map(|a| {
            if target[a] == 0.0 || hi[a] == lo[a] {
                mask.geometry().spacing[a]
            } else {
                target[a]
            }
        })
        .collect();
    let same =
        (0..3).all(|a| (spacing[a] - effective[a]).abs() <= 1e-8 + 1e-5 * effective[a].abs());
    if !same {
        return Err(Error::Settings(format!(
            "resampledPixelSpacing {target:?} would resample the image (spacing {spacing:?} mm to \
             {effective:?} mm): resample first (`resample`, or `ExtractionPlan::run_stored`, which \
             does), then extract from the resampled pair without the setting"
        )));
    }
    Ok(Some(window))
}

/// Checks that image and mask share a grid: equal shapes, affines within 1e-3 mm.
pub(crate) fn check_grids<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<()> {
    if image.shape() != mask.shape() {
        return Err(Error::GeometryMismatch(format!(
            "image shape {:?}, mask shape {:?}{}",
            image.shape(),
            mask.shape(),
            CORRECT_HINT
        )));
    }
    let (a, b) = (image.geometry(), mask.geometry());
    match settings.geometry_tolerance {
        // ITK's rule (PyRadiomics' geometryTolerance): origins and spacings within
        // tolerance × the image's first spacing, direction cosines within tolerance.
        Some(tol) => {
            let coord = tol * a.spacing[0].abs();
            let worst =
                |x: [f64; 3], y: [f64; 3]| (0..3).map(|i| (x[i] - y[i]).abs()).fold(0.0, f64::max);
            let dir = (0..3)
                .flat_map(|r| (0..3).map(move |c| (r, c)))
                .map(|(r, c)| (a.direction[r][c] - b.direction[r][c]).abs())
                .fold(0.0, f64::max);
            let (o, sp) = (worst(a.origin, b.origin), worst(a.spacing, b.spacing));
            if o > coord || sp > coord || dir > tol {
                return Err(Error::GeometryMismatch(format!(
                    "origins differ by {o} mm, spacings by {sp} mm, directions by {dir} \
                     (geometryTolerance {tol}: {coord} mm, {tol}){CORRECT_HINT}"
                )));
            }
        }
        None => {
            let d = a.max_affine_difference(b);
            if d > 1e-3 {
                return Err(Error::GeometryMismatch(format!(
                    "affines differ by {d} mm (tolerance 1e-3; see geometryTolerance){CORRECT_HINT}"
                )));
            }
        }
    }
    Ok(())
}

const CORRECT_HINT: &str = "; correctMask: true resamples the mask onto the image grid";

/// PyRadiomics' `correctMask`: the mask resampled onto the image's grid (nearest neighbour,
/// 0 outside), after checking that the ROI lies inside the image ([`check_roi_inside`]).
pub(crate) fn correct_mask<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Volume<u8>> {
    check_roi_inside(image, mask, settings.label)?;
    let grid = adamss_preprocess::Grid::of(image);
    adamss_preprocess::resample_nearest(mask, &grid, 0)
        .map_err(|e| Error::GeometryMismatch(format!("correctMask: {e}")))
}

/// The mask the extraction reads when nothing is resampled: with `correctMask`, or with a
/// `resampledPixelSpacing` equal to the image's spacing (PyRadiomics' `resampleImage` then takes
/// the mask onto the image's grid itself), a mask on another grid goes onto the image's
/// ([`correct_mask`]) — `Cow::Owned` says it did; otherwise the mask as given (the extraction
/// refuses another grid, naming correctMask).
pub(crate) fn mask_on_image_grid<'a, T: Pixel>(
    image: &Volume<T>,
    mask: &'a Volume<u8>,
    settings: &Settings,
) -> Result<std::borrow::Cow<'a, Volume<u8>>> {
    let may_correct = settings.correct_mask || settings.resampled_pixel_spacing.is_some();
    Ok(
        if may_correct && check_grids(image, mask, settings).is_err() {
            std::borrow::Cow::Owned(correct_mask(image, mask, settings)?)
        } else {
            std::borrow::Cow::Borrowed(mask)
        },
    )
}

/// PyRadiomics' `_checkROI`, run before a mask on another grid than the image's is resampled
/// (`correctMask`, or `resampledPixelSpacing`): the outer corners of the label's bounding box
/// (lower corner `lo − ½`, upper `lo + size − ½`, in the mask's index space) taken to the image's
/// continuous index space must lie within the image's outer faces, `−½ … n − ½`, give or take
/// 1e-3 of a voxel. Returns the box (`lo`, `size`).
pub(crate) fn check_roi_inside<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    label: u8,
) -> Result<([usize; 3], [usize; 3])> {
    let (lo, hi, count) = bounding_box(mask.data(), label);
    if count == 0 {
        return Err(label_absent(mask.data(), label));
    }
    let size = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
    let corner = |c: [f64; 3]| {
        let world = mask.geometry().index_to_world(c);
        image.geometry().world_to_index(world)
    };
    let lower = corner(lo.map(|l| l as f64 - 0.5));
    let upper = corner([0, 1, 2].map(|a| (lo[a] + size[a]) as f64 - 0.5));
    let n = image.shape();
    const TOLERANCE: f64 = 1e-3;
    let outside = (0..3).any(|a| {
        lower[a].min(upper[a]) < -0.5 - TOLERANCE
            || lower[a].max(upper[a]) > n[a] as f64 - 0.5 + TOLERANCE
    });
    if outside {
        let show = |c: [f64; 3]| c.map(|v| (v * 1e3).round() / 1e3);
        return Err(Error::GeometryMismatch(format!(
            "the bounding box of label {label} reaches outside the image: its corners lie at \
             image indices {:?} and {:?}, the image has {n:?} voxels (allowed: −0.5 to size − \
             0.5, within 1e-3)",
            show(lower),
            show(upper)
        )));
    }
    Ok((lo, size))
}

/// The error for a label missing from `mask`, listing the labels it does hold.
pub(crate) fn label_absent(mask: &ndarray::Array3<u8>, label: u8) -> Error {
    let mut present: Vec<u8> = mask.iter().copied().filter(|&v| v != 0).collect();
    present.sort_unstable();
    present.dedup();
    Error::LabelAbsent {
        label,
        labels_present: present,
    }
}

#[cfg(test)]
mod tests {
    use super::bounding_box;
    use ndarray::{Array3, ShapeBuilder};

    /// The row-at-a-time scan against a voxel-by-voxel one, on both memory orders, thin axes,
    /// several rows per box and another label beside the one asked for.
    #[test]
    fn bounding_box_matches_a_voxel_by_voxel_scan() {
        for shape in [[5, 6, 7], [1, 6, 7], [5, 1, 7], [5, 6, 1], [9, 2, 3]] {
            for fortran in [false, true] {
                for (label, modulus) in [(1u8, 11usize), (2, 5), (1, 97)] {
                    let mut m = Array3::<u8>::zeros(shape.f().set_f(fortran));
                    for ((i, j, k), v) in m.indexed_iter_mut() {
                        if (i * 7 + j * 13 + k * 29) % modulus == 0 {
                            *v = label;
                        } else if (i + j + k) % 3 == 0 {
                            *v = label + 1;
                        }
                    }
                    let mut want = ([usize::MAX; 3], [0usize; 3], 0usize);
                    for ((i, j, k), &v) in m.indexed_iter() {
                        if v == label {
                            for (a, x) in [i, j, k].into_iter().enumerate() {
                                want.0[a] = want.0[a].min(x);
                                want.1[a] = want.1[a].max(x);
                            }
                            want.2 += 1;
                        }
                    }
                    assert_eq!(
                        bounding_box(&m, label),
                        want,
                        "{shape:?}, fortran {fortran}, label {label}, modulus {modulus}"
                    );
                }
            }
        }
    }

    /// The flat-offset decoder on every memory order, with axes of length 1 (a Fortran-order
    /// [1, 2, 2] array has tied strides; found by the radiomics_params fuzz target as an
    /// out-of-bounds index in the shape features).
    #[test]
    fn bounding_box_on_any_layout_and_thin_axes() {
        for shape in [[1, 2, 2], [2, 1, 2], [2, 2, 1], [1, 1, 3], [3, 4, 5]] {
            for fortran in [false, true] {
                let mut m = Array3::<u8>::zeros(shape.f().set_f(fortran));
                let at = [shape[0] - 1, shape[1] / 2, shape[2] - 1];
                m[at] = 1;
                let (lo, hi, count) = bounding_box(&m, 1);
                assert_eq!((lo, hi, count), (at, at, 1), "{shape:?}, fortran {fortran}");
            }
        }
    }
}
