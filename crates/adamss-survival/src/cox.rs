//! The Cox negative log partial likelihood with Breslow or Efron ties: value, gradient and
//! Hessian, in f64 and overflow-safe.
//!
//! For event times `t` with `d_t` tied events `D_t` and risk set `R_t = {j : time_j ≥ t}`
//! (subjects censored at `t` are at risk at `t`), with `η = Xβ` (higher = worse):
//!
//! - Breslow: `NLL = −Σ_t [Σ_{i∈D_t} η_i − d_t · log Σ_{j∈R_t} e^{η_j}]`
//! - Efron: `NLL = −Σ_t [Σ_{i∈D_t} η_i − Σ_{l=0}^{d_t−1} log(Σ_{R_t} e^{η_j} − (l/d_t) Σ_{D_t} e^{η_j})]`
//!
//! [`Reduction::Sum`] returns that sum (R's `coxph` log-likelihood is its negative);
//! [`Reduction::MeanOverEvents`] divides it by the number of events. With no events both give
//! 0 and a zero gradient, never NaN — on purpose, not an error: this is the training loss of
//! a mini-batch (`adamss_model::loss::cox_nll` equals it), and a batch of censored patients
//! only is ordinary at a few patients per batch; it then adds nothing to the step, where an
//! error would stop the training and a NaN would poison the weights. Statistics that are
//! undefined without events refuse instead: a Cox fit, Harrell's C.
//!
//! Sums of exponentials are kept relative to a running maximum of `η`, so any finite `η`
//! (800, −800, both at once) is safe.

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::surv::{check_entry_times, check_finite, time_groups};
use crate::{Error, Result, Surv};

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Ties {
    /// Breslow's approximation: every tied event sees the full risk set (glmnet, the
    /// tensor loss default).
    Breslow,
    /// Efron's approximation (lifelines, R's `coxph` default): tied events leave the risk
    /// set gradually.
    #[default]
    Efron,
}

/// How per-event terms are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Reduction {
    /// The plain sum over event times (the statistical log-likelihood's negative).
    Sum,
    /// The sum divided by the number of events (0 when there are none): the training loss.
    #[default]
    MeanOverEvents,
}

/// An error unless `w` holds one weight per subject (`n`; `what` names them in the error),
/// each finite and > 0 (the error names the first that is not).
pub(crate) fn check_weights(what: &'static str, w: &[f64], n: usize) -> Result<()> {
    if w.len() != n {
        return Err(Error::LengthMismatch {
            what,
            got: w.len(),
            expected: n,
        });
    }
    match w.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
        Some(index) => Err(Error::InvalidParameter(format!(
            "case weight {index} is {}: weights must be finite and > 0",
            w[index]
        ))),
        None => Ok(()),
    }
}

/// A group of equal times, in the order risk sets grow (latest time first).
#[derive(Debug, Clone)]
struct Group {
    /// All subjects with this time.
    members: Vec<usize>,
    /// Those of them with an event.
    events: Vec<usize>,
}

/// The Cox partial likelihood of fixed survival data, ready to be evaluated at many `η` or
/// `β` (sorting and tie grouping are done once).
#[derive(Debug, Clone)]
pub struct PartialLikelihood {
    groups: Vec<Group>,
    /// Each subject's time.
    time: Vec<f64>,
    event: Vec<bool>,
    n: usize,
    n_events: usize,
    ties: Ties,
    /// Case weights and their logarithms (`None`: every weight 1).
    weights: Option<(Vec<f64>, Vec<f64>)>,
    /// Delayed entry (`None`: everyone at risk from time 0).
    entry: Option<Entry>,
}

/// Delayed entry in the sweep's terms: who leaves the risk set as the sweep passes below
/// their entry time.
#[derive(Debug, Clone)]
struct Entry {
    /// Per group (sweep order): the subjects whose entry time is at or after the group's
    /// time and before the previous (later) group's — they are not at risk from it on.
    leave: Vec<Vec<usize>>,
    /// Per subject: the group at which it leaves (`None`: at risk down to the earliest).
    left_at: Vec<Option<usize>>,
}

impl PartialLikelihood {
    /// Prepares the likelihood of `y` with the given tie handling.
    pub fn new(y: &[Surv], ties: Ties) -> Result<Self> {
        if y.is_empty() {
            return Err(Error::Empty);
        }
        let (order, ranges) = time_groups(y);
        let groups = ranges
            .iter()
            .rev()
            .map(|&(s, e)| {
                let members: Vec<usize> = order[s..e].to_vec();
                let events = members.iter().copied().filter(|&i| y[i].event()).collect();
                Group { members, events }
            })
            .collect();
        Ok(Self {
            time: y.iter().map(Surv::time).collect(),
            groups,
            event: y.iter().map(Surv::event).collect(),
            n: y.len(),
            n_events: y.iter().filter(|s| s.event()).count(),
            ties,
            weights: None,
            entry: None,
        })
    }

    /// Prepares the likelihood of `y` with case weights `w` (one per subject, finite and
    /// positive): R's `coxph(weights = w)`, lifelines' `weights_col`. Subject `i` counts `w_i`
    /// times in every risk set it is in and its event `w_i` times; under Efron's ties each of a
    /// time's `d` denominators is weighted by the tied events' mean weight. Integer weights
    /// under Breslow's ties equal replicating rows. [`Reduction::MeanOverEvents`] divides by
    /// the events' total weight. The Breslow-only second-order models (glmnet's) refuse
    /// weights.
    pub fn with_weights(y: &[Surv], ties: Ties, w: &[f64]) -> Result<Self> {
        check_weights("case weights", w, y.len())?;
        let mut pl = Self::new(y, ties)?;
        pl.weights = Some((w.to_vec(), w.iter().map(|v| v.ln()).collect()));
        Ok(pl)
    }

    /// The same likelihood with delayed entry (left truncation): subject `i` is in the risk
    /// sets of the event times `t` with `entry[i] < t ≤ time_i` only — lifelines'
    /// `CoxPHFitter(…).fit(…, entry_col=…)`, R's `coxph(Surv(entry, time, event) ~ …)`. Each
    /// entry time must be finite, ≥ 0 and before the subject's own time
    /// ([`Error::InvalidParameter`] names the first that is not). Combines with case weights;
    /// the glmnet-style Breslow models ([`PartialLikelihood::breslow_grad_diag_hess_eta`])
    /// refuse it.
    ///
    /// Leaving risk sets is a subtraction from running sums; where it has taken a sum 2¹⁰
    /// below its peak (a late-entering subject with a much larger `e^η` than those left), the
    /// sum is recomputed from the subjects still at risk, so cancellation costs at most ~10 of
    /// the 53 bits.
    ///
    /// ```
    /// use adamss_survival::{surv_from, PartialLikelihood, Reduction, Ties};
    ///
    /// let y = surv_from(&[2.0, 3.0, 5.0], &[1, 1, 0])?;
    /// // Subject 1 enters at 2.5: not at risk at the first event (time 2).
    /// let pl = PartialLikelihood::new(y.as_slice().unwrap(), Ties::Efron)?
    ///     .with_entry(&[0.0, 2.5, 1.0])?;
    /// // Two at risk at each event time: −log(1/2) twice at η = 0.
    /// let nll = pl.nll(&[0.0; 3], Reduction::Sum)?;
    /// assert!((nll - 2.0 * 2f64.ln()).abs() < 1e-12);
    /// # Ok::<(), adamss_survival::Error>(())
    /// ```
    pub fn with_entry(mut self, entry: &[f64]) -> Result<Self> {
        check_entry_times(entry, |i| self.time[i], self.n)?;
        // Group times in sweep order (latest first, strictly decreasing).
        let times: Vec<f64> = self
            .groups
            .iter()
            .map(|g| self.time[g.members[0]])
            .collect();
        let mut leave = vec![Vec::new(); times.len()];
        let mut left_at = vec![None; self.n];
        for (i, &e) in entry.iter().enumerate() {
            // The first group (sweep order) with time ≤ entry: times decrease along the sweep.
            let gi = times.partition_point(|&t| t > e);
            if gi < times.len() {
                leave[gi].push(i);
                left_at[i] = Some(gi);
            }
        }
        self.entry = Some(Entry { leave, left_at });
        Ok(self)
    }

    /// Whether delayed-entry times were given ([`PartialLikelihood::with_entry`]).
    pub fn has_entry(&self) -> bool {
        self.entry.is_some()
    }

    /// Whether case weights were given.
    pub fn is_weighted(&self) -> bool {
        self.weights.is_some()
    }

    /// `η + log w` (`w e^η` in the risk sums), or `η` itself without weights.
    fn risk_eta<'a>(&self, eta: &'a [f64]) -> Cow<'a, [f64]> {
        match &self.weights {
            None => Cow::Borrowed(eta),
            Some((_, log_w)) => Cow::Owned(eta.iter().zip(log_w).map(|(e, l)| e + l).collect()),
        }
    }

    /// Subject `i`'s weight (1 without weights).
    fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |(w, _)| w[i])
    }

    /// The mean weight of a time's events (1 without weights).
    fn mean_event_weight(&self, g: &Group) -> f64 {
        match &self.weights {
            None => 1.0,
            Some((w, _)) => g.events.iter().map(|&i| w[i]).sum::<f64>() / g.events.len() as f64,
        }
    }

    fn refuse_weights(&self, what: &str) -> Result<()> {
        if self.weights.is_some() {
            return Err(Error::InvalidParameter(format!(
                "{what} does not take case weights"
            )));
        }
        if self.entry.is_some() {
            return Err(Error::InvalidParameter(format!(
                "{what} does not take delayed-entry times"
            )));
        }
        Ok(())
    }

    /// The subjects leaving the risk set at group `gi` (none without delayed entry).
    fn leaving(&self, gi: usize) -> &[usize] {
        self.entry.as_ref().map_or(&[], |e| &e.leave[gi])
    }

    /// Takes the subjects leaving at group `gi` (delayed entry) off `risk`, marking them
    /// `gone`; nothing without entry times.
    fn leave(
        &self,
        gi: usize,
        eta: &[f64],
        risk: &mut RiskSum,
        gone: &mut [bool],
        x: Option<ArrayView2<f64>>,
    ) {
        let leaving = self.leaving(gi);
        if leaving.is_empty() {
            return;
        }
        leaving.iter().for_each(|&j| gone[j] = true);
        risk.remove(eta, leaving, x, || self.still_at_risk(gi, gone));
    }

    /// The risk set at group `gi` of the sweep: the members of groups `0..=gi` not `gone`.
    fn still_at_risk(&self, gi: usize, gone: &[bool]) -> Vec<usize> {
        self.groups[..=gi]
            .iter()
            .flat_map(|g| g.members.iter().copied())
            .filter(|&j| !gone[j])
            .collect()
    }

    /// Number of subjects.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no subjects (never: construction refuses empty data).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of events.
    pub fn events(&self) -> usize {
        self.n_events
    }

    /// The log-likelihood of the saturated model under Breslow's ties: `−Σ d·log d` over the
    /// distinct event times, `d` events at each (0 without ties) — the reference of glmnet's
    /// Cox deviance.
    pub(crate) fn breslow_saturated_loglik(&self) -> f64 {
        self.groups
            .iter()
            .map(|g| g.events.len() as f64)
            .filter(|&d| d > 0.0)
            .map(|d| -d * d.ln())
            .sum()
    }

    fn scale(&self, reduction: Reduction) -> f64 {
        match reduction {
            Reduction::Sum => 1.0,
            Reduction::MeanOverEvents if self.n_events == 0 => 0.0,
            Reduction::MeanOverEvents => match &self.weights {
                None => 1.0 / self.n_events as f64,
                Some((w, _)) => {
                    let total: f64 = (0..self.n).filter(|&i| self.event[i]).map(|i| w[i]).sum();
                    1.0 / total
                }
            },
        }
    }

    /// Efron's fractions `l / d` for `l = 0..d` (all 0 for Breslow).
    fn fractions(&self, d: usize) -> impl Iterator<Item = f64> {
        let efron = self.ties == Ties::Efron;
        (0..d).map(move |l| if efron { l as f64 / d as f64 } else { 0.0 })
    }

    /// The negative log partial likelihood at linear predictor `eta` (higher = worse).
    pub fn nll(&self, eta: &[f64], reduction: Reduction) -> Result<f64> {
        check_finite("linear predictor", eta, self.n)?;
        Ok(self.forward(eta, false).0 * self.scale(reduction))
    }

    /// The unscaled value and, when `terms`, per group `log Σ_l 1/Φ_l` and `log Σ_l (l/d)/Φ_l`
    /// (Φ_l the Efron denominators), sweeping risk sets from the latest time down.
    fn forward(&self, eta: &[f64], terms: bool) -> (f64, Vec<f64>, Vec<f64>) {
        let k = if terms { self.groups.len() } else { 0 };
        let mut log_a = vec![f64::NEG_INFINITY; k];
        let mut log_b = vec![f64::NEG_INFINITY; k];
        let mut value = 0.0;
        let mut risk = RiskSum::default();
        let eta_w = self.risk_eta(eta);
        let mut gone = vec![false; if self.entry.is_some() { self.n } else { 0 }];
        for (gi, g) in self.groups.iter().enumerate() {
            risk.add(&eta_w, &g.members, None);
            self.leave(gi, &eta_w, &mut risk, &mut gone, None);
            let mut d0 = 0.0;
            for &i in &g.events {
                d0 += risk.relative(eta_w[i]);
                value -= self.weight(i) * eta[i];
            }
            // Each denominator's weight: the events' mean weight (1 without weights).
            let w = self.mean_event_weight(g);
            let log_w = w.ln();
            for f in self.fractions(g.events.len()) {
                let log_phi = risk.log_minus(f * d0);
                value += w * log_phi;
                if terms {
                    log_a[gi] = log_add_exp(log_a[gi], log_w - log_phi);
                    if f > 0.0 {
                        log_b[gi] = log_add_exp(log_b[gi], log_w + f.ln() - log_phi);
                    }
                }
            }
        }
        (value, log_a, log_b)
    }

    /// The value and its gradient with respect to `eta` (the tensor loss's reference).
    pub fn nll_grad_eta(&self, eta: &[f64], reduction: Reduction) -> Result<(f64, Array1<f64>)> {
        check_finite("linear predictor", eta, self.n)?;
        let (value, log_a, log_b) = self.forward(eta, true);
        let eta_w = self.risk_eta(eta);
        // Subject j is at risk at every event time ≤ its own: accumulate from the earliest.
        let mut grad = Array1::zeros(self.n);
        let mut log_c = f64::NEG_INFINITY;
        // With delayed entry, the cumulative sums at each group, to take off the part before
        // a subject's entry (its leaving group is always earlier in time than its own).
        let mut cum = vec![f64::NEG_INFINITY; if self.entry.is_some() { log_a.len() } else { 0 }];
        for (gi, g) in self.groups.iter().enumerate().rev() {
            log_c = log_add_exp(log_c, log_a[gi]);
            if let Some(c) = cum.get_mut(gi) {
                *c = log_c;
            }
            for &j in &g.members {
                let own = (eta_w[j] + log_c).exp();
                grad[j] = match self.entry.as_ref().and_then(|e| e.left_at[j]) {
                    None => own,
                    // e^{η + c_own} (1 − e^{c_entry − c_own}), 0 where nothing accrued.
                    Some(_) if log_c == f64::NEG_INFINITY => 0.0,
                    Some(k) => own * -(cum[k] - log_c).exp_m1(),
                };
            }
            for &i in &g.events {
                grad[i] -= self.weight(i) + (eta_w[i] + log_b[gi]).exp();
            }
        }
        let s = self.scale(reduction);
        Ok((value * s, grad * s))
    }

    /// Breslow value, gradient and **diagonal** Hessian with respect to `eta` (the quadratic
    /// model glmnet's coordinate descent uses), in log-space so any finite `eta` is safe.
    pub fn breslow_grad_diag_hess_eta(
        &self,
        eta: &[f64],
        reduction: Reduction,
    ) -> Result<(f64, Array1<f64>, Array1<f64>)> {
        check_finite("linear predictor", eta, self.n)?;
        self.refuse_weights("the diagonal Breslow model")?;
        let k = self.groups.len();
        // Per event group: log(d / S0) and log(d / S0²).
        let mut log_a1 = vec![f64::NEG_INFINITY; k];
        let mut log_a2 = vec![f64::NEG_INFINITY; k];
        let mut value = 0.0;
        let mut risk = RiskSum::default();
        for (gi, g) in self.groups.iter().enumerate() {
            risk.add(eta, &g.members, None);
            let d = g.events.len();
            if d == 0 {
                continue;
            }
            let log_s0 = risk.log_minus(0.0);
            value += d as f64 * log_s0 - g.events.iter().map(|&i| eta[i]).sum::<f64>();
            let log_d = (d as f64).ln();
            log_a1[gi] = log_d - log_s0;
            log_a2[gi] = log_d - 2.0 * log_s0;
        }
        let mut grad = Array1::zeros(self.n);
        let mut hess = Array1::zeros(self.n);
        let (mut c1, mut c2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for (gi, g) in self.groups.iter().enumerate().rev() {
            c1 = log_add_exp(c1, log_a1[gi]);
            c2 = log_add_exp(c2, log_a2[gi]);
            for &j in &g.members {
                let p1 = (eta[j] + c1).exp();
                let p2 = (2.0 * eta[j] + c2).exp();
                grad[j] = p1 - if self.event[j] { 1.0 } else { 0.0 };
                hess[j] = (p1 - p2).max(0.0);
            }
        }
        let s = self.scale(reduction);
        Ok((value * s, grad * s, hess * s))
    }

    /// The Breslow negative log partial likelihood's second-order model at `eta`: the
    /// gradient in η, and the full Hessian in η as an O(n) operator (see [`BreslowHessian`]).
    pub(crate) fn breslow_hessian(&self, eta: &[f64]) -> Result<BreslowHessian<'_>> {
        check_finite("linear predictor", eta, self.n)?;
        self.refuse_weights("the Breslow Hessian operator")?;
        let k = self.groups.len();
        // Backward sweep (latest first): running max m_g and S0 relative to it.
        let mut m = vec![0.0; k];
        let mut s0 = vec![0.0; k];
        let mut d = vec![0.0; k];
        let mut risk = RiskSum::default();
        for (gi, g) in self.groups.iter().enumerate() {
            risk.add(eta, &g.members, None);
            m[gi] = risk.m;
            s0[gi] = risk.s;
            d[gi] = g.events.len() as f64;
        }
        // Forward sweep (earliest first): a_g = Σ_{t ≤ t_g} e^{m_g − m_t} d_t / S0_t.
        let mut a = vec![0.0; k];
        let mut acc = 0.0;
        for gi in (0..k).rev() {
            if gi + 1 < k {
                acc *= (m[gi] - m[gi + 1]).exp();
            }
            if d[gi] > 0.0 {
                acc += d[gi] / s0[gi];
            }
            a[gi] = acc;
        }
        let mut weight = vec![0.0; self.n];
        let mut p1 = vec![0.0; self.n];
        let mut grad = vec![0.0; self.n];
        for (gi, g) in self.groups.iter().enumerate() {
            for &j in &g.members {
                weight[j] = (eta[j] - m[gi]).exp();
                p1[j] = weight[j] * a[gi];
                grad[j] = p1[j] - if self.event[j] { 1.0 } else { 0.0 };
            }
        }
        // e^{m_{g−1} − m_g}: 1 except where a risk set gains a new maximum.
        let rescale = (0..k)
            .map(|gi| {
                if gi == 0 {
                    1.0
                } else {
                    (m[gi - 1] - m[gi]).exp()
                }
            })
            .collect();
        let coef = (0..k).map(|gi| d[gi] / (s0[gi] * s0[gi])).collect();
        Ok(BreslowHessian {
            grad,
            p1,
            weight,
            rescale,
            coef,
            pl: self,
        })
    }

    /// Value, gradient and Hessian with respect to `beta`, for covariates `x` (`n × p`).
    pub fn nll_grad_hess(
        &self,
        x: ArrayView2<f64>,
        beta: ArrayView1<f64>,
        reduction: Reduction,
    ) -> Result<(f64, Array1<f64>, Array2<f64>)> {
        let p = beta.len();
        if x.nrows() != self.n || x.ncols() != p {
            return Err(Error::LengthMismatch {
                what: "covariate matrix rows/columns",
                got: x.nrows() * x.ncols(),
                expected: self.n * p,
            });
        }
        let eta = x.dot(&beta);
        let eta = eta
            .as_slice()
            .ok_or_else(|| Error::Linalg("non-contiguous η".into()))?;
        // The gradient in η gives the gradient in β (Xᵀ∇η) and the first Hessian term:
        //   Σ_t Σ_l (S2_t − f_l D2_t) / Φ_tl = Xᵀ diag(u) X,  u_j = ∂NLL/∂η_j + δ_j,
        // since subject j enters S2 at every event time up to its own (weight Σ 1/Φ) and,
        // when one of Efron's tied events, leaves it gradually (weight Σ f/Φ) — exactly the
        // terms of ∂NLL/∂η_j. The second term is Σ_t Σ_l w μ_tl μ_tlᵀ = MᵀM with one row
        // √w·μ per Efron denominator. Both are single BLAS products: O(n p²) flops without
        // the per-subject outer products.
        let (value, grad_eta) = self.nll_grad_eta(eta, Reduction::Sum)?;
        let grad = x.t().dot(&grad_eta);
        let u = &grad_eta
            + &self
                .event
                .iter()
                .enumerate()
                .map(|(i, &e)| if e { self.weight(i) } else { 0.0 })
                .collect::<Array1<f64>>();
        let xu = &x * &u.view().insert_axis(Axis(1));
        let mut hess = x.t().dot(&xu);
        let means = self.risk_set_means(x, &self.risk_eta(eta));
        hess -= &means.t().dot(&means);
        let s = self.scale(reduction);
        Ok((value * s, grad * s, hess * s))
    }

    /// The rows `√w · μ` of the second Hessian term: for every event time and every Efron
    /// denominator `l`, the risk-set mean `μ = (S1 − f_l D1) / (S0 − f_l D0)` of the
    /// covariates, with weight `w = d` for Breslow (one denominator per time) and 1 for Efron
    /// (times the events' mean case weight; `eta` includes the log case weights).
    fn risk_set_means(&self, x: ArrayView2<f64>, eta: &[f64]) -> Array2<f64> {
        let p = x.ncols();
        let efron = self.ties == Ties::Efron;
        let mut rows: Vec<f64> = Vec::with_capacity(self.n_events * p);
        // S0 and S1 = Σ e^η x over the risk set, relative to its running maximum.
        let mut risk = RiskSum::new(p);
        let mut d1 = Array1::<f64>::zeros(p);
        let mut gone = vec![false; if self.entry.is_some() { self.n } else { 0 }];
        for (gi, g) in self.groups.iter().enumerate() {
            risk.add(eta, &g.members, Some(x));
            self.leave(gi, eta, &mut risk, &mut gone, Some(x));
            let (m, s0, s1) = (risk.m, risk.s, &risk.s1);
            let d = g.events.len();
            if d == 0 {
                continue;
            }
            let mut d0 = 0.0;
            d1.fill(0.0);
            if efron && d > 1 {
                for &i in &g.events {
                    let w = (eta[i] - m).exp();
                    d0 += w;
                    d1.scaled_add(w, &x.row(i));
                }
            }
            let mean_w = self.mean_event_weight(g);
            for f in self.fractions(d) {
                let phi = s0 - f * d0;
                let root_w = if efron && d > 1 {
                    1.0
                } else {
                    (d as f64).sqrt()
                };
                let root_w = if self.weights.is_some() {
                    root_w * mean_w.sqrt()
                } else {
                    root_w
                };
                if f == 0.0 || !(efron && d > 1) {
                    rows.extend(s1.iter().map(|&v| root_w * v / phi));
                } else {
                    rows.extend(
                        s1.iter()
                            .zip(&d1)
                            .map(|(&a, &b)| root_w * (a - f * b) / phi),
                    );
                }
                if !(efron && d > 1) {
                    break;
                }
            }
        }
        let k = rows.len() / p.max(1);
        Array2::from_shape_vec((k, p), rows).unwrap_or_else(|_| Array2::zeros((0, p)))
    }
}

/// The Breslow NLL's Hessian in η at one point, applied in O(n):
/// `H = diag(p1) − Σ_t (d_t / S0_t²) (e^η ∘ 1_{R_t})(e^η ∘ 1_{R_t})ᵀ` with
/// `p1_j = e^{η_j} Σ_{t ≤ t_j} d_t / S0_t` — the exact second-order model that glmnet
/// replaces by its diagonal. Every product is kept relative to the risk sets' running maxima,
/// so nothing overflows.
pub(crate) struct BreslowHessian<'a> {
    /// ∂NLL/∂η.
    pub grad: Vec<f64>,
    p1: Vec<f64>,
    /// `e^{η_j − m_{g(j)}}`.
    weight: Vec<f64>,
    /// `e^{m_{g−1} − m_g}` per group (sweep order, latest first).
    rescale: Vec<f64>,
    /// `d_g / S0_g²` on the group's scale.
    coef: Vec<f64>,
    pl: &'a PartialLikelihood,
}

impl BreslowHessian<'_> {
    /// `out = H v`.
    pub fn apply(&self, v: &[f64], out: &mut [f64]) {
        self.apply_lanes([v], [out]);
    }

    /// `out[c] = H v[c]` for `L` vectors at once: each vector gets the same operations in
    /// the same order as alone (so the same bits), interleaved so that the risk sets' running
    /// sums — one serial chain per vector — overlap.
    pub fn apply_lanes<const L: usize>(&self, v: [&[f64]; L], mut out: [&mut [f64]; L]) {
        let groups = &self.pl.groups;
        let k = groups.len();
        // term_g = d_g · (Σ_{R_g} e^{η − m_g} v) / S0_g², backward (risk sets grow).
        let mut term = vec![[0.0; L]; k];
        let mut s = [0.0; L];
        for (gi, g) in groups.iter().enumerate() {
            let r = self.rescale[gi];
            s.iter_mut().for_each(|s| *s *= r);
            for &j in &g.members {
                let w = self.weight[j];
                for (s, v) in s.iter_mut().zip(&v) {
                    *s += w * v[j];
                }
            }
            let c = self.coef[gi];
            for (t, s) in term[gi].iter_mut().zip(&s) {
                *t = c * s;
            }
        }
        // Forward: subject j collects every event time up to its own.
        let mut acc = [0.0; L];
        for gi in (0..k).rev() {
            if gi + 1 < k {
                let r = self.rescale[gi + 1];
                acc.iter_mut().for_each(|a| *a *= r);
            }
            for (a, t) in acc.iter_mut().zip(&term[gi]) {
                *a += t;
            }
            for &j in &groups[gi].members {
                let (p1, w) = (self.p1[j], self.weight[j]);
                for ((o, v), a) in out.iter_mut().zip(&v).zip(&acc) {
                    o[j] = p1 * v[j] - w * a;
                }
            }
        }
    }
}

/// How far below its peak a risk sum may fall by delayed entry's subtractions before it is
/// recomputed from the subjects left: `2⁻¹⁰`, so cancellation costs at most 10 of 53 bits.
const CANCELLATION: f64 = 1.0 / 1024.0;

/// `Σ e^{η_j}` over a risk set — and, where covariates are summed too, `Σ e^{η_j} x_j` — kept
/// relative to `e^m`, `m` the largest `η` added so far, so that no exponential overflows.
/// Subjects leave it only with delayed entry.
#[derive(Debug, Clone)]
struct RiskSum {
    m: f64,
    s: f64,
    /// `Σ e^{η_j − m} x_j` (empty where covariates are not summed).
    s1: Array1<f64>,
    /// The largest `s` since the sum was last computed from scratch, on the current scale
    /// (what a subtraction's rounding is relative to).
    peak: f64,
}

impl Default for RiskSum {
    fn default() -> Self {
        Self::new(0)
    }
}

impl RiskSum {
    /// An empty sum, of `p` covariates too.
    fn new(p: usize) -> Self {
        Self {
            m: f64::NEG_INFINITY,
            s: 0.0,
            s1: Array1::zeros(p),
            peak: 0.0,
        }
    }

    /// Adds `e^{η_j}` (and `e^{η_j} x_j` with `x`) for the `members`, rescaling when a new
    /// maximum arrives.
    fn add(&mut self, eta: &[f64], members: &[usize], x: Option<ArrayView2<f64>>) {
        let gm = members
            .iter()
            .map(|&j| eta[j])
            .fold(f64::NEG_INFINITY, f64::max);
        if gm > self.m {
            let r = (self.m - gm).exp();
            self.s *= r;
            self.s1 *= r;
            self.peak *= r;
            self.m = gm;
        }
        for &j in members {
            let w = (eta[j] - self.m).exp();
            self.s += w;
            if let Some(x) = x {
                self.s1.scaled_add(w, &x.row(j));
            }
        }
        self.peak = self.peak.max(self.s);
    }

    /// Takes the `gone` off the sum; where the sum has fallen far below its peak (so that
    /// subtraction's rounding would show), recomputes it and its scale from `rest()`, the
    /// subjects still at risk.
    fn remove(
        &mut self,
        eta: &[f64],
        gone: &[usize],
        x: Option<ArrayView2<f64>>,
        rest: impl FnOnce() -> Vec<usize>,
    ) {
        for &j in gone {
            let w = (eta[j] - self.m).exp();
            self.s -= w;
            if let Some(x) = x {
                self.s1.scaled_add(-w, &x.row(j));
            }
        }
        if self.s <= self.peak * CANCELLATION {
            let p = self.s1.len();
            *self = Self::new(p);
            self.add(eta, &rest(), x);
            self.peak = self.s;
        }
    }

    /// `e^{η}` on the sum's current scale.
    fn relative(&self, eta: f64) -> f64 {
        (eta - self.m).exp()
    }

    /// `log(Σ − x)` for `x` given on the current scale.
    fn log_minus(&self, x: f64) -> f64 {
        (self.s - x).ln() + self.m
    }
}

fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surv_from;
    use ndarray::array;

    fn data() -> Vec<Surv> {
        // Ties among events, and a censoring tied with an event (time 3).
        surv_from(
            &[5.0, 3.0, 3.0, 3.0, 1.0, 8.0, 2.0, 3.0],
            &[true, true, true, false, true, false, false, true],
        )
        .unwrap()
        .to_vec()
    }

    /// A direct O(n²) transcription of the definitions above.
    fn naive(y: &[Surv], eta: &[f64], efron: bool) -> f64 {
        let mut times: Vec<f64> = y.iter().filter(|s| s.event()).map(|s| s.time()).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let mut nll = 0.0;
        for t in times {
            let dset: Vec<usize> = (0..y.len())
                .filter(|&i| y[i].event() && y[i].time() == t)
                .collect();
            let risk: f64 = (0..y.len())
                .filter(|&j| y[j].time() >= t)
                .map(|j| eta[j].exp())
                .sum();
            let tied: f64 = dset.iter().map(|&i| eta[i].exp()).sum();
            let d = dset.len() as f64;
            for (l, &i) in dset.iter().enumerate() {
                let f = if efron { l as f64 / d } else { 0.0 };
                nll -= eta[i] - (risk - f * tied).ln();
            }
        }
        nll
    }

    #[test]
    fn matches_definition_and_gradients_match_finite_differences() {
        let y = data();
        let x = array![
            [0.5, 1.0],
            [-1.0, 0.3],
            [2.0, -0.7],
            [0.1, 0.1],
            [1.5, 2.0],
            [-0.3, -1.2],
            [0.7, 0.0],
            [-2.0, 0.4]
        ];
        let beta = array![0.4, -0.8];
        let eta = x.dot(&beta).to_vec();
        for ties in [Ties::Breslow, Ties::Efron] {
            let pl = PartialLikelihood::new(&y, ties).unwrap();
            let want = naive(&y, &eta, ties == Ties::Efron);
            let v = pl.nll(&eta, Reduction::Sum).unwrap();
            assert!((v - want).abs() < 1e-12, "{ties:?}: {v} vs {want}");
            let (v2, g_eta) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
            let (v3, g, h) = pl
                .nll_grad_hess(x.view(), beta.view(), Reduction::Sum)
                .unwrap();
            assert!((v2 - want).abs() < 1e-12 && (v3 - want).abs() < 1e-12);
            let eps = 1e-6;
            for j in 0..eta.len() {
                let mut e = eta.clone();
                e[j] += eps;
                let up = naive(&y, &e, ties == Ties::Efron);
                e[j] -= 2.0 * eps;
                let down = naive(&y, &e, ties == Ties::Efron);
                assert!(
                    (g_eta[j] - (up - down) / (2.0 * eps)).abs() < 1e-7,
                    "{ties:?} dη{j}"
                );
            }
            for k in 0..2 {
                let mut b = beta.clone();
                b[k] += eps;
                let (_, gu, _) = pl
                    .nll_grad_hess(x.view(), b.view(), Reduction::Sum)
                    .unwrap();
                let fu = pl.nll(&x.dot(&b).to_vec(), Reduction::Sum).unwrap();
                b[k] -= 2.0 * eps;
                let (_, gd, _) = pl
                    .nll_grad_hess(x.view(), b.view(), Reduction::Sum)
                    .unwrap();
                let fd = pl.nll(&x.dot(&b).to_vec(), Reduction::Sum).unwrap();
                assert!(
                    (g[k] - (fu - fd) / (2.0 * eps)).abs() < 1e-7,
                    "{ties:?} dβ{k}"
                );
                for l in 0..2 {
                    assert!(
                        (h[[l, k]] - (gu[l] - gd[l]) / (2.0 * eps)).abs() < 1e-6,
                        "{ties:?} H"
                    );
                }
            }
            let mean = pl.nll(&eta, Reduction::MeanOverEvents).unwrap();
            assert!((mean - want / 5.0).abs() < 1e-12);
        }
    }

    #[test]
    fn breslow_hessian_operator_matches_finite_differences() {
        let y = data();
        let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
        for shift in [0.0, 800.0, -800.0] {
            let eta: Vec<f64> = [0.3, -0.2, 1.1, 0.0, -0.7, 0.4, 0.9, -1.2]
                .iter()
                .map(|v| v + shift)
                .collect();
            let q = pl.breslow_hessian(&eta).unwrap();
            let (_, g) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
            for j in 0..eta.len() {
                assert!((q.grad[j] - g[j]).abs() < 1e-12, "{shift} grad {j}");
            }
            let v = [0.5, -1.0, 0.25, 2.0, 0.0, -0.3, 1.5, 0.7];
            let mut hv = vec![0.0; eta.len()];
            q.apply(&v, &mut hv);
            let eps = 1e-6;
            let at = |t: f64| {
                let e: Vec<f64> = eta.iter().zip(&v).map(|(a, b)| a + t * b).collect();
                pl.nll_grad_eta(&e, Reduction::Sum).unwrap().1
            };
            let (up, down) = (at(eps), at(-eps));
            for j in 0..eta.len() {
                let fd = (up[j] - down[j]) / (2.0 * eps);
                assert!(
                    (hv[j] - fd).abs() < 1e-6,
                    "{shift} Hv {j}: {} vs {fd}",
                    hv[j]
                );
            }
        }
    }

    #[test]
    fn hessian_lanes_give_each_vector_the_bits_of_one_at_a_time() {
        let y = data();
        let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
        let eta = [0.3, -0.2, 1.1, 0.0, -0.7, 0.4, 900.0, -1.2];
        let q = pl.breslow_hessian(&eta).unwrap();
        let vs: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                (0..8)
                    .map(|j| ((j * 7 + c * 3) % 11) as f64 / 3.0 - 1.7)
                    .collect()
            })
            .collect();
        let mut lanes = vec![vec![0.0; 8]; 4];
        let [a, b, c, d] = lanes.as_mut_slice() else {
            unreachable!()
        };
        q.apply_lanes(
            [&vs[0][..], &vs[1], &vs[2], &vs[3]],
            [a, b, c, d].map(|v| v.as_mut_slice()),
        );
        for (v, got) in vs.iter().zip(&lanes) {
            let mut one = vec![0.0; 8];
            q.apply(v, &mut one);
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(got), bits(&one));
            assert!(one.iter().any(|v| *v != 0.0));
        }
    }

    #[test]
    fn breslow_diagonal_hessian_matches_finite_differences() {
        let y = data();
        let eta = [0.3, -0.2, 0.5, 0.0, 1.0, -1.0, 0.2, 0.4];
        let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
        let (v, g, h) = pl.breslow_grad_diag_hess_eta(&eta, Reduction::Sum).unwrap();
        let (v2, g2) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
        assert!((v - v2).abs() < 1e-12);
        for j in 0..eta.len() {
            assert!((g[j] - g2[j]).abs() < 1e-12);
            let mut e = eta;
            e[j] += 1e-5;
            let (_, gu) = pl.nll_grad_eta(&e, Reduction::Sum).unwrap();
            e[j] -= 2e-5;
            let (_, gd) = pl.nll_grad_eta(&e, Reduction::Sum).unwrap();
            assert!((h[j] - (gu[j] - gd[j]) / 2e-5).abs() < 1e-7, "h[{j}]");
        }
    }

    #[test]
    fn large_linear_predictors_do_not_overflow() {
        let y = data();
        let base: Vec<f64> = vec![0.3, -0.2, 0.5, 0.0, 1.0, -1.0, 0.2, 0.4];
        let pl = PartialLikelihood::new(&y, Ties::Efron).unwrap();
        let v0 = pl.nll(&base, Reduction::Sum).unwrap();
        // The likelihood is invariant to a common shift.
        for shift in [800.0, -800.0] {
            let eta: Vec<f64> = base.iter().map(|e| e + shift).collect();
            let v = pl.nll(&eta, Reduction::Sum).unwrap();
            assert!((v - v0).abs() < 1e-9, "shift {shift}: {v} vs {v0}");
            let (_, g) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
            assert!(g.iter().all(|v| v.is_finite()));
        }
        // Mixed extremes stay finite.
        let eta = [800.0, -800.0, 0.0, 800.0, -800.0, 1.0, 2.0, -3.0];
        let (v, g) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
        assert!(v.is_finite() && g.iter().all(|v| v.is_finite()), "{v} {g}");
        assert!(pl.nll(&[f64::NAN; 8], Reduction::Sum).is_err());
    }

    #[test]
    fn no_events_gives_zero_not_nan() {
        let y = surv_from(&[1.0, 2.0], &[false, false]).unwrap().to_vec();
        let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
        for r in [Reduction::Sum, Reduction::MeanOverEvents] {
            let (v, g) = pl.nll_grad_eta(&[0.5, -0.5], r).unwrap();
            assert_eq!(v, 0.0);
            assert!(g.iter().all(|&x| x == 0.0));
        }
    }
}
