//! Baselines, IPCW metrics and stratification against scikit-survival 0.28 and lifelines
//! 0.30.3 (`tools/survival_reference.py`). Tolerances: cumulative hazards and survival 1e-9
//! relative; Uno's C, AUC and Brier scores 1e-10 relative (same arithmetic, different order).

use adamss_survival::{
    brier_score, cumulative_dynamic_auc, integrated_brier_score, median, nelson_aalen, stratify,
    uno_c, BreslowBaseline,
};
use ndarray::{Array1, Array2};

use crate::{assert_close, expected, f64s, load};

const DATASETS: [&str; 4] = ["whas500", "gbsg2", "veterans", "rossi"];

#[test]
fn baselines_match_sksurv_and_lifelines() {
    let exp = expected();
    for name in DATASETS {
        let (x, y, _) = load(name);
        let rec = &exp["datasets"][name];
        let na = nelson_aalen(&y).unwrap();
        assert_close(
            &format!("{name} NA times"),
            &na.times,
            &f64s(&rec["nelson_aalen"]["times"]),
            0.0,
            1.0,
        );
        assert_close(
            &format!("{name} NA"),
            &na.values,
            &f64s(&rec["nelson_aalen"]["cum_hazard"]),
            1e-12,
            1e-12,
        );

        let b = &rec["breslow_baseline"];
        let eta = x.dot(&Array1::from(f64s(&b["coef"]))).to_vec();
        let base = BreslowBaseline::fit(&y, &eta).unwrap();
        assert_close(
            &format!("{name} H0 times"),
            &base.cumulative_hazard.times,
            &f64s(&b["times"]),
            0.0,
            1.0,
        );
        assert_close(
            &format!("{name} H0"),
            &base.cumulative_hazard.values,
            &f64s(&b["cum_hazard"]),
            1e-9,
            1e-12,
        );

        // Centred baseline of lifelines' (Efron) fit; lifelines' timeline starts at 0.
        let coef = f64s(&rec["lifelines_efron"]["coef"]);
        let eta = x.dot(&Array1::from(coef)).to_vec();
        let centred = BreslowBaseline::fit(&y, &eta).unwrap().centred();
        let l = &rec["lifelines_centred_baseline"];
        let lt = f64s(&l["times"]);
        let got: Vec<f64> = lt.iter().map(|&t| centred.at(t)).collect();
        assert_close(
            &format!("{name} centred H0"),
            &got,
            &f64s(&l["cum_hazard"]),
            1e-9,
            1e-12,
        );

        // Survival prediction = sksurv's predict_survival_function.
        let b_eta = x.dot(&Array1::from(f64s(&b["coef"])));
        let base = BreslowBaseline::fit(&y, b_eta.as_slice().unwrap()).unwrap();
        let ip = &rec["ipcw"];
        let times = f64s(&ip["times"]);
        let want: Vec<f64> = ip["survival"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(f64s)
            .collect();
        let got: Vec<f64> = b_eta
            .iter()
            .flat_map(|&e| times.iter().map(move |&t| (e, t)))
            .map(|(e, t)| base.survival(e, t))
            .collect();
        assert_close(&format!("{name} S(t|x)"), &got, &want, 1e-9, 1e-12);
    }
}

#[test]
fn ipcw_metrics_match_sksurv() {
    let exp = expected();
    for name in DATASETS {
        let (x, y, _) = load(name);
        let rec = &exp["datasets"][name];
        let ip = &rec["ipcw"];
        let eta = x.dot(&Array1::from(f64s(&rec["breslow_baseline"]["coef"])));
        let risk = eta.as_slice().unwrap();
        let times = f64s(&ip["times"]);
        let tau = ip["tau"].as_f64().unwrap();

        let c = uno_c(&y, &y, risk, Some(tau), 1e-8).unwrap();
        assert_close(
            &format!("{name} Uno tau"),
            &[c.c_index],
            &[ip["uno_tau"].as_f64().unwrap()],
            1e-10,
            1e-12,
        );
        match ip["uno"].as_f64() {
            Some(want) => assert_close(
                &format!("{name} Uno"),
                &[uno_c(&y, &y, risk, None, 1e-8).unwrap().c_index],
                &[want],
                1e-10,
                1e-12,
            ),
            None => assert!(
                uno_c(&y, &y, risk, None, 1e-8).is_err(),
                "{name}: sksurv refused, so must we"
            ),
        }

        let col = Array2::from_shape_vec((y.len(), 1), risk.to_vec()).unwrap();
        match ip["auc"].as_array() {
            Some(_) => {
                let (auc, mean) = cumulative_dynamic_auc(&y, &y, col.view(), &times, 1e-8).unwrap();
                assert_close(
                    &format!("{name} AUC"),
                    &auc,
                    &f64s(&ip["auc"]),
                    1e-10,
                    1e-12,
                );
                assert_close(
                    &format!("{name} mean AUC"),
                    &[mean],
                    &[ip["mean_auc"].as_f64().unwrap()],
                    1e-10,
                    1e-12,
                );
                // Time-dependent risk: the predicted cumulative hazard at each time.
                let base = BreslowBaseline::fit(&y, risk).unwrap();
                let chf = Array2::from_shape_fn((y.len(), times.len()), |(i, k)| {
                    base.cumulative_hazard(risk[i], times[k])
                });
                let (auc_t, mean_t) =
                    cumulative_dynamic_auc(&y, &y, chf.view(), &times, 1e-8).unwrap();
                assert_close(
                    &format!("{name} AUC(t)"),
                    &auc_t,
                    &f64s(&ip["auc_time_dependent"]),
                    1e-10,
                    1e-12,
                );
                assert_close(
                    &format!("{name} mean AUC(t)"),
                    &[mean_t],
                    &[ip["mean_auc_time_dependent"].as_f64().unwrap()],
                    1e-10,
                    1e-12,
                );
            }
            None => assert!(cumulative_dynamic_auc(&y, &y, col.view(), &times, 1e-8).is_err()),
        }

        let surv: Vec<f64> = ip["survival"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(f64s)
            .collect();
        let surv = Array2::from_shape_vec((y.len(), times.len()), surv).unwrap();
        let bs = brier_score(&y, &y, surv.view(), &times).unwrap();
        assert_close(
            &format!("{name} Brier"),
            &bs,
            &f64s(&ip["brier"]),
            1e-10,
            1e-12,
        );
        let ibs = integrated_brier_score(&y, &y, surv.view(), &times).unwrap();
        assert_close(
            &format!("{name} IBS"),
            &[ibs],
            &[ip["ibs"].as_f64().unwrap()],
            1e-10,
            1e-12,
        );

        let st = &rec["stratify_median"];
        let threshold = median(risk).unwrap();
        assert_close(
            &format!("{name} median"),
            &[threshold],
            &[st["threshold"].as_f64().unwrap()],
            1e-12,
            1.0,
        );
        let s = stratify(&y, risk, threshold).unwrap();
        assert_close(
            &format!("{name} stratified log-rank"),
            &[s.logrank.statistic],
            &[st["statistic"].as_f64().unwrap()],
            1e-10,
            1e-12,
        );
        assert_eq!(
            s.high.iter().filter(|&&h| h).count() + s.low_curve.at_risk[0] as usize,
            y.len()
        );
    }
}

#[test]
fn ipcw_input_errors() {
    let (x, y, _) = load("veterans");
    let risk: Vec<f64> = x.column(0).to_vec();
    let col = Array2::from_shape_vec((y.len(), 1), risk.clone()).unwrap();
    assert!(
        cumulative_dynamic_auc(&y, &y, col.view(), &[50.0, 20.0], 1e-8).is_err(),
        "unsorted times"
    );
    assert!(
        cumulative_dynamic_auc(&y, &y, col.view(), &[1e6], 1e-8).is_err(),
        "beyond follow-up"
    );
    assert!(
        brier_score(&y, &y, col.view(), &[10.0, 20.0]).is_err(),
        "shape"
    );
    assert!(
        integrated_brier_score(&y, &y, col.view(), &[10.0]).is_err(),
        "one time"
    );
    assert!(stratify(&y, &risk, 1e9).is_err(), "empty group");
    assert!(uno_c(&y, &y, &risk[1..], None, 1e-8).is_err());
}
