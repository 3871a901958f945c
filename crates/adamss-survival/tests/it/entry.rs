//! Delayed entry (left truncation): a subject is at risk on `(entry, time]` only.
//! References (`tools/left_truncation_reference.py` → `left_truncation_expected.json`):
//! lifelines 0.30.3's `KaplanMeierFitter` / `NelsonAalenFitter` with `entry=`, its
//! `CoxPHFitter(…).fit(…, entry_col=…)` with case weights, strata and a ridge penalty, its
//! `CoxTimeVaryingFitter` (the Breslow baseline over the `(entry, time]` risk sets, and
//! time-varying covariates in long form), and statsmodels 0.15's `PHReg(entry=…)` for the
//! robust covariance and residuals (score, martingale, Schoenfeld with the PH test) on untied
//! data. Tolerances (relative, of
//! `max(|value|, floor)`): curves 1e-12, their bounds 1e-9, coefficients and standard errors
//! 1e-6, log-likelihoods 1e-9, concordance 1e-12, residuals and baselines 1e-6.

use adamss_survival::{
    surv_from, BreslowBaseline, CoxData, CoxPh, Error, KaplanMeier, NelsonAalen, NelsonAalenTies,
    PartialLikelihood, Reduction, Surv, Ties, TimeTransform,
};
use ndarray::{Array2, Axis};
use serde_json::Value;

use crate::{assert_close, covariates_case, data_dir, f64s, load};

fn expected() -> Value {
    let path = data_dir().join("left_truncation_expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn outcomes(case: &Value) -> Vec<Surv> {
    load(case["dataset"].as_str().unwrap()).1
}

#[test]
fn kaplan_meier_with_entry_matches_lifelines() {
    let exp = expected();
    for name in ["km_rossi", "km_rossi_weights"] {
        let case = &exp["cases"][name];
        let y = outcomes(case);
        let entry = f64s(&case["entry"]);
        let weights = case["weights"].as_array().map(|_| f64s(&case["weights"]));
        let km = KaplanMeier::fit_with_entry(&y, &entry, weights.as_deref(), 0.95).unwrap();
        assert_eq!(km.timeline, f64s(&case["timeline"]), "{name}: timeline");
        assert_close(name, &km.survival, &f64s(&case["survival"]), 1e-12, 1e-12);
        assert_close(name, &km.lower, &f64s(&case["lower"]), 1e-9, 1e-12);
        assert_close(name, &km.upper, &f64s(&case["upper"]), 1e-9, 1e-12);
        // lifelines' at_risk column counts each time's entrants; ours is the risk set (the
        // same at 0, where those entering at 0 are at risk from the start).
        let table_time = f64s(&case["table_time"]);
        assert_eq!(table_time, km.timeline, "{name}: event table times");
        let at_risk = f64s(&case["table_at_risk"]);
        let entrance = f64s(&case["table_entrance"]);
        for (k, &n) in km.at_risk.iter().enumerate() {
            let want = if k == 0 {
                at_risk[0]
            } else {
                at_risk[k] - entrance[k]
            };
            assert_eq!(n, want, "{name}: at risk at {}", km.timeline[k]);
        }
        let median = case["median"].as_f64().unwrap_or(f64::INFINITY);
        assert_eq!(km.median(), median, "{name}");
    }
}

#[test]
fn nelson_aalen_with_entry_matches_lifelines() {
    let exp = expected();
    let case = &exp["cases"]["na_rossi"];
    let y = outcomes(case);
    let na = NelsonAalen::fit_with_entry(&y, &f64s(&case["entry"]), NelsonAalenTies::Smooth, 0.95)
        .unwrap();
    assert_eq!(na.timeline, f64s(&case["timeline"]));
    let want = f64s(&case["cumulative_hazard"]);
    assert_close("H", &na.cumulative_hazard, &want, 1e-12, 1e-12);
    assert_close("lower", &na.lower, &f64s(&case["lower"]), 1e-9, 1e-12);
    assert_close("upper", &na.upper, &f64s(&case["upper"]), 1e-9, 1e-12);
}

/// The Cox fit of a case: its covariates, outcomes and entries, with its weights, strata and
/// penalty where it has them.
fn cox_fit(case: &Value) -> (CoxPh, Array2<f64>, Vec<Surv>) {
    let (x, y) = covariates_case(case);
    let entry = f64s(&case["entry"]);
    let weights = case["weights"].as_array().map(|_| f64s(&case["weights"]));
    let strata: Option<Vec<i64>> = case["strata"]
        .as_array()
        .map(|s| s.iter().map(|v| v.as_i64().unwrap()).collect());
    let mut data = CoxData::new(x.view(), &y).entry(&entry);
    if let Some(w) = &weights {
        data = data.weights(w);
    }
    if let Some(s) = &strata {
        data = data.strata(s);
    }
    let params = CoxPh::params().penalizer(case["penalizer"].as_f64().unwrap_or(0.0));
    let fit = params.fit_data(&data).unwrap();
    (fit, x, y)
}

#[test]
fn cox_with_entry_matches_lifelines() {
    let exp = expected();
    for name in [
        "cox_rossi",
        "cox_rossi_weights",
        "cox_rossi_ridge",
        "cox_whas500_strata",
    ] {
        let case = &exp["cases"][name];
        let (fit, _, _) = cox_fit(case);
        assert!(fit.delayed_entry);
        let c = |k: &str| case[k].as_f64().unwrap();
        assert_close(
            name,
            fit.coef.as_slice().unwrap(),
            &f64s(&case["coef"]),
            1e-6,
            1e-3,
        );
        assert_close(
            name,
            fit.se.as_slice().unwrap(),
            &f64s(&case["se"]),
            1e-6,
            1e-3,
        );
        assert_close(
            name,
            &[fit.log_likelihood],
            &[c("log_likelihood")],
            1e-9,
            1.0,
        );
        let null = [fit.log_likelihood_null];
        assert_close(name, &null, &[c("log_likelihood_null")], 1e-9, 1.0);
        let cindex = [fit.concordance.c_index];
        assert_close(name, &cindex, &[c("concordance")], 1e-12, 1.0);
    }
}

#[test]
fn breslow_baseline_with_entry_matches_lifelines_time_varying_fitter() {
    let exp = expected();
    let case = &exp["cases"]["ctv_rossi"];
    let (fit, x, y) = cox_fit(&exp["cases"]["cox_rossi"]);
    // CoxTimeVaryingFitter on the same rows is the same model.
    assert_close(
        "ctv coef",
        fit.coef.as_slice().unwrap(),
        &f64s(&case["coef"]),
        1e-6,
        1e-3,
    );
    assert_centred_baseline(case, &fit, &x, &y, &f64s(&case["entry"]));
}

/// The centred Breslow baseline of `fit` (delayed entry `entry`) against the case's
/// `CoxTimeVaryingFitter` one at its times.
fn assert_centred_baseline(case: &Value, fit: &CoxPh, x: &Array2<f64>, y: &[Surv], entry: &[f64]) {
    let eta = x.dot(&fit.coef);
    let base = BreslowBaseline::fit_with_entry(y, entry, eta.as_slice().unwrap(), None)
        .unwrap()
        .centred();
    let got: Vec<f64> = f64s(&case["baseline_time"])
        .iter()
        .map(|&t| base.at(t))
        .collect();
    let want = f64s(&case["baseline_centred"]);
    assert_close("baseline", &got, &want, 1e-6, 1e-6);
}

#[test]
fn time_varying_covariates_in_counting_process_form_match_lifelines() {
    let exp = expected();
    let case = &exp["cases"]["stanford_ctv"];
    let rows: Vec<Vec<f64>> = case["x"].as_array().unwrap().iter().map(f64s).collect();
    let x = Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j]);
    let event: Vec<i64> = case["event"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let y = surv_from(&f64s(&case["stop"]), &event).unwrap().to_vec();
    let start = f64s(&case["start"]);
    let fit = CoxPh::params()
        .fit_data(&CoxData::new(x.view(), &y).entry(&start))
        .unwrap();
    assert_close(
        "coef",
        fit.coef.as_slice().unwrap(),
        &f64s(&case["coef"]),
        1e-6,
        1e-3,
    );
    assert_close(
        "se",
        fit.se.as_slice().unwrap(),
        &f64s(&case["se"]),
        1e-6,
        1e-3,
    );
    let ll = case["log_likelihood"].as_f64().unwrap();
    assert_close("log-likelihood", &[fit.log_likelihood], &[ll], 1e-9, 1.0);
    assert_centred_baseline(case, &fit, &x, &y, &start);
}

#[test]
fn robust_errors_and_residuals_with_entry_match_statsmodels() {
    let exp = expected();
    let case = &exp["cases"]["robust_rossi"];
    let (x, y0) = covariates_case(case);
    let event: Vec<bool> = y0.iter().map(Surv::event).collect();
    let y = surv_from(&f64s(&case["time"]), &event).unwrap().to_vec();
    let entry = f64s(&case["entry"]);
    let data = CoxData::new(x.view(), &y).entry(&entry);
    let params = CoxPh::params().ties(Ties::Breslow);
    let fit = params.fit_data(&data).unwrap();
    let robust = params.clone().robust(true).fit_data(&data).unwrap();
    let want_coef = f64s(&case["coef"]);
    assert_close("coef", fit.coef.as_slice().unwrap(), &want_coef, 1e-6, 1e-3);
    assert_close(
        "se",
        fit.se.as_slice().unwrap(),
        &f64s(&case["se"]),
        1e-6,
        1e-3,
    );
    let robust_se = f64s(&case["robust_se"]);
    assert_close(
        "robust se",
        robust.se.as_slice().unwrap(),
        &robust_se,
        1e-6,
        1e-3,
    );
    let ll = case["log_likelihood"].as_f64().unwrap();
    assert_close("log-likelihood", &[fit.log_likelihood], &[ll], 1e-9, 1.0);
    let res = fit.residuals(&data).unwrap();
    let m = f64s(&case["martingale"]);
    assert_close(
        "martingale",
        res.martingale.as_slice().unwrap(),
        &m,
        1e-6,
        1e-3,
    );
    let score: Vec<Vec<f64>> = case["score"].as_array().unwrap().iter().map(f64s).collect();
    for (i, row) in res.score.axis_iter(Axis(0)).enumerate() {
        assert_close("score", row.as_slice().unwrap(), &score[i], 1e-6, 1e-2);
    }
    let sch = fit.schoenfeld_residuals_data(&data).unwrap();
    let subjects: Vec<usize> = case["schoenfeld_subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(sch.subjects, subjects);
    let want: Vec<Vec<f64>> = case["schoenfeld"]
        .as_array()
        .unwrap()
        .iter()
        .map(f64s)
        .collect();
    for (k, row) in sch.residuals.axis_iter(Axis(0)).enumerate() {
        assert_close("schoenfeld", row.as_slice().unwrap(), &want[k], 1e-6, 1e-2);
    }
    let ph = fit
        .proportional_hazards_test_data(&data, TimeTransform::Rank)
        .unwrap();
    let stats: Vec<f64> = ph.iter().map(|t| t.statistic).collect();
    let want = f64s(&case["ph_rank_statistic"]);
    assert_close("PH test", &stats, &want, 1e-6, 1e-3);
    let eta = x.dot(&fit.coef);
    let base = BreslowBaseline::fit_with_entry(&y, &entry, eta.as_slice().unwrap(), None).unwrap();
    // statsmodels reports H just before each event time: ours at the previous event time.
    let times = f64s(&case["baseline_time"]);
    let got: Vec<f64> = (0..times.len())
        .map(|k| match k {
            0 => 0.0,
            k => base.cumulative_hazard.at(times[k - 1]),
        })
        .collect();
    let want = f64s(&case["baseline_uncentred_before"]);
    assert_close("baseline", &got, &want, 1e-6, 1e-6);
}

#[test]
fn entry_at_zero_is_no_entry() {
    let (x, y, _) = load("rossi");
    let zeros = vec![0.0; y.len()];
    let plain = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    let data = CoxData::new(x.view(), &y).entry(&zeros);
    let entered = CoxPh::params().fit_data(&data).unwrap();
    assert_close(
        "coef",
        entered.coef.as_slice().unwrap(),
        plain.coef.as_slice().unwrap(),
        1e-12,
        1e-6,
    );
    let km = KaplanMeier::fit(&y, 0.95).unwrap();
    let km_entry = KaplanMeier::fit_with_entry(&y, &zeros, None, 0.95).unwrap();
    assert_eq!(km_entry.timeline, km.timeline);
    assert_eq!(km_entry.at_risk, km.at_risk);
    assert_close("S", &km_entry.survival, &km.survival, 1e-15, 1e-15);
}

#[test]
fn a_late_entrant_far_above_the_rest_keeps_full_precision() {
    // Subject 0 enters at 4 with η = 60 (e^60 ≈ 1e26 against ~1 for the others): once it has
    // left, the sums of those at risk before time 4 would be rounding noise if subtracted.
    let y = surv_from(&[1.0, 2.0, 3.0, 5.0, 6.0], &[1, 1, 0, 1, 1])
        .unwrap()
        .to_vec();
    let entry = [4.0, 0.0, 0.0, 0.0, 0.0];
    let eta = [60.0, 0.1, -0.2, 0.3, 0.0];
    let y = {
        let mut y = y;
        y[0] = Surv::new(7.0, true).unwrap();
        y
    };
    let pl = PartialLikelihood::new(&y, Ties::Efron)
        .unwrap()
        .with_entry(&entry)
        .unwrap();
    let (value, grad) = pl.nll_grad_eta(&eta, Reduction::Sum).unwrap();
    // By hand: event times 2 (risk {1,2,3,4}), 5 (risk {0,3,4}), 6 (risk {0,4}), 7 ({0}).
    let e = |i: usize| f64::exp(eta[i]);
    let want = -(eta[1] - (e(1) + e(2) + e(3) + e(4)).ln())
        - (eta[3] - (e(0) + e(3) + e(4)).ln())
        - (eta[4] - (e(0) + e(4)).ln())
        - (eta[0] - e(0).ln());
    assert!(
        (value - want).abs() <= 1e-12 * want.abs(),
        "{value} vs {want}"
    );
    // Subject 2 (censored at 3, at risk at time 2 only): e^η₂ / S(2).
    let g2 = e(2) / (e(1) + e(2) + e(3) + e(4));
    assert!((grad[2] - g2).abs() <= 1e-14, "{} vs {g2}", grad[2]);
}

#[test]
fn bad_entry_times_are_refused_by_index() {
    let (x, y, _) = load("rossi");
    let mut entry = vec![0.0; y.len()];
    entry[5] = y[5].time();
    let err = CoxPh::params()
        .fit_data(&CoxData::new(x.view(), &y).entry(&entry))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter(m) if m.contains("index 5")),
        "{err}"
    );
    entry[5] = -1.0;
    assert!(KaplanMeier::fit_with_entry(&y, &entry, None, 0.95).is_err());
    entry[5] = f64::NAN;
    let err = KaplanMeier::fit_with_entry(&y, &entry, None, 0.95).unwrap_err();
    assert!(matches!(err, Error::NonFinite { index: 5, .. }), "{err}");
    let err = KaplanMeier::fit_with_entry(&y, &entry[1..], None, 0.95).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
}

#[test]
fn residuals_need_the_fits_entry_times() {
    let (x, y, _) = load("rossi");
    let entry: Vec<f64> = y.iter().map(|s| (s.time() / 2.0).floor()).collect();
    let data = CoxData::new(x.view(), &y).entry(&entry);
    let fit = CoxPh::params().fit_data(&data).unwrap();
    let err = fit.residuals(&CoxData::new(x.view(), &y)).unwrap_err();
    assert!(err.to_string().contains("CoxData::entry"), "{err}");
    let err = fit
        .schoenfeld_residuals_data(&CoxData::new(x.view(), &y))
        .unwrap_err();
    assert!(err.to_string().contains("CoxData::entry"), "{err}");
    // The diagonal Breslow model (glmnet's) has no delayed entry.
    let pl = PartialLikelihood::new(&y, Ties::Breslow)
        .unwrap()
        .with_entry(&entry)
        .unwrap();
    let eta = vec![0.0; y.len()];
    assert!(pl.breslow_grad_diag_hess_eta(&eta, Reduction::Sum).is_err());
}

/// `aft_entry_expected.json` (`tools/aft_entry_reference.py`).
fn aft_expected() -> Value {
    let path = data_dir().join("aft_entry_expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn aft_with_entry_matches_lifelines() {
    use adamss_survival::linfa::ParamGuard;
    use adamss_survival::{Aft, AftDistribution};
    let exp = aft_expected();
    let (x, y, names) = load("rossi");
    let cols: Vec<String> = exp["covariates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cols, names);
    let entry = f64s(&exp["entry"]);
    for fit in exp["fits"].as_array().unwrap() {
        let d = match fit["distribution"].as_str().unwrap() {
            "weibull" => AftDistribution::Weibull,
            "lognormal" => AftDistribution::LogNormal,
            _ => AftDistribution::LogLogistic,
        };
        let ancillary = fit["ancillary"].as_bool().unwrap();
        let name = format!("{d:?} ancillary {ancillary}");
        let m = Aft::params()
            .distribution(d)
            .ancillary(ancillary)
            .check()
            .unwrap()
            .fit_with_entry(x.view(), &y, &entry)
            .unwrap();
        let close = |what: &str, got: &[f64], key: &str, tol: f64| {
            assert_close(&format!("{name} {what}"), got, &f64s(&fit[key]), tol, 1e-2);
        };
        close("location", m.location.as_slice().unwrap(), "location", 1e-8);
        close("shape", m.shape.as_slice().unwrap(), "shape", 1e-8);
        close(
            "location se",
            m.location_se.as_slice().unwrap(),
            "location_se",
            1e-6,
        );
        close("shape se", m.shape_se.as_slice().unwrap(), "shape_se", 1e-6);
        let ll = fit["log_likelihood"].as_f64().unwrap();
        assert_close(&name, &[m.log_likelihood], &[ll], 1e-12, 1.0);
        let c = fit["concordance"].as_f64().unwrap();
        assert_close(&name, &[m.concordance.c_index], &[c], 1e-12, 1.0);
    }
    // The univariate Weibull (lifelines' WeibullFitter with entry=): λ = e^b, ρ = e^c.
    let u = &exp["univariate_weibull"];
    let none = x.slice(ndarray::s![.., ..0]).to_owned();
    let m = adamss_survival::Aft::params()
        .check()
        .unwrap()
        .fit_with_entry(none.view(), &y, &entry)
        .unwrap();
    let (b, c) = (m.location[0], m.shape[0]);
    let got = [
        b.exp(),
        c.exp(),
        b.exp() * m.location_se[0],
        c.exp() * m.shape_se[0],
    ];
    let se = f64s(&u["se"]);
    let want = [
        u["lambda"].as_f64().unwrap(),
        u["rho"].as_f64().unwrap(),
        se[0],
        se[1],
    ];
    assert_close("univariate weibull", &got[..2], &want[..2], 1e-8, 1e-2);
    assert_close("univariate weibull se", &got[2..], &want[2..], 1e-6, 1e-2);
    let ll = u["log_likelihood"].as_f64().unwrap();
    assert_close("univariate ll", &[m.log_likelihood], &[ll], 1e-12, 1.0);
}
