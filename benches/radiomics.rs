//! Radiomics on a 160³ PET + CT pair at 1 mm with a ≈ 29 cm³ tumour, as
//! `tools/bench_pyradiomics.py` runs PyRadiomics on the same files (written once under
//! `target/bench-data/radiomics/`): (a) the original image, all seven classes (107 features per
//! image); (b) the AdaMSS preset (original + wavelet, 851 per image); (c) original + LoG
//! σ 1–5 mm + wavelet (1316 per image); and the shape class alone.
//!
//! ```text
//! cargo bench --bench radiomics
//! .venv/bin/python tools/bench_pyradiomics.py
//! ```

#[path = "support/radiomics_pair.rs"]
mod radiomics_pair;

use std::path::PathBuf;
use std::time::Duration;

use adamss::io::Volume;
use adamss::radiomics::{
    extract, extract_log, extract_pet_ct, extract_wavelet, shape_features, ExtractionConfig,
    FeatureClass, Settings,
};
use criterion::{criterion_group, criterion_main, Criterion};

const CLASSES: [FeatureClass; 7] = FeatureClass::ALL;

/// The bench's files, written from [`radiomics_pair::pair`] on the first run.
fn data() -> (Volume<f32>, Volume<f32>, Volume<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/radiomics");
    let (ct_p, pet_p, mask_p) = (
        dir.join("ct.nii.gz"),
        dir.join("pet.nii.gz"),
        dir.join("mask.nii.gz"),
    );
    if !(ct_p.exists() && pet_p.exists() && mask_p.exists()) {
        std::fs::create_dir_all(&dir).expect("bench dir");
        let (ct, pet, mask) = radiomics_pair::pair();
        // The CT as int16, as scanners store it (its values are whole numbers).
        let ct16 = Volume::new(ct.data().mapv(|v| v as i16), *ct.geometry()).expect("ct");
        ct16.write(&ct_p).expect("write");
        pet.write(&pet_p).expect("write");
        mask.write(&mask_p).expect("write");
    }
    (
        Volume::<f32>::read(&ct_p).expect("ct"),
        Volume::<f32>::read(&pet_p).expect("pet"),
        Volume::<u8>::read(&mask_p).expect("mask"),
    )
}

fn bench(c: &mut Criterion) {
    let (ct, pet, mask) = data();
    let ct_settings = Settings::default(); // binWidth 25
    let pet_settings = Settings {
        bin_width: 0.5,
        ..Settings::default()
    };
    let mut g = c.benchmark_group("radiomics");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("original_pet_ct_107x2", |b| {
        b.iter(|| {
            let a = extract(&ct, &mask, &ct_settings, &CLASSES).expect("ct");
            let p = extract(&pet, &mask, &pet_settings, &CLASSES).expect("pet");
            (a, p)
        })
    });
    // (b) The AdaMSS preset, as a user calls it: `extract_pet_ct` runs the two images as
    // parallel tasks.
    let config = ExtractionConfig::adamss();
    g.bench_function("adamss_preset_pet_ct_851x2", |b| {
        b.iter(|| extract_pet_ct(&pet, &ct, &mask, &config).expect("extract"))
    });
    // (c) original + LoG σ = 1…5 mm + wavelet, PET and CT side by side: 14 + 14 × 93 each.
    let wav_settings = Settings {
        bin_width: 10.0,
        ..Settings::default()
    };
    let sigmas = [1.0, 2.0, 3.0, 4.0, 5.0];
    let full = |image: &Volume<f32>| {
        let mut f = extract(image, &mask, &ct_settings, &CLASSES).expect("original");
        f.extend(extract_log(image, &mask, &ct_settings, &CLASSES, &sigmas).expect("log"));
        f.extend(extract_wavelet(image, &mask, &wav_settings, &CLASSES).expect("wavelet"));
        f
    };
    g.bench_function("original_log5_wavelet_pet_ct_1316x2", |b| {
        b.iter(|| rayon::join(|| full(&pet), || full(&ct)))
    });
    // The shape class (mesh, and diameters over all mesh vertices, O(V²)).
    g.bench_function("shape_14", |b| {
        b.iter(|| shape_features(&mask, &ct_settings).expect("shape"))
    });
    g.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(harness::benches);
