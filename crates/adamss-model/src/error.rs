//! The crate's error type.

/// Errors raised by the networks and their tensor code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error reported by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
