//! Bad input is a clear error before any training starts.

use adamss_train::data::check_cohort;
use adamss_train::{prepare_cohort, run_cv, ExperimentConfig, Method, Silent};

use crate::{prepared, tiny_cohort, tiny_config};

#[test]
fn no_events_is_an_error_before_training() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut cases = prepared(tmp.path(), 4);
    for c in &mut cases {
        c.survival = adamss_survival::Surv::new(c.survival.time(), false).expect("surv");
    }
    let e = check_cohort(&cases, 2).unwrap_err().to_string();
    assert!(e.contains("no") && e.contains("event"), "{e}");
    let run = tmp.path().join("run");
    let e = run_cv(&tiny_config(), &cases, &Method::MAIN, &run, None, &Silent).unwrap_err();
    assert!(e.to_string().contains("event"), "{e}");
    assert!(!run.exists(), "nothing written before the check");
}

#[test]
fn fewer_patients_than_folds_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = prepared(tmp.path(), 3);
    let mut config = tiny_config();
    config.cv.folds = 5;
    let e = run_cv(&config, &cases, &Method::MAIN, tmp.path(), None, &Silent)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fewer than the 5 folds"), "{e}");
}

#[test]
fn a_missing_modality_names_the_patient() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("cohort");
    tiny_cohort(&dir, 3, 1);
    let pet = std::fs::read_dir(dir.join("imagesTr"))
        .expect("images")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("__PT.nii.gz"))
        .expect("a PET file");
    let id = pet
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split("__").next())
        .expect("id")
        .to_string();
    std::fs::remove_file(&pet).expect("remove");
    let (_, report) = adamss_io::Cohort::hecktor(&dir).expect("the loader reports, not fails");
    let e = adamss_train::data::check_join(&report)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&id) && e.contains("PET"), "{e}");
    // Through a manifest, the same patient fails preparation by name.
    let ct = dir.join("imagesTr").join(format!("{id}__CT.nii.gz"));
    let manifest = tmp.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        format!(
            "patient_id,ct,pet,mask,time,event\n{id},{},{},{},100,1\n",
            ct.display(),
            pet.display(),
            dir.join("labelsTr").join(format!("{id}.nii.gz")).display()
        ),
    )
    .expect("manifest");
    let outcome = adamss_io::Cohort::manifest(&manifest)
        .map_err(|e| e.to_string())
        .and_then(|c| {
            prepare_cohort(&c, &tiny_config().preprocess, None, &|_, _| {})
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    let e = outcome.unwrap_err();
    assert!(e.contains(&id) || e.contains("PT"), "{e}");
}

#[test]
fn unknown_config_keys_are_errors() {
    let e = ExperimentConfig::from_toml_str("[stage2]\nbatchsize = 8\n").unwrap_err();
    assert!(e.to_string().contains("batchsize"), "{e}");
}
