//! DICOM image series (a folder of single-frame CT or PET slices, as scanners and PACS export
//! them, or an enhanced multi-frame image holding them as frames) read into a [`Volume`] the
//! way SimpleITK's `ImageSeriesReader` reads them, with GDCM's file order
//! (`GetGDCMSeriesFileNames`):
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
//! slices at one position, slices of different sizes, orientations or spacings, colour images,
//! multi-frame images with compressed pixel data, compressed pixel data other than RLE
//! Lossless, JPEG Lossless and JPEG 2000 (JPEG baseline and extended, JPEG-LS, HTJ2K: transcode
//! first, e.g. `gdcmconv --raw`), and big-endian files. The compressed syntaxes that are read
//! decode as SimpleITK (GDCM) decodes them (`codec`: each frame's declared size checked first).
//! A multi-frame image (Enhanced or Legacy Converted Enhanced CT / PET / MR) gives one slice
//! per frame, placed and rescaled by its functional groups (per frame, else shared) and then
//! ordered and checked as single-frame slices are. Files in the folder that are not DICOM
//! Part 10 files (no `DICM` marker after the 128-byte preamble, which leaves out ACR-NEMA files
//! and bare data sets too) are ignored, read no further than that marker, as are DICOM objects
//! without an image (structure sets: [`read_structure_set`]; reports) and segmentations (SEG,
//! read by [`read_segmentation`] and placed on a series' grid); a DICOM file that cannot be
//! parsed is an error. Only the folder itself is read, not its subfolders.
//!
//! Values are the rescaled stored values: Hounsfield units for CT, the scanner's units
//! (usually Bq/mL) for PET. [`read_suv`] reads a PET series as SUV (body weight, lean body mass
//! or body-surface area) from the patient's weight and the injection's dose and time in its
//! headers, as the QIBA pseudo-code and OHIF's `calculate-suv` compute it; [`suv_conversion`]
//! shows the factors and what they came from.
//!
//! Data sets are parsed by dicom-rs' token reader (`dicom-parser`: sequences, undefined
//! lengths, encapsulated pixel data, character sets), which yields each element's header before
//! reading its value, so a declared length longer than the file is refused before anything is
//! allocated for it.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use dicom_core::value::PrimitiveValue;
use dicom_core::Tag;
use dicom_encoding::TransferSyntaxIndex;
use dicom_parser::dataset::read::DataSetReaderOptions;
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use ndarray::{Array3, ShapeBuilder};

use crate::nifti_io::{NiftiInfo, ReadOptions, TransformSource};

mod codec;
mod rtstruct;
pub(crate) mod seg;
pub(crate) mod suv;
use crate::{Error, Geometry, Result, Volume, Voxel};
pub use rtstruct::{is_structure_set, read_structure_set, Contour, Roi, StructureSet};
pub use seg::{
    is_segmentation, read_mask, read_mask_label, read_segmentation, Segment, Segmentation,
};
pub use suv::{
    read_suv, read_suv_with_conversion, suv_conversion, Decay, ScanTimeSource, SuvConversion,
    SuvNormalization,
};

const TRANSFER_SYNTAX: &str = "transfer syntax";
const SOP_CLASS: Tag = Tag(0x0008, 0x0016);
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
const FRAME_OF_REFERENCE: Tag = Tag(0x0020, 0x0052);
const SHARED_GROUPS: Tag = Tag(0x5200, 0x9229);
const PER_FRAME_GROUPS: Tag = Tag(0x5200, 0x9230);
const PLANE_POSITION: Tag = Tag(0x0020, 0x9113);
const PLANE_ORIENTATION: Tag = Tag(0x0020, 0x9116);
const PIXEL_MEASURES: Tag = Tag(0x0028, 0x9110);
const PIXEL_VALUE_TRANSFORMATION: Tag = Tag(0x0028, 0x9145);

/// The values a multi-frame image's functional groups are read for.
const FRAME_KEPT: [Tag; 6] = [
    SOP_CLASS,
    POSITION,
    ORIENTATION,
    PIXEL_SPACING,
    RESCALE_SLOPE,
    RESCALE_INTERCEPT,
];

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
    /// Each slice's file, in the order of their positions along the slice normal (GDCM's); a
    /// multi-frame image's file once per frame.
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
    /// What the header says for an SUV conversion ([`suv`]).
    pet: suv::PetHeader,
    /// Which frame of its file (0 for a single-frame image).
    frame: usize,
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

/// The top-level attributes of one file this reader needs, and its transfer syntax.
struct Parsed {
    /// The transfer syntax's UID and name.
    syntax: (String, &'static str),
    /// Whether its pixel data is stored natively (not encapsulated: compressed).
    native_pixels: bool,
    values: HashMap<Tag, PrimitiveValue>,
    /// Encapsulated pixel data's fragments (the offset table left out), when read.
    fragments: Vec<Vec<u8>>,
}

/// The attributes read from each file (the pixel data only when asked for); with the PET
/// attributes an SUV conversion needs ([`suv::WANTED`], [`suv::RADIOPHARMACEUTICAL`]'s first
/// item, and the private groups [`suv::PRIVATE_GROUPS`]).
const WANTED: [Tag; 17] = [
    SOP_CLASS,
    MODALITY,
    SERIES_DESCRIPTION,
    SERIES_UID,
    POSITION,
    ORIENTATION,
    SAMPLES_PER_PIXEL,
    NUMBER_OF_FRAMES,
    ROWS,
    COLUMNS,
    PIXEL_SPACING,
    BITS_ALLOCATED,
    BITS_STORED,
    PIXEL_REPRESENTATION,
    RESCALE_INTERCEPT,
    RESCALE_SLOPE,
    PIXEL_DATA,
];

/// A file's transfer syntax, from its file meta group.
pub(crate) struct Syntax {
    /// The transfer syntax UID.
    pub(crate) uid: String,
    /// Its registry entry (little endian, not deflated: [`meta`] refuses the others).
    pub(crate) ts: &'static dicom_encoding::transfer_syntax::TransferSyntax,
    /// Where the data set starts.
    start: usize,
}

/// Walks a DICOM Part 10 file's meta group (explicit VR little endian, element by element
/// until its group length is consumed, each length checked against the bytes left) for the
/// transfer syntax; big-endian and deflated syntaxes are refused.
pub(crate) fn meta(bytes: &[u8], path: &Path) -> Result<Syntax> {
    let u16_at = |p: usize| {
        bytes
            .get(p..p + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |p: usize| {
        bytes
            .get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let meta_error = |what: &str| bad(path, format!("file meta information: {what}"));
    // (0002,0000) UL 4: the group length.
    if (u16_at(132), u16_at(134), bytes.get(136..138), u16_at(138))
        != (Some(2), Some(0), Some(&b"UL"[..]), Some(4))
    {
        return Err(meta_error("no group length (0002,0000) first"));
    }
    let group_length = u32_at(140).ok_or_else(|| meta_error("cut short"))? as usize;
    let mut pos = 144;
    let mut consumed = 0;
    let mut syntax = None;
    while consumed < group_length {
        let (Some(group), Some(element), Some(vr)) =
            (u16_at(pos), u16_at(pos + 2), bytes.get(pos + 4..pos + 6))
        else {
            return Err(meta_error("cut short"));
        };
        let short = matches!(
            vr,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FL"
                | b"FD"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SS"
                | b"ST"
                | b"TM"
                | b"UI"
                | b"UL"
                | b"US"
        );
        let (header, len) = if short {
            (8, u16_at(pos + 6).map(usize::from))
        } else {
            (12, u32_at(pos + 8).map(|l| l as usize))
        };
        let len = len.ok_or_else(|| meta_error("cut short"))?;
        let value = bytes
            .get(pos + header..(pos + header).saturating_add(len))
            .ok_or_else(|| too_long(bytes, path, Tag(group, element), len))?;
        if (group, element) == (0x0002, 0x0010) {
            syntax = Some(
                String::from_utf8_lossy(value)
                    .trim_end_matches(['\0', ' '])
                    .to_string(),
            );
        }
        pos += header + len;
        consumed += header + len;
    }
    let syntax = syntax.ok_or_else(|| meta_error("no transfer syntax (0002,0010)"))?;
    let ts = TransferSyntaxRegistry.get(&syntax).ok_or_else(|| {
        bad(
            path,
            format!("{TRANSFER_SYNTAX} {syntax} is not a known one"),
        )
    })?;
    if ts.endianness() != dicom_encoding::Endianness::Little
        || matches!(ts.codec(), dicom_encoding::Codec::Dataset(_))
    {
        return Err(bad(
            path,
            format!(
                "{TRANSFER_SYNTAX} {syntax} ({}) is not supported",
                ts.name()
            ),
        ));
    }
    Ok(Syntax {
        uid: syntax,
        ts,
        start: pos.min(bytes.len()),
    })
}

/// The error for an element or item declaring more bytes than the whole file holds.
fn too_long(bytes: &[u8], path: &Path, tag: Tag, len: usize) -> Error {
    bad(
        path,
        format!(
            "element ({:04X},{:04X}) declares {len} bytes, more than the file's {}",
            tag.0,
            tag.1,
            bytes.len()
        ),
    )
}

/// The data set's tokens (dicom-parser's token stream in the file's transfer syntax), each
/// element's and item's declared length checked against the file's size before the parser
/// reads the value: the parser allocates a value's declared length first, so a 1 KB file
/// declaring a 4 GB element would otherwise cost 4 GB of memory.
pub(crate) fn tokens<'a>(
    bytes: &'a [u8],
    path: &'a Path,
    syntax: &Syntax,
) -> Result<impl Iterator<Item = Result<DataToken>> + 'a> {
    // Defaults: values as stored (no date parsing), odd lengths accepted, the transfer
    // syntax's own VR encoding (no guessing).
    let reader = DataSetReader::new_with_ts_options(
        &bytes[syntax.start..],
        syntax.ts,
        DataSetReaderOptions::default(),
    )
    .map_err(|e| bad(path, format!("not a readable DICOM file: {e}")))?;
    Ok(reader.map(move |token| {
        let token = token.map_err(|e| bad(path, format!("not a readable DICOM file: {e}")))?;
        let declared = match &token {
            DataToken::ElementHeader(header) => Some((header.tag, header.len.get())),
            DataToken::ItemStart { len } => Some((Tag(0xFFFE, 0xE000), len.get())),
            _ => None,
        };
        if let Some((tag, Some(len))) = declared {
            if len as usize > bytes.len() {
                return Err(too_long(bytes, path, tag, len as usize));
            }
        }
        Ok(token)
    }))
}

/// Parses a DICOM Part 10 file's bytes: its transfer syntax ([`meta`]), then the data set's
/// checked tokens ([`tokens`]), keeping the top-level attributes this reader needs, up to the
/// pixel data (its value too when `pixels`).
fn parse(bytes: &[u8], path: &Path, pixels: bool) -> Result<Parsed> {
    let syntax = meta(bytes, path)?;
    let mut values = HashMap::new();
    // The open sequences, innermost last, each with the number of its items begun.
    let mut open: Vec<(Tag, usize)> = Vec::new();
    let mut pending: Option<Tag> = None;
    let mut fragments = Vec::new();
    for token in tokens(bytes, path, &syntax)? {
        match token? {
            // A fragment of the encapsulated pixel data (the offset table is another token).
            DataToken::ItemValue(fragment) if matches!(open.as_slice(), [(PIXEL_DATA, _)]) => {
                fragments.push(fragment);
            }
            DataToken::ElementHeader(header) => {
                let tag = header.tag;
                if open.is_empty() && tag == PIXEL_DATA && !pixels {
                    break;
                }
                let kept = match open.as_slice() {
                    [] => {
                        WANTED.contains(&tag)
                            || suv::WANTED.contains(&tag)
                            || suv::PRIVATE_GROUPS.contains(&tag.group())
                    }
                    // The first item of the radiopharmaceutical information.
                    [(suv::RADIOPHARMACEUTICAL, 1)] => suv::IN_RADIOPHARMACEUTICAL.contains(&tag),
                    _ => false,
                };
                pending = kept.then_some(tag);
            }
            DataToken::PrimitiveValue(value) => {
                if let Some(tag) = pending.take() {
                    let done = tag == PIXEL_DATA;
                    values.insert(tag, value);
                    if done {
                        break;
                    }
                }
            }
            DataToken::SequenceStart { tag, .. } => open.push((tag, 0)),
            DataToken::PixelSequenceStart => {
                if open.is_empty() && !pixels {
                    break;
                }
                open.push((PIXEL_DATA, 0));
            }
            DataToken::ItemStart { .. } => {
                if let Some((_, items)) = open.last_mut() {
                    *items += 1;
                }
            }
            DataToken::SequenceEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    Ok(Parsed {
        native_pixels: !syntax.ts.is_encapsulated_pixel_data(),
        syntax: (syntax.uid, syntax.ts.name()),
        values,
        fragments,
    })
}

/// Attribute values by tag: a file's top level ([`Parsed`]) or a sequence item.
pub(crate) trait Attributes {
    /// The value of `tag`, if present (and kept).
    fn get(&self, tag: Tag) -> Option<&PrimitiveValue>;
}

impl Attributes for Parsed {
    fn get(&self, tag: Tag) -> Option<&PrimitiveValue> {
        self.values.get(&tag)
    }
}

pub(crate) fn text(obj: &(impl Attributes + ?Sized), tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.to_str();
    Some(
        value
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string(),
    )
}

pub(crate) fn number<T: TryFrom<i64>>(
    obj: &(impl Attributes + ?Sized),
    tag: Tag,
    name: &str,
    path: &Path,
) -> Result<T> {
    let value = obj
        .get(tag)
        .ok_or_else(|| bad(path, format!("{name} {tag} is missing")))?
        .to_int::<i64>()
        .map_err(|e| bad(path, format!("{name} {tag}: {e}")))?;
    T::try_from(value).map_err(|_| bad(path, format!("{name} {tag} = {value} is out of range")))
}

pub(crate) fn floats(
    obj: &(impl Attributes + ?Sized),
    tag: Tag,
    name: &str,
    count: usize,
    path: &Path,
) -> Result<Vec<f64>> {
    let values = obj
        .get(tag)
        .ok_or_else(|| bad(path, format!("{name} {tag} is missing")))?
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

fn optional_float(
    obj: &(impl Attributes + ?Sized),
    tag: Tag,
    default: f64,
    path: &Path,
) -> Result<f64> {
    match obj.get(tag) {
        None => Ok(default),
        Some(v) if v.to_str().trim().is_empty() => Ok(default),
        Some(v) => match v.to_float64() {
            Ok(x) if x.is_finite() => Ok(x),
            Ok(x) => Err(bad(path, format!("{tag} = {x} is not finite"))),
            Err(err) => Err(bad(path, format!("{tag}: {err}"))),
        },
    }
}

/// Refuses, by name, a transfer syntax whose compressed pixel data is not decoded here
/// ([`codec::decodes`]: JPEG baseline and extended, JPEG-LS, HTJ2K…); [`parse`] has already
/// refused big-endian and deflated ones.
fn check_transfer_syntax(obj: &Parsed, path: &Path) -> Result<()> {
    let (uid, name) = &obj.syntax;
    if obj.native_pixels || codec::decodes(uid) {
        return Ok(());
    }
    Err(bad(
        path,
        format!(
            "{TRANSFER_SYNTAX} {uid} ({name}) is not supported: uncompressed little-endian pixel data and {} are read (transcode first, e.g. `gdcmconv --raw IN OUT`)",
            codec::DECODED
        ),
    ))
}

/// The error for a SEG's pixel data in an encapsulated (compressed) transfer syntax.
pub(crate) fn compressed(path: &Path, uid: &str, name: &str) -> Error {
    bad(
        path,
        format!(
            "{TRANSFER_SYNTAX} {uid} ({name}) is not supported: only uncompressed little-endian pixel data is read (decompress first, e.g. `gdcmconv --raw IN OUT` or `dcmdjpeg IN OUT`)"
        ),
    )
}

/// The slices of one file: its image, or each frame of a multi-frame image; none for a DICOM
/// object without an image, or a segmentation (SEG: its frames are masks, read by
/// [`read_segmentation`]). `bytes` are the file's, parsed again for a multi-frame image's
/// functional groups.
fn slices_of(obj: &Parsed, bytes: &[u8], path: &Path) -> Result<Vec<Slice>> {
    if obj.get(ROWS).is_none() || text(obj, SOP_CLASS).as_deref() == Some(seg::SEG_STORAGE) {
        return Ok(Vec::new());
    }
    let series_uid =
        text(obj, SERIES_UID).ok_or_else(|| bad(path, "SeriesInstanceUID is missing"))?;
    let frames = text(obj, NUMBER_OF_FRAMES)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    if frames > 1 && !obj.native_pixels {
        let (uid, name) = &obj.syntax;
        return Err(bad(
            path,
            format!("a multi-frame image ({frames} frames) with compressed pixel data ({uid}, {name}) is not read: multi-frame images uncompressed, single-frame ones compressed too"),
        ));
    }
    let samples: u16 = match obj.get(SAMPLES_PER_PIXEL) {
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
    let bits_stored: u16 = match obj.get(BITS_STORED) {
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
    let base = Slice {
        path: path.to_owned(),
        series_uid,
        modality: text(obj, MODALITY).unwrap_or_default(),
        description: text(obj, SERIES_DESCRIPTION).unwrap_or_default(),
        rows,
        columns,
        pixel_spacing: [0.0; 2],
        position: [0.0; 3],
        orientation: [0.0; 6],
        bits_allocated,
        bits_stored,
        signed: representation == 1,
        slope: 1.0,
        intercept: 0.0,
        pet: suv::PetHeader::of(obj),
        frame: 0,
    };
    if frames <= 1 {
        return Ok(vec![place(base, obj, obj, obj, obj, path)?]);
    }
    // A multi-frame image: each frame placed by its functional groups, per frame or else
    // shared (the rescale also at the top level, as the legacy converted images may keep it).
    let root = seg::parse_tree(bytes, path, &FRAME_KEPT)?;
    let shared = root.first(SHARED_GROUPS);
    let per_frame = root.items(PER_FRAME_GROUPS);
    if per_frame.len() != frames {
        return Err(bad(
            path,
            format!(
                "NumberOfFrames is {frames} but the Per-Frame Functional Groups Sequence (5200,9230) holds {} items",
                per_frame.len()
            ),
        ));
    }
    let mut slices = Vec::with_capacity(frames);
    for (f, groups) in per_frame.iter().enumerate() {
        let group = |tag: Tag, name: &str| {
            groups
                .first(tag)
                .or_else(|| shared.and_then(|s| s.first(tag)))
                .ok_or_else(|| bad(path, format!("frame {}: no {name} {tag}", f + 1)))
        };
        let rescale: &dyn Attributes = match groups
            .first(PIXEL_VALUE_TRANSFORMATION)
            .or_else(|| shared.and_then(|s| s.first(PIXEL_VALUE_TRANSFORMATION)))
        {
            Some(node) => node,
            None => obj,
        };
        let frame = Slice {
            frame: f,
            ..base.clone()
        };
        slices.push(place(
            frame,
            group(PIXEL_MEASURES, "Pixel Measures Sequence")?,
            group(PLANE_POSITION, "Plane Position Sequence")?,
            group(PLANE_ORIENTATION, "Plane Orientation Sequence")?,
            rescale,
            path,
        )?);
    }
    Ok(slices)
}

/// `slice` with its pixel spacing, position, orientation and rescale, each read from where the
/// file keeps it (the top level of a single-frame image, a frame's functional groups).
fn place(
    mut slice: Slice,
    measures: &(impl Attributes + ?Sized),
    position: &(impl Attributes + ?Sized),
    orientation: &(impl Attributes + ?Sized),
    rescale: &(impl Attributes + ?Sized),
    path: &Path,
) -> Result<Slice> {
    let spacing = floats(measures, PIXEL_SPACING, "PixelSpacing", 2, path)?;
    if spacing.iter().any(|&s| s <= 0.0) {
        return Err(bad(path, format!("PixelSpacing {spacing:?} must be > 0")));
    }
    let p = floats(position, POSITION, "ImagePositionPatient", 3, path)?;
    let o = floats(orientation, ORIENTATION, "ImageOrientationPatient", 6, path)?;
    slice.pixel_spacing = [spacing[0], spacing[1]];
    slice.position = [p[0], p[1], p[2]];
    slice.orientation = [o[0], o[1], o[2], o[3], o[4], o[5]];
    slice.slope = optional_float(rescale, RESCALE_SLOPE, 1.0, path)?;
    slice.intercept = optional_float(rescale, RESCALE_INTERCEPT, 0.0, path)?;
    Ok(slice)
}

/// Whether `path` is a DICOM Part 10 file of SOP class `uid` (its header parsed, up to the
/// pixel data).
fn is_sop_class(path: &Path, uid: &str) -> bool {
    if !path.is_file() || !starts_like_dicom(path).unwrap_or(false) {
        return false;
    }
    let Ok(bytes) = read_file(path, &ReadOptions::default()) else {
        return false;
    };
    parse(&bytes, path, false).is_ok_and(|obj| text(&obj, SOP_CLASS).as_deref() == Some(uid))
}

/// Whether the file's first 132 bytes end in `DICM` (read no further).
fn starts_like_dicom(path: &Path) -> Result<bool> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut head = Vec::with_capacity(132);
    std::fs::File::open(path)
        .map_err(io)?
        .take(132)
        .read_to_end(&mut head)
        .map_err(io)?;
    Ok(is_dicom(&head))
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
        if !starts_like_dicom(&path)? {
            continue; // not DICOM: not read further
        }
        let bytes = read_file(&path, options)?;
        let obj = parse(&bytes, &path, false)?;
        slices.extend(slices_of(&obj, &bytes, &path)?);
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
    group(slices)
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
fn group(slices: Vec<Slice>) -> Vec<Vec<Slice>> {
    let mut groups: std::collections::BTreeMap<String, Vec<Slice>> = Default::default();
    for s in slices {
        groups.entry(s.series_uid.clone()).or_default().push(s);
    }
    groups.into_values().collect()
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
    let slices = choose(dir, group(scan(dir, options)?), series_uid)?;
    assemble(&slices, options, None)
}

/// The series `series_uid` among `groups` (or without one the folder's only series), its
/// slices ordered and checked; an error names every series found when the choice fails.
fn choose(dir: &Path, groups: Vec<Vec<Slice>>, series_uid: Option<&str>) -> Result<Vec<Slice>> {
    let describe = || {
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
                let found = if groups.is_empty() {
                    "none".to_string()
                } else {
                    describe()
                };
                bad(
                    dir,
                    format!("no DICOM image series {uid} here; found: {found}"),
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
                    describe()
                ),
            ))
        }
    };
    order(groups.into_iter().nth(chosen).unwrap_or_default())
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
    let slices = slices_at(dir, &ReadOptions::default())?;
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

/// A slice's file's pixel data as native little-endian bytes (every frame of a multi-frame
/// file; one decoded frame of a compressed one), and the bits of each value to read
/// ([`codec`]: JPEG 2000 values whole).
fn pixel_data(s: &Slice, options: &ReadOptions) -> Result<(Vec<u8>, u16)> {
    let bytes = read_file(&s.path, options)?;
    let mut obj = parse(&bytes, &s.path, true)?;
    check_transfer_syntax(&obj, &s.path)?;
    if obj.native_pixels {
        let raw = obj
            .values
            .remove(&PIXEL_DATA)
            .ok_or_else(|| bad(&s.path, "no PixelData (7FE0,0010)"))?;
        return Ok((raw.to_bytes().into_owned(), s.bits_stored));
    }
    // One frame: every fragment after the offset table.
    let frame = codec::Frame {
        path: &s.path,
        rows: s.rows,
        columns: s.columns,
        bits_allocated: s.bits_allocated,
    };
    let data = obj.fragments.concat();
    if data.is_empty() {
        return Err(bad(&s.path, "no PixelData (7FE0,0010) fragments"));
    }
    let decoded = codec::decode(&obj.syntax.0, &data, &frame)?;
    let bits = if decoded.whole {
        s.bits_allocated
    } else {
        s.bits_stored
    };
    Ok((decoded.bytes, bits))
}

/// Whether `path` is a file (not a folder) that starts like a DICOM Part 10 file and is not
/// named as a NIfTI or NRRD file: one multi-frame image, read alone.
pub(crate) fn is_image_file(path: &Path) -> bool {
    let named = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let other = [".nii", ".nii.gz", ".hdr", ".img", ".nrrd", ".nhdr"]
        .iter()
        .any(|e| named.to_ascii_lowercase().ends_with(e));
    !other && path.is_file() && starts_like_dicom(path).unwrap_or(false)
}

/// The ordered, checked slices of a folder's only series, or of one multi-frame image file
/// ([`is_image_file`]; a single-frame file is refused: its folder is the series).
fn slices_at(path: &Path, options: &ReadOptions) -> Result<Vec<Slice>> {
    if !is_image_file(path) {
        return choose(path, group(scan(path, options)?), None);
    }
    let bytes = read_file(path, options)?;
    let obj = parse(&bytes, path, false)?;
    let slices = slices_of(&obj, &bytes, path)?;
    match slices.len() {
        0 => Err(bad(path, "a DICOM object without an image")),
        1 => Err(bad(
            path,
            "one single-frame slice: read its folder, which holds the series (or a multi-frame image file alone)",
        )),
        _ => order(slices),
    }
}

/// Reads one multi-frame DICOM image file as a volume (as [`read_series`] reads a folder),
/// what [`Volume::read`] does with such a file.
pub(crate) fn read_image_file<T: Voxel>(path: &Path, options: &ReadOptions) -> Result<Volume<T>> {
    assemble(&slices_at(path, options)?, options, None)
}

/// The volume of ordered, checked slices, each slice's rescaled values times its factor when
/// `factors` are given (one per slice: [`suv`]).
fn assemble<T: Voxel>(
    slices: &[Slice],
    options: &ReadOptions,
    factors: Option<&[f64]>,
) -> Result<Volume<T>> {
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
    // The pixel data of the file last read, with the bits its values hold: a multi-frame
    // file's frames are consecutive slices, read once.
    let mut held: Option<(&Path, Vec<u8>, u16)> = None;
    for (k, s) in slices.iter().enumerate() {
        let (raw, bits_stored) = match &held {
            Some((path, raw, bits)) if *path == s.path.as_path() => (raw, *bits),
            _ => {
                let (raw, bits) = pixel_data(s, options)?;
                let (_, raw, bits) = held.insert((&s.path, raw, bits));
                (&*raw, *bits)
            }
        };
        let width = usize::from(s.bits_allocated) / 8;
        let want = ni * nj * width;
        let start = s.frame * want;
        let Some(raw) = raw.get(start..start + want) else {
            return Err(Error::Truncated {
                path: s.path.clone(),
                offset: start as u64,
                expected: (start + want) as u64,
                found: raw.len() as u64,
            });
        };
        let shift = u32::from(s.bits_allocated - bits_stored);
        for (p, b) in raw.chunks_exact(width).enumerate() {
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
            let mut value = stored as f64 * s.slope + s.intercept;
            if let Some(f) = factors {
                value *= f[k];
            }
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
