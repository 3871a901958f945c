//! The crate's error type.

/// Errors of training and evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a cohort or volume failed.
    #[error(transparent)]
    Io(#[from] adamss_io::Error),
    /// The network or its tensors failed.
    #[error(transparent)]
    Model(#[from] adamss_model::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
