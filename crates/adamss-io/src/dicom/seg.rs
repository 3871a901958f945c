//! DICOM Segmentation objects (SEG, SOP class 1.2.840.10008.5.1.4.1.1.66.4): the masks a
//! PACS, a contouring workstation or highdicom/dcmqi store beside a CT, as one multi-frame
//! file. Each frame is one plane of one segment (`ReferencedSegmentNumber`), placed by its
//! `ImagePositionPatient` with the orientation and pixel spacing of its functional groups
//! (per frame, else shared); a `BINARY` segmentation packs the frames' pixels one bit each,
//! least significant bit first, frame after frame with no padding between them.
//!
//! [`read_segmentation`] reads the segments and frames; [`Segmentation::mask_on`] places one
//! segment on the grid of a volume (the CT the SEG was drawn on, read by
//! [`crate::Volume::read`] or [`crate::read_series`]), [`Segmentation::labels_on`] all of them
//! as one label map. Checked against highdicom, which wrote the test files and reads them back
//! (`tools/dicom_seg_reference.py`).
//!
//! Refused, naming the file: `FRACTIONAL` (probabilities) and `LABELMAP` segmentations,
//! compressed pixel data, frames that do not lie on the reference grid's planes (another
//! orientation or spacing, or a position between voxels), and on the grid, set pixels outside
//! it. A segment without frames is an empty mask (highdicom omits empty frames).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dicom_core::value::PrimitiveValue;
use dicom_core::Tag;
use dicom_parser::dataset::DataToken;
use ndarray::{Array3, ShapeBuilder};

use super::{
    bad, compressed, floats, meta, number, read_file, text, tokens, Attributes, BITS_ALLOCATED,
    COLUMNS, FRAME_OF_REFERENCE, MODALITY, NUMBER_OF_FRAMES, ORIENTATION, PER_FRAME_GROUPS,
    PIXEL_DATA, PIXEL_MEASURES, PIXEL_SPACING, PLANE_ORIENTATION, PLANE_POSITION, POSITION, ROWS,
    SERIES_UID, SHARED_GROUPS, SOP_CLASS, TOLERANCE,
};
use crate::nifti_io::ReadOptions;
use crate::{Error, Geometry, Result, Volume};

/// The Segmentation Storage SOP class.
pub(crate) const SEG_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";

const SEGMENTATION_TYPE: Tag = Tag(0x0062, 0x0001);
const SEGMENT_SEQUENCE: Tag = Tag(0x0062, 0x0002);
const SEGMENT_NUMBER: Tag = Tag(0x0062, 0x0004);
const SEGMENT_LABEL: Tag = Tag(0x0062, 0x0005);
const SEGMENT_DESCRIPTION: Tag = Tag(0x0062, 0x0006);
const SEGMENT_ALGORITHM_TYPE: Tag = Tag(0x0062, 0x0008);
const SEGMENT_IDENTIFICATION: Tag = Tag(0x0062, 0x000A);
const REFERENCED_SEGMENT_NUMBER: Tag = Tag(0x0062, 0x000B);
const REFERENCED_SERIES: Tag = Tag(0x0008, 0x1115);

/// The values kept, at any depth (the pixel data at the top level only).
const KEPT: [Tag; 18] = [
    SOP_CLASS,
    MODALITY,
    SERIES_UID,
    FRAME_OF_REFERENCE,
    SEGMENTATION_TYPE,
    SEGMENT_NUMBER,
    SEGMENT_LABEL,
    SEGMENT_DESCRIPTION,
    SEGMENT_ALGORITHM_TYPE,
    REFERENCED_SEGMENT_NUMBER,
    NUMBER_OF_FRAMES,
    ROWS,
    COLUMNS,
    BITS_ALLOCATED,
    POSITION,
    ORIENTATION,
    PIXEL_SPACING,
    PIXEL_DATA,
];

/// One segment of a segmentation (an item of its `SegmentSequence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// `SegmentNumber` (≥ 1): what the frames refer to.
    pub number: u16,
    /// `SegmentLabel`, e.g. "GTVp".
    pub label: String,
    /// `SegmentDescription` (empty when absent).
    pub description: String,
    /// `SegmentAlgorithmType`: `MANUAL`, `SEMIAUTOMATIC` or `AUTOMATIC`.
    pub algorithm_type: String,
    /// How many frames (planes) the segment has in the file.
    pub frames: usize,
}

/// One frame: its segment and its plane (LPS, as stored).
#[derive(Debug, Clone)]
struct Frame {
    segment: u16,
    position: [f64; 3],
    orientation: [f64; 6],
    /// `PixelSpacing`: between rows (along a column), between columns (along a row).
    pixel_spacing: [f64; 2],
}

/// A DICOM Segmentation object ([`read_segmentation`]): its segments, and their frames to be
/// placed on a reference grid ([`Segmentation::mask_on`], [`Segmentation::labels_on`]).
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// The file read.
    pub path: PathBuf,
    /// The segments, in the file's order.
    pub segments: Vec<Segment>,
    /// `FrameOfReferenceUID`: the patient coordinate system the frames are placed in (the
    /// CT's, when drawn on it).
    pub frame_of_reference_uid: Option<String>,
    /// The `SeriesInstanceUID` of the first referenced series (the image series the
    /// segmentation was drawn on), when the file names one.
    pub referenced_series_uid: Option<String>,
    /// Frame size: rows, columns.
    pub frame_shape: [usize; 2],
    frames: Vec<Frame>,
    /// The packed pixel data: bit `f · rows · columns + r · columns + c` is frame `f`'s pixel
    /// at row `r`, column `c`.
    bits: Vec<u8>,
}

/// A data set as a tree: the kept values of one item, and its sequences' items.
#[derive(Debug, Default)]
pub(super) struct Node {
    values: HashMap<Tag, PrimitiveValue>,
    sequences: HashMap<Tag, Vec<Node>>,
}

impl Attributes for Node {
    fn get(&self, tag: Tag) -> Option<&PrimitiveValue> {
        self.values.get(&tag)
    }
}

impl Node {
    /// The items of sequence `tag` (none when absent).
    pub(super) fn items(&self, tag: Tag) -> &[Node] {
        self.sequences.get(&tag).map_or(&[], Vec::as_slice)
    }

    /// The first item of sequence `tag`.
    pub(super) fn first(&self, tag: Tag) -> Option<&Node> {
        self.items(tag).first()
    }
}

/// Parses the data set into a [`Node`] tree of the `kept` values (the pixel data at the top
/// level only), every declared length checked against the file ([`tokens`]); compressed pixel
/// data is refused first.
pub(super) fn parse_tree(bytes: &[u8], path: &Path, kept: &[Tag]) -> Result<Node> {
    let syntax = meta(bytes, path)?;
    if syntax.ts.is_encapsulated_pixel_data() {
        return Err(compressed(path, &syntax.uid, syntax.ts.name()));
    }
    // Open items (the root first) and open sequences, innermost last.
    let mut items = vec![Node::default()];
    let mut sequences: Vec<(Tag, Vec<Node>)> = Vec::new();
    let mut pending: Option<Tag> = None;
    let malformed = || bad(path, "malformed data set: unbalanced sequence items");
    for token in tokens(bytes, path, &syntax)? {
        match token? {
            DataToken::ElementHeader(header) => {
                let top = items.len() == 1;
                pending = (kept.contains(&header.tag) && (top || header.tag != PIXEL_DATA))
                    .then_some(header.tag);
            }
            DataToken::PrimitiveValue(value) => {
                if let Some(tag) = pending.take() {
                    items
                        .last_mut()
                        .ok_or_else(malformed)?
                        .values
                        .insert(tag, value);
                }
            }
            DataToken::SequenceStart { tag, .. } => sequences.push((tag, Vec::new())),
            DataToken::PixelSequenceStart => {
                return Err(bad(
                    path,
                    "encapsulated pixel data in a native transfer syntax",
                ));
            }
            DataToken::ItemStart { .. } => {
                if sequences.is_empty() {
                    return Err(malformed());
                }
                items.push(Node::default());
            }
            DataToken::ItemEnd => {
                let item = items
                    .pop()
                    .filter(|_| !items.is_empty())
                    .ok_or_else(malformed)?;
                sequences.last_mut().ok_or_else(malformed)?.1.push(item);
            }
            DataToken::SequenceEnd => {
                let (tag, list) = sequences.pop().ok_or_else(malformed)?;
                items
                    .last_mut()
                    .ok_or_else(malformed)?
                    .sequences
                    .insert(tag, list);
            }
            _ => {}
        }
    }
    if items.len() != 1 || !sequences.is_empty() {
        return Err(bad(path, "malformed data set: a sequence is not closed"));
    }
    items.pop().ok_or_else(malformed)
}

/// Reads a DICOM Segmentation object (see the module docs): its segments, frames and pixels.
/// `options.max_bytes` bounds the file. Errors name the file: not a SEG, a segmentation type
/// other than `BINARY`, compressed pixel data, missing or inconsistent attributes, frames
/// referring to undeclared segments, pixel data shorter than its frames.
pub fn read_segmentation(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Segmentation> {
    let path = path.as_ref();
    open(path, options)?.map_err(|why| bad(path, why))
}

/// The file's segmentation, read and parsed once, or (the inner `Err`) why it is not a SEG:
/// not a file, no `DICM` marker (only its first 132 bytes read), another SOP class. A SEG that
/// cannot be read is the outer error.
pub(crate) fn open(
    path: &Path,
    options: &ReadOptions,
) -> Result<std::result::Result<Segmentation, String>> {
    if !path.is_file() {
        return Ok(Err("not a file".into()));
    }
    if !super::starts_like_dicom(path)? {
        return Ok(Err("not a DICOM Part 10 file (no DICM marker)".into()));
    }
    let bytes = read_file(path, options)?;
    let root = parse_tree(&bytes, path, &KEPT)?;
    let class = text(&root, SOP_CLASS).unwrap_or_default();
    if class != SEG_STORAGE {
        return Ok(Err(format!(
            "not a DICOM Segmentation object: SOP class {class:?}, modality {:?} (a SEG is {SEG_STORAGE})",
            text(&root, MODALITY).unwrap_or_default()
        )));
    }
    from_tree(&root, path).map(Ok)
}

/// A SEG's segments, frames and pixels from its parsed data set.
fn from_tree(root: &Node, path: &Path) -> Result<Segmentation> {
    let kind = text(root, SEGMENTATION_TYPE).unwrap_or_default();
    if kind != "BINARY" {
        return Err(bad(
            path,
            format!("SegmentationType {kind:?}: only BINARY segmentations are read (FRACTIONAL probabilities and LABELMAP are not supported)"),
        ));
    }
    let bits_allocated: u16 = number(root, BITS_ALLOCATED, "BitsAllocated", path)?;
    if bits_allocated != 1 {
        return Err(bad(
            path,
            format!("BitsAllocated = {bits_allocated} in a BINARY segmentation (must be 1)"),
        ));
    }
    let rows: usize = number(root, ROWS, "Rows", path)?;
    let columns: usize = number(root, COLUMNS, "Columns", path)?;
    let count: usize = number(root, NUMBER_OF_FRAMES, "NumberOfFrames", path)?;
    if rows == 0 || columns == 0 {
        return Err(bad(
            path,
            format!("empty frames: {rows} rows, {columns} columns"),
        ));
    }
    let mut segments = Vec::new();
    for item in root.items(SEGMENT_SEQUENCE) {
        let number: u16 = number(item, SEGMENT_NUMBER, "SegmentNumber", path)?;
        if number == 0 || segments.iter().any(|s: &Segment| s.number == number) {
            return Err(bad(
                path,
                format!("SegmentNumber {number} is 0 or given twice"),
            ));
        }
        segments.push(Segment {
            number,
            label: text(item, SEGMENT_LABEL).unwrap_or_default(),
            description: text(item, SEGMENT_DESCRIPTION).unwrap_or_default(),
            algorithm_type: text(item, SEGMENT_ALGORITHM_TYPE).unwrap_or_default(),
            frames: 0,
        });
    }
    if segments.is_empty() {
        return Err(bad(
            path,
            "no segments: SegmentSequence (0062,0002) is empty or missing",
        ));
    }
    let per_frame = root.items(PER_FRAME_GROUPS);
    if per_frame.len() != count {
        return Err(bad(
            path,
            format!(
                "NumberOfFrames is {count}, but PerFrameFunctionalGroupsSequence has {} items",
                per_frame.len()
            ),
        ));
    }
    let shared = root.first(SHARED_GROUPS);
    // A functional group of a frame: its own, else the shared one.
    fn group<'a>(frame: &'a Node, shared: Option<&'a Node>, tag: Tag) -> Option<&'a Node> {
        frame
            .first(tag)
            .or_else(|| shared.and_then(|s| s.first(tag)))
    }
    let mut frames = Vec::with_capacity(count);
    for (f, item) in per_frame.iter().enumerate() {
        let at = |what: &str| bad(path, format!("frame {}: {what}", f + 1));
        let segment: u16 = number(
            group(item, shared, SEGMENT_IDENTIFICATION)
                .ok_or_else(|| at("no SegmentIdentificationSequence"))?,
            REFERENCED_SEGMENT_NUMBER,
            "ReferencedSegmentNumber",
            path,
        )?;
        let declared = segments
            .iter_mut()
            .find(|s| s.number == segment)
            .ok_or_else(|| {
                at(&format!(
                    "segment {segment} is not declared in SegmentSequence"
                ))
            })?;
        declared.frames += 1;
        // A frame's numbers from one of its functional groups (`sequence`), `N` of them.
        let values = |sequence: Tag, seq_name: &str, tag: Tag, name: &str, n: usize| {
            let item =
                group(item, shared, sequence).ok_or_else(|| at(&format!("no {seq_name}")))?;
            floats(item, tag, name, n, path)
        };
        let position = values(
            PLANE_POSITION,
            "PlanePositionSequence",
            POSITION,
            "ImagePositionPatient",
            3,
        )?;
        let orientation = values(
            PLANE_ORIENTATION,
            "PlaneOrientationSequence",
            ORIENTATION,
            "ImageOrientationPatient",
            6,
        )?;
        let spacing = values(
            PIXEL_MEASURES,
            "PixelMeasuresSequence",
            PIXEL_SPACING,
            "PixelSpacing",
            2,
        )?;
        if spacing.iter().any(|&s| s <= 0.0) {
            return Err(at(&format!("PixelSpacing {spacing:?} must be > 0")));
        }
        // `floats` checked the counts.
        let orientation: [f64; 6] = orientation.try_into().unwrap_or_default();
        super::axes(&orientation, path)?;
        frames.push(Frame {
            segment,
            position: [position[0], position[1], position[2]],
            orientation,
            pixel_spacing: [spacing[0], spacing[1]],
        });
    }
    let bits = root
        .get(PIXEL_DATA)
        .ok_or_else(|| bad(path, "no PixelData (7FE0,0010)"))?
        .to_bytes()
        .into_owned();
    let needed = (count as u128 * rows as u128 * columns as u128).div_ceil(8);
    if (bits.len() as u128) < needed {
        return Err(Error::Truncated {
            path: path.to_owned(),
            offset: 0,
            expected: needed as u64,
            found: bits.len() as u64,
        });
    }
    Ok(Segmentation {
        path: path.to_owned(),
        segments,
        frame_of_reference_uid: text(root, FRAME_OF_REFERENCE).filter(|s| !s.is_empty()),
        referenced_series_uid: root
            .first(REFERENCED_SERIES)
            .and_then(|s| text(s, SERIES_UID))
            .filter(|s| !s.is_empty()),
        frame_shape: [rows, columns],
        frames,
        bits,
    })
}

/// LPS (DICOM) to RAS+ (this crate's world).
fn ras(v: [f64; 3]) -> [f64; 3] {
    [-v[0], -v[1], v[2]]
}

impl Segmentation {
    /// The segment numbered `number`, if declared.
    pub fn segment(&self, number: u16) -> Option<&Segment> {
        self.segments.iter().find(|s| s.number == number)
    }

    /// The segment `number` as a 0/1 mask on `reference`'s grid (its geometry and shape; the
    /// CT or PET the segmentation was drawn on, or any volume whose voxel planes the frames
    /// lie on). Each frame's rows must run along the grid's `i` axis and its columns along
    /// `j`, with the grid's in-plane spacing (1 % tolerance), and its position must be a
    /// voxel of the grid to 1 % of a voxel; a frame may be smaller than the grid's planes or
    /// offset in them, but no set pixel may fall outside the grid. Errors name the file and
    /// the frame.
    pub fn mask_on<T>(&self, number: u16, reference: &Volume<T>) -> Result<Volume<u8>> {
        self.mask_on_grid(number, reference.geometry(), reference.shape())
    }

    /// [`Segmentation::mask_on`] on a grid given by its geometry and shape (e.g. from
    /// [`crate::read_header`], without reading the voxels).
    pub fn mask_on_grid(
        &self,
        number: u16,
        geometry: &Geometry,
        shape: [usize; 3],
    ) -> Result<Volume<u8>> {
        if self.segment(number).is_none() {
            let known: Vec<String> = self
                .segments
                .iter()
                .map(|s| format!("{} {:?}", s.number, s.label))
                .collect();
            return Err(bad(
                &self.path,
                format!("no segment {number}; the segments are {}", known.join(", ")),
            ));
        }
        self.place(geometry, shape, |segment, value| {
            Ok((segment == number).then_some(1).or(value))
        })
    }

    /// Every segment on `reference`'s grid as one label map: each voxel the number of the
    /// segment covering it, 0 elsewhere (placement as [`Segmentation::mask_on`]). Segments
    /// that overlap (a SEG may hold overlapping segments) and segment numbers above 255 are
    /// refused, naming them: take their masks one by one instead.
    pub fn labels_on<T>(&self, reference: &Volume<T>) -> Result<Volume<u8>> {
        self.labels_on_grid(reference.geometry(), reference.shape())
    }

    /// [`Segmentation::labels_on`] on a grid given by its geometry and shape.
    pub fn labels_on_grid(&self, geometry: &Geometry, shape: [usize; 3]) -> Result<Volume<u8>> {
        if let Some(s) = self.segments.iter().find(|s| s.number > 255) {
            return Err(bad(
                &self.path,
                format!(
                    "segment {} does not fit an 8-bit label map: take its mask alone",
                    s.number
                ),
            ));
        }
        self.place(geometry, shape, |segment, value| match value {
            Some(other) if other != segment as u8 => Err(format!(
                "segments {other} and {segment} overlap: a label map cannot hold both (take their masks one by one)"
            )),
            _ => Ok(Some(segment as u8)),
        })
    }

    /// Places every set pixel of every frame on the grid: `write(segment, current)` gives the
    /// voxel's new value (`None`: unchanged, i.e. 0), or an error message.
    fn place(
        &self,
        geometry: &Geometry,
        shape: [usize; 3],
        write: impl Fn(u16, Option<u8>) -> std::result::Result<Option<u8>, String>,
    ) -> Result<Volume<u8>> {
        let [rows, columns] = self.frame_shape;
        let mut data = Array3::<u8>::zeros(shape.f());
        let direction = geometry.direction;
        let axis = |a: usize| [direction[0][a], direction[1][a], direction[2][a]];
        for (f, frame) in self.frames.iter().enumerate() {
            let at = |what: String| bad(&self.path, format!("frame {}: {what}", f + 1));
            let o = frame.orientation;
            let (row, column) = (ras([o[0], o[1], o[2]]), ras([o[3], o[4], o[5]]));
            let near = |a: [f64; 3], b: [f64; 3]| (0..3).all(|r| (a[r] - b[r]).abs() <= 1e-3);
            if !near(row, axis(0)) || !near(column, axis(1)) {
                return Err(at(format!(
                    "orientation {o:?} is not the reference grid's (its rows must run along the grid's i axis, its columns along j)"
                )));
            }
            let [between_rows, between_columns] = frame.pixel_spacing;
            let spacing = geometry.spacing;
            if (between_columns - spacing[0]).abs() > TOLERANCE * spacing[0]
                || (between_rows - spacing[1]).abs() > TOLERANCE * spacing[1]
            {
                return Err(at(format!(
                    "PixelSpacing {:?} differs from the reference grid's in-plane spacing [{}, {}]",
                    frame.pixel_spacing, spacing[1], spacing[0]
                )));
            }
            let index = geometry.world_to_index(ras(frame.position));
            let rounded = index.map(f64::round);
            if (0..3).any(|a| (index[a] - rounded[a]).abs() > TOLERANCE) {
                return Err(at(format!(
                    "position {:?} falls between the reference grid's voxels (index {index:?})",
                    frame.position
                )));
            }
            let k = rounded[2];
            if !(0.0..shape[2] as f64).contains(&k) {
                return Err(at(format!(
                    "position {:?} is on plane {k} of a grid with {} planes",
                    frame.position, shape[2]
                )));
            }
            let (i0, j0, k) = (rounded[0] as i64, rounded[1] as i64, k as usize);
            let base = f * rows * columns;
            for r in 0..rows {
                for c in 0..columns {
                    let bit = base + r * columns + c;
                    if self.bits[bit / 8] >> (bit % 8) & 1 == 0 {
                        continue;
                    }
                    let (i, j) = (i0 + c as i64, j0 + r as i64);
                    if i < 0 || j < 0 || i >= shape[0] as i64 || j >= shape[1] as i64 {
                        return Err(at(format!(
                            "pixel (row {r}, column {c}) is set but falls outside the reference grid, at index ({i}, {j}, {k})"
                        )));
                    }
                    let voxel = &mut data[[i as usize, j as usize, k]];
                    let current = (*voxel != 0).then_some(*voxel);
                    *voxel = write(frame.segment, current)
                        .map_err(|m| at(format!("{m}; at voxel ({i}, {j}, {k})")))?
                        .unwrap_or(0);
                }
            }
        }
        Volume::new(data, *geometry)
    }
}

/// Whether `path` is a DICOM Segmentation object: a file with the `DICM` marker whose SOP
/// class is Segmentation Storage (only its header is parsed, up to the pixel data).
pub fn is_segmentation(path: impl AsRef<Path>) -> bool {
    super::is_sop_class(path.as_ref(), SEG_STORAGE)
}

/// A mask for the image at `image`, whatever its file: a volume [`Volume::read`] reads (NIfTI,
/// NRRD, a DICOM series folder), a DICOM Segmentation object ([`is_segmentation`]) placed on
/// the image's grid as a label map, each segment's number its label
/// ([`Segmentation::labels_on_grid`]), or a DICOM RT Structure Set
/// ([`super::is_structure_set`]) whose region ROIs are filled on the grid as a label map, each
/// ROI's number its label ([`super::StructureSet::labels_on_grid`]; overlapping ROIs refused:
/// [`read_mask_label`] takes one). The image's header gives the grid; its voxels are not read.
/// What PyRadiomics users do with pydicom-seg, highdicom or plastimatch before
/// `execute(image, mask, label=N)`, in one call.
pub fn read_mask(mask: impl AsRef<Path>, image: impl AsRef<Path>) -> Result<Volume<u8>> {
    let mask = mask.as_ref();
    match MaskFile::open(mask)? {
        MaskFile::Segmentation(seg) => {
            let info = crate::read_header(image.as_ref())?;
            seg.labels_on_grid(&info.geometry, info.shape)
        }
        MaskFile::StructureSet(set) => {
            let info = crate::read_header(image.as_ref())?;
            set.labels_on_grid(&info.geometry, info.shape)
        }
        MaskFile::Volume => Volume::read(mask),
    }
}

/// The mask of label `label` for the image at `image`, as PyRadiomics' `execute(image, mask,
/// label)` reads it: from a SEG, segment `label` alone; from an RTSTRUCT, ROI number `label`
/// alone (so segments or ROIs that overlap others can be taken); its voxels `label`, others 0.
/// Any other mask file as [`read_mask`] reads it, whole.
pub fn read_mask_label(
    mask: impl AsRef<Path>,
    image: impl AsRef<Path>,
    label: u8,
) -> Result<Volume<u8>> {
    let mask = mask.as_ref();
    let one = match MaskFile::open(mask)? {
        MaskFile::Segmentation(seg) => {
            let info = crate::read_header(image.as_ref())?;
            seg.mask_on_grid(u16::from(label), &info.geometry, info.shape)?
        }
        MaskFile::StructureSet(set) => {
            let info = crate::read_header(image.as_ref())?;
            set.roi_numbered(u32::from(label))?
                .mask_on_grid(&info.geometry, info.shape)?
        }
        MaskFile::Volume => return Volume::read(mask),
    };
    Ok(one.map(|&v| v * label))
}

/// What a mask file is: a SEG, an RTSTRUCT, or a volume for [`Volume::read`].
enum MaskFile {
    Segmentation(Segmentation),
    StructureSet(super::StructureSet),
    Volume,
}

impl MaskFile {
    fn open(mask: &Path) -> Result<Self> {
        Ok(match open(mask, &ReadOptions::default())? {
            Ok(seg) => Self::Segmentation(seg),
            Err(_) if super::is_structure_set(mask) => {
                Self::StructureSet(super::read_structure_set(mask, &ReadOptions::default())?)
            }
            Err(_) => Self::Volume,
        })
    }
}

impl std::fmt::Display for Segmentation {
    /// What `adamss inspect` prints of a SEG: its frames, references and segments.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [rows, columns] = self.frame_shape;
        writeln!(
            f,
            "format:    DICOM Segmentation (BINARY), {} frames of {rows} rows × {columns} columns",
            self.frames.len()
        )?;
        let or_none = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
        writeln!(
            f,
            "frame of reference: {}",
            or_none(&self.frame_of_reference_uid)
        )?;
        write!(
            f,
            "referenced series:  {}",
            or_none(&self.referenced_series_uid)
        )?;
        for s in &self.segments {
            write!(
                f,
                "\nsegment {} {:?} ({}): {} frames",
                s.number, s.label, s.algorithm_type, s.frames
            )?;
            if !s.description.is_empty() {
                write!(f, " — {}", s.description)?;
            }
        }
        Ok(())
    }
}
