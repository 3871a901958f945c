//! Connected components and label statistics against SimpleITK 2.5.7
//! (`tools/components_reference.py` → `tests/data/preprocess/components/`): three masks
//! (axis-aligned, flipped, oblique; several label values, specks, voxels touching by an edge or
//! a corner, equal-sized components) with face and full connectivity. Label images equal voxel
//! for voxel; statistics: counts exact, volumes and centroids 1e-9 relative.

use std::path::PathBuf;

use adamss_io::Volume;
use adamss_preprocess::{
    connected_components, fill_holes, label_shape_statistics, largest_component,
    relabel_components, Connectivity,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/preprocess/components")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn components_match_simpleitk() {
    let text = std::fs::read_to_string(dir().join("components_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let minimum = exp["minimum_object_size"].as_u64().unwrap() as usize;
    let mut compared = 0;
    for (name, case) in exp["cases"].as_object().unwrap() {
        let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
        for (conn, connectivity) in [("face", Connectivity::Face), ("full", Connectivity::Full)] {
            let want = &case[conn];
            let file = |what: &str| dir().join(format!("{name}.{conn}.{what}.nii.gz"));
            let cc = connected_components(&mask, connectivity).unwrap();
            let sitk_cc = Volume::<u32>::read(file("cc")).unwrap();
            assert_eq!(cc.data(), sitk_cc.data(), "{name} {conn}: components");
            assert_eq!(
                cc.data().iter().max().copied().unwrap() as u64,
                want["components"].as_u64().unwrap()
            );
            let rel = relabel_components(&cc, minimum).unwrap();
            let sitk_rel = Volume::<u32>::read(file("relabel")).unwrap();
            assert_eq!(rel.data(), sitk_rel.data(), "{name} {conn}: relabelled");
            let stats = label_shape_statistics(&rel);
            let labels = want["labels"].as_object().unwrap();
            assert_eq!(stats.len(), labels.len(), "{name} {conn}");
            for s in &stats {
                let w = &labels[&s.label.to_string()];
                let f = |k: &str| -> Vec<f64> {
                    w[k].as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect()
                };
                assert_eq!(s.voxels as u64, w["voxels"].as_u64().unwrap());
                assert!(close(s.physical_size, w["physical_size"].as_f64().unwrap()));
                for d in 0..3 {
                    assert!(
                        close(s.centroid[d], f("centroid_ras")[d]),
                        "{name} {conn} {s:?}"
                    );
                    assert!(
                        close(s.centroid_index[d], f("centroid_index")[d]),
                        "{name} {s:?}"
                    );
                }
                let bb = f("bounding_box");
                assert_eq!(
                    s.bounding_box_start.map(|v| v as f64),
                    [bb[0], bb[1], bb[2]]
                );
                assert_eq!(s.bounding_box_size.map(|v| v as f64), [bb[3], bb[4], bb[5]]);
                compared += 1;
            }
            // The largest component is relabelled 1.
            let largest = largest_component(&mask, connectivity).unwrap();
            let ones = largest.data().iter().filter(|&&v| v == 1).count() as u64;
            assert_eq!(ones, labels["1"]["voxels"].as_u64().unwrap());
        }
    }
    assert!(compared >= 30, "{compared}");
}

#[test]
fn filled_holes_equal_simpleitk() {
    let text = std::fs::read_to_string(dir().join("components_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let mut filled = 0;
    for name in exp["fillhole_cases"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        let mask = Volume::<u8>::read(dir().join(format!("{name}.mask.nii.gz"))).unwrap();
        for (conn, connectivity) in [("face", Connectivity::Face), ("full", Connectivity::Full)] {
            let ours = fill_holes(&mask, 1, connectivity).unwrap();
            let sitk =
                Volume::<u8>::read(dir().join(format!("{name}.{conn}.fillhole.nii.gz"))).unwrap();
            assert_eq!(ours.data(), sitk.data(), "{name} {conn}");
            filled += (ours.data().iter().filter(|&&v| v == 1).count())
                - (mask.data().iter().filter(|&&v| v == 1).count());
        }
    }
    // The made-up mask's cavities: 90 voxels by faces, 63 when corners and edges join too.
    assert_eq!(filled, 90 + 63);
}
