//! # infoprune-wgpu
//!
//! The GPU backend of infoprune on wgpu (Vulkan, Metal, DX12): WGSL kernels in the workspace's
//! top-level `shaders/` folder for batched CSR sparse products over block-diagonal batches of
//! problems, the fused projected-gradient step, segmented capped-simplex projection and per-problem
//! reductions, driven by [`GpuBackend`], which implements `infoprune_core::backend::Backend` and
//! passes the same conformance suite as the CPU reference.

#![warn(missing_docs)]

pub mod context;
pub mod error;

pub use context::{AdapterChoice, GpuContext};
pub use error::GpuError;
