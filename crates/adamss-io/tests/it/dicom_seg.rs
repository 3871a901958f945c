//! DICOM Segmentation objects against highdicom 0.28.2: `tools/dicom_seg_reference.py` writes
//! BINARY SEGs with highdicom on the CT series of `tools/dicom_reference.py` (and reads each
//! back with highdicom, which must return the masks it was given), recording every segment's
//! voxels on the CT's grid as SimpleITK reads it (`tests/data/dicom/seg/expected.json`). The
//! masks must match voxel for voxel; the refusals name the file and the problem.

use std::path::PathBuf;

use adamss_io::dicom::read_segmentation;
use adamss_io::{read_series, Error, ReadOptions, Volume};
use serde_json::Value;

use crate::{data_dir, nonzero, voxels};

fn dicom_dir() -> PathBuf {
    data_dir().join("dicom")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dicom_dir().join("seg/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ct(series: &str) -> Volume<f64> {
    read_series(dicom_dir().join(series), None, &ReadOptions::default()).unwrap()
}

#[test]
fn segments_match_highdicom_on_the_ct_grid() {
    let exp = expected();
    for (name, case) in exp["cases"].as_object().unwrap() {
        let seg = read_segmentation(
            dicom_dir().join(case["file"].as_str().unwrap()),
            &ReadOptions::default(),
        )
        .unwrap();
        let reference = ct(case["series"].as_str().unwrap());
        let segments = case["segments"].as_array().unwrap();
        assert_eq!(seg.segments.len(), segments.len(), "{name}");
        let frames: usize = seg.segments.iter().map(|s| s.frames).sum();
        assert_eq!(
            frames as u64,
            case["frames"].as_u64().unwrap(),
            "{name} frames"
        );
        for (got, want) in seg.segments.iter().zip(segments) {
            assert_eq!(
                u64::from(got.number),
                want["number"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(got.label, want["label"].as_str().unwrap(), "{name}");
            assert_eq!(got.algorithm_type, want["algorithm_type"].as_str().unwrap());
            let mask = seg.mask_on(got.number, &reference).unwrap();
            assert_eq!(mask.geometry(), reference.geometry(), "{name}");
            let found: Vec<usize> = nonzero(&mask)
                .into_iter()
                .map(|(i, v)| {
                    assert_eq!(v, 1);
                    i
                })
                .collect();
            assert_eq!(found, voxels(want), "{name} segment {}", got.number);
        }
        assert!(seg.frame_of_reference_uid.is_some(), "{name}");
        assert!(seg.referenced_series_uid.is_some(), "{name}");
    }
}

#[test]
fn a_label_map_holds_each_segments_number_and_refuses_overlaps() {
    let exp = expected();
    let case = &exp["cases"]["ct_axial_two"];
    let seg = read_segmentation(
        dicom_dir().join("seg/ct_axial_two.dcm"),
        &ReadOptions::default(),
    )
    .unwrap();
    let reference = ct("ct_axial");
    let labels = seg.labels_on(&reference).unwrap();
    let mut want: Vec<(usize, u8)> = Vec::new();
    for s in case["segments"].as_array().unwrap() {
        let n = s["number"].as_u64().unwrap() as u8;
        want.extend(voxels(s).into_iter().map(|i| (i, n)));
    }
    want.sort_unstable();
    assert_eq!(nonzero(&labels), want);
    let overlap = read_segmentation(
        dicom_dir().join("seg/ct_axial_overlap.dcm"),
        &ReadOptions::default(),
    )
    .unwrap();
    let err = overlap.labels_on(&reference).unwrap_err().to_string();
    assert!(err.contains("segments 1 and 2 overlap"), "{err}");
    assert!(err.contains("ct_axial_overlap.dcm"), "{err}");
    // Each of the overlapping segments is still its own mask.
    assert!(overlap.mask_on(2, &reference).is_ok());
}

#[test]
fn frames_off_the_reference_grid_are_refused_by_frame() {
    let seg = read_segmentation(
        dicom_dir().join("seg/ct_axial_two.dcm"),
        &ReadOptions::default(),
    )
    .unwrap();
    // The axial SEG on the oblique CT: another orientation.
    let err = seg.mask_on(1, &ct("ct_oblique")).unwrap_err().to_string();
    assert!(
        err.contains("frame 1") && err.contains("orientation"),
        "{err}"
    );
    // The right orientation and spacing, shifted by half a voxel.
    let reference = ct("ct_axial");
    let mut geometry = *reference.geometry();
    geometry.origin[0] += geometry.spacing[0] / 2.0;
    let err = seg
        .mask_on_grid(1, &geometry, reference.shape())
        .unwrap_err()
        .to_string();
    assert!(err.contains("between the reference grid's voxels"), "{err}");
    // Too few planes for the frames.
    let [ni, nj, _] = reference.shape();
    let err = seg
        .mask_on_grid(2, reference.geometry(), [ni, nj, 2])
        .unwrap_err()
        .to_string();
    assert!(err.contains("planes"), "{err}");
    let err = seg.mask_on(7, &reference).unwrap_err().to_string();
    assert!(
        err.contains("no segment 7") && err.contains("\"GTVp\""),
        "{err}"
    );
}

#[test]
fn fractional_and_non_seg_files_are_refused_by_name() {
    let options = ReadOptions::default();
    let err = read_segmentation(dicom_dir().join("seg/bad_fractional.dcm"), &options).unwrap_err();
    assert!(matches!(err, Error::Dicom { .. }), "{err}");
    assert!(err.to_string().contains("FRACTIONAL"), "{err}");
    let slice = std::fs::read_dir(dicom_dir().join("ct_axial"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let err = read_segmentation(&slice, &options).unwrap_err().to_string();
    assert!(err.contains("not a DICOM Segmentation object"), "{err}");
    let err = read_segmentation(dicom_dir().join("expected.json"), &options).unwrap_err();
    assert!(err.to_string().contains("DICM"), "{err}");
}

#[test]
fn a_seg_beside_its_ct_slices_does_not_stop_the_series_from_reading() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dicom_dir().join("ct_axial")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        dicom_dir().join("seg/ct_axial_two.dcm"),
        dir.path().join("seg.dcm"),
    )
    .unwrap();
    let with_seg: Volume<f64> = Volume::read(dir.path()).unwrap();
    assert_eq!(with_seg.data(), ct("ct_axial").data());
}

#[test]
fn truncated_pixel_data_is_refused() {
    let bytes = std::fs::read(dicom_dir().join("seg/ct_axial_two.dcm")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.dcm");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    assert!(read_segmentation(&cut, &ReadOptions::default()).is_err());
}

#[test]
fn a_manifest_mask_may_be_a_seg_on_the_ct() {
    use adamss_io::Dataset;
    // CT and "PET" both the ct_axial series (the loader only reads them); the mask a SEG.
    let exp = expected();
    let case = &exp["cases"]["ct_axial_two"];
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("cohort.csv");
    let ct = dicom_dir().join("ct_axial");
    let row = |mask: &str| {
        format!(
            "patient_id,ct,pet,mask\np1,{},{},{}\n",
            ct.display(),
            ct.display(),
            dicom_dir().join(mask).display()
        )
    };
    std::fs::write(&manifest, row("seg/ct_axial_two.dcm")).unwrap();
    let cohort = adamss_io::Cohort::manifest(&manifest).unwrap();
    let mask = cohort.get(0).unwrap().mask.unwrap();
    let mut want: Vec<(usize, u8)> = Vec::new();
    for s in case["segments"].as_array().unwrap() {
        let n = s["number"].as_u64().unwrap() as u8;
        want.extend(voxels(s).into_iter().map(|i| (i, n)));
    }
    want.sort_unstable();
    assert_eq!(nonzero(&mask), want);
    // Overlapping segments cannot be one label map: refused, naming the file.
    std::fs::write(&manifest, row("seg/ct_axial_overlap.dcm")).unwrap();
    let cohort = adamss_io::Cohort::manifest(&manifest).unwrap();
    let err = cohort.get(0).unwrap_err().to_string();
    assert!(
        err.contains("overlap") && err.contains("ct_axial_overlap.dcm"),
        "{err}"
    );
}
