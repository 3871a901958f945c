//! Voxel grids in physical space: a shape plus a [`Geometry`].

use adamss_io::{Geometry, Volume};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest number of voxels a grid may have (2³¹ ≈ 2.1 G: 8 GiB as f32, 16 GiB as f64; a
/// whole-body CT at 1 mm is ≈ 0.7 G): guards against sizes derived from corrupt headers or
/// mistyped spacings before anything is allocated. The one cap for every resampling target,
/// adamss-radiomics' `resampledPixelSpacing` grids included.
pub const MAX_VOXELS: u64 = 1 << 31;

/// A voxel grid in RAS+ physical space: `shape` voxels along `i`, `j`, `k` and the
/// [`Geometry`] (spacing, origin = centre of voxel 0, direction columns) that places them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Voxels along `i`, `j`, `k`.
    pub shape: [usize; 3],
    /// Where the voxels are.
    pub geometry: Geometry,
}

impl Grid {
    /// A grid, checked: every size ≥ 1, at most [`MAX_VOXELS`] voxels, a valid geometry.
    pub fn new(shape: [usize; 3], geometry: Geometry) -> Result<Self> {
        let voxels = shape
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64));
        match voxels {
            Some(v) if (1..=MAX_VOXELS).contains(&v) && shape.iter().all(|&n| n >= 1) => {}
            _ => {
                return Err(Error::Grid(format!(
                    "shape {shape:?} must have every size ≥ 1 and at most {MAX_VOXELS} voxels"
                )))
            }
        }
        geometry.validate()?;
        Ok(Self { shape, geometry })
    }

    /// The grid a volume lives on.
    pub fn of<T>(volume: &Volume<T>) -> Self {
        Self {
            shape: volume.shape(),
            geometry: *volume.geometry(),
        }
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: a grid has at least one voxel.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// World positions of the eight outer corners of the grid (voxel centres ± half a voxel).
    pub fn corners(&self) -> [[f64; 3]; 8] {
        self.geometry.corners(self.shape)
    }

    /// Axis-aligned bounding box `(min, max)` of the grid's physical extent, in RAS+ mm.
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        self.geometry.bounds(self.shape)
    }

    /// World position of the grid's centre.
    pub fn centre(&self) -> [f64; 3] {
        self.geometry
            .index_to_world([0, 1, 2].map(|a| (self.shape[a] as f64 - 1.0) / 2.0))
    }

    /// The axis-aligned (RAS+ identity direction) grid of `spacing` mm that covers `bounds`:
    /// `size = ⌈(max − min) / spacing⌉` per axis, first voxel centre at `min + spacing / 2`.
    ///
    /// This is the project's common-grid rule: [`Grid::covering`] of the CT's physical extent
    /// at 1 mm.
    pub fn covering(bounds: ([f64; 3], [f64; 3]), spacing: [f64; 3]) -> Result<Self> {
        let (lo, hi) = bounds;
        if spacing.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::Grid(format!(
                "spacing must be positive and finite, got {spacing:?}"
            )));
        }
        let mut shape = [0usize; 3];
        for a in 0..3 {
            let n = ((hi[a] - lo[a]) / spacing[a] - 1e-9).ceil();
            if !n.is_finite() || n < 1.0 || n > MAX_VOXELS as f64 {
                return Err(Error::Grid(format!(
                    "cannot cover [{}, {}] mm with {} mm voxels",
                    lo[a], hi[a], spacing[a]
                )));
            }
            shape[a] = n as usize;
        }
        let origin = [0, 1, 2].map(|a| lo[a] + spacing[a] / 2.0);
        Self::new(shape, Geometry::axis_aligned(spacing, origin)?)
    }

    /// The common 1 mm grid of a patient: axis-aligned, covering the CT's physical extent.
    pub fn common_for<T>(ct: &Volume<T>, spacing_mm: f64) -> Result<Self> {
        Self::covering(Self::of(ct).bounds(), [spacing_mm; 3])
    }

    /// The sub-grid of `size` voxels starting at voxel `start` (which may be negative or run
    /// past the end: the sub-grid then extends the lattice, and resampling pads it).
    pub fn subgrid(&self, start: [i64; 3], size: [usize; 3]) -> Result<Self> {
        let origin = self.geometry.index_to_world(start.map(|s| s as f64));
        Self::new(
            size,
            Geometry::new(self.geometry.spacing, origin, self.geometry.direction)?,
        )
    }

    /// The `size` sub-grid whose centre is the lattice point nearest to world point `centre`
    /// (for even sizes, the voxel just past the middle sits on it), so crops always align with
    /// this grid's voxels.
    pub fn crop_around(&self, centre: [f64; 3], size: [usize; 3]) -> Result<Self> {
        let c = self.geometry.world_to_index(centre);
        if c.iter().any(|v| !v.is_finite()) {
            return Err(Error::Grid(format!("crop centre {centre:?} is not finite")));
        }
        let start = [0, 1, 2].map(|a| (c[a].round() as i64) - (size[a] / 2) as i64);
        self.subgrid(start, size)
    }
}
