#![doc = include_str!("../README.md")]

mod baseline;
mod cindex;
mod cox;
mod coxnet;
mod coxph;
mod error;
mod ipcw;
mod kaplan_meier;
mod logrank;
mod surv;

pub use baseline::{median, nelson_aalen, stratify, BreslowBaseline, StepFunction, Stratification};
pub use cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
pub use cox::{PartialLikelihood, Reduction, Ties};
pub use coxnet::{Coxnet, CoxnetParams, CoxnetValidParams, CvMetric, CvResult, PathEnd};
pub use coxph::{CoxPh, CoxPhParams, CoxPhValidParams};
pub use error::{Error, Result};
pub use ipcw::{brier_score, cumulative_dynamic_auc, integrated_brier_score, uno_c};
pub use kaplan_meier::KaplanMeier;
pub use logrank::{logrank, LogRank};
pub use surv::{surv_from, Surv};
