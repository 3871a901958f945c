//! Resampling to another spacing (`resampledPixelSpacing`) against PyRadiomics 3.1.4.
//!
//! Golden files: `tests/data/radiomics/resample_*` and `resample_expected.json`, written by
//! `tools/pyradiomics_reference.py`: each case a parameter file that PyRadiomics ran on the
//! image and mask files, and that [`ExtractionPlan::run_files`] runs here. Tolerance as in
//! `pyradiomics.rs`: ≤ 1e-6 relative or ≤ 1e-9 absolute, and for wavelet features of float32
//! images 1e-4 relative or 1e-6 absolute (PyWavelets filters float32 in single precision).

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_radiomics::{resample, ExtractionPlan, PixelType, ResampledImage, Settings};
use serde_json::Value;

use crate::pyradiomics::check_files;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/radiomics")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("resample_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn resampled_features_match_pyradiomics() {
    let v = expected();
    let mut failures = Vec::new();
    let compared = check_files(&v["cases"], &mut failures);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // B-spline CT with wavelet and two LoG sigmas; odd ratio (int16, float64); normalised PET
    // with one sigma; trilinear float64 with one sigma;
    // nearest-neighbour PET with wavelet; scaled int16 (read as float32).
    assert_eq!(
        compared,
        (107 + 10 * 93) + 2 * 107 + 2 * (107 + 93) + (107 + 8 * 93) + 107
    );
}

/// The resampled grids and voxels are PyRadiomics' (size and spacing from its diagnostics; the
/// image and mask from its `loadImage`, bit for bit), and the cast follows the stored type: the
/// int16 CT comes back as whole numbers, the scaled file (float32 for SimpleITK) does not.
#[test]
fn resampled_grid_and_cast_follow_pyradiomics() {
    let v = expected();
    for (name, case) in v["cases"].as_object().unwrap() {
        let plan = ExtractionPlan::from_file(&dir().join(format!("{name}.params.json"))).unwrap();
        let image_path = dir().join(format!("{name}.image.nii.gz"));
        let info = adamss_io::read_header(&image_path).unwrap();
        let stored = PixelType::from_nifti(&info).unwrap();
        let image = Volume::<f32>::read(&image_path).unwrap();
        let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
        let r = resample(&image, &mask, &plan.settings, stored)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: not resampled"));
        let size: Vec<usize> = case["resampled_size"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(r.mask.shape().to_vec(), size, "{name}");
        let spacing: Vec<f64> = case["resampled_spacing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(r.mask.geometry().spacing.to_vec(), spacing, "{name}");
        // Voxel for voxel, PyRadiomics' own resampled pair (its `loadImage`): equal to the bit.
        let want =
            Volume::<f64>::read(dir().join(format!("{name}.resampled.image.nii.gz"))).unwrap();
        let want_mask =
            Volume::<u8>::read(dir().join(format!("{name}.resampled.mask.nii.gz"))).unwrap();
        assert_eq!(r.mask.data(), want_mask.data(), "{name}: mask");
        // NIfTI stores the affine in single precision: ~1e-7 relative.
        let d = r.mask.geometry().max_affine_difference(want.geometry());
        assert!(d < 1e-5, "{name}: affines differ by {d} mm");
        let ours: Vec<f64> = match &r.image {
            ResampledImage::Single(img) => img.data().iter().map(|&v| f64::from(v)).collect(),
            ResampledImage::Double(img) => img.data().iter().copied().collect(),
        };
        // Normalised values are ours, not SimpleITK's `Normalize` to the bit (its mean and
        // standard deviation are summed in another order): there 1e-12 relative.
        let tol = if r.normalized { 1e-12 } else { 0.0 };
        let differ: Vec<String> = ours
            .iter()
            .zip(want.data().iter())
            .enumerate()
            .filter(|(_, (&a, &b))| {
                a.to_bits() != b.to_bits() && (a - b).abs() > tol * b.abs().max(1.0)
            })
            .map(|(n, (a, b))| format!("voxel {n}: ours {a:e}, SimpleITK {b:e}"))
            .collect();
        assert!(
            differ.is_empty(),
            "{name}: {} voxels differ from SimpleITK's, e.g. {:?}",
            differ.len(),
            &differ[..differ.len().min(5)]
        );
        let whole = |img: &Volume<f32>| img.data().iter().all(|v| v.fract() == 0.0);
        match (name.as_str(), &r.image) {
            ("resample_ct_scaled", ResampledImage::Single(img)) => {
                assert_eq!(stored, PixelType::Float32);
                assert!(!whole(img), "{name}: float32 values are not truncated");
            }
            ("resample_ct_bspline" | "resample_ct_odd_ratio", ResampledImage::Single(img)) => {
                assert_eq!(stored, PixelType::Int16);
                assert!(whole(img), "{name}: int16 values are truncated");
            }
            ("resample_pet_normalized", ResampledImage::Double(_)) => assert!(r.normalized),
            ("resample_f64_odd_ratio" | "resample_f64_linear", ResampledImage::Double(_)) => {
                assert_eq!(stored, PixelType::Float64);
                assert!(!r.normalized);
            }
            ("resample_pet_nearest", ResampledImage::Single(img)) => {
                // Nearest neighbour only copies voxels.
                let mut source: Vec<u32> = image.data().iter().map(|v| v.to_bits()).collect();
                source.sort_unstable();
                assert!(img
                    .data()
                    .iter()
                    .all(|v| *v == 0.0 || source.binary_search(&v.to_bits()).is_ok()));
            }
            (other, _) => panic!("{other}: unexpected image precision"),
        }
    }
}

/// Bad resampling settings are typed errors naming the setting, before anything is computed.
#[test]
fn bad_resampling_settings_are_refused() {
    let image = Volume::<f32>::read(dir().join("resample_ct_bspline.image.nii.gz")).unwrap();
    let mask = Volume::<u8>::read(dir().join("resample_ct_bspline.mask.nii.gz")).unwrap();
    let run = |s: Settings| {
        resample(&image, &mask, &s, PixelType::Int16)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let e = run(Settings {
        resampled_pixel_spacing: Some(vec![1.0, 1.0, 1.0]),
        interpolator: "sitkLanczosWindowedSinc".into(),
        ..Settings::default()
    });
    assert!(
        e.contains("sitkLanczosWindowedSinc") && e.contains("not implemented"),
        "{e}"
    );
    let e = run(Settings {
        resampled_pixel_spacing: Some(vec![1e-4, 1e-4, 1e-4]),
        ..Settings::default()
    });
    assert!(e.contains("resampledPixelSpacing"), "{e}");
    let e = run(Settings {
        resampled_pixel_spacing: Some(vec![1.0, 1.0, 1.0]),
        label: 7,
        ..Settings::default()
    });
    assert!(e.contains("label 7"), "{e}");
    // The image's own spacing does not resample (the extraction crops instead).
    let own = Settings {
        resampled_pixel_spacing: Some(vec![0.98, 0.98, 0.0]),
        ..Settings::default()
    };
    assert!(resample(&image, &mask, &own, PixelType::Int16)
        .unwrap()
        .is_none());
}
