//! DICOM RT Structure Sets (RTSTRUCT, SOP class 1.2.840.10008.5.1.4.1.1.481.3): the contours a
//! treatment-planning system stores for a CT — in head-and-neck radiotherapy the GTVs, CTVs and
//! organs at risk — as polygons in patient coordinates (LPS mm), slice by slice.
//!
//! [`read_structure_set`] reads the ROIs (`StructureSetROISequence`: number, name), their
//! contours (`ROIContourSequence`: geometric type, points) and interpreted types
//! (`RTROIObservationsSequence`). [`Roi::mask_on`] fills one ROI on the grid of the CT it was
//! drawn on: each `CLOSED_PLANAR` contour is taken to the grid's continuous indices and must lie
//! on one of its planes (within a tenth of the slice spacing); the voxels whose centres it
//! encloses or touches (an edge or a vertex: `skimage.draw.polygon`'s rule; indices within 1e-9
//! of a whole number taken as it) are toggled, so contours on one plane combine by exclusive
//! or — an inner contour is a hole, as plastimatch and dcmrtstruct2nii
//! read them. Checked against scikit-image's fill of SimpleITK's indices
//! (`tools/dicom_rtstruct_reference.py`).
//!
//! A ROI with `POINT` or open contours bounds no region: its mask is refused, naming the
//! contour. A ROI without contours is an empty mask.

use std::path::{Path, PathBuf};

use dicom_core::Tag;
use ndarray::{Array3, ShapeBuilder};

use super::seg::{parse_tree, Node};
use super::{bad, read_file, text, Attributes, FRAME_OF_REFERENCE, MODALITY, SOP_CLASS, TOLERANCE};
use crate::nifti_io::ReadOptions;
use crate::{Geometry, Result, Volume};

/// The RT Structure Set Storage SOP class.
pub(crate) const RTSTRUCT_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.3";

const REFERENCED_FRAMES: Tag = Tag(0x3006, 0x0010);
const STRUCTURE_SET_LABEL: Tag = Tag(0x3006, 0x0002);
const STRUCTURE_SET_ROIS: Tag = Tag(0x3006, 0x0020);
const ROI_NUMBER: Tag = Tag(0x3006, 0x0022);
const ROI_NAME: Tag = Tag(0x3006, 0x0026);
const ROI_CONTOURS: Tag = Tag(0x3006, 0x0039);
const CONTOURS: Tag = Tag(0x3006, 0x0040);
const GEOMETRIC_TYPE: Tag = Tag(0x3006, 0x0042);
const NUMBER_OF_POINTS: Tag = Tag(0x3006, 0x0046);
const CONTOUR_DATA: Tag = Tag(0x3006, 0x0050);
const OBSERVATIONS: Tag = Tag(0x3006, 0x0080);
const REFERENCED_ROI_NUMBER: Tag = Tag(0x3006, 0x0084);
const INTERPRETED_TYPE: Tag = Tag(0x3006, 0x00A4);

/// The values kept, at any depth.
const KEPT: [Tag; 11] = [
    SOP_CLASS,
    MODALITY,
    FRAME_OF_REFERENCE,
    STRUCTURE_SET_LABEL,
    ROI_NUMBER,
    ROI_NAME,
    GEOMETRIC_TYPE,
    NUMBER_OF_POINTS,
    CONTOUR_DATA,
    REFERENCED_ROI_NUMBER,
    INTERPRETED_TYPE,
];

/// How close (in voxels) to a whole index a contour point's index is taken as that index.
const SNAP: f64 = 1e-9;

/// How far (in slices) a contour may lie from the grid plane it is drawn on.
const PLANE_TOLERANCE: f64 = 10.0 * TOLERANCE;

/// One contour of a ROI.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// `ContourGeometricType`: `CLOSED_PLANAR` (a region's boundary), `POINT`, `OPEN_PLANAR`
    /// or `OPEN_NONPLANAR`.
    pub geometric_type: String,
    /// `ContourData`: the points, LPS mm (DICOM's patient coordinates).
    pub points_lps: Vec<[f64; 3]>,
}

/// One region of interest of a structure set.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// `ROINumber`: what the contours and observations refer to.
    pub number: u32,
    /// `ROIName` (e.g. `GTVp`, `GTV_Node`, `Parotid_L`).
    pub name: String,
    /// `RTROIInterpretedType` (`GTV`, `CTV`, `ORGAN`, …; empty when absent).
    pub interpreted_type: String,
    /// Its contours (none: an empty ROI).
    pub contours: Vec<Contour>,
    path: PathBuf,
}

/// A DICOM RT Structure Set ([`read_structure_set`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StructureSet {
    /// `StructureSetLabel` (empty when absent).
    pub label: String,
    /// The frame of reference its contours are drawn in (the first
    /// `ReferencedFrameOfReferenceSequence` item's, or the ROIs').
    pub frame_of_reference_uid: Option<String>,
    /// The ROIs, in `StructureSetROISequence` order.
    pub rois: Vec<Roi>,
    path: PathBuf,
}

/// Whether `path` is a DICOM RT Structure Set: a file with the `DICM` marker whose SOP class
/// is RT Structure Set Storage.
pub fn is_structure_set(path: impl AsRef<Path>) -> bool {
    super::is_sop_class(path.as_ref(), RTSTRUCT_STORAGE)
}

/// Reads a DICOM RT Structure Set (see the module docs). `options.max_bytes` bounds the file.
/// Errors name the file: not an RTSTRUCT, a ROI without a number, contours of an undeclared
/// ROI, contour data that is not a list of points.
pub fn read_structure_set(path: impl AsRef<Path>, options: &ReadOptions) -> Result<StructureSet> {
    let path = path.as_ref();
    if !super::starts_like_dicom(path)? {
        return Err(bad(path, "not a DICOM Part 10 file (no DICM marker)"));
    }
    let bytes = read_file(path, options)?;
    let root = parse_tree(&bytes, path, &KEPT)?;
    let class = text(&root, SOP_CLASS).unwrap_or_default();
    if class != RTSTRUCT_STORAGE {
        return Err(bad(
            path,
            format!(
                "not a DICOM RT Structure Set: SOP class {class:?}, modality {:?} (an RTSTRUCT is {RTSTRUCT_STORAGE})",
                text(&root, MODALITY).unwrap_or_default()
            ),
        ));
    }
    from_tree(&root, path)
}

fn roi_number(node: &Node, tag: Tag, path: &Path, what: &str) -> Result<u32> {
    let value = text(node, tag).unwrap_or_default();
    value.parse::<u32>().map_err(|_| {
        bad(
            path,
            format!("{what}: ROI number {value:?} is not a number"),
        )
    })
}

fn from_tree(root: &Node, path: &Path) -> Result<StructureSet> {
    let mut rois = Vec::new();
    for (n, item) in root.items(STRUCTURE_SET_ROIS).iter().enumerate() {
        let what = format!("StructureSetROISequence item {}", n + 1);
        let number = roi_number(item, ROI_NUMBER, path, &what)?;
        if rois.iter().any(|r: &Roi| r.number == number) {
            return Err(bad(
                path,
                format!("{what}: ROI number {number} declared twice"),
            ));
        }
        rois.push(Roi {
            number,
            name: text(item, ROI_NAME).unwrap_or_default(),
            interpreted_type: String::new(),
            contours: Vec::new(),
            path: path.to_owned(),
        });
    }
    let find = |rois: &[Roi], number: u32, what: &str| -> Result<usize> {
        rois.iter().position(|r| r.number == number).ok_or_else(|| {
            bad(
                path,
                format!(
                    "{what} refers to ROI {number}, which StructureSetROISequence does not declare"
                ),
            )
        })
    };
    for (n, item) in root.items(ROI_CONTOURS).iter().enumerate() {
        let what = format!("ROIContourSequence item {}", n + 1);
        let number = roi_number(item, REFERENCED_ROI_NUMBER, path, &what)?;
        let at = find(&rois, number, &what)?;
        for (c, contour) in item.items(CONTOURS).iter().enumerate() {
            let values = contour
                .get(CONTOUR_DATA)
                .map(|v| v.to_multi_float64())
                .transpose()
                .map_err(|e| bad(path, format!("{what}, contour {}: ContourData: {e}", c + 1)))?
                .unwrap_or_default();
            if values.len() % 3 != 0 || values.iter().any(|v| !v.is_finite()) {
                return Err(bad(
                    path,
                    format!(
                        "{what}, contour {}: ContourData must hold finite x, y, z triples, it holds {} numbers",
                        c + 1,
                        values.len()
                    ),
                ));
            }
            let declared = text(contour, NUMBER_OF_POINTS).and_then(|t| t.parse::<usize>().ok());
            if declared.is_some_and(|d| d != values.len() / 3) {
                return Err(bad(
                    path,
                    format!(
                        "{what}, contour {}: NumberOfContourPoints {} but ContourData holds {} points",
                        c + 1,
                        declared.unwrap_or_default(),
                        values.len() / 3
                    ),
                ));
            }
            rois[at].contours.push(Contour {
                geometric_type: text(contour, GEOMETRIC_TYPE).unwrap_or_default(),
                points_lps: values.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect(),
            });
        }
    }
    for (n, item) in root.items(OBSERVATIONS).iter().enumerate() {
        let what = format!("RTROIObservationsSequence item {}", n + 1);
        let number = roi_number(item, REFERENCED_ROI_NUMBER, path, &what)?;
        let at = find(&rois, number, &what)?;
        rois[at].interpreted_type = text(item, INTERPRETED_TYPE).unwrap_or_default();
    }
    let frame_of_reference_uid = root
        .items(REFERENCED_FRAMES)
        .first()
        .and_then(|r| text(r, FRAME_OF_REFERENCE))
        .filter(|s| !s.is_empty())
        .or_else(|| text(root, FRAME_OF_REFERENCE).filter(|s| !s.is_empty()));
    Ok(StructureSet {
        label: text(root, STRUCTURE_SET_LABEL).unwrap_or_default(),
        frame_of_reference_uid,
        rois,
        path: path.to_owned(),
    })
}

impl StructureSet {
    /// The ROI named `name` (exactly; an error lists the names when there is none).
    pub fn roi(&self, name: &str) -> Result<&Roi> {
        self.rois.iter().find(|r| r.name == name).ok_or_else(|| {
            bad(
                &self.path,
                format!("no ROI named {name:?}; its ROIs: {}", self.names()),
            )
        })
    }

    /// The ROI numbered `number` (an error lists the ROIs when there is none).
    pub fn roi_numbered(&self, number: u32) -> Result<&Roi> {
        self.rois
            .iter()
            .find(|r| r.number == number)
            .ok_or_else(|| {
                bad(
                    &self.path,
                    format!("no ROI number {number}; its ROIs: {}", self.names()),
                )
            })
    }

    /// Every ROI that bounds a region (its contours all `CLOSED_PLANAR`; ROIs of points or open
    /// contours are left out) as one label map on a grid, each ROI's number its label.
    /// Refused, naming them: ROIs that overlap (common in a plan: a GTV inside its CTV — pick
    /// ROIs with [`StructureSet::labels_named`], or take one with [`Roi::mask_on_grid`]),
    /// numbers above 255.
    pub fn labels_on_grid(&self, geometry: &Geometry, shape: [usize; 3]) -> Result<Volume<u8>> {
        let mut picks = Vec::new();
        for roi in &self.rois {
            if roi
                .contours
                .iter()
                .any(|c| c.geometric_type != "CLOSED_PLANAR")
            {
                continue;
            }
            let label = u8::try_from(roi.number).map_err(|_| {
                bad(
                    &self.path,
                    format!(
                        "ROI {} {:?}: a label map holds numbers up to 255",
                        roi.number, roi.name
                    ),
                )
            })?;
            picks.push((roi, label));
        }
        self.label_map(&picks, geometry, shape)
    }

    /// The ROIs named in `picks` as one label map on a grid, each with the label it is given
    /// (e.g. `[("GTV_Primary", 1), ("GTV_Node", 2)]` for this toolkit's GTVp / GTVn masks).
    /// Refused, naming them: a name not in the set, labels 0, ROIs that overlap.
    pub fn labels_named(
        &self,
        picks: &[(&str, u8)],
        geometry: &Geometry,
        shape: [usize; 3],
    ) -> Result<Volume<u8>> {
        let mut rois = Vec::with_capacity(picks.len());
        for &(name, label) in picks {
            if label == 0 {
                return Err(bad(
                    &self.path,
                    format!("ROI {name:?}: label 0 is the background"),
                ));
            }
            rois.push((self.roi(name)?, label));
        }
        self.label_map(&rois, geometry, shape)
    }

    /// `picks`' masks as one label map; overlaps refused.
    fn label_map(
        &self,
        picks: &[(&Roi, u8)],
        geometry: &Geometry,
        shape: [usize; 3],
    ) -> Result<Volume<u8>> {
        let mut labels = Array3::<u8>::zeros(shape.f());
        let mut owner: Vec<Option<&Roi>> = vec![None; 256];
        for &(roi, label) in picks {
            let mask = roi.mask_on_grid(geometry, shape)?;
            for ((idx, &m), l) in mask.data().indexed_iter().zip(labels.iter_mut()) {
                if m == 0 {
                    continue;
                }
                if let Some(other) = owner[usize::from(*l)].filter(|_| *l != 0) {
                    return Err(bad(
                        &self.path,
                        format!(
                            "ROI {} {:?} and ROI {} {:?} overlap (at voxel {idx:?}): one label map cannot hold both; take each ROI's mask on its own",
                            other.number, other.name, roi.number, roi.name
                        ),
                    ));
                }
                *l = label;
            }
            owner[usize::from(label)] = Some(roi);
        }
        Volume::new(labels, *geometry)
    }

    fn names(&self) -> String {
        let names: Vec<String> = self
            .rois
            .iter()
            .map(|r| format!("{} {:?}", r.number, r.name))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

impl Roi {
    /// The ROI's region on the grid of `reference` (the CT it was drawn on), 0/1: see the
    /// module docs.
    pub fn mask_on<T>(&self, reference: &Volume<T>) -> Result<Volume<u8>> {
        self.mask_on_grid(reference.geometry(), reference.shape())
    }

    /// [`Roi::mask_on`] on a grid given by its geometry and shape (e.g. from
    /// [`crate::read_header`]).
    pub fn mask_on_grid(&self, geometry: &Geometry, shape: [usize; 3]) -> Result<Volume<u8>> {
        let mut data = Array3::<u8>::zeros(shape.f());
        for (c, contour) in self.contours.iter().enumerate() {
            let at = |reason: String| {
                bad(
                    &self.path,
                    format!(
                        "ROI {} {:?}, contour {}: {reason}",
                        self.number,
                        self.name,
                        c + 1
                    ),
                )
            };
            if contour.geometric_type != "CLOSED_PLANAR" {
                return Err(at(format!(
                    "{:?} contours bound no region (only CLOSED_PLANAR ones do)",
                    contour.geometric_type
                )));
            }
            if contour.points_lps.len() < 3 {
                continue; // no area
            }
            // Continuous indices (i, j, k) of the points (LPS to RAS: x and y negated).
            // Within 1e-9 of a whole index, the whole index: a vertex written on a voxel
            // centre stays on it through the transform's rounding.
            let snap = |v: f64| {
                if (v - v.round()).abs() < SNAP {
                    v.round()
                } else {
                    v
                }
            };
            let index: Vec<[f64; 3]> = contour
                .points_lps
                .iter()
                .map(|p| geometry.world_to_index([-p[0], -p[1], p[2]]).map(snap))
                .collect();
            let k = index[0][2].round();
            if let Some(p) = index.iter().find(|p| (p[2] - k).abs() > PLANE_TOLERANCE) {
                return Err(at(format!(
                    "its points are not on one plane of the grid (slice index {:.3} and {:.3}; at most {PLANE_TOLERANCE} apart from a plane)",
                    index[0][2], p[2]
                )));
            }
            if k < 0.0 || k >= shape[2] as f64 {
                continue; // off the grid: nothing to fill
            }
            fill(&mut data, k as usize, &index, shape);
        }
        Volume::new(data, *geometry)
    }
}

/// Toggles the voxels of plane `k` whose centres the polygon `index` (its `i`, `j`) encloses
/// or touches, as `skimage.draw.polygon` draws a polygon: O'Rourke's crossing test, a centre
/// within 1e-12 of a vertex or on an edge counting as inside.
fn fill(data: &mut Array3<u8>, k: usize, index: &[[f64; 3]], shape: [usize; 3]) {
    let (lo_i, hi_i) = bounds(index.iter().map(|p| p[0]), shape[0]);
    let (lo_j, hi_j) = bounds(index.iter().map(|p| p[1]), shape[1]);
    for j in lo_j..hi_j {
        for i in lo_i..hi_i {
            if touches(index, i as f64, j as f64) {
                data[[i, j, k]] ^= 1;
            }
        }
    }
}

/// Whether the point `(x, y)` is inside the polygon `index` (its first two coordinates), on
/// one of its edges, or within 1e-12 of a vertex: crossings of the rays to the right and to
/// the left of the point, counted apart (O'Rourke, *Computational Geometry in C*, 7.4).
fn touches(index: &[[f64; 3]], x: f64, y: f64) -> bool {
    const EPS: f64 = 1e-12;
    let (mut right, mut left) = (0u32, 0u32);
    let last = index[index.len() - 1];
    let (mut x1, mut y1) = (last[0] - x, last[1] - y);
    for p in index {
        let (x0, y0) = (p[0] - x, p[1] - y);
        if x0.abs() < EPS && y0.abs() < EPS {
            return true; // a vertex
        }
        if (y0 > 0.0) != (y1 > 0.0) && (x0 * y1 - x1 * y0) / (y1 - y0) > 0.0 {
            right += 1;
        }
        if (y0 < 0.0) != (y1 < 0.0) && (x0 * y1 - x1 * y0) / (y1 - y0) < 0.0 {
            left += 1;
        }
        (x1, y1) = (x0, y0);
    }
    // Parities that differ: on an edge; odd: inside.
    (right & 1) != (left & 1) || right & 1 == 1
}

/// The grid indices `[lo, hi)` a coordinate range can cover, clipped to `0..n`.
fn bounds(values: impl Iterator<Item = f64>, n: usize) -> (usize, usize) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let lo = lo.ceil().clamp(0.0, n as f64) as usize;
    let hi = (hi.floor() + 1.0).clamp(0.0, n as f64) as usize;
    (lo, hi.max(lo))
}

impl std::fmt::Display for StructureSet {
    /// What `adamss inspect` prints of an RTSTRUCT: its ROIs and their contours.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "format:    DICOM RT Structure Set {:?}, {} ROIs\nframe of reference: {}",
            self.label,
            self.rois.len(),
            self.frame_of_reference_uid.as_deref().unwrap_or("(none)")
        )?;
        for r in &self.rois {
            let points: usize = r.contours.iter().map(|c| c.points_lps.len()).sum();
            write!(
                f,
                "\nROI {} {:?} ({}): {} contours, {points} points",
                r.number,
                r.name,
                if r.interpreted_type.is_empty() {
                    "no type"
                } else {
                    &r.interpreted_type
                },
                r.contours.len()
            )?;
        }
        Ok(())
    }
}
