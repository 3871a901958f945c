//! From raw PET/CT/labels to network inputs and radiomics, step by step.
//!
//! ```text
//! cargo run --release --example preprocess_and_radiomics [-- COHORT_DIR]
//! ```
//!
//! Without an argument a small synthetic cohort is generated in a temporary folder.

use adamss::io::{generate_synthetic, Cohort, Dataset, SyntheticConfig};
use adamss::preprocess::{
    augment, preprocess_case, resample_linear, AugmentConfig, CropCentre, Grid, LocatorConfig,
    PreprocessConfig, Sample,
};
use adamss::radiomics::{extract_pet_ct, ExtractionConfig, Settings};
use anyhow::{Context, Result};

fn main() -> Result<()> {
    // 1. A cohort in the HECKTOR 2022 layout (or your own folder).
    let tmp = tempfile::tempdir()?;
    let root = match std::env::args().nth(1) {
        Some(dir) => dir.into(),
        None => {
            let root = tmp.path().join("cohort");
            let mut config = SyntheticConfig::tiny();
            config.field_of_view_mm = [96.0; 3];
            generate_synthetic(&root, &config, &|_| {})?;
            root
        }
    };
    let (cohort, report) = Cohort::hecktor(&root).context("reading the cohort")?;
    println!(
        "{} patients ({} dropped by the join)",
        cohort.len(),
        report.dropped()
    );
    let case = cohort.get(0)?;
    println!(
        "patient {}: CT {:?}, PET {:?}",
        case.id,
        case.ct.shape(),
        case.pet.shape()
    );

    // 2. Preprocess: common 1 mm grid, label-free crop (64³ here; the paper uses 160³),
    //    CT window → [−1, 1], PET Z-score. The locator's volumes and distances are set for
    //    real heads; the 96 mm phantom is scaled down by 96/160.
    let config = PreprocessConfig {
        crop_size: [64; 3],
        locator: LocatorConfig::scaled_to_field_of_view(96.0),
        ..PreprocessConfig::default()
    };
    let p = preprocess_case(&case, &config, CropCentre::Auto)?;
    println!(
        "crop centre {:?} mm, PET mean/sd {:.2}/{:.2} SUV, labels inside the crop: {:?}",
        p.crop.centre().map(|v| v.round()),
        p.pet_zscore.mean,
        p.pet_zscore.sd,
        p.coverage.map(|c| c.wholly_inside())
    );

    // 3. Augment one training sample (three plane-wise affines + random crops, seeded).
    let label = p.label.as_ref().context("labels")?;
    let sample = Sample {
        images: vec![p.pet.data().clone(), p.ct.data().clone()],
        labels: Sample::one_hot(label.data(), &[1, 2]),
    };
    let aug = augment(
        &sample,
        &AugmentConfig {
            crop: [48; 3],
            ..AugmentConfig::default()
        },
        7,
    )?;
    println!(
        "augmented sample: {:?} voxels per channel",
        aug.images[0].dim()
    );

    // 4. Radiomics of the primary tumour on PET and CT (PET resampled onto the CT grid).
    let mask = case.mask.as_ref().context("labels")?;
    let pet_on_ct = resample_linear(&case.pet, &Grid::of(&case.ct), 0.0)?;
    let extraction = ExtractionConfig {
        wavelet: Some(Settings {
            bin_width: 10.0,
            ..Settings::default()
        }),
        ..ExtractionConfig::default()
    };
    let features = extract_pet_ct(&pet_on_ct, &case.ct, mask, &extraction)?;
    println!("{} radiomics features, e.g.:", features.len());
    for (name, value) in features
        .iter()
        .filter(|(n, _)| n.ends_with("glcm_Contrast"))
        .take(4)
    {
        println!("  {name} = {value:.4}");
    }
    Ok(())
}
