//! Extraction of named features from an image and a mask.

use std::borrow::Cow;

use adamss_io::Volume;
use ndarray::Array3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::discretize::{discretize, Discretized, Padded};
use crate::error::{Error, Result};
use crate::filters::{filtered, ImageType};
use crate::log::laplacian_of_gaussian_in;
use crate::pixel::Pixel;
use crate::roi::{
    bounding_box, check_grids, crop_window, image_values, label_absent, resegment,
    resegment_values, Roi,
};
use crate::settings::Settings;
use crate::shape::shape_features;
use crate::shape2d::shape2d_features;
use crate::{firstorder, glcm, ngtdm, sizezone};

/// A feature class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureClass {
    /// 3-D shape of the ROI (14 features; original image only, as in PyRadiomics).
    Shape,
    /// First-order statistics (18 features).
    FirstOrder,
    /// Grey-level co-occurrence matrix (24 features).
    Glcm,
    /// Grey-level run-length matrix (16 features).
    Glrlm,
    /// Grey-level size-zone matrix (16 features).
    Glszm,
    /// Grey-level dependence matrix (14 features).
    Gldm,
    /// Neighbouring grey tone difference matrix (5 features).
    Ngtdm,
    /// 2-D shape of a one-slice ROI (9 features; original image only). Not among
    /// [`FeatureClass::ALL`]: as in PyRadiomics, only when asked for (see
    /// [`crate::shape2d_features`] for what it needs).
    Shape2D,
}

impl FeatureClass {
    /// Every class PyRadiomics enables by default, in its order (all but
    /// [`FeatureClass::Shape2D`]).
    pub const ALL: [FeatureClass; 7] = [
        Self::Shape,
        Self::FirstOrder,
        Self::Glcm,
        Self::Glrlm,
        Self::Glszm,
        Self::Gldm,
        Self::Ngtdm,
    ];

    /// The features this class computes, in PyRadiomics' spelling (its non-deprecated
    /// features: `tests/data/radiomics/feature_names.json`, from PyRadiomics itself).
    pub fn feature_names(self) -> &'static [&'static str] {
        match self {
            Self::Shape => &[
                "Elongation",
                "Flatness",
                "LeastAxisLength",
                "MajorAxisLength",
                "Maximum2DDiameterColumn",
                "Maximum2DDiameterRow",
                "Maximum2DDiameterSlice",
                "Maximum3DDiameter",
                "MeshVolume",
                "MinorAxisLength",
                "Sphericity",
                "SurfaceArea",
                "SurfaceVolumeRatio",
                "VoxelVolume",
            ],
            Self::FirstOrder => &[
                "10Percentile",
                "90Percentile",
                "Energy",
                "Entropy",
                "InterquartileRange",
                "Kurtosis",
                "Maximum",
                "Mean",
                "MeanAbsoluteDeviation",
                "Median",
                "Minimum",
                "Range",
                "RobustMeanAbsoluteDeviation",
                "RootMeanSquared",
                "Skewness",
                "TotalEnergy",
                "Uniformity",
                "Variance",
            ],
            Self::Glcm => &[
                "Autocorrelation",
                "ClusterProminence",
                "ClusterShade",
                "ClusterTendency",
                "Contrast",
                "Correlation",
                "DifferenceAverage",
                "DifferenceEntropy",
                "DifferenceVariance",
                "Id",
                "Idm",
                "Idmn",
                "Idn",
                "Imc1",
                "Imc2",
                "InverseVariance",
                "JointAverage",
                "JointEnergy",
                "JointEntropy",
                "MCC",
                "MaximumProbability",
                "SumAverage",
                "SumEntropy",
                "SumSquares",
            ],
            Self::Glrlm => &[
                "GrayLevelNonUniformity",
                "GrayLevelNonUniformityNormalized",
                "GrayLevelVariance",
                "HighGrayLevelRunEmphasis",
                "LongRunEmphasis",
                "LongRunHighGrayLevelEmphasis",
                "LongRunLowGrayLevelEmphasis",
                "LowGrayLevelRunEmphasis",
                "RunEntropy",
                "RunLengthNonUniformity",
                "RunLengthNonUniformityNormalized",
                "RunPercentage",
                "RunVariance",
                "ShortRunEmphasis",
                "ShortRunHighGrayLevelEmphasis",
                "ShortRunLowGrayLevelEmphasis",
            ],
            Self::Glszm => &[
                "GrayLevelNonUniformity",
                "GrayLevelNonUniformityNormalized",
                "GrayLevelVariance",
                "HighGrayLevelZoneEmphasis",
                "LargeAreaEmphasis",
                "LargeAreaHighGrayLevelEmphasis",
                "LargeAreaLowGrayLevelEmphasis",
                "LowGrayLevelZoneEmphasis",
                "SizeZoneNonUniformity",
                "SizeZoneNonUniformityNormalized",
                "SmallAreaEmphasis",
                "SmallAreaHighGrayLevelEmphasis",
                "SmallAreaLowGrayLevelEmphasis",
                "ZoneEntropy",
                "ZonePercentage",
                "ZoneVariance",
            ],
            Self::Gldm => &[
                "DependenceEntropy",
                "DependenceNonUniformity",
                "DependenceNonUniformityNormalized",
                "DependenceVariance",
                "GrayLevelNonUniformity",
                "GrayLevelVariance",
                "HighGrayLevelEmphasis",
                "LargeDependenceEmphasis",
                "LargeDependenceHighGrayLevelEmphasis",
                "LargeDependenceLowGrayLevelEmphasis",
                "LowGrayLevelEmphasis",
                "SmallDependenceEmphasis",
                "SmallDependenceHighGrayLevelEmphasis",
                "SmallDependenceLowGrayLevelEmphasis",
            ],
            Self::Shape2D => &[
                "Elongation",
                "MajorAxisLength",
                "MaximumDiameter",
                "MeshSurface",
                "MinorAxisLength",
                "Perimeter",
                "PerimeterSurfaceRatio",
                "PixelSurface",
                "Sphericity",
            ],
            Self::Ngtdm => &[
                "Busyness",
                "Coarseness",
                "Complexity",
                "Contrast",
                "Strength",
            ],
        }
    }

    /// PyRadiomics' deprecated features of this class: PyRadiomics computes them when a
    /// parameter file names them, this toolkit does not (each equals or derives from another, e.g.
    /// glcm `Homogeneity1` is `Id`), so a parameter file naming one is refused, by name.
    pub fn deprecated_names(self) -> &'static [&'static str] {
        match self {
            Self::Shape => &["Compactness1", "Compactness2", "SphericalDisproportion"],
            Self::Shape2D => &["SphericalDisproportion"],
            Self::FirstOrder => &["StandardDeviation"],
            Self::Glcm => &[
                "Dissimilarity",
                "Homogeneity1",
                "Homogeneity2",
                "SumVariance",
            ],
            Self::Gldm => &["DependencePercentage", "GrayLevelNonUniformityNormalized"],
            Self::Glrlm | Self::Glszm | Self::Ngtdm => &[],
        }
    }

    /// PyRadiomics' class name, as in feature names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Shape => "shape",
            Self::FirstOrder => "firstorder",
            Self::Glcm => "glcm",
            Self::Glrlm => "glrlm",
            Self::Glszm => "glszm",
            Self::Gldm => "gldm",
            Self::Ngtdm => "ngtdm",
            Self::Shape2D => "shape2D",
        }
    }

    /// Whether the class describes the mask's shape (shape, shape2D): computed once per
    /// extraction, not per image type, and never per kernel.
    pub(crate) fn is_shape(self) -> bool {
        matches!(self, Self::Shape | Self::Shape2D)
    }

    /// The class of PyRadiomics' name (`"glcm"`, `"shape2D"`, …; as in parameter files).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Shape2D])
            .find(|c| c.name() == name)
    }
}

/// Named feature values in extraction order, e.g. `original_glcm_Contrast`.
pub type Features = Vec<(String, f64)>;

/// Extracts the classes' default features from the original image, named as PyRadiomics
/// names them (`original_<class>_<Feature>`); shape first (see [`extract_shape`]), then
/// shape2D (see [`extract_shape2d`]).
pub fn extract<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
) -> Result<Features> {
    // Refuses a resampledPixelSpacing that would resample (the crop changes no value here).
    crop_window(image, mask, settings)?;
    let resegmented = resegment(image, mask, settings)?;
    let roi_mask = resegmented.as_ref().unwrap_or(mask);
    let roi = Roi::new(image, roi_mask, settings)?;
    let mut out = Vec::new();
    let shapes = [FeatureClass::Shape, FeatureClass::Shape2D].map(|c| classes.contains(&c));
    if shapes.contains(&true) {
        let described = shape_mask(mask, resegmented.as_ref(), settings)?;
        if shapes[0] {
            out.extend(named_shape(&described, settings)?);
        }
        if shapes[1] {
            out.extend(named_shape2d(&described, settings)?);
        }
    }
    out.extend(features_of(&roi, settings, classes, "original"));
    Ok(out)
}

/// The shape class, named `original_shape_<Feature>` whatever image types are enabled (as
/// PyRadiomics does). With `resegmentRange`, PyRadiomics 3.x describes the resegmented ROI only
/// when `resegment_shape` is set; otherwise it takes the mask as given but cropped to the
/// resegmented ROI's bounding box (its `execute` crops with the rechecked box), and so do we —
/// the voxels of the mask outside that box do not count. The image is read only for
/// resegmentation and the grid check.
pub fn extract_shape<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Features> {
    named_shape(&*described_mask(image, mask, settings)?, settings)
}

/// The shape2D class of a one-slice ROI, named `original_shape2D_<Feature>` (as PyRadiomics
/// names it), from the same mask as [`extract_shape`]'s (resegmentation included); see
/// [`crate::shape2d_features`] for the ROIs it describes.
pub fn extract_shape2d<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<Features> {
    named_shape2d(&*described_mask(image, mask, settings)?, settings)
}

/// Whether the shape2D class runs: not, asked for (refused where it does not apply), or where
/// it applies (a parameter file naming no class; skipped elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape2d {
    No,
    Asked,
    WhereItApplies,
}

/// The shape classes asked for (`shape`, and shape2D as `shape2d` says), from one described
/// mask ([`described_mask`]): nothing when neither is asked for.
pub(crate) fn shape_classes<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    shape: bool,
    shape2d: Shape2d,
) -> Result<Features> {
    if !shape && shape2d == Shape2d::No {
        return Ok(Vec::new());
    }
    let described = described_mask(image, mask, settings)?;
    let mut out = Vec::new();
    if shape {
        out.extend(named_shape(&described, settings)?);
    }
    match (shape2d, named_shape2d(&described, settings)) {
        (Shape2d::No, _) | (Shape2d::WhereItApplies, Err(Error::Shape2D(_))) => {}
        (_, f) => out.extend(f?),
    }
    Ok(out)
}

/// The mask the shape classes describe, from the image and mask as given: the grids checked,
/// a resampling spacing refused (the crop changes no value here), resegmentation applied (see
/// [`extract_shape`]).
fn described_mask<'a, T: Pixel>(
    image: &Volume<T>,
    mask: &'a Volume<u8>,
    settings: &Settings,
) -> Result<Cow<'a, Volume<u8>>> {
    check_grids(image, mask, settings)?;
    crop_window(image, mask, settings)?;
    match resegment(image, mask, settings)? {
        None => Ok(Cow::Borrowed(mask)),
        Some(r) => Ok(Cow::Owned(
            shape_mask(mask, Some(&r), settings)?.into_owned(),
        )),
    }
}

/// The mask the shape classes describe (see [`extract_shape`]).
fn shape_mask<'a>(
    mask: &'a Volume<u8>,
    resegmented: Option<&'a Volume<u8>>,
    settings: &Settings,
) -> Result<Cow<'a, Volume<u8>>> {
    let Some(roi) = resegmented else {
        return Ok(Cow::Borrowed(mask));
    };
    if settings.resegment_shape {
        return Ok(Cow::Borrowed(roi));
    }
    let (lo, hi, count) = bounding_box(roi.data(), settings.label);
    if count == 0 {
        return Err(label_absent(roi.data(), settings.label));
    }
    let inside = ndarray::s![lo[0]..=hi[0], lo[1]..=hi[1], lo[2]..=hi[2]];
    let mut data = Array3::zeros(mask.data().dim());
    data.slice_mut(inside).assign(&mask.data().slice(inside));
    Ok(Cow::Owned(Volume::new(data, *mask.geometry())?))
}

fn named_shape(mask: &Volume<u8>, settings: &Settings) -> Result<Features> {
    Ok(shape_features(mask, settings)?
        .into_iter()
        .map(|(n, v)| (format!("original_shape_{n}"), v))
        .collect())
}

fn named_shape2d(mask: &Volume<u8>, settings: &Settings) -> Result<Features> {
    Ok(shape2d_features(mask, settings)?
        .into_iter()
        .map(|(n, v)| (format!("original_shape2D_{n}"), v))
        .collect())
}

fn features_of(roi: &Roi, settings: &Settings, classes: &[FeatureClass], prefix: &str) -> Features {
    class_features(roi, &discretize(roi, settings), settings, classes, prefix)
}

/// What an image type's ROI is described by: the feature values of the whole ROI
/// (segment-based extraction, [`Segment`]), or maps of the features of a kernel around each of
/// its voxels (voxel-based, [`crate::voxel`]).
pub(crate) trait Describe: Sync {
    /// What one image gives, per feature.
    type Item: Send;
    /// How many voxels around the ROI's box the image handed to [`Describe::describe`] keeps:
    /// `windowed` when the image is a `preCrop` window already, `log` for the LoG's images.
    fn pad(&self, settings: &Settings, windowed: bool, log: bool) -> usize;
    /// The features of one image (`prefix`: its name, e.g. `wavelet-LLH`).
    fn describe(
        &self,
        image: Cropped<'_>,
        settings: &Settings,
        classes: &[FeatureClass],
        prefix: &str,
    ) -> Result<Vec<Self::Item>>;
}

/// An image (original or filtered) and the mask, cropped to the ROI's box + [`Describe::pad`].
pub(crate) struct Cropped<'a> {
    /// The image's values on the crop.
    pub(crate) values: ndarray::ArrayView3<'a, f64>,
    /// The mask on the crop.
    pub(crate) mask: &'a Array3<u8>,
    /// The crop's first voxel in the image (for messages).
    pub(crate) corner: [usize; 3],
    /// Voxel spacing, mm.
    pub(crate) spacing: [f64; 3],
    /// Whether PyRadiomics bins the image as float32 data ([`Roi::single_precision`]).
    pub(crate) single_precision: bool,
}

impl Cropped<'_> {
    /// The ROI on the crop (checked: label, size, dimensions, finite values), binned as the
    /// image's precision says.
    pub(crate) fn roi(&self, settings: &Settings) -> Result<Roi> {
        let (d0, d1, d2) = self.values.dim();
        let mut roi = Roi::from_fn(
            [d0, d1, d2],
            |i, j, k| self.values[[i, j, k]],
            self.mask,
            self.spacing,
            settings,
        )?;
        roi.single_precision = self.single_precision;
        Ok(roi)
    }
}

/// Segment-based extraction: the ROI's feature values.
pub(crate) struct Segment;

impl Describe for Segment {
    type Item = (String, f64);

    fn pad(&self, settings: &Settings, _windowed: bool, log: bool) -> usize {
        // The LoG is computed on the ROI's box alone; the pad changes no value.
        if log {
            0
        } else {
            settings.pad_distance
        }
    }

    fn describe(
        &self,
        image: Cropped<'_>,
        settings: &Settings,
        classes: &[FeatureClass],
        prefix: &str,
    ) -> Result<Features> {
        Ok(features_of(
            &image.roi(settings)?,
            settings,
            classes,
            prefix,
        ))
    }
}

/// The original image's features of the classes, described by `describe`: the image (its
/// normalised values with `normalize`) cropped to the ROI's box + [`Describe::pad`], the ROI
/// resegmented as the settings say.
pub(crate) fn original_with<D: Describe, T: Pixel>(
    describe: &D,
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
) -> Result<Vec<D::Item>> {
    check_grids(image, mask, settings)?;
    settings.validate()?;
    let window = crop_window(image, mask, settings)?;
    let resegmented = resegment(image, mask, settings)?;
    let mask = resegmented.as_ref().unwrap_or(mask);
    let pad = describe.pad(settings, window.is_some(), false);
    let (lo, hi) = roi_box(mask, settings.label, pad, image.shape())?;
    let crop = ndarray::s![lo[0]..=hi[0], lo[1]..=hi[1], lo[2]..=hi[2]];
    let values: Array3<f64> = if settings.normalize {
        image_values(image, settings)?.slice(crop).to_owned()
    } else {
        image.data().slice(crop).mapv(adamss_io::Voxel::to_f64)
    };
    let msk = mask.data().slice(crop).to_owned();
    let cropped = Cropped {
        values: values.view(),
        mask: &msk,
        corner: lo,
        spacing: image.geometry().spacing,
        single_precision: T::SINGLE,
    };
    describe.describe(cropped, settings, classes, "original")
}

/// The classes' features of a ROI already binned (`disc`), named `<prefix>_<class>_<Feature>`;
/// the shape classes are skipped (see [`extract`]).
pub(crate) fn class_features(
    roi: &Roi,
    disc: &Discretized,
    settings: &Settings,
    classes: &[FeatureClass],
    prefix: &str,
) -> Features {
    class_values(roi, disc, settings, classes)
        .into_iter()
        .flat_map(|(c, values)| {
            values
                .into_iter()
                .map(move |(n, v)| (format!("{prefix}_{}_{n}", c.name()), v))
        })
        .collect()
}

/// [`class_features`] unnamed: each class with its features' values (PyRadiomics' names).
pub(crate) fn class_values(
    roi: &Roi,
    disc: &Discretized,
    settings: &Settings,
    classes: &[FeatureClass],
) -> Vec<(FeatureClass, Vec<(&'static str, f64)>)> {
    // One padded level box for every texture class of this image, built at the first.
    let make = || Padded::for_settings(roi, disc, settings);
    let mut padded: Option<Padded> = None;
    let mut out = Vec::with_capacity(classes.len());
    for &c in classes {
        let values = match c {
            // Shape is a property of the mask: `extract` adds it once, for the original image.
            FeatureClass::Shape | FeatureClass::Shape2D => continue,
            FeatureClass::FirstOrder => firstorder::features(roi, disc, settings),
            FeatureClass::Glcm => {
                glcm::features_in(roi, disc, settings, padded.get_or_insert_with(make))
            }
            FeatureClass::Glrlm => {
                sizezone::glrlm_in(roi, disc, settings, padded.get_or_insert_with(make))
            }
            FeatureClass::Glszm => {
                sizezone::glszm_in(disc, settings, padded.get_or_insert_with(make))
            }
            FeatureClass::Gldm => {
                sizezone::gldm_in(disc, settings, padded.get_or_insert_with(make))
            }
            FeatureClass::Ngtdm => {
                ngtdm::features_in(disc, settings, padded.get_or_insert_with(make))
            }
        };
        out.push((c, values));
    }
    out
}

/// The image (as f64) and mask cropped to the ROI's bounding box plus `padDistance` voxels
/// (clamped to the image): what the filtered image types' features read. (PyRadiomics filters
/// the whole image and crops afterwards; the element-wise filters give the same values on this
/// crop, the local ones — Gradient, LBP2D — are computed on it widened by their reach.)
pub fn crop_to_roi<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
) -> Result<(Array3<f64>, Array3<u8>)> {
    crop_with_values(image, mask, settings, settings.pad_distance).map(|(img, msk, _)| (img, msk))
}

/// The cropped image and mask, and the whole normalised image where `normalize` is set.
type CropWithValues = (Array3<f64>, Array3<u8>, Option<Array3<f64>>);

/// [`crop_to_roi`] with `pad` voxels around the ROI's box, also handing back the whole
/// normalised image where `normalize` is set.
fn crop_with_values<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    pad: usize,
) -> Result<CropWithValues> {
    // Label presence and ROI size are checked again on the crop (same bounding box).
    check_grids(image, mask, settings)?;
    settings.validate()?;
    let (lo, hi) = roi_box(mask, settings.label, pad, image.shape())?;
    let dims = (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1);
    let normalized = if settings.normalize {
        Some(image_values(image, settings)?)
    } else {
        None
    };
    let img = match &normalized {
        Some(values) => {
            Array3::from_shape_fn(dims, |(i, j, k)| values[[i + lo[0], j + lo[1], k + lo[2]]])
        }
        None => Array3::from_shape_fn(dims, |(i, j, k)| {
            image.data()[[i + lo[0], j + lo[1], k + lo[2]]].to_f64()
        }),
    };
    let msk = Array3::from_shape_fn(dims, |(i, j, k)| {
        mask.data()[[i + lo[0], j + lo[1], k + lo[2]]]
    });
    Ok((img, msk, normalized))
}

/// The largest |value| of the image PyRadiomics hands the element-wise filters (Square,
/// SquareRoot, Logarithm, Exponential scale by it): the whole image (its `normalized` values
/// where set), or the `preCrop` / resampling `window`. A non-finite voxel counts as 0, as
/// SimpleITK reads NaN and ±Inf in a NIfTI file; the ROI's own voxels must be finite all the
/// same.
fn window_peak<T: Pixel>(
    image: &Volume<T>,
    normalized: Option<&Array3<f64>>,
    window: Option<([usize; 3], [usize; 3])>,
) -> f64 {
    let (lo, hi) = window.unwrap_or(([0; 3], image.shape().map(|n| n - 1)));
    let s = ndarray::s![lo[0]..=hi[0], lo[1]..=hi[1], lo[2]..=hi[2]];
    let larger = |m: f64, v: f64| if v.is_finite() { m.max(v.abs()) } else { m };
    match normalized {
        Some(values) => values.slice(s).iter().fold(0.0, |m, &v| larger(m, v)),
        None => (image.data().slice(s).iter()).fold(0.0, |m, v| larger(m, v.to_f64())),
    }
}

/// The ROI's bounding box plus `pad` voxels, clamped to the image: the crop features read.
pub(crate) fn roi_box(
    mask: &Volume<u8>,
    label: u8,
    pad: usize,
    shape: [usize; 3],
) -> Result<([usize; 3], [usize; 3])> {
    let (lo, hi, count) = bounding_box(mask.data(), label);
    if count == 0 {
        return Err(label_absent(mask.data(), label));
    }
    Ok((
        [0, 1, 2].map(|a| lo[a].saturating_sub(pad)),
        [0, 1, 2].map(|a| hi[a].saturating_add(pad).min(shape[a] - 1)),
    ))
}

/// The Wavelet image type's sub-bands on the crop at `lo` of size `dims`, equal to those of
/// PyWavelets on the whole filtered image (`window`), with its summation order: along each
/// transformed axis the transform runs on the crop widened by the cascade's reach, or on the
/// whole axis where that would come near the window's edge (where PyWavelets wraps, with
/// PyRadiomics' padding of odd sizes), and is cut back.
fn wavelet_on_block<S: crate::wavelet::SwtSample>(
    at: impl Fn([usize; 3]) -> S,
    window: ([usize; 3], [usize; 3]),
    lo: [usize; 3],
    dims: [usize; 3],
    settings: &Settings,
) -> Result<Vec<(String, Array3<f64>)>> {
    let taps = crate::wavelet::wavelet_taps(&settings.wavelet)?;
    let reach = crate::wavelet::reach(taps, settings.start_level + settings.level);
    let (from, to) = window;
    let fixed = settings.fixed_axis();
    // Per axis: where the block starts and how long it is.
    let span = [0, 1, 2].map(|a| {
        let hi = lo[a] + dims[a] - 1;
        if Some(a) == fixed {
            (lo[a], dims[a])
        } else if lo[a] < from[a].saturating_add(reach) || hi.saturating_add(reach) > to[a] {
            (from[a], to[a] + 1 - from[a])
        } else {
            (lo[a] - reach, dims[a] + 2 * reach)
        }
    });
    let block = Array3::from_shape_fn((span[0].1, span[1].1, span[2].1), |(i, j, k)| {
        at([span[0].0 + i, span[1].0 + j, span[2].0 + k])
    });
    let axes: Vec<usize> = (0..3).filter(|&a| Some(a) != fixed).collect();
    let bands = crate::wavelet::swt(
        &block,
        &settings.wavelet,
        &axes,
        settings.level,
        settings.start_level,
    )?;
    let cut = [0, 1, 2].map(|a| lo[a] - span[a].0);
    Ok(bands
        .into_iter()
        .map(|(name, b)| {
            let part = b.slice(ndarray::s![
                cut[0]..cut[0] + dims[0],
                cut[1]..cut[1] + dims[1],
                cut[2]..cut[2] + dims[2]
            ]);
            (name, part.mapv(|v| v.to_f64()))
        })
        .collect())
}

/// Features of the eight coif1 wavelet sub-bands (`wavelet-LLH_glcm_Contrast`, …), computed on
/// the image cropped to the ROI plus `padDistance`, as PyRadiomics' `Wavelet` image type.
pub fn extract_wavelet<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
) -> Result<Features> {
    extract_filtered(image, mask, settings, classes, ImageType::Wavelet)
}

/// Features of the Laplacian of Gaussian at each of `sigmas` (mm), named
/// `log-sigma-<σ>-mm-3D_<class>_<Feature>` with σ written as Python writes a float (`1.0` →
/// `1-0`, `2.5` → `2-5`), as PyRadiomics' `LoG` image type: SimpleITK's recursive-Gaussian
/// Laplacian, normalised across scale, on the whole image (after normalisation; the ROI after
/// resegmentation), in the precision SimpleITK uses for the image — single for an `f32` image,
/// double for normalised values or an `f64` image — bit-equal to SimpleITK; the result is a
/// float32 image either way (SimpleITK's output type), binned as PyRadiomics bins one. A σ for
/// which some axis of the image filtered (after `preCrop` or resampling) has fewer than
/// `ceil(σ / spacing) + 1` voxels, or any axis fewer than 4, is skipped with a warning through
/// the [`log`](https://docs.rs/log) facade, as PyRadiomics skips it: its features are absent.
/// A σ that is not positive is an error.
pub fn extract_log<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    sigmas: &[f64],
) -> Result<Features> {
    log_features(image, mask, settings, classes, sigmas, 3)
}

/// [`extract_log`] over the first `axes` image axes: 3, or 2 for a 2-D image held as one slice
/// across z (SimpleITK's 2-D filter; the size rule over x and y only, as PyRadiomics applies it
/// to a 2-D image).
pub(crate) fn log_features<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    sigmas: &[f64],
    axes: usize,
) -> Result<Features> {
    log_with(&Segment, image, mask, settings, classes, sigmas, axes)
}

/// [`log_features`], each LoG image described by `describe`.
pub(crate) fn log_with<D: Describe, T: Pixel>(
    describe: &D,
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    sigmas: &[f64],
    axes: usize,
) -> Result<Vec<D::Item>> {
    check_grids(image, mask, settings)?;
    // Normalised values once, for resegmentation and every sigma; without normalisation the
    // filter reads the image itself (it converts each value to f64, as SimpleITK does).
    let values = if settings.normalize {
        Some(image_values(image, settings)?)
    } else {
        None
    };
    let resegmented = match &values {
        Some(v) => resegment_values(v, mask, settings)?,
        None => resegment(image, mask, settings)?,
    };
    // The image the filter sees: whole, or (`preCrop`, or a `resampledPixelSpacing` equal to
    // the image's) the original ROI's box plus `padDistance`, normalised before cropping, as
    // PyRadiomics does.
    let window = crop_window(image, mask, settings)?;
    let crop_first = window.is_some();
    let mask = resegmented.as_ref().unwrap_or(mask);
    let spacing = image.geometry().spacing;
    let (lo, hi, count) = bounding_box(mask.data(), settings.label);
    if count == 0 {
        return Err(label_absent(mask.data(), settings.label));
    }
    let (from, to) = window.unwrap_or(([0; 3], image.shape().map(|n| n - 1)));
    // The box described: the ROI's, widened by the describer's pad within the window.
    let pad = describe.pad(settings, crop_first, true);
    let lo = [0, 1, 2].map(|a| lo[a].saturating_sub(pad).max(from[a]));
    let hi = [0, 1, 2].map(|a| hi[a].saturating_add(pad).min(to[a]));
    let shape = [0, 1, 2].map(|a| to[a] + 1 - from[a]);
    let crop = ndarray::s![from[0]..=to[0], from[1]..=to[1], from[2]..=to[2]];
    // The recursive filter runs along whole lines: one non-finite voxel reaches every value.
    crate::roi::require_finite(image.data().slice(crop), from, "the LoG filter")?;
    // An f64 image (values normalised or resampled before extraction) is filtered in double
    // precision, as SimpleITK filters a float64 image; an f32 image in single precision.
    let stored = (image.data() as &dyn std::any::Any).downcast_ref::<Array3<f32>>();
    let source = match (values, stored) {
        (Some(v), _) if crop_first => LogSource::Values(v.slice(crop).to_owned()),
        (Some(v), _) => LogSource::Values(v),
        (None, Some(s)) if crop_first => LogSource::Stored(Cow::Owned(s.slice(crop).to_owned())),
        (None, Some(s)) => LogSource::Stored(Cow::Borrowed(s)),
        (None, None) => {
            let v = image.data().mapv(adamss_io::Voxel::to_f64);
            LogSource::Values(if crop_first {
                v.slice(crop).to_owned()
            } else {
                v
            })
        }
    };
    // The ROI's box in the filtered image's indices.
    let (lo_in, hi_in) = (
        [0, 1, 2].map(|a| lo[a] - from[a]),
        [0, 1, 2].map(|a| hi[a] - from[a]),
    );
    // The box of the mask, once (each sigma's ROI is built on the box alone).
    let box_mask = mask
        .data()
        .slice(ndarray::s![lo[0]..=hi[0], lo[1]..=hi[1], lo[2]..=hi[2]])
        .to_owned();
    // Checked and warned about here, on the case's thread (see `crate::with_case`).
    let mut kept = Vec::with_capacity(sigmas.len());
    for &sigma in sigmas {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::Settings(format!(
                "LoG sigma must be positive, got {sigma}"
            )));
        }
        let too_small = (0..axes)
            .any(|a| shape[a] < 4 || (shape[a] as f64) < (sigma / spacing[a]).ceil() + 1.0);
        if too_small {
            // PyRadiomics' getLoGImage: a warning, and no image for this sigma.
            crate::context::warn_case!(
                "LoG sigma {sigma} mm skipped (as PyRadiomics): it needs at least max(4, \
                 ceil(sigma / spacing) + 1) voxels along every axis; the image filtered is \
                 {shape:?} voxels of {spacing:?} mm"
            );
        } else {
            kept.push(sigma);
        }
    }
    let per_sigma: Vec<Vec<D::Item>> = kept
        .par_iter()
        .map(|&sigma| {
            // Only the ROI's box is read: the LoG is computed there alone (same values).
            let filtered = match &source {
                LogSource::Values(v) => {
                    laplacian_of_gaussian_in(v, spacing, sigma, lo_in, hi_in, axes)
                }
                LogSource::Stored(v) => {
                    laplacian_of_gaussian_in(v, spacing, sigma, lo_in, hi_in, axes)
                }
            };
            let values = filtered.mapv(f64::from);
            let name = format!("log-sigma-{}-mm-3D", python_float(sigma).replace('.', "-"));
            let cropped = Cropped {
                values: values.view(),
                mask: &box_mask,
                corner: lo,
                spacing,
                // SimpleITK's LoG is a float32 image whatever it filtered — a float64
                // normalised image too — so PyRadiomics bins it as float32 (NumPy computes
                // binWidth's bounds in single precision).
                single_precision: true,
            };
            describe.describe(cropped, settings, classes, &name)
        })
        .collect::<Result<_>>()?;
    Ok(per_sigma.into_iter().flatten().collect())
}

/// What the LoG filters: the normalised values (f64), or the image as stored (f32, each value
/// read as f64 by the filter, as SimpleITK does); whole or pre-cropped.
enum LogSource<'a> {
    Values(Array3<f64>),
    Stored(Cow<'a, Array3<f32>>),
}

/// A float as Python's `str` writes it: shortest round-trip digits, `.0` for whole numbers.
fn python_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Features of a filtered image type (see [`ImageType`]), named `<type>_<class>_<Feature>`
/// (`wavelet-LLH_…` for the wavelet sub-bands), computed on the image cropped to the ROI plus
/// `padDistance`.
pub fn extract_filtered<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    kind: ImageType,
) -> Result<Features> {
    extract_filtered_in(image, mask, settings, classes, kind, T::SINGLE)
}

/// [`extract_filtered`], the image taken as float32 data (`single`: a float32 file, filtered
/// and binned in single precision where PyRadiomics does) or as double (an integer-stored image
/// held in a `Volume<f32>`, each voxel read as f64 — exact — only where a filter reads it).
pub(crate) fn extract_filtered_in<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    kind: ImageType,
    single: bool,
) -> Result<Features> {
    filtered_with(&Segment, image, mask, settings, classes, kind, single)
}

/// [`extract_filtered_in`], each filtered image described by `describe`.
pub(crate) fn filtered_with<D: Describe, T: Pixel>(
    describe: &D,
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
    kind: ImageType,
    single: bool,
) -> Result<Vec<D::Item>> {
    // The image PyRadiomics filters: the whole image, or with `preCrop` (or a
    // resampledPixelSpacing equal to the image's) the ROI's box plus `padDistance`.
    let window = crop_window(image, mask, settings)?;
    // The ROI is resegmented on the original image, as PyRadiomics does for every image type.
    let resegmented = resegment(image, mask, settings)?;
    let mask = resegmented.as_ref().unwrap_or(mask);
    let spacing = image.geometry().spacing;
    let pad = describe.pad(settings, window.is_some(), false);
    // The image PyRadiomics bins: float32 for the wavelet and the gradient of a float32
    // image, float64 for the element-wise filters (NumPy on float64).
    let single_bins = !settings.normalize
        && single
        && matches!(
            kind,
            ImageType::Wavelet | ImageType::Gradient | ImageType::Lbp2D
        );
    let (images, msk) = if kind == ImageType::Wavelet {
        // The wavelet reads the image itself (around the ROI's crop), not the crop: only the
        // mask is cut here.
        check_grids(image, mask, settings)?;
        settings.validate()?;
        let shape = image.shape();
        let (lo, hi) = roi_box(mask, settings.label, pad, shape)?;
        let msk = (mask.data())
            .slice(ndarray::s![lo[0]..=hi[0], lo[1]..=hi[1], lo[2]..=hi[2]])
            .to_owned();
        let values = if settings.normalize {
            Some(image_values(image, settings)?)
        } else {
            None
        };
        let window = window.unwrap_or(([0; 3], shape.map(|n| n - 1)));
        // PyWavelets filters a float32 array in single precision (its own f32 filters),
        // anything else (integers, float64, normalised values) in double: a `Volume<f32>` is
        // taken as float32 data, so an integer-stored image (a CT) comes as `Volume<f64>` for
        // PyRadiomics' values (`ExtractionPlan::run_files` chooses from the stored type).
        let at = |p: [usize; 3]| match &values {
            Some(v) => v[p],
            None => image.data()[p].to_f64(),
        };
        let dims = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
        let bands = if values.is_none() && single {
            wavelet_on_block(|p| at(p) as f32, window, lo, dims, settings)?
        } else {
            wavelet_on_block(at, window, lo, dims, settings)?
        };
        (bands, msk)
    } else {
        let (img, msk, normalized) = crop_with_values(image, mask, settings, pad)?;
        // How far beyond a voxel the local filters read (0: element-wise).
        let reach = match kind {
            ImageType::Gradient => 1,
            ImageType::Lbp2D => settings.lbp2d_radius.ceil() as usize,
            _ => 0,
        };
        if reach == 0 {
            let peak = window_peak(image, normalized.as_ref(), window);
            (filtered(&img, spacing, kind, settings, peak)?, msk)
        } else {
            // PyRadiomics filters the whole image (or its window) and crops afterwards: a
            // local filter reads up to `reach` voxels beyond the crop where the window has
            // them (padDistance may be smaller), and its own boundary rule at the window's
            // edge only.
            let shape = image.shape();
            let (lo, hi) = roi_box(mask, settings.label, pad, shape)?;
            let (wlo, whi) = window.unwrap_or(([0; 3], shape.map(|n| n - 1)));
            let blo = [0, 1, 2].map(|a| lo[a].saturating_sub(reach).max(wlo[a]).min(lo[a]));
            let bhi = [0, 1, 2].map(|a| hi[a].saturating_add(reach).min(whi[a]).max(hi[a]));
            let dims = (
                bhi[0] + 1 - blo[0],
                bhi[1] + 1 - blo[1],
                bhi[2] + 1 - blo[2],
            );
            let block = Array3::from_shape_fn(dims, |(i, j, k)| {
                let p = [i + blo[0], j + blo[1], k + blo[2]];
                match &normalized {
                    Some(v) => v[p],
                    None => image.data()[p].to_f64(),
                }
            });
            let cut = ndarray::s![
                lo[0] - blo[0]..=hi[0] - blo[0],
                lo[1] - blo[1]..=hi[1] - blo[1],
                lo[2] - blo[2]..=hi[2] - blo[2]
            ];
            let images = filtered(&block, spacing, kind, settings, 0.0)?
                .into_iter()
                .map(|(name, a)| (name, a.slice(cut).to_owned()))
                .collect();
            (images, msk)
        }
    };
    let corner = roi_box(mask, settings.label, pad, image.shape())?.0;
    // Images (e.g. wavelet sub-bands) are independent: one rayon task each, order kept.
    let per_image: Vec<Vec<D::Item>> = images
        .into_par_iter()
        .map(|(name, band)| {
            let cropped = Cropped {
                values: band.view(),
                mask: &msk,
                corner,
                spacing,
                single_precision: single_bins,
            };
            describe.describe(cropped, settings, classes, &name)
        })
        .collect::<Result<_>>()?;
    Ok(per_image.into_iter().flatten().collect())
}
