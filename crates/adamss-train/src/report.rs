//! Tables and files summarising a cross-validation.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use adamss_survival::{harrell, logrank, Surv, DEFAULT_TIED_TOL};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::ExperimentConfig;
use crate::data::PreparedCase;
use crate::error::{Error, Result};
use crate::method::Method;
pub use crate::outcome::write_outcome;
use crate::outcome::CvOutcome;
use crate::plot;
use crate::stats::{fold_bootstrap, mean_sd};

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
        let per_fold = oracle_per_fold(outcome, cases, truth);
        let _ = writeln!(
            s,
            "| oracle (the cohort's true risk) | {} | – | – | – | – |",
            pm(mean_sd(per_fold.into_iter().flatten()))
        );
    }
    s
}

/// Harrell's C-index of the cohort's true risk on each test fold (synthetic cohorts).
fn oracle_per_fold(outcome: &CvOutcome, cases: &[PreparedCase], truth: &[f64]) -> Vec<Option<f64>> {
    (0..outcome.folds())
        .map(|f| {
            let idx: Vec<usize> = (0..cases.len())
                .filter(|&i| outcome.fold_of[i] == f)
                .collect();
            let y: Vec<Surv> = idx.iter().map(|&i| cases[i].survival).collect();
            let r: Vec<f64> = idx.iter().map(|&i| truth[i]).collect();
            harrell(&y, &r, DEFAULT_TIED_TOL).ok().map(|c| c.c_index)
        })
        .collect()
}

/// A method's Harrell C-index on each test fold.
fn c_per_fold(outcome: &CvOutcome, method: Method) -> Vec<Option<f64>> {
    (0..outcome.folds())
        .map(|f| {
            outcome
                .results
                .iter()
                .find(|r| r.method == method && r.fold == f)
                .and_then(|r| r.c_index)
        })
        .collect()
}

/// Mean ± sd over folds of `a − b`, paired by fold (folds where both exist).
fn paired_gap(a: &[Option<f64>], b: &[Option<f64>]) -> Option<(f64, f64)> {
    mean_sd(a.iter().zip(b).filter_map(|(x, y)| Some((*x)? - (*y)?)))
}

/// One regime's run for [`regimes_table`].
#[derive(Debug, Clone, Copy)]
pub struct RegimeRun<'a> {
    /// The regime's name (a column group's title).
    pub name: &'a str,
    /// Its cross-validation.
    pub outcome: &'a CvOutcome,
    /// Its patients' endpoints, in the outcome's patient order.
    pub survival: &'a [Surv],
}

/// Several regimes' runs side by side: per method and run, the C-index (mean ± sd over
/// folds), the gap to LASSO-CoxPH radiomics paired by fold, the incremental value over that
/// baseline (test-fold C gain of a Cox model on both risks, 95 % bootstrap interval over test
/// patients, 500 replicates: the same draw as the report's incremental-value table when `seed`
/// is the run's), the DSC, and the attention's mean inside the
/// unlabelled findings over its mean in the rest of the body ([`looks_table`]).
pub fn regimes_table(runs: &[RegimeRun], methods: &[Method], seed: u64) -> String {
    let pm =
        |v: Option<(f64, f64)>| v.map_or("–".to_string(), |(m, sd)| format!("{m:.3} ± {sd:.3}"));
    let pg =
        |v: Option<(f64, f64)>| v.map_or("–".to_string(), |(m, sd)| format!("{m:+.3} ± {sd:.3}"));
    let mut s = String::from("| method |");
    for r in runs {
        let name = r.name;
        let _ = write!(
            s,
            " C, {name} | − LASSO-CoxPH radiomics | gain over it [95 % CI] | DSC GTVp / GTVn | α findings ÷ rest |"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|---|---|---|---|".repeat(runs.len()));
    for &m in methods {
        let _ = write!(s, "| {} |", m.label());
        for r in runs {
            let o = r.outcome;
            let base = Method::LassoCoxRadiomics;
            let gap = (m != base)
                .then(|| paired_gap(&c_per_fold(o, m), &c_per_fold(o, base)))
                .flatten();
            let network = matches!(m.spec().kind, crate::method::MethodKind::Network(_));
            // The report's draw for the same pair (its seed, its pair index).
            let pair = crate::incremental::PAIRS
                .iter()
                .position(|&p| p == (base, m));
            let gain = pair
                .filter(|_| network)
                .and_then(|k| {
                    crate::incremental::incremental_value(
                        o,
                        r.survival,
                        base,
                        m,
                        500,
                        seed ^ k as u64,
                    )
                })
                .map_or("–".to_string(), |v| match v.interval {
                    Some((lo, hi)) => format!("{:+.3} [{lo:+.3}, {hi:+.3}]", v.gain),
                    None => format!("{:+.3}", v.gain),
                });
            let dsc = match (o.dsc_summary(m, 0), o.dsc_summary(m, 1)) {
                (Some((p, _)), Some((n, _))) => format!("{p:.3} / {n:.3}"),
                _ => "–".into(),
            };
            let ratios: Vec<f64> = o
                .results
                .iter()
                .filter(|x| x.method == m)
                .flat_map(|x| x.test_looks.iter().filter_map(|(_, l)| l.attention))
                .filter_map(|a| a.findings_over_rest())
                .collect();
            let _ = write!(
                s,
                " {} | {} | {gain} | {dsc} | {} |",
                pm(o.c_index_summary(m)),
                pg(gap),
                mean_sd(ratios.iter().copied())
                    .map_or("–".to_string(), |(m, sd)| format!("{m:.2} ± {sd:.2}"))
            );
        }
        let _ = writeln!(s);
    }
    s
}

/// The same methods under two splits of one cohort: the stratified cross-validation and the
/// leave-one-centre-out one (`cv.group_by_centre`, one fold per centre). Per method: Harrell's
/// C mean ± sd over the stratified folds, mean ± sd over the held-out centres, and each held-out
/// centre's C (`centre[i]` is patient `i`'s centre, in both outcomes' patient order). A test
/// fold of the second outcome that holds several centres is named by all of them.
pub fn loco_table(
    stratified: &CvOutcome,
    loco: &CvOutcome,
    centre: &[&str],
    methods: &[Method],
) -> String {
    let pm =
        |v: Option<(f64, f64)>| v.map_or("–".to_string(), |(m, sd)| format!("{m:.3} ± {sd:.3}"));
    let folds = loco.folds();
    let held_out: Vec<String> = (0..folds)
        .map(|k| {
            let mut names: Vec<&str> = loco
                .fold_of
                .iter()
                .zip(centre)
                .filter(|(f, _)| **f == k)
                .map(|(_, c)| *c)
                .collect();
            names.sort_unstable();
            names.dedup();
            names.join("+")
        })
        .collect();
    let mut s = format!(
        "| method | C, stratified ({} folds) | C, leave one centre out ({folds} centres) |",
        stratified.folds()
    );
    for name in &held_out {
        let _ = write!(s, " held out {name} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|---|---|{}", "---|".repeat(folds));
    for &m in methods {
        let per_fold = c_per_fold(loco, m);
        let _ = write!(
            s,
            "| {} | {} | {} |",
            m.label(),
            pm(stratified.c_index_summary(m)),
            pm(loco.c_index_summary(m))
        );
        for c in per_fold {
            let _ = write!(s, " {} |", c.map_or("–".into(), |c| format!("{c:.3}")));
        }
        let _ = writeln!(s);
    }
    s
}

/// How far each method's C-index is from the LASSO-CoxPH radiomics baseline and from the
/// oracle (the cohort's true risk, when known), as differences paired by test fold (mean ± sd
/// over folds): folds differ in difficulty, so the paired spread is the one that says whether
/// a gap is real. `None` when there is nothing to compare with.
pub fn gaps_table(
    outcome: &CvOutcome,
    cases: &[PreparedCase],
    methods: &[Method],
    true_risk: Option<&[f64]>,
) -> Option<String> {
    let baseline = methods
        .contains(&Method::LassoCoxRadiomics)
        .then(|| c_per_fold(outcome, Method::LassoCoxRadiomics));
    let oracle = true_risk.map(|t| oracle_per_fold(outcome, cases, t));
    if baseline.is_none() && oracle.is_none() {
        return None;
    }
    let pm =
        |v: Option<(f64, f64)>| v.map_or("–".to_string(), |(m, sd)| format!("{m:+.3} ± {sd:.3}"));
    let mut s = String::new();
    let mut header = String::from("| method |");
    let mut rule = String::from("|---|");
    if baseline.is_some() {
        header.push_str(&format!(" − {} |", Method::LassoCoxRadiomics.label()));
        rule.push_str("---|");
    }
    if oracle.is_some() {
        header.push_str(" − oracle |");
        rule.push_str("---|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for &m in methods.iter().filter(|&&m| m != Method::LassoCoxRadiomics) {
        let c = c_per_fold(outcome, m);
        let mut row = format!("| {} |", m.label());
        for reference in baseline.iter().chain(&oracle) {
            row.push_str(&format!(" {} |", pm(paired_gap(&c, reference))));
        }
        let _ = writeln!(s, "{row}");
    }
    Some(s)
}

/// How far another training run moves each method. `outcomes` are replicates of one
/// cross-validation on the same folds that differ only in the networks' randomness
/// ([`ExperimentConfig::replicate`](crate::config::ExperimentConfig::replicate) 0, 1, …; the
/// first is the run the main table shows). Per method: the C-index (mean over folds) of each
/// replicate, their mean and range, and the same for the gap to the LASSO-CoxPH radiomics
/// baseline paired by fold within each replicate (the baseline moves too, with the Stage-I
/// masks its radiomics come from). A difference between two methods smaller than these
/// ranges is within what retraining moves. Refuses outcomes on different folds.
pub fn replicates_table(outcomes: &[CvOutcome], methods: &[Method]) -> Result<String> {
    let Some(first) = outcomes.first() else {
        return Err(Error::Config("no replicate to tabulate".into()));
    };
    if outcomes.iter().any(|o| o.fold_of != first.fold_of) {
        return Err(Error::Config(
            "replicates must share their folds (same seed, cohort and cv settings)".into(),
        ));
    }
    let n = outcomes.len();
    let has_baseline = methods.contains(&Method::LassoCoxRadiomics);
    // "mean [min, max]" of the replicates' values, signed for gaps.
    let range = |v: &[f64], signed: bool| -> String {
        if v.is_empty() {
            return "–".into();
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if signed {
            format!("{mean:+.3} [{lo:+.3}, {hi:+.3}]")
        } else {
            format!("{mean:.3} [{lo:.3}, {hi:.3}]")
        }
    };
    let mut s = String::new();
    let _ = write!(s, "| method |");
    for r in 0..n {
        let _ = write!(s, " C, replicate {r} |");
    }
    let _ = write!(s, " C over {n} replicates: mean [min, max] |");
    if has_baseline {
        let _ = write!(
            s,
            " − {}: mean [min, max] |",
            Method::LassoCoxRadiomics.label()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "|---|{}---|{}",
        "---|".repeat(n),
        if has_baseline { "---|" } else { "" }
    );
    for &m in methods {
        let means: Vec<Option<f64>> = outcomes
            .iter()
            .map(|o| mean_sd(c_per_fold(o, m).into_iter().flatten()).map(|(mean, _)| mean))
            .collect();
        let mut row = format!("| {} |", m.label());
        for v in &means {
            let _ = write!(row, " {} |", v.map_or("–".into(), |c| format!("{c:.3}")));
        }
        let present: Vec<f64> = means.iter().flatten().copied().collect();
        let _ = write!(row, " {} |", range(&present, false));
        if has_baseline {
            let gaps: Vec<f64> = if m == Method::LassoCoxRadiomics {
                Vec::new()
            } else {
                outcomes
                    .iter()
                    .filter_map(|o| {
                        paired_gap(&c_per_fold(o, m), &c_per_fold(o, Method::LassoCoxRadiomics))
                            .map(|(g, _)| g)
                    })
                    .collect()
            };
            let _ = write!(row, " {} |", range(&gaps, true));
        }
        let _ = writeln!(s, "{row}");
    }
    Ok(s)
}

/// Writes `predictions.csv`: `fold,method,PatientID,risk,high_risk,time,event`.
pub fn write_predictions(outcome: &CvOutcome, cases: &[PreparedCase], path: &Path) -> Result<()> {
    let rows = outcome.results.iter().flat_map(|r| {
        r.test_risks.iter().map(move |&(i, risk)| {
            let c = &cases[i];
            [
                r.fold.to_string(),
                r.method.key().to_string(),
                c.id.clone(),
                format!("{risk:.9}"),
                u8::from(risk > r.train_median_risk).to_string(),
                c.survival.time().to_string(),
                u8::from(c.survival.event()).to_string(),
            ]
        })
    });
    let header = [
        "fold",
        "method",
        "PatientID",
        "risk",
        "high_risk",
        "time",
        "event",
    ];
    crate::csv_file::write_csv(path, &header, rows)
}

/// Percentile bootstrap interval (95 %) of a method's mean-over-folds Harrell C-index:
/// test patients are resampled with replacement within each fold, `replicates` times.
pub fn bootstrap_c_index(
    outcome: &CvOutcome,
    cases: &[PreparedCase],
    method: Method,
    replicates: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    let folds: Vec<Vec<(usize, f64)>> = outcome
        .results
        .iter()
        .filter(|r| r.method == method)
        .map(|r| r.test_risks.clone())
        .collect();
    if folds.is_empty() || replicates == 0 {
        return None;
    }
    fold_bootstrap(&folds, replicates, seed, |pick| {
        let y: Vec<Surv> = pick.iter().map(|&(i, _)| cases[i].survival).collect();
        let r: Vec<f64> = pick.iter().map(|&(_, r)| r).collect();
        harrell(&y, &r, DEFAULT_TIED_TOL)
            .ok()
            .filter(|c| c.comparable() > 0)
            .map(|c| c.c_index)
    })
}

/// Per centre (the patient id's prefix): each method's Harrell C over the centre's test
/// patients, pooled over folds (each patient scored by the model of its own test fold), and
/// for methods with masks the aggregate DSC of GTVp and GTVn over those patients; with the
/// number of patients and events. `centre[i]` and `survival[i]` belong to patient `i`. `None`
/// without patients.
pub fn per_centre_table(
    outcome: &CvOutcome,
    centre: &[&str],
    survival: &[Surv],
    methods: &[Method],
) -> Option<String> {
    let mut centres: Vec<&str> = centre.to_vec();
    centres.sort_unstable();
    centres.dedup();
    if centres.is_empty() {
        return None;
    }
    let mut s = String::new();
    let _ = write!(s, "| method |");
    for c in &centres {
        let (n, e) = (0..centre.len())
            .filter(|&i| centre[i] == *c)
            .fold((0, 0), |(n, e), i| {
                (n + 1, e + usize::from(survival[i].event()))
            });
        let _ = write!(s, " {c} ({n} patients, {e} events): C; DSC GTVp / GTVn |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|".repeat(centres.len()));
    for &m in methods {
        let results: Vec<_> = outcome.results.iter().filter(|r| r.method == m).collect();
        let _ = write!(s, "| {} |", m.label());
        for c in &centres {
            let in_centre = |i: &usize| centre[*i] == *c;
            let risks: Vec<(usize, f64)> = results
                .iter()
                .flat_map(|r| r.test_risks.iter().copied())
                .filter(|(i, _)| in_centre(i))
                .collect();
            let y: Vec<Surv> = risks.iter().map(|&(i, _)| survival[i]).collect();
            let r: Vec<f64> = risks.iter().map(|&(_, r)| r).collect();
            let cidx = harrell(&y, &r, DEFAULT_TIED_TOL)
                .ok()
                .filter(|c| c.comparable() > 0)
                .map_or("–".to_string(), |c| format!("{:.3}", c.c_index));
            let mut counts = [[0u64; 3]; 2];
            let mut any = false;
            for (_, o) in results
                .iter()
                .flat_map(|r| r.test_overlaps.iter())
                .filter(|(i, _)| in_centre(i))
            {
                any = true;
                for k in 0..2 {
                    for j in 0..3 {
                        counts[k][j] += o[k][j];
                    }
                }
            }
            let dsc = |k: usize| {
                let total = counts[k][1] + counts[k][2];
                if total == 0 {
                    "–".to_string()
                } else {
                    format!("{:.3}", 2.0 * counts[k][0] as f64 / total as f64)
                }
            };
            if any {
                let _ = write!(s, " {cidx}; {} / {} |", dsc(0), dsc(1));
            } else {
                let _ = write!(s, " {cidx} |");
            }
        }
        let _ = writeln!(s);
    }
    Some(s)
}

/// Where the networks looked: per network method and map (attention α, fusion-gate w), the
/// region means over test patients pooled over folds (each patient's mean over the region,
/// averaged over the patients that have the region) and, in parentheses, the region's share
/// of the crop's mass; the last column is the mean over patients with an unlabelled finding
/// of their finding mean divided by their rest-of-body mean. None when no method recorded it.
pub fn looks_table(outcome: &CvOutcome, methods: &[Method]) -> Option<String> {
    use crate::looks::{RegionSums, REGIONS};
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| method | map | {} | findings ÷ rest | patients (with findings) |",
        REGIONS.join(" | ")
    );
    let _ = writeln!(s, "|---|---|{}---|---|", "---|".repeat(REGIONS.len()));
    let mut any = false;
    for &m in methods {
        let looks: Vec<_> = outcome
            .results
            .iter()
            .filter(|r| r.method == m)
            .flat_map(|r| r.test_looks.iter().map(|(_, l)| *l))
            .collect();
        let maps: [(&str, Vec<RegionSums>); 2] = [
            (
                "attention α",
                looks.iter().filter_map(|l| l.attention).collect(),
            ),
            (
                "fusion gate w",
                looks.iter().filter_map(|l| l.gate).collect(),
            ),
        ];
        for (name, sums) in maps {
            if sums.is_empty() {
                continue;
            }
            any = true;
            let mut cells = Vec::new();
            for r in 0..REGIONS.len() {
                let means: Vec<f64> = sums.iter().filter_map(|x| x.mean(r)).collect();
                let shares: Vec<f64> = sums.iter().filter_map(|x| x.share(r)).collect();
                cells.push(match (mean_sd(means.iter().copied()), shares.is_empty()) {
                    (Some((a, _)), false) => format!(
                        "{a:.3} ({:.1} %)",
                        100.0 * shares.iter().sum::<f64>() / shares.len() as f64
                    ),
                    _ => "–".into(),
                });
            }
            let ratios: Vec<f64> = sums.iter().filter_map(|x| x.findings_over_rest()).collect();
            let ratio = mean_sd(ratios.iter().copied())
                .map_or("–".into(), |(a, sd)| format!("{a:.2} ± {sd:.2}"));
            let _ = writeln!(
                s,
                "| {} | {name} | {} | {ratio} | {} ({}) |",
                m.label(),
                cells.join(" | "),
                sums.len(),
                ratios.len()
            );
        }
    }
    any.then_some(s)
}

/// Writes the run's report: `report.md` with the comparison, bootstrap intervals, Uno's
/// C-index, per-fold values and the Kaplan–Meier figures `km-<method>.svg` (pooled test folds,
/// split at each training fold's median risk). Returns the report's path.
pub fn write_report(
    dir: &Path,
    config: &ExperimentConfig,
    outcome: &CvOutcome,
    cases: &[PreparedCase],
    methods: &[Method],
    true_risk: Option<&[f64]>,
) -> Result<std::path::PathBuf> {
    let mut s = String::new();
    let events = cases.iter().filter(|c| c.survival.event()).count();
    let _ = writeln!(s, "# AdaMSS run `{}`\n", config.name);
    let _ = writeln!(
        s,
        "{} patients ({events} events), {}-fold cross-validation by patient (stratified by event{}), \
         seed {}. Inputs {:?} voxels of {:.2} mm; network base width {}. The resolved \
         configuration is `config.toml`.\n",
        cases.len(),
        config.cv.folds,
        if config.cv.group_by_centre { ", grouped by centre" } else { "" },
        config.seed,
        config.preprocess.crop_size,
        config.preprocess.spacing_mm,
        config.model.base_width
    );
    let _ = writeln!(s, "## Comparison\n");
    s.push_str(&comparison_table(outcome, cases, methods, true_risk));
    let _ = writeln!(
        s,
        "\nC-index: Harrell's, mean ± sd over the test folds. DSC: aggregate over each test fold \
         (of the label map that is written out: each voxel the more probable structure above \
         0.5), mean ± sd over folds; the SSL rows show the Stage-I masks they use. Seconds: \
         wall time summed over folds; Stage I, its predictions and the radiomics, which later \
         rows share, count once, in the first row that needs them.\n"
    );
    if let Some(gaps) = gaps_table(outcome, cases, methods, true_risk) {
        let _ = writeln!(s, "## Gaps in C-index, paired by fold\n");
        s.push_str(&gaps);
        let _ = writeln!(
            s,
            "\nEach cell: the method's Harrell C-index minus the reference's on the same test \
             fold, mean ± sd over folds.\n"
        );
    }
    let survival: Vec<Surv> = cases.iter().map(|c| c.survival).collect();
    let _ = writeln!(s, "## Incremental value\n");
    match crate::incremental::incremental_table(outcome, &survival, methods, 500, config.seed) {
        Some(table) => {
            s.push_str(&table);
            let _ = writeln!(
                s,
                "\nPer fold, Cox models on the baseline's risk alone and on both risks (z-scored) \
                 are fitted on the training fold; the C-indices are the test fold's, averaged over \
                 folds; the gain's interval resamples test patients within each fold (500 \
                 replicates); the likelihood ratio tests the added term on the training fold \
                 (1 df). \"above\" / \"below\": the interval excludes zero.\n"
            );
        }
        None => {
            let _ = writeln!(
                s,
                "Not available: the run lacks a pair of the compared methods or their training-fold \
                 risks (runs made before they were recorded).\n"
            );
        }
    }
    let centre: Vec<&str> = cases.iter().map(|c| c.centre.as_str()).collect();
    if let Some(table) = per_centre_table(outcome, &centre, &survival, methods) {
        let _ = writeln!(s, "## Per centre\n");
        s.push_str(&table);
        let _ = writeln!(
            s,
            "\nHarrell's C over each centre's test patients pooled over folds (each scored by its \
             own test fold's model); DSC aggregated over those patients' label maps. A \
             leave-one-centre-out split is `cv.group_by_centre = true` (`adamss demo --loco` runs one \
             beside the stratified split).\n"
        );
    }
    let _ = writeln!(s, "## Where the networks look\n");
    match looks_table(outcome, methods) {
        Some(table) => {
            s.push_str(&table);
            let _ = writeln!(
                s,
                "\nPer test patient, each map (the decoder's attention α, the encoder's fusion-gate \
                 weight w: near 1 the fused branch) is brought to the crop and averaged over levels \
                 (and channels); a region's mean, averaged over the patients that have it, and in \
                 parentheses its share of the crop's mass. Regions: the reference GTVp and GTVn, \
                 the unlabelled findings of the cohort's finding maps (`synthetic_findings/`, \
                 when present), the rest of the body (CT above {} HU), the air. Findings ÷ rest: \
                 per patient with a finding, mean ± sd over them.\n",
                crate::looks::BODY_HU
            );
        }
        None => {
            let _ = writeln!(
                s,
                "Not available: no network method in the run, or a run made before it was \
                 recorded.\n"
            );
        }
    }
    let run = crate::run::RunDir::new(dir);
    let mut figures = Vec::new();
    for &m in methods {
        for c in cases {
            let path = run.looks_figure(0, m, &c.id);
            if path.is_file() {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                figures.push(format!("![{} — {}]({rel})", m.label(), c.id));
            }
        }
    }
    if !figures.is_empty() {
        let _ = writeln!(
            s,
            "Fold 0's test patients (those with an unlabelled finding first), axial slices through \
             the GTVp and through the finding: CT, PET, and the CT with the attention in red \
             (opacity scaled to its range over the crop); outlines GTVp green, GTVn cyan, finding \
             yellow.\n\n{}\n",
            figures.join("\n\n")
        );
    }
    let _ = writeln!(s, "## Intervals and Uno's C-index\n");
    let _ = writeln!(s, "| method | Harrell 95 % bootstrap CI | Uno's C (mean ± sd) | columns the LASSO kept per fold (radiomics and clinical) |");
    let _ = writeln!(s, "|---|---|---|---|");
    for (k, &m) in methods.iter().enumerate() {
        let ci = bootstrap_c_index(outcome, cases, m, 500, config.seed ^ k as u64)
            .map_or("–".into(), |(a, b)| format!("{a:.3} – {b:.3}"));
        let uno = outcome
            .uno_summary(m)
            .map_or("–".into(), |(a, b)| format!("{a:.3} ± {b:.3}"));
        let sel: Vec<String> = outcome
            .results
            .iter()
            .filter(|r| r.method == m)
            .filter_map(|r| r.selected_features.map(|n| n.to_string()))
            .collect();
        let sel = if sel.is_empty() {
            "–".into()
        } else {
            sel.join(", ")
        };
        let _ = writeln!(s, "| {} | {ci} | {uno} | {sel} |", m.label());
    }
    let _ = writeln!(s, "\n## Per fold\n");
    let _ = writeln!(
        s,
        "| fold | method | Harrell | Uno | DSC GTVp | DSC GTVn | seconds |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    let f3 = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    for r in &outcome.results {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.0} |",
            r.fold,
            r.method.label(),
            f3(r.c_index),
            f3(r.uno_c),
            f3(r.dsc.map(|d| d[0])),
            f3(r.dsc.map(|d| d[1])),
            r.seconds
        );
    }
    let _ = writeln!(s, "\n## Risk stratification\n");
    for &m in methods {
        let st = stratify(outcome, cases, m);
        let y: Vec<Surv> = st.groups.iter().map(|&(i, _)| cases[i].survival).collect();
        let high: Vec<bool> = st.groups.iter().map(|&(_, h)| h).collect();
        let name = format!("km-{}.svg", m.key());
        plot::km_svg(&dir.join(&name), m.label(), &y, &high, st.p_value)?;
        let _ = writeln!(s, "![{}]({name})\n", m.label());
    }
    let path = dir.join("report.md");
    adamss_io::write_atomic(&path, s.as_bytes())?;
    Ok(path)
}

/// A risks file joined with a cohort's endpoints ([`read_risks`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JoinedRisks {
    /// `(id, risk, high_risk, time, event)` for every patient with an endpoint, in file order.
    pub rows: Vec<(String, f64, Option<bool>, f64, bool)>,
    /// Patients of the file without an endpoint in the cohort (left out).
    pub missing: Vec<String>,
    /// Each row's test fold, for one method's rows of a file with a `fold` column
    /// ([`read_method_risks`] on a cross-validation's `predictions.csv`); `None` otherwise.
    pub folds: Option<Vec<usize>>,
}

/// Reads a CSV of risk scores (`PatientID`, `risk`, optionally `high_risk` as 0/1; e.g.
/// `adamss predict`'s `risks.csv`) and joins it with the endpoints of `cohort`, ready for
/// [`evaluate_risks`]. Errors name the file and the patient: a missing column, a risk that is
/// not a finite number, a `high_risk` other than 0, 1 or empty, and a patient on two rows
/// (a cross-validation's `predictions.csv` has one row per method: pick one with
/// [`read_method_risks`]).
pub fn read_risks(path: &Path, cohort: &adamss_io::Cohort) -> Result<JoinedRisks> {
    read_risks_where(path, cohort, None)
}

/// [`read_risks`] on the rows of one method of a file with a `method` column (a
/// cross-validation's `predictions.csv`, whose methods are [`Method::key`]s), with each row's
/// test fold where the file has a `fold` column (a fold that is not a whole number is an error
/// naming the patient and line); an error lists the methods the file has when none of its rows
/// is `method`'s.
pub fn read_method_risks(
    path: &Path,
    cohort: &adamss_io::Cohort,
    method: &str,
) -> Result<JoinedRisks> {
    read_risks_where(path, cohort, Some(method))
}

/// Harrell's C of each test fold's rows of `joined` and their mean ± sd over the folds (as the
/// run's report gives a cross-validation's C), as markdown; `None` without [`JoinedRisks::folds`]
/// or with one fold. Folds without a comparable pair are named and left out of the mean.
pub fn fold_c_table(joined: &JoinedRisks) -> Option<String> {
    let folds = joined.folds.as_ref()?;
    let mut by_fold: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &f) in folds.iter().enumerate() {
        by_fold.entry(f).or_default().push(i);
    }
    if by_fold.len() < 2 {
        return None;
    }
    let mut s = String::new();
    let _ = writeln!(s, "| fold | patients | events | Harrell's C |");
    let _ = writeln!(s, "|---|---|---|---|");
    let mut cs = Vec::new();
    for (fold, idx) in &by_fold {
        let rows: Vec<_> = idx.iter().map(|&i| &joined.rows[i]).collect();
        let y: std::result::Result<Vec<Surv>, _> =
            rows.iter().map(|r| Surv::new(r.3, r.4)).collect();
        let risk: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let c = y
            .ok()
            .and_then(|y| harrell(&y, &risk, DEFAULT_TIED_TOL).ok())
            .map(|c| c.c_index);
        let events = rows.iter().filter(|r| r.4).count();
        let shown = c.map_or("– (no comparable pair)".to_string(), |c| {
            format!("{c:.3}")
        });
        let _ = writeln!(s, "| {fold} | {} | {events} | {shown} |", rows.len());
        cs.extend(c);
    }
    if let Some((m, sd)) = mean_sd(cs.iter().copied()) {
        let _ = writeln!(
            s,
            "\nMean ± sd over the {} folds: **{m:.3} ± {sd:.3}** (the run's report gives this figure; \
             the C above pools the folds, whose models score on different scales).",
            cs.len()
        );
    }
    Some(s)
}

fn read_risks_where(
    path: &Path,
    cohort: &adamss_io::Cohort,
    method: Option<&str>,
) -> Result<JoinedRisks> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::file(path, e))?;
    let headers = reader.headers().map_err(|e| Error::file(path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(id_col), Some(risk_col)) = (col("PatientID"), col("risk")) else {
        return Err(Error::file(path, "needs PatientID and risk columns"));
    };
    let high_col = col("high_risk");
    // Folds matter only to one method's rows of a cross-validation's file.
    let fold_col = method.and(col("fold"));
    let mut folds: Vec<usize> = Vec::new();
    let method_col = match (method, col("method")) {
        (Some(_), None) => {
            return Err(Error::file(path, "has no method column to choose rows by"));
        }
        (Some(_), Some(c)) => Some(c),
        (None, _) => None,
    };
    let mut endpoints: HashMap<&str, Option<Surv>> = HashMap::new();
    for r in cohort.records() {
        endpoints.entry(r.id.as_str()).or_insert(r.survival);
    }
    let mut joined = JoinedRisks::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut methods: Vec<String> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| Error::file(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        if let (Some(c), Some(want)) = (method_col, method) {
            let m = rec.get(c).unwrap_or_default().trim();
            if !methods.iter().any(|k| k == m) {
                methods.push(m.to_string());
            }
            if m != want {
                continue;
            }
        }
        let id = rec.get(id_col).unwrap_or_default().trim().to_string();
        if let Some(first) = seen.insert(id.clone(), line) {
            let hint = if col("method").is_some() && method.is_none() {
                " (the file has a method column: evaluate one method's rows)"
            } else {
                ""
            };
            return Err(Error::file(
                path,
                format!("patient {id} is on lines {first} and {line}{hint}"),
            ));
        }
        let risk: f64 = rec
            .get(risk_col)
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|e| Error::file(path, format!("risk of {id} (line {line}): {e}")))?;
        if !risk.is_finite() {
            return Err(Error::file(
                path,
                format!("risk of {id} (line {line}) is not a finite number ({risk})"),
            ));
        }
        let high = match high_col.and_then(|c| rec.get(c)).map(str::trim) {
            None | Some("") => None,
            Some("0") => Some(false),
            Some("1") => Some(true),
            Some(v) => {
                return Err(Error::file(
                    path,
                    format!("high_risk of {id} (line {line}) is {v:?}, not 0 or 1"),
                ))
            }
        };
        let fold = match fold_col.map(|c| rec.get(c).unwrap_or_default().trim()) {
            None => 0,
            Some(f) => f.parse::<usize>().map_err(|_| {
                Error::file(
                    path,
                    format!("fold of {id} (line {line}) is {f:?}, not a whole number"),
                )
            })?,
        };
        match endpoints.get(id.as_str()).copied().flatten() {
            Some(s) => {
                joined.rows.push((id, risk, high, s.time(), s.event()));
                folds.push(fold);
            }
            None => joined.missing.push(id),
        }
    }
    if let Some(want) = method {
        if seen.is_empty() {
            return Err(Error::file(
                path,
                format!(
                    "no row of method {want:?}; its methods: {}",
                    if methods.is_empty() {
                        "none".to_string()
                    } else {
                        methods.join(", ")
                    }
                ),
            ));
        }
    }
    joined.folds = fold_col.map(|_| folds);
    Ok(joined)
}

/// Evaluates risk scores against endpoints: `(id, risk, high_risk, time, event)` rows. Writes
/// `evaluation.md` and `km.svg` under `out` and returns the markdown. Groups are the given
/// `high_risk` flags when every row has one, otherwise the median split of the risks.
pub fn evaluate_risks(
    rows: &[(String, f64, Option<bool>, f64, bool)],
    out: &Path,
) -> Result<String> {
    let s = evaluation(rows, out)?;
    adamss_io::write_atomic(out.join("evaluation.md"), s.as_bytes())?;
    Ok(s)
}

/// [`evaluate_risks`] on a joined file, and for one method's rows of a cross-validation
/// (with [`JoinedRisks::folds`]) each test fold's C beside the pooled one ([`fold_c_table`]),
/// in the same `evaluation.md`.
pub fn evaluate_joined(joined: &JoinedRisks, out: &Path) -> Result<String> {
    let mut s = evaluation(&joined.rows, out)?;
    if let Some(folds) = fold_c_table(joined) {
        let _ = write!(s, "\n## Per test fold\n\n{folds}");
    }
    adamss_io::write_atomic(out.join("evaluation.md"), s.as_bytes())?;
    Ok(s)
}

/// The evaluation's markdown (`km.svg` written under `out`).
fn evaluation(rows: &[(String, f64, Option<bool>, f64, bool)], out: &Path) -> Result<String> {
    let y: Vec<Surv> = rows
        .iter()
        .map(|r| Surv::new(r.3, r.4))
        .collect::<std::result::Result<_, _>>()?;
    let risk: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let c = harrell(&y, &risk, DEFAULT_TIED_TOL)?;
    let tau = y
        .iter()
        .filter(|s| s.event())
        .map(|s| s.time())
        .fold(f64::NEG_INFINITY, f64::max);
    let uno = adamss_survival::uno_c(&y, &y, &risk, Some(tau), DEFAULT_TIED_TOL)
        .ok()
        .map(|c| c.c_index);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut boot = Vec::new();
    for _ in 0..1000 {
        let pick: Vec<usize> = (0..y.len()).map(|_| rng.gen_range(0..y.len())).collect();
        let yb: Vec<Surv> = pick.iter().map(|&i| y[i]).collect();
        let rb: Vec<f64> = pick.iter().map(|&i| risk[i]).collect();
        if let Ok(cb) = harrell(&yb, &rb, DEFAULT_TIED_TOL) {
            if cb.comparable() > 0 {
                boot.push(cb.c_index);
            }
        }
    }
    boot.sort_by(f64::total_cmp);
    let q = |p: f64| {
        boot.get(((boot.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
    };
    let (high, rule): (Vec<bool>, &str) = if rows.iter().all(|r| r.2.is_some()) {
        (
            rows.iter().map(|r| r.2 == Some(true)).collect(),
            "the given high_risk flags",
        )
    } else {
        let m = crate::stats::median(&risk);
        (
            risk.iter().map(|&r| r > m).collect(),
            "the median risk of these patients",
        )
    };
    let groups: Vec<usize> = high.iter().map(|&h| usize::from(h)).collect();
    let p = (groups.contains(&0) && groups.contains(&1))
        .then(|| logrank(&y, &groups).ok().map(|l| l.p_value))
        .flatten();
    std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
    plot::km_svg(&out.join("km.svg"), "risk groups", &y, &high, p)?;
    let f3 = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Evaluation of {} patients ({} events)\n",
        y.len(),
        y.iter().filter(|s| s.event()).count()
    );
    let _ = writeln!(
        s,
        "| Harrell's C | 95 % bootstrap CI | Uno's C (τ = {tau:.0}) | log-rank p, high vs low |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    let _ = writeln!(
        s,
        "| {:.3} | {} – {} | {} | {} |",
        c.c_index,
        f3(q(0.025)),
        f3(q(0.975)),
        f3(uno),
        p.map_or("–".into(), |p| format!("{p:.2e}"))
    );
    let _ = writeln!(s, "\nGroups: {rule}. ![Kaplan–Meier](km.svg)");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::FoldResult;

    fn outcome(c: &[(Method, [f64; 2])]) -> CvOutcome {
        let results = c
            .iter()
            .flat_map(|&(method, per_fold)| {
                per_fold
                    .into_iter()
                    .enumerate()
                    .map(move |(fold, c)| FoldResult {
                        fold,
                        method,
                        c_index: Some(c),
                        uno_c: None,
                        dsc: None,
                        test_risks: Vec::new(),
                        train_median_risk: 0.0,
                        train_risks: Vec::new(),
                        test_overlaps: Vec::new(),
                        test_looks: Vec::new(),
                        selected_features: None,
                        seconds: 0.0,
                    })
            })
            .collect();
        CvOutcome {
            fold_of: vec![0, 1, 0, 1],
            results,
        }
    }

    /// Stratified beside leave-one-centre-out: each LOCO fold named by its held-out centre.
    #[test]
    fn loco_table_by_hand() {
        let s = Method::Ssl;
        let stratified = outcome(&[(s, [0.60, 0.70])]);
        let loco = outcome(&[(s, [0.70, 0.80])]);
        // fold_of [0, 1, 0, 1]: fold 0 holds patients 0 and 2 (centre A), fold 1 B.
        let table = loco_table(&stratified, &loco, &["A", "B", "A", "B"], &[s]);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(
            rows[0],
            "| method | C, stratified (2 folds) | C, leave one centre out (2 centres) | held out A | held out B |"
        );
        assert_eq!(
            rows[2],
            format!(
                "| {} | 0.650 ± 0.071 | 0.750 ± 0.071 | 0.700 | 0.800 |",
                s.label()
            )
        );
        // Two centres in one test fold are named together.
        let table = loco_table(&stratified, &loco, &["A", "B", "C", "B"], &[s]);
        assert!(
            table
                .lines()
                .next()
                .unwrap()
                .ends_with("| held out A+C | held out B |"),
            "{table}"
        );
    }

    /// Two regimes side by side: C, the gap to the baseline paired by fold, by hand.
    #[test]
    fn regimes_table_by_hand() {
        let b = Method::LassoCoxRadiomics;
        let s = Method::Ssl;
        let first = outcome(&[(b, [0.70, 0.80]), (s, [0.60, 0.70])]);
        let second = outcome(&[(b, [0.60, 0.70]), (s, [0.70, 0.80])]);
        let table = regimes_table(
            &[
                RegimeRun {
                    name: "labels-only",
                    outcome: &first,
                    survival: &[],
                },
                RegimeRun {
                    name: "beyond-labels",
                    outcome: &second,
                    survival: &[],
                },
            ],
            &[b, s],
            0,
        );
        let rows: Vec<&str> = table.lines().collect();
        assert!(rows[0].contains("C, labels-only") && rows[0].contains("C, beyond-labels"));
        assert_eq!(
            rows[3],
            format!(
                "| {} | 0.650 ± 0.071 | -0.100 ± 0.000 | – | – | – | 0.750 ± 0.071 | +0.100 ± 0.000 | – | – | – |",
                s.label()
            )
        );
        assert!(
            rows[2].contains("| 0.750 ± 0.071 | – | – | – | – |"),
            "{table}"
        );
    }

    /// Where the network looks, by hand: region means and shares, the findings ÷ rest ratio,
    /// in the report's table and in the two-regime table.
    #[test]
    fn looks_tables_by_hand() {
        use crate::looks::{Looks, RegionSums};
        let m = Method::Ssl;
        // Patient 0: findings mean 0.9 over a rest-of-body mean 0.3 (ratio 3); patient 1 has
        // no finding. GTVp means 0.5 and 0.7; shares of the crop's mass as computed by hand.
        let a0 = RegionSums {
            sum: [1.0, 0.0, 0.9, 3.0, 0.1],
            voxels: [2, 0, 1, 10, 7],
        };
        let a1 = RegionSums {
            sum: [1.4, 0.2, 0.0, 2.0, 0.4],
            voxels: [2, 1, 0, 10, 7],
        };
        let looks = |a| Looks {
            attention: Some(a),
            gate: None,
        };
        let result = FoldResult {
            fold: 0,
            method: m,
            c_index: Some(0.5),
            uno_c: None,
            dsc: None,
            test_risks: vec![(0, 1.0), (1, 0.0)],
            train_median_risk: 0.0,
            train_risks: Vec::new(),
            test_overlaps: Vec::new(),
            test_looks: vec![(0, looks(a0)), (1, looks(a1))],
            selected_features: None,
            seconds: 0.0,
        };
        let outcome = CvOutcome {
            fold_of: vec![0, 0],
            results: vec![result],
        };
        let table = looks_table(&outcome, &[m]).unwrap();
        let row = table.lines().nth(2).unwrap();
        // GTVp: means 0.5, 0.7 → 0.600; shares 1/5 and 1.4/4 → 27.5 %. Findings: 0.900,
        // share 0.9/5 = 18 %. Ratio 0.9/0.3 = 3 over the one patient with a finding.
        let head = format!("| {} | attention α | 0.600 (27.5 %) |", m.label());
        assert!(row.starts_with(&head), "{row}");
        assert!(row.contains("| 0.900 (18.0 %) |"), "{row}");
        assert!(row.ends_with("| 2 (1) |"), "{row}");
        assert!(row.contains("| 3.00 ± 0.00 | 2 (1) |"), "{row}");
        let surv = [
            Surv::new(1.0, true).unwrap(),
            Surv::new(2.0, false).unwrap(),
        ];
        let regimes = regimes_table(
            &[RegimeRun {
                name: "r",
                outcome: &outcome,
                survival: &surv,
            }],
            &[m],
            0,
        );
        let row = regimes.lines().nth(2).unwrap();
        assert!(row.ends_with("| – | 3.00 ± 0.00 |"), "{row}");
        assert!(
            regimes
                .lines()
                .next()
                .unwrap()
                .contains("α findings ÷ rest"),
            "{regimes}"
        );
    }

    /// Per-centre C and DSC computed by hand: centre A's patients 0 and 2, B's 1 and 3.
    #[test]
    fn per_centre_table_by_hand() {
        let m = Method::Ssl;
        let surv = [(10.0, true), (20.0, true), (30.0, false), (5.0, true)]
            .map(|(t, e)| Surv::new(t, e).unwrap());
        let result =
            |fold: usize, risks: Vec<(usize, f64)>, o: Vec<(usize, [[u64; 3]; 2])>| FoldResult {
                fold,
                method: m,
                c_index: None,
                uno_c: None,
                dsc: None,
                test_risks: risks,
                train_median_risk: 0.0,
                train_risks: Vec::new(),
                test_overlaps: o,
                test_looks: Vec::new(),
                selected_features: None,
                seconds: 0.0,
            };
        let outcome = CvOutcome {
            fold_of: vec![0, 0, 1, 1],
            results: vec![
                result(
                    0,
                    vec![(0, 2.0), (1, 1.0)],
                    vec![(0, [[5, 10, 10], [0, 0, 2]])],
                ),
                result(
                    1,
                    vec![(2, 1.0), (3, 0.5)],
                    vec![(2, [[1, 2, 2], [1, 1, 1]])],
                ),
            ],
        };
        let table = per_centre_table(&outcome, &["A", "B", "A", "B"], &surv, &[m]).unwrap();
        let rows: Vec<&str> = table.lines().collect();
        assert!(rows[0].contains("A (2 patients, 1 events)"), "{table}");
        // A: patient 0 (event at 10, risk 2) before 2 (censored 30, risk 1): concordant, C 1.
        // DSC GTVp 2·6/(12 + 12) = 0.5; GTVn 2·1/(1 + 3) = 0.5. B: 3 (event 5, risk 0.5)
        // before 1 (event 20, risk 1): discordant, C 0; no masks there.
        assert_eq!(
            rows[2],
            format!("| {} | 1.000; 0.500 / 0.500 | 0.000 |", m.label())
        );
    }

    /// Means over folds per replicate, their mean and range, and the gap to the baseline paired
    /// by fold within each replicate, computed by hand.
    #[test]
    fn replicates_table_by_hand() {
        let b = Method::LassoCoxRadiomics;
        let s = Method::Ssl;
        let reps = [
            outcome(&[(b, [0.70, 0.80]), (s, [0.60, 0.70])]), // means 0.75, 0.65; gap −0.10
            outcome(&[(b, [0.60, 0.70]), (s, [0.70, 0.70])]), // means 0.65, 0.70; gap +0.05
            outcome(&[(b, [0.70, 0.70]), (s, [0.60, 0.60])]), // means 0.70, 0.60; gap −0.10
        ];
        let table = replicates_table(&reps, &[b, s]).expect("table");
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 4, "{table}");
        assert!(rows[0].contains("C over 3 replicates"), "{table}");
        assert_eq!(
            rows[2],
            format!(
                "| {} | 0.750 | 0.650 | 0.700 | 0.700 [0.650, 0.750] | – |",
                b.label()
            )
        );
        assert_eq!(
            rows[3],
            format!(
                "| {} | 0.650 | 0.700 | 0.600 | 0.650 [0.600, 0.700] | -0.050 [-0.100, +0.050] |",
                s.label()
            )
        );
        assert!(replicates_table(&[], &[b]).is_err());
    }

    /// A two-patient cohort (CHUM-001: event at 100, CHUP-002: censored at 300) and a risks
    /// file of `text` under `dir`.
    fn risks_file(dir: &Path, text: &str) -> (std::path::PathBuf, adamss_io::Cohort) {
        use adamss_io::{CaseRecord, Clinical};
        let record = |id: &str, t: f64, e: bool| CaseRecord {
            id: id.into(),
            ct: "ct.nii.gz".into(),
            pet: "pet.nii.gz".into(),
            mask: None,
            survival: Surv::new(t, e).ok(),
            clinical: Clinical::default(),
        };
        let cohort = adamss_io::Cohort::from_records(vec![
            record("CHUM-001", 100.0, true),
            record("CHUP-002", 300.0, false),
        ])
        .unwrap();
        let path = dir.join("risks.csv");
        std::fs::write(&path, text).unwrap();
        (path, cohort)
    }

    #[test]
    fn a_risks_file_is_read_one_row_per_patient_or_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let read = |text: &str| {
            let (path, cohort) = risks_file(dir.path(), text);
            read_risks(&path, &cohort).map_err(|e| e.to_string())
        };
        let ok =
            read("PatientID,risk,high_risk\nCHUP-002,-0.5,0\nCHUM-001, 1.5 ,1\nX-9,2,\n").unwrap();
        assert_eq!(
            ok.rows,
            vec![
                ("CHUP-002".to_string(), -0.5, Some(false), 300.0, false),
                ("CHUM-001".to_string(), 1.5, Some(true), 100.0, true)
            ]
        );
        assert_eq!(ok.missing, vec!["X-9".to_string()]);
        for (text, says) in [
            (
                "PatientID,risk\nCHUM-001,1\nCHUM-001,2\n",
                "CHUM-001 is on lines 2 and 3",
            ),
            (
                "PatientID,risk\nCHUM-001,nan\n",
                "risk of CHUM-001 (line 2) is not a finite",
            ),
            ("PatientID,risk\nCHUM-001,inf\n", "not a finite number"),
            (
                "PatientID,risk\nCHUM-001,high\n",
                "risk of CHUM-001 (line 2)",
            ),
            (
                "PatientID,risk,high_risk\nCHUM-001,1,2\n",
                "high_risk of CHUM-001 (line 2) is \"2\"",
            ),
            (
                "PatientID,score\nCHUM-001,1\n",
                "needs PatientID and risk columns",
            ),
            (
                "method,PatientID,risk\nssl,CHUM-001,1\nmtl,CHUM-001,2\n",
                "the file has a method column",
            ),
        ] {
            let err = read(text).unwrap_err();
            assert!(
                err.contains("risks.csv") && err.contains(says),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn one_methods_rows_of_a_predictions_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = "fold,method,PatientID,risk\n0,ssl,CHUM-001,1\n0,mtl,CHUM-001,5\n\
                    1,ssl,CHUP-002,0.5\n1,mtl,CHUP-002,-5\n";
        let (path, cohort) = risks_file(dir.path(), text);
        let risks = |m: &str| -> Vec<f64> {
            read_method_risks(&path, &cohort, m)
                .unwrap()
                .rows
                .iter()
                .map(|r| r.1)
                .collect()
        };
        assert_eq!(risks("ssl"), vec![1.0, 0.5]);
        assert_eq!(risks("mtl"), vec![5.0, -5.0]);
        let err = read_method_risks(&path, &cohort, "single-task")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no row of method \"single-task\"; its methods: ssl, mtl"),
            "{err}"
        );
        let (plain, _) = risks_file(dir.path(), "PatientID,risk\nCHUM-001,1\n");
        let err = read_method_risks(&plain, &cohort, "ssl")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no method column"), "{err}");
    }

    #[test]
    fn a_predictions_file_by_fold() {
        let dir = tempfile::tempdir().unwrap();
        let text = "fold,method,PatientID,risk\n1,ssl,CHUM-001,1\n0,ssl,CHUP-002,0.5\n\
                    0,mtl,CHUM-001,5\n";
        let (path, cohort) = risks_file(dir.path(), text);
        let joined = read_method_risks(&path, &cohort, "ssl").unwrap();
        assert_eq!(joined.folds, Some(vec![1, 0]));
        let mut ids: Vec<(usize, Vec<&str>)> = Vec::new();
        for (r, &f) in joined.rows.iter().zip(joined.folds.iter().flatten()) {
            match ids.iter_mut().find(|(g, _)| *g == f) {
                Some((_, v)) => v.push(r.0.as_str()),
                None => ids.push((f, vec![r.0.as_str()])),
            }
        }
        ids.sort();
        assert_eq!(ids, vec![(0, vec!["CHUP-002"]), (1, vec!["CHUM-001"])]);
        // One patient a fold: no comparable pair, no mean.
        let t = fold_c_table(&joined).unwrap();
        assert!(t.contains("| 0 | 1 | 0 | – (no comparable pair) |"), "{t}");
        assert!(!t.contains("Mean"), "{t}");
        let (plain, _) = risks_file(dir.path(), "method,PatientID,risk\nssl,CHUM-001,1\n");
        assert!(read_method_risks(&plain, &cohort, "ssl")
            .unwrap()
            .folds
            .is_none());
        let (bad, _) = risks_file(dir.path(), "fold,method,PatientID,risk\nx,ssl,CHUM-001,1\n");
        let err = read_method_risks(&bad, &cohort, "ssl")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold of CHUM-001 (line 2) is \"x\""), "{err}");

        // Two folds by hand: one ranked perfectly (C = 1), one reversed (C = 0).
        let row = |id: &str, risk: f64, t: f64, e: bool| (id.to_string(), risk, None, t, e);
        let t = fold_c_table(&JoinedRisks {
            rows: vec![
                row("a", 2.0, 1.0, true),
                row("b", 1.0, 2.0, true),
                row("c", 1.0, 1.0, true),
                row("d", 2.0, 2.0, true),
            ],
            folds: Some(vec![0, 0, 1, 1]),
            ..JoinedRisks::default()
        })
        .unwrap();
        assert!(
            t.contains("| 0 | 2 | 2 | 1.000 |") && t.contains("| 1 | 2 | 2 | 0.000 |"),
            "{t}"
        );
        assert!(t.contains("**0.500 ± 0.707**"), "{t}");
    }
}
