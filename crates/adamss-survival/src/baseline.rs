//! Cumulative hazards: Nelson–Aalen, and Breslow's baseline hazard of a Cox model with
//! survival prediction.

use crate::surv::{at_risk_with_entry, check_entry, check_finite, time_groups};
use crate::{Error, Result, Surv};

/// A right-continuous step function `H(t)` on ascending `times` (0 before the first).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepFunction {
    /// Jump times, ascending: every distinct observed time.
    pub times: Vec<f64>,
    /// Value from each time on.
    pub values: Vec<f64>,
}

impl StepFunction {
    /// The value at `t`.
    pub fn at(&self, t: f64) -> f64 {
        step_at(&self.times, &self.values, t, 0.0)
    }
}

/// The value at `t` of the right-continuous step function taking `values[k]` from `times[k]`
/// (ascending) on, `before` before the first: the one lookup of every curve here (survival,
/// cumulative hazard, incidence).
pub(crate) fn step_at(times: &[f64], values: &[f64], t: f64, before: f64) -> f64 {
    match times.partition_point(|&u| u <= t) {
        0 => before,
        k => values[k - 1],
    }
}

/// The Nelson–Aalen cumulative hazard `Σ_{t_k ≤ t} d_k / n_k` (scikit-survival's
/// `nelson_aalen_estimator`; lifelines' `NelsonAalenFitter` smooths ties by default: see
/// [`NelsonAalen`], which also gives the variance and bounds).
pub fn nelson_aalen(y: &[Surv]) -> Result<StepFunction> {
    breslow_like(y, None, None, None)
}

/// How [`NelsonAalen`] counts `d` events tied at one time among `n` at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NelsonAalenTies {
    /// As if they came one after another: `Σ_{i<d} 1/(n − i)`, variance `Σ 1/(n − i)²` —
    /// lifelines' default (`nelson_aalen_smoothing=True`).
    #[default]
    Smooth,
    /// Together: `d / n`, variance `d (n − d) / n³` (Klein's) — lifelines'
    /// `nelson_aalen_smoothing=False`; the jumps of [`nelson_aalen`].
    Discrete,
}

/// The Nelson–Aalen cumulative hazard with its variance and confidence bounds, on lifelines'
/// timeline (0 and every distinct observed time): lifelines' `NelsonAalenFitter`
/// (`cumulative_hazard_`, `confidence_interval_`). [`nelson_aalen`] is the bare step
/// function scikit-survival returns.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NelsonAalen {
    /// Time points, ascending, starting at 0.
    pub timeline: Vec<f64>,
    /// Subjects at risk just before each time.
    pub at_risk: Vec<f64>,
    /// Events at each time.
    pub events: Vec<f64>,
    /// `H(t)`, right-continuous.
    pub cumulative_hazard: Vec<f64>,
    /// The variance of `H(t)`.
    pub variance: Vec<f64>,
    /// Lower bound, `H exp(−z √var / H)` (0 where `H = 0`).
    pub lower: Vec<f64>,
    /// Upper bound, `H exp(z √var / H)`.
    pub upper: Vec<f64>,
    /// How tied events were counted.
    pub ties: NelsonAalenTies,
    /// Confidence level of the bounds.
    pub confidence: f64,
}

impl NelsonAalen {
    /// Fits the cumulative hazard; `confidence` in (0, 1), e.g. 0.95.
    pub fn fit(y: &[Surv], ties: NelsonAalenTies, confidence: f64) -> Result<Self> {
        Self::from_table(crate::KaplanMeier::fit(y, confidence)?, ties)
    }

    /// The cumulative hazard with delayed entry (left truncation): subject `i` is at risk on
    /// `(entry[i], time_i]` — lifelines' `NelsonAalenFitter().fit(…, entry=e)`; the timeline
    /// and risk sets are [`crate::KaplanMeier::fit_with_entry`]'s.
    pub fn fit_with_entry(
        y: &[Surv],
        entry: &[f64],
        ties: NelsonAalenTies,
        confidence: f64,
    ) -> Result<Self> {
        Self::from_table(
            crate::KaplanMeier::fit_with_entry(y, entry, None, confidence)?,
            ties,
        )
    }

    /// The estimate from a Kaplan–Meier fit's table of times, risk sets and events.
    fn from_table(km: crate::KaplanMeier, ties: NelsonAalenTies) -> Result<Self> {
        use statrs::distribution::{ContinuousCDF, Normal};
        let confidence = km.confidence;
        let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
        let n = km.timeline.len();
        let (mut h, mut v) = (0.0, 0.0);
        let mut out = Self {
            cumulative_hazard: Vec::with_capacity(n),
            variance: Vec::with_capacity(n),
            lower: Vec::with_capacity(n),
            upper: Vec::with_capacity(n),
            timeline: km.timeline,
            at_risk: km.at_risk,
            events: km.events,
            ties,
            confidence,
        };
        for (&r, &d) in out.at_risk.iter().zip(&out.events) {
            match ties {
                NelsonAalenTies::Smooth => {
                    for i in 0..d as usize {
                        let m = r - i as f64;
                        h += 1.0 / m;
                        v += 1.0 / (m * m);
                    }
                }
                NelsonAalenTies::Discrete => {
                    h += d / r;
                    v += d * (r - d) / (r * r * r);
                }
            }
            let half = z * v.sqrt() / if h == 0.0 { 1.0 } else { h };
            out.cumulative_hazard.push(h);
            out.variance.push(v);
            out.lower.push(h * (-half).exp());
            out.upper.push(h * half.exp());
        }
        Ok(out)
    }

    /// `H(t)` at any time (a step function; 0 before the first time).
    pub fn predict(&self, t: f64) -> f64 {
        step_at(&self.timeline, &self.cumulative_hazard, t, 0.0)
    }
}

/// Breslow's estimate of the Cox baseline cumulative hazard for the linear predictor `eta`
/// (**uncentred**: the hazard of a subject with all covariates 0, as scikit-survival's
/// `cum_baseline_hazard_`): `H₀(t) = Σ_{t_k ≤ t} d_k / Σ_{j ∈ R_k} e^{η_j}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BreslowBaseline {
    /// `H₀` at every distinct observed time.
    pub cumulative_hazard: StepFunction,
    /// Mean of the training linear predictor (for the centred form).
    pub mean_eta: f64,
}

impl BreslowBaseline {
    /// Fits `H₀` from training data and the fitted model's linear predictor on them.
    pub fn fit(y: &[Surv], eta: &[f64]) -> Result<Self> {
        check_finite("linear predictor", eta, y.len())?;
        let mean_eta = eta.iter().sum::<f64>() / eta.len().max(1) as f64;
        Ok(Self {
            cumulative_hazard: breslow_like(y, Some(eta), None, None)?,
            mean_eta,
        })
    }

    /// [`BreslowBaseline::fit`] for a fit with case weights `w` ([`crate::CoxData::weights`]):
    /// `H₀(t) = Σ_{t_k ≤ t} Σ_{D_k} w_i / Σ_{j ∈ R_k} w_j e^{η_j}` (lifelines'
    /// `baseline_cumulative_hazard_` of a `weights_col` fit; its centring is still the plain
    /// mean of `η`, as lifelines centres by the covariates' unweighted means).
    pub fn fit_weighted(y: &[Surv], eta: &[f64], w: &[f64]) -> Result<Self> {
        check_finite("linear predictor", eta, y.len())?;
        crate::cox::check_weights("case weights", w, y.len())?;
        let mean_eta = eta.iter().sum::<f64>() / eta.len().max(1) as f64;
        Ok(Self {
            cumulative_hazard: breslow_like(y, Some(eta), Some(w), None)?,
            mean_eta,
        })
    }

    /// [`BreslowBaseline::fit`] for a fit with delayed-entry times ([`crate::CoxData::entry`]),
    /// and case weights if it had them: `H₀(t) = Σ_{t_k ≤ t} d_k / Σ_{entry_j < t_k ≤ time_j}
    /// w_j e^{η_j}` — the risk sets of the fit (lifelines' `CoxTimeVaryingFitter`
    /// `baseline_cumulative_hazard_`; its `CoxPHFitter` with `entry_col` keeps late entrants
    /// in the early risk sets here, a known limitation of lifelines). The centring is the
    /// plain mean of `η`.
    pub fn fit_with_entry(
        y: &[Surv],
        entry: &[f64],
        eta: &[f64],
        w: Option<&[f64]>,
    ) -> Result<Self> {
        check_finite("linear predictor", eta, y.len())?;
        if let Some(w) = w {
            crate::cox::check_weights("case weights", w, y.len())?;
        }
        check_entry(entry, y)?;
        let mean_eta = eta.iter().sum::<f64>() / eta.len().max(1) as f64;
        Ok(Self {
            cumulative_hazard: breslow_like(y, Some(eta), w, Some(entry))?,
            mean_eta,
        })
    }

    /// The **centred** baseline `H₀(t) · e^{mean η}`: the cumulative hazard of a subject with
    /// mean covariates (lifelines' `baseline_cumulative_hazard_`).
    pub fn centred(&self) -> StepFunction {
        let f = self.mean_eta.exp();
        StepFunction {
            times: self.cumulative_hazard.times.clone(),
            values: self
                .cumulative_hazard
                .values
                .iter()
                .map(|v| v * f)
                .collect(),
        }
    }

    /// `S(t | η) = exp(−H₀(t) e^η)`.
    pub fn survival(&self, eta: f64, t: f64) -> f64 {
        (-self.cumulative_hazard.at(t) * eta.exp()).exp()
    }

    /// `H(t | η) = H₀(t) e^η` (a time-dependent risk for [`crate::cumulative_dynamic_auc`]).
    pub fn cumulative_hazard(&self, eta: f64, t: f64) -> f64 {
        self.cumulative_hazard.at(t) * eta.exp()
    }

    /// The first observed time at which `S(t | η) ≤ p` — for `p = 0.5` the predicted median
    /// survival time of a patient with linear predictor `η` — or infinity when the predicted
    /// curve stays above `p` (lifelines' `predict_percentile(X, p)`, `predict_median(X)`).
    /// NaN for `p` outside `[0, 1]`. Compared on the cumulative hazard, `H₀(t) e^η ≥ −ln p`,
    /// so a patient's percentile moves monotonically with `η`.
    pub fn percentile(&self, eta: f64, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        let limit = -p.ln();
        let h = &self.cumulative_hazard;
        h.times
            .iter()
            .zip(&h.values)
            .find(|(_, &v)| v * eta.exp() >= limit)
            .map_or(f64::INFINITY, |(&t, _)| t)
    }

    /// [`BreslowBaseline::percentile`] at one half: the predicted median survival time.
    pub fn median(&self, eta: f64) -> f64 {
        self.percentile(eta, 0.5)
    }
}

/// `Σ d_k / Σ_{R_k} r_j` with `r = e^η` (or 1), over every distinct time; with case weights
/// `c`, `d_k` sums the events' weights and `r = c e^η`; with entry times the risk sets are
/// `entry < t_k ≤ time`.
fn breslow_like(
    y: &[Surv],
    eta: Option<&[f64]>,
    case_weights: Option<&[f64]>,
    entry: Option<&[f64]>,
) -> Result<StepFunction> {
    if y.is_empty() {
        return Err(Error::Empty);
    }
    let (order, groups) = time_groups(y);
    // Risk-set sums from the latest time back, relative to the largest η.
    let m = eta.map_or(0.0, |e| e.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let c = |i: usize| case_weights.map_or(1.0, |c| c[i]);
    let w = |i: usize| c(i) * eta.map_or(1.0, |e| (e[i] - m).exp());
    let times: Vec<f64> = groups.iter().map(|&(a, _)| y[order[a]].time()).collect();
    let at_risk = match entry {
        Some(entry) => at_risk_with_entry(y, entry, w, &times),
        None => {
            let mut at_risk = vec![0.0; groups.len()];
            let mut acc = 0.0;
            for (k, &(a, b)) in groups.iter().enumerate().rev() {
                acc += order[a..b].iter().map(|&i| w(i)).sum::<f64>();
                at_risk[k] = acc;
            }
            at_risk
        }
    };
    let mut h = 0.0;
    let mut values = Vec::with_capacity(groups.len());
    for (k, &(a, b)) in groups.iter().enumerate() {
        let d: f64 = order[a..b]
            .iter()
            .filter(|&&i| y[i].event())
            .map(|&i| c(i))
            .sum();
        if d > 0.0 {
            h += d / at_risk[k] * (-m).exp();
        }
        values.push(h);
    }
    Ok(StepFunction { times, values })
}

/// Two risk groups split at a threshold (e.g. the training-fold median of the risk), with a
/// Kaplan–Meier curve each and the log-rank test between them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stratification {
    /// The threshold: risk **above** it is "high".
    pub threshold: f64,
    /// `true` for high-risk subjects.
    pub high: Vec<bool>,
    /// Kaplan–Meier of the low-risk group.
    pub low_curve: crate::KaplanMeier,
    /// Kaplan–Meier of the high-risk group.
    pub high_curve: crate::KaplanMeier,
    /// Log-rank test between the groups.
    pub logrank: crate::LogRank,
}

/// Splits subjects by `risk > threshold` (**higher = worse**) and compares the groups.
pub fn stratify(y: &[Surv], risk: &[f64], threshold: f64) -> Result<Stratification> {
    check_finite("risk score", risk, y.len())?;
    if !threshold.is_finite() {
        return Err(Error::InvalidParameter(format!(
            "threshold {threshold} must be finite"
        )));
    }
    let high: Vec<bool> = risk.iter().map(|&r| r > threshold).collect();
    let pick = |want: bool| -> Vec<Surv> {
        y.iter()
            .zip(&high)
            .filter(|(_, &h)| h == want)
            .map(|(s, _)| *s)
            .collect()
    };
    let (lo, hi) = (pick(false), pick(true));
    if lo.is_empty() || hi.is_empty() {
        return Err(Error::Undefined(format!(
            "threshold {threshold} leaves one group empty"
        )));
    }
    let groups: Vec<usize> = high.iter().map(|&h| usize::from(h)).collect();
    Ok(Stratification {
        threshold,
        low_curve: crate::KaplanMeier::fit(&lo, 0.95)?,
        high_curve: crate::KaplanMeier::fit(&hi, 0.95)?,
        logrank: crate::logrank(y, &groups)?,
        high,
    })
}

/// The median of `values` (mean of the two middle values for even counts).
pub fn median(values: &[f64]) -> Result<f64> {
    check_finite("value", values, values.len())?;
    if values.is_empty() {
        return Err(Error::Empty);
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Ok(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}
