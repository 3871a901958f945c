//! PyRadiomics' `resampledPixelSpacing`: the image and mask resampled onto a new grid that
//! covers the ROI's bounding box plus `padDistance` (PyRadiomics' `imageoperations.resampleImage`),
//! with SimpleITK's `ResampleImageFilter` arithmetic.
//!
//! The grid follows PyRadiomics exactly (all in f64, the mask's spacing and box):
//! a target spacing of 0 — or along an axis the ROI is one voxel thick — keeps the mask's
//! spacing; with `ratio = mask spacing / new spacing`, the new index range is
//! `floor((lo − ½)·ratio − pad) ..= ceil((lo + size − ½)·ratio + pad)`, clamped to
//! `[0, ceil(mask size · ratio) − 1]`; the new origin is the mask's continuous index
//! `½·(new − old)/old + first / ratio` taken to physical space; the direction is the mask's.
//! A target equal to the image's spacing (numpy `allclose`) does not resample: PyRadiomics then
//! crops, and so does the extraction ([`resample`] returns `None`).
//!
//! Interpolation is ITK's, to the bit on the cases we compared (`tools/sitk_bspline_check.py`
//! holds the numpy model it was worked out with):
//! - each output row's continuous input indices are `start + (x / nx)·(end − start)`, `start`
//!   and `end` those of output indices 0 and `nx` (ITK's scan-line path for linear
//!   transforms); physical points are `origin + Σ direction·spacing·index`, continuous indices
//!   `Σ (1/spacing)·directionᵀ·(point − origin)`;
//! - a point is inside when every continuous index lies in `[−½, size − ½)`; outside points
//!   get 0;
//! - `sitkBSpline` (order 3): coefficients by ITK's recursive decomposition (pole √3 − 2,
//!   mirror boundaries, causal initialisation over `ceil(ln 1e-10 / ln|z|)` samples when the
//!   line is longer), along x, then y, then z, in f64; the support starts at
//!   `floor(float(c)) − 1` — ITK rounds the index to single precision first, which matters when
//!   a point falls within an ulp of a voxel centre (odd downsampling ratios);
//! - `sitkLinear`: ITK's trilinear lerps, x then y then z, an axis skipped at its upper end;
//! - `sitkNearestNeighbor`: the voxel at `round half up(c)`; the mask always uses it.
//!
//! The interpolated value is cast to the image's stored [`PixelType`] (an `int16` CT is
//! truncated toward zero), or kept in f64 when the image was normalised first (PyRadiomics
//! normalises before resampling, and `sitk.Normalize` returns float64). Other interpolators
//! (Gaussian, windowed sinc) are refused with an error naming the three that are implemented.

use adamss_io::{Geometry, Volume};
use ndarray::Array3;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::pixel::{Pixel, PixelType};
use crate::roi::{bounding_box, check_grids, image_values, label_absent};
use crate::settings::Settings;

/// Largest resampled grid (voxels) a setting may ask for: 2²⁸ (2 GiB of f64). A spacing far
/// finer than the image's would otherwise allocate without bound.
const MAX_VOXELS: usize = 1 << 28;

/// A resampled image: single precision when its stored type fits (the usual case), double when
/// it was normalised first or is stored as a 32-bit integer or float64.
#[derive(Debug, Clone)]
pub enum ResampledImage {
    /// Values of a `float32` or ≤ 16-bit integer image.
    Single(Volume<f32>),
    /// Normalised values, or a 32-bit integer or float64 image.
    Double(Volume<f64>),
}

/// An image and mask after [`resample`], on the new grid.
#[derive(Debug, Clone)]
pub struct Resampled {
    /// The image (already normalised when `normalize` was set).
    pub image: ResampledImage,
    /// The mask (nearest neighbour).
    pub mask: Volume<u8>,
    /// Whether the image values are normalised (`normalize` must not be applied again).
    pub normalized: bool,
}

/// How the image is interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interpolator {
    BSpline,
    Linear,
    Nearest,
}

/// Resamples `image` and `mask` as PyRadiomics does for `settings.resampled_pixel_spacing`
/// (after normalising the image when `settings.normalize` is set), `stored` being the image's
/// pixel type on disk (see [`PixelType::from_nifti`]). `None` when nothing is to be resampled:
/// no spacing is set, or it equals the image's own (then the extraction crops instead).
pub fn resample<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    stored: PixelType,
) -> Result<Option<Resampled>> {
    let Some(target) = &settings.resampled_pixel_spacing else {
        return Ok(None);
    };
    settings.validate()?;
    check_grids(image, mask, settings)?;
    let (lo, hi, count) = bounding_box(mask.data(), settings.label);
    if count == 0 {
        return Err(label_absent(mask.data(), settings.label));
    }
    let mg = *mask.geometry();
    let ms = mg.spacing;
    let size = [0, 1, 2].map(|a| hi[a] - lo[a] + 1);
    let new_spacing = [0, 1, 2].map(|a| {
        if target[a] == 0.0 || size[a] == 1 {
            ms[a]
        } else {
            target[a]
        }
    });
    let own = image.geometry().spacing;
    if (0..3).all(|a| (own[a] - new_spacing[a]).abs() <= 1e-8 + 1e-5 * new_spacing[a].abs()) {
        return Ok(None);
    }
    let interpolator = match settings.interpolator.as_str() {
        "sitkBSpline" => Interpolator::BSpline,
        "sitkLinear" => Interpolator::Linear,
        "sitkNearestNeighbor" => Interpolator::Nearest,
        other => {
            return Err(Error::Settings(format!(
                "resampling with interpolator {other} is not implemented; sitkBSpline \
                 (PyRadiomics' default), sitkLinear and sitkNearestNeighbor are"
            )))
        }
    };
    let grid = new_grid(
        &mg,
        mask.shape(),
        lo,
        size,
        new_spacing,
        settings.pad_distance,
    )?;

    // The image PyRadiomics resamples: normalised first (f64), or as stored.
    let values = if settings.normalize {
        Some(image_values(image, settings)?)
    } else {
        None
    };
    let read = |i: usize, j: usize, k: usize| match &values {
        Some(v) => v[[i, j, k]],
        None => image.data()[[i, j, k]].to_f64(),
    };
    let maps = Maps::new(image.geometry(), &grid.geometry);
    if interpolator == Interpolator::BSpline {
        // The spline's coefficients come from recursive filters along whole lines.
        crate::roi::require_finite(image.data().view(), [0; 3], "B-spline resampling")?;
    }
    let resampled = match interpolator {
        Interpolator::BSpline => {
            // x lines read as rows (contiguous in the NIfTI's x-fastest order).
            let fill_row = |j: usize, k: usize, line: &mut Vec<f64>| match &values {
                Some(v) => line.extend(v.slice(ndarray::s![.., j, k]).iter().copied()),
                None => line.extend(
                    image
                        .data()
                        .slice(ndarray::s![.., j, k])
                        .iter()
                        .map(|x| x.to_f64()),
                ),
            };
            let spline = BSpline::new(image.shape(), &fill_row, &maps, grid.shape);
            maps.resample(grid.shape, image.shape(), |c| spline.evaluate(c))
        }
        Interpolator::Linear => maps.resample(grid.shape, image.shape(), |c| {
            linear(c, image.shape(), &read)
        }),
        Interpolator::Nearest => maps.resample(grid.shape, image.shape(), |c| {
            let [i, j, k] = nearest(c);
            read(i, j, k)
        }),
    };
    let resampled_mask = maps
        .resample(grid.shape, mask.shape(), |c| {
            let [i, j, k] = nearest(c);
            f64::from(mask.data()[[i, j, k]])
        })
        .mapv(|v| v as u8);
    let normalized = settings.normalize;
    let image = if normalized || !stored.fits_f32() {
        let cast = if normalized {
            PixelType::Float64
        } else {
            stored
        };
        ResampledImage::Double(Volume::new(
            resampled.mapv(|v| cast.cast(v)),
            grid.geometry,
        )?)
    } else {
        ResampledImage::Single(Volume::new(
            resampled.mapv(|v| stored.cast(v) as f32),
            grid.geometry,
        )?)
    };
    Ok(Some(Resampled {
        image,
        mask: Volume::new(resampled_mask, grid.geometry)?,
        normalized,
    }))
}

/// The resampled grid.
struct Grid {
    shape: [usize; 3],
    geometry: Geometry,
}

/// PyRadiomics' resampling grid for the ROI box `lo`, `size` of a mask on `mg` (see the
/// module documentation).
fn new_grid(
    mg: &Geometry,
    mask_shape: [usize; 3],
    lo: [usize; 3],
    size: [usize; 3],
    new_spacing: [f64; 3],
    pad: usize,
) -> Result<Grid> {
    let ms = mg.spacing;
    let pad = pad as f64;
    let mut shape = [0usize; 3];
    let mut first = [0f64; 3];
    for a in 0..3 {
        let ratio = ms[a] / new_spacing[a];
        let lower = ((lo[a] as f64 - 0.5) * ratio - pad).floor().max(0.0);
        let max_upper = (mask_shape[a] as f64 * ratio).ceil() - 1.0;
        let upper = (((lo[a] + size[a]) as f64 - 0.5) * ratio + pad)
            .ceil()
            .min(max_upper);
        let n = upper - lower + 1.0;
        if !(n >= 1.0 && n <= MAX_VOXELS as f64) {
            return Err(Error::Settings(format!(
                "resampledPixelSpacing {new_spacing:?} mm gives {n} voxels along axis {a}"
            )));
        }
        shape[a] = n as usize;
        // Continuous index (in the mask) of the new grid's first voxel centre.
        first[a] = 0.5 * (new_spacing[a] - ms[a]) / ms[a] + lower / ratio;
    }
    let total = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    if total.is_none_or(|t| t > MAX_VOXELS) {
        return Err(Error::Settings(format!(
            "resampledPixelSpacing {new_spacing:?} mm gives a grid of {shape:?} voxels, more than \
             the {MAX_VOXELS} allowed"
        )));
    }
    // ITK's TransformContinuousIndexToPhysicalPoint: origin + (direction · spacing) · index,
    // the product summed first.
    let mut origin = [0f64; 3];
    for (r, o) in origin.iter_mut().enumerate() {
        let mut v = 0.0;
        for c in 0..3 {
            v += mg.direction[r][c] * ms[c] * first[c];
        }
        *o = mg.origin[r] + v;
    }
    let geometry = Geometry::new(new_spacing, origin, mg.direction)?;
    Ok(Grid { shape, geometry })
}

/// Output index → input continuous index, as ITK's scan-line resampling computes it.
struct Maps {
    out_origin: [f64; 3],
    /// Output `direction · spacing`.
    out_m: [[f64; 3]; 3],
    in_origin: [f64; 3],
    /// Inverse of the input's `direction · spacing`: `(1/spacing) · directionᵀ`.
    in_inv: [[f64; 3]; 3],
}

impl Maps {
    fn new(input: &Geometry, output: &Geometry) -> Self {
        let mut out_m = [[0.0; 3]; 3];
        let mut in_inv = [[0.0; 3]; 3];
        for r in 0..3 {
            for c in 0..3 {
                out_m[r][c] = output.direction[r][c] * output.spacing[c];
                in_inv[r][c] = (1.0 / input.spacing[r]) * input.direction[c][r];
            }
        }
        Self {
            out_origin: output.origin,
            out_m,
            in_origin: input.origin,
            in_inv,
        }
    }

    /// The input continuous index of output index `idx`.
    fn continuous_index(&self, idx: [f64; 3]) -> [f64; 3] {
        let mut p = self.out_origin;
        for (r, pr) in p.iter_mut().enumerate() {
            for (c, &x) in idx.iter().enumerate() {
                *pr += self.out_m[r][c] * x;
            }
        }
        let v = [0, 1, 2].map(|a| p[a] - self.in_origin[a]);
        [0, 1, 2].map(|r| {
            let mut s = 0.0;
            for (c, &x) in v.iter().enumerate() {
                s += self.in_inv[r][c] * x;
            }
            s
        })
    }

    /// The start and step of output row `(j, k)` (`nx` voxels) in input continuous indices.
    fn row(&self, nx: usize, j: usize, k: usize) -> ([f64; 3], [f64; 3]) {
        let start = self.continuous_index([0.0, j as f64, k as f64]);
        let end = self.continuous_index([nx as f64, j as f64, k as f64]);
        (start, [0, 1, 2].map(|a| end[a] - start[a]))
    }

    /// The voxels `i` of output row `(j, k)` (`nx` voxels) that fall inside an input of `input`
    /// voxels (`[−½, size − ½)` on every axis), with their continuous indices.
    fn inside_row(
        &self,
        nx: usize,
        j: usize,
        k: usize,
        input: [usize; 3],
    ) -> impl Iterator<Item = (usize, [f64; 3])> {
        let limit = input.map(|n| n as f64 - 0.5);
        let (start, vector) = self.row(nx, j, k);
        (0..nx).filter_map(move |i| {
            let alpha = i as f64 / nx as f64;
            let c = [0, 1, 2].map(|a| start[a] + alpha * vector[a]);
            (0..3)
                .all(|a| c[a] >= -0.5 && c[a] < limit[a])
                .then_some((i, c))
        })
    }

    /// Every output voxel's value: `value(c)` where the continuous index `c` lies inside the
    /// input (`[−½, size − ½)` on every axis), 0 elsewhere.
    fn resample(
        &self,
        shape: [usize; 3],
        input: [usize; 3],
        value: impl Fn([f64; 3]) -> f64 + Sync,
    ) -> Array3<f64> {
        // One z slice per task; each slice's values in x-fastest order.
        let slices: Vec<Vec<f64>> = (0..shape[2])
            .into_par_iter()
            .map(|k| {
                let mut slice = vec![0.0; shape[0] * shape[1]];
                for j in 0..shape[1] {
                    for (i, c) in self.inside_row(shape[0], j, k, input) {
                        slice[i + shape[0] * j] = value(c);
                    }
                }
                slice
            })
            .collect();
        Array3::from_shape_fn(shape, |(i, j, k)| slices[k][i + shape[0] * j])
    }
}

/// ITK's nearest index (`RoundHalfIntegerUp`) of an inside continuous index.
fn nearest(c: [f64; 3]) -> [usize; 3] {
    c.map(|x| (((2.0 * x + 0.5).round_ties_even() as i64) >> 1).max(0) as usize)
}

/// ITK's trilinear interpolation (`LinearInterpolateImageFunction`, its 3-D path): lerps along
/// x, then y, then z, `a + (b − a)·d`; an axis is skipped (the lower voxel kept) when the
/// offset from the floor is ≤ 0 — the floor clamped to 0 — or the upper voxel lies past the end.
fn linear(
    c: [f64; 3],
    size: [usize; 3],
    read: &(impl Fn(usize, usize, usize) -> f64 + Sync),
) -> f64 {
    let mut base = [0usize; 3];
    let mut d = [0.0; 3];
    let mut active = [false; 3];
    for a in 0..3 {
        let b = (c[a].floor() as i64).max(0);
        d[a] = c[a] - b as f64;
        base[a] = b as usize;
        active[a] = d[a] > 0.0 && base[a] + 1 < size[a];
    }
    let along_x = |dy: usize, dz: usize| {
        let v0 = read(base[0], base[1] + dy, base[2] + dz);
        if active[0] {
            v0 + (read(base[0] + 1, base[1] + dy, base[2] + dz) - v0) * d[0]
        } else {
            v0
        }
    };
    let along_y = |dz: usize| {
        let v0 = along_x(0, dz);
        if active[1] {
            v0 + (along_x(1, dz) - v0) * d[1]
        } else {
            v0
        }
    };
    let v0 = along_y(0);
    if active[2] {
        v0 + (along_y(1) - v0) * d[2]
    } else {
        v0
    }
}

/// ITK's mirror boundary for an index on an axis of `n` voxels.
fn mirror(i: i64, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * n as i64 - 2;
    let mut m = if i < 0 {
        -i - period * ((-i) / period)
    } else {
        i - period * (i / period)
    };
    if m >= n as i64 {
        m = period - m;
    }
    m as usize
}

/// The first of the four B-spline support indices of continuous index `x` (ITK rounds `x` to
/// single precision before taking the floor).
fn support_start(x: f64) -> i64 {
    (x as f32).floor() as i64 - 1
}

/// Cubic B-spline weights of the four support voxels for the offset `w` from the second.
fn weights(w: f64) -> [f64; 4] {
    let w3 = (1.0 / 6.0) * w * w * w;
    let w0 = (1.0 / 6.0) + 0.5 * w * (w - 1.0) - w3;
    let w2 = w + w0 - 2.0 * w3;
    let w1 = 1.0 - w0 - w2 - w3;
    [w0, w1, w2, w3]
}

/// Cubic B-spline coefficients of the input on the box of voxels the output reads.
struct BSpline {
    /// First voxel of the box.
    lo: [usize; 3],
    /// Input size.
    size: [usize; 3],
    /// Coefficients on the box.
    coef: Array3<f64>,
}

impl BSpline {
    /// Coefficients of the image of `size` voxels whose x line `(j, k)` `fill_row` appends to a
    /// buffer, on the box the output grid
    /// of `shape` reads through `maps`. Each pass runs over whole lines (as ITK's filter does on
    /// the whole image), so the box's values are those of the full decomposition.
    fn new(
        size: [usize; 3],
        fill_row: &(impl Fn(usize, usize, &mut Vec<f64>) + Sync),
        maps: &Maps,
        shape: [usize; 3],
    ) -> Self {
        let (lo, hi) = support_box(maps, shape, size);
        let b = [0, 1, 2].map(|a| hi[a] - lo[a] + 1);
        let z = 3f64.sqrt() - 2.0;
        // Each pass decomposes whole lines (one task per z slice, or per y row for the z pass)
        // and keeps the box's part: x over every line of the image; y over the lines through
        // the kept columns; z over the lines through the kept columns and rows.
        const LANES: usize = 8;
        let ax: Vec<Vec<f64>> = (0..size[2])
            .into_par_iter()
            .map(|k| {
                let mut line = Vec::with_capacity(size[0]);
                let mut lanes = vec![0.0; size[0] * LANES];
                let mut kept = vec![0.0; b[0] * size[1]];
                for j0 in (0..size[1]).step_by(LANES) {
                    let m = LANES.min(size[1] - j0);
                    for l in 0..m {
                        line.clear();
                        fill_row(j0 + l, k, &mut line);
                        for (i, &v) in line.iter().enumerate() {
                            lanes[i * m + l] = v;
                        }
                    }
                    decompose_lanes(&mut lanes[..size[0] * m], size[0], m, z);
                    for l in 0..m {
                        for i in 0..b[0] {
                            kept[i + b[0] * (j0 + l)] = lanes[(lo[0] + i) * m + l];
                        }
                    }
                }
                kept // [i + b0 * j]
            })
            .collect();
        let ay: Vec<Vec<f64>> = ax
            .par_iter()
            .map(|plane| {
                // The plane is already the y lines of the kept columns, interleaved.
                let mut lines = plane.clone();
                decompose_lanes(&mut lines, size[1], b[0], z);
                lines[lo[1] * b[0]..(hi[1] + 1) * b[0]].to_vec() // [i + b0 * j], j in the box
            })
            .collect();
        drop(ax);
        let az: Vec<Vec<f64>> = (0..b[1])
            .into_par_iter()
            .map(|j| {
                let mut lines = Vec::with_capacity(b[0] * size[2]);
                for plane in &ay {
                    lines.extend_from_slice(&plane[b[0] * j..b[0] * (j + 1)]);
                }
                decompose_lanes(&mut lines, size[2], b[0], z);
                lines[lo[2] * b[0]..(hi[2] + 1) * b[0]].to_vec() // [i + b0 * k], k in the box
            })
            .collect();
        let coef = Array3::from_shape_fn((b[0], b[1], b[2]), |(i, j, k)| az[j][i + b[0] * k]);
        Self { lo, size, coef }
    }

    /// The interpolated value at continuous index `c` (ITK's sum over the 4³ support voxels,
    /// x varying fastest).
    fn evaluate(&self, c: [f64; 3]) -> f64 {
        let mut w = [[0.0; 4]; 3];
        let mut idx = [[0usize; 4]; 3];
        for a in 0..3 {
            let s = support_start(c[a]);
            w[a] = weights(c[a] - (s + 1) as f64);
            for (t, slot) in idx[a].iter_mut().enumerate() {
                *slot = mirror(s + t as i64, self.size[a]) - self.lo[a];
            }
        }
        let mut v = 0.0;
        for k2 in 0..4 {
            for k1 in 0..4 {
                for k0 in 0..4 {
                    let mut wt = 1.0;
                    wt *= w[0][k0];
                    wt *= w[1][k1];
                    wt *= w[2][k2];
                    v += wt * self.coef[[idx[0][k0], idx[1][k1], idx[2][k2]]];
                }
            }
        }
        v
    }
}

/// The box (first and last voxel per axis) of input voxels the B-spline support of any inside
/// output point touches, mirror boundaries included.
fn support_box(maps: &Maps, shape: [usize; 3], size: [usize; 3]) -> ([usize; 3], [usize; 3]) {
    let mut first = [i64::MAX; 3];
    let mut last = [i64::MIN; 3];
    for k in 0..shape[2] {
        for j in 0..shape[1] {
            for (_, c) in maps.inside_row(shape[0], j, k, size) {
                for a in 0..3 {
                    let s = support_start(c[a]);
                    first[a] = first[a].min(s);
                    last[a] = last[a].max(s + 3);
                }
            }
        }
    }
    let mut lo = [0usize; 3];
    let mut hi = [0usize; 3];
    for a in 0..3 {
        if first[a] > last[a] {
            // No output point inside: a one-voxel box (never read).
            continue;
        }
        let (mut l, mut h) = (usize::MAX, 0usize);
        for i in first[a]..=last[a] {
            let m = mirror(i, size[a]);
            l = l.min(m);
            h = h.max(m);
        }
        lo[a] = l;
        hi[a] = h;
    }
    (lo, hi)
}

/// ITK's `BSplineDecompositionImageFilter` on one line (cubic, pole `z`), in place.
#[cfg(test)]
fn decompose(c: &mut [f64], z: f64) {
    let n = c.len();
    decompose_lanes(c, n, 1, z);
}

/// [`decompose`] on `lanes` lines of `n` samples at once, interleaved: sample `i` of line `l` at
/// `c[i * lanes + l]`. Each line gets exactly the operations of the one-line filter; the lines
/// only share the loops, so their recursions (a serial chain each) overlap.
fn decompose_lanes(c: &mut [f64], n: usize, lanes: usize, z: f64) {
    debug_assert_eq!(c.len(), n * lanes);
    if n == 1 {
        return;
    }
    let gain = (1.0 * (1.0 - z)) * (1.0 - 1.0 / z);
    for v in c.iter_mut() {
        *v *= gain;
    }
    // Causal initialisation (mirror boundaries), into c[0..lanes].
    let horizon = (1e-10f64.ln() / z.abs().ln()).ceil() as usize;
    if horizon < n {
        let mut zn = z;
        for i in 1..horizon {
            let (head, rest) = c.split_at_mut(lanes);
            let row = &rest[(i - 1) * lanes..i * lanes];
            for (h, v) in head.iter_mut().zip(row) {
                *h += zn * v;
            }
            zn *= z;
        }
    } else {
        let iz = 1.0 / z;
        let z2n0 = z.powf((n - 1) as f64);
        // z^(2n − 3) = z2n · (z2n / z), ITK's order.
        let step = z2n0 * iz;
        let (head, rest) = c.split_at_mut(lanes);
        let last = &rest[(n - 2) * lanes..];
        for (h, v) in head.iter_mut().zip(last) {
            *h += z2n0 * v;
        }
        let mut zn = z;
        let mut z2n = z2n0 * step;
        for i in 1..n - 1 {
            let row = &rest[(i - 1) * lanes..i * lanes];
            let w = zn + z2n;
            for (h, v) in head.iter_mut().zip(row) {
                *h += w * v;
            }
            zn *= z;
            z2n *= iz;
        }
        let d = 1.0 - zn * zn;
        for h in head.iter_mut() {
            *h /= d;
        }
    }
    for i in 1..n {
        let (prev, cur) = c[(i - 1) * lanes..(i + 1) * lanes].split_at_mut(lanes);
        for (x, p) in cur.iter_mut().zip(prev.iter()) {
            *x += z * p;
        }
    }
    let k = z / (z * z - 1.0);
    {
        let (prev, last) = c[(n - 2) * lanes..].split_at_mut(lanes);
        for (x, p) in last.iter_mut().zip(prev.iter()) {
            *x = k * (z * p + *x);
        }
    }
    for i in (0..n - 1).rev() {
        let (cur, next) = c[i * lanes..(i + 2) * lanes].split_at_mut(lanes);
        for (x, nx) in cur.iter_mut().zip(next.iter()) {
            *x = z * (nx - *x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_reflects_about_the_end_voxels() {
        assert_eq!(
            (-3..9).map(|i| mirror(i, 4)).collect::<Vec<_>>(),
            vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]
        );
        assert_eq!(mirror(-5, 1), 0);
    }

    #[test]
    fn nearest_rounds_half_up() {
        assert_eq!(nearest([-0.5, 0.5, 1.5]), [0, 1, 2]);
        assert_eq!(nearest([0.499_999_999, 2.5, 2.499_999]), [0, 3, 2]);
    }

    #[test]
    fn spline_of_a_linear_ramp_is_the_ramp_inside() {
        // Cubic B-splines reproduce linear functions away from the boundary; mirror boundaries
        // keep a ramp linear only in the interior, so compare there.
        let mut line: Vec<f64> = (0..40).map(|i| 3.0 * i as f64 - 7.0).collect();
        decompose(&mut line, 3f64.sqrt() - 2.0);
        for i in 10..30 {
            let v = line[i - 1] / 6.0 + line[i] * 2.0 / 3.0 + line[i + 1] / 6.0;
            assert!((v - (3.0 * i as f64 - 7.0)).abs() < 1e-9, "{i}: {v}");
        }
    }
}
