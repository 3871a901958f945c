//! Stratified Cox fits against lifelines 0.30.3 (`CoxPHFitter(strata=…)`, Efron) and
//! statsmodels 0.15.0 (`PHReg(strata=…)`, Breslow and Efron) on four bundled datasets, two to
//! five strata each (`tools/cox_strata_reference.py` → `strata_expected.json`). Tolerances
//! (relative): coefficients and standard errors 1e-6, log-likelihoods 1e-9, the stratified
//! concordance 1e-12, the likelihood-ratio statistic 1e-6.

use adamss_survival::{CoxPh, Error, Ties};
use ndarray::Axis;
use serde_json::Value;

use crate::{assert_close, data_dir, f64s, load, strata_case};

fn strata_expected() -> Value {
    let text = std::fs::read_to_string(data_dir().join("strata_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn stratified_cox_matches_lifelines_and_statsmodels() {
    let exp = strata_expected();
    let cases = exp["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (name, case) in cases {
        let (x, y, strata) = strata_case(case);
        for (ties, keys) in [
            (Ties::Efron, &["lifelines_efron", "statsmodels_efron"][..]),
            (Ties::Breslow, &["statsmodels_breslow"][..]),
        ] {
            let fit = CoxPh::params()
                .ties(ties)
                .fit_stratified(x.view(), &y, &strata)
                .unwrap();
            assert!(fit.strata >= 2, "{name}");
            for key in keys {
                let r = &case[*key];
                let what = |w: &str| format!("{name} {key} {w}");
                assert_close(
                    &what("coef"),
                    fit.coef.as_slice().unwrap(),
                    &f64s(&r["coef"]),
                    1e-6,
                    1e-3,
                );
                assert_close(
                    &what("se"),
                    fit.se.as_slice().unwrap(),
                    &f64s(&r["se"]),
                    1e-6,
                    1e-3,
                );
                assert_close(
                    &what("loglik"),
                    &[fit.log_likelihood, fit.log_likelihood_null],
                    &[
                        r["log_likelihood"].as_f64().unwrap(),
                        r["log_likelihood_null"].as_f64().unwrap(),
                    ],
                    1e-9,
                    1.0,
                );
                if *key == "lifelines_efron" {
                    assert_close(
                        &what("concordance"),
                        &[fit.concordance.c_index],
                        &[r["concordance"].as_f64().unwrap()],
                        1e-12,
                        1.0,
                    );
                    assert_close(
                        &what("likelihood ratio"),
                        &[fit.likelihood_ratio_test().statistic],
                        &[r["likelihood_ratio"].as_f64().unwrap()],
                        1e-6,
                        1.0,
                    );
                }
            }
        }
    }
}

/// One stratum is the unstratified fit, bit for bit; labels of any ordered type give the same
/// fit; a label per subject is required; the stratified fit differs from the pooled one.
#[test]
fn stratified_fit_rules() {
    let (x, y, _) = load("rossi");
    let plain = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    let one = CoxPh::params()
        .fit_stratified(x.view(), &y, &vec!["all"; y.len()])
        .unwrap();
    assert_eq!(plain, one);
    assert_eq!(one.strata, 1);

    let (xr, _, names) = load("rossi");
    let race = names.iter().position(|n| n == "race").unwrap();
    let labels: Vec<String> = xr
        .column(race)
        .iter()
        .map(|&v| {
            if v == 1.0 {
                "black".into()
            } else {
                "other".into()
            }
        })
        .collect();
    let numbers: Vec<u8> = xr.column(race).iter().map(|&v| v as u8).collect();
    let others: Vec<usize> = (0..names.len()).filter(|&j| j != race).collect();
    let x = xr.select(Axis(1), &others);
    let by_name = CoxPh::params()
        .fit_stratified(x.view(), &y, &labels)
        .unwrap();
    let by_number = CoxPh::params()
        .fit_stratified(x.view(), &y, &numbers)
        .unwrap();
    assert_eq!(by_name, by_number);
    let pooled = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
    // Smaller risk sets: a higher log-likelihood at β = 0.
    assert!(by_name.log_likelihood_null > pooled.log_likelihood_null);
    assert!(by_name.summary(&[]).contains("2 strata"));

    let e = CoxPh::params()
        .fit_stratified(x.view(), &y, &numbers[1..])
        .unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { .. }), "{e}");
}
