//! JSON parameter files: the same file read by PyRadiomics 3.1.4 (values from
//! `tools/pyradiomics_reference.py`) and by `ExtractionPlan`.

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::ExtractionPlan;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

#[test]
fn parameter_file_gives_pyradiomics_features() {
    let plan = ExtractionPlan::from_json_file(&dir().join("params_case.params.json")).unwrap();
    let image = Volume::<f32>::read(dir().join("params_case.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("params_case.mask.nii.gz")).unwrap();
    let ours = plan.run(&image, &mask).unwrap();
    let text = std::fs::read_to_string(dir().join("params_case.expected.json")).unwrap();
    let want: std::collections::BTreeMap<String, f64> = serde_json::from_str(&text).unwrap();
    assert_eq!(ours.len(), want.len());
    for (name, v) in &ours {
        let w = want[name];
        assert!(
            (v - w).abs() <= 1e-9 || (v - w).abs() <= 1e-6 * w.abs(),
            "{name}: {v} vs {w}"
        );
    }
}

#[test]
fn unsupported_keys_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"setting": {"resampledPixelSpacing": [1, 1, 1]}}"#,
            "resampledPixelSpacing",
        ),
        (r#"{"featureClass": {"shape": []}}"#, "shape"),
        (r#"{"imageType": {"LoG": {"sigma": [1.0]}}}"#, "LoG"),
        (r#"{"settings": {}}"#, "settings"),
        (r#"{"setting": {"binWidth": -1}}"#, "binWidth"),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let p = d.path().join(format!("p{i}.json"));
        std::fs::write(&p, text).unwrap();
        let e = ExtractionPlan::from_json_file(&p).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
}
