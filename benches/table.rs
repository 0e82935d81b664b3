//! Prints a table of the CPU reference's stage times and solution quality on the demo data.
//! Run with `cargo bench -p infoprune --bench table` (add `-- 10000 100000` to choose sizes).

use infoprune::demo;
use infoprune_core::backend::conformance::random_problem;
use infoprune_core::backend::{Backend, CpuBackend, ProblemBatch};
use infoprune_core::progress::Silent;
use infoprune_core::select::{SelectConfig, Selector};
use infoprune_core::solver::{Algorithm, SolverParams};
use infoprune_wgpu::{AdapterChoice, GpuBackend};
use std::time::Instant;

/// SpMV and relaxed solves on each backend, on random graphs with ~20 entries per row.
fn backend_table(sizes: &[usize]) {
    let mut backends: Vec<(String, Box<dyn Backend>, bool)> =
        vec![(CpuBackend.name(), Box::new(CpuBackend), false)];
    match GpuBackend::new(&AdapterChoice::any()) {
        Ok(gpu) => {
            let software = gpu.context().is_software();
            backends.push((gpu.name(), Box::new(gpu), software));
        }
        Err(e) => println!("(wgpu backend skipped: {e})"),
    }
    println!(
        "\n| backend | n | spmv ms | GB/s | PG solve s | mirror solve s | iterations | f(S) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in sizes {
        let problem = random_problem(n, n / 10, 7);
        let graph = problem.graph().clone();
        let batch = ProblemBatch::new(vec![problem]);
        let x = vec![0.1f32; n];
        for (name, backend, software) in &backends {
            if *software && n > 100_000 {
                continue;
            }
            backend.spmv(&graph, &x).unwrap();
            let reps = 20;
            let start = Instant::now();
            for _ in 0..reps {
                backend.spmv(&graph, &x).unwrap();
            }
            let spmv = start.elapsed().as_secs_f64() / reps as f64;
            let gbs = (graph.nnz() * 12 + n * 12) as f64 / spmv / 1e9;
            let mut solve = Vec::new();
            for algorithm in [Algorithm::ProjectedGradient, Algorithm::Mirror] {
                let config = SolverParams::new(algorithm).check().unwrap();
                let start = Instant::now();
                let r = backend.solve(&batch, &config, &Silent).unwrap().remove(0);
                solve.push((start.elapsed().as_secs_f64(), r));
            }
            println!(
                "| {name} | {n} | {:.3} | {gbs:.2} | {:.3} | {:.3} | {} | {:.3} |",
                spmv * 1e3,
                solve[0].0,
                solve[1].0,
                solve[0].1.iterations,
                solve[0].1.objective
            );
        }
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "threads: {}, d = 32, m = 10, keep 10%, demo data (clustered, 5% duplicates, 1% outliers)\n",
        rayon::current_num_threads()
    );
    println!(
        "| n | stage | seconds | f(S) | iterations | notes |\n| ---: | --- | ---: | ---: | ---: | --- |"
    );
    for &n in &sizes {
        let data = demo::generate(n, 32, 50, 1);
        let selector = Selector::new(SelectConfig::new(n / 10)).unwrap();
        let start = Instant::now();
        let prepared = selector
            .prepare(data.embeddings.view(), Some(&data.scores), None, &Silent)
            .unwrap();
        let graph_s = start.elapsed().as_secs_f64();
        println!(
            "| {n} | knn graph + importance | {graph_s:.3} | | | nnz = {} |",
            prepared.graph.nnz()
        );
        let problem = prepared.problem().unwrap();

        let graph = &prepared.graph;
        let x = vec![0.1f32; n];
        let mut y = vec![0.0f32; n];
        let reps = 200;
        let start = Instant::now();
        for _ in 0..reps {
            graph.spmv(&x, &mut y);
        }
        let per = start.elapsed().as_secs_f64() / reps as f64;
        let bytes = (graph.nnz() * 12 + n * 12) as f64;
        println!(
            "| {n} | spmv | {per:.6} | | | {:.2} GB/s effective |",
            bytes / per / 1e9
        );

        for algorithm in [
            Algorithm::ProjectedGradient,
            Algorithm::Mirror,
            Algorithm::LazyGreedy,
        ] {
            let config = SolverParams::new(algorithm).check().unwrap();
            let start = Instant::now();
            let result = config.solve(&problem, &Silent);
            let s = start.elapsed().as_secs_f64();
            println!(
                "| {n} | solve {algorithm:?} | {s:.3} | {:.3} | {} | rounded {:.3}, {} swaps, duplicate pairs kept {} |",
                result.objective,
                result.iterations,
                result.rounded_objective,
                result.swaps,
                data.duplicates_kept(&result.indices)
            );
        }
    }
    backend_table(&[10_000, 100_000, 1_000_000]);
}
