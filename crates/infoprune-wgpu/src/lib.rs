//! wgpu compute backend for infoprune.
//!
//! This crate will hold the GPU side of the `Backend` seam: WGSL kernels (in the workspace's top-level
//! `shaders/` folder) for batched CSR sparse matrix-vector products over block-diagonal batches of
//! partitions, the fused projected-gradient step, segmented capped-simplex projection, per-partition
//! top-k and kNN tiles, plus adapter, buffer and limit handling. Every result is tested against
//! `infoprune-core`, the CPU reference, within stated tolerances.
//!
//! It is intentionally empty until the wgpu backend issue lands; nothing depends on it yet.
