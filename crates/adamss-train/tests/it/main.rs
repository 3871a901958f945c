//! Integration tests of adamss-train on tiny synthetic cohorts (CPU, 16³ inputs, width 2).

mod bad_input;
mod cv;
mod stage;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use adamss_io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss_train::{prepare_cohort, ExperimentConfig, PreparedCase};

/// Taken for its whole run by every test that trains or runs a network: one at a time. Two at
/// once put twice as many libtorch (OpenMP) threads as cores on a 2-core machine, where they
/// spin on each other: this suite took 74 s two tests at a time against 36 s one at a time
/// (2026-12-06, the CI machine's kind).
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the next one runs all the same.
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

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
