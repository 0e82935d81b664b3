//! Criterion benchmarks of the CPU reference: SpMV, the kNN graph and full solves.
//! Run with `cargo bench -p infoprune --bench solvers`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infoprune::demo;
use infoprune_core::knn::{knn_graph, KnnConfig};
use infoprune_core::progress::Silent;
use infoprune_core::select::{SelectConfig, Selector};
use infoprune_core::solver::{Algorithm, SolverParams};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for &n in &[10_000usize, 100_000] {
        let data = demo::generate(n, 32, 50, 1);
        let selector = Selector::new(SelectConfig::new(n / 10)).unwrap();
        let prepared = selector
            .prepare(data.embeddings.view(), Some(&data.scores), None, &Silent)
            .unwrap();
        let problem = prepared.problem().unwrap();
        let graph = &prepared.graph;

        let mut group = c.benchmark_group("spmv");
        // Bytes touched per product: values + indices + gathered x + row pointers + y.
        let bytes = graph.nnz() * (4 + 4 + 4) + n * (8 + 4);
        group.throughput(Throughput::Bytes(bytes as u64));
        let x = vec![0.1f32; n];
        let mut y = vec![0.0f32; n];
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| graph.spmv(&x, &mut y))
        });
        group.finish();

        let mut group = c.benchmark_group("solve");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(10));
        for algorithm in [
            Algorithm::ProjectedGradient,
            Algorithm::Mirror,
            Algorithm::LazyGreedy,
        ] {
            let config = SolverParams::new(algorithm).check().unwrap();
            group.bench_function(BenchmarkId::new(format!("{algorithm:?}"), n), |b| {
                b.iter(|| config.solve(&problem, &Silent))
            });
        }
        group.finish();

        if n <= 10_000 {
            let mut group = c.benchmark_group("knn_graph_d32_m10");
            group.sample_size(10);
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| knn_graph(data.embeddings.view(), &KnnConfig::default(), &Silent))
            });
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
