//! What prediction hands out: masks back on the patient's original CT grid, as NIfTI, scored
//! against the patient's labels where it has them ([`crate::segeval::score_mask`]).

use std::path::{Path, PathBuf};

use adamss_io::{read_header, CaseRecord, Geometry, Volume};
use adamss_preprocess::{mask_to_ct_grid, Grid};
use ndarray::Array3;

use crate::data::PreparedCase;
use crate::error::{Error, Result};
use crate::segeval::score_mask;

/// A mask written on the CT grid, with its overlap with the patient's labels there.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedMask {
    /// Patient id.
    pub id: String,
    /// The NIfTI file.
    pub path: PathBuf,
    /// Dice of GTVp and GTVn with the original labels on the CT grid (None for a structure
    /// absent from both, or without labels).
    pub dice: [Option<f64>; 2],
    /// The 95th-percentile Hausdorff distance (mm) of GTVp and GTVn to the original labels on
    /// the CT grid, MONAI's surface HD95 (`adamss_preprocess::SurfaceDistances::hausdorff`):
    /// None as for `dice`, `+∞` for a structure in only one of the two.
    pub hd95: [Option<f64>; 2],
}

/// Mean Dice of `structure` (0 GTVp, 1 GTVn) over the masks that have one, and how many do;
/// `None` when none does.
pub fn mean_dice<'a>(
    masks: impl IntoIterator<Item = &'a ExportedMask>,
    structure: usize,
) -> Option<(f64, usize)> {
    let v: Vec<f64> = masks
        .into_iter()
        .filter_map(|m| m.dice[structure])
        .collect();
    (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64, v.len()))
}

/// Maps `mask` (labels on the case's crop grid) onto the CT grid of `record` (nearest
/// neighbour; 0 outside the crop), writes it to `<dir>/<id>.nii.gz` atomically, and compares it
/// with the record's labels.
pub fn export_mask(
    case: &PreparedCase,
    record: &CaseRecord,
    mask: &Array3<u8>,
    dir: &Path,
) -> Result<ExportedMask> {
    export_mask_on(&case.id, case.pre.ct.geometry(), record, mask, dir)
}

/// [`export_mask`] for a mask on the crop grid with geometry `crop`.
pub fn export_mask_on(
    id: &str,
    crop: &Geometry,
    record: &CaseRecord,
    mask: &Array3<u8>,
    dir: &Path,
) -> Result<ExportedMask> {
    let on_crop = Volume::new(mask.clone(), *crop)?;
    let ct = read_header(&record.ct)?;
    let grid = Grid::new(ct.shape, ct.geometry)?;
    write_mask(id, &mask_to_ct_grid(&on_crop, &grid)?, record, dir)
}

/// Writes `on_ct` (labels already on the CT grid of `record`) to `<dir>/<id>.nii.gz`
/// atomically, and compares it with the record's labels.
pub fn write_mask(
    id: &str,
    on_ct: &Volume<u8>,
    record: &CaseRecord,
    dir: &Path,
) -> Result<ExportedMask> {
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let path = dir.join(format!("{id}.nii.gz"));
    on_ct.write(&path)?; // atomic: a temporary file renamed into place
    let (mut dice, mut hd95) = ([None; 2], [None; 2]);
    if let Some(label_path) = &record.mask {
        let labels = Volume::<u8>::read(label_path)?;
        if labels.shape() == on_ct.shape() {
            // The cohort accepted the labels' grid as the CT's, within its tolerance.
            let labels = Volume::new(labels.into_parts().0, *on_ct.geometry())?;
            let scores = score_mask(on_ct, &labels)?;
            dice = scores.map(|s| s.dice());
            hd95 = scores.map(|s| s.hd95);
        }
    }
    Ok(ExportedMask {
        id: id.to_string(),
        path,
        dice,
        hd95,
    })
}
