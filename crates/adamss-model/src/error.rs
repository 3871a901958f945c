//! The crate's error type.

use std::path::PathBuf;

/// Errors raised by the networks and their tensor code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error reported by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// A configuration value is out of range or inconsistent.
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// An input tensor has the wrong shape, kind or size.
    #[error("bad input: {0}")]
    Shape(String),
    /// Tensors on different devices.
    #[error("device mismatch: {0}")]
    Device(String),
    /// Survival targets that a loss cannot use.
    #[error("bad survival target: {0}")]
    Target(String),
    /// A checkpoint that does not fit the network.
    #[error("checkpoint {path}: {problem}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Reading or writing a checkpoint failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
