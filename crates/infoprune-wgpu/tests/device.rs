//! Opening a device: in CI (`CI=true`) an adapter must exist (lavapipe); elsewhere without a GPU
//! the GPU tests are reported as ignored, with the reason (see `support`).

#[macro_use]
mod support;

use infoprune_wgpu::{AdapterChoice, GpuContext};
use support::{no_adapter, Outcome};

fn main() -> std::process::ExitCode {
    let mut tests = trials![opens_an_adapter_with_its_real_limits];
    tests.push(support::plain(
        "an_adapter_name_that_matches_nothing_is_a_clear_error",
        an_adapter_name_that_matches_nothing_is_a_clear_error,
    ));
    support::run(tests)
}

fn opens_an_adapter_with_its_real_limits() -> Outcome {
    let ctx = GpuContext::new(&AdapterChoice::any()).map_err(no_adapter)?;
    println!("adapter: {}", ctx.describe());
    assert!(ctx.limits.max_storage_buffer_binding_size >= 128 << 20);
    assert!(ctx.limits.max_compute_workgroup_size_x >= 256);
    ctx.take_error().unwrap();
    Ok(())
}

fn an_adapter_name_that_matches_nothing_is_a_clear_error() {
    let choice = AdapterChoice {
        name_contains: Some("no-such-adapter-xyz".into()),
        allow_software: true,
    };
    let err = GpuContext::new(&choice).unwrap_err().to_string();
    assert!(err.contains("no GPU adapter found"), "{err}");
}
