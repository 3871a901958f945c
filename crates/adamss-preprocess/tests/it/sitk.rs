//! Resampling against SimpleITK 2.5.7 (`sitk.Resample`, identity transform).
//!
//! Golden files: `tests/data/preprocess/`, written by `tools/sitk_reference.py`. Tolerances
//! (issue #3): images max |ours − SimpleITK| ≤ 1e-3 of the source's value range away from the
//! source's outer faces (where a rounding-level difference in the continuous index decides
//! inside vs outside); labels ≥ 99.9 % identical voxels.

use std::path::PathBuf;

use adamss_io::{Geometry, Volume};
use adamss_preprocess::{resample_linear, resample_nearest, Grid};
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

/// Target voxels whose source continuous index lies within `margin` of an outer face.
fn near_faces(src: &Grid, tgt: &Grid, margin: f64) -> Vec<bool> {
    let [n0, n1, n2] = tgt.shape;
    let mut out = vec![false; tgt.len()];
    for k in 0..n2 {
        for j in 0..n1 {
            for i in 0..n0 {
                let p = tgt.geometry.index_to_world([i as f64, j as f64, k as f64]);
                let c = src.geometry.world_to_index(p);
                out[i + n0 * (j + n1 * k)] = (0..3).any(|a| {
                    (c[a] + 0.5).abs() < margin
                        || (c[a] - (src.shape[a] as f64 - 0.5)).abs() < margin
                });
            }
        }
    }
    out
}

#[test]
fn linear_images_match_simpleitk() {
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
        assert_eq!(ours.shape(), reference.shape(), "{name}");
        let (lo, hi) = src
            .data()
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let range = f64::from(hi - lo)
            .max(f64::from(fill) - f64::from(lo))
            .max(1e-6);
        let border = near_faces(&Grid::of(&src), &target, 1e-3);
        let [n0, n1, _] = target.shape;
        let mut worst = 0.0f64;
        let mut compared = 0;
        for (idx, &a) in ours.data().indexed_iter() {
            if border[idx.0 + n0 * (idx.1 + n1 * idx.2)] {
                continue;
            }
            worst = worst.max(f64::from((a - reference.data()[idx]).abs()));
            compared += 1;
        }
        eprintln!(
            "{name}: worst {worst:e} range {range} compared {compared}/{}",
            target.len()
        );
        assert!(compared > target.len() / 2, "{name}: compared {compared}");
        assert!(
            worst <= 1e-3 * range,
            "{name}: max |diff| {worst} > 1e-3 × range {range}"
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn nearest_labels_match_simpleitk() {
    let mut checked = 0;
    for (name, case) in cases() {
        if case["interpolation"] != "nearest" {
            continue;
        }
        let src = source::<u8>(&name, &case);
        let target = grid(&case["target"]);
        let ours = resample_nearest(&src, &target, 0u8).unwrap();
        let reference = Volume::<u8>::read(dir().join(format!("{name}.ref.nii.gz"))).unwrap();
        assert_eq!(ours.shape(), reference.shape(), "{name}");
        let same = ours
            .data()
            .indexed_iter()
            .filter(|(idx, v)| **v == reference.data()[*idx])
            .count();
        let frac = same as f64 / target.len() as f64;
        eprintln!("{name}: {frac} identical");
        assert!(frac >= 0.999, "{name}: {frac} identical");
        let fg = reference.data().iter().filter(|&&v| v > 0).count();
        assert!(fg > 100, "{name}: the reference has foreground");
        checked += 1;
    }
    assert_eq!(checked, 2);
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
