//! Elastic-net Cox paths against scikit-survival 0.28's `CoxnetSurvivalAnalysis` (raw
//! covariates, `normalize=False`, tol 1e-13) and R glmnet 4.1 (`standardize=TRUE`, population
//! sd; checked by objective only), from `tools/survival_reference.py`. Tolerances: coefficients 1e-5 (relative, absolute
//! below 1e-2) on the raw scale; on the standardised problem, where scikit-survival stops
//! slightly short of the optimum along a flat direction, 1e-4 — and there our objective must be
//! no worse than the reference's (1e-12). Penalties of the automatic path 1e-10.

use adamss_survival::{Coxnet, CvMetric, PartialLikelihood, PathEnd, Reduction, Surv, Ties};
use linfa::ParamGuard;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::{expected, f64s, load};

fn coef_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1e-2),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

/// The elastic-net objective on the raw scale; `scale` weights the penalty (sd when standardised).
fn objective(
    x: ArrayView2<f64>,
    y: &[Surv],
    beta: &Array1<f64>,
    alpha: f64,
    l1: f64,
    pf: &[f64],
    scale: &Array1<f64>,
) -> f64 {
    let eta = x.dot(beta);
    let nll = PartialLikelihood::new(y, Ties::Breslow)
        .unwrap()
        .nll(eta.as_slice().unwrap(), Reduction::Sum)
        .unwrap();
    let pen: f64 = beta
        .iter()
        .zip(scale)
        .zip(pf)
        .map(|((b, s), p)| p * (l1 * (b * s).abs() + (1.0 - l1) / 2.0 * (b * s).powi(2)))
        .sum();
    nll / y.len() as f64 + alpha * pen
}

#[test]
fn coxnet_path_matches_sksurv_and_glmnet() {
    let exp = expected();
    for name in ["whas500", "veterans"] {
        let (x, y, _) = load(name);
        for case in exp["datasets"][name]["coxnet"].as_array().unwrap() {
            let l1 = case["l1_ratio"].as_f64().unwrap();
            let alphas = f64s(&case["alphas"]);
            let mut params = Coxnet::params()
                .l1_ratio(l1)
                .n_alphas(20)
                .alpha_min_ratio(0.01)
                .standardize(false)
                .tol(1e-20);
            if let Some(pf) = case["penalty_factor"].as_array() {
                params = params.penalty_factor(pf.iter().map(|v| v.as_f64().unwrap()).collect());
            }
            // The automatic path reproduces sksurv's penalties.
            let fit = params
                .clone()
                .check()
                .unwrap()
                .fit_arrays(x.view(), &y)
                .unwrap();
            let what = format!("{name} l1={l1} pf={}", case["penalty_factor"]);
            for (a, b) in fit.alphas.iter().zip(&alphas) {
                assert!((a - b).abs() <= 1e-10 * b, "{what}: alpha {a} vs {b}");
            }
            for (k, row) in case["coef"].as_array().unwrap().iter().enumerate() {
                coef_close(
                    &format!("{what} α#{k}"),
                    fit.coef.row(k).as_slice().unwrap(),
                    &f64s(row),
                    1e-5,
                );
            }
            if let Some(st) = case.get("sksurv_standardized") {
                let fit = Coxnet::params()
                    .l1_ratio(l1)
                    .n_alphas(20)
                    .alpha_min_ratio(0.01)
                    .standardize(true)
                    .tol(1e-20)
                    .check()
                    .unwrap()
                    .fit_arrays(x.view(), &y)
                    .unwrap();
                for (a, b) in fit.alphas.iter().zip(&f64s(&st["alphas"])) {
                    assert!(
                        (a - b).abs() <= 1e-10 * b,
                        "{what} standardised: alpha {a} vs {b}"
                    );
                }
                let sd = x.std_axis(Axis(0), 0.0);
                let pf = vec![1.0; x.ncols()];
                let standardized = fit.coef_standardized().unwrap();
                for (k, row) in st["coef"].as_array().unwrap().iter().enumerate() {
                    let want = f64s(row);
                    // scikit-survival's own coefficients on the standardised columns (the
                    // file holds them mapped back: × sd undoes that).
                    let on_std: Vec<f64> = want.iter().zip(&sd).map(|(c, s)| c * s).collect();
                    coef_close(
                        &format!("{what} standardised scale α#{k}"),
                        standardized.row(k).as_slice().unwrap(),
                        &on_std,
                        1e-4,
                    );
                    coef_close(
                        &format!("{what} standardised α#{k}"),
                        fit.coef.row(k).as_slice().unwrap(),
                        &want,
                        1e-4,
                    );
                    let ours = objective(
                        x.view(),
                        &y,
                        &fit.coef.row(k).to_owned(),
                        fit.alphas[k],
                        l1,
                        &pf,
                        &sd,
                    );
                    let theirs = objective(
                        x.view(),
                        &y,
                        &Array1::from(want),
                        fit.alphas[k],
                        l1,
                        &pf,
                        &sd,
                    );
                    assert!(
                        ours <= theirs + 1e-12,
                        "{what} α#{k}: objective {ours} vs sksurv {theirs}"
                    );
                }
                // R glmnet's coefficients differ from both scikit-survival's and ours by up to
                // ~2 % on this problem (not yet explained; see docs/benchmarks.md notes): only
                // check that ours are at least as good for the stated objective.
                for (k, row) in case["r_glmnet_standardized"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                {
                    let want = f64s(row);
                    let ours = objective(
                        x.view(),
                        &y,
                        &fit.coef.row(k).to_owned(),
                        fit.alphas[k],
                        l1,
                        &pf,
                        &sd,
                    );
                    let theirs = objective(
                        x.view(),
                        &y,
                        &Array1::from(want),
                        fit.alphas[k],
                        l1,
                        &pf,
                        &sd,
                    );
                    assert!(
                        ours <= theirs + 1e-12,
                        "{what} α#{k}: objective {ours} vs glmnet {theirs}"
                    );
                }
            }
        }
    }
}

#[test]
fn coxnet_path_properties_and_cv() {
    let (x, y, _) = load("whas500");
    let fit = Coxnet::params()
        .n_alphas(15)
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y)
        .unwrap();
    // Nothing is selected at α_max; more features enter as α falls.
    let last = fit.alphas.len() - 1;
    assert!(fit.selected(0).is_empty());
    assert!(fit.selected(last).len() > fit.selected(3).len());
    // glmnet's fdev rule: the path ends once the deviance explained stops growing (here at
    // about 0.0994 of the null deviance, before the 15th penalty).
    assert_eq!(fit.end, PathEnd::DevianceFlat);
    assert!(last + 1 < 15 && last + 1 >= 5);
    let d = &fit.dev_ratio;
    assert!(d.windows(2).all(|w| w[1] >= w[0]), "{d:?}");
    assert!(d[last] - d[last - 1] < 1e-5 * d[last]);
    assert!(d[..last].windows(2).all(|w| w[1] - w[0] >= 1e-5 * w[1]));
    let whole = Coxnet::params()
        .n_alphas(15)
        .fdev(0.0)
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y)
        .unwrap();
    assert_eq!((whole.end, whole.alphas.len()), (PathEnd::Complete, 15));
    assert_eq!(whole.coef.row(last), fit.coef.row(last));
    // An unpenalised covariate is non-zero from the start.
    let mut pf = vec![1.0; x.ncols()];
    pf[0] = 0.0;
    let fit = Coxnet::params()
        .n_alphas(5)
        .penalty_factor(pf)
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y)
        .unwrap();
    assert_eq!(fit.selected(0), [0]);

    let params = Coxnet::params().n_alphas(12).check().unwrap();
    let cv = params
        .cross_validate(x.view(), &y, 5, 7, CvMetric::Deviance)
        .unwrap();
    assert_eq!(cv.scores.dim(), (5, cv.path.alphas.len()));
    assert!(cv.one_se <= cv.best);
    assert!(cv.mean[cv.best] <= cv.mean[0]);
    let again = params
        .cross_validate(x.view(), &y, 5, 7, CvMetric::Deviance)
        .unwrap();
    assert_eq!(cv, again, "deterministic given the seed");
    // Repeated CV: one repeat is the plain CV; three average the three seeds' curves.
    let once = params
        .cross_validate_repeated(x.view(), &y, 5, 1, 7, CvMetric::Deviance)
        .unwrap();
    assert_eq!(once, cv);
    let thrice = params
        .cross_validate_repeated(x.view(), &y, 5, 3, 7, CvMetric::Deviance)
        .unwrap();
    let runs: Vec<_> = (7..10)
        .map(|s| {
            params
                .cross_validate(x.view(), &y, 5, s, CvMetric::Deviance)
                .unwrap()
        })
        .collect();
    assert_eq!(thrice.scores.dim(), (15, cv.path.alphas.len()));
    for k in 0..cv.path.alphas.len() {
        let m = runs.iter().map(|r| r.mean[k]).sum::<f64>() / 3.0;
        assert!((thrice.mean[k] - m).abs() <= 1e-12 * m.abs(), "{k}");
    }
    let best = (0..thrice.mean.len())
        .min_by(|&a, &b| thrice.mean[a].total_cmp(&thrice.mean[b]))
        .unwrap();
    assert_eq!(thrice.best, best);
    assert!(thrice.one_se <= thrice.best);
    assert!(params
        .cross_validate_repeated(x.view(), &y, 5, 0, 7, CvMetric::Deviance)
        .is_err());
    let cv_c = params
        .cross_validate(x.view(), &y, 5, 7, CvMetric::CIndex)
        .unwrap();
    assert!(cv_c.mean[cv_c.best] > 0.7, "{:?}", cv_c.mean);
}

#[test]
fn coxnet_bad_parameters() {
    let (x, y, _) = load("veterans");
    assert!(Coxnet::params().l1_ratio(0.0).check().is_err());
    assert!(Coxnet::params().alphas(vec![0.1, 0.2]).check().is_err());
    assert!(Coxnet::params()
        .penalty_factor(vec![0.0; 3])
        .check()
        .is_err());
    let e = Coxnet::params()
        .penalty_factor(vec![1.0; 2])
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y);
    assert!(e.is_err());
    let constant = Array2::<f64>::ones((y.len(), 2));
    assert!(Coxnet::params()
        .check()
        .unwrap()
        .fit_arrays(constant.view(), &y)
        .is_err());
    assert!(Coxnet::params()
        .check()
        .unwrap()
        .cross_validate(x.view(), &y, 1, 0, CvMetric::Deviance)
        .is_err());
}

#[test]
fn separable_data_gives_a_growing_but_finite_path() {
    // The first covariate orders the event times perfectly: without a penalty the likelihood
    // is monotone, with one the optimum is finite but grows as the penalty shrinks.
    let n = 20;
    let y: Vec<Surv> = (0..n)
        .map(|i| Surv::new(1.0 + i as f64, true).expect("surv"))
        .collect();
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        if j == 0 {
            -(i as f64)
        } else {
            ((i * 7) % 5) as f64
        }
    });
    let params = |max_iter| {
        Coxnet::params()
            .alpha_min_ratio(1e-9)
            .n_alphas(60)
            .max_iter(max_iter)
            .devmax(1.0)
            .fdev(0.0)
            .check()
            .expect("params")
    };
    // By default the path ends once the deviance is all but explained (glmnet's devmax).
    let saturated = Coxnet::params()
        .alpha_min_ratio(1e-9)
        .n_alphas(60)
        .check()
        .expect("params")
        .fit_arrays(x.view(), &y)
        .expect("fit");
    assert_eq!(saturated.end, PathEnd::Saturated);
    assert!(saturated.dev_ratio.last().is_some_and(|&d| d >= 0.999));
    assert!(saturated.dev_ratio.iter().rev().skip(1).all(|&d| d < 0.999));
    let fit = params(100).fit_arrays(x.view(), &y).expect("fit");
    assert_eq!(fit.coef.nrows(), fit.alphas.len());
    assert!(fit.coef.iter().all(|v| v.is_finite()));
    let first = fit.coef.column(0);
    assert!(first.windows(2).into_iter().all(|w| w[1] >= w[0]));
    assert!(first[first.len() - 1] > 10.0, "{}", first[first.len() - 1]);
    // A penalty that does not converge within the allowed steps ends the path there (as
    // glmnet ends its path early) instead of failing the whole fit.
    let short = params(4)
        .fit_arrays(x.view(), &y)
        .expect("a truncated path");
    assert!(short.alphas.len() < 60, "{} penalties", short.alphas.len());
    assert_eq!(short.end, PathEnd::NotConverged);
    assert!(short.alphas.len() > 1);
    assert_eq!(short.coef.nrows(), short.alphas.len());
    let cv = params(4)
        .cross_validate(x.view(), &y, 4, 0, CvMetric::Deviance)
        .expect("cv");
    assert!(cv.mean[cv.best].is_finite());
    assert!(cv.best < cv.path.alphas.len());
}

#[test]
fn a_spent_pass_budget_ends_the_path_and_fails_only_at_the_first_penalty() {
    let (x, y, _) = load("whas500");
    let params = |passes| {
        Coxnet::params()
            .n_alphas(15)
            .fdev(0.0)
            .max_passes(passes)
            .check()
            .unwrap()
    };
    let whole = params(100_000).fit_arrays(x.view(), &y).unwrap();
    assert_eq!(whole.end, PathEnd::Complete);
    let short = params(20).fit_arrays(x.view(), &y).unwrap();
    assert_eq!(short.end, PathEnd::PassBudget);
    let k = short.alphas.len();
    assert!((1..15).contains(&k), "{k} penalties");
    assert_eq!(short.coef.nrows(), k);
    assert_eq!(short.alphas[..], whole.alphas[..k]);
    let none = params(1).fit_arrays(x.view(), &y);
    assert!(
        matches!(none, Err(adamss_survival::Error::NotConverged { .. })),
        "{none:?}"
    );
}

/// p > n, as the training's radiomics selection (50 patients, 200 correlated features,
/// `tools/coxnet_wide_reference.py`): the regime where the solver's Anderson-accelerated
/// sweeps and covariance mode with exact face solves do the work. At every penalty of
/// scikit-survival's path (tol 1e-13) our objective is no worse than its (1e-12; measured:
/// ours lower by up to 4e-11) and the coefficients agree to 2e-3 (relative, absolute below
/// 1e-2): scikit-survival stops that far short along the flat directions near the path's
/// ill-conditioned end (1.2e-3 at the last penalty, 1e-5–3e-4 before it).
#[test]
fn coxnet_path_with_more_features_than_patients_matches_sksurv() {
    let (x, y, _) = load("coxnet_wide");
    let text = std::fs::read_to_string(crate::data_dir().join("coxnet_wide_expected.json"))
        .expect("tools/coxnet_wide_reference.py output");
    let exp: serde_json::Value = serde_json::from_str(&text).unwrap();
    let p = x.ncols();
    assert!(p > x.nrows());
    for case in exp["cases"].as_array().unwrap() {
        let l1 = case["l1_ratio"].as_f64().unwrap();
        let alphas = f64s(&case["alphas"]);
        let fit = Coxnet::params()
            .l1_ratio(l1)
            .alphas(alphas.clone())
            .standardize(false)
            .tol(1e-20)
            .check()
            .unwrap()
            .fit_arrays(x.view(), &y)
            .unwrap();
        assert_eq!(
            fit.coef.nrows(),
            alphas.len(),
            "l1 {l1}: every penalty solved"
        );
        let ones = Array1::ones(p);
        let pf = vec![1.0; p];
        for (k, row) in case["coef"].as_array().unwrap().iter().enumerate() {
            let want = f64s(row);
            let what = format!("l1 {l1} α#{k}");
            let ours = objective(
                x.view(),
                &y,
                &fit.coef.row(k).to_owned(),
                alphas[k],
                l1,
                &pf,
                &ones,
            );
            let theirs = objective(
                x.view(),
                &y,
                &Array1::from(want.clone()),
                alphas[k],
                l1,
                &pf,
                &ones,
            );
            assert!(
                ours <= theirs + 1e-12,
                "{what}: objective {ours} vs sksurv {theirs}"
            );
            coef_close(&what, fit.coef.row(k).as_slice().unwrap(), &want, 2e-3);
        }
    }
}

/// Radiomics tables carry exactly collinear columns (CT `Energy` and `TotalEnergy`, PET and CT
/// shape of one mask), where the LASSO's optimum is not unique and covariance mode's face
/// systems are singular. With a column of the p > n design duplicated, every penalty's
/// objective equals the one without the duplicate (the pair's summed coefficient plays the one
/// column's part) to 1e-10, and the pair's sum equals the column's coefficient to 1e-4.
#[test]
fn duplicated_columns_split_one_coefficient_without_changing_the_optimum() {
    let (x, y, _) = load("coxnet_wide");
    let p = x.ncols();
    let j = 0; // a column with a true effect, non-zero along most of the path
    let mut wide = Array2::zeros((x.nrows(), p + 1));
    wide.slice_mut(ndarray::s![.., ..p]).assign(&x);
    wide.column_mut(p).assign(&x.column(j));
    let params = Coxnet::params()
        .l1_ratio(1.0)
        .n_alphas(15)
        .alpha_min_ratio(0.05)
        .standardize(false)
        .tol(1e-20);
    let one = params.fit_arrays(x.view(), &y).unwrap();
    let two = params
        .clone()
        .alphas(one.alphas.clone())
        .fit_arrays(wide.view(), &y)
        .unwrap();
    assert_eq!(two.coef.nrows(), one.alphas.len());
    let (pf1, pf2) = (vec![1.0; p], vec![1.0; p + 1]);
    let (s1, s2) = (Array1::ones(p), Array1::ones(p + 1));
    for k in 0..one.alphas.len() {
        // All penalty factors 1 (their rescaling to sum to the column count keeps them 1).
        let a = one.alphas[k];
        let f1 = objective(x.view(), &y, &one.coef.row(k).to_owned(), a, 1.0, &pf1, &s1);
        let f2 = objective(
            wide.view(),
            &y,
            &two.coef.row(k).to_owned(),
            a,
            1.0,
            &pf2,
            &s2,
        );
        assert!((f1 - f2).abs() <= 1e-10, "α#{k}: {f1} vs {f2}");
        let pair = two.coef[[k, j]] + two.coef[[k, p]];
        let single = one.coef[[k, j]];
        assert!(
            (pair - single).abs() <= 1e-4 * single.abs().max(1e-2),
            "α#{k}: pair {pair} vs {single}"
        );
    }
}
