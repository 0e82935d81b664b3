//! The GPU backend's errors. They convert into `CoreError::Backend` at the `Backend` seam.

use infoprune_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong on the GPU side.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GpuError {
    /// No adapter matched (no GPU, no driver, or the requested backend/name is absent).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter refused to create a device with its own limits.
    #[error("could not open the GPU device: {0}")]
    RequestDevice(String),
    /// A problem does not fit the device even alone.
    #[error("{what} needs {needed} but the device allows at most {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// How much it needs.
        needed: u64,
        /// The device's limit.
        limit: u64,
    },
    /// The device ran out of memory.
    #[error("GPU out of memory: {0}")]
    OutOfMemory(String),
    /// A shader or pipeline failed validation.
    #[error("GPU validation error: {0}")]
    Validation(String),
    /// The device was lost (driver reset, removal, timeout).
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    /// A path was asked for work it does not do (named in the message).
    #[error("{0}")]
    Unsupported(String),
    /// Reading results back failed.
    #[error("could not read results back from the GPU: {0}")]
    Readback(String),
}

impl From<GpuError> for CoreError {
    fn from(e: GpuError) -> Self {
        CoreError::Backend {
            backend: "wgpu".into(),
            message: e.to_string(),
        }
    }
}

/// Result alias for the GPU crate.
pub type Result<T> = std::result::Result<T, GpuError>;
