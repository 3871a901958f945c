//! Neighbouring grey tone difference matrix: PyRadiomics' 5 features.

use crate::discretize::{Discretized, Padded};
use crate::glcm::neighbourhood;
use crate::roi::Roi;
use crate::settings::Settings;

/// Coarseness, Contrast, Busyness, Complexity, Strength (sorted by name). Every ROI voxel of
/// grey level `i` counts in `n_i`; `s_i` sums `|i − mean of its neighbours|` (Chebyshev
/// `distances`, inside the ROI) over those with at least one neighbour — a voxel without
/// neighbours adds to `n_i` only, as PyRadiomics counts it (found with a resegmented,
/// fragmented ROI; the IBSI phantom's reference values are met either way).
pub fn features(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    features_in(disc, settings, &Padded::for_settings(roi, disc, settings))
}

/// [`features`] on a padded level box already built for the ROI.
pub(crate) fn features_in(
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<(&'static str, f64)> {
    let lv = &padded.lv;
    let offs = padded.steps(neighbourhood(
        &settings.distances,
        settings.fixed_axis(),
        padded.reach,
    ));
    let ngl = disc.ng as usize;
    let mut n = vec![0.0f64; ngl + 1];
    let mut s = vec![0.0f64; ngl + 1];
    for &a in &padded.voxels {
        // Whole-number sums (exact, as the f64 sums they replace); outside voxels are -1.
        let (mut sum, mut cnt) = (0i64, 0i64);
        for &o in &offs {
            let b = lv[a.wrapping_add_signed(o)];
            let inside = i64::from(b >= 0);
            sum += b * inside;
            cnt += inside;
        }
        // PyRadiomics counts a voxel without neighbours in n_i, adding nothing to s_i.
        let l = lv[a] as usize;
        n[l] += 1.0;
        if cnt > 0 {
            s[l] += (l as f64 - sum as f64 / cnt as f64).abs();
        }
    }
    // Keep grey levels with n > 0 (PyRadiomics drops the others).
    let lv: Vec<usize> = (0..=ngl).filter(|&l| n[l] > 0.0).collect();
    let nvp: f64 = lv.iter().map(|&l| n[l]).sum();
    let p: Vec<f64> = lv.iter().map(|&l| n[l] / nvp).collect();
    let si: Vec<f64> = lv.iter().map(|&l| s[l]).collect();
    let iv: Vec<f64> = lv.iter().map(|&l| l as f64).collect();
    let ngp = lv.len() as f64;
    let sum_s: f64 = si.iter().sum();
    let psum: f64 = p.iter().zip(&si).map(|(a, b)| a * b).sum();
    let coarseness = if psum != 0.0 { 1.0 / psum } else { 1e6 };
    let mut contrast_sum = 0.0;
    let mut absdiff = 0.0;
    let mut complexity = 0.0;
    let mut strength = 0.0;
    for a in 0..lv.len() {
        for b in 0..lv.len() {
            contrast_sum += p[a] * p[b] * (iv[a] - iv[b]).powi(2);
            absdiff += (iv[a] * p[a] - iv[b] * p[b]).abs();
            let div = p[a] + p[b];
            complexity += (iv[a] - iv[b]).abs() * (p[a] * si[a] + p[b] * si[b])
                / if div == 0.0 { 1.0 } else { div };
            strength += (p[a] + p[b]) * (iv[a] - iv[b]).powi(2);
        }
    }
    let div = ngp * (ngp - 1.0);
    let contrast = if div != 0.0 {
        contrast_sum * sum_s / nvp / div
    } else {
        0.0
    };
    let busyness = if absdiff != 0.0 { psum / absdiff } else { 0.0 };
    vec![
        ("Busyness", busyness),
        ("Coarseness", coarseness),
        ("Complexity", if nvp > 0.0 { complexity / nvp } else { 0.0 }),
        ("Contrast", contrast),
        (
            "Strength",
            if sum_s != 0.0 { strength / sum_s } else { 0.0 },
        ),
    ]
}
