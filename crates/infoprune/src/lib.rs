//! # infoprune
//!
//! The front of infoprune: `.npy` input and output, the `infoprune` command line, progress bars, the
//! JSON report and the built-in demo. The math lives in [`infoprune_core`].

#![warn(missing_docs)]

pub mod cli;
pub mod demo;
pub mod error;
pub mod npy;
pub mod progress_bars;
pub mod report;

pub use error::{Error, Result};
pub use infoprune_core as core;
