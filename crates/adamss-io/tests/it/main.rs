//! Integration tests of adamss-io.

mod errors;
mod nibabel;

use std::path::PathBuf;

/// `tests/data` at the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}
