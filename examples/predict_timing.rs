//! Per-patient prediction time of the in-process `Predictor` beside `adamss predict --model`,
//! on one machine in one run, alternating (docs/benchmarks.md, "Prediction").
//!
//! The bundle holds the preset's networks with freshly initialised weights (time does not
//! depend on the values) and a clinical-only head. Timed regions:
//! - `predictor, batch`: `Predictor::predict_batch` over the patients, volumes already in
//!   memory (preprocessing, Stage I, head inputs, survival network, masks back on the CT grid);
//! - `predictor, one by one`: `Predictor::predict` per patient, the same work in batches of one;
//! - `adamss predict`: the command from start to exit: process start (and its re-execution at
//!   the pinned CPU level), opening the bundle, reading the NIfTI files, the same work, writing
//!   the masks and `risks.csv`.
//!
//! ```sh
//! cargo build --release --bin adamss
//! cargo run --release --example predict_timing -- [PRESET [PATIENTS [PAIRS]]]
//! ```

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use adamss::io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss::train::bundle::{BundleManifest, BundleModel};
use adamss::train::tch::Device;
use adamss::train::{
    Bundle, ClinicalEncoder, ExperimentConfig, HeadInputs, Method, Network, PatientInput, Predictor,
};
use anyhow::{Context, Result};

fn main() -> Result<()> {
    let isa = adamss::model::cpu::CpuIsa::from_env(adamss::model::cpu::CpuIsa::Avx2)
        .map_err(|e| anyhow::anyhow!(e))?;
    let pin = adamss::model::cpu::pin_isa(isa)?;
    adamss::model::cpu::tune_allocator();
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "cpu-small".into());
    let patients: usize = args.next().map_or(Ok(6), |a| a.parse())?;
    let pairs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let dir = Path::new("runs/predict-timing").join(&preset);
    let config = ExperimentConfig::preset(&preset)?;

    // A cohort of new patients and a bundle of the preset's networks.
    let root = dir.join("cohort");
    if !root.is_dir() {
        let synth = SyntheticConfig {
            patients,
            seed: 1,
            endpoint_fraction: 1.0,
            ..SyntheticConfig::default()
        };
        generate_synthetic(&root, &synth, &|_| {})?;
    }
    let (cohort, _) = Cohort::hecktor(&root)?;
    let model = dir.join("model");
    if !model.is_dir() {
        random_bundle(&config, &dir)?.write(&model)?;
    }
    let inputs: Vec<PatientInput> = cohort
        .records()
        .iter()
        .map(|r| {
            let c = r.load(cohort.options())?;
            Ok(PatientInput::new(&c.id, c.ct, c.pet))
        })
        .collect::<Result<_>>()?;
    let n = inputs.len() as f64;
    let predictor = Predictor::open(&model, Device::Cpu)?;
    let exe = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .context("target folder")?
        .join("adamss");
    anyhow::ensure!(
        exe.is_file(),
        "{} is missing: cargo build --release --bin adamss first",
        exe.display()
    );
    println!(
        "{preset}: {} patients, crop {:?}, {}, {} libtorch threads, {} rayon threads; load {}",
        inputs.len(),
        config.preprocess.crop_size,
        pin.describe(),
        adamss::model::tch::get_num_threads(),
        rayon::current_num_threads(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    let (mut batch, mut single, mut cli) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let t = Instant::now();
        let preds = predictor.predict_batch(&inputs)?;
        batch.push(t.elapsed().as_secs_f64() / n);
        let t = Instant::now();
        for input in &inputs {
            predictor.predict(input)?;
        }
        single.push(t.elapsed().as_secs_f64() / n);
        let out = dir.join(format!("predict-{pair}"));
        let _ = std::fs::remove_dir_all(&out);
        let t = Instant::now();
        let status = Command::new(&exe)
            .args(["predict", "--model"])
            .arg(&model)
            .args(["--device", "cpu", "--cohort"])
            .arg(&root)
            .arg("--out")
            .arg(&out)
            .output()?;
        cli.push(t.elapsed().as_secs_f64() / n);
        anyhow::ensure!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        // The same risks both ways (the command runs the same batches).
        let csv = std::fs::read_to_string(out.join("risks.csv"))?;
        anyhow::ensure!(csv.lines().count() == preds.len() + 1, "{csv}");
        for (line, p) in csv.lines().skip(1).zip(&preds) {
            let mut cells = line.split(',');
            anyhow::ensure!(cells.next() == Some(p.id.as_str()), "{line} vs {}", p.id);
            let risk: f64 = cells.next().context("risk column")?.parse()?;
            anyhow::ensure!(
                (risk - p.risk).abs() <= 1e-8 * p.risk.abs().max(1.0),
                "{}: {risk} vs {}",
                p.id,
                p.risk
            );
        }
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    for (name, v) in [
        ("predictor, batch", &mut batch),
        ("predictor, one by one", &mut single),
        ("adamss predict --model", &mut cli),
    ] {
        let (min, median) = stats(v);
        println!("| {name} | {min:.3} s | {median:.3} s |");
    }
    Ok(())
}

/// The preset's Stage-I and survival networks with fresh weights, a clinical-only head.
fn random_bundle(config: &ExperimentConfig, dir: &Path) -> Result<Bundle> {
    let mut segmentation = config.model.clone();
    segmentation.survival.extra_features = 0;
    let survival = segmentation.clone();
    let weights = |name: &str, seed: u64| -> Result<std::path::PathBuf> {
        let net = Network::new(&segmentation, Device::Cpu, seed)?;
        let path = dir.join(name);
        adamss::model::checkpoint::save(&net.vs, &path)?;
        Ok(path)
    };
    std::fs::create_dir_all(dir)?;
    Ok(Bundle {
        manifest: BundleManifest::new(Method::Ssl, 0, None),
        model: BundleModel {
            segmentation: segmentation.clone(),
            survival,
            preprocess: config.preprocess.clone(),
            extraction: config.radiomics.extraction(),
            predict_batch: config.runtime.predict_batch,
        },
        head: HeadInputs::clinical(ClinicalEncoder::default()),
        baseline: None,
        segmentation_weights: weights("random-stage1.safetensors", 1)?,
        survival_weights: weights("random-survival.safetensors", 2)?,
    })
}
