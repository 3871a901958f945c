//! The Rust network against its PyTorch twin, and the tensor Cox loss against
//! adamss-survival's ndarray implementation.
//!
//! Golden files: `tests/data/model/`, written by `tools/adamss_twin.py reference` (PyTorch
//! 2.11.0, float64 on float32-representable weights and inputs). Tolerances (issue #6):
//! eval-mode features, segmentation and survival outputs (and gate/attention maps) ≤ 1e-5
//! relative; one training step's gradients ≤ 1e-4 relative, per parameter tensor, against
//! the larger of the tensor's own scale and 1e-6 of the whole gradient's. The comparison
//! itself is `adamss_model::twin`, which `adamss check-twin` also runs on a GPU.

use std::path::PathBuf;

use adamss::model::loss::cox_nll;
use adamss::model::tch::{Device, Kind, Tensor};
use adamss::model::{twin, CoxTies};
use adamss::survival::{surv_from, PartialLikelihood, Reduction, Ties};

fn check(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/model");
    let cases = twin::read_cases(&dir).unwrap();
    let case = &cases.iter().find(|(n, _)| n == name).unwrap().1;
    let r = twin::check_case(&dir, name, case, Device::Cpu, Kind::Double).unwrap();
    for (what, e) in [
        ("segmentation", r.seg),
        ("survival", r.survival),
        ("features", r.features),
        ("gates", r.gates),
        ("attention", r.attention),
    ] {
        assert!(e <= 1e-5, "{name} {what}: relative error {e:e}");
    }
    assert!(r.loss <= 1e-6, "{name} loss: {:e}", r.loss);
    assert!(r.gradients <= 1e-4, "{name} gradients: {:e}", r.gradients);
    assert!(r.gradients_compared > 300);
    assert!(
        r.exact(),
        "check-twin's pass rule disagrees with the limits above"
    );
    // A case reported beyond the limits fails the rule.
    assert!(!twin::TwinReport {
        gradients: 2e-4,
        ..r.clone()
    }
    .exact());
}

/// `adamss bench-step`'s row: keys in the twin's `train-step` shape, ordered timings.
#[test]
fn bench_row_has_the_twins_keys() {
    let _one = crate::one_at_a_time();
    use adamss::model::timing::{BenchRow, BenchSpec};
    let spec = BenchSpec {
        size: 16,
        batch: 1,
        width: 4,
        warmup: 0,
        iters: 2,
        cudnn_benchmark: false,
    };
    let row = BenchRow::measure("cpu", Device::Cpu, adamss::model::Precision::F32, &spec).unwrap();
    let value = serde_json::to_value(&row).unwrap();
    for key in [
        "impl",
        "precision",
        "size",
        "batch",
        "width",
        "device",
        "step_s",
        "step_min_s",
        "step_max_s",
        "forward_s",
        "forward_backward_s",
        "iters",
        "cudnn_benchmark",
    ] {
        assert!(value.get(key).is_some(), "{key} missing from {value}");
    }
    assert_eq!(
        (
            value["impl"].as_str(),
            value["precision"].as_str(),
            value["iters"].as_u64()
        ),
        (Some("rust-tch"), Some("fp32"), Some(2))
    );
    assert!(0.0 < row.step_min_s && row.step_min_s <= row.step_s && row.step_s <= row.step_max_s);
}

#[test]
fn forward_and_gradients_match_pytorch_16() {
    let _one = crate::one_at_a_time();
    check("c2_s16");
}

#[test]
fn forward_and_gradients_match_pytorch_32() {
    let _one = crate::one_at_a_time();
    check("c2_s32");
}
/// The differentiable Cox loss equals the ndarray reference (value and gradient), both tie
/// rules, on a sample with ties and censoring at event times.
#[test]
fn tensor_cox_loss_equals_adamss_survival() {
    let _one = crate::one_at_a_time();
    let time = [5.0, 3.0, 3.0, 8.0, 3.0, 1.0, 5.0, 9.0, 1.0, 3.0];
    let event = [
        true, true, false, false, true, true, true, false, true, true,
    ];
    let eta = [0.3, -1.2, 0.8, 0.1, 2.0, -0.4, 0.0, 1.5, -2.2, 0.7];
    let y = surv_from(&time, &event).unwrap();
    for (ties, ours) in [
        (Ties::Breslow, CoxTies::Breslow),
        (Ties::Efron, CoxTies::Efron),
    ] {
        let pl = PartialLikelihood::new(y.as_slice().unwrap(), ties).unwrap();
        let (v, g) = pl.nll_grad_eta(&eta, Reduction::MeanOverEvents).unwrap();
        let x = Tensor::from_slice(&eta).set_requires_grad(true);
        let l = cox_nll(&x, &time, &event, ours).unwrap();
        l.backward();
        let lv = l.double_value(&[]);
        assert!((lv - v).abs() <= 1e-12 * v.abs(), "{ties:?}: {lv} vs {v}");
        let tg = Vec::<f64>::try_from(x.grad()).unwrap();
        for (a, b) in tg.iter().zip(g.iter()) {
            assert!((a - b).abs() < 1e-12, "{ties:?} gradient {a} vs {b}");
        }
    }
}
