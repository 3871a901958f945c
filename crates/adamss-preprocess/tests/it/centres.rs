use adamss_preprocess::{read_crop_centres, Coordinates, CoverageSummary, LabelCoverage};

#[test]
fn centres_and_boxes_in_both_conventions() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("centres.csv");
    std::fs::write(
        &a,
        "PatientID, x, y, z, note\nCHUM-001, 1.5, -2, 30, a\nCHUP-002,0,0,0,\n",
    )
    .unwrap();
    let c = read_crop_centres(&a, Coordinates::Ras).unwrap();
    assert_eq!(c["CHUM-001"], [1.5, -2.0, 30.0]);
    assert_eq!(c.len(), 2);
    let b = dir.path().join("bbox.csv");
    std::fs::write(
        &b,
        "PatientID,x1,y1,z1,x2,y2,z2\nHGJ-007,-10,20,-300,10,60,-200\n",
    )
    .unwrap();
    let c = read_crop_centres(&b, Coordinates::Lps).unwrap();
    assert_eq!(c["HGJ-007"], [0.0, -40.0, -250.0]);
}

#[test]
fn bad_centre_files_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("nocol.csv", "ID,x,y,z\nA,1,2,3\n", "PatientID"),
        ("nocoords.csv", "PatientID,x,y\nA,1,2\n", "x,y,z"),
        ("nan.csv", "PatientID,x,y,z\nA,1,2,3\nB,1,nan,3\n", ":3:"),
        ("dup.csv", "PatientID,x,y,z\nA,1,2,3\nA,1,2,3\n", "twice"),
    ];
    for (name, text, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let e = read_crop_centres(&p, Coordinates::Ras)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want) && e.contains(name), "{name}: {e}");
    }
    assert!(read_crop_centres(dir.path().join("absent.csv"), Coordinates::Ras).is_err());
}

#[test]
fn coverage_summary_counts() {
    let s = CoverageSummary::from_cases([
        (
            "A",
            Some(LabelCoverage {
                voxels: 10,
                inside: 10,
            }),
        ),
        (
            "B",
            Some(LabelCoverage {
                voxels: 10,
                inside: 4,
            }),
        ),
        ("C", None),
    ]);
    assert_eq!((s.labelled, s.wholly_inside), (2, 1));
    assert_eq!(s.cut, vec![("B".to_string(), 0.4)]);
    assert!(s.to_string().contains("1 of 2"));
}
