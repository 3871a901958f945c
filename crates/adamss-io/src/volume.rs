//! [`Volume`]: a 3-D array with its geometry, and the voxel types it may hold.

use ndarray::Array3;

use crate::{Error, Geometry, Result};

mod sealed {
    pub trait Sealed {}
}

/// A voxel type that NIfTI can store natively.
///
/// Implemented for `u8`, `i8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64`, `f32` and `f64`.
pub trait Voxel:
    bytemuck::Pod + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The Rust name, for error messages.
    const NAME: &'static str;
    /// The NIfTI-1 `datatype` code.
    const DATATYPE: i16;
    /// Bytes per voxel.
    const SIZE: usize;
    /// Converts a value, or `None` when it does not fit exactly (integers: must be whole and in
    /// range; floats: any value, NaN included).
    fn from_f64(v: f64) -> Option<Self>;
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    /// Decodes one little-endian or big-endian value of this type from `bytes` (`SIZE` long).
    fn decode(bytes: &[u8], big_endian: bool) -> Self;
    /// Whether the value is finite (always true for integers).
    fn is_finite(self) -> bool;
}

macro_rules! int_voxel {
    ($t:ty, $code:expr) => {
        impl sealed::Sealed for $t {}
        impl Voxel for $t {
            const NAME: &'static str = stringify!($t);
            const DATATYPE: i16 = $code;
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn from_f64(v: f64) -> Option<Self> {
                // `as` saturates; the round trip rejects fractions and out-of-range values.
                let x = v as $t;
                ((x as f64) == v).then_some(x)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn decode(bytes: &[u8], big_endian: bool) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                if big_endian {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                }
            }
            #[inline]
            fn is_finite(self) -> bool {
                true
            }
        }
    };
}

macro_rules! float_voxel {
    ($t:ty, $code:expr) => {
        impl sealed::Sealed for $t {}
        impl Voxel for $t {
            const NAME: &'static str = stringify!($t);
            const DATATYPE: i16 = $code;
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn from_f64(v: f64) -> Option<Self> {
                Some(v as $t)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn decode(bytes: &[u8], big_endian: bool) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                if big_endian {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                }
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}

int_voxel!(u8, 2);
int_voxel!(i16, 4);
int_voxel!(i32, 8);
int_voxel!(i8, 256);
int_voxel!(u16, 512);
int_voxel!(u32, 768);
int_voxel!(i64, 1024);
int_voxel!(u64, 1280);
float_voxel!(f32, 16);
float_voxel!(f64, 64);

/// A 3-D image: voxel values indexed `[i, j, k]` plus the [`Geometry`] that places them in
/// RAS+ world space.
///
/// Arrays read from NIfTI keep the file's memory order (`i` fastest, i.e. Fortran order), so
/// reading costs no transpose; index with `[i, j, k]` and never assume a memory layout (call
/// `as_standard_layout()` where a C-contiguous slice is needed).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    data: Array3<T>,
    geometry: Geometry,
}

impl<T> Volume<T> {
    /// A volume from its voxels and geometry. The geometry is validated.
    pub fn new(data: Array3<T>, geometry: Geometry) -> Result<Self> {
        geometry.validate()?;
        if data.is_empty() {
            return Err(Error::Geometry(format!(
                "a volume needs at least one voxel, shape is {:?}",
                data.shape()
            )));
        }
        Ok(Self { data, geometry })
    }

    /// The voxels, indexed `[i, j, k]`.
    pub fn data(&self) -> &Array3<T> {
        &self.data
    }

    /// Mutable voxels.
    pub fn data_mut(&mut self) -> &mut Array3<T> {
        &mut self.data
    }

    /// The grid's geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// `[ni, nj, nk]`.
    pub fn shape(&self) -> [usize; 3] {
        let s = self.data.shape();
        [s[0], s[1], s[2]]
    }

    /// Physical extent in mm along each array axis (`shape · spacing`).
    pub fn extent_mm(&self) -> [f64; 3] {
        let s = self.shape();
        [0, 1, 2].map(|a| s[a] as f64 * self.geometry.spacing[a])
    }

    /// Splits into voxels and geometry.
    pub fn into_parts(self) -> (Array3<T>, Geometry) {
        (self.data, self.geometry)
    }

    /// Applies `f` to every voxel, keeping the geometry.
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> Volume<U> {
        Volume {
            data: self.data.map(f),
            geometry: self.geometry,
        }
    }

    /// `None` when `other` lies on the same grid (same shape, affines within `tol_mm`),
    /// otherwise a description of the first difference.
    pub fn grid_difference<U>(&self, other: &Volume<U>, tol_mm: f64) -> Option<String> {
        if self.shape() != other.shape() {
            return Some(format!("shape {:?} vs {:?}", other.shape(), self.shape()));
        }
        let d = self.geometry.max_affine_difference(&other.geometry);
        (d > tol_mm).then(|| {
            format!(
                "affines differ by up to {d:.3e} mm (tolerance {tol_mm:.1e}): {:?} vs {:?}",
                other.geometry.affine(),
                self.geometry.affine()
            )
        })
    }
}

impl<T: Voxel> Volume<T> {
    /// Index and count of non-finite voxels, if any.
    pub fn first_non_finite(&self) -> Option<([usize; 3], usize)> {
        let mut first = None;
        let mut count = 0;
        for ((i, j, k), v) in self.data.indexed_iter() {
            if !v.is_finite() {
                count += 1;
                first.get_or_insert([i, j, k]);
            }
        }
        first.map(|f| (f, count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_conversion_is_exact_or_refused() {
        assert_eq!(u8::from_f64(255.0), Some(255));
        assert_eq!(u8::from_f64(256.0), None);
        assert_eq!(u8::from_f64(-1.0), None);
        assert_eq!(u8::from_f64(1.5), None);
        assert_eq!(u8::from_f64(f64::NAN), None);
        assert_eq!(i16::from_f64(-32768.0), Some(i16::MIN));
        assert_eq!(i16::decode(&[0x01, 0x02], false), 0x0201);
        assert_eq!(i16::decode(&[0x01, 0x02], true), 0x0102);
        assert_eq!(f32::decode(&1.5f32.to_be_bytes(), true), 1.5);
    }

    #[test]
    fn grid_difference_reports_shape_and_affine() {
        let g = Geometry::default();
        let a = Volume::new(Array3::<u8>::zeros((2, 3, 4)), g).unwrap();
        let b = Volume::new(Array3::<f32>::zeros((2, 3, 5)), g).unwrap();
        assert!(a.grid_difference(&b, 1e-3).unwrap().contains("shape"));
        let mut g2 = g;
        g2.origin[0] = 0.5;
        let c = Volume::new(Array3::<f32>::zeros((2, 3, 4)), g2).unwrap();
        assert!(a.grid_difference(&c, 1e-3).unwrap().contains("affines"));
        assert!(a.grid_difference(&a.map(|&v| f32::from(v)), 1e-3).is_none());
        assert_eq!(c.extent_mm(), [2.0, 3.0, 4.0]);
    }

    #[test]
    fn finds_non_finite() {
        let mut v = Volume::new(Array3::<f32>::zeros((2, 2, 2)), Geometry::default()).unwrap();
        assert!(v.first_non_finite().is_none());
        v.data_mut()[[1, 0, 1]] = f32::NAN;
        v.data_mut()[[1, 1, 1]] = f32::INFINITY;
        assert_eq!(v.first_non_finite(), Some(([1, 0, 1], 2)));
    }
}
