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

pub use clinical::ClinicalEncoder;
pub use config::{ExperimentConfig, StageSchedule};
pub use data::{prepare_cohort, PreparedCase};
pub use device::parse_device;
pub use error::{Error, Result};
pub use experiment::{run_cv, CvOutcome, FoldResult, Method};
pub use stage::{train_stage, Event, Network, Objective, Observer, Silent, StageSpec, StageState};
