//! Checkpoints, exact resume, divergence.

use adamss_model::tch::{Device, Tensor};
use adamss_train::stage::{train_stage, Event, Network, Objective, Observer, Silent, StageSpec};
use adamss_train::{Error, ExperimentConfig};

use crate::{prepared, tiny_config};

/// Stops the stage at one (epoch, step): what a kill mid-epoch leaves on disk.
struct KillAt(usize, usize);

impl Observer for KillAt {
    fn event(&self, e: &Event<'_>) -> bool {
        !matches!(e, Event::Step { epoch, step, .. } if (*epoch, *step) == (self.0, self.1))
    }
}

fn spec<'a>(
    config: &'a ExperimentConfig,
    dir: &std::path::Path,
    objective: Objective,
    fit: &'a [usize],
    val: &'a [usize],
    extras: &'a [Vec<f64>],
) -> StageSpec<'a> {
    StageSpec {
        name: "test".into(),
        dir: dir.to_path_buf(),
        objective,
        schedule: match objective {
            Objective::Segmentation => &config.stage1,
            Objective::Survival { .. } => &config.stage2,
        },
        loss: &config.loss,
        augment: &config.augment,
        survival_samples: adamss_train::config::SurvivalSamples::Crops,
        balanced: true,
        seed: 11,
        fit,
        val,
        extras,
        offsets: &[],
        predict_batch: 2,
        precise_bn_batches: 2,
    }
}

fn weights(net: &Network) -> Vec<(String, Tensor)> {
    let mut v = net.vs.variables().into_iter().collect::<Vec<_>>();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn killed_mid_epoch_resumes_to_the_same_weights() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 6);
    let config = tiny_config();
    let (fit, val) = (vec![0, 1, 2, 3], vec![4, 5]);
    let extras = vec![vec![0.5, -1.0]; cases.len()];
    let mut model = config.model.clone();
    model.survival.extra_features = 2;
    for objective in [
        Objective::Segmentation,
        Objective::Survival { seg_weight: 1.0 },
    ] {
        let tag = format!("{objective:?}").len();
        // Uninterrupted.
        let mut a = Network::new(&model, Device::Cpu, 5).expect("net");
        let dir_a = tmp.path().join(format!("a{tag}"));
        let sa = train_stage(
            &mut a,
            &cases,
            &spec(&config, &dir_a, objective, &fit, &val, &extras),
            &Silent,
        )
        .expect("train");
        assert_eq!(sa.epochs_done, 3);
        // Each epoch says where its time went, in state.json and metrics.csv alike.
        for r in &sa.history {
            let t = &r.timing;
            assert!(t.median_step > 0.0 && t.median_step <= t.max_step, "{t:?}");
            assert!(t.max_step <= t.steps && t.validation > 0.0, "{t:?}");
            assert!(t.steps + t.data_wait + t.validation <= r.seconds, "{r:?}");
        }
        let csv = std::fs::read_to_string(dir_a.join("metrics.csv")).expect("metrics");
        let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(rows[0].len(), 10, "{csv}");
        assert_eq!(rows[0][8], "data_wait_seconds");
        assert!(rows[1..].iter().all(|r| r.len() == 10), "{csv}");
        assert_eq!(rows.len(), 4, "{csv}");
        // Killed in the middle of epoch 1, then resumed by a fresh process (new network).
        let dir_b = tmp.path().join(format!("b{tag}"));
        let mut b = Network::new(&model, Device::Cpu, 5).expect("net");
        let e = train_stage(
            &mut b,
            &cases,
            &spec(&config, &dir_b, objective, &fit, &val, &extras),
            &KillAt(1, 1),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Interrupted(_)), "{e}");
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir_b.join("state.json")).expect("state"),
        )
        .expect("json");
        assert_eq!(
            state["epochs_done"], 1,
            "epoch 0 checkpointed, epoch 1 lost"
        );
        let mut c = Network::new(&model, Device::Cpu, 99).expect("net");
        let sc = train_stage(
            &mut c,
            &cases,
            &spec(&config, &dir_b, objective, &fit, &val, &extras),
            &Silent,
        )
        .expect("resume");
        assert_eq!(
            sc.history,
            sa.history
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.seconds = sc.history[r.epoch].seconds;
                    r.timing = sc.history[r.epoch].timing.clone();
                    r
                })
                .collect::<Vec<_>>(),
            "same losses and metrics epoch by epoch"
        );
        for ((na, ta), (nc, tc)) in weights(&a).iter().zip(weights(&c)) {
            assert_eq!(na, &nc);
            assert!(ta.equal(&tc), "{objective:?}: {na} differs after resume");
        }
        // A finished stage is reloaded, not retrained.
        let mut d = Network::new(&model, Device::Cpu, 7).expect("net");
        let sd = train_stage(
            &mut d,
            &cases,
            &spec(&config, &dir_a, objective, &fit, &val, &extras),
            &Silent,
        )
        .expect("reload");
        assert_eq!(sd.history.len(), 3);
        for ((_, ta), (_, td)) in weights(&a).iter().zip(weights(&d)) {
            assert!(ta.equal(&td));
        }
    }
}

#[test]
fn a_diverging_loss_stops_with_the_last_good_checkpoint() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 6);
    let mut config = tiny_config();
    // Epoch 0 trains normally; from epoch 1 the learning rate blows the weights up.
    config.stage1.milestones = vec![(1, 1e30)];
    let (fit, val) = (vec![0, 1, 2, 3], vec![4, 5]);
    let none = vec![Vec::new(); cases.len()];
    let mut net = Network::new(&config.model, Device::Cpu, 1).expect("net");
    let dir = tmp.path().join("stage");
    let e = train_stage(
        &mut net,
        &cases,
        &spec(&config, &dir, Objective::Segmentation, &fit, &val, &none),
        &Silent,
    )
    .unwrap_err();
    match e {
        Error::NonFinite {
            epoch, checkpoint, ..
        } => {
            assert_eq!(epoch, 1);
            let checkpoint = checkpoint.expect("epoch 0 finished");
            assert!(checkpoint.is_file(), "{} kept", checkpoint.display());
            assert!(checkpoint.ends_with("weights-0001.safetensors"));
        }
        other => panic!("expected NonFinite, got {other}"),
    }
}

/// Counts optimiser steps (0 when a finished stage is reloaded).
#[derive(Default)]
struct CountSteps(std::sync::atomic::AtomicUsize);

impl Observer for CountSteps {
    fn event(&self, e: &Event<'_>) -> bool {
        if matches!(e, Event::Step { .. }) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        true
    }
}

/// `survival_samples` and the survival head's dropout only matter to survival stages: changing
/// them keeps a finished Stage I (reloaded, no step taken) and retrains a survival stage. That
/// is sound: Stage I trained with another head dropout reaches the same weights.
#[test]
fn survival_samples_do_not_invalidate_a_segmentation_stage() {
    let _one = crate::one_at_a_time();
    use adamss_train::config::SurvivalSamples;
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 6);
    let config = tiny_config();
    let (fit, val) = (vec![0, 1, 2, 3], vec![4, 5]);
    let extras = vec![Vec::new(); cases.len()];
    for (objective, retrains) in [
        (Objective::Segmentation, false),
        (Objective::Survival { seg_weight: 1.0 }, true),
    ] {
        let dir = tmp
            .path()
            .join(format!("{}", format!("{objective:?}").len()));
        let mut a = Network::new(&config.model, Device::Cpu, 5).expect("net");
        let first = spec(&config, &dir, objective, &fit, &val, &extras);
        train_stage(&mut a, &cases, &first, &Silent).expect("train");
        let again = StageSpec {
            survival_samples: SurvivalSamples::Whole,
            ..spec(&config, &dir, objective, &fit, &val, &extras)
        };
        let mut model = config.model.clone();
        model.survival.dropout = 0.2;
        let steps = CountSteps::default();
        let mut b = Network::new(&model, Device::Cpu, 5).expect("net");
        train_stage(&mut b, &cases, &again, &steps).expect("rerun");
        let taken = steps.0.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(taken > 0, retrains, "{objective:?}: {taken} steps");
        if !retrains {
            // Trained afresh with the other dropout: the same weights as the reloaded ones.
            let mut c = Network::new(&model, Device::Cpu, 5).expect("net");
            let fresh = tmp.path().join("fresh");
            train_stage(
                &mut c,
                &cases,
                &spec(&config, &fresh, objective, &fit, &val, &extras),
                &Silent,
            )
            .expect("train");
            for ((n, ta), (_, tc)) in weights(&a).iter().zip(weights(&c)) {
                assert!(ta.equal(&tc), "{n} depends on the head's dropout");
            }
        }
    }
}

/// A risk offset enters the Cox loss and the validation risks as `offset + head(…)`: with the
/// head's output at zero and no learning, validation ranks patients by their offsets, a constant
/// offset leaves the partial likelihood unchanged (it is shift-invariant), a varying one changes
/// it; offsets of the wrong length are refused.
#[test]
fn a_risk_offset_adds_to_the_head() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 8);
    let config = tiny_config();
    let fit: Vec<usize> = (0..8).collect();
    let extras = vec![Vec::new(); cases.len()];
    let mut schedule = config.stage2.clone();
    (schedule.lr, schedule.milestones, schedule.epochs) = (0.0, Vec::new(), 1);
    let objective = Objective::Survival { seg_weight: 0.0 };
    let times: Vec<f64> = cases.iter().map(|c| c.survival.time()).collect();
    // Offsets ordered against survival time: a perfect ranking on comparable pairs.
    let ranked: Vec<f64> = times.iter().map(|t| -t / 1000.0).collect();
    let constant = vec![3.0; cases.len()];
    let run = |name: &str, offsets: &[f64]| {
        let mut net = Network::new(&config.model, Device::Cpu, 5).expect("net");
        net.zero_survival_output().expect("zero head");
        let s = StageSpec {
            schedule: &schedule,
            offsets,
            ..spec(
                &config,
                &tmp.path().join(name),
                objective,
                &fit,
                &fit,
                &extras,
            )
        };
        train_stage(&mut net, &cases, &s, &Silent)
    };
    let none = run("none", &[]).expect("no offset");
    let shifted = run("constant", &constant).expect("constant offset");
    let ranked_state = run("ranked", &ranked).expect("ranked offset");
    let loss = |s: &adamss_train::StageState| s.history[0].loss;
    assert!(
        (loss(&none) - loss(&shifted)).abs() < 1e-5,
        "{none:?} {shifted:?}"
    );
    assert!((loss(&none) - loss(&ranked_state)).abs() > 1e-3);
    assert_eq!(
        none.best.map(|b| b.1),
        Some(0.5),
        "a zero head ties every pair"
    );
    assert_eq!(ranked_state.best.map(|b| b.1), Some(1.0));
    let short = run("short", &ranked[..3]).expect_err("wrong length");
    assert!(short.to_string().contains("offsets"), "{short}");
}

#[test]
fn epoch_records_written_before_timing_was_kept_still_load() {
    let old = r#"{"epoch":3,"lr":0.001,"loss":0.25,"metric":0.7,"seconds":12.5}"#;
    let r: adamss_train::stage::EpochRecord = serde_json::from_str(old).expect("old record");
    assert_eq!((r.epoch, r.seconds), (3, 12.5));
    assert_eq!(r.timing, adamss_train::stage::EpochTiming::default());
}

/// A stage without validation patients keeps its last epoch (metric NaN, `null` in
/// `state.json`): run again, it reloads the finished stage instead of training it afresh.
#[test]
fn a_finished_stage_without_validation_reloads() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 6);
    let config = tiny_config();
    let fit = vec![0, 1, 2, 3, 4, 5];
    let extras = vec![Vec::new(); cases.len()];
    let dir = tmp.path().join("noval");
    let objective = Objective::Survival { seg_weight: 1.0 };
    let mut a = Network::new(&config.model, Device::Cpu, 5).expect("net");
    let first = train_stage(
        &mut a,
        &cases,
        &spec(&config, &dir, objective, &fit, &[], &extras),
        &Silent,
    )
    .expect("train");
    let kept = first.best.expect("the last epoch is kept");
    assert_eq!(kept.0 + 1, first.epochs_done);
    assert!(kept.1.is_nan());
    assert!(first.to_string().contains("none (epoch 3 kept)"), "{first}");
    let steps = CountSteps::default();
    let mut b = Network::new(&config.model, Device::Cpu, 5).expect("net");
    let again = train_stage(
        &mut b,
        &cases,
        &spec(&config, &dir, objective, &fit, &[], &extras),
        &steps,
    )
    .expect("reload");
    assert_eq!(steps.0.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(again.epochs_done, first.epochs_done);
    for ((n, ta), (_, tb)) in weights(&a).iter().zip(weights(&b)) {
        assert!(ta.equal(&tb), "{n} differs after the reload");
    }
}

/// A `state.json` that does not parse, or whose parts disagree, stops the stage with an error
/// naming the file; nothing in the folder is touched.
#[test]
fn a_foreign_or_inconsistent_state_is_refused_by_name() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 6);
    let config = tiny_config();
    let (fit, val) = (vec![0, 1, 2, 3], vec![4, 5]);
    let extras = vec![Vec::new(); cases.len()];
    let dir = tmp.path().join("stage");
    let objective = Objective::Segmentation;
    let mut a = Network::new(&config.model, Device::Cpu, 5).expect("net");
    let good = train_stage(
        &mut a,
        &cases,
        &spec(&config, &dir, objective, &fit, &val, &extras),
        &Silent,
    )
    .expect("train");
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).expect("state");
    let mut fewer = good.clone();
    fewer.history.pop();
    let mut late = good.clone();
    late.best = Some((7, 0.5));
    let mut shuffled = good.clone();
    shuffled.history.swap(0, 1);
    for (bad, says) in [
        (text[..text.len() / 2].to_string(), "not a stage state"),
        (
            serde_json::to_string(&fewer).unwrap(),
            "3 epochs done but 2",
        ),
        (serde_json::to_string(&late).unwrap(), "kept epoch 7"),
        (
            serde_json::to_string(&shuffled).unwrap(),
            "record 0 is for epoch 1",
        ),
    ] {
        std::fs::write(&path, &bad).expect("write");
        let before: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let mut b = Network::new(&config.model, Device::Cpu, 5).expect("net");
        let e = train_stage(
            &mut b,
            &cases,
            &spec(&config, &dir, objective, &fit, &val, &extras),
            &Silent,
        )
        .expect_err("refused");
        let msg = e.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(says),
            "{msg}"
        );
        assert!(msg.contains("delete the stage's folder"), "{msg}");
        let after: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(before, after);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);
    }
    std::fs::write(&path, &text).expect("restore");
    let mut c = Network::new(&config.model, Device::Cpu, 5).expect("net");
    train_stage(
        &mut c,
        &cases,
        &spec(&config, &dir, objective, &fit, &val, &extras),
        &Silent,
    )
    .expect("the good state reloads");
}
