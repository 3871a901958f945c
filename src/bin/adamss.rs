//! `adamss`: the command line of the AdaMSS toolkit.
//!
//! ```text
//! adamss demo                     the main job on the embedded synthetic cohort
//! adamss train --cohort PATH       cross-validated training and comparison of the methods
//! adamss synth --out DIR          generate a synthetic PET/CT cohort (HECKTOR layout)
//! adamss cohort PATH              summarise a HECKTOR folder or a manifest CSV
//! adamss inspect FILE.nii[.gz]    print a NIfTI header as this toolkit reads it
//! adamss device [--json]          what the linked libtorch can run on
//! adamss bench-step               time one AdaMSS training step (CPU or CUDA)
//! adamss check-twin               compare the network with its PyTorch twin's reference files
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamss::io::{self, synthetic, Cohort, Dataset, SyntheticConfig};
use adamss::model::cpu::{CpuIsa, IsaPin};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "adamss",
    version,
    about = "AdaMSS PET/CT segmentation-to-survival toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// 6 patients, 48 mm field of view (tests); the demo uses 16 and the `tiny` experiment.
    Tiny,
    /// 24 patients, 160 mm field of view; the demo uses 150 and the `cpu-small` experiment.
    Default,
    /// 100 patients, 200 mm field of view, CT 0.98×0.98×2.5 mm.
    Paper,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job end to end on a synthetic cohort (generated once, then reused).
    Demo {
        /// Working folder.
        #[arg(long, default_value = "runs/demo")]
        dir: PathBuf,
        /// Cohort size preset.
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
        /// Seed of the synthetic cohort.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also train this many replicates in all (1 = the main job alone): each redraws the
        /// networks' randomness on the same folds (`replicate` in the experiment config) in
        /// its own folder beside the main one, and a second table shows how far retraining
        /// moves each method's C-index. Each replicate takes about as long as the main job.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
        replicates: u64,
        /// libtorch CPU threads (0 = libtorch's default, the cores). The order of libtorch's
        /// sums depends on it, so the table does too: 2 (default) gives README's table on any
        /// machine.
        #[arg(long, default_value_t = DEMO_THREADS)]
        threads: usize,
    },
    /// Cross-validated training of AdaMSS and its baselines on a cohort; writes checkpoints,
    /// metrics, predictions and a report under the run folder (`--resume` continues it).
    Train {
        /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
        #[arg(long)]
        cohort: PathBuf,
        /// Run folder.
        #[arg(long, default_value = "runs/train")]
        out: PathBuf,
        /// Experiment preset (paper, default, cpu-small); `--config` keys override it.
        #[arg(long, default_value = "default")]
        preset: String,
        /// Experiment TOML (may name its own `preset = "…"`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Methods to compare (keys: lasso-cox-clinical, lasso-cox-radiomics, single-task,
        /// mtl, ssl, ssl-radiomics, ssl-early-fusion, ssl-late-fusion).
        #[arg(long, num_args = 1.., default_values_t = adamss::train::Method::MAIN.map(|m| m.key().to_string()))]
        methods: Vec<String>,
        /// Run only this fold (0-based): one job of a batch-scheduler array.
        #[arg(long)]
        fold: Option<usize>,
        /// Device (overrides the config): cpu, cuda, cuda:N, auto.
        #[arg(long)]
        device: Option<String>,
        /// Continue the run already in `--out`: finished stages are reloaded, a killed stage
        /// continues from its last finished epoch to the weights an uninterrupted run reaches,
        /// and a stage whose settings changed starts again. Without it, a run folder that
        /// already holds the folds to run is refused (nothing is touched). Either way a folder
        /// trained on other patients is refused.
        #[arg(long)]
        resume: bool,
    },
    /// Predict new patients with one fold of a finished run: AdaMSS risk per patient
    /// (`risks.csv`, high risk above the fold's training median) and the Stage-I GTVp/GTVn
    /// masks as NIfTI on each patient's original CT grid (`masks/`). Only images (and the
    /// clinical table) are needed; with labels, the Dice of each mask is reported.
    Predict {
        /// The run folder of `adamss train` (its `config.toml` and `fold-K/`).
        #[arg(long, required_unless_present = "model", conflicts_with = "model")]
        run: Option<PathBuf>,
        /// A model bundle of `adamss export` (in place of `--run`, `--fold`, `--method`).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Device: cpu, cuda, cuda:N, auto (default: the run's config; `auto` for `--model`).
        #[arg(long)]
        device: Option<String>,
        /// Patients: HECKTOR 2022 folder or manifest `.csv`.
        #[arg(long)]
        cohort: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Which fold's networks to use (with `--run`).
        #[arg(long, default_value_t = 0, conflicts_with = "model")]
        fold: usize,
        /// Which AdaMSS network (with `--run`): `ssl`, or `ssl-radiomics` (its head also gets
        /// the fold's LASSO-selected radiomics, extracted from each patient's Stage-I mask as in
        /// training).
        #[arg(long, default_value = "ssl", conflicts_with = "model")]
        method: String,
        /// Only the slice `i/n` of the patients (array jobs); merge with `adamss merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Also write the AdaMSS network's fusion-gate weights (`gate-1..5`: near 1 the fused
        /// branch is used, near 0 the separate PET/CT path) and attention maps
        /// (`attention-6..9`) per patient under `<out>/maps/<id>/`, as NIfTI on the network
        /// grid in the patient's physical space.
        #[arg(long)]
        maps: bool,
    },
    /// Write a model bundle: one fold's AdaMSS network (Stage I, the survival network, the
    /// head's clinical encoding and radiomics selection, the preprocessing settings) in a
    /// self-contained folder with a SHA-256 per file, for `adamss predict --model` or the
    /// library's `Predictor` on any machine.
    Export {
        /// The run folder of `adamss train`.
        #[arg(long)]
        run: PathBuf,
        /// Which fold's networks.
        #[arg(long, default_value_t = 0)]
        fold: usize,
        /// Which AdaMSS network: `ssl` or `ssl-radiomics`.
        #[arg(long, default_value = "ssl")]
        method: String,
        /// The bundle folder to create (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Evaluate risk scores against endpoints: Harrell's and Uno's C-index with a bootstrap
    /// interval, and Kaplan–Meier curves of the high/low split with the log-rank test.
    Evaluate {
        /// CSV with `PatientID`, `risk` and optionally `high_risk` (e.g. `risks.csv`).
        #[arg(long)]
        risks: PathBuf,
        /// Cohort with the endpoints (HECKTOR folder or manifest `.csv`).
        #[arg(long)]
        cohort: PathBuf,
        /// Output folder (`evaluation.md`, `km.svg`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Concatenate CSV files with identical headers (e.g. shards of `predict`).
    Merge {
        /// Output CSV.
        #[arg(long)]
        out: PathBuf,
        /// Input CSVs, in order.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
    },
    /// Preprocess a cohort onto the network grid of an experiment preset (cached under
    /// `<out>/preprocessed`), reporting how many tumours the label-free crops hold.
    Preprocess {
        /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
        #[arg(long)]
        cohort: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "runs/preprocess")]
        out: PathBuf,
        /// Experiment preset whose `preprocess` settings apply.
        #[arg(long, default_value = "default")]
        preset: String,
        /// Experiment TOML instead of a preset.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only the slice `i/n` of the patients (array jobs sharing one cache folder).
        #[arg(long)]
        shard: Option<String>,
    },
    /// PyRadiomics-compatible features of the labelled GTVp on CT and PET (resampled onto the
    /// CT grid), original image, one row per patient.
    Radiomics {
        /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
        #[arg(long)]
        cohort: PathBuf,
        /// Output CSV.
        #[arg(long, default_value = "runs/radiomics.csv")]
        out: PathBuf,
        /// A PyRadiomics parameter file (YAML or JSON: settings such as `binWidth` or
        /// `resampledPixelSpacing`, image types, feature classes) instead of the default
        /// (all classes on the original image); the CT's stored pixel type comes from its file.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Only the slice `i/n` of the patients; merge the CSVs with `adamss merge`.
        #[arg(long)]
        shard: Option<String>,
    },
    /// Generate a synthetic PET/CT cohort in the HECKTOR 2022 layout.
    Synth {
        /// Output folder (replaced if it is an older synthetic cohort).
        #[arg(long)]
        out: PathBuf,
        /// Size preset.
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
        /// Number of patients (overrides the preset).
        #[arg(long)]
        patients: Option<usize>,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Summarise a cohort: a HECKTOR 2022 folder or a manifest CSV.
    Cohort {
        /// Folder (HECKTOR layout) or `.csv` manifest.
        path: PathBuf,
    },
    /// Print a NIfTI header as read by adamss-io.
    Inspect {
        /// A `.nii`, `.nii.gz`, `.hdr` or `.img` file.
        file: PathBuf,
    },
    /// Report what the linked libtorch can run on (CUDA devices, cuDNN, CPU threads).
    Device {
        /// Print JSON instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Time the Stage-I training step of the whole network (forward, Dice + focal, backward,
    /// Adam) on random inputs; the PyTorch twin's `train-step` runs the same step.
    BenchStep {
        /// `cpu`, `cuda` (first GPU) or `cuda:N`.
        #[arg(long, default_value = "cuda")]
        device: String,
        /// Cube side in voxels (a multiple of 16).
        #[arg(long, default_value_t = 112)]
        size: i64,
        /// Batch size.
        #[arg(long, default_value_t = 2)]
        batch: i64,
        /// Base width C (16 = the paper).
        #[arg(long, default_value_t = 16)]
        width: i64,
        /// Precisions to time, in order.
        #[arg(long, value_enum, num_args = 1.., default_values_t = [BenchPrecision::Fp32, BenchPrecision::Bf16])]
        precision: Vec<BenchPrecision>,
        /// Untimed steps first (cuDNN autotuning).
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// cuDNN's algorithm search (`true`, as `adamss train` by default: `runtime.cudnn_benchmark`)
        /// or its heuristic choice (`false`). CUDA only.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        cudnn_benchmark: bool,
        /// Timed steps (the median is reported).
        #[arg(long, default_value_t = 20)]
        iters: usize,
        /// Also write the rows as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Compare the network with the PyTorch twin's reference files (weights, inputs, outputs,
    /// gradients from `tools/adamss_twin.py reference`) on a device, in float64 (the exactness
    /// check: fails beyond 1e-5 for outputs, 1e-4 for gradients) and float32 (reported only;
    /// CUDA uses TF32 convolutions).
    CheckTwin {
        /// Folder with `cases.json` and the safetensors files.
        #[arg(long, default_value = "tests/data/model")]
        dir: PathBuf,
        /// `cpu`, `cuda` or `cuda:N`.
        #[arg(long, default_value = "cuda")]
        device: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BenchPrecision {
    /// Full fp32.
    Fp32,
    /// bf16 mixed precision.
    Bf16,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Before anything else runs: the numerical libraries read their CPU level at load time.
    let isa = CpuIsa::from_env(CpuIsa::Avx2).map_err(anyhow::Error::msg)?;
    let pin = adamss::model::cpu::pin_isa(isa)?;
    adamss::model::cpu::tune_allocator();
    match cli.command {
        Command::Demo {
            dir,
            preset,
            seed,
            replicates,
            threads,
        } => demo(&dir, preset, seed, replicates, threads, pin),
        Command::Train {
            cohort,
            out,
            preset,
            config,
            methods,
            fold,
            device,
            resume,
        } => {
            let mut config = experiment(config.as_deref(), &preset)?;
            let folds = fold.map_or(0..config.cv.folds, |f| f..f + 1);
            let existing = adamss::train::existing_folds(&out, folds);
            if !resume && !existing.is_empty() {
                anyhow::bail!(
                    "{} already holds fold(s) {existing:?} of a run; pass --resume to continue it \
                     (finished stages are reloaded), or choose another --out",
                    out.display()
                );
            }
            if let Some(d) = device {
                config.runtime.device = d;
            }
            let methods = methods
                .iter()
                .map(|m| adamss::train::Method::from_key(m))
                .collect::<Result<Vec<_>, _>>()?;
            let cohort = if cohort.is_dir() {
                let (c, report) = Cohort::hecktor(&cohort)?;
                println!("{report}");
                adamss::train::data::check_join(&report)?;
                c
            } else {
                open_cohort(&cohort)?
            };
            let cache = out.join("preprocessed");
            train(&out, &cache, &cohort, &config, &methods, fold, None, pin).map(|_| ())
        }
        Command::Synth {
            out,
            preset,
            patients,
            seed,
        } => {
            let mut config = preset_config(preset, seed);
            if let Some(n) = patients {
                config.patients = n;
            }
            synthesise(&out, &config)?;
            Ok(())
        }
        Command::Preprocess {
            cohort,
            out,
            preset,
            config,
            shard,
        } => {
            let config = experiment(config.as_deref(), &preset)?;
            let cohort = sharded(open_images(&cohort)?, shard.as_deref())?;
            preprocess_stage(&out, &cohort, &config.preprocess)
        }
        Command::Predict {
            run,
            model,
            device,
            cohort,
            out,
            fold,
            method,
            shard,
            maps,
        } => {
            use adamss::train::infer::{predict_with, risks_file_name, Shard};
            use adamss::train::{Bundle, Predictor, RunDir};
            let shard = shard.as_deref().map(Shard::parse).transpose()?;
            let (bundle, device) = match (&model, &run) {
                (Some(model), _) => {
                    let runtime = adamss::train::config::RuntimeConfig {
                        device: device.unwrap_or_else(|| "auto".into()),
                        ..Default::default()
                    };
                    (Bundle::open(model)?, adamss::train::open_device(&runtime)?)
                }
                (None, Some(run)) => {
                    let run = RunDir::new(run);
                    let method = adamss::train::Method::from_key(&method)?;
                    let mut runtime = run.read_config()?.runtime;
                    if let Some(d) = device {
                        runtime.device = d;
                    }
                    let device = adamss::train::open_device(&runtime)?;
                    (Bundle::from_run(&run, fold, method)?, device)
                }
                (None, None) => anyhow::bail!("give --run or --model"),
            };
            let predictor = Predictor::new(&bundle, device)?.with_maps(maps);
            let cohort = open_images(&cohort)?;
            let bar = ProgressBar::new(cohort.len() as u64).with_style(
                ProgressStyle::with_template("preprocess {bar:30} {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let preds = predict_with(&predictor, &cohort, shard, &out, &|d, n| {
                bar.set_length(n as u64);
                bar.set_position(d as u64);
            })?;
            bar.finish_and_clear();
            let dice: Vec<f64> = preds.iter().filter_map(|p| p.mask.dice[0]).collect();
            println!(
                "{} patients → {} and {} ({} of fold {} on {device:?}){}",
                preds.len(),
                out.join(risks_file_name(shard)).display(),
                out.join("masks").display(),
                bundle.manifest.method.key(),
                bundle.manifest.fold,
                if dice.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; GTVp Dice with the labels on the CT grid: {:.3} (mean of {})",
                        dice.iter().sum::<f64>() / dice.len() as f64,
                        dice.len()
                    )
                }
            );
            Ok(())
        }
        Command::Export {
            run,
            fold,
            method,
            out,
        } => {
            use adamss::train::{Bundle, RunDir};
            let method = adamss::train::Method::from_key(&method)?;
            let bundle = Bundle::from_run(&RunDir::new(&run), fold, method)?.write(&out)?;
            println!(
                "{} of fold {fold} → {} ({} files, {:.1} MB; head: {} radiomics + {} clinical \
                 inputs{})",
                method.key(),
                out.display(),
                bundle.manifest.files.len() + 1,
                bundle.manifest.files.values().map(|f| f.bytes).sum::<u64>() as f64 / 1e6,
                bundle
                    .head
                    .radiomics
                    .as_ref()
                    .map_or(0, |s| s.selected.len()),
                bundle.head.clinical.names().len(),
                if bundle.head.offset.is_some() {
                    ", LASSO-CoxPH offset"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Evaluate { risks, cohort, out } => evaluate(&risks, &open_cohort(&cohort)?, &out),
        Command::Merge { out, parts } => {
            let rows = adamss::train::infer::merge_csv(&parts, &out)?;
            println!("{rows} rows from {} files → {}", parts.len(), out.display());
            Ok(())
        }
        Command::Radiomics {
            cohort,
            out,
            params,
            shard,
        } => radiomics_stage(
            &out,
            &sharded(open_images(&cohort)?, shard.as_deref())?,
            params.as_deref(),
        ),
        Command::Cohort { path } => {
            summarise(&open_cohort(&path)?, None);
            Ok(())
        }
        Command::Inspect { file } => inspect(&file),
        Command::Device { json } => {
            let info = adamss::model::DeviceInfo::probe();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "cuda_linked": info.cuda_linked,
                        "cuda_available": info.cuda_available,
                        "cuda_devices": info.cuda_devices,
                        "cudnn_available": info.cudnn_available,
                        "cpu_threads": info.cpu_threads,
                        "cpu": pin.describe(),
                    })
                );
            } else {
                println!("{info}; {}", pin.describe());
            }
            Ok(())
        }
        Command::BenchStep {
            device,
            size,
            batch,
            width,
            precision,
            warmup,
            cudnn_benchmark,
            iters,
            json,
        } => bench_step(
            &device,
            size,
            batch,
            width,
            &precision,
            warmup,
            cudnn_benchmark,
            iters,
            json.as_deref(),
        ),
        Command::CheckTwin { dir, device } => check_twin(&dir, &device),
    }
}

fn check_twin(dir: &Path, device: &str) -> Result<()> {
    use adamss::model::{tch::Kind, twin};
    let dev = adamss::train::parse_device(device)?;
    let mut failed = Vec::new();
    for (name, case) in twin::read_cases(dir)? {
        for kind in [Kind::Double, Kind::Float] {
            let r = twin::check_case(dir, &name, &case, dev, kind)
                .with_context(|| format!("twin case {name}"))?;
            println!("{}", serde_json::to_string(&r)?);
            let worst = [r.seg, r.survival, r.features, r.gates, r.attention]
                .into_iter()
                .fold(0.0f64, f64::max);
            if kind == Kind::Double && (worst > 1e-5 || r.gradients > 1e-4 || r.loss > 1e-6) {
                failed.push(name.clone());
            }
        }
    }
    if failed.is_empty() {
        println!("twin check passed (float64: outputs ≤ 1e-5, gradients ≤ 1e-4)");
        Ok(())
    } else {
        anyhow::bail!("twin check failed for {failed:?}")
    }
}

#[allow(clippy::too_many_arguments)]
fn bench_step(
    device: &str,
    size: i64,
    batch: i64,
    width: i64,
    precisions: &[BenchPrecision],
    warmup: usize,
    cudnn_benchmark: bool,
    iters: usize,
    json: Option<&Path>,
) -> Result<()> {
    use adamss::model::{timing, AdaMssConfig, Precision};
    let dev = adamss::train::parse_device(device)?;
    if dev.is_cuda() {
        adamss::model::tch::Cuda::cudnn_set_benchmark(cudnn_benchmark);
    }
    let mut rows = Vec::new();
    for &p in precisions {
        let (precision, name) = match p {
            BenchPrecision::Fp32 => (Precision::F32, "fp32"),
            BenchPrecision::Bf16 => (Precision::Bf16, "bf16"),
        };
        let config = AdaMssConfig {
            precision,
            ..AdaMssConfig::with_base_width(width)
        };
        let t = timing::time_train_step(&config, dev, batch, size, warmup, iters)
            .with_context(|| format!("timing the {name} training step"))?;
        let row = serde_json::json!({
            "impl": "rust-tch", "precision": name, "size": size, "batch": batch, "width": width,
            "device": device, "step_s": t.step.median_s, "step_min_s": t.step.min_s,
            "step_max_s": t.step.max_s, "forward_s": t.forward.median_s,
            "forward_backward_s": t.forward_backward.median_s, "iters": t.step.iters,
            "cudnn_benchmark": cudnn_benchmark,
        });
        println!("{row}");
        rows.push(row);
    }
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn preset_config(preset: Preset, seed: u64) -> SyntheticConfig {
    let config = match preset {
        Preset::Tiny => SyntheticConfig::tiny(),
        Preset::Default => SyntheticConfig::default(),
        Preset::Paper => SyntheticConfig::paper(),
    };
    SyntheticConfig { seed, ..config }
}

/// Generates the cohort unless `out` already holds one made with the same configuration.
fn synthesise(out: &Path, config: &SyntheticConfig) -> Result<()> {
    if synthetic::is_current(out, config) {
        println!("cohort: reusing {} (same configuration)", out.display());
        return Ok(());
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let bar = ProgressBar::new(config.patients as u64).with_style(
        ProgressStyle::with_template("generating {pos}/{len} patients [{bar:30}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let cohort = io::generate_synthetic(out, config, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    println!(
        "cohort: generated {} patients in {} ({:.1} s)",
        cohort.truth.len(),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A cohort for the image-only commands (preprocess, radiomics, predict): in a HECKTOR folder
/// every complete CT/PET pair, with or without an endpoint (new patients have none).
fn open_images(path: &Path) -> Result<Cohort> {
    open(path, |p| Cohort::hecktor_images(p))
}

/// A training cohort: in a HECKTOR folder, the patients with images and an endpoint.
fn open_cohort(path: &Path) -> Result<Cohort> {
    open(path, |p| Cohort::hecktor(p))
}

/// A manifest `.csv`, or a HECKTOR folder joined by `hecktor` (its report printed).
fn open(
    path: &Path,
    hecktor: fn(&Path) -> adamss::io::Result<(Cohort, adamss::io::JoinReport)>,
) -> Result<Cohort> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        Ok(Cohort::manifest(path)?)
    } else {
        let (cohort, report) = hecktor(path)?;
        println!("{report}");
        Ok(cohort)
    }
}

fn demo(
    dir: &Path,
    preset: Preset,
    seed: u64,
    replicates: u64,
    threads: usize,
    pin: IsaPin,
) -> Result<()> {
    println!(
        "AdaMSS demo: {}; {}",
        adamss::model::DeviceInfo::probe(),
        pin.describe()
    );
    let root = dir.join("cohort");
    let mut synth = preset_config(preset, seed);
    match preset {
        Preset::Default => synth.patients = DEMO_PATIENTS,
        Preset::Tiny => synth.patients = 16,
        Preset::Paper => {}
    }
    synthesise(&root, &synth)?;
    let cohort = open_cohort(&root)?;
    let truth = synthetic::read_truth(&root)?;
    let mut config = match preset {
        Preset::Tiny => adamss::train::ExperimentConfig::tiny(),
        _ => adamss::train::ExperimentConfig::cpu_small(),
    };
    config.seed = seed;
    config.runtime.torch_threads = threads;
    let methods = &adamss::train::Method::MAIN;
    let main_dir = dir.join(&config.name);
    let cache = main_dir.join("preprocessed");
    let run = |out: &Path, config: &adamss::train::ExperimentConfig| {
        train(
            out,
            &cache,
            &cohort,
            config,
            methods,
            None,
            Some(&truth),
            pin,
        )
    };
    let mut outcomes = vec![run(&main_dir, &config)?];
    for r in 1..replicates {
        config.replicate = r;
        println!("\nreplicate {r} of {replicates}: the networks' randomness redrawn, same folds");
        outcomes.push(run(
            &dir.join(format!("{}-replicate-{r}", config.name)),
            &config,
        )?);
    }
    if replicates > 1 {
        let table = adamss::train::report::replicates_table(&outcomes, methods)?;
        let path = main_dir.join("replicates.md");
        io::write_atomic(&path, table.as_bytes())?;
        println!(
            "\nC-index over {replicates} replicates of the networks' training (same folds; the \
             first is the table above):\n\n{table}\nwritten to {}",
            path.display()
        );
    }
    Ok(())
}

/// The experiment of `--config FILE`, else of `--preset NAME`.
fn experiment(config: Option<&Path>, preset: &str) -> Result<adamss::train::ExperimentConfig> {
    Ok(match config {
        Some(path) => adamss::train::ExperimentConfig::from_toml_file(path)?,
        None => adamss::train::ExperimentConfig::preset(preset)?,
    })
}

/// The patients of `cohort` in the slice `shard` (`i/n`), or all of them.
fn sharded(cohort: Cohort, shard: Option<&str>) -> Result<Cohort> {
    let Some(text) = shard else {
        return Ok(cohort);
    };
    let shard = adamss::train::infer::Shard::parse(text)?;
    let records: Vec<_> = cohort
        .records()
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.contains(*i))
        .map(|(_, r)| r.clone())
        .collect();
    Ok(Cohort::from_records(records)?.with_options(cohort.options().clone()))
}

/// `adamss evaluate`: risks against endpoints.
fn evaluate(risks: &Path, cohort: &Cohort, out: &Path) -> Result<()> {
    use adamss::train::report::{evaluate_risks, read_risks};
    let joined = read_risks(risks, cohort)?;
    if !joined.missing.is_empty() {
        println!(
            "{} patients without an endpoint in the cohort are left out: {}",
            joined.missing.len(),
            joined.missing.join(", ")
        );
    }
    println!("{}", evaluate_risks(&joined.rows, out)?);
    Ok(())
}

/// Patients of the demo's synthetic cohort.
const DEMO_PATIENTS: usize = 150;

/// libtorch CPU threads of the demo: the machine size README's table was made on.
const DEMO_THREADS: usize = 2;

/// Runs `adamss train` (the library's `Experiment::run`) and prints what it did.
#[allow(clippy::too_many_arguments)]
fn train(
    out: &Path,
    cache: &Path,
    cohort: &Cohort,
    config: &adamss::train::ExperimentConfig,
    methods: &[adamss::train::Method],
    fold: Option<usize>,
    truth: Option<&[synthetic::TruthRow]>,
    pin: IsaPin,
) -> Result<adamss::train::CvOutcome> {
    let t0 = Instant::now();
    let experiment = adamss::train::Experiment {
        only_fold: fold,
        cache: Some(cache.to_path_buf()),
        true_risk: truth.map(|t| {
            t.iter()
                .map(|r| (r.patient_id.clone(), r.true_risk))
                .collect()
        }),
        ..adamss::train::Experiment::new(config.clone(), methods)
    };
    let bar = ProgressBar::new(cohort.len() as u64).with_style(
        ProgressStyle::with_template("preprocess {bar:30} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let observer = BarObserver {
        bar: Default::default(),
        preprocess: Some(bar.clone()),
        started: t0,
        config,
        methods,
    };
    let run = adamss::train::RunDir::new(out);
    let trained = experiment.run(cohort, &run, &observer, &|done, _| {
        bar.set_position(done as u64)
    })?;
    println!(
        "\n{}-fold cross-validation of {} patients ({:.0} s; {}, {} libtorch CPU threads):\n\n{}",
        config.cv.folds,
        trained.cases.len(),
        t0.elapsed().as_secs_f64(),
        pin.describe(),
        adamss::model::tch::get_num_threads(),
        trained.table
    );
    if let Some(gaps) = &trained.gaps {
        println!("Gaps in C-index, paired by test fold (mean ± sd over folds):\n\n{gaps}");
    }
    // "–" where no test patient has that label (a mean of nothing).
    let mean = |c: usize| {
        let v: Vec<f64> = trained.masks.iter().filter_map(|m| m.dice[c]).collect();
        match v.len() {
            0 => "–".to_string(),
            n => format!("{:.3} (mean of {n})", v.iter().sum::<f64>() / n as f64),
        }
    };
    // Methods without Stage I (the LASSO rows alone) export nothing.
    if !trained.masks.is_empty() {
        println!(
            "Stage-I masks of {} test patients written on their original CT grids to {}; \
             Dice with the labels there: GTVp {}, GTVn {}",
            trained.masks.len(),
            out.join("masks").display(),
            mean(0),
            mean(1)
        );
    }
    println!(
        "files: {} (report, Kaplan–Meier figures km-*.svg beside it), {} (config), {}, {}, {}",
        trained.report.display(),
        run.config_path().display(),
        out.join("comparison.md").display(),
        out.join("predictions.csv").display(),
        run.outcome_path().display()
    );
    Ok(trained.outcome)
}

/// Progress bars for preprocessing and training stages, and the cohort summary.
struct BarObserver<'a> {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    preprocess: Option<ProgressBar>,
    started: Instant,
    config: &'a adamss::train::ExperimentConfig,
    methods: &'a [adamss::train::Method],
}

impl adamss::train::Observer for BarObserver<'_> {
    fn prepared(
        &self,
        cases: &[adamss::train::PreparedCase],
        dropped: &adamss::train::data::Dropped,
    ) {
        if let Some(bar) = &self.preprocess {
            bar.finish_and_clear();
        }
        let config = self.config;
        let events = cases.iter().filter(|c| c.survival.event()).count();
        println!(
            "{} patients ({events} events) on {:?} voxels of {:.2} mm in {:.1} s; {} left out{}",
            cases.len(),
            config.preprocess.crop_size,
            config.preprocess.spacing_mm,
            self.started.elapsed().as_secs_f64(),
            dropped.cases.len(),
            if dropped.cases.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    dropped
                        .cases
                        .iter()
                        .map(|(id, why)| format!("{id}: {why}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        // The device the run opens (an error there is reported by the run itself).
        let device = adamss::train::open_device(&config.runtime)
            .map_or_else(|_| config.runtime.device.clone(), |d| format!("{d:?}"));
        println!(
            "training on {device}: {}-fold cross-validation, methods: {}",
            config.cv.folds,
            self.methods
                .iter()
                .map(|m| m.key())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    fn event(&self, event: &adamss::train::Event<'_>) -> bool {
        use adamss::train::Event;
        let mut guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Start {
                stage,
                total_steps,
                resumed_at,
                steps_per_epoch,
            } => {
                let bar = ProgressBar::new(*total_steps as u64).with_style(
                    ProgressStyle::with_template(
                        "{prefix:<28} [{bar:25}] {pos}/{len} {per_sec} eta {eta} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(stage.to_string());
                bar.set_position((resumed_at * steps_per_epoch) as u64);
                *guard = Some(bar);
            }
            Event::Step { loss, .. } => {
                if let Some(b) = guard.as_ref() {
                    b.inc(1);
                    b.set_message(format!("loss {loss:.4}"));
                }
            }
            Event::Epoch { .. } => {}
            Event::Done { stage, state } => {
                if let Some(b) = guard.take() {
                    b.finish_and_clear();
                }
                let best = state.best.map_or("–".to_string(), |(e, m)| {
                    format!("{m:.3} at epoch {}", e + 1)
                });
                let secs: f64 = state.history.iter().map(|r| r.seconds).sum();
                // Where the time went (absent from runs recorded before timing was kept).
                let sum = |f: fn(&adamss::train::stage::EpochTiming) -> f64| -> f64 {
                    state.history.iter().map(|r| f(&r.timing)).sum()
                };
                let steps = sum(|t| t.steps);
                let split = if steps > 0.0 {
                    let median = adamss::train::experiment::median(
                        &state
                            .history
                            .iter()
                            .map(|r| r.timing.median_step)
                            .collect::<Vec<_>>(),
                    );
                    format!(
                        ": steps {steps:.1} s at {median:.3} s median, waiting for samples \
                         {:.1} s, validation {:.1} s",
                        sum(|t| t.data_wait),
                        sum(|t| t.validation)
                    )
                } else {
                    String::new()
                };
                println!(
                    "  {stage:<28} {} epochs, best validation {best} ({secs:.0} s{split})",
                    state.epochs_done
                );
            }
        }
        true
    }
}

/// Preprocesses every patient onto its crop (cached under `<dir>/preprocessed`) and reports
/// how many tumours the label-free crops hold.
fn preprocess_stage(
    dir: &Path,
    cohort: &Cohort,
    config: &adamss::preprocess::PreprocessConfig,
) -> Result<()> {
    use adamss::preprocess::{CacheOutcome, CoverageSummary, CropCentre, PreprocessCache};
    let cache = PreprocessCache::open(dir.join("preprocessed"), config)?;
    let bar = ProgressBar::new(cohort.len() as u64).with_style(
        ProgressStyle::with_template("preprocess {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut hits, mut coverages, mut failures) = (0, Vec::new(), Vec::new());
    for record in cohort.records() {
        bar.set_message(record.id.clone());
        match cache.get(record, cohort.options(), CropCentre::Auto) {
            Ok((p, outcome)) => {
                hits += usize::from(outcome == CacheOutcome::Hit);
                coverages.push((record.id.clone(), p.coverage));
            }
            Err(e) => failures.push(format!("{}: {e}", record.id)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary = CoverageSummary::from_cases(coverages.iter().map(|(id, c)| (id.as_str(), *c)));
    println!(
        "\npreprocessed {} patients onto {:?} crops at {:.2} mm ({hits} from the cache in {}); {summary}",
        coverages.len(),
        config.crop_size,
        config.spacing_mm,
        cache.dir().display()
    );
    for f in failures {
        println!("  failed: {f}");
    }
    Ok(())
}

/// PyRadiomics-compatible features of the primary tumour (GTVp) on CT and PET (resampled onto
/// the CT grid), original image, written to `path`.
fn radiomics_stage(path: &Path, cohort: &Cohort, params: Option<&Path>) -> Result<()> {
    let plan = params
        .map(adamss::radiomics::ExtractionPlan::from_file)
        .transpose()
        .context("reading the parameter file")?;
    let t0 = Instant::now();
    let table = adamss::train::data::cohort_radiomics(cohort, plan.as_ref());
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    table.write_csv(path)?;
    println!(
        "radiomics: {} patients × {} features (GTVp, PET + CT, {}) in {:.2} s → {}",
        table.rows.len(),
        table.names.len(),
        params.map_or("original image".to_string(), |p| p.display().to_string()),
        t0.elapsed().as_secs_f64(),
        path.display()
    );
    for (id, e) in &table.failures {
        println!("  {id}: {e}");
    }
    Ok(())
}

/// Loads every case and prints one row each, plus cohort-level figures.
fn summarise(cohort: &Cohort, truth: Option<&[synthetic::TruthRow]>) {
    println!(
        "\n{:<10} {:>13} {:>16} {:>13} {:>16} {:>8} {:>8} {:>7} {:>6} {:>5} {:>9}",
        "patient",
        "CT shape",
        "CT spacing mm",
        "PET shape",
        "PET spacing mm",
        "GTVp ml",
        "GTVn ml",
        "SUVmax",
        "RFS d",
        "event",
        "true risk"
    );
    let (mut events, mut loaded, mut failed) = (0, 0, 0);
    for i in 0..cohort.len() {
        let record = &cohort.records()[i];
        let case = match cohort.get(i) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                println!("{:<10} error: {e}", record.id);
                continue;
            }
        };
        loaded += 1;
        let fmt3 = |v: [usize; 3]| format!("{}×{}×{}", v[0], v[1], v[2]);
        let fmts = |v: [f64; 3]| format!("{:.2}×{:.2}×{:.2}", v[0], v[1], v[2]);
        let (mut gtvp, mut gtvn) = (0.0, 0.0);
        if let Some(mask) = &case.mask {
            let ml = mask.geometry().spacing.iter().product::<f64>() / 1000.0;
            gtvp = mask.data().iter().filter(|&&l| l == 1).count() as f64 * ml;
            gtvn = mask.data().iter().filter(|&&l| l == 2).count() as f64 * ml;
        }
        let suv_max = case.pet.data().iter().copied().fold(f32::MIN, f32::max);
        let (time, event) = case
            .survival
            .map_or((f64::NAN, false), |s| (s.time, s.event));
        events += usize::from(event);
        let risk = truth
            .and_then(|t| t.iter().find(|r| r.patient_id == case.id))
            .map_or("-".to_string(), |r| format!("{:+.2}", r.true_risk));
        println!(
            "{:<10} {:>13} {:>16} {:>13} {:>16} {:>8.1} {:>8.1} {:>7.1} {:>6.0} {:>5} {:>9}",
            case.id,
            fmt3(case.ct.shape()),
            fmts(case.ct.geometry().spacing),
            fmt3(case.pet.shape()),
            fmts(case.pet.geometry().spacing),
            gtvp,
            gtvn,
            suv_max,
            time,
            if event { "yes" } else { "no" },
            risk
        );
    }
    println!(
        "\n{loaded} cases loaded, {failed} failed; {events} events ({:.0} %)",
        100.0 * events as f64 / loaded.max(1) as f64
    );
}

fn inspect(file: &Path) -> Result<()> {
    let info = io::read_header(file)?;
    println!("file:      {}", file.display());
    println!("shape:     {:?}", info.shape);
    println!("datatype:  {} ({})", info.datatype_name, info.datatype);
    println!("transform: {:?}", info.transform);
    println!("spacing:   {:?}", info.geometry.spacing);
    println!("origin:    {:?}", info.geometry.origin);
    println!("direction: {:?}", info.geometry.direction);
    println!(
        "scaling:   slope {} inter {}",
        info.scl_slope, info.scl_inter
    );
    println!(
        "byteorder: {}",
        if info.big_endian { "big" } else { "little" }
    );
    Ok(())
}
