//! One patient from raw PET/CT/labels to network-ready crops, and the way back.

use adamss_io::{Case, Volume};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::locate::{locate_head_neck, Located, LocatorConfig};
use crate::normalize::{ct_to_unit, zscore, ZScore};
use crate::resample::{inside, inside_mask, resample_linear, resample_nearest, IndexMap};

/// Preprocessing settings (spec §1). `Default` is the paper's: 1 mm, 160³, CT window
/// [−1024, 1024] HU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessConfig {
    /// Isotropic spacing of the common grid, mm.
    pub spacing_mm: f64,
    /// Crop size in voxels (any positive size here; the network needs multiples of 2^levels,
    /// which adamss-train's experiment config checks).
    pub crop_size: [usize; 3],
    /// CT clipping window in HU, mapped to [−1, 1].
    pub ct_window: [f32; 2],
    /// Value given to CT voxels outside the scan, HU (before normalisation).
    pub ct_fill_hu: f32,
    /// Value given to PET voxels outside the PET's field of view, SUV (before normalisation;
    /// they are excluded from the Z-score statistics).
    pub pet_fill: f32,
    /// The label-free head-and-neck locator.
    pub locator: LocatorConfig,
    /// How the PET crop is normalised (default: Z-score over the crop's voxels inside the
    /// PET's field of view, as AdaMSS trains).
    #[serde(skip_serializing_if = "PetNormalization::is_default")]
    pub pet_normalization: PetNormalization,
}

/// How [`preprocess_volumes`] normalises the PET crop; [`Preprocessed::pet_suv`] undoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PetNormalization {
    /// Z-score with the mean and SD of the crop's voxels inside the PET's field of view.
    #[default]
    ZScore,
    /// None: the crop stays in SUV (its `pet_zscore` is mean 0, SD 1).
    Suv,
}

impl PetNormalization {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        Self {
            spacing_mm: 1.0,
            crop_size: [160; 3],
            ct_window: [-1024.0, 1024.0],
            ct_fill_hu: -1024.0,
            pet_fill: 0.0,
            locator: LocatorConfig::default(),
            pet_normalization: PetNormalization::ZScore,
        }
    }
}

impl PreprocessConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(self.spacing_mm.is_finite() && self.spacing_mm > 0.0) {
            return Err(Error::Config(format!(
                "spacing_mm must be positive, got {}",
                self.spacing_mm
            )));
        }
        if self.crop_size.contains(&0) {
            return Err(Error::Config(format!(
                "crop_size {:?}: every size must be positive",
                self.crop_size
            )));
        }
        let [lo, hi] = self.ct_window;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::Config(format!(
                "ct_window [{lo}, {hi}] must be increasing"
            )));
        }
        if !(self.ct_fill_hu.is_finite() && self.pet_fill.is_finite()) {
            return Err(Error::Config("fill values must be finite".into()));
        }
        self.locator.validate()
    }
}

/// Where to centre the crop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CropCentre {
    /// The label-free head-and-neck locator ([`locate_head_neck`]).
    Auto,
    /// An explicit point, RAS+ mm (e.g. from a bounding-box CSV).
    At([f64; 3]),
}

impl CropCentre {
    /// An explicit point given in LPS+ mm, as ITK, SimpleITK and DICOM give points
    /// (`image.TransformIndexToPhysicalPoint`): x and y are negated into RAS+.
    pub fn at_lps(point: [f64; 3]) -> Self {
        Self::At([-point[0], -point[1], point[2]])
    }
}

/// How much of the tumour labels the crop holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCoverage {
    /// Labelled (non-zero) voxels on the original grid.
    pub voxels: usize,
    /// Of those, the ones whose centre lies inside the crop.
    pub inside: usize,
}

impl LabelCoverage {
    /// Whether every labelled voxel is inside the crop.
    pub fn wholly_inside(&self) -> bool {
        self.inside == self.voxels
    }
}

/// A preprocessed patient: network inputs on the crop grid.
#[derive(Debug, Clone)]
pub struct Preprocessed {
    /// Patient identifier.
    pub id: String,
    /// CT on the crop, clipped and scaled to [−1, 1].
    pub ct: Volume<f32>,
    /// PET on the crop, Z-scored.
    pub pet: Volume<f32>,
    /// Labels on the crop (nearest neighbour), when the case has them.
    pub label: Option<Volume<u8>>,
    /// The crop grid (a sub-grid of the patient's common grid).
    pub crop: Grid,
    /// The patient's common grid (1 mm, axis-aligned, covering the CT).
    pub common: Grid,
    /// The locator's result when the centre was found automatically.
    pub located: Option<Located>,
    /// PET normalisation statistics.
    pub pet_zscore: ZScore,
    /// Label coverage by the crop, when the case has labels.
    pub coverage: Option<LabelCoverage>,
}

/// Runs the preprocessing of one patient: common grid from the CT, crop centre, resampling of
/// CT, PET and labels straight onto the crop grid, normalisation.
///
/// The PET Z-score uses the crop voxels inside the PET's field of view. The mask may be on its
/// own grid (see `adamss_io::LoadOptions::mask_grid_must_match`): it is resampled through
/// physical space like everything else. A mask without any tumour voxel is an error.
pub fn preprocess_case(
    case: &Case,
    config: &PreprocessConfig,
    centre: CropCentre,
) -> Result<Preprocessed> {
    preprocess_volumes(
        &case.id,
        &case.ct,
        &case.pet,
        case.mask.as_ref(),
        config,
        centre,
    )
}

/// [`preprocess_case`] from volumes held anywhere (read from files, built in memory, or
/// borrowed from a larger structure), without copying them into a `Case`: `id` names the
/// patient in errors and in the result.
pub fn preprocess_volumes(
    id: &str,
    ct: &Volume<f32>,
    pet: &Volume<f32>,
    mask: Option<&Volume<u8>>,
    config: &PreprocessConfig,
    centre: CropCentre,
) -> Result<Preprocessed> {
    config.validate()?;
    if let Some(mask) = mask {
        if mask.data().iter().all(|&v| v == 0) {
            return Err(Error::EmptyLabel(format!(
                "patient {id}: the label volume has no tumour voxel (give no mask for unlabelled patients)"
            )));
        }
    }
    let common = Grid::common_for(ct, config.spacing_mm)?;
    let (centre, located) = match centre {
        CropCentre::At(p) => {
            let (lo, hi) = common.bounds();
            if (0..3).any(|a| !(p[a] >= lo[a] && p[a] <= hi[a])) {
                return Err(Error::Grid(format!(
                    "crop centre {p:?} is outside the CT's extent {lo:?}–{hi:?} mm"
                )));
            }
            (p, None)
        }
        CropCentre::Auto => {
            let l = locate_head_neck(ct, pet, &config.locator)?;
            (l.centre, Some(l))
        }
    };
    let crop = common.crop_around(centre, config.crop_size)?;
    let mut pre = preprocess_on_grid(id, ct, pet, mask, &crop, config)?;
    pre.common = common;
    pre.located = located;
    Ok(pre)
}

/// [`preprocess_volumes`] onto a grid of the caller's (any spacing, orientation and size —
/// e.g. another scan's, or a fixed atlas box) instead of the locator's crop of the common grid:
/// CT and PET resampled linearly, labels by nearest neighbour, then normalised as `config`
/// says (`crop_size`, `spacing_mm` and the locator are not used). `common` and `crop` of the
/// result are both `grid`.
pub fn preprocess_on_grid(
    id: &str,
    ct: &Volume<f32>,
    pet: &Volume<f32>,
    mask: Option<&Volume<u8>>,
    grid: &Grid,
    config: &PreprocessConfig,
) -> Result<Preprocessed> {
    config.validate()?;
    let crop = *grid;
    let mut ct_crop = resample_linear(ct, &crop, config.ct_fill_hu)?;
    ct_to_unit(&mut ct_crop, config.ct_window[0], config.ct_window[1])?;
    let mut pet_crop = resample_linear(pet, &crop, config.pet_fill)?;
    let in_fov = inside_mask(&Grid::of(pet), &crop)?;
    let pet_zscore = match config.pet_normalization {
        PetNormalization::ZScore => zscore(&mut pet_crop, |[i, j, k]| in_fov[[i, j, k]])?,
        PetNormalization::Suv => ZScore {
            mean: 0.0,
            sd: 1.0,
            voxels: 0,
        },
    };
    let (label, coverage) = match mask {
        Some(mask) => {
            let on_crop = resample_nearest(mask, &crop, 0u8)?;
            (Some(on_crop), Some(coverage_of(mask, &crop)))
        }
        None => (None, None),
    };
    Ok(Preprocessed {
        id: id.to_string(),
        ct: ct_crop,
        pet: pet_crop,
        label,
        common: crop,
        crop,
        located: None,
        pet_zscore,
        coverage,
    })
}

impl Preprocessed {
    /// The PET crop in SUV (the normalisation undone).
    pub fn pet_suv(&self) -> Volume<f32> {
        let z = self.pet_zscore;
        self.pet.map(|&v| (f64::from(v) * z.sd + z.mean) as f32)
    }

    /// The CT crop in HU, clipped to `window` (the `ct_window` it was preprocessed with).
    pub fn ct_hu(&self, window: [f32; 2]) -> Volume<f32> {
        let [lo, hi] = window;
        self.ct.map(|&v| lo + (v + 1.0) * 0.5 * (hi - lo))
    }
}

/// Counts the labelled voxels of `mask` and those whose centres fall inside `crop`.
pub fn coverage_of(mask: &Volume<u8>, crop: &Grid) -> LabelCoverage {
    let to_crop = IndexMap::new(crop, &Grid::of(mask));
    let (mut voxels, mut inside_n) = (0, 0);
    for ((i, j, k), &v) in mask.data().indexed_iter() {
        if v != 0 {
            voxels += 1;
            if inside(
                to_crop.continuous_index([i as f64, j as f64, k as f64]),
                crop.shape,
            ) {
                inside_n += 1;
            }
        }
    }
    LabelCoverage {
        voxels,
        inside: inside_n,
    }
}

/// The inverse path: a mask predicted on the crop, mapped back onto the patient's original CT
/// grid (nearest neighbour, 0 outside the crop), ready to be written as NIfTI that lines up
/// with the CT in any viewer.
pub fn mask_to_ct_grid(mask_on_crop: &Volume<u8>, ct_grid: &Grid) -> Result<Volume<u8>> {
    resample_nearest(mask_on_crop, ct_grid, 0u8)
}
