//! NRRD files against SimpleITK 2.5.7 (`tools/nrrd_reference.py` → `tests/data/io/nrrd/`):
//! two written by SimpleITK (LPS, gzip and raw, oblique), four by hand (RAS and LAS spaces,
//! big-endian, `spacings` without a space, 2-D, comments and key/value pairs). Geometry equals
//! SimpleITK's (LPS turned into RAS+) to 1e-12; voxels equal SimpleITK's, read from its NIfTI
//! copy, exactly; the header reports the stored type and [`TransformSource::Nrrd`].

use std::path::PathBuf;

use adamss_io::{read_header, Error, Geometry, TransformSource, Volume};
use serde_json::Value;

use crate::{data_dir, f64s};

fn dir() -> PathBuf {
    data_dir().join("io/nrrd")
}

#[test]
fn nrrd_files_read_as_simpleitk_reads_them() {
    let text = std::fs::read_to_string(dir().join("nrrd_expected.json")).unwrap();
    let exp: Value = serde_json::from_str(&text).unwrap();
    let cases = exp["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 6);
    for (name, want) in cases {
        let file = dir().join(format!("{name}.nrrd"));
        let info = read_header(&file).unwrap();
        assert_eq!(info.transform, TransformSource::Nrrd);
        let size: Vec<usize> = f64s(&want["size"]).iter().map(|&v| v as usize).collect();
        assert_eq!(info.dims, size, "{name}");
        // SimpleITK's geometry (a 2-D image: its plane, unit depth).
        let (mut spacing, mut origin) = ([1.0; 3], [0.0; 3]);
        let mut direction = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let d = size.len();
        let (sp, or, dirs) = (
            f64s(&want["spacing"]),
            f64s(&want["origin_lps"]),
            f64s(&want["direction_lps"]),
        );
        spacing[..d].copy_from_slice(&sp);
        origin[..d].copy_from_slice(&or);
        for r in 0..d {
            for c in 0..d {
                direction[r][c] = dirs[r * d + c];
            }
        }
        let g = Geometry::from_itk(spacing, origin, direction).unwrap();
        assert!(
            info.geometry.max_affine_difference(&g) < 1e-12,
            "{name}: {:?} vs {:?}",
            info.geometry,
            g
        );
        // Voxels: ours from the NRRD, SimpleITK's from its NIfTI copy, as f64.
        let ours = Volume::<f64>::read(&file).unwrap();
        let theirs = Volume::<f64>::read(dir().join(format!("{name}.voxels.nii.gz"))).unwrap();
        assert_eq!(ours.data(), theirs.data(), "{name}");
        assert_eq!(ours.geometry(), &info.geometry);
        let nifti = read_header(dir().join(format!("{name}.voxels.nii.gz"))).unwrap();
        assert_eq!(info.datatype, nifti.datatype, "{name}: stored type");
    }
}

#[test]
fn unsupported_or_broken_nrrd_is_refused_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let head = "NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\n";
    let cases = [
        ("detached", format!("{head}endian: little\nencoding: raw\ndata file: x.raw\n\n"), "data file"),
        ("ascii", format!("{head}endian: little\nencoding: ascii\n\n"), "ascii"),
        ("no_endian", format!("{head}encoding: raw\n\n"), "endian"),
        ("no_blank", format!("{head}endian: little\nencoding: raw\n"), "blank line"),
        ("type", "NRRD0004\ntype: block\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n".into(), "block"),
        (
            "none_axis",
            format!("{head}endian: little\nencoding: raw\nspace: LPS\nspace directions: none (1,0,0) (0,1,0)\n\n"),
            "none",
        ),
        ("space", format!("{head}endian: little\nencoding: raw\nspace: scanner-xyz\n\n"), "scanner-xyz"),
        ("sizes", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2\nencoding: raw\n\n".into(), "sizes"),
        ("truncated", format!("{head}endian: little\nencoding: raw\n\n\u{1}\u{2}"), ""),
    ];
    for (name, text, key) in cases {
        let p = d.path().join(format!("{name}.nrrd"));
        std::fs::write(&p, text).unwrap();
        let e = Volume::<f32>::read(&p).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(key) && msg.contains(&format!("{name}.nrrd")),
            "{name}: {msg}"
        );
        if name == "truncated" {
            assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
        }
    }
    let p = d.path().join("magic.nrrd");
    std::fs::write(&p, "P5\n2 2\n").unwrap();
    assert!(matches!(
        Volume::<u8>::read(&p),
        Err(Error::NotNifti { .. })
    ));
}
