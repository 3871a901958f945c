#![doc = include_str!("../README.md")]

pub mod clinical;
pub mod config;
pub mod data;
mod device;
mod error;
pub mod experiment;
pub mod export;
pub mod infer;
pub mod plot;
pub mod predict;
pub mod report;
pub mod split;
pub mod stage;

pub use ndarray;

pub use clinical::{ClinicalEncoder, CLINICAL_PREFIX};
pub use config::{ExperimentConfig, RadiomicsHead, StageSchedule};
pub use data::{prepare_cohort, PreparedCase};
pub use device::{open_device, parse_device};
pub use error::{Error, Result};
pub use experiment::{
    existing_folds, run_cv, CvOutcome, FoldResult, Method, CLINICAL_TABLE_NAME, INPUTS_NAME,
    OFFSET_SELECTOR_NAME, PATIENTS_NAME, RADIOMICS_TABLE_NAME, SELECTOR_NAME,
};
pub use stage::{train_stage, Event, Network, Objective, Observer, Silent, StageSpec, StageState};
