use adamss_model::tch::nn::OptimizerConfig;
use adamss_model::tch::{nn, Device, Kind, Tensor};
use adamss_model::{checkpoint, AdaMssConfig, AdamConfig, FlatAdam, ParamGroup};

use crate::RNG;

fn setup(seed: i64) -> (nn::VarStore, adamss_model::AdaMss, Tensor, Tensor) {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let mut config = AdaMssConfig::with_base_width(2);
    config.survival.dropout = 0.0;
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = config.build(&vs.root()).unwrap();
    vs.double();
    let pet = Tensor::randn([2, 1, 16, 16, 16], (Kind::Double, Device::Cpu));
    let ct = Tensor::randn([2, 1, 16, 16, 16], (Kind::Double, Device::Cpu));
    (vs, net, pet, ct)
}

fn loss(net: &adamss_model::AdaMss, pet: &Tensor, ct: &Tensor) -> Tensor {
    let out = net.forward_t(pet, ct, None, true).unwrap();
    out.seg_logits.unwrap().sigmoid().mean(Kind::Double) + out.survival.tanh().sum(Kind::Double)
}

fn max_param_diff(a: &nn::VarStore, b: &nn::VarStore) -> f64 {
    let (va, vb) = (a.variables(), b.variables());
    va.iter()
        .map(|(k, t)| (t - &vb[k]).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

/// FlatAdam equals libtorch's own Adam (`tch::nn::Adam`): the first step to rounding, the
/// next two within 1e-7 (lr 1e-2) — from the second step on, the two networks' rounding
/// differs, and Adam amplifies it where gradients are tiny.
#[test]
fn flat_adam_equals_libtorch_adam() {
    let (vs_a, net_a, pet, ct) = setup(1);
    let (vs_b, net_b, _, _) = setup(1);
    assert_eq!(max_param_diff(&vs_a, &vs_b), 0.0);
    let mut ours = FlatAdam::new(&vs_a, 1e-2, AdamConfig::default()).unwrap();
    let mut theirs = nn::Adam::default().build(&vs_b, 1e-2).unwrap();
    for step in 0..3 {
        ours.zero_grad();
        loss(&net_a, &pet, &ct).backward();
        ours.step().unwrap();
        theirs.zero_grad();
        loss(&net_b, &pet, &ct).backward();
        theirs.step();
        if step == 0 {
            // Same parameters, bitwise the same gradients: the same update to rounding.
            let d = max_param_diff(&vs_a, &vs_b);
            assert!(d < 1e-15, "first step: max parameter difference {d:e}");
        }
    }
    let (va, vb) = (vs_a.variables(), vs_b.variables());
    let mut worst: Vec<(f64, String)> = va
        .iter()
        // A convolution bias followed by training-mode BatchNorm has a gradient made of
        // rounding noise, which Adam normalises to steps of ±lr: both optimisers move such
        // biases (and, through them, the running means) by noise. They do not affect outputs.
        .filter(|(k, _)| !k.ends_with(".conv.bias") && !k.ends_with("running_mean"))
        .map(|(k, t)| ((t - &vb[k]).abs().max().double_value(&[]), k.clone()))
        .collect();
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (d, name) = &worst[0];
    assert!(*d < 1e-7, "max parameter difference {d:e} at {name}");
    let moved = (&vs_a.variables()["seg_head.weight"] - &setup(1).0.variables()["seg_head.weight"])
        .abs()
        .max()
        .double_value(&[]);
    assert!(moved > 1e-3, "the optimiser must move the parameters");
}

#[test]
fn groups_learning_rates_and_freezing() {
    let (vs, net, pet, ct) = setup(2);
    let before: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.copy()))
        .collect();
    let mut opt = FlatAdam::new(&vs, 1e-2, AdamConfig::default()).unwrap();
    assert_eq!(opt.group_sizes().len(), 3);
    opt.set_lr_group(ParamGroup::SurvivalHead as usize, 0.0)
        .unwrap();
    assert!(opt.set_lr_group(7, 1e-3).is_err());
    assert!(opt.set_lr(f64::NAN).is_err());
    checkpoint::set_trainable(&vs, ParamGroup::Encoder, false);
    opt.zero_grad();
    loss(&net, &pet, &ct).backward();
    opt.step().unwrap();
    let after = vs.variables();
    for (name, old) in before {
        let same = after[&name].equal(&old);
        if name.contains("running_") {
            continue;
        }
        if name.starts_with("encoder.") || name.starts_with("surv_head.") {
            assert!(same, "{name} moved");
        } else {
            assert!(!same, "{name} did not move");
        }
    }
}

/// Saving and loading still see the parameters after they moved into the flat buffers, and
/// zero_grad really clears the bound gradients.
#[test]
fn flat_buffers_keep_checkpoints_and_gradients_right() {
    let (vs, net, pet, ct) = setup(3);
    let mut opt = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).unwrap();
    for _ in 0..2 {
        opt.zero_grad();
        loss(&net, &pet, &ct).backward();
        opt.step().unwrap();
    }
    // The bound gradient equals a fresh computation (no accumulation across steps).
    opt.zero_grad();
    loss(&net, &pet, &ct).backward();
    let g_bound = vs.variables()["decoder.levels.3.block.conv.conv.weight"]
        .grad()
        .copy();
    let (vs2, net2, _, _) = setup(3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.safetensors");
    checkpoint::save(&vs, &file).unwrap();
    let mut vs2 = vs2;
    checkpoint::load(&mut vs2, &file, &adamss_model::Transfer::All).unwrap();
    assert_eq!(max_param_diff(&vs, &vs2), 0.0);
    loss(&net2, &pet, &ct).backward();
    let g_fresh = vs2.variables()["decoder.levels.3.block.conv.conv.weight"].grad();
    let d = (&g_bound - &g_fresh).abs().max().double_value(&[]);
    assert!(d < 1e-12, "{d:e}");
}

/// A saved Adam state reloads exactly; one with a step count that is not one non-negative
/// integer, a non-finite moment or a negative second moment is refused and changes nothing.
#[test]
fn optimiser_state_reloads_and_refuses_bad_entries() {
    let (vs, net, pet, ct) = setup(3);
    let mut opt = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).unwrap();
    opt.zero_grad();
    loss(&net, &pet, &ct).backward();
    opt.step().unwrap();
    let good = opt.state();
    let mut other = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).unwrap();
    let fresh = other.state();
    let same = |a: &[(String, Tensor)], b: &[(String, Tensor)]| {
        a.iter().zip(b).all(|((n, x), (m, y))| n == m && x.equal(y))
    };
    let with = |name: &str, t: Tensor| -> Vec<(String, Tensor)> {
        good.iter()
            .map(|(n, v)| {
                let v = if n == name {
                    t.shallow_clone()
                } else {
                    v.shallow_clone()
                };
                (n.clone(), v)
            })
            .collect()
    };
    let sq = &good
        .iter()
        .find(|(n, _)| n == "group0.exp_avg_sq")
        .unwrap()
        .1;
    for (bad, why) in [
        (
            with("group0.step", Tensor::from_slice(&[-1i64])),
            "negative step",
        ),
        (
            with("group0.step", Tensor::from_slice(&[1.5f32])),
            "float step",
        ),
        (
            with("group0.step", Tensor::from_slice(&[1i64, 2])),
            "two steps",
        ),
        (
            with("group0.exp_avg_sq", sq - 1.0),
            "negative second moment",
        ),
        (
            with("group0.exp_avg_sq", sq * f64::NAN),
            "NaN second moment",
        ),
    ] {
        assert!(other.load_state(&bad).is_err(), "{why} accepted");
        assert!(same(&other.state(), &fresh), "{why} changed the optimiser");
    }
    other.load_state(&good).unwrap();
    assert!(same(&other.state(), &good));
}
