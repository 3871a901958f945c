//! A user's crate outside the workspace (`tests/downstream`), depending on the library crates
//! by path: it must build, start without `LD_LIBRARY_PATH`, keep `libtorch_cuda.so` (so CUDA
//! works on a GPU machine), and train, export and score a patient in memory through the
//! library alone.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the libtorch this test binary runs on has a CUDA library beside `libtorch_cpu.so`.
fn libtorch_has_cuda() -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("libtorch_cpu.so"))
        .map(|p| Path::new(p).with_file_name("libtorch_cuda.so").exists())
        .expect("libtorch_cpu.so is mapped")
}

#[test]
fn a_downstream_crate_trains_exports_and_predicts_without_ld_library_path() {
    let _one = crate::one_at_a_time();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The workspace's own target folder (cargo releases its lock while tests run), so the
    // build reuses every third-party artifact: only the adamss crates are compiled again.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target folder")
        .to_path_buf();
    let build = Command::new(env!("CARGO"))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("LD_LIBRARY_PATH")
        .args(["build", "--quiet", "--manifest-path"])
        .arg(root.join("tests/downstream/Cargo.toml"))
        .output()
        .expect("run cargo");
    assert!(
        build.status.success(),
        "downstream build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let exe = target.join("debug/adamss-downstream-check");
    let bytes = std::fs::read(&exe).unwrap();
    let needed = bytes
        .windows(b"libtorch_cuda.so\0".len())
        .any(|w| w == b"libtorch_cuda.so\0");
    let cuda = libtorch_has_cuda();
    assert_eq!(needed, cuda, "libtorch_cuda.so NEEDED by the user's binary");

    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(&exe)
        .arg(dir.path())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run the downstream binary");
    let text =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{text}");
    let value = |key: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} missing in {text}"))
            .to_string()
    };
    assert_eq!(value("libtorch_cuda_loaded"), cuda.to_string(), "{text}");
    // Four files and, for this Cox head, Breslow's baseline.
    assert_eq!(value("bundle_files"), "5", "{text}");
    let risk: f64 = value("risk").parse().unwrap();
    let cv: f64 = value("cv_risk").parse().unwrap();
    assert!(
        risk.is_finite() && (risk - cv).abs() <= 1e-4 * cv.abs().max(1.0),
        "in memory {risk} vs {cv} in the cross-validation: {text}"
    );
    assert!(value("mask_voxels").parse::<usize>().unwrap() > 0, "{text}");
}

/// Users' crates outside the workspace (`tests/downstream-libs`), each depending on one library
/// crate alone (adamss-io, -preprocess, -radiomics, -survival): each builds and runs its
/// crate's README example (the crate docs' opening example) with no ndarray or linfa of its own.
#[test]
fn each_library_crate_alone_runs_its_readme_example() {
    let _one = crate::one_at_a_time();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let libs = root.join("tests/downstream-libs");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target folder")
        .to_path_buf();
    let crates = ["io", "preprocess", "radiomics", "survival"];
    for c in crates {
        // One dependency: the crate itself.
        let manifest = std::fs::read_to_string(libs.join(c).join("Cargo.toml")).unwrap();
        let deps: Vec<&str> = (manifest.split("[dependencies]").nth(1).unwrap().lines())
            .filter(|l| l.contains('='))
            .collect();
        assert_eq!(deps.len(), 1, "{c}: {deps:?}");
        assert!(
            deps[0].starts_with(&format!("adamss-{c} ")),
            "{c}: {deps:?}"
        );
    }
    let build = Command::new(env!("CARGO"))
        .current_dir(&libs)
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(libs.join("Cargo.toml"))
        .output()
        .expect("run cargo");
    assert!(
        build.status.success(),
        "downstream-libs build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    for c in crates {
        let run = Command::new(target.join(format!("debug/uses-adamss-{c}")))
            .output()
            .expect("run the example");
        assert!(
            run.status.success(),
            "adamss-{c}'s README example: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
