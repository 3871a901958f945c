//! The crate's error type.

use std::path::PathBuf;

/// Errors of training and evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a cohort or volume failed.
    #[error(transparent)]
    Io(#[from] adamss_io::Error),
    /// Preprocessing failed.
    #[error(transparent)]
    Preprocess(#[from] adamss_preprocess::Error),
    /// The network or its tensors failed.
    #[error(transparent)]
    Model(#[from] adamss_model::Error),
    /// Radiomics extraction or selection failed.
    #[error(transparent)]
    Radiomics(#[from] adamss_radiomics::Error),
    /// A survival statistic or model failed.
    #[error(transparent)]
    Survival(#[from] adamss_survival::Error),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] adamss_model::tch::TchError),
    /// The experiment configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file could not be read, written or understood.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// A model bundle is incomplete, altered, or from an incompatible version.
    #[error("model bundle: {}: {problem}", path.display())]
    Bundle {
        /// The bundle's folder or the file at fault.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The cohort cannot support the experiment (no events, too few patients, missing data).
    #[error("cohort: {0}")]
    Cohort(String),
    /// An observer stopped the stage (the checkpoint of the last finished epoch is kept).
    #[error("{0}: stopped by the caller")]
    Interrupted(String),
    /// Training diverged: the loss became NaN or infinite.
    #[error("{stage}, epoch {epoch}, step {step}: the loss is {value} (not finite); {}", match checkpoint {
        Some(p) => format!("the last good checkpoint is kept at {}", p.display()),
        None => "no epoch had finished, so there is no checkpoint".to_string(),
    })]
    NonFinite {
        /// Which training stage.
        stage: String,
        /// Epoch (0-based).
        epoch: usize,
        /// Step within the epoch (0-based).
        step: usize,
        /// The loss value.
        value: f64,
        /// The last good checkpoint (none when the first epoch diverged).
        checkpoint: Option<PathBuf>,
    },
}

impl Error {
    /// An [`Error::File`] from an I/O error.
    pub(crate) fn file(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        Self::File {
            path: path.into(),
            problem: e.to_string(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
