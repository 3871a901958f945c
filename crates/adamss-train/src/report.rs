//! Tables and files summarising a cross-validation.

use std::fmt::Write as _;
use std::path::Path;

use adamss_survival::{harrell, logrank, Surv, DEFAULT_TIED_TOL};

use crate::data::PreparedCase;
use crate::error::{Error, Result};
use crate::experiment::{mean_sd, CvOutcome, Method};

/// Risk stratification of one method over the pooled test folds: each test patient is "high
/// risk" when above its own training fold's median risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Stratification {
    /// Patients (indices) and whether they are high risk.
    pub groups: Vec<(usize, bool)>,
    /// Log-rank p-value, high vs low (None when a group is empty).
    pub p_value: Option<f64>,
}

/// Pools a method's test risks over folds and splits them at each fold's training median.
pub fn stratify(outcome: &CvOutcome, cases: &[PreparedCase], method: Method) -> Stratification {
    let mut groups = Vec::new();
    for r in outcome.results.iter().filter(|r| r.method == method) {
        for &(i, risk) in &r.test_risks {
            groups.push((i, risk > r.train_median_risk));
        }
    }
    let y: Vec<Surv> = groups.iter().map(|&(i, _)| cases[i].survival).collect();
    let g: Vec<usize> = groups.iter().map(|&(_, h)| usize::from(h)).collect();
    let both = g.contains(&0) && g.contains(&1);
    let p_value = both
        .then(|| logrank(&y, &g).ok().map(|l| l.p_value))
        .flatten();
    Stratification { groups, p_value }
}

/// The comparison as a markdown table: C-index (Harrell, mean ± sd over folds), DSC of GTVp
/// and GTVn (mean ± sd over folds of the aggregate DSC), log-rank p of the median split, and,
/// when the true risks are known (synthetic cohorts), the oracle row.
pub fn comparison_table(
    outcome: &CvOutcome,
    cases: &[PreparedCase],
    methods: &[Method],
    true_risk: Option<&[f64]>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| method | C-index (Harrell) | DSC GTVp | DSC GTVn | log-rank p (median split) | seconds |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let pm =
        |v: Option<(f64, f64)>| v.map_or("–".to_string(), |(m, sd)| format!("{m:.3} ± {sd:.3}"));
    for &m in methods {
        let secs: f64 = outcome
            .results
            .iter()
            .filter(|r| r.method == m)
            .map(|r| r.seconds)
            .sum();
        let p = stratify(outcome, cases, m)
            .p_value
            .map_or("–".to_string(), |p| format!("{p:.2e}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {p} | {secs:.0} |",
            m.label(),
            pm(outcome.c_index_summary(m)),
            pm(outcome.dsc_summary(m, 0)),
            pm(outcome.dsc_summary(m, 1)),
        );
    }
    if let Some(truth) = true_risk {
        let folds = outcome.fold_of.iter().copied().max().map_or(0, |k| k + 1);
        let per_fold = (0..folds).filter_map(|f| {
            let idx: Vec<usize> = (0..cases.len())
                .filter(|&i| outcome.fold_of[i] == f)
                .collect();
            let y: Vec<Surv> = idx.iter().map(|&i| cases[i].survival).collect();
            let r: Vec<f64> = idx.iter().map(|&i| truth[i]).collect();
            harrell(&y, &r, DEFAULT_TIED_TOL).ok().map(|c| c.c_index)
        });
        let _ = writeln!(
            s,
            "| oracle (the cohort's true risk) | {} | – | – | – | – |",
            pm(mean_sd(per_fold))
        );
    }
    s
}

/// Writes `predictions.csv`: `fold,method,PatientID,risk,high_risk,time,event`.
pub fn write_predictions(outcome: &CvOutcome, cases: &[PreparedCase], path: &Path) -> Result<()> {
    let mut s = String::from("fold,method,PatientID,risk,high_risk,time,event\n");
    for r in &outcome.results {
        for &(i, risk) in &r.test_risks {
            let c = &cases[i];
            let _ = writeln!(
                s,
                "{},{},{},{risk:.9},{},{},{}",
                r.fold,
                r.method.key(),
                c.id,
                u8::from(risk > r.train_median_risk),
                c.survival.time(),
                u8::from(c.survival.event())
            );
        }
    }
    adamss_io::write_atomic(path, s.as_bytes())?;
    Ok(())
}

/// Writes the outcome as JSON.
pub fn write_outcome(outcome: &CvOutcome, path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(outcome).map_err(|e| Error::file(path, e))?;
    adamss_io::write_atomic(path, json.as_bytes())?;
    Ok(())
}
