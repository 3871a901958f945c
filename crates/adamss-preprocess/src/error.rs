//! The crate's error type.

/// Errors of this crate. It has no fallible operations yet, so the enum is empty.
#[derive(Debug, thiserror::Error)]
pub enum Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
