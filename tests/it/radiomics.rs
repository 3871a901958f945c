//! The AdaMSS radiomics preset on a paper-size 160³ PET + CT pair, against PyRadiomics.

#[path = "../../benches/support/radiomics_pair.rs"]
mod radiomics_pair;

use adamss::radiomics::{extract, extract_pet_ct, ExtractionConfig, FeatureClass, Settings};
use serde_json::Value;

/// `ExtractionConfig::adamss()` (binWidth 25; Original + Wavelet with binWidth 10; all seven
/// classes) on the radiomics bench's pair gives PyRadiomics' 851 features per image
/// (`tests/data/radiomics/adamss_160_expected.json`, from `tools/pyradiomics_adamss_160.py`
/// with `tools/params_adamss.json`). Tolerance 1e-6 relative or 1e-9 absolute, every feature:
/// the float32 PET's wavelet in single precision as PyWavelets filters it, the int16 CT's
/// (passed as f64) in double.
#[test]
fn adamss_preset_on_a_160_cube_pair_matches_pyradiomics() {
    let want = expected("adamss_160_expected.json");
    let (ct, pet, mask) = radiomics_pair::pair();
    // The same volumes as PyRadiomics read (a changed generator fails here, not below).
    let sum = |v: &adamss::io::Volume<f32>| v.data().iter().map(|&x| f64::from(x)).sum::<f64>();
    for (name, v) in [("CT", &ct), ("PET", &pet)] {
        let w = want[format!("{name}_voxel_sum")].as_f64().unwrap();
        assert!((sum(v) - w).abs() <= 1e-9 * w.abs(), "{name} voxel sum");
    }
    let voxels = mask.data().iter().filter(|&&m| m == 1).count();
    assert_eq!(voxels as u64, want["mask_voxels"].as_u64().unwrap());

    let ct = ct.map(|&v| f64::from(v));
    let ours = extract_pet_ct(&pet, &ct, &mask, &ExtractionConfig::adamss()).unwrap();
    assert_eq!(ours.len(), 1702);
    let mut failures = Vec::new();
    for (name, value) in &ours {
        let (image, feature) = name.split_once('_').unwrap();
        let w = want[image][feature]
            .as_f64()
            .unwrap_or_else(|| panic!("PyRadiomics has no {name}"));
        if !close(*value, w) {
            failures.push(format!("{name}: ours {value}, PyRadiomics {w}"));
        }
    }
    for image in ["CT", "PET"] {
        assert_eq!(want[image].as_object().unwrap().len(), 851);
    }
    assert!(
        failures.is_empty(),
        "{} of 1702 differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// GLCM alone on the bench CT at binWidth 2 — 86 grey levels in the tumour, the size of a real
/// CT tumour's wavelet sub-bands — with and without `symmetricalGLCM`: the maximal correlation
/// coefficient's Ng × Ng eigenproblem (the singular values of B = p / √(pₓ p_y)) against
/// PyRadiomics' own (`tests/data/radiomics/glcm_many_levels_expected.json`,
/// from `tools/pyradiomics_adamss_160.py`). Same tolerance as above.
#[test]
fn glcm_with_many_grey_levels_matches_pyradiomics() {
    let want = expected("glcm_many_levels_expected.json");
    let (ct, _, mask) = radiomics_pair::pair();
    let ct = ct.map(|&v| f64::from(v));
    let mut failures = Vec::new();
    for (key, symmetric) in [("symmetric", true), ("asymmetric", false)] {
        let settings = Settings {
            bin_width: 2.0,
            symmetrical_glcm: symmetric,
            ..Settings::default()
        };
        let ours = extract(&ct, &mask, &settings, &[FeatureClass::Glcm]).unwrap();
        assert_eq!(ours.len(), 24, "{key}");
        for (name, value) in &ours {
            let w = want[key][name.as_str()]
                .as_f64()
                .unwrap_or_else(|| panic!("PyRadiomics has no {key} {name}"));
            if !close(*value, w) {
                failures.push(format!("{key} {name}: ours {value}, PyRadiomics {w}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// PyRadiomics' values from `tests/data/radiomics/<file>`.
fn expected(file: &str) -> Value {
    let path = format!("{}/tests/data/radiomics/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The golden tests' tolerance: 1e-6 relative or 1e-9 absolute.
fn close(ours: f64, want: f64) -> bool {
    let d = (ours - want).abs();
    d <= 1e-9 || d <= 1e-6 * want.abs()
}
