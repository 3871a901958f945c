//! Resampling a patient onto the 1 mm grid, as `tools/bench_sitk.py` does with SimpleITK:
//!
//! - CT 512×512×200 int16 at 0.98×0.98×2 mm → its whole 1 mm grid (≈ 502×502×400) and → a
//!   160³ crop grid at the centre;
//! - PET 200×200×150 float32 at 4×4×3 mm → the same two grids.
//!
//! - a full patient: read CT and PET `.nii.gz` → locate → resample onto the 160³ crop →
//!   normalise → write both crops `.nii.gz`; and reading the CT alone, for scale.
//!
//! - training-time augmentation (three plane passes, PET + CT + two label maps) at the main
//!   job's size (48³ → 32³) and the paper's (160³ → 112³).
//!
//! ```text
//! cargo bench --bench resample
//! cargo bench --bench resample -- augment
//! .venv/bin/python tools/bench_sitk.py
//! ```

use std::time::Duration;

use std::path::PathBuf;

use adamss::io::{Case, Clinical, Geometry, Volume};
use adamss::preprocess::{
    augment, preprocess_case, resample_linear, AugmentConfig, CropCentre, Grid, PreprocessConfig,
    Sample,
};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array3, ShapeBuilder};

/// A smooth, non-constant field so that no branch is trivially predictable.
fn field<T: Copy>(shape: (usize, usize, usize), f: impl Fn(usize, usize, usize) -> T) -> Array3<T> {
    let mut v = Vec::with_capacity(shape.0 * shape.1 * shape.2);
    for k in 0..shape.2 {
        for j in 0..shape.1 {
            for i in 0..shape.0 {
                v.push(f(i, j, k));
            }
        }
    }
    Array3::from_shape_vec(shape.f(), v).expect("shape")
}

fn volumes() -> (Volume<i16>, Volume<f32>) {
    // CT stored as scanners do in LPS, i.e. x and y flipped in RAS+.
    let ras_flip = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
    let ct_geom =
        Geometry::new([0.98, 0.98, 2.0], [250.0, 250.0, -400.0], ras_flip).expect("geometry");
    let ct = Volume::new(
        field((512, 512, 200), |i, j, k| {
            ((i * 7 + j * 3 + k * 11) % 2048) as i16 - 1024
        }),
        ct_geom,
    )
    .expect("ct");
    let pet_geom =
        Geometry::new([4.0, 4.0, 3.0], [400.0, 400.0, -420.0], ras_flip).expect("geometry");
    let pet = Volume::new(
        field((200, 200, 150), |i, j, k| {
            ((i + 2 * j + 3 * k) % 97) as f32 * 0.1
        }),
        pet_geom,
    )
    .expect("pet");
    (ct, pet)
}

fn bench(c: &mut Criterion) {
    let (ct, pet) = volumes();
    let whole = Grid::common_for(&ct, 1.0).expect("grid");
    let crop = whole
        .crop_around(whole.centre(), [160, 160, 160])
        .expect("crop");
    let mut g = c.benchmark_group("resample");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("ct_to_1mm_whole", |b| {
        b.iter(|| resample_linear(&ct, &whole, -1024.0).expect("resample"))
    });
    g.bench_function("ct_to_1mm_crop160", |b| {
        b.iter(|| resample_linear(&ct, &crop, -1024.0).expect("resample"))
    });
    g.bench_function("pet_to_1mm_whole", |b| {
        b.iter(|| resample_linear(&pet, &whole, 0.0).expect("resample"))
    });
    g.bench_function("pet_to_1mm_crop160", |b| {
        b.iter(|| resample_linear(&pet, &crop, 0.0).expect("resample"))
    });
    g.finish();

    // The full patient, from and to .nii.gz files (written once under target/bench-data).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/patient");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (ct_path, pet_path) = (dir.join("ct.nii.gz"), dir.join("pet.nii.gz"));
    if !ct_path.exists() || !pet_path.exists() {
        ct.write(&ct_path).expect("write ct");
        pet.write(&pet_path).expect("write pet");
    }
    let out = tempfile::tempdir().expect("tempdir");
    let config = PreprocessConfig::default();
    let mut g = c.benchmark_group("patient");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("read_ct_only", |b| {
        b.iter(|| Volume::<f32>::read(&ct_path).expect("read"))
    });
    g.bench_function("read_preprocess_write", |b| {
        b.iter(|| {
            let case = Case {
                id: "P".into(),
                ct: Volume::<f32>::read(&ct_path).expect("read ct"),
                pet: Volume::<f32>::read(&pet_path).expect("read pet"),
                mask: None,
                survival: None,
                clinical: Clinical::default(),
            };
            let p = preprocess_case(&case, &config, CropCentre::Auto).expect("preprocess");
            p.ct.write(out.path().join("ct.nii.gz")).expect("write");
            p.pet.write(out.path().join("pet.nii.gz")).expect("write");
        })
    });
    g.finish();
}

/// PET, CT and the two one-hot label maps of a `n³` sample: smooth images, a ball and a
/// half-shell as labels (as the training loop hands them to `augment`).
fn training_sample(n: usize) -> Sample {
    let c = n as f64 / 2.0;
    let r2 = |i: usize, j: usize, k: usize| {
        (i as f64 - c).powi(2) + (j as f64 - c).powi(2) + (k as f64 - c).powi(2)
    };
    let pet = field((n, n, n), |i, j, k| ((i + 2 * j + 3 * k) % 97) as f32 * 0.1);
    let ct = field((n, n, n), |i, j, k| {
        ((i * 7 + j * 3 + k * 11) % 200) as f32 * 0.01
    });
    let lab = field((n, n, n), |i, j, k| {
        let d = r2(i, j, k);
        if d <= (n as f64 / 6.0).powi(2) {
            1u8
        } else if d <= (n as f64 / 4.0).powi(2) && i as f64 > c {
            2
        } else {
            0
        }
    });
    Sample {
        images: vec![pet, ct],
        labels: Sample::one_hot(&lab, &[1, 2]),
    }
}

fn bench_augment(c: &mut Criterion) {
    let mut g = c.benchmark_group("augment");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    for (n, crop) in [(48, 32), (160, 112)] {
        let sample = training_sample(n);
        let config = AugmentConfig {
            crop: [crop; 3],
            ..AugmentConfig::default()
        };
        let mut seed = 0u64;
        g.bench_function(format!("{n}_to_{crop}"), |b| {
            b.iter(|| {
                seed += 1;
                augment(&sample, &config, seed).expect("augment")
            })
        });
    }
    g.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench, bench_augment);
}
criterion_main!(harness::benches);
