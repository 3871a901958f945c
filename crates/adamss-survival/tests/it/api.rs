//! The crate as a lifelines / scikit-survival user meets it: one import, 0/1 event codes, linfa
//! fits for both Cox models, and errors (not panics, not NaN) for bad input.

use adamss_survival::prelude::*;

fn data() -> (Array2<f64>, Array1<Surv>) {
    let x = array![
        [1.2, 0.3],
        [0.1, -1.0],
        [2.0, 0.5],
        [-0.5, 1.5],
        [1.0, 0.0],
        [0.3, -0.4],
        [0.8, 0.9],
        [-1.1, 0.2]
    ];
    let y = surv_from(
        &[5.0, 8.0, 3.0, 9.0, 2.0, 7.0, 4.0, 10.0],
        &[1, 0, 1, 1, 1, 0, 1, 0],
    )
    .unwrap();
    (x, y)
}

#[test]
fn event_codes_equal_bools_and_bad_codes_name_their_index() {
    let t = [3.0, 1.0, 2.0];
    let b = surv_from(&t, &[true, false, true]).unwrap();
    assert_eq!(surv_from(&t, &[1u8, 0, 1]).unwrap(), b);
    assert_eq!(surv_from(&t, &[1i64, 0, 1]).unwrap(), b);
    assert_eq!(surv_from(&t, &[1.0f64, 0.0, 1.0]).unwrap(), b);
    let err = surv_from(&t, &[1, 2, 0]).unwrap_err().to_string();
    assert!(err.contains("index 1") && err.contains('2'), "{err}");
    let err = surv_from(&t, &[1.0, 0.5, 0.0]).unwrap_err().to_string();
    assert!(err.contains("index 1") && err.contains("0.5"), "{err}");
    // An array's observations as the slice the functions take.
    assert_eq!(&*Surv::slice(b.view()), b.as_slice().unwrap());
    let every_other = b.slice(ndarray::s![..;2]);
    assert_eq!(Surv::slice(every_other).len(), 2);
}

#[test]
fn coxnet_fits_through_linfa_like_fit_arrays() {
    let (x, y) = data();
    let by_linfa = Coxnet::params()
        .n_alphas(5)
        .fit(&Dataset::new(x.clone(), y.clone()))
        .unwrap();
    let by_arrays = Coxnet::params()
        .n_alphas(5)
        .fit_arrays(x.view(), y.as_slice().unwrap())
        .unwrap();
    assert_eq!(by_linfa.coef, by_arrays.coef);
    assert_eq!(by_linfa.alphas, by_arrays.alphas);
    // Unchecked parameters are checked by fit_arrays too.
    let err = Coxnet::params()
        .l1_ratio(0.0)
        .fit_arrays(x.view(), y.as_slice().unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("l1_ratio"), "{err}");
    let cox = CoxPh::params()
        .fit_arrays(x.view(), y.as_slice().unwrap())
        .unwrap();
    assert_eq!(cox.coef.len(), 2);
}

#[test]
fn a_bad_penalty_index_is_named_as_such() {
    let (x, y) = data();
    let model = Coxnet::params()
        .n_alphas(5)
        .fit_arrays(x.view(), y.as_slice().unwrap())
        .unwrap();
    let k = model.alphas.len();
    let err = model.risk(x.view(), k).unwrap_err().to_string();
    assert!(
        err.contains("penalty index") && err.contains(&k.to_string()),
        "{err}"
    );
    let err = model
        .risk(x.slice(ndarray::s![.., ..1]), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("covariate columns"), "{err}");
}

#[test]
fn brier_score_refuses_nan_probabilities() {
    let (_, y) = data();
    let y = y.as_slice().unwrap();
    let times = [3.0, 5.0];
    let mut p = Array2::from_elem((y.len(), 2), 0.5);
    assert!(brier_score(y, y, p.view(), &times).is_ok());
    p[[3, 1]] = f64::NAN;
    let err = brier_score(y, y, p.view(), &times).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { index: 7, .. }),
        "{err}: row 3, column 1 of a 2-column matrix"
    );
}

/// linfa's `predict` cannot return an error: a wrong column count panics there (as linfa's own
/// models do) and is an error through `risk`.
#[test]
fn coxph_wrong_columns_error_through_risk() {
    let (x, y) = data();
    let model = CoxPh::params().fit(&Dataset::new(x.clone(), y)).unwrap();
    assert!(model.risk(x.slice(ndarray::s![.., ..1])).is_err());
    let caught = std::panic::catch_unwind(|| model.predict(&x.slice(ndarray::s![.., ..1])));
    assert!(caught.is_err());
}

/// The summary a lifelines or R user expects: one row per named covariate, then the global
/// tests (their values are checked against R in `reference.rs`).
#[test]
fn coxph_summary_lists_covariates_and_global_tests() {
    let (x, y) = data();
    let model = CoxPh::params().fit(&Dataset::new(x, y)).unwrap();
    let text = model.summary(&["age", "dose"]);
    let lr = model.likelihood_ratio_test();
    assert!(text.lines().nth(1).unwrap().starts_with("age "), "{text}");
    assert!(text.lines().nth(2).unwrap().starts_with("dose "), "{text}");
    for needle in [
        "likelihood ratio test",
        "Wald test",
        "score (log-rank) test",
        "on 2 df",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert!(text.contains(&format!("{:.4}", lr.statistic)), "{text}");
    assert!(!text.contains("unavailable"), "{text}");
    assert!(model.summary(&[]).contains("\nx1 "));
}
