//! The fuzz targets' smoke run (issue #23): every target of `fuzz/` on its seed corpus and on
//! seeded mutants of it (byte flips, interesting bytes, insertions, deletions, truncations,
//! splices), so a target cannot rot and the cheapest findings are caught on every CI run. The
//! long runs are cargo-fuzz's (docs/fuzzing.md).

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fuzz_targets::TARGETS;

/// Mutants per seed file.
const MUTANTS: usize = 60;

/// The seed corpus of a target: the files its docs/fuzzing.md command starts from.
fn seed_files(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dirs, keep): (Vec<PathBuf>, fn(&str) -> bool) = match target {
        "nifti_read" => (vec![root.join("tests/data/nifti")], |n| {
            n.ends_with(".nii") || n.ends_with(".nii.gz")
        }),
        "nrrd_read" => (vec![root.join("tests/data/io/nrrd")], |n| {
            n.ends_with(".nrrd")
        }),
        "dicom_read" => (
            [
                "ct_axial",
                "ct_oblique",
                "pet_slopes",
                "bad_jpeg",
                "seg",
                "suv/bqml_rewritten_ge",
                "suv/cnts_philips_block",
                "suv/bqml_time_female",
                "compressed/rle_ct_oblique",
                "compressed/jpegll_ct_oblique",
                "compressed/j2k_ct_oblique",
                "compressed/j2k_lossy_ct_axial",
                "rtstruct",
                "multiframe/pet_slopes",
                "multiframe/bad_compressed",
            ]
            .iter()
            .map(|d| root.join("tests/data/dicom").join(d))
            .chain([root.join("fuzz/seeds/dicom_read")])
            .collect(),
            |n| n.ends_with(".dcm"),
        ),
        "radiomics_params" => (
            vec![
                root.join("tests/data/radiomics/pyradiomics_examples"),
                root.join("tests/data/radiomics"),
                root.join("fuzz/seeds/radiomics_params"),
            ],
            |n| n.ends_with(".yaml") || n.ends_with(".json"),
        ),
        other => (vec![root.join("fuzz/seeds").join(other)], |_| true),
    };
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.is_file() && keep(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

fn mutate(rng: &mut ChaCha8Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    const INTERESTING: [u8; 12] = [
        0, 0xff, 0x7f, 0x80, b',', b'\n', b'"', b'-', b'9', b':', b'[', b'=',
    ];
    let mut v = input.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let n = v.len();
        match rng.gen_range(0..7) {
            0 if n > 0 => {
                let i = rng.gen_range(0..n);
                v[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if n > 0 => {
                let i = rng.gen_range(0..n);
                v[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            }
            2 => {
                let i = rng.gen_range(0..=n);
                let bytes: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
                v.splice(i..i, bytes);
            }
            3 if n > 0 => {
                let i = rng.gen_range(0..n);
                let j = rng.gen_range(i..=n.min(i + 64));
                v.drain(i..j);
            }
            4 => v.truncate(rng.gen_range(0..=n)),
            5 if n > 0 => {
                let i = rng.gen_range(0..n);
                let j = rng.gen_range(i..=n.min(i + 64));
                let copy = v[i..j].to_vec();
                let at = rng.gen_range(0..=n);
                v.splice(at..at, copy);
            }
            _ if !other.is_empty() => {
                let cut = rng.gen_range(0..=n);
                let from = rng.gen_range(0..other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    v
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_mutants() {
    for (name, target) in TARGETS {
        let files = seed_files(name);
        assert!(!files.is_empty(), "{name}: no seed files");
        let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        for (k, seed) in seeds.iter().enumerate() {
            let other = &seeds[(k + 1) % seeds.len()];
            let mut inputs = vec![seed.clone()];
            inputs.extend((0..MUTANTS).map(|_| mutate(&mut rng, seed, other)));
            for (m, input) in inputs.iter().enumerate() {
                let run = std::panic::catch_unwind(|| target(input));
                if run.is_err() {
                    let saved = std::env::temp_dir().join(format!("fuzz-smoke-{name}-{k}-{m}"));
                    std::fs::write(&saved, input).unwrap();
                    panic!(
                        "fuzz target {name} panicked on mutant {m} of {} (input saved to {})",
                        files[k].display(),
                        saved.display()
                    );
                }
            }
        }
    }
    crate::fuzz_targets::remove_scratch();
}

/// Writes the `checkpoint` target's seeds (run once by hand, `--ignored`): the weights of
/// [`crate::fuzz_targets::checkpoint_store`] and an Adam state over it after one step.
#[test]
#[ignore]
fn write_checkpoint_seeds() {
    use adamss_model::{checkpoint, AdamConfig, FlatAdam};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    let vs = crate::fuzz_targets::checkpoint_store();
    checkpoint::save(&vs, &dir.join("weights.safetensors")).unwrap();
    let mut adam = FlatAdam::new(&vs, 1e-3, AdamConfig::default()).unwrap();
    let loss: adamss_model::tch::Tensor = vs
        .trainable_variables()
        .iter()
        .map(|t| t.square().sum(adamss_model::tch::Kind::Float))
        .sum();
    adam.zero_grad();
    loss.backward();
    adam.step().unwrap();
    checkpoint::save_tensors(adam.state(), &dir.join("optim.safetensors")).unwrap();
}
