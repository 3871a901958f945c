//! Competing risks: the cumulative incidence of one cause when others preclude it (the
//! Aalen–Johansen estimator) — locoregional failure when death comes first for some patients.
//! One minus the Kaplan–Meier curve of a cause, censoring the others, overstates its
//! incidence; this does not.
//!
//! ```
//! use adamss_survival::CumulativeIncidence;
//!
//! // Times, and causes: 0 censored, 1 failure, 2 death without failure.
//! let t = [2.0, 3.0, 4.0, 5.0, 7.0, 8.0];
//! let cause = [1, 2, 0, 1, 2, 0];
//! let cif = CumulativeIncidence::fit(&t, &cause, 1, 0.95)?;
//! assert!((cif.predict(5.0) - (1.0 / 6.0 + (4.0 / 6.0) * (1.0 / 3.0))).abs() < 1e-12);
//! # Ok::<(), adamss_survival::Error>(())
//! ```

use statrs::distribution::{ContinuousCDF, Normal};

use crate::{surv_from, Error, KaplanMeier, Result};

/// The cumulative incidence of one cause ([`CumulativeIncidence::fit`]), on lifelines'
/// timeline: 0 and every distinct observed time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CumulativeIncidence {
    /// The cause whose incidence this is.
    pub cause: u32,
    /// Time points, ascending, starting at 0.
    pub timeline: Vec<f64>,
    /// Subjects at risk just before each time.
    pub at_risk: Vec<f64>,
    /// Events of any cause at each time.
    pub events: Vec<f64>,
    /// Events of this cause at each time.
    pub cause_events: Vec<f64>,
    /// `F(t)`, the probability of an event of this cause by `t`, right-continuous.
    pub incidence: Vec<f64>,
    /// The variance of `F(t)` (the delta-method Greenwood form of Collett, SAS's `PROC
    /// LIFETEST`, lifelines); NaN after a time at which every subject at risk had an event.
    pub variance: Vec<f64>,
    /// Lower confidence bound (log(−log) transform; `F = 0`: both bounds 0).
    pub lower: Vec<f64>,
    /// Upper confidence bound.
    pub upper: Vec<f64>,
    /// Confidence level of the bounds.
    pub confidence: f64,
}

impl CumulativeIncidence {
    /// Fits the incidence of `cause` (≥ 1) from each subject's time and cause (`0` censored,
    /// any other value an event of that cause): `F(t) = Σ_{t_j ≤ t} S(t_{j−1}) d_j / n_j`, `S`
    /// the Kaplan–Meier curve of any event, `d_j` the events of `cause` at `t_j` —
    /// lifelines' `AalenJohansenFitter(calculate_variance=True).fit(t, causes,
    /// event_of_interest=cause)`, without its random jitter of times shared by events of
    /// different causes (the estimator needs none). `confidence` in (0, 1), e.g. 0.95.
    pub fn fit(times: &[f64], causes: &[u32], cause: u32, confidence: f64) -> Result<Self> {
        if times.len() != causes.len() {
            return Err(Error::LengthMismatch {
                what: "causes",
                got: causes.len(),
                expected: times.len(),
            });
        }
        if cause == 0 {
            return Err(Error::InvalidParameter(
                "cause 0 means censored: the cause of interest must be 1 or more".into(),
            ));
        }
        let any: Vec<bool> = causes.iter().map(|&c| c != 0).collect();
        let y = surv_from(times, &any)?;
        let km = KaplanMeier::fit(y.as_slice().unwrap_or(&[]), confidence)?;
        let n = km.timeline.len();
        let mut cause_events = vec![0.0; n];
        for (&t, &c) in times.iter().zip(causes) {
            if c == cause {
                // Every time is on the timeline (0 merges with its first point).
                let k = km.timeline.partition_point(|&u| u < t).min(n - 1);
                cause_events[k] += 1.0;
            }
        }
        let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
        let mut incidence = Vec::with_capacity(n);
        let mut variance = Vec::with_capacity(n);
        let (mut lower, mut upper) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut f = 0.0;
        // Σ a_i (F − F_i)² + Σ b_i − 2 Σ c_i (F − F_i), kept as sums of a, a F_i, a F_i², b,
        // c and c F_i (lifelines' accumulators).
        let (mut a0, mut a1, mut a2, mut b, mut c0, mut c1) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for j in 0..n {
            let lag_s = if j == 0 { 1.0 } else { km.survival[j - 1] };
            let (r, d, dk) = (km.at_risk[j], km.events[j], cause_events[j]);
            f += lag_s * dk / r;
            let a = d / r / (r - d);
            a0 += a;
            a1 += a * f;
            a2 += a * f * f;
            b += lag_s * lag_s * dk * (r - dk) / (r * r * r);
            let ci = lag_s * dk / (r * r);
            c0 += ci;
            c1 += ci * f;
            let var = (f * f * a0 - 2.0 * f * a1 + a2) + b - 2.0 * (f * c0 - c1);
            let (lo, hi) = if f > 0.0 && f < 1.0 {
                let l = (-f.ln()).ln();
                let se = var.sqrt() / (f * f.ln().abs());
                let x = (-(l + z * se).exp()).exp();
                let y = (-(l - z * se).exp()).exp();
                (x.min(y), x.max(y))
            } else {
                (f, f)
            };
            incidence.push(f);
            variance.push(var);
            lower.push(lo);
            upper.push(hi);
        }
        Ok(Self {
            cause,
            timeline: km.timeline,
            at_risk: km.at_risk,
            events: km.events,
            cause_events,
            incidence,
            variance,
            lower,
            upper,
            confidence,
        })
    }

    /// `F(t)` at any time (a step function; 0 before the first event of the cause).
    pub fn predict(&self, t: f64) -> f64 {
        crate::baseline::step_at(&self.timeline, &self.incidence, t, 0.0)
    }
}
