//! Token selection on the GPU backend agrees with the CPU reference (thousands of tiny problems
//! per batch is the case the batched kernels are built for). Without an adapter outside CI the test
//! is reported as ignored (see `support`).

#[macro_use]
mod support;

use infoprune_core::backend::CpuBackend;
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
    let (n, t, d) = (300, 49, 8);
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
    let gpu = TokenSelector::with_backend(config, Arc::new(gpu))
        .unwrap()
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
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
