//! End-to-end tests of the `adamss` command line.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod model;
mod radiomics;

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

/// The main job on the tiny preset: generates the cohort, runs the cross-validated comparison,
/// prints the table with the oracle row and writes the report; a second run reuses the cohort
/// and reloads every trained stage, printing the same table.
#[test]
fn demo_runs_end_to_end_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let work = work.to_str().unwrap();
    let (ok, text) = adamss(&["demo", "--dir", work, "--preset", "tiny"]);
    assert!(ok, "{text}");
    assert!(text.contains("generated 16 patients"), "{text}");
    let table: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
    for row in [
        "| AdaMSS (SSL) |",
        "| LASSO-CoxPH, radiomics + clinical |",
        "| oracle",
    ] {
        assert!(
            table.iter().any(|l| l.starts_with(row)),
            "{row} missing in {text}"
        );
    }
    assert!(dir.path().join("demo/tiny/report.md").is_file());
    assert!(dir.path().join("demo/tiny/km-ssl.svg").is_file());
    let (ok, again) = adamss(&["demo", "--dir", work, "--preset", "tiny"]);
    assert!(ok && again.contains("reusing"), "{again}");
    let table_again: Vec<&str> = again.lines().filter(|l| l.starts_with("| ")).collect();
    // Same C-index and DSC columns (the seconds column differs: stages are reloaded).
    let strip = |rows: &[&str]| -> Vec<String> {
        rows.iter()
            .map(|l| l.rsplitn(3, '|').nth(2).unwrap_or(l).to_string())
            .collect()
    };
    assert_eq!(strip(&table), strip(&table_again), "{text}\n{again}");
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
