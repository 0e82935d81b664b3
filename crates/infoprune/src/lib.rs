//! # infoprune
//!
//! The front of infoprune: `.npy` input and output, SciPy `.npz` sparse similarities, the
//! `infoprune` command line, progress bars, the JSON report and the built-in demo. The math lives
//! in [`infoprune_core`]; the method with every formula and default is the repository's
//! `docs/method.md`, the crates and the data flow `docs/architecture.md`.
//!
//! Embeddings and scores written as `.npy` files (here into a temporary folder), read back, the
//! samples to keep selected with the documented defaults, and the kept indices written as numpy's
//! `int64` `.npy`, as `infoprune select` does:
//!
//! ```
//! use infoprune::core::select::{SelectConfig, Selector};
//! use infoprune::npy::{self, Overwrite};
//! use ndarray::Array2;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let (e_path, s_path) = (dir.path().join("embeddings.npy"), dir.path().join("scores.npy"));
//! // 300 samples in 3 clusters, 8 dimensions, and an importance score for each.
//! let e = Array2::from_shape_fn((300, 8), |(i, j)| {
//!     (i % 3 == j % 3) as u8 as f32 + ((i * 7919 + j * 104_729) % 1000) as f32 / 2000.0
//! });
//! let s: Vec<f32> = (0..300).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
//! npy::write_f32_matrix(&e_path, e.view(), Overwrite::Refuse)?;
//! npy::write_f32_vector(&s_path, &s, Overwrite::Refuse)?;
//!
//! let embeddings = npy::read_f32_matrix(&e_path)?;
//! let scores = npy::read_f32_vector(&s_path)?;
//! let selector = Selector::new(SelectConfig::new(30))?; // keep 30
//! let selection = selector.run(embeddings.view(), Some(&scores), None)?;
//! println!("f(S) = {:.3} with α = {:.4}", selection.objective, selection.alpha);
//! let kept: Vec<i64> = selection.indices.iter().map(|&i| i as i64).collect();
//! let keep_path = dir.path().join("keep.npy");
//! npy::write_i64_vector(&keep_path, &kept, Overwrite::Refuse)?;
//!
//! assert_eq!(npy::read_i64_vector(&keep_path)?, kept);
//! assert_eq!(kept.len(), 30);
//! assert!(kept.windows(2).all(|w| w[0] < w[1])); // sorted and distinct
//! // An existing output is never replaced unless asked (`--force`).
//! assert!(npy::write_i64_vector(&keep_path, &kept, Overwrite::Refuse).is_err());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod args;
pub mod backend_choice;
pub mod captions;
pub mod cli;
pub mod commands;
pub mod console;
mod core_serde;
pub mod dataset;
pub mod demo;
mod equal_cuts;
pub mod error;
pub mod in_memory;
mod ivf_groups;
mod kmeans_partition;
mod logit_scores;
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
mod pruned;
mod pruner;
pub mod report;
pub mod semdedup;

pub use error::{Error, Result};
pub use infoprune_core as core;
