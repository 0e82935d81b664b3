//! Token selection throughput: n samples × 196 tokens × d = 64 (ViT-B/16-like grids), keep 25%.
//! `cargo bench -p infoprune --bench tokens [-- N]` (default N = 100000). Tokens are generated per
//! sample on demand (as a memory-mapped file would be read), so memory stays bounded.

use infoprune::backend_choice::{open_backend, BackendArg};
use infoprune_core::progress::Silent;
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector};
use ndarray::Array2;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let (t, d) = (196, 64);
    // Each sample: a salient object of 40 distinct patches on a near-uniform background.
    let token = move |i: usize, p: usize, j: usize| -> f32 {
        let object = (p + i) % 196 < 40;
        let h = ((i * 196 + p) as u64 * 64 + j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        let noise = (h % 2001) as f32 / 1000.0 - 1.0;
        if object {
            noise
        } else {
            (if j == 0 { 1.0 } else { 0.0 }) + 0.02 * noise
        }
    };
    let saliency = Array2::from_shape_fn((n, t), |(i, p)| {
        if (p + i) % 196 < 40 {
            0.6 + ((i * 7 + p) % 40) as f32 / 100.0
        } else {
            ((i + p * 3) % 30) as f32 / 100.0
        }
    });
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.grid = Some(GridPrior {
        height: 14,
        width: 14,
        weight: 0.1,
    });
    let backend = open_backend(BackendArg::Auto, true).expect("a backend");
    let selector = TokenSelector::with_backend(config, backend.clone()).unwrap();
    let start = Instant::now();
    let selection = selector
        .select_with(
            n,
            t,
            saliency.view(),
            |i| Ok(Array2::from_shape_fn((t, d), |(p, j)| token(i, p, j))),
            &Silent,
        )
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let object_kept: usize = (0..n)
        .map(|i| {
            (0..t)
                .filter(|&p| selection.mask[[i, p]] == 1 && (p + i) % 196 < 40)
                .count()
        })
        .sum();
    println!(
        "| backend | samples | tokens | d | keep | seconds | samples/s | object patches among kept |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    println!(
        "| {} | {n} | {t} | {d} | 25% | {seconds:.1} | {:.0} | {:.1}% |",
        backend.name(),
        n as f64 / seconds,
        100.0 * object_kept as f64 / (n * selection.kept_per_sample) as f64
    );
}
