//! End-to-end tests of the `adamss` command line.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod model;

use std::process::Command;

fn adamss(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_adamss"))
        .args(args)
        .output()
        .expect("run adamss");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The main job on the tiny preset: generates, reloads, and prints every joined patient;
/// a second run reuses the cohort.
#[test]
fn demo_runs_end_to_end_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let work = work.to_str().unwrap();
    let (ok, text) = adamss(&["demo", "--dir", work, "--preset", "tiny"]);
    assert!(ok, "{text}");
    assert!(text.contains("generated 6 patients"), "{text}");
    let joined: usize = text
        .lines()
        .find_map(|l| {
            l.strip_suffix(" dropped")
                .and_then(|l| l.split(' ').next()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no join report in {text}"));
    let rows = text.lines().filter(|l| l.contains("24×24×16")).count();
    assert_eq!(rows, joined, "{text}");
    assert!(
        text.contains(&format!("{joined} cases loaded, 0 failed")),
        "{text}"
    );
    let (ok, again) = adamss(&["demo", "--dir", work, "--preset", "tiny"]);
    assert!(ok && again.contains("reusing"), "{again}");
}

#[test]
fn synth_cohort_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let out = out.to_str().unwrap();
    let (ok, text) = adamss(&[
        "synth",
        "--out",
        out,
        "--preset",
        "tiny",
        "--patients",
        "2",
        "--seed",
        "5",
    ]);
    assert!(ok, "{text}");
    let (ok, text) = adamss(&["cohort", out]);
    assert!(ok, "{text}");
    let ct = format!("{out}/imagesTr/CHUM-001__CT.nii.gz");
    let (ok, text) = adamss(&["inspect", &ct]);
    assert!(
        ok && text.contains("INT16") && text.contains("[24, 24, 16]"),
        "{text}"
    );
    // Bad input: a typed error naming the file, non-zero exit, no panic.
    let (ok, text) = adamss(&["inspect", "/no/such.nii.gz"]);
    assert!(
        !ok && text.contains("/no/such.nii.gz") && !text.contains("panicked"),
        "{text}"
    );
    let (ok, text) = adamss(&["cohort", dir.path().to_str().unwrap()]);
    assert!(!ok && text.contains("imagesTr"), "{text}");
}
