//! Penalised Cox fits (`CoxPh::params().penalizer(…)`, `.penalizers(…)`, `.l1_ratio(…)`)
//! against lifelines 0.30.3's `CoxPHFitter(penalizer=…, l1_ratio=…)` on four bundled datasets
//! (`tools/cox_penalized_reference.py` → `cox_penalized_expected.json`): ridge with one
//! penalizer, one per covariate (two of them 0), strata with case weights, 200 covariates on
//! 50 patients; and three elastic-net / lasso fits, where the reference is the exact maximum
//! of lifelines' objective (scipy's L-BFGS-B on lifelines' own likelihood, polished by Newton
//! on the nonzero coefficients, its optimality conditions checked) beside lifelines' smoothed
//! answer. Tolerances (relative): coefficients and standard errors 1e-6 (of max(|value|, 1e-3)),
//! log-likelihoods 1e-9, concordance 1e-12, likelihood-ratio statistic 1e-6; the L1 part's
//! zeros exactly 0.

use adamss_survival::linfa::ParamGuard;
use adamss_survival::{CoxData, CoxPh, CoxPhParams, Error, Penalizer, Surv, TimeTransform};
use ndarray::Array2;
use serde_json::Value;

use crate::{assert_close, covariates_case, data_dir, f64s, load};

fn expected() -> Value {
    let text = std::fs::read_to_string(data_dir().join("cox_penalized_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The case's design, outcomes, and its parameters.
fn case_of(case: &Value) -> (Array2<f64>, Vec<Surv>, CoxPhParams) {
    let (x, y) = covariates_case(case);
    let params = match &case["penalizer"] {
        Value::Array(_) => CoxPh::params().penalizers(f64s(&case["penalizer"])),
        w => CoxPh::params().penalizer(w.as_f64().unwrap()),
    };
    let params = params.l1_ratio(case["l1_ratio"].as_f64().unwrap());
    (x, y, params)
}

fn fit(case: &Value) -> CoxPh {
    let (x, y, params) = case_of(case);
    let strata: Option<Vec<i64>> = case.get("strata").map(|s| {
        s.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    });
    let weights = case.get("weights").map(f64s);
    let mut data = CoxData::new(x.view(), &y);
    if let Some(s) = &strata {
        data = data.strata(s);
    }
    if let Some(w) = &weights {
        data = data.weights(w);
    }
    params.fit_data(&data).unwrap()
}

#[test]
fn ridge_matches_lifelines() {
    let exp = expected();
    let cases = exp["cases"].as_object().unwrap();
    let mut seen = 0;
    for (name, case) in cases {
        if case["l1_ratio"].as_f64().unwrap() > 0.0 {
            continue;
        }
        seen += 1;
        let model = fit(case);
        let r = &case["lifelines"];
        let what = |w: &str| format!("{name} {w}");
        assert_close(
            &what("coef"),
            model.coef.as_slice().unwrap(),
            &f64s(&r["coef"]),
            1e-6,
            1e-3,
        );
        assert_close(
            &what("se"),
            model.se.as_slice().unwrap(),
            &f64s(&r["se"]),
            1e-6,
            1e-3,
        );
        assert_close(
            &what("log-likelihoods"),
            &[model.log_likelihood, model.log_likelihood_null],
            &[
                r["log_likelihood"].as_f64().unwrap(),
                r["log_likelihood_null"].as_f64().unwrap(),
            ],
            1e-9,
            1.0,
        );
        assert_close(
            &what("concordance"),
            &[model.concordance.c_index],
            &[r["concordance"].as_f64().unwrap()],
            1e-12,
            1.0,
        );
        assert_close(
            &what("likelihood ratio"),
            &[model.likelihood_ratio_test().statistic],
            &[r["likelihood_ratio"].as_f64().unwrap()],
            1e-6,
            1.0,
        );
        assert!(model.summary(&[]).contains("penalizer"), "{name}");
    }
    assert_eq!(seen, 5);
}

#[test]
fn elastic_net_reaches_the_exact_maximum_lifelines_approaches() {
    let exp = expected();
    let cases = exp["cases"].as_object().unwrap();
    let mut seen = 0;
    for (name, case) in cases {
        if case["l1_ratio"].as_f64().unwrap() == 0.0 {
            continue;
        }
        seen += 1;
        let model = fit(case);
        let exact = &case["exact"];
        let want = f64s(&exact["coef"]);
        let what = |w: &str| format!("{name} {w}");
        assert_close(
            &what("coef vs exact"),
            model.coef.as_slice().unwrap(),
            &want,
            1e-6,
            1e-3,
        );
        // lifelines' smoothed |b| lands within 2e-11 of the maximum on these cases.
        assert_close(
            &what("coef vs lifelines"),
            model.coef.as_slice().unwrap(),
            &f64s(&case["lifelines"]["coef"]),
            1e-6,
            1e-3,
        );
        let zeros: Vec<usize> = (0..want.len()).filter(|&j| want[j] == 0.0).collect();
        assert!(
            !zeros.is_empty(),
            "{name}: the case should zero a coefficient"
        );
        for j in 0..want.len() {
            if zeros.contains(&j) {
                assert_eq!(model.coef[j], 0.0, "{name}: coefficient {j} exactly 0");
                assert!(model.se[j].is_nan(), "{name}: no standard error at 0");
            } else {
                let se = exact["se"][j].as_f64().unwrap();
                assert_close(&what("se"), &[model.se[j]], &[se], 1e-6, 1e-3);
                // lifelines' standard errors of the nonzero coefficients agree too.
                let lse = case["lifelines"]["se"][j].as_f64().unwrap();
                assert_close(&what("se vs lifelines"), &[model.se[j]], &[lse], 1e-6, 1e-3);
            }
        }
        assert_close(
            &what("penalised log-likelihood"),
            &[model.log_likelihood],
            &[exact["log_likelihood"].as_f64().unwrap()],
            1e-9,
            1.0,
        );
    }
    assert_eq!(seen, 3);
}

#[test]
fn a_penalty_fits_more_covariates_than_patients_where_none_cannot() {
    let exp = expected();
    let case = &exp["cases"]["wide_0.5"];
    let (x, y, _) = case_of(case);
    assert!(x.ncols() > x.nrows());
    assert!(CoxPh::params().fit_arrays(x.view(), &y).is_err());
    assert!(CoxPh::params()
        .penalizer(0.5)
        .fit_arrays(x.view(), &y)
        .is_ok());
}

#[test]
fn penalty_parameters_are_checked() {
    let (x, y, _) = load("rossi");
    let bad = |p: CoxPhParams| match p.fit_arrays(x.view(), &y) {
        Err(e @ (Error::InvalidParameter(_) | Error::LengthMismatch { .. })) => e.to_string(),
        other => panic!("expected a parameter error, got {other:?}"),
    };
    assert!(bad(CoxPh::params().penalizer(-0.1)).contains("penalizer"));
    assert!(bad(CoxPh::params().penalizer(f64::NAN)).contains("penalizer"));
    assert!(bad(CoxPh::params().penalizer(0.1).l1_ratio(1.5)).contains("l1_ratio"));
    assert!(bad(CoxPh::params().penalizers(vec![0.1; 3])).contains("penalizers"));
    // A zero penalizer is the unpenalised fit, bit for bit.
    let plain = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    let zero = CoxPh::params()
        .penalizer(0.0)
        .l1_ratio(0.5)
        .fit_arrays(x.view(), &y)
        .unwrap();
    assert_eq!(plain.coef, zero.coef);
    assert_eq!(zero.penalizer, Penalizer::All(0.0));
    // Parameters round-trip through serde as lifelines writes them: a number or a list.
    let checked = CoxPh::params()
        .penalizers(vec![0.0, 0.1])
        .l1_ratio(0.5)
        .check()
        .unwrap();
    let json = serde_json::to_string(&checked).unwrap();
    assert!(json.contains("\"penalizer\":[0.0,0.1]"), "{json}");
    let back: adamss_survival::CoxPhValidParams = serde_json::from_str(&json).unwrap();
    assert_eq!(back, checked);
}

#[test]
fn checks_that_need_every_covariance_refuse_an_l1_fit_with_zeros() {
    let exp = expected();
    let case = &exp["cases"]["rossi_lasso"];
    let (x, y, params) = case_of(case);
    let lasso = params.fit_arrays(x.view(), &y).unwrap();
    let err = lasso
        .proportional_hazards_test(x.view(), &y, TimeTransform::Rank)
        .unwrap_err()
        .to_string();
    assert!(err.contains("L1 penalty") && err.contains("[5]"), "{err}");
    // A ridge fit has every covariance: its test is defined.
    let ridge = CoxPh::params()
        .penalizer(0.1)
        .fit_arrays(x.view(), &y)
        .unwrap();
    let tests = ridge
        .proportional_hazards_test(x.view(), &y, TimeTransform::Rank)
        .unwrap();
    assert!(tests.iter().all(|t| t.statistic.is_finite()));
}
