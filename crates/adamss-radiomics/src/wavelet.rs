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
pub fn swt3_coif1(image: &Array3<f64>) -> Vec<(String, Array3<f64>)> {
    let filt = |c: char| if c == 'L' { &COIF1_LO } else { &COIF1_HI };
    // x first, then y, then z, reusing the x and xy passes.
    let mut out = Vec::with_capacity(8);
    let mut order: Vec<String> = Vec::new();
    for x in ['L', 'H'] {
        for y in ['L', 'H'] {
            for z in ['L', 'H'] {
                order.push(format!("{x}{y}{z}"));
            }
        }
    }
    // PyRadiomics yields the details first and the approximation last.
    order.rotate_left(1);
    let mut cache_x: Vec<(char, Array3<f64>)> = Vec::new();
    let mut cache_xy: Vec<((char, char), Array3<f64>)> = Vec::new();
    for name in order {
        let c: Vec<char> = name.chars().collect();
        let ax = match cache_x.iter().find(|(k, _)| *k == c[0]) {
            Some((_, a)) => a.clone(),
            None => {
                let a = filter_axis(image, 0, filt(c[0]));
                cache_x.push((c[0], a.clone()));
                a
            }
        };
        let axy = match cache_xy.iter().find(|(k, _)| *k == (c[0], c[1])) {
            Some((_, a)) => a.clone(),
            None => {
                let a = filter_axis(&ax, 1, filt(c[1]));
                cache_xy.push(((c[0], c[1]), a.clone()));
                a
            }
        };
        out.push((format!("wavelet-{name}"), filter_axis(&axy, 2, filt(c[2]))));
    }
    out
}
