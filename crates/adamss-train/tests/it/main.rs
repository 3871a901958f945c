//! Integration tests of adamss-train on tiny synthetic cohorts (CPU, 16³ inputs, width 2).

mod bad_input;
mod stage;

use std::path::Path;

use adamss_io::{generate_synthetic, Cohort, SyntheticConfig};
use adamss_preprocess::{AugmentConfig, LocatorConfig, PreprocessConfig};
use adamss_train::{prepare_cohort, ExperimentConfig, PreparedCase, StageSchedule};

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

/// An experiment small enough for tests: 3 mm voxels, 16³ inputs, width 2, a few steps.
pub fn tiny_config() -> ExperimentConfig {
    let mut c = ExperimentConfig::cpu_small();
    c.preprocess = PreprocessConfig {
        spacing_mm: 3.0,
        crop_size: [16; 3],
        locator: LocatorConfig::scaled_to_field_of_view(48.0),
        ..PreprocessConfig::default()
    };
    c.augment = AugmentConfig {
        crop: [16; 3],
        ..c.augment
    };
    c.model = adamss_model::AdaMssConfig::with_base_width(2);
    c.model.survival.hidden_multiplier = 2;
    let short = StageSchedule {
        epochs: 3,
        iters_per_epoch: 2,
        batch: 2,
        lr: 1e-3,
        milestones: vec![(2, 5e-4)],
        validate_every: 1,
    };
    c.stage1 = short.clone();
    c.stage2 = StageSchedule {
        batch: 4,
        ..short.clone()
    };
    c.from_scratch = StageSchedule { batch: 4, ..short };
    c.cv.folds = 2;
    c.radiomics.selector.folds = 2;
    c.runtime.predict_batch = 2;
    c
}

/// The tiny cohort, prepared with `tiny_config`.
pub fn prepared(dir: &Path, patients: usize) -> Vec<PreparedCase> {
    let cohort = tiny_cohort(&dir.join("cohort"), patients, 3);
    prepare_cohort(&cohort, &tiny_config().preprocess, None, &|_, _| {})
        .expect("prepare")
        .0
}
