#![doc = include_str!("../README.md")]

mod aft;
mod baseline;
mod cindex;
mod competing;
mod cox;
mod coxnet;
mod coxph;
mod error;
mod ipcw;
mod kaplan_meier;
mod logrank;
mod residuals;
mod surv;
mod zph;

pub use aft::{Aft, AftDistribution, AftParams, AftValidParams};
pub use baseline::{
    median, nelson_aalen, stratify, BreslowBaseline, NelsonAalen, NelsonAalenTies, StepFunction,
    Stratification,
};
pub use cindex::{harrell, Concordance, DEFAULT_TIED_TOL};
pub use competing::CumulativeIncidence;
pub use cox::{PartialLikelihood, Reduction, Ties};
pub use coxnet::{Coxnet, CoxnetParams, CoxnetValidParams, CvMetric, CvResult, PathEnd};
pub use coxph::{ChiSquareTest, CoxData, CoxPh, CoxPhParams, CoxPhValidParams, Penalizer};
pub use error::{Error, Result};
pub use ipcw::{brier_score, cumulative_dynamic_auc, integrated_brier_score, uno_c};
pub use kaplan_meier::{KaplanMeier, RestrictedMean};
pub use logrank::{logrank, logrank_weighted, LogRank, LogRankWeights};
pub use residuals::CoxResiduals;
pub use surv::{surv_from, EventIndicator, Surv};
pub use zph::{SchoenfeldResiduals, TimeTransform};

/// The linfa this crate implements its traits for (`Fit`, `Predict`, `ParamGuard`, datasets):
/// use it instead of pinning a matching version yourself.
pub use linfa;
/// The ndarray of every array in this crate's API.
pub use ndarray;

/// Everything a typical analysis needs in one import: this crate's models and metrics, and the
/// linfa traits and dataset types that `CoxPh::params().fit(…)`, `.check()` and
/// `.predict(…)` need in scope.
///
/// ```
/// use adamss_survival::prelude::*;
///
/// // 0/1 event codes, or bools
/// let y = surv_from(&[5.0, 8.0, 3.0, 9.0, 2.0, 7.0], &[1, 0, 1, 1, 1, 0])?;
/// let x = array![[1.2], [0.1], [2.0], [-0.5], [1.0], [0.3]];
/// let model = CoxPh::params().fit(&Dataset::new(x.clone(), y))?;
/// assert_eq!(model.predict(&x).len(), 6);
/// # Ok::<(), adamss_survival::Error>(())
/// ```
pub mod prelude {
    pub use crate::{
        brier_score, cumulative_dynamic_auc, harrell, integrated_brier_score, logrank,
        logrank_weighted, nelson_aalen, surv_from, uno_c, Aft, AftDistribution, BreslowBaseline,
        ChiSquareTest, CoxData, CoxPh, Coxnet, CumulativeIncidence, Error, EventIndicator,
        KaplanMeier, LogRankWeights, PartialLikelihood, Reduction, Surv, Ties, DEFAULT_TIED_TOL,
    };
    pub use linfa::traits::{Fit, Predict, PredictInplace};
    pub use linfa::{Dataset, DatasetBase, ParamGuard};
    pub use ndarray::{array, Array1, Array2, ArrayView1, ArrayView2};
}
