//! Train on the tiny preset through the library, export a bundle, score a patient in memory.
//! Prints `key=value` lines for `tests/it/downstream.rs`.

use std::path::Path;

use adamss_io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss_train::tch::Device;
use adamss_train::{prepare_cohort, run_cv, Bundle, ExperimentConfig, Method, PatientInput};
use adamss_train::{Predictor, RunDir, Silent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: adamss-downstream-check DIR")?;
    let dir = Path::new(&dir);
    let synthetic = SyntheticConfig {
        patients: 10,
        seed: 3,
        endpoint_fraction: 1.0,
        ..SyntheticConfig::tiny()
    };
    generate_synthetic(dir.join("cohort"), &synthetic, &|_| {})?;
    let (cohort, _) = Cohort::hecktor(dir.join("cohort"))?;
    let config = ExperimentConfig::tiny();
    let (cases, _) = prepare_cohort(&cohort, &config.preprocess, None, &|_, _| {})?;

    let run = RunDir::new(dir.join("run"));
    run.write_config(&config)?;
    let methods = [Method::Ssl];
    let outcome = run_cv(&config, &cases, &methods, run.root(), Some(0), &Silent)?;
    run.write_outcome(&outcome)?;
    let bundle = Bundle::from_run(&run, 0, Method::Ssl)?.write(&dir.join("model"))?;

    let predictor = Predictor::open(&dir.join("model"), Device::Cpu)?;
    // The first patient of fold 0's test set, read from its files and scored in memory.
    let (first, cv_risk) = outcome.results[0].test_risks[0];
    let record = cohort
        .records()
        .iter()
        .find(|r| r.id == cases[first].id)
        .ok_or("test patient not in the cohort")?;
    let case = record.load(cohort.options())?;
    let input =
        PatientInput::new(&case.id, case.ct, case.pet).with_clinical(record.clinical.clone());
    let p = predictor.predict(&input)?;
    println!("bundle_files={}", bundle.manifest.files.len());
    println!("risk={}", p.risk);
    println!("cv_risk={cv_risk}");
    println!("mask_voxels={}", p.mask.data().len());
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    println!("libtorch_cuda_loaded={}", maps.contains("libtorch_cuda.so"));
    Ok(())
}
