//! # infoprune-core
//!
//! The CPU reference implementation of infoprune: everything needed to pick the `k` samples of a
//! dataset that keep the most information, and the ground truth every other backend is tested against.
//!
//! The problem (the repository's `docs/method.md`, §1, has every formula and default):
//!
//! ```text
//! maximize  f(x) = Σ_i s_i x_i − α Σ_{i,j} K_ij x_i x_j   over x ∈ {0,1}^n, Σ x = k
//! ```
//!
//! with `s` the importance scores and `K` a sparse, symmetric, non-negative kNN similarity.
//!
//! - [`csr`]: the validated sparse similarity type and its products.
//! - [`knn`]: the exact kNN graph built from embeddings; [`ivf`]: the inverted-file (IVF) kNN graph
//!   for millions of rows, and the search choice (exact, IVF, auto).
//! - [`importance`]: score normalisation, representativeness, the noise cutoff and the default `α`.
//! - [`problem`]: one validated instance (scores, similarity, budget, weight).
//! - [`objective`]: `f(S)` and the relaxed `f(x)`.
//! - [`projection`]: projection onto the capped simplex.
//! - [`solver`]: projected gradient, mirror ascent, lazy greedy, rounding and swap refinement.
//! - [`baselines`]: seeded random and top-k selection.
//! - [`backend`]: the `Backend` trait, batches of problems and the CPU backend.
//! - [`scores`]: importance scores from training dynamics (EL2N, entropy, margin, loss, forgetting,
//!   AUM, GraNd); [`sim`]: separability, integrity and multi-model certainty (SIM).
//! - [`sampling`]: SIMS importance sampling on any score; [`selectors`]: CCS, Moderate and D2;
//!   [`budget`]: largest-remainder budgets.
//! - [`tokens`]: token-level selection inside every sample (many tiny problems, batched).
//! - [`select`]: the whole single-problem pipeline, from embeddings to selected indices.
//! - [`memory`]: the peak-memory estimate a run checks before it allocates.
//!
//! The `testing` feature adds what this workspace's own tests, benches and fuzz targets share and
//! the library's users do not need: the backend conformance suite (`backend::conformance` and
//! `backend_conformance_tests!`), the fuzz entry points (`fuzzing`) and seeded test instances
//! (`testing`).
//!
//! ```
//! use infoprune_core::{select::{SelectConfig, Selector}, Method};
//! use ndarray::Array2;
//!
//! let embeddings = Array2::from_shape_fn((200, 8), |(i, j)| ((i * 7 + j * 3) % 11) as f32 + j as f32);
//! let config = SelectConfig::new(20).method(Method::InfoMax);
//! let selection = Selector::new(config).unwrap().run(embeddings.view(), None, None).unwrap();
//! assert_eq!(selection.indices.len(), 20);
//! ```

#![warn(missing_docs)]

pub mod backend;
pub mod baselines;
pub mod budget;
pub mod csr;
pub mod error;
pub mod fraction;
#[cfg(any(test, feature = "testing"))]
pub mod fuzzing;
pub mod importance;
pub mod ivf;
pub mod knn;
pub mod memory;
pub mod objective;
pub mod problem;
pub mod progress;
pub mod projection;
pub mod reduce;
pub mod sampling;
pub mod scores;
pub mod select;
pub mod selectors;
pub mod semdedup;
pub mod sim;
pub mod solver;
pub mod timing;
pub mod tokens;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use csr::CsrSimilarity;
pub use error::{CoreError, Result};
pub use problem::Problem;
pub use solver::{Method, RelaxedSolver, SolveResult, SolverConfig};
