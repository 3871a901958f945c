//! What a cross-validation produced: per fold and method, the test risks and scores.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::looks::Looks;
use crate::method::Method;
use crate::stats::mean_sd;

/// One method on one test fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold (0-based).
    pub fold: usize,
    /// Method.
    pub method: Method,
    /// Harrell's C-index on the test fold.
    pub c_index: Option<f64>,
    /// Uno's C-index on the test fold (censoring distribution from the training fold,
    /// truncated at the training fold's last event time).
    pub uno_c: Option<f64>,
    /// Aggregate DSC of GTVp and GTVn on the test fold (methods with masks).
    pub dsc: Option<[f64; 2]>,
    /// `(patient index, risk)` on the test fold.
    pub test_risks: Vec<(usize, f64)>,
    /// Median risk over the training fold (the stratification cut-off).
    pub train_median_risk: f64,
    /// `(patient index, risk)` on the training fold, what the model was fitted on: the
    /// incremental-value analysis fits its Cox models there. Empty in runs made before it was
    /// recorded.
    #[serde(default)]
    pub train_risks: Vec<(usize, f64)>,
    /// Per test patient with a predicted mask: `(patient index, [GTVp, GTVn] × [|P ∩ G|, |P|,
    /// |G|])` voxel counts, for per-centre DSC. Empty for methods without masks and in runs
    /// made before it was recorded.
    #[serde(default)]
    pub test_overlaps: Vec<(usize, [[u64; 3]; 2])>,
    /// Per test patient of a network method: where the network looked ([`Looks`]). Empty
    /// for the other methods and in runs made before it was recorded.
    #[serde(default)]
    pub test_looks: Vec<(usize, Looks)>,
    /// Number of columns the method's LASSO selector kept (the LASSO-Cox methods and the
    /// network's radiomics head): radiomics and clinical columns together, including
    /// pre-specified clinical factors kept unpenalised; `None` for methods without one.
    pub selected_features: Option<usize>,
    /// Seconds spent on this method in this fold (training shared with other methods counts
    /// once, where it ran first).
    pub seconds: f64,
}

/// The whole cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvOutcome {
    /// Fold of each patient.
    pub fold_of: Vec<usize>,
    /// Results per fold and method.
    pub results: Vec<FoldResult>,
}

impl CvOutcome {
    /// Mean and sample standard deviation of a method's Uno C-index over folds.
    pub fn uno_summary(&self, method: Method) -> Option<(f64, f64)> {
        mean_sd(
            self.results
                .iter()
                .filter(|r| r.method == method)
                .filter_map(|r| r.uno_c),
        )
    }

    /// Number of folds of the split (those run or not).
    pub fn folds(&self) -> usize {
        self.fold_of.iter().copied().max().map_or(0, |k| k + 1)
    }

    /// Mean and sample standard deviation of a method's C-index over folds.
    pub fn c_index_summary(&self, method: Method) -> Option<(f64, f64)> {
        mean_sd(
            self.results
                .iter()
                .filter(|r| r.method == method)
                .filter_map(|r| r.c_index),
        )
    }

    /// A method's aggregate DSC over all test folds pooled (Σ over folds of the fold values
    /// weighted equally; see the report for per-fold values).
    pub fn dsc_summary(&self, method: Method, structure: usize) -> Option<(f64, f64)> {
        mean_sd(
            self.results
                .iter()
                .filter(|r| r.method == method)
                .filter_map(|r| r.dsc.map(|d| d[structure])),
        )
    }
}

/// Writes the outcome as JSON.
pub fn write_outcome(outcome: &CvOutcome, path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(outcome).map_err(|e| Error::file(path, e))?;
    adamss_io::write_atomic(path, json.as_bytes())?;
    Ok(())
}
