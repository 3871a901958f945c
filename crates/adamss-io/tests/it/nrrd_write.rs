//! NRRD writing (`Volume::write` to a `.nrrd` name) against SimpleITK 2.5.7's reading of what
//! we write: the files of `tests/data/io/nrrd_written/` were written by `write_fixtures` below
//! (run with `--ignored`) and read by `tools/nrrd_write_reference.py` with SimpleITK, which
//! records size, spacing, origin, direction (LPS), pixel type and every voxel. Here each case is
//! written again: its header text and decompressed data must equal the committed file's (so
//! SimpleITK's reading applies to what the writer writes now), SimpleITK's reading must equal
//! the volume written (geometry 1e-9, voxels exact), and our reader must read it back exactly.
//! Sources: the NRRD reader's SimpleITK-checked files (an oblique int16 in LPS, a big-endian
//! int32 in LAS, a uint8 in RAS, a raw float32), NIfTI files (float64 with negative axes, uint16,
//! int8), and volumes built here for the 32- and 64-bit integers.

use std::io::Read;
use std::path::{Path, PathBuf};

use adamss_io::{Geometry, ReadOptions, Volume, Voxel};
use ndarray::Array3;
use serde_json::Value;

use crate::{assert_itk_geometry, data_dir, f64s};

const CASES: [&str; 9] = [
    "int16_oblique",
    "int32_las",
    "uint8_ras",
    "float32",
    "float64_negative_axes",
    "uint16",
    "int8",
    "uint32_built",
    "int64_built",
];

fn written_dir() -> PathBuf {
    data_dir().join("io/nrrd_written")
}

fn read<T: Voxel>(rel: &str) -> Volume<T> {
    let options = ReadOptions {
        finite_only: false,
        ..ReadOptions::default()
    };
    Volume::<T>::read_with(data_dir().join(rel), &options).unwrap()
}

/// A volume built here: values from the index, on an oblique grid.
fn built<T: Voxel>(value: impl Fn(usize, usize, usize) -> f64) -> Volume<T> {
    let shape = (5, 4, 3);
    let data = Array3::from_shape_fn(shape, |(i, j, k)| T::from_f64(value(i, j, k)).unwrap());
    let (a, b) = (0.3f64, -0.2f64);
    let (ca, sa, cb, sb) = (a.cos(), a.sin(), b.cos(), b.sin());
    // A rotation about z, then about x: columns are the axes.
    let direction = [
        [ca, -sa * cb, sa * sb],
        [sa, ca * cb, -ca * sb],
        [0.0, sb, cb],
    ];
    let geometry = Geometry::new([0.9, 1.1, 2.5], [-12.25, 30.5, -7.0], direction).unwrap();
    Volume::new(data, geometry).unwrap()
}

/// Writes case `name` to `out`; returns the volume written, as f64.
fn write_case(name: &str, out: &Path) -> Volume<f64> {
    fn w<T: Voxel>(v: Volume<T>, out: &Path) -> Volume<f64> {
        v.write(out).unwrap();
        v.map(|x| x.to_f64())
    }
    match name {
        "int16_oblique" => w(read::<i16>("io/nrrd/sitk_gzip_int16_oblique.nrrd"), out),
        "int32_las" => w(read::<i32>("io/nrrd/hand_las_bigendian_int32.nrrd"), out),
        "uint8_ras" => w(read::<u8>("io/nrrd/hand_ras_uint8.nrrd"), out),
        "float32" => w(read::<f32>("io/nrrd/sitk_raw_float32.nrrd"), out),
        "float64_negative_axes" => w(read::<f64>("nifti/negative_axes.nii"), out),
        "uint16" => w(read::<u16>("nifti/uint16.nii.gz"), out),
        "int8" => w(read::<i8>("nifti/int8.nii.gz"), out),
        "uint32_built" => w(
            built::<u32>(|i, j, k| (4_000_000_000 - (i * 7 + j * 131 + k * 10_007)) as f64),
            out,
        ),
        "int64_built" => w(
            built::<i64>(|i, j, k| -(1i64 << 40) as f64 + (i + 10 * j + 100 * k) as f64 * 3.0),
            out,
        ),
        other => panic!("{other}"),
    }
}

/// The header text and the decompressed voxel bytes of a written file.
fn parts(path: &Path) -> (String, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let end = bytes.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(&bytes[end..])
        .read_to_end(&mut data)
        .unwrap();
    (String::from_utf8(bytes[..end].to_vec()).unwrap(), data)
}

#[test]
#[ignore = "writes the fixtures SimpleITK reads in tools/nrrd_write_reference.py"]
fn write_fixtures() {
    std::fs::create_dir_all(written_dir()).unwrap();
    for name in CASES {
        write_case(name, &written_dir().join(format!("{name}.nrrd")));
    }
}

#[test]
fn written_nrrd_files_read_in_simpleitk_as_written() {
    let text = std::fs::read_to_string(written_dir().join("expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in CASES {
        let out = dir.path().join(format!("{name}.nrrd"));
        let vol = write_case(name, &out);
        let committed = written_dir().join(format!("{name}.nrrd"));
        assert_eq!(
            parts(&out),
            parts(&committed),
            "{name}: the writer's output changed; rerun write_fixtures and the generator"
        );
        let r = &expected["cases"][name];
        let pixel_type = match name.split('_').next().unwrap() {
            "int8" => "8-bit signed integer",
            "uint8" => "8-bit unsigned integer",
            "int16" => "16-bit signed integer",
            "uint16" => "16-bit unsigned integer",
            "int32" => "32-bit signed integer",
            "uint32" => "32-bit unsigned integer",
            "int64" => "64-bit signed integer",
            "float32" => "32-bit float",
            _ => "64-bit float",
        };
        assert_eq!(r["pixel_type"], pixel_type, "{name}: the stored type");
        let size: Vec<usize> = (r["size"].as_array().unwrap().iter())
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(size, vol.shape().to_vec(), "{name}");
        let g = vol.geometry();
        assert_itk_geometry(name, g, r, 1e-9);
        let want = f64s(&r["values"]);
        let got: Vec<f64> = vol.data().t().iter().copied().collect();
        assert_eq!(got, want, "{name}: SimpleITK's voxels");
        // Our reader reads it back exactly.
        let back = Volume::<f64>::read(&out).unwrap();
        assert_eq!(back.data(), vol.data(), "{name}");
        let diff = back.geometry().max_affine_difference(g);
        assert!(diff < 1e-12, "{name}: affine differs by {diff}");
    }
    // Nothing but the outputs is left behind (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), CASES.len());
}
