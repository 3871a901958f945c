//! Restricted mean survival time and Kaplan–Meier percentiles (`tools/rmst_reference.py` →
//! `rmst_expected.json`): the mean against lifelines 0.30.3's exact KM integral (1e-10
//! relative) on five datasets at seven horizons (quartiles, the first event, the last time,
//! beyond it, before any event); its standard error against R survival's printed
//! `se(rmean)` (lung by ECOG, horizon 730; R prints 3 significant digits: within half a unit
//! of the last digit); percentiles and their intervals equal to lifelines'; the survival
//! difference at a fixed time against lifelines' test (1e-9) on four pairs of groups at three
//! times each.

use adamss_survival::{surv_from, Error, KaplanMeier, Surv};
use serde_json::Value;

use crate::{data_dir, load};

fn reference() -> Value {
    let text = std::fs::read_to_string(data_dir().join("rmst_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn number(v: &Value) -> f64 {
    match v.as_str() {
        Some("inf") => f64::INFINITY,
        _ => v.as_f64().unwrap(),
    }
}

/// Checks the means and percentiles of `want` (one curve) against `km`; returns how many.
fn check_curve(what: &str, km: &KaplanMeier, want: &Value) -> usize {
    let mut n = 0;
    for r in want["rmst"].as_array().unwrap() {
        let tau = r["tau"].as_f64().unwrap();
        let expected = r["mean"].as_f64().unwrap();
        let got = km.restricted_mean(tau).unwrap();
        assert!(
            (got.mean - expected).abs() <= 1e-10 * expected.abs().max(1.0),
            "{what} tau {tau}: {} vs {expected}",
            got.mean
        );
        n += 1;
    }
    for q in want["percentiles"].as_array().unwrap() {
        let p = q["p"].as_f64().unwrap();
        let (ours, theirs) = (km.percentile(p), number(&q["time"]));
        if ours != theirs {
            // A curve landing exactly on p: lifelines' rounded product stays a bit above it
            // and it answers the next time.
            let k = km.timeline.iter().position(|&t| t == ours).unwrap();
            assert!(
                (km.survival[k] - p).abs() < 1e-12,
                "{what} p {p}: {ours} vs {theirs}"
            );
            assert_eq!(km.timeline[k + 1], theirs, "{what} p {p}");
        }
        let (lo, hi) = km.percentile_confidence_interval(p);
        assert_eq!(
            (lo, hi),
            (number(&q["lower"]), number(&q["upper"])),
            "{what} p {p}"
        );
        n += 1;
    }
    n
}

#[test]
fn restricted_mean_and_percentiles_match_lifelines_and_r() {
    let exp = reference();
    let mut compared = 0;
    let (x, y, _) = load("lung");
    for (group, want) in exp["lung_730"].as_object().unwrap() {
        let g: f64 = group.parse().unwrap();
        let ys: Vec<_> = y
            .iter()
            .zip(x.column(0))
            .filter(|(_, &e)| e == g)
            .map(|(s, _)| *s)
            .collect();
        let km = KaplanMeier::fit(&ys, 0.95).unwrap();
        compared += check_curve(&format!("lung ecog {group}"), &km, want);
        let rm = km.restricted_mean(730.0).unwrap();
        let (r_mean, r_se) = (
            want["r_rmean"].as_f64().unwrap(),
            want["r_se"].as_f64().unwrap(),
        );
        assert_eq!(rm.mean.round(), r_mean, "lung ecog {group}");
        assert!(
            (rm.std_err - r_se).abs() <= 0.05,
            "lung ecog {group}: se {} vs R {r_se}",
            rm.std_err
        );
    }
    for (name, want) in exp["datasets"].as_object().unwrap() {
        let (_, y, _) = load(name);
        let km = KaplanMeier::fit(&y, 0.95).unwrap();
        compared += check_curve(name, &km, want);
    }
    assert_eq!(compared, 4 * (1 + 4) + 4 * (7 + 4));
}

#[test]
fn restricted_mean_by_hand_and_refusals() {
    // Events at 1 and 3 (one each), censored at 2 and 4: S = 3/4 on [1, 3), 3/8 from 3.
    let y = surv_from(&[1.0, 2.0, 3.0, 4.0], &[1, 0, 1, 0]).unwrap();
    let km = KaplanMeier::fit(y.as_slice().unwrap(), 0.95).unwrap();
    let rm = km.restricted_mean(5.0).unwrap();
    assert!((rm.mean - (1.0 + 2.0 * 0.75 + 2.0 * 0.375)).abs() < 1e-15);
    // A at 1: the area from 1 to 5 = 2.25; at 3: 0.75. d/(n(n−d)): 1/12 and 1/2.
    let var: f64 = 2.25f64.powi(2) / 12.0 + 0.75f64.powi(2) / 2.0;
    assert!((rm.std_err - var.sqrt()).abs() < 1e-15);
    assert_eq!(km.restricted_mean(0.5).unwrap().mean, 0.5);
    assert_eq!(km.restricted_mean(0.5).unwrap().std_err, 0.0);
    for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        assert!(km.restricted_mean(bad).is_err(), "{bad}");
    }
    assert!(km.percentile(1.5).is_nan());
    assert_eq!(km.percentile(0.5), 3.0);
    assert_eq!(km.percentile(0.1), f64::INFINITY);
}

/// The outcomes of the rows whose covariate `col` equals `value`.
fn group(name: &str, col: &str, value: f64) -> Vec<Surv> {
    let (x, y, names) = load(name);
    let j = names.iter().position(|n| n == col).unwrap();
    y.iter()
        .zip(x.column(j))
        .filter(|(_, &v)| v == value)
        .map(|(s, _)| *s)
        .collect()
}

#[test]
fn survival_difference_at_a_time_matches_lifelines() {
    let exp = reference();
    let cases = exp["fixed_point"].as_array().unwrap();
    for c in cases {
        let (name, col) = (
            c["dataset"].as_str().unwrap(),
            c["column"].as_str().unwrap(),
        );
        let ka = KaplanMeier::fit(&group(name, col, c["a"].as_f64().unwrap()), 0.95).unwrap();
        let kb = KaplanMeier::fit(&group(name, col, c["b"].as_f64().unwrap()), 0.95).unwrap();
        let t = c["time"].as_f64().unwrap();
        let test = ka.survival_difference_at(&kb, t).unwrap();
        for (got, key) in [(test.statistic, "statistic"), (test.p_value, "p_value")] {
            let want = c[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "{name} {col} {t} {key}: {got} vs {want}"
            );
        }
        assert_eq!(test.df, 1);
        // Symmetric in the two curves.
        assert!(
            (kb.survival_difference_at(&ka, t).unwrap().statistic - test.statistic).abs() < 1e-12
        );
    }
    assert_eq!(cases.len(), 12);
    // Where a curve is still 1 (before its first event) the log(-log) scale is undefined.
    let ka = KaplanMeier::fit(&group("rossi", "fin", 0.0), 0.95).unwrap();
    let kb = KaplanMeier::fit(&group("rossi", "fin", 1.0), 0.95).unwrap();
    assert!(matches!(
        ka.survival_difference_at(&kb, 0.5),
        Err(Error::Undefined(_))
    ));
    assert!(ka.survival_difference_at(&kb, f64::NAN).is_err());
}
