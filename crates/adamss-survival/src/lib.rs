#![doc = include_str!("../README.md")]

mod cindex;
mod cox;
mod coxph;
mod error;
mod kaplan_meier;
mod logrank;
mod surv;

pub use cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
pub use cox::{PartialLikelihood, Reduction, Ties};
pub use coxph::{CoxPh, CoxPhParams, CoxPhValidParams};
pub use error::{Error, Result};
pub use kaplan_meier::KaplanMeier;
pub use logrank::{logrank, LogRank};
pub use surv::{surv_from, Surv};
