#![doc = include_str!("../README.md")]

mod atomic;
mod clinical;
mod cohort;
pub mod dicom;
mod endpoint;
mod error;
mod geometry;
mod hash;
pub mod hecktor;
mod itk_inverse;
pub mod manifest;
mod nifti_io;
mod nrrd;
mod summary;
pub mod synthetic;
mod table;
mod volume;

pub use atomic::write_atomic;
pub use clinical::{Clinical, ClinicalValue};
pub use cohort::{patient_id_problem, Case, CaseRecord, Cohort, Dataset, LoadOptions};
pub use dicom::{
    list_series, read_mask, read_mask_label, read_series, read_suv, DicomSeries, SuvNormalization,
};
pub use endpoint::Surv;
pub use error::{Error, Result};
pub use geometry::{Affine, Geometry};
pub use hash::fnv1a64;
pub use hecktor::JoinReport;
/// The `ndarray` this crate's volumes are made of, so users need no matching pin.
pub use ndarray;
pub use nifti_io::{read_header, NiftiInfo, ReadOptions, TransformSource};
pub use summary::{CaseSummary, CohortSummary};
pub use synthetic::{generate as generate_synthetic, SyntheticConfig};
pub use volume::{Volume, Voxel};
