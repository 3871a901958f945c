//! The whole comparison end to end on a tiny cohort (plumbing, not quality: see the README's
//! main job for results).

use adamss_train::infer::{
    merge_csv, predict_cohort, predict_with, risks_file_name, PredictOptions, Shard,
};
use adamss_train::report::{comparison_table, gaps_table, write_predictions, write_report};
use adamss_train::tch::Device;
use adamss_train::{run_cv, Method, Silent};
use adamss_train::{Bundle, PatientInput, Predictor};

use crate::{prepared, tiny_config};

#[test]
fn every_method_runs_on_shared_folds_and_reports() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 10);
    let config = tiny_config();
    let run = tmp.path().join("run");
    let started = std::time::Instant::now();
    let outcome = run_cv(&config, &cases, &Method::MAIN, &run, None, &Silent).expect("cv");
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(outcome.results.len(), 2 * Method::MAIN.len());
    // Each second is some method's: Stage I and the radiomics, shared, count once, where they
    // ran first (they were counted twice there until 2026-12-06).
    let counted: f64 = outcome.results.iter().map(|r| r.seconds).sum();
    assert!(
        counted <= elapsed,
        "the methods' seconds add up to {counted:.3} s in a {elapsed:.3} s cross-validation"
    );
    assert_eq!(outcome.fold_of.len(), cases.len());
    for r in &outcome.results {
        let test: Vec<usize> = (0..cases.len())
            .filter(|&i| outcome.fold_of[i] == r.fold)
            .collect();
        let got: Vec<usize> = r.test_risks.iter().map(|&(i, _)| i).collect();
        assert_eq!(got, test, "{:?} predicts exactly its test fold", r.method);
        assert!(r.test_risks.iter().all(|(_, v)| v.is_finite()));
        let segments = matches!(r.method, Method::Mtl | Method::Ssl | Method::SslRadiomics);
        assert_eq!(r.dsc.is_some(), segments, "{:?}", r.method);
    }
    let truth: Vec<f64> = (0..cases.len()).map(|i| i as f64).collect();
    let table = comparison_table(&outcome, &cases, &Method::MAIN, Some(&truth));
    assert_eq!(table.lines().count(), 2 + Method::MAIN.len() + 1, "{table}");
    // The gaps: each method minus the LASSO-CoxPH radiomics row and minus the oracle, paired
    // by fold; recomputed here from the per-fold results for AdaMSS + radiomics.
    let gaps = gaps_table(&outcome, &cases, &Method::MAIN, Some(&truth)).expect("gaps");
    assert_eq!(gaps.lines().count(), 2 + Method::MAIN.len() - 1, "{gaps}");
    let c = |m: Method, f: usize| {
        outcome
            .results
            .iter()
            .find(|r| r.method == m && r.fold == f)
            .and_then(|r| r.c_index)
    };
    let folds = config.cv.folds;
    let diffs: Vec<f64> = (0..folds)
        .filter_map(|f| Some(c(Method::SslRadiomics, f)? - c(Method::LassoCoxRadiomics, f)?))
        .collect();
    let oracle_diffs: Vec<f64> = (0..folds)
        .filter_map(|f| {
            let idx: Vec<usize> = (0..cases.len())
                .filter(|&i| outcome.fold_of[i] == f)
                .collect();
            let y: Vec<_> = idx.iter().map(|&i| cases[i].survival).collect();
            let r: Vec<f64> = idx.iter().map(|&i| truth[i]).collect();
            let oracle = adamss_survival::harrell(&y, &r, adamss_survival::DEFAULT_TIED_TOL)
                .ok()?
                .c_index;
            Some(c(Method::SslRadiomics, f)? - oracle)
        })
        .collect();
    let cell = |d: &[f64]| {
        let (m, sd) = adamss_train::experiment::mean_sd(d.iter().copied()).expect("folds");
        format!("{m:+.3} ± {sd:.3}")
    };
    let row = gaps
        .lines()
        .find(|l| l.starts_with(&format!("| {} |", Method::SslRadiomics.label())))
        .expect("AdaMSS + radiomics row");
    assert_eq!(
        row,
        format!(
            "| {} | {} | {} |",
            Method::SslRadiomics.label(),
            cell(&diffs),
            cell(&oracle_diffs)
        ),
        "{gaps}"
    );
    write_predictions(&outcome, &cases, &run.join("predictions.csv")).expect("csv");
    let report =
        write_report(&run, &config, &outcome, &cases, &Method::MAIN, None).expect("report");
    let text = std::fs::read_to_string(report).expect("read");
    assert!(text.contains("km-ssl.svg"));
    let svg = std::fs::read_to_string(run.join("km-ssl.svg")).expect("svg");
    assert!(
        svg.starts_with("<svg") && svg.contains("polyline"),
        "an SVG with curves"
    );
    assert!(run.join("fold-0/stage1/training.svg").is_file());
    // The fold's radiomics table and the fitted selectors are kept beside the stages.
    let table =
        std::fs::read_to_string(run.join("fold-0").join(adamss_train::RADIOMICS_TABLE_NAME))
            .expect("radiomics.csv");
    let header: Vec<&str> = table.lines().next().expect("header").split(',').collect();
    assert_eq!(header[0], "PatientID");
    assert_eq!(
        table.lines().count(),
        1 + cases.len(),
        "one row per patient"
    );
    let clinical =
        std::fs::read_to_string(run.join("fold-0").join(adamss_train::CLINICAL_TABLE_NAME))
            .expect("clinical.csv");
    assert_eq!(
        clinical.lines().count(),
        1 + cases.len(),
        "one row per patient"
    );
    for method in [Method::LassoCoxRadiomics, Method::SslRadiomics] {
        let path = run
            .join("fold-0")
            .join(method.key())
            .join(adamss_train::SELECTOR_NAME);
        let text = std::fs::read_to_string(&path).expect("selector.json");
        let sel: adamss_radiomics::FeatureSelector = serde_json::from_str(&text).expect("parse");
        assert_eq!(sel.selected.len(), sel.coef.len());
        if method == Method::SslRadiomics {
            // So that the prediction check below goes through the radiomics path.
            assert!(!sel.selected.is_empty(), "fold 0 selects some radiomics");
        }
        for name in &sel.selected {
            assert!(
                header.contains(&name.as_str()) || name.starts_with("clinical:"),
                "{name} is a radiomics column or a clinical one"
            );
        }
    }
    // The same curves as PNG: a PNG signature, and its 640 × 400 size in the IHDR chunk.
    let png = std::fs::read(run.join("fold-0/stage1/training.png")).expect("training.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[16..24], &[0, 0, 2, 128, 0, 0, 1, 144]);
    // Prediction for "new" patients from fold 0, in two shards merged back.
    let run_dir = adamss_train::RunDir::new(&run);
    run_dir.write_config(&config).expect("config");
    run_dir.write_outcome(&outcome).expect("outcome");
    let (cohort, _) = adamss_io::Cohort::hecktor(tmp.path().join("cohort")).expect("cohort");
    let out = tmp.path().join("predict");
    let mut parts = Vec::new();
    let mut predicted = 0;
    for i in 0..2 {
        let shard = Shard { index: i, count: 2 };
        let maps = i == 0;
        let options = PredictOptions {
            shard: Some(shard),
            maps,
            ..PredictOptions::default()
        };
        let preds = predict_cohort(&run, &cohort, &options, &out, &|_, _| {})
            .expect("predict")
            .predictions;
        predicted += preds.len();
        for p in &preds {
            let dir = out.join("maps").join(&p.id);
            assert_eq!(dir.is_dir(), maps, "{}: maps only when asked", p.id);
            if maps {
                let levels = config.model.levels();
                for name in (1..=levels)
                    .map(|i| format!("gate-{i}"))
                    .chain((0..levels - 1).map(|j| format!("attention-{}", 6 + j)))
                {
                    let map = adamss_io::Volume::<f32>::read(dir.join(format!("{name}.nii.gz")))
                        .unwrap_or_else(|e| panic!("{}: {name}: {e}", p.id));
                    let crop = config.preprocess.crop_size;
                    assert_eq!(map.shape(), crop, "{}: {name} on the network grid", p.id);
                    assert!(
                        map.data().iter().all(|v| (0.0..=1.0).contains(v)),
                        "{}: {name} holds weights in [0, 1]",
                        p.id
                    );
                }
            }
            assert!(p.risk.is_finite());
            assert!(p.high_risk.is_some(), "median from outcome.json");
            let record = cohort
                .records()
                .iter()
                .find(|r| r.id == p.id)
                .expect("record");
            let mask = adamss_io::read_header(&p.mask.path).expect("mask header");
            let ct = adamss_io::read_header(&record.ct).expect("ct header");
            assert_eq!(mask.shape, ct.shape, "{}: mask on the CT grid", p.id);
            assert!(
                mask.geometry.max_affine_difference(&ct.geometry) < 1e-4,
                "{}: mask geometry equals the CT's",
                p.id
            );
        }
        parts.push(out.join(risks_file_name(Some(shard))));
    }
    assert_eq!(
        predicted,
        cohort.records().len(),
        "shards cover the cohort once"
    );
    let merged = out.join("risks.csv");
    assert_eq!(
        merge_csv(&parts, &merged).expect("merge"),
        cohort.records().len()
    );
    assert!(Shard::parse("2/2").is_err() && Shard::parse("a/2").is_err());
    // The merged file reads back as the shards' rows, and a shard given twice is refused
    // (naming both places) without writing anything.
    let back = std::fs::read_to_string(&merged).unwrap();
    let from_parts: usize = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count() - 1)
        .sum();
    assert_eq!(back.lines().count(), 1 + from_parts);
    let twice = out.join("twice.csv");
    let err = merge_csv(&[parts[0].clone(), parts[0].clone()], &twice)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2 repeats") && err.contains(&format!("{} line 2", parts[0].display())),
        "{err}"
    );
    assert!(!twice.exists());

    // Predicting the fold's own test patients from their files gives the risks the
    // cross-validation computed for them — for AdaMSS + radiomics too, whose head needs the
    // radiomics of each patient's Stage-I mask and the fold's selector — to the last bit,
    // whether from the run folder or from an exported bundle in another folder.
    for method in [Method::Ssl, Method::SslRadiomics] {
        let r = outcome
            .results
            .iter()
            .find(|r| r.method == method && r.fold == 0)
            .expect("fold 0");
        let test_records: Vec<_> = r
            .test_risks
            .iter()
            .map(|&(i, _)| {
                cohort
                    .records()
                    .iter()
                    .find(|rec| rec.id == cases[i].id)
                    .expect("record")
                    .clone()
            })
            .collect();
        let test_cohort = adamss_io::Cohort::from_records(test_records).expect("cohort");
        let options = PredictOptions {
            method,
            ..PredictOptions::default()
        };
        let out = tmp.path().join(format!("predict-{}", method.key()));
        let from_run = predict_cohort(&run, &test_cohort, &options, &out, &|_, _| {})
            .expect("predict")
            .predictions;
        let model = tmp.path().join(format!("model-{}", method.key()));
        let bundle = Bundle::from_run(&run_dir, 0, method)
            .expect("bundle")
            .write(&model)
            .expect("export");
        assert_eq!(bundle.manifest.method, method);
        assert_eq!(bundle.manifest.train_median_risk, Some(r.train_median_risk));
        let predictor = Predictor::open(&model, Device::Cpu).expect("open bundle");
        let out = tmp.path().join(format!("predict-model-{}", method.key()));
        let from_model = predict_with(&predictor, &test_cohort, None, &out, &|_, _| {})
            .expect("predict")
            .predictions;
        for (k, &(i, want)) in r.test_risks.iter().enumerate() {
            for (source, preds) in [("run", &from_run), ("bundle", &from_model)] {
                assert_eq!(preds[k].id, cases[i].id);
                assert_eq!(
                    preds[k].risk, want,
                    "{method:?} {} from the {source}: the cross-validation's risk exactly",
                    cases[i].id
                );
                assert_eq!(preds[k].high_risk, Some(want > r.train_median_risk));
            }
        }
        // In memory: the first test patient's volumes, scored on their own.
        let record = &test_cohort.records()[0];
        let case = record.load(test_cohort.options()).expect("load");
        let input = PatientInput::new(&case.id, case.ct.clone(), case.pet.clone())
            .with_clinical(record.clinical.clone());
        let p = predictor.predict(&input).expect("in memory");
        let want = r.test_risks[0].1;
        assert!(
            (p.risk - want).abs() <= 1e-4 * want.abs().max(1.0),
            "{method:?}: one patient alone {} vs {want} in a batch",
            p.risk
        );
        assert_eq!(p.mask.shape(), case.ct.shape(), "the mask on the CT grid");
        assert_eq!(p.mask_on_crop.shape(), config.preprocess.crop_size);
        assert_eq!(p.crop.shape, config.preprocess.crop_size);
        // A Cox head's curve: the training fold's Breslow baseline at this patient's risk.
        let baseline = bundle
            .baseline
            .as_ref()
            .expect("a Cox bundle has its baseline");
        let curve = p.survival_curve.as_ref().expect("a curve");
        assert_eq!(curve.times, baseline.cumulative_hazard.times);
        assert!(curve.survival.windows(2).all(|w| w[1] <= w[0]));
        for (&t, &s) in curve.times.iter().zip(&curve.survival) {
            assert_eq!(s, (-baseline.cumulative_hazard.at(t) * p.risk.exp()).exp());
        }
        let written = adamss_io::Volume::<u8>::read(&from_model[0].mask.path).expect("mask");
        assert_eq!(
            written.data(),
            p.mask.data(),
            "the CLI's mask is the predictor's"
        );
    }
    let mtl = PredictOptions {
        method: Method::Mtl,
        ..PredictOptions::default()
    };
    let out = tmp.path().join("predict-mtl");
    assert!(predict_cohort(&run, &cohort, &mtl, &out, &|_, _| {}).is_err());

    // Rerunning reloads every finished stage and gives the same outcome.
    let started = std::time::Instant::now();
    let again = run_cv(&config, &cases, &Method::MAIN, &run, None, &Silent).expect("rerun");
    let elapsed = started.elapsed().as_secs_f64();
    let counted: f64 = again.results.iter().map(|r| r.seconds).sum();
    assert!(
        counted <= elapsed,
        "rerun: {counted:.3} s counted in {elapsed:.3} s"
    );
    assert_eq!(again.results.len(), outcome.results.len());
    for (a, b) in outcome.results.iter().zip(&again.results) {
        assert_eq!(a.test_risks, b.test_risks, "{:?} fold {}", a.method, a.fold);
    }
}

/// A replicate redraws the networks only: the same folds and the same clinical LASSO (no
/// network involved), other Stage-I weights; `replicates_table` tabulates the two.
#[test]
fn replicates_redraw_networks_on_the_same_folds() {
    let _one = crate::one_at_a_time();
    use adamss_train::report::replicates_table;
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 10);
    let methods = [Method::LassoCoxClinical, Method::Ssl];
    let replicate = |r: u64| {
        let config = adamss_train::ExperimentConfig {
            replicate: r,
            ..tiny_config()
        };
        let run = tmp.path().join(format!("r{r}"));
        run_cv(&config, &cases, &methods, &run, Some(0), &Silent).expect("replicate")
    };
    let (first, second) = (replicate(0), replicate(1));
    assert_eq!(first.fold_of, second.fold_of);
    let risks = |o: &adamss_train::CvOutcome, m: Method| {
        o.results
            .iter()
            .find(|r| r.method == m)
            .map(|r| r.test_risks.clone())
            .expect("method ran")
    };
    assert_eq!(
        risks(&first, Method::LassoCoxClinical),
        risks(&second, Method::LassoCoxClinical)
    );
    let weights = |dir: &str| {
        std::fs::read(tmp.path().join(dir).join("fold-0/stage1/best.safetensors")).expect("weights")
    };
    assert_ne!(weights("r0"), weights("r1"), "Stage I redrawn");
    let table = replicates_table(&[first.clone(), second], &methods).expect("table");
    assert_eq!(table.lines().count(), 2 + methods.len(), "{table}");
    assert!(table.contains("C, replicate 1"), "{table}");
    // Outcomes on other folds are refused.
    let mut other = first.clone();
    other.fold_of.rotate_left(1);
    assert!(replicates_table(&[first, other], &methods).is_err());
}

/// A bundle whose head is the discrete-time model gives each patient a survival curve at the
/// intervals' ends: probabilities that do not increase, and whose area is the risk's; a
/// `PredictorPool` shared by threads gives each of them the predictor's own risk.
#[test]
fn a_discrete_time_bundle_gives_survival_curves() {
    let _one = crate::one_at_a_time();
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 10);
    let mut config = tiny_config();
    let breaks = vec![0.0, 300.0, 900.0, 1500.0, 3000.0];
    config.model.survival.output = adamss_model::SurvivalOutput::DiscreteTime {
        breaks: breaks.clone(),
    };
    let run = adamss_train::RunDir::new(tmp.path().join("run"));
    run_cv(
        &config,
        &cases,
        &[Method::Ssl],
        run.root(),
        Some(0),
        &Silent,
    )
    .expect("cv");
    let bundle = Bundle::from_run(&run, 0, Method::Ssl)
        .expect("bundle")
        .write(&tmp.path().join("model"))
        .expect("export");
    assert_eq!(bundle.survival_output(), &config.model.survival.output);
    let predictor = Predictor::new(&bundle, Device::Cpu).expect("predictor");
    let (cohort, _) = adamss_io::Cohort::hecktor(tmp.path().join("cohort")).expect("cohort");
    let record = &cohort.records()[0];
    let case = record.load(cohort.options()).expect("load");
    let (case_id, ct, pet) = (case.id.clone(), case.ct.clone(), case.pet.clone());
    let p = predictor
        .predict(&PatientInput::new(&case.id, case.ct, case.pet))
        .expect("predict");
    // A pool shared by threads gives every caller the predictor's own result.
    fn shared<T: Send + Sync>(_: &T) {}
    let pool = adamss_train::PredictorPool::new(&bundle, Device::Cpu, 2).expect("pool");
    shared(&pool);
    let input = PatientInput::new(&case_id, ct, pet);
    let risks: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| pool.predict(&input).expect("pool predict").risk))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        risks.iter().all(|&r| r == p.risk),
        "{risks:?} vs {}",
        p.risk
    );
    let curve = p.survival_curve.expect("a curve");
    assert_eq!(curve.times, breaks[1..]);
    assert!(curve.survival.iter().all(|s| (0.0..=1.0).contains(s)));
    assert!(curve.survival.windows(2).all(|w| w[1] <= w[0]));
    let area: f64 = curve
        .survival
        .iter()
        .zip(breaks.windows(2))
        .map(|(s, w)| s * (w[1] - w[0]))
        .sum();
    assert!(
        (p.risk + area).abs() <= 1e-3,
        "risk {} is minus the area {area}",
        p.risk
    );
}

/// `radiomics.masks = "reference-for-training"`: the training patients' radiomics come from
/// their reference GTVp, the test patients' from the Stage-I prediction exactly as with
/// `predicted`.
#[test]
fn radiomics_from_reference_labels_for_training_patients() {
    let _one = crate::one_at_a_time();
    use adamss_train::data::radiomics_of;
    use adamss_train::RadiomicsMasks;
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 10);
    let table = |masks: RadiomicsMasks| {
        let mut config = tiny_config();
        config.radiomics.masks = masks;
        let run = tmp.path().join(format!("{masks:?}"));
        let outcome = run_cv(
            &config,
            &cases,
            &[Method::LassoCoxRadiomics],
            &run,
            Some(0),
            &Silent,
        )
        .expect("cv");
        let text = std::fs::read_to_string(run.join("fold-0/radiomics.csv")).expect("table");
        let rows: Vec<(String, Vec<f64>)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let mut cells = l.split(',');
                let id = cells.next().unwrap().to_string();
                (id, cells.map(|c| c.parse().unwrap()).collect())
            })
            .collect();
        (config, outcome.fold_of, rows)
    };
    let (_, fold_of, predicted) = table(RadiomicsMasks::Predicted);
    let (config, _, reference) = table(RadiomicsMasks::ReferenceForTraining);
    let same = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    };
    let mut training_differs = false;
    for (i, case) in cases.iter().enumerate() {
        let (id, got) = &reference[i];
        assert_eq!(id, &case.id);
        if fold_of[i] == 0 {
            assert!(same(got, &predicted[i].1), "test patient {id}");
        } else {
            let label = case.label().expect("labels").data();
            let want = radiomics_of(
                &case.pre,
                label,
                config.preprocess.ct_window,
                &config.radiomics.extraction(),
            )
            .expect("features of the reference GTVp");
            let want: Vec<f64> = want.into_iter().map(|(_, v)| v).collect();
            assert!(same(got, &want), "training patient {id}");
            training_differs |= !same(got, &predicted[i].1);
        }
    }
    assert!(
        training_differs,
        "the reference masks changed no training row"
    );
}
