//! Grey-level co-occurrence matrix features: PyRadiomics' 24 default features, 3-D, per
//! direction then averaged over the non-empty directions (IBSI "3D, averaged"), or with
//! `weightingNorm` on one matrix merging the directions, weighted by offset length.

use ndarray::Array2;
use ndarray_linalg::{EigValsh, SVD, UPLO};

use crate::discretize::{Discretized, Padded};
use crate::roi::Roi;
use crate::settings::Settings;

/// Neighbour offsets `[dx, dy, dz]` for the given Chebyshev distances, one of each ± pair:
/// PyRadiomics' set and sign (first non-zero of `(dz, dy, dx)` positive). With `fixed`
/// (`force2D`, [`Settings::fixed_axis`]), only the offsets within the slices across that axis.
/// Only offsets that can join two voxels of a box reaching `reach` voxels along each axis
/// (its size − 1): a longer one pairs nothing, and a parameter file's `distances: [100000]`
/// must not enumerate 10¹⁵ candidates.
pub(crate) fn offsets(
    distances: &[usize],
    fixed: Option<usize>,
    reach: [usize; 3],
) -> Vec<[i64; 3]> {
    let dmax = *distances.iter().max().unwrap_or(&1);
    let [rx, ry, rz] = reach.map(|r| r.min(dmax) as i64);
    let mut out = Vec::new();
    for dz in (-rz..=rz).rev() {
        for dy in (-ry..=ry).rev() {
            for dx in (-rx..=rx).rev() {
                let norm = dx.abs().max(dy.abs()).max(dz.abs()) as usize;
                if norm == 0
                    || !distances.contains(&norm)
                    || fixed.is_some_and(|a| [dx, dy, dz][a] != 0)
                {
                    continue;
                }
                let first = if dz != 0 {
                    dz
                } else if dy != 0 {
                    dy
                } else {
                    dx
                };
                if first > 0 {
                    out.push([dx, dy, dz]);
                }
            }
        }
    }
    out
}

/// Every neighbour offset within the Chebyshev `distances`, both signs (the 26-neighbourhood
/// for distance 1): what GLDM and NGTDM look at around a voxel.
pub(crate) fn neighbourhood(
    distances: &[usize],
    fixed: Option<usize>,
    reach: [usize; 3],
) -> Vec<[i64; 3]> {
    offsets(distances, fixed, reach)
        .into_iter()
        .flat_map(|o| [o, [-o[0], -o[1], -o[2]]])
        .collect()
}

/// One normalised co-occurrence matrix per non-empty direction, over the grey levels present.
fn matrices(
    roi: &Roi,
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<Array2<f64>> {
    // Grey level → row of the compacted matrix (absent levels removed, as PyRadiomics).
    let row = disc.rows();
    let n = disc.grey_levels.len();
    let lv = &padded.lv;
    let mut out = Vec::new();
    // With `weightingNorm`, one matrix: the directions' (symmetrised) counts, weighted, summed.
    let mut merged = settings
        .weighting_norm
        .map(|norm| (norm, Array2::<f64>::zeros((n, n))));
    let mut counts = vec![0.0f64; n * n];
    for off in offsets(&settings.distances, settings.fixed_axis(), padded.reach) {
        let step = padded.offset(off);
        counts.fill(0.0);
        for &a in &padded.voxels {
            // Outside the ROI (or the box) the padded level is -1.
            let b = lv[a.wrapping_add_signed(step)];
            if b >= 0 {
                counts[row[lv[a] as usize] * n + row[b as usize]] += 1.0;
            }
        }
        let mut p = Array2::from_shape_fn((n, n), |(r, c)| counts[r * n + c]);
        if settings.symmetrical_glcm {
            p = &p + &p.t();
        }
        if let Some((norm, m)) = merged.as_mut() {
            m.scaled_add(norm.glcm_weight(off, roi.spacing), &p);
            continue;
        }
        let s = p.sum();
        if s > 0.0 {
            out.push(p / s);
        }
    }
    if let Some((_, m)) = merged {
        let s = m.sum();
        if s > 0.0 {
            out.push(m / s);
        }
    }
    out
}

/// The 24 GLCM features (PyRadiomics names, sorted), averaged over directions.
pub fn features(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    features_in(
        roi,
        disc,
        settings,
        &Padded::for_settings(roi, disc, settings),
    )
}

/// [`features`] on a padded level box already built for `roi`.
pub(crate) fn features_in(
    roi: &Roi,
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<(&'static str, f64)> {
    let ps = matrices(roi, disc, settings, padded);
    let ng = disc.ng as f64;
    let g: Vec<f64> = disc.grey_levels.iter().map(|&v| f64::from(v)).collect();
    let n = g.len();
    let eps = f64::EPSILON;
    let ngu = disc.ng as usize;
    // PyRadiomics' names, sorted: the order `acc` is filled in.
    let names = crate::extract::FeatureClass::Glcm.feature_names();
    let mut acc = [0.0f64; 24];
    for p in &ps {
        let px: Vec<f64> = (0..n).map(|i| p.row(i).sum()).collect();
        let py: Vec<f64> = (0..n).map(|j| p.column(j).sum()).collect();
        let mut ux = 0.0;
        let mut uy = 0.0;
        for i in 0..n {
            for j in 0..n {
                ux += g[i] * p[[i, j]];
                uy += g[j] * p[[i, j]];
            }
        }
        // p_{x+y}(k), k = 2..2Ng, and p_{x−y}(k), k = 0..Ng−1, indexed by grey-level values.
        let mut padd = vec![0.0; 2 * ngu + 1];
        let mut psub = vec![0.0; ngu.max(1)];
        let (mut ac, mut cp, mut cs, mut ct, mut cont) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut sx2, mut sy2, mut cov, mut ene, mut hxy, mut hxy1, mut hxy2) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let mut maxp = 0.0f64;
        let mut ss = 0.0;
        for i in 0..n {
            for j in 0..n {
                let v = p[[i, j]];
                let (gi, gj) = (g[i], g[j]);
                padd[(gi + gj) as usize] += v;
                psub[(gi - gj).abs() as usize] += v;
                ac += v * gi * gj;
                let s = gi + gj - ux - uy;
                cp += v * s.powi(4);
                cs += v * s.powi(3);
                ct += v * s * s;
                cont += v * (gi - gj).powi(2);
                sx2 += v * (gi - ux).powi(2);
                sy2 += v * (gj - uy).powi(2);
                cov += v * (gi - ux) * (gj - uy);
                ene += v * v;
                hxy -= v * (v + eps).log2();
                hxy1 -= v * (px[i] * py[j] + eps).log2();
                hxy2 -= px[i] * py[j] * (px[i] * py[j] + eps).log2();
                maxp = maxp.max(v);
                ss += v * (gi - ux).powi(2);
            }
        }
        let (sigx, sigy) = (sx2.sqrt(), sy2.sqrt());
        let corr = if sigx * sigy == 0.0 {
            1.0
        } else {
            cov / (sigx * sigy + eps)
        };
        let diff_avg: f64 = psub.iter().enumerate().map(|(k, v)| k as f64 * v).sum();
        let diff_ent = -psub.iter().map(|v| v * (v + eps).log2()).sum::<f64>();
        let diff_var: f64 = psub
            .iter()
            .enumerate()
            .map(|(k, v)| v * (k as f64 - diff_avg).powi(2))
            .sum();
        let id: f64 = psub
            .iter()
            .enumerate()
            .map(|(k, v)| v / (1.0 + k as f64))
            .sum();
        let idm: f64 = psub
            .iter()
            .enumerate()
            .map(|(k, v)| v / (1.0 + (k as f64).powi(2)))
            .sum();
        let idmn: f64 = psub
            .iter()
            .enumerate()
            .map(|(k, v)| v / (1.0 + (k as f64).powi(2) / (ng * ng)))
            .sum();
        let idn: f64 = psub
            .iter()
            .enumerate()
            .map(|(k, v)| v / (1.0 + k as f64 / ng))
            .sum();
        let inv_var: f64 = psub
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, v)| v / (k as f64).powi(2))
            .sum();
        let hx = -px.iter().map(|v| v * (v + eps).log2()).sum::<f64>();
        let hy = -py.iter().map(|v| v * (v + eps).log2()).sum::<f64>();
        let div = hx.max(hy);
        let imc1 = if div != 0.0 { (hxy - hxy1) / div } else { 0.0 };
        let imc2 = if hxy2 == hxy {
            0.0
        } else {
            (1.0 - (-2.0 * (hxy2 - hxy)).exp()).sqrt()
        };
        let sum_avg: f64 = padd.iter().enumerate().map(|(k, v)| k as f64 * v).sum();
        let sum_ent = -padd.iter().map(|v| v * (v + eps).log2()).sum::<f64>();
        let mcc = mcc(p, &px, &py);
        let vals = [
            ac, cp, cs, ct, cont, corr, diff_avg, diff_ent, diff_var, id, idm, idmn, idn, imc1,
            imc2, inv_var, ux, ene, hxy, mcc, maxp, sum_avg, sum_ent, ss,
        ];
        for (a, v) in acc.iter_mut().zip(vals) {
            *a += v;
        }
    }
    let m = ps.len().max(1) as f64;
    names
        .iter()
        .copied()
        .zip(acc)
        .map(|(name, v)| (name, if ps.is_empty() { f64::NAN } else { v / m }))
        .collect()
}

/// Maximal correlation coefficient (Haralick): √ of the second largest eigenvalue of
/// `Q(i, j) = Σ_k p(i, k) p(j, k) / (p_x(i) p_y(k))`, 1 for a single grey level.
///
/// `Q = D⁻¹ᐟ² B Bᵀ D¹ᐟ²` with `B(i, k) = p(i, k) / √(p_x(i) p_y(k))` and `D = diag(p_x)`, so its
/// eigenvalues are the squared singular values of `B` and the MCC is `B`'s second largest
/// singular value. PyRadiomics forms `Q` itself (an O(Ng³) sum, with `ε` added to each
/// denominator) and runs a non-symmetric eigensolver on it; this takes the singular values of
/// `B` instead, several times less work at the 50–150 grey levels of wavelet sub-bands. The two
/// differ only through PyRadiomics' `ε` (≤ 2.6e-9 relative on the cohort checked with
/// `tools/mcc_check.py`).
///
/// For a symmetric GLCM (PyRadiomics' default) `B` is symmetric in exact arithmetic, but `p_x`
/// (row sums) and `p_y` (column sums) are added in different orders, so it is symmetric to the
/// bit in general only below 8 grey levels; there the singular values are the absolute
/// eigenvalues of a symmetric eigensolve. An SVD is used otherwise: LAPACK's symmetric
/// eigensolver was slower on these sizes (GLCM of 86 grey levels, `cargo bench --bench radiomics
/// -- glcm_ct_bin_width_2`: 17.4 ms with it for every symmetric matrix, 11.3 ms as here).
fn mcc(p: &Array2<f64>, px: &[f64], py: &[f64]) -> f64 {
    let n = px.len();
    if n < 2 {
        return 1.0;
    }
    let b = Array2::from_shape_fn((n, n), |(i, k)| {
        let d = (px[i] * py[k]).sqrt();
        if d > 0.0 {
            p[[i, k]] / d
        } else {
            0.0
        }
    });
    let mut sigma: Vec<f64> = if b == b.t() {
        match b.eigvalsh(UPLO::Lower) {
            Ok(ev) => ev.iter().map(|v| v.abs()).collect(),
            Err(_) => return f64::NAN,
        }
    } else {
        match b.svd(false, false) {
            Ok((_, s, _)) => s.to_vec(),
            Err(_) => return f64::NAN,
        }
    };
    sigma.sort_by(|a, b| b.total_cmp(a));
    sigma[1]
}
