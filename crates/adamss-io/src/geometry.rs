//! Voxel grid geometry: spacing, origin, direction, and the voxel↔world affine.
//!
//! World coordinates are NIfTI's **RAS+** millimetres: x grows towards the patient's Right,
//! y towards Anterior, z towards Superior. ITK, SimpleITK and DICOM use **LPS+** (x grows to the
//! Left, y to Posterior); [`Geometry::affine_lps`] gives the same mapping in LPS (x and y rows
//! negated).
//!
//! Voxel index `[i, j, k]` is the array index of [`crate::Volume::data`] and NIfTI's
//! `(i, j, k)`: `i` runs fastest on disk. The affine maps the *centre* of voxel `[i, j, k]`
//! to world `A · (i, j, k, 1)ᵀ`.

use crate::{Error, Result};

/// A 4×4 homogeneous matrix, row-major: `m[row][col]`.
pub type Affine = [[f64; 4]; 4];

/// The geometry of a 3-D voxel grid, in RAS+ millimetres.
///
/// `direction` holds, as its **columns**, the unit vectors along the array axes `i`, `j`, `k`;
/// `spacing` is the distance between voxel centres along each axis; `origin` is the world
/// position of the centre of voxel `[0, 0, 0]`. For a sheared affine the columns are unit
/// length but not orthogonal.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Geometry {
    /// Voxel spacing in mm along `i`, `j`, `k`.
    pub spacing: [f64; 3],
    /// World (RAS+, mm) coordinates of the centre of voxel `[0, 0, 0]`.
    pub origin: [f64; 3],
    /// `direction[row][axis]`: column `axis` is the unit vector of that array axis.
    pub direction: [[f64; 3]; 3],
}

impl Default for Geometry {
    /// 1 mm isotropic, origin 0, identity direction.
    fn default() -> Self {
        Self {
            spacing: [1.0; 3],
            origin: [0.0; 3],
            direction: IDENTITY3,
        }
    }
}

const IDENTITY3: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

impl Geometry {
    /// Builds a geometry, checking that spacings are positive and finite and that the direction
    /// columns are unit vectors spanning 3-D space.
    pub fn new(spacing: [f64; 3], origin: [f64; 3], direction: [[f64; 3]; 3]) -> Result<Self> {
        let g = Self {
            spacing,
            origin,
            direction,
        };
        g.validate()?;
        Ok(g)
    }

    /// Axis-aligned geometry (identity direction).
    pub fn axis_aligned(spacing: [f64; 3], origin: [f64; 3]) -> Result<Self> {
        Self::new(spacing, origin, IDENTITY3)
    }

    /// Checks the invariants documented on [`Geometry::new`].
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.spacing.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::Geometry(format!(
                "spacing must be positive and finite, got {s} in {:?}",
                self.spacing
            )));
        }
        if self.origin.iter().any(|o| !o.is_finite()) {
            return Err(Error::Geometry(format!(
                "origin must be finite, got {:?}",
                self.origin
            )));
        }
        for axis in 0..3 {
            let norm = column_norm(&self.direction, axis);
            if (norm - 1.0).abs() > 1e-4 {
                return Err(Error::Geometry(format!(
                    "direction column {axis} must be a unit vector, has norm {norm}"
                )));
            }
        }
        let det = det3(&self.direction);
        if !det.is_finite() || det.abs() < 1e-6 {
            return Err(Error::Geometry(format!(
                "direction matrix is singular (determinant {det})"
            )));
        }
        Ok(())
    }

    /// Splits a voxel→world affine (RAS+) into spacing, origin and direction.
    pub fn from_affine(affine: &Affine) -> Result<Self> {
        if affine.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Geometry(format!(
                "affine has non-finite entries: {affine:?}"
            )));
        }
        let mut spacing = [0.0; 3];
        let mut direction = [[0.0; 3]; 3];
        for axis in 0..3 {
            let norm = (0..3)
                .map(|r| affine[r][axis] * affine[r][axis])
                .sum::<f64>()
                .sqrt();
            if norm == 0.0 {
                return Err(Error::Geometry(format!(
                    "affine column {axis} is zero: {affine:?}"
                )));
            }
            spacing[axis] = norm;
            for r in 0..3 {
                direction[r][axis] = affine[r][axis] / norm;
            }
        }
        let origin = [affine[0][3], affine[1][3], affine[2][3]];
        Self::new(spacing, origin, direction)
    }

    /// The voxel→world affine in RAS+ mm.
    pub fn affine(&self) -> Affine {
        let mut a = [[0.0; 4]; 4];
        for r in 0..3 {
            for c in 0..3 {
                a[r][c] = self.direction[r][c] * self.spacing[c];
            }
            a[r][3] = self.origin[r];
        }
        a[3][3] = 1.0;
        a
    }

    /// A geometry as ITK / SimpleITK / DICOM give it: spacing, origin and direction matrix
    /// (columns = voxel axes) in LPS+ mm (`image.GetOrigin()`, `GetDirection()` reshaped
    /// row-major to 3 × 3). The x and y rows are negated into RAS+.
    pub fn from_itk(
        spacing: [f64; 3],
        origin_lps: [f64; 3],
        direction_lps: [[f64; 3]; 3],
    ) -> Result<Self> {
        let flip = [-1.0, -1.0, 1.0];
        let origin = [0, 1, 2].map(|r| origin_lps[r] * flip[r]);
        let direction = [0, 1, 2].map(|r| direction_lps[r].map(|v| v * flip[r]));
        Self::new(spacing, origin, direction)
    }

    /// The origin in LPS+ mm, as ITK / SimpleITK report it (`GetOrigin()`).
    pub fn origin_lps(&self) -> [f64; 3] {
        [-self.origin[0], -self.origin[1], self.origin[2]]
    }

    /// The direction matrix in LPS+ (rows x, y negated), as ITK / SimpleITK report it.
    pub fn direction_lps(&self) -> [[f64; 3]; 3] {
        let d = self.direction;
        [d[0].map(|v| -v), d[1].map(|v| -v), d[2]]
    }

    /// The voxel→world affine in LPS+ mm (ITK, SimpleITK, DICOM): rows x and y negated.
    pub fn affine_lps(&self) -> Affine {
        let mut a = self.affine();
        for row in a.iter_mut().take(2) {
            for v in row.iter_mut() {
                *v = -*v;
            }
        }
        a
    }

    /// World (RAS+) position of a (fractional) voxel index.
    pub fn index_to_world(&self, index: [f64; 3]) -> [f64; 3] {
        let mut w = self.origin;
        for (r, wr) in w.iter_mut().enumerate() {
            for c in 0..3 {
                *wr += self.direction[r][c] * self.spacing[c] * index[c];
            }
        }
        w
    }

    /// Fractional voxel index of a world (RAS+) position (the direction's cofactor inverse,
    /// then a division by the spacing: within a few ulps of ITK's; where ITK's last bit
    /// matters — a nearest-neighbour tie — use [`Geometry::world_to_index_matrix`]).
    pub fn world_to_index(&self, world: [f64; 3]) -> [f64; 3] {
        let inv = inverse3(&self.direction);
        let d = [
            world[0] - self.origin[0],
            world[1] - self.origin[1],
            world[2] - self.origin[2],
        ];
        let mut idx = [0.0; 3];
        for (c, ic) in idx.iter_mut().enumerate() {
            *ic = (0..3).map(|r| inv[c][r] * d[r]).sum::<f64>() / self.spacing[c];
        }
        idx
    }

    /// World positions of the eight outer corners of a grid of `shape` voxels on this geometry
    /// (the voxel centres at the ends, moved out by half a voxel).
    pub fn corners(&self, shape: [usize; 3]) -> [[f64; 3]; 8] {
        let mut out = [[0.0; 3]; 8];
        for (c, o) in out.iter_mut().enumerate() {
            let idx = [0, 1, 2].map(|a| {
                if c >> a & 1 == 0 {
                    -0.5
                } else {
                    shape[a] as f64 - 0.5
                }
            });
            *o = self.index_to_world(idx);
        }
        out
    }

    /// Axis-aligned bounding box `(min, max)`, in RAS+ mm, of a grid of `shape` voxels on this
    /// geometry (its physical extent, outer voxel faces included).
    pub fn bounds(&self, shape: [usize; 3]) -> ([f64; 3], [f64; 3]) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in self.corners(shape) {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        (lo, hi)
    }

    /// Largest absolute difference between the affines of two geometries, in mm.
    pub fn max_affine_difference(&self, other: &Geometry) -> f64 {
        let (a, b) = (self.affine(), other.affine());
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// ITK's `m_PhysicalPointToIndex` in RAS+: the matrix taking a world offset from the origin
    /// to a continuous index, `(direction · diag(spacing))⁻¹`, computed as ITK computes it (in
    /// LPS, by `vnl_matrix_inverse`'s LINPACK SVD; the sign flips between LPS and RAS are
    /// exact), so that `Σ_c m[r][c]·(world[c] − origin[c])`, summed from `c = 0`, is ITK's
    /// `TransformPhysicalPointToContinuousIndex` to the last bit — what decides a
    /// nearest-neighbour tie on an oblique grid. For an axis-aligned direction (flips allowed)
    /// the diagonal is `±1/spacing` exactly. Sheared directions are inverted likewise.
    pub fn world_to_index_matrix(&self) -> [[f64; 3]; 3] {
        let flip = [-1.0, -1.0, 1.0];
        let mut m = [[0.0; 3]; 3];
        for (r, row) in m.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = (flip[r] * self.direction[r][c]) * self.spacing[c];
            }
        }
        let mut inv = crate::itk_inverse::inverse(&m);
        for row in &mut inv {
            for (c, v) in row.iter_mut().enumerate() {
                *v *= flip[c];
            }
        }
        inv
    }

    /// Whether the direction columns are orthonormal (no shear), within `tol`.
    pub fn is_orthonormal(&self, tol: f64) -> bool {
        (0..3).all(|a| {
            (a + 1..3).all(|b| {
                (0..3)
                    .map(|r| self.direction[r][a] * self.direction[r][b])
                    .sum::<f64>()
                    .abs()
                    <= tol
            })
        })
    }

    /// NIfTI qform parameters `(quatern_b, quatern_c, quatern_d, qfac)` of the direction, which
    /// must be orthonormal (see [`Geometry::is_orthonormal`]).
    pub(crate) fn quaternion(&self) -> ([f64; 3], f64) {
        let mut r = self.direction;
        let qfac = if det3(&r) < 0.0 {
            for row in r.iter_mut() {
                row[2] = -row[2];
            }
            -1.0
        } else {
            1.0
        };
        // nifti1_io's nifti_mat44_to_quatern, on an already orthonormal matrix.
        let (r11, r12, r13) = (r[0][0], r[0][1], r[0][2]);
        let (r21, r22, r23) = (r[1][0], r[1][1], r[1][2]);
        let (r31, r32, r33) = (r[2][0], r[2][1], r[2][2]);
        let trace = r11 + r22 + r33 + 1.0;
        let (a, mut b, mut c, mut d);
        if trace > 0.5 {
            a = 0.5 * trace.sqrt();
            b = 0.25 * (r32 - r23) / a;
            c = 0.25 * (r13 - r31) / a;
            d = 0.25 * (r21 - r12) / a;
        } else {
            let xd = 1.0 + r11 - (r22 + r33);
            let yd = 1.0 + r22 - (r11 + r33);
            let zd = 1.0 + r33 - (r11 + r22);
            if xd > 1.0 {
                b = 0.5 * xd.sqrt();
                c = 0.25 * (r12 + r21) / b;
                d = 0.25 * (r13 + r31) / b;
                a = 0.25 * (r32 - r23) / b;
            } else if yd > 1.0 {
                c = 0.5 * yd.sqrt();
                b = 0.25 * (r12 + r21) / c;
                d = 0.25 * (r23 + r32) / c;
                a = 0.25 * (r13 - r31) / c;
            } else {
                d = 0.5 * zd.sqrt();
                b = 0.25 * (r13 + r31) / d;
                c = 0.25 * (r23 + r32) / d;
                a = 0.25 * (r21 - r12) / d;
            }
            if a < 0.0 {
                (b, c, d) = (-b, -c, -d);
            }
        }
        ([b, c, d], qfac)
    }

    /// The rotation of NIfTI qform parameters, as nibabel and nifti1_io compute it: `a` is
    /// recovered from `b, c, d`; a tiny negative `1 − b² − c² − d²` (float32 rounding) is
    /// taken as 0, a larger one is an error.
    pub(crate) fn quaternion_rotation(bcd: [f64; 3]) -> std::result::Result<[[f64; 3]; 3], String> {
        let [b, c, d] = bcd;
        let w2 = 1.0 - (b * b + c * c + d * d);
        let a = if w2 < 0.0 {
            if w2 < -3.0 * f64::from(f32::EPSILON) {
                return Err(format!("qform quaternion (b, c, d) = {bcd:?} has norm > 1"));
            }
            0.0
        } else {
            w2.sqrt()
        };
        Ok([
            [
                a * a + b * b - c * c - d * d,
                2.0 * (b * c - a * d),
                2.0 * (b * d + a * c),
            ],
            [
                2.0 * (b * c + a * d),
                a * a + c * c - b * b - d * d,
                2.0 * (c * d - a * b),
            ],
            [
                2.0 * (b * d - a * c),
                2.0 * (c * d + a * b),
                a * a + d * d - c * c - b * b,
            ],
        ])
    }
}

fn column_norm(m: &[[f64; 3]; 3], c: usize) -> f64 {
    (0..3).map(|r| m[r][c] * m[r][c]).sum::<f64>().sqrt()
}

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn inverse3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = det3(m);
    let mut inv = [[0.0; 3]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            // cofactor of (c, r) for the adjugate
            let (r1, r2) = ((c + 1) % 3, (c + 2) % 3);
            let (c1, c2) = ((r + 1) % 3, (r + 2) % 3);
            *v = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / det;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oblique() -> Geometry {
        let (s, c) = (0.3f64.sin(), 0.3f64.cos());
        Geometry::new(
            [0.9, 1.1, 3.0],
            [-10.0, 20.0, 5.5],
            [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, -1.0]],
        )
        .unwrap()
    }

    #[test]
    fn index_world_round_trip() {
        let g = oblique();
        let idx = [3.5, -2.0, 7.25];
        let back = g.world_to_index(g.index_to_world(idx));
        for a in 0..3 {
            assert!((back[a] - idx[a]).abs() < 1e-12);
        }
        assert_eq!(g.index_to_world([0.0; 3]), g.origin);
    }

    #[test]
    fn affine_round_trip_and_lps() {
        let g = oblique();
        let h = Geometry::from_affine(&g.affine()).unwrap();
        assert!(g.max_affine_difference(&h) < 1e-12);
        let lps = g.affine_lps();
        assert_eq!(lps[0][3], -g.origin[0]);
        assert_eq!(lps[2][3], g.origin[2]);
    }

    #[test]
    fn quaternion_round_trip_with_flip() {
        let g = oblique();
        let (bcd, qfac) = g.quaternion();
        assert_eq!(qfac, -1.0);
        let mut r = Geometry::quaternion_rotation(bcd).unwrap();
        for row in r.iter_mut() {
            row[2] *= qfac;
        }
        for (a, b) in r.iter().flatten().zip(g.direction.iter().flatten()) {
            assert!((a - b).abs() < 1e-12, "{r:?} vs {:?}", g.direction);
        }
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(Geometry::axis_aligned([1.0, 0.0, 1.0], [0.0; 3]).is_err());
        assert!(Geometry::axis_aligned([1.0, f64::NAN, 1.0], [0.0; 3]).is_err());
        assert!(Geometry::new(
            [1.0; 3],
            [0.0; 3],
            [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
        )
        .is_err());
        let mut a = Geometry::default().affine();
        a[1][1] = 0.0;
        assert!(Geometry::from_affine(&a).is_err());
    }
}
