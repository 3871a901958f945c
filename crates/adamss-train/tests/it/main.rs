//! Integration tests of adamss-train on tiny synthetic cohorts (CPU, 16³ inputs, width 2).

mod bad_input;
mod cv;
mod stage;

use std::path::Path;

use adamss_io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss_train::{prepare_cohort, ExperimentConfig, PreparedCase};

/// A tiny cohort (`patients` patients, 48 mm field of view) generated under `dir`.
pub fn tiny_cohort(dir: &Path, patients: usize, seed: u64) -> Cohort {
    let config = SyntheticConfig {
        patients,
        seed,
        endpoint_fraction: 1.0,
        ..SyntheticConfig::tiny()
    };
    generate_synthetic(dir, &config, &|_| {}).expect("synthetic cohort");
    Cohort::hecktor(dir).expect("cohort").0
}

/// An experiment small enough for tests: the `tiny` preset.
pub fn tiny_config() -> ExperimentConfig {
    ExperimentConfig::tiny()
}

/// The tiny cohort, prepared with `tiny_config`.
pub fn prepared(dir: &Path, patients: usize) -> Vec<PreparedCase> {
    let cohort = tiny_cohort(&dir.join("cohort"), patients, 3);
    prepare_cohort(&cohort, &tiny_config().preprocess, None, &|_, _| {})
        .expect("prepare")
        .0
}
