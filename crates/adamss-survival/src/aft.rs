//! Parametric accelerated failure time (AFT) regression: Weibull, log-normal and log-logistic
//! survival times, as lifelines' `WeibullAFTFitter`, `LogNormalAFTFitter` and
//! `LogLogisticAFTFitter` (and, with no covariates, its `WeibullFitter`, `LogNormalFitter`,
//! `LogLogisticFitter`).
//!
//! The three are location–scale models of the log time: `log T = μ(x) + σ(y) W`, `W` standard
//! extreme-value (Weibull), normal or logistic, with `μ(x) = β·x + b` and
//! `log σ(y) = γ·y + c` (`y`: the covariates with `ancillary`, else none). Fitted by
//! Newton–Raphson on the exact log-likelihood (event: density; censored: survival function),
//! with step halving and, where the Hessian is not negative definite, a Levenberg damping.

use linfa::prelude::*;
use linfa::{DatasetBase, ParamGuard};
use ndarray::{s, Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use ndarray_linalg::{InverseC, SolveC};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::gamma::gamma;

use crate::cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
use crate::{Error, Result, Surv};

/// The distribution of the survival time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AftDistribution {
    /// `S(t) = exp(−(t/λ)^ρ)`: lifelines' `lambda_` (location, `log λ = μ`) and `rho_`
    /// (shape, `ρ = 1/σ`).
    Weibull,
    /// `log T ~ N(μ, σ²)`: lifelines' `mu_` and `sigma_`.
    LogNormal,
    /// `S(t) = 1 / (1 + (t/α)^β)`: lifelines' `alpha_` (`log α = μ`) and `beta_` (`β = 1/σ`).
    LogLogistic,
}

impl AftDistribution {
    /// lifelines' names of the location and shape parameters.
    pub fn parameter_names(self) -> [&'static str; 2] {
        match self {
            Self::Weibull => ["lambda_", "rho_"],
            Self::LogNormal => ["mu_", "sigma_"],
            Self::LogLogistic => ["alpha_", "beta_"],
        }
    }

    /// Sign of lifelines' log shape parameter against `log σ`: ρ and β are `1/σ`.
    fn shape_sign(self) -> f64 {
        match self {
            Self::LogNormal => 1.0,
            Self::Weibull | Self::LogLogistic => -1.0,
        }
    }

    /// `(h, h′, h″)` at the standardised log time `z`: `h` the log density of `W` for an
    /// event, its log survival function for a censored time.
    fn terms(self, z: f64, event: bool) -> (f64, f64, f64) {
        match (self, event) {
            (Self::Weibull, true) => {
                let e = z.exp();
                (z - e, 1.0 - e, -e)
            }
            (Self::Weibull, false) => {
                let e = z.exp();
                (-e, -e, -e)
            }
            (Self::LogNormal, true) => (-0.5 * z * z - LN_SQRT_2PI, -z, -1.0),
            (Self::LogNormal, false) => {
                let ls = normal_log_sf(z);
                // The inverse Mills ratio φ(z) / Φ(−z).
                let m = (-0.5 * z * z - LN_SQRT_2PI - ls).exp();
                (ls, -m, -m * (m - z))
            }
            (Self::LogLogistic, true) => {
                let (p, sp) = (sigmoid(z), softplus(z));
                (z - 2.0 * sp, 1.0 - 2.0 * p, -2.0 * p * (1.0 - p))
            }
            (Self::LogLogistic, false) => {
                let (p, sp) = (sigmoid(z), softplus(z));
                (-sp, -p, -p * (1.0 - p))
            }
        }
    }

    /// The `z` at which `W`'s survival function is `p`.
    fn quantile_of_survival(self, p: f64) -> f64 {
        match self {
            Self::Weibull => (-p.ln()).ln(),
            Self::LogNormal => -standard_normal().inverse_cdf(p),
            Self::LogLogistic => ((1.0 - p) / p).ln(),
        }
    }

    /// `W`'s survival function at `z`.
    fn survival(self, z: f64) -> f64 {
        match self {
            Self::Weibull => (-z.exp()).exp(),
            Self::LogNormal => 0.5 * libm::erfc(z / std::f64::consts::SQRT_2),
            Self::LogLogistic => 1.0 / (1.0 + z.exp()),
        }
    }
}

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal")
}

/// `log Φ(−z)` to full relative precision: `ln(½ erfc(z/√2))` with musl's erfc (< 1 ulp;
/// statrs' is ~1e-10 relative off, enough to move a likelihood's 12th digit), through
/// `ln_1p(−Φ(z))` where `Φ(−z)` is near 1, and the asymptotic series in the far tail (where
/// `Φ(−z)` underflows).
fn normal_log_sf(z: f64) -> f64 {
    if z < 0.0 {
        (-0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)).ln_1p()
    } else if z < 30.0 {
        (0.5 * libm::erfc(z / std::f64::consts::SQRT_2)).ln()
    } else {
        let z2 = z * z;
        -0.5 * z2 - LN_SQRT_2PI - z.ln() + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + e^z)`.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// Parameters of [`Aft`] (validated by `check()`, linfa's [`ParamGuard`]).
///
/// | field | default | valid |
/// |---|---|---|
/// | `distribution` | Weibull | Weibull, LogNormal, LogLogistic |
/// | `ancillary` | false | true: the shape regressed on the covariates too (lifelines' `ancillary=True`) |
/// | `max_iter` | 200 | ≥ 1 |
/// | `tol` | 1e-9 | > 0: largest Newton step on standardised coefficients |
/// | `confidence` | 0.95 | (0, 1): level of the coefficient intervals |
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AftValidParams {
    distribution: AftDistribution,
    ancillary: bool,
    max_iter: usize,
    tol: f64,
    confidence: f64,
}

impl Default for AftValidParams {
    fn default() -> Self {
        Self {
            distribution: AftDistribution::Weibull,
            ancillary: false,
            max_iter: 200,
            tol: 1e-9,
            confidence: 0.95,
        }
    }
}

/// Unchecked [`AftValidParams`], built with the setters and checked by `check()`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AftParams(AftValidParams);

impl AftParams {
    /// Sets the distribution of the survival time.
    pub fn distribution(mut self, d: AftDistribution) -> Self {
        self.0.distribution = d;
        self
    }

    /// Whether the shape parameter is regressed on the covariates too (lifelines'
    /// `ancillary=True`); by default it is one value for everyone.
    pub fn ancillary(mut self, ancillary: bool) -> Self {
        self.0.ancillary = ancillary;
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

impl ParamGuard for AftParams {
    type Checked = AftValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&AftValidParams> {
        let p = &self.0;
        crate::coxph::check_newton(p.max_iter, p.tol, p.confidence)?;
        Ok(p)
    }

    fn check(self) -> Result<AftValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted AFT model, its parameters in lifelines' parametrisation. Risk (`predict`) is minus
/// the log of the predicted median time: **higher = worse**, as for [`crate::CoxPh`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aft {
    /// The distribution of the survival time.
    pub distribution: AftDistribution,
    /// Whether the shape was regressed on the covariates.
    pub ancillary: bool,
    /// Location coefficients, the covariates' then the intercept: lifelines' `lambda_` rows
    /// (`log λ`, Weibull), `mu_` (`μ`, log-normal) or `alpha_` (`log α`, log-logistic).
    pub location: Array1<f64>,
    /// Shape coefficients on the log scale, the covariates' (with `ancillary`) then the
    /// intercept: lifelines' `rho_` (`log ρ`), `sigma_` (`log σ`) or `beta_` (`log β`) rows.
    pub shape: Array1<f64>,
    /// Standard errors of [`Aft::location`].
    pub location_se: Array1<f64>,
    /// Standard errors of [`Aft::shape`].
    pub shape_se: Array1<f64>,
    /// Covariance of all coefficients (location then shape), the inverse observed information.
    pub covariance: Array2<f64>,
    /// Wald statistics `coef / se`, location then shape.
    pub z: Array1<f64>,
    /// Two-sided p-values of the Wald statistics (lifelines' summary `p`), location then shape.
    pub p: Array1<f64>,
    /// Lower confidence bounds, location then shape.
    pub ci_lower: Array1<f64>,
    /// Upper confidence bounds, location then shape.
    pub ci_upper: Array1<f64>,
    /// Log-likelihood of the times (densities of events, survival of censored times, on the
    /// time scale: lifelines' `log_likelihood_`).
    pub log_likelihood: f64,
    /// Akaike's criterion `2k − 2ℓ` (lifelines' `AIC_`).
    pub aic: f64,
    /// Harrell's C of the predicted medians on the training data (lifelines'
    /// `concordance_index_`).
    pub concordance: Concordance,
    /// Newton iterations used.
    pub iterations: usize,
}

impl Aft {
    /// Default parameters (Weibull, shape common to all).
    pub fn params() -> AftParams {
        AftParams::default()
    }

    /// `(μ, σ)` of each row of `x`.
    fn location_scale(&self, x: ArrayView2<f64>) -> Result<(Array1<f64>, Array1<f64>)> {
        let p = self.location.len() - 1;
        if x.ncols() != p {
            return Err(Error::LengthMismatch {
                what: "covariate columns",
                got: x.ncols(),
                expected: p,
            });
        }
        if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "covariate",
                index,
                value,
            });
        }
        let mu = x.dot(&self.location.slice(s![..p])) + self.location[p];
        let sign = self.distribution.shape_sign();
        let q = self.shape.len() - 1;
        let log_sigma = if self.ancillary {
            x.dot(&self.shape.slice(s![..q])) + self.shape[q]
        } else {
            Array1::from_elem(x.nrows(), self.shape[q])
        };
        Ok((mu, log_sigma.mapv(|v| (sign * v).exp())))
    }

    /// The time by which each subject's predicted survival falls to `p` (lifelines'
    /// `predict_percentile(X, p=p)`).
    pub fn percentile(&self, x: ArrayView2<f64>, p: f64) -> Result<Array1<f64>> {
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::InvalidParameter(format!(
                "p = {p} must be in (0, 1)"
            )));
        }
        let z = self.distribution.quantile_of_survival(p);
        let (mu, sigma) = self.location_scale(x)?;
        Ok(ndarray::Zip::from(&mu)
            .and(&sigma)
            .map_collect(|m, s| (m + s * z).exp()))
    }

    /// Predicted median times (lifelines' `predict_median`).
    pub fn median(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        self.percentile(x, 0.5)
    }

    /// Predicted mean times (lifelines' `predict_expectation`): `λ Γ(1 + 1/ρ)`, `exp(μ + σ²/2)`,
    /// `α (π/β) / sin(π/β)`. A log-logistic time with `β ≤ 1` has no finite mean: infinity here
    /// (lifelines gives NaN).
    pub fn expectation(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let (mu, sigma) = self.location_scale(x)?;
        let d = self.distribution;
        Ok(ndarray::Zip::from(&mu)
            .and(&sigma)
            .map_collect(|&m, &s| match d {
                AftDistribution::Weibull => m.exp() * gamma(1.0 + s),
                AftDistribution::LogNormal => (m + s * s / 2.0).exp(),
                AftDistribution::LogLogistic if s >= 1.0 => f64::INFINITY,
                AftDistribution::LogLogistic => {
                    let a = std::f64::consts::PI * s;
                    m.exp() * a / a.sin()
                }
            }))
    }

    /// Each subject's predicted survival at `times` (rows: subjects; lifelines'
    /// `predict_survival_function(X, times)` transposed).
    pub fn survival(&self, x: ArrayView2<f64>, times: &[f64]) -> Result<Array2<f64>> {
        if let Some((index, &value)) = times
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && **t >= 0.0))
        {
            return Err(Error::InvalidTime { index, value });
        }
        let (mu, sigma) = self.location_scale(x)?;
        let d = self.distribution;
        Ok(Array2::from_shape_fn((mu.len(), times.len()), |(i, j)| {
            if times[j] == 0.0 {
                1.0
            } else {
                d.survival((times[j].ln() - mu[i]) / sigma[i])
            }
        }))
    }

    /// A table of the coefficients as lifelines' `print_summary` shows them: one row per
    /// (parameter, covariate) — `names` are the covariates' (else `x0`, `x1`, …), then
    /// `Intercept` — with coef, exp(coef), se, z, p and the interval; then the log-likelihood,
    /// AIC and concordance.
    pub fn summary(&self, names: &[&str]) -> String {
        use std::fmt::Write as _;
        let p = self.location.len() - 1;
        let covariate = |j: usize| {
            if j == p {
                "Intercept".to_string()
            } else if names.len() == p {
                names[j].to_string()
            } else {
                format!("x{j}")
            }
        };
        let [loc, shape] = self.distribution.parameter_names();
        let shape_rows: Vec<usize> = if self.ancillary {
            (0..=p).collect()
        } else {
            vec![p]
        };
        let rows: Vec<(String, usize)> = (0..=p)
            .map(|j| (format!("{loc} {}", covariate(j)), j))
            .chain(
                shape_rows
                    .iter()
                    .enumerate()
                    .map(|(k, &j)| (format!("{shape} {}", covariate(j)), p + 1 + k)),
            )
            .collect();
        let coef: Vec<f64> = self.location.iter().chain(&self.shape).copied().collect();
        let se: Vec<f64> = self
            .location_se
            .iter()
            .chain(&self.shape_se)
            .copied()
            .collect();
        let width = rows.iter().map(|(r, _)| r.len()).max().unwrap_or(0).max(9);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<width$} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "parameter", "coef", "exp(coef)", "se(coef)", "z", "p", "lower", "upper"
        );
        for (label, i) in &rows {
            let _ = writeln!(
                s,
                "{label:<width$} {:>10.4} {:>10.4} {:>10.4} {:>8.3} {:>10.3e} {:>10.4} {:>10.4}",
                coef[*i],
                coef[*i].exp(),
                se[*i],
                self.z[*i],
                self.p[*i],
                self.ci_lower[*i],
                self.ci_upper[*i]
            );
        }
        let _ = writeln!(
            s,
            "\n{:?} AFT; log-likelihood {:.4}; AIC {:.4}; concordance {:.4}",
            self.distribution, self.log_likelihood, self.aic, self.concordance.c_index
        );
        s
    }

    /// Risk scores: `−log` of the predicted median (higher = worse).
    pub fn risk(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let (mu, sigma) = self.location_scale(x)?;
        Ok(risk_of(self.distribution, &mu, &sigma))
    }
}

impl AftValidParams {
    /// Fits on a design `x` (`n × p`; `n × 0` for lifelines' univariate fitters) and survival
    /// targets.
    pub fn fit_arrays(&self, x: ArrayView2<f64>, y: &[Surv]) -> Result<Aft> {
        self.fit_inner(x, y, None)
    }

    /// [`AftValidParams::fit_arrays`] with delayed entry (left truncation): subject `i` known
    /// event-free until `entry[i]`, so its likelihood is conditional on surviving to it —
    /// `f(t) / S(entry)` for an event, `S(t) / S(entry)` for a censoring — lifelines'
    /// `fit(…, entry_col=…)` of its AFT and univariate fitters. Each entry time must be finite,
    /// ≥ 0 and before the subject's time (0: no delay). The concordance ignores the entries,
    /// as lifelines'.
    pub fn fit_with_entry(&self, x: ArrayView2<f64>, y: &[Surv], entry: &[f64]) -> Result<Aft> {
        crate::surv::check_entry(entry, y)?;
        self.fit_inner(x, y, Some(entry))
    }

    fn fit_inner(&self, x: ArrayView2<f64>, y: &[Surv], entry: Option<&[f64]>) -> Result<Aft> {
        if !y.is_empty() && !y.iter().any(|s| s.event()) {
            return Err(Error::Undefined(
                "no events: with every time censored the AFT likelihood has no maximum".into(),
            ));
        }
        crate::surv::check_design(x, y)?;
        if let Some((index, s)) = y.iter().enumerate().find(|(_, s)| s.time() <= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "survival time {} at index {index} must be > 0: an AFT model takes its log",
                s.time()
            )));
        }
        let n = x.nrows();
        let ones = Array2::ones((n, 1));
        let loc = ndarray::concatenate![Axis(1), x, ones];
        let shp = if self.ancillary {
            loc.clone()
        } else {
            ones.clone()
        };
        let (kl, ks) = (loc.ncols(), shp.ncols());
        let k = kl + ks;
        let log_t: Array1<f64> = y.iter().map(|s| s.time().ln()).collect();
        // log entry times, where there is a delay (entry > 0).
        let log_entry: Vec<Option<f64>> = (0..n)
            .map(|i| entry.map(|e| e[i]).filter(|&e| e > 0.0).map(f64::ln))
            .collect();
        let event: Vec<bool> = y.iter().map(|s| s.event()).collect();
        let d = self.distribution;
        // Column scales for the convergence test (the step on standardised coefficients).
        let scale: Vec<f64> = (0..k)
            .map(|j| {
                let col = if j < kl {
                    loc.column(j)
                } else {
                    shp.column(j - kl)
                };
                let sd = col.std(0.0);
                if sd > 0.0 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        // Start: the intercepts from the log times' mean and spread, every slope 0.
        let mean = log_t.mean().unwrap_or(0.0);
        let sd = log_t.std(0.0).max(1e-3);
        let mut theta = Array1::zeros(k);
        theta[kl - 1] = mean;
        theta[k - 1] = sd.ln();
        let eval = |theta: &Array1<f64>, derivatives: bool| -> Evaluation {
            let mu = loc.dot(&theta.slice(s![..kl]));
            let log_sigma = shp.dot(&theta.slice(s![kl..]));
            let mut ll = 0.0;
            let (mut dmu, mut ds) = (Array1::zeros(n), Array1::zeros(n));
            let (mut dmm, mut dms, mut dss) =
                (Array1::zeros(n), Array1::zeros(n), Array1::zeros(n));
            for i in 0..n {
                let sigma = log_sigma[i].exp();
                let z = (log_t[i] - mu[i]) / sigma;
                let (h, h1, h2) = d.terms(z, event[i]);
                let e = f64::from(u8::from(event[i]));
                ll += h - e * (log_sigma[i] + log_t[i]);
                if derivatives {
                    dmu[i] = -h1 / sigma;
                    ds[i] = -z * h1 - e;
                    dmm[i] = h2 / (sigma * sigma);
                    dms[i] = (z * h2 + h1) / sigma;
                    dss[i] = z * h1 + z * z * h2;
                }
                // Delayed entry: − log S at the entry, with its derivatives.
                if let Some(log_e) = log_entry[i] {
                    let z = (log_e - mu[i]) / sigma;
                    let (h, h1, h2) = d.terms(z, false);
                    ll -= h;
                    if derivatives {
                        dmu[i] += h1 / sigma;
                        ds[i] += z * h1;
                        dmm[i] -= h2 / (sigma * sigma);
                        dms[i] -= (z * h2 + h1) / sigma;
                        dss[i] -= z * h1 + z * z * h2;
                    }
                }
            }
            if !derivatives {
                return Evaluation {
                    ll,
                    gradient: Array1::zeros(0),
                    hessian: Array2::zeros((0, 0)),
                };
            }
            let mut gradient = Array1::zeros(k);
            gradient.slice_mut(s![..kl]).assign(&loc.t().dot(&dmu));
            gradient.slice_mut(s![kl..]).assign(&shp.t().dot(&ds));
            let weighted = |a: &Array2<f64>, w: &Array1<f64>, b: &Array2<f64>| {
                let aw = a * &w.view().insert_axis(Axis(1));
                aw.t().dot(b)
            };
            let mut hessian = Array2::zeros((k, k));
            hessian
                .slice_mut(s![..kl, ..kl])
                .assign(&weighted(&loc, &dmm, &loc));
            let ls = weighted(&loc, &dms, &shp);
            hessian.slice_mut(s![..kl, kl..]).assign(&ls);
            hessian.slice_mut(s![kl.., ..kl]).assign(&ls.t());
            hessian
                .slice_mut(s![kl.., kl..])
                .assign(&weighted(&shp, &dss, &shp));
            Evaluation {
                ll,
                gradient,
                hessian,
            }
        };
        let mut current = eval(&theta, true);
        if !current.ll.is_finite() {
            return Err(Error::Undefined(
                "the log-likelihood is not finite at the starting values".into(),
            ));
        }
        let mut iterations = 0;
        let mut last_step = f64::INFINITY;
        loop {
            if iterations >= self.max_iter {
                return Err(Error::NotConverged {
                    iterations,
                    step: last_step,
                    gradient: current.gradient.dot(&current.gradient).sqrt(),
                });
            }
            iterations += 1;
            let step = newton_step(&current.hessian, &current.gradient)?;
            // Step halving until the likelihood does not decrease.
            let mut t = 1.0;
            let mut next = None;
            for _ in 0..40 {
                let candidate = &theta + &(&step * t);
                let e = eval(&candidate, false);
                if e.ll.is_finite() && e.ll >= current.ll - 1e-12 * current.ll.abs() {
                    next = Some(candidate);
                    break;
                }
                t /= 2.0;
            }
            let Some(candidate) = next else {
                return Err(Error::NotConverged {
                    iterations,
                    step: last_step,
                    gradient: current.gradient.dot(&current.gradient).sqrt(),
                });
            };
            last_step = (0..k)
                .map(|j| ((&candidate - &theta)[j] * scale[j]).abs())
                .fold(0.0, f64::max);
            theta = candidate;
            current = eval(&theta, true);
            if last_step < self.tol {
                break;
            }
        }
        let information = current.hessian.mapv(|v| -v);
        let mut covariance: Array2<f64> = information
            .invc()
            .map_err(|e| Error::Linalg(format!("information matrix not invertible: {e}")))?;
        // lifelines' parametrisation: ρ and β are 1/σ, their logs −log σ.
        let sign = d.shape_sign();
        let flip: Array1<f64> = (0..k).map(|j| if j < kl { 1.0 } else { sign }).collect();
        let coef = &theta * &flip;
        let outer = &flip.view().insert_axis(Axis(1)) * &flip.view().insert_axis(Axis(0));
        covariance *= &outer;
        let se: Array1<f64> = covariance.diag().mapv(f64::sqrt);
        let normal = standard_normal();
        let z = &coef / &se;
        let p = z.mapv(|v| 2.0 * normal.sf(v.abs()));
        let zq = normal.inverse_cdf(0.5 + self.confidence / 2.0);
        let ci_lower = &coef - &(&se * zq);
        let ci_upper = &coef + &(&se * zq);
        // Harrell's C of the predicted medians (higher risk: shorter median).
        let mu = loc.dot(&theta.slice(s![..kl]));
        let sigma = shp.dot(&theta.slice(s![kl..])).mapv(f64::exp);
        let risk = risk_of(d, &mu, &sigma);
        let concordance = harrell(y, risk.as_slice().expect("contiguous"), DEFAULT_TIED_TOL)?;
        let model = Aft {
            distribution: d,
            ancillary: self.ancillary,
            location: coef.slice(s![..kl]).to_owned(),
            shape: coef.slice(s![kl..]).to_owned(),
            location_se: se.slice(s![..kl]).to_owned(),
            shape_se: se.slice(s![kl..]).to_owned(),
            covariance,
            z,
            p,
            ci_lower,
            ci_upper,
            log_likelihood: current.ll,
            aic: 2.0 * k as f64 - 2.0 * current.ll,
            concordance,
            iterations,
        };
        Ok(model)
    }
}

/// `−log` of the median of times with log-location `mu` and log-scale `sigma`.
fn risk_of(d: AftDistribution, mu: &Array1<f64>, sigma: &Array1<f64>) -> Array1<f64> {
    let z = d.quantile_of_survival(0.5);
    ndarray::Zip::from(mu)
        .and(sigma)
        .map_collect(|m, s| -(m + s * z))
}

/// The log-likelihood, and where asked its gradient and Hessian in the coefficients.
struct Evaluation {
    ll: f64,
    gradient: Array1<f64>,
    hessian: Array2<f64>,
}

/// The Newton step `(−H)⁻¹ g`, damped (Levenberg) where `−H` is not positive definite.
fn newton_step(hessian: &Array2<f64>, gradient: &Array1<f64>) -> Result<Array1<f64>> {
    let information = hessian.mapv(|v| -v);
    let k = information.nrows();
    let diag_scale = information
        .diag()
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1.0);
    let mut damping = 0.0;
    for _ in 0..60 {
        let mut a = information.clone();
        for j in 0..k {
            a[[j, j]] += damping;
        }
        if let Ok(step) = a.solvec(gradient) {
            if step.iter().all(|v| v.is_finite()) {
                return Ok(step);
            }
        }
        damping = if damping == 0.0 {
            1e-8 * diag_scale
        } else {
            damping * 10.0
        };
    }
    Err(Error::Linalg(
        "no positive-definite damping of the information matrix".into(),
    ))
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<Surv>, Error> for AftValidParams {
    type Object = Aft;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<Surv>>) -> Result<Aft> {
        let y = dataset
            .targets()
            .as_slice()
            .ok_or_else(|| Error::InvalidParameter("survival targets must be contiguous".into()))?;
        self.fit_arrays(dataset.records().view(), y)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Aft {
    /// Writes [`Aft::risk`]; panics on a design with the wrong number of columns, as
    /// [`crate::CoxPh`]'s `predict` does (linfa's `predict` has no error path): call
    /// [`Aft::risk`] to get that as an error.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(
            x.ncols(),
            self.location.len() - 1,
            "number of covariates must match the fit"
        );
        *y = self
            .risk(x.view())
            .unwrap_or_else(|_| Array1::from_elem(x.nrows(), f64::NAN));
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}
