//! Schoenfeld residuals of a fitted Cox model and the proportional-hazards test built on them
//! (Grambsch and Therneau's score test, in lifelines' form: `proportional_hazard_test`,
//! `check_assumptions`), stratified fits included.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::coxph::{pick, rows_by_id, ChiSquareTest, CoxData, CoxPh};
use crate::surv::{time_groups, Leavers};
use crate::{Error, Result, Surv, Ties};

/// How event times are transformed before the proportional-hazards test correlates them with
/// the scaled Schoenfeld residuals (lifelines' `time_transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum TimeTransform {
    /// The events' ranks 1, 2, … in time order (tied events in input order): lifelines'
    /// default, `"rank"`.
    #[default]
    Rank,
    /// `1 − S(t)` of the Kaplan–Meier curve of the data (R's `cox.zph` default, `"km"`).
    KaplanMeier,
    /// The time itself (`"identity"`).
    Identity,
    /// `log t` (`"log"`; times must be positive).
    Log,
}

/// Schoenfeld residuals: one row per event, in time order (tied events in input order).
#[derive(Debug, Clone, PartialEq)]
pub struct SchoenfeldResiduals {
    /// The subject (row of the design) of each residual.
    pub subjects: Vec<usize>,
    /// `x_i − x̄(t_i)`: the covariates of the subject with the event minus their mean over the
    /// risk set, weighted by `exp(xβ)` (with Efron's ties, the mean of the `d` Efron-weighted
    /// means of the tie group), one row per event.
    pub residuals: Array2<f64>,
    /// `D · r · V` (`D` events, `V` the model-based covariance, [`CoxPh::model_covariance`]):
    /// lifelines' scaled residuals
    /// (R's `residuals(fit, "scaledsch")` adds the coefficients).
    pub scaled: Array2<f64>,
}

impl CoxPh {
    /// The Schoenfeld residuals of this model on its training data `x` (`n × p`, the design it
    /// was fitted on, columns in the same order) and `y`, as lifelines'
    /// `compute_residuals(df, "schoenfeld" | "scaled_schoenfeld")` for Efron's ties (Breslow's:
    /// every tied event against the full risk set). A stratified fit takes its strata through
    /// [`CoxPh::schoenfeld_residuals_data`].
    pub fn schoenfeld_residuals(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
    ) -> Result<SchoenfeldResiduals> {
        self.schoenfeld_residuals_data(&CoxData::new(x.reborrow(), y))
    }

    /// [`CoxPh::schoenfeld_residuals`] on training data with the fit's strata ([`CoxData`]):
    /// each event against its own stratum's risk set (lifelines with `strata=[…]`); rows of
    /// all strata pooled in time order (tied events in input order). With entry times
    /// ([`CoxData::entry`]) each event is against the subjects at risk then, `entry < t ≤
    /// time` (statsmodels' `PHReg(entry=…)`; lifelines' ignore the entries). With case weights
    /// the risk-set means are over `w e^{xβ}` and the residuals themselves unweighted, as
    /// lifelines computes them (R's `cox.zph` weights the residuals instead).
    pub fn schoenfeld_residuals_data(&self, data: &CoxData) -> Result<SchoenfeldResiduals> {
        self.check_training_data(data, "Schoenfeld residuals")?;
        let (x, y) = (data.x, data.y);
        let p = self.coef.len();
        let eta = x.dot(&self.coef);
        let mut rows: Vec<(usize, Array1<f64>)> = Vec::new();
        for members in rows_by_id(data.strata.as_deref(), y.len()) {
            let ys: Vec<Surv> = members.iter().map(|&i| y[i]).collect();
            let es: Vec<f64> = members.iter().map(|&i| eta[i]).collect();
            let xs = x.select(Axis(0), &members);
            let en = data.entry.map(|e| pick(e, &members));
            let ws = data.weights.map(|w| pick(w, &members));
            let rows_k =
                stratum_schoenfeld(xs.view(), &ys, &es, self.ties, en.as_deref(), ws.as_deref());
            for (k, r) in rows_k {
                rows.push((members[k], r));
            }
        }
        // Time order across strata, ties in input order (within one stratum, already so).
        rows.sort_by(|(a, _), (b, _)| y[*a].time().total_cmp(&y[*b].time()).then(a.cmp(b)));
        let events = rows.len();
        let mut residuals = Array2::zeros((events, p));
        for (k, (_, r)) in rows.iter().enumerate() {
            residuals.row_mut(k).assign(r);
        }
        let scaled =
            residuals.dot(self.full_covariance("scaled Schoenfeld residuals")?) * events as f64;
        Ok(SchoenfeldResiduals {
            subjects: rows.into_iter().map(|(i, _)| i).collect(),
            residuals,
            scaled,
        })
    }

    /// The proportional-hazards test of each covariate (one degree of freedom each, in the
    /// covariates' order): the correlation of its scaled Schoenfeld residuals with the
    /// transformed event times, `(Σ (g − ḡ) r*)² / (D · se² · Σ (g − ḡ)²)` — lifelines'
    /// `proportional_hazard_test(fit, df, time_transform)` (the test `check_assumptions`
    /// reports; R's `cox.zph` in survival ≥ 3 computes an exact score test instead). A small
    /// p-value says the covariate's hazard ratio changes with time. `x` and `y` are the
    /// training data, as for [`CoxPh::schoenfeld_residuals`]. `se²` is the model-based
    /// variance, also in a robust fit (lifelines divides by the robust one there while scaling
    /// the residuals by the model-based one).
    pub fn proportional_hazards_test(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        transform: TimeTransform,
    ) -> Result<Vec<ChiSquareTest>> {
        self.proportional_hazards_test_data(&CoxData::new(x.reborrow(), y), transform)
    }

    /// [`CoxPh::proportional_hazards_test`] of a stratified fit, on its training data with its
    /// strata ([`CoxData`]): the residuals within strata
    /// ([`CoxPh::schoenfeld_residuals_data`]), the time transform over all events pooled (the
    /// Kaplan–Meier curve of the whole data, as lifelines). [`TimeTransform::Rank`] ranks the
    /// events by time across strata; lifelines' `"rank"` numbers them in its stratum-sorted
    /// order instead (stratum 1's events first), which mixes the strata into the test — pass
    /// lifelines a callable with the pooled ranks to compare.
    pub fn proportional_hazards_test_data(
        &self,
        data: &CoxData,
        transform: TimeTransform,
    ) -> Result<Vec<ChiSquareTest>> {
        let y = data.y;
        let r = self.schoenfeld_residuals_data(data)?;
        let d = r.subjects.len();
        let g: Vec<f64> = match transform {
            TimeTransform::Rank => (1..=d).map(|k| k as f64).collect(),
            TimeTransform::Identity => r.subjects.iter().map(|&i| y[i].time()).collect(),
            TimeTransform::Log => {
                if let Some(&i) = r.subjects.iter().find(|&&i| y[i].time() <= 0.0) {
                    return Err(Error::InvalidParameter(format!(
                        "the log time transform needs positive event times; subject {i} has {}",
                        y[i].time()
                    )));
                }
                r.subjects.iter().map(|&i| y[i].time().ln()).collect()
            }
            TimeTransform::KaplanMeier => {
                // The curve of the data as fitted: weighted, with entries (lifelines' "km"
                // is the weighted curve).
                let km = match (data.entry, data.weights) {
                    (None, None) => crate::KaplanMeier::fit(y, 0.95)?,
                    (None, Some(w)) => crate::KaplanMeier::fit_weighted(y, w, 0.95)?,
                    (Some(e), w) => crate::KaplanMeier::fit_with_entry(y, e, w, 0.95)?,
                };
                r.subjects
                    .iter()
                    .map(|&i| 1.0 - km.predict(y[i].time()))
                    .collect()
            }
        };
        let mean = g.iter().sum::<f64>() / d as f64;
        let centred: Vec<f64> = g.iter().map(|v| v - mean).collect();
        let ss: f64 = centred.iter().map(|v| v * v).sum();
        if ss <= 0.0 || ss.is_nan() {
            return Err(Error::Undefined(
                "the transformed event times do not vary: no proportional-hazards test".into(),
            ));
        }
        let variance = self.full_covariance("the proportional-hazards test")?;
        let chi = ChiSquared::new(1.0).map_err(|e| Error::InvalidParameter(e.to_string()))?;
        Ok((0..self.coef.len())
            .map(|j| {
                let num: f64 = (centred.iter().zip(r.scaled.column(j)))
                    .map(|(c, s)| c * s)
                    .sum();
                let statistic = num * num / (d as f64 * variance[[j, j]] * ss);
                ChiSquareTest {
                    statistic,
                    df: 1,
                    p_value: chi.sf(statistic),
                }
            })
            .collect())
    }
}

/// Schoenfeld residuals of one stratum (`x`, `y`, linear predictor `eta`, optional entry
/// times and case weights): `(row, x_row − x̄(t))` per event, in time order (tied events in
/// input order), `x̄` over `w e^η`.
fn stratum_schoenfeld(
    x: ArrayView2<f64>,
    y: &[Surv],
    eta: &[f64],
    ties: Ties,
    entry: Option<&[f64]>,
    w: Option<&[f64]>,
) -> Vec<(usize, Array1<f64>)> {
    let p = x.ncols();
    let shift = eta.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let phi: Vec<f64> = (eta.iter().enumerate())
        .map(|(i, &v)| w.map_or(1.0, |w| w[i]) * (v - shift).exp())
        .collect();
    let (order, groups) = time_groups(y);
    // Risk sums from the latest time down, residuals per tie group.
    let mut s0 = 0.0;
    let mut s1 = Array1::<f64>::zeros(p);
    let mut rows: Vec<(usize, Array1<f64>)> = Vec::new();
    let mut leavers = Leavers::new(entry);
    for &(a, b) in groups.iter().rev() {
        let members = &order[a..b];
        for &j in leavers.at(y[members[0]].time()) {
            s0 -= phi[j];
            s1.scaled_add(-phi[j], &x.row(j));
        }
        let (mut t0, mut t1) = (0.0, Array1::<f64>::zeros(p));
        for &i in members {
            s0 += phi[i];
            s1.scaled_add(phi[i], &x.row(i));
            if y[i].event() {
                t0 += phi[i];
                t1.scaled_add(phi[i], &x.row(i));
            }
        }
        let events: Vec<usize> = members.iter().copied().filter(|&i| y[i].event()).collect();
        let d = events.len();
        if d == 0 {
            continue;
        }
        let mut mean = Array1::<f64>::zeros(p);
        for l in 0..d {
            let f = match ties {
                Ties::Efron => l as f64 / d as f64,
                Ties::Breslow => 0.0,
            };
            let numer = &s1 - &(&t1 * f);
            let denom = s0 - f * t0;
            mean += &(numer / (denom * d as f64));
        }
        for &i in events.iter().rev() {
            rows.push((i, &x.row(i) - &mean));
        }
    }
    rows.reverse();
    rows
}
