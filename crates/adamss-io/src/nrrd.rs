//! NRRD files (`.nrrd`, the header attached), as 3D Slicer writes segmentations and PyRadiomics'
//! examples ship them: read into the same [`Volume`] and [`NiftiInfo`] as a NIfTI file, with
//! SimpleITK's reading of the geometry (`space directions` as the axes' spacing × direction,
//! `space origin`, in the file's `space`: LPS, RAS or LAS — LPS without one, as ITK — turned
//! into RAS+ here).
//!
//! Supported: `type` any integer or float type, `dimension` 2 or 3, `encoding` raw or gzip,
//! `endian`, `space` / `space dimension` or, without them, `spacings`. Refused with the field
//! named: detached data (`data file`), other encodings (ascii, hex, bzip2), `line skip` /
//! `byte skip`, non-spatial axes (`space directions` `none`), other spaces. Key/value pairs
//! (`key:=value`) and comments are ignored.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use nifti::NiftiHeader;

use crate::nifti_io::{check_plain_length, data_bytes, decode_volume, NiftiInfo, ReadOptions};
use crate::{Error, Geometry, Result, TransformSource, Volume, Voxel};

/// The largest header read: the text before the blank line (Slicer's are ~1 KiB).
const MAX_HEADER: u64 = 1 << 20;

/// Whether `path` names an NRRD file (by its extension, `.nrrd`, any case).
pub(crate) fn is_nrrd(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("nrrd"))
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::InvalidHeader {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// The header: what the voxels are, where they start and how they are encoded.
struct Header {
    info: NiftiInfo,
    /// Bytes of header text (the data starts there).
    offset: u64,
    gzip: bool,
}

/// NIfTI datatype code of an NRRD `type`.
fn datatype(t: &str) -> Option<i16> {
    Some(match t {
        "signed char" | "int8" | "int8_t" => 256,
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => 2,
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => 4,
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => 512,
        "int" | "signed int" | "int32" | "int32_t" => 8,
        "uint" | "unsigned int" | "uint32" | "uint32_t" => 768,
        "longlong"
        | "long long"
        | "long long int"
        | "signed long long"
        | "signed long long int"
        | "int64"
        | "int64_t" => 1024,
        "ulonglong" | "unsigned long long" | "unsigned long long int" | "uint64" | "uint64_t" => {
            1280
        }
        "float" => 16,
        "double" => 64,
        _ => return None,
    })
}

/// `(a,b,c)` → the numbers; `none` → `None`.
fn vector(path: &Path, field: &str, s: &str) -> Result<Option<Vec<f64>>> {
    let s = s.trim();
    if s == "none" {
        return Ok(None);
    }
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad(path, format!("{field}: {s:?} is not a vector (x,y,z)")))?;
    let v = inner
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(path, format!("{field}: {s:?}: {e}")))?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(bad(path, format!("{field}: {s:?} is not finite")));
    }
    Ok(Some(v))
}

/// A field with one whitespace-separated value per axis (`sizes`, `spacings`).
fn per_axis<T: std::str::FromStr>(
    path: &Path,
    field: &str,
    s: &str,
    dimension: usize,
) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    let v: Vec<T> = s
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(path, format!("{field}: {e}")))?;
    if v.len() != dimension {
        return Err(bad(
            path,
            format!("{} {field} for dimension {dimension}", v.len()),
        ));
    }
    Ok(v)
}

/// The vectors of `space directions` / `space origin`: `(…) (…) …`.
fn vectors(path: &Path, field: &str, s: &str) -> Result<Vec<Option<Vec<f64>>>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let end = if rest.starts_with("none") {
            4
        } else {
            rest.find(')')
                .map(|i| i + 1)
                .ok_or_else(|| bad(path, format!("{field}: unclosed vector in {s:?}")))?
        };
        out.push(vector(path, field, &rest[..end])?);
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

fn read_header(path: &Path) -> Result<Header> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file).take(MAX_HEADER);
    let mut line = String::new();
    let mut offset = 0u64;
    let mut next = |line: &mut String| -> Result<bool> {
        line.clear();
        let n = reader
            .read_line(line)
            .map_err(|e| bad(path, format!("header is not text: {e}")))?;
        offset += n as u64;
        Ok(n > 0)
    };
    if !next(&mut line)? || !line.starts_with("NRRD000") {
        return Err(Error::NotNifti {
            path: path.to_owned(),
            reason: "an .nrrd file must start with the magic \"NRRD000x\"".into(),
        });
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    loop {
        if !next(&mut line)? {
            return Err(bad(
                path,
                format!("no blank line ends the header within its first {MAX_HEADER} bytes"),
            ));
        }
        let l = line.trim_end_matches(['\n', '\r']);
        if l.is_empty() {
            break;
        }
        if l.starts_with('#') || l.contains(":=") {
            continue; // a comment or a key/value pair
        }
        let (k, v) = l
            .split_once(": ")
            .ok_or_else(|| bad(path, format!("header line {l:?} is not \"field: value\"")))?;
        fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    let need =
        |k: &str| get(k).ok_or_else(|| bad(path, format!("the required field {k:?} is missing")));
    for k in ["data file", "datafile"] {
        if get(k).is_some() {
            return Err(bad(
                path,
                "detached data (\"data file\") is not supported: save the NRRD with its data attached (.nrrd)",
            ));
        }
    }
    for k in ["line skip", "lineskip", "byte skip", "byteskip"] {
        if get(k).is_some_and(|v| v != "0") {
            return Err(bad(path, format!("{k:?} is not supported")));
        }
    }
    let ty = need("type")?;
    let code = datatype(ty).ok_or_else(|| bad(path, format!("type {ty:?} is not supported")))?;
    let dimension: usize = need("dimension")?
        .parse()
        .map_err(|e| bad(path, format!("dimension: {e}")))?;
    let sizes: Vec<usize> = per_axis(path, "sizes", need("sizes")?, dimension)?;
    if !(2..=3).contains(&dimension) {
        return Err(Error::NotThreeD {
            path: path.to_owned(),
            dim: sizes.iter().map(|&s| s as i64).collect(),
        });
    }
    if let Some(s) = sizes.iter().find(|&&s| s == 0 || s > i16::MAX as usize) {
        return Err(bad(path, format!("size {s} in {sizes:?} is out of range")));
    }
    let gzip = match need("encoding")? {
        "raw" => false,
        "gzip" | "gz" => true,
        other => {
            return Err(bad(
                path,
                format!("encoding {other:?} is not supported (raw and gzip are)"),
            ))
        }
    };
    let element = crate::nifti_io::datatype_size(code);
    let big_endian = match get("endian") {
        Some("big") => true,
        Some("little") => false,
        Some(other) => return Err(bad(path, format!("endian {other:?}"))),
        None if element > 1 => {
            return Err(bad(path, "\"endian\" is required for multi-byte voxels"))
        }
        None => false,
    };
    let geometry = geometry(path, dimension, &get)?;
    let mut shape = [1usize; 3];
    shape[..dimension].copy_from_slice(&sizes);
    let mut pixdim = [1.0f32; 8];
    for a in 0..3 {
        pixdim[a + 1] = geometry.spacing[a] as f32;
    }
    Ok(Header {
        info: NiftiInfo {
            shape,
            dims: sizes,
            datatype: code,
            datatype_name: crate::nifti_io::datatype_label(code),
            geometry,
            transform: TransformSource::Nrrd,
            qform_code: 0,
            sform_code: 0,
            qform: None,
            sform: None,
            qform_sform_difference_mm: None,
            scl_slope: 0.0,
            scl_inter: 0.0,
            pixdim,
            big_endian,
        },
        offset,
        gzip,
    })
}

/// The geometry from `space` + `space directions` + `space origin` (or `spacings`), in RAS+.
fn geometry<'a>(
    path: &Path,
    dimension: usize,
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<Geometry> {
    // Axes of the space in RAS+ terms: which coordinates to negate. Without a `space`, the
    // coordinates are ITK's own, LPS (as SimpleITK reads them).
    let flip: [f64; 3] = match get("space") {
        None | Some("left-posterior-superior" | "LPS") => [-1.0, -1.0, 1.0],
        Some("right-anterior-superior" | "RAS") => [1.0; 3],
        Some("left-anterior-superior" | "LAS") => [-1.0, 1.0, 1.0],
        Some(other) => {
            return Err(bad(
                path,
                format!("space {other:?} is not supported (LPS, RAS and LAS are)"),
            ))
        }
    };
    let space_dim = match get("space dimension") {
        Some(d) => d
            .parse()
            .map_err(|e| bad(path, format!("space dimension: {e}")))?,
        None if get("space").is_some() => 3,
        None => dimension,
    };
    let mut spacing = [1.0; 3];
    let mut direction = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let mut origin = [0.0; 3];
    if let Some(dirs) = get("space directions") {
        let dirs = vectors(path, "space directions", dirs)?;
        if dirs.len() != dimension {
            return Err(bad(
                path,
                format!(
                    "space directions: {} vectors for dimension {dimension}",
                    dirs.len()
                ),
            ));
        }
        for (axis, d) in dirs.iter().enumerate() {
            let d = d.as_ref().ok_or_else(|| {
                bad(
                    path,
                    "space directions: non-spatial axes (\"none\") are not supported",
                )
            })?;
            if d.len() != space_dim || space_dim > 3 {
                return Err(bad(
                    path,
                    format!("space directions: {d:?} has not {space_dim} components"),
                ));
            }
            let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm == 0.0 {
                return Err(bad(path, format!("space directions: axis {axis} is zero")));
            }
            spacing[axis] = norm;
            for r in 0..3 {
                // A 2-D space leaves the third row 0.
                direction[r][axis] = d.get(r).map_or(0.0, |v| v / norm * flip[r]);
            }
        }
    } else if let Some(s) = get("spacings") {
        let v: Vec<f64> = per_axis(path, "spacings", s, dimension)?;
        spacing[..dimension].copy_from_slice(&v);
        for (r, row) in direction.iter_mut().enumerate() {
            row[r] *= flip[r];
        }
    }
    if let Some(o) = get("space origin") {
        let o = vector(path, "space origin", o)?.ok_or_else(|| bad(path, "space origin: none"))?;
        if o.len() != space_dim || space_dim > 3 {
            return Err(bad(
                path,
                format!("space origin {o:?} has not {space_dim} components"),
            ));
        }
        for (r, v) in o.iter().enumerate() {
            origin[r] = v * flip[r];
        }
    }
    Geometry::new(spacing, origin, direction).map_err(|e| bad(path, e.to_string()))
}

/// The header of an NRRD file, as [`crate::read_header`] gives a NIfTI file's.
pub(crate) fn read_info(path: &Path) -> Result<NiftiInfo> {
    Ok(read_header(path)?.info)
}

/// The volume of an NRRD file (see the module docs).
pub(crate) fn read<T: Voxel>(path: &Path, options: &ReadOptions) -> Result<Volume<T>> {
    let h = read_header(path)?;
    let needed = data_bytes(&h.info, path, T::SIZE, options)?;
    let mut file = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
    std::io::copy(&mut (&mut file).take(h.offset), &mut std::io::sink())
        .map_err(|e| Error::io(path, e))?;
    // No scaling: decode_volume reads scl_slope 0 as none.
    let none = NiftiHeader {
        scl_slope: 0.0,
        ..NiftiHeader::default()
    };
    if h.gzip {
        let reader = flate2::bufread::MultiGzDecoder::new(file);
        decode_volume(reader, &none, h.info, path, h.offset, options)
    } else {
        check_plain_length(path, h.offset, needed)?;
        decode_volume(file, &none, h.info, path, h.offset, options)
    }
}

/// The NRRD `type` of a NIfTI datatype code (the [`Voxel`] types).
fn type_name(code: i16) -> &'static str {
    match code {
        2 => "uint8",
        256 => "int8",
        4 => "int16",
        512 => "uint16",
        8 => "int32",
        768 => "uint32",
        1024 => "int64",
        1280 => "uint64",
        16 => "float",
        _ => "double",
    }
}

/// A number as written in the header: the shortest text that reads back to the same `f64`.
fn number(v: f64) -> String {
    // −0 as 0: the same position, and a cleaner header.
    format!("{}", if v == 0.0 { 0.0 } else { v })
}

/// Writes `volume` as an NRRD file with its header attached, as SimpleITK's
/// `WriteImage(image, "x.nrrd", useCompression=True)` writes one: `space:
/// left-posterior-superior`, `space directions` the axes' LPS direction × spacing, `space
/// origin` the first voxel's LPS position, the stored type, the host's byte order, gzip
/// encoding (level 6); the file appears whole or not at all ([`crate::write_atomic`]).
pub(crate) fn write<T: Voxel>(volume: &Volume<T>, path: &Path) -> Result<()> {
    use std::io::Write;
    let g = volume.geometry();
    let [ni, nj, nk] = volume.shape();
    let d = g.direction_lps();
    let directions: Vec<String> = (0..3)
        .map(|c| {
            let s = g.spacing[c];
            format!(
                "({},{},{})",
                number(d[0][c] * s),
                number(d[1][c] * s),
                number(d[2][c] * s)
            )
        })
        .collect();
    let o = g.origin_lps();
    let header = format!(
        "NRRD0004\n# written by adamss-io\ntype: {}\ndimension: 3\nspace: left-posterior-superior\nsizes: {ni} {nj} {nk}\nspace directions: {}\nkinds: domain domain domain\nendian: {}\nencoding: gzip\nspace origin: ({},{},{})\n\n",
        type_name(T::DATATYPE),
        directions.join(" "),
        if cfg!(target_endian = "little") { "little" } else { "big" },
        number(o[0]),
        number(o[1]),
        number(o[2]),
    );
    // Voxels with i fastest (NRRD's first axis), in the host's byte order as declared.
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(ni * nj * nk * T::SIZE / 2),
        flate2::Compression::new(6),
    );
    let io = |e| Error::io(path, e);
    for v in volume.data().t().iter() {
        gz.write_all(bytemuck::bytes_of(v)).map_err(io)?;
    }
    let data = gz.finish().map_err(io)?;
    let mut bytes = header.into_bytes();
    bytes.extend_from_slice(&data);
    crate::write_atomic(path, &bytes)
}
