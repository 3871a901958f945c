//! Radiomics on a 160³ PET + CT pair at 1 mm with a ≈ 29 cm³ tumour, as
//! `tools/bench_pyradiomics.py` runs PyRadiomics on the same files (written once under
//! `target/bench-data/radiomics/`): the original image's first-order and texture classes
//! (93 features per image; shape and filtered images are not implemented yet).
//!
//! ```text
//! cargo bench --bench radiomics
//! .venv/bin/python tools/bench_pyradiomics.py
//! ```

use std::path::PathBuf;
use std::time::Duration;

use adamss::io::{Geometry, Volume};
use adamss::radiomics::{
    extract, extract_log, extract_pet_ct, extract_wavelet, shape_features, ExtractionConfig,
    FeatureClass, Settings,
};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLASSES: [FeatureClass; 6] = FeatureClass::ALL;

fn data() -> (Volume<f32>, Volume<f32>, Volume<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/radiomics");
    let (ct_p, pet_p, mask_p) = (
        dir.join("ct.nii.gz"),
        dir.join("pet.nii.gz"),
        dir.join("mask.nii.gz"),
    );
    if !(ct_p.exists() && pet_p.exists() && mask_p.exists()) {
        std::fs::create_dir_all(&dir).expect("bench dir");
        let g = Geometry::axis_aligned([1.0; 3], [0.0; 3]).expect("geometry");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 160;
        let c = 80.0;
        let r = 19.0; // 4/3 π 19³ ≈ 28.7 cm³
        let inside = |i: usize, j: usize, k: usize| {
            let d =
                ((i as f64 - c).powi(2) + (j as f64 - c + 10.0).powi(2) + (k as f64 - c).powi(2))
                    .sqrt();
            d <= r
        };
        let ct = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
            let base = if inside(i, j, k) { 55.0 } else { 40.0 };
            (base + rng.gen_range(-60.0..60.0) + ((i + 2 * j) % 50) as f64).round() as i16
        });
        let pet = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
            let base = if inside(i, j, k) { 8.0 } else { 1.0 };
            (base * rng.gen_range(0.7..1.3)) as f32
        });
        let mask = Array3::from_shape_fn((n, n, n), |(i, j, k)| u8::from(inside(i, j, k)));
        Volume::new(ct, g).expect("ct").write(&ct_p).expect("write");
        Volume::new(pet, g)
            .expect("pet")
            .write(&pet_p)
            .expect("write");
        Volume::new(mask, g)
            .expect("mask")
            .write(&mask_p)
            .expect("write");
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
    g.bench_function("original_pet_ct_93x2", |b| {
        b.iter(|| {
            let a = extract(&ct, &mask, &ct_settings, &CLASSES).expect("ct");
            let p = extract(&pet, &mask, &pet_settings, &CLASSES).expect("pet");
            (a, p)
        })
    });
    // The AdaMSS settings without the shape class: original binWidth 25 + wavelet binWidth 10.
    let wav = Settings {
        bin_width: 10.0,
        ..Settings::default()
    };
    // As a user calls it: `extract_pet_ct` runs the two images as parallel tasks.
    let config = ExtractionConfig {
        original: ct_settings.clone(),
        wavelet: Some(wav),
        classes: CLASSES.to_vec(),
    };
    g.bench_function("original_wavelet_pet_ct_837x2", |b| {
        b.iter(|| extract_pet_ct(&pet, &ct, &mask, &config).expect("extract"))
    });
    // (c) original + LoG σ = 1…5 mm + wavelet, PET and CT side by side: 14 × 93 features each.
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
    g.bench_function("original_log5_wavelet_pet_ct_1302x2", |b| {
        b.iter(|| rayon::join(|| full(&pet), || full(&ct)))
    });
    // The ten shape features without the mesh (diameters over all mesh vertices, O(V²)).
    g.bench_function("shape_without_mesh_10", |b| {
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
