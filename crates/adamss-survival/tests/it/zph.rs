//! Schoenfeld residuals and the proportional-hazards test against lifelines 0.30.3
//! (`tools/cox_zph_reference.py` → `zph_expected.json`): four datasets, every covariate, four
//! time transforms; residuals on rossi (tied weeks). Tolerances: 1e-6 relative for statistics
//! and p-values, 1e-6 relative or absolute (below 1) for residuals — the coefficients and
//! covariance they rest on agree with lifelines' to ~1e-8 and ~1e-7.
//!
//! Stratified fits: the four cases of `strata_expected.json` (2–5 strata), the same
//! transforms (rank: the pooled time ranks, which lifelines gets through a callable; its own
//! "rank" numbers events in stratum order), residuals on whas500 (tied times) by subject.

use adamss_survival::{ChiSquareTest, CoxData, CoxPh, Error, TimeTransform};
use serde_json::Value;

use crate::{assert_close, data_dir, f64s, load, strata_case};

fn reference() -> Value {
    let text = std::fs::read_to_string(data_dir().join("zph_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checks the test under each time transform against `case["tests"]` (statistics and
/// p-values, 1e-6); returns how many statistics.
fn check_transforms(
    name: &str,
    case: &Value,
    test: impl Fn(TimeTransform) -> Vec<ChiSquareTest>,
) -> usize {
    let mut compared = 0;
    for (key, transform) in [
        ("rank", TimeTransform::Rank),
        ("km", TimeTransform::KaplanMeier),
        ("identity", TimeTransform::Identity),
        ("log", TimeTransform::Log),
    ] {
        let tests = test(transform);
        let want = &case["tests"][key];
        let stat: Vec<f64> = tests.iter().map(|t| t.statistic).collect();
        let p: Vec<f64> = tests.iter().map(|t| t.p_value).collect();
        let what = |w: &str| format!("{name} {key} {w}");
        assert_close(
            &what("statistic"),
            &stat,
            &f64s(&want["statistic"]),
            1e-6,
            1e-6,
        );
        assert_close(&what("p"), &p, &f64s(&want["p_value"]), 1e-6, 1e-6);
        compared += stat.len();
    }
    compared
}

#[test]
fn proportional_hazards_test_matches_lifelines() {
    let exp = reference();
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (x, y, names) = load(name);
        let cols: Vec<String> = case["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, cols, "{name}");
        let fit = CoxPh::params().tol(1e-12).fit_arrays(x.view(), &y).unwrap();
        compared += check_transforms(name, case, |transform| {
            fit.proportional_hazards_test(x.view(), &y, transform)
                .unwrap()
        });
        for kind in ["schoenfeld", "scaled_schoenfeld"] {
            let Some(want) = case.get(kind) else { continue };
            let r = fit.schoenfeld_residuals(x.view(), &y).unwrap();
            let subjects: Vec<usize> = want["subjects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(r.subjects, subjects, "{name} {kind} order");
            let got = if kind == "schoenfeld" {
                &r.residuals
            } else {
                &r.scaled
            };
            for (k, row) in want["values"].as_array().unwrap().iter().enumerate() {
                assert_close(
                    &format!("{name} {kind} row {k}"),
                    got.row(k).as_slice().unwrap(),
                    &f64s(row),
                    1e-6,
                    1.0,
                );
            }
        }
    }
    assert_eq!(compared, 4 * (7 + 14 + 9 + 8));
}

#[test]
fn stratified_proportional_hazards_test_matches_lifelines() {
    let exp = reference();
    let mut compared = 0;
    for (name, case) in exp["stratified"].as_object().unwrap() {
        let (x, y, strata) = strata_case(case);
        let fit = CoxPh::params()
            .tol(1e-12)
            .fit_stratified(x.view(), &y, &strata)
            .unwrap();
        let data = CoxData::new(x.view(), &y).strata(&strata);
        compared += check_transforms(name, case, |transform| {
            fit.proportional_hazards_test_data(&data, transform)
                .unwrap()
        });
        let r = fit.schoenfeld_residuals_data(&data).unwrap();
        for kind in ["schoenfeld", "scaled_schoenfeld"] {
            let Some(want) = case.get(kind) else { continue };
            let got = if kind == "schoenfeld" {
                &r.residuals
            } else {
                &r.scaled
            };
            let rows = want["values"].as_array().unwrap();
            assert_eq!(rows.len(), r.subjects.len(), "{name} {kind}");
            // lifelines lists them stratum by stratum; ours are in time order: match by subject.
            for (subject, row) in want["subjects"].as_array().unwrap().iter().zip(rows) {
                let subject = subject.as_u64().unwrap() as usize;
                let k = r.subjects.iter().position(|&s| s == subject).unwrap();
                assert_close(
                    &format!("{name} {kind} subject {subject}"),
                    got.row(k).as_slice().unwrap(),
                    &f64s(row),
                    1e-6,
                    1.0,
                );
            }
            compared += rows.len();
        }
        // Time order across strata.
        let times: Vec<f64> = r.subjects.iter().map(|&i| y[i].time()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{name}");
    }
    assert_eq!(compared, 96 + 2 * 215, "{compared}");
}

#[test]
fn proportional_hazards_test_refusals() {
    let (x, y, _) = load("rossi");
    let fit = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    let e = fit
        .proportional_hazards_test(x.slice(ndarray::s![.., ..3]), &y, TimeTransform::Rank)
        .unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { .. }), "{e}");
    let strata: Vec<u8> = (0..y.len()).map(|i| (i % 2) as u8).collect();
    let stratified = CoxPh::params()
        .fit_stratified(x.view(), &y, &strata)
        .unwrap();
    let e = stratified.schoenfeld_residuals(x.view(), &y).unwrap_err();
    assert!(e.to_string().contains("strata of the fit"), "{e}");
    let w: Vec<f64> = (0..y.len()).map(|i| 1.0 + (i % 3) as f64).collect();
    let data = CoxData::new(x.view(), &y).weights(&w);
    let weighted = CoxPh::params().fit_data(&data).unwrap();
    let e = weighted
        .proportional_hazards_test(x.view(), &y, TimeTransform::Rank)
        .unwrap_err();
    assert!(e.to_string().contains("CoxData::weights"), "{e}");
}

#[test]
fn weighted_proportional_hazards_test_matches_lifelines() {
    let exp = reference();
    let case = &exp["weighted"];
    let (x, y, _) = load("rossi");
    let w = f64s(&case["weights"]);
    let data = CoxData::new(x.view(), &y).weights(&w);
    let fit = CoxPh::params().tol(1e-12).fit_data(&data).unwrap();
    let mut compared = check_transforms("weighted", case, |transform| {
        fit.proportional_hazards_test_data(&data, transform)
            .unwrap()
    });
    let r = fit.schoenfeld_residuals_data(&data).unwrap();
    for (kind, got) in [
        ("schoenfeld", &r.residuals),
        ("scaled_schoenfeld", &r.scaled),
    ] {
        let want = &case[kind];
        let rows = want["values"].as_array().unwrap();
        assert_eq!(rows.len(), r.subjects.len(), "{kind}");
        for (subject, row) in want["subjects"].as_array().unwrap().iter().zip(rows) {
            let subject = subject.as_u64().unwrap() as usize;
            let k = r.subjects.iter().position(|&s| s == subject).unwrap();
            let what = format!("weighted {kind} subject {subject}");
            assert_close(&what, got.row(k).as_slice().unwrap(), &f64s(row), 1e-6, 1.0);
        }
        compared += rows.len();
    }
    assert_eq!(compared, 4 * 7 + 2 * 114, "{compared}");
}
