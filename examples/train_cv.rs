//! Cross-validated AdaMSS training through the library API, step by step, on a small
//! synthetic cohort (about a minute on 2 cores with the `tiny` preset; pass `cpu-small` for the
//! main job's settings).
//!
//! ```sh
//! cargo run --release --example train_cv [-- PRESET [RUN_DIR]]
//! ```

use std::path::PathBuf;

use adamss::io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss::train::{data, prepare_cohort, report, run_cv, ExperimentConfig, Method, Silent};
use anyhow::Result;

fn main() -> Result<()> {
    // The same CPU code paths on every x86-64 machine with AVX2 (as the `adamss` binary does),
    // so the run's numbers follow the seed, not the CPU; ADAMSS_CPU_ISA=native lifts it.
    let isa = adamss::model::cpu::CpuIsa::from_env(adamss::model::cpu::CpuIsa::Avx2)
        .map_err(|e| anyhow::anyhow!(e))?;
    println!("{}", adamss::model::cpu::pin_isa(isa)?.describe());
    adamss::model::cpu::tune_allocator();
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "tiny".into());
    let run = PathBuf::from(
        args.next()
            .unwrap_or_else(|| format!("runs/example-{preset}")),
    );

    // 1. An experiment: a preset, changed like any struct (or read from TOML).
    let mut config = ExperimentConfig::preset(&preset)?;
    // The demo's seed and tiny cohort size: at the tiny preset Stage I segments so little that
    // with other seeds a fold can have no usable predicted GTVp for the radiomics, which the
    // library refuses (seed 7 with 12 patients did).
    config.seed = 0;

    // 2. A cohort: here synthetic, in the HECKTOR 2022 layout, read back by the loader.
    let (synth, patients) = if preset == "tiny" {
        (SyntheticConfig::tiny(), 16)
    } else {
        (SyntheticConfig::default(), 60)
    };
    let root = run.join("cohort");
    let synth = SyntheticConfig {
        patients,
        seed: 0,
        ..synth
    };
    generate_synthetic(&root, &synth, &|_| {})?;
    let (cohort, join) = Cohort::hecktor(&root)?;
    data::check_join(&join)?;

    // 3. Every patient with labels and endpoint onto the network grid (cached on disk).
    let (cases, dropped) = prepare_cohort(
        &cohort,
        &config.preprocess,
        Some(&run.join("preprocessed")),
        &|_, _| {},
    )?;
    println!(
        "{} patients prepared, {} left out",
        cases.len(),
        dropped.cases.len()
    );

    // 4. Cross-validation of AdaMSS against LASSO-Cox on shared folds; every stage is
    //    checkpointed under `run`, so running the example again reloads instead of training.
    let methods = [Method::LassoCoxRadiomics, Method::Ssl];
    let outcome = run_cv(&config, &cases, &methods, &run, None, &Silent)?;

    // 5. The comparison table and the report with Kaplan–Meier figures.
    println!(
        "{}",
        report::comparison_table(&outcome, &cases, &methods, None)
    );
    let path = report::write_report(&run, &config, &outcome, &cases, &methods, None)?;
    println!("report: {}", path.display());

    // 6. The run folder is the same as `adamss train`'s: any fold's AdaMSS network can be
    //    exported as a model bundle (`adamss export --run … --fold 0 --method ssl`, or this).
    let run = adamss::train::RunDir::new(&run);
    let model = run.root().join("model-fold0-ssl");
    if !model.exists() {
        adamss::train::Bundle::from_run(&run, 0, Method::Ssl)?.write(&model)?;
    }
    println!(
        "model bundle: {} (see examples/embed_predictor.rs)",
        model.display()
    );
    Ok(())
}
