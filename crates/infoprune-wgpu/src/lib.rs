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
//! re-checked exactly in f64) and greedy, which is sequential by nature.

#![warn(missing_docs)]

pub mod backend;
mod batch;
pub mod context;
pub mod error;
mod kernels;
pub mod knn;
mod solver;
pub mod throughput;

pub use backend::GpuBackend;
pub use context::{AdapterChoice, GpuContext};
pub use error::GpuError;
