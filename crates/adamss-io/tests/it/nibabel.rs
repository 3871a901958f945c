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

/// Both header transforms, every dimension, and SimpleITK's view
/// (`tools/io_header_reference.py` → `tests/data/nifti/headers.json`): `read_header` reports
/// nibabel's `get_qform()`/`get_sform()` (1e-5 mm: the header stores float32), their largest
/// difference, and all dimensions of a 4-D series (which `Volume::read` refuses); the geometry
/// read — with `prefer_qform` where SimpleITK took the qform — equals SimpleITK's origin,
/// spacing and direction through `Geometry::from_itk` (1e-5), except where SimpleITK departs
/// from the header (an sform whose scales differ from pixdim; no transform at all).
#[test]
fn both_transforms_all_dimensions_and_simpleitks_geometry() {
    let path = data_dir().join("nifti/headers.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let close = |a: &[f64], b: &[f64], what: &str| {
        assert_eq!(a.len(), b.len(), "{what}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-5, "{what}: {a:?} vs {b:?}");
        }
    };
    let mut compared_itk = Vec::new();
    for (name, want) in json["files"].as_object().unwrap() {
        let file = data_dir().join("nifti").join(name);
        let info = read_header(&file).unwrap();
        let dims: Vec<usize> = (want["dims"].as_array().unwrap().iter())
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(info.dims, dims, "{name}");
        assert_eq!(
            i64::from(info.qform_code),
            want["qform_code"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            i64::from(info.sform_code),
            want["sform_code"].as_i64().unwrap(),
            "{name}"
        );
        for (ours, theirs, what) in [
            (&info.qform, &want["qform"], "qform"),
            (&info.sform, &want["sform"], "sform"),
        ] {
            match (ours, theirs) {
                (Some(g), t) if !t.is_null() => close(
                    &g.affine().iter().flatten().copied().collect::<Vec<_>>(),
                    &f64s(t),
                    &format!("{name} {what}"),
                ),
                // A sheared sform has no Geometry (the reader refuses it); nibabel has one.
                (None, t) if !t.is_null() => assert_eq!(name, "sform_only.nii.gz", "{what}"),
                (None, _) => {}
                (Some(_), _) => panic!("{name}: {what} that nibabel does not have"),
            }
        }
        if let (Value::Array(q), Value::Array(s)) = (&want["qform"], &want["sform"]) {
            let (q, s) = (
                f64s(&Value::Array(q.clone())),
                f64s(&Value::Array(s.clone())),
            );
            let d = q
                .iter()
                .zip(&s)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let ours = info.qform_sform_difference_mm.unwrap();
            assert!((ours - d).abs() <= 1e-5, "{name}: difference {ours} vs {d}");
        }
        if dims.iter().skip(3).any(|&d| d != 1) {
            let e = Volume::<f32>::read(&file).unwrap_err();
            assert!(
                matches!(e, adamss_io::Error::NotThreeD { .. }),
                "{name}: {e}"
            );
            continue;
        }
        let Some(itk) = want["sitk"].as_object() else {
            continue;
        };
        // SimpleITK reads an sform whose scales differ from pixdim with pixdim's spacing
        // ("unexpected scales in sform"): another disagreement, with nibabel and with this
        // crate, left out here.
        let pixdim = [1, 2, 3].map(|a| f64::from(info.pixdim[a]));
        let spacing = info.geometry.spacing;
        // Where the sform's scale is pixdim up to its float32 rounding, the spacing is
        // pixdim's bit for bit, as SimpleITK reads it (an oblique sform's column norm is not:
        // 1.5 mm reads 1.5000000234, which moves a resampled grid's size across `ceil`).
        let itk_spacing = f64s(&itk["spacing"]);
        for a in 0..3 {
            if (spacing[a] - pixdim[a]).abs() <= 1e-5 {
                assert_eq!(
                    spacing[a], itk_spacing[a],
                    "{name}: spacing[{a}] vs SimpleITK"
                );
            }
        }
        if (0..3).any(|a| (spacing[a] - pixdim[a]).abs() > 1e-5) && info.qform.is_none() {
            continue;
        }
        // Without either transform SimpleITK takes the identity in LPS (x, y flipped against
        // the NIfTI standard's method 1, which this crate follows): left out too.
        if info.transform == adamss_io::TransformSource::Pixdim {
            continue;
        }
        // SimpleITK took the qform where the two differ (the sform is not a rotation scaled
        // by pixdim in that file).
        let options = ReadOptions {
            prefer_qform: info.qform_sform_difference_mm.is_some_and(|d| d > 1e-3),
            ..ReadOptions::default()
        };
        let ours = Volume::<f32>::read_with(&file, &options).unwrap();
        let v3 = |k: &str| -> [f64; 3] {
            let v = f64s(&itk[k]);
            [v[0], v[1], v[2]]
        };
        let d = f64s(&itk["direction"]);
        let direction = [[d[0], d[1], d[2]], [d[3], d[4], d[5]], [d[6], d[7], d[8]]];
        let theirs = adamss_io::Geometry::from_itk(v3("spacing"), v3("origin"), direction).unwrap();
        let g = ours.geometry();
        close(
            &g.affine().iter().flatten().copied().collect::<Vec<_>>(),
            &theirs
                .affine()
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>(),
            &format!("{name} vs SimpleITK"),
        );
        close(
            &g.origin_lps(),
            &v3("origin"),
            &format!("{name} origin_lps"),
        );
        close(
            &g.direction_lps()
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>(),
            &d,
            &format!("{name} direction_lps"),
        );
        compared_itk.push(name.as_str());
    }
    // Among them the file whose qform and sform differ, read through its qform.
    assert!(
        compared_itk.len() >= 6 && compared_itk.contains(&"both_differ.nii.gz"),
        "{compared_itk:?}"
    );
}
