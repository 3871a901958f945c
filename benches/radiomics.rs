//! Radiomics on a 160³ PET + CT pair at 1 mm with a ≈ 29 cm³ tumour, as
//! `tools/bench_pyradiomics.py` runs PyRadiomics on the same files (written once under
//! `target/bench-data/radiomics/`): (a) the original image, all seven classes (107 features per
//! image); (b) the AdaMSS preset (original + wavelet, 851 per image); (c) original + LoG
//! σ 1–5 mm + wavelet (1316 per image); (d) a clinical CT grid (512 × 512 × 120 at
//! 0.98 × 0.98 × 2.5 mm) resampled to 1 mm, then the AdaMSS preset; GLCM alone on many grey
//! levels; and the shape class alone.
//! Then the LASSO-Cox feature selection as the main job runs it (3-fold CV of a 30-penalty
//! path) on a radiomics table of 90 and of 240 small synthetic lesions (original image, PET +
//! CT: 214 columns, rank-deficient as real radiomics are — e.g. the PET and CT shape features
//! of one mask are the same numbers).
//!
//! ```text
//! cargo bench --bench radiomics
//! .venv/bin/python tools/bench_pyradiomics.py
//! ```

#[path = "support/radiomics_pair.rs"]
mod radiomics_pair;

use std::path::PathBuf;
use std::time::Duration;

use adamss::io::{Geometry, Volume};
use adamss::radiomics::{
    extract, extract_log, extract_pet_ct, extract_wavelet, resample, shape_features,
    ExtractionConfig, ExtractionPlan, FeatureClass, FeatureSelector, FeatureTable, PixelType,
    SelectorConfig, Settings,
};
use adamss::survival::Surv;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

/// The clinical-grid CT and its mask (files `ct_clinical.nii.gz`, `mask_clinical.nii.gz`,
/// written on the first run): a ≈ 29 cm³ ellipsoidal tumour in seeded noise, int16 on disk.
fn clinical() -> (Volume<f32>, Volume<u8>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/radiomics");
    let (ct_p, mask_p) = (
        dir.join("ct_clinical.nii.gz"),
        dir.join("mask_clinical.nii.gz"),
    );
    if !(ct_p.exists() && mask_p.exists()) {
        std::fs::create_dir_all(&dir).expect("bench dir");
        let spacing = [0.98, 0.98, 2.5];
        let g = Geometry::axis_aligned(spacing, [-250.0, -250.0, -150.0]).expect("geometry");
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let inside = |i: usize, j: usize, k: usize| {
            let p = [
                i as f64 * spacing[0],
                j as f64 * spacing[1],
                k as f64 * spacing[2],
            ];
            let c = [250.0, 240.0, 150.0];
            (0..3).map(|a| (p[a] - c[a]).powi(2)).sum::<f64>().sqrt() <= 19.0
        };
        let ct = Array3::from_shape_fn((512, 512, 120), |(i, j, k)| {
            let base = if inside(i, j, k) { 55.0 } else { 40.0 };
            (base + rng.gen_range(-60.0..60.0) + ((i + 2 * j) % 50) as f64).round() as i16
        });
        let mask = Array3::from_shape_fn((512, 512, 120), |(i, j, k)| u8::from(inside(i, j, k)));
        Volume::new(ct, g).expect("ct").write(&ct_p).expect("write");
        Volume::new(mask, g)
            .expect("mask")
            .write(&mask_p)
            .expect("write");
    }
    (
        Volume::<f32>::read(&ct_p).expect("ct"),
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
    // parallel tasks. The int16 CT as f64: its wavelet in double precision, as PyWavelets
    // filters an integer image (the float32 PET in single precision).
    let config = ExtractionConfig::adamss();
    let ct64 = ct.map(|&v| f64::from(v));
    g.bench_function("adamss_preset_pet_ct_851x2", |b| {
        b.iter(|| extract_pet_ct(&pet, &ct64, &mask, &config).expect("extract"))
    });
    // (c) original + LoG σ = 1…5 mm + wavelet, PET and CT side by side: 14 + 14 × 93 each.
    let wav_settings = Settings {
        bin_width: 10.0,
        ..Settings::default()
    };
    let sigmas = [1.0, 2.0, 3.0, 4.0, 5.0];
    // The wavelet reads the CT in double precision (PyWavelets on an int16 image), the rest
    // in single (ITK's LoG).
    let full = |image: &Volume<f32>, wavelet_f64: bool| {
        let mut f = extract(image, &mask, &ct_settings, &CLASSES).expect("original");
        f.extend(extract_log(image, &mask, &ct_settings, &CLASSES, &sigmas).expect("log"));
        f.extend(if wavelet_f64 {
            let image = image.map(|&v| f64::from(v));
            extract_wavelet(&image, &mask, &wav_settings, &CLASSES).expect("wavelet")
        } else {
            extract_wavelet(image, &mask, &wav_settings, &CLASSES).expect("wavelet")
        });
        f
    };
    g.bench_function("original_log5_wavelet_pet_ct_1316x2", |b| {
        b.iter(|| rayon::join(|| full(&pet, false), || full(&ct, true)))
    });
    // (d) A clinical CT grid — 512 × 512 × 120 at 0.98 × 0.98 × 2.5 mm, int16 — resampled to
    // 1 mm (B-spline) around the tumour, then the AdaMSS preset (`tools/params_resample.json`).
    let (ct_clinical, mask_clinical) = clinical();
    let params = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/params_resample.json");
    let plan = ExtractionPlan::from_file(&params).expect("params");
    g.bench_function("resample_1mm_adamss_preset_ct_851", |b| {
        b.iter(|| {
            plan.run_stored(&ct_clinical, &mask_clinical, PixelType::Int16)
                .expect("resampled extraction")
        })
    });
    // The resampling step of (d) alone (image and mask onto the 1 mm grid around the tumour).
    g.bench_function("resample_1mm_ct_step", |b| {
        b.iter(|| {
            resample(
                &ct_clinical,
                &mask_clinical,
                &plan.settings,
                PixelType::Int16,
            )
            .expect("resample")
        })
    });
    // GLCM alone with many grey levels: the bench CT at binWidth 2 has 86 in the tumour (8 at
    // binWidth 25), as many as the wavelet sub-bands of the synthetic cohort's CT tumours have
    // at binWidth 10. There the maximal correlation coefficient's Ng × Ng eigenproblem (13
    // directions) is most of the class's time: 32.4 ms when it formed Q and solved it
    // non-symmetric, 11.3 ms as the singular values of B (docs/benchmarks.md, session 19).
    let fine = Settings {
        bin_width: 2.0,
        ..Settings::default()
    };
    g.bench_function("glcm_ct_bin_width_2", |b| {
        b.iter(|| extract(&ct, &mask, &fine, &[FeatureClass::Glcm]).expect("glcm"))
    });
    // The shape class (mesh, and diameters over all mesh vertices, O(V²)).
    g.bench_function("shape_14", |b| {
        b.iter(|| shape_features(&mask, &ct_settings).expect("shape"))
    });
    // LASSO-Cox selection on a radiomics table (the main job's selector settings).
    let selector = SelectorConfig {
        folds: 3,
        n_alphas: 30,
        ..SelectorConfig::default()
    };
    for n in [90, 240] {
        let (table, y) = lesion_table(n);
        g.bench_function(format!("select_lasso_cox_cv_{n}x214"), |b| {
            b.iter(|| FeatureSelector::fit(&table, &y, &selector).expect("select"))
        });
    }
    g.finish();
}

/// Radiomics (original image, PET + CT, all classes) of `n` synthetic lesions — ellipsoids
/// of log-normal volume on a 24³ grid at 2 mm with noisy PET uptake and CT density — and
/// survival times whose log-hazard follows the lesion's log volume and mean uptake.
fn lesion_table(n: usize) -> (FeatureTable, Vec<Surv>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let g = Geometry::axis_aligned([2.0; 3], [0.0; 3]).expect("geometry");
    let config = ExtractionConfig {
        original: Settings {
            bin_width: 0.5,
            ..Settings::default()
        },
        ..ExtractionConfig::default()
    };
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let r: [f64; 3] = std::array::from_fn(|_| rng.gen_range(2.5..7.5));
        let uptake = rng.gen_range(3.0..12.0);
        let (mut pet, mut ct) = (
            Array3::<f32>::zeros((24, 24, 24)),
            Array3::zeros((24, 24, 24)),
        );
        let mut mask = Array3::<u8>::zeros((24, 24, 24));
        for ((z, yy, x), m) in mask.indexed_iter_mut() {
            let d = [z, yy, x]
                .iter()
                .zip(&r)
                .map(|(&c, r)| ((c as f64 - 11.5) / r).powi(2))
                .sum::<f64>();
            let inside = d <= 1.0;
            *m = u8::from(inside);
            let u = if inside {
                uptake * (1.2 - 0.4 * d)
            } else {
                1.0
            };
            pet[[z, yy, x]] = (u + rng.gen_range(-0.5..0.5)) as f32;
            ct[[z, yy, x]] = (if inside { 45.0 } else { 20.0 } + rng.gen_range(-30.0..30.0)) as f32;
        }
        let vol = |a| Volume::new(a, g).expect("volume");
        let (pet, ct, mask) = (vol(pet), vol(ct), Volume::new(mask, g).expect("mask"));
        let f = extract_pet_ct(&pet, &ct, &mask, &config).expect("extract");
        let log_volume = r.iter().map(|v| v.ln()).sum::<f64>();
        let hazard = (0.8 * (log_volume - 4.0) + 0.15 * (uptake - 7.5)).exp() / 1000.0;
        let t = -rng.gen::<f64>().max(1e-12).ln() / hazard;
        let c = rng.gen_range(200.0..3000.0);
        y.push(Surv::new(t.min(c), t <= c).expect("surv"));
        rows.push((format!("L{i}"), f));
    }
    let names = rows[0].1.iter().map(|(k, _)| k.clone()).collect();
    let table = FeatureTable {
        names,
        rows: rows
            .into_iter()
            .map(|(id, f)| (id, f.into_iter().map(|(_, v)| v).collect()))
            .collect(),
        failures: Vec::new(),
    };
    (table, y)
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(harness::benches);
