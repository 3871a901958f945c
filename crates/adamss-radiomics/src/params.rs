//! PyRadiomics parameter files (YAML or JSON) for the subset this crate implements.
//!
//! ```json
//! { "setting": { "binWidth": 25, "label": 1 },
//!   "imageType": { "Original": {}, "Wavelet": { "binWidth": 10 } },
//!   "featureClass": { "firstorder": [], "glcm": null } }
//! ```
//!
//! `setting` keys are [`Settings`]' (PyRadiomics names); per-image-type blocks override them.
//! As in PyRadiomics, no `imageType` (absent, null or `{}`) is the original image alone, and no
//! `featureClass` every class — shape2D included where it applies
//! ([`ExtractionPlan::shape2d_where_planar`]).
//! A feature-class value lists the features to keep (empty or null: all defaults); a name the
//! class does not have is refused, naming the class's features. Of PyRadiomics' deprecated
//! features ([`FeatureClass::deprecated_names`]), those it still computes when named
//! (first-order `StandardDeviation`, shape `Compactness1`, `Compactness2`,
//! `SphericalDisproportion`, shape2D `SphericalDisproportion`) are computed; the others, for
//! which it computes no value, are refused by name. The `shape2D` class is computed once, as
//! `shape` is, for a one-slice ROI (see [`crate::shape2d_features`]). PyRadiomics' own
//! `exampleSettings/*.yaml` load unchanged. The `voxelSetting` block
//! ([`crate::VoxelSettings`]: `kernelRadius`, `maskedKernel`, `initValue`, `voxelBatch`) is
//! what [`ExtractionPlan::run_voxel_based`] reads; segment-based extraction ignores it, as
//! PyRadiomics does. Keys this crate does not implement (e.g. `LBP3D`) are refused with an
//! error naming them; `additionalInfo` and `enableCExtensions`, which do not change values, are
//! accepted and ignored. `resampledPixelSpacing` resamples image and mask once, with the
//! top-level settings, before any image type runs (see [`crate::resample()`]). YAML files
//! (PyRadiomics' usual form, e.g. its `exampleSettings/*.yaml`) are read by `yaml-rust2` into
//! the same structure: a key with no value is null, so `glcm:` enables the class's defaults as
//! PyRadiomics does.

use std::collections::BTreeMap;
use std::path::Path;

use adamss_io::{read_header, Geometry, ReadOptions, Volume};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::extract::{
    filtered_with, log_with, original_with, shape_classes, Describe, FeatureClass, Features,
    Segment, Shape2d,
};
use crate::filters::ImageType;
use crate::pixel::{Pixel, PixelType};
use crate::resample::{resample, ResampledImage};
use crate::settings::Settings;
use crate::table::pet_ct;
use crate::voxel::{FeatureMaps, Kernels, VoxelSettings};

/// An image type of a parameter file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageTypeSelection {
    /// The unfiltered image.
    Original,
    /// A filtered image type.
    Filtered(ImageType),
    /// Laplacian of Gaussian at the settings' `sigma` values (mm).
    LoG,
}

/// What a parameter file asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractionPlan {
    /// Image types with their effective settings.
    pub image_types: Vec<(ImageTypeSelection, Settings)>,
    /// Classes, each with the features to keep (`None`: all).
    pub classes: Vec<(FeatureClass, Option<Vec<String>>)>,
    /// Also the shape2D class where it applies (`force2D` and an ROI within one slice across
    /// `force2Ddimension`), skipped elsewhere: what a parameter file without `featureClass`
    /// (or with an empty one) asks for, since PyRadiomics then enables every class, shape2D
    /// included, and computes shape2D where it can (it skips it with a warning without
    /// `force2D`, and fails on a 3-D ROI with it). False for [`ExtractionPlan::default`], as
    /// PyRadiomics without a parameter file; a `shape2D` listed in [`Self::classes`] is
    /// computed or refused whatever this says.
    pub shape2d_where_planar: bool,
    /// The file's `setting` block alone: the shape class's settings (it is computed once,
    /// not per image type, as in PyRadiomics).
    pub settings: Settings,
    /// PyRadiomics' `additionalInfo` (default true): whether the `diagnostics_*` entries go
    /// with the features (batch output's columns; [`ExtractionPlan::diagnostics_files`]).
    pub additional_info: bool,
    /// The file's `voxelSetting` block: the kernel of [`ExtractionPlan::run_voxel_based`].
    pub voxel: VoxelSettings,
}

/// A deprecated feature: its class, its name, and the two features it derives from.
pub(crate) type Derived = (FeatureClass, &'static str, [&'static str; 2]);

/// The deprecated features PyRadiomics still computes (with a warning) when a parameter file
/// names them, and what they derive from: `StandardDeviation = √Variance`, and from the mesh
/// volume V and surface area A, `Compactness1 = V / (√π A^1.5)`, `Compactness2 = 36π V² / A³`,
/// `SphericalDisproportion = A / (36π V²)^⅓`; in 2-D `SphericalDisproportion = 1 /
/// Sphericity` (PyRadiomics' formulas). Its other deprecated
/// features (GLCM `Dissimilarity`, `Homogeneity1/2`, `SumVariance`, GLDM
/// `DependencePercentage`, `GrayLevelNonUniformityNormalized`) have no value there either.
const DERIVED: [Derived; 5] = [
    (
        FeatureClass::FirstOrder,
        "StandardDeviation",
        ["Variance", "Variance"],
    ),
    (
        FeatureClass::Shape,
        "Compactness1",
        ["MeshVolume", "SurfaceArea"],
    ),
    (
        FeatureClass::Shape,
        "Compactness2",
        ["MeshVolume", "SurfaceArea"],
    ),
    (
        FeatureClass::Shape,
        "SphericalDisproportion",
        ["MeshVolume", "SurfaceArea"],
    ),
    (
        FeatureClass::Shape2D,
        "SphericalDisproportion",
        ["Sphericity", "Sphericity"],
    ),
];

/// A one-slice volume with its third spacing set to 1: a 2-D image's pixels, whose volume is
/// their area.
pub(crate) fn unit_depth<T>(v: Volume<T>) -> Result<Volume<T>> {
    let (data, g) = v.into_parts();
    let mut spacing = g.spacing;
    spacing[2] = 1.0;
    Ok(Volume::new(
        data,
        Geometry::new(spacing, g.origin, g.direction)?,
    )?)
}

/// Whether `image` (its header `info`) and `mask` are a 2-D pair (NIfTI `dim[0] = 2`, which
/// SimpleITK reads as 2-D images); a 2-D file beside a 3-D one is refused, as PyRadiomics
/// refuses to pair them.
pub(crate) fn two_d_pair(image: &Path, info: &adamss_io::NiftiInfo, mask: &Path) -> Result<bool> {
    // A DICOM SEG or RTSTRUCT mask is placed on the image's 3-D grid.
    let b = !adamss_io::dicom::is_segmentation(mask)
        && !adamss_io::dicom::is_structure_set(mask)
        && read_header(mask)?.dims.len() == 2;
    let a = info.dims.len() == 2;
    if a != b {
        let d = |two: bool| if two { 2 } else { 3 };
        return Err(Error::GeometryMismatch(format!(
            "{} is {}-D and {} {}-D (SimpleITK reads a NIfTI file with dim[0] = 2 as a 2-D \
             image, and PyRadiomics refuses to pair it with a 3-D one)",
            image.display(),
            d(a),
            mask.display(),
            d(b)
        )));
    }
    Ok(a)
}

fn bad(path: &Path, msg: String) -> Error {
    Error::Settings(format!("{}: {msg}", path.display()))
}

fn settings_from(
    path: &Path,
    base: &Map<String, Value>,
    over: Option<&Map<String, Value>>,
) -> Result<Settings> {
    let mut m = base.clone();
    if let Some(o) = over {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    m.remove("additionalInfo");
    m.remove("enableCExtensions");
    let s: Settings = serde_json::from_value(Value::Object(m))
        .map_err(|e| bad(path, format!("unsupported or invalid setting: {e}")))?;
    s.validate().map_err(|e| bad(path, e.to_string()))?;
    Ok(s)
}

/// The JSON value of a YAML node (scalars keep their YAML type: `25` is an integer, `25.0` a
/// float, `'25'` a string; aliases are refused).
fn yaml_to_json(path: &Path, y: &yaml_rust2::Yaml) -> Result<Value> {
    use yaml_rust2::Yaml;
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(_) => {
            let f = y
                .as_f64()
                .ok_or_else(|| bad(path, format!("invalid number {y:?}")))?;
            // A non-finite YAML float (`.nan`, `.inf`) has no JSON number: it goes on as its
            // text, which `initValue` reads and a numeric setting refuses.
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(format!("{f}")))
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(a) => Value::Array(
            a.iter()
                .map(|v| yaml_to_json(path, v))
                .collect::<Result<_>>()?,
        ),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    other => return Err(bad(path, format!("unsupported YAML key {other:?}"))),
                };
                m.insert(key, yaml_to_json(path, v)?);
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err(bad(path, format!("unsupported YAML value {y:?}")))
        }
    })
}

impl Default for ExtractionPlan {
    /// What PyRadiomics extracts with no parameter file: the original image, every feature
    /// class with all its features, default settings (`binWidth` 25, label 1).
    fn default() -> Self {
        Self {
            image_types: vec![(ImageTypeSelection::Original, Settings::default())],
            classes: FeatureClass::ALL.iter().map(|&c| (c, None)).collect(),
            shape2d_where_planar: false,
            settings: Settings::default(),
            additional_info: true,
            voxel: VoxelSettings::default(),
        }
    }
}

impl ExtractionPlan {
    /// Reads a parameter file: YAML for `.yaml`/`.yml`, JSON otherwise.
    pub fn from_file(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => {
                Self::from_yaml_file(path)
            }
            _ => Self::from_json_file(path),
        }
    }

    /// Reads a YAML parameter file.
    pub fn from_yaml_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .map_err(|e| bad(path, format!("not YAML: {e}")))?;
        let v = match docs.as_slice() {
            [] => Value::Object(Map::new()),
            [doc] => yaml_to_json(path, doc)?,
            _ => return Err(bad(path, "expected one YAML document".into())),
        };
        Self::from_value(path, &v)
    }

    /// Reads a JSON parameter file.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
        Self::from_value(path, &v)
    }

    fn from_value(path: &Path, v: &Value) -> Result<Self> {
        let top = v.as_object().ok_or_else(|| {
            bad(
                path,
                "expected a mapping of setting, imageType, featureClass".into(),
            )
        })?;
        for k in top.keys() {
            if !matches!(
                k.as_str(),
                "setting" | "imageType" | "featureClass" | "voxelSetting"
            ) {
                return Err(bad(path, format!("unknown top-level key {k:?}")));
            }
        }
        let empty = Map::new();
        let base = match top.get("setting") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad(path, "\"setting\" must be an object".into())),
        };
        let mut image_types = Vec::new();
        // As PyRadiomics: no image type (absent, null or `{}`) is the original image alone, and
        // no feature class every class.
        let empty_map = |v: Option<&Value>| match v {
            None | Some(Value::Null) => true,
            Some(Value::Object(m)) => m.is_empty(),
            Some(_) => false,
        };
        match top.get("imageType") {
            v if empty_map(v) => image_types.push((
                ImageTypeSelection::Original,
                settings_from(path, base, None)?,
            )),
            Some(Value::Object(m)) => {
                for (name, over) in m {
                    let sel = match name.as_str() {
                        "Original" => ImageTypeSelection::Original,
                        "Wavelet" => ImageTypeSelection::Filtered(ImageType::Wavelet),
                        "Square" => ImageTypeSelection::Filtered(ImageType::Square),
                        "SquareRoot" => ImageTypeSelection::Filtered(ImageType::SquareRoot),
                        "Logarithm" => ImageTypeSelection::Filtered(ImageType::Logarithm),
                        "Exponential" => ImageTypeSelection::Filtered(ImageType::Exponential),
                        "Gradient" => ImageTypeSelection::Filtered(ImageType::Gradient),
                        "LBP2D" => ImageTypeSelection::Filtered(ImageType::Lbp2D),
                        "LoG" => ImageTypeSelection::LoG,
                        other => {
                            return Err(bad(
                                path,
                                format!("image type {other:?} is not implemented"),
                            ))
                        }
                    };
                    let over = match over {
                        Value::Null => None,
                        Value::Object(o) => Some(o),
                        _ => {
                            return Err(bad(
                                path,
                                format!("image type {name:?} must map to an object"),
                            ))
                        }
                    };
                    let settings = settings_from(path, base, over)?;
                    if sel == ImageTypeSelection::LoG && settings.sigma.is_empty() {
                        return Err(bad(
                            path,
                            "image type LoG needs a sigma list (mm), e.g. sigma: [1.0, 2.0]".into(),
                        ));
                    }
                    image_types.push((sel, settings));
                }
            }
            _ => return Err(bad(path, "\"imageType\" must be an object".into())),
        }
        let mut classes = Vec::new();
        let every_class = empty_map(top.get("featureClass"));
        match top.get("featureClass") {
            v if empty_map(v) => classes.extend(FeatureClass::ALL.iter().map(|&c| (c, None))),
            Some(Value::Object(m)) => {
                for (name, list) in m {
                    let class = FeatureClass::from_name(name).ok_or_else(|| {
                        bad(path, format!("feature class {name:?} is not implemented"))
                    })?;
                    let keep = match list {
                        Value::Null => None,
                        Value::Array(a) if a.is_empty() => None,
                        Value::Array(a) => Some(
                            a.iter()
                                .map(|x| {
                                    x.as_str().map(str::to_string).ok_or_else(|| {
                                        bad(path, format!("{name}: feature names must be strings"))
                                    })
                                })
                                .collect::<Result<Vec<_>>>()?,
                        ),
                        _ => return Err(bad(path, format!("{name}: expected a list of features"))),
                    };
                    // PyRadiomics refuses unknown names; a silently empty class would hide a typo.
                    for f in keep.iter().flatten() {
                        if class.feature_names().contains(&f.as_str())
                            || DERIVED.iter().any(|(c, d, _)| *c == class && d == f)
                        {
                            continue;
                        }
                        return Err(bad(
                            path,
                            if class.deprecated_names().contains(&f.as_str()) {
                                format!(
                                    "{name}: {f:?} is deprecated in PyRadiomics, which computes no \
                                     value for it either (it raises a DeprecationWarning: the \
                                     feature equals another one); remove it"
                                )
                            } else {
                                format!(
                                    "{name}: unknown feature {f:?}; this class has {}",
                                    class.feature_names().join(", ")
                                )
                            },
                        ));
                    }
                    classes.push((class, keep));
                }
            }
            _ => return Err(bad(path, "\"featureClass\" must be an object".into())),
        }
        let additional_info = match base.get("additionalInfo") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(bad(
                    path,
                    format!("additionalInfo must be true or false, got {v}"),
                ))
            }
        };
        let voxel: VoxelSettings = match top.get("voxelSetting") {
            None | Some(Value::Null) => VoxelSettings::default(),
            Some(v @ Value::Object(_)) => serde_json::from_value(v.clone())
                .map_err(|e| bad(path, format!("unsupported or invalid voxelSetting: {e}")))?,
            Some(_) => return Err(bad(path, "\"voxelSetting\" must be an object".into())),
        };
        voxel.validate().map_err(|e| bad(path, e.to_string()))?;
        Ok(Self {
            image_types,
            classes,
            shape2d_where_planar: every_class,
            settings: settings_from(path, base, None)?,
            additional_info,
            voxel,
        })
    }

    /// The same plan on another mask label (PyRadiomics' `label` setting, for every image type).
    pub fn with_label(mut self, label: u8) -> Self {
        self.settings.label = label;
        for (_, s) in &mut self.image_types {
            s.label = label;
        }
        self
    }

    /// Runs the plan on one image and mask, the image taken as stored in float32 (see
    /// [`ExtractionPlan::run_stored`] for other stored types; it only matters when resampling).
    pub fn run(&self, image: &Volume<f32>, mask: &Volume<u8>) -> Result<Features> {
        self.run_stored(image, mask, PixelType::Float32)
    }

    /// Runs the plan on the image and mask files, as PyRadiomics' `execute(image, mask)`: the
    /// image's stored pixel type is read from its header ([`PixelType::from_nifti`]). Non-finite
    /// voxels (NaN, ±Inf) are read as they are: only a non-finite value that a feature reads
    /// (in the ROI of an image type, or in a whole-image statistic such as `normalize`'s) is
    /// an error, naming the voxel.
    ///
    /// A 2-D image (a NIfTI file whose `dim[0]` is 2, which SimpleITK reads as a 2-D image) is
    /// extracted as PyRadiomics extracts one ([`ExtractionPlan::for_2d_image`]). The mask may
    /// be a DICOM Segmentation object or RT Structure Set drawn on the image: the segment or ROI
    /// numbered as the plan's `label` is taken ([`adamss_io::read_mask_label`]).
    pub fn run_files(&self, image: &Path, mask: &Path) -> Result<Features> {
        self.files_with(&SegmentRun, image, mask)
    }

    /// Reads image and mask files as [`ExtractionPlan::run_files`] does (the stored pixel type
    /// from the header, a 2-D pair as a 2-D image) and hands them to `run`.
    fn files_with<R: PreparedRun>(&self, run: &R, image: &Path, mask: &Path) -> Result<R::Out> {
        let info = read_header(image)?;
        let two_d = two_d_pair(image, &info, mask)?;
        let stored = PixelType::from_nifti(&info).ok_or_else(|| {
            Error::Settings(format!(
                "{}: NIfTI datatype {} ({}) is not a scalar image type",
                image.display(),
                info.datatype,
                info.datatype_name
            ))
        })?;
        let read = ReadOptions {
            finite_only: false,
            ..ReadOptions::default()
        };
        let img = Volume::<f32>::read_with(image, &read)?;
        let msk = adamss_io::read_mask_label(mask, image, self.settings.label)?;
        if two_d {
            let plan = self.for_2d_image();
            plan.prepared_with(run, &unit_depth(img)?, &unit_depth(msk)?, stored, 2)
        } else {
            self.prepared_with(run, &img, &msk, stored, 3)
        }
    }

    /// The plan as PyRadiomics runs it on a 2-D image (what SimpleITK makes of a NIfTI file
    /// with `dim[0] = 2`), for images held here as one slice across z whose third spacing is
    /// 1 (so a voxel's volume is the pixel's area, as `TotalEnergy` needs): textures and the
    /// wavelet within the slice (`force2D` across z: PyRadiomics' 2-D angles, 8 neighbours, the
    /// four 2-D sub-bands `wavelet-LH`, …), resampling in the plane (`resampledPixelSpacing` of
    /// two values, x and y), the shape class left out with a warning (PyRadiomics:
    /// "Shape features are only available 3D input (for 2D input, use shape2D)"), shape2D
    /// computed where asked for or implied. ([`ExtractionPlan::run_files`] also filters the
    /// LoG of a 2-D image in 2-D, as SimpleITK does; [`ExtractionPlan::run_stored`] of this
    /// plan would filter it in 3-D.)
    pub fn for_2d_image(&self) -> Self {
        // PyRadiomics' two spacings of a 2-D image; the unit depth is kept.
        let in_plane = |s: &Settings| Settings {
            force_2d: true,
            force_2d_dimension: 0,
            resampled_pixel_spacing: (s.resampled_pixel_spacing.as_ref())
                .map(|r| vec![r[0], r.get(1).copied().unwrap_or(0.0), 0.0]),
            ..s.clone()
        };
        let mut plan = self.clone();
        if plan.classes.iter().any(|(c, _)| *c == FeatureClass::Shape) {
            crate::context::warn_case!(
                "shape class skipped: the image is 2-D (as PyRadiomics: shape features are only \
                 available for 3-D input; for 2-D input, use shape2D)"
            );
            plan.classes.retain(|(c, _)| *c != FeatureClass::Shape);
        }
        plan.settings = in_plane(&plan.settings);
        for (_, s) in &mut plan.image_types {
            *s = in_plane(s);
        }
        plan
    }

    /// Runs the plan on one image stored as `stored` (e.g. [`PixelType::Int16`] for a CT read
    /// from an int16 file) and its mask. With a `resampledPixelSpacing` that changes the
    /// spacing, image and mask are first normalised (with `normalize`) and resampled by
    /// [`resample`] with the top-level settings, as PyRadiomics' `loadImage` does; the image
    /// types then run on the resampled pair.
    pub fn run_stored(
        &self,
        image: &Volume<f32>,
        mask: &Volume<u8>,
        stored: PixelType,
    ) -> Result<Features> {
        self.run_stored_axes(image, mask, stored, 3)
    }

    /// [`ExtractionPlan::run_stored`] with the LoG over the first `axes` image axes (2: a 2-D
    /// image).
    fn run_stored_axes(
        &self,
        image: &Volume<f32>,
        mask: &Volume<u8>,
        stored: PixelType,
        axes: usize,
    ) -> Result<Features> {
        self.prepared_with(&SegmentRun, image, mask, stored, axes)
    }

    /// Prepares image and mask as PyRadiomics' loadImage does — resampling first, from the
    /// mask's grid (the image read through its own geometry), so the grids need not agree;
    /// else the mask taken onto the image's grid — and hands them to `run`.
    fn prepared_with<R: PreparedRun>(
        &self,
        run: &R,
        image: &Volume<f32>,
        mask: &Volume<u8>,
        stored: PixelType,
        axes: usize,
    ) -> Result<R::Out> {
        let Some(r) = resample(image, mask, &self.settings, stored)? else {
            let mask = crate::roi::mask_on_image_grid(image, mask, &self.settings)?;
            return run.run(self, image, &mask, stored, &|s| s.clone(), axes);
        };
        // Resampling has cropped (preCrop no longer applies) and normalised.
        let strip = |s: &Settings| Settings {
            resampled_pixel_spacing: None,
            pre_crop: false,
            normalize: s.normalize && !r.normalized,
            ..s.clone()
        };
        match &r.image {
            ResampledImage::Single(img) => run.run(self, img, &r.mask, stored, &strip, axes),
            ResampledImage::Double(img) => run.run(self, img, &r.mask, stored, &strip, axes),
        }
    }

    /// The plan on a PET and a CT sharing one mask (all three on the mask's grid), each with
    /// its stored pixel type, named `PET_<feature>` and `CT_<feature>` as
    /// [`crate::extract_pet_ct`] names them; the two images run as parallel tasks.
    pub fn run_pet_ct(
        &self,
        pet: (&Volume<f32>, PixelType),
        ct: (&Volume<f32>, PixelType),
        mask: &Volume<u8>,
    ) -> Result<Features> {
        pet_ct(
            || self.run_stored(pet.0, mask, pet.1),
            || self.run_stored(ct.0, mask, ct.1),
        )
    }

    /// Voxel-based extraction of the plan (PyRadiomics' `execute(image, mask, voxelBased=True)`),
    /// the image taken as stored in float32 (see [`ExtractionPlan::run_voxel_based_stored`]):
    /// one map per feature of every image type, the kernel as the file's `voxelSetting` block
    /// ([`ExtractionPlan::voxel`]) says. Image types, resampling, normalisation,
    /// resegmentation and feature selection as in [`ExtractionPlan::run`]; the shape classes
    /// describe no kernel and are left out, as PyRadiomics leaves them out. See
    /// [`crate::extract_voxel_based`] for how a kernel is described and where PyRadiomics'
    /// values are not copied.
    pub fn run_voxel_based(&self, image: &Volume<f32>, mask: &Volume<u8>) -> Result<FeatureMaps> {
        self.run_voxel_based_stored(image, mask, PixelType::Float32)
    }

    /// [`ExtractionPlan::run_voxel_based`] on an image stored as `stored` (it matters when
    /// resampling and for the wavelet, as in [`ExtractionPlan::run_stored`]).
    pub fn run_voxel_based_stored(
        &self,
        image: &Volume<f32>,
        mask: &Volume<u8>,
        stored: PixelType,
    ) -> Result<FeatureMaps> {
        self.prepared_with(&VoxelRun, image, mask, stored, 3)
    }

    /// [`ExtractionPlan::run_voxel_based`] on image and mask files, read as
    /// [`ExtractionPlan::run_files`] reads them (a 2-D image's kernels lie within its plane).
    pub fn run_voxel_based_files(&self, image: &Path, mask: &Path) -> Result<FeatureMaps> {
        self.files_with(&VoxelRun, image, mask)
    }

    /// The classes but the shape ones.
    fn texture_classes(&self) -> Vec<FeatureClass> {
        (self.classes.iter().map(|(c, _)| *c))
            .filter(|c| !c.is_shape())
            .collect()
    }

    /// The features each class keeps, by class name (a class absent: all of them).
    fn kept_features(&self) -> BTreeMap<&str, &Vec<String>> {
        (self.classes.iter())
            .filter_map(|(c, k)| k.as_ref().map(|k| (c.name(), k)))
            .collect()
    }

    /// Every image type's images of a prepared pair, described by `describe`.
    fn image_types_with<D: Describe, T: Pixel>(
        &self,
        describe: &D,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<Vec<D::Item>> {
        let classes = &self.texture_classes()[..];
        let mut out = Vec::new();
        for (sel, s) in &self.image_types {
            let s = &adjust(s);
            let f = match sel {
                ImageTypeSelection::Original => original_with(describe, image, mask, s, classes)?,
                // PyWavelets filters an integer or float64 image in double precision: each
                // voxel the wavelet reads, as f64 (no converted copy of the whole image).
                ImageTypeSelection::Filtered(kind @ ImageType::Wavelet)
                    if stored != PixelType::Float32 =>
                {
                    filtered_with(describe, image, mask, s, classes, *kind, false)?
                }
                ImageTypeSelection::Filtered(kind) => {
                    filtered_with(describe, image, mask, s, classes, *kind, T::SINGLE)?
                }
                ImageTypeSelection::LoG => {
                    if s.sigma.is_empty() {
                        return Err(Error::Settings(
                            "image type LoG needs a sigma list (mm), e.g. sigma: [1.0, 2.0]".into(),
                        ));
                    }
                    log_with(describe, image, mask, s, classes, &s.sigma, axes)?
                }
            };
            out.extend(f);
        }
        Ok(out)
    }

    fn run_prepared<T: Pixel>(
        &self,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<Features> {
        // Shape and shape2D once, first, from the top-level settings; the other classes per
        // image type.
        let shapes: Vec<FeatureClass> = (self.classes.iter().map(|(c, _)| *c))
            .filter(|c| c.is_shape())
            .collect();
        let keep = self.kept_features();
        let shape2d = if shapes.contains(&FeatureClass::Shape2D) {
            Shape2d::Asked
        } else if self.shape2d_where_planar && self.settings.force_2d {
            Shape2d::WhereItApplies
        } else {
            Shape2d::No
        };
        let mut out = shape_classes(
            image,
            mask,
            &adjust(&self.settings),
            shapes.contains(&FeatureClass::Shape),
            shape2d,
        )?;
        out.extend(self.image_types_with(&Segment, image, mask, stored, adjust, axes)?);
        // Deprecated features PyRadiomics still computes when a file asks for them by name.
        let mut derived = Vec::new();
        for (class, feature, from) in derived_asked(&keep) {
            for (name, v) in &out {
                let Some(prefix) = name.strip_suffix(&format!("_{}_{}", class.name(), from[0]))
                else {
                    continue;
                };
                let other = format!("{prefix}_{}_{}", class.name(), from[1]);
                let a = out
                    .iter()
                    .find(|(m, _)| *m == other)
                    .map_or(f64::NAN, |(_, x)| *x);
                let x = derived_value(class, feature, *v, a);
                derived.push((format!("{prefix}_{}_{feature}", class.name()), x));
            }
        }
        out.extend(derived);
        out.retain(|(name, _)| kept(&keep, name));
        Ok(out)
    }

    fn voxel_prepared<T: Pixel>(
        &self,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<FeatureMaps> {
        let keep = self.kept_features();
        let all: Vec<FeatureClass> = self.classes.iter().map(|(c, _)| *c).collect();
        let kernels = Kernels::new(&self.voxel, &all, image.geometry(), derived_asked(&keep))?;
        let mut maps = self.image_types_with(&kernels, image, mask, stored, adjust, axes)?;
        maps.retain(|(name, _)| kept(&keep, name));
        Ok(FeatureMaps { maps })
    }
}

/// The rows of [`DERIVED`] a file asks for by name (`keep`).
pub(crate) fn derived_asked(keep: &BTreeMap<&str, &Vec<String>>) -> Vec<Derived> {
    DERIVED
        .into_iter()
        .filter(|(class, feature, _)| {
            keep.get(class.name())
                .is_some_and(|k| k.iter().any(|x| x == feature))
        })
        .collect()
}

/// A deprecated feature from the two features it derives from ([`DERIVED`]'s formulas): `v`
/// the first, `a` the second.
pub(crate) fn derived_value(class: FeatureClass, feature: &str, v: f64, a: f64) -> f64 {
    let pi = std::f64::consts::PI;
    match (class, feature) {
        (_, "StandardDeviation") => v.sqrt(),
        (_, "Compactness1") => v / (a.powf(1.5) * pi.sqrt()),
        (_, "Compactness2") => 36.0 * pi * v.powi(2) / a.powi(3),
        (FeatureClass::Shape2D, _) => 1.0 / v,
        _ => a / (36.0 * pi * v.powi(2)).cbrt(),
    }
}

/// Whether a feature `<image>_<class>_<feature>` is among those the file keeps.
fn kept(keep: &BTreeMap<&str, &Vec<String>>, name: &str) -> bool {
    let mut parts = name.rsplitn(3, '_');
    let feature = parts.next().unwrap_or("");
    let class = parts.next().unwrap_or("");
    keep.get(class)
        .is_none_or(|k| k.iter().any(|x| x == feature))
}

/// What runs on a prepared (resampled or grid-checked) image and mask.
trait PreparedRun {
    type Out;
    fn run<T: Pixel>(
        &self,
        plan: &ExtractionPlan,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<Self::Out>;
}

/// Segment-based extraction of the plan.
struct SegmentRun;

impl PreparedRun for SegmentRun {
    type Out = Features;
    fn run<T: Pixel>(
        &self,
        plan: &ExtractionPlan,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<Features> {
        plan.run_prepared(image, mask, stored, adjust, axes)
    }
}

/// Voxel-based extraction of the plan.
struct VoxelRun;

impl PreparedRun for VoxelRun {
    type Out = FeatureMaps;
    fn run<T: Pixel>(
        &self,
        plan: &ExtractionPlan,
        image: &Volume<T>,
        mask: &Volume<u8>,
        stored: PixelType,
        adjust: &dyn Fn(&Settings) -> Settings,
        axes: usize,
    ) -> Result<FeatureMaps> {
        plan.voxel_prepared(image, mask, stored, adjust, axes)
    }
}
