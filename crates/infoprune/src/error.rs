//! The front crate's error type and its mapping to exit codes.

use crate::npy::error::NpyError;
use crate::npz::NpzError;
use infoprune_core::CoreError;
use thiserror::Error;

/// Everything the CLI and the pipeline can report.
#[derive(Debug, Error)]
pub enum Error {
    /// A `.npy` file could not be read or written.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// A `.npz` sparse similarity could not be read or written.
    #[error(transparent)]
    Npz(#[from] NpzError),
    /// The data or parameters were rejected by the core.
    #[error("{0}")]
    Core(#[from] CoreError),
    /// Two inputs or options contradict each other.
    #[error("{0}")]
    Usage(String),
    /// A plan or a part's outcome that is damaged, or that was made for other data or another
    /// configuration.
    #[error("plan: {0}")]
    Plan(String),
    /// A line could not be written to stdout or stderr (a closed pipe, a full disk).
    #[error("cannot write to {stream}: {source}")]
    Console {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Something went wrong that is not the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Process exit code: 2 for bad input or usage, 1 for internal errors (I/O while writing
    /// included: the input was fine, the machine was not).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) | Error::Console { .. } => 1,
            Error::Npy(e) if e.is_write_failure() => 1,
            Error::Npz(e) if e.is_write_failure() => 1,
            _ => 2,
        }
    }
}

impl Error {
    /// Whether this is a write to a closed pipe on stdout (`infoprune … | head`): the reader has
    /// all it wanted, so the program ends quietly with exit 0 as Unix tools do. (A closed stderr
    /// is an error like any other: nobody asked for the program to stop.)
    pub fn is_closed_pipe(&self) -> bool {
        matches!(self, Error::Console { stream: "stdout", source }
            if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Result alias for the front crate.
pub type Result<T> = std::result::Result<T, Error>;
