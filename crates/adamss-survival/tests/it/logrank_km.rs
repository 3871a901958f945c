//! Weighted log-rank tests and Kaplan–Meier median intervals against lifelines 0.30.3
//! (`tools/logrank_km_reference.py` → `logrank_km_expected.json`): four datasets, two to four
//! groups, seven weightings. Tolerances (relative): statistics and p-values 1e-9; medians and
//! their interval ends exact (they are observed times).

use adamss_survival::{logrank, logrank_weighted, Error, KaplanMeier, LogRankWeights, Surv};
use serde_json::Value;

use crate::{assert_close, data_dir, f64s, load};

fn reference() -> Value {
    let text = std::fs::read_to_string(data_dir().join("logrank_km_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn weights(key: &str) -> LogRankWeights {
    match key {
        "logrank" => LogRankWeights::LogRank,
        "wilcoxon" => LogRankWeights::Wilcoxon,
        "tarone-ware" => LogRankWeights::TaroneWare,
        "peto" => LogRankWeights::Peto,
        "fh_1_0" => LogRankWeights::FlemingHarrington { p: 1.0, q: 0.0 },
        "fh_0_1" => LogRankWeights::FlemingHarrington { p: 0.0, q: 1.0 },
        "fh_0.5_2" => LogRankWeights::FlemingHarrington { p: 0.5, q: 2.0 },
        other => panic!("{other}"),
    }
}

/// A median or interval end from JSON (null: never reached, ∞).
fn time(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::INFINITY)
}

#[test]
fn weighted_logrank_matches_lifelines() {
    let exp = reference();
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (_, y, _) = load(name);
        let group: Vec<usize> = case["group"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_u64().unwrap() as usize)
            .collect();
        for (key, want) in case["logrank"].as_object().unwrap() {
            let got = logrank_weighted(&y, &group, weights(key)).unwrap();
            assert_close(
                &format!("{name} {key}"),
                &[got.statistic, got.p_value],
                &[
                    want["statistic"].as_f64().unwrap(),
                    want["p_value"].as_f64().unwrap(),
                ],
                1e-9,
                1e-300,
            );
            compared += 1;
        }
        assert_eq!(
            logrank(&y, &group).unwrap(),
            logrank_weighted(&y, &group, LogRankWeights::LogRank).unwrap()
        );
    }
    assert_eq!(compared, 4 * 7);
}

#[test]
fn median_confidence_interval_matches_lifelines() {
    let exp = reference();
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (_, y, _) = load(name);
        let group: Vec<String> = case["group"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.to_string())
            .collect();
        for (subset, by_level) in case["median"].as_object().unwrap() {
            let ys: Vec<Surv> = (0..y.len())
                .filter(|&i| subset == "all" || group[i] == *subset)
                .map(|i| y[i])
                .collect();
            for (level, want) in by_level.as_object().unwrap() {
                let km = KaplanMeier::fit(&ys, level.parse().unwrap()).unwrap();
                let (lo, hi) = km.median_confidence_interval();
                let want: Vec<f64> = want.as_array().unwrap().iter().map(time).collect();
                assert_eq!(
                    [km.median(), lo, hi],
                    [want[0], want[1], want[2]],
                    "{name} {subset} {level}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * (4 + 2 + 2 + 2 + 4));
}

#[test]
fn fleming_harrington_exponents_are_checked() {
    let (_, y, _) = load("rossi");
    let group: Vec<usize> = (0..y.len()).map(|i| i % 2).collect();
    for (p, q) in [(-1.0, 0.0), (0.0, f64::NAN), (f64::INFINITY, 1.0)] {
        let e =
            logrank_weighted(&y, &group, LogRankWeights::FlemingHarrington { p, q }).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter(_)), "{e}");
    }
}

/// The weighted Kaplan–Meier curve against lifelines' `KaplanMeierFitter().fit(…, weights=w)`
/// on the four datasets: the curve and the numbers at risk at every time of lifelines' timeline
/// (1e-12), and the median, for fractional and integer weights; the 95 % bounds (1e-9) for
/// integer weights only (lifelines truncates the number at risk to an integer in Greenwood's
/// sum). Integer weights equal replicated rows.
#[test]
fn weighted_kaplan_meier_matches_lifelines() {
    let exp = reference();
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (_, y, _) = load(name);
        for (kind, want) in case["weighted_km"].as_object().unwrap() {
            let w = f64s(&want["weights"]);
            let km = KaplanMeier::fit_weighted(&y, &w, 0.95).unwrap();
            let times = f64s(&want["timeline"]);
            let index = |t: f64| km.timeline.iter().position(|&u| u == t);
            let got: Vec<f64> = times.iter().map(|&t| km.predict(t)).collect();
            assert_close(
                &format!("{name} {kind} S"),
                &got,
                &f64s(&want["survival"]),
                1e-12,
                1e-12,
            );
            // lifelines' event table lists the observed times (ours from 0, with 0 merged).
            let at_risk: Vec<f64> = f64s(&want["at_risk"]);
            let observed: Vec<f64> = times.iter().copied().filter(|&t| t > 0.0).collect();
            let ours: Vec<f64> = observed
                .iter()
                .map(|&t| km.at_risk[index(t).unwrap()])
                .collect();
            let theirs = &at_risk[at_risk.len() - observed.len()..];
            assert_close(
                &format!("{name} {kind} at risk"),
                &ours,
                theirs,
                1e-12,
                1e-12,
            );
            let median = want["median"].as_f64().unwrap_or(f64::INFINITY);
            assert_eq!(km.median(), median, "{name} {kind} median");
            if kind == "integer" {
                let pick = |v: &[f64]| -> Vec<f64> {
                    times.iter().map(|&t| v[index(t).unwrap()]).collect()
                };
                assert_close(
                    &format!("{name} lower"),
                    &pick(&km.lower),
                    &f64s(&want["lower"]),
                    1e-9,
                    1e-12,
                );
                assert_close(
                    &format!("{name} upper"),
                    &pick(&km.upper),
                    &f64s(&want["upper"]),
                    1e-9,
                    1e-12,
                );
                // Integer weights are frequencies: replicated rows give the same curve.
                let rows: Vec<usize> = (0..y.len())
                    .flat_map(|i| std::iter::repeat_n(i, w[i] as usize))
                    .collect();
                let yr: Vec<Surv> = rows.iter().map(|&i| y[i]).collect();
                let replicated = KaplanMeier::fit(&yr, 0.95).unwrap();
                assert_close(
                    "replicated",
                    &km.survival,
                    &replicated.survival,
                    1e-12,
                    1e-12,
                );
                assert_eq!(km.at_risk, replicated.at_risk);
            }
            compared += times.len();
        }
    }
    assert!(compared > 1000, "{compared}");
    let (_, y, _) = load("rossi");
    assert!(matches!(
        KaplanMeier::fit_weighted(&y, &[1.0; 3], 0.95),
        Err(Error::LengthMismatch {
            what: "weights",
            ..
        })
    ));
    let mut w = vec![1.0; y.len()];
    w[4] = -2.0;
    let err = KaplanMeier::fit_weighted(&y, &w, 0.95).unwrap_err();
    assert!(err.to_string().contains("case weight 4"), "{err}");
}
