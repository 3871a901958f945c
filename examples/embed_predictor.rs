//! Embedding a trained AdaMSS model in your own program: open a model bundle, score a CT/PET
//! pair read from NIfTI and one built in memory, print the risk (and the survival curve where
//! the head gives one), and write the predicted mask on the patient's CT grid.
//!
//! ```sh
//! # a bundle of your own run: adamss export --run RUN --fold 0 --method ssl --out MODEL
//! cargo run --release --example embed_predictor -- MODEL CT.nii.gz PET.nii.gz [OUT_DIR]
//! # or, with no arguments, on a bundle trained here first (tiny preset, about a minute)
//! cargo run --release --example embed_predictor
//! ```

use std::path::{Path, PathBuf};

use adamss::io::{generate_synthetic, Cohort, Geometry, SyntheticConfig, Volume};
use adamss::train::tch::Device;
use adamss::train::{
    prepare_cohort, run_cv, Bundle, ExperimentConfig, Method, PatientInput, Prediction, Predictor,
    RunDir, Silent,
};
use anyhow::Result;

fn main() -> Result<()> {
    adamss::model::cpu::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, ct_path, pet_path, out) = match args.as_slice() {
        [model, ct, pet, rest @ ..] => (
            PathBuf::from(model),
            PathBuf::from(ct),
            PathBuf::from(pet),
            PathBuf::from(rest.first().map_or("runs/embed", String::as_str)),
        ),
        [] => tiny_bundle(Path::new("runs/embed"))?,
        _ => anyhow::bail!("usage: embed_predictor [MODEL CT.nii.gz PET.nii.gz [OUT_DIR]]"),
    };

    // 1. Open the bundle: every file is checked against the manifest's SHA-256 first.
    let device = Device::cuda_if_available();
    let predictor = Predictor::open(&model, device)?;
    let m = predictor.manifest();
    println!(
        "{}: {} of fold {} (adamss {}), on {device:?}",
        model.display(),
        m.method.key(),
        m.fold,
        m.toolkit_version
    );

    // 2. A patient from NIfTI files.
    let ct = Volume::<f32>::read(&ct_path)?;
    let pet = Volume::<f32>::read(&pet_path)?;
    let from_files =
        predictor.predict(&PatientInput::new("from-files", ct.clone(), pet.clone()))?;
    report(&from_files);

    // 3. The same patient built in memory, as a pipeline holding its own arrays would (a
    //    DICOM reader, say): voxels in an ndarray and the scanner geometry (RAS+ mm).
    let (voxels, g) = ct.into_parts();
    let geometry = Geometry::new(g.spacing, g.origin, g.direction)?;
    let ct_in_memory = Volume::new(voxels, geometry)?;
    let input = PatientInput::new("in-memory", ct_in_memory, pet);
    let in_memory = predictor.predict(&input)?;
    report(&in_memory);
    assert_eq!(
        from_files.risk, in_memory.risk,
        "the same volumes, the same risk"
    );

    // 4. The mask on the patient's own CT grid, for a viewer.
    std::fs::create_dir_all(&out)?;
    let mask = out.join("in-memory-mask.nii.gz");
    in_memory.mask.write(&mask)?;
    println!("mask: {}", mask.display());
    Ok(())
}

fn report(p: &Prediction) {
    let count = |v: u8| p.mask.data().iter().filter(|&&x| x == v).count();
    println!(
        "{}: risk {:.4}{}; GTVp {} voxels, GTVn {} voxels on the CT grid; crop {:?} voxels at {:.1?} mm",
        p.id,
        p.risk,
        p.high_risk
            .map_or(String::new(), |h| format!(" ({} risk)", if h { "high" } else { "low" })),
        count(1),
        count(2),
        p.crop.shape,
        p.crop.geometry.origin,
    );
    match &p.survival_curve {
        Some(c) => {
            let points: Vec<String> = c
                .times
                .iter()
                .zip(&c.survival)
                .map(|(t, s)| format!("S({t:.0} d) = {s:.3}"))
                .collect();
            println!("  survival curve: {}", points.join(", "));
        }
        None => println!("  Cox head: a relative risk, no survival curve"),
    }
}

/// Trains the tiny preset's fold 0 (SSL) on a synthetic cohort and exports its bundle; returns
/// the bundle and one patient's CT and PET.
fn tiny_bundle(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf, PathBuf)> {
    let model = dir.join("model");
    let root = dir.join("cohort");
    if !root.is_dir() {
        let synth = SyntheticConfig {
            patients: 16,
            seed: 0,
            ..SyntheticConfig::tiny()
        };
        generate_synthetic(&root, &synth, &|_| {})?;
    }
    let (cohort, _) = Cohort::hecktor(&root)?;
    if !model.is_dir() {
        let mut config = ExperimentConfig::tiny();
        config.seed = 0;
        let (cases, _) = prepare_cohort(&cohort, &config.preprocess, None, &|_, _| {})?;
        let run = RunDir::new(dir.join("run"));
        run_cv(
            &config,
            &cases,
            &[Method::Ssl],
            run.root(),
            Some(0),
            &Silent,
        )?;
        Bundle::from_run(&run, 0, Method::Ssl)?.write(&model)?;
        println!("trained and exported {}", model.display());
    }
    let record = &cohort.records()[0];
    Ok((
        model,
        record.ct.clone(),
        record.pet.clone(),
        dir.to_path_buf(),
    ))
}
