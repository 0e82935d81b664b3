//! The dense similarity operator the relaxed solvers multiply by (`solver::operator`): `y = K x` on
//! small, full graphs, and a whole token-sized PG solve, where those products are most of the time.
//!
//! `cargo bench -p infoprune-core --bench operator`. With `INFOPRUNE_OPERATOR_CALLS=N` it skips
//! criterion and applies each operator `N` times, for instruction counts under callgrind:
//! `valgrind --tool=callgrind --toggle-collect='*SimilarityOperator*apply*' <bench binary>`.

use criterion::{criterion_group, BenchmarkId, Criterion};
use infoprune_core::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
use infoprune_core::problem::Problem;
use infoprune_core::progress::Silent;
use infoprune_core::solver::operator::SimilarityOperator;
use infoprune_core::solver::SolverConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 196 rows: a 14 × 14 ViT token grid (the token problems); 1100: above the parallel threshold;
/// 2048: the largest dense operator.
const SIZES: [usize; 3] = [196, 1100, 2048];

/// A symmetric graph with about `fill · n²` entries in `(0, 1)`.
fn graph(n: usize, fill: f64, seed: u64) -> CsrSimilarity {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut triplets = Vec::new();
    for i in 0..n as u32 {
        for j in i + 1..n as u32 {
            if rng.random::<f64>() < fill {
                let v = rng.random_range(0.01f32..1.0);
                triplets.push((i, j, v));
                triplets.push((j, i, v));
            }
        }
    }
    CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Max, SymmetryCheck::Require)
        .expect("a valid graph")
}

fn input(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 37) % 101) as f32 / 101.0).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dense_apply");
    for n in SIZES {
        let g = graph(n, 0.8, n as u64);
        let op = SimilarityOperator::for_graph(&g);
        assert!(op.is_dense());
        let x = input(n);
        let mut y = vec![0.0f32; n];
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| op.apply(&x, &mut y))
        });
    }
    group.finish();

    // One token problem: 196 rows, 80% full, keep 49, SPEC defaults (30 power steps, 100 PG steps).
    let g = graph(196, 0.8, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let scores: Vec<f32> = (0..196).map(|_| rng.random::<f32>()).collect();
    let problem = Problem::new(&scores, &g, 49, 0.05).unwrap();
    let config = SolverConfig::default();
    c.bench_function("token_solve_196", |b| {
        b.iter(|| config.solve(&problem, &Silent))
    });
}

fn calls(n_calls: usize) {
    for n in SIZES {
        let g = graph(n, 0.8, n as u64);
        let op = SimilarityOperator::for_graph(&g);
        let x = input(n);
        let mut y = vec![0.0f32; n];
        for _ in 0..n_calls {
            op.apply(&x, &mut y);
        }
        println!(
            "n = {n}: y[0] = {:08x} after {n_calls} calls",
            y[0].to_bits()
        );
    }
}

fn main() {
    if let Some(n) = std::env::var("INFOPRUNE_OPERATOR_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        calls(n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

// `main` above stands in for `criterion_main!`, to leave room for the callgrind mode.
criterion_group!(benches, bench);
