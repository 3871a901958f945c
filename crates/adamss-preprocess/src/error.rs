//! The crate's error type.

/// Errors of preprocessing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from adamss-io (reading, writing, geometry).
    #[error(transparent)]
    Io(#[from] adamss_io::Error),
    /// A grid that cannot exist (zero size, non-positive or non-finite spacing, singular
    /// direction) or is too large.
    #[error("invalid grid: {0}")]
    Grid(String),
    /// Two volumes that should overlap in physical space do not.
    #[error("no overlap: {0}")]
    NoOverlap(String),
    /// A configuration value out of range.
    #[error("invalid preprocessing configuration: {0}")]
    Config(String),
    /// The preprocessed-cohort cache could not be read or written.
    #[error("preprocessing cache: {0}")]
    Cache(String),
    /// NaN or infinite voxels where the operation needs finite values (B-spline resampling).
    #[error("non-finite values: {0}")]
    NonFinite(String),
    /// Two volumes that must lie on one grid (same shape, same affine) do not.
    #[error("grid mismatch: {0}")]
    GridMismatch(String),
    /// A label volume with no foreground where one is required.
    #[error("empty label: {0}")]
    EmptyLabel(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
