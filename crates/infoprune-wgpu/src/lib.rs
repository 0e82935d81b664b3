//! # infoprune-wgpu
//!
//! The GPU backend of infoprune on wgpu (Vulkan, Metal, DX12): WGSL kernels in the workspace's
//! top-level `shaders/` folder for batched CSR sparse products over block-diagonal batches of
//! problems, the fused projected-gradient step, segmented capped-simplex projection and per-problem
//! reductions, driven by [`GpuBackend`], which implements `infoprune_core::backend::Backend` and
//! passes the same conformance suite as the CPU reference.
//!
//! On the GPU: SpMV (and the multi-vector form), projected-gradient and mirror ascent with their
//! projections (Euclidean and KL), per-problem objective and monotone safeguard, the power
//! iteration for the step size, exact per-problem top-k with compaction, the swap-refinement gains
//! and the kNN graph (tiles with a register top-m, m ≤ 32). On the host: the pairing of swaps (each
//! re-checked exactly in f64) and greedy, which is sequential by nature. How the work is cut into
//! dispatches and submissions: the repository's `docs/gpu.md`.
//!
//! A batch of independent problems, each with the kNN graph of its own embeddings, solved on the
//! GPU and checked against the CPU reference:
//!
//! ```
//! use infoprune_core::backend::{Backend, CpuBackend, OwnedProblem, ProblemBatch};
//! use infoprune_core::importance::AlphaRule;
//! use infoprune_core::knn::KnnConfig;
//! use infoprune_core::progress::Silent;
//! use infoprune_core::SolverConfig;
//! use infoprune_wgpu::{AdapterChoice, GpuBackend};
//! use ndarray::Array2;
//!
//! # fn main() -> Result<(), infoprune_core::CoreError> {
//! // Any adapter wgpu finds, software ones (Mesa's lavapipe) included. Without one the error says
//! // why, and the CPU reference does the same work, as `infoprune --backend auto` does.
//! let backend: Box<dyn Backend> = match GpuBackend::new(&AdapterChoice::any()) {
//!     Ok(gpu) => Box::new(gpu),
//!     Err(e) => {
//!         eprintln!("{e}: running on the CPU");
//!         Box::new(CpuBackend)
//!     }
//! };
//!
//! // Two problems (400 samples keeping 40, 150 keeping 15): one block-diagonal batch.
//! let mut problems = Vec::new();
//! for (n, k) in [(400, 40), (150, 15)] {
//!     let embeddings = Array2::from_shape_fn((n, 8), |(i, j)| {
//!         (i % 4 == j % 4) as u8 as f32 + ((i * 7919 + j * 104_729) % 1000) as f32 / 2000.0
//!     });
//!     let graph = backend.knn_graph(embeddings.view(), &KnnConfig::default(), &Silent)?;
//!     let scores: Vec<f32> = (0..n).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
//!     let alpha = AlphaRule::default().alpha(&scores, &graph.degrees(), k);
//!     problems.push(OwnedProblem::new(scores, graph, k, alpha)?);
//! }
//! let batch = ProblemBatch::new(problems);
//! let config = SolverConfig::default(); // projected gradient, rounding, swap refinement
//! let results = backend.solve(&batch, &config, &Silent)?;
//! let reference = CpuBackend.solve(&batch, &config, &Silent)?;
//! for ((got, want), k) in results.iter().zip(&reference).zip([40, 15]) {
//!     assert_eq!(got.indices.len(), k);
//!     // The Backend contract: the CPU's set, or one whose f(S) is within 1e-4 of it.
//!     let tolerance = 1e-4 * want.objective.abs().max(1.0);
//!     assert!(got.indices == want.indices || (got.objective - want.objective).abs() <= tolerance);
//! }
//! println!("{}: f(S) = {:.4}, {:.4}", backend.name(), results[0].objective, results[1].objective);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod backend;
mod batch;
pub mod context;
pub mod error;
pub mod ivf;
mod kernels;
pub mod knn;
mod solver;
pub mod throughput;

pub use backend::GpuBackend;
pub use context::{AdapterChoice, GpuContext};
pub use error::GpuError;
