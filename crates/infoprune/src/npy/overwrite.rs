//! Whether a writer may replace an existing output.

/// Whether an existing output file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overwrite {
    /// An existing file at the target path is an [`NpyError::AlreadyExists`](super::NpyError::AlreadyExists) error.
    Refuse,
    /// An existing file at the target path is replaced.
    Allow,
}
