//! A Cox model's predicted percentiles (`BreslowBaseline::percentile`, `median`) against
//! lifelines 0.30.3's `predict_percentile` / `predict_median` (`tools/cox_predict_reference.py`
//! → `cox_predict_expected.json`): four datasets, 30 subjects, p = 0.25, 0.5, 0.75. The times
//! are observed times, so they must be equal; infinity where the curve stays above p.

use adamss_survival::{BreslowBaseline, CoxPh};
use ndarray::s;
use serde_json::Value;

use crate::{data_dir, load};

#[test]
fn predicted_percentiles_match_lifelines() {
    let text = std::fs::read_to_string(data_dir().join("cox_predict_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let rows = exp["rows"].as_u64().unwrap() as usize;
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (x, y, _) = load(name);
        let fit = CoxPh::params().tol(1e-12).fit_arrays(x.view(), &y).unwrap();
        let eta = fit.risk(x.view()).unwrap();
        let baseline = BreslowBaseline::fit(&y, eta.as_slice().unwrap()).unwrap();
        let new = fit.risk(x.slice(s![..rows, ..])).unwrap();
        for (p, want) in case.as_object().unwrap() {
            let p: f64 = p.parse().unwrap();
            for (i, w) in want.as_array().unwrap().iter().enumerate() {
                let want = match w.as_str() {
                    Some("inf") => f64::INFINITY,
                    _ => w.as_f64().unwrap(),
                };
                assert_eq!(baseline.percentile(new[i], p), want, "{name} row {i} p {p}");
                if p == 0.5 {
                    assert_eq!(baseline.median(new[i]), want);
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 4 * 3 * rows);
}
