//! SUV of DICOM PET series against @cornerstonejs/calculate-suv 1.1.0 (OHIF's implementation
//! of the QIBA pseudo-code): `tools/dicom_suv_reference.py` writes the series with pydicom,
//! hands each file's attributes to calculate-suv and records its factors, and SimpleITK's
//! reading of each series times those factors (`tests/data/dicom/suv/expected.json`).
//! Factors and voxels must agree to 1e-12 relative; the series both refuse must be refused
//! here naming the file and the attribute.

use std::path::PathBuf;

use adamss_io::dicom::{list_series, read_suv, suv_conversion, ScanTimeSource, SuvNormalization};
use adamss_io::{Error, ReadOptions, Volume};
use serde_json::Value;

use crate::{data_dir, f64s};

fn suv_dir() -> PathBuf {
    data_dir().join("dicom/suv")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(suv_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs(),
        "{what}: {got:e} vs {want:e}"
    );
}

/// The reference's factors of one kind (`suvbw`, `suvlbmJanma`, `suvbsa`), per file.
fn reference(case: &Value, kind: &str) -> Vec<f64> {
    case["reference_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[kind].as_f64().unwrap())
        .collect()
}

#[test]
fn suv_factors_and_volumes_equal_calculate_suv() {
    let exp = expected();
    let cases = exp["cases"].as_object().unwrap();
    let patient = &cases["bqml_datetime"];
    let mut checked = 0;
    for (name, case) in cases.iter().filter(|(n, _)| !n.starts_with("bad_")) {
        let dir = suv_dir().join(name);
        // Slices in GDCM's order, as the reference's instances.
        let series = &list_series(&dir).unwrap()[0];
        let files: Vec<String> = series
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let want_files: Vec<String> = case["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        assert_eq!(files, want_files, "{name}");

        let bw = suv_conversion(&dir, None, SuvNormalization::BodyWeight).unwrap();
        let lbm = suv_conversion(&dir, None, SuvNormalization::LeanBodyMass).unwrap();
        let bsa = suv_conversion(&dir, None, SuvNormalization::BodySurfaceArea).unwrap();
        for (k, want) in reference(case, "suvbw").into_iter().enumerate() {
            close(&format!("{name} SUVbw slice {k}"), bw.factors[k], want);
        }
        if bw.units == "BQML" {
            let (l, b) = (reference(case, "suvlbmJanma"), reference(case, "suvbsa"));
            for k in 0..files.len() {
                close(&format!("{name} SUVlbm slice {k}"), lbm.factors[k], l[k]);
                close(&format!("{name} SUVbsa slice {k}"), bsa.factors[k], b[k]);
            }
        } else {
            // calculate-suv applies SUVlbm / SUVbsa to CNTS and GML values unscaled; they are
            // SUVbw × (lean mass or area) / weight, the ratio of its BQML factors for the same
            // patient (these cases share bqml_datetime's).
            let ratio = |kind| reference(patient, kind)[0] / reference(patient, "suvbw")[0];
            for k in 0..files.len() {
                let at = format!("{name} slice {k}");
                close(
                    &format!("{at} lbm"),
                    lbm.factors[k],
                    bw.factors[k] * ratio("suvlbmJanma"),
                );
                close(
                    &format!("{at} bsa"),
                    bsa.factors[k],
                    bw.factors[k] * ratio("suvbsa"),
                );
            }
        }

        let volume: Volume<f64> = read_suv(
            &dir,
            None,
            SuvNormalization::BodyWeight,
            &ReadOptions::default(),
        )
        .unwrap();
        let want = f64s(&case["suvbw_voxels"]);
        let got: Vec<f64> = volume.data().t().iter().copied().collect();
        // `t()` of an (x, y, z) array iterates z slowest, x fastest: the reference's order.
        assert_eq!(got.len(), want.len(), "{name}");
        for (p, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1e-300),
                "{name} voxel {p}: {g} vs {w}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn scan_time_is_chosen_as_the_qiba_pseudo_code_chooses_it() {
    let of = |name: &str| {
        suv_conversion(suv_dir().join(name), None, SuvNormalization::BodyWeight)
            .unwrap()
            .decay
            .unwrap()
    };
    let d = of("bqml_datetime");
    assert_eq!(d.scan_from, ScanTimeSource::Series);
    assert_eq!(
        (d.injection.as_str(), d.scan.as_str()),
        ("2026-12-07T08:15:30.500000", "2026-12-07T09:30:00.000000")
    );
    assert_eq!(d.seconds, 4469.5);
    assert_eq!(of("bqml_rewritten_ge").scan_from, ScanTimeSource::GePrivate);
    assert_eq!(of("bqml_rewritten_ge").scan, "2026-12-07T09:40:12.500000");
    let e = of("bqml_rewritten");
    assert_eq!(e.scan_from, ScanTimeSource::EarliestAcquisition);
    assert_eq!(e.scan, "2026-12-07T09:44:30.500000");
    assert_eq!(
        of("bqml_time_female").injection,
        "2026-12-07T08:11:02.654321"
    );
    // No decay where none is used.
    let none = |name: &str| {
        suv_conversion(suv_dir().join(name), None, SuvNormalization::BodyWeight)
            .unwrap()
            .decay
    };
    assert_eq!(none("gml"), None);
    assert_eq!(none("cnts_philips_suv"), None);
}

#[test]
fn series_the_reference_refuses_are_refused_by_name() {
    let exp = expected();
    let cases = [
        ("bad_no_weight", "PatientWeight (0010,1030) is missing"),
        ("bad_not_decay_corrected", "CorrectedImage (0028,0051)"),
        ("bad_injection_after_scan", "is after the scan"),
        ("bad_units", "Units (0054,1001) = \"PROPCNTS\""),
        ("bad_mixed_series", "differ from"),
        // calculate-suv decays the dose whatever DecayCorrection says; QIBA converts START only.
        ("bad_admin", "DecayCorrection (0054,1102) = \"ADMIN\""),
    ];
    for (name, needle) in cases {
        let case = &exp["cases"][name];
        assert_eq!(
            case.get("reference_error").is_some(),
            name != "bad_admin",
            "{name}: the reference's verdict changed"
        );
        let dir = suv_dir().join(name);
        for result in [
            suv_conversion(&dir, None, SuvNormalization::BodyWeight).map(|_| ()),
            read_suv::<f32>(
                &dir,
                None,
                SuvNormalization::BodyWeight,
                &ReadOptions::default(),
            )
            .map(|_| ()),
        ] {
            match result {
                Err(Error::Dicom { path, reason }) => {
                    assert!(reason.contains(needle), "{name}: {reason}");
                    assert!(path.starts_with(&dir) && path != dir, "{name}: {path:?}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    // Lean body mass needs the sex; body-surface area the size.
    let dir = suv_dir().join("bqml_datetime");
    assert!(suv_conversion(&dir, None, SuvNormalization::LeanBodyMass).is_ok());
    let err = suv_conversion(
        suv_dir().join("bad_no_weight"),
        None,
        SuvNormalization::BodySurfaceArea,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("PatientWeight"), "{err}");
}

#[test]
fn a_manifest_pet_series_reads_as_suv() {
    use adamss_io::Dataset;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("cohort.csv");
    let ct = data_dir().join("dicom/ct_axial");
    let row = |pet: &str| {
        format!(
            "patient_id,ct,pet\np1,{},{}\n",
            ct.display(),
            suv_dir().join(pet).display()
        )
    };
    std::fs::write(&manifest, row("bqml_rewritten_ge")).unwrap();
    let pet = adamss_io::Cohort::manifest(&manifest)
        .unwrap()
        .get(0)
        .unwrap()
        .pet;
    let want: Volume<f32> = read_suv(
        suv_dir().join("bqml_rewritten_ge"),
        None,
        SuvNormalization::BodyWeight,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(pet.data(), want.data());
    assert!(pet.data().iter().all(|&v| v < 30.0), "not SUV");
    // A PET series without what SUV needs is refused, naming the file and the attribute.
    std::fs::write(&manifest, row("bad_no_weight")).unwrap();
    let err = adamss_io::Cohort::manifest(&manifest)
        .unwrap()
        .get(0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PatientWeight") && err.contains("bad_no_weight"),
        "{err}"
    );
}
