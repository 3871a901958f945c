//! Resampling a volume onto any grid in physical space with ITK's arithmetic — the workspace's
//! one resampler (adamss-radiomics' `resampledPixelSpacing` and `correctMask` call it too).
//!
//! Each target voxel reads the source at a continuous index computed as ITK's
//! `ResampleImageFilter` does on its scan-line path for linear transforms: for target row
//! `(j, k)` of `n` voxels, `start` and `end` are the source continuous indices of target
//! indices `(0, j, k)` and `(n, j, k)`, and voxel `i` reads `start + (i / n)·(end − start)`.
//! Physical points are `origin + Σ direction·spacing·index`; continuous indices
//! `(direction·spacing)⁻¹·(point − origin)`, the inverse taken as ITK takes it (LINPACK's SVD,
//! [`adamss_io::Geometry::world_to_index_matrix`]), so that on oblique grids too a
//! nearest-neighbour tie falls where SimpleITK's does. Then, as ITK:
//!
//! - a point is **inside** the source when `−½ ≤ c < n − ½` on every axis, i.e. within the
//!   outer faces of the edge voxels; elsewhere the target gets the fill value;
//! - [`Interpolation::Linear`]: ITK's trilinear lerps `a + (b − a)·d`, along `i`, then `j`,
//!   then `k`, an axis skipped (the lower voxel kept) when the offset from the floor is ≤ 0 —
//!   the floor clamped to 0 — or the upper voxel lies past the end;
//! - [`Interpolation::Nearest`]: the voxel at `round half up(c)` (ITK's `RoundHalfIntegerUp`);
//! - [`Interpolation::BSpline`]: cubic B-spline with mirror boundaries (see `bspline.rs`).
//!
//! Values are interpolated in f64, then cast: [`resample`] and [`resample_linear`] round to f32
//! (what `sitk.Resample` gives a float32 image), [`resample_f64`] keeps f64 (what it computes
//! before casting to any output pixel type), [`resample_nearest`] keeps the voxel type. Our
//! geometry is RAS+ and ITK's LPS: the two differ by exact sign flips, so the continuous indices
//! are ITK's to the bit. Voxels equal SimpleITK 2.5.7's bit for bit on the reference cases
//! (`tests/data/preprocess`, and the resampled images of `tests/data/radiomics`).
//!
//! Target voxels are processed one `k`-slice per task (rayon); the result is in the target
//! grid's `i`-fastest (Fortran) order, like volumes read from NIfTI. When both directions are
//! exactly diagonal (axis-aligned, flips allowed: the usual CT → common-grid case) every row
//! shares its `i` positions and every slice its `j` positions, so linear interpolation reads
//! them from per-axis tables instead of mapping each voxel — the same arithmetic, grouped.

mod bspline;

use adamss_io::{Volume, Voxel};
use ndarray::{Array3, ShapeBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::Grid;
use bspline::BSpline;

/// Interpolation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interpolation {
    /// Trilinear (images): `sitk.sitkLinear`.
    Linear,
    /// Nearest neighbour (labels): `sitk.sitkNearestNeighbor`.
    Nearest,
    /// Cubic B-spline (images; PyRadiomics' default): `sitk.sitkBSpline`. Needs finite values
    /// in the whole source (its coefficients come from recursive filters along whole lines).
    BSpline,
}

/// Target index → source continuous index, as ITK's scan-line resampling computes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexMap {
    out_origin: [f64; 3],
    /// Target `direction · spacing`.
    out_m: [[f64; 3]; 3],
    in_origin: [f64; 3],
    /// Inverse of the source's `direction · spacing`, as ITK computes it
    /// ([`adamss_io::Geometry::world_to_index_matrix`]).
    in_inv: [[f64; 3]; 3],
}

impl IndexMap {
    /// The map from `target` voxel indices to `source` continuous indices.
    pub(crate) fn new(source: &Grid, target: &Grid) -> Self {
        let (input, output) = (&source.geometry, &target.geometry);
        let mut out_m = [[0.0; 3]; 3];
        for r in 0..3 {
            for c in 0..3 {
                out_m[r][c] = output.direction[r][c] * output.spacing[c];
            }
        }
        let in_inv = input.world_to_index_matrix();
        Self {
            out_origin: output.origin,
            out_m,
            in_origin: input.origin,
            in_inv,
        }
    }

    /// The source continuous index of target index `idx`.
    pub(crate) fn continuous_index(&self, idx: [f64; 3]) -> [f64; 3] {
        let mut p = self.out_origin;
        for (r, pr) in p.iter_mut().enumerate() {
            for (c, &x) in idx.iter().enumerate() {
                *pr += self.out_m[r][c] * x;
            }
        }
        let v = [0, 1, 2].map(|a| p[a] - self.in_origin[a]);
        [0, 1, 2].map(|r| {
            let mut s = 0.0;
            for (c, &x) in v.iter().enumerate() {
                s += self.in_inv[r][c] * x;
            }
            s
        })
    }

    /// The start and step of target row `(j, k)` (`nx` voxels) in source continuous indices.
    fn row(&self, nx: usize, j: usize, k: usize) -> ([f64; 3], [f64; 3]) {
        let start = self.continuous_index([0.0, j as f64, k as f64]);
        let end = self.continuous_index([nx as f64, j as f64, k as f64]);
        (start, [0, 1, 2].map(|a| end[a] - start[a]))
    }

    /// Every voxel `i` of target row `(j, k)` (`nx` voxels) with its continuous index.
    fn row_indices(&self, nx: usize, j: usize, k: usize) -> impl Iterator<Item = [f64; 3]> {
        let (start, vector) = self.row(nx, j, k);
        (0..nx).map(move |i| {
            let alpha = i as f64 / nx as f64;
            [0, 1, 2].map(|a| start[a] + alpha * vector[a])
        })
    }

    /// The voxels `i` of target row `(j, k)` that fall inside a source of `size` voxels, with
    /// their continuous indices.
    fn inside_row(
        &self,
        nx: usize,
        j: usize,
        k: usize,
        size: [usize; 3],
    ) -> impl Iterator<Item = (usize, [f64; 3])> {
        self.row_indices(nx, j, k)
            .enumerate()
            .filter(move |(_, c)| inside(*c, size))
    }

    /// Whether both linear parts are exactly diagonal (no rotation, no permutation; flips
    /// allowed): target index `a` then moves source index `a` alone, and the continuous index
    /// along each axis depends on that axis's target index only.
    fn is_diagonal(&self) -> bool {
        (0..3).all(|r| {
            (0..3).all(|c| r == c || (self.out_m[r][c] == 0.0 && self.in_inv[r][c] == 0.0))
        })
    }
}

/// ITK's inside test for a continuous index `c` on a grid of `shape` voxels: within the
/// outer voxel faces, `−0.5 ≤ c < n − 0.5` on every axis.
#[inline(always)]
pub(crate) fn inside(c: [f64; 3], shape: [usize; 3]) -> bool {
    (0..3).all(|a| c[a] >= -0.5 && c[a] < shape[a] as f64 - 0.5)
}

/// ITK's nearest index (`RoundHalfIntegerUp`) of an inside continuous index.
#[inline(always)]
fn nearest_index(c: [f64; 3], shape: [usize; 3]) -> [usize; 3] {
    [0, 1, 2].map(|a| {
        ((((2.0 * c[a] + 0.5).round_ties_even() as i64) >> 1).max(0) as usize).min(shape[a] - 1)
    })
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
    fn offset(&self, i: usize, j: usize, k: usize) -> usize {
        (i as isize * self.strides[0] + j as isize * self.strides[1] + k as isize * self.strides[2])
            as usize
    }

    #[inline(always)]
    fn raw(&self, i: usize, j: usize, k: usize) -> T {
        self.data[self.offset(i, j, k)]
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize, k: usize) -> f64 {
        self.raw(i, j, k).to_f64()
    }

    /// ITK's trilinear interpolation at an inside continuous index (see the module docs).
    #[inline(always)]
    fn linear(&self, c: [f64; 3]) -> f64 {
        let [x, y, z] = [0, 1, 2].map(|a| AxisStep::new(c[a], self.shape[a]));
        self.lerp3(&x, &y, &z)
    }

    /// The trilinear value for the three axes' steps: lerps along `i`, then `j`, then `k`.
    #[inline(always)]
    fn lerp3(&self, x: &AxisStep, y: &AxisStep, z: &AxisStep) -> f64 {
        let along_x = |dy: usize, dz: usize| {
            let v0 = self.at(x.base, y.base + dy, z.base + dz);
            if x.active {
                v0 + (self.at(x.base + 1, y.base + dy, z.base + dz) - v0) * x.d
            } else {
                v0
            }
        };
        let along_y = |dz: usize| {
            let v0 = along_x(0, dz);
            if y.active {
                v0 + (along_x(1, dz) - v0) * y.d
            } else {
                v0
            }
        };
        let v0 = along_y(0);
        if z.active {
            v0 + (along_y(1) - v0) * z.d
        } else {
            v0
        }
    }

    /// Source row `i` of `(j, k)` into `line`, in f64.
    fn fill_row(&self, j: usize, k: usize, line: &mut Vec<f64>) {
        line.extend((0..self.shape[0]).map(|i| self.at(i, j, k)));
    }
}

/// One axis of ITK's trilinear step at continuous index `c` on an axis of `n` voxels: the lower
/// voxel (the floor, clamped to 0), the offset from it, whether the upper voxel is blended in.
#[derive(Debug, Clone, Copy)]
struct AxisStep {
    base: usize,
    d: f64,
    active: bool,
}

impl AxisStep {
    #[inline(always)]
    fn new(c: f64, n: usize) -> Self {
        let base = (c.floor() as i64).max(0) as usize;
        let d = c - base as f64;
        Self {
            base,
            d,
            active: d > 0.0 && base + 1 < n,
        }
    }
}

/// Fills a Fortran-ordered target array slice by slice, in parallel: `value(c)` for voxels
/// whose continuous index `c` lies inside a source of `size` voxels, `fill` elsewhere.
fn fill_rows<U: Send + Sync + Copy>(
    target: &Grid,
    map: &IndexMap,
    size: [usize; 3],
    fill: U,
    value: impl Fn([f64; 3]) -> U + Sync,
) -> Result<Array3<U>> {
    let [n0, n1, n2] = target.shape;
    let mut out = vec![fill; target.len()];
    out.par_chunks_mut(n0 * n1)
        .enumerate()
        .for_each(|(k, slice)| {
            for j in 0..n1 {
                let row = &mut slice[j * n0..(j + 1) * n0];
                for (v, c) in row.iter_mut().zip(map.row_indices(n0, j, k)) {
                    if inside(c, size) {
                        *v = value(c);
                    }
                }
            }
        });
    Array3::from_shape_vec((n0, n1, n2).f(), out)
        .map_err(|e| Error::Grid(format!("internal shape error: {e}")))
}

/// One target axis's table for an exactly diagonal map: per target index along it, whether it
/// is inside the source along this axis and its trilinear step.
struct AxisTable {
    inside: Vec<bool>,
    step: Vec<AxisStep>,
}

impl AxisTable {
    fn new(c: impl Iterator<Item = f64>, n_source: usize) -> Self {
        let (inside, step) = c
            .map(|c| {
                (
                    c >= -0.5 && c < n_source as f64 - 0.5,
                    AxisStep::new(c, n_source),
                )
            })
            .unzip();
        Self { inside, step }
    }
}

/// Trilinear resampling for an exactly diagonal map: the continuous index of target voxel
/// `(i, j, k)` is `(cᵢ, cⱼ, cₖ)` from one table per axis — bit for bit the index the general
/// path computes (the off-diagonal terms it adds are exact zeros) — and the value is the general
/// path's `lerp3`, regrouped: per target slice, the lerps along `i` of every source row the
/// slice reads are computed once (a source row serves every target row between its neighbours),
/// then each target voxel blends its rows along `j` and `k`. Same operations on the same
/// operands, in the same order, as `lerp3`.
fn linear_diagonal<T: Voxel + Copy, U: Send + Sync + Copy>(
    src: &Source<'_, T>,
    target: &Grid,
    map: &IndexMap,
    fill: U,
    cast: impl Fn(f64) -> U + Sync,
) -> Result<Array3<U>> {
    let [n0, n1, n2] = target.shape;
    let (start, vector) = map.row(n0, 0, 0);
    let tx = AxisTable::new(
        (0..n0).map(|i| start[0] + (i as f64 / n0 as f64) * vector[0]),
        src.shape[0],
    );
    let ty = AxisTable::new(
        (0..n1).map(|j| map.continuous_index([0.0, j as f64, 0.0])[1]),
        src.shape[1],
    );
    let tz = AxisTable::new(
        (0..n2).map(|k| map.continuous_index([0.0, 0.0, k as f64])[2]),
        src.shape[2],
    );
    // Source rows (along j) that inside target rows read.
    let Some((jlo, jhi)) = ty
        .inside
        .iter()
        .zip(&ty.step)
        .filter(|(&ins, _)| ins)
        .map(|(_, y)| (y.base, y.base + usize::from(y.active)))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    else {
        return Array3::from_shape_vec((n0, n1, n2).f(), vec![fill; target.len()])
            .map_err(|e| Error::Grid(format!("internal shape error: {e}")));
    };
    let rows = jhi - jlo + 1;
    // Inside along i is one run of target indices (the continuous index is monotonic in i).
    let ilo = tx.inside.iter().position(|&v| v).unwrap_or(n0);
    let ihi = tx.inside.iter().rposition(|&v| v).map_or(ilo, |p| p + 1);
    let xs = &tx.step[ilo..ihi];
    let s0 = src.shape[0];
    // Source voxels along i that the inside run reads.
    let (xlo, xhi) = xs.iter().fold((usize::MAX, 0), |(lo, hi), x| {
        (lo.min(x.base), hi.max(x.base + usize::from(x.active)))
    });
    // The lerp along i of source row (js, ks) at every inside target i, into `out[ilo..ihi]`;
    // `line` receives the source row's voxels `xlo..=xhi` in f64.
    let along_x = |js: usize, ks: usize, line: &mut [f64], out: &mut [f64]| {
        for (is, v) in line.iter_mut().enumerate().take(xhi + 1).skip(xlo) {
            *v = src.at(is, js, ks);
        }
        for (o, x) in out[ilo..ihi].iter_mut().zip(xs) {
            let v0 = line[x.base];
            *o = if x.active {
                v0 + (line[x.base + 1] - v0) * x.d
            } else {
                v0
            };
        }
    };
    // The lerps along i of one source plane's rows `jlo..=jhi`, into `plane`.
    let along_plane = |ks: usize, line: &mut [f64], plane: &mut [f64]| {
        for r in 0..rows {
            along_x(jlo + r, ks, line, &mut plane[r * n0..(r + 1) * n0]);
        }
    };
    let mut out = vec![fill; target.len()];
    // The target slices in a few contiguous runs per thread, each run with a source row buffer
    // and the lower (k) and upper (k + 1) source planes' lerps along i, tagged with the source
    // plane they hold. Neighbouring target slices read the same planes (a source plane serves
    // every target slice between its neighbours), so a run computes each plane once, not once
    // per slice. (Runs, not rayon's adaptive splits: those restart the buffers unpredictably.)
    let per = n2.div_ceil(4 * rayon::current_num_threads()).max(1);
    out.par_chunks_mut(n0 * n1 * per)
        .enumerate()
        .for_each(|(run, slices)| {
            let line = &mut vec![0f64; s0];
            let (lower, lower_at) = (&mut vec![0f64; rows * n0], &mut None::<usize>);
            let (upper, upper_at) = (&mut vec![0f64; rows * n0], &mut None::<usize>);
            for (dk, slice) in slices.chunks_mut(n0 * n1).enumerate() {
                let k = run * per + dk;
                if !tz.inside[k] {
                    continue;
                }
                let z = tz.step[k];
                if *lower_at != Some(z.base) {
                    if *upper_at == Some(z.base) {
                        std::mem::swap(lower, upper);
                        std::mem::swap(lower_at, upper_at);
                    } else {
                        along_plane(z.base, line, lower);
                        *lower_at = Some(z.base);
                    }
                }
                if z.active && *upper_at != Some(z.base + 1) {
                    along_plane(z.base + 1, line, upper);
                    *upper_at = Some(z.base + 1);
                }
                for j in 0..n1 {
                    if !ty.inside[j] {
                        continue;
                    }
                    let y = ty.step[j];
                    let r0 = (y.base - jlo) * n0;
                    // Rows j and j + 1 of the lower (k) and upper (k + 1) planes, on the inside run.
                    let row = &mut slice[j * n0 + ilo..j * n0 + ihi];
                    let (l0, u0) = (&lower[r0 + ilo..r0 + ihi], &upper[r0 + ilo..r0 + ihi]);
                    match (y.active, z.active) {
                        (false, false) => {
                            for (v, &a) in row.iter_mut().zip(l0) {
                                *v = cast(a);
                            }
                        }
                        (true, false) => {
                            let l1 = &lower[r0 + n0 + ilo..r0 + n0 + ihi];
                            for ((v, &a), &b) in row.iter_mut().zip(l0).zip(l1) {
                                *v = cast(a + (b - a) * y.d);
                            }
                        }
                        (false, true) => {
                            for ((v, &a), &c) in row.iter_mut().zip(l0).zip(u0) {
                                *v = cast(a + (c - a) * z.d);
                            }
                        }
                        (true, true) => {
                            let r1 = r0 + n0;
                            let (l1, u1) = (&lower[r1 + ilo..r1 + ihi], &upper[r1 + ilo..r1 + ihi]);
                            for ((((v, &a), &b), &c), &e) in
                                row.iter_mut().zip(l0).zip(l1).zip(u0).zip(u1)
                            {
                                let v0 = a + (b - a) * y.d;
                                let v1 = c + (e - c) * y.d;
                                *v = cast(v0 + (v1 - v0) * z.d);
                            }
                        }
                    }
                }
            }
        });
    Array3::from_shape_vec((n0, n1, n2).f(), out)
        .map_err(|e| Error::Grid(format!("internal shape error: {e}")))
}

/// The interpolated f64 values of `source` on `target`, cast by `cast`; `fill` outside.
fn interpolate<T: Voxel + Copy, U: Send + Sync + Copy>(
    source: &Volume<T>,
    target: &Grid,
    interpolation: Interpolation,
    fill: U,
    cast: impl Fn(f64) -> U + Sync,
) -> Result<Volume<U>> {
    let (src, map) = prepare(source, target)?;
    let size = src.shape;
    let data = match interpolation {
        Interpolation::Linear if map.is_diagonal() => {
            linear_diagonal(&src, target, &map, fill, cast)?
        }
        Interpolation::Linear => fill_rows(target, &map, size, fill, |c| cast(src.linear(c)))?,
        Interpolation::Nearest => fill_rows(target, &map, size, fill, |c| {
            let [i, j, k] = nearest_index(c, size);
            cast(src.at(i, j, k))
        })?,
        Interpolation::BSpline => {
            if let Some(v) = source.data().iter().find(|v| !v.to_f64().is_finite()) {
                return Err(Error::NonFinite(format!(
                    "B-spline resampling needs finite values in the whole source (its \
                     coefficients come from filters along whole lines); found {}",
                    v.to_f64()
                )));
            }
            let spline = BSpline::new(
                size,
                &|j, k, line| src.fill_row(j, k, line),
                &map,
                target.shape,
            );
            fill_rows(target, &map, size, fill, |c| cast(spline.evaluate(c)))?
        }
    };
    Ok(Volume::new(data, target.geometry)?)
}

/// Resamples an image onto `target` with trilinear interpolation; voxels outside the source
/// get `fill`. The result is `f32` (the network's input type) whatever the source type.
///
/// Errors when the source and the target do not overlap in physical space.
pub fn resample_linear<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    fill: f32,
) -> Result<Volume<f32>> {
    interpolate(source, target, Interpolation::Linear, fill, |v| v as f32)
}

/// Resamples onto `target` with nearest-neighbour interpolation, keeping the voxel type
/// (labels); voxels outside the source get `fill`.
pub fn resample_nearest<T: Voxel + Copy + Send + Sync>(
    source: &Volume<T>,
    target: &Grid,
    fill: T,
) -> Result<Volume<T>> {
    let (src, map) = prepare(source, target)?;
    let size = src.shape;
    let data = fill_rows(target, &map, size, fill, |c| {
        let [i, j, k] = nearest_index(c, size);
        src.raw(i, j, k)
    })?;
    Ok(Volume::new(data, target.geometry)?)
}

/// Resamples with the given kernel into `f32` (values rounded to single precision, as
/// `sitk.Resample` returns a float32 image).
pub fn resample<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    interpolation: Interpolation,
    fill: f32,
) -> Result<Volume<f32>> {
    interpolate(source, target, interpolation, fill, |v| v as f32)
}

/// Resamples with the given kernel, keeping the interpolated values in `f64` (what ITK
/// computes before casting to the output pixel type: cast them as your output type needs,
/// e.g. truncation toward zero for an integer image, as SimpleITK does).
pub fn resample_f64<T: Voxel + Copy>(
    source: &Volume<T>,
    target: &Grid,
    interpolation: Interpolation,
    fill: f64,
) -> Result<Volume<f64>> {
    interpolate(source, target, interpolation, fill, |v| v)
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
    fill_rows(
        target,
        &IndexMap::new(source, target),
        source.shape,
        false,
        |_| true,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rounds_half_up() {
        let s = [10, 10, 10];
        assert_eq!(nearest_index([-0.5, 0.5, 1.5], s), [0, 1, 2]);
        assert_eq!(nearest_index([0.499_999_999, 2.5, 2.499_999], s), [0, 3, 2]);
    }
}
