//! Integration tests of adamss-io.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod cohort;
mod dicom;
mod dicom_rtstruct;
mod dicom_seg;
mod dicom_suv;
mod errors;
mod itk_index;
mod nibabel;
mod nrrd;
mod nrrd_write;
mod synthetic;

use std::path::PathBuf;

use adamss_io::Geometry;
use serde_json::Value;

/// `tests/data` at the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// The flat indices (x fastest) of a mask's nonzero voxels with their values.
pub fn nonzero(mask: &adamss_io::Volume<u8>) -> Vec<(usize, u8)> {
    let [ni, nj, nk] = mask.shape();
    let mut out = Vec::new();
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let v = mask.data()[[i, j, k]];
                if v != 0 {
                    out.push((i + ni * (j + nj * k), v));
                }
            }
        }
    }
    out
}

/// A reference mask's `voxels`: flat indices, x fastest.
pub fn voxels(item: &Value) -> Vec<usize> {
    item["voxels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// The numbers of a JSON array.
pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Asserts `g` equals SimpleITK's geometry `r` (its `spacing`, `origin_lps` and row-major
/// `direction_lps`) to `tol`; `name` names the case.
pub fn assert_itk_geometry(name: &str, g: &Geometry, r: &Value, tol: f64) {
    let close = |what: &str, got: &[f64], want: &[f64]| {
        assert_eq!(got.len(), want.len(), "{name} {what}");
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() <= tol, "{name} {what}: {got:?} vs {want:?}");
        }
    };
    close("spacing", &g.spacing, &f64s(&r["spacing"]));
    close("origin", &g.origin_lps(), &f64s(&r["origin_lps"]));
    let d: Vec<f64> = g.direction_lps().iter().flatten().copied().collect();
    close("direction", &d, &f64s(&r["direction_lps"]));
}
