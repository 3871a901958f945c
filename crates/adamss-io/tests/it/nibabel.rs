//! The reader against nibabel 5.3.2: files and expected values come from
//! `tools/nibabel_reference.py` (`tests/data/nifti/expected.json`).
//! Tolerances: affine entries 1e-6 mm absolute; voxel values exact after scaling (nibabel's
//! `get_fdata()` in float64); sums 1e-12 relative.

use adamss_io::{read_header, ReadOptions, Volume, Voxel};
use serde_json::Value;

use crate::data_dir;

fn cases() -> Vec<Value> {
    let path = data_dir().join("nifti/expected.json");
    let text = std::fs::read_to_string(&path).expect("expected.json");
    let json: Value = serde_json::from_str(&text).expect("valid json");
    json["cases"].as_array().expect("cases").clone()
}

/// Numbers of a (possibly nested) JSON array, flattened row-major.
fn f64s(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(f64s).collect(),
        other => vec![other.as_f64().expect("number")],
    }
}

#[test]
fn reader_agrees_with_nibabel() {
    let cases = cases();
    assert!(cases.len() >= 13);
    for case in &cases {
        let file = case["file"].as_str().expect("file");
        let path = data_dir().join("nifti").join(file);
        let vol = Volume::<f64>::read(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let shape: Vec<usize> = f64s(&case["shape"]).iter().map(|&s| s as usize).collect();
        assert_eq!(vol.shape().to_vec(), shape, "{file}: shape");

        let expected = f64s(&case["affine"]);
        let got = vol.geometry().affine();
        for (k, (g, e)) in got.iter().flatten().zip(&expected).enumerate() {
            assert!(
                (g - e).abs() < 1e-6,
                "{file}: affine[{k}] {g} vs nibabel {e}"
            );
        }
        // Spacing is the column norm of the affine; pixdim is what nibabel calls zooms.
        for axis in 0..3 {
            let norm = (0..3)
                .map(|r| expected[r * 4 + axis].powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(
                (vol.geometry().spacing[axis] - norm).abs() < 1e-6,
                "{file}: spacing"
            );
        }
        let info = read_header(&path).expect("header");
        let zooms = f64s(&case["zooms"]);
        for axis in 0..3 {
            assert!(
                (f64::from(info.pixdim[axis + 1]) - zooms[axis]).abs() < 1e-6,
                "{file}: zooms"
            );
        }
        assert_eq!(
            i64::from(info.datatype),
            case["datatype"].as_i64().expect("dtype"),
            "{file}"
        );

        let values = f64s(&case["values"]);
        for (idx, want) in case["indices"]
            .as_array()
            .expect("indices")
            .iter()
            .zip(values)
        {
            let i: Vec<usize> = f64s(idx).iter().map(|&v| v as usize).collect();
            let got = vol.data()[[i[0], i[1], i[2]]];
            assert_eq!(got, want, "{file}: value at {i:?}");
        }
        let sum: f64 = vol.data().iter().sum();
        let want = case["sum"].as_f64().expect("sum");
        assert!(
            (sum - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{file}: sum {sum} vs {want}"
        );
        let min = vol.data().iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(min, case["min"].as_f64().expect("min"), "{file}: min");
    }
}

/// Reading in the stored type, writing, and reading again gives the same voxels bit for bit.
/// NIfTI stores the affine in float32: the first write rounds a qform-derived affine to
/// float32 (within 1e-6 mm), after which writing and reading repeat it bit for bit.
fn round_trip<T: Voxel>(file: &str) {
    let src = data_dir().join("nifti").join(file);
    let vol = Volume::<T>::read(&src).unwrap_or_else(|e| panic!("{file}: {e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in ["nii", "nii.gz"] {
        let out = dir.path().join(format!("copy.{ext}"));
        vol.write(&out).expect("write");
        let back = Volume::<T>::read(&out).expect("read back");
        assert_eq!(back.data(), vol.data(), "{file} -> {ext}: voxels");
        let d = back.geometry().max_affine_difference(vol.geometry());
        assert!(d < 1e-6, "{file} -> {ext}: affine differs by {d}");
        let again = dir.path().join(format!("again.{ext}"));
        back.write(&again).expect("write again");
        let back2 = Volume::<T>::read(&again).expect("read again");
        assert_eq!(
            back2.geometry().affine(),
            back.geometry().affine(),
            "{file} -> {ext}: affine"
        );
        assert_eq!(back2.data(), vol.data());
        std::fs::remove_file(&again).expect("rm");
        let info = read_header(&out).expect("header");
        assert_eq!(info.datatype, T::DATATYPE);
    }
    // Nothing but the two outputs is left behind (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2);
}

#[test]
fn write_round_trips_exactly() {
    round_trip::<i16>("qform_only.nii.gz");
    round_trip::<f32>("sform_only.nii.gz");
    round_trip::<f64>("negative_axes.nii");
    round_trip::<u8>("qform_flip.nii.gz");
    round_trip::<i32>("pair_int32.img");
    round_trip::<i16>("big_endian_int16.nii");
    round_trip::<u16>("uint16.nii.gz");
    round_trip::<i8>("int8.nii.gz");
    round_trip::<f64>("float64.nii.gz");
    round_trip::<f32>("int16_scaled.nii.gz");
}

#[test]
fn scaled_integers_convert_to_integers_only_when_exact() {
    let path = data_dir().join("nifti/int16_scaled.nii.gz");
    // slope 0.5 makes odd values fractional: refused as i32, accepted as f32.
    let err = Volume::<i32>::read(&path).expect_err("fractions do not fit i32");
    assert!(err.to_string().contains("int16_scaled.nii.gz"), "{err}");
    assert!(Volume::<f32>::read_with(&path, &ReadOptions::default()).is_ok());
}
