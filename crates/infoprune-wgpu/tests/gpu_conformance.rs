//! The backend conformance suite (written once in infoprune-core) on the GPU backend. In CI
//! (`CI=true`) an adapter must exist (lavapipe); elsewhere without one these tests are reported as
//! ignored, with the reason (see `support`).
//!
//! The list is the one `infoprune_core::backend_conformance_tests!` instantiates, written out here
//! because that macro makes `#[test]` functions, which the standard harness alone can run; a check
//! added to the suite is added here too.

#[macro_use]
mod support;

use infoprune_core::backend::{conformance, Backend};
use infoprune_wgpu::{AdapterChoice, GpuBackend};
use support::{no_adapter, Outcome, Skipped};

fn main() -> std::process::ExitCode {
    support::run(trials![
        spmv_matches_f64,
        projection_matches_exact,
        top_k_equals_cpu,
        solve_matches_cpu,
        knn_graph_matches_cpu,
        bad_arguments_are_errors,
    ])
}

fn gpu() -> Result<Box<dyn Backend>, Skipped> {
    let backend = GpuBackend::new(&AdapterChoice::any()).map_err(no_adapter)?;
    Ok(Box::new(backend))
}

fn spmv_matches_f64() -> Outcome {
    conformance::spmv_matches_f64(gpu()?.as_ref());
    Ok(())
}

fn projection_matches_exact() -> Outcome {
    conformance::projection_matches_exact(gpu()?.as_ref());
    Ok(())
}

fn top_k_equals_cpu() -> Outcome {
    conformance::top_k_equals_cpu(gpu()?.as_ref());
    Ok(())
}

fn solve_matches_cpu() -> Outcome {
    conformance::solve_matches_cpu(gpu()?.as_ref());
    Ok(())
}

fn knn_graph_matches_cpu() -> Outcome {
    conformance::knn_graph_matches_cpu(gpu()?.as_ref());
    Ok(())
}

fn bad_arguments_are_errors() -> Outcome {
    conformance::bad_arguments_are_errors(gpu()?.as_ref());
    Ok(())
}
