//! The fuzz targets' bodies: each feeds arbitrary bytes to one parser of the files users hand
//! the toolkit and returns; `Ok` or a typed error are both fine, a panic, an abort or an
//! allocation past the fuzzer's bound is a finding. One home for each body: the cargo-fuzz
//! binaries in `fuzz_targets/` call them, and so does the smoke test of the main suite
//! (`tests/it/fuzz_smoke.rs`, which includes this file), so a target cannot rot.
//!
//! Parsers that take a path get the bytes written to a scratch folder of their own (one per
//! process and thread) first, as a user's file would be.

use std::path::{Path, PathBuf};

use adamss_io::ndarray;
use adamss_io::{CaseRecord, Clinical, ClinicalValue, Cohort, ReadOptions, Surv, Volume};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name, as the fuzz binaries and the smoke test list them.
pub const TARGETS: [(&str, Target); 12] = [
    ("nifti_read", nifti_read),
    ("nrrd_read", nrrd_read),
    ("dicom_read", dicom_read),
    ("radiomics_batch", radiomics_batch),
    ("hecktor_tables", hecktor_tables),
    ("manifest", manifest),
    ("radiomics_params", radiomics_params),
    ("experiment_toml", experiment_toml),
    ("head_inputs", head_inputs),
    ("risks_csv", risks_csv),
    ("stage_state", stage_state),
    ("checkpoint", checkpoint),
];

/// This process's and thread's scratch folder.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "adamss-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Removes this process's and thread's scratch folder (the smoke test's last step).
pub fn remove_scratch() {
    let _ = std::fs::remove_dir_all(scratch());
}

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).expect("the scratch folder is writable");
}

/// NIfTI-1 bytes (plain or gzip) as `f32`, `u8` and `i64` volumes, 64 MiB bound, both
/// transform orders.
pub fn nifti_read(data: &[u8]) {
    let options = ReadOptions {
        max_bytes: 64 << 20,
        finite_only: true,
        prefer_qform: data.len() % 2 == 0,
    };
    let _ = Volume::<f32>::read_bytes(data, "fuzz.nii", &options);
    let _ = Volume::<u8>::read_bytes(data, "fuzz.nii", &options);
    let _ = Volume::<i64>::read_bytes(data, "fuzz.nii", &options);
}

/// An NRRD file (header attached) as `f32`, `u8` and `i64` volumes, 64 MiB bound, and its
/// header alone.
pub fn nrrd_read(data: &[u8]) {
    let path = scratch().join("fuzz.nrrd");
    write(&path, data);
    let options = ReadOptions {
        max_bytes: 64 << 20,
        finite_only: data.len() % 2 == 0,
        prefer_qform: false,
    };
    let _ = adamss_io::read_header(&path);
    let _ = Volume::<f32>::read_with(&path, &options);
    let _ = Volume::<u8>::read_with(&path, &options);
    let _ = Volume::<i64>::read_with(&path, &options);
}

/// The crates whose panics adamss-io's DICOM codecs catch (`catch_unwind` around each
/// third-party decoder: a panic on a malformed stream is that file's error).
const DECODERS: [&str; 2] = ["/jpeg2k-", "/jpeg-decoder-"];

/// libFuzzer's panic hook aborts on every panic, caught or not; this one lets a panic raised
/// inside a [`DECODERS`] crate unwind to the codec's `catch_unwind` (as in a user's program)
/// and hands every other panic to libFuzzer's hook, which aborts. Set once per process.
fn decoder_panics_are_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map_or("", |l| l.file());
            if !DECODERS.iter().any(|d| file.contains(d)) {
                fuzzer_hook(info);
            }
        }));
    });
}

/// A DICOM file as a one-slice series in a folder of its own, listed and read as `f32` and
/// `i16` volumes (64 MiB bound); then beside a copy of itself one position-step further (its
/// `ImagePositionPatient` text, if any, with a digit changed) as a two-slice series; and as a
/// segmentation (SEG), each segment placed on a fixed 16 × 16 × 8 grid and all as a label map.
pub fn dicom_read(data: &[u8]) {
    decoder_panics_are_errors();
    let dir = scratch().join("dicom");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    write(&dir.join("a.dcm"), data);
    let options = ReadOptions {
        max_bytes: 64 << 20,
        ..ReadOptions::default()
    };
    let _ = adamss_io::list_series(&dir);
    let _ = adamss_io::read_series::<f32>(&dir, None, &options);
    let _ = Volume::<i16>::read_with(&dir, &options);
    // As a PET series: its SUV factors and volume.
    let lbm = adamss_io::SuvNormalization::LeanBodyMass;
    let _ = adamss_io::dicom::suv_conversion(&dir, None, lbm);
    let _ = adamss_io::read_suv::<f32>(
        &dir,
        None,
        adamss_io::SuvNormalization::BodyWeight,
        &options,
    );
    let mut moved = data.to_vec();
    if let Some(at) = moved.windows(4).position(|w| w == [0x20, 0x00, 0x32, 0x00]) {
        if let Some(b) = moved[at..].iter_mut().skip(8).find(|b| b.is_ascii_digit()) {
            *b = if *b == b'9' { b'1' } else { *b + 1 };
        }
    }
    write(&dir.join("b.dcm"), &moved);
    let _ = adamss_io::read_series::<f32>(&dir, None, &options);
    // As an RT Structure Set: read, then every ROI filled on a fixed axial grid.
    if let Ok(set) = adamss_io::dicom::read_structure_set(dir.join("a.dcm"), &options) {
        if let Ok(grid) = adamss_io::Geometry::axis_aligned([0.7, 0.8, 2.5], [0.0; 3]) {
            for roi in &set.rois {
                let _ = roi.mask_on_grid(&grid, [16, 16, 8]);
            }
            let _ = set.labels_on_grid(&grid, [16, 16, 8]);
        }
    }
    // As a segmentation (SEG): read, then every segment placed on a fixed axial grid.
    if let Ok(seg) = adamss_io::dicom::read_segmentation(dir.join("a.dcm"), &options) {
        if let Ok(grid) = adamss_io::Geometry::axis_aligned([0.7, 0.8, 2.5], [0.0; 3]) {
            for s in &seg.segments {
                let _ = seg.mask_on_grid(s.number, &grid, [16, 16, 8]);
            }
            let _ = seg.labels_on_grid(&grid, [16, 16, 8]);
        }
    }
}

/// A PyRadiomics batch file (`adamss radiomics --batch`): read, its cases run with the
/// default plan (their images are missing or not images: each fails alone) and the output
/// written.
pub fn radiomics_batch(data: &[u8]) {
    use adamss_radiomics::{Batch, ExtractionPlan};
    let dir = scratch();
    let path = dir.join("cases.csv");
    write(&path, data);
    if let Ok(batch) = Batch::read(&path) {
        let results = batch.run(&ExtractionPlan::default());
        let _ = batch.write_csv(&results, &dir.join("batch-out.csv"));
    }
}

/// A HECKTOR 2022 folder's endpoint table and clinical table (the bytes before and after the
/// first NUL), joined with the image names of two patients; opened for training and for
/// prediction, and the summary printed.
pub fn hecktor_tables(data: &[u8]) {
    let root = scratch().join("hecktor");
    let images = root.join("imagesTr");
    if !images.is_dir() {
        std::fs::create_dir_all(&images).expect("scratch");
        for id in ["CHUM-001", "CHUP-002"] {
            for m in ["CT", "PT"] {
                write(&images.join(format!("{id}__{m}.nii.gz")), b"");
            }
        }
    }
    let (endpoint, clinical) = match data.iter().position(|&b| b == 0) {
        Some(k) => (&data[..k], Some(&data[k + 1..])),
        None => (data, None),
    };
    write(
        &root.join(adamss_io::hecktor::ENDPOINT_CSV_NAMES[0]),
        endpoint,
    );
    let clinical_path = root.join(adamss_io::hecktor::CLINICAL_CSV_NAME);
    match clinical {
        Some(c) => write(&clinical_path, c),
        None => {
            let _ = std::fs::remove_file(&clinical_path);
        }
    }
    if let Ok((cohort, report)) = Cohort::hecktor(&root) {
        let _ = format!("{report}");
        let _ = adamss_io::CohortSummary::of(&cohort, None).to_string();
    }
    let _ = Cohort::hecktor_images(&root);
}

/// A manifest CSV.
pub fn manifest(data: &[u8]) {
    let path = scratch().join("manifest.csv");
    write(&path, data);
    if let Ok(cohort) = Cohort::manifest(&path) {
        let _ = adamss_io::CohortSummary::of(&cohort, None).to_string();
    }
}

/// A PyRadiomics parameter file, as YAML and as JSON; a plan that loads is also validated by
/// running it on a small image.
pub fn radiomics_params(data: &[u8]) {
    use adamss_radiomics::ExtractionPlan;
    let dir = scratch();
    let (yaml, json) = (dir.join("params.yaml"), dir.join("params.json"));
    write(&yaml, data);
    write(&json, data);
    for plan in [
        ExtractionPlan::from_yaml_file(&yaml),
        ExtractionPlan::from_json_file(&json),
    ]
    .into_iter()
    .flatten()
    {
        let image = Volume::new(
            ndarray::Array3::from_shape_fn((6, 6, 6), |(i, j, k)| (i * 7 + j * 3 + k) as f32),
            adamss_io::Geometry::axis_aligned([1.0; 3], [0.0; 3]).expect("unit grid"),
        );
        let mut mask = ndarray::Array3::<u8>::zeros((6, 6, 6));
        mask.slice_mut(ndarray::s![1..5, 1..5, 1..5]).fill(1);
        let mask = Volume::new(
            mask,
            adamss_io::Geometry::axis_aligned([1.0; 3], [0.0; 3]).expect("unit grid"),
        );
        if let (Ok(image), Ok(mask)) = (image, mask) {
            let _ = plan.run(&image, &mask);
            // The voxelSetting block, voxel by voxel (6³: at most 64 kernels).
            let _ = plan.run_voxel_based(&image, &mask);
        }
    }
}

/// An experiment's TOML configuration, parsed and validated.
pub fn experiment_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = adamss_train::config::ExperimentConfig::from_toml_str(text) {
            let _ = config.validate();
        }
    }
}

/// A run's or a bundle's `head.json` (clinical encoder, selected radiomics, LASSO offset), and
/// a patient's row through it.
pub fn head_inputs(data: &[u8]) {
    let Ok(head) = serde_json::from_slice::<adamss_train::head::HeadInputs>(data) else {
        return;
    };
    let clinical = Clinical::from_pairs([
        ("Age".to_string(), ClinicalValue::Number(61.0)),
        ("Gender".to_string(), ClinicalValue::Text("M".into())),
        ("HPV Status".to_string(), ClinicalValue::Missing),
    ]);
    let features: Vec<(String, f64)> = head
        .radiomics_names()
        .into_iter()
        .map(|n| (n.to_string(), 1.5))
        .collect();
    let _ = head.row(&clinical, Some(features.as_slice()));
    let _ = head.row(&clinical, None);
}

/// A risks CSV (`adamss evaluate`'s input) joined with a two-patient cohort, whole and by method.
pub fn risks_csv(data: &[u8]) {
    let path = scratch().join("risks.csv");
    write(&path, data);
    let record = |id: &str, t: f64, e: bool| CaseRecord {
        id: id.into(),
        ct: PathBuf::from("ct.nii.gz"),
        pet: PathBuf::from("pet.nii.gz"),
        mask: None,
        survival: Surv::new(t, e).ok(),
        clinical: Clinical::default(),
    };
    let Ok(cohort) = Cohort::from_records(vec![
        record("CHUM-001", 100.0, true),
        record("CHUP-002", 300.0, false),
    ]) else {
        return;
    };
    if let Ok(joined) = adamss_train::report::read_risks(&path, &cohort) {
        let _ = adamss_train::report::evaluate_risks(&joined.rows, &scratch().join("evaluate"));
    }
    // One method's rows, as `adamss evaluate --method` reads a run's predictions.csv (by fold
    // where it has a fold column).
    if let Ok(joined) = adamss_train::report::read_method_risks(&path, &cohort, "ssl") {
        let _ = adamss_train::report::evaluate_joined(&joined, &scratch().join("evaluate"));
    }
}

/// A stage folder's `state.json`, read as a resume reads it ([`StageState::read`]); a state
/// that is accepted must survive its own round trip (written as a stage writes it, read back
/// equal), or a resume would silently start over.
///
/// [`StageState::read`]: adamss_train::StageState::read
pub fn stage_state(data: &[u8]) {
    use adamss_train::StageState;
    let path = scratch().join("state.json");
    write(&path, data);
    let Ok(Some(state)) = StageState::read(&path) else {
        return;
    };
    let _ = state.to_string();
    let json = serde_json::to_string_pretty(&state).expect("a state serialises");
    write(&path, json.as_bytes());
    let again = StageState::read(&path)
        .unwrap_or_else(|e| panic!("an accepted state does not read back: {e}"))
        .expect("written");
    assert_eq!(
        serde_json::to_string_pretty(&again).expect("a state serialises"),
        json,
        "an accepted state changes on its round trip"
    );
}

/// The small network-shaped variable store that [`checkpoint`] loads into: three parameter
/// groups (encoder; decoder and segmentation head; survival head) as the network has them.
pub fn checkpoint_store() -> adamss_model::tch::nn::VarStore {
    use adamss_model::tch::{nn, Device};
    use adamss_model::ParamGroup;
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let init = nn::Init::Const(0.25);
    let enc = root.set_group(ParamGroup::Encoder as usize) / "encoder";
    let _ = enc.var("w", &[2, 3], init);
    let _ = enc.var("b", &[3], init);
    let dec = root.set_group(ParamGroup::Decoder as usize);
    let _ = (&dec / "decoder").var("w", &[4], init);
    let _ = (&dec / "seg_head").var("b", &[1], init);
    let head = root.set_group(ParamGroup::SurvivalHead as usize) / "surv_head";
    let _ = head.var("w", &[2], init);
    let _ = head.zeros_no_train("count", &[1]);
    vs
}

/// A safetensors file loaded as a checkpoint (each transfer) into [`checkpoint_store`], and as
/// an optimiser's state into an Adam over it: a load that fails must leave every variable as
/// it was.
pub fn checkpoint(data: &[u8]) {
    use adamss_model::tch::Tensor;
    use adamss_model::{checkpoint, AdamConfig, FlatAdam, Transfer};
    let path = scratch().join("weights.safetensors");
    write(&path, data);
    let mut vs = checkpoint_store();
    let values = |vs: &adamss_model::tch::nn::VarStore| {
        let mut v: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.copy()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    for transfer in [
        Transfer::All,
        Transfer::EncoderDecoder,
        Transfer::EncoderOnly,
    ] {
        let before = values(&vs);
        if checkpoint::load(&mut vs, &path, &transfer).is_err() {
            for ((name, a), (_, b)) in before.iter().zip(values(&vs)) {
                assert!(a.equal(&b), "a failed load changed {name}");
            }
        }
    }
    let Ok(state) = Tensor::read_safetensors(&path) else {
        return;
    };
    let mut adam = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).expect("an Adam over the store");
    let fresh = adam.state();
    if adam.load_state(&state).is_err() {
        for ((name, a), (_, b)) in fresh.iter().zip(adam.state()) {
            assert!(a.equal(&b), "a failed optimiser load changed {name}");
        }
    }
}
