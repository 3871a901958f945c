//! Cox proportional-hazards regression by Newton–Raphson, unpenalised or with lifelines'
//! ridge / elastic-net penalty (proximal Newton where an L1 part makes it non-smooth).

use linfa::prelude::*;
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use ndarray_linalg::{InverseC, SolveC};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
use crate::cox::{check_weights, PartialLikelihood, Reduction, Ties};
use crate::coxnet::soft_threshold;
use crate::residuals::{sandwich, stratum_residuals};
use crate::surv::{check_design, check_entry, column_sd};
use crate::{Error, Result, Surv};

/// `|β_k · sd_k|` beyond which a coefficient is taken to diverge (hazard ratio e^20 per SD).
const DIVERGENCE: f64 = 20.0;

/// Parameters of [`CoxPh`] (validated by `check()`, linfa's [`ParamGuard`]).
///
/// | field | default | valid |
/// |---|---|---|
/// | `ties` | Efron (as lifelines and R) | Breslow, Efron |
/// | `max_iter` | 100 | ≥ 1 |
/// | `tol` | 1e-10 | > 0: largest Newton step on standardised coefficients |
/// | `confidence` | 0.95 | (0, 1): level of the coefficient intervals |
/// | `robust` | false | sandwich standard errors (R's `robust = TRUE`, lifelines' `robust=True`) |
/// | `penalizer` | 0 (none) | finite, ≥ 0: one for all coefficients or one per covariate (lifelines' `penalizer`) |
/// | `l1_ratio` | 0 (ridge) | [0, 1]: the L1 share of the penalty (lifelines' `l1_ratio`) |
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoxPhValidParams {
    ties: Ties,
    max_iter: usize,
    tol: f64,
    confidence: f64,
    robust: bool,
    penalizer: Penalizer,
    l1_ratio: f64,
}

/// The penalty weight of [`CoxPhParams::penalizer`]: one number for every coefficient, or one
/// per covariate (0 leaves that coefficient unpenalised) — lifelines' `penalizer`, a float or
/// an array. Serialised as a number or an array of numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Penalizer {
    /// The same weight for every coefficient.
    All(f64),
    /// One weight per covariate, in column order.
    Each(Vec<f64>),
}

impl Default for Penalizer {
    fn default() -> Self {
        Penalizer::All(0.0)
    }
}

impl Penalizer {
    /// Whether every weight is 0 (an unpenalised fit).
    pub fn is_none(&self) -> bool {
        match self {
            Penalizer::All(w) => *w == 0.0,
            Penalizer::Each(w) => w.iter().all(|&v| v == 0.0),
        }
    }

    /// The weight of each of `p` coefficients; an error when a per-covariate list has another
    /// length.
    pub fn weights(&self, p: usize) -> Result<Vec<f64>> {
        match self {
            Penalizer::All(w) => Ok(vec![*w; p]),
            Penalizer::Each(w) if w.len() == p => Ok(w.clone()),
            Penalizer::Each(w) => Err(Error::LengthMismatch {
                what: "penalizers (one per covariate column)",
                got: w.len(),
                expected: p,
            }),
        }
    }
}

impl Default for CoxPhValidParams {
    fn default() -> Self {
        Self {
            ties: Ties::Efron,
            max_iter: 100,
            tol: 1e-10,
            confidence: 0.95,
            robust: false,
            penalizer: Penalizer::All(0.0),
            l1_ratio: 0.0,
        }
    }
}

/// Unchecked [`CoxPhValidParams`], built with the setters and checked by `check()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoxPhParams(CoxPhValidParams);

impl CoxPhParams {
    /// Sets the tie handling.
    pub fn ties(mut self, ties: Ties) -> Self {
        self.0.ties = ties;
        self
    }

    /// Sets the iteration limit.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.0.max_iter = n;
        self
    }

    /// Sets the convergence tolerance.
    pub fn tol(mut self, tol: f64) -> Self {
        self.0.tol = tol;
        self
    }

    /// Sets the confidence level of the coefficient intervals.
    pub fn confidence(mut self, level: f64) -> Self {
        self.0.confidence = level;
        self
    }

    /// Whether the standard errors, tests and intervals use the robust (sandwich, Lin–Wei)
    /// covariance `DᵀD`, `D` the [`CoxPh::dfbeta`] rows, instead of the inverse information:
    /// valid when the model is misspecified (a covariate's form, non-proportional hazards), as
    /// R's `coxph(…, robust = TRUE)` and lifelines' `fit(…, robust=True)`. Correlated subjects
    /// (several tumours of one patient, patients of one centre) need their cluster instead:
    /// [`CoxPhValidParams::fit_clustered`], robust whatever this says.
    pub fn robust(mut self, robust: bool) -> Self {
        self.0.robust = robust;
        self
    }

    /// Penalises every coefficient as lifelines' `CoxPHFitter(penalizer=w, l1_ratio=r)`:
    /// the fit maximises, on the covariates standardised by their mean and standard deviation
    /// (`n − 1` divisor, as pandas), the log partial likelihood minus
    /// `n · w · (r·|b| + (1 − r)/2 · b²)` summed over the standardised coefficients `b`, `n` the
    /// number of subjects (rows, whatever their case weights), and reports the coefficients on
    /// the covariates' own scale. With `r = 0` (ridge, the default) the maximum is smooth and
    /// found by Newton's method; with `r > 0` ([`CoxPhParams::l1_ratio`]) by proximal Newton
    /// steps (coordinate descent on the quadratic model with the exact L1 term), so
    /// coefficients the penalty removes are exactly 0 where lifelines' smoothed |b| leaves
    /// numbers near 1e-11.
    ///
    /// What is reported then: [`CoxPh::log_likelihood`] is the *penalised* log-likelihood (as
    /// lifelines' `log_likelihood_`, and so [`CoxPh::likelihood_ratio_test`]); the covariance
    /// is the inverse of the penalised information (lifelines' `variance_matrix_`, R's
    /// `coxph(… + ridge(…))` `var`); a coefficient held at exactly 0 by the L1 part has no
    /// standard error (NaN; lifelines prints a number from its smoothed curvature), and the
    /// others' come from the information restricted to the nonzero coefficients. The null
    /// log-likelihood and the score test are the unpenalised ones at β = 0. With coefficients
    /// at 0, the proportional-hazards test and the scaled Schoenfeld residuals (which need every
    /// coefficient's covariance) are refused, and the dfbeta columns of those coefficients are
    /// NaN: refit on the nonzero coefficients for them. A penalty makes a
    /// fit with more covariates than events, or than subjects, well defined (a radiomics
    /// table); for glmnet's whole path with cross-validated λ see [`crate::Coxnet`].
    pub fn penalizer(mut self, w: f64) -> Self {
        self.0.penalizer = Penalizer::All(w);
        self
    }

    /// One penalizer per covariate (lifelines' array `penalizer`): 0 leaves a coefficient
    /// unpenalised (pre-specified prognostic factors beside penalised candidates). The list's
    /// length is checked against the design's columns at fit time.
    pub fn penalizers(mut self, w: Vec<f64>) -> Self {
        self.0.penalizer = Penalizer::Each(w);
        self
    }

    /// The L1 share `r` of the penalty, in [0, 1] (lifelines' `l1_ratio`; 1 is the lasso):
    /// see [`CoxPhParams::penalizer`].
    pub fn l1_ratio(mut self, r: f64) -> Self {
        self.0.l1_ratio = r;
        self
    }
}

impl ParamGuard for CoxPhParams {
    type Checked = CoxPhValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&CoxPhValidParams> {
        let p = &self.0;
        check_newton(p.max_iter, p.tol, p.confidence)?;
        let weights = match &p.penalizer {
            Penalizer::All(w) => std::slice::from_ref(w),
            Penalizer::Each(w) => w.as_slice(),
        };
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(Error::InvalidParameter(format!(
                "penalizer = {w} must be finite and >= 0"
            )));
        }
        if !(0.0..=1.0).contains(&p.l1_ratio) {
            return Err(Error::InvalidParameter(format!(
                "l1_ratio = {} must be in [0, 1]",
                p.l1_ratio
            )));
        }
        Ok(p)
    }

    fn check(self) -> Result<CoxPhValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Checks the parameters a Newton fit with confidence intervals shares ([`CoxPh`],
/// [`crate::Aft`]): at least one iteration, a positive tolerance, a level in (0, 1).
pub(crate) fn check_newton(max_iter: usize, tol: f64, confidence: f64) -> Result<()> {
    if max_iter == 0 {
        return Err(Error::InvalidParameter("max_iter must be >= 1".into()));
    }
    if !(tol > 0.0 && tol.is_finite()) {
        return Err(Error::InvalidParameter(format!("tol = {tol} must be > 0")));
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::InvalidParameter(format!(
            "confidence = {confidence} must be in (0, 1)"
        )));
    }
    Ok(())
}

/// A fitted Cox model. Risk (`predict`) is the linear predictor `Xβ`: **higher = worse**.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoxPh {
    /// Coefficients (log hazard ratios) on the covariates' own scale.
    pub coef: Array1<f64>,
    /// Standard errors from the inverse observed information.
    pub se: Array1<f64>,
    /// Wald statistics `coef / se`.
    pub z: Array1<f64>,
    /// Two-sided p-values of the Wald statistics.
    pub p: Array1<f64>,
    /// Lower confidence bounds of the coefficients.
    pub ci_lower: Array1<f64>,
    /// Upper confidence bounds of the coefficients.
    pub ci_upper: Array1<f64>,
    /// Covariance matrix of the coefficients: the inverse observed information, or in a
    /// robust or clustered fit the sandwich estimate (R's `var`).
    pub covariance: Array2<f64>,
    /// In a robust or clustered fit, the model-based covariance (inverse information) that
    /// `covariance` replaced (R's `naive.var`); `None` otherwise. See
    /// [`CoxPh::model_covariance`].
    #[serde(default)]
    pub naive_covariance: Option<Array2<f64>>,
    /// Log partial likelihood at the estimate (R's `loglik[2]`, lifelines' `log_likelihood_`).
    pub log_likelihood: f64,
    /// Log partial likelihood at β = 0 (R's `loglik[1]`).
    pub log_likelihood_null: f64,
    /// Harrell's C of the fitted linear predictor on the training data (stratified: pairs
    /// within a stratum only, their counts pooled, as lifelines' `concordance_index_`).
    pub concordance: Concordance,
    /// Number of strata the fit's risk sets were drawn within (1: unstratified; see
    /// [`CoxPhValidParams::fit_stratified`]).
    #[serde(default = "one")]
    pub strata: usize,
    /// Whether the fit had case weights ([`CoxData::weights`]).
    #[serde(default)]
    pub weighted: bool,
    /// Whether the fit had delayed-entry times ([`CoxData::entry`]).
    #[serde(default)]
    pub delayed_entry: bool,
    /// Newton iterations used.
    pub iterations: usize,
    /// Tie handling used.
    pub ties: Ties,
    /// The score (log-rank) test of all coefficients at β = 0 (R's `sctest`); `None` in models
    /// saved before it was recorded. The other two global tests are methods:
    /// [`CoxPh::likelihood_ratio_test`], [`CoxPh::wald_test`].
    #[serde(default)]
    pub score_test: Option<ChiSquareTest>,
    /// The penalty weight(s) of a penalised fit ([`CoxPhParams::penalizer`]); 0 unpenalised.
    #[serde(default)]
    pub penalizer: Penalizer,
    /// The L1 share of the penalty ([`CoxPhParams::l1_ratio`]).
    #[serde(default)]
    pub l1_ratio: f64,
}

fn one() -> usize {
    1
}

/// A chi-square test of all coefficients together, as R's `summary(coxph)` and lifelines'
/// `print_summary` report them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChiSquareTest {
    /// The test statistic.
    pub statistic: f64,
    /// Degrees of freedom (the number of coefficients).
    pub df: usize,
    /// Upper-tail p-value of the statistic under χ²(df).
    pub p_value: f64,
}

impl ChiSquareTest {
    pub(crate) fn new(statistic: f64, df: usize) -> Self {
        let p_value = statrs::distribution::ChiSquared::new(df as f64)
            .map(|d| d.sf(statistic.max(0.0)))
            .unwrap_or(f64::NAN);
        Self {
            statistic,
            df,
            p_value,
        }
    }
}

impl CoxPh {
    /// The likelihood-ratio test of all coefficients: `2 (ℓ(β̂) − ℓ(0))` on `p` degrees of
    /// freedom (R's `logtest`, lifelines' `log_likelihood_ratio_test`).
    pub fn likelihood_ratio_test(&self) -> ChiSquareTest {
        ChiSquareTest::new(
            2.0 * (self.log_likelihood - self.log_likelihood_null),
            self.coef.len(),
        )
    }

    /// The likelihood-ratio test of the coefficients this model adds to `reduced`, a model
    /// nested in it (fitted on the same patients with a subset of the covariates):
    /// `2 (ℓ(full) − ℓ(reduced))` on the difference in coefficients, R's
    /// `anova(reduced, full)`. How clinical papers test a new marker's added value. An error
    /// when `reduced` has at least as many coefficients or was fitted on other data (its null
    /// log-likelihood differs).
    pub fn likelihood_ratio_vs(&self, reduced: &CoxPh) -> Result<ChiSquareTest> {
        let (p, q) = (self.coef.len(), reduced.coef.len());
        if q >= p {
            return Err(Error::InvalidParameter(format!(
                "the reduced model has {q} coefficients, the full one {p}: nothing is added"
            )));
        }
        let scale = self.log_likelihood_null.abs().max(1.0);
        if (self.log_likelihood_null - reduced.log_likelihood_null).abs() > 1e-9 * scale {
            return Err(Error::InvalidParameter(
                "the two models were fitted on different patients (their null log-likelihoods differ)"
                    .into(),
            ));
        }
        Ok(ChiSquareTest::new(
            2.0 * (self.log_likelihood - reduced.log_likelihood),
            p - q,
        ))
    }

    /// A printable summary in the shape of R's `summary(coxph)` and lifelines'
    /// `print_summary`: per covariate the coefficient, hazard ratio, standard error, z, p and
    /// confidence bounds (the column reads `robust se` in a robust or clustered fit, whose z,
    /// p, bounds and Wald test use it); then the concordance, the partial log-likelihood and the three global
    /// tests. `names` label the covariates (`x0`, `x1`, … where absent or of another length).
    pub fn summary(&self, names: &[&str]) -> String {
        use std::fmt::Write as _;
        let p = self.coef.len();
        let label = |j: usize| {
            if names.len() == p {
                names[j].to_string()
            } else {
                format!("x{j}")
            }
        };
        let width = (0..p).map(|j| label(j).len()).max().unwrap_or(0).max(9);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<width$} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "covariate",
            "coef",
            "exp(coef)",
            if self.naive_covariance.is_some() {
                "robust se"
            } else {
                "se(coef)"
            },
            "z",
            "p",
            "lower",
            "upper"
        );
        for j in 0..p {
            let _ = writeln!(
                s,
                "{:<width$} {:>10.4} {:>10.4} {:>10.4} {:>8.3} {:>10.3e} {:>10.4} {:>10.4}",
                label(j),
                self.coef[j],
                self.coef[j].exp(),
                self.se[j],
                self.z[j],
                self.p[j],
                self.ci_lower[j],
                self.ci_upper[j]
            );
        }
        let strata = if self.strata > 1 {
            format!("; {} strata", self.strata)
        } else {
            String::new()
        };
        let penalty = match &self.penalizer {
            w if w.is_none() => String::new(),
            Penalizer::All(w) => format!("; penalizer {w}, l1 ratio {}", self.l1_ratio),
            Penalizer::Each(w) => format!("; penalizers {w:?}, l1 ratio {}", self.l1_ratio),
        };
        let _ = writeln!(
            s,
            "\nties: {:?}{strata}{penalty}; concordance {:.4}; {}partial log-likelihood {:.4} (null {:.4})",
            self.ties,
            self.concordance.c_index,
            if penalty.is_empty() { "" } else { "penalised " },
            self.log_likelihood,
            self.log_likelihood_null
        );
        let mut test = |name: &str, t: Option<ChiSquareTest>| {
            let _ = match t {
                Some(t) => writeln!(
                    s,
                    "{name:<22} {:>10.4} on {} df, p = {:.3e}",
                    t.statistic, t.df, t.p_value
                ),
                None => writeln!(s, "{name:<22} unavailable"),
            };
        };
        test("likelihood ratio test", Some(self.likelihood_ratio_test()));
        test("Wald test", self.wald_test().ok());
        test("score (log-rank) test", self.score_test);
        s
    }

    /// The Wald test of all coefficients: `β̂ᵀ V⁻¹ β̂` with `V` the covariance, on `p` degrees
    /// of freedom (R's `waldtest`).
    pub fn wald_test(&self) -> Result<ChiSquareTest> {
        let v_inv_beta = self
            .covariance
            .solvec(&self.coef)
            .map_err(|e| Error::Linalg(format!("Wald test: covariance not invertible: {e}")))?;
        Ok(ChiSquareTest::new(
            self.coef.dot(&v_inv_beta),
            self.coef.len(),
        ))
    }

    /// Default parameters, linfa style: `CoxPh::params().ties(Ties::Breslow).fit(&dataset)`.
    pub fn params() -> CoxPhParams {
        CoxPhParams::default()
    }

    /// The linear predictor `Xβ` (risk: higher = worse).
    pub fn risk(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        if x.ncols() != self.coef.len() {
            return Err(Error::LengthMismatch {
                what: "covariate columns",
                got: x.ncols(),
                expected: self.coef.len(),
            });
        }
        Ok(x.dot(&self.coef))
    }

    /// Hazard ratios `exp(coef)`.
    pub fn hazard_ratios(&self) -> Array1<f64> {
        self.coef.mapv(f64::exp)
    }
}

impl CoxPhParams {
    /// Checks the parameters, then fits covariates `x` (`n × p`) to survival `y`
    /// ([`CoxPhValidParams::fit_arrays`]).
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<CoxPh> {
        self.check_ref()?.fit_arrays(x, y)
    }

    /// Checks the parameters, then fits a stratified model
    /// ([`CoxPhValidParams::fit_stratified`]).
    pub fn fit_stratified<S: Ord>(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        strata: &[S],
    ) -> Result<CoxPh> {
        self.check_ref()?.fit_stratified(x, y, strata)
    }

    /// Checks the parameters, then fits with cluster-robust standard errors
    /// ([`CoxPhValidParams::fit_clustered`]).
    pub fn fit_clustered<C: Ord>(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        clusters: &[C],
    ) -> Result<CoxPh> {
        self.check_ref()?.fit_clustered(x, y, clusters)
    }

    /// Checks the parameters, then fits `data` with its strata, clusters and case weights
    /// ([`CoxPhValidParams::fit_data`]).
    pub fn fit_data(&self, data: &CoxData) -> Result<CoxPh> {
        self.check_ref()?.fit_data(data)
    }
}

/// Right-censored data for a Cox fit with what may come beside the covariates and outcomes:
/// strata, clusters and case weights, in any combination — lifelines' `strata`,
/// `cluster_col`, `weights_col`; R's `strata()`, `cluster()`, `weights =`. Fitted with
/// [`CoxPhValidParams::fit_data`]; lengths and weights are checked there.
///
/// ```
/// use adamss_survival::prelude::*;
/// use adamss_survival::CoxData;
///
/// let y = surv_from(&[5.0, 8.0, 3.0, 9.0, 2.0, 7.0, 4.0, 6.0], &[1, 0, 1, 1, 1, 0, 1, 1])?;
/// let y = Surv::slice(y.view());
/// let x = array![[1.2], [0.1], [2.0], [-0.5], [1.0], [0.3], [0.8], [-0.2]];
/// let centre = ["A", "A", "B", "B", "A", "B", "A", "B"];
/// let patient = [1, 1, 2, 3, 4, 4, 5, 6]; // several lesions of one patient
/// let weights = [1.0, 1.0, 2.0, 0.5, 1.0, 1.0, 1.5, 1.0]; // e.g. inverse probability weights
/// let data = CoxData::new(x.view(), &y).strata(&centre).clusters(&patient).weights(&weights);
/// let model = CoxPh::params().fit_data(&data)?;
/// assert_eq!(model.strata, 2);
/// assert!(model.naive_covariance.is_some()); // clustered: robust standard errors
/// # Ok::<(), adamss_survival::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CoxData<'a> {
    pub(crate) x: ArrayView2<'a, f64>,
    pub(crate) y: &'a [Surv],
    pub(crate) strata: Option<Vec<usize>>,
    pub(crate) clusters: Option<Vec<usize>>,
    pub(crate) weights: Option<&'a [f64]>,
    pub(crate) entry: Option<&'a [f64]>,
}

impl<'a> CoxData<'a> {
    /// Covariates `x` (`n × p`) and outcomes `y` (`n`), nothing else.
    pub fn new(x: ArrayView2<'a, f64>, y: &'a [Surv]) -> Self {
        Self {
            x,
            y,
            strata: None,
            clusters: None,
            weights: None,
            entry: None,
        }
    }

    /// Each subject's stratum (any ordered label: a centre's name or number): risk sets are
    /// drawn within strata ([`CoxPhValidParams::fit_stratified`]).
    pub fn strata<S: Ord>(mut self, labels: &[S]) -> Self {
        self.strata = Some(label_ids(labels));
        self
    }

    /// Each subject's cluster (any ordered label: a patient with several lesions): robust
    /// standard errors summed within clusters ([`CoxPhValidParams::fit_clustered`]).
    pub fn clusters<C: Ord>(mut self, labels: &[C]) -> Self {
        self.clusters = Some(label_ids(labels));
        self
    }

    /// Case weights (finite, > 0; e.g. inverse probability of treatment weights): see
    /// [`PartialLikelihood::with_weights`]. As lifelines warns, non-integer weights call for
    /// robust standard errors ([`CoxPhParams::robust`] or clusters); the model-based ones
    /// treat a weight of 2 as two subjects.
    pub fn weights(mut self, weights: &'a [f64]) -> Self {
        self.weights = Some(weights);
        self
    }

    /// Each subject's entry time (delayed entry, left truncation: a patient referred some
    /// time after the origin of the time scale, e.g. after diagnosis on a time-since-diagnosis
    /// scale): the subject is at risk only on `(entry, time]`, so it is in the risk sets of
    /// later event times only — lifelines' `fit(…, entry_col=…)`, R's
    /// `coxph(Surv(entry, time, event) ~ …)`. Each must be finite, ≥ 0 and before the
    /// subject's time. With one row per interval of a subject (its covariates constant on
    /// each) and the subject as the cluster, this is also the counting-process form of
    /// time-varying covariates (lifelines' `CoxTimeVaryingFitter`, whose start column is
    /// `entry`); the concordance then compares rows as lifelines' does.
    ///
    /// ```
    /// use adamss_survival::prelude::*;
    ///
    /// // Time from diagnosis; patients referred (and followed) from `referral` on.
    /// let y = surv_from(&[5.0, 8.0, 3.0, 9.0, 2.0, 7.0], &[1, 0, 1, 1, 1, 0])?;
    /// let referral = [0.0, 2.0, 1.0, 4.0, 0.0, 3.0];
    /// let x = array![[1.2], [0.1], [2.0], [-0.5], [1.0], [0.3]];
    /// let y = y.as_slice().unwrap();
    /// let model = CoxPh::params().fit_data(&CoxData::new(x.view(), y).entry(&referral))?;
    /// assert!(model.delayed_entry);
    /// # Ok::<(), adamss_survival::Error>(())
    /// ```
    pub fn entry(mut self, entry: &'a [f64]) -> Self {
        self.entry = Some(entry);
        self
    }
}

impl CoxData<'_> {
    /// One label and weight per subject, weights finite and positive.
    pub(crate) fn check_lengths(&self) -> Result<()> {
        let n = self.y.len();
        if let Some(ids) = &self.strata {
            check_labels("strata labels", ids.len(), n)?;
        }
        if let Some(ids) = &self.clusters {
            check_labels("cluster labels", ids.len(), n)?;
        }
        if let Some(w) = self.weights {
            check_weights("case weights", w, n)?;
        }
        if let Some(e) = self.entry {
            check_entry(e, self.y)?;
        }
        Ok(())
    }
}

/// The rows of each id `0, 1, …` (dense ids from [`label_ids`]), ascending; one group of all
/// `n` rows without ids.
pub(crate) fn rows_by_id(ids: Option<&[usize]>, n: usize) -> Vec<Vec<usize>> {
    match ids {
        None => vec![(0..n).collect()],
        Some(ids) => {
            let mut groups = vec![Vec::new(); ids.iter().max().map_or(0, |m| m + 1)];
            for (i, &g) in ids.iter().enumerate() {
                groups[g].push(i);
            }
            groups
        }
    }
}

/// The values of `v` at `rows`.
pub(crate) fn pick(v: &[f64], rows: &[usize]) -> Vec<f64> {
    rows.iter().map(|&i| v[i]).collect()
}

/// Each label's rank among the distinct labels.
fn label_ids<S: Ord>(labels: &[S]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| labels[a].cmp(&labels[b]).then(a.cmp(&b)));
    let mut ids = vec![0; labels.len()];
    let mut id = 0;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && labels[order[k - 1]] != labels[i] {
            id += 1;
        }
        ids[i] = id;
    }
    ids
}

/// The partial likelihood of each stratum, with its subjects' rows of the design.
struct Strata {
    parts: Vec<(PartialLikelihood, Vec<usize>, Array2<f64>)>,
    ties: Ties,
    weights: Option<Vec<f64>>,
    entry: Option<Vec<f64>>,
}

impl Strata {
    /// Strata of the data's labels (`None`: one stratum) over the design `x` (the data's,
    /// standardised), with the data's case weights and entry times.
    fn new(x: ArrayView2<f64>, data: &CoxData, ties: Ties) -> Result<Self> {
        let (y, labels, weights) = (data.y, data.strata.as_deref(), data.weights);
        let groups = rows_by_id(labels, y.len());
        let parts = groups
            .into_iter()
            .map(|rows| {
                let ys: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
                let xs = x.select(Axis(0), &rows);
                let pl = match weights {
                    None => PartialLikelihood::new(&ys, ties)?,
                    Some(w) => PartialLikelihood::with_weights(&ys, ties, &pick(w, &rows))?,
                };
                let pl = match data.entry {
                    None => pl,
                    Some(e) => pl.with_entry(&pick(e, &rows))?,
                };
                Ok((pl, rows, xs))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            parts,
            ties,
            weights: weights.map(<[f64]>::to_vec),
            entry: data.entry.map(<[f64]>::to_vec),
        })
    }

    /// The negative log partial likelihood, its gradient and Hessian in β, summed over strata.
    fn nll_grad_hess(&self, beta: &Array1<f64>) -> Result<(f64, Array1<f64>, Array2<f64>)> {
        let p = beta.len();
        let mut total = (0.0, Array1::zeros(p), Array2::zeros((p, p)));
        for (pl, _, xs) in &self.parts {
            let (f, g, h) = pl.nll_grad_hess(xs.view(), beta.view(), Reduction::Sum)?;
            total.0 += f;
            total.1 += &g;
            total.2 += &h;
        }
        Ok(total)
    }

    /// The negative log partial likelihood at β, summed over strata.
    fn nll(&self, beta: &Array1<f64>) -> Result<f64> {
        let mut total = 0.0;
        for (pl, _, xs) in &self.parts {
            total += pl.nll(xs.dot(beta).as_slice().unwrap_or(&[]), Reduction::Sum)?;
        }
        Ok(total)
    }

    /// The sandwich covariance on the standardised scale: score residuals at `beta` within
    /// each stratum, times the model covariance `v`, summed within clusters.
    fn sandwich(
        &self,
        y: &[Surv],
        beta: &Array1<f64>,
        v: &Array2<f64>,
        clusters: Option<&[usize]>,
    ) -> Array2<f64> {
        let mut u = Array2::<f64>::zeros((y.len(), beta.len()));
        for (_, rows, xs) in &self.parts {
            let ys: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
            let ws = self.weights.as_deref().map(|w| pick(w, rows));
            let es = self.entry.as_deref().map(|e| pick(e, rows));
            let eta = xs.dot(beta);
            let eta = eta.as_slice().unwrap_or(&[]);
            let (_, score) =
                stratum_residuals(xs.view(), &ys, eta, self.ties, ws.as_deref(), es.as_deref());
            for (k, &i) in rows.iter().enumerate() {
                // R's dfbeta rows are weighted, so the sandwich is.
                let w = ws.as_ref().map_or(1.0, |w| w[k]);
                u.row_mut(i).assign(&(&score.row(k) * w));
            }
        }
        sandwich(&u, v, clusters)
    }

    /// Harrell's C of `risk` over the pairs within each stratum, counts pooled (a stratum
    /// without comparable pairs adds none).
    fn concordance(&self, y: &[Surv], risk: &Array1<f64>) -> Result<Concordance> {
        if self.parts.len() == 1 {
            return harrell(y, risk.as_slice().unwrap_or(&[]), DEFAULT_TIED_TOL);
        }
        let mut pooled = Concordance {
            c_index: f64::NAN,
            concordant: 0,
            discordant: 0,
            tied_risk: 0,
            tied_time: 0,
        };
        for (_, rows, _) in &self.parts {
            let ys: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
            let rs: Vec<f64> = rows.iter().map(|&i| risk[i]).collect();
            match harrell(&ys, &rs, DEFAULT_TIED_TOL) {
                Ok(c) => {
                    pooled.concordant += c.concordant;
                    pooled.discordant += c.discordant;
                    pooled.tied_risk += c.tied_risk;
                    pooled.tied_time += c.tied_time;
                }
                Err(Error::Undefined(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let comparable = pooled.comparable();
        if comparable == 0 {
            return Err(Error::Undefined(
                "no comparable pairs within any stratum".into(),
            ));
        }
        pooled.c_index =
            (pooled.concordant as f64 + pooled.tied_risk as f64 / 2.0) / comparable as f64;
        Ok(pooled)
    }
}

impl CoxPhValidParams {
    /// Fits covariates `x` (`n × p`) to survival `y`.
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<CoxPh> {
        self.fit_data(&CoxData::new(x.reborrow(), y))
    }

    /// Fits a stratified model: one coefficient vector, each stratum with its own baseline
    /// hazard — risk sets are drawn within the subject's stratum (`strata[i]`, any ordered
    /// label such as a centre's name or number), and the partial likelihood is the sum of the
    /// strata's. lifelines' `CoxPHFitter(strata=[…])` and R's `coxph(… + strata(centre))`: the
    /// usual way to let each centre of a multi-centre cohort keep its own baseline while
    /// estimating shared hazard ratios. The null log-likelihood, the score test and the
    /// concordance (pairs within a stratum) are the stratified ones too. The covariates may
    /// not include the strata (a column constant within every stratum has no estimate: the
    /// fit fails as for any collinear column). Predicting survival curves needs each
    /// stratum's baseline: [`crate::BreslowBaseline::fit`] on that stratum's subjects and
    /// linear predictors.
    pub fn fit_stratified<S: Ord>(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        strata: &[S],
    ) -> Result<CoxPh> {
        self.fit_data(&CoxData::new(x.reborrow(), y).strata(strata))
    }

    /// Fits with cluster-robust standard errors: subjects sharing a label of `clusters` (one
    /// per subject: a patient with several lesions, a family, a centre) may be correlated, so
    /// the covariance is the sandwich `DᵀD` with `D` the [`CoxPh::dfbeta`] rows summed within
    /// each cluster (R's `coxph(… + cluster(id))`, lifelines' `cluster_col`). The coefficients
    /// are the ordinary ones; the standard errors, z, p, intervals and Wald test use this
    /// covariance, the model-based one is kept in [`CoxPh::naive_covariance`]. Every subject a
    /// cluster of its own gives [`CoxPhParams::robust`]'s estimate. With strata too:
    /// [`CoxData`].
    pub fn fit_clustered<C: Ord>(
        &self,
        x: ArrayView2<f64>,
        y: &[Surv],
        clusters: &[C],
    ) -> Result<CoxPh> {
        self.fit_data(&CoxData::new(x.reborrow(), y).clusters(clusters))
    }

    /// Fits `data` with whatever it carries: strata ([`CoxPhValidParams::fit_stratified`]),
    /// clusters ([`CoxPhValidParams::fit_clustered`]; each subject's score residuals from its
    /// own stratum's risk sets, summed within clusters across strata, R's
    /// `coxph(… + strata(centre) + cluster(id))`) and case weights (the weighted partial
    /// likelihood of [`PartialLikelihood::with_weights`]; with robust standard errors the
    /// dfbeta rows are weighted, as R's and lifelines'). The concordance of a weighted fit
    /// counts pairs unweighted, as lifelines' `concordance_index_`.
    pub fn fit_data(&self, data: &CoxData) -> Result<CoxPh> {
        let (x, y) = (data.x, data.y);
        data.check_lengths()?;
        let clusters = data.clusters.as_deref();
        let params = self;
        let p = x.ncols();
        check_design(x, y)?;
        // Standardise: the likelihood is shift-invariant and scaling is undone below.
        let mean = x.mean_axis(Axis(0)).ok_or(Error::Empty)?;
        let sd = column_sd(x)?;
        let xs = (&x - &mean) / &sd;
        let strata = Strata::new(xs.view(), data, params.ties)?;
        let penalty = Penalty::new(&params.penalizer, params.l1_ratio, y.len(), p)?;
        let mut beta = Array1::<f64>::zeros(p);
        let (mut f, mut g, mut h) = strata.nll_grad_hess(&beta)?;
        let f_null = f;
        // The score test at β = 0, `Uᵀ I⁻¹ U` (invariant under the standardisation).
        let score_test = h
            .solvec(&g)
            .ok()
            .map(|step| ChiSquareTest::new(g.dot(&step), p));
        penalty.add_ridge(&beta, &mut f, &mut g, &mut h);
        let objective =
            |beta: &Array1<f64>| -> Result<f64> { Ok(strata.nll(beta)? + penalty.value(beta)) };
        let mut iterations = 0;
        let mut converged = false;
        let mut last_step = f64::INFINITY;
        while iterations < params.max_iter {
            iterations += 1;
            // The step to subtract: Newton's, or with an L1 part the proximal Newton one.
            let step = if penalty.has_l1() {
                &beta - &penalty.prox_newton(&beta, &g, &h)
            } else {
                match h.solvec(&g) {
                    Ok(step) => step,
                    // Diverging coefficients make the information matrix numerically singular.
                    Err(_) if largest(&beta).1 > DIVERGENCE / 2.0 => {
                        let index = largest(&beta).0;
                        return Err(Error::MonotoneLikelihood {
                            index,
                            value: beta[index] / sd[index],
                        });
                    }
                    Err(e) => {
                        return Err(Error::Linalg(format!(
                            "information matrix not positive definite (collinear covariates?): {e}"
                        )))
                    }
                }
            };
            let phi = f + penalty.l1_value(&beta);
            let mut t = 1.0;
            let mut next = &beta - &step;
            let mut phi_next = objective(&next)?;
            while phi_next > phi + 1e-12 * phi.abs() && t > 1e-8 {
                t *= 0.5;
                next = &beta - &(&step * t);
                phi_next = objective(&next)?;
            }
            last_step = (&step * t).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            beta = next;
            (f, g, h) = strata.nll_grad_hess(&beta)?;
            penalty.add_ridge(&beta, &mut f, &mut g, &mut h);
            if let Some(index) = beta.iter().position(|b| b.abs() > DIVERGENCE) {
                if last_step < 1e-3 || iterations == params.max_iter {
                    return Err(Error::MonotoneLikelihood {
                        index,
                        value: beta[index] / sd[index],
                    });
                }
            }
            if last_step <= params.tol {
                converged = true;
                break;
            }
        }
        if !converged {
            let gradient = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            return Err(Error::NotConverged {
                iterations,
                step: last_step,
                gradient,
            });
        }
        // The information of the coefficients the L1 part leaves free (all without one); a
        // coefficient it holds at 0 has no standard error.
        let is_free: Vec<bool> = (0..p).map(|j| penalty.is_free(j, beta[j])).collect();
        let free: Vec<usize> = (0..p).filter(|&j| is_free[j]).collect();
        let h_free = h.select(Axis(0), &free).select(Axis(1), &free);
        // Cholesky, not LU: OpenBLAS's threaded LU recurses with large stack frames and
        // overflows a 2 MiB thread stack (Rust's default for spawned threads) from 128 × 128.
        let inv_free = h_free
            .invc()
            .map_err(|e| Error::Linalg(format!("cannot invert the information matrix: {e}")))?;
        let mut cov_std = Array2::<f64>::zeros((p, p));
        for (a, &ja) in free.iter().enumerate() {
            for (b, &jb) in free.iter().enumerate() {
                cov_std[[ja, jb]] = inv_free[[a, b]];
            }
        }
        let coef = &beta / &sd;
        let unscale = |m: &Array2<f64>| {
            Array2::from_shape_fn((p, p), |(a, b)| {
                if is_free[a] && is_free[b] {
                    m[[a, b]] / (sd[a] * sd[b])
                } else {
                    f64::NAN
                }
            })
        };
        let (covariance, naive_covariance) = if params.robust || clusters.is_some() {
            let robust = strata.sandwich(y, &beta, &cov_std, clusters);
            (unscale(&robust), Some(unscale(&cov_std)))
        } else {
            (unscale(&cov_std), None)
        };
        let se = covariance.diag().mapv(f64::sqrt);
        let z = &coef / &se;
        let normal = Normal::standard();
        let p_values = z.mapv(|v| 2.0 * normal.sf(v.abs()));
        let q = normal.inverse_cdf(0.5 + params.confidence / 2.0);
        let ci_lower = &coef - &(&se * q);
        let ci_upper = &coef + &(&se * q);
        let risk = x.dot(&coef);
        let concordance = strata.concordance(y, &risk)?;
        Ok(CoxPh {
            coef,
            se,
            z,
            p: p_values,
            ci_lower,
            ci_upper,
            covariance,
            naive_covariance,
            log_likelihood: -(f + penalty.l1_value(&beta)),
            log_likelihood_null: -f_null,
            concordance,
            strata: strata.parts.len(),
            weighted: data.weights.is_some(),
            delayed_entry: data.entry.is_some(),
            score_test,
            iterations,
            ties: params.ties,
            penalizer: params.penalizer.clone(),
            l1_ratio: params.l1_ratio,
        })
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<Surv>, Error> for CoxPhValidParams {
    type Object = CoxPh;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<Surv>>) -> Result<CoxPh> {
        let y = Surv::slice(dataset.targets().view());
        self.fit_arrays(dataset.records().view(), &y)
    }
}

/// linfa's `predict`: the linear predictor, as [`CoxPh::risk`].
///
/// # Panics
/// On a column count other than the fit's: linfa's `Predict` has no error path (its own models
/// assert the same way). [`CoxPh::risk`] returns that case as an error instead.
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for CoxPh {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(
            x.ncols(),
            self.coef.len(),
            "number of covariates must match the fit"
        );
        *y = x.dot(&self.coef);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

/// lifelines' penalty on the standardised scale of the fit: `½ Σ ridge_j β_j² + Σ l1_j |β_j|`.
/// lifelines standardises with the `n − 1` standard deviation, the fit with the `n` one, so its
/// `b = c β` with `c = √(n / (n − 1))`, and `n · w · (r |b| + (1 − r)/2 · b²)` becomes
/// `ridge = n w (1 − r) c²`, `l1 = n w r c`.
struct Penalty {
    ridge: Vec<f64>,
    l1: Vec<f64>,
}

impl Penalty {
    fn new(penalizer: &Penalizer, l1_ratio: f64, n: usize, p: usize) -> Result<Self> {
        let w = penalizer.weights(p)?;
        let (n, ratio) = (n as f64, l1_ratio);
        let c = (n / (n - 1.0).max(1.0)).sqrt();
        Ok(Self {
            ridge: w.iter().map(|w| n * w * (1.0 - ratio) * c * c).collect(),
            l1: w.iter().map(|w| n * w * ratio * c).collect(),
        })
    }

    fn has_l1(&self) -> bool {
        self.l1.iter().any(|&k| k > 0.0)
    }

    /// Whether coefficient `j` at `value` has a standard error: no L1 weight, or not at 0.
    fn is_free(&self, j: usize, value: f64) -> bool {
        self.l1[j] == 0.0 || value != 0.0
    }

    fn l1_value(&self, beta: &Array1<f64>) -> f64 {
        beta.iter().zip(&self.l1).map(|(b, k)| k * b.abs()).sum()
    }

    /// The whole penalty at β.
    fn value(&self, beta: &Array1<f64>) -> f64 {
        let ridge: f64 = beta.iter().zip(&self.ridge).map(|(b, k)| k * b * b).sum();
        0.5 * ridge + self.l1_value(beta)
    }

    /// Adds the ridge part to a value, gradient and Hessian at β.
    fn add_ridge(&self, beta: &Array1<f64>, f: &mut f64, g: &mut Array1<f64>, h: &mut Array2<f64>) {
        for (j, &k) in self.ridge.iter().enumerate() {
            *f += 0.5 * k * beta[j] * beta[j];
            g[j] += k * beta[j];
            h[[j, j]] += k;
        }
    }

    /// The proximal Newton target: the minimiser `z` of the quadratic model
    /// `gᵀ(z − β) + ½ (z − β)ᵀ H (z − β) + Σ l1_j |z_j|`, by cyclic coordinate descent
    /// (exact zeros by soft thresholding) until no coordinate moves by more than 1e-14 of the
    /// largest.
    fn prox_newton(&self, beta: &Array1<f64>, g: &Array1<f64>, h: &Array2<f64>) -> Array1<f64> {
        let p = beta.len();
        let mut z = beta.clone();
        // r = H (z − β)
        let mut r = Array1::<f64>::zeros(p);
        for _ in 0..10_000 {
            let mut moved = 0.0f64;
            for j in 0..p {
                let a = h[[j, j]];
                if a <= 0.0 {
                    continue;
                }
                let c = g[j] + r[j] - a * (z[j] - beta[j]);
                let u = soft_threshold(a * beta[j] - c, self.l1[j]) / a;
                let delta = u - z[j];
                if delta != 0.0 {
                    r.scaled_add(delta, &h.column(j));
                    z[j] = u;
                    moved = moved.max(delta.abs());
                }
            }
            let scale = z.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
            if moved <= 1e-14 * scale {
                break;
            }
        }
        z
    }
}

/// A length error unless there is one label per subject.
fn check_labels(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got != expected {
        return Err(Error::LengthMismatch {
            what,
            got,
            expected,
        });
    }
    Ok(())
}

/// Index and absolute value of the largest entry.
fn largest(v: &Array1<f64>) -> (usize, f64) {
    v.iter().map(|x| x.abs()).enumerate().fold(
        (0, 0.0),
        |best, (i, a)| if a > best.1 { (i, a) } else { best },
    )
}
