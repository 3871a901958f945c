//! Parametric AFT models against lifelines 0.30.3 (`tools/aft_reference.py`): Weibull,
//! log-normal and log-logistic on rossi, veterans and lung, without and with `ancillary`, and
//! the univariate fitters.
//!
//! The reference is lifelines' own maximum: its BFGS stops 3e-5–3e-2 short of it on these
//! data, so the generator polishes its solution by Newton steps on lifelines' log-likelihood and
//! autograd gradient. Tolerances: coefficients 1e-8 relative (or 1e-10 absolute), standard
//! errors 1e-6 (lifelines' Hessian by automatic differentiation, ours analytic), log-likelihood
//! and AIC 1e-12, predictions 1e-8, the concordance to 1e-12.

use adamss_survival::prelude::*;
use adamss_survival::{Aft, AftDistribution};
use ndarray::Axis;
use serde_json::Value;

use crate::{data_dir, load};

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data_dir().join("aft_expected.json")).unwrap())
        .unwrap()
}

fn distribution(name: &str) -> AftDistribution {
    match name {
        "weibull" => AftDistribution::Weibull,
        "lognormal" => AftDistribution::LogNormal,
        "loglogistic" => AftDistribution::LogLogistic,
        other => panic!("{other}"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    (got - want).abs() <= rel * want.abs() + abs
}

#[test]
fn aft_fits_match_lifelines() {
    let r = reference();
    let failures = std::cell::RefCell::new(Vec::new());
    let check = |what: String, got: &[f64], want: &[f64], rel: f64, abs: f64| {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            if !close(*g, *w, rel, abs) {
                failures
                    .borrow_mut()
                    .push(format!("{what}[{i}]: {g} vs {w}"));
            }
        }
    };
    let fits = r["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 18);
    for f in fits {
        let (x, y, names) = load(f["dataset"].as_str().unwrap());
        let cols: Vec<usize> = f["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| names.iter().position(|n| n == c.as_str().unwrap()).unwrap())
            .collect();
        let x = x.select(Axis(1), &cols);
        let ancillary = f["ancillary"].as_bool().unwrap();
        let d = distribution(f["distribution"].as_str().unwrap());
        let m = Aft::params()
            .distribution(d)
            .ancillary(ancillary)
            .fit(&Dataset::new(x.clone(), Array1::from(y)))
            .unwrap();
        let tag = format!("{} {:?} ancillary={ancillary}", f["dataset"], d);
        check(
            format!("{tag} location"),
            m.location.as_slice().unwrap(),
            &floats(&f["location"]),
            1e-8,
            1e-10,
        );
        check(
            format!("{tag} shape"),
            m.shape.as_slice().unwrap(),
            &floats(&f["shape"]),
            1e-8,
            1e-10,
        );
        check(
            format!("{tag} location se"),
            m.location_se.as_slice().unwrap(),
            &floats(&f["location_se"]),
            1e-6,
            1e-12,
        );
        check(
            format!("{tag} shape se"),
            m.shape_se.as_slice().unwrap(),
            &floats(&f["shape_se"]),
            1e-6,
            1e-12,
        );
        check(
            format!("{tag} p"),
            m.p.as_slice().unwrap(),
            &floats(&f["p"]),
            1e-5,
            1e-300,
        );
        check(
            format!("{tag} log-likelihood, AIC"),
            &[m.log_likelihood, m.aic],
            &[
                f["log_likelihood"].as_f64().unwrap(),
                f["aic"].as_f64().unwrap(),
            ],
            1e-8,
            0.0,
        );
        check(
            format!("{tag} concordance"),
            &[m.concordance.c_index],
            &[f["concordance"].as_f64().unwrap()],
            1e-12,
            0.0,
        );
        let rows = r["rows"].as_u64().unwrap() as usize;
        let head = x.slice(ndarray::s![..rows, ..]);
        check(
            format!("{tag} median"),
            m.median(head).unwrap().as_slice().unwrap(),
            &floats(&f["median"]),
            1e-8,
            0.0,
        );
        check(
            format!("{tag} percentile 0.25"),
            m.percentile(head, 0.25).unwrap().as_slice().unwrap(),
            &floats(&f["percentile_25"]),
            1e-8,
            0.0,
        );
        // lifelines' NaN mean (a log-logistic β ≤ 1) is infinite here.
        let want: Vec<f64> = floats(&f["expectation"])
            .into_iter()
            .map(|v| if v.is_nan() { f64::INFINITY } else { v })
            .collect();
        let got = m.expectation(head).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let ok = if w.is_infinite() {
                g.is_infinite()
            } else {
                close(*g, *w, 1e-8, 0.0)
            };
            if !ok {
                failures
                    .borrow_mut()
                    .push(format!("{tag} expectation[{i}]: {g} vs {w}"));
            }
        }
        let times = floats(&f["times"]);
        let s = m.survival(head, &times).unwrap();
        // lifelines' curves, one row per subject.
        for (i, row) in f["survival"].as_array().unwrap().iter().enumerate() {
            check(
                format!("{tag} survival of subject {i}"),
                s.row(i).to_vec().as_slice(),
                &floats(row),
                1e-8,
                1e-12,
            );
        }
    }
    let failures = failures.into_inner();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// lifelines' `WeibullFitter`, `LogNormalFitter`, `LogLogisticFitter`: the AFT models with an
/// intercept only (an `n × 0` design), their parameters on lifelines' natural scale (`λ = e^b`,
/// …; standard errors by the delta method, exact at the maximum).
#[test]
fn univariate_fits_match_lifelines() {
    let r = reference();
    for u in r["univariate"].as_array().unwrap() {
        let (x, y, _) = load(u["dataset"].as_str().unwrap());
        let d = distribution(u["distribution"].as_str().unwrap());
        let none = x.slice(ndarray::s![.., ..0]).to_owned();
        let m = Aft::params()
            .distribution(d)
            .fit(&Dataset::new(none.clone(), Array1::from(y)))
            .unwrap();
        let (b, c) = (m.location[0], m.shape[0]);
        let (sb, sc) = (m.location_se[0], m.shape_se[0]);
        // lifelines' parameters: λ/α = e^b (μ = b for the log-normal), ρ/σ/β = e^c.
        let (first, first_se) = match d {
            AftDistribution::LogNormal => (b, sb),
            _ => (b.exp(), b.exp() * sb),
        };
        let got = [first, c.exp(), first_se, c.exp() * sc];
        let want = [floats(&u["values"]), floats(&u["se"])].concat();
        for (g, w) in got.iter().zip(&want) {
            assert!(close(*g, *w, 1e-6, 1e-12), "{u}: {got:?} vs {want:?}");
        }
        let ll = u["log_likelihood"].as_f64().unwrap();
        assert!(
            close(m.log_likelihood, ll, 1e-12, 0.0),
            "{u}: {}",
            m.log_likelihood
        );
        let median = m.median(none.slice(ndarray::s![..1, ..])).unwrap()[0];
        assert!(
            close(median, u["median"].as_f64().unwrap(), 1e-8, 0.0),
            "{u}: {median}"
        );
    }
}

/// Bad input: a zero time (the model takes its log), a design of the wrong width, a
/// percentile outside (0, 1), a negative time for the survival function, no events, a
/// covariate collinear with the intercept.
#[test]
fn aft_refuses_bad_input() {
    let x = array![[1.0], [0.0], [2.0], [1.5]];
    let y = surv_from(&[3.0, 0.0, 4.0, 2.0], &[1, 1, 0, 1]).unwrap();
    let e = Aft::params()
        .fit(&Dataset::new(x.clone(), Array1::from(y)))
        .unwrap_err();
    assert!(e.to_string().contains("must be > 0"), "{e}");
    let y = surv_from(&[3.0, 1.0, 4.0, 2.0], &[1, 1, 0, 1]).unwrap();
    let m = Aft::params()
        .fit(&Dataset::new(x.clone(), Array1::from(y)))
        .unwrap();
    assert!(m.median(array![[1.0, 2.0]].view()).is_err());
    assert!(m.percentile(x.view(), 1.0).is_err());
    assert!(m.survival(x.view(), &[-1.0]).is_err());
    assert!(Aft::params().tol(0.0).check().is_err());
    let censored = surv_from(&[3.0, 1.0, 4.0, 2.0], &[0, 0, 0, 0]).unwrap();
    let e = Aft::params()
        .fit(&Dataset::new(x.clone(), Array1::from(censored)))
        .unwrap_err();
    assert!(
        e.to_string().contains("AFT likelihood has no maximum"),
        "{e}"
    );
    // A covariate equal to the intercept: no unique estimate.
    let flat = array![[1.0], [1.0], [1.0], [1.0]];
    let y2 = surv_from(&[3.0, 1.0, 4.0, 2.0], &[1, 1, 0, 1]).unwrap();
    assert!(Aft::params()
        .fit(&Dataset::new(flat, Array1::from(y2)))
        .is_err());
    assert_eq!(m.predict(&x).len(), 4);
    let table = m.summary(&["age"]);
    assert!(
        table.contains("lambda_ age") && table.contains("rho_ Intercept"),
        "{table}"
    );
}
