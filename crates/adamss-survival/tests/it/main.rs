//! Integration tests of adamss-survival.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod aft;
mod api;
mod competing;
mod coxnet;
mod edge;
mod entry;
mod ipcw;
mod logrank_km;
mod nelson_aalen;
mod penalized;
mod predict;
mod reference;
mod residuals;
mod rmst;
mod strata;
mod zph;

use adamss_survival::{surv_from, Surv};
use ndarray::Array2;
use serde_json::Value;
use std::path::PathBuf;

/// `tests/data/survival` at the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/survival")
}

/// A stratified case of `strata_expected.json` (or `zph_expected.json`'s `stratified`): its
/// dataset's covariate columns named by `covariates`, the outcomes, each subject's stratum.
pub fn strata_case(case: &Value) -> (Array2<f64>, Vec<Surv>, Vec<i64>) {
    let (x, y) = covariates_case(case);
    let strata = case["strata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_i64().unwrap())
        .collect();
    (x, y, strata)
}

/// A case's dataset (`case["dataset"]`) with only the columns `case["covariates"]` names,
/// in that order, and its outcomes.
pub fn covariates_case(case: &Value) -> (Array2<f64>, Vec<Surv>) {
    let (x, y, names) = load(case["dataset"].as_str().unwrap());
    let cols: Vec<usize> = case["covariates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| names.iter().position(|n| n == c.as_str().unwrap()).unwrap())
        .collect();
    (x.select(ndarray::Axis(1), &cols), y)
}

/// A dataset written by `tools/survival_reference.py`: (covariates, targets, names).
pub fn load(name: &str) -> (Array2<f64>, Vec<Surv>, Vec<String>) {
    let mut r = csv::Reader::from_path(data_dir().join(format!("{name}.csv"))).unwrap();
    let names: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .skip(2)
        .map(String::from)
        .collect();
    let (mut time, mut event, mut x) = (vec![], vec![], vec![]);
    for row in r.records() {
        let row = row.unwrap();
        let v: Vec<f64> = row.iter().map(|c| c.parse().unwrap()).collect();
        time.push(v[0]);
        event.push(v[1] == 1.0);
        x.extend_from_slice(&v[2..]);
    }
    let n = time.len();
    let x = Array2::from_shape_vec((n, names.len()), x).unwrap();
    (x, surv_from(&time, &event).unwrap().to_vec(), names)
}

/// `expected.json`.
pub fn expected() -> Value {
    let text = std::fs::read_to_string(data_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Numbers of a JSON array (`null` → NaN).
pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Asserts `|a − b| ≤ tol · max(|b|, floor)` element-wise.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= tol * w.abs().max(floor) || (g.is_infinite() && g == w);
        assert!(ok, "{what}[{k}]: {g} vs {w} (rel tol {tol})");
    }
}
