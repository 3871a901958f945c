//! Inverse-probability-of-censoring-weighted metrics: Uno's C, cumulative/dynamic AUC,
//! Brier score and integrated Brier score, with scikit-survival's conventions.

use ndarray::{ArrayView1, ArrayView2};

use crate::cindex::{concordance, Concordance};
use crate::surv::{check_finite, time_groups};
use crate::{Error, Result, Surv};

/// Kaplan–Meier of the censoring distribution `G(t) = P(C > t)` (censorings tied with events
/// happen after them), as scikit-survival's `CensoringDistributionEstimator`.
#[derive(Debug, Clone)]
pub(crate) struct CensoringKm {
    /// Unique times, with −∞ first.
    times: Vec<f64>,
    /// `G` at each time, 1 first.
    prob: Vec<f64>,
}

impl CensoringKm {
    pub fn fit(y: &[Surv]) -> Result<Self> {
        if y.is_empty() {
            return Err(Error::Empty);
        }
        let (order, groups) = time_groups(y);
        let mut times = vec![f64::NEG_INFINITY];
        let mut prob = vec![1.0];
        let all_events = y.iter().all(|s| s.event());
        let (mut n, mut g) = (y.len(), 1.0);
        for &(a, b) in &groups {
            let d = order[a..b].iter().filter(|&&i| y[i].event()).count();
            let c = (b - a) - d;
            if c > 0 && !all_events {
                g *= 1.0 - c as f64 / (n - d) as f64;
            }
            times.push(y[order[a]].time());
            prob.push(g);
            n -= b - a;
        }
        Ok(Self { times, prob })
    }

    /// `G(t)`, right-continuous; an error past the last time unless `G` reached 0 there.
    pub fn predict(&self, t: f64) -> Result<f64> {
        let last = *self.times.last().unwrap_or(&f64::NEG_INFINITY);
        if t > last {
            if *self.prob.last().unwrap_or(&0.0) > 0.0 {
                return Err(Error::InvalidParameter(format!(
                    "time {t} lies beyond the largest observed time {last} of the training data"
                )));
            }
            return Ok(0.0);
        }
        let k = self.times.partition_point(|&u| u <= t);
        Ok(self.prob[k.saturating_sub(1)])
    }

    /// `1 / G(t_i)` for events, 0 for censored subjects.
    pub fn ipcw(&self, y: &[Surv]) -> Result<Vec<f64>> {
        y.iter()
            .map(|s| {
                if !s.event() {
                    return Ok(0.0);
                }
                let g = self.predict(s.time())?;
                if g == 0.0 {
                    Err(Error::Undefined(format!(
                        "censoring survival is zero at time {}: IPCW undefined",
                        s.time()
                    )))
                } else {
                    Ok(1.0 / g)
                }
            })
            .collect()
    }
}

/// Uno's IPCW concordance of `risk` (**higher = worse**) on `test`, with the censoring
/// distribution estimated on `train` (scikit-survival's `concordance_index_ipcw`). With
/// `tau`, only events before `tau` count; choose `tau` where censoring survival is still
/// positive. Pair counts are unweighted; `c_index` is weighted by `1/G(t_i)²`.
pub fn uno_c(
    train: &[Surv],
    test: &[Surv],
    risk: &[f64],
    tau: Option<f64>,
    tied_tol: f64,
) -> Result<Concordance> {
    check_finite("risk score", risk, test.len())?;
    let cens = CensoringKm::fit(train)?;
    let mut w = Vec::with_capacity(test.len());
    for s in test {
        let keep = tau.is_none_or(|tau| s.time() < tau);
        let ipcw = if keep {
            cens.ipcw(std::slice::from_ref(s))?[0]
        } else {
            0.0
        };
        w.push(ipcw * ipcw);
    }
    concordance(test, risk, tied_tol, Some(&w))
}

/// Checks evaluation times: strictly increasing, each within `[min test time, max test time)`.
fn check_times(test: &[Surv], times: &[f64]) -> Result<Vec<f64>> {
    if test.is_empty() {
        return Err(Error::Empty);
    }
    check_finite("evaluation time", times, times.len())?;
    if times.is_empty() {
        return Err(Error::InvalidParameter("no evaluation times".into()));
    }
    if times.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::InvalidParameter(
            "evaluation times must be strictly increasing".into(),
        ));
    }
    let lo = test.iter().map(Surv::time).fold(f64::INFINITY, f64::min);
    let hi = test
        .iter()
        .map(Surv::time)
        .fold(f64::NEG_INFINITY, f64::max);
    if times[0] < lo || times[times.len() - 1] >= hi {
        return Err(Error::InvalidParameter(format!(
            "all times must be within the follow-up of the test data: [{lo}; {hi}["
        )));
    }
    Ok(times.to_vec())
}

/// Cumulative/dynamic AUC at each time (scikit-survival's `cumulative_dynamic_auc`):
/// cases are events up to `t` (weighted by IPCW), controls are subjects still event-free after
/// `t`. `risk` is `n × 1` (one score per subject) or `n × times` (time-dependent, e.g. the
/// cumulative hazard at each time); **higher = worse**. Returns the AUCs at the (strictly increasing)
/// times and their mean weighted by the Kaplan–Meier drop of `test`.
pub fn cumulative_dynamic_auc(
    train: &[Surv],
    test: &[Surv],
    risk: ArrayView2<f64>,
    times: &[f64],
    tied_tol: f64,
) -> Result<(Vec<f64>, f64)> {
    let times = check_times(test, times)?;
    let n = test.len();
    if risk.nrows() != n || (risk.ncols() != 1 && risk.ncols() != times.len()) {
        return Err(Error::LengthMismatch {
            what: "risk matrix",
            got: risk.len(),
            expected: n * times.len(),
        });
    }
    if let Some((index, &value)) = risk.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "risk score",
            index,
            value,
        });
    }
    let ipcw = CensoringKm::fit(train)?.ipcw(test)?;
    let mut scores = Vec::with_capacity(times.len());
    // Subjects by decreasing score, as contiguous rows (score, time, case weight when an
    // event); one sort serves every time when the score does not depend on it.
    let sorted = |col: ArrayView1<f64>| -> Vec<(f64, f64, f64)> {
        let mut rows: Vec<(f64, f64, f64)> = (0..n)
            .map(|i| {
                let w = if test[i].event() { ipcw[i] } else { 0.0 };
                (col[i], test[i].time(), w)
            })
            .collect();
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        rows
    };
    let mut rows = Vec::new();
    for (k, &t) in times.iter().enumerate() {
        if risk.ncols() > 1 || k == 0 {
            rows = sorted(risk.column(if risk.ncols() == 1 { 0 } else { k }));
        }
        // Cases: events by t (weighted by 1 / G(T)); controls: still event-free after t.
        let (mut ctp, mut cfp) = (0.0, 0.0);
        for &(_, time, w) in &rows {
            if time <= t {
                ctp += w;
            } else {
                cfp += 1.0;
            }
        }
        if ctp == 0.0 || cfp == 0.0 {
            return Err(Error::Undefined(format!(
                "no cases or no controls at time {t}"
            )));
        }
        // The ROC curve's points at the end of each run of tied scores, integrated from
        // (0, 0) by trapezoids.
        let (mut tp, mut fp) = (0.0, 0.0);
        let (mut x0, mut y0, mut area) = (0.0, 0.0, 0.0);
        for (p, &(score, time, w)) in rows.iter().enumerate() {
            if time <= t {
                tp += w;
            } else {
                fp += 1.0;
            }
            if rows
                .get(p + 1)
                .is_some_and(|next| (next.0 - score).abs() <= tied_tol)
            {
                continue;
            }
            let (x1, y1) = (fp / cfp, tp / ctp);
            area += (x1 - x0) * (y0 + y1) / 2.0;
            (x0, y0) = (x1, y1);
        }
        scores.push(area);
    }
    let mean = if scores.len() == 1 {
        scores[0]
    } else {
        let km = crate::KaplanMeier::fit(test, 0.95)?;
        let s: Vec<f64> = times.iter().map(|&t| km.predict(t)).collect();
        let mut prev = 1.0;
        let mut integral = 0.0;
        for (a, &st) in scores.iter().zip(&s) {
            integral += a * (prev - st);
            prev = st;
        }
        integral / (1.0 - s[s.len() - 1])
    };
    Ok((scores, mean))
}

/// Brier score at each time (scikit-survival's `brier_score`, Graf et al.): `surv_prob` is
/// `n × times`, the predicted probability of being event-free at each sorted unique time.
pub fn brier_score(
    train: &[Surv],
    test: &[Surv],
    surv_prob: ArrayView2<f64>,
    times: &[f64],
) -> Result<Vec<f64>> {
    let times = check_times(test, times)?;
    let n = test.len();
    if surv_prob.dim() != (n, times.len()) {
        return Err(Error::LengthMismatch {
            what: "survival probabilities",
            got: surv_prob.len(),
            expected: n * times.len(),
        });
    }
    if let Some((index, &value)) = surv_prob.iter().enumerate().find(|(_, p)| !p.is_finite()) {
        return Err(Error::NonFinite {
            what: "survival probability",
            index,
            value,
        });
    }
    let cens = CensoringKm::fit(train)?;
    let inv = |g: f64| if g == 0.0 { 0.0 } else { 1.0 / g };
    let g_y: Vec<f64> = test
        .iter()
        .map(|s| cens.predict(s.time()).map(inv))
        .collect::<Result<_>>()?;
    times
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let g_t = inv(cens.predict(t)?);
            let mut sum = 0.0;
            for (i, s) in test.iter().enumerate() {
                let p = surv_prob[[i, k]];
                if s.event() && s.time() <= t {
                    sum += p * p * g_y[i];
                } else if s.time() > t {
                    sum += (1.0 - p) * (1.0 - p) * g_t;
                }
            }
            Ok(sum / n as f64)
        })
        .collect()
}

/// The Brier score integrated over `times` by the trapezoidal rule and divided by the span
/// (scikit-survival's `integrated_brier_score`); needs at least two times.
pub fn integrated_brier_score(
    train: &[Surv],
    test: &[Surv],
    surv_prob: ArrayView2<f64>,
    times: &[f64],
) -> Result<f64> {
    let sorted = check_times(test, times)?;
    if sorted.len() < 2 {
        return Err(Error::InvalidParameter(
            "the integrated Brier score needs at least two times".into(),
        ));
    }
    let scores = brier_score(train, test, surv_prob, &sorted)?;
    let area: f64 = sorted
        .windows(2)
        .zip(scores.windows(2))
        .map(|(t, b)| (t[1] - t[0]) * (b[0] + b[1]) / 2.0)
        .sum();
    Ok(area / (sorted[sorted.len() - 1] - sorted[0]))
}
