//! Radiomics feature selection as AdaMSS does it (spec §5): on the training fold only, drop
//! non-finite and constant columns, z-score, and keep the features a cross-validated LASSO-Cox
//! (adamss-survival's `Coxnet`) gives non-zero coefficients. The fitted selector carries the
//! training means and standard deviations, so new patients are transformed the same way.

use adamss_survival::{Coxnet, CvMetric, Surv};
use linfa::ParamGuard;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::table::FeatureTable;

/// Which cross-validated penalty to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PenaltyRule {
    /// The penalty with the best mean CV score.
    #[default]
    Best,
    /// The largest penalty within one standard error of the best (sparser).
    OneStandardError,
}

/// Settings of the selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectorConfig {
    /// Cross-validation folds inside the training fold.
    pub folds: usize,
    /// Repeats of the cross-validation with other fold assignments, the deviance curves
    /// averaged before the penalty is chosen (1: a single cross-validation).
    pub repeats: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// CV score.
    pub metric: CvMetric,
    /// Penalty rule.
    pub rule: PenaltyRule,
    /// Number of penalties on the path.
    pub n_alphas: usize,
    /// Elastic-net mixing: 1 is the LASSO, smaller values blend in a ridge penalty
    /// (glmnet's `alpha`; must be in (0, 1]).
    pub l1_ratio: f64,
    /// Columns fitted without penalty (glmnet's `penalty.factor = 0`): pre-specified
    /// predictors forced into the model, the others selected around them. Names not in the
    /// table are ignored; at least one column must stay penalised.
    pub unpenalized: Vec<String>,
}

impl Default for SelectorConfig {
    fn default() -> Self {
        Self {
            folds: 5,
            repeats: 1,
            seed: 0,
            metric: CvMetric::Deviance,
            rule: PenaltyRule::Best,
            n_alphas: 50,
            l1_ratio: 1.0,
            unpenalized: Vec::new(),
        }
    }
}

/// A fitted selector: the kept features with their training mean, sd and LASSO coefficient.
///
/// Read back from JSON (a run's `selector.json`, a bundle's `head.json`), it is checked: one
/// mean, sd and coefficient per selected name, finite values, positive sds, unpenalised names
/// among the selected — a hand-edited or damaged file is an error, never a panic later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedSelector")]
pub struct FeatureSelector {
    /// Selected feature names, in table order.
    pub selected: Vec<String>,
    /// Training mean of each selected feature.
    pub mean: Vec<f64>,
    /// Training standard deviation (population) of each selected feature.
    pub sd: Vec<f64>,
    /// LASSO-Cox coefficient (on the z-scored scale) of each selected feature.
    pub coef: Vec<f64>,
    /// The chosen penalty.
    pub alpha: f64,
    /// Columns dropped before fitting as non-finite or constant on the training fold.
    pub dropped: Vec<String>,
    /// Selected columns that were fitted without penalty ([`SelectorConfig::unpenalized`]);
    /// [`keep_largest`](Self::keep_largest) never removes them.
    #[serde(default)]
    pub unpenalized: Vec<String>,
}

/// [`FeatureSelector`] as read, before [`FeatureSelector::check`].
#[derive(Deserialize)]
struct UncheckedSelector {
    selected: Vec<String>,
    mean: Vec<f64>,
    sd: Vec<f64>,
    coef: Vec<f64>,
    alpha: f64,
    dropped: Vec<String>,
    #[serde(default)]
    unpenalized: Vec<String>,
}

impl TryFrom<UncheckedSelector> for FeatureSelector {
    type Error = Error;

    fn try_from(u: UncheckedSelector) -> Result<Self> {
        let sel = FeatureSelector {
            selected: u.selected,
            mean: u.mean,
            sd: u.sd,
            coef: u.coef,
            alpha: u.alpha,
            dropped: u.dropped,
            unpenalized: u.unpenalized,
        };
        sel.check()?;
        Ok(sel)
    }
}

impl FeatureSelector {
    /// Checks the selector's consistency (what deserialisation checks): one mean, sd and
    /// coefficient per selected name, finite means and coefficients, finite positive sds, a
    /// finite penalty, unpenalised names among the selected.
    pub fn check(&self) -> Result<()> {
        let n = self.selected.len();
        let bad = |what: String| Err(Error::Settings(format!("feature selector: {what}")));
        for (name, len) in [
            ("means", self.mean.len()),
            ("sds", self.sd.len()),
            ("coefficients", self.coef.len()),
        ] {
            if len != n {
                return bad(format!("{n} selected features but {len} {name}"));
            }
        }
        for (j, name) in self.selected.iter().enumerate() {
            if !(self.mean[j].is_finite() && self.coef[j].is_finite()) {
                return bad(format!("{name}: non-finite mean or coefficient"));
            }
            if !(self.sd[j].is_finite() && self.sd[j] > 0.0) {
                return bad(format!("{name}: sd {} is not positive", self.sd[j]));
            }
        }
        if !self.alpha.is_finite() {
            return bad(format!("penalty {} is not finite", self.alpha));
        }
        if let Some(u) = self.unpenalized.iter().find(|u| !self.selected.contains(u)) {
            return bad(format!(
                "unpenalised {u} is not among the selected features"
            ));
        }
        Ok(())
    }

    /// Fits on the training rows of `table` (`survival[i]` belongs to `table.rows[i]`).
    pub fn fit(table: &FeatureTable, survival: &[Surv], config: &SelectorConfig) -> Result<Self> {
        let n = table.rows.len();
        if n != survival.len() {
            return Err(Error::Settings(format!(
                "{n} patients with features but {} survival records",
                survival.len()
            )));
        }
        if n < config.folds.max(2) {
            return Err(Error::Settings(format!(
                "{n} patients cannot make {} cross-validation folds",
                config.folds
            )));
        }
        let mut keep = Vec::new();
        let mut dropped = Vec::new();
        let mut means = Vec::new();
        let mut sds = Vec::new();
        for (c, name) in table.names.iter().enumerate() {
            let col: Vec<f64> = table.rows.iter().map(|(_, v)| v[c]).collect();
            if col.iter().any(|v| !v.is_finite()) {
                dropped.push(name.clone());
                continue;
            }
            let m = col.iter().sum::<f64>() / n as f64;
            let sd = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            if sd <= 1e-12 * m.abs().max(1.0) {
                dropped.push(name.clone());
                continue;
            }
            keep.push(c);
            means.push(m);
            sds.push(sd);
        }
        if keep.is_empty() {
            return Err(Error::Settings(
                "no usable feature: every column is non-finite or constant on the training fold"
                    .into(),
            ));
        }
        let x = Array2::from_shape_fn((n, keep.len()), |(i, j)| {
            (table.rows[i].1[keep[j]] - means[j]) / sds[j]
        });
        let forced = |j: usize| config.unpenalized.contains(&table.names[keep[j]]);
        let mut params = Coxnet::params()
            .n_alphas(config.n_alphas)
            .l1_ratio(config.l1_ratio)
            .standardize(false);
        if (0..keep.len()).any(forced) {
            params = params.penalty_factor(
                (0..keep.len())
                    .map(|j| if forced(j) { 0.0 } else { 1.0 })
                    .collect(),
            );
        }
        let params = params
            .check()
            .map_err(|e| Error::Settings(format!("LASSO-Cox settings: {e}")))?;
        let cv = params
            .cross_validate_repeated(
                x.view(),
                survival,
                config.folds,
                config.repeats,
                config.seed,
                config.metric,
            )
            .map_err(|e| Error::Settings(format!("LASSO-Cox cross-validation: {e}")))?;
        let k = match config.rule {
            PenaltyRule::Best => cv.best,
            PenaltyRule::OneStandardError => cv.one_se,
        };
        let coef = cv.path.coef.row(k);
        let mut sel = FeatureSelector {
            selected: Vec::new(),
            mean: Vec::new(),
            sd: Vec::new(),
            coef: Vec::new(),
            alpha: cv.path.alphas[k],
            dropped,
            unpenalized: Vec::new(),
        };
        for (j, &b) in coef.iter().enumerate() {
            if b != 0.0 {
                sel.selected.push(table.names[keep[j]].clone());
                sel.mean.push(means[j]);
                sel.sd.push(sds[j]);
                sel.coef.push(b);
                if forced(j) {
                    sel.unpenalized.push(table.names[keep[j]].clone());
                }
            }
        }
        Ok(sel)
    }

    /// The selected features of one patient, z-scored with the training statistics.
    /// `names`/`values` are the patient's full feature vector (any order).
    pub fn transform(&self, names: &[String], values: &[f64]) -> Result<Vec<f64>> {
        self.selected
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let pos = names.iter().position(|n| n == s).ok_or_else(|| {
                    Error::Settings(format!(
                        "feature {s} is missing from the patient's features"
                    ))
                })?;
                Ok((values[pos] - self.mean[j]) / self.sd[j])
            })
            .collect()
    }

    /// [`transform`](Self::transform) with a missing (non-finite) value imputed by the
    /// training mean, i.e. 0 on the z-scored scale — how AdaMSS feeds patients whose Stage-I
    /// mask gave no usable features.
    pub fn transform_imputed(&self, names: &[String], values: &[f64]) -> Result<Vec<f64>> {
        Ok(self
            .transform(names, values)?
            .into_iter()
            .map(|z| if z.is_finite() { z } else { 0.0 })
            .collect())
    }

    /// The LASSO-Cox log-risk `Σ coef_j · z_j` of a transformed feature vector `z`.
    pub fn linear_predictor(&self, z: &[f64]) -> f64 {
        z.iter().zip(&self.coef).map(|(a, b)| a * b).sum()
    }

    /// Keeps at most `k` selected features — but every unpenalised one: those, then the
    /// largest coefficients in absolute value (ties: the earlier column), still in table order.
    /// The kept coefficients are not refitted. Returns how many features were removed.
    pub fn keep_largest(&mut self, k: usize) -> usize {
        let n = self.selected.len();
        let forced = |j: usize| self.unpenalized.contains(&self.selected[j]);
        let k = k.max((0..n).filter(|&j| forced(j)).count());
        if n <= k {
            return 0;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            forced(b)
                .cmp(&forced(a))
                .then(self.coef[b].abs().total_cmp(&self.coef[a].abs()))
        });
        order.truncate(k);
        order.sort_unstable();
        let pick = |v: &[f64]| order.iter().map(|&j| v[j]).collect::<Vec<f64>>();
        self.mean = pick(&self.mean);
        self.sd = pick(&self.sd);
        self.coef = pick(&self.coef);
        self.selected = order.iter().map(|&j| self.selected[j].clone()).collect();
        n - k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_largest_keeps_the_largest_coefficients_in_table_order() {
        let mut sel = FeatureSelector {
            selected: ["a", "b", "c", "d"].map(String::from).to_vec(),
            mean: vec![1.0, 2.0, 3.0, 4.0],
            sd: vec![0.1, 0.2, 0.3, 0.4],
            coef: vec![0.5, -2.0, 0.1, -0.5],
            alpha: 0.01,
            dropped: Vec::new(),
            unpenalized: Vec::new(),
        };
        let untouched = sel.clone();
        assert_eq!(sel.clone().keep_largest(4), 0);
        assert_eq!(sel.keep_largest(2), 2);
        // |−2.0| first, then the tie |0.5| = |−0.5| goes to the earlier column "a".
        assert_eq!(sel.selected, ["a", "b"]);
        assert_eq!(sel.mean, [1.0, 2.0]);
        assert_eq!(sel.sd, [0.1, 0.2]);
        assert_eq!(sel.coef, [0.5, -2.0]);
        let z = [1.0, 1.0];
        assert_eq!(sel.linear_predictor(&z), -1.5);
        assert_ne!(sel, untouched);
    }
}
