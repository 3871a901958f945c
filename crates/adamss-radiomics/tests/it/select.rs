use adamss_radiomics::{FeatureSelector, FeatureTable, PenaltyRule, SelectorConfig};
use adamss_survival::Surv;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 120 patients, 30 features: features 0 and 1 drive the hazard (log HR 1.2 and −1.0 per sd),
/// the rest is noise; one constant and one NaN column must be dropped.
fn data() -> (FeatureTable, Vec<Surv>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 120;
    let p = 30;
    let mut names: Vec<String> = (0..p).map(|j| format!("f{j}")).collect();
    names.push("constant".into());
    names.push("has_nan".into());
    let mut rows = Vec::new();
    let mut surv = Vec::new();
    for i in 0..n {
        let mut v: Vec<f64> = (0..p)
            .map(|_| rng.gen_range(-1.7..1.7) * 10.0 + 50.0)
            .collect();
        let eta = 1.2 * (v[0] - 50.0) / 10.0 - 1.0 * (v[1] - 50.0) / 10.0;
        let u: f64 = rng.gen_range(1e-9..1.0);
        let t = -u.ln() / eta.exp() * 100.0;
        let c = rng.gen_range(0.0..300.0);
        surv.push(Surv::new(t.min(c), t <= c).unwrap());
        v.push(7.0);
        v.push(if i == 5 { f64::NAN } else { 1.0 + i as f64 });
        rows.push((format!("P{i}"), v));
    }
    (
        FeatureTable {
            names,
            rows,
            failures: vec![],
        },
        surv,
    )
}

#[test]
fn lasso_cox_keeps_the_prognostic_features_and_transforms_new_patients() {
    let (table, surv) = data();
    let sel = FeatureSelector::fit(&table, &surv, &SelectorConfig::default()).unwrap();
    assert!(
        sel.selected.contains(&"f0".to_string()),
        "{:?}",
        sel.selected
    );
    assert!(
        sel.selected.contains(&"f1".to_string()),
        "{:?}",
        sel.selected
    );
    assert!(sel.dropped.contains(&"constant".to_string()));
    assert!(sel.dropped.contains(&"has_nan".to_string()));
    let i0 = sel.selected.iter().position(|s| s == "f0").unwrap();
    let i1 = sel.selected.iter().position(|s| s == "f1").unwrap();
    assert!(sel.coef[i0] > 0.3 && sel.coef[i1] < -0.3, "{:?}", sel.coef);
    // The sparser rule keeps no more features.
    let sparse = FeatureSelector::fit(
        &table,
        &surv,
        &SelectorConfig {
            rule: PenaltyRule::OneStandardError,
            ..SelectorConfig::default()
        },
    )
    .unwrap();
    assert!(sparse.selected.len() <= sel.selected.len());
    // New patient: z-scored with the training statistics, by name.
    let z = sel.transform(&table.names, &table.rows[0].1).unwrap();
    assert_eq!(z.len(), sel.selected.len());
    let want = (table.rows[0].1[0] - sel.mean[i0]) / sel.sd[i0];
    assert!((z[i0] - want).abs() < 1e-12);
    assert!(sel
        .transform(&table.names[1..], &table.rows[0].1[1..])
        .is_err());
    // Mismatched survival records and too few patients are errors.
    assert!(FeatureSelector::fit(&table, &surv[1..], &SelectorConfig::default()).is_err());
}

/// Pre-specified columns (glmnet's `penalty.factor = 0`) are always in the model, and
/// `keep_largest` never removes them, even when their coefficients are the smallest.
#[test]
fn unpenalised_columns_are_forced_in_and_kept() {
    let (table, surv) = data();
    let forced = ["f7", "f12"].map(String::from).to_vec();
    let config = SelectorConfig {
        unpenalized: forced.clone(),
        ..SelectorConfig::default()
    };
    let mut sel = FeatureSelector::fit(&table, &surv, &config).unwrap();
    for f in &forced {
        assert!(sel.selected.contains(f), "{f} not in {:?}", sel.selected);
    }
    assert_eq!(sel.unpenalized, forced);
    // The prognostic features are still selected around them.
    assert!(sel.selected.contains(&"f0".to_string()));
    assert!(sel.selected.contains(&"f1".to_string()));
    sel.keep_largest(1);
    // Both forced columns stay (the cap cannot go below them); the strongest others go.
    assert_eq!(sel.selected, forced);
    // Repeated inner CV and elastic-net mixing are accepted and keep the strong features.
    let steady = FeatureSelector::fit(
        &table,
        &surv,
        &SelectorConfig {
            folds: 10,
            repeats: 3,
            l1_ratio: 0.5,
            ..SelectorConfig::default()
        },
    )
    .unwrap();
    assert!(steady.selected.contains(&"f0".to_string()));
}

/// A selector read back from JSON is checked: a damaged `selector.json` (one mean for two
/// features, a zero sd, an unpenalised name that is not selected) is an error naming the
/// problem, not an index panic when a patient is transformed (found by the `head_inputs`
/// fuzz target).
#[test]
fn a_damaged_selector_file_is_refused() {
    let good = r#"{"selected": ["a", "b"], "mean": [1.0, 2.0], "sd": [0.5, 1.5],
        "coef": [0.3, -0.2], "alpha": 0.1, "dropped": [], "unpenalized": ["b"]}"#;
    let sel: adamss_radiomics::FeatureSelector = serde_json::from_str(good).unwrap();
    assert_eq!(sel.selected.len(), 2);
    for (bad, says) in [
        (
            good.replace("[1.0, 2.0]", "[1.0]"),
            "2 selected features but 1 means",
        ),
        (
            good.replace("[0.5, 1.5]", "[0.5, 0.0]"),
            "b: sd 0 is not positive",
        ),
        (
            good.replace(r#"["b"]"#, r#"["c"]"#),
            "unpenalised c is not among",
        ),
    ] {
        let err = serde_json::from_str::<adamss_radiomics::FeatureSelector>(&bad).unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
}
