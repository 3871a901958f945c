//! Per-subject residuals of a fitted Cox model — martingale, deviance, score and dfbeta — and
//! the robust (sandwich) covariance built on the score residuals (R's `residuals.coxph` and
//! `coxph(…, robust = TRUE)` / `cluster()`, lifelines' `compute_residuals` and
//! `CoxPHFitter(…).fit(…, robust=True, cluster_col=…)`).
//!
//! Every residual is a sum over the subject's time at risk of `(dN_i − Y_i e^{η_i} dΛ₀)`
//! weighted by 1 (martingale) or by `x_i − x̄(t)` (score). Tied event times follow the fit's
//! ties: Breslow's approximation charges each tied event the full hazard jump; Efron's splits
//! a time with `d` events into `d` steps of one event each, the tied events leaving the risk
//! set a `1/d` at a time (R's `coxscore2.c`; the sum of the score residuals is then exactly the
//! Efron score). lifelines ignores ties in its score residuals (its source says so), so with
//! tied times its `delta_beta` and robust standard errors differ from R's and these.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::coxph::{pick, rows_by_id, CoxData, CoxPh};
use crate::surv::{check_design, time_groups, Leavers};
use crate::{Error, Result, Surv, Ties};

/// Martingale residuals (`n`) and score residuals (`n × p`) of one stratum at the linear
/// predictor `eta`, in O(n p). With case weights `w` the risk sums and hazard jumps are
/// weighted (R's `coxscore2.c`), the residuals themselves are not: the sandwich multiplies
/// them by the weights.
///
/// The compensator of subject `i` is `e^{η_i} Σ_{t ≤ t_i} dΛ(t) (x_i − x̄(t))`, kept as running
/// totals `Λ(t)` and `Σ x̄ dΛ` so each subject costs O(p). A tied event under Efron's ties is
/// charged `(1 − k/d)` of the `k`-th step at its own time. With delayed-entry times (`entry`)
/// a subject is at risk on `(entry, time]` only: it leaves the running sums as the sweep
/// passes below its entry, and its compensator runs from its entry (R's `agscore`).
pub(crate) fn stratum_residuals(
    x: ArrayView2<f64>,
    y: &[Surv],
    eta: &[f64],
    ties: Ties,
    w: Option<&[f64]>,
    entry: Option<&[f64]>,
) -> (Array1<f64>, Array2<f64>) {
    let weight = |i: usize| w.map_or(1.0, |w| w[i]);
    let (n, p) = x.dim();
    let shift = eta.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let phi: Vec<f64> = eta.iter().map(|&v| (v - shift).exp()).collect();
    let (order, groups) = time_groups(y);
    let g = groups.len();
    // Per time: the hazard jump and Σ x̄ dΛ charged to subjects at risk through it (`all`) and
    // to those with an event at it (`dead`), and the mean x̄ over the steps (the event part).
    let mut h_all = vec![0.0; g];
    let mut h_dead = vec![0.0; g];
    let mut xh_all = Array2::<f64>::zeros((g, p));
    let mut xh_dead = Array2::<f64>::zeros((g, p));
    let mut xbar_event = Array2::<f64>::zeros((g, p));
    let (mut s0, mut s1) = (0.0, Array1::<f64>::zeros(p));
    // With delayed entry, subjects leave the sums as the sweep passes below their entry.
    let mut leavers = Leavers::new(entry);
    for (k, &(a, b)) in groups.iter().enumerate().rev() {
        for &j in leavers.at(y[order[a]].time()) {
            let r = weight(j) * phi[j];
            s0 -= r;
            s1.scaled_add(-r, &x.row(j));
        }
        let (mut t0, mut t1, mut d, mut dw) = (0.0, Array1::<f64>::zeros(p), 0usize, 0.0);
        for &i in &order[a..b] {
            let r = weight(i) * phi[i];
            s0 += r;
            s1.scaled_add(r, &x.row(i));
            if y[i].event() {
                t0 += r;
                t1.scaled_add(r, &x.row(i));
                d += 1;
                dw += weight(i);
            }
        }
        if d == 0 {
            continue;
        }
        if ties == Ties::Efron && d > 1 {
            for step in 0..d {
                let f = step as f64 / d as f64;
                let denom = s0 - f * t0;
                let h = dw / d as f64 / denom;
                let xbar = (&s1 - &(&t1 * f)) / denom;
                h_all[k] += h;
                h_dead[k] += (1.0 - f) * h;
                xh_all.row_mut(k).scaled_add(h, &xbar);
                xh_dead.row_mut(k).scaled_add((1.0 - f) * h, &xbar);
                xbar_event.row_mut(k).scaled_add(1.0 / d as f64, &xbar);
            }
        } else {
            let h = dw / s0;
            let xbar = &s1 / s0;
            h_all[k] = h;
            h_dead[k] = h;
            xh_all.row_mut(k).assign(&(&xbar * h));
            xh_dead.row_mut(k).assign(&(&xbar * h));
            xbar_event.row_mut(k).assign(&xbar);
        }
    }
    let mut martingale = Array1::<f64>::zeros(n);
    let mut score = Array2::<f64>::zeros((n, p));
    // Λ and Σ x̄ dΛ through each time (ascending), for what accrued before an entry.
    let mut through_h = vec![0.0; if entry.is_some() { g } else { 0 }];
    let mut through_xh = Array2::<f64>::zeros((through_h.len(), p));
    let (mut cum_h, mut cum_xh) = (0.0, Array1::<f64>::zeros(p));
    for (k, &(a, b)) in groups.iter().enumerate() {
        let before = (cum_h, cum_xh.clone());
        cum_h += h_all[k];
        cum_xh += &xh_all.row(k);
        if entry.is_some() {
            through_h[k] = cum_h;
            through_xh.row_mut(k).assign(&cum_xh);
        }
        for &i in &order[a..b] {
            let xi = x.row(i);
            let mut r = score.row_mut(i);
            if y[i].event() {
                let h = before.0 + h_dead[k];
                let xh = &before.1 + &xh_dead.row(k);
                martingale[i] = 1.0 - phi[i] * h;
                r.assign(&(&xi - &xbar_event.row(k)));
                r.scaled_add(phi[i], &xh);
                r.scaled_add(-phi[i] * h, &xi);
            } else {
                martingale[i] = -phi[i] * cum_h;
                r.assign(&(&cum_xh * phi[i]));
                r.scaled_add(-phi[i] * cum_h, &xi);
            }
            // Give back what accrued through the last time at or before the entry.
            if let Some(e) = entry {
                let before_entry = groups.partition_point(|&(s, _)| y[order[s]].time() <= e[i]);
                if before_entry > 0 {
                    let (h, xh) = (
                        through_h[before_entry - 1],
                        through_xh.row(before_entry - 1),
                    );
                    martingale[i] += phi[i] * h;
                    r.scaled_add(-phi[i], &xh);
                    r.scaled_add(phi[i] * h, &xi);
                }
            }
        }
    }
    (martingale, score)
}

/// Sums the rows of `m` within each cluster (`ids[i]`, dense ids `0..k` as
/// [`CoxData::clusters`] makes them).
pub(crate) fn sum_by_cluster(m: &Array2<f64>, ids: &[usize]) -> Array2<f64> {
    let k = ids.iter().max().map_or(0, |&m| m + 1);
    let mut out = Array2::<f64>::zeros((k, m.ncols()));
    for (&id, row) in ids.iter().zip(m.rows()) {
        let mut sum = out.row_mut(id);
        sum += &row;
    }
    out
}

impl CoxPh {
    /// Checks that `x`, `y` can be this model's data: finite, outcomes and rows in step, the
    /// fit's covariate count.
    pub(crate) fn check_design_of(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<()> {
        check_design(x, y)?;
        if x.ncols() != self.coef.len() {
            return Err(Error::LengthMismatch {
                what: "covariate columns",
                got: x.ncols(),
                expected: self.coef.len(),
            });
        }
        Ok(())
    }

    /// Checks that `data` can be this model's training data: the design ([`Self::check_design_of`]),
    /// one label and weight per subject, and the fit's strata and case weights; `what` names
    /// what needs them.
    pub(crate) fn check_training_data(&self, data: &CoxData, what: &str) -> Result<()> {
        self.check_design_of(data.x, data.y)?;
        data.check_lengths()?;
        let strata = data.strata.as_deref();
        let given = strata.map_or(1, |ids| ids.iter().max().map_or(1, |m| m + 1));
        if given != self.strata {
            return Err(Error::InvalidParameter(format!(
                "the fit has {} strata, the data {given}: {what} need the strata of the fit \
                 (CoxData::strata)",
                self.strata
            )));
        }
        if data.entry.is_some() != self.delayed_entry {
            return Err(Error::InvalidParameter(if self.delayed_entry {
                format!("the fit had entry times: {what} need them too (CoxData::entry)")
            } else {
                "the fit had no entry times, the data has".into()
            }));
        }
        if data.weights.is_some() != self.weighted {
            return Err(Error::InvalidParameter(if self.weighted {
                format!("the fit had case weights: {what} need them too (CoxData::weights)")
            } else {
                "the fit had no case weights, the data has".into()
            }));
        }
        Ok(())
    }

    /// The model-based covariance (inverse information): [`CoxPh::covariance`] itself, or the
    /// one a robust fit replaced (R's `naive.var`).
    pub fn model_covariance(&self) -> &Array2<f64> {
        self.naive_covariance.as_ref().unwrap_or(&self.covariance)
    }

    /// [`CoxPh::model_covariance`] where every entry is defined; an error naming `what` needs
    /// it when an L1 penalty holds coefficients at exactly 0 (they have no covariance).
    pub(crate) fn full_covariance(&self, what: &str) -> Result<&Array2<f64>> {
        let v = self.model_covariance();
        if v.iter().any(|x| x.is_nan()) {
            let zeros: Vec<usize> = (0..self.coef.len())
                .filter(|&j| self.coef[j] == 0.0)
                .collect();
            return Err(Error::InvalidParameter(format!(
                "{what} needs the covariance of every coefficient, and the L1 penalty holds coefficients {zeros:?} at 0 without one: refit on the nonzero coefficients (or with l1_ratio 0)"
            )));
        }
        Ok(v)
    }

    /// Every residual of this model on its training data `data` — the covariates (columns in
    /// the fit's order) and outcomes it was fitted on, with the same strata and case weights
    /// ([`CoxData`]): each subject's risk sets are its stratum's. With case weights the
    /// hazard jumps are the weighted ones and the martingale, deviance and score residuals
    /// are per subject (unweighted), the dfbeta rows weighted — R's `residuals.coxph`
    /// defaults.
    pub fn residuals(&self, data: &CoxData) -> Result<CoxResiduals> {
        self.check_training_data(data, "residuals")?;
        let (x, y) = (data.x, data.y);
        let strata = data.strata.as_deref();
        let eta = x.dot(&self.coef);
        let (n, p) = x.dim();
        let mut martingale = Array1::<f64>::zeros(n);
        let mut score = Array2::<f64>::zeros((n, p));
        for rows in rows_by_id(strata, n) {
            let xs = x.select(Axis(0), &rows);
            let ys: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
            let es: Vec<f64> = rows.iter().map(|&i| eta[i]).collect();
            let ws = data.weights.map(|w| pick(w, &rows));
            let en = data.entry.map(|e| pick(e, &rows));
            let (m, u) =
                stratum_residuals(xs.view(), &ys, &es, self.ties, ws.as_deref(), en.as_deref());
            for (k, &i) in rows.iter().enumerate() {
                martingale[i] = m[k];
                score.row_mut(i).assign(&u.row(k));
            }
        }
        let deviance = martingale
            .iter()
            .zip(y)
            .map(|(&m, s)| {
                let log_term = if s.event() && 1.0 - m > 0.0 {
                    (1.0 - m).ln()
                } else {
                    0.0
                };
                m.signum() * (-2.0 * (m + log_term)).max(0.0).sqrt()
            })
            .collect();
        let weighted = match data.weights {
            None => score.clone(),
            Some(w) => &score * &ArrayView1::from(w).insert_axis(Axis(1)),
        };
        let dfbeta = weighted.dot(self.model_covariance());
        Ok(CoxResiduals {
            martingale,
            deviance,
            score,
            dfbeta,
        })
    }

    /// Martingale residuals `δ_i − Λ̂_i`, one per subject in input order: the subject's events
    /// (0 or 1) minus the cumulative hazard the model expected of it by its time (R's
    /// `residuals(fit, "martingale")`, lifelines' `compute_residuals(df, "martingale")`; with
    /// Efron's ties the hazard is Efron's, as R's). They sum to 0 at the estimate; plotted
    /// against a covariate left out, they show the functional form it would need. `x` and `y`
    /// are the training data, as for [`CoxPh::schoenfeld_residuals`]; a stratified or weighted
    /// fit takes its strata and weights through [`CoxPh::residuals`].
    pub fn martingale_residuals(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Array1<f64>> {
        Ok(self.residuals(&CoxData::new(x.reborrow(), y))?.martingale)
    }

    /// Deviance residuals `sign(M) √(−2 (M + δ log(δ − M)))` of the martingale residuals `M`:
    /// more symmetric about 0, for spotting poorly predicted subjects (R's
    /// `residuals(fit, "deviance")`, lifelines' `"deviance"`).
    pub fn deviance_residuals(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Array1<f64>> {
        Ok(self.residuals(&CoxData::new(x.reborrow(), y))?.deviance)
    }

    /// Score residuals (`n × p`, subjects in input order): each subject's share of the score
    /// vector, `∫ (x_i − x̄(t)) dM_i(t)` — R's `residuals(fit, "score")`, lifelines'
    /// `compute_residuals(df, "score")` (see the module docs). They sum to the score, 0 at the
    /// estimate.
    pub fn score_residuals(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Array2<f64>> {
        Ok(self.residuals(&CoxData::new(x.reborrow(), y))?.score)
    }

    /// The approximate change in each coefficient when the subject is left out, `U V` with `U`
    /// the score residuals and `V` the model-based covariance (R's `residuals(fit, "dfbeta")`,
    /// lifelines' `"delta_beta"`): the influence of each patient on each hazard ratio.
    pub fn dfbeta(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Array2<f64>> {
        Ok(self.residuals(&CoxData::new(x.reborrow(), y))?.dfbeta)
    }
}

/// The residuals of a Cox fit on its training data ([`CoxPh::residuals`]), one row per subject
/// in the data's order.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxResiduals {
    /// Martingale residuals ([`CoxPh::martingale_residuals`]).
    pub martingale: Array1<f64>,
    /// Deviance residuals ([`CoxPh::deviance_residuals`]).
    pub deviance: Array1<f64>,
    /// Score residuals, `n × p` ([`CoxPh::score_residuals`]).
    pub score: Array2<f64>,
    /// dfbeta, `n × p` ([`CoxPh::dfbeta`]; rows weighted in a weighted fit).
    pub dfbeta: Array2<f64>,
}

/// The robust covariance `DᵀD`, `D` the dfbeta rows summed within each cluster (each subject
/// its own cluster without labels), from the score residuals `u` and model covariance `v`.
pub(crate) fn sandwich(
    u: &Array2<f64>,
    v: &Array2<f64>,
    clusters: Option<&[usize]>,
) -> Array2<f64> {
    let d = u.dot(v);
    let d = match clusters {
        Some(labels) => sum_by_cluster(&d, labels),
        None => d,
    };
    d.t().dot(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cluster_sums_follow_labels() {
        let m = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let s = sum_by_cluster(&m, &[1, 0, 1]);
        assert_eq!(s, array![[3.0, 4.0], [6.0, 8.0]]);
    }
}
