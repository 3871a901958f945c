//! The Kaplan–Meier estimator with Greenwood variance and log-log confidence intervals.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::baseline::step_at;
use crate::surv::{at_risk_with_entry, check_entry, time_groups};
use crate::{ChiSquareTest, Error, Result, Surv};

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

    /// The curve with delayed entry (left truncation): subject `i` joins the risk set after
    /// its entry time, so it counts at the times `t` with `entry[i] < t ≤ time_i` — lifelines'
    /// `KaplanMeierFitter().fit(…, entry=e)` (also with `weights`: pass `Some(w)`), R's
    /// `survfit(Surv(entry, time, event) ~ 1)`. Each entry time must be finite, ≥ 0 and before
    /// the subject's own time. The timeline gains the entry times, as lifelines'; it starts
    /// at 0 even where no one enters then (lifelines' starts at the first entry: the extra
    /// row has `S = 1` and no one at risk); `at_risk` is the risk set at each time (at 0:
    /// those entering at 0), where lifelines' event table counts that time's entrants in its
    /// `at_risk` column too (its estimate does not).
    ///
    /// Where early risk sets are small the curve drops steeply and its intervals are wide: a
    /// risk set of one at an event time takes the curve to 0 (lifelines' and R's answer too).
    pub fn fit_with_entry(
        y: &[Surv],
        entry: &[f64],
        weights: Option<&[f64]>,
        confidence: f64,
    ) -> Result<Self> {
        check_confidence(y, confidence)?;
        if let Some(w) = weights {
            crate::cox::check_weights("weights", w, y.len())?;
        }
        check_entry(entry, y)?;
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let (order, groups) = time_groups(y);
        // The timeline: every observed time and every entry time, with 0 first.
        let mut timeline: Vec<f64> = std::iter::once(0.0)
            .chain(groups.iter().map(|&(a, _)| y[order[a]].time()))
            .chain(entry.iter().copied())
            .collect();
        timeline.sort_by(f64::total_cmp);
        timeline.dedup();
        let mut at_risk = at_risk_with_entry(y, entry, w, &timeline);
        at_risk[0] = (0..y.len()).filter(|&i| entry[i] == 0.0).map(w).sum();
        // Each time's events and censorings (none at a time only entries have).
        let mut events = vec![0.0; timeline.len()];
        let mut censored = vec![0.0; timeline.len()];
        for &(a, b) in &groups {
            let k = timeline.partition_point(|&t| t < y[order[a]].time());
            (events[k], censored[k]) = counts(y, &order[a..b], w);
        }
        Ok(Self::from_table(
            timeline, at_risk, events, censored, confidence,
        ))
    }

    fn fit_with(y: &[Surv], weights: Option<&[f64]>, confidence: f64) -> Result<Self> {
        check_confidence(y, confidence)?;
        let (order, groups) = time_groups(y);
        let w = |i: usize| weights.map_or(1.0, |w| w[i]);
        // Summed in time order from the latest, so an unweighted count is exact.
        let total: f64 = match weights {
            None => y.len() as f64,
            Some(ws) => ws.iter().sum(),
        };
        // At risk per time: the weight of the subjects from that time on.
        let mut at_risk = vec![0.0; groups.len()];
        let mut acc = 0.0;
        for (k, &(a, b)) in groups.iter().enumerate().rev() {
            acc += order[a..b].iter().map(|&i| w(i)).sum::<f64>();
            at_risk[k] = acc;
        }
        // The table on lifelines' timeline: 0 (everyone at risk; with the events at 0, if
        // any), then every distinct time.
        let (mut timeline, mut risk) = (vec![0.0], vec![total]);
        let (mut events, mut censored) = (vec![0.0], vec![0.0]);
        for (k, &(a, b)) in groups.iter().enumerate() {
            let (d, c) = counts(y, &order[a..b], w);
            let t = y[order[a]].time();
            if t == 0.0 {
                (events[0], censored[0]) = (d, c);
            } else {
                timeline.push(t);
                risk.push(at_risk[k]);
                events.push(d);
                censored.push(c);
            }
        }
        Ok(Self::from_table(
            timeline, risk, events, censored, confidence,
        ))
    }

    /// The curve of a table: at each time (ascending, from 0) the weight at risk, of events
    /// and of censorings; Kaplan–Meier's product, Greenwood's sum and the log-log bounds.
    fn from_table(
        timeline: Vec<f64>,
        at_risk: Vec<f64>,
        events: Vec<f64>,
        censored: Vec<f64>,
        confidence: f64,
    ) -> Self {
        let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
        let rows = timeline.len();
        let mut km = Self {
            survival: Vec::with_capacity(rows),
            greenwood: Vec::with_capacity(rows),
            lower: Vec::with_capacity(rows),
            upper: Vec::with_capacity(rows),
            timeline,
            at_risk,
            events,
            censored,
            confidence,
        };
        let (mut s, mut gw) = (1.0f64, 0.0f64);
        for (&n, &d) in km.at_risk.iter().zip(&km.events) {
            if d > 0.0 {
                s *= 1.0 - d / n;
                gw += if d < n {
                    d / (n * (n - d))
                } else {
                    f64::INFINITY
                };
            }
            let (lo, hi) = log_log_bounds(s, gw, z);
            km.survival.push(s);
            km.greenwood.push(gw);
            km.lower.push(lo);
            km.upper.push(hi);
        }
        km
    }

    /// `S(t)` at any time (a step function, right-continuous; 1 before the first time).
    pub fn predict(&self, t: f64) -> f64 {
        step_at(&self.timeline, &self.survival, t, 1.0)
    }

    /// The smallest time with `S(t) ≤ 0.5`, or infinity when the curve stays above one half
    /// (lifelines' `median_survival_time_`; [`KaplanMeier::percentile`]`(0.5)`, exact halves
    /// included).
    pub fn median(&self) -> f64 {
        self.percentile(0.5)
    }

    /// The confidence interval of [`KaplanMeier::median`] at the fit's level: the smallest
    /// times at which the lower and the upper pointwise bounds reach one half (infinity where a
    /// bound stays above it) — lifelines' `median_survival_times(kmf.confidence_interval_)`,
    /// the interval clinical papers quote beside a median survival.
    pub fn median_confidence_interval(&self) -> (f64, f64) {
        self.percentile_confidence_interval(0.5)
    }

    /// The smallest time with `S(t) ≤ p` — the time by which a share `1 − p` has had the
    /// event (`p = 0.75`: the first quartile of survival time) — or infinity when the curve
    /// stays above `p`: lifelines' `kmf.percentile(p)`. R's `quantile(fit, probs)` counts the
    /// other way: its `probs = 0.25` is this `p = 0.75`. NaN for `p` outside `[0, 1]`.
    ///
    /// A curve that lands exactly on `p` (375 of 500 left: 0.75) reaches it there, whatever
    /// the product's last bit: `S` within `1e-12` of `p` counts. lifelines compares the rounded
    /// product and may return the next time instead.
    pub fn percentile(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        first_at_or_below(&self.timeline, &self.survival, p + TIE)
    }

    /// The confidence interval of [`KaplanMeier::percentile`]: where the lower and the upper
    /// pointwise bounds reach `p` (lifelines' `qth_survival_times(p,
    /// kmf.confidence_interval_)`).
    pub fn percentile_confidence_interval(&self, p: f64) -> (f64, f64) {
        if !(0.0..=1.0).contains(&p) {
            return (f64::NAN, f64::NAN);
        }
        (
            first_at_or_below(&self.timeline, &self.lower, p),
            first_at_or_below(&self.timeline, &self.upper, p),
        )
    }

    /// The restricted mean survival time up to `tau` — the area under the curve from 0 to
    /// `tau`, the expected event-free time within the horizon — with its standard error:
    /// lifelines' `restricted_mean_survival_time(kmf, t=tau)` for the mean, R's
    /// `print(survfit(…), rmean = tau)` for both (`se(rmean)`: `Σ A_j² d_j / (n_j (n_j − d_j))`
    /// over the event times `t_j ≤ tau`, `A_j` the area from `t_j` to `tau`). Beyond the last
    /// time the curve stays at its last value. lifelines' `return_variance=True` is another
    /// quantity: the variance of the restricted event time `min(T, tau)` among patients, not
    /// the uncertainty of the mean. [`Error::InvalidParameter`] for `tau` not finite and > 0.
    pub fn restricted_mean(&self, tau: f64) -> Result<RestrictedMean> {
        if !(tau.is_finite() && tau > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "the restricted-mean horizon must be finite and > 0, got {tau}"
            )));
        }
        // Areas of the steps [t_k, t_{k+1}) cut at tau; S at t_k holds over its step.
        let n = self.timeline.len();
        let mut area = vec![0.0; n];
        for k in 0..n {
            let start = self.timeline[k];
            if start >= tau {
                break;
            }
            let end = self.timeline.get(k + 1).map_or(tau, |&t| t.min(tau));
            area[k] = (end - start.max(0.0)) * self.survival[k];
        }
        let mean: f64 = area.iter().sum();
        // The area after each event time t_j up to tau, summed from the horizon down.
        let (mut after, mut variance) = (0.0, 0.0);
        for k in (0..n).rev() {
            if self.timeline[k] > tau {
                continue;
            }
            after += area[k];
            let (d, r) = (self.events[k], self.at_risk[k]);
            if d > 0.0 && r > d {
                variance += after * after * d / (r * (r - d));
            }
        }
        Ok(RestrictedMean {
            tau,
            mean,
            std_err: variance.sqrt(),
        })
    }
}

impl KaplanMeier {
    /// Greenwood's sum at `t` (the step's, as [`KaplanMeier::predict`] reads `S`).
    fn greenwood_at(&self, t: f64) -> f64 {
        step_at(&self.timeline, &self.greenwood, t, 0.0)
    }

    /// Whether this curve's survival at `t` differs from `other`'s: Klein, Logan, Harhoff and
    /// Andersen's (2007) test on the `log(−log S)` scale, `(ln(−ln S_a) − ln(−ln S_b))² /
    /// (g_a / ln² S_a + g_b / ln² S_b)` with Greenwood's sums `g`, χ² with 1 degree of freedom —
    /// lifelines' `survival_difference_at_fixed_point_in_time_test(t, kmf_a, kmf_b)`, the test
    /// behind "2-year survival differed between the groups". lifelines interpolates Greenwood's
    /// sum linearly between observed times while `S` steps; here both step, so the two agree
    /// at observed times. [`Error::Undefined`] where either curve is 1 or 0 at `t`.
    pub fn survival_difference_at(&self, other: &KaplanMeier, t: f64) -> Result<ChiSquareTest> {
        if !t.is_finite() {
            return Err(Error::InvalidParameter(format!(
                "the time must be finite, got {t}"
            )));
        }
        let (sa, sb) = (self.predict(t), other.predict(t));
        if let Some(s) = [sa, sb].into_iter().find(|s| !(*s > 0.0 && *s < 1.0)) {
            return Err(Error::Undefined(format!(
                "survival at {t} is {s}: the log(-log) test needs both curves strictly between 0 \
                 and 1 there"
            )));
        }
        let clog = |s: f64| (-s.ln()).ln();
        let (la, lb) = (sa.ln(), sb.ln());
        let var = self.greenwood_at(t) / (la * la) + other.greenwood_at(t) / (lb * lb);
        let diff = clog(sa) - clog(sb);
        Ok(ChiSquareTest::new(diff * diff / var, 1))
    }
}

/// The restricted mean survival time of a Kaplan–Meier curve ([`KaplanMeier::restricted_mean`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RestrictedMean {
    /// The horizon.
    pub tau: f64,
    /// The area under the curve from 0 to `tau` (time units).
    pub mean: f64,
    /// Its standard error (R's `se(rmean)`).
    pub std_err: f64,
}

/// The weight of the events and of the censorings among `members` (subjects of one time).
fn counts(y: &[Surv], members: &[usize], w: impl Fn(usize) -> f64) -> (f64, f64) {
    let d: f64 = members
        .iter()
        .filter(|&&i| y[i].event())
        .map(|&i| w(i))
        .sum();
    (d, members.iter().map(|&i| w(i)).sum::<f64>() - d)
}

/// Data to fit and a confidence level in (0, 1).
fn check_confidence(y: &[Surv], confidence: f64) -> Result<()> {
    if y.is_empty() {
        return Err(Error::Empty);
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::InvalidParameter(format!(
            "confidence = {confidence} must be in (0, 1)"
        )));
    }
    Ok(())
}

/// How close a survival probability must come to a level to count as reaching it
/// ([`KaplanMeier::percentile`]): far below the spacing of `k / n` steps, far above the
/// product's rounding.
const TIE: f64 = 1e-12;

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
