use adamss_io::{Geometry, Volume};
use adamss_radiomics::{
    extract_pet_ct, write_case_json, Error, ExtractionConfig, FeatureTable, Settings,
};
use ndarray::Array3;

fn case(seed: usize, empty: bool) -> (Volume<f32>, Volume<f32>, Volume<u8>) {
    let g = Geometry::axis_aligned([1.0, 1.0, 2.0], [0.0; 3]).unwrap();
    let ct = Array3::from_shape_fn((12, 12, 8), |(i, j, k)| {
        ((i * 7 + j * 3 + k * 5 + seed) % 40) as f32 * 10.0
    });
    let pet = Array3::from_shape_fn((12, 12, 8), |(i, j, k)| {
        ((i + j + k + seed) % 9) as f32 * 0.5
    });
    let mask = Array3::from_shape_fn((12, 12, 8), |(i, j, k)| {
        u8::from(!empty && (3..9).contains(&i) && (2..10).contains(&j) && (2..6).contains(&k))
    });
    (
        Volume::new(pet, g).unwrap(),
        Volume::new(ct, g).unwrap(),
        Volume::new(mask, g).unwrap(),
    )
}

#[test]
fn cohort_table_keeps_going_past_a_failure_and_writes_csv() {
    let config = ExtractionConfig {
        original: Settings {
            bin_width: 20.0,
            ..Settings::default()
        },
        wavelet: Some(Settings {
            bin_width: 10.0,
            ..Settings::default()
        }),
        ..ExtractionConfig::default()
    };
    let ids: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
    let table = FeatureTable::extract_many(
        &ids,
        |id| {
            Ok(match id {
                "A" => case(1, false),
                "B" => case(2, true),
                _ => case(3, false),
            })
        },
        &config,
    );
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.failures.len(), 1);
    assert_eq!(table.failures[0].0, "B");
    assert!(
        table.failures[0].1.contains("label 1 is absent"),
        "{}",
        table.failures[0].1
    );
    // 107 original (14 shape) + 8 × 93 wavelet per image, PET and CT: the AdaMSS preset's 1702.
    assert_eq!(table.names.len(), 2 * (107 + 8 * 93));
    assert_eq!(table.names.len(), 1702);
    assert!(table.names[0].starts_with("PET_original_"));
    assert!(table
        .names
        .iter()
        .any(|n| n == "CT_wavelet-HHH_glcm_Contrast"));
    // Rows equal a direct extraction.
    let (p, c, m) = case(3, false);
    let direct = extract_pet_ct(&p, &c, &m, &config).unwrap();
    let row = &table.rows.iter().find(|(id, _)| id == "C").unwrap().1;
    for ((_, v), w) in direct.iter().zip(row) {
        assert!(v == w || (v.is_nan() && w.is_nan()));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.csv");
    table.write_csv(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("PatientID,PET_original_shape_Elongation"));
    assert_eq!(text.lines().count(), 3);
    let a_row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(a_row[0], "A");
    assert_eq!(a_row.len(), 1 + table.names.len());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    // One case as JSON, readable back with the same values.
    let jpath = dir.path().join("C.json");
    write_case_json(&jpath, "C", &direct).unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&jpath).unwrap()).unwrap();
    assert_eq!(j["PatientID"], "C");
    let (n0, v0) = &direct[0];
    assert_eq!(j[n0].as_f64().unwrap(), *v0);
    // Errors from the loader are recorded too.
    let t = FeatureTable::extract_many(
        &ids[..1],
        |_| Err(Error::Settings("unreadable".into())),
        &config,
    );
    assert_eq!(t.failures.len(), 1);
}
