//! Voxel-based extraction: one feature map per feature, PyRadiomics' `voxelBased=True`.
//!
//! Around every ROI voxel a kernel — the voxels within Chebyshev distance `kernelRadius`,
//! within the slice with `force2D` — is described as a ROI of its own: first-order statistics of
//! its values, texture matrices of its voxels whose neighbours lie in the kernel too. Grey
//! levels are binned once, with the bins of the whole ROI, and the GLCM's `Ng` (for `Idmn`,
//! `Idn`) is the whole ROI's. With `maskedKernel` (default) a kernel holds ROI voxels only;
//! without it every image voxel in reach, binned with the bins of the whole image cropped to
//! the ROI's box + `kernelRadius`. The maps lie on that crop, `initValue` outside the ROI.

use adamss_io::{Geometry, Volume};
use ndarray::Array3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::discretize::{bin_edges_in, digitize, present_levels, Discretized};
use crate::error::{Error, Result};
use crate::extract::{class_values, original_with, Cropped, Describe, FeatureClass};
use crate::params::{derived_value, Derived};
use crate::pixel::Pixel;
use crate::roi::{require_finite, Roi};
use crate::settings::Settings;

/// PyRadiomics' `voxelSetting` block: the kernel of voxel-based extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct VoxelSettings {
    /// `kernelRadius` (default 1): the kernel holds the voxels within this many voxels of its
    /// centre along every axis (a 3 × 3 × 3 cube for 1).
    pub kernel_radius: usize,
    /// `maskedKernel` (default true): a kernel holds ROI voxels only; false, every image voxel
    /// in reach (binned with the bins of the image cropped to the ROI's box + `kernelRadius`).
    pub masked_kernel: bool,
    /// `initValue` (default 0): the maps' value outside the ROI. A number, or a string NumPy
    /// reads as one (PyRadiomics' `exampleVoxel.yaml` has `initValue: nan`, a string in YAML).
    #[serde(deserialize_with = "number_or_numeric_string")]
    pub init_value: f64,
    /// `voxelBatch`: PyRadiomics' number of voxels computed at once, a memory setting; accepted
    /// (≥ 1) and without effect here, where each kernel is computed on its own.
    pub voxel_batch: Option<i64>,
}

/// A float given as a number, or as a string NumPy's `float()` reads (`nan`, `inf`, `-inf`, a
/// decimal number; any case), or YAML's spelling of the non-finite ones (`.nan`, `-.inf`).
fn number_or_numeric_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(f64),
        String(String),
    }
    match NumberOrString::deserialize(d)? {
        NumberOrString::Number(v) => Ok(v),
        // Rust's float parser reads `nan`, `inf`, `infinity` in any case, with a sign.
        NumberOrString::String(s) => (s.trim().to_ascii_lowercase())
            .replace(".nan", "nan")
            .replace(".inf", "inf")
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("initValue {s:?} is not a number"))),
    }
}

impl Default for VoxelSettings {
    fn default() -> Self {
        Self {
            kernel_radius: 1,
            masked_kernel: true,
            init_value: 0.0,
            voxel_batch: None,
        }
    }
}

impl VoxelSettings {
    /// Checks the values (PyRadiomics' schema: `kernelRadius` and `voxelBatch` ≥ 1).
    pub fn validate(&self) -> Result<()> {
        if self.kernel_radius == 0 {
            return Err(Error::Settings(
                "kernelRadius must be ≥ 1 (voxels), got 0".into(),
            ));
        }
        if let Some(b) = self.voxel_batch.filter(|&b| b < 1) {
            return Err(Error::Settings(format!("voxelBatch must be ≥ 1, got {b}")));
        }
        Ok(())
    }
}

/// The feature maps of a voxel-based extraction.
#[derive(Debug, Clone)]
pub struct FeatureMaps {
    /// One map per feature, named as [`crate::extract`] names the feature (e.g.
    /// `original_glcm_Contrast`), in its order; each on the crop's grid.
    pub maps: Vec<(String, Volume<f64>)>,
}

impl FeatureMaps {
    /// The map of a feature, by name.
    pub fn get(&self, name: &str) -> Option<&Volume<f64>> {
        self.maps.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The features' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.maps.iter().map(|(n, _)| n.as_str())
    }
}

/// Feature maps of the original image (PyRadiomics' `execute(image, mask, voxelBased=True)` for
/// the Original image type): the classes' default features computed in a kernel around every
/// ROI voxel (see the module docs; the shape classes describe no kernel and are left out, as
/// PyRadiomics leaves them out). Settings apply as in [`crate::extract`]: resegmentation,
/// `normalize`, `preCrop` (the maps' crop then stays inside the pre-cropped window), `force2D`,
/// `distances`, …; a `resampledPixelSpacing` that would resample is refused (resample first, or
/// use [`crate::ExtractionPlan::run_voxel_based`]). The filtered image types:
/// [`crate::ExtractionPlan::run_voxel_based`].
///
/// Matches PyRadiomics 3.1.4 to 1e-9 relative on the reference cases of
/// `tools/voxel_radiomics_reference.py`, with two differences, both where a kernel has a
/// direction without voxel pairs (at the ROI's edge): PyRadiomics' `MCC` fails for the whole
/// batch of voxels holding such a kernel (NumPy's eigensolver refuses that direction's NaN) and
/// leaves `initValue`, and its `JointAverage` is a plain mean over directions and so NaN there;
/// here both are averaged over the kernel's directions with pairs, as every other GLCM feature
/// is (and as PyRadiomics does for a whole ROI).
pub fn extract_voxel_based<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    voxel: &VoxelSettings,
    classes: &[FeatureClass],
) -> Result<FeatureMaps> {
    let kernels = Kernels::new(voxel, classes, image.geometry(), Vec::new())?;
    let maps = original_with(&kernels, image, mask, settings, &kernels.classes)?;
    Ok(FeatureMaps { maps })
}

/// Voxel-based extraction as a [`Describe`]r: the maps of one image's kernels.
pub(crate) struct Kernels<'a> {
    voxel: &'a VoxelSettings,
    /// The classes asked for but the shape classes.
    pub(crate) classes: Vec<FeatureClass>,
    /// The grid of the image the crops are cut from.
    geometry: Geometry,
    /// The deprecated features a parameter file names (firstorder `StandardDeviation`:
    /// PyRadiomics' `nanstd` of each kernel), derived voxel by voxel as
    /// [`crate::params::derived_value`] derives them for a ROI.
    derived: Vec<Derived>,
}

impl<'a> Kernels<'a> {
    /// Checks the voxel settings; leaves the shape classes out (with a warning).
    pub(crate) fn new(
        voxel: &'a VoxelSettings,
        classes: &[FeatureClass],
        geometry: &Geometry,
        derived: Vec<Derived>,
    ) -> Result<Self> {
        voxel.validate()?;
        if classes.iter().any(|c| c.is_shape()) {
            crate::context::warn_case!(
                "shape classes skipped: voxel-based extraction describes kernels, which have no \
                 shape (as PyRadiomics)"
            );
        }
        let classes = classes.iter().copied().filter(|c| !c.is_shape()).collect();
        Ok(Self {
            voxel,
            classes,
            geometry: *geometry,
            derived,
        })
    }
}

impl Describe for Kernels<'_> {
    type Item = (String, Volume<f64>);

    fn pad(&self, settings: &Settings, windowed: bool, _log: bool) -> usize {
        // PyRadiomics crops each image to the ROI's box + kernelRadius, within the image —
        // within the `preCrop` window (the box + padDistance) where there is one.
        if windowed {
            self.voxel.kernel_radius.min(settings.pad_distance)
        } else {
            self.voxel.kernel_radius
        }
    }

    fn describe(
        &self,
        image: Cropped<'_>,
        settings: &Settings,
        classes: &[FeatureClass],
        prefix: &str,
    ) -> Result<Vec<Self::Item>> {
        let (d0, d1, d2) = image.values.dim();
        let dims = [d0, d1, d2];
        // The whole ROI's checks (label, size, dimensions, finite values) and bins.
        let roi = image.roi(settings)?;
        let inside = image.mask.mapv(|m| m == settings.label);
        let masked = self.voxel.masked_kernel;
        // Bins: of the ROI, or (unmasked kernels) of every voxel of the crop.
        let edges = if masked {
            bin_edges_in(&roi.values(), settings, roi.single_precision)
        } else {
            require_finite(
                image.values,
                image.corner,
                "an unmasked kernel (maskedKernel: false)",
            )?;
            let all: Vec<f64> = image.values.t().iter().copied().collect();
            bin_edges_in(&all, settings, roi.single_precision)
        };
        let member = |p: [usize; 3]| !masked || inside[p];
        let levels = Array3::from_shape_fn(image.values.dim(), |(i, j, k)| {
            if member([i, j, k]) {
                digitize(image.values[[i, j, k]], &edges)
            } else {
                0
            }
        });
        // The ROI's voxels, x fastest (PyRadiomics' order: NumPy's `where` on z, y, x).
        let mut centres = Vec::new();
        for k in 0..d2 {
            for j in 0..d1 {
                for i in 0..d0 {
                    if inside[[i, j, k]] {
                        centres.push([i, j, k]);
                    }
                }
            }
        }
        let kernel = Kernel {
            values: image.values.view(),
            levels: &levels,
            member: &member,
            dims,
            radius: self.voxel.kernel_radius,
            fixed: settings.fixed_axis(),
            ng: levels.iter().copied().max().unwrap_or(0),
            spacing: image.spacing,
            single_precision: roi.single_precision,
        };
        // Values per voxel; the names once, from the classes' feature lists.
        let per_voxel: Vec<Vec<f64>> = centres
            .par_iter()
            .map(|&c| {
                let (sub, disc) = kernel.around(c);
                class_values(&sub, &disc, settings, classes)
                    .into_iter()
                    .flat_map(|(_, values)| values.into_iter().map(|(_, v)| v))
                    .collect()
            })
            .collect();
        let names: Vec<String> = classes
            .iter()
            .filter(|c| !c.is_shape())
            .flat_map(|c| {
                c.feature_names()
                    .iter()
                    .map(move |n| format!("{prefix}_{}_{n}", c.name()))
            })
            .collect();
        let geometry = Geometry {
            origin: (self.geometry).index_to_world(image.corner.map(|v| v as f64)),
            ..self.geometry
        };
        let init = self.voxel.init_value;
        let map = |value: &dyn Fn(usize) -> f64| {
            let mut map = Array3::from_elem(image.values.dim(), init);
            for (n, c) in centres.iter().enumerate() {
                map[*c] = value(n);
            }
            Volume::new(map, geometry)
        };
        let position = |class: FeatureClass, feature: &str| {
            let name = format!("{prefix}_{}_{feature}", class.name());
            names.iter().position(|n| *n == name)
        };
        // Deprecated features asked for, after the others (as for a ROI), voxel by voxel.
        let mut derived = Vec::new();
        for &(class, feature, [from, other]) in &self.derived {
            let Some(v) = position(class, from) else {
                continue;
            };
            let a = position(class, other);
            let value = |n: usize| {
                let x: &[f64] = &per_voxel[n];
                derived_value(class, feature, x[v], a.map_or(f64::NAN, |a| x[a]))
            };
            let name = format!("{prefix}_{}_{feature}", class.name());
            derived.push((name, map(&value)?));
        }
        let mut out = Vec::with_capacity(names.len() + derived.len());
        for (f, name) in names.into_iter().enumerate() {
            out.push((name, map(&|n| per_voxel[n][f])?));
        }
        out.extend(derived);
        Ok(out)
    }
}

/// What a kernel is cut from: the crop's values and bins, and which voxels a kernel may hold.
struct Kernel<'a, M: Fn([usize; 3]) -> bool> {
    values: ndarray::ArrayView3<'a, f64>,
    levels: &'a Array3<u32>,
    member: &'a M,
    dims: [usize; 3],
    radius: usize,
    fixed: Option<usize>,
    ng: u32,
    spacing: [f64; 3],
    single_precision: bool,
}

impl<M: Fn([usize; 3]) -> bool> Kernel<'_, M> {
    /// The kernel around `c` as a ROI of its own, and its bins (the whole ROI's `Ng`).
    fn around(&self, c: [usize; 3]) -> (Roi, Discretized) {
        let [lo, hi] = [0, 1].map(|side| {
            [0, 1, 2].map(|a| match (Some(a) == self.fixed, side) {
                (true, _) => c[a],
                (false, 0) => c[a].saturating_sub(self.radius),
                (false, _) => c[a].saturating_add(self.radius).min(self.dims[a] - 1),
            })
        });
        let dims = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
        let n = dims[0] * dims[1] * dims[2];
        let (mut image, mut mask, mut levels) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let m = (self.member)([i, j, k]);
                    image.push(self.values[[i, j, k]]);
                    mask.push(m);
                    levels.push(if m { self.levels[[i, j, k]] } else { 0 });
                }
            }
        }
        let grey_levels = present_levels(&levels, &mask);
        let roi = Roi {
            dims,
            image,
            mask,
            spacing: self.spacing,
            single_precision: self.single_precision,
        };
        let disc = Discretized {
            levels,
            grey_levels,
            ng: self.ng,
        };
        (roi, disc)
    }
}
