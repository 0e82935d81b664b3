//! The backend conformance suite on the CPU reference backend.

infoprune_core::backend_conformance_tests!(Some(Box::new(infoprune_core::backend::CpuBackend)));
