#![doc = include_str!("../README.md")]

mod clinical;
mod cohort;
mod error;
mod geometry;
pub mod hecktor;
pub mod manifest;
mod nifti_io;
mod table;
mod volume;

pub use error::{Error, Result};
pub use geometry::{Affine, Geometry};
pub use nifti_io::{read_header, NiftiInfo, ReadOptions, TransformSource};
pub use volume::{Volume, Voxel};
pub use clinical::{Clinical, ClinicalValue};
pub use cohort::{Case, CaseRecord, Cohort, Dataset, LoadOptions, Survival};
pub use hecktor::JoinReport;
