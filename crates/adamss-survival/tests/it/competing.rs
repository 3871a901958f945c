//! Cumulative incidence under competing risks against lifelines 0.30.3's
//! `AalenJohansenFitter` (`tools/competing_risks_reference.py` → `competing_expected.json`):
//! two synthetic cohorts of 300 (continuous times; whole months with ties within a cause),
//! causes 1 and 2. Timeline and numbers at risk equal; incidence 1e-12; variance and bounds
//! 1e-9 relative where lifelines' are finite. lifelines labels its bound columns the wrong way
//! round (`_upper_` holds the lower bound): compared as a pair.

use adamss_survival::{CumulativeIncidence, Error};
use serde_json::Value;

use crate::data_dir;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| match x.as_str() {
            Some("nan") => f64::NAN,
            Some("inf") => f64::INFINITY,
            _ => x.as_f64().unwrap(),
        })
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

#[test]
fn cumulative_incidence_matches_lifelines() {
    let text = std::fs::read_to_string(data_dir().join("competing_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let mut data = csv::Reader::from_path(data_dir().join("competing.csv")).unwrap();
    let rows: Vec<(String, f64, u32)> = data
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    let mut compared = 0;
    for (name, causes) in exp["cohorts"].as_object().unwrap() {
        let (t, c): (Vec<f64>, Vec<u32>) = rows
            .iter()
            .filter(|r| &r.0 == name)
            .map(|r| (r.1, r.2))
            .unzip();
        let mut total_at_end = 0.0;
        for (cause, want) in causes.as_object().unwrap() {
            let cif = CumulativeIncidence::fit(&t, &c, cause.parse().unwrap(), 0.95).unwrap();
            let what = format!("{name} cause {cause}");
            assert_eq!(cif.timeline, numbers(&want["timeline"]), "{what}");
            assert_eq!(cif.at_risk, numbers(&want["at_risk"]), "{what}");
            let (inc, var) = (numbers(&want["incidence"]), numbers(&want["variance"]));
            let (ba, bb) = (numbers(&want["bound_a"]), numbers(&want["bound_b"]));
            for j in 0..cif.timeline.len() {
                assert!(
                    close(cif.incidence[j], inc[j], 1e-12)
                        || inc[j] == 0.0 && cif.incidence[j] == 0.0,
                    "{what} F at {j}"
                );
                if var[j].is_finite() {
                    assert!(
                        close(cif.variance[j], var[j], 1e-9),
                        "{what} var at {j}: {} vs {}",
                        cif.variance[j],
                        var[j]
                    );
                    compared += 1;
                }
                if ba[j].is_finite() && bb[j].is_finite() {
                    let (lo, hi) = (ba[j].min(bb[j]), ba[j].max(bb[j]));
                    assert!(
                        close(cif.lower[j], lo, 1e-9) && close(cif.upper[j], hi, 1e-9),
                        "{what} bounds at {j}"
                    );
                    compared += 1;
                }
            }
            total_at_end += cif.incidence.last().unwrap();
        }
        // Everyone here has an event by the last time or is censored before it: the causes'
        // incidences add up to one minus the overall Kaplan–Meier curve at the end.
        assert!(total_at_end <= 1.0 + 1e-12, "{name}");
    }
    assert_eq!(compared, 1542, "{compared}");
}

#[test]
fn bad_input_is_refused() {
    assert!(matches!(
        CumulativeIncidence::fit(&[1.0, 2.0], &[1], 1, 0.95),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(CumulativeIncidence::fit(&[1.0, 2.0], &[1, 2], 0, 0.95).is_err());
    assert!(CumulativeIncidence::fit(&[1.0, f64::NAN], &[1, 2], 1, 0.95).is_err());
    assert!(CumulativeIncidence::fit(&[1.0, 2.0], &[1, 2], 1, 1.5).is_err());
    // A cause nobody had: incidence 0 throughout.
    let cif = CumulativeIncidence::fit(&[1.0, 2.0, 3.0], &[1, 0, 2], 3, 0.95).unwrap();
    assert!(cif.incidence.iter().all(|&f| f == 0.0));
}
