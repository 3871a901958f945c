//! The Kaplan–Meier estimator with Greenwood variance and log-log confidence intervals.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::surv::time_groups;
use crate::{Error, Result, Surv};

/// A fitted Kaplan–Meier curve, on lifelines' timeline: 0 and every distinct observed time
/// (event or censoring).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KaplanMeier {
    /// Time points, ascending, starting at 0.
    pub timeline: Vec<f64>,
    /// Subjects at risk just before each time (their total weight in a weighted fit).
    pub at_risk: Vec<f64>,
    /// Events at each time (their total weight in a weighted fit).
    pub events: Vec<f64>,
    /// Censorings at each time (their total weight in a weighted fit).
    pub censored: Vec<f64>,
    /// `S(t)`, right-continuous.
    pub survival: Vec<f64>,
    /// Greenwood's `Σ d / (n (n − d))` up to each time (`Var S = S² ·` this).
    pub greenwood: Vec<f64>,
    /// Lower confidence bound (log-log / "exponential Greenwood" transform).
    pub lower: Vec<f64>,
    /// Upper confidence bound.
    pub upper: Vec<f64>,
    /// Confidence level of the bounds, e.g. 0.95.
    pub confidence: f64,
}

impl KaplanMeier {
    /// Fits the curve; `confidence` in (0, 1), e.g. 0.95.
    ///
    /// Bounds as lifelines and scikit-survival (`conf_type="log-log"`) compute them:
    /// `exp(−exp(log(−log S) ∓ z·√greenwood / log S))`; where `S = 1` both bounds are 1, where
    /// `S = 0` both are 0.
    pub fn fit(y: &[Surv], confidence: f64) -> Result<Self> {
        Self::fit_with(y, None, confidence)
    }

    /// The curve of a weighted sample (lifelines' `KaplanMeierFitter().fit(…, weights=w)`):
    /// each subject counts `w_i` (finite, > 0) in the risk sets and events — e.g. inverse
    /// probability of treatment weights for an adjusted curve, or integer frequencies (equal
    /// to replicated rows). Greenwood's sum runs on the weighted counts; lifelines truncates the
    /// number at risk to an integer there (`astype("uint64")`), so with non-integer weights its
    /// intervals differ from these while its curve is the same.
    pub fn fit_weighted(y: &[Surv], weights: &[f64], confidence: f64) -> Result<Self> {
        crate::cox::check_weights("weights", weights, y.len())?;
        Self::fit_with(y, Some(weights), confidence)
    }

    fn fit_with(y: &[Surv], weights: Option<&[f64]>, confidence: f64) -> Result<Self> {
        if y.is_empty() {
            return Err(Error::Empty);
        }
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(Error::InvalidParameter(format!(
                "confidence = {confidence} must be in (0, 1)"
            )));
        }
        let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
        let (order, groups) = time_groups(y);
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        // Summed in time order from the latest, so an unweighted count is exact.
        let total: f64 = match weights {
            None => y.len() as f64,
            Some(ws) => ws.iter().sum(),
        };
        let mut km = Self {
            timeline: vec![0.0],
            at_risk: vec![total],
            events: vec![0.0],
            censored: vec![0.0],
            survival: vec![1.0],
            greenwood: vec![0.0],
            lower: vec![1.0],
            upper: vec![1.0],
            confidence,
        };
        // At risk per time: the weight of the subjects from that time on.
        let mut at_risk = vec![0.0; groups.len()];
        let mut acc = 0.0;
        for (k, &(a, b)) in groups.iter().enumerate().rev() {
            acc += order[a..b].iter().map(|&i| w(i)).sum::<f64>();
            at_risk[k] = acc;
        }
        let (mut s, mut gw) = (1.0f64, 0.0f64);
        for (k, &(a, b)) in groups.iter().enumerate() {
            let t = y[order[a]].time();
            let n = at_risk[k];
            let d: f64 = order[a..b]
                .iter()
                .filter(|&&i| y[i].event())
                .map(|&i| w(i))
                .sum();
            let c = order[a..b].iter().map(|&i| w(i)).sum::<f64>() - d;
            if d > 0.0 {
                s *= 1.0 - d / n;
                gw += if d < n {
                    d / (n * (n - d))
                } else {
                    f64::INFINITY
                };
            }
            let (lo, hi) = log_log_bounds(s, gw, z);
            if t == 0.0 {
                // Merge with the leading 0.
                let last = km.timeline.len() - 1;
                km.events[last] = d;
                km.censored[last] = c;
                km.survival[last] = s;
                km.greenwood[last] = gw;
                km.lower[last] = lo;
                km.upper[last] = hi;
            } else {
                km.timeline.push(t);
                km.at_risk.push(n);
                km.events.push(d);
                km.censored.push(c);
                km.survival.push(s);
                km.greenwood.push(gw);
                km.lower.push(lo);
                km.upper.push(hi);
            }
        }
        Ok(km)
    }

    /// `S(t)` at any time (a step function, right-continuous; 1 before the first time).
    pub fn predict(&self, t: f64) -> f64 {
        let k = self.timeline.partition_point(|&u| u <= t);
        if k == 0 {
            1.0
        } else {
            self.survival[k - 1]
        }
    }

    /// The smallest time with `S(t) ≤ 0.5`, or infinity when the curve stays above one half
    /// (lifelines' `median_survival_time_`).
    pub fn median(&self) -> f64 {
        first_at_or_below(&self.timeline, &self.survival, 0.5)
    }

    /// The confidence interval of [`KaplanMeier::median`] at the fit's level: the smallest
    /// times at which the lower and the upper pointwise bounds reach one half (infinity where a
    /// bound stays above it) — lifelines' `median_survival_times(kmf.confidence_interval_)`,
    /// the interval clinical papers quote beside a median survival.
    pub fn median_confidence_interval(&self) -> (f64, f64) {
        (
            first_at_or_below(&self.timeline, &self.lower, 0.5),
            first_at_or_below(&self.timeline, &self.upper, 0.5),
        )
    }
}

/// The first of `times` whose `values` entry is at most `level` (infinity if none).
fn first_at_or_below(times: &[f64], values: &[f64], level: f64) -> f64 {
    times
        .iter()
        .zip(values)
        .find(|(_, &v)| v <= level)
        .map_or(f64::INFINITY, |(&t, _)| t)
}

fn log_log_bounds(s: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if s >= 1.0 {
        return (1.0, 1.0);
    }
    if s <= 0.0 || !greenwood.is_finite() {
        return (0.0, 0.0);
    }
    let v = s.ln();
    let half = z * greenwood.sqrt() / v;
    // `half` is negative (log S < 0): adding it lowers log(−log S) and raises the bound.
    let lo = (-((-v).ln() - half).exp()).exp();
    let hi = (-((-v).ln() + half).exp()).exp();
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surv_from;

    #[test]
    fn textbook_curve() {
        // 6 subjects: events at 1, 3, 3; censored at 2, 4, 5.
        let y = surv_from(
            &[1.0, 2.0, 3.0, 3.0, 4.0, 5.0],
            &[true, false, true, true, false, false],
        )
        .unwrap();
        let km = KaplanMeier::fit(y.as_slice().unwrap(), 0.95).unwrap();
        assert_eq!(km.timeline, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(km.at_risk, [6.0, 6.0, 5.0, 4.0, 2.0, 1.0]);
        let s3 = 5.0 / 6.0 * (1.0 - 2.0 / 4.0);
        assert!((km.survival[3] - s3).abs() < 1e-15);
        assert_eq!(km.predict(3.5), km.survival[3]);
        assert_eq!(km.predict(-1.0), 1.0);
        assert_eq!(km.median(), 3.0);
        assert!(km.lower[3] < s3 && s3 < km.upper[3]);
    }
}
