//! Segmentation metrics against SimpleITK 2.5.7 and MONAI 1.6.1
//! (`tools/segmentation_metrics_reference.py` → `tests/data/preprocess/segmetrics/`): five
//! prediction/reference pairs (anisotropic, flipped, oblique grids; a hollow shell predicted
//! as a solid, where SimpleITK's all-voxel Hausdorff distance and MONAI's surface one differ;
//! structures on the grid's border; one slice; a label in the reference only; a label in
//! neither), labels 1, 2 and 3.
//!
//! Margins of each reference's label 1 (expand, ring, shrink at two distances each) equal
//! SimpleITK's thresholded Maurer maps voxel for voxel.
//!
//! Tolerances: SimpleITK's overlap measures and Hausdorff distances are float64, 1e-9
//! relative; MONAI computes in float32, 2e-6 relative; the distance map (float32 on disk)
//! 1e-5 relative.

use std::path::PathBuf;

use adamss_io::{Geometry, Volume};
use adamss_preprocess::ndarray::Array3;
use adamss_preprocess::{
    distance_map, expand_mask, hausdorff_distance, label_overlap, peritumoral_ring, shrink_mask,
    surface_distances, Error,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/preprocess/segmetrics")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

/// A JSON value written by the generator: a number, or "inf" / "nan".
fn number(v: &Value) -> f64 {
    match v.as_str() {
        Some("inf") => f64::INFINITY,
        Some("nan") => f64::NAN,
        _ => v.as_f64().unwrap(),
    }
}

/// Ours (`None` when neither map has the structure) against MONAI's float32 value (NaN there).
fn assert_monai(ours: Option<f64>, monai: &Value, what: &str) {
    let want = number(monai);
    match ours {
        None => assert!(want.is_nan(), "{what}: ours None, MONAI {want}"),
        Some(v) if v.is_infinite() => assert!(want.is_infinite(), "{what}: ours ∞, MONAI {want}"),
        Some(v) => assert!(close(v, want, 2e-6), "{what}: ours {v}, MONAI {want}"),
    }
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("segmetrics_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pair(name: &str) -> (Volume<u8>, Volume<u8>) {
    let read =
        |what: &str| Volume::<u8>::read(dir().join(format!("{name}.{what}.nii.gz"))).unwrap();
    (read("prediction"), read("reference"))
}

#[test]
fn overlap_measures_match_simpleitk() {
    let exp = expected();
    let mut compared = 0;
    for (name, case) in exp["cases"].as_object().unwrap() {
        let (pred, reference) = pair(name);
        for (label, want) in case["labels"].as_object().unwrap() {
            let o = label_overlap(&pred, &reference, label.parse().unwrap()).unwrap();
            let what = format!("{name} label {label}");
            assert_eq!(
                o.prediction,
                want["prediction_voxels"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(
                o.reference,
                want["reference_voxels"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(
                o.intersection,
                want["intersection"].as_u64().unwrap(),
                "{what}"
            );
            for (key, ours) in [
                ("dice", o.dice()),
                ("jaccard", o.jaccard()),
                ("volume_similarity", o.volume_similarity()),
                ("false_negative_error", o.false_negative_error()),
                ("false_positive_error", o.false_positive_error()),
                ("false_discovery_rate", o.false_discovery_rate()),
            ] {
                match (&want.get(key), ours) {
                    (Some(w), Some(v)) => {
                        assert!(
                            close(v, w.as_f64().unwrap(), 1e-9),
                            "{what} {key}: {v} vs {w}"
                        );
                        compared += 1;
                    }
                    (None, None) => {}
                    // No prediction, no false positive: SimpleITK returns DBL_MAX there.
                    (None, Some(v)) if key == "false_positive_error" && o.prediction == 0 => {
                        assert_eq!(v, 0.0, "{what}")
                    }
                    (w, v) => panic!("{what} {key}: SimpleITK {w:?}, ours {v:?}"),
                }
            }
        }
    }
    assert_eq!(compared, 58);
}

#[test]
fn all_voxel_hausdorff_matches_simpleitk() {
    let exp = expected();
    let mut compared = 0;
    for (name, case) in exp["cases"].as_object().unwrap() {
        let (pred, reference) = pair(name);
        for (label, want) in case["labels"].as_object().unwrap() {
            let got = hausdorff_distance(&pred, &reference, label.parse().unwrap());
            match (want.get("sitk_hausdorff"), got) {
                (Some(h), Ok(got)) => {
                    let avg = want["sitk_average_hausdorff"].as_f64().unwrap();
                    assert!(
                        close(got.hausdorff, h.as_f64().unwrap(), 1e-9),
                        "{name} {label}"
                    );
                    assert!(close(got.average, avg, 1e-9), "{name} {label}");
                    compared += 1;
                }
                // SimpleITK raises where a structure is empty; so do we.
                (None, Err(Error::EmptyLabel(msg))) => assert!(msg.contains("label"), "{msg}"),
                (w, g) => panic!("{name} {label}: SimpleITK {w:?}, ours {g:?}"),
            }
        }
    }
    assert_eq!(compared, 9);
}

#[test]
fn surface_metrics_match_monai() {
    let exp = expected();
    let tolerances: Vec<f64> = exp["tolerances_mm"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    let mut compared = 0;
    for (name, case) in exp["cases"].as_object().unwrap() {
        let (pred, reference) = pair(name);
        for (label, want) in case["labels"].as_object().unwrap() {
            let sd = surface_distances(&pred, &reference, label.parse().unwrap()).unwrap();
            let m = &want["monai"];
            let what = |k: &str| format!("{name} label {label} {k}");
            assert_monai(sd.hausdorff(None).unwrap(), &m["hausdorff"], &what("hd"));
            assert_monai(
                sd.directed_hausdorff(None).unwrap(),
                &m["hausdorff_directed"],
                &what("directed hd"),
            );
            assert_monai(
                sd.average_surface_distance(),
                &m["asd_symmetric"],
                &what("asd"),
            );
            assert_monai(
                sd.directed_average_surface_distance(),
                &m["asd"],
                &what("directed asd"),
            );
            for (t, w) in tolerances.iter().zip(m["surface_dice"].as_array().unwrap()) {
                assert_monai(sd.surface_dice(*t).unwrap(), w, &what("nsd"));
            }
            // HD95: MONAI's quantile of infinities is NaN where exactly one map has the
            // structure; ours is +∞ there, like its plain Hausdorff distance.
            let one_missing = (want["prediction_voxels"].as_u64() == Some(0))
                != (want["reference_voxels"].as_u64() == Some(0));
            for (key, ours) in [
                ("hausdorff95", sd.hausdorff(Some(95.0)).unwrap()),
                (
                    "hausdorff95_directed",
                    sd.directed_hausdorff(Some(95.0)).unwrap(),
                ),
            ] {
                if one_missing {
                    assert!(number(&m[key]).is_nan(), "{}", what(key));
                    assert_eq!(ours, Some(f64::INFINITY), "{}", what(key));
                } else {
                    assert_monai(ours, &m[key], &what(key));
                }
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 15);
}

#[test]
fn shell_case_tells_the_two_hausdorff_definitions_apart() {
    // The solid prediction of a hollow shell: its centre is far from the shell (SimpleITK
    // counts it), its surface is not (MONAI's surface distances).
    let (pred, reference) = pair("shell");
    let all = hausdorff_distance(&pred, &reference, 1).unwrap().hausdorff;
    let surf = surface_distances(&pred, &reference, 1)
        .unwrap()
        .hausdorff(None)
        .unwrap()
        .unwrap();
    assert!(all > 2.0 * surf, "{all} vs {surf}");
}

#[test]
fn distance_map_matches_simpleitk_maurer() {
    let exp = expected();
    for name in exp["cases"].as_object().unwrap().keys() {
        let (_, reference) = pair(name);
        let ours = distance_map(&reference, 1).unwrap();
        let sitk = Volume::<f32>::read(dir().join(format!("{name}.distance.nii.gz"))).unwrap();
        assert_eq!(ours.geometry(), reference.geometry());
        for (a, b) in ours.data().iter().zip(sitk.data()) {
            assert!(close(*a, f64::from(*b), 1e-5), "{name}: {a} vs {b}");
        }
    }
}

#[test]
fn margins_match_simpleitk_voxel_for_voxel() {
    let exp = expected();
    let margins =
        |key: &str| -> Vec<f64> { exp[key].as_array().unwrap().iter().map(number).collect() };
    let mut compared = 0;
    for (name, case) in exp["cases"].as_object().unwrap() {
        let (_, reference) = pair(name);
        let mut check = |kind: &str, m: f64, ours: Volume<u8>| {
            let file = dir().join(format!("{name}.{kind}-{m}.nii.gz"));
            let sitk = Volume::<u8>::read(&file).unwrap();
            assert_eq!(ours.data(), sitk.data(), "{name} {kind} {m}");
            assert_eq!(ours.geometry(), reference.geometry());
            let count = ours.data().iter().filter(|&&v| v == 1).count() as u64;
            assert_eq!(Some(count), case["margins"][format!("{kind}-{m}")].as_u64());
            compared += 1;
        };
        for m in margins("expand_mm") {
            check("expand", m, expand_mask(&reference, 1, m).unwrap());
            check("ring", m, peritumoral_ring(&reference, 1, m).unwrap());
        }
        for m in margins("shrink_mm") {
            check("shrink", m, shrink_mask(&reference, 1, m).unwrap());
        }
    }
    assert_eq!(compared, 5 * 6);
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let g = Geometry::axis_aligned([1.0, 1.0, 1.0], [0.0; 3]).unwrap();
    let mut a = Array3::<u8>::zeros((4, 4, 4));
    a[[1, 1, 1]] = 1;
    let a = Volume::new(a, g).unwrap();
    let smaller = Volume::new(Array3::<u8>::zeros((4, 4, 3)), g).unwrap();
    let moved = Volume::new(
        a.data().clone(),
        Geometry::axis_aligned([1.0, 1.0, 1.0], [0.5, 0.0, 0.0]).unwrap(),
    )
    .unwrap();
    for other in [&smaller, &moved] {
        let e = label_overlap(&a, other, 1).unwrap_err();
        assert!(matches!(e, Error::GridMismatch(_)), "{e}");
        assert!(surface_distances(&a, other, 1).is_err());
        assert!(hausdorff_distance(&a, other, 1).is_err());
    }
    let empty = Volume::new(Array3::<u8>::zeros((4, 4, 4)), g).unwrap();
    let e = hausdorff_distance(&a, &empty, 1).unwrap_err();
    assert!(
        e.to_string()
            .contains("reference has no voxel with label 1"),
        "{e}"
    );
    assert!(matches!(distance_map(&empty, 1), Err(Error::EmptyLabel(_))));
    let sd = surface_distances(&a, &a, 1).unwrap();
    assert_eq!(sd.hausdorff(Some(95.0)).unwrap(), Some(0.0));
    for p in [-1.0, 100.5, f64::NAN] {
        assert!(
            matches!(sd.hausdorff(Some(p)), Err(Error::Config(_))),
            "{p}"
        );
    }
    assert!(sd.surface_dice(-0.1).is_err());
    assert!(sd.surface_dice(f64::INFINITY).is_err());
    for bad in [-0.5, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(expand_mask(&a, 1, bad), Err(Error::Config(_))),
            "{bad}"
        );
        assert!(
            matches!(shrink_mask(&a, 1, bad), Err(Error::Config(_))),
            "{bad}"
        );
        assert!(
            matches!(peritumoral_ring(&a, 1, bad), Err(Error::Config(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        expand_mask(&empty, 1, 1.0),
        Err(Error::EmptyLabel(_))
    ));
    // A structure filling the grid has no outside to shrink from; margin 0 keeps a structure.
    let full = Volume::new(Array3::<u8>::ones((3, 3, 3)), g).unwrap();
    assert_eq!(shrink_mask(&full, 1, 5.0).unwrap().data(), full.data());
    assert_eq!(expand_mask(&a, 1, 0.0).unwrap().data(), a.data());
    assert!(peritumoral_ring(&a, 1, 0.0)
        .unwrap()
        .data()
        .iter()
        .all(|&v| v == 0));
}
