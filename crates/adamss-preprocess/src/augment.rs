//! Training-time augmentation as the released code does it (spec §1): three passes, one per
//! orthogonal plane, each a random 2-D affine applied to every slice of that plane followed by
//! a random crop of the remaining axis, so a 160³ input becomes a 112³ training crop. Labels
//! are interpolated like images and re-binarised at > 0.2. Deterministic given the seed.

use ndarray::{Array3, Axis, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Augmentation settings; `Default` is the released code's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Translation as a fraction of the plane's size, chosen from {−t, 0, +t} per axis.
    pub translate_fraction: f64,
    /// Scale range applied to one (random) axis of the plane.
    pub scale: [f64; 2],
    /// Shear angle bound, degrees (uniform in ±).
    pub shear_deg: f64,
    /// Rotation angle bound, degrees (uniform in ±).
    pub rotate_deg: f64,
    /// Output size after the three random crops (each ≤ the input size).
    pub crop: [usize; 3],
    /// Also flip each axis with probability 1/2 (not in the released code).
    pub flips: bool,
    /// Threshold re-binarising interpolated labels.
    pub label_threshold: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            translate_fraction: 0.1,
            scale: [0.9, 1.1],
            shear_deg: 10.0,
            rotate_deg: 10.0,
            crop: [112; 3],
            flips: false,
            label_threshold: 0.2,
        }
    }
}

impl AugmentConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        let ok = (0.0..0.5).contains(&self.translate_fraction)
            && self.scale[0] > 0.0
            && self.scale[0] <= self.scale[1]
            && self.scale[1].is_finite()
            && (0.0..45.0).contains(&self.shear_deg)
            && (0.0..=180.0).contains(&self.rotate_deg)
            && self.crop.iter().all(|&c| c > 0)
            && (0.0..1.0).contains(&self.label_threshold);
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "invalid augmentation settings {self:?}"
            )))
        }
    }
}

/// One training sample's channels, all the same shape: images first, then binary label maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Image channels (e.g. PET, CT), interpolated bilinearly.
    pub images: Vec<Array3<f32>>,
    /// Label channels (e.g. GTVp, GTVn) as 0/1, interpolated then re-binarised.
    pub labels: Vec<Array3<f32>>,
}

impl Sample {
    /// Splits a multi-label volume (0 background, 1, 2, …) into one 0/1 map per label value in
    /// `values`.
    pub fn one_hot(label: &Array3<u8>, values: &[u8]) -> Vec<Array3<f32>> {
        values
            .iter()
            .map(|&v| label.mapv(|l| f32::from(u8::from(l == v))))
            .collect()
    }

    fn shape(&self) -> Result<[usize; 3]> {
        let first = self
            .images
            .first()
            .or(self.labels.first())
            .ok_or_else(|| Error::Config("a sample needs at least one channel".into()))?;
        let s = first.dim();
        let shape = [s.0, s.1, s.2];
        if self.images.iter().chain(&self.labels).any(|c| c.dim() != s) {
            return Err(Error::Config("sample channels differ in shape".into()));
        }
        Ok(shape)
    }
}

/// The random draws of one plane pass (kept for logging and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneParams {
    /// The two in-plane axes and the slicing axis.
    pub axes: [usize; 3],
    /// Translation in voxels along the two in-plane axes.
    pub translate: [f64; 2],
    /// Scale factor and the in-plane axis (0 or 1) it applies to.
    pub scale: (f64, usize),
    /// Shear, radians.
    pub shear: f64,
    /// Rotation, radians.
    pub rotate: f64,
    /// Start of the crop along the slicing axis.
    pub crop_start: usize,
}

/// Augments a sample with a generator seeded by `seed` (same seed, same result).
pub fn augment(sample: &Sample, config: &AugmentConfig, seed: u64) -> Result<Sample> {
    config.validate()?;
    let mut shape = sample.shape()?;
    for a in 0..3 {
        if config.crop[a] > shape[a] {
            return Err(Error::Config(format!(
                "augmentation crop {:?} exceeds the sample's shape {shape:?}",
                config.crop
            )));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_images = sample.images.len();
    let mut channels: Vec<Array3<f32>> = Vec::new();
    // Planes: axial (i, j | k), coronal (i, k | j), sagittal (j, k | i).
    for (pass, axes) in [[0, 1, 2], [0, 2, 1], [1, 2, 0]].into_iter().enumerate() {
        let p = draw(&mut rng, config, axes, shape);
        let len = config.crop[axes[2]];
        let input: Vec<&Array3<f32>> = if pass == 0 {
            sample.images.iter().chain(&sample.labels).collect()
        } else {
            channels.iter().collect()
        };
        channels = warp_plane(&input, &p, len)?;
        shape[axes[2]] = len;
    }
    let labels = channels.split_off(n_images);
    let mut out = Sample {
        images: channels,
        labels,
    };
    if config.flips {
        for a in 0..3 {
            if rng.gen_bool(0.5) {
                for c in out.images.iter_mut().chain(out.labels.iter_mut()) {
                    c.invert_axis(Axis(a));
                    *c = c.as_standard_layout().into_owned();
                }
            }
        }
    }
    let t = config.label_threshold;
    for l in &mut out.labels {
        l.mapv_inplace(|v| f32::from(u8::from(v > t)));
    }
    Ok(out)
}

fn draw(
    rng: &mut ChaCha8Rng,
    c: &AugmentConfig,
    axes: [usize; 3],
    shape: [usize; 3],
) -> PlaneParams {
    let choice = |rng: &mut ChaCha8Rng| [-1.0, 0.0, 1.0][rng.gen_range(0..3)];
    let translate = [
        choice(rng) * c.translate_fraction * shape[axes[0]] as f64,
        choice(rng) * c.translate_fraction * shape[axes[1]] as f64,
    ];
    let scale = (rng.gen_range(c.scale[0]..=c.scale[1]), rng.gen_range(0..2));
    let shear = rng.gen_range(-c.shear_deg..=c.shear_deg).to_radians();
    let rotate = rng.gen_range(-c.rotate_deg..=c.rotate_deg).to_radians();
    let room = shape[axes[2]] - c.crop[axes[2]];
    let crop_start = rng.gen_range(0..=room);
    PlaneParams {
        axes,
        translate,
        scale,
        shear,
        rotate,
        crop_start,
    }
}

/// One plane pass of [`augment`] with given parameters: keeps the slices
/// `p.crop_start .. p.crop_start + len` along the slicing axis `p.axes[2]` and applies, within
/// every kept slice, the 2-D affine about the plane's centre `c` (x along `p.axes[0]`, y along
/// `p.axes[1]`): `out(q) = in(A⁻¹ (q − c − t) + c)` with `A = R(rotate) · Sh(shear) ·
/// S(scale)`, bilinear, voxels outside the slice counting as 0 (SciPy's
/// `ndimage.affine_transform(order=1, mode="grid-constant")`). One output per input channel.
///
/// The source position and weights of an output pixel are computed once and applied to every
/// slice and channel. Errors: channels of different shapes, axes that are not a permutation of
/// 0, 1, 2, or a crop outside the volume.
pub fn warp_plane(
    channels: &[&Array3<f32>],
    p: &PlaneParams,
    len: usize,
) -> Result<Vec<Array3<f32>>> {
    let [u, v, w] = p.axes;
    let Some(first) = channels.first() else {
        return Ok(Vec::new());
    };
    let dims = first.dim();
    let shape = [dims.0, dims.1, dims.2];
    if channels.iter().any(|c| c.dim() != dims) {
        return Err(Error::Config("sample channels differ in shape".into()));
    }
    let mut seen = [false; 3];
    for &a in &p.axes {
        if let Some(s) = seen.get_mut(a) {
            *s = true;
        }
    }
    if seen != [true; 3] {
        return Err(Error::Config(format!(
            "plane axes {:?} are not a permutation of 0, 1, 2",
            p.axes
        )));
    }
    if p.crop_start
        .checked_add(len)
        .is_none_or(|end| end > shape[w])
    {
        return Err(Error::Config(format!(
            "plane crop {}..{} exceeds the sample's extent {} along axis {w}",
            p.crop_start,
            p.crop_start.saturating_add(len),
            shape[w]
        )));
    }
    // Sources as contiguous slices in one layout, C (element (i, j, k) at i·s0 + j·s1 + k)
    // or Fortran (at i + j·s1 + k·s2) after the first channel; a channel in another layout
    // is copied into it.
    let fortran = !first.is_standard_layout() && first.t().is_standard_layout();
    let copies: Vec<Option<Array3<f32>>> = channels
        .iter()
        .map(|c| {
            let fits = if fortran {
                c.t().is_standard_layout()
            } else {
                c.is_standard_layout()
            };
            (!fits).then(|| {
                let mut a = if fortran {
                    Array3::zeros(dims.f())
                } else {
                    Array3::zeros(dims)
                };
                a.assign(*c);
                a
            })
        })
        .collect();
    let src: Vec<&[f32]> = channels
        .iter()
        .zip(&copies)
        .map(|(c, copy)| {
            copy.as_ref()
                .unwrap_or(c)
                .as_slice_memory_order()
                .ok_or_else(|| Error::Config("a sample channel is not contiguous".into()))
        })
        .collect::<Result<_>>()?;
    let stride = if fortran {
        [1, shape[0], shape[0] * shape[1]]
    } else {
        [shape[1] * shape[2], shape[2], 1]
    };
    let (nu, nv) = (shape[u], shape[v]);
    // Forward matrix A = R · Sh · S; output x = A (in − centre) + centre + t.
    let (s, sa) = p.scale;
    let scale = if sa == 0 {
        [[s, 0.0], [0.0, 1.0]]
    } else {
        [[1.0, 0.0], [0.0, s]]
    };
    let shear = [[1.0, p.shear.tan()], [0.0, 1.0]];
    let (cr, sr) = (p.rotate.cos(), p.rotate.sin());
    let rot = [[cr, -sr], [sr, cr]];
    let a = mul2(&rot, &mul2(&shear, &scale));
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    let inv = [
        [a[1][1] / det, -a[0][1] / det],
        [-a[1][0] / det, a[0][0] / det],
    ];
    let centre = [(nu as f64 - 1.0) / 2.0, (nv as f64 - 1.0) / 2.0];
    let mut out_shape = shape;
    out_shape[w] = len;
    let mut outs: Vec<Array3<f32>> = channels
        .iter()
        .map(|_| Array3::zeros((out_shape[0], out_shape[1], out_shape[2])))
        .collect();
    // The slice's two axes in storage order (the smaller first), and where x (along u) and
    // y (along v) sit among them.
    let swap = u > v;
    let (n0, n1) = if swap { (nv, nu) } else { (nu, nv) };
    // The four source offsets (within slice 0 of the source) and weights of output pixel
    // (a0, a1); None when it lies wholly outside. The same for every slice: tabulated once.
    let taps_of = |a0: usize, a1: usize| -> Option<([Option<usize>; 4], f64, f64)> {
        let (x, y) = if swap { (a1, a0) } else { (a0, a1) };
        let d = [
            x as f64 - centre[0] - p.translate[0],
            y as f64 - centre[1] - p.translate[1],
        ];
        let sx = inv[0][0] * d[0] + inv[0][1] * d[1] + centre[0];
        let sy = inv[1][0] * d[0] + inv[1][1] * d[1] + centre[1];
        let t = Taps::at(sx, sy, nu, nv)?;
        let at = |(xi, yi): (usize, usize)| xi * stride[u] + yi * stride[v];
        let off = [
            t.x0.zip(t.y0).map(at),
            t.x1.zip(t.y0).map(at),
            t.x0.zip(t.y1).map(at),
            t.x1.zip(t.y1).map(at),
        ];
        Some((off, t.fx, t.fy))
    };
    let table: Vec<_> = (0..n0 * n1)
        .into_par_iter()
        .map(|i| taps_of(i / n1, i % n1))
        .collect();
    let taps_at = |a0: usize, a1: usize| table[a0 * n1 + a1];
    // Jobs run in parallel, each filling one sub-array of every output channel (C order).
    // When the slicing axis is the contiguous one of source and output (w = 2, C order) a
    // job is one row a0 of the plane with all kept slices innermost, so that reads and
    // writes run along memory; otherwise a job is one kept slice.
    let slices_inner = w == 2 && !fortran;
    let job_axis = if slices_inner { 0 } else { w };
    let mut jobs: Vec<Vec<ndarray::ArrayViewMut2<'_, f32>>> =
        (0..out_shape[job_axis]).map(|_| Vec::new()).collect();
    for o in &mut outs {
        for (job, view) in jobs.iter_mut().zip(o.axis_iter_mut(Axis(job_axis))) {
            job.push(view);
        }
    }
    jobs.par_iter_mut().enumerate().for_each(|(j, dst)| {
        let plane = dst.first().map_or(0, |v| v.len());
        let mut buf = vec![0.0f32; plane * src.len()];
        if slices_inner {
            // Job j is row a0 = j; buffer index a1 · len + slice.
            for a1 in 0..n1 {
                let Some((off, fx, fy)) = taps_at(j, a1) else {
                    continue;
                };
                for (c, s) in src.iter().enumerate() {
                    let row = &mut buf[c * plane + a1 * len..][..len];
                    for (slice, o) in row.iter_mut().enumerate() {
                        *o = bilinear(s, &off, p.crop_start + slice, fx, fy);
                    }
                }
            }
        } else {
            // Job j is kept slice j; buffer index a0 · n1 + a1.
            // The source's contiguous axis innermost (a0 in Fortran order).
            let shift = (p.crop_start + j) * stride[w];
            let (m0, m1) = if fortran { (n1, n0) } else { (n0, n1) };
            for b0 in 0..m0 {
                for b1 in 0..m1 {
                    let (a0, a1) = if fortran { (b1, b0) } else { (b0, b1) };
                    let Some((off, fx, fy)) = taps_at(a0, a1) else {
                        continue;
                    };
                    for (c, s) in src.iter().enumerate() {
                        buf[c * plane + a0 * n1 + a1] = bilinear(s, &off, shift, fx, fy);
                    }
                }
            }
        }
        // Both buffer layouts are the views' logical (row-major) order.
        for (c, view) in dst.iter_mut().enumerate() {
            for (o, &v) in view.iter_mut().zip(&buf[c * plane..(c + 1) * plane]) {
                *o = v;
            }
        }
    });
    Ok(outs)
}

/// Bilinear interpolation from the four taps `off` (shifted by `shift`; `None` counts as 0).
fn bilinear(s: &[f32], off: &[Option<usize>; 4], shift: usize, fx: f64, fy: f64) -> f32 {
    let g = |o: Option<usize>| o.map_or(0.0, |o| f64::from(s[o + shift]));
    let v = g(off[0]) * (1.0 - fx) * (1.0 - fy)
        + g(off[1]) * fx * (1.0 - fy)
        + g(off[2]) * (1.0 - fx) * fy
        + g(off[3]) * fx * fy;
    v as f32
}

/// The bilinear neighbourhood of a point (x along u, y along v) of an `nx × ny` slice: the
/// lower and upper neighbour index per axis where inside the slice (outside ones count as 0),
/// and the fractional offsets. `None` when the point is a whole voxel or more outside.
struct Taps {
    x0: Option<usize>,
    x1: Option<usize>,
    y0: Option<usize>,
    y1: Option<usize>,
    fx: f64,
    fy: f64,
}

impl Taps {
    fn at(x: f64, y: f64, nx: usize, ny: usize) -> Option<Self> {
        if x <= -1.0 || y <= -1.0 || x >= nx as f64 || y >= ny as f64 {
            return None;
        }
        let (x0, y0) = (x.floor(), y.floor());
        // x0 ∈ [−1, nx − 1]: the lower neighbour is outside only at −1, the upper at nx − 1.
        let inside = |i: f64, n: usize| (i >= 0.0 && i < n as f64).then_some(i as usize);
        Some(Self {
            x0: inside(x0, nx),
            x1: inside(x0 + 1.0, nx),
            y0: inside(y0, ny),
            y1: inside(y0 + 1.0, ny),
            fx: x - x0,
            fy: y - y0,
        })
    }
}

fn mul2(a: &[[f64; 2]; 2], b: &[[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let mut m = [[0.0; 2]; 2];
    for r in 0..2 {
        for c in 0..2 {
            m[r][c] = a[r][0] * b[0][c] + a[r][1] * b[1][c];
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(rotate_deg: f64, translate: [f64; 2]) -> PlaneParams {
        PlaneParams {
            axes: [0, 1, 2],
            translate,
            scale: (1.0, 0),
            shear: 0.0,
            rotate: rotate_deg.to_radians(),
            crop_start: 0,
        }
    }

    /// A 90° rotation about the slice centre moves (x, y) to (c − (y − c), c + (x − c)) — on
    /// an odd-sized grid exactly onto voxels.
    #[test]
    fn rotation_by_90_degrees_is_exact() {
        let n = 9;
        let src = Array3::from_shape_fn((n, n, 2), |(i, j, k)| (i * 10 + j + 100 * k) as f32);
        let out = warp_plane(&[&src], &params(90.0, [0.0, 0.0]), 2)
            .unwrap()
            .remove(0);
        let c = 4i64;
        for ((x, y, k), v) in out.indexed_iter() {
            // out(x, y) = src(A⁻¹((x, y) − c) + c): A⁻¹ rotates by −90°.
            let (dx, dy) = (x as i64 - c, y as i64 - c);
            let (sx, sy) = (c + dy, c - dx);
            let want = src[[sx as usize, sy as usize, k]];
            assert!((v - want).abs() < 1e-3, "({x},{y},{k}): {v} vs {want}");
        }
    }

    /// A translation by whole voxels shifts the slice, with zeros coming in.
    #[test]
    fn translation_shifts_with_zero_fill() {
        let src = Array3::from_elem((6, 5, 1), 1.0f32);
        let out = warp_plane(&[&src], &params(0.0, [2.0, 0.0]), 1)
            .unwrap()
            .remove(0);
        for ((x, _, _), v) in out.indexed_iter() {
            assert_eq!(*v, if x >= 2 { 1.0 } else { 0.0 }, "x = {x}");
        }
    }
}
