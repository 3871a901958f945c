//! `adamss`: the command line of the AdaMSS toolkit.
//!
//! ```text
//! adamss demo                     the main job on the embedded synthetic cohort
//! adamss train --cohort PATH      cross-validated training and comparison of the methods
//! adamss synth --out DIR          generate a synthetic PET/CT cohort (HECKTOR layout)
//! adamss cohort PATH              summarise a HECKTOR folder or a manifest CSV
//! adamss inspect FILE.nii[.gz]    print a NIfTI header as this toolkit reads it
//! adamss device [--json]          what the linked libtorch can run on
//! adamss bench-step               time one AdaMSS training step (CPU or CUDA)
//! adamss check-twin               compare the network with its PyTorch twin's reference files
//! ```
//!
//! The work is the library's (`adamss::train::Experiment`, `Predictor`, `Bundle`, …): a
//! command parses its arguments (`args.rs`), calls it, shows progress (`progress.rs`) and
//! prints what was done.

use std::path::Path;
use std::time::Instant;

use adamss::io::{self, synthetic, Cohort, CohortSummary, Dataset, Surv, SyntheticConfig};
use adamss::model::cpu::{CpuIsa, IsaPin};
use adamss::preprocess::PreprocessCache;
use adamss::train::{
    self, config::RuntimeConfig, Bundle, ExperimentConfig, Method, Predictor, RunDir,
};
use anyhow::{Context, Result};
use clap::Parser;

mod args;
mod progress;

use args::*;
use progress::{bar, print_warnings, BarObserver};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and the causes under it, as anyhow prints them, less each cause the message above
/// it already quotes (`adamss-io`'s errors say `path: reason` and keep the reason as their
/// source, which printed it twice).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    let mut above = text.clone();
    let mut causes = Vec::new();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !above.contains(&c) {
            causes.push(c.clone());
        }
        above = c;
    }
    match causes.as_slice() {
        [] => {}
        [one] => text.push_str(&format!("\n\nCaused by:\n    {one}")),
        many => {
            text.push_str("\n\nCaused by:");
            for (i, c) in many.iter().enumerate() {
                text.push_str(&format!("\n    {i}: {c}"));
            }
        }
    }
    text
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    print_warnings();
    // Before anything else runs: the numerical libraries read their CPU level at load time.
    let isa = CpuIsa::from_env(CpuIsa::Avx2).map_err(anyhow::Error::msg)?;
    let pin = adamss::model::cpu::pin_isa(isa)?;
    adamss::model::cpu::tune_allocator();
    match cli.command {
        Command::Demo(a) => demo(&a, pin),
        Command::Train(a) => train_command(a, pin),
        Command::Synth(a) => {
            let mut config = preset_config(a.preset, a.seed);
            config.patients = a.patients.unwrap_or(config.patients);
            config.regime = a.regime.into();
            config.scanners = a.scanners.into();
            synthesise(&a.out, &config)
        }
        Command::Preprocess(a) => {
            let config = experiment(a.config.as_deref(), &a.preset)?;
            let cohort = sharded(printed(Cohort::open_images(&a.cohort)?), a.shard.as_deref())?;
            let cache = PreprocessCache::open(a.out.join("preprocessed"), &config.preprocess)?;
            let bar = bar("preprocess {bar:30} {pos}/{len} {elapsed}", cohort.len());
            let report = cache.fill(&cohort, &|done, _| bar.set_position(done as u64));
            bar.finish_and_clear();
            println!("\n{report}");
            Ok(())
        }
        Command::Predict(a) => predict(a),
        Command::Export(a) => {
            let method = Method::from_key(&a.method)?;
            let bundle = Bundle::from_run(&RunDir::new(&a.run), a.fold, method)?.write(&a.out)?;
            println!("{bundle} → {}", a.out.display());
            Ok(())
        }
        Command::Evaluate(a) => {
            use train::report::{evaluate_joined, read_method_risks, read_risks};
            let risks = match (&a.risks, &a.masks) {
                (Some(r), _) => r,
                (None, Some(masks)) => {
                    // Every labelled patient, with or without an endpoint.
                    let cohort = printed(Cohort::open_images(&a.cohort)?);
                    return evaluate_masks(masks, &cohort, &a.out);
                }
                (None, None) => anyhow::bail!("give --risks or --masks"),
            };
            let cohort = printed(Cohort::open(&a.cohort)?);
            let joined = match &a.method {
                Some(m) => read_method_risks(risks, &cohort, m)?,
                None => read_risks(risks, &cohort)?,
            };
            match joined.missing.len() {
                0 => {}
                1 => println!(
                    "1 patient without an endpoint in the cohort is left out: {}",
                    joined.missing[0]
                ),
                n => println!(
                    "{n} patients without an endpoint in the cohort are left out: {}",
                    joined.missing.join(", ")
                ),
            }
            // One method's rows of a cross-validation: each test fold beside the pooled C.
            let table = evaluate_joined(&joined, &a.out).with_context(|| {
                format!(
                    "{}: patients with an endpoint: {}, events: {}",
                    risks.display(),
                    joined.rows.len(),
                    joined.rows.iter().filter(|r| r.4).count()
                )
            })?;
            println!("{table}");
            Ok(())
        }
        Command::Merge(a) => {
            let rows = train::infer::merge_csv(&a.parts, &a.out)?;
            println!(
                "{rows} rows from {} files → {}",
                a.parts.len(),
                a.out.display()
            );
            Ok(())
        }
        Command::Radiomics(a) => radiomics(a),
        Command::Cohort(a) => {
            println!(
                "\n{}",
                CohortSummary::of(&printed(Cohort::open(&a.path)?), None)
            );
            Ok(())
        }
        Command::Inspect(a) => {
            if io::dicom::is_structure_set(&a.file) {
                let set = io::dicom::read_structure_set(&a.file, &io::ReadOptions::default())?;
                println!("file:      {}\n{set}", a.file.display());
                return Ok(());
            }
            if io::dicom::is_segmentation(&a.file) {
                let seg = io::dicom::read_segmentation(&a.file, &io::ReadOptions::default())?;
                println!("file:      {}\n{seg}", a.file.display());
                return Ok(());
            }
            println!(
                "file:      {}\n{}",
                a.file.display(),
                io::read_header(&a.file)?
            );
            // A PET series: its SUV factors, or why there are none.
            if a.file.is_dir() && io::list_series(&a.file)?.iter().any(|s| s.modality == "PT") {
                match io::dicom::suv_conversion(&a.file, None, io::SuvNormalization::BodyWeight) {
                    Ok(c) => println!("{c}"),
                    Err(e) => println!("SUV:       not computable: {e}"),
                }
            }
            Ok(())
        }
        Command::Rtstruct(a) => {
            let set = io::dicom::read_structure_set(&a.file, &io::ReadOptions::default())?;
            let info = io::read_header(&a.image)?;
            let picks = a
                .roi
                .iter()
                .enumerate()
                .map(|(n, pick)| match pick.rsplit_once('=') {
                    Some((name, label)) => label.parse::<u8>().map(|l| (name, l)).map_err(|_| {
                        anyhow::anyhow!("--roi {pick}: the label after = must be 1 to 255")
                    }),
                    None => u8::try_from(n + 1)
                        .map(|l| (pick.as_str(), l))
                        .map_err(|_| anyhow::anyhow!("more than 255 ROIs")),
                })
                .collect::<Result<Vec<_>>>()?;
            let labels = set.labels_named(&picks, &info.geometry, info.shape)?;
            labels.write(&a.out)?;
            for (name, label) in &picks {
                let voxels = labels.data().iter().filter(|&&v| v == *label).count();
                println!("{label}: ROI {name:?}, {voxels} voxels");
            }
            println!("wrote {}", a.out.display());
            Ok(())
        }
        Command::Suv(a) => {
            let series = a.series.as_deref();
            let (volume, conversion): (io::Volume<f32>, _) = io::dicom::read_suv_with_conversion(
                &a.dir,
                series,
                a.normalization,
                &io::ReadOptions::default(),
            )?;
            volume.write(&a.out)?;
            println!("{conversion}\nwrote {}", a.out.display());
            Ok(())
        }
        Command::Device(a) => {
            let info = adamss::model::DeviceInfo::probe();
            if a.json {
                let mut value = serde_json::to_value(&info)?;
                value["cpu"] = pin.describe().into();
                println!("{value}");
            } else {
                println!("{info}; {}", pin.describe());
            }
            Ok(())
        }
        Command::BenchStep(a) => bench_step(a),
        Command::CheckTwin(a) => {
            let device = train::parse_device(&a.device)?;
            let failed = adamss::model::twin::check_all(&a.dir, device, &mut |r| {
                println!("{}", serde_json::to_string(r).unwrap_or_default())
            })?;
            anyhow::ensure!(failed.is_empty(), "twin check failed for {failed:?}");
            println!("twin check passed (float64: outputs ≤ 1e-5, gradients ≤ 1e-4)");
            Ok(())
        }
    }
}

fn train_command(a: TrainArgs, pin: IsaPin) -> Result<()> {
    let mut config = experiment(a.config.as_deref(), &a.preset)?;
    let folds = a.fold.map_or(0..config.cv.folds, |f| f..f + 1);
    let existing = train::existing_folds(&a.out, folds);
    if !a.resume && !existing.is_empty() {
        anyhow::bail!(
            "{} already holds fold(s) {existing:?} of a run; pass --resume to continue it \
             (finished stages are reloaded), or choose another --out",
            a.out.display()
        );
    }
    config.runtime.device = a.device.unwrap_or(config.runtime.device);
    let methods = (a.methods.iter().map(|m| Method::from_key(m))).collect::<Result<Vec<_>, _>>()?;
    let (cohort, report) = Cohort::open(&a.cohort)?;
    if let Some(report) = report {
        println!("{report}");
        train::data::check_join(&report)?;
    }
    let cache = a.out.join("preprocessed");
    run_training(
        &a.out, &cache, &cohort, &config, &methods, a.fold, None, pin,
    )
    .map(|_| ())
}

/// `adamss evaluate --masks`: each labelled patient's mask against its labels.
fn evaluate_masks(masks: &Path, cohort: &Cohort, out: &Path) -> Result<()> {
    use train::segeval::{evaluate_masks, STRUCTURES};
    let eval = evaluate_masks(masks, cohort)?;
    let csv = out.join("segmentation.csv");
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    eval.write_csv(&csv)?;
    println!("{} masks scored → {}", eval.scores.len(), csv.display());
    for (c, (_, name)) in STRUCTURES.iter().enumerate() {
        let Some(agg) = eval.aggregate_dice(c) else {
            println!("{}: in no mask and no label", name.to_uppercase());
            continue;
        };
        let (mean, n) = eval.mean_dice(c).unwrap_or((f64::NAN, 0));
        let hd = eval.median_hd95(c).map_or(String::new(), |(h, _)| {
            if h.is_finite() {
                format!(", median HD95 {h:.2} mm")
            } else {
                ", median HD95 ∞ (half the patients or more have it in only one of mask and labels)"
                    .into()
            }
        });
        println!(
            "{}: aggregated Dice {agg:.3}, mean Dice {mean:.3} over {n} patients{hd}",
            name.to_uppercase()
        );
    }
    for (id, e) in &eval.failures {
        println!("failed: {id}: {e}");
    }
    anyhow::ensure!(
        eval.failures.is_empty(),
        "{} of {} labelled patients could not be scored (listed above); the others are in {}",
        eval.failures.len(),
        eval.failures.len() + eval.scores.len(),
        csv.display()
    );
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    use train::infer::{predict_with, risks_file_name, Shard};
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let (bundle, mut runtime) = match (&a.model, &a.run) {
        (Some(model), _) => (
            Bundle::open(model)?,
            RuntimeConfig {
                device: "auto".into(),
                ..Default::default()
            },
        ),
        (None, Some(run)) => {
            let run = RunDir::new(run);
            let method = Method::from_key(&a.method)?;
            (
                Bundle::from_run(&run, a.fold, method)?,
                run.read_config()?.runtime,
            )
        }
        (None, None) => anyhow::bail!("give --run or --model"),
    };
    runtime.device = a.device.unwrap_or(runtime.device);
    let device = train::open_device(&runtime)?;
    let predictor = Predictor::new(&bundle, device)?.with_maps(a.maps);
    let cohort = printed(Cohort::open_images(&a.cohort)?);
    let bar = bar("preprocess {bar:30} {pos}/{len} {elapsed}", cohort.len());
    let report = predict_with(&predictor, &cohort, shard, &a.out, &|d, n| {
        bar.set_length(n as u64);
        bar.set_position(d as u64);
    })?;
    bar.finish_and_clear();
    let preds = &report.predictions;
    let dice = train::export::mean_dice(preds.iter().map(|p| &p.mask), 0);
    println!(
        "{} patients → {} and {} ({} of fold {} on {device:?}){}",
        preds.len(),
        a.out.join(risks_file_name(shard)).display(),
        a.out.join("masks").display(),
        bundle.manifest.method.key(),
        bundle.manifest.fold,
        dice.map_or(String::new(), |(d, n)| format!(
            "; GTVp Dice with the labels on the CT grid: {d:.3} (mean of {n})"
        ))
    );
    // Bad patients do not stop the others; they are listed, and the exit status says so.
    for (id, e) in &report.failures {
        println!("failed: {id}: {e}");
    }
    anyhow::ensure!(
        report.failures.is_empty(),
        "{} of {} patients could not be scored (listed above); the others' risks are in {}",
        report.failures.len(),
        report.failures.len() + preds.len(),
        a.out.join(risks_file_name(shard)).display()
    );
    Ok(())
}

fn radiomics(a: RadiomicsArgs) -> Result<()> {
    use adamss::radiomics::{ExtractionPlan, FeatureTable};
    let plan = (a.params.as_deref().map(ExtractionPlan::from_file))
        .transpose()
        .context("reading the parameter file")?;
    let t0 = Instant::now();
    if let Some(batch) = &a.batch {
        return radiomics_batch(batch, plan.unwrap_or_default(), &a, t0);
    }
    let (table, rows, what) = match (&a.cohort, &a.image, &a.mask) {
        (Some(cohort), _, _) => {
            let cohort = sharded(printed(Cohort::open_images(cohort)?), a.shard.as_deref())?;
            let table = train::data::cohort_radiomics(&cohort, plan.as_ref());
            let rows = format!("{} patients", table.rows.len());
            (table, rows, "GTVp, PET + CT, ")
        }
        (None, Some(image), Some(mask)) => {
            let mut plan = plan.unwrap_or_default();
            if let Some(label) = a.label {
                plan = plan.with_label(label);
            }
            if let Some(dir) = &a.maps {
                return radiomics_maps(&plan, image, mask, dir, t0);
            }
            let name = image
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let id = name
                .trim_end_matches(".gz")
                .trim_end_matches(".nii")
                .trim_end_matches(".nrrd")
                .to_string();
            let features = plan.run_files(image, mask).with_context(|| {
                format!("radiomics of {} in {}", image.display(), mask.display())
            })?;
            let table = FeatureTable::from_results(vec![(id, Ok(features))]);
            // PyRadiomics' diagnostics_* entries, beside the CSV (unless additionalInfo is
            // false).
            if plan.additional_info {
                let diagnostics = plan.diagnostics_files(image, mask)?;
                let path = a.out.with_extension("diagnostics.json");
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                io::write_atomic(
                    &path,
                    serde_json::to_string_pretty(&diagnostics.to_json())?.as_bytes(),
                )?;
            }
            (table, image.display().to_string(), "")
        }
        _ => anyhow::bail!("give --cohort, or --image and --mask"),
    };
    table.write_csv(&a.out)?;
    println!(
        "radiomics: {rows} × {} features ({what}{}) in {:.2} s → {}",
        table.names.len(),
        a.params
            .map_or("original image".to_string(), |p| p.display().to_string()),
        t0.elapsed().as_secs_f64(),
        a.out.display()
    );
    for (id, e) in &table.failures {
        println!("  {id}: {e}");
    }
    Ok(())
}

/// `adamss radiomics --image --mask --maps DIR`: voxel-based extraction, one NIfTI per map.
fn radiomics_maps(
    plan: &adamss::radiomics::ExtractionPlan,
    image: &std::path::Path,
    mask: &std::path::Path,
    dir: &std::path::Path,
    t0: Instant,
) -> Result<()> {
    let maps = plan.run_voxel_based_files(image, mask).with_context(|| {
        format!(
            "voxel-based radiomics of {} in {}",
            image.display(),
            mask.display()
        )
    })?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, map) in &maps.maps {
        let path = dir.join(format!("{name}.nii.gz"));
        map.write(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let shape = maps.maps.first().map(|(_, m)| m.shape());
    println!(
        "radiomics: {} feature maps ({}; kernel radius {}, {} kernel) of {:?} voxels in {:.2} s → {}",
        maps.maps.len(),
        image.display(),
        plan.voxel.kernel_radius,
        if plan.voxel.masked_kernel { "masked" } else { "unmasked" },
        shape.unwrap_or_default(),
        t0.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}

/// `adamss radiomics --batch`: PyRadiomics' batch mode.
fn radiomics_batch(
    path: &std::path::Path,
    plan: adamss::radiomics::ExtractionPlan,
    a: &RadiomicsArgs,
    t0: Instant,
) -> Result<()> {
    let batch = adamss::radiomics::Batch::read(path)?;
    let (failures, features, what) = match &a.maps {
        None => {
            let results = batch.run(&plan);
            let features =
                (results.iter().find_map(|r| r.as_ref().ok())).map_or(0, |o| o.features.len());
            (batch.write_csv(&results, &a.out)?, features, "features")
        }
        Some(dir) => {
            let results = batch.run_voxel_based(&plan, dir)?;
            let maps = (results.iter().find_map(|r| r.as_ref().ok())).map_or(0, |o| o.maps.len());
            (
                batch.write_maps_csv(&results, &a.out)?,
                maps,
                "feature maps",
            )
        }
    };
    println!(
        "radiomics: {} of {} cases × {features} {what} ({}) in {:.2} s → {}",
        batch.cases.len() - failures.len(),
        batch.cases.len(),
        a.params
            .as_ref()
            .map_or("original image".to_string(), |p| p.display().to_string()),
        t0.elapsed().as_secs_f64(),
        a.out.display()
    );
    for (line, why) in &failures {
        println!("failed: {} line {line}: {why}", path.display());
    }
    anyhow::ensure!(
        failures.is_empty(),
        "{} of {} cases could not be extracted (listed above; their rows have no features)",
        failures.len(),
        batch.cases.len()
    );
    Ok(())
}

fn bench_step(a: BenchStepArgs) -> Result<()> {
    use adamss::model::{timing, Precision};
    let device = train::parse_device(&a.device)?;
    let spec = timing::BenchSpec {
        size: a.size,
        batch: a.batch,
        width: a.width,
        warmup: a.warmup,
        iters: a.iters,
        cudnn_benchmark: a.cudnn_benchmark,
    };
    let mut rows = Vec::new();
    for p in a.precision {
        let p = match p {
            BenchPrecision::Fp32 => Precision::F32,
            BenchPrecision::Bf16 => Precision::Bf16,
        };
        let row = timing::BenchRow::measure(&a.device, device, p, &spec)
            .with_context(|| format!("timing the {p:?} training step"))?;
        println!("{}", serde_json::to_string(&row)?);
        rows.push(row);
    }
    if let Some(path) = a.json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows)?)
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
    let bar = bar(
        "generating {pos}/{len} patients [{bar:30}] {elapsed}",
        config.patients,
    );
    let start = Instant::now();
    let made = synthetic::ensure(out, config, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    match made {
        None => println!("cohort: reusing {} (same configuration)", out.display()),
        Some(c) => println!(
            "cohort: generated {} patients in {} ({:.1} s)",
            c.truth.len(),
            out.display(),
            start.elapsed().as_secs_f64()
        ),
    }
    Ok(())
}

/// The cohort of `Cohort::open` or `open_images`, its join report printed.
fn printed((cohort, report): (Cohort, Option<io::JoinReport>)) -> Cohort {
    if let Some(report) = report {
        println!("{report}");
    }
    cohort
}

/// The experiment of `--config FILE`, else of `--preset NAME`.
fn experiment(config: Option<&Path>, preset: &str) -> Result<ExperimentConfig> {
    Ok(match config {
        Some(path) => ExperimentConfig::from_toml_file(path)?,
        None => ExperimentConfig::preset(preset)?,
    })
}

/// The patients of `cohort` in the slice `shard` (`i/n`), or all of them.
fn sharded(cohort: Cohort, shard: Option<&str>) -> Result<Cohort> {
    Ok(match shard {
        Some(text) => train::infer::Shard::parse(text)?.select(&cohort),
        None => cohort,
    })
}

fn demo(a: &DemoArgs, pin: IsaPin) -> Result<()> {
    use synthetic::Regime;
    println!(
        "AdaMSS demo: {}; {}",
        adamss::model::DeviceInfo::probe(),
        pin.describe()
    );
    let regimes: &[Regime] = match a.regime {
        DemoRegime::LabelsOnly => &[Regime::LabelsOnly],
        DemoRegime::BeyondLabels => &[Regime::BeyondLabels],
        DemoRegime::Both => &[Regime::LabelsOnly, Regime::BeyondLabels],
    };
    let mut runs = Vec::new();
    for &regime in regimes {
        if regimes.len() > 1 {
            println!("\n== regime {} ==", regime.name());
        }
        runs.push((regime.name(), demo_regime(a, pin, regime)?));
    }
    if runs.len() > 1 {
        let named: Vec<train::report::RegimeRun> = runs
            .iter()
            .map(|(name, (outcome, survival))| train::report::RegimeRun {
                name,
                outcome,
                survival,
            })
            .collect();
        let table = train::report::regimes_table(&named, &Method::MAIN, a.seed);
        let path = a.dir.join(format!("regimes{}.md", demo_suffix(a)));
        io::write_atomic(&path, table.as_bytes())?;
        println!(
            "\nBoth regimes (each run's report.md has its incremental-value table):\n\n{table}\nwritten to {}",
            path.display()
        );
    }
    Ok(())
}

/// The folder and file suffix of the demo's cohort variant beyond its regime: `-varied` for
/// varied scanners, `-<N>-patients` for a `--patients` other than the preset's.
fn demo_suffix(a: &DemoArgs) -> String {
    let mut suffix = String::new();
    let scanners: synthetic::Scanners = a.scanners.into();
    if scanners != synthetic::Scanners::Uniform {
        suffix += &format!("-{}", scanners.name());
    }
    if let Some(n) = a
        .patients
        .filter(|&n| n as usize != demo_patients(a.preset))
    {
        suffix += &format!("-{n}-patients");
    }
    suffix
}

/// How many patients the demo synthesises for `preset` without `--patients`.
fn demo_patients(preset: Preset) -> usize {
    match preset {
        Preset::Default => DEMO_PATIENTS,
        Preset::Tiny => 16,
        Preset::Paper => preset_config(preset, 0).patients,
    }
}

/// The main job on one regime's cohort; returns the seed-0 outcome.
fn demo_regime(
    a: &DemoArgs,
    pin: IsaPin,
    regime: synthetic::Regime,
) -> Result<(train::CvOutcome, Vec<Surv>)> {
    let (dir, preset, seed, replicates) = (&a.dir, a.preset, a.seed, a.replicates);
    let scanners: synthetic::Scanners = a.scanners.into();
    let mut suffix = match regime {
        synthetic::Regime::LabelsOnly => String::new(),
        other => format!("-{}", other.name()),
    };
    suffix += &demo_suffix(a);
    let mut synth = preset_config(preset, seed);
    synth.regime = regime;
    synth.scanners = scanners;
    synth.patients = a.patients.map_or(demo_patients(preset), |n| n as usize);
    let root = dir.join(format!("cohort{suffix}"));
    synthesise(&root, &synth)?;
    let cohort = printed(Cohort::open(&root)?);
    let truth = synthetic::read_truth(&root)?;
    let mut config = match preset {
        Preset::Tiny => ExperimentConfig::tiny(),
        _ => ExperimentConfig::cpu_small(),
    };
    config.seed = seed;
    config.runtime.torch_threads = a.threads;
    let methods = &Method::MAIN;
    let main_dir = dir.join(format!("{}{suffix}", config.name));
    let cache = main_dir.join("preprocessed");
    let run = |out: &Path, config: &ExperimentConfig| {
        run_training(
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
    let first = run(&main_dir, &config)?;
    let survival = first.survival.clone();
    if a.loco {
        let centres: Vec<&str> = first.centres.iter().map(String::as_str).collect();
        let mut distinct = centres.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut loco = config.clone();
        loco.cv.folds = distinct.len();
        loco.cv.group_by_centre = true;
        println!(
            "\nleave one centre out: {} folds, one per centre ({})",
            distinct.len(),
            distinct.join(", ")
        );
        let held = run(&dir.join(format!("{}{suffix}-loco", config.name)), &loco)?;
        let table = train::report::loco_table(&first.outcome, &held.outcome, &centres, methods);
        let path = main_dir.join("loco.md");
        io::write_atomic(&path, table.as_bytes())?;
        println!(
            "\nThe stratified split beside leave-one-centre-out (Harrell's C; each held-out \
             centre scored by the model trained on the others):\n\n{table}\nwritten to {}",
            path.display()
        );
    }
    let mut outcomes = vec![first.outcome];
    for r in 1..replicates {
        config.replicate = r;
        println!("\nreplicate {r} of {replicates}: the networks' randomness redrawn, same folds");
        outcomes.push(
            run(
                &dir.join(format!("{}{suffix}-replicate-{r}", config.name)),
                &config,
            )?
            .outcome,
        );
    }
    if replicates > 1 {
        let table = train::report::replicates_table(&outcomes, methods)?;
        let path = main_dir.join("replicates.md");
        io::write_atomic(&path, table.as_bytes())?;
        println!(
            "\nC-index over {replicates} replicates of the networks' training (same folds; the \
             first is the table above):\n\n{table}\nwritten to {}",
            path.display()
        );
    }
    Ok((outcomes.swap_remove(0), survival))
}

/// What a training run gives the demo's tables: its outcome and, in its patient order, the
/// endpoints and centres.
struct Ran {
    outcome: train::CvOutcome,
    survival: Vec<Surv>,
    centres: Vec<String>,
}

/// Runs `adamss train` (the library's `Experiment::run`) and prints what it did.
#[allow(clippy::too_many_arguments)]
fn run_training(
    out: &Path,
    cache: &Path,
    cohort: &Cohort,
    config: &ExperimentConfig,
    methods: &[Method],
    fold: Option<usize>,
    truth: Option<&[synthetic::TruthRow]>,
    pin: IsaPin,
) -> Result<Ran> {
    let t0 = Instant::now();
    let experiment = train::Experiment {
        only_fold: fold,
        cache: Some(cache.to_path_buf()),
        true_risk: truth.map(|t| {
            t.iter()
                .map(|r| (r.patient_id.clone(), r.true_risk))
                .collect()
        }),
        ..train::Experiment::new(config.clone(), methods)
    };
    let preprocess = bar("preprocess {bar:30} {pos}/{len} {elapsed}", cohort.len());
    let observer = BarObserver {
        bar: Default::default(),
        preprocess: preprocess.clone(),
        started: t0,
        config,
        methods,
    };
    let run = RunDir::new(out);
    let trained = experiment.run(cohort, &run, &observer, &|done, _| {
        preprocess.set_position(done as u64)
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
    println!("{}", trained.summary(&run));
    Ok(Ran {
        survival: trained.cases.iter().map(|c| c.survival).collect(),
        centres: trained.cases.iter().map(|c| c.centre.clone()).collect(),
        outcome: trained.outcome,
    })
}
