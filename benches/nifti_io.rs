//! NIfTI read/write throughput on a CT-sized volume: 512×512×200 int16 `.nii.gz`.
//!
//! The file is a synthetic CT (the project's phantom at 0.98×0.98×2.5 mm), generated once under
//! `target/bench-data/`. `tools/bench_nibabel.py` times nibabel on the same file; figures and
//! the ratio are in `docs/benchmarks.md`.
//!
//! ```text
//! cargo bench --bench nifti_io
//! .venv/bin/python tools/bench_nibabel.py target/bench-data/ct512/imagesTr/CHUM-001__CT.nii.gz
//! ```

use std::path::PathBuf;
use std::time::Duration;

use adamss::io::{generate_synthetic, SyntheticConfig, Volume};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// The 512×512×200 int16 CT, generated on first use.
fn ct_file() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/ct512");
    let file = root.join("imagesTr/CHUM-001__CT.nii.gz");
    if !file.is_file() {
        let config = SyntheticConfig {
            patients: 1,
            field_of_view_mm: [512.0 * 0.98, 512.0 * 0.98, 200.0 * 2.5],
            ct_spacing_mm: [0.98, 0.98, 2.5],
            pet_spacing_mm: [4.0; 3],
            endpoint_fraction: 1.0,
            ..SyntheticConfig::default()
        };
        std::fs::create_dir_all(root.parent().expect("parent")).expect("bench-data dir");
        generate_synthetic(&root, &config, &|_| {}).expect("generate benchmark CT");
    }
    file
}

fn nifti_io(c: &mut Criterion) {
    let file = ct_file();
    let vol = Volume::<i16>::read(&file).expect("read");
    assert_eq!(vol.shape(), [512, 512, 200]);
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("ct.nii.gz");

    let mut g = c.benchmark_group("nifti_512x512x200_int16_gz");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes((512 * 512 * 200 * 2) as u64));
    g.bench_function("read_i16", |b| {
        b.iter(|| Volume::<i16>::read(&file).expect("read"))
    });
    g.bench_function("read_f32", |b| {
        b.iter(|| Volume::<f32>::read(&file).expect("read"))
    });
    g.bench_function("write_i16", |b| b.iter(|| vol.write(&out).expect("write")));
    g.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, nifti_io);
}
criterion_main!(harness::benches);
