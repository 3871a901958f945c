//! The workspace's one Euclidean distance transform and what is built on it: distance maps
//! and margins of a structure in millimetres — expanding a tumour by a clinical margin,
//! shrinking it, or the peritumoral ring around it (for radiomics of the tissue around a
//! tumour). Distances run between voxel centres along the grid's axes, scaled by the spacing,
//! as SimpleITK's `SignedMaurerDistanceMap(…, useImageSpacing=True)` and
//! `scipy.ndimage.distance_transform_edt(…, sampling=spacing)` measure them; exact, in time
//! linear in the voxels.
//!
//! ```
//! use adamss_preprocess::io::{Geometry, Volume};
//! use adamss_preprocess::ndarray::Array3;
//! use adamss_preprocess::{distance_map, expand_mask, peritumoral_ring, shrink_mask};
//!
//! let mut m = Array3::<u8>::zeros((9, 9, 3));
//! m[[4, 4, 1]] = 1;
//! let mask = Volume::new(m, Geometry::axis_aligned([1.0, 1.0, 3.0], [0.0; 3])?)?;
//! assert_eq!(distance_map(&mask, 1)?.data()[[6, 4, 1]], 2.0);
//! let grown = expand_mask(&mask, 1, 1.5)?; // the voxel and its 8 in-plane neighbours
//! assert_eq!(grown.data().iter().filter(|&&v| v == 1).count(), 9);
//! let ring = peritumoral_ring(&mask, 1, 1.5)?; // the same without the voxel itself
//! assert_eq!(ring.data().iter().filter(|&&v| v == 1).count(), 8);
//! // Shrunk by 1 mm, the 3 × 3 square keeps its centre (2 mm from the outside); by 2 mm, nothing.
//! assert_eq!(shrink_mask(&grown, 1, 1.0)?.data().iter().filter(|&&v| v == 1).count(), 1);
//! assert!(shrink_mask(&grown, 1, 2.0)?.data().iter().all(|&v| v == 0));
//! # Ok::<(), adamss_preprocess::Error>(())
//! ```

use adamss_io::{Volume, Voxel};
use ndarray::{Array3, ArrayViewMut1, Axis, Zip};

use crate::{Error, Result};

/// The distance (mm) from each voxel's centre to the nearest voxel with `label` (0 on those
/// voxels) — `scipy.ndimage.distance_transform_edt(mask != label, sampling=spacing)`, and
/// SimpleITK's `SignedMaurerDistanceMap(…, useImageSpacing=True)` outside the structure.
/// [`Error::EmptyLabel`] when no voxel has the label.
pub fn distance_map<T: Voxel>(mask: &Volume<T>, label: T) -> Result<Volume<f64>> {
    let feature = structure(mask, label, "the distance map")?;
    let d = squared_edt(&feature, mask.geometry().spacing).mapv(f64::sqrt);
    Ok(Volume::new(d, *mask.geometry())?)
}

/// The voxels with `label` as booleans; [`Error::EmptyLabel`] when there is none (`what`
/// names the operation).
fn structure<T: Voxel>(mask: &Volume<T>, label: T, what: &str) -> Result<Array3<bool>> {
    let m = mask.data().mapv(|v| v == label);
    if !m.iter().any(|&v| v) {
        return Err(Error::EmptyLabel(format!(
            "no voxel has label {label:?}: {what} needs at least one"
        )));
    }
    Ok(m)
}

fn check_margin(margin_mm: f64) -> Result<()> {
    if !(margin_mm.is_finite() && margin_mm >= 0.0) {
        return Err(Error::Config(format!(
            "a margin must be finite and ≥ 0 mm, got {margin_mm}"
        )));
    }
    Ok(())
}

fn to_mask(m: Array3<bool>, like: &Volume<impl Voxel>) -> Result<Volume<u8>> {
    Ok(Volume::new(m.mapv(u8::from), *like.geometry())?)
}

/// The structure grown by `margin_mm`: 1 on every voxel within `margin_mm` of a voxel with
/// `label` (the structure included), 0 elsewhere — `distance_map(mask, label) ≤ margin`,
/// SimpleITK's `SignedMaurerDistanceMap(mask == label, useImageSpacing=True) <= margin`.
/// [`Error::Config`] for a negative or non-finite margin, [`Error::EmptyLabel`] for an absent
/// structure.
pub fn expand_mask<T: Voxel>(mask: &Volume<T>, label: T, margin_mm: f64) -> Result<Volume<u8>> {
    let (_, within) = grown(mask, label, margin_mm, "expanding a structure")?;
    to_mask(within, mask)
}

/// The structure and the voxels within `margin_mm` of it (the structure included).
fn grown<T: Voxel>(
    mask: &Volume<T>,
    label: T,
    margin_mm: f64,
    what: &str,
) -> Result<(Array3<bool>, Array3<bool>)> {
    check_margin(margin_mm)?;
    let m = structure(mask, label, what)?;
    let limit = margin_mm * margin_mm;
    let within = squared_edt(&m, mask.geometry().spacing).mapv(|d| d <= limit);
    Ok((m, within))
}

/// The structure shrunk by `margin_mm`: 1 on the voxels with `label` farther than `margin_mm`
/// from every voxel without it, 0 elsewhere (empty when the structure is thinner than twice the
/// margin) — `scipy.ndimage.distance_transform_edt(mask == label, sampling) > margin`. The
/// grid's border is not background: a structure cut by the field of view is not eaten from
/// the cut. Errors as [`expand_mask`].
pub fn shrink_mask<T: Voxel>(mask: &Volume<T>, label: T, margin_mm: f64) -> Result<Volume<u8>> {
    check_margin(margin_mm)?;
    let m = structure(mask, label, "shrinking a structure")?;
    let outside = m.mapv(|v| !v);
    if !outside.iter().any(|&v| v) {
        return to_mask(m, mask); // the whole grid: nothing to shrink from
    }
    let limit = margin_mm * margin_mm;
    let d = squared_edt(&outside, mask.geometry().spacing);
    to_mask(
        Zip::from(&m)
            .and(&d)
            .map_collect(|&inside, &d| inside && d > limit),
        mask,
    )
}

/// The peritumoral ring: 1 on the voxels without `label` within `margin_mm` of the structure,
/// 0 elsewhere ([`expand_mask`] minus the structure) — the region whose radiomics describe the
/// tissue around a tumour. Errors as [`expand_mask`].
pub fn peritumoral_ring<T: Voxel>(
    mask: &Volume<T>,
    label: T,
    margin_mm: f64,
) -> Result<Volume<u8>> {
    let (m, within) = grown(mask, label, margin_mm, "a peritumoral ring")?;
    to_mask(
        Zip::from(&m)
            .and(&within)
            .map_collect(|&inside, &near| near && !inside),
        mask,
    )
}

/// Squared Euclidean distance (mm²) from each voxel to the nearest `true` voxel, exact, in
/// linear time: Felzenszwalb & Huttenlocher's lower envelope of parabolas, one axis after the
/// other, each axis scaled by its spacing. Lines with no feature stay `+∞` until another axis
/// reaches them.
pub(crate) fn squared_edt(feature: &Array3<bool>, spacing: [f64; 3]) -> Array3<f64> {
    let mut d = feature.mapv(|v| if v { 0.0 } else { f64::INFINITY });
    let longest = d.shape().iter().copied().max().unwrap_or(0);
    let mut scratch = Envelope::with_capacity(longest);
    for (axis, &h) in spacing.iter().enumerate() {
        for lane in d.lanes_mut(Axis(axis)) {
            scratch.transform(lane, h);
        }
    }
    d
}

/// Reusable buffers of the 1-D transform.
struct Envelope {
    f: Vec<f64>,
    v: Vec<usize>,
    z: Vec<f64>,
}

impl Envelope {
    fn with_capacity(n: usize) -> Self {
        Self {
            f: Vec::with_capacity(n),
            v: Vec::with_capacity(n),
            z: Vec::with_capacity(n + 1),
        }
    }

    /// `lane[q] ← min_p lane[p] + (h (q − p))²`.
    fn transform(&mut self, mut lane: ArrayViewMut1<f64>, h: f64) {
        self.f.clear();
        self.f.extend(lane.iter().copied());
        let (f, v, z) = (&self.f, &mut self.v, &mut self.z);
        v.clear();
        z.clear();
        let pos = |q: usize| q as f64 * h;
        // Where the parabola from q overtakes the one from p (p < q), along the axis in mm.
        let meet = |p: usize, q: usize| {
            ((f[q] + pos(q) * pos(q)) - (f[p] + pos(p) * pos(p))) / (2.0 * (pos(q) - pos(p)))
        };
        for q in (0..f.len()).filter(|&q| f[q].is_finite()) {
            while let Some(&p) = v.last() {
                let x = meet(p, q);
                if x <= z[z.len() - 1] {
                    v.pop();
                    z.pop();
                } else {
                    z.push(x);
                    break;
                }
            }
            if v.is_empty() {
                z.clear();
                z.push(f64::NEG_INFINITY);
            }
            v.push(q);
        }
        if v.is_empty() {
            return; // no feature on this line yet
        }
        z.push(f64::INFINITY);
        let mut k = 0;
        for (q, out) in lane.iter_mut().enumerate() {
            let x = pos(q);
            while z[k + 1] < x {
                k += 1;
            }
            let dx = x - pos(v[k]);
            *out = dx * dx + f[v[k]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the nearest feature by scanning all of them.
    fn brute(feature: &Array3<bool>, spacing: [f64; 3]) -> Array3<f64> {
        let pts: Vec<[usize; 3]> = feature
            .indexed_iter()
            .filter(|(_, &v)| v)
            .map(|((i, j, k), _)| [i, j, k])
            .collect();
        Array3::from_shape_fn(feature.raw_dim(), |(i, j, k)| {
            pts.iter()
                .map(|p| {
                    (0..3)
                        .map(|d| ((p[d] as f64 - [i, j, k][d] as f64) * spacing[d]).powi(2))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min)
        })
    }

    #[test]
    fn distance_transform_equals_brute_force() {
        // A fixed scatter of features (a multiplicative hash of the index), sparse and dense.
        for (density, spacing) in [(3u64, [0.7, 1.3, 2.9]), (40, [1.0, 1.0, 1.0])] {
            let f = Array3::from_shape_fn((9, 7, 5), |(i, j, k)| {
                ((i * 131 + j * 71 + k * 29) as u64 * 2_654_435_761 % 1000) < density * 10
            });
            let (fast, slow) = (squared_edt(&f, spacing), brute(&f, spacing));
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() <= 1e-9 * b.max(1.0), "{a} vs {b}");
            }
        }
    }
}
