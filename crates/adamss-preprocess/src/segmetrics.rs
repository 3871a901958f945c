//! Segmentation metrics of a predicted label map against a reference on the same grid, as
//! SimpleITK and MONAI compute them: overlap measures (SimpleITK's
//! `LabelOverlapMeasuresImageFilter`), the all-voxel Hausdorff distance (SimpleITK's
//! `HausdorffDistanceImageFilter`), surface distances, their percentile Hausdorff distance
//! (HD95), average surface distance and normalised surface Dice (MONAI's
//! `compute_hausdorff_distance`, `compute_average_surface_distance`, `compute_surface_dice`),
//! on the workspace's one Euclidean distance transform (`distance.rs`).
//!
//! Distances are in millimetres between voxel centres along the grid's axes, scaled by the
//! spacing — the physical distance for the orthonormal directions NIfTI grids have, and what
//! SimpleITK and MONAI compute (both ignore the direction). Each function takes one `label`:
//! a voxel belongs to the structure when it equals it.
//!
//! ```
//! use adamss_preprocess::io::{Geometry, Volume};
//! use adamss_preprocess::ndarray::{s, Array3};
//! use adamss_preprocess::{label_overlap, surface_distances};
//!
//! let g = Geometry::axis_aligned([1.0, 1.0, 2.0], [0.0; 3])?;
//! let (mut p, mut r) = (Array3::<u8>::zeros((8, 8, 4)), Array3::<u8>::zeros((8, 8, 4)));
//! p.slice_mut(s![1..5, 1..5, 1..3]).fill(1);
//! r.slice_mut(s![2..6, 1..5, 1..3]).fill(1);
//! let (pred, reference) = (Volume::new(p, g)?, Volume::new(r, g)?);
//! let overlap = label_overlap(&pred, &reference, 1)?;
//! assert_eq!(overlap.dice(), Some(0.75));
//! let surface = surface_distances(&pred, &reference, 1)?;
//! assert_eq!(surface.hausdorff(None)?, Some(1.0));
//! assert_eq!(surface.hausdorff(Some(95.0))?, Some(1.0));
//! # Ok::<(), adamss_preprocess::Error>(())
//! ```
//!
//! Where a structure is missing: every metric is `None` when neither map has the label; when
//! only one has it, distances are `+∞` and the surface Dice is 0 (MONAI's values; MONAI's
//! percentile Hausdorff gives NaN there, the quantile of infinities, where this gives `+∞`).
//! The SimpleITK-style [`hausdorff_distance`] refuses an empty structure with
//! [`Error::EmptyLabel`], as SimpleITK raises.

use adamss_io::{Volume, Voxel};
use ndarray::{s, Array3, ArrayView3, Zip};

use crate::distance::squared_edt;

use crate::{Error, Result};

/// How far apart (mm) the two grids' affines may be and still count as one grid.
pub const SAME_GRID_TOLERANCE_MM: f64 = 1e-3;

/// Voxel counts of one label in a prediction and a reference — what SimpleITK's
/// `LabelOverlapMeasuresImageFilter` reports per label, with the prediction as its source
/// image and the reference as its target. Each measure is `None` where the count it divides
/// by is 0 (SimpleITK returns 0, ∞ or `DBL_MAX` there, with a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelOverlap {
    /// Voxels with the label in the prediction (|P|).
    pub prediction: u64,
    /// Voxels with the label in the reference (|R|).
    pub reference: u64,
    /// Voxels with the label in both (|P ∩ R|).
    pub intersection: u64,
    /// Voxels in the grid.
    pub voxels: u64,
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

impl LabelOverlap {
    /// |P ∪ R|.
    pub fn union(&self) -> u64 {
        self.prediction + self.reference - self.intersection
    }

    /// Dice coefficient `2|P ∩ R| / (|P| + |R|)` (`GetDiceCoefficient`, `GetMeanOverlap`).
    pub fn dice(&self) -> Option<f64> {
        ratio(
            2.0 * self.intersection as f64,
            self.prediction + self.reference,
        )
    }

    /// Jaccard index `|P ∩ R| / |P ∪ R|` (`GetJaccardCoefficient`, `GetUnionOverlap`).
    pub fn jaccard(&self) -> Option<f64> {
        ratio(self.intersection as f64, self.union())
    }

    /// Volume similarity `2(|P| − |R|) / (|P| + |R|)` (`GetVolumeSimilarity`): positive
    /// where the prediction is larger.
    pub fn volume_similarity(&self) -> Option<f64> {
        ratio(
            2.0 * (self.prediction as f64 - self.reference as f64),
            self.prediction + self.reference,
        )
    }

    /// The share of the reference missed, `|R \ P| / |R|` (`GetFalseNegativeError`).
    pub fn false_negative_error(&self) -> Option<f64> {
        ratio((self.reference - self.intersection) as f64, self.reference)
    }

    /// Voxels predicted outside the reference over the voxels outside it,
    /// `|P \ R| / |¬R|` (`GetFalsePositiveError`): 0 for an empty prediction, where
    /// SimpleITK returns `DBL_MAX`.
    pub fn false_positive_error(&self) -> Option<f64> {
        ratio(
            (self.prediction - self.intersection) as f64,
            self.voxels - self.reference,
        )
    }

    /// The share of the prediction outside the reference, `|P \ R| / |P|`
    /// (`GetFalseDiscoveryRate`).
    pub fn false_discovery_rate(&self) -> Option<f64> {
        ratio(
            (self.prediction - self.intersection) as f64,
            self.prediction,
        )
    }
}

/// Refuses two volumes that do not lie on one grid (same shape, affines within
/// [`SAME_GRID_TOLERANCE_MM`]).
fn same_grid<T, U>(prediction: &Volume<T>, reference: &Volume<U>) -> Result<()> {
    match reference.grid_difference(prediction, SAME_GRID_TOLERANCE_MM) {
        None => Ok(()),
        Some(d) => Err(Error::GridMismatch(format!(
            "the prediction and the reference must share one grid: {d}"
        ))),
    }
}

/// Overlap counts of `label` in `prediction` and `reference` (one grid; else
/// [`Error::GridMismatch`]).
pub fn label_overlap<T: Voxel>(
    prediction: &Volume<T>,
    reference: &Volume<T>,
    label: T,
) -> Result<LabelOverlap> {
    same_grid(prediction, reference)?;
    let mut o = LabelOverlap {
        prediction: 0,
        reference: 0,
        intersection: 0,
        voxels: prediction.data().len() as u64,
    };
    // In memory order (a volume's x-fastest layout is not ndarray's logical order).
    Zip::from(prediction.data())
        .and(reference.data())
        .for_each(|&p, &r| {
            let (p, r) = (p == label, r == label);
            o.prediction += u64::from(p);
            o.reference += u64::from(r);
            o.intersection += u64::from(p && r);
        });
    Ok(o)
}

/// SimpleITK's Hausdorff distances between two structures, over all their voxels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HausdorffDistance {
    /// The largest distance from a voxel of either structure to the nearest voxel of the other
    /// (`GetHausdorffDistance`), mm.
    pub hausdorff: f64,
    /// The mean of the two directed means — prediction voxels to the reference and reference
    /// voxels to the prediction, voxels inside the other structure counting 0
    /// (`GetAverageHausdorffDistance`), mm.
    pub average: f64,
}

/// The Hausdorff distance between the voxels with `label` in `prediction` and in
/// `reference`, every voxel counted (not only the surface), as SimpleITK's
/// `HausdorffDistanceImageFilter` computes it; [`Error::EmptyLabel`] where either has none of
/// it. For the surface-based distances a MONAI user expects, HD95 included, see
/// [`surface_distances`].
pub fn hausdorff_distance<T: Voxel>(
    prediction: &Volume<T>,
    reference: &Volume<T>,
    label: T,
) -> Result<HausdorffDistance> {
    same_grid(prediction, reference)?;
    let empty = |what: &str| {
        Error::EmptyLabel(format!(
            "the {what} has no voxel with label {label:?}: the Hausdorff distance needs both structures"
        ))
    };
    // Every nearest voxel lies in the structures' box: the rest of the grid is not read again.
    let (lo, hi) =
        label_box(prediction.data(), reference.data(), label).ok_or_else(|| empty("prediction"))?;
    let sl = s![lo[0]..hi[0], lo[1]..hi[1], lo[2]..hi[2]];
    let p = prediction.data().slice(sl).mapv(|v| v == label);
    let r = reference.data().slice(sl).mapv(|v| v == label);
    for (what, m) in [("prediction", &p), ("reference", &r)] {
        if !m.iter().any(|&v| v) {
            return Err(empty(what));
        }
    }
    let spacing = prediction.geometry().spacing;
    let pr = directed_distances(&p, &r, spacing);
    let rp = directed_distances(&r, &p, spacing);
    let max = |d: &[f64]| d.iter().copied().fold(0.0, f64::max);
    let mean = |d: &[f64]| d.iter().sum::<f64>() / d.len() as f64;
    Ok(HausdorffDistance {
        hausdorff: max(&pr).max(max(&rp)),
        average: 0.5 * (mean(&pr) + mean(&rp)),
    })
}

/// Distances from each surface voxel of one structure to the nearest surface voxel of the
/// other, in both directions: what MONAI's surface metrics are computed from. A surface
/// voxel has the label and a face neighbour without it, or lies on the grid's border (MONAI:
/// the mask XOR its binary erosion).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SurfaceDistances {
    /// For each surface voxel of the prediction, in raster order (x fastest), the distance to
    /// the reference's surface, mm (`+∞` when the reference has no voxel with the label).
    pub prediction_to_reference: Vec<f64>,
    /// For each surface voxel of the reference, the distance to the prediction's surface.
    pub reference_to_prediction: Vec<f64>,
}

/// Linear-interpolated quantile of `d` (sorted in place), as `torch.quantile` and
/// `numpy.percentile` interpolate by default.
fn quantile(d: &mut [f64], q: f64) -> f64 {
    d.sort_by(f64::total_cmp);
    let pos = q * (d.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    d[lo] + (d[hi] - d[lo]) * (pos - lo as f64)
}

fn check_percentile(percentile: Option<f64>) -> Result<()> {
    match percentile {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(Error::Config(format!(
            "the Hausdorff percentile must lie in [0, 100], got {p}"
        ))),
        _ => Ok(()),
    }
}

impl SurfaceDistances {
    /// `None` when neither structure exists, `Some(+∞)` when only one does, else `f(self)`.
    fn when_both(&self, one_missing: f64, f: impl FnOnce() -> f64) -> Option<f64> {
        match (
            self.prediction_to_reference.is_empty(),
            self.reference_to_prediction.is_empty(),
        ) {
            (true, true) => None,
            (false, false) => Some(f()),
            _ => Some(one_missing),
        }
    }

    /// The symmetric Hausdorff distance, mm: the larger of the two directed ones, each the
    /// maximum of its distances or, with `percentile` (e.g. `Some(95.0)` for HD95), their
    /// linear-interpolated percentile — MONAI's `compute_hausdorff_distance(percentile=…)`.
    /// [`Error::Config`] for a percentile outside `[0, 100]`.
    pub fn hausdorff(&self, percentile: Option<f64>) -> Result<Option<f64>> {
        check_percentile(percentile)?;
        Ok(self.when_both(f64::INFINITY, || {
            directed(&self.prediction_to_reference, percentile)
                .max(directed(&self.reference_to_prediction, percentile))
        }))
    }

    /// The Hausdorff distance from the prediction to the reference only (MONAI's
    /// `directed=True`).
    pub fn directed_hausdorff(&self, percentile: Option<f64>) -> Result<Option<f64>> {
        check_percentile(percentile)?;
        Ok(self.when_both(f64::INFINITY, || {
            directed(&self.prediction_to_reference, percentile)
        }))
    }

    /// Mean over both directions' distances pooled, mm (MONAI's
    /// `compute_average_surface_distance(symmetric=True)`).
    pub fn average_surface_distance(&self) -> Option<f64> {
        self.when_both(f64::INFINITY, || {
            let n = self.prediction_to_reference.len() + self.reference_to_prediction.len();
            let sum: f64 = self.prediction_to_reference.iter().sum::<f64>()
                + self.reference_to_prediction.iter().sum::<f64>();
            sum / n as f64
        })
    }

    /// Mean distance from the prediction's surface to the reference's, mm (MONAI's
    /// `symmetric=False`).
    pub fn directed_average_surface_distance(&self) -> Option<f64> {
        self.when_both(f64::INFINITY, || {
            let d = &self.prediction_to_reference;
            d.iter().sum::<f64>() / d.len() as f64
        })
    }

    /// Normalised surface Dice at `tolerance_mm`: the share of both surfaces' voxels within the
    /// tolerance of the other surface (MONAI's `compute_surface_dice` without sub-voxels).
    /// [`Error::Config`] for a negative or non-finite tolerance.
    pub fn surface_dice(&self, tolerance_mm: f64) -> Result<Option<f64>> {
        if !(tolerance_mm.is_finite() && tolerance_mm >= 0.0) {
            return Err(Error::Config(format!(
                "the surface-Dice tolerance must be finite and ≥ 0 mm, got {tolerance_mm}"
            )));
        }
        Ok(self.when_both(0.0, || {
            let (a, b) = (&self.prediction_to_reference, &self.reference_to_prediction);
            let within = a.iter().chain(b).filter(|&&d| d <= tolerance_mm).count();
            within as f64 / (a.len() + b.len()) as f64
        }))
    }
}

fn directed(d: &[f64], percentile: Option<f64>) -> f64 {
    match percentile {
        None => d.iter().copied().fold(0.0, f64::max),
        Some(p) => quantile(&mut d.to_vec(), p / 100.0),
    }
}

/// Surface distances of `label` between `prediction` and `reference` (one grid; else
/// [`Error::GridMismatch`]), from which [`SurfaceDistances`] gives the Hausdorff distance,
/// its percentiles, the average surface distance and the surface Dice.
pub fn surface_distances<T: Voxel>(
    prediction: &Volume<T>,
    reference: &Volume<T>,
    label: T,
) -> Result<SurfaceDistances> {
    same_grid(prediction, reference)?;
    // The surfaces within the structures' box widened by one voxel: beyond it (the grid's
    // border, or voxels without the label) is outside either way.
    let Some((lo, hi)) = label_box(prediction.data(), reference.data(), label) else {
        return Ok(SurfaceDistances {
            prediction_to_reference: Vec::new(),
            reference_to_prediction: Vec::new(),
        });
    };
    let n = prediction.data().dim();
    let hi = [
        (hi[0] + 1).min(n.0),
        (hi[1] + 1).min(n.1),
        (hi[2] + 1).min(n.2),
    ];
    let lo = lo.map(|l| l.saturating_sub(1));
    let sl = s![lo[0]..hi[0], lo[1]..hi[1], lo[2]..hi[2]];
    let (p, r) = (
        surface(&prediction.data().slice(sl).mapv(|v| v == label).view()),
        surface(&reference.data().slice(sl).mapv(|v| v == label).view()),
    );
    let spacing = prediction.geometry().spacing;
    Ok(SurfaceDistances {
        prediction_to_reference: directed_distances(&p, &r, spacing),
        reference_to_prediction: directed_distances(&r, &p, spacing),
    })
}

/// The voxels of `m` with a face neighbour outside `m` or outside the grid.
fn surface(m: &ArrayView3<bool>) -> Array3<bool> {
    let (nx, ny, nz) = m.dim();
    let n = [nx, ny, nz];
    Array3::from_shape_fn(m.raw_dim(), |(i, j, k)| {
        if !m[[i, j, k]] {
            return false;
        }
        let p = [i, j, k];
        (0..3).any(|d| {
            let (mut lo, mut hi) = (p, p);
            p[d] == 0 || p[d] + 1 == n[d] || {
                lo[d] -= 1;
                hi[d] += 1;
                !m[lo] || !m[hi]
            }
        })
    })
}

/// For each voxel of `from` (raster order), the distance (mm) to the nearest voxel of `to`;
/// `+∞` each when `to` is empty. The distance transform runs over the bounding box of both
/// sets only: every nearest voxel lies inside it.
fn directed_distances(from: &Array3<bool>, to: &Array3<bool>, spacing: [f64; 3]) -> Vec<f64> {
    let Some((lo, hi)) = label_box(from, to, true) else {
        return Vec::new();
    };
    let sl = s![lo[0]..hi[0], lo[1]..hi[1], lo[2]..hi[2]];
    let (from, to) = (from.slice(sl), to.slice(sl));
    if !to.iter().any(|&v| v) {
        return vec![f64::INFINITY; from.iter().filter(|&&v| v).count()];
    }
    let d2 = squared_edt(&to.to_owned(), spacing);
    // Raster order (x fastest): iterate the transposed (k, j, i) view in its logical order.
    let (f, d) = (from.reversed_axes(), d2.reversed_axes());
    f.iter()
        .zip(d.iter())
        .filter(|(&v, _)| v)
        .map(|(_, &d)| d.sqrt())
        .collect()
}

/// The half-open index box holding every voxel equal to `label` in `a` or `b` (one pass, in
/// memory order); `None` when neither has one.
fn label_box<T: Copy + PartialEq>(
    a: &Array3<T>,
    b: &Array3<T>,
    label: T,
) -> Option<([usize; 3], [usize; 3])> {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0; 3];
    Zip::indexed(a).and(b).for_each(|(i, j, k), &x, &y| {
        if x == label || y == label {
            for (d, v) in [i, j, k].into_iter().enumerate() {
                lo[d] = lo[d].min(v);
                hi[d] = hi[d].max(v + 1);
            }
        }
    });
    (lo[0] != usize::MAX).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surface_of_a_block_is_its_shell_and_border_voxels_count() {
        let mut m = Array3::from_elem((5, 5, 5), false);
        m.slice_mut(s![1..4, 1..4, 1..4]).fill(true);
        assert_eq!(surface(&m.view()).iter().filter(|&&v| v).count(), 26);
        let full = Array3::from_elem((3, 3, 3), true);
        assert_eq!(surface(&full.view()).iter().filter(|&&v| v).count(), 26);
    }

    #[test]
    fn quantile_interpolates_linearly() {
        assert_eq!(quantile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), 2.5);
        assert_eq!(quantile(&mut [7.0], 0.95), 7.0);
        assert!((quantile(&mut [0.0, 10.0], 0.95) - 9.5).abs() < 1e-12);
    }
}
