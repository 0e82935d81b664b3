//! The backend conformance suite (written once in infoprune-core) on the GPU backend. In CI
//! (`CI=true`) an adapter must exist (lavapipe); elsewhere without one these tests skip, saying why.

use infoprune_wgpu::{AdapterChoice, GpuBackend};

fn gpu() -> Option<Box<dyn infoprune_core::backend::Backend>> {
    match GpuBackend::new(&AdapterChoice::any()) {
        Ok(backend) => Some(Box::new(backend)),
        Err(e) if std::env::var("CI").is_err() => {
            println!("skipped: {e}");
            None
        }
        Err(e) => panic!("CI must have a GPU adapter (lavapipe): {e}"),
    }
}

infoprune_core::backend_conformance_tests!(gpu());
