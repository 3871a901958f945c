//! Nelson–Aalen with variance and bounds against lifelines 0.30.3's `NelsonAalenFitter`
//! (`tools/nelson_aalen_reference.py` → `nelson_aalen_expected.json`): five datasets (tied
//! times in rossi and whas500), both tie rules. Timeline equal; hazard, variance and bounds
//! 1e-10 relative. The discrete rule's hazard equals [`nelson_aalen`]'s step function.

use adamss_survival::{nelson_aalen, NelsonAalen, NelsonAalenTies};
use serde_json::Value;

use crate::{data_dir, f64s, load};

#[test]
fn nelson_aalen_matches_lifelines() {
    let text = std::fs::read_to_string(data_dir().join("nelson_aalen_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let mut compared = 0;
    for (name, case) in exp["datasets"].as_object().unwrap() {
        let (_, y, _) = load(name);
        for (key, ties) in [
            ("smooth", NelsonAalenTies::Smooth),
            ("discrete", NelsonAalenTies::Discrete),
        ] {
            let na = NelsonAalen::fit(&y, ties, 0.95).unwrap();
            let want = &case[key];
            assert_eq!(na.timeline, f64s(&want["timeline"]), "{name} {key}");
            for (got, k) in [
                (&na.cumulative_hazard, "hazard"),
                (&na.variance, "variance"),
                (&na.lower, "lower"),
                (&na.upper, "upper"),
            ] {
                for (j, (a, b)) in got.iter().zip(f64s(&want[k])).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-10 * b.abs().max(1e-12),
                        "{name} {key} {k} at {j}: {a} vs {b}"
                    );
                    compared += 1;
                }
            }
            if ties == NelsonAalenTies::Discrete {
                let step = nelson_aalen(&y).unwrap();
                for (&t, &h) in step.times.iter().zip(&step.values) {
                    assert!(
                        (na.predict(t) - h).abs() <= 1e-12 * h.max(1.0),
                        "{name} at {t}"
                    );
                }
            }
        }
    }
    assert_eq!(compared, 4 * 2 * (50 + 396 + 575 + 102 + 186));
}
