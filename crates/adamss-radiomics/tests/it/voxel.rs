//! Voxel-based feature maps against PyRadiomics 3.1.4's `execute(..., voxelBased=True)`.
//!
//! Golden file: `tests/data/radiomics/voxel_expected.json`, written by
//! `tools/voxel_radiomics_reference.py` (values to 13 significant digits). Tolerance: 1e-9
//! relative or 1e-9 absolute at every ROI voxel of every map; NaN (a kernel without GLCM pairs)
//! where PyRadiomics has NaN. PyRadiomics' MCC failures (a whole voxel batch left at
//! `initValue`, see `extract_voxel_based`) are skipped, listed by the generator.

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::ndarray;
use adamss_radiomics::{
    extract_voxel_based, ExtractionPlan, FeatureClass, Settings, VoxelSettings,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Every case's maps, through `ExtractionPlan::run_voxel_based_files` with the case's parameter
/// file (its `voxelSetting` block, feature selection, the stored pixel type); the first case
/// through `extract_voxel_based` too.
#[test]
fn voxel_maps_match_pyradiomics() {
    let text = std::fs::read_to_string(dir().join("voxel_expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut skipped = 0usize;
    for (name, case) in v["cases"].as_object().unwrap() {
        let file = |what: &str| dir().join(format!("{name}.{what}"));
        let plan = ExtractionPlan::from_file(&file("params.json")).unwrap();
        let maps = plan
            .run_voxel_based_files(&file("image.nii.gz"), &file("mask.nii.gz"))
            .unwrap();
        let mask = Volume::<u8>::read(file("mask.nii.gz")).unwrap();
        if name == "voxel_default_ct" {
            // The library function gives the plan's maps (an int16 CT as f64 values).
            let image = Volume::<f32>::read(file("image.nii.gz")).unwrap();
            let image = image.map(|&x| f64::from(x));
            let direct = extract_voxel_based(
                &image,
                &mask,
                &Settings::default(),
                &VoxelSettings::default(),
                &FeatureClass::ALL,
            )
            .unwrap();
            assert_eq!(direct.maps.len(), maps.maps.len());
            for (n, a) in &direct.maps {
                let b = maps.get(n).unwrap();
                assert_eq!(a.geometry(), b.geometry());
                let same = ndarray::Zip::from(a.data())
                    .and(b.data())
                    .all(|x, y| x == y || (x.is_nan() && y.is_nan()));
                assert!(same, "{n}");
            }
        }
        // The crop: its corner and size.
        let corner: Vec<usize> = serde_json::from_value(case["corner"].clone()).unwrap();
        let size: Vec<usize> = serde_json::from_value(case["size"].clone()).unwrap();
        let first = &maps.maps[0].1;
        assert_eq!(first.shape().to_vec(), size, "{name}: crop size");
        let origin: Vec<f64> = serde_json::from_value(case["origin"].clone()).unwrap();
        // SimpleITK's origin is in LPS; the crop's corner in the image's world.
        let ours_origin = first.geometry().origin_lps();
        for a in 0..3 {
            assert!((ours_origin[a] - origin[a]).abs() < 1e-9, "{name}: origin");
        }
        // The ROI's voxels, x fastest.
        let label = case["label"].as_u64().unwrap() as u8;
        let mut at = Vec::new();
        let d = mask.shape();
        for k in 0..d[2] {
            for j in 0..d[1] {
                for i in 0..d[0] {
                    if mask.data()[[i, j, k]] == label {
                        at.push([i - corner[0], j - corner[1], k - corner[2]]);
                    }
                }
            }
        }
        assert_eq!(at.len() as u64, case["voxels"].as_u64().unwrap());
        let expected = case["maps"].as_object().unwrap();
        let kept: Vec<&str> = maps.names().filter(|n| expected.contains_key(*n)).collect();
        assert_eq!(kept.len(), expected.len(), "{name}: features");
        for (feature, values) in expected {
            let map = maps.get(feature).unwrap();
            let skip: Vec<usize> = case["failed"]
                .get(feature)
                .map(|f| serde_json::from_value(f.clone()).unwrap())
                .unwrap_or_default();
            for (n, (p, want)) in at.iter().zip(values.as_array().unwrap()).enumerate() {
                if skip.contains(&n) {
                    continue;
                }
                let got = map.data()[*p];
                let ok = match want.as_f64() {
                    // PyRadiomics' JointAverage is a plain mean over directions: NaN where a
                    // kernel has a direction without pairs (see `extract_voxel_based`).
                    None if feature.ends_with("_JointAverage") => {
                        skipped += 1;
                        continue;
                    }
                    None => got.is_nan(),
                    Some(w) => close(got, w),
                };
                compared += 1;
                if !ok && failures.len() < 40 {
                    failures.push(format!("{name} {feature} at {p:?}: {got} vs {want}"));
                }
            }
        }
        // The whole Mean map: initValue outside the ROI.
        let mean = maps.get("original_firstorder_Mean").unwrap();
        let whole: Vec<Option<f64>> = serde_json::from_value(case["mean_map"].clone()).unwrap();
        let ours: Vec<f64> = mean.data().t().iter().copied().collect();
        // PyRadiomics' array is (z, y, x) C order: x fastest, as ours transposed.
        assert_eq!(ours.len(), whole.len());
        for (g, w) in ours.iter().zip(&whole) {
            assert!(close(*g, w.unwrap()), "{name}: Mean map {g} vs {w:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches (first 40):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 40_000, "{compared} values compared");
    // 8 + 127 JointAverage voxels PyRadiomics leaves NaN (default and force2D cases).
    assert_eq!(skipped, 135);
}
