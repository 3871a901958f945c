//! The shape class: PyRadiomics' fourteen 3-D shape features.
//!
//! PyRadiomics builds a marching-cubes mesh of the ROI (the mask cropped to its bounding box
//! and padded with one empty voxel on each side; vertices at the midpoints of the edges between
//! an ROI voxel and a voxel outside it). The voxel volume and the principal axes come from the
//! voxel centres; the maximum diameters from the mesh's vertices; `SurfaceArea` is the sum of
//! the triangles' areas and `MeshVolume` the sum of the signed volumes of the tetrahedra the
//! triangles span with the padded box's first corner (the divergence theorem).
//!
//! The triangles in each of the 256 cube configurations are PyRadiomics' own (`mc_table.rs`,
//! derived from its measured per-configuration areas and volumes by `tools/mc_table.py`).
//! They matter: on a face with two diagonal ROI voxels the classic table joins the edge
//! midpoints inconsistently between neighbouring cubes, so the mesh of a fragmented ROI has
//! small holes, and its "volume" then depends on the origin — ours is PyRadiomics' origin.

use adamss_io::Volume;
use ndarray_linalg::{Eigh, UPLO};

use crate::error::{Error, Result};
use crate::mc_table::{EDGES, TRIANGLES};
use crate::roi::{bounding_box, label_absent};
use crate::settings::Settings;

/// The fourteen shape features of `mask == settings.label`, sorted by name: `Elongation`,
/// `Flatness`, `LeastAxisLength`, `MajorAxisLength`, `Maximum2DDiameterColumn`,
/// `Maximum2DDiameterRow`, `Maximum2DDiameterSlice`, `Maximum3DDiameter`, `MeshVolume`,
/// `MinorAxisLength`, `Sphericity`, `SurfaceArea`, `SurfaceVolumeRatio`, `VoxelVolume`
/// (PyRadiomics' definitions; lengths in mm, areas in mm², volumes in mm³, spacing from the
/// mask's geometry). Slice, column and row planes are those of constant z, y and x voxel index
/// (checked against PyRadiomics on anisotropic masks).
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
    let mut grid: Vec<[i64; 3]> = Vec::new();
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
                            let mut g = p.map(|c| 2 * c);
                            g[axis] += step;
                            grid.push(g);
                        }
                    }
                }
            }
        }
    }
    let diameters = max_diameters(&vertices, &grid);
    let mesh = mesh_area_volume(data, label, lo, hi, sp);
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
        ("MeshVolume", mesh.volume),
        ("MinorAxisLength", axis(l[1])),
        (
            "Sphericity",
            (36.0 * std::f64::consts::PI * mesh.volume * mesh.volume).cbrt() / mesh.area,
        ),
        ("SurfaceArea", mesh.area),
        ("SurfaceVolumeRatio", mesh.area / mesh.volume),
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

/// The four maximum diameters over the mesh vertices `v` (mm), whose voxel-grid positions
/// doubled are `grid` (integers: vertices sit half-way between voxel centres; all distinct).
///
/// Exact, without comparing all V² pairs: the farthest pair within a plane of constant z (y,
/// x) is a pair of vertices of that plane's 2-D convex hull, and the farthest pair overall is
/// a pair of vertices of the 3-D hull — each of which is a hull vertex of its own z, y and x
/// planes too (a point inside one plane's hull is a convex combination of other points, and
/// a distance is convex along a segment). Hulls are taken on the integer grid positions
/// (collinear points dropped, exactly); the linear map to mm keeps hull vertices. The same
/// pairs' distances are compared as in the all-pairs definition, so the maxima are equal.
fn max_diameters(v: &[[f64; 3]], grid: &[[i64; 3]]) -> Diameters {
    // For each axis a: hull membership of every vertex within its plane of constant a, and
    // the largest squared distance inside those planes.
    let mut on_hull = vec![[false; 3]; v.len()];
    let mut plane_max = [0.0f64; 3];
    for axis in 0..3 {
        let (u, w) = match axis {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_unstable_by_key(|&i| (grid[i][axis], grid[i][u], grid[i][w]));
        for plane in order.chunk_by(|&a, &b| grid[a][axis] == grid[b][axis]) {
            let hull = hull_2d(plane, |i| (grid[i][u], grid[i][w]));
            for &i in &hull {
                on_hull[i][axis] = true;
            }
            plane_max[axis] = plane_max[axis].max(max_pair(v, &hull));
        }
    }
    let candidates: Vec<usize> = (0..v.len())
        .filter(|&i| on_hull[i].iter().all(|&h| h))
        .collect();
    Diameters {
        all: max_pair(v, &candidates).sqrt(),
        slice: plane_max[2].sqrt(),
        column: plane_max[1].sqrt(),
        row: plane_max[0].sqrt(),
    }
}

/// Largest squared distance between two of the points `idx` of `v`.
pub(crate) fn max_pair(v: &[[f64; 3]], idx: &[usize]) -> f64 {
    let mut best = 0.0f64;
    for (a, &i) in idx.iter().enumerate() {
        let p = v[i];
        for &j in &idx[a + 1..] {
            let q = v[j];
            let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
            best = best.max(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
    }
    best
}

/// Vertices of the convex hull of `points` (already sorted by their 2-D key), without
/// collinear points: Andrew's monotone chain on exact integer coordinates.
pub(crate) fn hull_2d(points: &[usize], key: impl Fn(usize) -> (i64, i64)) -> Vec<usize> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let cross = |o: usize, a: usize, b: usize| {
        let (o, a, b) = (key(o), key(a), key(b));
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<usize> = Vec::with_capacity(2 * points.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &usize>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    // All points collinear: the chain keeps the two ends.
    hull.sort_unstable();
    hull.dedup();
    hull
}

struct Mesh {
    area: f64,
    volume: f64,
}

/// Surface area and volume of PyRadiomics' marching-cubes mesh of `data == label`, whose
/// bounding box is `lo..=hi` (x, y, z voxel indices). Cubes run over the box padded by one
/// voxel; coordinates are taken in PyRadiomics' frame — numpy's (z, y, x) axes, from the
/// padded box's first corner — so that the volume of a mesh with holes is PyRadiomics' too.
fn mesh_area_volume(
    data: &ndarray::Array3<u8>,
    label: u8,
    lo: [usize; 3],
    hi: [usize; 3],
    sp: [f64; 3],
) -> Mesh {
    let dims = data.shape();
    let at = |x: i64, y: i64, z: i64| -> bool {
        x >= 0
            && y >= 0
            && z >= 0
            && (x as usize) < dims[0]
            && (y as usize) < dims[1]
            && (z as usize) < dims[2]
            && data[[x as usize, y as usize, z as usize]] == label
    };
    // Corner c's offset along (z, y, x), and each edge's midpoint in the same frame.
    let corner = |c: u8| [(c >> 2 & 1) as f64, (c >> 1 & 1) as f64, (c & 1) as f64];
    let mid: Vec<[f64; 3]> = EDGES
        .iter()
        .map(|&(a, b)| {
            let (p, q) = (corner(a), corner(b));
            [0, 1, 2].map(|k| (p[k] + q[k]) / 2.0)
        })
        .collect();
    let spacing = [sp[2], sp[1], sp[0]];
    let (mut area, mut volume) = (0.0f64, 0.0f64);
    let lo = lo.map(|v| v as i64 - 1);
    let hi = hi.map(|v| v as i64);
    for z in lo[2]..=hi[2] {
        for y in lo[1]..=hi[1] {
            for x in lo[0]..=hi[0] {
                let mut config = 0usize;
                for c in 0..8u8 {
                    let (dz, dy, dx) = ((c >> 2 & 1) as i64, (c >> 1 & 1) as i64, (c & 1) as i64);
                    if at(x + dx, y + dy, z + dz) {
                        config |= 1 << c;
                    }
                }
                let triangles = TRIANGLES[config];
                if triangles.is_empty() {
                    continue;
                }
                let origin = [(z - lo[2]) as f64, (y - lo[1]) as f64, (x - lo[0]) as f64];
                let point = |e: u8| {
                    let m = mid[e as usize];
                    [0, 1, 2].map(|k| (origin[k] + m[k]) * spacing[k])
                };
                for t in triangles {
                    let (a, b, c) = (point(t[0]), point(t[1]), point(t[2]));
                    let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
                    let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
                    area += 0.5 * norm(cross(u, v));
                    volume += dot(a, cross(b, c)) / 6.0;
                }
            }
        }
    }
    Mesh { area, volume }
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hull-pruned diameters equal the all-pairs maxima, on random point clouds of
    /// half-integer grid positions (sparse and dense, anisotropic spacing, collinear planes).
    #[test]
    fn hull_pruned_diameters_equal_all_pairs() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: i64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % m as u64) as i64
        };
        for case in 0..40 {
            let n = 2 + next(300) as usize;
            let extent = 1 + next(if case % 2 == 0 { 4 } else { 30 });
            let sp = [0.7, 1.3, 2.1];
            let mut grid: Vec<[i64; 3]> = (0..n)
                .map(|_| [next(extent), next(extent), next(2 * extent)])
                .collect();
            // Mesh vertices are distinct (one per ROI/background voxel pair).
            grid.sort_unstable();
            grid.dedup();
            let n = grid.len();
            let v: Vec<[f64; 3]> = grid
                .iter()
                .map(|g| [0, 1, 2].map(|a| g[a] as f64 / 2.0 * sp[a]))
                .collect();
            let fast = max_diameters(&v, &grid);
            let (mut all, mut slice, mut column, mut row) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            for a in 0..n {
                for b in a + 1..n {
                    let d: Vec<f64> = (0..3).map(|k| v[a][k] - v[b][k]).collect();
                    let d2 = d.iter().map(|x| x * x).sum::<f64>();
                    all = all.max(d2);
                    if grid[a][2] == grid[b][2] {
                        slice = slice.max(d2);
                    }
                    if grid[a][1] == grid[b][1] {
                        column = column.max(d2);
                    }
                    if grid[a][0] == grid[b][0] {
                        row = row.max(d2);
                    }
                }
            }
            assert_eq!(fast.all, all.sqrt(), "case {case}");
            assert_eq!(fast.slice, slice.sqrt(), "case {case}");
            assert_eq!(fast.column, column.sqrt(), "case {case}");
            assert_eq!(fast.row, row.sqrt(), "case {case}");
        }
    }
}
