//! First-order statistics: PyRadiomics' 18 default features.

use crate::discretize::Discretized;
use crate::roi::Roi;
use crate::settings::Settings;

/// `numpy.percentile(sorted, q)` with linear interpolation (numpy's own lerp form).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let pos = q / 100.0 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn central_moment(v: &[f64], m: f64, k: i32) -> f64 {
    v.iter().map(|x| (x - m).powi(k)).sum::<f64>() / v.len() as f64
}

/// The 18 first-order features, in PyRadiomics' names (without the `original_firstorder_`
/// prefix), sorted by name.
pub fn features(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    let values = roi.values();
    let n = values.len() as f64;
    // Radix-sorted in f64's total order (as `total_cmp`; the values are finite).
    let mut sorted = values.clone();
    radsort::sort(&mut sorted);
    let shift = settings.voxel_array_shift;
    let energy: f64 = values.iter().map(|x| (x + shift).powi(2)).sum();
    let voxel_volume: f64 = roi.spacing.iter().product();
    // Discretised histogram: counts of the grey levels present.
    let mut counts = vec![0usize; disc.ng as usize + 1];
    for (&l, &m) in disc.levels.iter().zip(&roi.mask) {
        if m {
            counts[l as usize] += 1;
        }
    }
    let p: Vec<f64> = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n)
        .collect();
    let eps = f64::EPSILON;
    let entropy = -p.iter().map(|pi| pi * (pi + eps).log2()).sum::<f64>();
    let uniformity = p.iter().map(|pi| pi * pi).sum::<f64>();
    let mu = mean(&values);
    let m2 = central_moment(&values, mu, 2);
    let m3 = central_moment(&values, mu, 3);
    let m4 = central_moment(&values, mu, 4);
    let (skewness, kurtosis) = if m2 == 0.0 {
        (0.0, 0.0)
    } else {
        (m3 / m2.powf(1.5), m4 / (m2 * m2))
    };
    let p10 = percentile(&sorted, 10.0);
    let p90 = percentile(&sorted, 90.0);
    let robust: Vec<f64> = values
        .iter()
        .copied()
        .filter(|&x| x >= p10 && x <= p90)
        .collect();
    let robust_mean = mean(&robust);
    let rmad = robust.iter().map(|x| (x - robust_mean).abs()).sum::<f64>() / robust.len() as f64;
    let min = sorted[0];
    let max = sorted[sorted.len() - 1];
    vec![
        ("10Percentile", p10),
        ("90Percentile", p90),
        ("Energy", energy),
        ("Entropy", entropy),
        (
            "InterquartileRange",
            percentile(&sorted, 75.0) - percentile(&sorted, 25.0),
        ),
        ("Kurtosis", kurtosis),
        ("Maximum", max),
        ("Mean", mu),
        (
            "MeanAbsoluteDeviation",
            values.iter().map(|x| (x - mu).abs()).sum::<f64>() / n,
        ),
        ("Median", percentile(&sorted, 50.0)),
        ("Minimum", min),
        ("Range", max - min),
        ("RobustMeanAbsoluteDeviation", rmad),
        ("RootMeanSquared", (energy / n).sqrt()),
        ("Skewness", skewness),
        ("TotalEnergy", energy * voxel_volume),
        ("Uniformity", uniformity),
        ("Variance", m2),
    ]
}
