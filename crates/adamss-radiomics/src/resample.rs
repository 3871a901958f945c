//! PyRadiomics' `resampledPixelSpacing`: the image and mask resampled onto a new grid that
//! covers the ROI's bounding box plus `padDistance` (PyRadiomics' `imageoperations.resampleImage`),
//! with SimpleITK's `ResampleImageFilter` arithmetic.
//!
//! The grid follows PyRadiomics exactly (all in f64, the mask's spacing and box):
//! a target spacing of 0 — or along an axis the ROI is one voxel thick — keeps the mask's
//! spacing; with `ratio = mask spacing / new spacing`, the new index range is
//! `floor((lo − ½)·ratio − pad) ..= ceil((lo + size − ½)·ratio + pad)`, clamped to
//! `[0, ceil(mask size · ratio) − 1]`; the new origin is the mask's continuous index
//! `½·(new − old)/old + first / ratio` taken to physical space; the direction is the mask's.
//! A target equal to the image's spacing (numpy `allclose`) does not resample: PyRadiomics then
//! crops, and so does the extraction ([`resample`] returns `None`; a mask on another grid is
//! then taken onto the image's by nearest neighbour, as PyRadiomics does there, with or without
//! `correctMask`).
//!
//! Image and mask need not share a grid: the new grid is the mask's, and the image is
//! interpolated through its own geometry, as in PyRadiomics (which resamples before it checks
//! the grids, so `correctMask` plays no part). The ROI's bounding box must lie inside the
//! image, as PyRadiomics' `_checkROI` requires.
//!
//! Interpolation is the workspace's one resampler, [`adamss_preprocess::resample_f64`] (ITK's
//! scan-line arithmetic; B-spline, linear and nearest neighbour, bit-equal to SimpleITK: see
//! its documentation), run on the image as PyRadiomics holds it — normalised first (f64) or as
//! loaded — with 0 outside; the mask always by nearest neighbour.
//! The interpolated value is cast to the image's stored [`PixelType`] (an `int16` CT is
//! truncated toward zero), or kept in f64 when the image was normalised first (PyRadiomics
//! normalises before resampling, and `sitk.Normalize` returns float64). Other interpolators
//! (Gaussian, windowed sinc) are refused with an error naming the three that are implemented.

use adamss_io::{Geometry, Volume};
use adamss_preprocess::{resample_f64, resample_nearest, Grid, Interpolation};

use crate::error::{Error, Result};
use crate::pixel::{Pixel, PixelType};
use crate::roi::{check_roi_inside, image_values};
use crate::settings::Settings;

/// A resampled image: single precision when its stored type fits (the usual case), double when
/// it was normalised first or is stored as a 32-bit integer or float64.
#[derive(Debug, Clone)]
pub enum ResampledImage {
    /// Values of a `float32` or ≤ 16-bit integer image.
    Single(Volume<f32>),
    /// Normalised values, or a 32-bit integer or float64 image.
    Double(Volume<f64>),
}

/// An image and mask after [`resample`], on the new grid.
#[derive(Debug, Clone)]
pub struct Resampled {
    /// The image (already normalised when `normalize` was set).
    pub image: ResampledImage,
    /// The mask (nearest neighbour).
    pub mask: Volume<u8>,
    /// Whether the image values are normalised (`normalize` must not be applied again).
    pub normalized: bool,
}

/// Resamples `image` and `mask` as PyRadiomics does for `settings.resampled_pixel_spacing`
/// (after normalising the image when `settings.normalize` is set), `stored` being the image's
/// pixel type on disk (see [`PixelType::from_nifti`]). `None` when nothing is to be resampled:
/// no spacing is set, or it equals the image's own (then the extraction crops instead).
pub fn resample<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    settings: &Settings,
    stored: PixelType,
) -> Result<Option<Resampled>> {
    settings.validate()?;
    let Some(target) = settings.resampled_spacing_3d()? else {
        return Ok(None);
    };
    // The grid comes from the mask alone, and the image is read through its own geometry, so
    // the two need not share a grid (PyRadiomics needs no correctMask here): the ROI must only
    // lie inside the image.
    let (lo, size) = check_roi_inside(image, mask, settings.label)?;
    let mg = *mask.geometry();
    let ms = mg.spacing;
    let new_spacing = [0, 1, 2].map(|a| {
        if target[a] == 0.0 || size[a] == 1 {
            ms[a]
        } else {
            target[a]
        }
    });
    let own = image.geometry().spacing;
    if (0..3).all(|a| (own[a] - new_spacing[a]).abs() <= 1e-8 + 1e-5 * new_spacing[a].abs()) {
        return Ok(None);
    }
    let interpolator = match settings.interpolator.as_str() {
        "sitkBSpline" => Interpolation::BSpline,
        "sitkLinear" => Interpolation::Linear,
        "sitkNearestNeighbor" => Interpolation::Nearest,
        other => {
            return Err(Error::Settings(format!(
                "resampling with interpolator {other} is not implemented; sitkBSpline \
                 (PyRadiomics' default), sitkLinear and sitkNearestNeighbor are"
            )))
        }
    };
    let grid = new_grid(
        &mg,
        mask.shape(),
        lo,
        size,
        new_spacing,
        settings.pad_distance,
    )?;

    // The image PyRadiomics resamples: normalised first (f64), or as loaded.
    let resampled = if settings.normalize {
        let values = Volume::new(image_values(image, settings)?, *image.geometry())?;
        interpolate(&values, &grid, interpolator)?
    } else {
        interpolate(image, &grid, interpolator)?
    };
    let resampled_mask = resample_nearest(mask, &grid, 0)
        .map_err(|e| Error::Settings(format!("resampling the mask: {e}")))?
        .into_parts()
        .0;
    let resampled = resampled.into_parts().0;
    let normalized = settings.normalize;
    let image = if normalized || !stored.fits_f32() {
        let cast = if normalized {
            PixelType::Float64
        } else {
            stored
        };
        ResampledImage::Double(Volume::new(
            resampled.mapv(|v| cast.cast(v)),
            grid.geometry,
        )?)
    } else {
        ResampledImage::Single(Volume::new(
            resampled.mapv(|v| stored.cast(v) as f32),
            grid.geometry,
        )?)
    };
    Ok(Some(Resampled {
        image,
        mask: Volume::new(resampled_mask, grid.geometry)?,
        normalized,
    }))
}

/// `source` interpolated onto `grid` in f64, 0 outside; B-spline refuses non-finite voxels
/// anywhere in the image (its coefficients come from filters along whole lines).
fn interpolate<T: Pixel>(
    source: &Volume<T>,
    grid: &Grid,
    interpolation: Interpolation,
) -> Result<Volume<f64>> {
    if interpolation == Interpolation::BSpline {
        crate::roi::require_finite(source.data().view(), [0; 3], "B-spline resampling")?;
    }
    resample_f64(source, grid, interpolation, 0.0)
        .map_err(|e| Error::Settings(format!("resampling the image: {e}")))
}

/// PyRadiomics' resampling grid for the ROI box `lo`, `size` of a mask on `mg` (see the
/// module documentation).
fn new_grid(
    mg: &Geometry,
    mask_shape: [usize; 3],
    lo: [usize; 3],
    size: [usize; 3],
    new_spacing: [f64; 3],
    pad: usize,
) -> Result<Grid> {
    let ms = mg.spacing;
    let pad = pad as f64;
    let mut shape = [0usize; 3];
    let mut first = [0f64; 3];
    for a in 0..3 {
        let ratio = ms[a] / new_spacing[a];
        let lower = ((lo[a] as f64 - 0.5) * ratio - pad).floor().max(0.0);
        let max_upper = (mask_shape[a] as f64 * ratio).ceil() - 1.0;
        let upper = (((lo[a] + size[a]) as f64 - 0.5) * ratio + pad)
            .ceil()
            .min(max_upper);
        let n = upper - lower + 1.0;
        if !(n >= 1.0 && n <= adamss_preprocess::MAX_VOXELS as f64) {
            return Err(Error::Settings(format!(
                "resampledPixelSpacing {new_spacing:?} mm gives {n} voxels along axis {a}"
            )));
        }
        shape[a] = n as usize;
        // Continuous index (in the mask) of the new grid's first voxel centre.
        first[a] = 0.5 * (new_spacing[a] - ms[a]) / ms[a] + lower / ratio;
    }
    // ITK's TransformContinuousIndexToPhysicalPoint: origin + (direction · spacing) · index,
    // the product summed first.
    let mut origin = [0f64; 3];
    for (r, o) in origin.iter_mut().enumerate() {
        let mut v = 0.0;
        for c in 0..3 {
            v += mg.direction[r][c] * ms[c] * first[c];
        }
        *o = mg.origin[r] + v;
    }
    let geometry = Geometry::new(new_spacing, origin, mg.direction)?;
    // Grid::new holds the workspace's one size cap.
    Grid::new(shape, geometry)
        .map_err(|e| Error::Settings(format!("resampledPixelSpacing {new_spacing:?} mm: {e}")))
}
