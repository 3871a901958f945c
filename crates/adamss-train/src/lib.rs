#![doc = include_str!("../README.md")]

pub mod bundle;
pub mod clinical;
pub mod config;
mod csv_file;
pub mod data;
mod device;
mod error;
pub mod experiment;
pub mod export;
mod fold;
pub mod head;
pub mod incremental;
pub mod infer;
pub mod looks;
pub mod method;
pub mod outcome;
pub mod plot;
pub mod predict;
pub mod predictor;
pub mod report;
pub mod run;
pub mod segeval;
pub mod split;
pub mod stage;
pub mod stats;

pub use adamss_model::tch;
pub use adamss_model::{cuda_linked, DeviceInfo};
pub use ndarray;

pub use bundle::{Bundle, BundleManifest, BundleModel};
pub use clinical::{ClinicalEncoder, CLINICAL_PREFIX};
pub use config::open_device;
pub use config::{
    ExperimentConfig, RadiomicsHead, RadiomicsMasks, StageSchedule, PRESPECIFIED_CLINICAL,
};
pub use data::{prepare_cohort, PreparedCase};
pub use device::parse_device;
pub use error::{Error, Result};
pub use experiment::{existing_folds, run_cv, Experiment, Trained};
pub use head::{HeadInputs, HeadRow};
pub use method::Method;
pub use outcome::{CvOutcome, FoldResult};
pub use predictor::{PatientInput, Prediction, Predictor, PredictorPool, SurvivalCurve};
pub use run::{
    RunDir, CLINICAL_TABLE_NAME, HEAD_INPUTS_NAME, INPUTS_NAME, OFFSET_SELECTOR_NAME,
    PATIENTS_NAME, RADIOMICS_TABLE_NAME, SELECTOR_NAME,
};
pub use stage::{train_stage, Event, Network, Objective, Observer, Silent, StageSpec, StageState};
