//! The Rust network against its PyTorch twin, and the tensor Cox loss against
//! adamss-survival's ndarray implementation.
//!
//! Golden files: `tests/data/model/`, written by `tools/adamss_twin.py reference` (PyTorch
//! 2.11.0, float64 on float32-representable weights and inputs). Tolerances (issue #6):
//! eval-mode features, segmentation and survival outputs ≤ 1e-5 relative; one training
//! step's gradients ≤ 1e-4 relative, per parameter tensor, against the larger of the
//! tensor's own scale and 1e-6 of the whole gradient's.

use std::collections::HashMap;
use std::path::PathBuf;

use adamss::model::loss::{cox_nll, dice_loss, focal_loss};
use adamss::model::tch::{nn, Device, Kind, Tensor};
use adamss::model::{checkpoint, AdaMssConfig, CoxTies, Transfer};
use adamss::survival::{surv_from, PartialLikelihood, Reduction, Ties};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/model")
        .join(name)
}

fn read(name: &str) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(data(name))
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.to_kind(Kind::Double)))
        .collect()
}

/// max |a − b| / max |b|.
fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    let scale = b.abs().max().double_value(&[]).max(1e-300);
    (a - b).abs().max().double_value(&[]) / scale
}

fn check_case(name: &str, c: i64, extra: i64) {
    let io = read(&format!("{name}.io.safetensors"));
    let mut config = AdaMssConfig::with_base_width(c);
    config.survival.extra_features = extra;
    config.survival.dropout = 0.0;
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = config.build(&vs.root()).unwrap();
    vs.double();
    let report = checkpoint::load(
        &mut vs,
        &data(&format!("{name}.weights.safetensors")),
        &Transfer::All,
    )
    .unwrap();
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);

    let ex = io.get("extra");
    let out = net.forward_t(&io["pet"], &io["ct"], ex, false).unwrap();
    let seg = out.seg_logits.as_ref().unwrap();
    for (what, ours, theirs) in [
        ("segmentation", seg, &io["eval.seg"]),
        ("survival", &out.survival, &io["eval.risk"]),
        ("features", &out.features, &io["eval.features"]),
    ] {
        let e = rel_err(ours, theirs);
        assert!(e <= 1e-5, "{name} {what}: relative error {e:e}");
    }
    for (i, w) in out.gates.iter().enumerate() {
        let e = rel_err(w, &io[&format!("eval.gate{i}")]);
        assert!(e <= 1e-5, "{name} gate {i}: {e:e}");
    }
    for (i, a) in out.attention.iter().enumerate() {
        let e = rel_err(a, &io[&format!("eval.attention{i}")]);
        assert!(e <= 1e-5, "{name} attention {i}: {e:e}");
    }

    // One training step: train-mode BatchNorm, Dice + focal + Cox (Breslow, mean over events).
    let time = Vec::<f64>::try_from(&io["time"]).unwrap();
    let event: Vec<bool> = Vec::<f64>::try_from(&io["event"])
        .unwrap()
        .into_iter()
        .map(|e| e > 0.5)
        .collect();
    let out = net.forward_t(&io["pet"], &io["ct"], ex, true).unwrap();
    let seg = out.seg_logits.unwrap();
    let target = &io["target"];
    let loss = dice_loss(&seg, target).unwrap()
        + focal_loss(&seg, target, 0.25, 2.0).unwrap()
        + cox_nll(&out.survival, &time, &event, CoxTies::Breslow).unwrap();
    let want_loss = io["train.loss"].double_value(&[0]);
    let got_loss = loss.double_value(&[]);
    assert!(
        ((got_loss - want_loss) / want_loss).abs() < 1e-6,
        "{name} loss {got_loss} vs {want_loss}"
    );
    loss.backward();
    let vars = vs.variables();
    let global = io
        .iter()
        .filter(|(k, _)| k.starts_with("grad."))
        .map(|(_, g)| g.abs().max().double_value(&[]))
        .fold(0.0f64, f64::max);
    let mut compared = 0;
    for (key, theirs) in io.iter().filter(|(k, _)| k.starts_with("grad.")) {
        let pname = &key["grad.".len()..];
        let var = vars.get(pname).unwrap_or_else(|| panic!("no variable {pname}"));
        let ours = var.grad();
        assert!(ours.defined(), "{pname} has no gradient");
        let scale = theirs.abs().max().double_value(&[]).max(1e-6 * global);
        let e = (&ours - theirs).abs().max().double_value(&[]) / scale;
        assert!(e <= 1e-4, "{name} gradient {pname}: relative error {e:e}");
        compared += 1;
    }
    let trainable = vs.trainable_variables().len();
    assert_eq!(compared, trainable, "every parameter's gradient is compared");
}

#[test]
fn forward_and_gradients_match_pytorch_16() {
    check_case("c2_s16", 2, 3);
}

#[test]
fn forward_and_gradients_match_pytorch_32() {
    check_case("c2_s32", 2, 0);
}

/// The differentiable Cox loss equals the ndarray reference (value and gradient), both tie
/// rules, on a sample with ties and censoring at event times.
#[test]
fn tensor_cox_loss_equals_adamss_survival() {
    let time = [5.0, 3.0, 3.0, 8.0, 3.0, 1.0, 5.0, 9.0, 1.0, 3.0];
    let event = [true, true, false, false, true, true, true, false, true, true];
    let eta = [0.3, -1.2, 0.8, 0.1, 2.0, -0.4, 0.0, 1.5, -2.2, 0.7];
    let y = surv_from(&time, &event).unwrap();
    for (ties, ours) in [(Ties::Breslow, CoxTies::Breslow), (Ties::Efron, CoxTies::Efron)] {
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
