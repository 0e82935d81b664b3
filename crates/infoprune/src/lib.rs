//! # infoprune
//!
//! The front of infoprune: `.npy` input and output, SciPy `.npz` sparse similarities, the
//! `infoprune` command line, progress bars, the JSON report and the built-in demo. The math lives
//! in [`infoprune_core`].
//!
//! ```no_run
//! use infoprune::core::select::{SelectConfig, Selector};
//! use infoprune::npy::{self, Overwrite};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let embeddings = npy::read_f32_matrix("embeddings.npy".as_ref())?;
//! let scores = npy::read_f32_vector("scores.npy".as_ref())?;
//! let selector = Selector::new(SelectConfig::new(5_000))?; // keep 5,000; SPEC defaults
//! let selection = selector.run(embeddings.view(), Some(&scores), None)?;
//! println!("f(S) = {:.3} with α = {:.4}", selection.objective, selection.alpha);
//! let kept: Vec<i64> = selection.indices.iter().map(|&i| i as i64).collect();
//! npy::write_i64_vector("keep.npy".as_ref(), &kept, Overwrite::Refuse)?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod backend_choice;
pub mod captions;
pub mod cli;
pub mod console;
mod core_serde;
pub mod dataset;
pub mod demo;
pub mod error;
pub mod graph_command;
mod ivf_groups;
mod kmeans_partition;
pub mod knn_args;
pub mod merge;
pub mod npy;
pub mod npy_map;
pub mod npz;
pub mod outputs;
pub mod packed_ints;
pub mod partition;
pub mod parts;
pub mod pipeline;
pub mod plan;
mod planner;
pub mod progress_bars;
pub mod report;
pub mod score_command;
pub mod semdedup;
pub mod tokens_command;

pub use error::{Error, Result};
pub use infoprune_core as core;
