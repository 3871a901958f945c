//! Elastic-net Cox regression (glmnet's objective) by proximal Newton with coordinate descent.
//!
//! Minimises, over a decreasing path of penalties `α`,
//! `(1/n)·NLL_breslow(β) + α·Σ_k pf_k·(l1_ratio·|β_k| + (1 − l1_ratio)/2·β_k²)`.
//! Penalty factors are rescaled to sum to the number of features, as glmnet and
//! scikit-survival do; a factor of 0 leaves a covariate unpenalised (e.g. clinical variables
//! beside radiomics). Each Newton step builds the exact quadratic model (gradient and the full
//! Hessian in η, applied in O(n) — glmnet uses only its diagonal, which makes the outer
//! iterations converge linearly at small penalties), solves it by cyclic coordinate descent
//! with Anderson extrapolation (Bertrand & Massias 2021; on ill-conditioned — p ≫ n,
//! correlated — designs the same accuracy in a fraction of the sweeps) over a working set grown
//! by optimality checks — switching, for small working sets that converge slowly, to covariance
//! mode with exact Cholesky solves on the face of non-zero coefficients — and halves the step if
//! the true objective does not decrease. Solutions
//! are warm-started along the path, which ends early by glmnet's rules (deviance explained flat
//! or saturated, pass budget spent; see [`PathEnd`]).

use linfa::ParamGuard;
use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cindex::harrell;
use crate::cox::{BreslowHessian, PartialLikelihood, Reduction, Ties};
use crate::surv::{check_design, column_sd, time_order};
use crate::{Error, Result, Surv};

/// Parameters of [`Coxnet`] (checked by `check()`).
///
/// | field | default | valid |
/// |---|---|---|
/// | `l1_ratio` | 1.0 (LASSO) | (0, 1] |
/// | `alphas` | none: a path from α_max down | positive, decreasing |
/// | `n_alphas` | 100 | ≥ 1 |
/// | `alpha_min_ratio` | none: 1e-4 when n > p, else 0.01 | (0, 1) |
/// | `penalty_factor` | all 1 | ≥ 0, not all 0 |
/// | `standardize` | true: scale columns to population sd 1 (coefficients returned on the raw scale) | |
/// | `tol` | 1e-12 | > 0: glmnet's rule — a penalty is solved when no Newton step moves a coefficient by more than `curvature · δ² ≤ tol ×` the null objective; each step's coordinate descent runs to `tol × 1e-3` |
/// | `max_iter` | 1000 | ≥ 1 Newton steps per penalty |
/// | `max_passes` | 100 000 | ≥ 1 coordinate-descent passes over the working set (and optimality checks over all features) for the whole path, as glmnet's `maxit`; when they are spent the path ends at the last solved penalty |
/// | `fdev` | 1e-5 | ≥ 0: the path ends when the deviance explained grows by less than this fraction from one penalty to the next (glmnet's `fdev`) |
/// | `devmax` | 0.999 | (0, 1]: the path ends once this fraction of the null deviance is explained (glmnet's `devmax`) |
///
/// The three path-ending rules apply after at least five penalties (glmnet's `mnlam`) and
/// are what keep a path short where the data cannot identify more: nearly collinear
/// covariates (radiomics: PET and CT shape features from one mask are identical, `Energy` and
/// `TotalEnergy` agree up to a constant) make coordinate descent crawl at small penalties, and
/// with p > n the likelihood saturates. [`Coxnet::end`] says why a path ended early.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoxnetValidParams {
    l1_ratio: f64,
    alphas: Option<Vec<f64>>,
    n_alphas: usize,
    alpha_min_ratio: Option<f64>,
    penalty_factor: Option<Vec<f64>>,
    standardize: bool,
    tol: f64,
    max_iter: usize,
    max_passes: usize,
    fdev: f64,
    devmax: f64,
}

impl Default for CoxnetValidParams {
    fn default() -> Self {
        Self {
            l1_ratio: 1.0,
            alphas: None,
            n_alphas: 100,
            alpha_min_ratio: None,
            penalty_factor: None,
            standardize: true,
            tol: 1e-12,
            max_iter: 1000,
            max_passes: 100_000,
            fdev: 1e-5,
            devmax: 0.999,
        }
    }
}

/// Unchecked [`CoxnetValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoxnetParams(CoxnetValidParams);

impl CoxnetParams {
    /// Mix of L1 and L2 (1 = LASSO).
    pub fn l1_ratio(mut self, r: f64) -> Self {
        self.0.l1_ratio = r;
        self
    }
    /// An explicit, decreasing penalty path.
    pub fn alphas(mut self, alphas: Vec<f64>) -> Self {
        self.0.alphas = Some(alphas);
        self
    }
    /// Length of the automatic path.
    pub fn n_alphas(mut self, n: usize) -> Self {
        self.0.n_alphas = n;
        self
    }
    /// Smallest α of the automatic path as a fraction of α_max.
    pub fn alpha_min_ratio(mut self, r: f64) -> Self {
        self.0.alpha_min_ratio = Some(r);
        self
    }
    /// Per-feature penalty factors (0 = unpenalised).
    pub fn penalty_factor(mut self, pf: Vec<f64>) -> Self {
        self.0.penalty_factor = Some(pf);
        self
    }
    /// Whether to standardise columns (population sd) before penalising.
    pub fn standardize(mut self, yes: bool) -> Self {
        self.0.standardize = yes;
        self
    }
    /// Convergence tolerance.
    pub fn tol(mut self, tol: f64) -> Self {
        self.0.tol = tol;
        self
    }
    /// Newton steps allowed per penalty.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.0.max_iter = n;
        self
    }
    /// Coordinate-descent passes allowed for the whole path (glmnet's `maxit`).
    pub fn max_passes(mut self, n: usize) -> Self {
        self.0.max_passes = n;
        self
    }
    /// The path ends when the deviance explained grows by less than this fraction between
    /// penalties (glmnet's `fdev`; 0 turns the rule off).
    pub fn fdev(mut self, f: f64) -> Self {
        self.0.fdev = f;
        self
    }
    /// The path ends once this fraction of the null deviance is explained (glmnet's
    /// `devmax`; 1 turns the rule off).
    pub fn devmax(mut self, f: f64) -> Self {
        self.0.devmax = f;
        self
    }
}

impl ParamGuard for CoxnetParams {
    type Checked = CoxnetValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&CoxnetValidParams> {
        let p = &self.0;
        let bad = |m: String| Err(Error::InvalidParameter(m));
        if !(p.l1_ratio > 0.0 && p.l1_ratio <= 1.0) {
            return bad(format!("l1_ratio = {} must be in (0, 1]", p.l1_ratio));
        }
        if let Some(a) = &p.alphas {
            if a.is_empty()
                || a.iter().any(|v| !(v.is_finite() && *v > 0.0))
                || a.windows(2).any(|w| w[1] > w[0])
            {
                return bad("alphas must be positive, finite and decreasing".into());
            }
        }
        if p.n_alphas == 0 {
            return bad("n_alphas must be >= 1".into());
        }
        if let Some(r) = p.alpha_min_ratio {
            if !(r > 0.0 && r < 1.0) {
                return bad(format!("alpha_min_ratio = {r} must be in (0, 1)"));
            }
        }
        if let Some(pf) = &p.penalty_factor {
            if pf.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || pf.iter().all(|&v| v == 0.0) {
                return bad("penalty factors must be >= 0 and not all 0".into());
            }
        }
        if !(p.tol > 0.0 && p.tol.is_finite()) || p.max_iter == 0 || p.max_passes == 0 {
            return bad("tol must be > 0, max_iter and max_passes >= 1".into());
        }
        let valid = p.fdev >= 0.0 && p.fdev.is_finite() && p.devmax > 0.0 && p.devmax <= 1.0;
        if !valid {
            return bad(format!(
                "fdev = {} must be >= 0 and devmax = {} in (0, 1]",
                p.fdev, p.devmax
            ));
        }
        Ok(p)
    }

    fn check(self) -> Result<CoxnetValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted elastic-net Cox path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coxnet {
    /// The penalties, decreasing.
    pub alphas: Vec<f64>,
    /// Coefficients on the raw covariate scale, one row per penalty (`n_alphas × p`).
    pub coef: Array2<f64>,
    /// Newton steps used at each penalty.
    pub iterations: Vec<usize>,
    /// The (rescaled) penalty factors used.
    pub penalty_factor: Vec<f64>,
    /// The mixing ratio used.
    pub l1_ratio: f64,
    /// Fraction of the null deviance explained at each penalty (glmnet's `dev.ratio`).
    pub dev_ratio: Vec<f64>,
    /// Why the path ends where it does.
    pub end: PathEnd,
    /// The population standard deviation of each covariate column of the training data
    /// (empty in models saved before it was recorded).
    #[serde(default)]
    pub x_sd: Vec<f64>,
}

/// Why a [`Coxnet`] path ends where it does (glmnet ends its paths by the same rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathEnd {
    /// Every penalty asked for was solved.
    Complete,
    /// The deviance explained grew by less than `fdev` (relative) at the last penalty.
    DevianceFlat,
    /// At least `devmax` of the null deviance is explained.
    Saturated,
    /// The coordinate-descent pass budget (`max_passes`) ran out at the next penalty.
    PassBudget,
    /// Newton's method did not converge at the next penalty in `max_iter` steps (e.g.
    /// separable data, whose optimum runs off as the penalty shrinks).
    NotConverged,
}

impl Coxnet {
    /// Default parameters (LASSO, standardised, automatic path of 100 penalties).
    pub fn params() -> CoxnetParams {
        CoxnetParams::default()
    }

    /// Risk (`Xβ`, **higher = worse**) at penalty index `k`.
    pub fn risk(&self, x: ArrayView2<f64>, k: usize) -> Result<Array1<f64>> {
        let p = self.coef.ncols();
        if k >= self.alphas.len() {
            return Err(Error::InvalidParameter(format!(
                "penalty index {k} is past the path's {} penalties",
                self.alphas.len()
            )));
        }
        if x.ncols() != p {
            return Err(Error::LengthMismatch {
                what: "covariate columns",
                got: x.ncols(),
                expected: p,
            });
        }
        Ok(x.dot(&self.coef.row(k)))
    }

    /// Coefficients on the standardised scale — each raw coefficient times its column's
    /// population SD in the training data, the scale glmnet penalises on and scikit-survival's
    /// coefficients come on when it is given standardised columns — one row per penalty. They
    /// compare covariates measured in different units (a radiomics table). An error for a
    /// model saved before the SDs were recorded.
    pub fn coef_standardized(&self) -> Result<Array2<f64>> {
        if self.x_sd.len() != self.coef.ncols() {
            return Err(Error::InvalidParameter(
                "this model was saved without its covariates' SDs: refit it".into(),
            ));
        }
        Ok(&self.coef * &Array1::from(self.x_sd.clone()))
    }

    /// Indices of the non-zero coefficients at penalty index `k` (the selected features).
    pub fn selected(&self, k: usize) -> Vec<usize> {
        self.coef
            .row(k)
            .iter()
            .enumerate()
            .filter(|(_, &b)| b != 0.0)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Standardised problem data shared by the solver.
struct Problem<'a> {
    x: Array2<f64>,
    /// `xᵀ`, contiguous per feature, for the coordinate sweeps.
    xt: Array2<f64>,
    scale: Array1<f64>,
    pl: PartialLikelihood,
    pf: Vec<f64>,
    l1: f64,
    /// (1/n)·NLL at β = 0: the scale of glmnet-style convergence thresholds.
    null: f64,
    params: &'a CoxnetValidParams,
}

impl Problem<'_> {
    fn n(&self) -> f64 {
        self.x.nrows() as f64
    }

    fn penalty(&self, beta: &Array1<f64>, alpha: f64) -> f64 {
        beta.iter()
            .enumerate()
            .map(|(k, &b)| self.unit_penalty(k, b))
            .sum::<f64>()
            * alpha
    }

    /// Coefficient `k`'s term of the penalty at value `v`, per unit of `α`.
    fn unit_penalty(&self, k: usize, v: f64) -> f64 {
        self.pf[k] * (self.l1 * v.abs() + (1.0 - self.l1) / 2.0 * v * v)
    }

    /// The coordinate-descent update of coefficient `k` on the Newton step's model, from its
    /// current value and the model's gradient in it: the new value and its move
    /// `(curvature + ridge) · δ²`, or `None` where the coordinate has no curvature.
    fn update(
        &self,
        k: usize,
        alpha: f64,
        curvature: f64,
        current: f64,
        grad: f64,
    ) -> Option<(f64, f64)> {
        let denom = curvature + alpha * (1.0 - self.l1) * self.pf[k];
        if denom <= 0.0 {
            return None;
        }
        let z = curvature * current - grad;
        let new = soft_threshold(z, alpha * self.l1 * self.pf[k]) / denom;
        let delta = new - current;
        Some((new, denom * delta * delta))
    }

    /// The linear predictor `Xβ`, summed over the non-zero coefficients only (most are zero
    /// along a LASSO path).
    fn eta(&self, beta: &Array1<f64>) -> Array1<f64> {
        let mut eta = Array1::zeros(self.x.nrows());
        for (k, &b) in beta.iter().enumerate() {
            if b != 0.0 {
                eta.scaled_add(b, &self.xt.row(k));
            }
        }
        eta
    }

    /// The objective and the linear predictor it was computed from.
    fn objective_eta(&self, beta: &Array1<f64>, alpha: f64) -> Result<(f64, Array1<f64>)> {
        let eta = self.eta(beta);
        let f = self.pl.nll(eta.as_slice().unwrap_or(&[]), Reduction::Sum)? / self.n()
            + self.penalty(beta, alpha);
        Ok((f, eta))
    }

    /// Gradient of (1/n)·NLL with respect to β.
    fn gradient(&self, beta: &Array1<f64>) -> Result<Array1<f64>> {
        let eta = self.eta(beta);
        let (_, g, _) = self
            .pl
            .breslow_grad_diag_hess_eta(eta.as_slice().unwrap_or(&[]), Reduction::Sum)?;
        Ok(self.x.t().dot(&g) / self.n())
    }

    /// Solves one penalty from a warm start; returns the Newton steps used.
    ///
    /// Each Newton step minimises the exact second-order model of `(1/n)·NLL` (the full
    /// Hessian in η applied in O(n), not glmnet's diagonal) plus the penalty, by coordinate
    /// descent over a working set: the non-zero and unpenalised coefficients, grown by every
    /// coefficient that violates the model's optimality condition (checked with one
    /// matrix-vector product) until none does — directly, or in covariance mode ([`Gram`])
    /// once that is predicted to finish sooner. The step is halved until the true objective
    /// does not increase; the penalty is solved when a step moves no coefficient by more
    /// than glmnet's rule allows (`curvature · δ² ≤ tol · null objective`).
    /// Each coordinate-descent sweep and each optimality check spends one of `passes`; when
    /// none is left the penalty is not solved (`Error::NotConverged`, with `passes` at 0).
    /// `hx` holds `H x_k / n` per feature, recomputed on a feature's first visit in each
    /// Newton step; the caller keeps it between penalties so its buffers are reused.
    fn solve(
        &self,
        beta: &mut Array1<f64>,
        alpha: f64,
        tol: f64,
        passes: &mut usize,
        hx: &mut Vec<Vec<f64>>,
    ) -> Result<usize> {
        let (n, p) = self.x.dim();
        let nf = n as f64;
        let threshold = tol * self.null;
        let (mut f_old, mut eta) = self.objective_eta(beta, alpha)?;
        hx.resize(p, Vec::new());
        for it in 1..=self.params.max_iter {
            let model = self.pl.breslow_hessian(eta.as_slice().unwrap_or(&[]))?;
            // resid = (g + H u) / n with u = X(next − β): the model's gradient in η.
            let mut resid: Vec<f64> = model.grad.iter().map(|v| v / nf).collect();
            let mut next = beta.clone();
            let mut curvature = vec![f64::NAN; p];
            let mut working = vec![false; p];
            let mut set: Vec<usize> = Vec::new();
            for k in 0..p {
                if next[k] != 0.0 || self.pf[k] == 0.0 {
                    working[k] = true;
                    set.push(k);
                }
            }
            self.prepare(&set, &model, hx, &mut curvature);
            // Direct sweeps visit the working set in index order, accelerated by Anderson
            // extrapolation (`Anderson`); sweeps in covariance mode in a new random order each
            // (seeded, so a fit is deterministic). Measured in docs/benchmarks.md.
            let mut order = Shuffler::new(it as u64);
            // Covariance mode, entered when it is predicted to finish the working set sooner
            // (see `Gram`); kept, and grown with the set, for the rest of the Newton step.
            let mut gram: Option<Gram> = None;
            loop {
                // The largest move of each direct sweep on this working set.
                let mut moves: Vec<f64> = Vec::new();
                let mut anderson = Anderson::default();
                for _sweep in 0..MAX_SWEEPS {
                    *passes = passes.checked_sub(1).ok_or_else(|| self.spent(beta))?;
                    let max_move = match gram.as_mut() {
                        Some(g) => {
                            order.shuffle(&mut set);
                            g.sweep(self, alpha, &set, &curvature, &mut next)
                        }
                        None => self.sweep(alpha, &set, hx, &curvature, &mut next, &mut resid),
                    };
                    if max_move <= threshold * INNER {
                        break;
                    }
                    moves.push(max_move);
                    match gram.as_mut() {
                        Some(g) => g.newton(self, alpha, &mut next),
                        None if Gram::pays(&moves, threshold * INNER, set.len(), n) => {
                            gram = Some(Gram::new(self, &set, hx, &resid, &next));
                        }
                        None => {
                            if let Some(target) = anderson.record(&set, &next) {
                                self.try_move(alpha, &set, &target, &model, &mut next, &mut resid);
                            }
                        }
                    }
                }
                if let Some(g) = gram.as_mut() {
                    g.sync(hx, &next, &mut resid);
                }
                // Coefficients outside the working set that the model would move off zero.
                *passes = passes.checked_sub(1).ok_or_else(|| self.spent(beta))?;
                // One BLAS product over every feature, kept although only those outside the set
                // are read: the rounding of this test decides features whose gradient sits at
                // the threshold (a duplicated radiomics column does, once its twin is in); a
                // `dot` per outside feature was faster and changed a main-job fold's selection.
                let grad = self.xt.dot(&Array1::from(resid.clone()));
                let violators: Vec<usize> = (0..p)
                    .filter(|&k| !working[k] && grad[k].abs() > alpha * self.l1 * self.pf[k])
                    .collect();
                if violators.is_empty() {
                    break;
                }
                for &k in &violators {
                    working[k] = true;
                    set.push(k);
                }
                self.prepare(&violators, &model, hx, &mut curvature);
                match gram.as_mut() {
                    None => set.sort_unstable(),
                    Some(g) => g.extend(self, &violators, hx, &resid, &next),
                }
            }
            // Step halving on the true objective.
            let step = &next - &*beta;
            let mut t = 1.0;
            let mut cand = next;
            let (mut f_new, mut eta_new) = self.objective_eta(&cand, alpha)?;
            while f_new > f_old + 1e-14 * f_old.abs() && t > 1e-10 {
                t *= 0.5;
                cand = &*beta + &(&step * t);
                (f_new, eta_new) = self.objective_eta(&cand, alpha)?;
            }
            // The same rule on the whole Newton step.
            let moved = (&cand - &*beta)
                .iter()
                .zip(&curvature)
                .filter(|(_, c)| !c.is_nan())
                .fold(0.0f64, |m, (d, c)| m.max(c * d * d));
            *beta = cand;
            f_old = f_new;
            eta = eta_new;
            if moved <= threshold {
                return Ok(it);
            }
        }
        Err(Error::NotConverged {
            iterations: self.params.max_iter,
            step: f64::NAN,
            gradient: self.gradient_norm(beta),
        })
    }

    /// One coordinate-descent sweep over `set` on the Newton step's model, keeping `resid`
    /// (the model's gradient in η) current; every member's `H x_k / n` and curvature must
    /// have been prepared ([`Problem::prepare`]). Returns the largest move, `curvature · δ²`.
    fn sweep(
        &self,
        alpha: f64,
        set: &[usize],
        hx: &[Vec<f64>],
        curvature: &[f64],
        next: &mut Array1<f64>,
        resid: &mut [f64],
    ) -> f64 {
        let mut max_move: f64 = 0.0;
        let mut grad = set.first().map_or(0.0, |&k| dot(self.column(k), resid));
        for (i, &k) in set.iter().enumerate() {
            // The next member's column; its gradient is read in the same pass as this move.
            let following = set.get(i + 1).map_or(&[][..], |&k| self.column(k));
            let delta = match self.update(k, alpha, curvature[k], next[k], grad) {
                Some((new, moved)) if new != next[k] => {
                    max_move = max_move.max(moved);
                    let delta = new - next[k];
                    next[k] = new;
                    delta
                }
                _ => 0.0,
            };
            grad = if delta != 0.0 {
                axpy_dot(delta, &hx[k], following, resid)
            } else {
                dot(following, resid)
            };
        }
        max_move
    }

    /// Feature `k`'s standardised values (a row of `xᵀ`).
    fn column(&self, k: usize) -> &[f64] {
        self.xt.row(k).to_slice().unwrap_or(&[])
    }

    /// The Newton step's model columns `H x_k / n` of `features` into `hx[k]`, and their
    /// curvatures `x_kᵀ H x_k / n`; four features at a time through one pass over the risk
    /// sets (`BreslowHessian::apply_lanes`; the same values as one at a time).
    fn prepare(
        &self,
        features: &[usize],
        model: &BreslowHessian<'_>,
        hx: &mut [Vec<f64>],
        curvature: &mut [f64],
    ) {
        let n = self.x.nrows();
        for chunk in features.chunks(4) {
            // Taken out of `hx` while written, so that a chunk's buffers are borrowed together.
            let mut out: Vec<Vec<f64>> = chunk
                .iter()
                .map(|&k| {
                    let mut h = std::mem::take(&mut hx[k]);
                    h.resize(n, 0.0);
                    h
                })
                .collect();
            match (out.as_mut_slice(), chunk) {
                ([a, b, c, d], &[ka, kb, kc, kd]) => model.apply_lanes(
                    [ka, kb, kc, kd].map(|k| self.column(k)),
                    [a, b, c, d].map(|h| h.as_mut_slice()),
                ),
                _ => {
                    for (h, &k) in out.iter_mut().zip(chunk) {
                        model.apply(self.column(k), h);
                    }
                }
            }
            for (mut h, &k) in out.into_iter().zip(chunk) {
                h.iter_mut().for_each(|v| *v /= n as f64);
                curvature[k] = dot(self.column(k), &h);
                hx[k] = h;
            }
        }
    }

    /// Moves the working set's coefficients to `target` (values in `set` order) if that
    /// lowers the Newton step's model, keeping `resid` current: `du = X Δ`
    /// by one pass over the set's columns, `H du / n` in O(n), and the model's change
    /// `residᵀ du + ½ duᵀ H du / n` plus the penalty's. Returns whether it moved.
    fn try_move(
        &self,
        alpha: f64,
        set: &[usize],
        target: &[f64],
        model: &BreslowHessian<'_>,
        next: &mut Array1<f64>,
        resid: &mut [f64],
    ) -> bool {
        let n = self.x.nrows();
        let mut du = vec![0.0; n];
        let mut change = 0.0;
        for (&k, &t) in set.iter().zip(target) {
            let d = t - next[k];
            if d != 0.0 {
                axpy(d, self.column(k), &mut du);
                change += alpha * (self.unit_penalty(k, t) - self.unit_penalty(k, next[k]));
            }
        }
        let mut hdu = vec![0.0; n];
        model.apply(&du, &mut hdu);
        let nf = n as f64;
        hdu.iter_mut().for_each(|v| *v /= nf);
        change += dot(resid, &du) + 0.5 * dot(&du, &hdu);
        if change.is_nan() || change >= 0.0 {
            return false;
        }
        for (&k, &t) in set.iter().zip(target) {
            next[k] = t;
        }
        for (r, h) in resid.iter_mut().zip(&hdu) {
            *r += h;
        }
        true
    }

    fn gradient_norm(&self, beta: &Array1<f64>) -> f64 {
        self.gradient(beta)
            .map_or(f64::NAN, |g| g.iter().map(|v| v * v).sum::<f64>().sqrt())
    }

    /// The error of a spent pass budget.
    fn spent(&self, beta: &Array1<f64>) -> Error {
        Error::NotConverged {
            iterations: self.params.max_passes,
            step: f64::NAN,
            gradient: self.gradient_norm(beta),
        }
    }
}

/// How much faster the Gram matrix's arithmetic runs (one matrix product) than a direct
/// sweep's (two passes over memory per coordinate): forming `G` costs about
/// `|S| / (2·GEMM_GAIN)` direct sweeps (measured 3.7 on this project's Zen 4: 33 ms against
/// 0.33 ms a sweep at |S| = 740, n = 1 000).
const GEMM_GAIN: f64 = 4.0;
/// How much faster a Cholesky factorisation's arithmetic runs than a Gram sweep's: a face is
/// solved once the Gram sweeps since the last solve have cost `f³ / (3·SOLVE_GAIN)`.
const SOLVE_GAIN: f64 = 8.0;
/// Sweeps over which [`Gram::pays`] measures the rate of convergence.
const RATE_SWEEPS: usize = 4;
/// The largest working set given a Gram matrix (128² numbers, 128 KiB, well inside a core's
/// second-level cache): with Anderson-accelerated direct sweeps, covariance mode for larger
/// sets was slower (300 × 1 700 and 1 000 × 1 456 designs, docs/benchmarks.md).
const GRAM_MAX: usize = 128;

/// Coordinate descent in covariance mode on one Newton step's model: the working set's Gram
/// matrix `G = X_Sᵀ H X_S / n` (one matrix product) and the model's gradient over the set,
/// `X_Sᵀ resid`, kept current in O(|S|) per move instead of two O(n) passes. When a sweep leaves
/// the signs of the set unchanged, the model restricted to its non-zero coefficients is
/// minimised exactly (a Cholesky solve; the step stops where a coefficient would change sign),
/// as a smooth quadratic on that face; the model decreases on every such step. `resid` is
/// brought up to date by [`Gram::sync`] before the optimality check needs it.
struct Gram {
    members: Vec<usize>,
    /// Position of each feature in `members` (`usize::MAX` outside the set).
    pos: Vec<usize>,
    /// `G`, row by row (`rows[i][j] = x_iᵀ (H x_j / n)`).
    rows: Vec<Vec<f64>>,
    /// The model's gradient over the set, `x_jᵀ resid` at the current coefficients.
    grad: Vec<f64>,
    /// Each member's coefficient when `resid` was last brought up to date.
    synced: Vec<f64>,
    /// The set's signs after the last sweep (a Newton solve needs them unchanged).
    signs: Vec<i8>,
    /// Cleared when a face's system is not positive definite.
    newton_ok: bool,
    /// Sweeps since the last Newton solve.
    since: usize,
}

impl Gram {
    /// Whether covariance mode is predicted to finish this working set sooner, given the
    /// largest move of each direct sweep so far: the sweeps still needed to reach `target`,
    /// extrapolated from the geometric decay of the largest move over the last `RATE_SWEEPS`
    /// sweeps, times what each would save (a Gram sweep reads `|S|²` numbers, a direct one
    /// `2|S|n`), against the Gram matrix's cost. Never for sets over `GRAM_MAX`.
    fn pays(moves: &[f64], target: f64, m: usize, n: usize) -> bool {
        let Some(&now) = moves.last() else {
            return false;
        };
        if moves.len() <= RATE_SWEEPS || m > GRAM_MAX {
            return false;
        }
        let before = moves[moves.len() - 1 - RATE_SWEEPS];
        let rate = (now / before).powf(1.0 / RATE_SWEEPS as f64);
        let remaining = if rate < 1.0 {
            (target / now).ln() / rate.ln()
        } else {
            f64::INFINITY
        };
        let saved = 1.0 - (m as f64 / (2.0 * n as f64)).min(1.0);
        remaining * saved >= m as f64 / (2.0 * GEMM_GAIN)
    }

    /// The Gram matrix of `set` (every member's `H x_k / n` in `hx`) and the gradient over it.
    fn new(
        prob: &Problem<'_>,
        set: &[usize],
        hx: &[Vec<f64>],
        resid: &[f64],
        next: &Array1<f64>,
    ) -> Self {
        let n = prob.x.nrows();
        let mut members = set.to_vec();
        members.sort_unstable();
        let m = members.len();
        let mut xs = Array2::<f64>::zeros((m, n));
        let mut hs = Array2::<f64>::zeros((m, n));
        for (j, &k) in members.iter().enumerate() {
            xs.row_mut(j).assign(&prob.xt.row(k));
            hs.row_mut(j)
                .as_slice_mut()
                .unwrap_or(&mut [])
                .copy_from_slice(&hx[k]);
        }
        let g = xs.dot(&hs.t());
        let rows = g.rows().into_iter().map(|r| r.to_vec()).collect();
        let mut pos = vec![usize::MAX; prob.xt.nrows()];
        for (j, &k) in members.iter().enumerate() {
            pos[k] = j;
        }
        let grad = members
            .iter()
            .map(|&k| dot(prob.column(k), resid))
            .collect();
        let synced = members.iter().map(|&k| next[k]).collect();
        Self {
            members,
            pos,
            rows,
            grad,
            synced,
            signs: Vec::new(),
            newton_ok: true,
            since: 0,
        }
    }

    /// Adds features to the set (`resid` must be up to date: after [`Gram::sync`]).
    fn extend(
        &mut self,
        prob: &Problem<'_>,
        new: &[usize],
        hx: &[Vec<f64>],
        resid: &[f64],
        next: &Array1<f64>,
    ) {
        for &k in new {
            for (i, &j) in self.members.iter().enumerate() {
                self.rows[i].push(dot(prob.column(j), &hx[k]));
            }
            self.pos[k] = self.members.len();
            self.members.push(k);
            let row = self
                .members
                .iter()
                .map(|&j| dot(prob.column(k), &hx[j]))
                .collect();
            self.rows.push(row);
            self.grad.push(dot(prob.column(k), resid));
            self.synced.push(next[k]);
        }
        self.signs.clear();
    }

    /// One sweep over `set` in its current order (the same moves as a direct sweep, up to
    /// rounding); returns the largest move.
    fn sweep(
        &mut self,
        prob: &Problem<'_>,
        alpha: f64,
        set: &[usize],
        curvature: &[f64],
        next: &mut Array1<f64>,
    ) -> f64 {
        self.since += 1;
        let mut max_move: f64 = 0.0;
        for &k in set {
            let j = self.pos[k];
            let Some((new, moved)) = prob.update(k, alpha, curvature[k], next[k], self.grad[j])
            else {
                continue;
            };
            let delta = new - next[k];
            if delta != 0.0 {
                axpy(delta, &self.rows[j], &mut self.grad);
                next[k] = new;
                max_move = max_move.max(moved);
            }
        }
        max_move
    }

    /// Steps to the model's minimiser on the current face (the non-zero coefficients with their
    /// signs held) if the last sweep left every sign unchanged and the sweeps since the last
    /// solve have paid for it; the step stops at the first coefficient that would change sign,
    /// which is set to zero. A face whose system is not positive definite (p > n, nearly
    /// collinear features) turns the solves off for the rest of the Newton step.
    fn newton(&mut self, prob: &Problem<'_>, alpha: f64, next: &mut Array1<f64>) {
        let signs: Vec<i8> = self
            .members
            .iter()
            .map(|&k| {
                if next[k] > 0.0 {
                    1
                } else if next[k] < 0.0 {
                    -1
                } else {
                    0
                }
            })
            .collect();
        let stable = signs == self.signs;
        self.signs = signs;
        if !stable || !self.newton_ok {
            return;
        }
        let face: Vec<usize> = (0..self.members.len())
            .filter(|&j| self.signs[j] != 0)
            .collect();
        let f = face.len();
        let (cubic, m) = ((f as f64).powi(3), self.members.len() as f64);
        if f == 0 || (self.since as f64) * m * m * SOLVE_GAIN < cubic / 3.0 {
            return;
        }
        self.since = 0;
        let (l1, l2) = (alpha * prob.l1, alpha * (1.0 - prob.l1));
        let mut a = Array2::<f64>::zeros((f, f));
        for (r, &i) in face.iter().enumerate() {
            for (c, &j) in face.iter().enumerate() {
                a[[r, c]] = self.rows[i][j];
            }
            a[[r, r]] += l2 * prob.pf[self.members[i]];
        }
        let b: Array1<f64> = face
            .iter()
            .map(|&i| {
                let k = self.members[i];
                -(self.grad[i] + prob.pf[k] * (l1 * f64::from(self.signs[i]) + l2 * next[k]))
            })
            .collect();
        use ndarray_linalg::SolveC;
        let Ok(step) = a.solvec(&b) else {
            self.newton_ok = false;
            return;
        };
        // The face's model along the step is `t²/2 · stepᵀA step − t · bᵀstep`: minimised
        // exactly (t = 1 for an exact solve; a poorly conditioned one is shortened, never
        // allowed to raise the model).
        let (slope, curve) = (step.dot(&b), step.dot(&a.dot(&step)));
        if !(slope > 0.0 && curve > 0.0) || step.iter().any(|v| !v.is_finite()) {
            self.newton_ok = false;
            return;
        }
        let mut t = (slope / curve).min(1.0);
        // No coefficient may change sign: the step stops at the first that reaches zero.
        let mut stop = usize::MAX;
        for (r, &i) in face.iter().enumerate() {
            let old = next[self.members[i]];
            if old * (old + t * step[r]) < 0.0 {
                let ti = -old / step[r];
                if ti < t {
                    t = ti;
                    stop = r;
                }
            }
        }
        for (r, &i) in face.iter().enumerate() {
            let d = t * step[r];
            let k = self.members[i];
            let new = if r == stop { 0.0 } else { next[k] + d };
            let d = new - next[k];
            next[k] = new;
            axpy(d, &self.rows[i], &mut self.grad);
        }
    }

    /// Brings `resid` up to date with the coefficients' moves since the last call.
    fn sync(&mut self, hx: &[Vec<f64>], next: &Array1<f64>, resid: &mut [f64]) {
        for (j, &k) in self.members.iter().enumerate() {
            let d = next[k] - self.synced[j];
            if d != 0.0 {
                axpy(d, &hx[k], resid);
                self.synced[j] = next[k];
            }
        }
    }
}

/// Anderson acceleration of cyclic coordinate descent (Bertrand & Massias, "Anderson
/// acceleration of coordinate descent", AISTATS 2021): the sweep is a fixed-point map, and
/// every `ANDERSON` sweeps the last `ANDERSON + 1` iterates are combined with the weights
/// (summing to one) that minimise the norm of the same combination of their successive
/// differences. The combination replaces the iterate only where it lowers the Newton step's
/// model (`Problem::try_move`), so the descent stays monotone.
#[derive(Default)]
struct Anderson {
    iterates: Vec<Vec<f64>>,
}

impl Anderson {
    /// Records the working set's coefficients after a sweep (one `Anderson` per working set);
    /// every `ANDERSON` sweeps, returns the extrapolated coefficients (in `set` order), if the
    /// small system is solvable.
    fn record(&mut self, set: &[usize], next: &Array1<f64>) -> Option<Vec<f64>> {
        use ndarray_linalg::Solve;
        self.iterates.push(set.iter().map(|&k| next[k]).collect());
        if self.iterates.len() <= ANDERSON {
            return None;
        }
        let it = std::mem::take(&mut self.iterates);
        let diffs: Vec<Vec<f64>> = it
            .windows(2)
            .map(|w| w[1].iter().zip(&w[0]).map(|(a, b)| a - b).collect())
            .collect();
        let k = diffs.len();
        let mut gram = Array2::<f64>::zeros((k, k));
        for a in 0..k {
            for b in 0..k {
                gram[[a, b]] = dot(&diffs[a], &diffs[b]);
            }
        }
        // A relative ridge keeps the system solvable when the differences are collinear.
        let ridge = 1e-10 * gram.diag().sum();
        gram.diag_mut().iter_mut().for_each(|v| *v += ridge);
        let z = gram.solve(&Array1::ones(k)).ok()?;
        let total = z.sum();
        if !(total.is_finite() && total != 0.0) {
            return None;
        }
        let target = (0..set.len())
            .map(|j| (0..k).map(|i| z[i] / total * it[i + 1][j]).sum())
            .collect();
        Some(target)
    }
}

/// Sweeps between Anderson extrapolations (and differences combined in each).
const ANDERSON: usize = 5;

/// The inner coordinate descent stops at `INNER` × the Newton step's threshold: the model is
/// ill-conditioned when p > n, and a loosely solved model makes the outer steps look
/// converged while the objective is still falling (measured in `docs/benchmarks.md`).
const INNER: f64 = 1e-3;
/// Coordinate sweeps allowed per Newton step.
const MAX_SWEEPS: usize = 100_000;
/// Penalties solved before a path may end by its deviance (glmnet's `mnlam`).
const MIN_PENALTIES: usize = 5;

/// `aᵀb` with eight independent partial sums, so the compiler can vectorise it (a plain
/// fold is one serial chain of additions).
///
/// Compiled twice and chosen when first called: for AVX where the CPU has it, otherwise for
/// the baseline x86-64 target (SSE2). The two sum the same lanes in the same order with
/// separate multiplies and adds (no FMA, which would round differently), so every CPU gets the
/// same bits: the sweeps' results follow the seed, not the processor.
#[multiversion::multiversion(targets("x86_64+avx"))]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `y += a·x`, elementwise; dispatched as [`dot`] (AVX where present, same bits everywhere).
#[multiversion::multiversion(targets("x86_64+avx"))]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `y += a·h`, then `xᵀy` — [`axpy`] and [`dot`] in one pass (the same bits as the two
/// calls; `x` empty skips the product). A sweep moves one coefficient and reads the next one's
/// gradient in the same pass over the residual.
#[multiversion::multiversion(targets("x86_64+avx"))]
fn axpy_dot(a: f64, h: &[f64], x: &[f64], y: &mut [f64]) -> f64 {
    if x.is_empty() {
        axpy(a, h, y);
        return 0.0;
    }
    let mut acc = [0.0f64; 8];
    let (mut cy, ch, cx) = (y.chunks_exact_mut(8), h.chunks_exact(8), x.chunks_exact(8));
    for ((y, h), x) in (&mut cy).zip(ch).zip(cx) {
        for l in 0..8 {
            y[l] += a * h[l];
            acc[l] += x[l] * y[l];
        }
    }
    let (ry, rh, rx) = (
        cy.into_remainder(),
        h.chunks_exact(8).remainder(),
        x.chunks_exact(8).remainder(),
    );
    for (y, h) in ry.iter_mut().zip(rh) {
        *y += a * h;
    }
    let tail: f64 = rx.iter().zip(ry.iter()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f64>() + tail
}

/// Seeded shuffles (the workspace's one generator, ChaCha8): the same on every platform.
struct Shuffler(ChaCha8Rng);

impl Shuffler {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn shuffle(&mut self, v: &mut [usize]) {
        v.shuffle(&mut self.0);
    }
}

/// `sign(z) · max(|z| − t, 0)`: the minimiser of `½ (u − z)² + t |u|`.
pub(crate) fn soft_threshold(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

impl CoxnetParams {
    /// Checks the parameters, then fits the path to covariates `x` (`n × p`) and survival `y`
    /// ([`CoxnetValidParams::fit_arrays`]).
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Coxnet> {
        self.check_ref()?.fit_arrays(x, y)
    }
}

/// linfa's `fit` on a `Dataset` whose targets are `Array1<Surv>` (the parameters' unchecked
/// form gets it through linfa's `ParamGuard`).
impl<D: ndarray::Data<Elem = f64>>
    linfa::traits::Fit<ndarray::ArrayBase<D, ndarray::Ix2>, Array1<Surv>, Error>
    for CoxnetValidParams
{
    type Object = Coxnet;

    fn fit(
        &self,
        dataset: &linfa::DatasetBase<ndarray::ArrayBase<D, ndarray::Ix2>, Array1<Surv>>,
    ) -> Result<Coxnet> {
        let y = Surv::slice(dataset.targets().view());
        self.fit_arrays(dataset.records().view(), &y)
    }
}

impl CoxnetValidParams {
    /// Fits the path to covariates `x` (`n × p`) and survival `y` (Breslow ties).
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Coxnet> {
        let (n, p) = x.dim();
        check_design(x, y)?;
        if p == 0 {
            return Err(Error::Empty);
        }
        let mut pf = self.penalty_factor.clone().unwrap_or_else(|| vec![1.0; p]);
        if pf.len() != p {
            return Err(Error::LengthMismatch {
                what: "penalty_factor",
                got: pf.len(),
                expected: p,
            });
        }
        let total: f64 = pf.iter().sum();
        pf.iter_mut().for_each(|v| *v *= p as f64 / total);
        let mean = x.mean_axis(Axis(0)).ok_or(Error::Empty)?;
        let scale = if self.standardize {
            column_sd(x)?
        } else {
            Array1::ones(p)
        };
        // Rows in time order (β does not depend on it): the solver's O(n) Hessian products
        // then walk memory in order.
        let order = time_order(y);
        let xs = ((&x - &mean) / &scale).select(Axis(0), &order);
        let y: Vec<Surv> = order.iter().map(|&i| y[i]).collect();
        let pl = PartialLikelihood::new(&y, Ties::Breslow)?;
        let null = pl.nll(&vec![0.0; n], Reduction::Sum)? / n as f64;
        let prob = Problem {
            null,
            xt: xs.t().as_standard_layout().into_owned(),
            x: xs,
            scale,
            pl,
            pf,
            l1: self.l1_ratio,
            params: self,
        };
        // Unpenalised covariates first (penalised ones held at 0), then α_max.
        let mut beta = Array1::<f64>::zeros(p);
        let mut passes = self.max_passes;
        let mut hx = Vec::new();
        // Tightly, since α_max is read off the gradient there.
        if prob.pf.contains(&0.0) {
            prob.solve(&mut beta, 1e12, self.tol.min(1e-24), &mut passes, &mut hx)?;
        }
        let alphas = match &self.alphas {
            Some(a) => a.clone(),
            None => {
                let g = prob.gradient(&beta)?;
                let alpha_max = (0..p)
                    .filter(|&k| prob.pf[k] > 0.0)
                    .map(|k| g[k].abs() / (self.l1_ratio.max(1e-3) * prob.pf[k]))
                    .fold(0.0f64, f64::max)
                    // So that rounding does not let a feature in at the first penalty.
                    * (1.0 + 1e-12);
                let ratio = self
                    .alpha_min_ratio
                    .unwrap_or(if n > p { 1e-4 } else { 1e-2 });
                geometric_path(alpha_max, ratio, self.n_alphas)
            }
        };
        let mut coef = Array2::zeros((alphas.len(), p));
        let mut iterations = Vec::with_capacity(alphas.len());
        let mut dev_ratio = Vec::with_capacity(alphas.len());
        // Deviance = 2·(saturated log-likelihood − log-likelihood).
        let saturated = prob.pl.breslow_saturated_loglik();
        let null_dev = 2.0 * (saturated + prob.null * n as f64);
        let mut end = PathEnd::Complete;
        for (k, &alpha) in alphas.iter().enumerate() {
            match prob.solve(&mut beta, alpha, self.tol, &mut passes, &mut hx) {
                Ok(it) => iterations.push(it),
                // Small penalties on (nearly) separable data have no finite solution: the
                // path ends at the last penalty that converged, as glmnet ends its path early.
                Err(Error::NotConverged { .. }) if k > 0 => {
                    end = if passes == 0 {
                        PathEnd::PassBudget
                    } else {
                        PathEnd::NotConverged
                    };
                    break;
                }
                Err(e) => return Err(e),
            }
            coef.row_mut(k).assign(&(&beta / &prob.scale));
            let eta = prob.eta(&beta);
            let nll = prob.pl.nll(eta.as_slice().unwrap_or(&[]), Reduction::Sum)?;
            let ratio = if null_dev > 0.0 {
                1.0 - 2.0 * (saturated + nll) / null_dev
            } else {
                0.0
            };
            let previous = dev_ratio.last().copied().unwrap_or(0.0);
            dev_ratio.push(ratio);
            // glmnet's path-ending rules, on the automatic path only (as glmnet: a path the
            // caller chose is solved as far as it can be).
            if self.alphas.is_none() && k + 1 >= MIN_PENALTIES && k + 1 < alphas.len() {
                if ratio >= self.devmax {
                    end = PathEnd::Saturated;
                    break;
                }
                if ratio - previous < self.fdev * ratio {
                    end = PathEnd::DevianceFlat;
                    break;
                }
            }
        }
        let fitted = dev_ratio.len();
        let mut alphas = alphas;
        alphas.truncate(fitted);
        let coef = coef.slice(ndarray::s![..fitted, ..]).to_owned();
        Ok(Coxnet {
            alphas,
            coef,
            iterations,
            penalty_factor: prob.pf,
            l1_ratio: self.l1_ratio,
            dev_ratio,
            end,
            x_sd: x.std_axis(Axis(0), 0.0).to_vec(),
        })
    }

    /// Repeated K-fold cross-validation, as glmnet users average `cv.glmnet` over several
    /// fold assignments to steady the choice: [`cross_validate`](Self::cross_validate) with
    /// seeds `seed`, `seed + 1`, …, `seed + repeats − 1`; the mean and standard error per
    /// penalty are those of the repeats averaged, `scores` holds every repeat's folds (repeat
    /// by repeat), and `best` / `one_se` are chosen on the averaged curve. One repeat is
    /// exactly `cross_validate`.
    pub fn cross_validate_repeated(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        folds: usize,
        repeats: usize,
        seed: u64,
        metric: CvMetric,
    ) -> Result<CvResult> {
        if repeats == 0 {
            return Err(Error::InvalidParameter("repeats must be at least 1".into()));
        }
        let first = self.cross_validate(x, y, folds, seed, metric)?;
        if repeats == 1 {
            return Ok(first);
        }
        let k_alpha = first.mean.len();
        let mut runs = vec![first];
        for r in 1..repeats {
            runs.push(self.cross_validate(x, y, folds, seed.wrapping_add(r as u64), metric)?);
        }
        let avg = |f: &dyn Fn(&CvResult) -> &Vec<f64>| -> Vec<f64> {
            (0..k_alpha)
                .map(|k| runs.iter().map(|r| f(r)[k]).sum::<f64>() / repeats as f64)
                .collect()
        };
        let mean = avg(&|r| &r.mean);
        let se = avg(&|r| &r.se);
        let (best, one_se) = choose(&mean, &se, metric);
        let views: Vec<_> = runs.iter().map(|r| r.scores.view()).collect();
        let scores = ndarray::concatenate(Axis(0), &views)
            .map_err(|e| Error::InvalidParameter(format!("internal: {e}")))?;
        let path = runs.swap_remove(0).path;
        Ok(CvResult {
            path,
            scores,
            mean,
            se,
            best,
            one_se,
            metric,
        })
    }

    /// K-fold cross-validation of the penalty (folds by position after a seeded shuffle).
    /// The path's penalties come from a fit on all the data; each fold refits them on its
    /// training part and scores its held-out part by `metric`. A fold whose training part has
    /// no event, or whose fit does not converge even at the first penalty, scores NaN and is
    /// left out of the means.
    pub fn cross_validate(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        folds: usize,
        seed: u64,
        metric: CvMetric,
    ) -> Result<CvResult> {
        let n = x.nrows();
        if folds < 2 || folds > n {
            return Err(Error::InvalidParameter(format!(
                "folds = {folds} must be in 2..={n}"
            )));
        }
        let full = self.fit_arrays(x, y)?;
        let params = CoxnetValidParams {
            alphas: Some(full.alphas.clone()),
            ..self.clone()
        };
        let mut order: Vec<usize> = (0..n).collect();
        Shuffler::new(seed).shuffle(&mut order);
        let k_alpha = full.alphas.len();
        let mut scores = Array2::<f64>::from_elem((folds, k_alpha), f64::NAN);
        let pl_all = PartialLikelihood::new(y, Ties::Breslow)?;
        // Penalties every fold's path reached (a fold's path may end early, see fit_arrays).
        let mut path_len = k_alpha;
        for f in 0..folds {
            let test: Vec<usize> = order.iter().copied().skip(f).step_by(folds).collect();
            let mut held_out = vec![false; n];
            test.iter().for_each(|&i| held_out[i] = true);
            let train: Vec<usize> = (0..n).filter(|&i| !held_out[i]).collect();
            let xt = x.select(Axis(0), &train);
            let yt: Vec<Surv> = train.iter().map(|&i| y[i]).collect();
            if !yt.iter().any(|s| s.event()) {
                // Nothing to fit without an event: this fold's scores stay NaN.
                continue;
            }
            let pl_train = PartialLikelihood::new(&yt, Ties::Breslow)?;
            let fit = match params.fit_arrays(xt.view(), &yt) {
                Ok(fit) => fit,
                // This fold's training part diverges even at the largest penalty (tiny or
                // separable folds): it scores nothing; the other folds decide.
                Err(Error::NotConverged { .. }) => continue,
                Err(e) => return Err(e),
            };
            let xv = x.select(Axis(0), &test);
            let yv: Vec<Surv> = test.iter().map(|&i| y[i]).collect();
            path_len = path_len.min(fit.alphas.len());
            for k in 0..fit.alphas.len().min(k_alpha) {
                scores[[f, k]] = match metric {
                    CvMetric::Deviance => {
                        // Verweij & van Houwelingen: the held-out contribution to the
                        // full-data partial likelihood, as glmnet's cv deviance.
                        let beta = fit.coef.row(k);
                        let eta_all = x.dot(&beta);
                        let eta_tr = xt.dot(&beta);
                        let all = pl_all.nll(eta_all.as_slice().unwrap_or(&[]), Reduction::Sum)?;
                        let tr = pl_train.nll(eta_tr.as_slice().unwrap_or(&[]), Reduction::Sum)?;
                        2.0 * (all - tr)
                    }
                    CvMetric::CIndex => {
                        let risk = xv.dot(&fit.coef.row(k));
                        harrell(&yv, risk.as_slice().unwrap_or(&[]), crate::DEFAULT_TIED_TOL)
                            .map_or(f64::NAN, |c| c.c_index)
                    }
                };
            }
        }
        let mean: Vec<f64> = (0..k_alpha)
            .map(|k| {
                if k < path_len {
                    nan_mean(scores.column(k).iter())
                } else {
                    f64::NAN
                }
            })
            .collect();
        let se: Vec<f64> = (0..k_alpha)
            .map(|k| {
                let col: Vec<f64> = scores
                    .column(k)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                let m = nan_mean(col.iter());
                let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>()
                    / (col.len().max(2) - 1) as f64;
                (var / col.len().max(1) as f64).sqrt()
            })
            .collect();
        let (best, one_se) = choose(&mean, &se, metric);
        Ok(CvResult {
            path: full,
            scores,
            mean,
            se,
            best,
            one_se,
            metric,
        })
    }
}

/// The best penalty's index and the largest penalty's within one standard error of it.
fn choose(mean: &[f64], se: &[f64], metric: CvMetric) -> (usize, usize) {
    let better = |a: f64, b: f64| match metric {
        CvMetric::Deviance => a < b,
        CvMetric::CIndex => a > b,
    };
    let mut best = 0;
    for k in 1..mean.len() {
        if mean[k].is_finite() && (!mean[best].is_finite() || better(mean[k], mean[best])) {
            best = k;
        }
    }
    let limit = match metric {
        CvMetric::Deviance => mean[best] + se[best],
        CvMetric::CIndex => mean[best] - se[best],
    };
    let one_se = (0..=best)
        .find(|&k| match metric {
            CvMetric::Deviance => mean[k] <= limit,
            CvMetric::CIndex => mean[k] >= limit,
        })
        .unwrap_or(best);
    (best, one_se)
}

fn nan_mean<'a>(it: impl Iterator<Item = &'a f64>) -> f64 {
    let (s, c) = it
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if c == 0 {
        f64::NAN
    } else {
        s / c as f64
    }
}

/// `n` penalties from `max` down to `max·ratio`, evenly spaced in log scale.
fn geometric_path(max: f64, ratio: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![max];
    }
    let (a, b) = (max.ln(), (max * ratio).ln());
    (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

/// How cross-validation scores a penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CvMetric {
    /// Partial-likelihood deviance (lower is better), as glmnet's `cv.glmnet`.
    Deviance,
    /// Harrell's C on the held-out fold (higher is better).
    CIndex,
}

/// Cross-validation of an elastic-net Cox path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CvResult {
    /// The path fitted on all the data.
    pub path: Coxnet,
    /// `folds × penalties` scores.
    pub scores: Array2<f64>,
    /// Mean score per penalty.
    pub mean: Vec<f64>,
    /// Standard error of the mean per penalty.
    pub se: Vec<f64>,
    /// Index of the best mean score.
    pub best: usize,
    /// Index of the largest penalty within one standard error of the best.
    pub one_se: usize,
    /// The metric used.
    pub metric: CvMetric,
}

impl CvResult {
    /// Coefficients at the best penalty.
    pub fn best_coef(&self) -> ndarray::ArrayView1<'_, f64> {
        self.path.coef.slice(s![self.best, ..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic test values with no pattern the lanes could hide behind.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect()
    }

    /// The dispatched kernels (AVX where this CPU has it) give the bits of plain code in the
    /// same order — what a CPU without AVX runs — so a fit does not depend on the processor.
    #[test]
    fn dispatched_kernels_give_the_bits_of_plain_code() {
        for n in [0, 1, 7, 8, 9, 16, 23, 1000] {
            let (a, b) = (values(n, n as u64), values(n, 99 + n as u64));
            let mut lanes = [0.0f64; 8];
            let body = n / 8 * 8;
            for i in 0..body {
                lanes[i % 8] += a[i] * b[i];
            }
            let tail: f64 = (body..n).map(|i| a[i] * b[i]).sum();
            let plain = lanes.iter().sum::<f64>() + tail;
            assert_eq!(dot(&a, &b).to_bits(), plain.to_bits(), "dot, n = {n}");

            let h = values(n, 7 + n as u64);
            let mut y1 = b.clone();
            axpy(0.37, &h, &mut y1);
            let want: Vec<u64> = b
                .iter()
                .zip(&h)
                .map(|(y, h)| (y + 0.37 * h).to_bits())
                .collect();
            assert_eq!(
                y1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want,
                "axpy, n = {n}"
            );

            let mut y2 = b.clone();
            let fused = axpy_dot(0.37, &h, &a, &mut y2);
            assert_eq!(y2, y1, "axpy_dot's update, n = {n}");
            assert_eq!(
                fused.to_bits(),
                dot(&a, &y1).to_bits(),
                "axpy_dot's product, n = {n}"
            );
            let mut y3 = b.clone();
            assert_eq!(axpy_dot(0.37, &h, &[], &mut y3), 0.0);
            assert_eq!(y3, y1);
        }
    }
}
