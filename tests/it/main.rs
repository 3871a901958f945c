//! End-to-end tests of the `adamss` command line.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod downstream;
mod fuzz_smoke;
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_targets;
mod isa;
mod model;
mod radiomics;

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Taken for its whole run by every test that runs libtorch, in this process or in the
/// `adamss` or `cargo` it starts: one such test at a time. Two at once put twice as many
/// OpenMP threads as cores on a 2-core machine, where they spin on each other: this suite took
/// 400 s with two tests at a time against 163 s one at a time (2026-12-06, the CI machine's
/// kind). The tests of pure-Rust code (radiomics, the fuzz targets) still run beside them.
pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the next one runs all the same.
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A synthetic cohort of the tiny preset with `patients` patients at `out`.
fn tiny_cohort(out: &str, patients: usize) {
    let n = patients.to_string();
    let (ok, text) = adamss(&["synth", "--out", out, "--preset", "tiny", "--patients", &n]);
    assert!(ok, "{text}");
}

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
    let _one = one_at_a_time();
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

    // The finished run predicts new patients with AdaMSS + radiomics (here the cohort's own).
    let run = format!("{work}/tiny");
    let cohort = format!("{work}/cohort");
    let out = format!("{work}/predict");
    let predict = |method: &str| {
        adamss(&[
            "predict", "--run", &run, "--cohort", &cohort, "--out", &out, "--method", method,
        ])
    };
    let (ok, text) = predict("ssl-radiomics");
    assert!(ok && text.contains("16 patients"), "{text}");
    let risks = std::fs::read_to_string(format!("{out}/risks.csv")).unwrap();
    assert_eq!(risks.lines().count(), 1 + 16, "{risks}");
    // The cohort has labels: each mask's Dice and HD95 against them (a distance in mm, ∞
    // where only one of the two has the structure, empty where neither has it).
    let mut reader = csv::Reader::from_path(format!("{out}/risks.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (dice, hd95) = (col("dice_gtvp"), col("hd95_gtvp"));
    let mut measured = 0;
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(row[dice].is_empty(), row[hd95].is_empty(), "{row:?}");
        if let Ok(h) = row[hd95].parse::<f64>() {
            let d: f64 = row[dice].parse().unwrap();
            assert!(h >= 0.0 && (h.is_finite() || d == 0.0), "{row:?}");
            measured += 1;
        }
    }
    assert!(measured > 0, "{risks}");
    // The same masks scored by `evaluate --masks`: the same Dice per patient, and a missing
    // mask listed by patient with an error exit.
    let seg = format!("{work}/evaluate-masks");
    let score = || {
        adamss(&[
            "evaluate",
            "--masks",
            &format!("{out}/masks"),
            "--cohort",
            &cohort,
            "--out",
            &seg,
        ])
    };
    let (ok, text) = score();
    assert!(
        ok && text.contains("16 masks scored") && text.contains("GTVP: aggregated Dice"),
        "{text}"
    );
    let dice_of = |path: String| -> Vec<(String, String)> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let h = r.headers().unwrap().clone();
        let d = h.iter().position(|c| c == "dice_gtvp").unwrap();
        r.records()
            .map(|row| {
                let row = row.unwrap();
                (row[0].to_string(), row[d].to_string())
            })
            .collect()
    };
    let mut from_predict = dice_of(format!("{out}/risks.csv"));
    let mut from_evaluate = dice_of(format!("{seg}/segmentation.csv"));
    from_predict.sort();
    from_evaluate.sort();
    assert_eq!(from_predict, from_evaluate);
    let gone = &from_evaluate[0].0;
    std::fs::remove_file(format!("{out}/masks/{gone}.nii.gz")).unwrap();
    let (ok, text) = score();
    assert!(
        !ok && text.contains(&format!("failed: {gone}:")) && text.contains("no such mask"),
        "{text}"
    );
    assert!(text.contains("15 masks scored"), "{text}");
    let (ok, text) = predict("mtl");
    assert!(!ok && text.contains("ssl-radiomics"), "{text}");

    // The predicted risks evaluated against the cohort's endpoints.
    let eval = format!("{work}/evaluate");
    let (ok, text) = adamss(&[
        "evaluate",
        "--risks",
        &format!("{out}/risks.csv"),
        "--cohort",
        &cohort,
        "--out",
        &eval,
    ]);
    assert!(ok && text.contains("Harrell's C"), "{text}");
    assert!(Path::new(&format!("{eval}/evaluation.md")).is_file());
    assert!(Path::new(&format!("{eval}/km.svg")).is_file());
    let bad = format!("{work}/bad-risks.csv");
    std::fs::write(&bad, "PatientID,score\nCHUM-001,1.0\n").unwrap();
    let (ok, text) = adamss(&[
        "evaluate", "--risks", &bad, "--cohort", &cohort, "--out", &eval,
    ]);
    assert!(
        !ok && text.contains("bad-risks.csv") && text.contains("risk column"),
        "{text}"
    );
    // One method's rows of the run's predictions.csv: its folds' mean is the table's row.
    let (ok, text) = adamss(&[
        "evaluate",
        "--risks",
        &format!("{run}/predictions.csv"),
        "--method",
        "ssl",
        "--cohort",
        &cohort,
        "--out",
        &eval,
    ]);
    assert!(ok && text.contains("## Per test fold"), "{text}");
    let ssl_row = table
        .iter()
        .find(|l| l.starts_with("| AdaMSS (SSL) |"))
        .expect("SSL row");
    let c = ssl_row.split('|').nth(2).unwrap().trim();
    assert!(text.contains(&format!("**{c}**")), "{c} in\n{text}");
    // One patient has no comparable pair: the error says which file and how many it joined.
    let one = format!("{work}/one-risk.csv");
    std::fs::write(&one, "PatientID,risk\nCHUM-001,1.0\n").unwrap();
    let (ok, text) = adamss(&[
        "evaluate", "--risks", &one, "--cohort", &cohort, "--out", &eval,
    ]);
    assert!(
        !ok && text.contains("one-risk.csv: patients with an endpoint: 1")
            && text.contains("no comparable pairs"),
        "{text}"
    );

    // The same network exported as a bundle and predicted from there: the same risks.
    let model = format!("{work}/model");
    let export = || {
        adamss(&[
            "export",
            "--run",
            &run,
            "--fold",
            "0",
            "--method",
            "ssl-radiomics",
            "--out",
            &model,
        ])
    };
    let (ok, text) = export();
    assert!(ok && text.contains("ssl-radiomics of fold 0"), "{text}");
    let (ok, text) = export();
    assert!(!ok && text.contains("already exists"), "{text}");
    let out_model = format!("{work}/predict-model");
    let predict_model = || {
        adamss(&[
            "predict", "--model", &model, "--device", "cpu", "--cohort", &cohort, "--out",
            &out_model,
        ])
    };
    let (ok, text) = predict_model();
    assert!(ok && text.contains("16 patients"), "{text}");
    let risk_columns = |path: String| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(
        risk_columns(format!("{out}/risks.csv")),
        risk_columns(format!("{out_model}/risks.csv"))
    );
    // Ids with a comma or a quote (a manifest's free text) stay one field in risks.csv, and
    // `evaluate` reads them back.
    let manifest = format!("{work}/odd-ids.csv");
    let mut rows = String::from("patient_id,ct,pet,time,event\n");
    for (id, source, time, event) in [
        ("\"Doe, J.\"", "CHUM-001", 300, 1),
        ("\"O\"\"Neil 2\"", "CHUM-002", 900, 0),
        ("plain", "CHUP-001", 500, 1),
    ] {
        let image = |m: &str| format!("{cohort}/imagesTr/{source}__{m}.nii.gz");
        rows += &format!("{id},{},{},{time},{event}\n", image("CT"), image("PT"));
    }
    std::fs::write(&manifest, rows).unwrap();
    let odd_out = format!("{work}/predict-odd");
    let (ok, text) = adamss(&[
        "predict", "--model", &model, "--device", "cpu", "--cohort", &manifest, "--out", &odd_out,
    ]);
    assert!(ok, "{text}");
    let risks = format!("{odd_out}/risks.csv");
    let mut reader = csv::Reader::from_path(&risks).unwrap();
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids, ["Doe, J.", "O\"Neil 2", "plain"]);
    assert!(Path::new(&format!("{odd_out}/masks/Doe, J..nii.gz")).is_file());
    let (ok, text) = adamss(&[
        "evaluate", "--risks", &risks, "--cohort", &manifest, "--out", &eval,
    ]);
    assert!(ok && text.contains("Harrell's C"), "{text}");
    // A patient whose CT cannot be read does not stop the others: it is listed, the others are
    // scored, and the exit status says one failed.
    let broken_ct = format!("{work}/broken__CT.nii.gz");
    let bytes = std::fs::read(format!("{cohort}/imagesTr/CHUM-001__CT.nii.gz")).unwrap();
    std::fs::write(&broken_ct, &bytes[..bytes.len() / 3]).unwrap();
    let manifest = format!("{work}/one-broken.csv");
    let pet = |source: &str| format!("{cohort}/imagesTr/{source}__PT.nii.gz");
    let ct = format!("{cohort}/imagesTr/CHUP-001__CT.nii.gz");
    std::fs::write(
        &manifest,
        format!(
            "patient_id,ct,pet\nbroken,{broken_ct},{}\ngood,{ct},{}\n",
            pet("CHUM-001"),
            pet("CHUP-001")
        ),
    )
    .unwrap();
    let broken_out = format!("{work}/predict-broken");
    let (ok, text) = adamss(&[
        "predict",
        "--model",
        &model,
        "--device",
        "cpu",
        "--cohort",
        &manifest,
        "--out",
        &broken_out,
    ]);
    assert!(
        !ok && text.contains("failed: broken: ")
            && text.contains("broken__CT.nii.gz")
            && text.contains("1 of 2 patients could not be scored"),
        "{text}"
    );
    let mut reader = csv::Reader::from_path(format!("{broken_out}/risks.csv")).unwrap();
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids, ["good"]);
    // An altered or incomplete bundle is refused, naming the file.
    let head = format!("{model}/head.json");
    let original = std::fs::read_to_string(&head).unwrap();
    std::fs::write(&head, original.replacen('1', "2", 1)).unwrap();
    let (ok, text) = predict_model();
    assert!(
        !ok && text.contains("head.json") && text.contains("altered"),
        "{text}"
    );
    std::fs::remove_file(&head).unwrap();
    let (ok, text) = predict_model();
    assert!(
        !ok && text.contains("head.json") && text.contains("missing"),
        "{text}"
    );
}

/// An error is printed once: the causes under it that its message already quotes are left out
/// (a missing file said "No such file or directory" twice), the others kept under "Caused by".
#[test]
fn errors_say_their_cause_once() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.nii.gz");
    let (ok, text) = adamss(&["inspect", missing.to_str().unwrap()]);
    assert!(!ok && text.contains("missing.nii.gz"), "{text}");
    assert_eq!(
        text.matches("No such file or directory").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("Caused by"), "{text}");
    let (ok, text) = adamss(&[
        "train",
        "--cohort",
        dir.path().to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert!(!ok && text.contains("imagesTr"), "{text}");
}

/// `train` refuses a folder that already holds the run's folds unless `--resume` is given; with
/// it, every finished stage is reloaded and the same table printed; a folder trained on other
/// patients, or on the same patients before their endpoint or images changed, is refused even
/// then, before anything is written.
/// `demo --patients` outside its range is refused before anything is written.
#[test]
fn demo_refuses_a_patient_count_out_of_range() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    for n in ["5", "0", "100001"] {
        let (ok, text) = adamss(&["demo", "--dir", work.to_str().unwrap(), "--patients", n]);
        assert!(!ok && text.contains("--patients"), "{n}: {text}");
    }
    assert!(!work.exists());
}

#[test]
fn train_resumes_only_when_asked_and_only_its_own_patients() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cohort, other, run) = (path("cohort"), path("other"), path("run"));
    for (out, n) in [(&cohort, "16"), (&other, "18")] {
        let (ok, text) = adamss(&["synth", "--out", out, "--preset", "tiny", "--patients", n]);
        assert!(ok, "{text}");
    }
    let train = |cohort: &str, resume: bool| {
        let mut args = vec![
            "train", "--cohort", cohort, "--out", &run, "--preset", "tiny",
        ];
        args.extend(["--methods", "lasso-cox-clinical", "ssl"]);
        if resume {
            args.push("--resume");
        }
        adamss(&args)
    };
    let table = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("| "))
            .map(|l| l.rsplitn(3, '|').nth(2).unwrap_or(l).to_string())
            .collect()
    };
    let (ok, first) = train(&cohort, false);
    assert!(ok, "{first}");
    let (ok, refused) = train(&cohort, false);
    assert!(!ok && refused.contains("--resume"), "{refused}");
    let (ok, resumed) = train(&cohort, true);
    assert!(ok, "{resumed}");
    assert_eq!(table(&first), table(&resumed), "{first}\n{resumed}");
    assert_eq!(table(&first).len(), 3, "header and two methods: {first}");
    let listed = std::fs::read_to_string(dir.path().join("run/patients.txt")).unwrap();
    let (ok, other_cohort) = train(&other, true);
    assert!(
        !ok && other_cohort.contains("other patients"),
        "{other_cohort}"
    );
    let after = std::fs::read_to_string(dir.path().join("run/patients.txt")).unwrap();
    assert_eq!(listed, after, "the refused run left the folder alone");

    // The same patients with changed data: refused too, naming what changed.
    let inputs = std::fs::read_to_string(dir.path().join("run/inputs.tsv")).unwrap();
    let endpoints = dir.path().join("cohort/hecktor2022_endpoint_training.csv");
    let table_text = std::fs::read_to_string(&endpoints).unwrap();
    let rows: Vec<Vec<String>> = table_text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let (first, second) = (rows[0][0].clone(), rows[1][0].clone());
    let edited = table_text.replacen(
        &format!("{first},{},{}", rows[0][1], rows[0][2]),
        &format!(
            "{first},{},{}",
            rows[0][1],
            rows[0][2].parse::<f64>().unwrap() + 1.0
        ),
        1,
    );
    assert_ne!(edited, table_text);
    std::fs::write(&endpoints, edited).unwrap();
    let (ok, text) = train(&cohort, true);
    assert!(
        !ok && text.contains("changed") && text.contains(&format!("{first}, its endpoint")),
        "{text}"
    );
    std::fs::write(&endpoints, &table_text).unwrap();
    let images = dir.path().join("cohort/imagesTr");
    std::fs::copy(
        images.join(format!("{second}__PT.nii.gz")),
        images.join(format!("{first}__PT.nii.gz")),
    )
    .unwrap();
    let (ok, text) = train(&cohort, true);
    assert!(
        !ok && text.contains(&format!("{first}, its images")),
        "{text}"
    );
    let after = std::fs::read_to_string(dir.path().join("run/inputs.tsv")).unwrap();
    assert_eq!(inputs, after, "the refused runs left the digests alone");
}

/// `adamss synth --regime beyond-labels` writes the finding maps and the truth's findings
/// columns; a bad regime name is refused by clap with the valid ones listed.
#[test]
fn synth_beyond_labels_regime() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let out = out.to_str().unwrap();
    let (ok, text) = adamss(&[
        "synth",
        "--out",
        out,
        "--preset",
        "tiny",
        "--patients",
        "3",
        "--regime",
        "beyond-labels",
    ]);
    assert!(ok, "{text}");
    assert!(std::path::Path::new(out)
        .join("synthetic_findings/CHUM-001.nii.gz")
        .is_file());
    let truth = std::fs::read_to_string(format!("{out}/synthetic_truth.csv")).unwrap();
    let header = truth.lines().next().unwrap();
    for column in [
        "risk_without_findings",
        "unlabelled_node",
        "bone_lesion",
        "second_primary",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let config = std::fs::read_to_string(format!("{out}/synthetic_config.json")).unwrap();
    assert!(config.contains("\"beyond-labels\""), "{config}");
    let (ok, text) = adamss(&["synth", "--out", out, "--regime", "everywhere"]);
    assert!(
        !ok && text.contains("labels-only") && text.contains("beyond-labels"),
        "{text}"
    );
}

/// `adamss synth --scanners varied` gives each centre its scanner profile (the truth's
/// `scanner` column, one CT spacing per centre); a bad name is refused with the valid ones.
#[test]
fn synth_varied_scanners() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v");
    let out = out.to_str().unwrap();
    let (ok, text) = adamss(&[
        "synth",
        "--out",
        out,
        "--preset",
        "tiny",
        "--patients",
        "4",
        "--scanners",
        "varied",
    ]);
    assert!(ok, "{text}");
    let truth = adamss::io::synthetic::read_truth(out).unwrap();
    let names: Vec<&str> = truth.iter().map(|t| t.scanner.as_str()).collect();
    assert_eq!(names, ["reference", "recent", "older", "mixed"]);
    let mut spacings: Vec<String> = truth
        .iter()
        .map(|t| {
            let ct = format!("{out}/imagesTr/{}__CT.nii.gz", t.patient_id);
            let v = adamss::io::Volume::<f32>::read(&ct).unwrap();
            format!("{:?}", v.geometry().spacing)
        })
        .collect();
    spacings.dedup();
    assert_eq!(spacings.len(), 4, "{spacings:?}");
    let config = std::fs::read_to_string(format!("{out}/synthetic_config.json")).unwrap();
    assert!(config.contains("\"varied\""), "{config}");
    let (ok, text) = adamss(&["synth", "--out", out, "--scanners", "many"]);
    assert!(
        !ok && text.contains("uniform") && text.contains("varied"),
        "{text}"
    );
}

/// On a `beyond-labels` cohort, `adamss train`'s report carries the table of where the
/// networks look, with the unlabelled findings as a region (read from the finding maps), and
/// links fold 0's PNG figures, which exist and are PNGs.
#[test]
fn train_report_shows_where_the_network_looks() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cohort, run) = (path("cohort"), path("run"));
    let (ok, text) = adamss(&[
        "synth",
        "--out",
        &cohort,
        "--preset",
        "tiny",
        "--patients",
        "16",
        "--regime",
        "beyond-labels",
    ]);
    assert!(ok, "{text}");
    let (ok, text) = adamss(&[
        "train",
        "--cohort",
        &cohort,
        "--out",
        &run,
        "--preset",
        "tiny",
        "--methods",
        "ssl",
    ]);
    assert!(ok, "{text}");
    let report = std::fs::read_to_string(dir.path().join("run/report.md")).unwrap();
    let section = report
        .split("## Where the networks look")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("the section");
    let row = section
        .lines()
        .find(|l| l.starts_with("| AdaMSS (SSL) | attention"))
        .unwrap_or_else(|| panic!("{section}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // | method | map | GTVp | GTVn | findings | rest | air | ratio | patients |
    assert!(cells[3].contains('%') && cells[5].contains('%'), "{row}");
    assert!(
        cells[5] != "–" && cells[8] != "–",
        "findings measured: {row}"
    );
    assert!(
        section
            .lines()
            .any(|l| l.starts_with("| AdaMSS (SSL) | fusion gate")),
        "{section}"
    );
    let figures: Vec<&str> = section
        .split("](")
        .skip(1)
        .map(|t| t.split(')').next().unwrap())
        .collect();
    assert!(!figures.is_empty(), "{section}");
    for f in figures {
        let bytes = std::fs::read(dir.path().join("run").join(f)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{f}");
    }
}

#[test]
fn synth_cohort_inspect_and_radiomics() {
    let _one = one_at_a_time();
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

    // Cohort radiomics: the default (all classes, original image), and a PyRadiomics
    // parameter file that resamples the 2 × 2 × 3 mm CT to 2 mm (first-order + one shape
    // feature, PET and CT: 2 × 19 columns after PatientID).
    let csv = dir.path().join("f.csv");
    let csv = csv.to_str().unwrap();
    let (ok, text) = adamss(&["radiomics", "--cohort", out, "--out", csv]);
    assert!(ok && text.contains("2 patients × 214 features"), "{text}");
    let params = dir.path().join("p.json");
    std::fs::write(
        &params,
        r#"{"setting": {"binWidth": 25, "resampledPixelSpacing": [2, 2, 2]},
            "imageType": {"Original": {}},
            "featureClass": {"firstorder": [], "shape": ["VoxelVolume"]}}"#,
    )
    .unwrap();
    let with_params = |params: &std::path::Path| {
        let params = params.to_str().unwrap();
        adamss(&[
            "radiomics",
            "--cohort",
            out,
            "--out",
            csv,
            "--params",
            params,
        ])
    };
    let (ok, text) = with_params(&params);
    assert!(ok && text.contains("2 patients × 38 features"), "{text}");
    let header = std::fs::read_to_string(csv).unwrap();
    let header = header.lines().next().unwrap();
    assert!(
        header.starts_with("PatientID,PET_original_shape_VoxelVolume,")
            && header.contains(",CT_original_firstorder_Mean,"),
        "{header}"
    );
    // A bad parameter file is an error naming it.
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"setting": {"binWidht": 25}}"#,
    )
    .unwrap();
    let (ok, text) = with_params(&dir.path().join("bad.json"));
    assert!(
        !ok && text.contains("bad.json") && text.contains("binWidht"),
        "{text}"
    );
}

/// `adamss radiomics --image --mask [--label]`: one row with PyRadiomics' own column names,
/// equal to PyRadiomics run with no parameter file and only the label
/// (`tools/pyradiomics_edge_cases.py`, "defaults"), 1e-6 relative or 1e-9 absolute; and its
/// `diagnostics_*` entries (int16 CT with label 2, float32 PET, three 26-connected components).
/// A PyRadiomics user's NRRD pair (image written by SimpleITK in LPS, mask by hand in RAS on
/// the same grid; `tools/nrrd_reference.py`): the features PyRadiomics' defaults give.
#[test]
fn radiomics_of_nrrd_files_matches_pyradiomics() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/io/nrrd");
    let text = std::fs::read_to_string(data.join("pair_features.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want = expected["features"].as_object().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("features.csv");
    let path = |f: &str| data.join(f).to_str().unwrap().to_string();
    let (ok, text) = adamss(&[
        "radiomics",
        "--image",
        &path("pair_image.nrrd"),
        "--mask",
        &path("pair_mask.nrrd"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert_row_equals_pyradiomics(&out, "pair_image", want);
}

/// The one row of `adamss radiomics --image` at `out`: named `id`, with PyRadiomics' feature
/// columns `want` and their values to 1e-6 relative or 1e-9 absolute.
fn assert_row_equals_pyradiomics(
    out: &Path,
    id: &str,
    want: &serde_json::Map<String, serde_json::Value>,
) {
    let mut reader = csv::Reader::from_path(out).unwrap();
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[0], id);
    assert_eq!(header.len() - 1, want.len());
    for (name, value) in header.iter().zip(row.iter()).skip(1) {
        let (ours, theirs): (f64, f64) = (value.parse().unwrap(), want[name].as_f64().unwrap());
        let d = (ours - theirs).abs();
        assert!(
            d <= 1e-9 || d <= 1e-6 * theirs.abs(),
            "{name}: {ours} vs {theirs}"
        );
    }
}

/// A DICOM CT series (a folder of slices, `tools/dicom_reference.py`) as the image, a NIfTI
/// mask on its grid written by SimpleITK: `adamss radiomics --image FOLDER --mask MASK` gives
/// PyRadiomics' default features of SimpleITK's reading of the series (1e-6 relative or 1e-9
/// absolute), and `adamss inspect FOLDER` prints the series' header.
#[test]
fn radiomics_of_a_dicom_series_matches_pyradiomics() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    let text = std::fs::read_to_string(data.join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want = expected["cases"]["ct_axial"]["pyradiomics"]["features"]
        .as_object()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("features.csv");
    let series = data.join("ct_axial");
    let (ok, text) = adamss(&[
        "radiomics",
        "--image",
        series.to_str().unwrap(),
        "--mask",
        data.join("ct_axial_mask.nii.gz").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert_row_equals_pyradiomics(&out, "ct_axial", want);
    let (ok, text) = adamss(&["inspect", series.to_str().unwrap()]);
    assert!(
        ok && text.contains("Dicom") && text.contains("[14, 11, 6]"),
        "{text}"
    );
}

#[test]
fn radiomics_in_a_dicom_seg_segment_matches_pyradiomics() {
    // The SEG (highdicom) on the ct_axial series, segment 2 as the label: PyRadiomics ran on
    // the same masks as a label map (tools/dicom_seg_reference.py).
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    let text = std::fs::read_to_string(data.join("seg/expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reference = &expected["cases"]["ct_axial_two"]["pyradiomics_label2"];
    assert_eq!(reference["label"], 2);
    let want = reference["features"].as_object().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("features.csv");
    let series = data.join("ct_axial");
    let seg = data.join("seg/ct_axial_two.dcm");
    let run = |label: &str| {
        adamss(&[
            "radiomics",
            "--image",
            series.to_str().unwrap(),
            "--mask",
            seg.to_str().unwrap(),
            "--label",
            label,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (ok, text) = run("2");
    assert!(ok, "{text}");
    assert_row_equals_pyradiomics(&out, "ct_axial", want);
    // A segment the SEG does not have: refused, naming the segments it has.
    let (ok, text) = run("3");
    assert!(
        !ok && text.contains("no segment 3") && text.contains("2 \"GTVn\""),
        "{text}"
    );
    let (ok, text) = adamss(&["inspect", seg.to_str().unwrap()]);
    assert!(
        ok && text.contains("segment 2 \"GTVn\" (MANUAL): 2 frames") && text.contains("5 frames"),
        "{text}"
    );
}

#[test]
fn radiomics_of_one_image_matches_pyradiomics_defaults() {
    let _one = one_at_a_time();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/radiomics");
    let text = std::fs::read_to_string(data.join("edge_cases_expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, case) in expected["defaults"].as_object().unwrap() {
        let file = |what: &str| {
            data.join(format!("{name}.{what}.nii.gz"))
                .to_str()
                .unwrap()
                .to_string()
        };
        let out = dir.path().join(format!("{name}/features.csv"));
        let label = case["label"].to_string();
        let (ok, text) = adamss(&[
            "radiomics",
            "--image",
            &file("image"),
            "--mask",
            &file("mask"),
            "--label",
            &label,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{text}");
        let csv = std::fs::read_to_string(&out).unwrap();
        let mut lines = csv.lines();
        let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
        assert!(lines.next().is_none(), "one row: {csv}");
        let names: Vec<&str> = header.split(',').collect();
        let values: Vec<&str> = row.split(',').collect();
        assert_eq!(values[0], format!("{name}.image"));
        let want = case["features"].as_object().unwrap();
        assert_eq!(names.len() - 1, want.len(), "{name}: the same features");
        for (n, v) in names.iter().zip(&values).skip(1) {
            let (ours, theirs): (f64, f64) = (v.parse().unwrap(), want[*n].as_f64().unwrap());
            let d = (ours - theirs).abs();
            assert!(
                d <= 1e-9 || d <= 1e-6 * theirs.abs(),
                "{name} {n}: {ours} vs {theirs}"
            );
        }
        // PyRadiomics' diagnostics_* of the original image and mask, beside the CSV: hashes
        // and counts equal, numbers to 1e-9 relative.
        let text = std::fs::read_to_string(out.with_extension("diagnostics.json")).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        let want = case["diagnostics"].as_object().unwrap();
        assert!(want.len() >= 15, "{name}: {want:?}");
        let close = |a: &serde_json::Value, b: &serde_json::Value| match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * y.abs().max(1.0),
            _ => a == b,
        };
        for (key, theirs) in want {
            let ours = &ours[key];
            let same = match (ours, theirs) {
                (serde_json::Value::Array(a), serde_json::Value::Array(b)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(x, y))
                }
                (a, b) => close(a, b),
            };
            assert!(same, "{name} {key}: ours {ours}, PyRadiomics {theirs}");
        }
    }
    // --image without --mask, or with --cohort, is refused by the argument parser.
    let (ok, text) = adamss(&["radiomics", "--image", "x.nii.gz"]);
    assert!(!ok && text.contains("--mask"), "{text}");
}

/// `adamss radiomics --batch`: PyRadiomics' batch file (`Image`, `Mask`, `Label`, any other
/// column carried over; a relative path taken from the CSV's folder) gives each case the
/// features PyRadiomics gives it with no parameter file (`tools/pyradiomics_edge_cases.py`,
/// "defaults", 1e-6 relative or 1e-9 absolute); a case that fails keeps its row with empty
/// features, is listed with its line, and makes the exit status non-zero.
#[test]
fn radiomics_batch_matches_pyradiomics_defaults() {
    let _one = one_at_a_time();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/radiomics");
    let text = std::fs::read_to_string(data.join("edge_cases_expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = expected["defaults"].as_object().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec!["Subject,Image,Mask,Label".to_string()];
    for (k, (name, case)) in cases.iter().enumerate() {
        let file = |what: &str| data.join(format!("{name}.{what}.nii.gz"));
        let (image, mask) = if k == 0 {
            // Relative to the CSV's folder.
            std::fs::create_dir_all(dir.path().join("images")).unwrap();
            for what in ["image", "mask"] {
                std::fs::copy(
                    file(what),
                    dir.path().join(format!("images/{name}.{what}.nii.gz")),
                )
                .unwrap();
            }
            (
                format!("images/{name}.image.nii.gz"),
                format!("images/{name}.mask.nii.gz"),
            )
        } else {
            let path = |what: &str| file(what).to_str().unwrap().to_string();
            (path("image"), path("mask"))
        };
        rows.push(format!("{name},{image},{mask},{}", case["label"]));
    }
    rows.push("missing,nowhere.nii.gz,nowhere.mask.nii.gz,1".into());
    let csv_in = dir.path().join("cases.csv");
    std::fs::write(&csv_in, rows.join("\n") + "\n").unwrap();
    let out = dir.path().join("out/features.csv");
    let (ok, text) = adamss(&[
        "radiomics",
        "--batch",
        csv_in.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let n = cases.len();
    assert!(!ok, "a failed case makes the exit status non-zero: {text}");
    assert!(
        text.contains(&format!("{n} of {} cases × 107 features", n + 1)),
        "{text}"
    );
    assert!(
        text.contains(&format!("line {}", n + 2)) && text.contains("nowhere"),
        "{text}"
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..4], ["Subject", "Image", "Mask", "Label"]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), n + 1);
    // PyRadiomics' order: the case's columns, its diagnostics, then the features.
    let diagnostics = header[4..]
        .iter()
        .take_while(|h| h.starts_with("diagnostics_"))
        .count();
    assert!(diagnostics >= 15, "{header:?}");
    let mut compared = 0;
    for record in &records[..n] {
        let want = cases[&record[0]]["features"].as_object().unwrap();
        assert_eq!(
            header.len() - 4 - diagnostics,
            want.len(),
            "{}: the same features",
            &record[0]
        );
        // The diagnostics PyRadiomics reported for the case (hashes, sizes, spacings, bounding
        // box, voxel and component counts, centre of mass, statistics): strings equal, numbers
        // and lists of numbers within 1e-9.
        let theirs = cases[&record[0]]["diagnostics"].as_object().unwrap();
        for (name, want) in theirs {
            let k = header.iter().position(|h| h == name).unwrap();
            let cell = &record[k];
            let ours: serde_json::Value =
                serde_json::from_str(cell).unwrap_or(serde_json::Value::String(cell.into()));
            let numbers = |v: &serde_json::Value| -> Vec<f64> {
                match v {
                    serde_json::Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
                    x => vec![x.as_f64().unwrap()],
                }
            };
            if want.is_string() {
                assert_eq!(cell, want.as_str().unwrap(), "{} {name}", &record[0]);
            } else {
                let (a, b) = (numbers(&ours), numbers(want));
                assert_eq!(a.len(), b.len(), "{} {name}", &record[0]);
                for (x, y) in a.iter().zip(&b) {
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                        "{} {name}: {x} vs {y}",
                        &record[0]
                    );
                }
            }
            compared += 1;
        }
        for (name, value) in header.iter().zip(record.iter()).skip(4 + diagnostics) {
            let (ours, theirs): (f64, f64) = (value.parse().unwrap(), want[name].as_f64().unwrap());
            let d = (ours - theirs).abs();
            assert!(
                d <= 1e-9 || d <= 1e-6 * theirs.abs(),
                "{} {name}: {ours} vs {theirs}",
                &record[0]
            );
        }
    }
    assert_eq!(compared, 15 * n);
    assert!(
        records[n].iter().skip(4).all(str::is_empty),
        "{:?}",
        records[n]
    );
    // additionalInfo: false leaves the diagnostics out, as in PyRadiomics.
    let params = dir.path().join("params.yaml");
    std::fs::write(&params, "setting:\n  additionalInfo: false\n").unwrap();
    let (_, text) = adamss(&[
        "radiomics",
        "--batch",
        csv_in.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header = reader.headers().unwrap().clone();
    assert!(
        !header.iter().any(|h| h.starts_with("diagnostics_")),
        "{text}"
    );
    // A file without the Mask column is refused, naming the file and the columns.
    std::fs::write(&csv_in, "Image\nx.nii.gz\n").unwrap();
    let (ok, text) = adamss(&[
        "radiomics",
        "--batch",
        csv_in.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("cases.csv") && text.contains("\"Mask\""),
        "{text}"
    );
}

/// `adamss radiomics --image --mask --params --maps DIR`: voxel-based extraction writes one
/// NIfTI map per feature, equal to PyRadiomics' voxel-based maps
/// (`tools/voxel_radiomics_reference.py`, the force2D case with label 2 and initValue -1:
/// 1e-9 at every ROI voxel, PyRadiomics' failures and NaN JointAverage aside, as in
/// adamss-radiomics' own test), on the crop's grid, initValue outside the ROI; the same maps
/// through a batch file (`--batch --maps`, PyRadiomics' voxel mode); an invalid voxelSetting
/// is refused naming the file and the key.
#[test]
fn radiomics_maps_match_pyradiomics_voxel_based() {
    let _one = one_at_a_time();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/radiomics");
    let text = std::fs::read_to_string(data.join("voxel_expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let name = "voxel_force2d_ct";
    let case = &expected["cases"][name];
    let file = |what: &str| data.join(format!("{name}.{what}"));
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("maps");
    let (ok, text) = adamss(&[
        "radiomics",
        "--image",
        file("image.nii.gz").to_str().unwrap(),
        "--mask",
        file("mask.nii.gz").to_str().unwrap(),
        "--params",
        file("params.json").to_str().unwrap(),
        "--maps",
        maps.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("93 feature maps"), "{text}");
    let written = std::fs::read_dir(&maps).unwrap().count();
    assert_eq!(written, 93);
    let mask = adamss::io::Volume::<u8>::read(file("mask.nii.gz")).unwrap();
    let corner: Vec<usize> = serde_json::from_value(case["corner"].clone()).unwrap();
    let d = mask.shape();
    let mut at = Vec::new();
    for k in 0..d[2] {
        for j in 0..d[1] {
            for i in 0..d[0] {
                if mask.data()[[i, j, k]] == 2 {
                    at.push([i - corner[0], j - corner[1], k - corner[2]]);
                }
            }
        }
    }
    let mut compared = 0;
    for (feature, values) in case["maps"].as_object().unwrap() {
        // NaN where PyRadiomics has NaN (a kernel without GLCM pairs, …).
        let read = adamss::io::ReadOptions {
            finite_only: false,
            ..Default::default()
        };
        let path = maps.join(format!("{feature}.nii.gz"));
        let map = adamss::io::Volume::<f64>::read_with(path, &read).unwrap();
        let size: Vec<usize> = serde_json::from_value(case["size"].clone()).unwrap();
        assert_eq!(map.shape().to_vec(), size);
        // Outside the ROI: initValue.
        assert_eq!(map.data()[[0, 0, 0]], -1.0, "{feature}");
        let failed = case["failed"].get(feature).is_some();
        for (p, want) in at.iter().zip(values.as_array().unwrap()) {
            let got = map.data()[*p];
            match want.as_f64() {
                _ if failed => continue,
                None if feature.ends_with("JointAverage") => continue,
                None => assert!(got.is_nan(), "{feature} at {p:?}: {got}"),
                Some(w) => assert!(
                    (got - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "{feature} at {p:?}: {got} vs {w}"
                ),
            }
            compared += 1;
        }
    }
    assert!(compared > 15_000, "{compared}");
    // PyRadiomics' voxel batch mode: the same maps as `Case-1_<feature>.nii.gz`, their paths in
    // the CSV; a missing case is listed and makes the exit status non-zero.
    let csv_in = dir.path().join("cases.csv");
    std::fs::write(
        &csv_in,
        format!(
            "Image,Mask,Label\n{},{},2\nnowhere.nii.gz,nowhere.mask.nii.gz,2\n",
            file("image.nii.gz").display(),
            file("mask.nii.gz").display()
        ),
    )
    .unwrap();
    let batch_maps = dir.path().join("batch-maps");
    let table = dir.path().join("maps.csv");
    let (ok, text) = adamss(&[
        "radiomics",
        "--batch",
        csv_in.to_str().unwrap(),
        "--params",
        file("params.json").to_str().unwrap(),
        "--maps",
        batch_maps.to_str().unwrap(),
        "--out",
        table.to_str().unwrap(),
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("1 of 2 cases × 93 feature maps"), "{text}");
    assert!(
        text.contains("line 3") && text.contains("nowhere"),
        "{text}"
    );
    let read = adamss::io::ReadOptions {
        finite_only: false,
        ..Default::default()
    };
    let mut reader = csv::Reader::from_path(&table).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for feature in ["original_glcm_Contrast", "original_firstorder_Mean"] {
        let path = &rows[0][column(feature)];
        assert!(
            path.ends_with(&format!("Case-1_{feature}.nii.gz")),
            "{path}"
        );
        let a = adamss::io::Volume::<f64>::read_with(path, &read).unwrap();
        let b = adamss::io::Volume::<f64>::read_with(maps.join(format!("{feature}.nii.gz")), &read)
            .unwrap();
        assert!(a
            .data()
            .iter()
            .zip(b.data())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
        assert!(rows[1][column(feature)].is_empty());
    }
    // An invalid voxelSetting: refused, naming the file and the key.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "voxelSetting:\n  kernelRadius: 0\n").unwrap();
    let (ok, text) = adamss(&[
        "radiomics",
        "--image",
        file("image.nii.gz").to_str().unwrap(),
        "--mask",
        file("mask.nii.gz").to_str().unwrap(),
        "--params",
        bad.to_str().unwrap(),
        "--maps",
        maps.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("bad.yaml") && text.contains("kernelRadius"),
        "{text}"
    );
}

/// Two `train --fold` jobs running at once into one run folder (a batch-scheduler array:
/// shared preprocessing cache, shared pins) give each fold the risks one job running every
/// fold gives, and whichever finishes last leaves an `outcome.json` with both folds.
#[test]
fn parallel_fold_jobs_share_a_run_folder() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cohort, sequential, parallel) = (path("cohort"), path("sequential"), path("parallel"));
    tiny_cohort(&cohort, 16);
    let args = |out: &str| -> Vec<String> {
        [
            "train",
            "--cohort",
            &cohort,
            "--out",
            out,
            "--preset",
            "tiny",
            "--methods",
            "lasso-cox-clinical",
            "ssl",
        ]
        .map(String::from)
        .to_vec()
    };
    let (ok, text) = adamss(
        &args(&sequential)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(ok, "{text}");
    let jobs: Vec<_> = ["0", "1"]
        .map(|fold| {
            Command::new(env!("CARGO_BIN_EXE_adamss"))
                .args(args(&parallel))
                .args(["--fold", fold])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .into_iter()
        .collect();
    for job in jobs {
        let out = job.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let outcome = |run: &str| -> adamss::train::CvOutcome {
        let text = std::fs::read_to_string(format!("{run}/outcome.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (seq, par) = (outcome(&sequential), outcome(&parallel));
    assert_eq!(seq.fold_of, par.fold_of);
    let key = |o: &adamss::train::CvOutcome| -> Vec<_> {
        o.results
            .iter()
            .map(|r| (r.fold, r.method, r.test_risks.clone()))
            .collect()
    };
    assert_eq!(key(&seq), key(&par), "both folds, the same risks");
    let predictions =
        |run: &str| std::fs::read_to_string(format!("{run}/predictions.csv")).unwrap();
    assert_eq!(predictions(&sequential), predictions(&parallel));
}

/// Kill-anywhere recovery (issue #23): `adamss train --preset tiny` is SIGKILLed at seeded
/// random moments of its run — preprocessing and its cache writes, a stage's epochs and
/// checkpoint files, the fold's radiomics and selectors, the report — and started again with
/// `--resume` each time, on the same folder, until a start runs to the end. The folder then
/// holds what an uninterrupted run writes, bit for bit: `predictions.csv`, every checkpoint
/// (`*.safetensors`), the pins, encoders, selectors and radiomics tables, and the JSON results
/// without their timings (`seconds`). `ADAMSS_KILL_POINTS=N` changes the number of kills (default 4, the CI
/// version); `train_killed_anywhere_long_sweep` runs 50.
#[test]
fn train_killed_anywhere_resumes_to_the_uninterrupted_result() {
    let _one = one_at_a_time();
    let points = std::env::var("ADAMSS_KILL_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    kill_sweep(points, 7);
}

/// The longer sweep (`cargo test --release --test it -- --ignored kill`): 50 kills.
#[test]
#[ignore = "about 15 minutes: the CI version kills 4 times"]
fn train_killed_anywhere_long_sweep() {
    let _one = one_at_a_time();
    kill_sweep(50, 11);
}

fn kill_sweep(points: usize, seed: u64) {
    use rand::{Rng, SeedableRng};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let cohort = path("cohort");
    tiny_cohort(&cohort, 16);
    let args = |out: &str, resume: bool| {
        let mut a = vec![
            "train", "--cohort", &cohort, "--out", out, "--preset", "tiny",
        ];
        a.extend(["--methods", "lasso-cox-radiomics", "ssl-radiomics"]);
        if resume {
            a.push("--resume");
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let reference = path("reference");
    let t0 = Instant::now();
    let (ok, text) = adamss(
        &args(&reference, false)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(ok, "{text}");
    // The kills land at random fractions of a whole run's time. The reference run is timed
    // while other tests may load the machine; a fresh start that finishes unkilled is timed
    // again and the shorter time kept, so the kills keep landing inside a run when the machine
    // gets quieter (else nearly every start outruns its kill and the sweeps go on and on).
    let mut whole = t0.elapsed().as_secs_f64();

    // Sweeps on fresh folders until `points` kills have landed; each sweep kills, resumes,
    // kills again … until a start finishes, then is compared with the reference.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut kills, mut starts, mut sweeps) = (0, 0, 0);
    while kills < points {
        assert!(
            sweeps < 10 * points.max(5),
            "{kills} of {points} kills after {sweeps} sweeps (whole run {whole:.1} s): \
             the starts outrun their kills"
        );
        let run = path(&format!("killed-{sweeps}"));
        sweeps += 1;
        let mut started = 0;
        loop {
            let delay = rng.gen_range(0.02..0.8) * whole;
            let mut child = Command::new(env!("CARGO_BIN_EXE_adamss"))
                .args(args(&run, started > 0))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            started += 1;
            starts += 1;
            let t = Instant::now();
            let mut finished = false;
            while t.elapsed().as_secs_f64() < delay {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(
                        status.success(),
                        "start {started} of sweep {sweeps} failed on its own"
                    );
                    finished = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if finished {
                if started == 1 {
                    whole = whole.min(t.elapsed().as_secs_f64());
                }
                break;
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            kills += 1;
        }
        compare_runs(&reference, &run, kills);
    }
    eprintln!("{kills} kills over {starts} starts in {sweeps} sweeps (whole run {whole:.1} s)");
}

/// Every file of the uninterrupted run `reference` that holds no timing equals `run`'s.
fn compare_runs(reference: &str, run: &str, kills: usize) {
    let mut compared = 0;
    let mut stack = vec![std::path::PathBuf::from(reference)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_str().unwrap();
            let timed = matches!(
                name,
                "state.json" | "metrics.csv" | "report.md" | "comparison.md"
            ) || name.ends_with(".svg")
                || name.ends_with(".png");
            if timed {
                continue;
            }
            let rel = p.strip_prefix(reference).unwrap();
            let other = Path::new(&run).join(rel);
            let (a, b) = (
                std::fs::read(&p).unwrap(),
                std::fs::read(&other)
                    .unwrap_or_else(|e| panic!("{} missing after the kills: {e}", rel.display())),
            );
            if name.ends_with(".json") {
                // Results carry the seconds each method took: everything else must agree.
                fn strip(v: &mut serde_json::Value) {
                    match v {
                        serde_json::Value::Object(m) => {
                            m.remove("seconds");
                            m.values_mut().for_each(strip);
                        }
                        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
                        _ => {}
                    }
                }
                let (mut x, mut y): (serde_json::Value, serde_json::Value) = (
                    serde_json::from_slice(&a).unwrap(),
                    serde_json::from_slice(&b).unwrap(),
                );
                strip(&mut x);
                strip(&mut y);
                assert_eq!(x, y, "{} after {kills} kills", rel.display());
            } else {
                assert!(a == b, "{} differs after {kills} kills", rel.display());
            }
            compared += 1;
        }
    }
    assert!(compared > 20, "{compared} files compared");
}

/// A write that fails mid-run (issue #23; root ignores permissions, so a file stands where the
/// run needs a folder): `adamss train` stops with an error naming the path, no panic, and what
/// it had finished — the shared Stage I's checkpoint — is intact: once the obstacle is gone,
/// `--resume` reloads it (the same bytes) and completes the run.
#[test]
fn a_failed_write_names_the_path_and_keeps_the_finished_stages() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (cohort, run) = (path("cohort"), path("run"));
    tiny_cohort(&cohort, 16);
    let train = || {
        adamss(&[
            "train",
            "--cohort",
            &cohort,
            "--out",
            &run,
            "--preset",
            "tiny",
            "--methods",
            "ssl",
            "--fold",
            "0",
            "--resume",
        ])
    };
    let blocked = dir.path().join("run/fold-0/ssl");
    std::fs::create_dir_all(blocked.parent().unwrap()).unwrap();
    std::fs::write(&blocked, b"not a folder").unwrap();
    // (--resume: the folder already holds fold-0/, the obstacle's parent.)
    let (ok, text) = train();
    assert!(!ok, "{text}");
    assert!(
        text.contains("fold-0/ssl") && !text.contains("panicked"),
        "the error names the path: {text}"
    );
    let best = dir.path().join("run/fold-0/stage1/best.safetensors");
    let before = std::fs::read(&best).expect("Stage I finished before the failure");
    std::fs::remove_file(&blocked).unwrap();
    let (ok, text) = train();
    assert!(ok, "{text}");
    assert_eq!(
        std::fs::read(&best).unwrap(),
        before,
        "Stage I reloaded, not retrained"
    );
    assert!(dir.path().join("run/fold-0/results.json").exists());
}

/// A bad patient in a good cohort (issue #23; policy in docs/data.md): one patient each with a
/// truncated CT, labels on another grid, a PET that does not overlap the CT, an empty label
/// file, and a NaN voxel far from the tumour. `cohort`, `preprocess` and `radiomics` go on and
/// report each bad patient with the reason (exit 0); `train` refuses the cohort naming a bad
/// patient (training on silently fewer patients would change the experiment). No panic.
#[test]
fn bad_patients_are_reported_or_refused_by_name() {
    let _one = one_at_a_time();
    use adamss::io::{Geometry, Volume};
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("cohort");
    let c = cohort.to_str().unwrap();
    tiny_cohort(c, 12);
    let images = cohort.join("imagesTr");
    let labels = cohort.join("labelsTr");
    let (ok, text) = adamss(&["cohort", c]);
    assert!(ok, "{text}");
    // Patients with labels and an endpoint (the training cohort's).
    let (joined, _) = adamss::io::Cohort::hecktor(&cohort).unwrap();
    let ids: Vec<String> = (joined.records().iter())
        .filter(|r| r.mask.is_some())
        .map(|r| r.id.clone())
        .collect();
    assert!(ids.len() >= 8, "{ids:?}");
    let (truncated, off_grid, far_pet, empty, nan) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
    let ct = images.join(format!("{truncated}__CT.nii.gz"));
    let bytes = std::fs::read(&ct).unwrap();
    std::fs::write(&ct, &bytes[..bytes.len() / 3]).unwrap();
    let label = labels.join(format!("{off_grid}.nii.gz"));
    let l = Volume::<u8>::read(&label).unwrap();
    let [a, b, _] = l.shape();
    let smaller = l.data().slice(ndarray::s![..a - 2, ..b - 2, ..]).to_owned();
    Volume::new(smaller, *l.geometry())
        .unwrap()
        .write(&label)
        .unwrap();
    let pet_path = images.join(format!("{far_pet}__PT.nii.gz"));
    let pet = Volume::<f32>::read(&pet_path).unwrap();
    let g = pet.geometry();
    let moved = Geometry::new(
        g.spacing,
        [g.origin[0] + 5000.0, g.origin[1], g.origin[2]],
        g.direction,
    )
    .unwrap();
    Volume::new(pet.data().clone(), moved)
        .unwrap()
        .write(&pet_path)
        .unwrap();
    let label = labels.join(format!("{empty}.nii.gz"));
    let l = Volume::<u8>::read(&label).unwrap();
    Volume::new(l.data().mapv(|_| 0u8), *l.geometry())
        .unwrap()
        .write(&label)
        .unwrap();
    let pet_path = images.join(format!("{nan}__PT.nii.gz"));
    let pet = Volume::<f32>::read(&pet_path).unwrap();
    let mut data = pet.data().clone();
    data[[0, 0, 0]] = f32::NAN;
    Volume::new(data, *pet.geometry())
        .unwrap()
        .write(&pet_path)
        .unwrap();

    let no_panic = |text: &str| assert!(!text.contains("panicked"), "{text}");
    // cohort: a row per patient, an error row for those that do not load.
    let (ok, text) = adamss(&["cohort", c]);
    assert!(ok, "{text}");
    no_panic(&text);
    for id in [truncated, off_grid, nan] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(id.as_str()) && l.contains("error")),
            "{id}: {text}"
        );
    }
    // preprocess: every bad patient listed as failed, the others preprocessed.
    let out = dir.path().join("pre");
    let (ok, text) = adamss(&[
        "preprocess",
        "--cohort",
        c,
        "--out",
        out.to_str().unwrap(),
        "--preset",
        "tiny",
    ]);
    assert!(ok, "{text}");
    no_panic(&text);
    for id in [truncated, off_grid, far_pet, empty, nan] {
        assert!(
            text.contains(&format!("failed: {id}")),
            "preprocess, {id}: {text}"
        );
    }
    assert!(
        text.contains("preprocessed 7 patients"),
        "12 less 5: {text}"
    );
    // radiomics: the patients whose GTVp cannot be read listed; the NaN far from the tumour is
    // no obstacle there (only values the features read matter).
    let csv = dir.path().join("r.csv");
    let (ok, text) = adamss(&["radiomics", "--cohort", c, "--out", csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    no_panic(&text);
    for id in [truncated, off_grid, far_pet, empty] {
        assert!(
            text.contains(&format!("  {id}: ")),
            "radiomics, {id}: {text}"
        );
    }
    assert!(
        !text.contains(&format!("  {nan}: ")),
        "radiomics, {nan}: {text}"
    );
    // train: refused, naming a bad patient.
    let run = dir.path().join("run");
    let (ok, text) = adamss(&[
        "train",
        "--cohort",
        c,
        "--out",
        run.to_str().unwrap(),
        "--preset",
        "tiny",
    ]);
    assert!(!ok, "{text}");
    no_panic(&text);
    assert!(
        [truncated, off_grid, far_pet, empty, nan]
            .iter()
            .any(|id| text.contains(id.as_str())),
        "train names a bad patient: {text}"
    );
}

/// `adamss suv FOLDER --out X` writes the PET series as SUVbw: the voxels of
/// @cornerstonejs/calculate-suv's factors times SimpleITK's reading
/// (`tools/dicom_suv_reference.py`), to float32; `adamss inspect FOLDER` prints where the
/// factor came from, and a series QIBA cannot convert is refused with nothing written.
#[test]
fn suv_of_a_dicom_pet_series_matches_calculate_suv() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom/suv");
    let text = std::fs::read_to_string(data.join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suv.nii.gz");
    let out_s = out.to_str().unwrap();
    let series = data.join("bqml_rewritten");
    let (ok, text) = adamss(&["suv", series.to_str().unwrap(), "--out", out_s]);
    assert!(ok && text.contains("earliest acquisition"), "{text}");
    let volume = adamss::io::Volume::<f64>::read(&out).unwrap();
    let want = expected["cases"]["bqml_rewritten"]["suvbw_voxels"]
        .as_array()
        .unwrap();
    let got: Vec<f64> = volume.data().t().iter().copied().collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let w = w.as_f64().unwrap();
        assert!((g - w).abs() <= 1e-7 * w.abs(), "{g} vs {w}");
    }
    let (ok, text) = adamss(&["inspect", series.to_str().unwrap()]);
    assert!(
        ok && text.contains("SUV:") && text.contains("BQML"),
        "{text}"
    );
    let refused = dir.path().join("refused.nii.gz");
    let (ok, text) = adamss(&[
        "suv",
        data.join("bad_admin").to_str().unwrap(),
        "--out",
        refused.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("DecayCorrection"), "{text}");
    assert!(!refused.exists());
}

/// An RT Structure Set's ROI as the radiomics mask (`--label N` = ROI number N): PyRadiomics'
/// default features of the CT in scikit-image's fill of the ROI
/// (`tools/dicom_rtstruct_reference.py`); `adamss inspect` lists the ROIs, and `adamss
/// rtstruct` writes chosen ROIs as one label map, refusing overlapping ones.
#[test]
fn radiomics_in_an_rtstruct_roi_matches_pyradiomics() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dicom");
    let text = std::fs::read_to_string(data.join("rtstruct/expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = &expected["cases"]["ct_axial_rois"];
    let want = case["pyradiomics_roi3"]["features"].as_object().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("features.csv");
    let series = data.join("ct_axial");
    let rs = data.join("rtstruct/ct_axial_rois.dcm");
    let (ok, text) = adamss(&[
        "radiomics",
        "--image",
        series.to_str().unwrap(),
        "--mask",
        rs.to_str().unwrap(),
        "--label",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert_row_equals_pyradiomics(&out, "ct_axial", want);
    let (ok, text) = adamss(&["inspect", rs.to_str().unwrap()]);
    assert!(
        ok && text.contains("ROI 3 \"Ring\" (ORGAN): 2 contours"),
        "{text}"
    );
    let rtstruct = |rois: &[&str], out: &Path| {
        let mut args = vec![
            "rtstruct",
            rs.to_str().unwrap(),
            "--image",
            series.to_str().unwrap(),
        ];
        for roi in rois {
            args.extend(["--roi", roi]);
        }
        args.extend(["--out", out.to_str().unwrap()]);
        adamss(&args)
    };
    let labels = dir.path().join("labels.nii.gz");
    let (ok, text) = rtstruct(&["GTVn2", "Box=5"], &labels);
    assert!(ok, "{text}");
    let map = adamss::io::Volume::<u8>::read(&labels).unwrap();
    let rois = case["rois"].as_array().unwrap();
    let count = |name: &str| {
        rois.iter().find(|r| r["name"] == name).unwrap()["voxels"]
            .as_array()
            .unwrap()
            .len()
    };
    let has = |v: u8| map.data().iter().filter(|&&x| x == v).count();
    assert_eq!((has(1), has(5)), (count("GTVn2"), count("Box")));
    let refused = dir.path().join("refused.nii.gz");
    let (ok, text) = rtstruct(&["GTVn", "GTVn2"], &refused);
    assert!(!ok && text.contains("overlap"), "{text}");
    assert!(!refused.exists());
}
