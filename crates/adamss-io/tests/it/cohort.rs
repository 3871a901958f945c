//! HECKTOR 2022 layout and manifest CSV loaders on small hand-made trees with the real file
//! names and CSV quirks (both endpoint file names, `_` for `-`, the quoted clinical header,
//! empty cells, patients missing from one source or another).

use std::path::Path;

use adamss_io::{ClinicalValue, Cohort, Dataset, Error, Geometry, Volume};
use ndarray::Array3;

const CLINICAL_HEADER: &str = "PatientID,Task 1,Task 2,CenterID,Gender,Age,Weight,Tobacco,Alcohol,Performance status,\"HPV status (0=-, 1=+)\",Surgery,Chemotherapy";

fn ct_geometry() -> Geometry {
    Geometry::new(
        [2.0, 2.0, 3.0],
        [10.0, 20.0, -30.0],
        [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]],
    )
    .unwrap()
}

fn write_case(root: &Path, file_id: &str, with_pet: bool, label: Option<u8>) {
    let images = root.join("imagesTr");
    let labels = root.join("labelsTr");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&labels).unwrap();
    let ct = Array3::from_shape_fn((6, 5, 4), |(i, j, k)| (i * 100 + j * 10 + k) as i16 - 200);
    Volume::new(ct, ct_geometry())
        .unwrap()
        .write(images.join(format!("{file_id}__CT.nii.gz")))
        .unwrap();
    if with_pet {
        let pet = Array3::from_shape_fn((3, 3, 3), |(i, _, _)| i as f32 * 1.5);
        let g = Geometry::axis_aligned([4.0; 3], [0.0, 0.0, -32.0]).unwrap();
        Volume::new(pet, g)
            .unwrap()
            .write(images.join(format!("{file_id}__PT.nii.gz")))
            .unwrap();
    }
    if let Some(l) = label {
        let mut m = Array3::<u8>::zeros((6, 5, 4));
        m[[2, 2, 2]] = 1;
        m[[3, 2, 2]] = l;
        Volume::new(m, ct_geometry())
            .unwrap()
            .write(labels.join(format!("{file_id}.nii.gz")))
            .unwrap();
    }
}

/// The tree of the main test; returns its root.
fn hecktor_tree(dir: &Path) {
    write_case(dir, "CHUM-001", true, Some(2));
    write_case(dir, "CHUM-002", true, None);
    write_case(dir, "CHUS_003", true, Some(1));
    write_case(dir, "HGJ-004", false, Some(1));
    write_case(dir, "MDA-005", true, Some(1));
    std::fs::write(
        dir.join("hecktor2022_patient_endpoint_training.csv"),
        "PatientID,Relapse,RFS\nCHUM-001,1,500\nCHUM-002,0,1200.5\nCHUS-003,1,300\nHGJ-004,0,100\nXYZ-999,1,50\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("hecktor2022_clinical_info_training.csv"),
        format!(
            "{CLINICAL_HEADER}\nCHUM-001,1,1,0,M,61,80.5,1,0,1,1,0,1\nCHUM-002,1,1,0,F,,,,,,,,\n"
        ),
    )
    .unwrap();
}

#[test]
fn hecktor_join_and_report() {
    let dir = tempfile::tempdir().unwrap();
    hecktor_tree(dir.path());
    let (cohort, report) = Cohort::hecktor(dir.path()).unwrap();
    let ids: Vec<&str> = cohort.records().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["CHUM-001", "CHUM-002", "CHUS-003"]);
    assert_eq!(report.joined, 3);
    assert_eq!(report.no_endpoint, ["MDA-005"]);
    assert_eq!(report.endpoint_without_images, ["XYZ-999"]);
    assert_eq!(report.incomplete_images, [("HGJ-004".to_string(), "PET")]);
    assert_eq!(report.no_label, ["CHUM-002"]);
    assert_eq!(report.no_clinical, ["CHUS-003"]);
    assert!(report
        .endpoint_file
        .ends_with("hecktor2022_patient_endpoint_training.csv"));
    assert_eq!(report.dropped(), 3);
    let text = report.to_string();
    assert!(
        text.contains("XYZ-999") && text.contains("HGJ-004 (no PET)"),
        "{text}"
    );

    // The quoted header with a comma is one column; empty cells are missing, not 0.
    let c0 = &cohort.records()[0].clinical;
    assert_eq!(c0.len(), 12);
    assert_eq!(
        c0.get("HPV status (0=-, 1=+)"),
        Some(&ClinicalValue::Number(1.0))
    );
    assert_eq!(c0.get("Gender"), Some(&ClinicalValue::Text("M".into())));
    assert_eq!(c0.get("Weight").and_then(ClinicalValue::as_f64), Some(80.5));
    let c1 = &cohort.records()[1].clinical;
    assert!(c1.get("Age").is_some_and(ClinicalValue::is_missing));
    assert!(c1
        .get("HPV status (0=-, 1=+)")
        .is_some_and(ClinicalValue::is_missing));
    assert!(cohort.records()[2]
        .clinical
        .iter()
        .all(|(_, v)| v.is_missing()));

    let case = cohort.get(0).unwrap();
    assert_eq!(case.id, "CHUM-001");
    let s = case.survival.unwrap();
    assert_eq!((s.time(), s.event()), (500.0, true));
    assert_eq!(case.ct.shape(), [6, 5, 4]);
    assert_eq!(case.ct.data()[[1, 2, 3]], -200.0 + 123.0);
    assert_eq!(case.pet.shape(), [3, 3, 3]);
    let mask = case.mask.unwrap();
    assert_eq!(mask.data()[[3, 2, 2]], 2);
    assert_eq!(mask.geometry(), case.ct.geometry());
    let s = cohort.get(1).unwrap().survival.unwrap();
    assert_eq!((s.time(), s.event()), (1200.5, false));
    assert!(cohort.get(1).unwrap().mask.is_none());
    assert!(matches!(
        cohort.get(3),
        Err(Error::IndexOutOfRange { index: 3, len: 3 })
    ));
}

#[test]
fn hecktor_images_keeps_patients_without_an_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    hecktor_tree(dir.path());
    // For prediction every complete image pair is a patient: MDA-005 (no endpoint row) too.
    let (cohort, report) = Cohort::hecktor_images(dir.path()).unwrap();
    let ids: Vec<&str> = cohort.records().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["CHUM-001", "CHUM-002", "CHUS-003", "MDA-005"]);
    assert!(cohort.records()[3].survival.is_none());
    assert!(cohort.records()[0].survival.is_some());
    assert!(report.no_endpoint.is_empty());
    assert_eq!(report.kept_without_endpoint, ["MDA-005"]);
    assert_eq!(report.incomplete_images, [("HGJ-004".to_string(), "PET")]);
    assert!(report
        .to_string()
        .contains("kept without endpoint (1): MDA-005"));
    // Without any endpoint table: the training join refuses, the prediction join keeps all.
    std::fs::remove_file(dir.path().join("hecktor2022_patient_endpoint_training.csv")).unwrap();
    assert!(Cohort::hecktor(dir.path()).is_err());
    let (cohort, report) = Cohort::hecktor_images(dir.path()).unwrap();
    assert_eq!(cohort.len(), 4);
    assert!(cohort.records().iter().all(|r| r.survival.is_none()));
    assert_eq!(report.kept_without_endpoint.len(), 4);
    assert_eq!(report.endpoint_file, std::path::PathBuf::new());
}

#[test]
fn hecktor_layout_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Cohort::hecktor(dir.path()),
        Err(Error::Layout { .. })
    ));
    write_case(dir.path(), "CHUM-001", true, Some(1));
    let err = Cohort::hecktor(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("hecktor2022_endpoint_training.csv"),
        "{err}"
    );

    let endpoint = dir.path().join("hecktor2022_endpoint_training.csv");
    std::fs::write(&endpoint, "PatientID,Relapse,RFS\nCHUM-001,maybe,500\n").unwrap();
    let err = Cohort::hecktor(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Csv { line: Some(2), .. }), "{err}");
    assert!(err
        .to_string()
        .contains("hecktor2022_endpoint_training.csv"));
    std::fs::write(&endpoint, "PatientID,Relapse,RFS\nCHUM-001,1,-3\n").unwrap();
    assert!(matches!(
        Cohort::hecktor(dir.path()),
        Err(Error::Csv { line: Some(2), .. })
    ));
    std::fs::write(&endpoint, "PatientID,Relapse,RFS\nCHUM-001,1\n").unwrap();
    assert!(matches!(
        Cohort::hecktor(dir.path()),
        Err(Error::Csv { .. })
    ));
    std::fs::write(&endpoint, "PatientID,Event,RFS\nCHUM-001,1,3\n").unwrap();
    let err = Cohort::hecktor(dir.path()).unwrap_err();
    assert!(err.to_string().contains("Relapse"), "{err}");
    std::fs::write(
        &endpoint,
        "PatientID,Relapse,RFS\nCHUM-001,1,3\nCHUM_001,0,4\n",
    )
    .unwrap();
    assert!(err_contains(
        Cohort::hecktor(dir.path()).map(|_| ()),
        "twice"
    ));
    // Empty endpoint cells: the patient has no endpoint and is dropped, not an error.
    std::fs::write(&endpoint, "PatientID,Relapse,RFS\nCHUM-001,,\n").unwrap();
    let (c, report) = Cohort::hecktor(dir.path()).unwrap();
    assert_eq!((c.len(), report.no_endpoint.len()), (0, 1));
}

fn err_contains(r: adamss_io::Result<()>, needle: &str) -> bool {
    r.is_err_and(|e| e.to_string().contains(needle))
}

#[test]
fn bad_masks_and_voxels_are_reported_on_load() {
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path(), "CHUM-001", true, Some(3));
    std::fs::write(
        dir.path().join("hecktor2022_endpoint_training.csv"),
        "PatientID,Relapse,RFS\nCHUM-001,1,5\n",
    )
    .unwrap();
    let (cohort, _) = Cohort::hecktor(dir.path()).unwrap();
    let err = cohort.get(0).unwrap_err();
    assert!(matches!(err, Error::BadLabel { value: 3, .. }), "{err}");
    assert!(err.to_string().contains("labelsTr/CHUM-001.nii.gz"));

    // A mask on another grid.
    let m = Array3::<u8>::zeros((6, 5, 4));
    let mut g = ct_geometry();
    g.origin[2] += 1.5;
    Volume::new(m, g)
        .unwrap()
        .write(dir.path().join("labelsTr/CHUM-001.nii.gz"))
        .unwrap();
    let err = cohort.get(0).unwrap_err();
    assert!(matches!(err, Error::GridMismatch { .. }), "{err}");
    assert!(err.to_string().contains("CHUM-001__CT.nii.gz"), "{err}");

    // NaN in a PET volume.
    let mut pet = Array3::<f32>::zeros((3, 3, 3));
    pet[[0, 1, 2]] = f32::NAN;
    let g = Geometry::axis_aligned([4.0; 3], [0.0; 3]).unwrap();
    Volume::new(pet, g)
        .unwrap()
        .write(dir.path().join("imagesTr/CHUM-001__PT.nii.gz"))
        .unwrap();
    assert!(matches!(
        cohort.get(0),
        Err(Error::NonFinite { count: 1, .. })
    ));
}

#[test]
fn manifest_cohort() {
    let dir = tempfile::tempdir().unwrap();
    hecktor_tree(dir.path());
    let manifest = dir.path().join("cohort.csv");
    std::fs::write(
        &manifest,
        "patient_id,ct,pet,mask,time,event,age,site\n\
         p1,imagesTr/CHUM-001__CT.nii.gz,imagesTr/CHUM-001__PT.nii.gz,labelsTr/CHUM-001.nii.gz,100,1,55,oropharynx\n\
         p2,imagesTr/CHUM-002__CT.nii.gz,imagesTr/CHUM-002__PT.nii.gz,,,,,\n",
    )
    .unwrap();
    let cohort = Cohort::manifest(&manifest).unwrap();
    assert_eq!(cohort.len(), 2);
    let r = &cohort.records()[0];
    assert_eq!(r.clinical.names(), ["age", "site"]);
    assert_eq!(
        r.clinical.get("site"),
        Some(&ClinicalValue::Text("oropharynx".into()))
    );
    assert_eq!(
        r.survival.map(|s| (s.time(), s.event())),
        Some((100.0, true))
    );
    let r2 = &cohort.records()[1];
    assert!(r2.survival.is_none() && r2.mask.is_none());
    assert!(r2
        .clinical
        .get("age")
        .is_some_and(ClinicalValue::is_missing));
    let case = cohort.get(0).unwrap();
    assert_eq!(case.mask.unwrap().data()[[3, 2, 2]], 2);

    let bad = |body: &str| {
        std::fs::write(&manifest, body).unwrap();
        Cohort::manifest(&manifest).unwrap_err()
    };
    let e = bad("patient_id,ct,pet,time,event\np1,a.nii,b.nii,ten,1\n");
    assert!(matches!(e, Error::Csv { line: Some(2), .. }), "{e}");
    let e = bad("patient_id,ct,pet,time,event\np1,a.nii,b.nii,10,\n");
    assert!(e.to_string().contains("both"), "{e}");
    let e = bad("patient_id,ct,time\np1,a.nii,1\n");
    assert!(e.to_string().contains("\"pet\""), "{e}");
    let e = bad("patient_id,ct,pet,time\np1,a.nii,b.nii,1\n");
    assert!(e.to_string().contains("come together"), "{e}");
    let e = bad("patient_id,ct,pet\np1,a.nii,b.nii\np2,a.nii,b.nii\np1,c.nii,d.nii\n");
    assert!(matches!(e, Error::Csv { line: Some(4), .. }), "{e}");
    assert!(e.to_string().contains("twice (first on line 2)"), "{e}");
    // An id names the patient's files: no way out of the output folder, no broken line in
    // patients.txt. Commas and spaces are kept (the CSV files quote them).
    for (id, says) in [
        ("../p1", "path separator"),
        ("a\\b", "path separator"),
        ("..", "not a file name"),
        ("\"p\np1\"", "control character"),
    ] {
        let e = bad(&format!(
            "patient_id,ct,pet\nok,a.nii,b.nii\n{id},a.nii,b.nii\n"
        ));
        assert!(matches!(e, Error::Csv { line: Some(3), .. }), "{id}: {e}");
        assert!(e.to_string().contains(says), "{id}: {e}");
    }
    std::fs::write(&manifest, "patient_id,ct,pet\n\"Doe, J. 7\",a.nii,b.nii\n").unwrap();
    let cohort = Cohort::manifest(&manifest).unwrap();
    assert_eq!(cohort.records()[0].id, "Doe, J. 7");
    // Missing files surface when the case is loaded, naming the file.
    std::fs::write(&manifest, "patient_id,ct,pet\np1,nope.nii.gz,b.nii\n").unwrap();
    let e = Cohort::manifest(&manifest).unwrap().get(0).unwrap_err();
    assert!(e.to_string().contains("nope.nii.gz"), "{e}");
}
