//! The crate's error type.

/// Errors of feature extraction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from adamss-io (reading volumes).
    #[error(transparent)]
    Io(#[from] adamss_io::Error),
    /// The mask has no voxel with the requested label.
    #[error("label {label} is absent from the mask{}", context(.labels_present))]
    LabelAbsent {
        /// The label asked for.
        label: u8,
        /// Labels the mask does hold.
        labels_present: Vec<u8>,
    },
    /// The ROI spans fewer dimensions or voxels than the settings require.
    #[error("ROI too small: {0}")]
    RoiTooSmall(String),
    /// Image and mask do not share a grid.
    #[error("mask and image grids differ: {0}")]
    GeometryMismatch(String),
    /// A non-finite voxel inside the ROI.
    #[error("non-finite image value {value} at voxel {index:?} inside the ROI")]
    NonFinite {
        /// Voxel index `[i, j, k]`.
        index: [usize; 3],
        /// The value.
        value: f64,
    },
    /// A non-finite voxel read by an operation that spreads it over the whole image (the
    /// recursive LoG filter, B-spline resampling, `normalize`'s whole-image statistics).
    #[error(
        "non-finite image value {value} at voxel {index:?}, read by {reader}, which would spread \
         it over the image (SimpleITK, and so PyRadiomics, reads NaN and ±Inf in a NIfTI file as \
         0: replace them to get its values)"
    )]
    NonFiniteRead {
        /// Voxel index `[i, j, k]`.
        index: [usize; 3],
        /// The value.
        value: f64,
        /// What reads it.
        reader: &'static str,
    },
    /// The shape2D class asked of an ROI it cannot describe: one over several slices across
    /// `force2Ddimension`, or a 3-D mask without `force2D`.
    #[error("shape2D: {0}")]
    Shape2D(String),
    /// A setting out of range.
    #[error("invalid radiomics setting: {0}")]
    Settings(String),
    /// A batch file ([`crate::Batch`]) that cannot be read as one.
    #[error("batch file {}: {problem}", path.display())]
    BatchFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
}

fn context(labels: &[u8]) -> String {
    if labels.is_empty() {
        " (the mask is empty)".into()
    } else {
        format!(" (present: {labels:?})")
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
