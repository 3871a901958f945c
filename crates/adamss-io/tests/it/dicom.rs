//! DICOM series against SimpleITK 2.5.7 (GDCM): `tools/dicom_reference.py` writes small series
//! with pydicom and records SimpleITK's `ImageSeriesReader` reading of each (float64, GDCM's
//! file order) in `tests/data/dicom/expected.json`. Geometry to 1e-9 (mm, LPS), voxels exact
//! (each file's own rescale slope and intercept in float64), the file order exact; the broken
//! series refused with the file and the problem named.

use std::path::{Path, PathBuf};

use adamss_io::{list_series, read_series, Error, ReadOptions, Volume};
use serde_json::Value;

use crate::{assert_itk_geometry, data_dir, f64s};

fn dicom_dir() -> PathBuf {
    data_dir().join("dicom")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dicom_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Asserts the volume equals SimpleITK's reading `r`.
fn check(name: &str, vol: &Volume<f64>, r: &Value) {
    let size: Vec<usize> = r["size"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(vol.shape().to_vec(), size, "{name} size");
    assert_itk_geometry(name, vol.geometry(), r, 1e-9);
    let want = f64s(&r["values"]);
    let [ni, nj, nk] = vol.shape();
    let mut k_lin = 0;
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let got = vol.data()[[i, j, k]];
                assert_eq!(got, want[k_lin], "{name} voxel [{i}, {j}, {k}]");
                k_lin += 1;
            }
        }
    }
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
        .collect()
}

#[test]
fn series_equal_simpleitks_reading() {
    let exp = expected();
    for name in ["ct_axial", "ct_oblique", "pet_slopes"] {
        let r = &exp["cases"][name];
        let dir = dicom_dir().join(name);
        // A folder through the ordinary reader, as a NIfTI path would be.
        let vol: Volume<f64> = Volume::read(&dir).unwrap();
        check(name, &vol, r);
        let series = list_series(&dir).unwrap();
        assert_eq!(series.len(), 1, "{name}");
        assert_eq!(series[0].series_uid, r["series_uid"].as_str().unwrap());
        let want: Vec<String> = r["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(names(&series[0].files), want, "{name}: GDCM's file order");
    }
    // Whole CT values read as i16 too; the PET's fractional values do not fit an integer.
    let ct: Volume<i16> = Volume::read(dicom_dir().join("ct_axial")).unwrap();
    assert_eq!(
        ct.data()[[0, 0, 0]] as f64,
        exp["cases"]["ct_axial"]["values"][0]
    );
    match Volume::<i16>::read(dicom_dir().join("pet_slopes")) {
        Err(Error::ValueOutOfRange { path, .. }) => {
            assert!(path.to_string_lossy().ends_with(".dcm"))
        }
        other => panic!("expected ValueOutOfRange, got {other:?}"),
    }
}

#[test]
fn a_folder_with_two_series_lists_both_and_reads_one_by_uid() {
    let exp = expected();
    let dir = dicom_dir().join("two_series");
    let series = list_series(&dir).unwrap();
    assert_eq!(series.len(), 2);
    let modalities: Vec<&str> = series.iter().map(|s| s.modality.as_str()).collect();
    assert!(modalities.contains(&"CT") && modalities.contains(&"PT"));
    // README.txt is not DICOM: skipped.
    let files: usize = series.iter().map(|s| s.files.len()).sum();
    assert_eq!(files, 6);
    let err = Volume::<f64>::read(&dir).unwrap_err().to_string();
    assert!(err.contains("2 DICOM image series"), "{err}");
    for s in &series {
        assert!(err.contains(&s.series_uid), "{err}");
        let r = &exp["cases"]["two_series"]["series"][s.modality.as_str()];
        let vol: Volume<f64> =
            read_series(&dir, Some(&s.series_uid), &ReadOptions::default()).unwrap();
        check(&s.modality, &vol, r);
        assert_eq!(s.shape, vol.shape());
    }
    let err = read_series::<f64>(&dir, Some("1.2.3"), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no DICOM image series 1.2.3"), "{err}");
}

fn refusal(dir: &Path) -> String {
    match Volume::<f64>::read(dir) {
        Err(e @ Error::Dicom { .. }) => e.to_string(),
        other => panic!("{}: expected a DICOM error, got {other:?}", dir.display()),
    }
}

#[test]
fn broken_series_are_refused_naming_the_file_and_the_problem() {
    let d = dicom_dir();
    let gap = refusal(&d.join("bad_gap"));
    assert!(
        gap.contains("bad_gap_003.dcm")
            && gap.contains("bad_gap_002.dcm")
            && gap.contains("missing slice"),
        "{gap}"
    );
    let jpeg = refusal(&d.join("bad_jpeg"));
    assert!(
        jpeg.contains("1.2.840.10008.1.2.4.50") && jpeg.contains("JPEG") && jpeg.contains(".dcm"),
        "{jpeg}"
    );
    let rows = refusal(&d.join("bad_rows"));
    assert!(
        rows.contains("bad_rows_002.dcm") && rows.contains("10 rows"),
        "{rows}"
    );
    let dup = refusal(&d.join("bad_duplicate"));
    assert!(dup.contains("same position"), "{dup}");
    // An empty folder, and a folder of non-DICOM files.
    let empty = tempfile::tempdir().unwrap();
    assert!(refusal(empty.path()).contains("no DICOM image files"));
    std::fs::write(empty.path().join("notes.txt"), "hello").unwrap();
    assert!(refusal(empty.path()).contains("no DICOM image files"));
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let src = dicom_dir().join("ct_axial");
    let bytes = std::fs::read(src.join("a.dcm")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Every prefix from the DICM marker on, and single-byte corruptions across the header.
    // A forged length on the pixel data (4 GB in a 1 KB file) is refused before the parser
    // allocates it.
    let at = bytes
        .windows(4)
        .position(|w| w == [0xE0, 0x7F, 0x10, 0x00])
        .unwrap();
    let mut forged = bytes.clone();
    forged[at + 8..at + 12].copy_from_slice(&0xF000_0000u32.to_le_bytes());
    std::fs::write(dir.path().join("x.dcm"), &forged).unwrap();
    let e = Volume::<f64>::read(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("x.dcm") && e.contains("(7FE0,0010)") && e.contains("declares 4026531840 bytes"),
        "{e}"
    );
    for cut in (132..bytes.len()).step_by(13) {
        std::fs::write(dir.path().join("x.dcm"), &bytes[..cut]).unwrap();
        let _ = Volume::<f64>::read(dir.path());
    }
    for at in (132..bytes.len().min(900)).step_by(5) {
        let mut b = bytes.clone();
        b[at] ^= 0xA5;
        std::fs::write(dir.path().join("x.dcm"), &b).unwrap();
        if let Err(e) = Volume::<f64>::read(dir.path()) {
            let e = e.to_string();
            // The file is named, or it lost what makes it an image and the folder has none.
            assert!(
                e.contains("x.dcm") || e.contains("no DICOM image files"),
                "{e}"
            );
        }
    }
}

/// Compressed series (`tools/dicom_compressed_reference.py`: the series above transcoded to
/// RLE Lossless by pydicom, to JPEG Lossless and JPEG 2000 by GDCM) read as SimpleITK (GDCM's
/// decoders) reads them: the lossless ones voxel for voxel (which the generator checked equal
/// to the uncompressed series), irreversible JPEG 2000 to the decoded value too (OpenJPEG both).
#[test]
fn compressed_series_equal_simpleitks_reading() {
    let d = dicom_dir().join("compressed");
    let text = std::fs::read_to_string(d.join("expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let cases = exp["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 8);
    for (name, r) in cases {
        let vol: Volume<f64> = Volume::read(d.join(name)).unwrap();
        check(name, &vol, r);
        let files = &list_series(d.join(name)).unwrap()[0].files;
        let want: Vec<String> = r["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        assert_eq!(names(files), want, "{name}");
    }
    // Syntaxes not decoded here, and damaged streams: refused naming the file and the problem.
    let jls = refusal(&d.join("bad_jpegls"));
    assert!(
        jls.contains("1.2.840.10008.1.2.4.80") && jls.contains("not supported"),
        "{jls}"
    );
    let cut = refusal(&d.join("bad_rle_cut"));
    assert!(
        cut.contains("RLE pixel data: segment") && cut.contains(".dcm"),
        "{cut}"
    );
    // A malformed JPEG 2000 stream on which openjp2 (OpenJPEG's Rust port) overflowed and
    // leaked (found by fuzzing): OpenJPEG reads it, without a panic.
    let dir = tempfile::tempdir().unwrap();
    let crash = data_dir()
        .join("../../fuzz/seeds/dicom_read/regression-j2k-openjp2-packet-header-overflow.dcm");
    std::fs::copy(&crash, dir.path().join("a.dcm")).unwrap();
    assert!(Volume::<f64>::read(dir.path()).is_ok());
    let size = refusal(&d.join("bad_j2k_size"));
    assert!(
        size.contains("JPEG 2000 pixel data: a 14 × 11 image") && size.contains("12 columns"),
        "{size}"
    );
}

/// Enhanced multi-frame images (`tools/dicom_multiframe_reference.py`: highdicom's legacy
/// conversion of the series above into one file, frames in instance-number order, positions
/// in per-frame functional groups, the PET's slope per frame) read as SimpleITK reads the
/// source series: geometry to 1e-9, voxels exact. Compressed multi-frame pixel data is refused.
#[test]
fn multiframe_images_equal_their_source_series() {
    let exp = expected();
    let d = dicom_dir().join("multiframe");
    for name in ["ct_axial", "ct_oblique", "pet_slopes"] {
        let vol: Volume<f64> = Volume::read(d.join(name)).unwrap();
        check(name, &vol, &exp["cases"][name]);
        let series = &list_series(d.join(name)).unwrap()[0];
        assert_eq!(
            series.files.len(),
            vol.shape()[2],
            "{name}: a file per slice"
        );
    }
    let info = adamss_io::read_header(d.join("pet_slopes")).unwrap();
    assert!(info.scl_slope.is_nan(), "a slope per frame");
    // The file alone reads as its folder does; a single-frame slice alone is refused.
    let file = d.join("ct_oblique/image.dcm");
    let alone: Volume<f64> = Volume::read(&file).unwrap();
    check("ct_oblique file", &alone, &exp["cases"]["ct_oblique"]);
    assert_eq!(adamss_io::read_header(&file).unwrap().shape, alone.shape());
    let slice = refusal(&dicom_dir().join("ct_axial/b.dcm"));
    assert!(slice.contains("one single-frame slice"), "{slice}");
    let err = refusal(&d.join("bad_compressed"));
    assert!(
        err.contains("multi-frame") && err.contains("1.2.840.10008.1.2.5"),
        "{err}"
    );
}
