//! Martingale, deviance, score and dfbeta residuals and the robust (sandwich) covariance
//! against `tools/cox_residuals_reference.py` → `residuals_expected.json`: lifelines 0.30.3 and
//! statsmodels 0.15.0 on rossi without ties, statsmodels on rossi with tied weeks (Breslow,
//! plain and stratified with clusters), and the closed forms of Therneau & Grambsch's appendix
//! (R survival's tests/book1.R, book2.R) for tied times under Breslow's and Efron's rules.
//! Tolerances: 1e-6 relative (absolute below 1e-3 for residuals, whose sums cancel) — the
//! coefficients they rest on agree with the tools' to ~1e-8; 1e-10 for the closed forms.

use adamss_survival::{surv_from, CoxData, CoxPh, Error, Surv, Ties};
use ndarray::{Array1, Array2, Axis};
use serde_json::Value;

use crate::{assert_close, data_dir, f64s, load};

fn reference() -> Value {
    let text = std::fs::read_to_string(data_dir().join("residuals_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON matrix (array of rows) flattened row by row.
fn flat(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(f64s).collect()
}

fn vec_of(a: &Array2<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

fn clusters(n: usize) -> Vec<usize> {
    (0..n).map(|i| i % 40).collect()
}

/// rossi with row i's time + i·1e-4: no ties.
fn rossi_untied() -> (Array2<f64>, Vec<Surv>) {
    let (x, y, _) = load("rossi");
    let time: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, s)| s.time() + i as f64 * 1e-4)
        .collect();
    let event: Vec<bool> = y.iter().map(Surv::event).collect();
    (x, surv_from(&time, &event).unwrap().to_vec())
}

#[test]
fn residuals_and_robust_errors_match_lifelines_and_statsmodels_without_ties() {
    let exp = &reference()["rossi_untied"];
    let (x, y) = rossi_untied();
    let (ll, sm) = (&exp["lifelines"], &exp["statsmodels"]);
    let fit = CoxPh::params().tol(1e-12).fit_arrays(x.view(), &y).unwrap();
    assert_close(
        "coef",
        fit.coef.as_slice().unwrap(),
        &f64s(&ll["coef"]),
        1e-7,
        1e-3,
    );
    let m = fit.martingale_residuals(x.view(), &y).unwrap();
    assert_close(
        "martingale",
        m.as_slice().unwrap(),
        &f64s(&ll["martingale"]),
        1e-6,
        1e-3,
    );
    let d = fit.deviance_residuals(x.view(), &y).unwrap();
    assert_close(
        "deviance",
        d.as_slice().unwrap(),
        &f64s(&ll["deviance"]),
        1e-6,
        1e-3,
    );
    let u = fit.score_residuals(x.view(), &y).unwrap();
    assert_close("score", &vec_of(&u), &flat(&sm["score"]), 1e-6, 1e-3);
    // They sum to the score, 0 at the estimate.
    for s in u.sum_axis(Axis(0)) {
        assert!(s.abs() < 1e-7, "score residuals sum to {s}");
    }
    let dfbeta = fit.dfbeta(x.view(), &y).unwrap();
    assert_close("dfbeta", &vec_of(&dfbeta), &flat(&sm["dfbeta"]), 1e-6, 1e-5);

    let robust = CoxPh::params()
        .tol(1e-12)
        .robust(true)
        .fit_arrays(x.view(), &y)
        .unwrap();
    assert_eq!(robust.coef, fit.coef);
    assert_close(
        "robust se",
        robust.se.as_slice().unwrap(),
        &f64s(&ll["robust_se"]),
        1e-6,
        0.0,
    );
    assert_close(
        "robust covariance",
        &vec_of(&robust.covariance),
        &flat(&sm["robust_covariance"]),
        1e-6,
        1e-5,
    );
    assert_eq!(robust.naive_covariance.as_ref(), Some(&fit.covariance));
    assert_eq!(robust.model_covariance(), &fit.covariance);
    // z, p and the intervals follow the robust errors.
    let z = &robust.coef / &robust.se;
    assert_eq!(robust.z, z);
    assert!(robust.ci_upper[0] - robust.ci_lower[0] != fit.ci_upper[0] - fit.ci_lower[0]);
    assert!(robust.summary(&[]).contains("robust se"));
    assert!(!fit.summary(&[]).contains("robust se"));
    // The model-based variance is what the scaled Schoenfeld residuals use.
    assert_eq!(
        robust.schoenfeld_residuals(x.view(), &y).unwrap(),
        fit.schoenfeld_residuals(x.view(), &y).unwrap()
    );

    let clustered = CoxPh::params()
        .tol(1e-12)
        .fit_clustered(x.view(), &y, &clusters(y.len()))
        .unwrap();
    assert_close(
        "cluster se",
        clustered.se.as_slice().unwrap(),
        &f64s(&ll["cluster_se"]),
        1e-6,
        0.0,
    );
    assert_close(
        "cluster covariance",
        &vec_of(&clustered.covariance),
        &flat(&sm["cluster_covariance"]),
        1e-6,
        1e-5,
    );
    // Every subject its own cluster is the robust fit.
    let own: Vec<usize> = (0..y.len()).collect();
    let each = CoxPh::params()
        .tol(1e-12)
        .fit_clustered(x.view(), &y, &own)
        .unwrap();
    assert_close(
        "own clusters",
        &vec_of(&each.covariance),
        &vec_of(&robust.covariance),
        1e-12,
        1e-12,
    );
}

#[test]
fn breslow_ties_match_statsmodels() {
    let exp = &reference()["rossi_breslow"];
    let (x, y, names) = load("rossi");
    let sm = &exp["statsmodels"];
    let params = CoxPh::params().tol(1e-12).ties(Ties::Breslow);
    let fit = params.fit_arrays(x.view(), &y).unwrap();
    assert_close(
        "coef",
        fit.coef.as_slice().unwrap(),
        &f64s(&sm["coef"]),
        1e-7,
        1e-3,
    );
    let u = fit.score_residuals(x.view(), &y).unwrap();
    assert_close("score", &vec_of(&u), &flat(&sm["score"]), 1e-6, 1e-3);
    let dfbeta = fit.dfbeta(x.view(), &y).unwrap();
    assert_close("dfbeta", &vec_of(&dfbeta), &flat(&sm["dfbeta"]), 1e-6, 1e-5);
    let robust = params
        .clone()
        .robust(true)
        .fit_arrays(x.view(), &y)
        .unwrap();
    assert_close(
        "robust covariance",
        &vec_of(&robust.covariance),
        &flat(&sm["robust_covariance"]),
        1e-6,
        1e-5,
    );
    let clustered = params
        .fit_clustered(x.view(), &y, &clusters(y.len()))
        .unwrap();
    assert_close(
        "cluster covariance",
        &vec_of(&clustered.covariance),
        &flat(&sm["cluster_covariance"]),
        1e-6,
        1e-5,
    );

    // Stratified by race (dropped from the covariates), clustered.
    let st = &exp["stratified_by_race"];
    let race = names.iter().position(|n| n == "race").unwrap();
    let keep: Vec<usize> = (0..names.len()).filter(|&j| j != race).collect();
    let xs = x.select(Axis(1), &keep);
    let strata: Vec<i64> = x.column(race).iter().map(|&v| v as i64).collect();
    let clusters = clusters(y.len());
    let data = CoxData::new(xs.view(), &y)
        .strata(&strata)
        .clusters(&clusters);
    let fit = params.fit_data(&data).unwrap();
    assert_eq!(fit.strata, 2);
    assert_close(
        "stratified coef",
        fit.coef.as_slice().unwrap(),
        &f64s(&st["coef"]),
        1e-7,
        1e-3,
    );
    assert_close(
        "stratified cluster covariance",
        &vec_of(&fit.covariance),
        &flat(&st["cluster_covariance"]),
        1e-6,
        1e-5,
    );
}

#[test]
fn tied_times_match_the_closed_forms_of_therneau_and_grambsch() {
    let exp = reference();
    for (key, ties) in [
        ("book1_breslow", Ties::Breslow),
        ("book2_efron", Ties::Efron),
    ] {
        let case = &exp[key];
        let time = f64s(&case["time"]);
        let event: Vec<bool> = f64s(&case["event"]).iter().map(|&e| e == 1.0).collect();
        let y = surv_from(&time, &event).unwrap().to_vec();
        let x = Array1::from(f64s(&case["x"])).insert_axis(Axis(1));
        let params = CoxPh::params().tol(1e-12).ties(ties);
        let fit = params.fit_arrays(x.view(), &y).unwrap();
        assert_close(
            key,
            fit.coef.as_slice().unwrap(),
            &f64s(&case["coef"]),
            1e-10,
            0.0,
        );
        assert_close(
            key,
            &vec_of(&fit.covariance),
            &f64s(&case["variance"]),
            1e-9,
            0.0,
        );
        let m = fit.martingale_residuals(x.view(), &y).unwrap();
        assert_close(
            key,
            m.as_slice().unwrap(),
            &f64s(&case["martingale"]),
            1e-9,
            1e-3,
        );
        let u = fit.score_residuals(x.view(), &y).unwrap();
        assert_close(key, &vec_of(&u), &f64s(&case["score"]), 1e-9, 1e-3);
        let robust = params.robust(true).fit_arrays(x.view(), &y).unwrap();
        assert_close(
            key,
            &vec_of(&robust.covariance),
            &f64s(&case["robust_variance"]),
            1e-9,
            0.0,
        );
    }
}

#[test]
fn bad_input_is_refused() {
    let (x, y) = rossi_untied();
    let fit = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    let narrow = x.slice(ndarray::s![.., 1..]).to_owned();
    assert!(matches!(
        fit.score_residuals(narrow.view(), &y),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        CoxPh::params().fit_clustered(x.view(), &y, &[1, 2, 3]),
        Err(Error::LengthMismatch {
            what: "cluster labels",
            got: 3,
            ..
        })
    ));
    let strata: Vec<usize> = (0..y.len()).map(|i| i % 2).collect();
    let stratified = CoxPh::params()
        .fit_stratified(x.view(), &y, &strata)
        .unwrap();
    let err = stratified.martingale_residuals(x.view(), &y).unwrap_err();
    assert!(
        err.to_string().contains("the fit has 2 strata, the data 1"),
        "{err}"
    );
    let err = fit
        .residuals(&CoxData::new(x.view(), &y).strata(&strata))
        .unwrap_err();
    assert!(
        err.to_string().contains("the fit has 1 strata, the data 2"),
        "{err}"
    );
    // A deviance residual is finite for censored and event subjects alike.
    let d = fit.deviance_residuals(x.view(), &y).unwrap();
    assert!(d.iter().all(|v| v.is_finite()));
}

fn case_weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + (i % 7) as f64 / 4.0).collect()
}

#[test]
fn case_weights_match_lifelines() {
    let exp = &reference()["weighted"];
    let (x, y, names) = load("rossi");
    let w = case_weights(y.len());
    let (xu, yu) = rossi_untied();
    let race = names.iter().position(|n| n == "race").unwrap();
    let keep: Vec<usize> = (0..names.len()).filter(|&j| j != race).collect();
    let xs = x.select(Axis(1), &keep);
    let strata: Vec<i64> = x.column(race).iter().map(|&v| v as i64).collect();
    let clusters = clusters(y.len());
    let params = CoxPh::params().tol(1e-12);
    let cases = [
        (
            "rossi_efron",
            params.fit_data(&CoxData::new(x.view(), &y).weights(&w)),
        ),
        (
            "rossi_efron_by_race",
            params.fit_data(&CoxData::new(xs.view(), &y).strata(&strata).weights(&w)),
        ),
        (
            "rossi_untied_robust",
            params
                .clone()
                .robust(true)
                .fit_data(&CoxData::new(xu.view(), &yu).weights(&w)),
        ),
        (
            "rossi_untied_clustered",
            params.fit_data(&CoxData::new(xu.view(), &yu).clusters(&clusters).weights(&w)),
        ),
    ];
    for (key, fit) in cases {
        let fit = fit.unwrap();
        let want = &exp[key];
        assert!(fit.weighted, "{key}");
        assert_close(
            key,
            fit.coef.as_slice().unwrap(),
            &f64s(&want["coef"]),
            1e-7,
            1e-3,
        );
        assert_close(
            key,
            fit.se.as_slice().unwrap(),
            &f64s(&want["se"]),
            1e-6,
            0.0,
        );
        assert_close(
            key,
            &[fit.log_likelihood],
            &[want["log_likelihood"].as_f64().unwrap()],
            1e-10,
            0.0,
        );
        assert_close(
            key,
            &[fit.concordance.c_index],
            &[want["concordance"].as_f64().unwrap()],
            1e-12,
            0.0,
        );
    }
}

#[test]
fn integer_weights_under_breslow_equal_replicated_rows() {
    // Breslow's partial likelihood counts a subject of weight k as k subjects (Efron's does
    // not: replicated events become ties).
    let (x, y, _) = load("veterans");
    let w: Vec<f64> = (0..y.len()).map(|i| (1 + i % 3) as f64).collect();
    let rows: Vec<usize> = (0..y.len())
        .flat_map(|i| std::iter::repeat_n(i, 1 + i % 3))
        .collect();
    let (xr, yr): (Array2<f64>, Vec<Surv>) = (
        x.select(Axis(0), &rows),
        rows.iter().map(|&i| y[i]).collect(),
    );
    let params = CoxPh::params().tol(1e-12).ties(Ties::Breslow);
    let weighted = params
        .fit_data(&CoxData::new(x.view(), &y).weights(&w))
        .unwrap();
    let replicated = params.fit_arrays(xr.view(), &yr).unwrap();
    assert_close(
        "coef",
        weighted.coef.as_slice().unwrap(),
        replicated.coef.as_slice().unwrap(),
        1e-9,
        1e-6,
    );
    assert_close(
        "se",
        weighted.se.as_slice().unwrap(),
        replicated.se.as_slice().unwrap(),
        1e-8,
        0.0,
    );
    assert_close(
        "log-likelihood",
        &[weighted.log_likelihood, weighted.log_likelihood_null],
        &[replicated.log_likelihood, replicated.log_likelihood_null],
        1e-11,
        0.0,
    );
}

#[test]
fn bad_weights_are_refused() {
    let (x, y) = rossi_untied();
    let mut w = case_weights(y.len());
    let params = CoxPh::params();
    let short = &w[..3];
    assert!(matches!(
        params.fit_data(&CoxData::new(x.view(), &y).weights(short)),
        Err(Error::LengthMismatch {
            what: "case weights",
            got: 3,
            ..
        })
    ));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        w[5] = bad;
        let err = params
            .fit_data(&CoxData::new(x.view(), &y).weights(&w))
            .unwrap_err();
        assert!(err.to_string().contains("case weight 5"), "{err}");
    }
    // The index is the subject's in the data, also within a stratum.
    let strata: Vec<usize> = (0..y.len()).map(|i| i % 2).collect();
    let err = params
        .fit_data(&CoxData::new(x.view(), &y).strata(&strata).weights(&w))
        .unwrap_err();
    assert!(err.to_string().contains("case weight 5"), "{err}");
    w[5] = 1.0;
    let fit = params
        .fit_data(&CoxData::new(x.view(), &y).weights(&w))
        .unwrap();
    let err = fit.score_residuals(x.view(), &y).unwrap_err();
    assert!(err.to_string().contains("residuals need them too"), "{err}");
}

/// The weighted Breslow baseline against lifelines' `baseline_cumulative_hazard_` of a
/// `weights_col` fit, unstratified and per stratum (lifelines centres by the covariates'
/// plain means over all subjects, so a stratum's curve is ours uncentred times `e^{mean η}`).
#[test]
fn weighted_baseline_matches_lifelines() {
    use adamss_survival::BreslowBaseline;
    let exp = &reference()["weighted"];
    let (x, y, names) = load("rossi");
    let w = case_weights(y.len());
    let params = CoxPh::params().tol(1e-12);

    let want = &exp["rossi_efron"];
    let fit = params
        .fit_data(&CoxData::new(x.view(), &y).weights(&w))
        .unwrap();
    let eta = fit.risk(x.view()).unwrap();
    let base = BreslowBaseline::fit_weighted(&y, eta.as_slice().unwrap(), &w).unwrap();
    let times = f64s(&want["baseline_times"]);
    let got: Vec<f64> = times.iter().map(|&t| base.centred().at(t)).collect();
    let curve = want["baseline_cumulative_hazard"].as_object().unwrap();
    let (_, column) = curve.iter().next().unwrap();
    assert_close("weighted baseline", &got, &f64s(column), 1e-6, 1e-6);

    let want = &exp["rossi_efron_by_race"];
    let race = names.iter().position(|n| n == "race").unwrap();
    let keep: Vec<usize> = (0..names.len()).filter(|&j| j != race).collect();
    let xs = x.select(Axis(1), &keep);
    let strata: Vec<i64> = x.column(race).iter().map(|&v| v as i64).collect();
    let fit = params
        .fit_data(&CoxData::new(xs.view(), &y).strata(&strata).weights(&w))
        .unwrap();
    let eta = fit.risk(xs.view()).unwrap();
    let centre = eta.mean().unwrap().exp();
    let times = f64s(&want["baseline_times"]);
    for (label, column) in want["baseline_cumulative_hazard"].as_object().unwrap() {
        let rows: Vec<usize> = (0..y.len())
            .filter(|&i| strata[i].to_string() == *label)
            .collect();
        let ys: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
        let es: Vec<f64> = rows.iter().map(|&i| eta[i]).collect();
        let ws: Vec<f64> = rows.iter().map(|&i| w[i]).collect();
        let base = BreslowBaseline::fit_weighted(&ys, &es, &ws).unwrap();
        let got: Vec<f64> = times
            .iter()
            .map(|&t| base.cumulative_hazard.at(t) * centre)
            .collect();
        assert_close(&format!("stratum {label}"), &got, &f64s(column), 1e-6, 1e-6);
    }
    assert!(BreslowBaseline::fit_weighted(&y, eta.as_slice().unwrap(), &w[..5]).is_err());
}

/// [`CoxPh::residuals`] with strata (statsmodels' stratified Breslow score residuals) and with
/// case weights (lifelines' martingale and deviance residuals on untied times; the weighted
/// dfbeta rows give the robust covariance the fit reported).
#[test]
fn stratified_and_weighted_residuals_match() {
    let exp = reference();
    let (x, y, names) = load("rossi");
    let st = &exp["rossi_breslow"]["stratified_by_race"];
    let race = names.iter().position(|n| n == "race").unwrap();
    let keep: Vec<usize> = (0..names.len()).filter(|&j| j != race).collect();
    let xs = x.select(Axis(1), &keep);
    let strata: Vec<i64> = x.column(race).iter().map(|&v| v as i64).collect();
    let data = CoxData::new(xs.view(), &y).strata(&strata);
    let fit = CoxPh::params()
        .tol(1e-12)
        .ties(Ties::Breslow)
        .fit_data(&data)
        .unwrap();
    let r = fit.residuals(&data).unwrap();
    assert_close(
        "stratified score",
        &vec_of(&r.score),
        &flat(&st["score"]),
        1e-6,
        1e-3,
    );
    for s in r.score.sum_axis(Axis(0)) {
        assert!(s.abs() < 1e-7, "stratified score residuals sum to {s}");
    }

    let want = &exp["weighted"]["rossi_untied_robust"];
    let (xu, yu) = rossi_untied();
    let w = case_weights(yu.len());
    let data = CoxData::new(xu.view(), &yu).weights(&w);
    let params = CoxPh::params().tol(1e-12);
    let fit = params.fit_data(&data).unwrap();
    let r = fit.residuals(&data).unwrap();
    assert_close(
        "weighted martingale",
        r.martingale.as_slice().unwrap(),
        &f64s(&want["martingale"]),
        1e-6,
        1e-3,
    );
    assert_close(
        "weighted deviance",
        r.deviance.as_slice().unwrap(),
        &f64s(&want["deviance"]),
        1e-6,
        1e-3,
    );
    let robust = params.robust(true).fit_data(&data).unwrap();
    let sandwich = r.dfbeta.t().dot(&r.dfbeta);
    assert_close(
        "weighted sandwich",
        &vec_of(&sandwich),
        &vec_of(&robust.covariance),
        1e-10,
        1e-12,
    );
}
