//! Unpenalised Cox proportional-hazards regression by Newton–Raphson.

use linfa::prelude::*;
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use ndarray_linalg::{Cholesky, Inverse, SolveC, UPLO};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
use crate::cox::{PartialLikelihood, Reduction, Ties};
use crate::surv::{check_design, column_sd};
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoxPhValidParams {
    ties: Ties,
    max_iter: usize,
    tol: f64,
    confidence: f64,
}

impl Default for CoxPhValidParams {
    fn default() -> Self {
        Self {
            ties: Ties::Efron,
            max_iter: 100,
            tol: 1e-10,
            confidence: 0.95,
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
}

impl ParamGuard for CoxPhParams {
    type Checked = CoxPhValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&CoxPhValidParams> {
        let p = &self.0;
        if p.max_iter == 0 {
            return Err(Error::InvalidParameter("max_iter must be >= 1".into()));
        }
        if !(p.tol > 0.0 && p.tol.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "tol = {} must be > 0",
                p.tol
            )));
        }
        if !(p.confidence > 0.0 && p.confidence < 1.0) {
            return Err(Error::InvalidParameter(format!(
                "confidence = {} must be in (0, 1)",
                p.confidence
            )));
        }
        Ok(p)
    }

    fn check(self) -> Result<CoxPhValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
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
    /// Covariance matrix of the coefficients.
    pub covariance: Array2<f64>,
    /// Log partial likelihood at the estimate (R's `loglik[2]`, lifelines' `log_likelihood_`).
    pub log_likelihood: f64,
    /// Log partial likelihood at β = 0 (R's `loglik[1]`).
    pub log_likelihood_null: f64,
    /// Harrell's C of the fitted linear predictor on the training data.
    pub concordance: Concordance,
    /// Newton iterations used.
    pub iterations: usize,
    /// Tie handling used.
    pub ties: Ties,
}

impl CoxPh {
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
}

impl CoxPhValidParams {
    /// Fits covariates `x` (`n × p`) to survival `y`.
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<CoxPh> {
        let params = self;
        let p = x.ncols();
        check_design(x, y)?;
        // Standardise: the likelihood is shift-invariant and scaling is undone below.
        let mean = x.mean_axis(Axis(0)).ok_or(Error::Empty)?;
        let sd = column_sd(x)?;
        let xs = (&x - &mean) / &sd;
        let pl = PartialLikelihood::new(y, params.ties)?;
        let mut beta = Array1::<f64>::zeros(p);
        let (mut f, mut g, mut h) = pl.nll_grad_hess(xs.view(), beta.view(), Reduction::Sum)?;
        let f_null = f;
        let mut iterations = 0;
        let mut converged = false;
        let mut last_step = f64::INFINITY;
        while iterations < params.max_iter {
            iterations += 1;
            let step = match h.solvec(&g) {
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
            };
            let mut t = 1.0;
            let mut next = &beta - &step;
            let mut f_next = pl.nll(xs.dot(&next).as_slice().unwrap_or(&[]), Reduction::Sum)?;
            while f_next > f + 1e-12 * f.abs() && t > 1e-8 {
                t *= 0.5;
                next = &beta - &(&step * t);
                f_next = pl.nll(xs.dot(&next).as_slice().unwrap_or(&[]), Reduction::Sum)?;
            }
            last_step = (&step * t).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            beta = next;
            (f, g, h) = pl.nll_grad_hess(xs.view(), beta.view(), Reduction::Sum)?;
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
        let _ = h
            .cholesky(UPLO::Lower)
            .map_err(|e| Error::Linalg(e.to_string()))?;
        let cov_std = h
            .inv()
            .map_err(|e| Error::Linalg(format!("cannot invert the information matrix: {e}")))?;
        let coef = &beta / &sd;
        let mut covariance = Array2::zeros((p, p));
        for a in 0..p {
            for b in 0..p {
                covariance[[a, b]] = cov_std[[a, b]] / (sd[a] * sd[b]);
            }
        }
        let se = covariance.diag().mapv(f64::sqrt);
        let z = &coef / &se;
        let normal = Normal::standard();
        let p_values = z.mapv(|v| 2.0 * normal.sf(v.abs()));
        let q = normal.inverse_cdf(0.5 + params.confidence / 2.0);
        let ci_lower = &coef - &(&se * q);
        let ci_upper = &coef + &(&se * q);
        let risk = x.dot(&coef);
        let concordance = harrell(y, risk.as_slice().unwrap_or(&[]), DEFAULT_TIED_TOL)?;
        Ok(CoxPh {
            coef,
            se,
            z,
            p: p_values,
            ci_lower,
            ci_upper,
            covariance,
            log_likelihood: -f,
            log_likelihood_null: -f_null,
            concordance,
            iterations,
            ties: params.ties,
        })
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<Surv>, Error> for CoxPhValidParams {
    type Object = CoxPh;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<Surv>>) -> Result<CoxPh> {
        let y = dataset.targets().to_vec();
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

/// Index and absolute value of the largest entry.
fn largest(v: &Array1<f64>) -> (usize, f64) {
    v.iter().map(|x| x.abs()).enumerate().fold(
        (0, 0.0),
        |best, (i, a)| if a > best.1 { (i, a) } else { best },
    )
}
