//! Feature values against PyRadiomics 3.1.4 (`pyradiomics-bhklab`).
//!
//! Golden files: `tests/data/radiomics/`, written by `tools/pyradiomics_reference.py`.
//! Tolerance (issue #5): ≤ 1e-6 relative or ≤ 1e-9 absolute, every feature.

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::{extract, FeatureClass, Settings};
use serde_json::Value;

const ALL: [FeatureClass; 6] = [
    FeatureClass::FirstOrder,
    FeatureClass::Glcm,
    FeatureClass::Glrlm,
    FeatureClass::Glszm,
    FeatureClass::Gldm,
    FeatureClass::Ngtdm,
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

#[test]
fn all_texture_classes_match_pyradiomics() {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut compared = 0;
    let mut failures = Vec::new();
    for (name, case) in v["cases"].as_object().unwrap() {
        let settings: Settings = serde_json::from_value(case["settings"].clone()).unwrap();
        let image = Volume::<f32>::read(dir().join(format!("{name}.image.nii.gz"))).unwrap();
        let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
        let ours = extract(&image, &mask, &settings, &ALL).unwrap();
        let want = case["features"].as_object().unwrap();
        assert_eq!(ours.len(), want.len(), "{name}: feature count");
        for (fname, value) in &ours {
            let w = want[fname]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: {fname} missing"));
            let ok = (value - w).abs() <= 1e-9 || (value - w).abs() <= 1e-6 * w.abs();
            if !ok {
                failures.push(format!("{name} {fname}: ours {value} PyRadiomics {w}"));
            }
            compared += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(compared, 6 * 93);
}
