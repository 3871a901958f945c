//! Feature values against PyRadiomics 3.1.4 (`pyradiomics-bhklab`).
//!
//! Golden files: `tests/data/radiomics/`, written by `tools/pyradiomics_reference.py`.
//! Tolerance (issue #5): ≤ 1e-6 relative or ≤ 1e-9 absolute, every feature (the wavelet of a
//! float32 image in single precision, as PyWavelets filters it; issue #20).

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::{
    extract, extract_filtered, extract_log, extract_wavelet, shape_features, FeatureClass,
    ImageType, Settings,
};
use serde_json::Value;

const ALL: [FeatureClass; 7] = FeatureClass::ALL;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

#[test]
fn all_classes_match_pyradiomics() {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut compared = 0;
    let mut failures = Vec::new();
    for (name, case) in v["cases"].as_object().unwrap() {
        let ours = ours(name, case);
        compared += check_case(name, case, &ours, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Six plain cases, two wavelet, two simple-filter, and resegmentation: absolute with
    // wavelet and Square, sigma, relative; normalisation with Square, and with wavelet; LoG at
    // two sigmas on CT and on a resegmented PET; preCrop with wavelet and two sigmas on CT,
    // with normalisation and one sigma on PET; the same two with a resampledPixelSpacing equal
    // to the image's (given, and through 0 = keep); texture settings (weightingNorm ×3 with
    // distances, asymmetric GLCM and gldm_a; no_weighting with wavelet); and the 14 shape
    // features of every case (the resegmented ones: PyRadiomics' mask cropped to the
    // resegmented ROI's box).
    assert_eq!(
        compared,
        6 * 93
            + 2 * 9 * 93
            + 2 * 6 * 93
            + 10 * 93
            + 2 * 93
            + 2 * 93
            + 9 * 93
            + 2 * 3 * 93
            + 11 * 93
            + 2 * 93
            + 11 * 93
            + 2 * 93
            + 3 * 93
            + 9 * 93
            + 25 * 14
    );
}

/// Our features of one golden case: every class on the original image, plus the case's
/// wavelet, simple-filter and LoG images.
fn ours(name: &str, case: &Value) -> Vec<(String, f64)> {
    let settings: Settings = serde_json::from_value(case["settings"].clone()).unwrap();
    let image = Volume::<f32>::read(dir().join(format!("{name}.image.nii.gz"))).unwrap();
    let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
    let mut ours = extract(&image, &mask, &settings, &ALL).unwrap();
    if case["wavelet"].as_bool().unwrap_or(false) {
        // PyWavelets filters a float32 image in single precision, an integer one in double.
        ours.extend(if case["dtype"] == "float32" {
            extract_wavelet(&image, &mask, &settings, &ALL).unwrap()
        } else {
            let image = image.map(|&v| f64::from(v));
            extract_wavelet(&image, &mask, &settings, &ALL).unwrap()
        });
    }
    for f in case["filters"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let kind = match f.as_str().unwrap() {
            "Square" => ImageType::Square,
            "SquareRoot" => ImageType::SquareRoot,
            "Logarithm" => ImageType::Logarithm,
            "Exponential" => ImageType::Exponential,
            "Gradient" => ImageType::Gradient,
            other => panic!("unexpected filter {other}"),
        };
        ours.extend(extract_filtered(&image, &mask, &settings, &ALL, kind).unwrap());
    }
    let sigmas: Vec<f64> = case["log"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_f64().unwrap()).collect())
        .unwrap_or_default();
    if !sigmas.is_empty() {
        ours.extend(extract_log(&image, &mask, &settings, &ALL, &sigmas).unwrap());
    }
    ours
}

/// Runs every parameter-file case of `cases` (`<name>.params.json` on `<name>.image.nii.gz`
/// and `<name>.mask.nii.gz`) through `ExtractionPlan::run_files` and compares it with
/// [`check_case`]; returns the number of features compared.
pub(crate) fn check_files(cases: &Value, failures: &mut Vec<String>) -> usize {
    let mut compared = 0;
    for (name, case) in cases.as_object().unwrap() {
        let file = |what: &str| dir().join(format!("{name}.{what}"));
        let plan = adamss_radiomics::ExtractionPlan::from_file(&file("params.json")).unwrap();
        let ours = (plan.run_files(&file("image.nii.gz"), &file("mask.nii.gz")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        compared += check_case(name, case, &ours, failures);
        if let Some(want) = case.get("diagnostics").and_then(Value::as_object) {
            let ours = (plan.diagnostics_files(&file("image.nii.gz"), &file("mask.nii.gz")))
                .unwrap_or_else(|e| panic!("{name} diagnostics: {e}"));
            check_diagnostics(name, want, &ours.to_json(), failures);
        }
    }
    compared
}

/// PyRadiomics' `diagnostics_Image-*` and `diagnostics_Mask-*` entries (every prefix it wrote:
/// original, interpolated, corrected, resegmented) against ours: the same names, hashes and
/// counts equal, numbers within 1e-9 relative (NumPy's pairwise sums against ours).
pub(crate) fn check_diagnostics(
    name: &str,
    want: &serde_json::Map<String, Value>,
    ours: &Value,
    failures: &mut Vec<String>,
) {
    let close = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * y.abs().max(1.0),
        _ => a == b,
    };
    let ours = ours.as_object().unwrap();
    let is_image_or_mask =
        |k: &str| k.starts_with("diagnostics_Image-") || k.starts_with("diagnostics_Mask-");
    for key in ours.keys().filter(|k| is_image_or_mask(k)) {
        if !want.contains_key(key) {
            failures.push(format!("{name}: {key} is ours only"));
        }
    }
    for (key, theirs) in want {
        let Some(mine) = ours.get(key) else {
            failures.push(format!("{name}: {key} missing"));
            continue;
        };
        let same = match (mine, theirs) {
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(x, y))
            }
            (a, b) => close(a, b),
        };
        if !same {
            failures.push(format!("{name} {key}: ours {mine}, PyRadiomics {theirs}"));
        }
    }
}

/// Compares one case's features with PyRadiomics' (`case["features"]`, `case["dtype"]`) at the
/// tolerance stated above, adding mismatches to `failures` and printing the worst relative
/// difference; returns the number compared.
pub(crate) fn check_case(
    name: &str,
    case: &Value,
    ours: &[(String, f64)],
    failures: &mut Vec<String>,
) -> usize {
    let want = case["features"].as_object().unwrap();
    assert_eq!(ours.len(), want.len(), "{name}: feature count");
    let mut worst = (0.0f64, String::new());
    for (fname, value) in ours {
        let w = want[fname]
            .as_f64()
            .unwrap_or_else(|| panic!("{name}: {fname} missing"));
        let (rel_tol, abs_tol) = (1e-6, 1e-9);
        let d = (value - w).abs();
        if !(d <= abs_tol || d <= rel_tol * w.abs()) {
            failures.push(format!("{name} {fname}: ours {value} PyRadiomics {w}"));
        }
        let rel = d / w.abs().max(1e-300);
        if d > 1e-9 && rel > worst.0 {
            worst = (rel, fname.clone());
        }
    }
    eprintln!(
        "{name}: worst relative difference {:e} ({})",
        worst.0, worst.1
    );
    ours.len()
}

/// Edge cases (`tools/pyradiomics_edge_cases.py`). ROIs one voxel thick along an axis: a
/// single-slice ROI with the wavelet images, a 1-D ROI and a ROI one voxel thick along y
/// (PyRadiomics' GLRLM uses only the directions along which some line meets the ROI twice).
/// Settings: `force2D` (axial and sagittal, the wavelet in 2-D), wavelets `db2` (two levels
/// after a discarded one), `bior2.4` (two levels), `haar`, `gradientUseSpacing: false`; the
/// float32 images' wavelets and bins in single precision, as PyWavelets and NumPy compute them.
/// Parameter-file cases run through `ExtractionPlan::run_files`: a NaN and an infinity far
/// from the ROI (only the values the features read must be finite); an interpolator given as
/// SimpleITK's integer constant; a mask 0.004 mm off (`geometryTolerance`); a mask on another
/// grid (`correctMask`); `normalize` with `binCount` on an int16 CT whose z-scores meet bin
/// edges exactly (SimpleITK's `Normalize` to the last bit); the element-wise filters on images
/// whose largest |value| lies outside the ROI's box + padDistance (they scale by the whole
/// image's); a mask on another grid with `resampledPixelSpacing` (PyRadiomics resamples before
/// any grid check: no `correctMask` needed, and with it the original mask is still the one
/// resampled; a spacing equal to the image's takes the mask onto the image's grid and crops),
/// resegmentation after resampling; LoG of a normalised float32 image with `binWidth` (the LoG
/// image is float32 whatever SimpleITK filtered, so it is binned in single precision); the
/// shape2D class on one-slice ROIs across z, y and x (anisotropic pixels, a hole, corner-touching
/// pixels, a one-pixel spur; `SphericalDisproportion` named; resegmentation); a file without
/// `featureClass` (every class, shape2D included where it applies) and one with empty
/// `imageType` and `featureClass` blocks (the original image, every class); a LoG sigma too
/// large for the image (skipped, as PyRadiomics skips it: [`log_sigma_too_large_warns`]); 2-D
/// images (NIfTI `dim[0]` = 2: every class with shape2D and no 3-D shape, `TotalEnergy` per
/// pixel area; the four 2-D wavelet sub-bands, Square and Gradient; SimpleITK's 2-D LoG;
/// B-spline resampling in the plane with two spacings); LBP2D (scikit-image's local binary
/// patterns slice by slice: 3-D extraction, force2D across y and x, the uniform, ror and
/// default codes, other radii and samples, a radius beyond padDistance, a normalised float32
/// image, a 2-D image); Gradient with `padDistance` 0 and LBP2D with a radius beyond it and
/// `preCrop` (the local filters read beyond the crop where the filtered image has voxels). For
/// each
/// parameter-file case also PyRadiomics'
/// `diagnostics_Image-*`/`Mask-*` entries ([`check_diagnostics`]).
#[test]
fn edge_cases_match_pyradiomics() {
    let text = std::fs::read_to_string(dir().join("edge_cases_expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let (mut compared, mut failures) = (0, Vec::new());
    for (name, case) in v["cases"].as_object().unwrap() {
        compared += check_case(name, case, &ours(name, case), &mut failures);
    }
    compared += check_files(&v["files"], &mut failures);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Single slice: shape + 9 image types × 93; the other two thin ROIs: shape + 93; force2D
    // (axial int16, sagittal float32): shape + (original + 4 in-slice sub-bands) × 93; two
    // levels (db2 after a discarded one; bior2.4): shape + (original + 2 × 7 + 1) × 93; haar:
    // shape + 9 × 93; gradient per voxel: shape + 2 × 93; NaN outside: shape + (original,
    // 8 wavelet, square, gradient) × 93.
    assert_eq!(
        compared,
        14 + 9 * 93
            + 2 * (14 + 93)
            + 2 * (14 + 5 * 93)
            + 2 * (14 + 16 * 93)
            + (14 + 9 * 93)
            + (14 + 2 * 93)
            + (14 + 11 * 93)
            + 4 * 107
            + 2
            + 2 * (14 + 5 * 93)
            + 3 * 107
            + (14 + 2 * 93)
            + (9 + 14 + 18)
            + (6 + 24)
            + (9 + 14 + 16)
            + (9 + 107)
            + 107
            + (18 + 24)
            + (93 + 9)
            + (9 + (1 + 4 + 1 + 1) * 93)
            + 2 * (18 + 24 + 16)
            + (9 + 2 * (18 + 16 + 5))
            + (14 + 2 * 93)
            + 2 * 93
            + (18 + 24 + 16)
            + (18 + 24 + 14)
            + (18 + 24)
            + 18
    );
}

/// Without `geometryTolerance` / `correctMask`, the two off-grid masks are refused, saying
/// which setting would accept them.
#[test]
fn off_grid_masks_are_refused_without_their_settings() {
    for name in ["edge_geometry_tolerance_ct", "edge_correct_mask_ct"] {
        let file = |what: &str| dir().join(format!("{name}.{what}"));
        let plan = adamss_radiomics::ExtractionPlan::default();
        let e = plan
            .run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
            .unwrap_err();
        assert!(
            matches!(e, adamss_radiomics::Error::GeometryMismatch(_))
                && e.to_string().contains("correctMask"),
            "{name}: {e}"
        );
    }
}

/// What reads the whole image refuses a non-finite voxel anywhere, naming it: the recursive
/// LoG filter, B-spline resampling and `normalize` (PyRadiomics gets values only because
/// SimpleITK reads NaN and ±Inf in a NIfTI file as 0).
#[test]
fn whole_image_readers_refuse_a_non_finite_voxel() {
    let file = |what: &str| dir().join(format!("edge_nan_outside_pet.{what}"));
    for (params, reader) in [
        (
            r#"{"imageType": {"LoG": {"sigma": [1.0]}}}"#,
            "the LoG filter",
        ),
        (
            r#"{"setting": {"resampledPixelSpacing": [1, 1, 1]}}"#,
            "B-spline resampling",
        ),
        (r#"{"setting": {"normalize": true}}"#, "normalize"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.json");
        std::fs::write(&path, params).unwrap();
        let plan = adamss_radiomics::ExtractionPlan::from_file(&path).unwrap();
        let e = plan
            .run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
            .unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(
                e,
                adamss_radiomics::Error::NonFiniteRead {
                    index: [0, 0, 0],
                    ..
                }
            ) && text.contains(reader),
            "{params}: {text}"
        );
    }
}

#[test]
fn resegmentation_refuses_bad_ranges_and_empty_results() {
    let image = Volume::<f32>::read(dir().join("reseg_pet_sigma.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("reseg_pet_sigma.mask.nii.gz")).unwrap();
    let with = |range: Vec<f64>| Settings {
        bin_width: 0.25,
        resegment_range: Some(range),
        ..Settings::default()
    };
    // Above every value: nothing is left.
    let e = extract(&image, &mask, &with(vec![1e9]), &ALL).unwrap_err();
    assert!(matches!(e, adamss_radiomics::Error::RoiTooSmall(_)), "{e}");
    assert!(e.to_string().contains("left 0"), "{e}");
    for bad in [vec![], vec![1.0, 2.0, 3.0], vec![f64::NAN]] {
        let e = extract(&image, &mask, &with(bad.clone()), &ALL).unwrap_err();
        assert!(e.to_string().contains("resegmentRange"), "{bad:?}: {e}");
    }
    // A range holding every ROI value changes nothing.
    let all = extract(&image, &mask, &with(vec![-1e9, 1e9]), &ALL).unwrap();
    let plain = Settings {
        bin_width: 0.25,
        ..Settings::default()
    };
    let plain = extract(&image, &mask, &plain, &ALL).unwrap();
    assert_eq!(all, plain);
}

#[test]
fn normalisation_refuses_bad_settings_and_flat_images() {
    let image = Volume::<f32>::read(dir().join("normalize_pet.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("normalize_pet.mask.nii.gz")).unwrap();
    for (settings, key) in [
        (
            Settings {
                normalize: true,
                normalize_scale: 0.0,
                ..Settings::default()
            },
            "normalizeScale",
        ),
        (
            Settings {
                normalize: true,
                remove_outliers: Some(-1.0),
                ..Settings::default()
            },
            "removeOutliers",
        ),
    ] {
        let e = extract(&image, &mask, &settings, &ALL).unwrap_err();
        assert!(e.to_string().contains(key), "{e}");
    }
    let flat = Volume::new(image.data().mapv(|_| 3.0f32), *image.geometry()).unwrap();
    let settings = Settings {
        normalize: true,
        ..Settings::default()
    };
    let e = extract(&flat, &mask, &settings, &ALL).unwrap_err();
    assert!(e.to_string().contains("no spread"), "{e}");
}

/// All fourteen shape features on every reference case's mask and the shape-only masks
/// (fragmented, anisotropic: their meshes have PyRadiomics' holes), against
/// `shape_expected.json` from `tools/pyradiomics_reference.py`.
#[test]
fn shape_features_match_pyradiomics() {
    let text = std::fs::read_to_string(dir().join("shape_expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, want) in v["cases"].as_object().unwrap() {
        let label = want["label"].as_u64().unwrap() as u8;
        let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
        let settings = Settings {
            label,
            ..Settings::default()
        };
        let ours = shape_features(&mask, &settings).unwrap();
        assert_eq!(ours.len(), 14, "{name}");
        for (feature, value) in &ours {
            let w = want["features"][format!("original_shape_{feature}")]
                .as_f64()
                .unwrap();
            if !((value - w).abs() <= 1e-9 || (value - w).abs() <= 1e-6 * w.abs()) {
                failures.push(format!("{name} {feature}: ours {value} PyRadiomics {w}"));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, v["cases"].as_object().unwrap().len() * 14);
    assert!(compared >= 20 * 14);
}

/// A LoG sigma too large for the image is skipped with a warning through the `log` facade, as
/// PyRadiomics skips it with one (the features of the other sigma are checked against
/// PyRadiomics' in [`edge_cases_match_pyradiomics`]); LBP2D without force2D warns as
/// PyRadiomics does; in a batch each warning names its case.
#[test]
fn log_sigma_too_large_warns() {
    use std::sync::Mutex;
    struct Capture(Mutex<Vec<String>>);
    impl log::Log for Capture {
        fn enabled(&self, m: &log::Metadata) -> bool {
            m.level() <= log::Level::Warn
        }
        fn log(&self, r: &log::Record) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
        fn flush(&self) {}
    }
    static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let name = "edge_log_sigma_too_large_pet";
    let file = |what: &str| dir().join(format!("{name}.{what}"));
    let plan = adamss_radiomics::ExtractionPlan::from_file(&file("params.json")).unwrap();
    let features = plan
        .run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
        .unwrap();
    assert_eq!(features.len(), 18 + 24);
    assert!(features
        .iter()
        .all(|(n, _)| n.starts_with("log-sigma-1-0-mm-3D_")));
    let said = CAPTURE.0.lock().unwrap().clone();
    assert!(
        said.iter()
            .any(|w| w.contains("LoG sigma 20 mm skipped") && w.contains("[22, 20, 6]")),
        "{said:?}"
    );
    // LBP2D without force2D: computed in 2-D, features in 3-D — PyRadiomics warns, so do we
    // (the one logger of this test binary is set above).
    let name = "edge_lbp2d_ct";
    let file = |what: &str| dir().join(format!("{name}.{what}"));
    let plan = adamss_radiomics::ExtractionPlan::from_file(&file("params.json")).unwrap();
    plan.run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
        .unwrap();
    let said = CAPTURE.0.lock().unwrap().clone();
    assert!(
        said.iter()
            .any(|w| w.contains("LBP2D") && w.contains("force2D is false")),
        "{said:?}"
    );
    // In a batch, cases run in parallel: each warning names its case (the file and line).
    let name = "edge_log_sigma_too_large_pet";
    let file = |what: &str| dir().join(format!("{name}.{what}"));
    let d = tempfile::tempdir().unwrap();
    let csv = d.path().join("cases.csv");
    let row = format!(
        "{},{}",
        file("image.nii.gz").display(),
        file("mask.nii.gz").display()
    );
    std::fs::write(&csv, format!("Image,Mask\n{row}\n{row}\n")).unwrap();
    let batch = adamss_radiomics::Batch::read(&csv).unwrap();
    let plan = adamss_radiomics::ExtractionPlan::from_file(&file("params.json")).unwrap();
    CAPTURE.0.lock().unwrap().clear();
    assert!(batch.run(&plan).iter().all(Result::is_ok));
    let said = CAPTURE.0.lock().unwrap().clone();
    for line in [2, 3] {
        let case = format!(
            "case {} line {line}: LoG sigma 20 mm skipped",
            csv.display()
        );
        assert_eq!(
            said.iter().filter(|w| w.starts_with(&case)).count(),
            1,
            "{case}: {said:?}"
        );
    }
    // Outside a batch or cohort, no case is named.
    CAPTURE.0.lock().unwrap().clear();
    plan.run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
        .unwrap();
    let said = CAPTURE.0.lock().unwrap().clone();
    assert!(said.iter().all(|w| w.starts_with("LoG sigma")), "{said:?}");
}
