//! The undecimated (stationary) wavelet transform as PyRadiomics applies it: PyWavelets'
//! level-1 `swtn` over the transformed axes (x, y, z; with `force2D` the two in-slice axes),
//! repeated on the approximation for each further `level` (PyRadiomics does not dilate the
//! filters) after `start_level` discarded ones, odd sizes padded by one voxel (wrap) once and
//! trimmed back; sub-bands named `wavelet-LLH`, `wavelet2-LLH`, …, one letter per transformed
//! axis in x, y, z order (L low-pass, H high-pass), the last approximation last.
//!
//! Each line is filtered as PyWavelets' C code does it (periodisation, `output[o] = Σ_j
//! f[j]·x[(o + F/2 − j) mod N]`), with its order of summation, in the precision of the data:
//! f64, or f32 with PyWavelets' single-precision filters for a float32 image.

use std::ops::{Add, Mul};

use ndarray::{Array3, Axis, Slice};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::wavelet_filters::{FILTERS, LEFT_OUT};

/// The precision a wavelet transform runs in: `f64`, or `f32` as PyWavelets filters a float32
/// array (single-precision products and sums, its single-precision filters).
pub trait SwtSample:
    Copy + Default + Add<Output = Self> + Mul<Output = Self> + Send + Sync + 'static
{
    /// The (low-pass, high-pass) decomposition filters of built-in wavelet `index`, in this
    /// precision.
    #[doc(hidden)]
    fn filters(index: usize) -> (&'static [Self], &'static [Self]);
    /// The value in f64 (exact).
    fn to_f64(self) -> f64;
}

impl SwtSample for f64 {
    fn filters(index: usize) -> (&'static [f64], &'static [f64]) {
        (FILTERS[index].lo, FILTERS[index].hi)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl SwtSample for f32 {
    fn filters(index: usize) -> (&'static [f32], &'static [f32]) {
        (FILTERS[index].lo32, FILTERS[index].hi32)
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// The number of taps of wavelet `name`'s filters.
pub fn wavelet_taps(name: &str) -> Result<usize> {
    wavelet_index(name).map(|i| FILTERS[i].lo.len())
}

/// How far, in voxels along an axis, an output of [`swt`] with `taps`-tap filters and
/// `passes` = `start_level + level` may read its input (a bound: each pass reads `taps / 2`
/// one way and `taps − 1 − taps / 2` the other): the margin a block cut from a larger image
/// needs for its inner outputs to equal the whole image's.
pub fn reach(taps: usize, passes: usize) -> usize {
    passes * taps
}

/// The names of the built-in wavelets (PyWavelets' discrete wavelets of at most 20 taps:
/// `haar`, `db1`–`db10`, `sym2`–`sym10`, `coif1`–`coif3`, `bior*`, `rbio*`).
pub fn wavelet_names() -> impl Iterator<Item = &'static str> {
    FILTERS.iter().map(|f| f.name)
}

/// The index of wavelet `name` among the built-in ones.
fn wavelet_index(name: &str) -> Result<usize> {
    if let Some(i) = FILTERS.iter().position(|f| f.name == name) {
        return Ok(i);
    }
    Err(Error::Settings(if LEFT_OUT.contains(&name) {
        format!(
            "wavelet {name:?}: PyWavelets' wavelets with filters longer than 20 taps are not \
             built in; use one of {}",
            wavelet_names().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "wavelet {name:?} is not a discrete wavelet of PyWavelets; use one of {}",
            wavelet_names().collect::<Vec<_>>().join(", ")
        )
    }))
}

/// The terms of a level-1 SWT line of `n` samples through a filter of `taps` taps, per output
/// sample: `(tap j, input sample)` pairs of `out[o] = Σ_j f[j]·x[(o + F/2 − j) mod N]`, listed
/// in PyWavelets' order of summation (`downsampling_convolution_periodization`, step 1): j
/// ascending, except near the right end, where the wrapped terms come first with j
/// descending; near the left end the terms past the first sample wrap to the end.
fn line_terms(n: usize, taps: usize) -> Vec<Vec<(usize, usize)>> {
    // The terms that wrap past the first sample to the end, from tap `j` on.
    let wrapped_tail = |terms: &mut Vec<(usize, usize)>, mut j: usize| {
        while j < taps {
            let mut k = 0;
            while k < n && j < taps {
                terms.push((j, n - 1 - k));
                k += 1;
                j += 1;
            }
        }
    };
    let mut plan = Vec::with_capacity(n);
    let mut i = taps / 2;
    // The start: the filter reaches past the first sample (wrapped to the end).
    while i < taps && i < n {
        let mut terms: Vec<(usize, usize)> = (0..=i).map(|j| (j, i - j)).collect();
        wrapped_tail(&mut terms, i + 1);
        plan.push(terms);
        i += 1;
    }
    while i < n {
        plan.push((0..taps).map(|j| (j, i - j)).collect());
        i += 1;
    }
    // The end: samples past the last one wrap to the start (both ends for a short line).
    while i < n + taps / 2 {
        let mut terms = Vec::new();
        let mut j = 0;
        while i - j >= n {
            let mut k = 0;
            while k < n && i - j >= n {
                terms.push((i - n - j, k));
                k += 1;
                j += 1;
            }
        }
        while j <= i && j < taps {
            terms.push((j, i - j));
            j += 1;
        }
        wrapped_tail(&mut terms, j);
        plan.push(terms);
        i += 1;
    }
    plan
}

/// One filter pass along `axis` (even length). The array is taken in standard (C) order as
/// `[outer, n, inner]` blocks: along the last axis each line's wrapped edge outputs are summed
/// term by term and its plain-convolution outputs as shifted slices; along the others whole
/// contiguous rows of `inner` samples are combined at once. Either way every output gets its
/// own terms in [`line_terms`]' order, so the sums are PyWavelets' line-by-line sums.
fn filter_axis<T: SwtSample>(x: &Array3<T>, axis: usize, f: &[T]) -> Array3<T> {
    let (d0, d1, d2) = x.dim();
    let shape = [d0, d1, d2];
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let taps = f.len();
    let plan = line_terms(n, taps);
    // The outputs whose terms are the plain convolution `(j, o + F/2 − j)`, j = 0, 1, …: along
    // a contiguous line they are summed as shifted slices, several outputs at once.
    let plain = |o: usize| {
        plan[o].len() == taps
            && (plan[o].iter().enumerate())
                .all(|(j, &t)| t.0 == j && Some(t.1) == (o + taps / 2).checked_sub(j))
    };
    let first_plain = (0..n).find(|&o| plain(o)).unwrap_or(n);
    let end_plain = (first_plain..n).find(|&o| !plain(o)).unwrap_or(n);
    let src: std::borrow::Cow<[T]> = match x.as_slice() {
        Some(s) => s.into(),
        None => x.iter().copied().collect::<Vec<T>>().into(),
    };
    let mut out = vec![T::default(); src.len()];
    if n > 0 && inner > 0 {
        for (s, d) in src
            .chunks_exact(n * inner)
            .zip(out.chunks_exact_mut(n * inner))
        {
            if inner == 1 {
                let edges = (0..first_plain).chain(end_plain..n);
                for o in edges {
                    let mut sum = T::default();
                    for &(j, k) in &plan[o] {
                        sum = sum + f[j] * s[k];
                    }
                    d[o] = sum;
                }
                // Each plain output's terms index the line, so `from` ≥ 0 when there is one.
                let len = end_plain - first_plain;
                let mid = &mut d[first_plain..end_plain];
                for (j, &c) in f.iter().enumerate().filter(|_| len > 0) {
                    let from = first_plain + taps / 2 - j;
                    for (r, v) in mid.iter_mut().zip(&s[from..from + len]) {
                        *r = *r + c * *v;
                    }
                }
                continue;
            }
            for (row, terms) in d.chunks_exact_mut(inner).zip(&plan) {
                for &(j, k) in terms {
                    let c = f[j];
                    for (r, v) in row.iter_mut().zip(&s[k * inner..(k + 1) * inner]) {
                        *r = *r + c * *v;
                    }
                }
            }
        }
    }
    // `out` holds exactly `d0 · d1 · d2` samples, so the shape always fits.
    Array3::from_shape_vec((d0, d1, d2), out).unwrap_or_default()
}

/// One level of `swtn` over `axes`: the `2^axes` sub-bands keyed `a`/`d` per axis, in
/// PyWavelets' order (`aaa`, `aad`, `ada`, …).
fn level_one<T: SwtSample>(
    data: Array3<T>,
    axes: &[usize],
    (lo, hi): (&[T], &[T]),
) -> Vec<(String, Array3<T>)> {
    let mut bands = vec![(String::new(), data)];
    for &axis in axes {
        bands = bands
            .into_par_iter()
            .flat_map_iter(|(key, x)| {
                let a = filter_axis(&x, axis, lo);
                let d = filter_axis(&x, axis, hi);
                [(format!("{key}a"), a), (format!("{key}d"), d)]
            })
            .collect();
    }
    bands
}

/// PyRadiomics' Wavelet image type on `image`: `wavelet` (a PyWavelets name), over `axes`
/// (0 x, 1 y, 2 z, in that order), `level` levels after `start_level` discarded ones. Returns
/// the detail sub-bands of each level then the last approximation, named as PyRadiomics names
/// them, each the size of the input.
pub fn swt<T: SwtSample>(
    image: &Array3<T>,
    wavelet: &str,
    axes: &[usize],
    level: usize,
    start_level: usize,
) -> Result<Vec<(String, Array3<T>)>> {
    let taps = T::filters(wavelet_index(wavelet)?);
    if level == 0 {
        return Err(Error::Settings("wavelet level must be ≥ 1".into()));
    }
    let shape = [image.dim().0, image.dim().1, image.dim().2];
    // Odd sizes: one more sample, the first (PyRadiomics' wrap padding), on every axis.
    let padded = shape.map(|n| n + n % 2);
    let data = Array3::from_shape_fn((padded[0], padded[1], padded[2]), |(i, j, k)| {
        image[[i % shape[0], j % shape[1], k % shape[2]]]
    });
    let trim = |x: Array3<T>| -> Array3<T> {
        let mut x = x;
        for (axis, &n) in shape.iter().enumerate() {
            x.slice_axis_inplace(Axis(axis), Slice::from(0..n));
        }
        x.as_standard_layout().into_owned()
    };
    let approx_key = "a".repeat(axes.len());
    let take_approx = |bands: Vec<(String, Array3<T>)>| {
        (bands.into_iter())
            .find(|(k, _)| *k == approx_key)
            .map(|(_, a)| a)
    };
    let mut data = Some(data);
    for _ in 0..start_level {
        data = take_approx(level_one(data.take().unwrap_or_default(), axes, taps));
    }
    let mut out = Vec::new();
    for idx in 1..=level {
        let bands = level_one(data.take().unwrap_or_default(), axes, taps);
        let prefix = if idx == 1 {
            "wavelet".to_string()
        } else {
            format!("wavelet{idx}")
        };
        for (key, band) in bands {
            if key == approx_key {
                data = Some(band);
            } else {
                let name = key.replace('a', "L").replace('d', "H");
                out.push((format!("{prefix}-{name}"), trim(band)));
            }
        }
    }
    let prefix = if level == 1 {
        "wavelet".to_string()
    } else {
        format!("wavelet{level}")
    };
    let approx = data.map(trim).unwrap_or_default();
    out.push((format!("{prefix}-{}", "L".repeat(axes.len())), approx));
    Ok(out)
}

/// The eight level-1 coif1 sub-bands of `image` over x, y and z, in PyRadiomics' order
/// (`LLH`, `LHL`, `LHH`, `HLL`, `HLH`, `HHL`, `HHH`, then the approximation `LLL`): PyRadiomics'
/// default Wavelet image type, in double precision.
pub fn swt3_coif1(image: &Array3<f64>) -> Vec<(String, Array3<f64>)> {
    swt(image, "coif1", &[0, 1, 2], 1, 0).unwrap_or_default()
}
