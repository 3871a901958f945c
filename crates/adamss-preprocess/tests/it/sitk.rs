//! Resampling against SimpleITK 2.5.7 (`sitk.Resample`, identity transform).
//!
//! Golden files: `tests/data/preprocess/`, written by `tools/sitk_reference.py`. No tolerance:
//! every voxel of every case (linear, B-spline and nearest neighbour; axis-aligned, flipped and
//! oblique grids) equals SimpleITK's bit for bit — except B-spline from an oblique source into
//! float64, within 1e-12 relative (ITK inverts direction·spacing by SVD, we by the adjugate: the
//! continuous indices differ in the last bits, which float32 output hides).

use std::path::PathBuf;

use adamss_io::{Geometry, Volume};
use adamss_preprocess::{
    resample, resample_f64, resample_linear, resample_nearest, Grid, Interpolation,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/preprocess")
}

fn grid(v: &Value) -> Grid {
    let arr = |k: &str| -> [f64; 3] {
        let a: Vec<f64> = serde_json::from_value(v[k].clone()).unwrap();
        [a[0], a[1], a[2]]
    };
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let d: Vec<Vec<f64>> = serde_json::from_value(v["direction"].clone()).unwrap();
    let direction = [0, 1, 2].map(|r| [d[r][0], d[r][1], d[r][2]]);
    Grid::new(
        [shape[0], shape[1], shape[2]],
        Geometry::new(arr("spacing"), arr("origin"), direction).unwrap(),
    )
    .unwrap()
}

fn cases() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(dir().join("cases.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_object().unwrap().clone()
}

/// Source read from NIfTI, with the exact float64 geometry from the JSON (NIfTI stores f32).
fn source<T: adamss_io::Voxel + Copy>(name: &str, case: &Value) -> Volume<T> {
    let v = Volume::<T>::read(dir().join(format!("{name}.src.nii.gz"))).unwrap();
    let g = grid(&case["source"]);
    assert_eq!(v.shape(), g.shape, "{name}: source shape");
    assert!(v.geometry().max_affine_difference(&g.geometry) < 1e-3);
    Volume::new(v.into_parts().0, g.geometry).unwrap()
}

/// Our voxels against SimpleITK's, bit for bit (an ulp off in the continuous index would show
/// at the outer faces, where it decides inside vs outside, and in every interpolated value).
fn assert_bit_equal<T: adamss_io::Voxel + Copy + PartialEq + std::fmt::Debug>(
    name: &str,
    ours: &Volume<T>,
    reference: &Volume<T>,
) {
    assert_eq!(ours.shape(), reference.shape(), "{name}");
    let differing: Vec<_> = ours
        .data()
        .indexed_iter()
        .filter(|(idx, v)| v.to_f64().to_bits() != reference.data()[*idx].to_f64().to_bits())
        .take(5)
        .map(|(idx, v)| format!("{idx:?}: {v:?} vs {:?}", reference.data()[idx]))
        .collect();
    assert!(differing.is_empty(), "{name}: voxels differ: {differing:?}");
}

#[test]
fn linear_images_match_simpleitk_bit_for_bit() {
    let mut checked = 0;
    for (name, case) in cases() {
        if case["interpolation"] != "linear" {
            continue;
        }
        let src = source::<f32>(&name, &case);
        let target = grid(&case["target"]);
        let fill = case["fill"].as_f64().unwrap() as f32;
        let ours = resample_linear(&src, &target, fill).unwrap();
        let reference = Volume::<f32>::read(dir().join(format!("{name}.ref.nii.gz"))).unwrap();
        assert_bit_equal(&name, &ours, &reference);
        // The generic entry point takes the same path.
        let generic = resample(&src, &target, Interpolation::Linear, fill).unwrap();
        assert_bit_equal(&name, &generic, &reference);
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// Cubic B-spline (`sitk.sitkBSpline`): into float32 and, with `resample_f64`, into float64
/// (SimpleITK's values before any cast).
#[test]
fn bspline_images_match_simpleitk_bit_for_bit() {
    let mut checked = 0;
    for (name, case) in cases() {
        if case["interpolation"] != "bspline" {
            continue;
        }
        let src = source::<f32>(&name, &case);
        let target = grid(&case["target"]);
        let fill = case["fill"].as_f64().unwrap();
        let path = dir().join(format!("{name}.ref.nii.gz"));
        if case["output"] == "float64" {
            // Oblique: ITK inverts direction·spacing by SVD, we by the adjugate, so the
            // continuous indices can differ in the last bits; float64 output shows it.
            let ours = resample_f64(&src, &target, Interpolation::BSpline, fill).unwrap();
            let reference = Volume::<f64>::read(&path).unwrap();
            let (mut worst, mut differing) = (0.0f64, 0);
            for (idx, &a) in ours.data().indexed_iter() {
                let b = reference.data()[idx];
                if a.to_bits() != b.to_bits() {
                    differing += 1;
                    worst = worst.max((a - b).abs() / b.abs().max(1e-300));
                }
            }
            eprintln!(
                "{name}: {differing}/{} differ, worst relative {worst:e}",
                target.len()
            );
            assert!(
                worst <= 1e-12,
                "{name}: worst relative difference {worst:e}"
            );
        } else {
            let ours = resample(&src, &target, Interpolation::BSpline, fill as f32).unwrap();
            assert_bit_equal(&name, &ours, &Volume::<f32>::read(&path).unwrap());
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn nearest_labels_match_simpleitk_bit_for_bit() {
    let mut checked = 0;
    for (name, case) in cases() {
        if case["interpolation"] != "nearest" {
            continue;
        }
        let src = source::<u8>(&name, &case);
        let target = grid(&case["target"]);
        let ours = resample_nearest(&src, &target, 0u8).unwrap();
        let reference = Volume::<u8>::read(dir().join(format!("{name}.ref.nii.gz"))).unwrap();
        assert_bit_equal(&name, &ours, &reference);
        let fg = reference.data().iter().filter(|&&v| v > 0).count();
        assert!(fg > 100, "{name}: the reference has foreground");
        checked += 1;
    }
    // label_aniso, label_oblique, and label_oblique_ties: an oblique grid whose voxels sit
    // exactly half-way between source voxels, where only ITK's own inverse of
    // direction · spacing (LINPACK's SVD) rounds each tie as SimpleITK does.
    assert_eq!(checked, 3);
}

/// B-spline needs finite values in the whole source: a NaN is refused by name, not spread.
#[test]
fn bspline_refuses_non_finite_sources() {
    let cases = cases();
    let case = &cases["ct_bspline"];
    let src = source::<f32>("ct_bspline", case);
    let (mut data, geometry) = src.into_parts();
    data[[3, 4, 5]] = f32::NAN;
    let src = Volume::new(data, geometry).unwrap();
    let err = resample(&src, &grid(&case["target"]), Interpolation::BSpline, 0.0).unwrap_err();
    assert!(
        matches!(err, adamss_preprocess::Error::NonFinite(_)),
        "{err}"
    );
    assert!(err.to_string().contains("B-spline"), "{err}");
}

/// Resampling straight onto a crop grid equals resampling the whole grid then cropping
/// (and both equal SimpleITK's crop case, checked above).
#[test]
fn crop_grid_equals_whole_grid_then_crop() {
    let cases = cases();
    let case = &cases["ct_crop"];
    let src = source::<f32>("ct_crop", case);
    let full = grid(&case["crop_of"]["grid"]);
    let start: Vec<i64> = serde_json::from_value(case["crop_of"]["start"].clone()).unwrap();
    let crop = full
        .subgrid([start[0], start[1], start[2]], [40, 40, 40])
        .unwrap();
    assert!(
        crop.geometry
            .max_affine_difference(&grid(&case["target"]).geometry)
            < 1e-9
    );
    let whole = resample_linear(&src, &full, -1000.0).unwrap();
    let direct = resample_linear(&src, &crop, -1000.0).unwrap();
    let [s0, s1, s2] = [start[0], start[1], start[2]];
    for ((i, j, k), v) in direct.data().indexed_iter() {
        let (a, b, c) = (i as i64 + s0, j as i64 + s1, k as i64 + s2);
        let inside = [a, b, c]
            .iter()
            .zip(full.shape)
            .all(|(&x, n)| x >= 0 && (x as usize) < n);
        if inside {
            let w = whole.data()[[a as usize, b as usize, c as usize]];
            assert!((v - w).abs() <= 1e-3, "({i},{j},{k}): {v} vs {w}");
        }
    }
}
