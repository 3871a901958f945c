//! The main job's outcome does not depend on the CPU's vector instructions (issue #25).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file of a run folder that holds a result: weights and optimiser states of every stage,
/// radiomics tables, fitted selectors, predictions, masks on the CT grids.
fn result_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with(".safetensors")
                    || name.ends_with(".nii.gz")
                    || [
                        "predictions.csv",
                        "radiomics.csv",
                        "selector.json",
                        "head.json",
                    ]
                    .contains(&&*name)
                {
                    out.push(path.strip_prefix(root).unwrap().to_path_buf());
                }
            }
        }
    }
    out.sort();
    out
}

/// Runs the tiny demo into `dir` with `env` added (and the pinning variables of the parent
/// removed, so each run sees only what it is given).
fn tiny_demo(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adamss"));
    cmd.args(["demo", "--preset", "tiny", "--dir"]).arg(dir);
    for (k, _) in adamss::model::cpu::CpuIsa::Avx2.env_vars() {
        cmd.env_remove(k);
    }
    cmd.env_remove(adamss::model::cpu::ISA_ENV);
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run adamss");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

/// The tiny main job pinned at AVX2 (the binary's default) equals, file for file and bit for
/// bit, the same job on an AVX2-only CPU — emulated here by letting the libraries pick their
/// own code paths (`ADAMSS_CPU_ISA=native`) while ATen, oneDNN and OpenBLAS see the CPU as
/// such a machine shows it to them (OpenBLAS's `Zen` core, as on AMD Zen 3). Before the
/// pinning, an AVX-512 machine trained other weights from the first convolution's weight
/// gradient on, and every table downstream moved (51 of the 95 result files differed unpinned
/// here: docs/benchmarks.md, "The main job across CPUs").
#[test]
fn tiny_demo_is_bit_identical_on_avx512_and_avx2_cpus() {
    let _one = crate::one_at_a_time();
    let host = adamss::model::cpu::host_isa();
    if host == "baseline" {
        eprintln!("skipped: this CPU has no AVX2/FMA, so neither level can run here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pinned = dir.path().join("pinned");
    let avx2_host = dir.path().join("avx2-host");
    let text = tiny_demo(&pinned, &[]);
    assert!(text.contains("pinned at avx2"), "{text}");
    let text = tiny_demo(
        &avx2_host,
        &[
            ("ADAMSS_CPU_ISA", "native"),
            ("ATEN_CPU_CAPABILITY", "avx2"),
            ("ONEDNN_MAX_CPU_ISA", "AVX2"),
            ("OPENBLAS_CORETYPE", "Zen"),
        ],
    );
    assert!(text.contains("native code paths"), "{text}");
    let files = result_files(&pinned.join("tiny"));
    assert!(files.len() > 40, "{files:?}");
    assert_eq!(files, result_files(&avx2_host.join("tiny")));
    for f in &files {
        let a = std::fs::read(pinned.join("tiny").join(f)).unwrap();
        let b = std::fs::read(avx2_host.join("tiny").join(f)).unwrap();
        assert!(a == b, "{} differs between the two CPU levels", f.display());
    }
}

/// An unknown level is refused before anything runs, naming the variable.
#[test]
fn unknown_cpu_level_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_adamss"))
        .args(["device"])
        .env("ADAMSS_CPU_ISA", "avx1024")
        .output()
        .expect("run adamss");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("ADAMSS_CPU_ISA") && text.contains("avx1024"),
        "{text}"
    );
}
