//! Training-time augmentation as the released code does it (spec §1): three passes, one per
//! orthogonal plane, each a random 2-D affine applied to every slice of that plane followed by
//! a random crop of the remaining axis, so a 160³ input becomes a 112³ training crop. Labels
//! are interpolated like images and re-binarised at > 0.2. Deterministic given the seed.

use ndarray::{Array3, Axis, Zip};
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
    let mut out = sample.clone();
    // Planes: axial (i, j | k), coronal (i, k | j), sagittal (j, k | i).
    for axes in [[0, 1, 2], [0, 2, 1], [1, 2, 0]] {
        let p = draw(&mut rng, config, axes, shape);
        // The affine acts within each slice along the slicing axis and the crop selects whole
        // slices, so cropping first gives the same result with less work.
        let warp = |c: &Array3<f32>| {
            warp_plane(
                &crop_axis(c, axes[2], p.crop_start, config.crop[axes[2]]),
                &p,
            )
        };
        out.images = out.images.iter().map(warp).collect();
        out.labels = out.labels.iter().map(warp).collect();
        shape[axes[2]] = config.crop[axes[2]];
    }
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

/// Applies the plane's 2-D affine (about the plane's centre) to every slice, bilinear, zeros
/// outside.
fn warp_plane(c: &Array3<f32>, p: &PlaneParams) -> Array3<f32> {
    let [u, v, w] = p.axes;
    let dims = c.dim();
    let shape = [dims.0, dims.1, dims.2];
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
    let mut out = Array3::<f32>::zeros(dims);
    // Work slice by slice along w, in parallel.
    let src_slices: Vec<_> = c.axis_iter(Axis(w)).collect();
    let mut dst_slices: Vec<_> = out.axis_iter_mut(Axis(w)).collect();
    dst_slices
        .par_iter_mut()
        .zip(src_slices.par_iter())
        .for_each(|(dst, src)| {
            // In the 2-D slice, the remaining axes keep their order: the smaller of u, v first.
            let swap = u > v;
            Zip::indexed(dst).for_each(|(a0, a1), o| {
                let (x, y) = if swap { (a1, a0) } else { (a0, a1) };
                let d = [
                    x as f64 - centre[0] - p.translate[0],
                    y as f64 - centre[1] - p.translate[1],
                ];
                let sx = inv[0][0] * d[0] + inv[0][1] * d[1] + centre[0];
                let sy = inv[1][0] * d[0] + inv[1][1] * d[1] + centre[1];
                *o = bilinear(src, sx, sy, swap);
            });
        });
    out
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

/// Bilinear sample of a 2-D slice at (x along u, y along v); neighbours outside count as 0.
fn bilinear(src: &ndarray::ArrayView2<'_, f32>, x: f64, y: f64, swap: bool) -> f32 {
    let (d0, d1) = src.dim();
    let (nx, ny) = if swap { (d1, d0) } else { (d0, d1) };
    if x <= -1.0 || y <= -1.0 || x >= nx as f64 || y >= ny as f64 {
        return 0.0;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let get = |xi: f64, yi: f64| -> f64 {
        if xi < 0.0 || yi < 0.0 || xi >= nx as f64 || yi >= ny as f64 {
            0.0
        } else {
            let (xi, yi) = (xi as usize, yi as usize);
            f64::from(if swap { src[[yi, xi]] } else { src[[xi, yi]] })
        }
    };
    let v = get(x0, y0) * (1.0 - fx) * (1.0 - fy)
        + get(x0 + 1.0, y0) * fx * (1.0 - fy)
        + get(x0, y0 + 1.0) * (1.0 - fx) * fy
        + get(x0 + 1.0, y0 + 1.0) * fx * fy;
    v as f32
}

fn crop_axis(c: &Array3<f32>, axis: usize, start: usize, len: usize) -> Array3<f32> {
    c.slice_axis(Axis(axis), ndarray::Slice::from(start..start + len))
        .to_owned()
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
        let out = warp_plane(&src, &params(90.0, [0.0, 0.0]));
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
        let out = warp_plane(&src, &params(0.0, [2.0, 0.0]));
        for ((x, _, _), v) in out.indexed_iter() {
            assert_eq!(*v, if x >= 2 { 1.0 } else { 0.0 }, "x = {x}");
        }
    }
}
