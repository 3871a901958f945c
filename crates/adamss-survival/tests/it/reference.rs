//! Golden values from lifelines 0.30.3, scikit-survival 0.28.0 and R survival 3.5 on the
//! datasets they ship (WHAS500, GBSG2, veterans, rossi), made by `tools/survival_reference.py`.
//! Tolerances (relative): C-index and pair counts exact; Cox coefficients and SEs 1e-6;
//! partial log-likelihood 1e-9; Kaplan–Meier and log-rank 1e-10.

use adamss_survival::{harrell, logrank, CoxPh, KaplanMeier, PartialLikelihood, Reduction, Ties};
use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::{Array1, Array2};

use crate::{assert_close, expected, f64s, load};

const DATASETS: [&str; 4] = ["whas500", "gbsg2", "veterans", "rossi"];

#[test]
fn partial_likelihood_matches_r_coxph() {
    let exp = expected();
    for name in DATASETS {
        let (x, y, _) = load(name);
        for (ties, key) in [(Ties::Breslow, "r_breslow"), (Ties::Efron, "r_efron")] {
            let r = &exp["datasets"][name][key];
            let loglik = f64s(&r["loglik"]);
            let pl = PartialLikelihood::new(&y, ties).unwrap();
            let zero = vec![0.0; y.len()];
            let at_zero = -pl.nll(&zero, Reduction::Sum).unwrap();
            assert_close(
                &format!("{name} {key} loglik(0)"),
                &[at_zero],
                &[loglik[0]],
                1e-9,
                1.0,
            );
            let beta = Array1::from(f64s(&r["coef"]));
            let eta = x.dot(&beta).to_vec();
            let at_r = -pl.nll(&eta, Reduction::Sum).unwrap();
            assert_close(
                &format!("{name} {key} loglik(β_R)"),
                &[at_r],
                &[loglik[1]],
                1e-9,
                1.0,
            );
            let (v, _, _) = pl
                .nll_grad_hess(x.view(), beta.view(), Reduction::Sum)
                .unwrap();
            assert_close(
                &format!("{name} {key} nll_grad_hess"),
                &[-v],
                &[loglik[1]],
                1e-9,
                1.0,
            );
        }
    }
}

#[test]
fn cox_fit_matches_r_lifelines_and_sksurv() {
    let exp = expected();
    for name in DATASETS {
        let (x, y, _) = load(name);
        let rec = &exp["datasets"][name];
        for (ties, r_key, other) in [
            (Ties::Breslow, "r_breslow", "sksurv_breslow"),
            (Ties::Efron, "r_efron", "lifelines_efron"),
        ] {
            // Through linfa's Fit on a DatasetBase with Array1<Surv> targets.
            let dataset = DatasetBase::new(x.clone(), Array1::from(y.clone()));
            let fit = CoxPh::params().ties(ties).fit(&dataset).unwrap();
            let r = &rec[r_key];
            let what = format!("{name} {r_key}");
            assert_close(
                &format!("{what} coef"),
                fit.coef.as_slice().unwrap(),
                &f64s(&r["coef"]),
                1e-6,
                1e-3,
            );
            assert_close(
                &format!("{what} se"),
                fit.se.as_slice().unwrap(),
                &f64s(&r["se"]),
                1e-6,
                1e-6,
            );
            let ll = f64s(&r["loglik"]);
            assert_close(
                &format!("{what} loglik"),
                &[fit.log_likelihood],
                &[ll[1]],
                1e-9,
                1.0,
            );
            assert_close(
                &format!("{what} null"),
                &[fit.log_likelihood_null],
                &[ll[0]],
                1e-9,
                1.0,
            );
            // The Python libraries converge less tightly than R: 1e-5 relative.
            let o = &rec[other];
            assert_close(
                &format!("{name} {other} coef"),
                fit.coef.as_slice().unwrap(),
                &f64s(&o["coef"]),
                1e-5,
                1e-3,
            );
            if ties == Ties::Efron {
                let c = o["concordance"].as_f64().unwrap();
                assert!(
                    (fit.concordance.c_index - c).abs() < 1e-9,
                    "{name}: C {} vs lifelines {c}",
                    fit.concordance.c_index
                );
                let risk = fit.predict(&x);
                assert_eq!(risk.len(), y.len());
            }
        }
    }
}

#[test]
fn harrell_matches_sksurv_counts_and_lifelines() {
    let exp = expected();
    for name in DATASETS {
        let (_, y, _) = load(name);
        for case in exp["datasets"][name]["cindex"].as_array().unwrap() {
            let risk = f64s(&case["risk_values"]);
            let c = harrell(&y, &risk, 1e-8).unwrap();
            let what = format!("{name} {}", case["risk"]);
            assert_eq!(c.concordant, case["concordant"].as_u64().unwrap(), "{what}");
            assert_eq!(c.discordant, case["discordant"].as_u64().unwrap(), "{what}");
            assert_eq!(c.tied_risk, case["tied_risk"].as_u64().unwrap(), "{what}");
            assert_eq!(c.tied_time, case["tied_time"].as_u64().unwrap(), "{what}");
            assert_eq!(c.c_index, case["c"].as_f64().unwrap(), "{what}");
            assert!(
                (c.c_index - case["lifelines_c"].as_f64().unwrap()).abs() < 1e-15,
                "{what}"
            );
        }
    }
}

#[test]
fn kaplan_meier_matches_lifelines_and_sksurv() {
    let exp = expected();
    for name in DATASETS {
        let (_, y, _) = load(name);
        let km = KaplanMeier::fit(&y, 0.95).unwrap();
        let e = &exp["datasets"][name]["kaplan_meier"];
        assert_close(
            &format!("{name} timeline"),
            &km.timeline,
            &f64s(&e["timeline"]),
            0.0,
            1.0,
        );
        assert_close(
            &format!("{name} S"),
            &km.survival,
            &f64s(&e["survival"]),
            1e-10,
            1e-10,
        );
        assert_close(
            &format!("{name} lower"),
            &km.lower,
            &f64s(&e["lower"]),
            1e-10,
            1e-10,
        );
        assert_close(
            &format!("{name} upper"),
            &km.upper,
            &f64s(&e["upper"]),
            1e-10,
            1e-10,
        );
        assert_eq!(
            km.median(),
            e["median"].as_f64().unwrap_or(f64::INFINITY),
            "{name} median"
        );
        // scikit-survival omits the leading 0 (when no time is 0).
        let sk = &e["sksurv"];
        let skip = km.timeline.len() - f64s(&sk["time"]).len();
        assert_close(
            &format!("{name} sksurv S"),
            &km.survival[skip..],
            &f64s(&sk["survival"]),
            1e-10,
            1e-10,
        );
        assert_close(
            &format!("{name} sksurv lower"),
            &km.lower[skip..],
            &f64s(&sk["lower"]),
            1e-10,
            1e-10,
        );
    }
}

#[test]
fn logrank_matches_lifelines_and_r() {
    let exp = expected();
    for name in DATASETS {
        let (_, y, _) = load(name);
        for case in exp["datasets"][name]["logrank"].as_array().unwrap() {
            let groups: Vec<usize> = case["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_u64().unwrap() as usize)
                .collect();
            let lr = logrank(&y, &groups).unwrap();
            let what = format!("{name} by {}", case["group_column"]);
            assert_close(
                &format!("{what} statistic"),
                &[lr.statistic],
                &[case["statistic"].as_f64().unwrap()],
                1e-10,
                1e-12,
            );
            assert_close(
                &format!("{what} p"),
                &[lr.p_value],
                &[case["p"].as_f64().unwrap()],
                1e-10,
                1e-12,
            );
            if let Some(r) = case["r_chisq"].as_f64() {
                assert_close(&format!("{what} R"), &[lr.statistic], &[r], 1e-10, 1e-12);
            }
            let o: f64 = lr.observed.iter().sum();
            let e: f64 = lr.expected.iter().sum();
            assert!(
                (o - e).abs() < 1e-9,
                "{what}: observed and expected totals agree"
            );
        }
    }
}

/// The global tests of all coefficients (likelihood ratio, Wald, score) against R survival's
/// `coxph` (`tools/cox_global_tests.py`: `2·diff(loglik)`, `wald.test`, `score`, p-values by
/// `pchisq`) with both tie rules, and the likelihood ratio against lifelines (Efron).
/// Tolerance 1e-6 relative on the statistics (the coefficients' own tolerance) and on the
/// p-values.
#[test]
fn global_tests_match_r_and_lifelines() {
    let text = std::fs::read_to_string(crate::data_dir().join("global_tests.json")).unwrap();
    let exp: serde_json::Value = serde_json::from_str(&text).unwrap();
    for name in DATASETS {
        let (x, y, names) = load(name);
        for (ties, key) in [(Ties::Breslow, "r_breslow"), (Ties::Efron, "r_efron")] {
            let model = CoxPh::params()
                .ties(ties)
                .tol(1e-12)
                .fit(&DatasetBase::new(x.clone(), Array1::from(y.clone())))
                .unwrap();
            let r = &exp["datasets"][name][key];
            let score = model.score_test.expect("score test recorded");
            for (test, got) in [
                ("likelihood_ratio", model.likelihood_ratio_test()),
                ("wald", model.wald_test().unwrap()),
                ("score", score),
            ] {
                let want = &r[test];
                let what = format!("{name} {key} {test}");
                assert_eq!(got.df, names.len(), "{what} df");
                assert_eq!(want["df"].as_u64(), Some(names.len() as u64), "{what} R df");
                assert_close(
                    &what,
                    &[got.statistic, got.p_value],
                    &[
                        want["statistic"].as_f64().unwrap(),
                        want["p_value"].as_f64().unwrap(),
                    ],
                    1e-6,
                    1e-300,
                );
            }
            if ties == Ties::Efron {
                let l = &exp["datasets"][name]["lifelines_efron_likelihood_ratio"];
                let got = model.likelihood_ratio_test();
                assert_close(
                    &format!("{name} lifelines likelihood ratio"),
                    &[got.statistic],
                    &[l["statistic"].as_f64().unwrap()],
                    1e-6,
                    1.0,
                );
            }
        }
    }
}

/// The nested likelihood-ratio test (`CoxPh::likelihood_ratio_vs`) against R's
/// `anova(reduced, full)` and lifelines (`tools/cox_nested_lr.py`: the reduced model drops the
/// last two covariates; Efron ties). Tolerance 1e-6 relative, as the global tests.
#[test]
fn nested_likelihood_ratio_matches_r_anova_and_lifelines() {
    let text = std::fs::read_to_string(crate::data_dir().join("nested_lr.json")).unwrap();
    let exp: serde_json::Value = serde_json::from_str(&text).unwrap();
    for name in DATASETS {
        let (x, y, names) = load(name);
        let fit = |x: Array2<f64>| {
            CoxPh::params()
                .ties(Ties::Efron)
                .tol(1e-12)
                .fit(&DatasetBase::new(x, Array1::from(y.clone())))
                .unwrap()
        };
        let full = fit(x.clone());
        let reduced = fit(x.slice(ndarray::s![.., ..names.len() - 2]).to_owned());
        let got = full.likelihood_ratio_vs(&reduced).unwrap();
        assert_eq!(got.df, 2);
        for source in ["r_anova", "lifelines"] {
            let want = &exp["datasets"][name][source];
            assert_close(
                &format!("{name} nested LR vs {source}"),
                &[got.statistic, got.p_value],
                &[
                    want["statistic"].as_f64().unwrap(),
                    want["p_value"].as_f64().unwrap(),
                ],
                1e-6,
                1e-300,
            );
        }
        // Nothing added, or fitted on other patients: errors.
        assert!(reduced.likelihood_ratio_vs(&full).is_err());
        let other = CoxPh::params()
            .ties(Ties::Efron)
            .fit(&DatasetBase::new(
                x.slice(ndarray::s![1.., ..names.len() - 2]).to_owned(),
                Array1::from(y[1..].to_vec()),
            ))
            .unwrap();
        assert!(full.likelihood_ratio_vs(&other).is_err());
    }
}
