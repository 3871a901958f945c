//! DICOM image series (a folder of single-frame CT or PET slices, as scanners and PACS export
//! them) read into a [`Volume`] the way SimpleITK's `ImageSeriesReader` reads them, with
//! GDCM's file order (`GetGDCMSeriesFileNames`):
//!
//! - the slices of one series (`SeriesInstanceUID`) are ordered by their position
//!   (`ImagePositionPatient`) along the normal of their orientation (`ImageOrientationPatient`,
//!   row × column), whatever the file names or instance numbers say;
//! - the origin is the first slice's position, the direction the orientation's row, column and
//!   normal, the in-plane spacing `PixelSpacing` (column spacing along `i`, row spacing along
//!   `j`), the slice spacing the distance from the first to the last slice over `n − 1`;
//! - each voxel is `stored · RescaleSlope + RescaleIntercept` with each file's own slope and
//!   intercept (PET series carry one per slice), stored values taken as `BitsStored` bits,
//!   signed when `PixelRepresentation` is 1.
//!
//! The geometry is converted from DICOM's LPS to this crate's RAS+ ([`Geometry::from_itk`]).
//!
//! Where SimpleITK reads on with a warning or a silent guess, this reader refuses, naming the
//! file: slices not evenly spaced (a missing slice: SimpleITK warns "non uniform sampling" and
//! returns a volume whose slices sit in the wrong places), positions not stacked along the
//! normal (a tilted gantry: SimpleITK keeps the orthogonal direction and shears the volume), two
//! slices at one position, slices of different sizes, orientations or spacings,
//! multi-frame files, colour images, and compressed pixel data (JPEG, JPEG 2000, JPEG-LS, RLE:
//! decompress first, e.g. `gdcmconv --raw` or `dcmdjpeg`) or big-endian files. Files in the
//! folder that are not DICOM (no `DICM` marker) are ignored, as are DICOM objects without an
//! image (structure sets, reports); a DICOM file that cannot be parsed is an error. Only the
//! folder itself is read, not its subfolders.
//!
//! Values are the rescaled stored values: Hounsfield units for CT, the scanner's units
//! (usually Bq/mL) for PET — SUV needs the patient's weight and the injection's dose and time,
//! which this reader does not apply.

use std::path::{Path, PathBuf};

use dicom_object::file::OddLengthStrategy;
use dicom_object::{DefaultDicomObject, OpenFileOptions, Tag};
use ndarray::{Array3, ShapeBuilder};

use crate::nifti_io::{NiftiInfo, ReadOptions, TransformSource};
use crate::{Error, Geometry, Result, Volume, Voxel};

const TRANSFER_SYNTAX: &str = "transfer syntax";
const MODALITY: Tag = Tag(0x0008, 0x0060);
const SERIES_DESCRIPTION: Tag = Tag(0x0008, 0x103E);
const SERIES_UID: Tag = Tag(0x0020, 0x000E);
const POSITION: Tag = Tag(0x0020, 0x0032);
const ORIENTATION: Tag = Tag(0x0020, 0x0037);
const SAMPLES_PER_PIXEL: Tag = Tag(0x0028, 0x0002);
const NUMBER_OF_FRAMES: Tag = Tag(0x0028, 0x0008);
const ROWS: Tag = Tag(0x0028, 0x0010);
const COLUMNS: Tag = Tag(0x0028, 0x0011);
const PIXEL_SPACING: Tag = Tag(0x0028, 0x0030);
const BITS_ALLOCATED: Tag = Tag(0x0028, 0x0100);
const BITS_STORED: Tag = Tag(0x0028, 0x0101);
const PIXEL_REPRESENTATION: Tag = Tag(0x0028, 0x0103);
const RESCALE_INTERCEPT: Tag = Tag(0x0028, 0x1052);
const RESCALE_SLOPE: Tag = Tag(0x0028, 0x1053);
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);

/// Relative tolerance of the checks that slices share an orientation and a pixel spacing, and
/// that they are evenly spaced and stacked along the normal (1 % of the slice spacing).
const TOLERANCE: f64 = 0.01;

/// One image series found in a folder ([`list_series`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DicomSeries {
    /// `SeriesInstanceUID`: what [`read_series`] takes to choose this series.
    pub series_uid: String,
    /// `Modality` (`CT`, `PT`, `MR`, …).
    pub modality: String,
    /// `SeriesDescription` (empty when absent).
    pub description: String,
    /// The slices' files, in the order of their positions along the slice normal (GDCM's).
    pub files: Vec<PathBuf>,
    /// `[columns, rows, slices]`: the volume's shape.
    pub shape: [usize; 3],
}

/// What one file's header says about its slice.
#[derive(Debug, Clone)]
struct Slice {
    path: PathBuf,
    series_uid: String,
    modality: String,
    description: String,
    rows: usize,
    columns: usize,
    /// `[row spacing, column spacing]`, as stored.
    pixel_spacing: [f64; 2],
    position: [f64; 3],
    /// Row direction then column direction.
    orientation: [f64; 6],
    bits_allocated: u16,
    bits_stored: u16,
    signed: bool,
    slope: f64,
    intercept: f64,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Dicom {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Whether `bytes` start like a DICOM Part 10 file: a 128-byte preamble and `DICM`.
fn is_dicom(bytes: &[u8]) -> bool {
    bytes.len() >= 132 && &bytes[128..132] == b"DICM"
}

/// Checks that no value the parser will read declares more bytes than the file has left:
/// dicom-object allocates (and zero-fills) a value's declared length before reading it, so a
/// 1 KB file declaring a 4 GB element would cost 4 GB of memory. Walks the headers as the
/// parser does, with its own header decoders (dicom-encoding's: the same VRs, the same
/// lengths): the file meta group element by element until its group length is consumed
/// (dicom-object's meta reader), then the data set in the transfer syntax's encoding, stepping
/// into sequences, items and undefined-length values, skipping values and pixel fragments.
/// Where a header cannot be decoded the parser fails at the same place, before allocating.
/// Big-endian and deflated transfer syntaxes are refused here (their data sets are not little
/// endian, and this reader reads neither).
fn check_lengths(bytes: &[u8], path: &Path) -> Result<()> {
    use dicom_core::{Tag as T, VR};
    use dicom_encoding::decode::explicit_le::ExplicitVRLittleEndianDecoder;
    use dicom_encoding::decode::implicit_le::ImplicitVRLittleEndianDecoder;
    use dicom_encoding::decode::Decode;

    let explicit = ExplicitVRLittleEndianDecoder::default();
    let implicit = ImplicitVRLittleEndianDecoder::default();
    let too_long = |tag: T, at: usize, len: usize| {
        let left = bytes.len().saturating_sub(at);
        (len > left).then(|| {
            bad(
                path,
                format!(
                    "element ({:04X},{:04X}) at byte {at} declares {len} bytes, the file has {left} left",
                    tag.0, tag.1
                ),
            )
        })
    };
    let mut pos = 132;
    // The meta group: its group length, then explicit VR elements until that many bytes.
    let mut src = bytes.get(pos..).unwrap_or_default();
    let Ok((header, n)) = explicit.decode_header(&mut src) else {
        return Ok(());
    };
    if header.tag != T(0x0002, 0x0000) || header.len.get() != Some(4) {
        return Ok(()); // the meta reader refuses it
    }
    let Some(group) = bytes.get(pos + n..pos + n + 4) else {
        return Ok(());
    };
    let group_length = u32::from_le_bytes([group[0], group[1], group[2], group[3]]) as usize;
    pos += n + 4;
    let mut consumed = 0;
    let mut syntax = String::new();
    while consumed < group_length {
        let mut src = bytes.get(pos..).unwrap_or_default();
        let Ok((header, n)) = explicit.decode_header(&mut src) else {
            return Ok(());
        };
        let Some(len) = header.len.get().map(|l| l as usize) else {
            return Ok(()); // the meta reader refuses an undefined length
        };
        if let Some(e) = too_long(header.tag, pos + n, len) {
            return Err(e);
        }
        if header.tag == T(0x0002, 0x0010) {
            let value = &bytes[pos + n..pos + n + len];
            syntax = String::from_utf8_lossy(value)
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        pos += n + len;
        consumed += n + len;
    }
    let implicit_vr = match syntax.as_str() {
        "1.2.840.10008.1.2" => true,
        "1.2.840.10008.1.2.2" | "1.2.840.10008.1.2.1.99" => {
            return Err(bad(
                path,
                format!("{TRANSFER_SYNTAX} {syntax} (big endian or deflated) is not supported"),
            ))
        }
        _ => false,
    };
    let decoder = |s: &mut &[u8]| {
        if implicit_vr {
            implicit.decode_header(s).ok()
        } else {
            explicit.decode_header(s).ok()
        }
    };
    let mut fragments = false;
    while pos < bytes.len() {
        let mut src = &bytes[pos..];
        let Some((header, n)) = decoder(&mut src) else {
            break; // the parser fails or ends here too
        };
        let (tag, len) = (header.tag, header.len.get().map(|l| l as usize));
        if tag.0 == 0xFFFE {
            if tag.1 == 0xE0DD {
                fragments = false; // the end of a sequence, or of the fragments
            }
            if let (true, 0xE000, Some(len)) = (fragments, tag.1, len) {
                // a pixel fragment: raw bytes the parser reads whole
                if let Some(e) = too_long(tag, pos + n, len) {
                    return Err(e);
                }
                pos += n + len;
            } else {
                pos += n; // an item of a sequence holds elements: step in
            }
            continue;
        }
        match len {
            None => {
                // a sequence, encapsulated pixel data, or another undefined-length value the
                // parser reads as a sequence: step in
                fragments |= tag == T(0x7FE0, 0x0010);
                pos += n;
            }
            Some(_) if header.vr == VR::SQ => pos += n,
            Some(len) => {
                if let Some(e) = too_long(tag, pos + n, len) {
                    return Err(e);
                }
                pos += n + len;
            }
        }
    }
    Ok(())
}

/// Parses a DICOM file's bytes (read up to the pixel data when `pixels` is false).
fn parse(bytes: &[u8], path: &Path, pixels: bool) -> Result<DefaultDicomObject> {
    check_lengths(bytes, path)?;
    let mut options = OpenFileOptions::new().odd_length_strategy(OddLengthStrategy::Accept);
    if !pixels {
        options = options.read_until(PIXEL_DATA);
    }
    options
        .from_reader(&bytes[128..])
        .map_err(|e| bad(path, format!("not a readable DICOM file: {e}")))
}

fn text(obj: &DefaultDicomObject, tag: Tag) -> Option<String> {
    let element = obj.element_opt(tag).ok()??;
    let value = element.to_str().ok()?;
    Some(
        value
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string(),
    )
}

fn number<T: TryFrom<i64>>(
    obj: &DefaultDicomObject,
    tag: Tag,
    name: &str,
    path: &Path,
) -> Result<T> {
    let element = obj
        .element_opt(tag)
        .ok()
        .flatten()
        .ok_or_else(|| bad(path, format!("{name} {tag} is missing")))?;
    let value = element
        .to_int::<i64>()
        .map_err(|e| bad(path, format!("{name} {tag}: {e}")))?;
    T::try_from(value).map_err(|_| bad(path, format!("{name} {tag} = {value} is out of range")))
}

fn floats(
    obj: &DefaultDicomObject,
    tag: Tag,
    name: &str,
    count: usize,
    path: &Path,
) -> Result<Vec<f64>> {
    let element = obj
        .element_opt(tag)
        .ok()
        .flatten()
        .ok_or_else(|| bad(path, format!("{name} {tag} is missing")))?;
    let values = element
        .to_multi_float64()
        .map_err(|e| bad(path, format!("{name} {tag}: {e}")))?;
    if values.len() != count || values.iter().any(|v| !v.is_finite()) {
        return Err(bad(
            path,
            format!("{name} {tag} must hold {count} finite numbers, it holds {values:?}"),
        ));
    }
    Ok(values)
}

fn optional_float(obj: &DefaultDicomObject, tag: Tag, default: f64, path: &Path) -> Result<f64> {
    match obj.element_opt(tag).ok().flatten() {
        None => Ok(default),
        Some(e) => match e.to_float64() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(v) => Err(bad(path, format!("{tag} = {v} is not finite"))),
            Err(_) if e.to_str().is_ok_and(|s| s.trim().is_empty()) => Ok(default),
            Err(err) => Err(bad(path, format!("{tag}: {err}"))),
        },
    }
}

/// The uncompressed little-endian transfer syntaxes; anything else is refused by name.
fn check_transfer_syntax(obj: &DefaultDicomObject, path: &Path) -> Result<()> {
    let uid = obj.meta().transfer_syntax().trim_end_matches('\0').trim();
    match uid {
        "1.2.840.10008.1.2" | "1.2.840.10008.1.2.1" => Ok(()),
        other => {
            let name = match other {
                "1.2.840.10008.1.2.2" => "Explicit VR Big Endian (retired)",
                "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
                "1.2.840.10008.1.2.5" => "RLE Lossless",
                u if u.starts_with("1.2.840.10008.1.2.4.5")
                    || u.starts_with("1.2.840.10008.1.2.4.7") =>
                {
                    "JPEG"
                }
                u if u.starts_with("1.2.840.10008.1.2.4.8") => "JPEG-LS",
                u if u.starts_with("1.2.840.10008.1.2.4.9") => "JPEG 2000",
                _ => "not an uncompressed little-endian syntax",
            };
            Err(bad(
                path,
                format!(
                    "{TRANSFER_SYNTAX} {other} ({name}) is not supported: only uncompressed little-endian pixel data is read (decompress first, e.g. `gdcmconv --raw IN OUT` or `dcmdjpeg IN OUT`)"
                ),
            ))
        }
    }
}

/// The header of one slice; `None` for a DICOM object without an image.
fn slice_of(obj: &DefaultDicomObject, path: &Path) -> Result<Option<Slice>> {
    if obj.element_opt(ROWS).ok().flatten().is_none() {
        return Ok(None);
    }
    let series_uid =
        text(obj, SERIES_UID).ok_or_else(|| bad(path, "SeriesInstanceUID is missing"))?;
    let frames = text(obj, NUMBER_OF_FRAMES)
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(1);
    if frames > 1 {
        return Err(bad(
            path,
            format!("a multi-frame image ({frames} frames) is not supported: only single-frame slices are read"),
        ));
    }
    let samples: u16 = match obj.element_opt(SAMPLES_PER_PIXEL).ok().flatten() {
        Some(_) => number(obj, SAMPLES_PER_PIXEL, "SamplesPerPixel", path)?,
        None => 1,
    };
    if samples != 1 {
        return Err(bad(
            path,
            format!("{samples} samples per pixel (a colour image): only greyscale images are read"),
        ));
    }
    let rows: usize = number(obj, ROWS, "Rows", path)?;
    let columns: usize = number(obj, COLUMNS, "Columns", path)?;
    if rows == 0 || columns == 0 {
        return Err(bad(
            path,
            format!("an empty image: {rows} rows, {columns} columns"),
        ));
    }
    let bits_allocated: u16 = number(obj, BITS_ALLOCATED, "BitsAllocated", path)?;
    if !matches!(bits_allocated, 8 | 16 | 32) {
        return Err(bad(
            path,
            format!("BitsAllocated = {bits_allocated}: only 8, 16 or 32 are read"),
        ));
    }
    let bits_stored: u16 = match obj.element_opt(BITS_STORED).ok().flatten() {
        Some(_) => number(obj, BITS_STORED, "BitsStored", path)?,
        None => bits_allocated,
    };
    if bits_stored == 0 || bits_stored > bits_allocated {
        return Err(bad(
            path,
            format!("BitsStored = {bits_stored} with BitsAllocated = {bits_allocated}"),
        ));
    }
    let representation: u16 = number(obj, PIXEL_REPRESENTATION, "PixelRepresentation", path)?;
    let spacing = floats(obj, PIXEL_SPACING, "PixelSpacing", 2, path)?;
    if spacing.iter().any(|&s| s <= 0.0) {
        return Err(bad(path, format!("PixelSpacing {spacing:?} must be > 0")));
    }
    let position = floats(obj, POSITION, "ImagePositionPatient", 3, path)?;
    let orientation = floats(obj, ORIENTATION, "ImageOrientationPatient", 6, path)?;
    let slope = optional_float(obj, RESCALE_SLOPE, 1.0, path)?;
    let intercept = optional_float(obj, RESCALE_INTERCEPT, 0.0, path)?;
    Ok(Some(Slice {
        path: path.to_owned(),
        series_uid,
        modality: text(obj, MODALITY).unwrap_or_default(),
        description: text(obj, SERIES_DESCRIPTION).unwrap_or_default(),
        rows,
        columns,
        pixel_spacing: [spacing[0], spacing[1]],
        position: [position[0], position[1], position[2]],
        orientation: [
            orientation[0],
            orientation[1],
            orientation[2],
            orientation[3],
            orientation[4],
            orientation[5],
        ],
        bits_allocated,
        bits_stored,
        signed: representation == 1,
        slope,
        intercept,
    }))
}

/// Reads a file whole, within `options.max_bytes`.
fn read_file(path: &Path, options: &ReadOptions) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > options.max_bytes {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            needed: u128::from(len),
            limit: options.max_bytes,
        });
    }
    std::fs::read(path).map_err(io)
}

/// Every image slice in `dir` (not its subfolders), files in name order.
fn scan(dir: &Path, options: &ReadOptions) -> Result<Vec<Slice>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut slices = Vec::new();
    for path in paths {
        let bytes = read_file(&path, options)?;
        if !is_dicom(&bytes) {
            continue;
        }
        let obj = parse(&bytes, &path, false)?;
        if let Some(slice) = slice_of(&obj, &path)? {
            slices.push(slice);
        }
    }
    Ok(slices)
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = dot(v, v).sqrt();
    v.map(|x| x / n)
}

/// The volume's axes from `ImageOrientationPatient`, made orthonormal as SimpleITK (GDCM)
/// does: the column direction normalised, the normal `row × column` normalised, the row
/// direction then `column × normal`. An error unless the stored row and column are unit
/// vectors at right angles to within 1e-3.
fn axes(o: &[f64; 6], path: &Path) -> Result<[[f64; 3]; 3]> {
    let (row, column) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
    let ok = (dot(row, row).sqrt() - 1.0).abs() < 1e-3
        && (dot(column, column).sqrt() - 1.0).abs() < 1e-3
        && dot(row, column).abs() < 1e-3;
    if !ok {
        return Err(bad(
            path,
            format!(
                "ImageOrientationPatient {o:?}: its row and column are not orthogonal unit vectors"
            ),
        ));
    }
    let column = unit(column);
    let normal = unit(cross(row, column));
    Ok([cross(column, normal), column, normal])
}

/// The series' slices in GDCM's order (ascending position along the normal), checked to
/// form one volume.
fn order(mut slices: Vec<Slice>) -> Result<Vec<Slice>> {
    let first = slices[0].clone();
    for s in &slices[1..] {
        if (s.rows, s.columns) != (first.rows, first.columns) {
            return Err(bad(
                &s.path,
                format!(
                    "{} rows × {} columns, where {} has {} × {}",
                    s.rows,
                    s.columns,
                    first.path.display(),
                    first.rows,
                    first.columns
                ),
            ));
        }
        let differs = |a: &[f64], b: &[f64], scale: f64| {
            a.iter()
                .zip(b)
                .any(|(x, y)| (x - y).abs() > TOLERANCE * scale)
        };
        if differs(&s.orientation, &first.orientation, 0.1) {
            return Err(bad(
                &s.path,
                format!(
                    "ImageOrientationPatient {:?} differs from {:?} of {}",
                    s.orientation,
                    first.orientation,
                    first.path.display()
                ),
            ));
        }
        if differs(
            &s.pixel_spacing,
            &first.pixel_spacing,
            first.pixel_spacing[0],
        ) {
            return Err(bad(
                &s.path,
                format!(
                    "PixelSpacing {:?} differs from {:?} of {}",
                    s.pixel_spacing,
                    first.pixel_spacing,
                    first.path.display()
                ),
            ));
        }
        if (s.bits_allocated, s.bits_stored, s.signed)
            != (first.bits_allocated, first.bits_stored, first.signed)
        {
            return Err(bad(
                &s.path,
                format!(
                    "pixel format (BitsAllocated, BitsStored, signed) ({}, {}, {}) differs from {}'s",
                    s.bits_allocated,
                    s.bits_stored,
                    s.signed,
                    first.path.display()
                ),
            ));
        }
    }
    let normal = axes(&first.orientation, &first.path)?[2];
    // Stable: files at one position stay in name order, and are refused below.
    slices.sort_by(|a, b| dot(a.position, normal).total_cmp(&dot(b.position, normal)));
    let n = slices.len();
    if n > 1 {
        let along: Vec<f64> = slices.iter().map(|s| dot(s.position, normal)).collect();
        let gaps: Vec<f64> = along.windows(2).map(|w| w[1] - w[0]).collect();
        let mut sorted = gaps.clone();
        sorted.sort_by(f64::total_cmp);
        let typical = sorted[sorted.len() / 2];
        for (k, &gap) in gaps.iter().enumerate() {
            let (a, b) = (&slices[k].path, &slices[k + 1].path);
            if gap <= TOLERANCE * typical.max(1e-6) {
                return Err(bad(
                    b,
                    format!(
                        "at the same position ({:.4} mm along the slice normal) as {}: two slices in one place",
                        along[k + 1],
                        a.display()
                    ),
                ));
            }
            if (gap - typical).abs() > TOLERANCE * typical {
                return Err(bad(
                    b,
                    format!(
                        "{gap:.4} mm along the slice normal after {}, where the series' slices are {typical:.4} mm apart: a missing slice or variable spacing (SimpleITK reads such a series with a warning and misplaces its slices)",
                        a.display()
                    ),
                ));
            }
        }
        for (k, s) in slices.iter().enumerate() {
            let offset = [0, 1, 2]
                .map(|r| s.position[r] - slices[0].position[r] - (along[k] - along[0]) * normal[r]);
            let sideways = dot(offset, offset).sqrt();
            if sideways > TOLERANCE * typical * k as f64 + 1e-3 {
                return Err(bad(
                    &s.path,
                    format!(
                        "slice {k} sits {sideways:.4} mm off the line through the first slice along the slice normal: the slices are not stacked along their normal (a tilted gantry?)"
                    ),
                ));
            }
        }
    }
    Ok(slices)
}

/// Every image series in `dir` (not its subfolders), ordered by `SeriesInstanceUID`: what a
/// SimpleITK user gets from `ImageSeriesReader.GetGDCMSeriesIDs` and
/// `GetGDCMSeriesFileNames`, with each series' modality, description and shape. Files that
/// are not DICOM, and DICOM objects without an image, are skipped; a series whose slices
/// cannot form one volume is an error (see the module docs).
pub fn list_series(dir: impl AsRef<Path>) -> Result<Vec<DicomSeries>> {
    let dir = dir.as_ref();
    let slices = scan(dir, &ReadOptions::default())?;
    group(slices)?
        .into_iter()
        .map(|series| {
            let series = order(series)?;
            let first = &series[0];
            Ok(DicomSeries {
                series_uid: first.series_uid.clone(),
                modality: first.modality.clone(),
                description: first.description.clone(),
                shape: [first.columns, first.rows, series.len()],
                files: series.iter().map(|s| s.path.clone()).collect(),
            })
        })
        .collect()
}

/// The slices grouped by series UID, the groups in UID order.
fn group(slices: Vec<Slice>) -> Result<Vec<Vec<Slice>>> {
    let mut groups: std::collections::BTreeMap<String, Vec<Slice>> = Default::default();
    for s in slices {
        groups.entry(s.series_uid.clone()).or_default().push(s);
    }
    Ok(groups.into_values().collect())
}

/// Reads one image series of the folder `dir` as a volume (see the module docs for the
/// rules): the series `series_uid`, or without one the folder's only series (an error names
/// every series found when there are several). Voxels are converted to `T` as
/// [`Volume::read`] converts NIfTI voxels: to an integer `T` only when every rescaled value is
/// whole and in range. `options.max_bytes` bounds each file and the volume's voxel buffer;
/// `options.finite_only` is moot (stored integers are finite).
pub fn read_series<T: Voxel>(
    dir: impl AsRef<Path>,
    series_uid: Option<&str>,
    options: &ReadOptions,
) -> Result<Volume<T>> {
    let dir = dir.as_ref();
    let groups = group(scan(dir, options)?)?;
    let describe = |groups: &[Vec<Slice>]| {
        groups
            .iter()
            .map(|g| {
                format!(
                    "{} ({} {}, {} files)",
                    g[0].series_uid,
                    g[0].modality,
                    g[0].description,
                    g.len()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let chosen = match series_uid {
        Some(uid) => groups
            .iter()
            .position(|g| g[0].series_uid == uid)
            .ok_or_else(|| {
                bad(
                    dir,
                    format!(
                        "no DICOM image series {uid} here; found: {}",
                        if groups.is_empty() {
                            "none".to_string()
                        } else {
                            describe(&groups)
                        }
                    ),
                )
            })?,
        None if groups.len() == 1 => 0,
        None if groups.is_empty() => {
            return Err(bad(dir, "no DICOM image files in this folder"));
        }
        None => {
            return Err(bad(
                dir,
                format!(
                    "{} DICOM image series in this folder; choose one by its SeriesInstanceUID: {}",
                    groups.len(),
                    describe(&groups)
                ),
            ))
        }
    };
    let slices = order(groups.into_iter().nth(chosen).unwrap_or_default())?;
    assemble(&slices, options)
}

/// The geometry of ordered, checked slices, as SimpleITK's `ImageSeriesReader` gives it.
fn geometry_of(slices: &[Slice]) -> Result<Geometry> {
    let first = &slices[0];
    let nk = slices.len();
    let [row, column, normal] = axes(&first.orientation, &first.path)?;
    let slice_spacing = if nk > 1 {
        let last = slices[nk - 1].position;
        let d = [0, 1, 2].map(|r| last[r] - first.position[r]);
        dot(d, d).sqrt() / (nk - 1) as f64
    } else {
        1.0
    };
    let direction = [0, 1, 2].map(|r| [row[r], column[r], normal[r]]);
    let spacing = [
        first.pixel_spacing[1],
        first.pixel_spacing[0],
        slice_spacing,
    ];
    Geometry::from_itk(spacing, first.position, direction)
        .map_err(|e| bad(&first.path, format!("geometry: {e}")))
}

/// The header of a folder's only DICOM image series in [`NiftiInfo`]'s terms
/// ([`crate::read_header`] on a folder): shape, geometry, the stored integer type, and the
/// rescale slope and intercept when every slice has the same (otherwise slope NaN: a PET
/// series' slices each carry their own). [`TransformSource::Dicom`].
pub(crate) fn read_info(dir: &Path) -> Result<NiftiInfo> {
    let mut groups = group(scan(dir, &ReadOptions::default())?)?;
    let slices = match groups.len() {
        1 => order(groups.remove(0))?,
        0 => return Err(bad(dir, "no DICOM image files in this folder")),
        n => {
            return Err(bad(
                dir,
                format!("{n} DICOM image series in this folder; list them with `list_series`"),
            ))
        }
    };
    let first = &slices[0];
    let geometry = geometry_of(&slices)?;
    let code: i16 = match (first.bits_allocated, first.signed) {
        (8, false) => 2,
        (8, true) => 256,
        (16, false) => 512,
        (16, true) => 4,
        (_, false) => 768,
        (_, true) => 8,
    };
    let same = slices
        .iter()
        .all(|s| (s.slope, s.intercept) == (first.slope, first.intercept));
    let mut pixdim = [1.0f32; 8];
    for a in 0..3 {
        pixdim[a + 1] = geometry.spacing[a] as f32;
    }
    let shape = [first.columns, first.rows, slices.len()];
    Ok(NiftiInfo {
        shape,
        dims: shape.to_vec(),
        datatype: code,
        datatype_name: crate::nifti_io::datatype_label(code),
        geometry,
        transform: TransformSource::Dicom,
        qform_code: 0,
        sform_code: 0,
        qform: None,
        sform: None,
        qform_sform_difference_mm: None,
        scl_slope: if same { first.slope as f32 } else { f32::NAN },
        scl_inter: if same {
            first.intercept as f32
        } else {
            f32::NAN
        },
        pixdim,
        big_endian: false,
    })
}

/// The volume of ordered, checked slices.
fn assemble<T: Voxel>(slices: &[Slice], options: &ReadOptions) -> Result<Volume<T>> {
    let first = &slices[0];
    let (ni, nj, nk) = (first.columns, first.rows, slices.len());
    let voxels = ni * nj * nk;
    let needed = (voxels as u128) * (T::SIZE.max(usize::from(first.bits_allocated) / 8) as u128);
    if needed > u128::from(options.max_bytes) {
        return Err(Error::TooLarge {
            path: first.path.clone(),
            needed,
            limit: options.max_bytes,
        });
    }
    let mut data: Vec<T> = Vec::new();
    data.try_reserve_exact(voxels)
        .map_err(|_| Error::TooLarge {
            path: first.path.clone(),
            needed,
            limit: options.max_bytes,
        })?;
    for (k, s) in slices.iter().enumerate() {
        let bytes = read_file(&s.path, options)?;
        let obj = parse(&bytes, &s.path, true)?;
        check_transfer_syntax(&obj, &s.path)?;
        let pixels = obj
            .element_opt(PIXEL_DATA)
            .ok()
            .flatten()
            .ok_or_else(|| bad(&s.path, "no PixelData (7FE0,0010)"))?;
        let raw = pixels
            .to_bytes()
            .map_err(|e| bad(&s.path, format!("PixelData: {e}")))?;
        let width = usize::from(s.bits_allocated) / 8;
        let want = ni * nj * width;
        if raw.len() < want {
            return Err(Error::Truncated {
                path: s.path.clone(),
                offset: 0,
                expected: want as u64,
                found: raw.len() as u64,
            });
        }
        let shift = u32::from(s.bits_allocated - s.bits_stored);
        for (p, b) in raw[..want].chunks_exact(width).enumerate() {
            let stored: i64 = match (width, s.signed) {
                (1, false) => i64::from(b[0] << shift >> shift),
                (1, true) => i64::from((b[0] as i8) << shift >> shift),
                (2, false) => i64::from(u16::from_le_bytes([b[0], b[1]]) << shift >> shift),
                (2, true) => i64::from(i16::from_le_bytes([b[0], b[1]]) << shift >> shift),
                (_, false) => {
                    i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) << shift >> shift)
                }
                (_, true) => {
                    i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) << shift >> shift)
                }
            };
            let value = stored as f64 * s.slope + s.intercept;
            data.push(T::from_f64(value).ok_or_else(|| Error::ValueOutOfRange {
                path: s.path.clone(),
                value,
                index: [p % ni, p / ni, k],
                target: T::NAME,
            })?);
        }
    }
    let array = Array3::from_shape_vec((ni, nj, nk).f(), data)
        .map_err(|e| bad(&first.path, format!("voxel buffer: {e}")))?;
    let geometry = geometry_of(slices)?;
    Volume::new(array, geometry)
}
