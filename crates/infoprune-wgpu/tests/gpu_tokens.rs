//! Token selection on the GPU backend agrees with the CPU reference (thousands of tiny problems
//! per batch is the case the fused kernel is built for), over several batches, which the host
//! prepares while the device solves the one before. Without an adapter outside CI the test is
//! reported as ignored (see `support`).

#[macro_use]
mod support;

use infoprune_core::backend::{Backend, CpuBackend};
use infoprune_core::progress::Silent;
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector};
use infoprune_wgpu::{AdapterChoice, GpuBackend};
use ndarray::{Array2, Array3};
use std::sync::Arc;
use support::{no_adapter, Outcome};

fn main() -> std::process::ExitCode {
    support::run(trials![gpu_token_masks_match_the_cpu])
}

fn gpu_token_masks_match_the_cpu() -> Outcome {
    let gpu = GpuBackend::new(&AdapterChoice::any()).map_err(no_adapter)?;
    // 4,500 samples: three batches of up to 2,048 (220,500 token rows), the last one partial.
    let (n, t, d) = (4500, 49, 8);
    let features = Array3::from_shape_fn((n, t, d), |(i, p, j)| {
        (((i * 13 + p * 7 + j * 3) % 17) as f32 - 8.0) / 8.0
    });
    let saliency = Array2::from_shape_fn((n, t), |(i, p)| ((i * 5 + p * 11) % 31) as f32 / 31.0);
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.grid = Some(GridPrior {
        height: 7,
        width: 7,
        weight: 0.1,
    });
    let cpu = TokenSelector::with_backend(config.clone(), Arc::new(CpuBackend))
        .unwrap()
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
    let gpu = Arc::new(gpu);
    let before = gpu.counters().unwrap();
    let selector = TokenSelector::with_backend(config, gpu.clone()).unwrap();
    let gpu_selection = selector
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
    let used = gpu.counters().unwrap().since(&before);
    println!("{n} × {t} × {d} tokens on the GPU: {used:?}");
    // Three batches, each relaxed in one fused dispatch: a handful of submissions per batch,
    // not one per iteration.
    assert!(used.submissions < 3 * 40, "{used:?}");
    let gpu = gpu_selection;
    for i in 0..n {
        let same = cpu.mask.row(i) == gpu.mask.row(i);
        let rel = (cpu.objective[i] - gpu.objective[i]).abs() / cpu.objective[i].abs().max(1e-12);
        assert!(
            same || rel <= 1e-4,
            "sample {i}: f {} vs {}",
            gpu.objective[i],
            cpu.objective[i]
        );
        assert_eq!(
            gpu.mask.row(i).iter().map(|&m| m as usize).sum::<usize>(),
            13
        );
    }
    Ok(())
}
