//! PyRadiomics' simple filtered image types, computed on the image cropped to the ROI plus
//! `padDistance` (as PyRadiomics crops before filtering): Square, SquareRoot, Logarithm,
//! Exponential (element-wise, in f64, scaled by the crop's maximum |value|) and Gradient
//! (SimpleITK's gradient magnitude: central differences over the spacing, the edge voxel
//! repeated outside, result in float32 as SimpleITK returns it), and LBP2D (scikit-image's
//! `local_binary_pattern` slice by slice, see [`lbp2d`]).

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
    /// Local binary patterns within each slice across `force2Ddimension` ([`lbp2d`]).
    Lbp2D,
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
            Self::Lbp2D => "lbp-2D",
        }
    }

    /// PyRadiomics' name of the image type in a parameter file's `imageType` block.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Wavelet => "Wavelet",
            Self::Square => "Square",
            Self::SquareRoot => "SquareRoot",
            Self::Logarithm => "Logarithm",
            Self::Exponential => "Exponential",
            Self::Gradient => "Gradient",
            Self::Lbp2D => "LBP2D",
        }
    }
}

/// `lbp2DMethod`: how scikit-image's `local_binary_pattern` codes the `P` neighbours of a pixel
/// (each 1 where at least the pixel's value): the three of PyRadiomics' parameter schema that
/// give codes. Its fourth, `var` (the neighbours' variance, NaN on flat patches, stored in the
/// image's pixel type), is not implemented; scikit-image's `nri_uniform` is not in
/// PyRadiomics' schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbpMethod {
    /// `Σ bit_i 2^i`.
    Default,
    /// The default code rotated to its smallest value (rotation invariant).
    Ror,
    /// PyRadiomics' default: the number of ones of a uniform pattern (at most two changes
    /// along the neighbours `0 … P−1`), `P + 1` otherwise; values `0 … P + 1`.
    #[default]
    Uniform,
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
        ImageType::Lbp2D => {
            if !settings.force_2d {
                // PyRadiomics' getLBP2DImage warns the same way.
                crate::context::warn_case!(
                    "LBP2D: local binary patterns are computed in 2-D (slices across \
                     force2Ddimension) while features are extracted in 3-D (force2D is false)"
                );
            }
            one(lbp2d(image, settings))
        }
    }
}

/// PyRadiomics' LBP2D image: scikit-image's `local_binary_pattern(plane, P, R, method)`
/// (`lbp2DSamples`, `lbp2DRadius`, `lbp2DMethod`) of every slice across `force2Ddimension`,
/// planes taken as PyRadiomics takes them from its (z, y, x) array (`force2Ddimension` 0: rows
/// y, columns x; 1: rows z, columns x; 2: rows y, columns z), in the image's crop. Neighbour
/// `i` lies at `(−R sin θ_i, R cos θ_i)` (rows, columns; `θ_i = 2πi/P`, rounded to 5 decimals),
/// read bilinearly, 0 outside the image PyRadiomics filters (`image` is a block of it holding
/// every neighbour of the ROI). PyRadiomics stores the codes in the image's own array: exact for
/// `uniform`, and for `default` and `ror` (up to `2^P − 1`) within the pixel type's range —
/// beyond it (`P` ≥ 16 on an int16 CT) its codes wrap, these do not.
pub fn lbp2d(image: &Array3<f64>, settings: &crate::Settings) -> Array3<f64> {
    let p = settings.lbp2d_samples;
    let r = settings.lbp2d_radius;
    let round5 = |v: f64| (v * 1e5).round_ties_even() / 1e5;
    let offsets: Vec<(f64, f64)> = (0..p)
        .map(|i| {
            let theta = 2.0 * std::f64::consts::PI * i as f64 / p as f64;
            (round5(-r * theta.sin()), round5(r * theta.cos()))
        })
        .collect();
    // Our arrays are (x, y, z): the axis held fixed, then the rows' and the columns' axes.
    let (fixed, row_axis, col_axis) = match settings.force_2d_dimension.min(2) {
        0 => (2, 1, 0),
        1 => (1, 2, 0),
        _ => (0, 1, 2),
    };
    let mut out = Array3::<f64>::zeros(image.dim());
    let mut bits = vec![false; p];
    for (plane, mut dst) in image
        .axis_iter(Axis(fixed))
        .zip(out.axis_iter_mut(Axis(fixed)))
    {
        // The plane's remaining axes keep their order, so rows and columns follow from which
        // of the two is the rows' axis.
        let transposed = row_axis > col_axis;
        let (plane, mut dst) = if transposed {
            (plane.reversed_axes(), dst.view_mut().reversed_axes())
        } else {
            (plane, dst.view_mut())
        };
        let (rows, cols) = plane.dim();
        let at = |i: i64, j: i64| {
            if i < 0 || j < 0 || i >= rows as i64 || j >= cols as i64 {
                0.0
            } else {
                plane[[i as usize, j as usize]]
            }
        };
        for row in 0..rows {
            for col in 0..cols {
                let centre = plane[[row, col]];
                for (bit, &(dr, dc)) in bits.iter_mut().zip(&offsets) {
                    let (y, x) = (row as f64 + dr, col as f64 + dc);
                    let (r0, c0) = (y.floor(), x.floor());
                    let (r1, c1) = (y.ceil() as i64, x.ceil() as i64);
                    let (fr, fc) = (y - r0, x - c0);
                    let (r0, c0) = (r0 as i64, c0 as i64);
                    let top = (1.0 - fc) * at(r0, c0) + fc * at(r0, c1);
                    let bottom = (1.0 - fc) * at(r1, c0) + fc * at(r1, c1);
                    let texture = (1.0 - fr) * top + fr * bottom;
                    *bit = texture - centre >= 0.0;
                }
                dst[[row, col]] = lbp_code(&bits, settings.lbp2d_method);
            }
        }
    }
    out
}

/// scikit-image's code of one pixel's thresholded neighbours.
fn lbp_code(bits: &[bool], method: LbpMethod) -> f64 {
    let p = bits.len();
    let changes = bits.windows(2).filter(|w| w[0] != w[1]).count();
    let ones = bits.iter().filter(|&&b| b).count();
    let default = || {
        bits.iter()
            .enumerate()
            .map(|(i, &b)| u64::from(b) << i)
            .sum::<u64>()
    };
    let code = match method {
        LbpMethod::Default => default(),
        LbpMethod::Ror => {
            let mut v = default();
            let mut min = v;
            for _ in 1..p {
                v = (v >> 1) | ((v & 1) << (p - 1));
                min = min.min(v);
            }
            min
        }
        LbpMethod::Uniform if changes <= 2 => ones as u64,
        LbpMethod::Uniform => p as u64 + 1,
    };
    code as f64
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
