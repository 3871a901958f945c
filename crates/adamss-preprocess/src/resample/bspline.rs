//! ITK's cubic B-spline interpolation (`BSplineInterpolateImageFunction`, order 3, mirror
//! boundaries), as `sitk.Resample(..., sitk.sitkBSpline)` runs it.
//!
//! - coefficients by ITK's `BSplineDecompositionImageFilter` (pole √3 − 2, mirror boundaries,
//!   causal initialisation over `ceil(ln 1e-10 / ln|z|)` samples when the line is longer), along
//!   i, then j, then k, in f64, over whole lines — kept only on the box of voxels the target
//!   reads;
//! - the support of a continuous index `c` starts at `floor(float(c)) − 1`: ITK rounds the index
//!   to single precision first, which matters when a point falls within an ulp of a voxel centre
//!   (odd downsampling ratios);
//! - the value is ITK's sum over the 4³ support voxels, i varying fastest.

use ndarray::Array3;
use rayon::prelude::*;

use super::IndexMap;

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

/// The first of the four support indices of continuous index `x` (ITK rounds `x` to single
/// precision before taking the floor).
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

/// Cubic B-spline coefficients of a source on the box of voxels a target reads.
pub(super) struct BSpline {
    /// First voxel of the box.
    lo: [usize; 3],
    /// Source size.
    size: [usize; 3],
    /// Coefficients on the box.
    coef: Array3<f64>,
}

impl BSpline {
    /// Coefficients of the source of `size` voxels whose i line `(j, k)` `fill_row` appends to
    /// a buffer, on the box the target of `shape` reads through `map`. Each pass runs over whole
    /// lines (as ITK's filter does on the whole image), so the box's values are those of the
    /// full decomposition.
    pub(super) fn new(
        size: [usize; 3],
        fill_row: &(impl Fn(usize, usize, &mut Vec<f64>) + Sync),
        map: &IndexMap,
        shape: [usize; 3],
    ) -> Self {
        let (lo, hi) = support_box(map, shape, size);
        let b = [0, 1, 2].map(|a| hi[a] - lo[a] + 1);
        let z = 3f64.sqrt() - 2.0;
        // Each pass decomposes whole lines (one task per k slice, or per j row for the k pass)
        // and keeps the box's part: i over every line of the source; j over the lines through
        // the kept columns; k over the lines through the kept columns and rows.
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
                // The plane is already the j lines of the kept columns, interleaved.
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

    /// The interpolated value at continuous index `c`.
    pub(super) fn evaluate(&self, c: [f64; 3]) -> f64 {
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

/// The box (first and last voxel per axis) of source voxels the B-spline support of any inside
/// target point touches, mirror boundaries included.
fn support_box(map: &IndexMap, shape: [usize; 3], size: [usize; 3]) -> ([usize; 3], [usize; 3]) {
    let mut first = [i64::MAX; 3];
    let mut last = [i64::MIN; 3];
    for k in 0..shape[2] {
        for j in 0..shape[1] {
            for (_, c) in map.inside_row(shape[0], j, k, size) {
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
            // No target point inside: a one-voxel box (never read).
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
