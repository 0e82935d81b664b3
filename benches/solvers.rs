//! Criterion benchmarks of both backends: SpMV (with bytes/s), full solves, and the kNN graph.
//! Run with `cargo bench -p infoprune --bench solvers`; set `INFOPRUNE_BENCH_MAX_N` to stop early.
//!
//! SpMV and solves use random symmetric graphs with ~20 stored entries per row (m = 10 neighbours,
//! symmetrised), which is what a kNN graph of that size holds; building an exact kNN graph of 10^6
//! points is itself an O(n²d) job measured separately at 10^4.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infoprune::demo;
use infoprune_core::backend::conformance::random_problem;
use infoprune_core::backend::{Backend, CpuBackend, ProblemBatch};
use infoprune_core::knn::KnnConfig;
use infoprune_core::progress::Silent;
use infoprune_core::solver::{Algorithm, SolverParams};
use infoprune_wgpu::{AdapterChoice, GpuBackend};
use std::time::Duration;

fn backends() -> Vec<(String, Box<dyn Backend>, bool)> {
    let mut list: Vec<(String, Box<dyn Backend>, bool)> =
        vec![("cpu".into(), Box::new(CpuBackend), false)];
    match GpuBackend::new(&AdapterChoice::any()) {
        Ok(gpu) => {
            let software = gpu.context().is_software();
            list.push(("wgpu".into(), Box::new(gpu), software));
        }
        Err(e) => eprintln!("wgpu backend skipped: {e}"),
    }
    list
}

fn bench(c: &mut Criterion) {
    let max_n: usize = std::env::var("INFOPRUNE_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let backends = backends();
    for &n in [10_000usize, 100_000, 1_000_000]
        .iter()
        .filter(|&&n| n <= max_n)
    {
        let problem = random_problem(n, n / 10, 7);
        let graph = problem.graph().clone();
        let batch = ProblemBatch::new(vec![problem]);
        let x = vec![0.1f32; n];
        for (name, backend, software) in &backends {
            // A software rasteriser (lavapipe) shows correctness, not speed: keep it to small sizes.
            if *software && n > 10_000 {
                continue;
            }
            let mut group = c.benchmark_group(format!("spmv_{name}"));
            group.throughput(Throughput::Bytes((graph.nnz() * 12 + n * 12) as u64));
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| backend.spmv(&graph, &x).unwrap())
            });
            group.finish();

            let mut group = c.benchmark_group(format!("solve_{name}"));
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(10));
            for algorithm in [Algorithm::ProjectedGradient, Algorithm::Mirror] {
                let config = SolverParams::new(algorithm).check().unwrap();
                group.bench_function(BenchmarkId::new(format!("{algorithm:?}"), n), |b| {
                    b.iter(|| backend.solve(&batch, &config, &Silent).unwrap())
                });
            }
            group.finish();
        }
    }
    let data = demo::generate(10_000, 32, 50, 1);
    for (name, backend, _) in &backends {
        let mut group = c.benchmark_group(format!("knn_graph_d32_m10_{name}"));
        group.sample_size(10);
        group.bench_function(BenchmarkId::from_parameter(10_000), |b| {
            b.iter(|| {
                backend
                    .knn_graph(data.embeddings.view(), &KnnConfig::default(), &Silent)
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
