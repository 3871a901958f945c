//! Parameter files: the same file, as JSON and as YAML, read by PyRadiomics 3.1.4 (values and
//! the YAML/JSON equivalence from `tools/pyradiomics_reference.py`) and by `ExtractionPlan`.

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::{extract, ExtractionPlan, FeatureClass};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

#[test]
fn yaml_and_json_files_give_the_same_plan() {
    let json = ExtractionPlan::from_json_file(&dir().join("params_case.params.json")).unwrap();
    let yaml = ExtractionPlan::from_yaml_file(&dir().join("params_case.params.yaml")).unwrap();
    assert_eq!(yaml, json);
    let by_extension = ExtractionPlan::from_file(&dir().join("params_case.params.yaml")).unwrap();
    assert_eq!(by_extension, json);
}

#[test]
fn parameter_file_gives_pyradiomics_features() {
    for file in ["params_case.params.json", "params_case.params.yaml"] {
        check_against_pyradiomics(&ExtractionPlan::from_file(&dir().join(file)).unwrap());
    }
}

/// Through the files, as PyRadiomics runs it: the int16 image's stored type (read from its
/// header) makes its wavelet run in double precision, as PyWavelets filters an integer array.
fn check_against_pyradiomics(plan: &ExtractionPlan) {
    let ours = (plan.run_files(
        &dir().join("params_case.image.nii.gz"),
        &dir().join("params_case.mask.nii.gz"),
    ))
    .unwrap();
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
    let json = [
        (
            r#"{"setting": {"resampledPixelSpacing": [1, 1, 1, 1]}}"#,
            "resampledPixelSpacing",
        ),
        (r#"{"featureClass": {"shape2d": []}}"#, "shape2d"),
        (r#"{"imageType": {"LBP3D": {}}}"#, "LBP3D"),
        (r#"{"imageType": {"LoG": {}}}"#, "sigma"),
        (r#"{"settings": {}}"#, "settings"),
        (r#"{"setting": {"binWidth": -1}}"#, "binWidth"),
        (r#"{"setting": {"interpolator": "sitkCubic"}}"#, "sitkCubic"),
        (
            r#"{"setting": {"weightingNorm": "chebyshev"}}"#,
            "chebyshev",
        ),
    ];
    let yaml = [
        (
            "setting:\n  resampledPixelSpacing: [1, -1, 1]\n",
            "resampledPixelSpacing",
        ),
        ("featureClass:\n  Shape2D:\n  firstorder:\n", "Shape2D"),
        ("imageType:\n  LBP3D:\n", "LBP3D"),
        ("imageType:\n  LoG:\n    sigma: [1.0, -2.0]\n", "sigma"),
        ("voxelSetting:\n  kernelRadius: 0\n", "kernelRadius"),
        ("voxelSetting:\n  kernelSize: 2\n", "kernelSize"),
        ("voxelSetting:\n  initValue: none\n", "initValue"),
        ("setting:\n  binWidth: -1\n", "binWidth"),
        ("setting:\n  weightingNorm: l2\n", "l2"),
        ("setting:\n  additionalInfo: maybe\n", "additionalInfo"),
        ("setting: [binWidth\n", "not YAML"),
        ("- 1\n- 2\n", "mapping"),
    ];
    let d = tempfile::tempdir().unwrap();
    for (extension, cases) in [("json", &json[..]), ("yaml", &yaml[..])] {
        for (i, (text, key)) in cases.iter().enumerate() {
            let name = format!("p{i}.{extension}");
            let p = d.path().join(&name);
            std::fs::write(&p, text).unwrap();
            let e = ExtractionPlan::from_file(&p).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
            assert!(e.contains(&name), "the error names the file: {e}");
        }
    }
}

#[test]
fn log_image_type_from_a_parameter_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("log.yaml");
    std::fs::write(
        &p,
        "setting:\n  binWidth: 5\nimageType:\n  LoG:\n    sigma: [1.0, 2.5]\nfeatureClass:\n  glcm:\n",
    )
    .unwrap();
    let plan = ExtractionPlan::from_file(&p).unwrap();
    let image = Volume::<f32>::read(dir().join("log_ct.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("log_ct.mask.nii.gz")).unwrap();
    let ours = plan.run(&image, &mask).unwrap();
    let settings = adamss_radiomics::Settings {
        bin_width: 5.0,
        sigma: vec![1.0, 2.5],
        ..Default::default()
    };
    let direct = adamss_radiomics::extract_log(
        &image,
        &mask,
        &settings,
        &[adamss_radiomics::FeatureClass::Glcm],
        &[1.0, 2.5],
    )
    .unwrap();
    assert_eq!(ours, direct);
    assert_eq!(ours.len(), 2 * 24);
    assert!(
        ours[0].0.starts_with("log-sigma-1-0-mm-3D_glcm_"),
        "{}",
        ours[0].0
    );
}

/// PyRadiomics' usual settings that do not resample are accepted: `interpolator` (always in
/// its example files), a null `resampledPixelSpacing`, and `preCrop`. A spacing that resamples
/// runs through the plan (`resample.rs` checks the values); with an interpolator that is not
/// implemented the plan refuses it by name, and the per-image-type functions, which take an
/// image already resampled, refuse the setting itself.
#[test]
fn settings_without_resampling_are_accepted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p.yaml");
    std::fs::write(
        &p,
        "setting:\n  interpolator: 'sitkBSpline'\n  resampledPixelSpacing:\n  preCrop: true\n  padDistance: 3\n",
    )
    .unwrap();
    let plan = ExtractionPlan::from_file(&p).unwrap();
    assert!(plan.settings.pre_crop);
    assert_eq!(plan.settings.pad_distance, 3);
    assert_eq!(plan.settings.interpolator, "sitkBSpline");
    assert_eq!(plan.settings.resampled_pixel_spacing, None);

    // params_case's image has 0.98 × 0.98 × 2.5 mm voxels: 1 mm resamples.
    let image = Volume::<f32>::read(dir().join("params_case.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("params_case.mask.nii.gz")).unwrap();
    std::fs::write(&p, "setting:\n  resampledPixelSpacing: [1, 1, 1]\n").unwrap();
    let plan = ExtractionPlan::from_file(&p).unwrap();
    assert!(!plan.run(&image, &mask).unwrap().is_empty());
    let e = extract(&image, &mask, &plan.settings, &[FeatureClass::FirstOrder])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("resampledPixelSpacing") && e.contains("resample first"),
        "{e}"
    );
    std::fs::write(
        &p,
        "setting:\n  resampledPixelSpacing: [1, 1, 1]\n  interpolator: sitkGaussian\n",
    )
    .unwrap();
    let plan = ExtractionPlan::from_file(&p).unwrap();
    let e = plan.run(&image, &mask).unwrap_err().to_string();
    assert!(
        e.contains("sitkLinear") && e.contains("not implemented"),
        "{e}"
    );
}

/// Each class's feature names and deprecated names are PyRadiomics' own
/// (`tools/pyradiomics_feature_names.py`, PyRadiomics 3.1.4; 2-D shape is not implemented).
#[test]
fn feature_names_are_pyradiomics_names() {
    let text = std::fs::read_to_string(dir().join("feature_names.json")).unwrap();
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sorted = |v: &[&str]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    for class in FeatureClass::ALL.into_iter().chain([FeatureClass::Shape2D]) {
        let w = &want["classes"][class.name()];
        assert_eq!(
            sorted(class.feature_names()),
            strings(&w["features"]),
            "{class:?}"
        );
        assert_eq!(
            sorted(class.deprecated_names()),
            strings(&w["deprecated"]),
            "{class:?}"
        );
    }
}

/// A misspelt feature is refused, naming it and the class's features (PyRadiomics raises too);
/// a deprecated one PyRadiomics computes no value for (GLCM `Homogeneity1`) is refused by name
/// instead of silently dropped; one it still computes (`StandardDeviation`) is accepted (its
/// value is checked in `pyradiomics.rs`).
#[test]
fn unknown_and_deprecated_feature_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |body: &str| {
        let path = tmp.path().join("params.yaml");
        std::fs::write(&path, body).unwrap();
        path
    };
    let ok = write("featureClass:\n  glcm: [Contrast, Id]\n");
    assert!(ExtractionPlan::from_file(&ok).is_ok());
    let typo = write("featureClass:\n  glcm: [Contrst]\n");
    let err = ExtractionPlan::from_file(&typo).unwrap_err().to_string();
    assert!(
        err.contains("params.yaml") && err.contains("\"Contrst\"") && err.contains("Contrast"),
        "{err}"
    );
    let old = write("featureClass:\n  glcm: [Contrast, Homogeneity1]\n");
    let err = ExtractionPlan::from_file(&old).unwrap_err().to_string();
    assert!(
        err.contains("Homogeneity1") && err.contains("deprecated"),
        "{err}"
    );
    let computed = write("featureClass:\n  firstorder: [Mean, StandardDeviation]\n");
    assert!(ExtractionPlan::from_file(&computed).is_ok());
}

/// PyRadiomics' own example parameter files (`tests/data/radiomics/pyradiomics_examples/`,
/// copied unchanged) load as they are (`exampleVoxel.yaml`'s voxelSetting block as PyRadiomics
/// reads it). Five of them (B-spline resampling
/// with LoG σ 1–5 and wavelet on an int16 CT; normalisation, preCrop and force2D with LoG and
/// wavelet on a float32 image; normalisation and resampling to 2 mm; every shape feature, the
/// three deprecated ones included; `MR_2D_extraction.yaml`'s shape2D, force2D, B-spline
/// resampling in-plane only, LoG and wavelet on a one-slice ROI) give PyRadiomics' values
/// (`tools/pyradiomics_edge_cases.py`, "examples").
#[test]
fn pyradiomics_example_parameter_files() {
    let examples = dir().join("pyradiomics_examples");
    for ok in [
        "Params.yaml",
        "exampleCT.yaml",
        "exampleMR_3mm.yaml",
        "exampleMR_5mm.yaml",
        "exampleMR_NoResampling.yaml",
        "example_allShape.yaml",
    ] {
        ExtractionPlan::from_file(&examples.join(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // exampleVoxel.yaml's voxelSetting block as PyRadiomics reads it (`initValue: nan` is the string "nan",
    // which NumPy makes a float).
    let voxel = ExtractionPlan::from_file(&examples.join("exampleVoxel.yaml")).unwrap();
    assert_eq!(voxel.voxel.kernel_radius, 2);
    assert!(voxel.voxel.masked_kernel && voxel.voxel.init_value.is_nan());
    assert_eq!(voxel.voxel.voxel_batch, Some(10000));
    let text = std::fs::read_to_string(dir().join("edge_cases_expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, case) in v["examples"].as_object().unwrap() {
        let plan =
            ExtractionPlan::from_file(&examples.join(case["params"].as_str().unwrap())).unwrap();
        let file = |what: &str| dir().join(format!("{name}.{what}.nii.gz"));
        let ours = (plan.run_files(&file("image"), &file("mask")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        compared += crate::pyradiomics::check_case(name, case, &ours, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(compared, 1218 + 702 + 1132 + 17 + 828);
}

/// shape2D describes a one-slice ROI: across several slices it is refused naming the axis and
/// the ROI's extent (PyRadiomics' class raises a ValueError), and a 3-D mask without `force2D`
/// is refused naming the setting; a mask one slice thick (a 2-D image) needs no `force2D` and
/// gives the same values as with it. The values themselves are checked against PyRadiomics in
/// `pyradiomics.rs` (`edge_shape2d_*`, `example_MR_2D_extraction`).
#[test]
fn shape2d_needs_a_one_slice_roi() {
    use adamss_radiomics::io::{ndarray::Array3, Geometry, Volume};
    use adamss_radiomics::{extract, shape2d_features, Error, Settings};
    let geometry = Geometry::axis_aligned([0.8, 0.6, 2.0], [0.0; 3]).unwrap();
    let mut data = Array3::<u8>::zeros((12, 10, 5));
    for i in 2..9 {
        for j in 3..8 {
            data[[i, j, 2]] = 1;
        }
    }
    data[[5, 5, 2]] = 0;
    let mask = Volume::new(data.clone(), geometry).unwrap();
    let forced = Settings {
        force_2d: true,
        ..Settings::default()
    };
    let values = shape2d_features(&mask, &forced).unwrap();
    let get = |v: &[(&str, f64)], n: &str| v.iter().find(|(m, _)| *m == n).unwrap().1;
    // A 7 × 5 block of 0.8 × 0.6 mm pixels with a one-pixel hole: 34 pixels; the outline cuts
    // each outer corner (−⅛ pixel) and makes the hole a diamond (½ pixel), so the mesh
    // encloses 35 − ½ − ½ pixels too; its perimeter is 2 × 6 × 0.8 + 2 × 4 × 0.6 mm of sides
    // and eight half-pixel diagonals of √(0.4² + 0.3²) = 0.5 mm.
    assert!((get(&values, "PixelSurface") - 34.0 * 0.48).abs() < 1e-12);
    assert!((get(&values, "MeshSurface") - 34.0 * 0.48).abs() < 1e-12);
    assert!((get(&values, "Perimeter") - 18.4).abs() < 1e-12);

    let e = shape2d_features(&mask, &Settings::default()).unwrap_err();
    assert!(
        matches!(e, Error::Shape2D(_)) && e.to_string().contains("force2D"),
        "{e}"
    );
    let across_x = Settings {
        force_2d_dimension: 2,
        ..forced.clone()
    };
    let e = shape2d_features(&mask, &across_x).unwrap_err();
    assert!(
        matches!(e, Error::Shape2D(_))
            && e.to_string()
                .contains("spans 7 slices across force2Ddimension 2 (x"),
        "{e}"
    );

    // One slice thick: a 2-D image, described without force2D, as with it.
    let slice = data
        .slice(adamss_radiomics::ndarray::s![.., .., 2..3])
        .to_owned();
    let flat = Volume::new(slice, geometry).unwrap();
    assert_eq!(
        shape2d_features(&flat, &Settings::default()).unwrap(),
        values
    );
    let image = flat.map(|&m| f32::from(m) * 10.0 + 1.0);
    let named = extract(
        &image,
        &flat,
        &Settings::default(),
        &[FeatureClass::Shape2D],
    )
    .unwrap();
    assert_eq!(named.len(), 9);
    assert!(named
        .iter()
        .all(|(n, _)| n.starts_with("original_shape2D_")));
}

/// A 2-D image (NIfTI `dim[0]` = 2) pairs only with a 2-D mask; two resampling spacings are
/// for 2-D images only; without a parameter file a 2-D image gives PyRadiomics' defaults less
/// the 3-D shape class. Its values are checked against
/// PyRadiomics in `pyradiomics.rs` (`edge_2d_*`).
#[test]
fn two_dimensional_images() {
    let file = |name: &str, what: &str| dir().join(format!("{name}.{what}.nii.gz"));
    let plan = ExtractionPlan::default();
    let e = plan
        .run_files(
            &file("edge_2d_every_class_ct", "image"),
            &file("thin_single_slice_ct", "mask"),
        )
        .unwrap_err();
    assert!(
        matches!(e, adamss_radiomics::Error::GeometryMismatch(_)) && e.to_string().contains("2-D"),
        "{e}"
    );
    // Two resampling spacings are a 2-D image's: a 3-D image refuses them.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("two.yaml");
    std::fs::write(&p, "setting:\n  resampledPixelSpacing: [1.5, 1.5]\n").unwrap();
    let two = ExtractionPlan::from_file(&p).unwrap();
    let e = two
        .run_files(
            &file("thin_single_slice_ct", "image"),
            &file("thin_single_slice_ct", "mask"),
        )
        .unwrap_err();
    assert!(e.to_string().contains("two values"), "{e}");
    // Without a parameter file: PyRadiomics' defaults less the 3-D shape class.
    let f = plan
        .run_files(
            &file("edge_2d_every_class_ct", "image"),
            &file("edge_2d_every_class_ct", "mask"),
        )
        .unwrap();
    assert_eq!(f.len(), 93);
}

/// Numbers a parameter file may hold that would overflow an index or allocate without bound
/// (found while fuzzing voxel-based plans, 2026-12-06): `distances` beyond the image pair no
/// voxels (no 10¹⁵ candidate offsets, no padded box of that size), a `padDistance` or
/// `kernelRadius` of 2⁶⁴ − 1 reaches the image's edge (the same values as any radius past it),
/// a wavelet level past 30 is refused by name.
#[test]
fn huge_numbers_in_a_parameter_file_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let name = "voxel_default_ct";
    let file = |what: &str| dir().join(format!("{name}.{what}"));
    let run = |p: &std::path::Path| {
        ExtractionPlan::from_file(p)
            .unwrap()
            .run_files(&file("image.nii.gz"), &file("mask.nii.gz"))
            .unwrap()
    };
    let far = run(&write(
        "far.json",
        r#"{"setting": {"distances": [100000]}, "featureClass": {"glcm": null, "ngtdm": null}}"#,
    ));
    assert!(far
        .iter()
        .filter(|(n, _)| n.contains("_glcm_"))
        .all(|(_, v)| v.is_nan()));
    let max = u64::MAX;
    let pad = |p: u64| {
        run(&write(
            &format!("pad{p}.json"),
            &format!(
                r#"{{"setting": {{"padDistance": {p}, "preCrop": true}}, "imageType": {{"Original": {{}}, "Gradient": {{}}}}}}"#
            ),
        ))
    };
    assert_eq!(pad(max), pad(100));
    let voxel = |r: u64| {
        ExtractionPlan::from_file(&write(
            &format!("r{r}.json"),
            &format!(r#"{{"voxelSetting": {{"kernelRadius": {r}}}, "featureClass": {{"firstorder": ["Mean"]}}}}"#),
        ))
        .unwrap()
        .run_voxel_based_files(&file("image.nii.gz"), &file("mask.nii.gz"))
        .unwrap()
    };
    let (a, b) = (voxel(max), voxel(100));
    assert_eq!(a.maps[0].1.data(), b.maps[0].1.data());
    let e = ExtractionPlan::from_file(&write(
        "level.json",
        &format!(r#"{{"setting": {{"level": {max}}}, "imageType": {{"Wavelet": {{}}}}}}"#),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("level"), "{e}");
}
