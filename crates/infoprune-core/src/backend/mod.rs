//! The seam between the pipeline and the hardware: a [`Backend`] solves batches of independent
//! problems and exposes the primitive steps (sparse products, projection, top-k, kNN graphs) so each
//! can be tested and benchmarked alone. [`CpuBackend`] is the reference; `infoprune-wgpu` implements
//! the same trait on the GPU, and `conformance` (behind the `testing` feature) holds the one test
//! suite both must pass.

pub mod batch;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod contract;
mod cpu;
mod search;

pub use self::batch::{OwnedProblem, ProblemBatch};
pub use self::contract::{
    validate_segments, validate_spmm, validate_top_k, Backend, BackendLimits, DeviceCounters,
};
pub use self::cpu::CpuBackend;
pub use self::search::search_graph;
