//! The one error type of the core crate.

use thiserror::Error;

/// Everything that can go wrong in `infoprune-core`. Each variant names the problem and where it is,
/// so that a caller can print it as a one-line message.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A value that must be finite is NaN or infinite.
    #[error("{what} has a non-finite value ({value}) at index {index}")]
    NonFinite {
        /// Which input (e.g. "scores", "embeddings").
        what: &'static str,
        /// Flat index of the first bad value.
        index: usize,
        /// The bad value itself.
        value: f64,
    },
    /// Two inputs that must agree in length or shape do not.
    #[error("shape mismatch: {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was compared.
        what: String,
        /// The expected size.
        expected: usize,
        /// The size found.
        found: usize,
    },
    /// There is nothing to select from.
    #[error("{what} is empty: need at least one sample")]
    Empty {
        /// Which input is empty.
        what: &'static str,
    },
    /// The budget is outside `1 ≤ k ≤ n`.
    #[error("budget k = {k} is invalid for n = {n} samples: need 1 ≤ k ≤ n")]
    InvalidBudget {
        /// The requested budget.
        k: usize,
        /// Number of samples available.
        n: usize,
    },
    /// A parameter is outside its allowed range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name as the user knows it.
        name: &'static str,
        /// The offending value, printed.
        value: String,
        /// What the allowed range is.
        reason: &'static str,
    },
    /// A compute backend failed (no device, out of memory, device lost, shader error, too large).
    #[error("{backend} backend: {message}")]
    Backend {
        /// Which backend.
        backend: String,
        /// What went wrong.
        message: String,
    },
    /// A similarity matrix breaks one of its invariants.
    #[error("invalid similarity matrix: {0}")]
    InvalidSimilarity(String),
}

/// Result alias for the core crate.
pub type Result<T> = std::result::Result<T, CoreError>;

/// Returns the first non-finite value of `values` as an error naming `what`.
pub fn check_finite(what: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(CoreError::NonFinite {
            what,
            index,
            value: values[index] as f64,
        }),
        None => Ok(()),
    }
}
