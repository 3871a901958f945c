//! Resampling a volume onto any grid in physical space, with ITK's rules.
//!
//! For every target voxel centre `p` (world, RAS+ mm) the source's continuous index is
//! `c = (D_s S_s)⁻¹ (p − o_s)`. As in ITK's `ResampleImageFilter`:
//!
//! - a point is **inside** the source when `−0.5 ≤ c_a < n_a − 0.5` on every axis `a`, i.e.
//!   within the outer faces of the edge voxels; elsewhere the target gets the fill value;
//! - **linear**: trilinear interpolation of the eight neighbours, with the half-voxel band at
//!   the edges clamped to the edge voxels (`c_a` clamped to `[0, n_a − 1]`);
//! - **nearest**: the voxel `⌊c_a + 0.5⌋` (ITK's round-half-up).
//!
//! Target voxels are processed one `k`-slice per task (rayon); the result is in the target
//! grid's `i`-fastest (Fortran) order, like volumes read from NIfTI.

use adamss_io::{Volume, Voxel};
use ndarray::{Array3, ShapeBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Interpolation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interpolation {
    /// Trilinear (images).
    Linear,
    /// Nearest neighbour (labels).
    Nearest,
}

/// The affine map from target voxel index to source continuous index:
/// `c = offset + m · [i, j, k]` (`m[row][col]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexMap {
    m: [[f64; 3]; 3],
    offset: [f64; 3],
}

impl IndexMap {
    /// The map from `target` voxel indices to `source` continuous indices.
    pub(crate) fn new(source: &Grid, target: &Grid) -> Self {
        // Columns of the target's index→world linear part, mapped through the source's
        // world→index map (which is linear plus the origin offset).
        let o = source.geometry.world_to_index(target.geometry.origin);
        let mut m = [[0.0; 3]; 3];
        for col in 0..3 {
            let mut e = [0.0; 3];
            e[col] = 1.0;
            let p = target.geometry.index_to_world(e);
            let c = source.geometry.world_to_index(p);
            for row in 0..3 {
                m[row][col] = c[row] - o[row];
            }
        }
        Self { m, offset: o }
    }

    /// The source continuous index of target voxel `idx`.
    pub(crate) fn apply(&self, idx: [usize; 3]) -> [f64; 3] {
        [0, 1, 2].map(|r| {
            self.offset[r]
                + self.m[r][0] * idx[0] as f64
                + self.m[r][1] * idx[1] as f64
                + self.m[r][2] * idx[2] as f64
        })
    }
}

/// ITK's inside test for a continuous index `c` on a grid of `shape` voxels: within the
/// outer voxel faces, `−0.5 ≤ c < n − 0.5` on every axis.
#[inline(always)]
pub(crate) fn inside(c: [f64; 3], shape: [usize; 3]) -> bool {
    (0..3).all(|a| c[a] >= -0.5 && c[a] < shape[a] as f64 - 0.5)
}

/// Whether two grids overlap at all in physical space (by their bounding boxes).
fn boxes_overlap(a: &Grid, b: &Grid) -> bool {
    let (alo, ahi) = a.bounds();
    let (blo, bhi) = b.bounds();
    (0..3).all(|i| alo[i] < bhi[i] && blo[i] < ahi[i])
}

/// Source voxels with their memory strides, for generic fast access.
struct Source<'a, T> {
    data: &'a [T],
    strides: [isize; 3],
    shape: [usize; 3],
}

impl<'a, T: Voxel + Copy> Source<'a, T> {
    fn new(volume: &'a Volume<T>) -> Result<Self> {
        let arr = volume.data();
        let data = arr
            .as_slice_memory_order()
            .ok_or_else(|| Error::Grid("source volume is not contiguous in memory".into()))?;
        let s = arr.strides();
        if s.iter().any(|&v| v < 0) {
            return Err(Error::Grid("source volume has negative strides".into()));
        }
        Ok(Self {
            data,
            strides: [s[0], s[1], s[2]],
            shape: volume.shape(),
        })
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize, k: usize) -> f64 {
        let off = i as isize * self.strides[0]
            + j as isize * self.strides[1]
            + k as isize * self.strides[2];
        self.data[off as usize].to_f64()
    }

    /// ITK's inside test for a continuous index.
    #[inline(always)]
    fn inside(&self, c: [f64; 3]) -> bool {
        inside(c, self.shape)
    }

    #[inline(always)]
    fn linear(&self, c: [f64; 3]) -> f64 {
        let mut base = [0usize; 3];
        let mut frac = [0.0f64; 3];
        for a in 0..3 {
            let n = self.shape[a];
            let x = c[a].clamp(0.0, (n - 1) as f64);
            let b = (x.floor() as usize).min(n.saturating_sub(2));
            base[a] = b;
            frac[a] = x - b as f64;
        }
        let [i, j, k] = base;
        let [fx, fy, fz] = frac;
        // Neighbours past the edge only occur with zero weight (n = 1 axes).
        let i1 = (i + 1).min(self.shape[0] - 1);
        let j1 = (j + 1).min(self.shape[1] - 1);
        let k1 = (k + 1).min(self.shape[2] - 1);
        let c00 = self.at(i, j, k) * (1.0 - fx) + self.at(i1, j, k) * fx;
        let c10 = self.at(i, j1, k) * (1.0 - fx) + self.at(i1, j1, k) * fx;
        let c01 = self.at(i, j, k1) * (1.0 - fx) + self.at(i1, j, k1) * fx;
        let c11 = self.at(i, j1, k1) * (1.0 - fx) + self.at(i1, j1, k1) * fx;
        let c0 = c00 * (1.0 - fy) + c10 * fy;
        let c1 = c01 * (1.0 - fy) + c11 * fy;
        c0 * (1.0 - fz) + c1 * fz
    }

    #[inline(always)]
    fn nearest_index(&self, c: [f64; 3]) -> [usize; 3] {
        [0, 1, 2].map(|a| ((c[a] + 0.5).floor().max(0.0) as usize).min(self.shape[a] - 1))
    }
}

/// Fills a Fortran-ordered target array slice by slice, in parallel.
fn fill_parallel<U: Send + Copy + Default>(
    target: &Grid,
    map: IndexMap,
    f: impl Fn([f64; 3]) -> U + Sync,
) -> Result<Array3<U>> {
    let [n0, n1, n2] = target.shape;
    let mut out = vec![U::default(); target.len()];
    out.par_chunks_mut(n0 * n1)
        .enumerate()
        .for_each(|(k, slice)| {
            for j in 0..n1 {
                let row = &mut slice[j * n0..(j + 1) * n0];
                let base = [0, 1, 2]
                    .map(|r| map.offset[r] + map.m[r][1] * j as f64 + map.m[r][2] * k as f64);
                for (i, v) in row.iter_mut().enumerate() {
                    let fi = i as f64;
                    let c = [0, 1, 2].map(|r| base[r] + map.m[r][0] * fi);
                    *v = f(c);
                }
            }
        });
    Array3::from_shape_vec((n0, n1, n2).f(), out)
        .map_err(|e| Error::Grid(format!("internal shape error: {e}")))
}

/// One target axis's lookup table for a diagonal index map: per target index, whether it is
/// inside the source along this axis, the lower source neighbour and the weight of the upper.
struct AxisTable {
    inside: Vec<bool>,
    base: Vec<usize>,
    frac: Vec<f64>,
}

impl AxisTable {
    fn new(offset: f64, scale: f64, n_target: usize, n_source: usize) -> Self {
        let mut t = Self {
            inside: Vec::with_capacity(n_target),
            base: Vec::with_capacity(n_target),
            frac: Vec::with_capacity(n_target),
        };
        for i in 0..n_target {
            let c = offset + scale * i as f64;
            t.inside.push(c >= -0.5 && c < n_source as f64 - 0.5);
            let x = c.clamp(0.0, (n_source - 1) as f64);
            let b = (x.floor() as usize).min(n_source.saturating_sub(2));
            t.base.push(b);
            t.frac.push(if n_source > 1 { x - b as f64 } else { 0.0 });
        }
        t
    }

    /// Source indices `[lo, hi]` read by the inside target indices (both neighbours).
    fn source_span(&self, n_source: usize) -> Option<(usize, usize)> {
        let mut span: Option<(usize, usize)> = None;
        for (b, _) in self.base.iter().zip(&self.inside).filter(|(_, &ins)| ins) {
            let hi = (b + 1).min(n_source - 1);
            span = Some(match span {
                None => (*b, hi),
                Some((l, h)) => (l.min(*b), h.max(hi)),
            });
        }
        span
    }
}

/// Whether the index map is diagonal: every target axis moves along one source axis, the same
/// one (no rotation, no permutation; flips allowed).
fn is_diagonal(map: &IndexMap) -> bool {
    let scale = (0..3).map(|a| map.m[a][a].abs()).fold(0.0, f64::max);
    (0..3).all(|r| (0..3).all(|c| r == c || map.m[r][c].abs() <= 1e-12 * scale))
}

/// The separable fast path of trilinear resampling for diagonal maps: per target row, blend
/// the four source rows (in `j` and `k`) once, then interpolate along `i` — the same
/// arithmetic as the general path, grouped, with contiguous source reads.
fn linear_separable<T: Voxel + Copy>(
    src: &Source<'_, T>,
    target: &Grid,
    map: IndexMap,
    fill: f32,
) -> Result<Array3<f32>> {
    let [n0, n1, n2] = target.shape;
    let [s0, s1, s2] = src.shape;
    let tx = AxisTable::new(map.offset[0], map.m[0][0], n0, s0);
    let ty = AxisTable::new(map.offset[1], map.m[1][1], n1, s1);
    let tz = AxisTable::new(map.offset[2], map.m[2][2], n2, s2);
    let span = tx.source_span(s0);
    let mut out = vec![0f32; target.len()];
    out.par_chunks_mut(n0 * n1).enumerate().for_each_init(
        || vec![0f64; s0],
        |blend, (k, slice)| {
            let Some((lo, hi)) = span.filter(|_| tz.inside[k]) else {
                slice.fill(fill);
                return;
            };
            let (bk, fz) = (tz.base[k], tz.frac[k]);
            let bk1 = (bk + 1).min(s2 - 1);
            for j in 0..n1 {
                let row = &mut slice[j * n0..(j + 1) * n0];
                if !ty.inside[j] {
                    row.fill(fill);
                    continue;
                }
                let (bj, fy) = (ty.base[j], ty.frac[j]);
                let bj1 = (bj + 1).min(s1 - 1);
                for (is, b) in blend.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    // Same grouping as `Source::linear`: x first would differ only by
                    // rounding; here y then z, on exact source values.
                    let c00 = src.at(is, bj, bk);
                    let c10 = src.at(is, bj1, bk);
                    let c01 = src.at(is, bj, bk1);
                    let c11 = src.at(is, bj1, bk1);
                    let c0 = c00 * (1.0 - fy) + c10 * fy;
                    let c1 = c01 * (1.0 - fy) + c11 * fy;
                    *b = c0 * (1.0 - fz) + c1 * fz;
                }
                for (i, v) in row.iter_mut().enumerate() {
                    *v = if tx.inside[i] {
                        let b = tx.base[i];
                        let b1 = (b + 1).min(s0 - 1);
                        let fx = tx.frac[i];
                        (blend[b] * (1.0 - fx) + blend[b1] * fx) as f32
                    } else {
                        fill
                    };
                }
            }
        },
    );
    Array3::from_shape_vec((n0, n1, n2).f(), out)
        .map_err(|e| Error::Grid(format!("internal shape error: {e}")))
}

/// Resamples an image onto `target` with trilinear interpolation; voxels outside the source
/// get `fill`. The result is `f32` (the network's input type) whatever the source type.
///
/// Axis-aligned pairs of grids (flips allowed — the usual CT → common-grid case) take a
/// separable path that reads each source row once per target row.
///
/// Errors when the source and the target do not overlap in physical space.
pub fn resample_linear<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    fill: f32,
) -> Result<Volume<f32>> {
    let (src, map) = prepare(source, target)?;
    if is_diagonal(&map) {
        let data = linear_separable(&src, target, map, fill)?;
        return Ok(Volume::new(data, target.geometry)?);
    }
    let data = fill_parallel(target, map, |c| {
        if src.inside(c) {
            src.linear(c) as f32
        } else {
            fill
        }
    })?;
    Ok(Volume::new(data, target.geometry)?)
}

/// Resamples onto `target` with nearest-neighbour interpolation, keeping the voxel type
/// (labels); voxels outside the source get `fill`.
pub fn resample_nearest<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    fill: T,
) -> Result<Volume<T>> {
    nearest_with(source, target, fill, |v| v)
}

/// Nearest-neighbour resampling with a conversion of the picked value.
fn nearest_with<T: Voxel + Copy, U: Voxel + Copy + Default>(
    source: &Volume<T>,
    target: &Grid,
    fill: U,
    convert: impl Fn(T) -> U + Sync,
) -> Result<Volume<U>> {
    let (src, map) = prepare(source, target)?;
    let data = fill_parallel(target, map, |c| {
        if src.inside(c) {
            let [i, j, k] = src.nearest_index(c);
            let off = i as isize * src.strides[0]
                + j as isize * src.strides[1]
                + k as isize * src.strides[2];
            convert(src.data[off as usize])
        } else {
            fill
        }
    })?;
    Ok(Volume::new(data, target.geometry)?)
}

/// Resamples with the given kernel into `f32` (nearest values are converted).
pub fn resample<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    interpolation: Interpolation,
    fill: f32,
) -> Result<Volume<f32>> {
    match interpolation {
        Interpolation::Linear => resample_linear(source, target, fill),
        Interpolation::Nearest => nearest_with(source, target, fill, |v| v.to_f64() as f32),
    }
}

/// Checks that source and target overlap and sets up the source access and the index map.
fn prepare<'a, T: Voxel + Copy>(
    source: &'a Volume<T>,
    target: &Grid,
) -> Result<(Source<'a, T>, IndexMap)> {
    let src_grid = Grid::of(source);
    check_overlap(&src_grid, target)?;
    Ok((Source::new(source)?, IndexMap::new(&src_grid, target)))
}

/// Per voxel of `target`, whether its centre lies inside `source` (ITK's rule): the voxels a
/// resampling takes from the source rather than the fill value.
pub(crate) fn inside_mask(source: &Grid, target: &Grid) -> Result<Array3<bool>> {
    let shape = source.shape;
    fill_parallel(target, IndexMap::new(source, target), |c| inside(c, shape))
}

fn check_overlap(source: &Grid, target: &Grid) -> Result<()> {
    if boxes_overlap(source, target) {
        Ok(())
    } else {
        let (slo, shi) = source.bounds();
        let (tlo, thi) = target.bounds();
        Err(Error::NoOverlap(format!(
            "source spans {slo:?}–{shi:?} mm, target {tlo:?}–{thi:?} mm (RAS+)"
        )))
    }
}
