//! The shape class's features that do not depend on the surface triangulation.
//!
//! PyRadiomics builds a marching-cubes mesh of the ROI. Ten of its fourteen shape features do
//! not depend on how that mesh is triangulated: the voxel volume, the principal-axis lengths
//! and ratios (from the voxel centres), and the maximum diameters, which PyRadiomics takes over
//! the mesh's *vertices* — the midpoints of the edges between an ROI voxel and a neighbour
//! outside it (6-neighbourhood, the mask padded with one empty voxel on each side). Those ten
//! are computed here, exactly. `MeshVolume`, `SurfaceArea`, `SurfaceVolumeRatio` and
//! `Sphericity` depend on the triangles and are absent.

use adamss_io::Volume;
use ndarray_linalg::{Eigh, UPLO};

use crate::error::{Error, Result};
use crate::roi::{bounding_box, label_absent};
use crate::settings::Settings;

/// `Elongation`, `Flatness`, `LeastAxisLength`, `MajorAxisLength`, `Maximum2DDiameterColumn`,
/// `Maximum2DDiameterRow`, `Maximum2DDiameterSlice`, `Maximum3DDiameter`, `MinorAxisLength`,
/// `VoxelVolume` of `mask == settings.label` (sorted by name, PyRadiomics' definitions; lengths
/// in mm, volume in mm³, spacing from the mask's geometry). Slice, column and row planes are
/// those of constant z, y and x voxel index (checked against PyRadiomics on anisotropic
/// masks).
pub fn shape_features(mask: &Volume<u8>, settings: &Settings) -> Result<Vec<(&'static str, f64)>> {
    settings.validate()?;
    let label = settings.label;
    let data = mask.data();
    let (lo, hi, count) = bounding_box(data, label);
    if count == 0 {
        return Err(label_absent(data, label));
    }
    let sp = mask.geometry().spacing;
    let inside = |p: [i64; 3]| -> bool {
        (0..3).all(|a| p[a] >= 0 && (p[a] as usize) < data.shape()[a])
            && data[[p[0] as usize, p[1] as usize, p[2] as usize]] == label
    };
    // Voxel centres (for the principal axes) and mesh vertices (for the diameters), in mm.
    let mut centres: Vec<[f64; 3]> = Vec::with_capacity(count);
    let mut vertices: Vec<[f64; 3]> = Vec::new();
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                if data[[i, j, k]] != label {
                    continue;
                }
                let p = [i as i64, j as i64, k as i64];
                centres.push([0, 1, 2].map(|a| p[a] as f64 * sp[a]));
                for axis in 0..3 {
                    for step in [-1i64, 1] {
                        let mut q = p;
                        q[axis] += step;
                        if !inside(q) {
                            let mut v = [0, 1, 2].map(|a| p[a] as f64);
                            v[axis] += 0.5 * step as f64;
                            vertices.push([0, 1, 2].map(|a| v[a] * sp[a]));
                        }
                    }
                }
            }
        }
    }
    let diameters = max_diameters(&vertices);
    // Principal axes: eigenvalues of the population covariance of the voxel centres.
    let n = centres.len() as f64;
    let mean = [0, 1, 2].map(|a| centres.iter().map(|c| c[a]).sum::<f64>() / n);
    let mut cov = ndarray::Array2::<f64>::zeros((3, 3));
    for c in &centres {
        for a in 0..3 {
            for b in 0..3 {
                cov[[a, b]] += (c[a] - mean[a]) * (c[b] - mean[b]) / n;
            }
        }
    }
    let (eig, _) = cov
        .eigh(UPLO::Lower)
        .map_err(|e| Error::Settings(format!("shape: eigenvalues of the ROI's covariance: {e}")))?;
    // Ascending; round machine-precision negatives (flat ROIs) to 0 as PyRadiomics does.
    let l: Vec<f64> = eig
        .iter()
        .map(|&v| if v < 0.0 && v > -1e-10 { 0.0 } else { v })
        .collect();
    let axis = |v: f64| if v < 0.0 { f64::NAN } else { 4.0 * v.sqrt() };
    let ratio = |a: f64, b: f64| {
        if a < 0.0 || b < 0.0 {
            f64::NAN
        } else {
            (a / b).sqrt()
        }
    };
    Ok(vec![
        ("Elongation", ratio(l[1], l[2])),
        ("Flatness", ratio(l[0], l[2])),
        ("LeastAxisLength", axis(l[0])),
        ("MajorAxisLength", axis(l[2])),
        ("Maximum2DDiameterColumn", diameters.column),
        ("Maximum2DDiameterRow", diameters.row),
        ("Maximum2DDiameterSlice", diameters.slice),
        ("Maximum3DDiameter", diameters.all),
        ("MinorAxisLength", axis(l[1])),
        ("VoxelVolume", n * sp[0] * sp[1] * sp[2]),
    ])
}

/// Largest vertex distances: overall, and between vertices sharing a z (slice), y (column) or
/// x (row) coordinate.
struct Diameters {
    all: f64,
    slice: f64,
    column: f64,
    row: f64,
}

fn max_diameters(v: &[[f64; 3]]) -> Diameters {
    let (mut all, mut slice, mut column, mut row) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (a, p) in v.iter().enumerate() {
        for q in &v[a + 1..] {
            let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            all = all.max(d2);
            if d[2] == 0.0 {
                slice = slice.max(d2);
            }
            if d[1] == 0.0 {
                column = column.max(d2);
            }
            if d[0] == 0.0 {
                row = row.max(d2);
            }
        }
    }
    Diameters {
        all: all.sqrt(),
        slice: slice.sqrt(),
        column: column.sqrt(),
        row: row.sqrt(),
    }
}
