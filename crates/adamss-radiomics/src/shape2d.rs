//! The shape2D class: PyRadiomics' nine 2-D shape features of a one-slice ROI.
//!
//! PyRadiomics describes a truly 2-D ROI — one slice thick across `force2Ddimension` — by a
//! marching-squares outline of the mask cropped to the ROI's bounding box and padded with one
//! empty pixel on each side: vertices at the midpoints of the edges between an ROI pixel and
//! one outside it, joined by lines within each 2 × 2 square of pixels. `Perimeter` is the sum
//! of the lines' lengths, `MeshSurface` the sum of the signed areas of the triangles each line
//! spans with the padded box's first corner (the shoelace formula; the lines are oriented so
//! the sum is the enclosed area, holes subtracted), `MaximumDiameter` the largest distance
//! between two vertices. The principal axes come from the pixel centres, as in 3-D.
//!
//! The plane's two axes are taken in PyRadiomics' order — numpy's (z, y, x) with the slice
//! axis removed — so that the outline's orientation, and with it the sign of every triangle,
//! is PyRadiomics'.

use adamss_io::Volume;
use ndarray_linalg::{Eigh, UPLO};

use crate::error::{Error, Result};
use crate::roi::{bounding_box, label_absent};
use crate::settings::Settings;

/// The lines of the marching-squares configuration `index` (bit `k` set: corner `k` inside),
/// as pairs of edges, in PyRadiomics' orientation and order.
///
/// Corners run clockwise from the square's first pixel, (row, column) offsets 0: (0, 0),
/// 1: (0, 1), 2: (1, 1), 3: (1, 0); edge `k` joins corner `k` and corner `k + 1` (mod 4), so
/// edge `k − 1` and edge `k` meet at corner `k`. Each maximal cyclic run of inside corners
/// `s..=e` is cut off by one line from edge `s − 1` to edge `e` (the inside on one fixed side);
/// the two runs of a saddle (configurations 5 and 10) are listed by their first edge.
fn square_lines(index: u8) -> Vec<(usize, usize)> {
    let inside = |k: usize| index & (1 << (k % 4)) != 0;
    if index == 0 || index == 0xF {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for s in 0..4 {
        // A run starts at an inside corner whose predecessor is outside.
        if inside(s) && !inside(s + 3) {
            let mut e = s;
            while inside(e + 1) {
                e += 1;
            }
            lines.push(((s + 3) % 4, e % 4));
        }
    }
    lines.sort_unstable();
    lines
}

/// The midpoint of edge `k` of a square, as (row, column) offsets from its first pixel.
const EDGE_MIDPOINTS: [[f64; 2]; 4] = [[0.0, 0.5], [0.5, 1.0], [1.0, 0.5], [0.5, 0.0]];

/// The nine shape2D features of `mask == settings.label`, sorted by name: `Elongation`,
/// `MajorAxisLength`, `MaximumDiameter`, `MeshSurface`, `MinorAxisLength`, `Perimeter`,
/// `PerimeterSurfaceRatio`, `PixelSurface`, `Sphericity` (PyRadiomics' definitions; lengths in
/// mm, areas in mm², spacing from the mask's geometry).
///
/// The ROI must lie in one slice across the axis `force2Ddimension` names (PyRadiomics' (z, y,
/// x) order: 0 takes axial slices), and `force2D` must be set — unless the mask itself is one
/// slice thick across that axis (a 2-D image, which PyRadiomics describes without `force2D`).
/// Anything else is [`Error::Shape2D`], naming the axis and the ROI's extent across it
/// (PyRadiomics raises a `ValueError` for an ROI over several slices, and skips the class with
/// a warning without `force2D`).
pub fn shape2d_features(
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Vec<(&'static str, f64)>> {
    settings.validate()?;
    let label = settings.label;
    let data = mask.data();
    let (lo, hi, count) = bounding_box(data, label);
    if count == 0 {
        return Err(label_absent(data, label));
    }
    let numpy_axis = settings.force_2d_dimension.min(2);
    let axis = 2 - numpy_axis;
    let axis_name = ["x", "y", "z"][axis];
    if !settings.force_2d && data.shape()[axis] != 1 {
        return Err(Error::Shape2D(format!(
            "the class describes a 2-D ROI and needs force2D: true (with force2Ddimension \
             naming the axis across the slices; {numpy_axis} = {axis_name}), or a mask one \
             slice thick across that axis"
        )));
    }
    if hi[axis] != lo[axis] {
        return Err(Error::Shape2D(format!(
            "the ROI spans {} slices across force2Ddimension {numpy_axis} ({axis_name}, indices \
             {}..={}); shape2D describes an ROI within one slice (use the shape class for a \
             3-D ROI)",
            hi[axis] - lo[axis] + 1,
            lo[axis],
            hi[axis]
        )));
    }
    // The plane's axes in numpy's order: rows along the first remaining numpy axis.
    let [row_axis, col_axis] = match axis {
        2 => [1, 0],
        1 => [2, 0],
        _ => [2, 1],
    };
    let sp = mask.geometry().spacing;
    let spacing = [sp[row_axis], sp[col_axis]];
    let rows = hi[row_axis] - lo[row_axis] + 3;
    let cols = hi[col_axis] - lo[col_axis] + 3;
    // The ROI cropped to its box and padded with one empty pixel on each side.
    let mut plane = vec![false; rows * cols];
    let mut centres: Vec<[f64; 2]> = Vec::with_capacity(count);
    for r in 0..rows - 2 {
        for c in 0..cols - 2 {
            let mut index = lo;
            index[row_axis] += r;
            index[col_axis] += c;
            if data[index] == label {
                plane[(r + 1) * cols + c + 1] = true;
                centres.push([(r + 1) as f64 * spacing[0], (c + 1) as f64 * spacing[1]]);
            }
        }
    }
    let at = |r: usize, c: usize| plane[r * cols + c];
    let tables: Vec<Vec<(usize, usize)>> = (0..16).map(square_lines).collect();
    let mut perimeter = 0.0;
    let mut twice_area = 0.0;
    // Vertices on the outline, in mm, and at twice their pixel position (exact integers).
    let mut vertices: Vec<[f64; 3]> = Vec::new();
    let mut grid: Vec<(i64, i64)> = Vec::new();
    for r in 0..rows - 1 {
        for c in 0..cols - 1 {
            let corners = [at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)];
            let index = (0..4).fold(0u8, |acc, k| acc | (u8::from(corners[k]) << k));
            if index == 0 || index == 0xF {
                continue;
            }
            let point = |edge: usize| {
                let m = EDGE_MIDPOINTS[edge];
                [
                    (r as f64 + m[0]) * spacing[0],
                    (c as f64 + m[1]) * spacing[1],
                ]
            };
            for &(from, to) in &tables[usize::from(index)] {
                let (a, b) = (point(from), point(to));
                twice_area += a[0] * b[1] - b[0] * a[1];
                let d = [a[0] - b[0], a[1] - b[1]];
                perimeter += (d[0] * d[0] + d[1] * d[1]).sqrt();
            }
            // Each vertex once: the square's left edge (3, between its first pixel and the one
            // below) and bottom edge (2), where they cross the outline.
            if corners[0] != corners[3] {
                let p = point(3);
                vertices.push([p[0], p[1], 0.0]);
                grid.push((2 * r as i64 + 1, 2 * c as i64));
            }
            if corners[2] != corners[3] {
                let p = point(2);
                vertices.push([p[0], p[1], 0.0]);
                grid.push((2 * r as i64 + 2, 2 * c as i64 + 1));
            }
        }
    }
    let surface = twice_area / 2.0;
    let diameter = max_distance(&vertices, &grid);
    // Principal axes: eigenvalues of the population covariance of the pixel centres.
    let n = centres.len() as f64;
    let mean = [0, 1].map(|a| centres.iter().map(|p| p[a]).sum::<f64>() / n);
    let mut cov = ndarray::Array2::<f64>::zeros((2, 2));
    for p in &centres {
        for a in 0..2 {
            for b in 0..2 {
                cov[[a, b]] += (p[a] - mean[a]) * (p[b] - mean[b]) / n;
            }
        }
    }
    let (eig, _) = cov.eigh(UPLO::Lower).map_err(|e| {
        Error::Settings(format!("shape2D: eigenvalues of the ROI's covariance: {e}"))
    })?;
    // Ascending; round machine-precision negatives (a one-pixel-wide ROI) to 0 as PyRadiomics.
    let l: Vec<f64> = eig
        .iter()
        .map(|&v| if v < 0.0 && v > -1e-10 { 0.0 } else { v })
        .collect();
    let axis_length = |v: f64| if v < 0.0 { f64::NAN } else { 4.0 * v.sqrt() };
    let elongation = if l[0] < 0.0 || l[1] < 0.0 {
        f64::NAN
    } else {
        (l[0] / l[1]).sqrt()
    };
    Ok(vec![
        ("Elongation", elongation),
        ("MajorAxisLength", axis_length(l[1])),
        ("MaximumDiameter", diameter),
        ("MeshSurface", surface),
        ("MinorAxisLength", axis_length(l[0])),
        ("Perimeter", perimeter),
        ("PerimeterSurfaceRatio", perimeter / surface),
        ("PixelSurface", n * spacing[0] * spacing[1]),
        (
            "Sphericity",
            2.0 * (std::f64::consts::PI * surface).sqrt() / perimeter,
        ),
    ])
}

/// The largest distance between two outline vertices `v` (mm), whose doubled pixel positions
/// are `grid`: the farthest pair is a pair of vertices of the convex hull (see the 3-D
/// class's diameters), compared with the same arithmetic as all pairs would be.
fn max_distance(v: &[[f64; 3]], grid: &[(i64, i64)]) -> f64 {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_unstable_by_key(|&i| grid[i]);
    let hull = crate::shape::hull_2d(&order, |i| grid[i]);
    crate::shape::max_pair(v, &hull).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every configuration's lines separate its inside corners from its outside ones, each
    /// edge crossed once exactly where its two corners differ, and the complement's lines are
    /// the same edges reversed (the outline's orientation flips with inside and outside).
    #[test]
    fn square_lines_cross_each_boundary_edge_once() {
        for index in 0u8..16 {
            let inside = |k: usize| index & (1 << (k % 4)) != 0;
            let lines = square_lines(index);
            let mut crossed = [0; 4];
            for &(a, b) in &lines {
                crossed[a] += 1;
                crossed[b] += 1;
                // From the edge before an inside run to the edge after it.
                assert!(inside(a + 1) && inside(b), "{index}: {a}->{b}");
            }
            for (k, &n) in crossed.iter().enumerate() {
                assert_eq!(
                    n,
                    usize::from(inside(k) != inside(k + 1)),
                    "{index} edge {k}"
                );
            }
            let complement = square_lines(index ^ 0xF);
            if index.count_ones() != 2 || inside(0) != inside(2) {
                let mut reversed: Vec<_> = complement.iter().map(|&(a, b)| (b, a)).collect();
                reversed.sort_unstable();
                assert_eq!(lines, reversed, "{index}");
            }
        }
    }
}
