//! The log-rank test for two or more groups, and its weighted variants.

use ndarray::{Array1, Array2};
use ndarray_linalg::SolveC;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::surv::time_groups;
use crate::{Error, Result, Surv};

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogRank {
    /// The chi-square statistic.
    pub statistic: f64,
    /// Degrees of freedom (groups − 1).
    pub df: usize,
    /// `P(χ²_df ≥ statistic)`.
    pub p_value: f64,
    /// Observed events per group (groups in ascending label order).
    pub observed: Vec<f64>,
    /// Expected events per group under the null hypothesis.
    pub expected: Vec<f64>,
    /// The group labels, ascending.
    pub labels: Vec<usize>,
}

/// The weight each distinct time's observed-minus-expected events get in
/// [`logrank_weighted`]: lifelines' `weightings` (`n` the subjects at risk just before the
/// time, `d` its events, `S` the pooled Kaplan–Meier curve).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum LogRankWeights {
    /// 1: the log-rank test (lifelines' default; R's `survdiff`, rho = 0).
    #[default]
    LogRank,
    /// `n`: Gehan–Breslow's generalised Wilcoxon test (`"wilcoxon"`), weighting early times.
    Wilcoxon,
    /// `√n`: Tarone–Ware (`"tarone-ware"`).
    TaroneWare,
    /// Peto–Peto's modified survival estimate `Π (1 − d / (n + 1))` over the times up to and
    /// including this one, as lifelines computes it (`"peto"`).
    Peto,
    /// `S(t−)^p · (1 − S(t−))^q` with `S(t−)` the pooled curve just before the time
    /// (`"fleming-harrington"`; p = 1, q = 0 is R's `survdiff` with rho = 1). `p`, `q` ≥ 0.
    FlemingHarrington {
        /// Exponent of `S(t−)`: weight on early differences.
        p: f64,
        /// Exponent of `1 − S(t−)`: weight on late differences.
        q: f64,
    },
}

/// The log-rank test of equal hazards across the groups given by `group[i]` (any labels;
/// at least two distinct). Matches lifelines' `logrank_test` / `multivariate_logrank_test`
/// and R's `survdiff` (rho = 0).
pub fn logrank(y: &[Surv], group: &[usize]) -> Result<LogRank> {
    logrank_weighted(y, group, LogRankWeights::LogRank)
}

/// The weighted log-rank test ([`LogRankWeights`]): each distinct time's observed-minus-expected
/// events and their variance weighted by `w` and `w²`, as lifelines'
/// `logrank_test(…, weightings=…)` / `multivariate_logrank_test`. [`LogRank::observed`] and
/// [`LogRank::expected`] are the weighted sums (the plain counts with
/// [`LogRankWeights::LogRank`]).
pub fn logrank_weighted(y: &[Surv], group: &[usize], weights: LogRankWeights) -> Result<LogRank> {
    if let LogRankWeights::FlemingHarrington { p, q } = weights {
        if !(p >= 0.0 && q >= 0.0 && p.is_finite() && q.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "Fleming–Harrington exponents must be finite and ≥ 0, got p = {p}, q = {q}"
            )));
        }
    }
    if y.is_empty() {
        return Err(Error::Empty);
    }
    if group.len() != y.len() {
        return Err(Error::LengthMismatch {
            what: "group",
            got: group.len(),
            expected: y.len(),
        });
    }
    let mut labels: Vec<usize> = group.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let k = labels.len();
    if k < 2 {
        return Err(Error::InvalidParameter(
            "the log-rank test needs at least two groups".into(),
        ));
    }
    let gidx: Vec<usize> = group
        .iter()
        .map(|g| labels.partition_point(|l| l < g))
        .collect();
    let mut at_risk = vec![0.0f64; k];
    for &g in &gidx {
        at_risk[g] += 1.0;
    }
    let mut observed = vec![0.0; k];
    let mut expected = vec![0.0; k];
    let mut var = Array2::<f64>::zeros((k, k));
    let (order, groups) = time_groups(y);
    // The pooled Kaplan–Meier curve just before each time, and Peto–Peto's estimate.
    let (mut km, mut peto) = (1.0f64, 1.0f64);
    for &(a, b) in &groups {
        let members = &order[a..b];
        let n: f64 = at_risk.iter().sum();
        let mut d_g = vec![0.0; k];
        for &i in members.iter().filter(|&&i| y[i].event()) {
            d_g[gidx[i]] += 1.0;
        }
        let d: f64 = d_g.iter().sum();
        peto *= 1.0 - d / (n + 1.0);
        let w = match weights {
            LogRankWeights::LogRank => 1.0,
            LogRankWeights::Wilcoxon => n,
            LogRankWeights::TaroneWare => n.sqrt(),
            LogRankWeights::Peto => peto,
            LogRankWeights::FlemingHarrington { p, q } => km.powf(p) * (1.0 - km).powf(q),
        };
        km *= 1.0 - d / n;
        if d > 0.0 {
            for g in 0..k {
                observed[g] += w * d_g[g];
                expected[g] += w * d * at_risk[g] / n;
            }
            if n > 1.0 {
                let f = w * w * d * (n - d) / (n - 1.0);
                for g in 0..k {
                    for h in 0..k {
                        let delta = if g == h { 1.0 } else { 0.0 };
                        var[[g, h]] += f * at_risk[g] / n * (delta - at_risk[h] / n);
                    }
                }
            }
        }
        for &i in members {
            at_risk[gidx[i]] -= 1.0;
        }
    }
    let z = Array1::from_iter((0..k - 1).map(|g| observed[g] - expected[g]));
    let v = var.slice(ndarray::s![..k - 1, ..k - 1]).to_owned();
    let statistic = if k == 2 {
        if v[[0, 0]] <= 0.0 {
            return Err(Error::Undefined(
                "log-rank variance is zero (no informative event times, or all weights 0)".into(),
            ));
        }
        z[0] * z[0] / v[[0, 0]]
    } else {
        // Cholesky (the covariance is symmetric): OpenBLAS's threaded LU overflows a 2 MiB
        // thread stack from 128 groups.
        let w = v
            .solvec(&z)
            .map_err(|e| Error::Linalg(format!("log-rank covariance is singular: {e}")))?;
        z.dot(&w)
    };
    let df = k - 1;
    let chi = ChiSquared::new(df as f64).map_err(|e| Error::InvalidParameter(e.to_string()))?;
    Ok(LogRank {
        statistic,
        df,
        p_value: chi.sf(statistic),
        observed,
        expected,
        labels,
    })
}
