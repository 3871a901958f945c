//! DICOM RT Structure Sets against scikit-image and SimpleITK:
//! `tools/dicom_rtstruct_reference.py` writes RTSTRUCTs with pydicom on the CT series of
//! `tools/dicom_reference.py` and fills each ROI's contours with `skimage.draw.polygon` at the
//! continuous indices SimpleITK gives their points (contours on one slice by exclusive or),
//! recording the voxels (`tests/data/dicom/rtstruct/expected.json`). The masks must match
//! voxel for voxel; the refusals name the file, the ROI and the contour.

use std::path::PathBuf;

use adamss_io::dicom::{is_structure_set, read_structure_set};
use adamss_io::{read_mask, read_mask_label, read_series, Error, ReadOptions, Volume};
use serde_json::Value;

use crate::{data_dir, nonzero, voxels};

fn dir() -> PathBuf {
    data_dir().join("dicom/rtstruct")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The flat indices (x fastest) of a mask's nonzero voxels.
fn indices(mask: &Volume<u8>) -> Vec<usize> {
    nonzero(mask).into_iter().map(|(i, _)| i).collect()
}

#[test]
fn roi_masks_equal_skimage_fills_of_simpleitk_indices() {
    let exp = expected();
    let mut filled = 0;
    for (case, c) in exp["cases"].as_object().unwrap() {
        let path = dir().join(format!("{case}.dcm"));
        assert!(is_structure_set(&path));
        let set = read_structure_set(&path, &ReadOptions::default()).unwrap();
        let ct: Volume<f64> = read_series(
            data_dir().join("dicom").join(c["series"].as_str().unwrap()),
            None,
            &ReadOptions::default(),
        )
        .unwrap();
        let rois = c["rois"].as_array().unwrap();
        assert_eq!(set.rois.len(), rois.len(), "{case}");
        for (roi, want) in set.rois.iter().zip(rois) {
            assert_eq!(u64::from(roi.number), want["number"].as_u64().unwrap());
            assert_eq!(roi.name, want["name"].as_str().unwrap());
            assert_eq!(roi.interpreted_type, want["type"].as_str().unwrap());
            if want.get("voxels").is_none() {
                // A POINT contour bounds no region.
                let err = roi.mask_on(&ct).unwrap_err().to_string();
                assert!(err.contains("POINT") && err.contains("contour 1"), "{err}");
                continue;
            }
            let mask = roi.mask_on(&ct).unwrap();
            assert_eq!(indices(&mask), voxels(want), "{case} ROI {}", roi.name);
            assert_eq!(mask.geometry(), ct.geometry());
            filled += 1;
        }
    }
    assert_eq!(filled, 7);
}

#[test]
fn masks_for_radiomics_take_one_roi_or_refuse_overlaps() {
    let exp = expected();
    let case = &exp["cases"]["ct_axial_rois"];
    let rs = dir().join("ct_axial_rois.dcm");
    let ct = data_dir().join("dicom/ct_axial");
    // ROI 2 alone, its voxels = 2 (PyRadiomics' label).
    let gtvn = read_mask_label(&rs, &ct, 2).unwrap();
    assert_eq!(indices(&gtvn), voxels(&case["rois"][1]));
    assert!(gtvn.data().iter().all(|&v| v == 0 || v == 2));
    // All ROIs as one label map: GTVp (1) and GTVn (2) overlap on slice 3, so refused by name.
    let err = read_mask(&rs, &ct).unwrap_err().to_string();
    assert!(
        err.contains("ROI 1 \"GTVp\" and ROI 2 \"GTVn\" overlap"),
        "{err}"
    );
    let err = read_mask_label(&rs, &ct, 9).unwrap_err().to_string();
    assert!(
        err.contains("no ROI number 9") && err.contains("\"GTVp\""),
        "{err}"
    );
    // The oblique case has one ROI: a label map of it.
    let one = read_mask(
        dir().join("ct_oblique_roi.dcm"),
        data_dir().join("dicom/ct_oblique"),
    )
    .unwrap();
    assert_eq!(
        indices(&one),
        voxels(&exp["cases"]["ct_oblique_roi"]["rois"][0])
    );
    assert!(one.data().iter().all(|&v| v == 0 || v == 7));
}

#[test]
fn contours_off_the_grid_planes_are_refused_by_name() {
    let ct: Volume<f64> = read_series(
        data_dir().join("dicom/ct_axial"),
        None,
        &ReadOptions::default(),
    )
    .unwrap();
    for case in ["bad_off_plane", "bad_nonplanar"] {
        let path = dir().join(format!("{case}.dcm"));
        let set = read_structure_set(&path, &ReadOptions::default()).unwrap();
        match set.roi("GTVp").unwrap().mask_on(&ct) {
            Err(Error::Dicom { path: p, reason }) => {
                assert_eq!(p, path);
                assert!(
                    reason.contains("ROI 1 \"GTVp\", contour 1")
                        && reason.contains("not on one plane"),
                    "{reason}"
                );
            }
            other => panic!("{case}: {other:?}"),
        }
    }
    // Not an RTSTRUCT: a CT slice, and a SEG.
    let slice = data_dir().join("dicom/ct_axial/b.dcm");
    assert!(!is_structure_set(&slice));
    let err = read_structure_set(&slice, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a DICOM RT Structure Set"), "{err}");
    let seg = data_dir().join("dicom/seg/ct_axial_two.dcm");
    assert!(!is_structure_set(&seg));
    let set = read_structure_set(dir().join("ct_axial_rois.dcm"), &ReadOptions::default()).unwrap();
    let err = set.roi("gtvp").unwrap_err().to_string();
    assert!(err.contains("no ROI named \"gtvp\""), "{err}");
}

#[test]
fn rois_picked_by_name_make_one_label_map() {
    let exp = expected();
    let rois = exp["cases"]["ct_axial_rois"]["rois"].as_array().unwrap();
    let by_name = |name: &str| voxels(rois.iter().find(|r| r["name"] == name).unwrap());
    let set = read_structure_set(dir().join("ct_axial_rois.dcm"), &ReadOptions::default()).unwrap();
    let info = adamss_io::read_header(data_dir().join("dicom/ct_axial")).unwrap();
    let labels = set
        .labels_named(&[("GTVn2", 1), ("Box", 2)], &info.geometry, info.shape)
        .unwrap();
    let [ni, nj, _] = labels.shape();
    let at = |p: usize| labels.data()[[p % ni, (p / ni) % nj, p / (ni * nj)]];
    assert!(by_name("GTVn2").into_iter().all(|p| at(p) == 1));
    assert!(by_name("Box").into_iter().all(|p| at(p) == 2));
    assert_eq!(
        indices(&labels).len(),
        by_name("GTVn2").len() + by_name("Box").len()
    );
    let err = set
        .labels_named(&[("GTVn", 1), ("GTVn2", 2)], &info.geometry, info.shape)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ROI 2 \"GTVn\" and ROI 6 \"GTVn2\" overlap"),
        "{err}"
    );
    let err = set
        .labels_named(&[("GTVx", 1)], &info.geometry, info.shape)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no ROI named \"GTVx\""), "{err}");
}
