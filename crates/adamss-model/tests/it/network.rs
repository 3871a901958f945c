use adamss_model::tch::nn::OptimizerConfig;
use adamss_model::tch::{nn, Device, Kind, Tensor};
use adamss_model::{
    checkpoint, count_parameters, AdaMss, AdaMssConfig, Error, FusionMode, ParamGroup, Transfer,
};

use crate::RNG;

fn build(config: &AdaMssConfig, seed: i64) -> (nn::VarStore, AdaMss) {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = config.build(&vs.root()).unwrap();
    (vs, net)
}

fn inputs(n: i64, s: i64, seed: i64) -> (Tensor, Tensor) {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    (
        Tensor::randn([n, 1, s, s, s], (Kind::Float, Device::Cpu)),
        Tensor::randn([n, 1, s, s, s], (Kind::Float, Device::Cpu)),
    )
}

/// The released segmentation model has exactly 18,438,878 parameters (spec §2); the Cox
/// survival head adds 240·128 + 128 + 128 + 1 = 30,977.
#[test]
fn paper_parameter_count() {
    let (vs, _net) = build(&AdaMssConfig::paper(), 0);
    assert_eq!(
        count_parameters(&vs, &["encoder.", "decoder.", "seg_head."]),
        18_438_878
    );
    assert_eq!(count_parameters(&vs, &["surv_head."]), 30_977);
    assert_eq!(count_parameters(&vs, &[]), 18_438_878 + 30_977);
    let mut discrete = AdaMssConfig::paper();
    discrete.survival.output = adamss_model::SurvivalOutput::released_discrete_time();
    let (vs, _) = build(&discrete, 0);
    assert_eq!(
        count_parameters(&vs, &["surv_head."]),
        240 * 128 + 128 + 128 * 10 + 10
    );
}

#[test]
fn shapes_at_16_32_48() {
    let config = AdaMssConfig::with_base_width(2);
    let (_vs, net) = build(&config, 1);
    for s in [16, 32, 48] {
        let (pet, ct) = inputs(2, s, 2);
        let out = net.forward_t(&pet, &ct, None, false).unwrap();
        assert_eq!(out.seg_logits.as_ref().unwrap().size(), [2, 2, s, s, s]);
        assert_eq!(out.survival.size(), [2, 1]);
        assert_eq!(out.features.size(), [2, 15 * 2]);
        assert_eq!(out.gates.len(), 5);
        for (i, w) in out.gates.iter().enumerate() {
            let side = s >> i;
            assert_eq!(w.size(), [2, 2 << i, side, side, side]);
        }
        assert_eq!(out.attention.len(), 4);
        for (j, a) in out.attention.iter().enumerate() {
            let side = s >> (3 - j);
            assert_eq!(a.size(), [2, 1, side, side, side]);
        }
    }
}

#[test]
fn non_cubic_inputs_and_bad_sizes() {
    let (_vs, net) = build(&AdaMssConfig::with_base_width(2), 1);
    // Unseeded draws take the lock too, so they cannot interleave with a seeded build.
    let randn = |shape: [i64; 5]| {
        let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    };
    let pet = randn([1, 1, 16, 32, 48]);
    let out = net.forward_t(&pet, &pet, None, false).unwrap();
    assert_eq!(out.seg_logits.unwrap().size(), [1, 2, 16, 32, 48]);
    let bad = randn([1, 1, 16, 24, 16]);
    let err = net.forward_t(&bad, &bad, None, false).unwrap_err();
    assert!(
        matches!(err, Error::Shape(ref m) if m.contains("multiples of 16")),
        "{err}"
    );
    let other = randn([1, 1, 16, 16, 16]);
    assert!(net.forward_t(&pet, &other, None, false).is_err());
    let two_channels = randn([1, 2, 16, 16, 16]);
    assert!(net
        .forward_t(&two_channels, &two_channels, None, false)
        .is_err());
}

#[test]
fn extra_features_are_checked_and_used() {
    let mut config = AdaMssConfig::with_base_width(2);
    config.survival.extra_features = 3;
    config.survival.dropout = 0.0;
    let (_vs, net) = build(&config, 3);
    let (pet, ct) = inputs(2, 16, 4);
    assert!(net.forward_t(&pet, &ct, None, false).is_err());
    let wrong = Tensor::zeros([2, 4], (Kind::Float, Device::Cpu));
    assert!(net.forward_t(&pet, &ct, Some(&wrong), false).is_err());
    let e0 = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
    let e1 = Tensor::ones([2, 3], (Kind::Float, Device::Cpu)) * 5.0;
    let r0 = net.forward_t(&pet, &ct, Some(&e0), false).unwrap();
    let r1 = net.forward_t(&pet, &ct, Some(&e1), false).unwrap();
    assert_eq!(r0.features.size(), [2, 33]);
    let diff = (r0.survival - r1.survival).abs().max().double_value(&[]);
    assert!(diff > 1e-6, "extra features must change the risk");
}

#[test]
fn gates_start_near_one_half() {
    let (_vs, net) = build(&AdaMssConfig::with_base_width(4), 5);
    let (pet, ct) = inputs(1, 16, 6);
    let out = net.forward_t(&pet, &ct, None, false).unwrap();
    for (i, m) in AdaMss::mean_gate_weights(&out).iter().enumerate() {
        // Zero logit weights: w = sigmoid(b_a − b_b) with biases U(±1/√(2C_i)).
        assert!((m - 0.5).abs() < 0.25, "level {i}: mean gate {m}");
    }
    for w in &out.gates {
        let max_dev = (w - 0.5).abs().max().double_value(&[]);
        let bound = 1.0 / (2.0f64).sqrt(); // |b_a − b_b| ≤ 2/√(2C) ≤ 1/√2 for C ≥ 4
        assert!(max_dev <= 1.0 / (1.0 + (-bound).exp()) - 0.5 + 1e-6);
    }
}

/// Eval mode (running BatchNorm statistics): in train mode a convolution bias followed by
/// BatchNorm has an exactly cancelled gradient, in PyTorch as here.
#[test]
fn gradients_reach_every_parameter() {
    let mut config = AdaMssConfig::with_base_width(4);
    config.survival.dropout = 0.0;
    let (vs, net) = build(&config, 7);
    let (pet, ct) = inputs(2, 16, 8);
    let out = net.forward_t(&pet, &ct, None, false).unwrap();
    let loss =
        out.seg_logits.unwrap().square().mean(Kind::Float) + out.survival.sin().sum(Kind::Float);
    loss.backward();
    let vars = vs.variables();
    let mut checked = 0;
    for t in vs.trainable_variables() {
        let name = vars
            .iter()
            .find(|(_, v)| v.data_ptr() == t.data_ptr())
            .map(|(k, _)| k.clone())
            .unwrap();
        let g = t.grad();
        assert!(g.defined(), "{name} has no gradient");
        assert!(
            g.abs().sum(Kind::Double).double_value(&[]) > 0.0,
            "{name} has an all-zero gradient"
        );
        checked += 1;
    }
    assert!(checked > 100);
}

#[test]
fn deterministic_given_a_seed() {
    let config = AdaMssConfig::with_base_width(2);
    let (_a, na) = build(&config, 11);
    let (_b, nb) = build(&config, 11);
    let (pet, ct) = inputs(1, 16, 12);
    let oa = na.forward_t(&pet, &ct, None, false).unwrap();
    let ob = nb.forward_t(&pet, &ct, None, false).unwrap();
    assert!(oa.seg_logits.unwrap().equal(&ob.seg_logits.unwrap()));
    assert!(oa.survival.equal(&ob.survival));
    let (_c, nc) = build(&config, 12);
    let oc = nc.forward_t(&pet, &ct, None, false).unwrap();
    assert!(!oa.survival.equal(&oc.survival));
}

#[test]
fn variants_build_and_run() {
    for (fusion, attention, segmentation) in [
        (FusionMode::Sum, true, true),
        (FusionMode::Early, true, true),
        (FusionMode::Late, true, true),
        (FusionMode::Gated, false, true),
        (FusionMode::Gated, true, false),
    ] {
        let config = AdaMssConfig {
            fusion,
            attention,
            segmentation,
            ..AdaMssConfig::with_base_width(2)
        };
        let (vs, net) = build(&config, 13);
        let (pet, ct) = inputs(1, 16, 14);
        let out = net.forward_t(&pet, &ct, None, false).unwrap();
        assert_eq!(out.survival.size(), [1, 1]);
        assert_eq!(out.seg_logits.is_some(), segmentation);
        assert_eq!(
            out.gates.len(),
            if fusion == FusionMode::Gated { 5 } else { 0 }
        );
        assert_eq!(out.attention.len(), if attention { 4 } else { 0 });
        let names: Vec<String> = vs.variables().into_keys().collect();
        let has = |p: &str| names.iter().any(|n| n.starts_with(p));
        assert_eq!(
            has("encoder.gates."),
            matches!(fusion, FusionMode::Gated | FusionMode::Sum)
        );
        assert_eq!(has("encoder.fused."), fusion != FusionMode::Late);
        assert_eq!(has("encoder.pet."), fusion != FusionMode::Early);
        assert_eq!(has("seg_head."), segmentation);
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let mut c = AdaMssConfig::with_base_width(2);
    c.decoder_depths = vec![1, 1];
    assert!(matches!(c.validate(), Err(Error::Config(_))));
    let mut c = AdaMssConfig::with_base_width(0);
    assert!(c.validate().is_err());
    c.base_width = 2;
    c.survival.dropout = 1.0;
    assert!(c.validate().is_err());
    let toml_like = r#"{"base_width": 8, "bogus": 1}"#;
    assert!(serde_json::from_str::<AdaMssConfig>(toml_like).is_err());
    let ok: AdaMssConfig = serde_json::from_str(r#"{"base_width": 8, "fusion": "late"}"#).unwrap();
    assert_eq!(ok.fusion, FusionMode::Late);
    assert_eq!(ok.encoder_depths, vec![2, 3, 3, 4, 4]);
}

#[test]
fn checkpoint_round_trip_and_partial_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stage1.safetensors");
    let config = AdaMssConfig::with_base_width(2);
    let (vs_a, net_a) = build(&config, 21);
    checkpoint::save(&vs_a, &path).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );

    let (mut vs_b, net_b) = build(&config, 22);
    let report = checkpoint::load(&mut vs_b, &path, &Transfer::All).unwrap();
    assert!(report.missing.is_empty() && report.unexpected.is_empty());
    let (pet, ct) = inputs(1, 16, 23);
    let oa = net_a.forward_t(&pet, &ct, None, false).unwrap();
    let ob = net_b.forward_t(&pet, &ct, None, false).unwrap();
    assert!(oa.survival.equal(&ob.survival));

    // Stage II network with a different head (extra features): encoder-only transfer.
    let mut stage2 = config.clone();
    stage2.survival.extra_features = 4;
    let (mut vs_c, _net_c) = build(&stage2, 24);
    assert!(matches!(
        checkpoint::load(&mut vs_c, &path, &Transfer::All),
        Err(Error::Checkpoint { .. })
    ));
    let before = vs_c.variables()["decoder.levels.0.block.conv.conv.weight"].copy();
    let report = checkpoint::load(&mut vs_c, &path, &Transfer::EncoderOnly).unwrap();
    assert!(report.loaded.iter().all(|n| n.starts_with("encoder.")));
    assert!(report.missing.is_empty());
    let vars_c = vs_c.variables();
    let vars_a = vs_a.variables();
    assert!(vars_c["encoder.gates.0.a.bias"].equal(&vars_a["encoder.gates.0.a.bias"]));
    assert!(vars_c["decoder.levels.0.block.conv.conv.weight"].equal(&before));
    let report = checkpoint::load(&mut vs_c, &path, &Transfer::EncoderDecoder).unwrap();
    assert!(report.loaded.iter().any(|n| n.starts_with("decoder.")));
    assert!(report.loaded.iter().any(|n| n.starts_with("seg_head.")));
    assert!(!report.loaded.iter().any(|n| n.starts_with("surv_head.")));

    // A corrupt file is a typed error naming the file.
    let bad = dir.path().join("bad.safetensors");
    std::fs::write(&bad, b"not a checkpoint").unwrap();
    let err = checkpoint::load(&mut vs_c, &bad, &Transfer::All).unwrap_err();
    assert!(err.to_string().contains("bad.safetensors"), "{err}");
}

#[test]
fn freezing_a_group_stops_its_updates() {
    let mut config = AdaMssConfig::with_base_width(2);
    config.survival.dropout = 0.0;
    let (vs, net) = build(&config, 31);
    let n = checkpoint::set_trainable(&vs, ParamGroup::Encoder, false);
    assert!(n > 50);
    let mut opt = nn::Adam::default().build(&vs, 1e-2).unwrap();
    opt.set_lr_group(ParamGroup::SurvivalHead as usize, 0.0);
    let before = vs.variables();
    let snapshot: Vec<(String, Tensor)> =
        before.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
    let (pet, ct) = inputs(2, 16, 32);
    let out = net.forward_t(&pet, &ct, None, true).unwrap();
    let loss = out.seg_logits.unwrap().mean(Kind::Float) + out.survival.mean(Kind::Float);
    opt.backward_step(&loss);
    let after = vs.variables();
    for (name, old) in snapshot {
        let same = after[&name].equal(&old);
        if name.starts_with("encoder.") && !name.contains("running_") {
            assert!(same, "{name} moved although frozen");
        }
        if name.starts_with("surv_head.") {
            assert!(same, "{name} moved with learning rate 0");
        }
        if name == "decoder.levels.0.block.conv.conv.weight" {
            assert!(!same, "{name} should have moved");
        }
    }
}

#[test]
fn bf16_forward_is_close_to_fp32() {
    let mut config = AdaMssConfig::with_base_width(2);
    config.survival.dropout = 0.0;
    let (vs, net32) = build(&config, 41);
    let path = tempfile::NamedTempFile::new().unwrap();
    let file = path.path().with_extension("safetensors");
    checkpoint::save(&vs, &file).unwrap();
    config.precision = adamss_model::Precision::Bf16;
    let (mut vs16, net16) = build(&config, 42);
    checkpoint::load(&mut vs16, &file, &Transfer::All).unwrap();
    let (pet, ct) = inputs(1, 16, 43);
    let a = net32.forward_t(&pet, &ct, None, false).unwrap();
    let b = net16.forward_t(&pet, &ct, None, false).unwrap();
    let sa = a.seg_logits.unwrap();
    let sb = b.seg_logits.unwrap();
    assert_eq!(sb.kind(), Kind::Float);
    let rel = (&sa - &sb).abs().max().double_value(&[]) / sa.abs().max().double_value(&[]);
    assert!(rel < 0.05, "bf16 relative difference {rel}");
    let _ = std::fs::remove_file(file);
}

/// A few bf16 training steps stay finite. Before the CPU fp32 fallback in `Conv3d::forward`,
/// libtorch's CPU bf16 convolution gave NaN weight gradients at the deepest (2³) level of a 32³
/// input after the first step.
#[test]
fn bf16_training_stays_finite() {
    use adamss_model::{loss, AdamConfig, FlatAdam};
    let mut config = AdaMssConfig::with_base_width(4);
    config.precision = adamss_model::Precision::Bf16;
    let (vs, net) = build(&config, 7);
    let mut opt = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).unwrap();
    let (pet, ct) = inputs(4, 32, 8);
    let pet = &pet * 5.0;
    let target = pet.gt(12.0).to_kind(Kind::Float).repeat([1, 2, 1, 1, 1]);
    let mut first = None;
    for step in 0..6 {
        opt.zero_grad();
        let out = net.forward_t(&pet, &ct, None, true).unwrap();
        let logits = out.seg_logits.unwrap();
        let l = loss::dice_loss(&logits, &target).unwrap()
            + loss::focal_loss(&logits, &target, 0.25, 2.0).unwrap();
        let v = l.double_value(&[]);
        assert!(v.is_finite(), "step {step}: loss {v}");
        first.get_or_insert(v);
        l.backward();
        for (name, t) in vs.variables() {
            let g = t.grad();
            assert!(
                !g.defined() || g.isfinite().all().int64_value(&[]) == 1,
                "step {step}: gradient of {name} is not finite"
            );
        }
        opt.step().unwrap();
    }
    let last = net
        .forward_t(&pet, &ct, None, true)
        .unwrap()
        .seg_logits
        .unwrap();
    let v = (loss::dice_loss(&last, &target).unwrap()
        + loss::focal_loss(&last, &target, 0.25, 2.0).unwrap())
    .double_value(&[]);
    assert!(
        v < first.unwrap(),
        "training lowers the loss: {first:?} → {v}"
    );
}
