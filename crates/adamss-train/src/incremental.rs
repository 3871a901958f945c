//! Incremental value, the way clinical papers test a new marker: does adding a method's risk to
//! a baseline's improve the prediction?
//!
//! Inside each fold, two Cox models are fitted **on the training fold**: one on the baseline's
//! risk alone, one on the baseline's risk plus the added method's (both z-scored with training
//! statistics). On the test fold, Harrell's C of the baseline's own risk is compared with that
//! of the two-term model's linear predictor; the gain is averaged over folds, with a 95 %
//! percentile bootstrap interval (test patients resampled with replacement within each fold),
//! and the added term is tested by the likelihood ratio of the two training-fold fits
//! (`CoxPh::likelihood_ratio_vs`, R's `anova(reduced, full)`). "Clearly above" means the
//! interval excludes zero.

use std::collections::HashMap;
use std::fmt::Write as _;

use adamss_survival::{harrell, ChiSquareTest, CoxPh, Surv, DEFAULT_TIED_TOL};
use ndarray::Array2;

use crate::method::Method;
use crate::outcome::{CvOutcome, FoldResult};
use crate::stats::fold_bootstrap;

/// The pairs every report tests, `(baseline, added)`: the networks over the radiomics
/// baseline, and SSL over the other two networks.
pub const PAIRS: [(Method, Method); 6] = [
    (Method::LassoCoxRadiomics, Method::Ssl),
    (Method::LassoCoxRadiomics, Method::SslRadiomics),
    (Method::LassoCoxRadiomics, Method::Mtl),
    (Method::LassoCoxRadiomics, Method::SingleTask),
    (Method::Mtl, Method::Ssl),
    (Method::SingleTask, Method::Ssl),
];

/// One fold of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldIncrement {
    /// Fold.
    pub fold: usize,
    /// Test-fold Harrell C of the baseline's risk.
    pub c_base: f64,
    /// Test-fold Harrell C of the two-term Cox model.
    pub c_combined: f64,
    /// The two-term model's coefficients (baseline, added), per training sd.
    pub coef: [f64; 2],
    /// Likelihood-ratio test of the added term on the training fold (1 df).
    pub lr: ChiSquareTest,
}

/// The analysis of one pair over the folds where both methods ran.
#[derive(Debug, Clone, PartialEq)]
pub struct IncrementalValue {
    /// The baseline.
    pub base: Method,
    /// The method whose risk is added.
    pub added: Method,
    /// Per fold.
    pub folds: Vec<FoldIncrement>,
    /// Mean over folds of `c_combined − c_base`.
    pub gain: f64,
    /// 95 % percentile bootstrap interval of the gain.
    pub interval: Option<(f64, f64)>,
}

/// Risks of one method in one fold, by patient index.
fn risks(r: &FoldResult, train: bool) -> HashMap<usize, f64> {
    let v = if train { &r.train_risks } else { &r.test_risks };
    v.iter().copied().collect()
}

/// Mean and population sd.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(),
    )
}

/// What the bootstrap needs of a fold: test `(survival, baseline risk, combined risk)`.
type TestRows = Vec<(Surv, f64, f64)>;

fn c_of(rows: &[(Surv, f64, f64)], pick: impl Fn(&(Surv, f64, f64)) -> f64) -> Option<f64> {
    let y: Vec<Surv> = rows.iter().map(|r| r.0).collect();
    let risk: Vec<f64> = rows.iter().map(pick).collect();
    harrell(&y, &risk, DEFAULT_TIED_TOL)
        .ok()
        .filter(|c| c.comparable() > 0)
        .map(|c| c.c_index)
}

/// One fold: the training-fold fits and the test rows; `None` when the fold lacks either
/// method's risks (or its training risks, in runs made before they were recorded) or a fit
/// fails.
fn fold(
    survival: &[Surv],
    base: &FoldResult,
    added: &FoldResult,
) -> Option<(FoldIncrement, TestRows)> {
    let at = risks(added, true);
    let train: Vec<(usize, f64, f64)> = base
        .train_risks
        .iter()
        .filter_map(|&(i, b)| at.get(&i).map(|&a| (i, b, a)))
        .collect();
    if train.len() < 3 {
        return None;
    }
    let (mb, sb) = mean_sd(&train.iter().map(|t| t.1).collect::<Vec<_>>());
    let (ma, sa) = mean_sd(&train.iter().map(|t| t.2).collect::<Vec<_>>());
    if !(sb > 0.0 && sa > 0.0) {
        return None;
    }
    let y: Vec<Surv> = train.iter().map(|t| survival[t.0]).collect();
    let x_full = Array2::from_shape_fn((train.len(), 2), |(r, c)| {
        let t = train[r];
        if c == 0 {
            (t.1 - mb) / sb
        } else {
            (t.2 - ma) / sa
        }
    });
    let x_base = x_full.slice(ndarray::s![.., ..1]).to_owned();
    let full = CoxPh::params().fit_arrays(x_full.view(), &y).ok()?;
    let reduced = CoxPh::params().fit_arrays(x_base.view(), &y).ok()?;
    let lr = full.likelihood_ratio_vs(&reduced).ok()?;
    let coef = [full.coef[0], full.coef[1]];
    let ta = risks(added, false);
    let rows: TestRows = base
        .test_risks
        .iter()
        .filter_map(|&(i, b)| {
            ta.get(&i).map(|&a| {
                let combined = coef[0] * (b - mb) / sb + coef[1] * (a - ma) / sa;
                (survival[i], b, combined)
            })
        })
        .collect();
    let c_base = c_of(&rows, |r| r.1)?;
    let c_combined = c_of(&rows, |r| r.2)?;
    Some((
        FoldIncrement {
            fold: base.fold,
            c_base,
            c_combined,
            coef,
            lr,
        },
        rows,
    ))
}

/// The incremental value of `added` over `base` in `outcome` (`survival[i]` is patient `i`'s
/// endpoint), with a `replicates`-fold bootstrap seeded by `seed`; `None` when no fold has
/// both methods' training and test risks.
pub fn incremental_value(
    outcome: &CvOutcome,
    survival: &[Surv],
    base: Method,
    added: Method,
    replicates: usize,
    seed: u64,
) -> Option<IncrementalValue> {
    let mut folds = Vec::new();
    let mut tests = Vec::new();
    for rb in outcome.results.iter().filter(|r| r.method == base) {
        let Some(ra) = outcome
            .results
            .iter()
            .find(|r| r.method == added && r.fold == rb.fold)
        else {
            continue;
        };
        if let Some((f, rows)) = fold(survival, rb, ra) {
            folds.push(f);
            tests.push(rows);
        }
    }
    if folds.is_empty() {
        return None;
    }
    let gain = folds.iter().map(|f| f.c_combined - f.c_base).sum::<f64>() / folds.len() as f64;
    let interval = fold_bootstrap(&tests, replicates, seed, |pick| {
        Some(c_of(pick, |r| r.2)? - c_of(pick, |r| r.1)?)
    });
    Some(IncrementalValue {
        base,
        added,
        folds,
        gain,
        interval,
    })
}

/// The report's table for every pair of [`PAIRS`] whose methods are in `methods`; `None` when
/// no pair can be analysed (a method missing, or a run made before training risks were kept).
pub fn incremental_table(
    outcome: &CvOutcome,
    survival: &[Surv],
    methods: &[Method],
    replicates: usize,
    seed: u64,
) -> Option<String> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| baseline | + added risk | C, baseline | C, baseline + added | gain (95 % bootstrap CI) | \
         likelihood-ratio test of the added term, per fold: χ² (p) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let mut any = false;
    for (k, &(base, added)) in PAIRS.iter().enumerate() {
        if !(methods.contains(&base) && methods.contains(&added)) {
            continue;
        }
        let Some(v) =
            incremental_value(outcome, survival, base, added, replicates, seed ^ k as u64)
        else {
            continue;
        };
        any = true;
        let n = v.folds.len() as f64;
        let cb = v.folds.iter().map(|f| f.c_base).sum::<f64>() / n;
        let cc = v.folds.iter().map(|f| f.c_combined).sum::<f64>() / n;
        let ci = v.interval.map_or("–".into(), |(a, b)| {
            let verdict = if a > 0.0 {
                "; above"
            } else if b < 0.0 {
                "; below"
            } else {
                ""
            };
            format!("[{a:+.3}, {b:+.3}]{verdict}")
        });
        let lr: Vec<String> = v
            .folds
            .iter()
            .map(|f| format!("{:.2} ({})", f.lr.statistic, p_text(f.lr.p_value)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {cb:.3} | {cc:.3} | {:+.3} {ci} | {} |",
            base.label(),
            added.label(),
            v.gain,
            lr.join("; ")
        );
    }
    any.then_some(s)
}

/// A p-value to three decimals, or `< 0.001` below that (not `0.000`).
fn p_text(p: f64) -> String {
    if p < 0.0005 {
        "< 0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// 3 folds of 60 patients: the baseline's risk carries half the true log hazard, the
    /// "informative" method the other half, the "noise" method none of it.
    fn outcome() -> (CvOutcome, Vec<Surv>) {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let n = 180;
        let (mut a, mut b, mut noise, mut surv) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let (x1, x2): (f64, f64) = (rng.gen_range(-1.7..1.7), rng.gen_range(-1.7..1.7));
            let eta = 0.9 * x1 + 0.9 * x2;
            let u: f64 = rng.gen_range(1e-9..1.0);
            let t = -u.ln() / eta.exp() * 100.0;
            let c = rng.gen_range(20.0..300.0);
            surv.push(Surv::new(t.min(c), t <= c).unwrap());
            b.push(x1 + 0.3 * rng.gen_range(-1.0..1.0));
            a.push(x2 + 0.3 * rng.gen_range(-1.0..1.0));
            noise.push(rng.gen_range(-1.0..1.0));
        }
        let fold_of: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let mut results = Vec::new();
        for (method, risk) in [
            (Method::LassoCoxRadiomics, &b),
            (Method::Ssl, &a),
            (Method::Mtl, &noise),
        ] {
            for k in 0..3 {
                let pick = |test: bool| -> Vec<(usize, f64)> {
                    (0..n)
                        .filter(|&i| (fold_of[i] == k) == test)
                        .map(|i| (i, risk[i]))
                        .collect()
                };
                results.push(FoldResult {
                    fold: k,
                    method,
                    c_index: None,
                    uno_c: None,
                    dsc: None,
                    test_risks: pick(true),
                    train_median_risk: 0.0,
                    train_risks: pick(false),
                    test_overlaps: Vec::new(),
                    test_looks: Vec::new(),
                    selected_features: None,
                    seconds: 0.0,
                });
            }
        }
        (CvOutcome { fold_of, results }, surv)
    }

    /// The two-regime table's gain cell is the report's (the same bootstrap draw per pair).
    #[test]
    fn regimes_table_shows_the_reports_gain() {
        let (o, surv) = outcome();
        let methods = [Method::LassoCoxRadiomics, Method::Ssl, Method::Mtl];
        let report = incremental_table(&o, &surv, &methods, 500, 11).unwrap();
        let regimes = crate::report::regimes_table(
            &[crate::report::RegimeRun {
                name: "r",
                outcome: &o,
                survival: &surv,
            }],
            &methods,
            11,
        );
        for m in [Method::Ssl, Method::Mtl] {
            let row = report
                .lines()
                .find(|l| {
                    l.starts_with(&format!(
                        "| {} | {} |",
                        Method::LassoCoxRadiomics.label(),
                        m.label()
                    ))
                })
                .unwrap();
            // "| base | added | C | C | gain [lo, hi]; verdict | ..." → "gain [lo, hi]".
            let cell = row.split('|').nth(5).unwrap().trim();
            let gain = cell.split(';').next().unwrap();
            let line = regimes
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", m.label())))
                .unwrap();
            assert!(line.contains(&format!("| {gain} |")), "{gain}\n{line}");
        }
    }

    #[test]
    fn an_informative_risk_adds_value_and_noise_does_not() {
        let (o, surv) = outcome();
        let b = Method::LassoCoxRadiomics;
        let good = incremental_value(&o, &surv, b, Method::Ssl, 300, 1).unwrap();
        assert_eq!(good.folds.len(), 3);
        let (lo, _) = good.interval.unwrap();
        assert!(lo > 0.0, "{good:?}");
        assert!(good
            .folds
            .iter()
            .all(|f| f.lr.p_value < 0.01 && f.coef[1] > 0.0));
        // The baseline's C is the C of its own risk on the test fold.
        let f0 = &good.folds[0];
        let test: Vec<(usize, f64)> = o.results[0].test_risks.clone();
        let y: Vec<Surv> = test.iter().map(|&(i, _)| surv[i]).collect();
        let r: Vec<f64> = test.iter().map(|&(_, r)| r).collect();
        assert_eq!(
            f0.c_base,
            harrell(&y, &r, DEFAULT_TIED_TOL).unwrap().c_index
        );
        let bad = incremental_value(&o, &surv, b, Method::Mtl, 300, 1).unwrap();
        // Noise adds nothing: the interval does not lie above zero (a noise term fitted on
        // the training fold even costs a little C on the test fold), the LR test does not
        // reject in any fold.
        let (lo, _) = bad.interval.unwrap();
        assert!(lo < 0.0 && bad.gain < 0.005, "{bad:?}");
        assert!(bad.folds.iter().all(|f| f.lr.p_value > 0.05), "{bad:?}");
        // The table lists the pairs whose methods ran, and marks the verdict.
        let table = incremental_table(&o, &surv, &[b, Method::Ssl, Method::Mtl], 200, 1).unwrap();
        assert_eq!(table.lines().count(), 2 + 3, "{table}");
        assert!(table.contains("; above"), "{table}");
        // Runs without training risks give no table.
        let mut old = o.clone();
        old.results.iter_mut().for_each(|r| r.train_risks.clear());
        assert!(incremental_table(&old, &surv, &[b, Method::Ssl], 100, 1).is_none());
    }

    #[test]
    fn small_p_values_are_not_printed_as_zero() {
        assert_eq!(p_text(2.3e-6), "< 0.001");
        assert_eq!(p_text(0.0004), "< 0.001");
        assert_eq!(p_text(0.0123), "0.012");
        assert_eq!(p_text(0.94), "0.940");
    }
}
