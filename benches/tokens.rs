//! Token selection throughput: n samples × 196 tokens × d = 64 (ViT-B/16-like grids), keep 25%.
//! `cargo bench -p infoprune --bench tokens [-- N]` (default N = 100000). Tokens are generated per
//! sample on demand (as a memory-mapped file would be read), so memory stays bounded.

use infoprune::backend_choice::{open_backend, BackendArg};
use infoprune_core::progress::Silent;
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector};
use ndarray::Array2;
use std::time::Instant;

#[path = "token_data.rs"]
mod token_data;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let (t, d) = (196, 64);
    let saliency = token_data::saliency(n, t);
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
            |i| {
                Ok(Array2::from_shape_fn((t, d), |(p, j)| {
                    token_data::token(i, p, j)
                }))
            },
            &Silent,
        )
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let object_kept: usize = (0..n)
        .map(|i| {
            (0..t)
                .filter(|&p| selection.mask[[i, p]] == 1 && token_data::is_object(i, p))
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
