//! Bad input gives a typed error naming the file, never a panic or a huge allocation.

use std::io::Read;

use adamss_io::{Error, Geometry, ReadOptions, Volume};
use ndarray::Array3;

use crate::data_dir;

/// The uncompressed bytes of a test file.
fn raw(file: &str) -> Vec<u8> {
    let bytes = std::fs::read(data_dir().join("nifti").join(file)).expect("read");
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

fn put_i16(bytes: &mut [u8], offset: usize, v: i16) {
    bytes[offset..offset + 2].copy_from_slice(&v.to_le_bytes());
}

fn read(bytes: &[u8]) -> adamss_io::Result<Volume<f32>> {
    Volume::<f32>::read_bytes(bytes, "patched.nii", &ReadOptions::default())
}

#[test]
fn missing_file_names_the_path() {
    let err = Volume::<f32>::read("/no/such/dir/ct.nii.gz").expect_err("missing");
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().contains("/no/such/dir/ct.nii.gz"));
}

#[test]
fn unknown_and_unsupported_datatypes() {
    let mut b = raw("sform_only.nii.gz");
    put_i16(&mut b, 70, 32); // COMPLEX64
    let err = read(&b).expect_err("complex");
    assert!(
        matches!(
            err,
            Error::UnsupportedDatatype {
                code: 32,
                name: "COMPLEX64",
                ..
            }
        ),
        "{err}"
    );
    put_i16(&mut b, 70, 7777);
    assert!(matches!(
        read(&b),
        Err(Error::UnsupportedDatatype { code: 7777, .. })
    ));
}

#[test]
fn huge_dimensions_are_refused_before_allocating() {
    let mut b = raw("sform_only.nii.gz");
    for axis in 1..=3 {
        put_i16(&mut b, 40 + 2 * axis, i16::MAX);
    }
    let err = read(&b).expect_err("too large");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    // A small bound refuses even this small file.
    let opts = ReadOptions {
        max_bytes: 100,
        ..ReadOptions::default()
    };
    let err = Volume::<f32>::read_with(data_dir().join("nifti/sform_only.nii.gz"), &opts)
        .expect_err("bound");
    assert!(err.to_string().contains("sform_only.nii.gz"), "{err}");
}

#[test]
fn bad_dimensions() {
    let mut b = raw("sform_only.nii.gz");
    put_i16(&mut b, 42, 0);
    assert!(matches!(read(&b), Err(Error::InvalidHeader { .. })));
    put_i16(&mut b, 42, -5);
    assert!(matches!(read(&b), Err(Error::InvalidHeader { .. })));
    let mut b = raw("sform_only.nii.gz");
    put_i16(&mut b, 40, 4);
    put_i16(&mut b, 48, 2);
    assert!(matches!(read(&b), Err(Error::NotThreeD { .. })));
}

#[test]
fn truncated_and_corrupt_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = std::fs::read(data_dir().join("nifti/qform_only.nii.gz")).expect("read");
    for cut in [10, 200, gz.len() / 2, gz.len() - 9] {
        let p = dir.path().join(format!("cut{cut}.nii.gz"));
        std::fs::write(&p, &gz[..cut]).expect("write");
        let err = Volume::<f32>::read(&p).expect_err("truncated");
        assert!(
            matches!(
                err,
                Error::Truncated { .. } | Error::Gzip { .. } | Error::NotNifti { .. }
            ),
            "cut at {cut}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("cut{cut}.nii.gz")),
            "{err}"
        );
    }
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let p = dir.path().join("corrupt.nii.gz");
    std::fs::write(&p, &bad).expect("write");
    let err = Volume::<f32>::read(&p).expect_err("corrupt");
    assert!(
        matches!(err, Error::Gzip { .. } | Error::Truncated { .. }),
        "{err}"
    );

    let plain = std::fs::read(data_dir().join("nifti/negative_axes.nii")).expect("read");
    let p = dir.path().join("short.nii");
    std::fs::write(&p, &plain[..plain.len() - 1]).expect("write");
    assert!(matches!(
        Volume::<f32>::read(&p),
        Err(Error::Truncated { .. })
    ));
}

/// `bytes` as one gzip member.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// Gzip files read the same in one member or several, with or without content after the
/// voxels, and a damaged member or trailer anywhere is an error, also after the voxels.
#[test]
fn gzip_members_and_trailers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = raw("qform_only.nii.gz");
    let expected =
        Volume::<f32>::read_bytes(&plain, "plain.nii", &ReadOptions::default()).expect("plain");
    let read_file = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        Volume::<f32>::read(&p)
    };
    let one = gzip(&plain);
    assert_eq!(read_file("one.nii.gz", &one).expect("one member"), expected);
    let half = plain.len() / 2;
    let two = [gzip(&plain[..half]), gzip(&plain[half..])].concat();
    assert_eq!(
        read_file("two.nii.gz", &two).expect("two members"),
        expected
    );
    // Everything in the first member, 16 bytes more in a second: read, and the second checked.
    let extra = [one.clone(), gzip(&[7u8; 16])].concat();
    assert_eq!(read_file("extra.nii.gz", &extra).expect("extra"), expected);
    let mut damaged = extra.clone();
    let crc_at = damaged.len() - 8;
    damaged[crc_at] ^= 0xff;
    let err = read_file("extra-damaged.nii.gz", &damaged).expect_err("second member's CRC");
    assert!(matches!(err, Error::Gzip { .. }), "{err}");
    assert!(err.to_string().contains("extra-damaged.nii.gz"), "{err}");
    // One member with a wrong CRC or length in its trailer.
    for at in [one.len() - 8, one.len() - 4] {
        let mut bad = one.clone();
        bad[at] ^= 0x01;
        let err = read_file("trailer.nii.gz", &bad).expect_err("trailer");
        assert!(
            matches!(err, Error::Gzip { .. } | Error::Truncated { .. }),
            "byte {at}: {err}"
        );
    }
}

#[test]
fn not_nifti() {
    assert!(matches!(read(b"hello"), Err(Error::NotNifti { .. })));
    assert!(matches!(read(&[0u8; 400]), Err(Error::NotNifti { .. })));
    let mut b = raw("sform_only.nii.gz");
    b[344..348].copy_from_slice(b"xyz\0");
    assert!(matches!(read(&b), Err(Error::NotNifti { .. })));
    let mut b = raw("sform_only.nii.gz");
    b[0..4].copy_from_slice(&540i32.to_le_bytes());
    let err = read(&b).expect_err("nifti-2");
    assert!(err.to_string().contains("NIfTI-2"), "{err}");
}

/// `data` written as `<dir>/<name>` (default geometry).
fn write_f32(dir: &std::path::Path, name: &str, data: Array3<f32>) -> std::path::PathBuf {
    let p = dir.join(name);
    Volume::new(data, Geometry::default())
        .expect("volume")
        .write(&p)
        .expect("write");
    p
}

#[test]
fn non_finite_voxels_are_refused_unless_allowed() {
    let mut data = Array3::<f32>::zeros((3, 3, 3));
    data[[1, 2, 0]] = f32::NAN;
    data[[2, 2, 2]] = f32::NEG_INFINITY;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write_f32(dir.path(), "nan.nii.gz", data);
    let err = Volume::<f32>::read(&p).expect_err("nan");
    assert!(
        matches!(
            err,
            Error::NonFinite {
                count: 2,
                first: [1, 2, 0],
                ..
            }
        ),
        "{err}"
    );
    let lenient = ReadOptions {
        finite_only: false,
        ..ReadOptions::default()
    };
    let v = Volume::<f32>::read_with(&p, &lenient).expect("allowed");
    assert!(v.data()[[1, 2, 0]].is_nan());

    // Across the reader's 256 KiB chunks (this volume is 512 KiB): every one counted, the first
    // named.
    let mut data = Array3::<f32>::zeros((64, 64, 32));
    data[[5, 3, 30]] = f32::INFINITY;
    data[[7, 1, 2]] = f32::NAN;
    data[[8, 1, 2]] = f32::NAN;
    let p = write_f32(dir.path(), "chunks.nii.gz", data);
    let err = Volume::<f32>::read(&p).expect_err("non-finite");
    assert!(
        matches!(
            err,
            Error::NonFinite {
                count: 3,
                first: [7, 1, 2],
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn values_that_do_not_fit_the_type() {
    let mut data = Array3::<f32>::zeros((2, 2, 2));
    data[[1, 0, 0]] = 0.5;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write_f32(dir.path(), "frac.nii", data);
    let err = Volume::<u8>::read(&p).expect_err("0.5 as u8");
    assert!(
        matches!(
            err,
            Error::ValueOutOfRange {
                index: [1, 0, 0],
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn write_refuses_unknown_extensions_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Volume::new(Array3::<u8>::zeros((2, 2, 2)), Geometry::default()).expect("volume");
    assert!(v.write(dir.path().join("x.mha")).is_err());
    assert!(v.write(dir.path().join("missing-dir/x.nii")).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
}
