//! Which penalty choice makes the strongest LASSO-Cox clinical baseline? Evidence from
//! synthetic cohorts other than the main job's (issue #24, item 0): for each of `N` cohorts
//! (seeds 9001…, 150 patients, both regimes), the main job's split (3 folds, stratified by
//! event) and its clinical encoding (cpu-small's variables, fitted on the training fold), every
//! candidate is fitted on the training fold and scored by Harrell's C on the test fold.
//!
//! Candidates: LASSO-Cox with the penalty chosen by cross-validated partial-likelihood deviance
//! (Verweij & van Houwelingen, as `cv.glmnet`) with 3, 5 or 10 inner folds, the best penalty
//! (`lambda.min`) or the largest within one standard error (`lambda.1se`), single or repeated
//! (5 repeats, the deviance curves averaged), LASSO or elastic net; the LASSO with the
//! textbook prognostic factors (`PRESPECIFIED_CLINICAL`: HPV, tobacco, age, performance
//! status) fitted unpenalised and the rest selected around them; and unpenalised Cox models on
//! every clinical variable (what a lifelines user fits first) and on the pre-specified ones.
//! All keep at most 8 coefficients (never dropping an unpenalised one), as cpu-small. The last
//! column is the paired gap to the plain 3-fold LASSO (cpu-small's former rule), mean ± se over
//! the cohorts' folds. The result is in docs/benchmarks.md, "Baselines".
//!
//! ```text
//! cargo run --release --example baseline_study -- [COHORTS] [PATIENTS]
//! ```
//!
//! Only the patients' tables matter here, so the cohorts are generated on a coarse 32 mm grid.

use std::collections::BTreeMap;

use adamss::io::synthetic::Regime;
use adamss::io::{generate_synthetic, Cohort, Surv, SyntheticConfig};
use adamss::radiomics::{FeatureSelector, FeatureTable, PenaltyRule, SelectorConfig};
use adamss::survival::{harrell, CoxPh, CvMetric};
use adamss::train::{split, ClinicalEncoder, ExperimentConfig, PRESPECIFIED_CLINICAL};
use ndarray::Array2;

enum Candidate {
    Lasso(SelectorConfig),
    /// An unpenalised Cox model on these clinical variables (all encoded columns).
    Cox(Vec<String>),
}

fn candidates(variables: &[String]) -> Vec<(String, Candidate)> {
    let mut out = vec![(
        "Cox, every clinical variable".to_string(),
        Candidate::Cox(variables.to_vec()),
    )];
    for (folds, repeats, l1_ratio) in [
        (3, 1, 1.0),
        (5, 1, 1.0),
        (10, 1, 1.0),
        (10, 5, 1.0),
        (10, 5, 0.5),
        (10, 5, 0.1),
    ] {
        for rule in [PenaltyRule::Best, PenaltyRule::OneStandardError] {
            let name = format!(
                "{} {folds}-fold{} {}",
                if l1_ratio < 1.0 {
                    format!("elastic net {l1_ratio}")
                } else {
                    "LASSO".into()
                },
                if repeats > 1 { " ×5" } else { "" },
                match rule {
                    PenaltyRule::Best => "min",
                    PenaltyRule::OneStandardError => "1se",
                }
            );
            out.push((
                name,
                Candidate::Lasso(SelectorConfig {
                    folds,
                    repeats,
                    rule,
                    metric: CvMetric::Deviance,
                    n_alphas: 50,
                    l1_ratio,
                    seed: 0,
                    unpenalized: Vec::new(),
                }),
            ));
        }
    }
    for (folds, n_alphas) in [(3, 30), (10, 50)] {
        out.push((
            format!("LASSO {folds}-fold min, pre-specified unpenalised"),
            Candidate::Lasso(SelectorConfig {
                folds,
                n_alphas,
                unpenalized: PRESPECIFIED_CLINICAL.map(String::from).to_vec(),
                ..SelectorConfig::default()
            }),
        ));
    }
    out.push((
        "Cox, pre-specified (HPV, tobacco, age, performance)".into(),
        Candidate::Cox(PRESPECIFIED_CLINICAL.map(String::from).to_vec()),
    ));
    out
}

#[derive(Default)]
struct Tally {
    c: Vec<f64>,
    selected: Vec<usize>,
    failed: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cohorts: u64 = args.next().map_or(Ok(8), |v| v.parse())?;
    let patients: usize = args.next().map_or(Ok(150), |v| v.parse())?;
    let preset = ExperimentConfig::preset("cpu-small")?;
    let variables = preset.clinical.variables.clone();
    let max_selected = preset.radiomics.max_selected;
    let dir = tempfile::tempdir()?;
    for regime in [Regime::LabelsOnly, Regime::BeyondLabels] {
        let mut tallies: BTreeMap<usize, Tally> = BTreeMap::new();
        let cands = candidates(&variables);
        for c in 0..cohorts {
            let seed = 9001 + c;
            let config = SyntheticConfig {
                patients,
                seed,
                field_of_view_mm: [32.0; 3],
                ct_spacing_mm: [4.0; 3],
                pet_spacing_mm: [8.0; 3],
                regime,
                ..SyntheticConfig::default()
            };
            let root = match std::env::var("STUDY_COHORT") {
                Ok(p) => std::path::PathBuf::from(p),
                Err(_) => {
                    let root = dir.path().join(format!("{}-{seed}", regime.name()));
                    generate_synthetic(&root, &config, &|_| {})?;
                    root
                }
            };
            let (cohort, _) = Cohort::hecktor(&root)?;
            let records = cohort.records();
            let surv: Vec<Surv> = records
                .iter()
                .map(|r| r.survival.expect("endpoint"))
                .collect();
            let events: Vec<bool> = surv.iter().map(Surv::event).collect();
            let fold_of = split::folds(&events, None, 3, seed)?;
            for fold in 0..3 {
                let train: Vec<usize> =
                    (0..records.len()).filter(|&i| fold_of[i] != fold).collect();
                let test: Vec<usize> = (0..records.len()).filter(|&i| fold_of[i] == fold).collect();
                let train_clinical: Vec<_> = train.iter().map(|&i| &records[i].clinical).collect();
                let enc = ClinicalEncoder::fit(&train_clinical, &variables)?;
                let names = enc.feature_names();
                let rows: Vec<Vec<f64>> =
                    records.iter().map(|r| enc.transform(&r.clinical)).collect();
                let y_train: Vec<Surv> = train.iter().map(|&i| surv[i]).collect();
                let y_test: Vec<Surv> = test.iter().map(|&i| surv[i]).collect();
                for (k, (_, cand)) in cands.iter().enumerate() {
                    let t = tallies.entry(k).or_default();
                    let risk: Option<(Vec<f64>, usize)> = match cand {
                        Candidate::Lasso(cfg) => {
                            let table = FeatureTable {
                                names: names.clone(),
                                rows: train
                                    .iter()
                                    .map(|&i| (records[i].id.clone(), rows[i].clone()))
                                    .collect(),
                                failures: Vec::new(),
                            };
                            // Forced variables: every encoded column of theirs.
                            let unpenalized = enc.feature_names_of(&cfg.unpenalized);
                            let cfg = SelectorConfig {
                                seed: seed * 10 + fold as u64,
                                unpenalized,
                                ..cfg.clone()
                            };
                            FeatureSelector::fit(&table, &y_train, &cfg)
                                .ok()
                                .map(|mut sel| {
                                    sel.keep_largest(max_selected);
                                    let risk = test
                                        .iter()
                                        .map(|&i| {
                                            let z = sel
                                                .transform_imputed(&names, &rows[i])
                                                .expect("row");
                                            sel.linear_predictor(&z)
                                        })
                                        .collect();
                                    (risk, sel.selected.len())
                                })
                        }
                        Candidate::Cox(vars) => {
                            let enc = ClinicalEncoder::fit(&train_clinical, vars)?;
                            let rows: Vec<Vec<f64>> =
                                records.iter().map(|r| enc.transform(&r.clinical)).collect();
                            let p = enc.names().len();
                            let x = |idx: &[usize]| {
                                Array2::from_shape_fn((idx.len(), p), |(r, c)| rows[idx[r]][c])
                            };
                            CoxPh::params()
                                .fit_arrays(x(&train).view(), &y_train)
                                .and_then(|m| m.risk(x(&test).view()))
                                .ok()
                                .map(|r| (r.to_vec(), p))
                        }
                    };
                    match risk {
                        Some((r, n)) => {
                            t.c.push(harrell(&y_test, &r, 1e-8)?.c_index);
                            t.selected.push(n);
                        }
                        None => t.failed += 1,
                    }
                }
            }
        }
        println!(
            "\n{} regime: {cohorts} cohorts × 3 folds, {patients} patients each",
            regime.name()
        );
        println!(
            "| candidate | C mean | C sd | paired gap to LASSO 3-fold min (mean ± se) | selected (mean) | selected none | failed |"
        );
        println!("|---|---|---|---|---|---|---|");
        let reference = &tallies[&1].c;
        for (k, (name, _)) in cands.iter().enumerate() {
            let t = &tallies[&k];
            let n = t.c.len().max(1) as f64;
            let mean = t.c.iter().sum::<f64>() / n;
            let sd =
                (t.c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
            let sel = t.selected.iter().sum::<usize>() as f64 / n;
            let none = t.selected.iter().filter(|&&s| s == 0).count();
            let gaps: Vec<f64> = t.c.iter().zip(reference).map(|(a, b)| a - b).collect();
            let g = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
            let gse = (gaps.iter().map(|v| (v - g).powi(2)).sum::<f64>()
                / ((gaps.len().max(2) - 1) * gaps.len().max(1)) as f64)
                .sqrt();
            println!(
                "| {name} | {mean:.3} | {sd:.3} | {g:+.3} ± {gse:.3} | {sel:.1} | {none}/{} | {} |",
                t.c.len(),
                t.failed
            );
        }
    }
    Ok(())
}
