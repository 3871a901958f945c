//! Integration tests of adamss-io.
#![allow(clippy::unwrap_used)] // test helpers panic on purpose

mod cohort;
mod dicom;
mod dicom_seg;
mod errors;
mod itk_index;
mod nibabel;
mod nrrd;
mod nrrd_write;
mod synthetic;

use std::path::PathBuf;

/// `tests/data` at the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}
