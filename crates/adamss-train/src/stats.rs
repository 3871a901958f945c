//! Small statistics shared by training, the cross-validation and reports.

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_sd(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((m, sd))
}

/// Median (mean of the middle two for an even count; NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// 95 % percentile bootstrap interval of a mean over folds: each of `replicates` replicates
/// resamples every fold's rows with replacement (ChaCha8 seeded by `seed`), evaluates `stat` on
/// each resampled fold — folds where it is undefined are left out of that replicate's mean —
/// and averages. `None` when no replicate has a defined statistic.
pub fn fold_bootstrap<T: Copy>(
    folds: &[Vec<T>],
    replicates: usize,
    seed: u64,
    stat: impl Fn(&[T]) -> Option<f64>,
) -> Option<(f64, f64)> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut stats = Vec::with_capacity(replicates);
    for _ in 0..replicates {
        let mut sum = 0.0;
        let mut used = 0;
        for f in folds {
            let pick: Vec<T> = (0..f.len()).map(|_| f[rng.gen_range(0..f.len())]).collect();
            if let Some(v) = stat(&pick) {
                sum += v;
                used += 1;
            }
        }
        if used > 0 {
            stats.push(sum / used as f64);
        }
    }
    if stats.is_empty() {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    let q = |p: f64| stats[((stats.len() - 1) as f64 * p).round() as usize];
    Some((q(0.025), q(0.975)))
}
