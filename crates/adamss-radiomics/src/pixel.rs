//! Voxel types: what the extraction reads ([`Pixel`]) and how an image is stored on disk
//! ([`PixelType`], which decides how a resampled image is cast, as SimpleITK casts it).

use adamss_io::NiftiInfo;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A voxel type the extraction functions accept: `f32` (an image as loaded) or `f64` (values
/// already normalised or resampled in double precision, as PyRadiomics holds them then).
/// Filters that SimpleITK runs in the image's own precision (the LoG) follow the type.
/// Values read in double precision with [`adamss_io::Voxel::to_f64`] (exact for both types).
pub trait Pixel: adamss_io::Voxel + Copy + Send + Sync + 'static + sealed::Sealed {
    /// Whether this is single precision: a `Volume<f32>` is taken as float32 data, whose
    /// wavelet and grey-level bins PyRadiomics (NumPy, PyWavelets) compute in single precision.
    const SINGLE: bool;
}

impl Pixel for f32 {
    const SINGLE: bool = true;
}

impl Pixel for f64 {
    const SINGLE: bool = false;
}

/// How an image's voxels are stored — SimpleITK's pixel type when PyRadiomics reads the file.
/// A resampled image keeps it: integer types truncate the interpolated value toward zero
/// (after clamping to the type's range), `Float32` rounds it to single precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelType {
    /// `uint8`.
    UInt8,
    /// `int8`.
    Int8,
    /// `uint16`.
    UInt16,
    /// `int16` (most CT).
    Int16,
    /// `uint32`.
    UInt32,
    /// `int32`.
    Int32,
    /// `float32` (most PET; also any integer file with a non-identity `scl_slope`/`scl_inter`,
    /// which SimpleITK reads as float32).
    Float32,
    /// `float64`.
    Float64,
}

impl PixelType {
    /// The type SimpleITK gives a NIfTI file with this header: the stored type, except that
    /// scaling (`scl_slope` not 0 or 1, or `scl_inter` not 0) makes it float32 (float64 for
    /// float64 files). `None` for types the reader does not support (complex, RGB, 64-bit
    /// integers).
    pub fn from_nifti(info: &NiftiInfo) -> Option<Self> {
        let stored = match info.datatype {
            2 => Self::UInt8,
            256 => Self::Int8,
            4 => Self::Int16,
            512 => Self::UInt16,
            8 => Self::Int32,
            768 => Self::UInt32,
            16 => Self::Float32,
            64 => Self::Float64,
            _ => return None,
        };
        let scaled = !(info.scl_slope == 0.0 || info.scl_slope == 1.0) || info.scl_inter != 0.0;
        Some(match stored {
            Self::Float64 => Self::Float64,
            _ if scaled => Self::Float32,
            t => t,
        })
    }

    /// The value an interpolated `v` becomes in this type (ITK's bounds-checked cast).
    pub fn cast(self, v: f64) -> f64 {
        // `+ 0.0`: an integer has no negative zero.
        let int = |lo: f64, hi: f64| v.clamp(lo, hi).trunc() + 0.0;
        match self {
            Self::UInt8 => int(0.0, 255.0),
            Self::Int8 => int(-128.0, 127.0),
            Self::UInt16 => int(0.0, 65535.0),
            Self::Int16 => int(-32768.0, 32767.0),
            Self::UInt32 => int(0.0, 4_294_967_295.0),
            Self::Int32 => int(-2_147_483_648.0, 2_147_483_647.0),
            Self::Float32 => f64::from(v.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32),
            Self::Float64 => v,
        }
    }

    /// Whether a cast value fits an `f32` exactly (every type but `Int32`, `UInt32`, `Float64`).
    pub(crate) fn fits_f32(self) -> bool {
        !matches!(self, Self::Int32 | Self::UInt32 | Self::Float64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_like_itk() {
        assert_eq!(PixelType::Int16.cast(-3.7), -3.0);
        assert_eq!(PixelType::Int16.cast(99.999_999_999), 99.0);
        assert_eq!(PixelType::Int16.cast(40000.2), 32767.0);
        assert_eq!(PixelType::UInt8.cast(-0.5), 0.0);
        assert_eq!(PixelType::Float32.cast(0.1), f64::from(0.1f32));
        assert_eq!(PixelType::Float64.cast(0.1), 0.1);
    }
}
