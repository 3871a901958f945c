//! Reading and writing NIfTI-1 files (`.nii`, `.nii.gz`, and `.hdr`/`.img` pairs for reading).
//!
//! The header is parsed by the [`nifti`] crate; this module validates it *before* allocating,
//! picks the affine by the NIfTI-1 rules, streams and converts the voxels, and writes files
//! atomically (a temporary file renamed into place).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array3, ShapeBuilder};
use nifti::NiftiHeader;

use crate::{Affine, Error, Geometry, Result, Volume, Voxel};

/// NIfTI-1 header size in bytes.
const HEADER_SIZE: usize = 348;
/// Bytes decoded per read while streaming voxels.
const CHUNK: usize = 1 << 18;

/// Options for reading NIfTI files.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadOptions {
    /// Largest voxel buffer (on disk or in memory, whichever is larger) a header may ask for,
    /// checked before anything is allocated. Default 4 GiB.
    pub max_bytes: u64,
    /// Refuse NaN and ±Inf voxels ([`Error::NonFinite`]). Default `true`.
    pub finite_only: bool,
    /// Take the geometry from the qform when `qform_code > 0`, before the sform (default
    /// `false`: the NIfTI-1 order, sform first, as nibabel). SimpleITK reads the qform when the
    /// sform is not a rotation scaled by `pixdim`; see [`NiftiInfo::qform_sform_difference_mm`].
    pub prefer_qform: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 30,
            finite_only: true,
            prefer_qform: false,
        }
    }
}

/// What a NIfTI header says, without the voxels ([`read_header`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiInfo {
    /// `[ni, nj, nk]`.
    pub shape: [usize; 3],
    /// Every dimension the header declares (`dim[1..=dim[0]]`), e.g. four for a time series:
    /// [`read_header`] reports them, [`Volume::read`] accepts only those whose dimensions past
    /// the third are 1.
    pub dims: Vec<usize>,
    /// NIfTI `datatype` code of the stored voxels.
    pub datatype: i16,
    /// Its NIfTI-1 name (`"INT16"`, `"FLOAT32"`, ...).
    pub datatype_name: &'static str,
    /// Geometry from the chosen affine.
    pub geometry: Geometry,
    /// Which transform gave the geometry.
    pub transform: TransformSource,
    /// `qform_code` as stored (0: no qform).
    pub qform_code: i16,
    /// `sform_code` as stored (0: no sform).
    pub sform_code: i16,
    /// The qform's geometry, when `qform_code > 0` (and valid).
    pub qform: Option<Geometry>,
    /// The sform's geometry, when `sform_code > 0` (and a valid rotation with scales).
    pub sform: Option<Geometry>,
    /// When both transforms are present: the largest difference between their affines, in
    /// mm. Tools disagree on which to use when they differ — the NIfTI standard and nibabel
    /// take the sform, SimpleITK the qform whenever the sform is not a rotation scaled by
    /// `pixdim` — so a volume with a difference here may sit elsewhere in SimpleITK;
    /// [`NiftiInfo::transform`] says which one this crate used.
    pub qform_sform_difference_mm: Option<f64>,
    /// `scl_slope` as stored (0 means no scaling).
    pub scl_slope: f32,
    /// `scl_inter` as stored.
    pub scl_inter: f32,
    /// `pixdim[0..8]` as stored.
    pub pixdim: [f32; 8],
    /// Whether the file is big-endian.
    pub big_endian: bool,
}

impl std::fmt::Display for NiftiInfo {
    /// The header as this toolkit reads it, one field per line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "shape:     {:?}", self.shape)?;
        writeln!(f, "datatype:  {} ({})", self.datatype_name, self.datatype)?;
        writeln!(f, "transform: {:?}", self.transform)?;
        if self.dims.len() > 3 {
            writeln!(
                f,
                "dims:      {:?} (only the first three are read)",
                self.dims
            )?;
        }
        if let Some(d) = self.qform_sform_difference_mm.filter(|&d| d > 1e-3) {
            writeln!(
                f,
                "warning:   qform and sform differ by up to {d:.3} mm; the {:?} was used \
                 (SimpleITK may use the other)",
                self.transform
            )?;
        }
        writeln!(f, "spacing:   {:?}", self.geometry.spacing)?;
        writeln!(f, "origin:    {:?}", self.geometry.origin)?;
        writeln!(f, "direction: {:?}", self.geometry.direction)?;
        writeln!(
            f,
            "scaling:   slope {} inter {}",
            self.scl_slope, self.scl_inter
        )?;
        write!(
            f,
            "byteorder: {}",
            if self.big_endian { "big" } else { "little" }
        )
    }
}

/// Which header transform a volume's geometry comes from (NIfTI-1 rules: sform when
/// `sform_code > 0`, else qform when `qform_code > 0`, else pixdim scaling alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransformSource {
    /// `srow_x`, `srow_y`, `srow_z`.
    Sform,
    /// The quaternion, `qoffset_*` and `pixdim`.
    Qform,
    /// `pixdim[1..=3]` on the diagonal, origin 0 ("method 1" of the standard; nibabel instead
    /// centres the image and flips x for such files).
    Pixdim,
    /// Not NIfTI: an NRRD file's `space directions` and `space origin` (or `spacings`).
    Nrrd,
    /// Not NIfTI: a DICOM series' `ImagePositionPatient`, `ImageOrientationPatient` and
    /// `PixelSpacing` ([`crate::dicom`]).
    Dicom,
}

/// Reads only the header of a NIfTI file (or of an NRRD file, `.nrrd`: its geometry and voxel
/// type in the same terms, [`TransformSource::Nrrd`]; or of a folder's DICOM image series or
/// one multi-frame DICOM image file, [`TransformSource::Dicom`], its slices' headers only).
pub fn read_header(path: impl AsRef<Path>) -> Result<NiftiInfo> {
    let path = path.as_ref();
    if crate::nrrd::is_nrrd(path) {
        return crate::nrrd::read_info(path);
    }
    if path.is_dir() || crate::dicom::is_image_file(path) {
        return crate::dicom::read_info(path);
    }
    let (hdr_path, _) = file_pair(path);
    let mut reader = open_maybe_gz(&hdr_path)?;
    let header = read_raw_header(&mut reader, &hdr_path)?;
    interpret(&header, &hdr_path, false)
}

impl<T: Voxel> Volume<T> {
    /// Reads a NIfTI-1 file with default [`ReadOptions`], converting voxels to `T` after
    /// applying `scl_slope`/`scl_inter`. See [`Volume::read_with`].
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        Self::read_with(path, &ReadOptions::default())
    }

    /// Reads a NIfTI-1 file: `.nii`, `.nii.gz`, or a `.hdr`/`.img` pair (either name, each
    /// optionally gzipped; gzip is recognised by content, not by name). A `.nrrd` file (header
    /// attached, raw or gzip data) is read as SimpleITK reads it, geometry in RAS+. A folder is
    /// read as a DICOM image series, the folder's only one ([`crate::dicom`]; to choose among
    /// several, [`crate::read_series`]); a DICOM file holding a multi-frame image (an enhanced
    /// CT or PET: the `DICM` marker, not named `.nii`/`.nrrd`/…) as that image alone.
    ///
    /// Voxels are scaled as `stored · scl_slope + scl_inter` unless `scl_slope` is 0 or not
    /// finite, and converted to `T`: to an integer `T` only when every value is whole and in
    /// range ([`Error::ValueOutOfRange`] otherwise). Images of more than three dimensions are
    /// accepted when the extra dimensions have size 1.
    pub fn read_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        if crate::nrrd::is_nrrd(path) {
            return crate::nrrd::read(path, options);
        }
        if path.is_dir() {
            return crate::dicom::read_series(path, None, options);
        }
        if crate::dicom::is_image_file(path) {
            return crate::dicom::read_image_file(path, options);
        }
        let (hdr_path, img_path) = file_pair(path);
        let mut reader = open_maybe_gz(&hdr_path)?;
        let header = read_raw_header(&mut reader, &hdr_path)?;
        let info = interpret_volume(&header, &hdr_path, options)?;
        let offset = vox_offset(&header, &hdr_path, hdr_path != img_path, options)?;
        let needed = data_bytes(&info, &hdr_path, T::SIZE, options)?;
        if hdr_path == img_path {
            let already = HEADER_SIZE as u64;
            if offset < already {
                return Err(Error::InvalidHeader {
                    path: hdr_path,
                    reason: format!("vox_offset {offset} lies inside the 348-byte header"),
                });
            }
            check_plain_length(&hdr_path, offset, needed)?;
            skip(&mut reader, offset - already, &hdr_path, offset, needed)?;
            decode_volume(reader, &header, info, &hdr_path, offset, options)
        } else {
            let mut data = open_maybe_gz(&img_path)?;
            check_plain_length(&img_path, offset, needed)?;
            skip(&mut data, offset, &img_path, offset, needed)?;
            decode_volume(data, &header, info, &img_path, offset, options)
        }
    }

    /// Reads a whole NIfTI-1 file (optionally gzipped) from memory; `name` is used in errors.
    pub fn read_bytes(bytes: &[u8], name: &str, options: &ReadOptions) -> Result<Self> {
        let path = PathBuf::from(name);
        let mut reader: Box<dyn Read + '_> = if bytes.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(bytes))
        } else {
            Box::new(bytes)
        };
        let header = read_raw_header(&mut reader, &path)?;
        let info = interpret_volume(&header, &path, options)?;
        let offset = vox_offset(&header, &path, false, options)?;
        let needed = data_bytes(&info, &path, T::SIZE, options)?;
        skip(
            &mut reader,
            offset.saturating_sub(HEADER_SIZE as u64),
            &path,
            offset,
            needed,
        )?;
        decode_volume(reader, &header, info, &path, offset, options)
    }

    /// Writes the volume as `.nii` or `.nii.gz` (chosen by the name), storing `T` natively
    /// (no scaling). The sform holds the affine (code 1, scanner); the qform holds it too when
    /// the direction has no shear. A `.nrrd` name writes an NRRD file instead, as SimpleITK
    /// writes one (LPS space, the header attached, gzip; what 3D Slicer opens). The file
    /// appears whole or not at all: it is written to a temporary name in the same folder and
    /// renamed.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if crate::nrrd::is_nrrd(path) {
            return crate::nrrd::write(self, path);
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Layout {
                path: path.to_owned(),
                reason: "not a file name".into(),
            })?;
        let (stem, ext) = if let Some(stem) = name.strip_suffix(".nii.gz") {
            (stem, "nii.gz")
        } else if let Some(stem) = name.strip_suffix(".nii") {
            (stem, "nii")
        } else {
            return Err(Error::Layout {
                path: path.to_owned(),
                reason: "NIfTI files are written as .nii or .nii.gz".into(),
            });
        };
        // No dots in the temporary stem: the nifti writer re-derives extensions from the name.
        let tmp = crate::atomic::partial_name(path, stem, &format!(".{ext}"));
        let header = self.nifti_header();
        let written = nifti::writer::WriterOptions::new(&tmp)
            .reference_header(&header)
            .write_nifti_with_type(&self.data().view(), datatype_of::<T>())
            .map_err(|e| nifti_error(&tmp, e))
            .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    fn nifti_header(&self) -> NiftiHeader {
        let g = self.geometry();
        let a = g.affine();
        let mut h = NiftiHeader {
            sform_code: 1,
            srow_x: row_f32(&a[0]),
            srow_y: row_f32(&a[1]),
            srow_z: row_f32(&a[2]),
            xyzt_units: 2, // millimetres
            ..NiftiHeader::default()
        };
        h.pixdim = [1.0; 8];
        for axis in 0..3 {
            h.pixdim[axis + 1] = g.spacing[axis] as f32;
        }
        if g.is_orthonormal(1e-5) {
            let ([b, c, d], qfac) = g.quaternion();
            h.qform_code = 1;
            h.pixdim[0] = qfac as f32;
            h.quatern_b = b as f32;
            h.quatern_c = c as f32;
            h.quatern_d = d as f32;
            h.quatern_x = g.origin[0] as f32;
            h.quatern_y = g.origin[1] as f32;
            h.quatern_z = g.origin[2] as f32;
        } else {
            h.qform_code = 0;
        }
        let mut descrip = b"adamss-io".to_vec();
        descrip.resize(80, 0);
        h.descrip = descrip;
        h
    }
}

fn row_f32(row: &[f64; 4]) -> [f32; 4] {
    row.map(|v| v as f32)
}

fn datatype_of<T: Voxel>() -> nifti::NiftiType {
    use nifti::NiftiType as N;
    match T::DATATYPE {
        2 => N::Uint8,
        4 => N::Int16,
        8 => N::Int32,
        16 => N::Float32,
        64 => N::Float64,
        256 => N::Int8,
        512 => N::Uint16,
        768 => N::Uint32,
        1024 => N::Int64,
        _ => N::Uint64,
    }
}

fn nifti_error(path: &Path, e: nifti::NiftiError) -> Error {
    match e {
        nifti::NiftiError::Io(source) => Error::io(path, source),
        other => Error::InvalidHeader {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// `(header file, data file)`: the same path for single files.
fn file_pair(path: &Path) -> (PathBuf, PathBuf) {
    let name = path.to_string_lossy();
    let swap = |from: &str, to: &str| -> Option<PathBuf> {
        name.strip_suffix(from)
            .map(|s| PathBuf::from(format!("{s}{to}")))
    };
    if let Some(img) = swap(".hdr", ".img").or_else(|| swap(".hdr.gz", ".img.gz")) {
        let img = if img.exists() {
            img
        } else {
            // .hdr with .img.gz or the reverse
            alt_gz(&img)
        };
        (path.to_owned(), img)
    } else if let Some(hdr) = swap(".img", ".hdr").or_else(|| swap(".img.gz", ".hdr.gz")) {
        let hdr = if hdr.exists() { hdr } else { alt_gz(&hdr) };
        (hdr, path.to_owned())
    } else {
        (path.to_owned(), path.to_owned())
    }
}

fn alt_gz(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    match s.strip_suffix(".gz") {
        Some(plain) => PathBuf::from(plain),
        None => PathBuf::from(format!("{s}.gz")),
    }
}

fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = BufReader::with_capacity(CHUNK, file);
    let head = io::BufRead::fill_buf(&mut buf).map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buf)))
    } else {
        Ok(Box::new(buf))
    }
}

/// Maps a read error to Gzip (corrupt stream), Truncated (EOF) or Io.
fn read_error(e: io::Error, path: &Path, offset: u64, expected: u64, found: u64) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::Truncated {
            path: path.to_owned(),
            offset,
            expected,
            found,
        },
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::Other => {
            Error::Gzip {
                path: path.to_owned(),
                source: e,
            }
        }
        _ => Error::io(path, e),
    }
}

fn read_raw_header(reader: &mut dyn Read, path: &Path) -> Result<NiftiHeader> {
    let mut buf = [0u8; HEADER_SIZE];
    let mut got = 0;
    while got < HEADER_SIZE {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e, path, 0, 0, 0)),
        }
    }
    if got < HEADER_SIZE {
        return Err(Error::NotNifti {
            path: path.to_owned(),
            reason: format!("{got} bytes, shorter than the 348-byte header"),
        });
    }
    let size_le = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let size_be = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if size_le == 540 || size_be == 540 {
        return Err(Error::NotNifti {
            path: path.to_owned(),
            reason: "NIfTI-2 files are not supported yet".into(),
        });
    }
    if size_le != 348 && size_be != 348 {
        return Err(Error::NotNifti {
            path: path.to_owned(),
            reason: format!("sizeof_hdr is {size_le}, not 348"),
        });
    }
    let magic = &buf[344..348];
    if magic != b"n+1\0" && magic != b"ni1\0" {
        return Err(Error::NotNifti {
            path: path.to_owned(),
            reason: format!(
                "magic is {magic:?}, not \"n+1\" or \"ni1\" (Analyze 7.5 is not supported)"
            ),
        });
    }
    let mut header = NiftiHeader::from_reader(&buf[..]).map_err(|e| Error::NotNifti {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    // The nifti crate picks the byte order from dim[0]; sizeof_hdr is the sturdier signal.
    let big = size_be == 348 && size_le != 348;
    if big != (header.endianness == nifti::Endianness::Big) {
        return Err(Error::InvalidHeader {
            path: path.to_owned(),
            reason: format!("dim[0] = {} is outside 1..=7", header.dim[0].swap_bytes()),
        });
    }
    header.magic.copy_from_slice(magic);
    Ok(header)
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::InvalidHeader {
        path: path.to_owned(),
        reason,
    }
}

/// Element size in bytes of a supported datatype code (8 for others).
pub(crate) fn datatype_size(code: i16) -> usize {
    datatype_info(code).map_or(8, |(s, _)| s)
}

/// NIfTI name of a datatype code.
pub(crate) fn datatype_label(code: i16) -> &'static str {
    datatype_name(code)
}

/// Element size in bytes and NIfTI name of a datatype code.
fn datatype_info(code: i16) -> Option<(usize, &'static str)> {
    Some(match code {
        2 => (1, "UINT8"),
        4 => (2, "INT16"),
        8 => (4, "INT32"),
        16 => (4, "FLOAT32"),
        64 => (8, "FLOAT64"),
        256 => (1, "INT8"),
        512 => (2, "UINT16"),
        768 => (4, "UINT32"),
        1024 => (8, "INT64"),
        1280 => (8, "UINT64"),
        _ => return None,
    })
}

fn datatype_name(code: i16) -> &'static str {
    match code {
        1 => "BINARY",
        32 => "COMPLEX64",
        128 => "RGB24",
        1536 => "FLOAT128",
        1792 => "COMPLEX128",
        2048 => "COMPLEX256",
        2304 => "RGBA32",
        c => datatype_info(c).map_or("unknown", |(_, n)| n),
    }
}

/// The header of a volume to read: three dimensions (further ones of size 1).
fn interpret_volume(h: &NiftiHeader, path: &Path, options: &ReadOptions) -> Result<NiftiInfo> {
    let info = interpret(h, path, options.prefer_qform)?;
    if info.dims.iter().skip(3).any(|&d| d != 1) {
        return Err(Error::NotThreeD {
            path: path.to_owned(),
            dim: info.dims.iter().map(|&d| d as i64).collect(),
        });
    }
    Ok(info)
}

fn interpret(h: &NiftiHeader, path: &Path, prefer_qform: bool) -> Result<NiftiInfo> {
    let ndim = h.dim[0] as i16;
    if !(1..=7).contains(&ndim) {
        return Err(invalid(path, format!("dim[0] = {ndim} is outside 1..=7")));
    }
    let ndim = ndim as usize;
    let dims: Vec<i64> = (1..=ndim).map(|a| i64::from(h.dim[a] as i16)).collect();
    if let Some(d) = dims.iter().find(|&&d| d < 1) {
        return Err(invalid(
            path,
            format!("dimension {d} in dim = {dims:?} is not positive"),
        ));
    }
    let mut shape = [1usize; 3];
    for (s, d) in shape.iter_mut().zip(&dims) {
        *s = *d as usize;
    }
    let Some(_) = datatype_info(h.datatype) else {
        return Err(Error::UnsupportedDatatype {
            path: path.to_owned(),
            code: h.datatype,
            name: datatype_name(h.datatype),
        });
    };
    let (affine, transform) = choose_affine(h, path, prefer_qform)?;
    let geometry = header_geometry(&affine, h)
        .map_err(|e| invalid(path, format!("{e} (from {transform:?})")))?;
    let qform = (h.qform_code > 0)
        .then(|| qform_affine(h, path).ok())
        .flatten();
    let sform = (h.sform_code > 0).then(|| sform_affine(h));
    let qform_sform_difference_mm = match (&qform, &sform) {
        (Some(q), Some(s)) => Some(
            (q.iter().flatten().zip(s.iter().flatten()))
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max),
        ),
        _ => None,
    };
    Ok(NiftiInfo {
        shape,
        dims: dims.iter().map(|&d| d as usize).collect(),
        qform_code: h.qform_code,
        sform_code: h.sform_code,
        qform: qform.and_then(|a| header_geometry(&a, h).ok()),
        sform: sform.and_then(|a| header_geometry(&a, h).ok()),
        qform_sform_difference_mm,
        datatype: h.datatype,
        datatype_name: datatype_name(h.datatype),
        geometry,
        transform,
        scl_slope: h.scl_slope,
        scl_inter: h.scl_inter,
        pixdim: h.pixdim,
        big_endian: h.endianness == nifti::Endianness::Big,
    })
}

fn sform_affine(h: &NiftiHeader) -> Affine {
    let rows = [h.srow_x, h.srow_y, h.srow_z];
    let mut a = [[0.0; 4]; 4];
    for (r, row) in rows.iter().enumerate() {
        a[r] = row.map(f64::from);
    }
    a[3][3] = 1.0;
    a
}

/// How far (relative) an sform column's norm may lie from `pixdim` and still be read as
/// `pixdim`: a few float32 rounding steps (one is 6e-8), far below any spacing a writer means.
const SFORM_PIXDIM_RELATIVE: f64 = 1e-6;

/// The geometry of a header transform's `affine`. An sform stores `direction × spacing` rounded
/// to float32, so for an oblique volume its column norms miss the spacing the writer meant by
/// about 1e-8 relative (1.5 mm reads 1.5000000234), enough to move a resampled grid's size
/// across `ceil`; a qform's `rotation × pixdim` misses it by an f64 rounding
/// (2.0000000000000004). Where a norm agrees with `pixdim` within [`SFORM_PIXDIM_RELATIVE`], the
/// spacing is `pixdim`'s, as ITK and SimpleITK read it and as nibabel's `header.get_zooms()`
/// gives it; the direction stays the normalised column (ITK's too) and the origin the
/// transform's. A norm further from `pixdim` is kept: that sform means another spacing, and it
/// is the transform the standard says to use. (For `diag(pixdim)` the norms are `pixdim`.)
fn header_geometry(affine: &Affine, h: &NiftiHeader) -> Result<Geometry> {
    let mut geometry = Geometry::from_affine(affine)?;
    for axis in 0..3 {
        let p = f64::from(h.pixdim[axis + 1]);
        let norm = geometry.spacing[axis];
        if p.is_finite() && p > 0.0 && (norm - p).abs() <= SFORM_PIXDIM_RELATIVE * p {
            geometry.spacing[axis] = p;
        }
    }
    Ok(geometry)
}

fn pixdim(h: &NiftiHeader, path: &Path) -> Result<[f64; 3]> {
    let one = |axis: usize| -> Result<f64> {
        let p = f64::from(h.pixdim[axis]);
        if p.is_finite() && p > 0.0 {
            Ok(p)
        } else {
            Err(invalid(
                path,
                format!("pixdim[{axis}] = {p} must be positive"),
            ))
        }
    };
    Ok([one(1)?, one(2)?, one(3)?])
}

fn qform_affine(h: &NiftiHeader, path: &Path) -> Result<Affine> {
    let spacing = pixdim(h, path)?;
    let mut a = [[0.0; 4]; 4];
    a[3][3] = 1.0;
    let bcd = [h.quatern_b, h.quatern_c, h.quatern_d].map(f64::from);
    let r = Geometry::quaternion_rotation(bcd).map_err(|e| invalid(path, e))?;
    let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
    let scale = [spacing[0], spacing[1], spacing[2] * qfac];
    for row in 0..3 {
        for col in 0..3 {
            a[row][col] = r[row][col] * scale[col];
        }
    }
    a[0][3] = f64::from(h.quatern_x);
    a[1][3] = f64::from(h.quatern_y);
    a[2][3] = f64::from(h.quatern_z);
    Ok(a)
}

fn choose_affine(
    h: &NiftiHeader,
    path: &Path,
    prefer_qform: bool,
) -> Result<(Affine, TransformSource)> {
    if h.qform_code > 0 && (prefer_qform || h.sform_code <= 0) {
        return Ok((qform_affine(h, path)?, TransformSource::Qform));
    }
    if h.sform_code > 0 {
        return Ok((sform_affine(h), TransformSource::Sform));
    }
    let spacing = pixdim(h, path)?;
    let mut a = [[0.0; 4]; 4];
    a[3][3] = 1.0;
    for axis in 0..3 {
        a[axis][axis] = spacing[axis];
    }
    Ok((a, TransformSource::Pixdim))
}

fn vox_offset(h: &NiftiHeader, path: &Path, pair: bool, options: &ReadOptions) -> Result<u64> {
    let v = h.vox_offset;
    if !v.is_finite() || v < 0.0 || f64::from(v) > options.max_bytes as f64 {
        return Err(invalid(
            path,
            format!("vox_offset {v} is not a usable offset"),
        ));
    }
    let v = v as u64;
    // NIfTI-1 single files put the data at vox_offset >= 352; some writers say 0 and mean 352.
    Ok(if !pair && v < HEADER_SIZE as u64 {
        352
    } else {
        v
    })
}

/// Bytes of stored voxel data, after checking both it and the decoded size against the bound.
pub(crate) fn data_bytes(
    info: &NiftiInfo,
    path: &Path,
    out_size: usize,
    options: &ReadOptions,
) -> Result<u64> {
    let (size, _) = datatype_info(info.datatype).unwrap_or((8, ""));
    let n: u128 = info.shape.iter().map(|&d| d as u128).product();
    let stored = n * size as u128;
    let decoded = n * out_size as u128;
    let needed = stored.max(decoded);
    if needed > u128::from(options.max_bytes) {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            needed,
            limit: options.max_bytes,
        });
    }
    Ok(stored as u64)
}

pub(crate) fn check_plain_length(path: &Path, offset: u64, needed: u64) -> Result<()> {
    // Only possible for uncompressed files; a gzip stream's length is known once read.
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(|e| Error::io(path, e))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Ok(());
    }
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len < offset.saturating_add(needed) {
        return Err(Error::Truncated {
            path: path.to_owned(),
            offset,
            expected: needed,
            found: len.saturating_sub(offset),
        });
    }
    Ok(())
}

fn skip(reader: &mut dyn Read, n: u64, path: &Path, offset: u64, needed: u64) -> Result<()> {
    let copied = io::copy(&mut reader.take(n), &mut io::sink())
        .map_err(|e| read_error(e, path, offset, needed, 0))?;
    if copied < n {
        return Err(Error::Truncated {
            path: path.to_owned(),
            offset,
            expected: needed,
            found: 0,
        });
    }
    Ok(())
}

/// How stored values become output values.
#[derive(Clone, Copy)]
struct Scaling {
    slope: f64,
    inter: f64,
}

impl Scaling {
    fn of(h: &NiftiHeader) -> Option<Self> {
        let slope = f64::from(h.scl_slope);
        let inter = f64::from(h.scl_inter);
        if slope == 0.0 || !slope.is_finite() {
            return None;
        }
        let inter = if inter.is_finite() { inter } else { 0.0 };
        (slope != 1.0 || inter != 0.0).then_some(Self { slope, inter })
    }
}

pub(crate) fn decode_volume<T: Voxel>(
    mut reader: impl Read,
    h: &NiftiHeader,
    info: NiftiInfo,
    path: &Path,
    offset: u64,
    options: &ReadOptions,
) -> Result<Volume<T>> {
    let big = info.big_endian;
    let scaling = Scaling::of(h);
    let ctx = DecodeCtx {
        path,
        offset,
        shape: info.shape,
        big,
        scaling,
        finite_only: options.finite_only,
    };
    let data = match info.datatype {
        2 => ctx.decode::<u8, T>(&mut reader),
        4 => ctx.decode::<i16, T>(&mut reader),
        8 => ctx.decode::<i32, T>(&mut reader),
        16 => ctx.decode::<f32, T>(&mut reader),
        64 => ctx.decode::<f64, T>(&mut reader),
        256 => ctx.decode::<i8, T>(&mut reader),
        512 => ctx.decode::<u16, T>(&mut reader),
        768 => ctx.decode::<u32, T>(&mut reader),
        1024 => ctx.decode::<i64, T>(&mut reader),
        _ => ctx.decode::<u64, T>(&mut reader),
    }?;
    // Read what follows the voxels so a gzip stream's trailer (CRC, length) is checked.
    io::copy(&mut reader, &mut io::sink()).map_err(|e| read_error(e, path, offset, 0, 0))?;
    Volume::new(data, info.geometry).map_err(|e| invalid(path, e.to_string()))
}

struct DecodeCtx<'a> {
    path: &'a Path,
    offset: u64,
    shape: [usize; 3],
    big: bool,
    scaling: Option<Scaling>,
    finite_only: bool,
}

impl DecodeCtx<'_> {
    fn index(&self, linear: usize) -> [usize; 3] {
        let [ni, nj, _] = self.shape;
        [linear % ni, (linear / ni) % nj, linear / (ni * nj)]
    }

    fn decode<S: Voxel, T: Voxel>(&self, mut reader: impl Read) -> Result<Array3<T>> {
        let n: usize = self.shape.iter().product();
        let expected = (n * S::SIZE) as u64;
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(n).map_err(|_| Error::TooLarge {
            path: self.path.to_owned(),
            needed: (n * T::SIZE) as u128,
            limit: 0,
        })?;
        let direct = self.scaling.is_none() && S::DATATYPE == T::DATATYPE;
        let mut buf = vec![0u8; (CHUNK / S::SIZE).max(1) * S::SIZE];
        let mut non_finite: Option<(usize, usize)> = None;
        let mut done = 0usize;
        while done < n {
            let want = ((n - done) * S::SIZE).min(buf.len());
            let mut filled = 0;
            while filled < want {
                match reader.read(&mut buf[filled..want]) {
                    Ok(0) => {
                        return Err(Error::Truncated {
                            path: self.path.to_owned(),
                            offset: self.offset,
                            expected,
                            found: (done * S::SIZE + filled) as u64,
                        })
                    }
                    Ok(k) => filled += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(read_error(
                            e,
                            self.path,
                            self.offset,
                            expected,
                            (done * S::SIZE + filled) as u64,
                        ))
                    }
                }
            }
            let start = out.len();
            if direct {
                out.extend(
                    buf[..want]
                        .chunks_exact(S::SIZE)
                        .map(|b| T::decode(b, self.big)),
                );
            } else {
                // One exact-size pass (no per-voxel capacity check); the first value that does
                // not fit is remembered and reported after it.
                let mut misfit: Option<(usize, f64)> = None;
                let mut convert = |k: usize, v: f64| {
                    T::from_f64(v).unwrap_or_else(|| {
                        misfit.get_or_insert((k, v));
                        T::default()
                    })
                };
                let stored = buf[..want].chunks_exact(S::SIZE).enumerate();
                match self.scaling {
                    None => {
                        out.extend(stored.map(|(k, b)| convert(k, S::decode(b, self.big).to_f64())))
                    }
                    Some(s) => out.extend(stored.map(|(k, b)| {
                        convert(k, S::decode(b, self.big).to_f64() * s.slope + s.inter)
                    })),
                }
                if let Some((k, value)) = misfit {
                    return Err(Error::ValueOutOfRange {
                        path: self.path.to_owned(),
                        value,
                        index: self.index(done + k),
                        target: T::NAME,
                    });
                }
            }
            if self.finite_only {
                // A branch-free count first (it vectorises); the first index only when needed.
                let chunk = &out[start..];
                let count = chunk
                    .iter()
                    .fold(0usize, |n, v| n + usize::from(!v.is_finite()));
                if count > 0 {
                    let first = chunk.iter().position(|v| !v.is_finite()).unwrap_or(0);
                    non_finite.get_or_insert((start + first, 0)).1 += count;
                }
            }
            done += want / S::SIZE;
        }
        if let Some((first, count)) = non_finite {
            return Err(Error::NonFinite {
                path: self.path.to_owned(),
                count,
                first: self.index(first),
            });
        }
        let [ni, nj, nk] = self.shape;
        Array3::from_shape_vec((ni, nj, nk).f(), out).map_err(|e| invalid(self.path, e.to_string()))
    }
}
