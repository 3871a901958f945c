//! The crate's error type.

use std::path::PathBuf;

/// Errors of reading and writing volumes and cohorts. Every variant that comes from
/// a file names it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a NIfTI-1 file this reader understands.
    #[error("{path}: not a NIfTI-1 file: {reason}")]
    NotNifti {
        /// The file.
        path: PathBuf,
        /// What is wrong with the header.
        reason: String,
    },
    /// The header is a NIfTI-1 header, but one of its fields makes no sense.
    #[error("{path}: invalid NIfTI header: {reason}")]
    InvalidHeader {
        /// The file.
        path: PathBuf,
        /// Which field and why.
        reason: String,
    },
    /// A DICOM file or series this reader cannot turn into a volume: the file (or folder) and
    /// why (a missing or malformed attribute, compressed pixel data, slices that do not form one
    /// evenly spaced stack, several series where one is needed).
    #[error("{path}: DICOM: {reason}")]
    Dicom {
        /// The file, or the folder for series-level problems.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The voxel type is one this reader does not support (complex, RGB, ...).
    #[error("{path}: unsupported NIfTI datatype code {code} ({name})")]
    UnsupportedDatatype {
        /// The file.
        path: PathBuf,
        /// The NIfTI `datatype` code.
        code: i16,
        /// Its name in the NIfTI-1 standard, or "unknown".
        name: &'static str,
    },
    /// A survival time that is negative, NaN or infinite.
    #[error("survival time {time} must be finite and >= 0")]
    InvalidEndpoint {
        /// The offending time.
        time: f64,
    },
    /// The image has more than three dimensions of size greater than one.
    #[error("{path}: a 3-D volume is needed, the header has dim = {dim:?}")]
    NotThreeD {
        /// The file.
        path: PathBuf,
        /// `dim[1..=dim[0]]`.
        dim: Vec<i64>,
    },
    /// Reading the voxel data would need more memory than allowed.
    #[error("{path}: header asks for {needed} bytes of voxel data, over the limit of {limit} bytes (raise ReadOptions::max_bytes if the file is genuine)")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Bytes the header asks for.
        needed: u128,
        /// The configured bound.
        limit: u64,
    },
    /// The file ends before the voxel data does (or the gzip stream is cut short).
    #[error("{path}: truncated: {expected} bytes of voxel data expected after offset {offset}, {found} present")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Offset of the voxel data in the (decompressed) stream.
        offset: u64,
        /// Bytes of voxel data the header announces.
        expected: u64,
        /// Bytes actually present.
        found: u64,
    },
    /// The gzip stream is corrupt.
    #[error("{path}: corrupt gzip stream: {source}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        source: std::io::Error,
    },
    /// NaN or infinite voxels where only finite values are allowed.
    #[error("{path}: {count} non-finite voxel(s) (NaN or ±Inf), first at index {first:?}")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Number of NaN/Inf voxels.
        count: usize,
        /// Array index `[i, j, k]` of the first one.
        first: [usize; 3],
    },
    /// A stored value does not fit the requested voxel type (e.g. 300 or 0.5 read as `u8`).
    #[error(
        "{path}: value {value} at index {index:?} does not fit the requested voxel type {target}"
    )]
    ValueOutOfRange {
        /// The file.
        path: PathBuf,
        /// The value after scaling.
        value: f64,
        /// Array index `[i, j, k]`.
        index: [usize; 3],
        /// Name of the requested type.
        target: &'static str,
    },
    /// Two volumes that must share one voxel grid do not.
    #[error("{path}: grid differs from {reference}: {detail}")]
    GridMismatch {
        /// The volume on the wrong grid.
        path: PathBuf,
        /// The volume whose grid it must share.
        reference: PathBuf,
        /// Which property differs, with both values.
        detail: String,
    },
    /// A label volume holds a value that is not a known label.
    #[error("{path}: label value {value} found; allowed labels are {allowed:?}")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// The offending value.
        value: u8,
        /// The labels that may occur.
        allowed: Vec<u8>,
    },
    /// A geometry that cannot be stored or used (zero spacing, singular direction, ...).
    #[error("invalid geometry: {0}")]
    Geometry(String),
    /// A CSV file could not be read or one of its rows does not parse.
    #[error("{path}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number, when the problem is in one row.
        line: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// A cohort folder does not have the expected layout.
    #[error("{path}: {reason}")]
    Layout {
        /// The folder or file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A case index past the end of a cohort.
    #[error("case index {index} out of range for a cohort of {len}")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Number of cases.
        len: usize,
    },
    /// A configuration value outside its valid range.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
