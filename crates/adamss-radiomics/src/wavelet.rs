//! The undecimated (stationary) wavelet transform as PyRadiomics applies it: PyWavelets'
//! `swtn(level = 1)` with coif1 over the three axes, odd sizes padded by one voxel (wrap) and
//! trimmed back, sub-bands named `wavelet-XYZ` with X, Y, Z ∈ {L, H} for the x (i), y (j)
//! and z (k) axes.

use ndarray::{Array3, Axis};

/// PyWavelets' coif1 decomposition filters (low-pass, high-pass).
const COIF1_LO: [f64; 6] = [
    -0.015_655_728_135_791_993,
    -0.072_732_619_512_526_45,
    0.384_864_846_864_857_8,
    0.852_572_020_211_600_4,
    0.337_897_662_457_481_8,
    -0.072_732_619_512_526_45,
];
const COIF1_HI: [f64; 6] = [
    0.072_732_619_512_526_45,
    0.337_897_662_457_481_8,
    -0.852_572_020_211_600_4,
    0.384_864_846_864_857_8,
    0.072_732_619_512_526_45,
    -0.015_655_728_135_791_993,
];

/// One level-1 SWT filter pass along `axis`: `y[n] = Σ_j f[j] · x[(n + 3 − j) mod N]` over the
/// periodic extension (PyWavelets' alignment for a 6-tap filter), where N is the axis length
/// made even by repeating the first sample (PyRadiomics' wrap padding); the output keeps the
/// input's length.
fn filter_axis(x: &Array3<f64>, axis: usize, f: &[f64; 6]) -> Array3<f64> {
    let mut out = Array3::<f64>::zeros(x.dim());
    let n_in = x.len_of(Axis(axis));
    let n = n_in + n_in % 2;
    let taps = f.len();
    let shift = taps / 2;
    // ext[t] = periodic signal at index t − (taps − 1 − shift)... laid out so that
    // y[m] = Σ_j f[j] · ext[m + (taps − 1) − j], with ext[p] = x[(p + shift − (taps − 1)) mod n].
    let lead = taps - 1;
    let mut sig = vec![0.0f64; n];
    let mut ext = vec![0.0f64; n + lead];
    for (src, mut dst) in x
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        for (b, v) in sig.iter_mut().zip(src.iter()) {
            *b = *v;
        }
        if n > n_in {
            sig[n_in] = sig[0];
        }
        for (p, e) in ext.iter_mut().enumerate() {
            // p + shift − lead may be negative: add a multiple of n first.
            *e = sig[(p + shift + lead * n - lead) % n];
        }
        for (m, d) in dst.iter_mut().enumerate() {
            let w = &ext[m..m + taps];
            let mut s = 0.0;
            for j in 0..taps {
                s += f[j] * w[lead - j];
            }
            *d = s;
        }
    }
    out
}

/// The eight level-1 sub-bands of `image`, in PyRadiomics' order (`LLH`, `LHL`, `LHH`, `HLL`,
/// `HLH`, `HHL`, `HHH`, then the approximation `LLL`), each the size of the input.
///
/// The x pass (2 outputs) and the xy pass (4) are shared; the eight z passes run as parallel
/// rayon tasks.
pub fn swt3_coif1(image: &Array3<f64>) -> Vec<(String, Array3<f64>)> {
    use rayon::prelude::*;
    let filt = |c: char| if c == 'L' { &COIF1_LO } else { &COIF1_HI };
    let lh = ['L', 'H'];
    let x: Vec<Array3<f64>> = lh
        .par_iter()
        .map(|&c| filter_axis(image, 0, filt(c)))
        .collect();
    let xy: Vec<Array3<f64>> = (0..4)
        .into_par_iter()
        .map(|i| filter_axis(&x[i / 2], 1, filt(lh[i % 2])))
        .collect();
    // PyRadiomics yields the details first (LLH … HHH) and the approximation LLL last.
    let order: Vec<usize> = (1..8).chain(std::iter::once(0)).collect();
    order
        .into_par_iter()
        .map(|code| {
            let (cx, cy, cz) = (lh[code >> 2 & 1], lh[code >> 1 & 1], lh[code & 1]);
            let band = filter_axis(&xy[code >> 1], 2, filt(cz));
            (format!("wavelet-{cx}{cy}{cz}"), band)
        })
        .collect()
}
