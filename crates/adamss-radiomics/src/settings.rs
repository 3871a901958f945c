//! Extraction settings with PyRadiomics' names and defaults.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings that change feature values (PyRadiomics' names in the docs; defaults equal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// `binWidth`: fixed bin width of the grey-level discretisation (default 25).
    pub bin_width: f64,
    /// `binCount`: fixed number of bins; overrides `binWidth` when set.
    pub bin_count: Option<usize>,
    /// `label`: the mask value of the ROI (default 1).
    pub label: u8,
    /// `voxelArrayShift`: added to intensities in Energy, TotalEnergy and RMS (default 0).
    pub voxel_array_shift: f64,
    /// `symmetricalGLCM` (default true).
    #[serde(rename = "symmetricalGLCM")]
    pub symmetrical_glcm: bool,
    /// `distances`: neighbour distances of the texture matrices (default `[1]`).
    pub distances: Vec<usize>,
    /// `gldm_a`: GLDM dependence threshold α (default 0).
    #[serde(rename = "gldm_a")]
    pub gldm_a: f64,
    /// `weightingNorm`: merge the GLCM and GLRLM directions into one matrix, each weighted by
    /// the length of its offset in mm (default none: features per direction, averaged).
    pub weighting_norm: Option<WeightingNorm>,
    /// `padDistance`: voxels kept around the ROI's bounding box before filtering (default 5).
    pub pad_distance: usize,
    /// `minimumROIDimensions`: the ROI must extend over at least this many axes (default 2).
    #[serde(rename = "minimumROIDimensions")]
    pub minimum_roi_dimensions: usize,
    /// `minimumROISize`: the ROI must hold at least this many voxels (default none).
    #[serde(rename = "minimumROISize")]
    pub minimum_roi_size: Option<usize>,
    /// `resegmentRange`: ROI voxels whose (original-image) value lies below the first value or
    /// above the second leave the ROI of every image type (default none: no resegmentation).
    pub resegment_range: Option<Vec<f64>>,
    /// `resegmentMode`: how `resegmentRange` is read (default absolute).
    pub resegment_mode: ResegmentMode,
    /// `normalize`: z-score the whole image before anything else, with its mean and sample
    /// standard deviation (SimpleITK's `Normalize`, in f64), then clip to ±`removeOutliers`
    /// and multiply by `normalizeScale` (default false).
    pub normalize: bool,
    /// `normalizeScale`: factor applied after normalisation (default 1).
    pub normalize_scale: f64,
    /// `removeOutliers`: with `normalize`, clip z-scores to ±this (default none).
    pub remove_outliers: Option<f64>,
    /// `sigma`: the LoG image type's Gaussian widths in mm (default none).
    pub sigma: Vec<f64>,
    /// `resegmentShape`: whether the shape class uses the resegmented ROI too (default false).
    /// When false, shape features describe the mask as given, not the resegmented ROI.
    pub resegment_shape: bool,
    /// `preCrop`: crop the image to the ROI's box plus `padDistance` before any filter (default
    /// false). Only the LoG image type depends on it (the other filters already run on that
    /// crop); its values then describe the cropped image, as PyRadiomics computes them.
    pub pre_crop: bool,
    /// `interpolator`: the image's interpolator when resampling (`sitkBSpline`, the default,
    /// `sitkLinear` or `sitkNearestNeighbor`; the mask always uses nearest neighbour). Other
    /// SimpleITK names are accepted, and refused only if the image is to be resampled. As in
    /// PyRadiomics, a parameter file may give SimpleITK's integer constant instead (SimpleITK
    /// 2.x: 1 nearest neighbour, 2 linear, 23 B-spline, …); it is read as its name.
    #[serde(deserialize_with = "interpolator_name")]
    pub interpolator: String,
    /// `resampledPixelSpacing` (x, y, z mm — x, y for a 2-D image, as PyRadiomics takes it;
    /// 0 keeps an axis' spacing; default none), with
    /// PyRadiomics' rules: 0 and axes along which the ROI is one voxel thick keep the mask's
    /// spacing; a result `allclose` to the image's spacing crops image and mask to the ROI's box
    /// plus `padDistance` (like `preCrop`); any other resamples both, once, before the image
    /// types run ([`crate::resample()`], called by `ExtractionPlan::run_stored`). The
    /// per-image-type functions (`extract`, …) take an image already resampled and refuse a
    /// spacing that would resample.
    pub resampled_pixel_spacing: Option<Vec<f64>>,
    /// `force2D`: texture matrices (GLCM, GLRLM, GLSZM, GLDM, NGTDM) within the slices across
    /// `force2Ddimension` only — 4 directions, 8 neighbours (default false: 3-D, 13 and 26).
    /// Shape and first order stay 3-D; the wavelet runs over the two in-slice axes.
    #[serde(rename = "force2D")]
    pub force_2d: bool,
    /// `force2Ddimension`: the axis across which slices are taken, in PyRadiomics' (z, y, x)
    /// array order: 0 (default) axial, 1 coronal, 2 sagittal.
    #[serde(rename = "force2Ddimension")]
    pub force_2d_dimension: usize,
    /// `gradientUseSpacing`: the Gradient image type's derivatives in mm (default true) or
    /// per voxel.
    pub gradient_use_spacing: bool,
    /// `label_channel`: the channel of a vector mask holding the labels (default 0). Masks here
    /// are scalar, so only 0 is accepted (PyRadiomics ignores it for scalar masks too).
    #[serde(rename = "label_channel")]
    pub label_channel: usize,
    /// `geometryTolerance`: how far image and mask geometries may differ, with ITK's rule
    /// (origins and spacings within this × the image's first spacing, direction cosines
    /// within this). Default none: affines within 1e-3 mm.
    pub geometry_tolerance: Option<f64>,
    /// `correctMask`: a mask whose geometry differs is resampled onto the image's grid
    /// (nearest neighbour) when its ROI lies inside the image (default false: an error).
    /// Done once, first, by [`crate::ExtractionPlan`].
    pub correct_mask: bool,
    /// `wavelet`: the Wavelet image type's PyWavelets wavelet (default `coif1`; the built-in
    /// ones: [`crate::wavelet::wavelet_names`]).
    pub wavelet: String,
    /// `level`: the Wavelet image type's number of levels (default 1), each a level-1
    /// transform of the previous approximation, named `wavelet2-…`, ….
    pub level: usize,
    /// `start_level`: levels computed and discarded before the first kept one (default 0).
    #[serde(rename = "start_level")]
    pub start_level: usize,
    /// `lbp2DRadius`: the LBP2D image type's neighbour radius in pixels (default 1).
    #[serde(rename = "lbp2DRadius")]
    pub lbp2d_radius: f64,
    /// `lbp2DSamples`: the LBP2D image type's number of neighbours `P` (default 8, as
    /// PyRadiomics' code; its documentation says 9), 1 to 31.
    #[serde(rename = "lbp2DSamples")]
    pub lbp2d_samples: usize,
    /// `lbp2DMethod`: the LBP2D image type's code (default `uniform`).
    #[serde(rename = "lbp2DMethod")]
    pub lbp2d_method: crate::filters::LbpMethod,
}

impl Settings {
    /// `resampledPixelSpacing` for a 3-D image: refused when it has two values (a 2-D image's,
    /// which [`crate::ExtractionPlan::run_files`] takes from a 2-D file).
    pub(crate) fn resampled_spacing_3d(&self) -> Result<Option<[f64; 3]>> {
        match self.resampled_pixel_spacing.as_deref() {
            None => Ok(None),
            Some(&[x, y, z]) => Ok(Some([x, y, z])),
            Some(r) => Err(Error::Settings(format!(
                "resampledPixelSpacing {r:?} has two values, a 2-D image's; this image is 3-D \
                 (give x, y and z)"
            ))),
        }
    }

    /// The axis (x 0, y 1, z 2) texture neighbours may not move along: `force2Ddimension`
    /// turned from PyRadiomics' (z, y, x) order, with `force2D`; `None` in 3-D.
    pub fn fixed_axis(&self) -> Option<usize> {
        self.force_2d.then(|| 2 - self.force_2d_dimension.min(2))
    }
}

/// PyRadiomics' `weightingNorm`: how a direction's offset `a` (voxels) is measured, `d` being
/// `|a|·spacing` per axis. GLCM weights are `exp(−‖d‖²)`, GLRLM weights `‖d‖` (PyRadiomics'
/// formulas: for Manhattan the square of the sum, for Euclidean the sum of squares);
/// `no_weighting` gives every direction 1. The weighted matrices are summed into one. An
/// unknown name is an error (PyRadiomics warns and uses `no_weighting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightingNorm {
    /// `manhattan`: `Σ d`.
    Manhattan,
    /// `euclidean`: `√Σ d²`.
    Euclidean,
    /// `infinity`: `max d`.
    Infinity,
    /// `no_weighting`: 1.
    NoWeighting,
}

impl WeightingNorm {
    /// The norm of offset `a` with voxel `spacing` (`None` for `no_weighting`), and its square
    /// as PyRadiomics forms it for the GLCM's exponent.
    fn lengths(self, a: [i64; 3], spacing: [f64; 3]) -> Option<(f64, f64)> {
        let d = [0, 1, 2].map(|k| a[k].unsigned_abs() as f64 * spacing[k]);
        match self {
            Self::Manhattan => {
                let n = d[0] + d[1] + d[2];
                Some((n, n * n))
            }
            Self::Euclidean => {
                let sq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                Some((sq.sqrt(), sq))
            }
            Self::Infinity => {
                let n = d[0].max(d[1]).max(d[2]);
                Some((n, n * n))
            }
            Self::NoWeighting => None,
        }
    }

    /// The GLCM weight of direction `a`: `exp(−‖d‖²)`, or 1.
    pub fn glcm_weight(self, a: [i64; 3], spacing: [f64; 3]) -> f64 {
        self.lengths(a, spacing).map_or(1.0, |(_, sq)| (-sq).exp())
    }

    /// The GLRLM weight of direction `a`: `‖d‖`, or 1.
    pub fn glrlm_weight(self, a: [i64; 3], spacing: [f64; 3]) -> f64 {
        self.lengths(a, spacing).map_or(1.0, |(n, _)| n)
    }
}

/// How `resegmentRange` is read (PyRadiomics' `resegmentMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResegmentMode {
    /// Grey levels as given.
    #[default]
    Absolute,
    /// Fractions of the largest grey level in the ROI.
    Relative,
    /// Multiples of the ROI's standard deviation (population) around its mean.
    Sigma,
}

/// SimpleITK 2.x's interpolator constants (`sitk.sitkLinear == 2`, …).
const INTERPOLATOR_CODES: [(i64, &str); 15] = [
    (1, "sitkNearestNeighbor"),
    (2, "sitkLinear"),
    (4, "sitkGaussian"),
    (5, "sitkLabelGaussian"),
    (6, "sitkHammingWindowedSinc"),
    (7, "sitkCosineWindowedSinc"),
    (8, "sitkWelchWindowedSinc"),
    (9, "sitkLanczosWindowedSinc"),
    (10, "sitkBlackmanWindowedSinc"),
    (21, "sitkBSpline1"),
    (22, "sitkBSpline2"),
    (23, "sitkBSpline"),
    (24, "sitkBSpline4"),
    (25, "sitkBSpline5"),
    (26, "sitkLabelLinear"),
];

/// An interpolator given by name, or by SimpleITK's integer constant.
fn interpolator_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NameOrCode {
        Name(String),
        Code(i64),
    }
    match NameOrCode::deserialize(d)? {
        // SimpleITK's alias of the cubic B-spline.
        NameOrCode::Name(n) if n == "sitkBSpline3" => Ok("sitkBSpline".into()),
        NameOrCode::Name(n) => Ok(n),
        NameOrCode::Code(c) => INTERPOLATOR_CODES
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, n)| n.to_string())
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "interpolator {c} is not one of SimpleITK 2's interpolator constants ({})",
                    INTERPOLATOR_CODES
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bin_width: 25.0,
            bin_count: None,
            label: 1,
            voxel_array_shift: 0.0,
            symmetrical_glcm: true,
            distances: vec![1],
            gldm_a: 0.0,
            weighting_norm: None,
            pad_distance: 5,
            minimum_roi_dimensions: 2,
            minimum_roi_size: None,
            resegment_range: None,
            resegment_mode: ResegmentMode::Absolute,
            sigma: Vec::new(),
            normalize: false,
            normalize_scale: 1.0,
            remove_outliers: None,
            resegment_shape: false,
            pre_crop: false,
            interpolator: "sitkBSpline".into(),
            force_2d: false,
            force_2d_dimension: 0,
            gradient_use_spacing: true,
            label_channel: 0,
            geometry_tolerance: None,
            correct_mask: false,
            wavelet: "coif1".into(),
            level: 1,
            start_level: 0,
            resampled_pixel_spacing: None,
            lbp2d_radius: 1.0,
            lbp2d_samples: 8,
            lbp2d_method: crate::filters::LbpMethod::Uniform,
        }
    }
}

impl Settings {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        const INTERPOLATORS: [&str; 15] = [
            "sitkNearestNeighbor",
            "sitkLinear",
            "sitkBSpline",
            "sitkBSpline1",
            "sitkBSpline2",
            "sitkBSpline4",
            "sitkBSpline5",
            "sitkLabelLinear",
            "sitkGaussian",
            "sitkLabelGaussian",
            "sitkHammingWindowedSinc",
            "sitkCosineWindowedSinc",
            "sitkWelchWindowedSinc",
            "sitkLanczosWindowedSinc",
            "sitkBlackmanWindowedSinc",
        ];
        if let Some(r) = &self.resampled_pixel_spacing {
            if !(r.len() == 3 || r.len() == 2) || r.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::Settings(format!(
                    "resampledPixelSpacing must be three spacings ≥ 0 (mm; 0 keeps an axis; two \
                     for a 2-D image), got {r:?}"
                )));
            }
        }
        if !INTERPOLATORS.contains(&self.interpolator.as_str()) {
            return Err(Error::Settings(format!(
                "interpolator {:?} is not one of SimpleITK's: {}",
                self.interpolator,
                INTERPOLATORS.join(", ")
            )));
        }
        if !(self.bin_width.is_finite() && self.bin_width > 0.0) {
            return Err(Error::Settings(format!(
                "binWidth must be positive, got {}",
                self.bin_width
            )));
        }
        if self.force_2d_dimension > 2 {
            return Err(Error::Settings(format!(
                "force2Ddimension must be 0, 1 or 2 (an axis of the (z, y, x) array), got {}",
                self.force_2d_dimension
            )));
        }
        if let Some(t) = self.geometry_tolerance {
            if !(t.is_finite() && t >= 0.0) {
                return Err(Error::Settings(format!(
                    "geometryTolerance must be finite and ≥ 0, got {t}"
                )));
            }
        }
        if self.level == 0 {
            return Err(Error::Settings("the wavelet level must be ≥ 1".into()));
        }
        // PyWavelets refuses a level beyond log2 of the axis ("Level value too high"); 30 is
        // past any image's, and keeps a parameter file from asking for endless passes.
        if self
            .level
            .checked_add(self.start_level)
            .is_none_or(|l| l > 30)
        {
            return Err(Error::Settings(format!(
                "wavelet level {} + start_level {} must be ≤ 30",
                self.level, self.start_level
            )));
        }
        if !(self.lbp2d_radius.is_finite() && self.lbp2d_radius > 0.0) {
            return Err(Error::Settings(format!(
                "lbp2DRadius must be positive (pixels), got {}",
                self.lbp2d_radius
            )));
        }
        if !(1..=31).contains(&self.lbp2d_samples) {
            return Err(Error::Settings(format!(
                "lbp2DSamples must be 1 to 31 (scikit-image's codes are 32-bit), got {}",
                self.lbp2d_samples
            )));
        }
        // An unknown wavelet is an error naming the built-in ones.
        crate::wavelet::wavelet_taps(&self.wavelet)?;
        if self.label_channel != 0 {
            return Err(Error::Settings(format!(
                "label_channel {} needs a vector mask; masks are read as scalar images here \
                 (label_channel 0)",
                self.label_channel
            )));
        }
        if self.bin_count == Some(0) {
            return Err(Error::Settings("binCount must be ≥ 1".into()));
        }
        if self.distances.is_empty() || self.distances.contains(&0) {
            return Err(Error::Settings(format!(
                "distances must be positive, got {:?}",
                self.distances
            )));
        }
        if !(1..=3).contains(&self.minimum_roi_dimensions) {
            return Err(Error::Settings(format!(
                "minimumROIDimensions must be 1, 2 or 3, got {}",
                self.minimum_roi_dimensions
            )));
        }
        if !(self.normalize_scale.is_finite() && self.normalize_scale > 0.0) {
            return Err(Error::Settings(format!(
                "normalizeScale must be positive, got {}",
                self.normalize_scale
            )));
        }
        if let Some(o) = self.remove_outliers {
            if !(o.is_finite() && o > 0.0) {
                return Err(Error::Settings(format!(
                    "removeOutliers must be positive, got {o}"
                )));
            }
        }
        if self.sigma.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::Settings(format!(
                "sigma values must be positive, got {:?}",
                self.sigma
            )));
        }
        if let Some(r) = &self.resegment_range {
            if r.is_empty() || r.len() > 2 || r.iter().any(|v| !v.is_finite()) {
                return Err(Error::Settings(format!(
                    "resegmentRange must hold one or two finite values, got {r:?}"
                )));
            }
        }
        if !self.voxel_array_shift.is_finite() {
            return Err(Error::Settings("voxelArrayShift must be finite".into()));
        }
        Ok(())
    }
}
