//! The crate's error type.

/// Errors of survival analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A survival time that is negative, NaN or infinite.
    #[error("survival time {value} at index {index} must be finite and >= 0")]
    InvalidTime {
        /// Position in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An endpoint refused by [`crate::Surv::new`] (adamss-io's check: time finite and ≥ 0).
    #[error(transparent)]
    Endpoint(#[from] adamss_io::Error),
    /// A risk score or covariate that is NaN or infinite.
    #[error("{what} at index {index} is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position in the input (row-major for matrices).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Inputs whose lengths must agree do not.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length required.
        expected: usize,
    },
    /// No subjects at all.
    #[error("no observations")]
    Empty,
    /// A statistic that needs at least one comparable pair or event has none (e.g. all
    /// subjects censored).
    #[error("{0}")]
    Undefined(String),
    /// A parameter outside its valid range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Newton–Raphson did not converge.
    #[error("fit did not converge in {iterations} iterations (last step {step:.3e}, gradient norm {gradient:.3e})")]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Size of the last Newton step.
        step: f64,
        /// Norm of the last gradient.
        gradient: f64,
    },
    /// The partial likelihood keeps increasing as a coefficient grows without bound (the
    /// covariate separates events from non-events): no finite maximum exists.
    #[error("monotone likelihood: coefficient {index} ({value:.3e}) diverges; the covariate separates the data — drop it or use a penalised fit")]
    MonotoneLikelihood {
        /// Index of the diverging coefficient.
        index: usize,
        /// Its value when the fit stopped.
        value: f64,
    },
    /// An error reported by linfa (dataset handling).
    #[error("linfa: {0}")]
    Linfa(#[from] linfa::Error),
    /// A linear-algebra failure (e.g. a singular information matrix from collinear covariates).
    #[error("linear algebra: {0}")]
    Linalg(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
