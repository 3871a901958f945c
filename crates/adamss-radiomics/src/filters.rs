//! PyRadiomics' simple filtered image types, computed on the image cropped to the ROI plus
//! `padDistance` (as PyRadiomics crops before filtering): Square, SquareRoot, Logarithm,
//! Exponential (element-wise, in f64, scaled by the crop's maximum |value|) and Gradient
//! (SimpleITK's gradient magnitude: central differences over the spacing, the edge voxel
//! repeated outside, result in float32 as SimpleITK returns it).

use ndarray::{Array3, Axis};
use serde::{Deserialize, Serialize};

/// A filtered image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    /// coif1 stationary wavelet, level 1: eight sub-bands.
    Wavelet,
    /// `(x / √max|x|)²`.
    Square,
    /// `sign(x) · √(|x| · max|x|)`.
    SquareRoot,
    /// `sign(x) · log(|x| + 1)`, rescaled to the original maximum |value|.
    Logarithm,
    /// `exp(x · log(max|x|) / max|x|)`.
    Exponential,
    /// Gradient magnitude (mm units).
    Gradient,
}

impl ImageType {
    /// PyRadiomics' name prefix.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wavelet => "wavelet",
            Self::Square => "square",
            Self::SquareRoot => "squareroot",
            Self::Logarithm => "logarithm",
            Self::Exponential => "exponential",
            Self::Gradient => "gradient",
        }
    }
}

/// The filtered image of `image` (already cropped) for the element-wise types and the gradient
/// (in mm or per voxel: `gradientUseSpacing`), with its feature-name prefix. `peak` is the
/// largest |value| of the image PyRadiomics filters — the whole image, or its `preCrop` /
/// resampling window, not the crop — by which Square, SquareRoot, Logarithm and Exponential
/// scale. The wavelet is not computed from a crop (see [`crate::wavelet::swt`] and
/// `extract_filtered`).
pub fn filtered(
    image: &Array3<f64>,
    spacing: [f64; 3],
    kind: ImageType,
    settings: &crate::Settings,
    peak: f64,
) -> crate::Result<Vec<(String, Array3<f64>)>> {
    let one = |a: Array3<f64>| Ok(vec![(kind.name().to_string(), a)]);
    match kind {
        // It reads the image around the crop, not the crop (`extract_filtered`).
        ImageType::Wavelet => Err(crate::Error::Settings(
            "the wavelet is computed from the image, not from a crop".into(),
        )),
        ImageType::Square => {
            let c = 1.0 / peak.sqrt();
            one(image.mapv(|v| (c * v).powi(2)))
        }
        ImageType::SquareRoot => {
            let m = peak;
            one(image.mapv(|v| {
                if v > 0.0 {
                    (v * m).sqrt()
                } else if v < 0.0 {
                    -(-v * m).sqrt()
                } else {
                    v
                }
            }))
        }
        ImageType::Logarithm => {
            let m = peak;
            let l = image.mapv(|v| {
                if v > 0.0 {
                    (v + 1.0).ln()
                } else if v < 0.0 {
                    -(-(v - 1.0)).ln()
                } else {
                    v
                }
            });
            // The largest |log| is that of the largest |value| (|log| grows with |value|).
            let lm = (m + 1.0).ln();
            one(l * (m / lm))
        }
        ImageType::Exponential => {
            let m = peak;
            let c = m.ln() / m;
            one(image.mapv(|v| (c * v).exp()))
        }
        ImageType::Gradient if settings.gradient_use_spacing => {
            one(gradient_magnitude(image, spacing))
        }
        ImageType::Gradient => one(gradient_magnitude(image, [1.0; 3])),
    }
}

fn gradient_magnitude(x: &Array3<f64>, spacing: [f64; 3]) -> Array3<f64> {
    let mut sq = Array3::<f64>::zeros(x.dim());
    for (axis, &h) in spacing.iter().enumerate() {
        let n = x.len_of(Axis(axis));
        for (src, mut dst) in x
            .lanes(Axis(axis))
            .into_iter()
            .zip(sq.lanes_mut(Axis(axis)))
        {
            for (i, d) in dst.iter_mut().enumerate() {
                let prev = src[i.saturating_sub(1)];
                let next = src[(i + 1).min(n - 1)];
                let g = (next - prev) * 0.5 / h;
                *d += g * g;
            }
        }
    }
    sq.mapv(|v| f64::from(v.sqrt() as f32))
}
