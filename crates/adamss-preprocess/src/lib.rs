#![doc = include_str!("../README.md")]

mod error;
mod grid;
mod resample;

pub use error::{Error, Result};
pub use grid::{Grid, MAX_VOXELS};
pub use resample::{resample, resample_linear, resample_nearest, Interpolation};
