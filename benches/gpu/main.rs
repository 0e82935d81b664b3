//! Every figure of the GPU backend beside the CPU's, measured in the same run, as one Markdown
//! table. Run through `bash benches/gpu/run.sh [--quick]` (which builds this binary); directly:
//! `cargo bench -p infoprune --bench gpu -- [--quick]`.
//!
//! Without `--quick` a hardware adapter is required (lavapipe's figures say nothing about a GPU)
//! and the sizes are the targets' own: copy bandwidth, SpMV at 10^6 rows, the 10^6-row solve, 10^5
//! × 196 × 64 tokens, exact kNN of 10^6 × 64 (the CPU's exact kNN extrapolated from 10^5 rows, since
//! it is quadratic and would take longer than the whole budget) and the 10^6 pipeline. `--quick` runs
//! the same code at small sizes on any adapter, lavapipe included, so CI checks that it works.

use infoprune::backend_choice::{open_backend, BackendArg};
use infoprune::demo;
use infoprune::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use infoprune_core::backend::conformance::{random_graph, random_problem};
use infoprune_core::backend::{Backend, CpuBackend, ProblemBatch};
use infoprune_core::ivf::IvfParams;
use infoprune_core::knn::KnnConfig;
use infoprune_core::progress::Silent;
use infoprune_core::solver::{SolverConfig, SolverParams};
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector};
use infoprune_wgpu::backend::Stepping;
use infoprune_wgpu::{throughput, AdapterChoice, GpuBackend};
use ndarray::Array2;
use std::sync::Arc;
use std::time::Instant;

#[path = "../token_data.rs"]
mod token_data;

/// The sizes of one run.
struct Sizes {
    copy_bytes: u64,
    spmv_rows: usize,
    solve_rows: usize,
    token_samples: usize,
    /// Problems of 196 rows whose relaxed ascent runs fused and with the batch kernels.
    small_problems: usize,
    knn_rows: usize,
    /// Rows the CPU's exact kNN runs on; its time is scaled by (knn_rows / cpu_knn_rows)².
    cpu_knn_rows: usize,
    /// Rows of the IVF kNN graph (default nlist and nprobe), searched on both sides.
    ivf_rows: usize,
    pipeline_rows: usize,
}

const FULL: Sizes = Sizes {
    copy_bytes: 1 << 30,
    spmv_rows: 1_000_000,
    solve_rows: 1_000_000,
    token_samples: 100_000,
    small_problems: 10_000,
    knn_rows: 1_000_000,
    cpu_knn_rows: 100_000,
    ivf_rows: 1_000_000,
    pipeline_rows: 1_000_000,
};

/// Small enough for lavapipe in CI (about a minute), large enough that every kernel runs with
/// several workgroups, candidate blocks and reduction chunks.
const QUICK: Sizes = Sizes {
    copy_bytes: 16 << 20,
    spmv_rows: 100_000,
    solve_rows: 10_000,
    token_samples: 100,
    small_problems: 200,
    knn_rows: 3_000,
    cpu_knn_rows: 3_000,
    ivf_rows: 20_000,
    pipeline_rows: 5_000,
};

/// Wall seconds of `f`, and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

/// One table row.
struct Row {
    figure: String,
    size: String,
    gpu: String,
    cpu: String,
    speedup: String,
    target: &'static str,
}

fn seconds_row(figure: &str, size: String, gpu: f64, cpu: f64, target: &'static str) -> Row {
    Row {
        figure: figure.into(),
        size,
        gpu: format!("{gpu:.3} s"),
        cpu: format!("{cpu:.3} s"),
        speedup: format!("{:.1}×", cpu / gpu),
        target,
    }
}

fn tokens_seconds(backend: Arc<dyn Backend>, n: usize) -> f64 {
    let (t, d) = (196, 64);
    let saliency = token_data::saliency(n, t);
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.grid = Some(GridPrior {
        height: 14,
        width: 14,
        weight: 0.1,
    });
    let selector = TokenSelector::with_backend(config, backend).expect("valid token config");
    timed(|| {
        selector
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
            .expect("token selection runs")
    })
    .0
}

fn pipeline_seconds(backend: Arc<dyn Backend>, data: &demo::DemoData) -> f64 {
    let n = data.embeddings.nrows();
    timed(|| {
        Pruner::new(PrunerConfig::new(n / 10))
            .backend(backend)
            .run(
                Embeddings::View(data.embeddings.view()),
                SampleInputs {
                    scores: Some(&data.scores),
                    ..SampleInputs::default()
                },
                &Silent,
            )
            .expect("the pipeline runs")
    })
    .0
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick { QUICK } else { FULL };
    let choice = if quick {
        AdapterChoice::any()
    } else {
        AdapterChoice::hardware()
    };
    let gpu = match GpuBackend::new(&choice) {
        Ok(gpu) => Arc::new(gpu),
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "(without a hardware GPU, `--quick` runs the same at small sizes on any adapter)"
            );
            std::process::exit(2);
        }
    };
    let gpu_dyn: Arc<dyn Backend> = gpu.clone();
    let cpu: Arc<dyn Backend> = open_backend(BackendArg::Cpu, true).expect("the CPU backend");
    let threads = rayon::current_num_threads();
    println!("GPU: {}", gpu.name());
    println!(
        "CPU: {threads} threads{}\n",
        if quick { "; --quick sizes" } else { "" }
    );
    let mut rows = Vec::new();
    let target = |t: &'static str| if quick { "–" } else { t };

    // Copy bandwidth: the yardstick of memory-bound kernels.
    let copy = throughput::copy_bandwidth(gpu.context(), sizes.copy_bytes, 20).expect("copy runs");
    rows.push(Row {
        figure: "copy bandwidth (read + write)".into(),
        size: format!("{} MiB", sizes.copy_bytes >> 20),
        gpu: format!("{:.0} GB/s", copy / 1e9),
        cpu: "–".into(),
        speedup: "–".into(),
        target: "reference",
    });

    // SpMV: bytes that must move at least once per product.
    let graph = random_graph(sizes.spmv_rows, 5, 1);
    let (n, nnz) = (graph.n() as f64, graph.nnz() as f64);
    let bytes = 4.0 * (n + 1.0) + 12.0 * nnz + 4.0 * n;
    let gpu_spmv = gpu.spmv_seconds(&graph, 50).expect("spmv runs");
    let x = vec![1.0f32; graph.n()];
    let reps = 20;
    let (cpu_total, _) = timed(|| {
        for _ in 0..reps {
            std::hint::black_box(CpuBackend.spmv(&graph, &x).expect("cpu spmv"));
        }
    });
    let cpu_spmv = cpu_total / reps as f64;
    rows.push(Row {
        figure: "SpMV (indptr + indices + values + x gathers + y)".into(),
        size: format!("n = {}, nnz = {}", graph.n(), graph.nnz()),
        gpu: format!(
            "{:.0} GB/s ({:.0}% of copy)",
            bytes / gpu_spmv / 1e9,
            100.0 * bytes / gpu_spmv / copy
        ),
        cpu: format!("{:.1} GB/s", bytes / cpu_spmv / 1e9),
        speedup: format!("{:.1}×", cpu_spmv / gpu_spmv),
        target: target("≥ 50% of copy"),
    });

    // The one-problem solve: PG, 100 iterations, then swap refinement.
    let batch = ProblemBatch::new(vec![random_problem(
        sizes.solve_rows,
        sizes.solve_rows / 10,
        2,
    )]);
    let config = SolverConfig::default();
    let (gpu_solve, g) = timed(|| gpu.solve(&batch, &config, &Silent).expect("gpu solve"));
    let (cpu_solve, c) = timed(|| cpu.solve(&batch, &config, &Silent).expect("cpu solve"));
    println!(
        "solve: f(S) GPU {:.4} vs CPU {:.4} ({} vs {} iterations)",
        g[0].objective, c[0].objective, g[0].iterations, c[0].iterations
    );
    rows.push(seconds_row(
        "one-problem solve (PG 100 iterations + swaps)",
        format!("n = {}, k = 10%", sizes.solve_rows),
        gpu_solve,
        cpu_solve,
        target("≤ 0.3 s"),
    ));

    // Token selection.
    let gpu_tokens = tokens_seconds(gpu_dyn.clone(), sizes.token_samples);
    let cpu_tokens = tokens_seconds(cpu.clone(), sizes.token_samples);
    rows.push(seconds_row(
        "token selection (keep 25%)",
        format!("{} × 196 × 64", sizes.token_samples),
        gpu_tokens,
        cpu_tokens,
        target("≤ 3 s"),
    ));

    // Small problems: the fused one-workgroup-per-problem ascent against the batch kernels on
    // the same batch (what `solve` ran for such batches before the fused kernel), and the CPU.
    let batch = ProblemBatch::new(
        (0..sizes.small_problems as u64)
            .map(|seed| random_problem(196, 49, 100 + seed))
            .collect(),
    );
    let relaxed_only = SolverParams {
        swap_rounds: 0,
        ..SolverParams::default()
    }
    .check()
    .expect("valid config");
    let ascent = |stepping| {
        timed(|| {
            gpu.relaxed(&batch, &config, stepping)
                .expect("gpu relaxed ascent")
        })
        .0
    };
    let (fused, batch_kernels) = (ascent(Stepping::Fused), ascent(Stepping::Device));
    let (cpu_small, _) = timed(|| {
        cpu.solve(&batch, &relaxed_only, &Silent)
            .expect("cpu solve")
    });
    let mut row = seconds_row(
        "small problems, relaxed ascent: fused (batch kernels)",
        format!("{} × 196, k = 25%", sizes.small_problems),
        fused,
        cpu_small,
        target("–"),
    );
    row.gpu = format!(
        "{fused:.3} s ({batch_kernels:.3} s: fused {:.1}× faster)",
        batch_kernels / fused
    );
    rows.push(row);
    drop(batch);

    // Exact kNN graph.
    let data = demo::generate(sizes.knn_rows, 64, 200, 3);
    let knn = KnnConfig::default();
    let (gpu_knn, _) = timed(|| {
        gpu.knn_graph(data.embeddings.view(), &knn, &Silent)
            .expect("gpu knn")
    });
    let sample = data
        .embeddings
        .slice(ndarray::s![..sizes.cpu_knn_rows, ..])
        .to_owned();
    let (cpu_sample, _) = timed(|| {
        cpu.knn_graph(sample.view(), &knn, &Silent)
            .expect("cpu knn")
    });
    let scale = (sizes.knn_rows as f64 / sizes.cpu_knn_rows as f64).powi(2);
    let mut row = seconds_row(
        "exact kNN graph (m = 10)",
        format!("{} × 64", sizes.knn_rows),
        gpu_knn,
        cpu_sample * scale,
        target("≤ 10 s"),
    );
    if scale > 1.0 {
        row.cpu = format!(
            "{:.1} s (extrapolated: {:.2} s at {} rows × {scale:.0})",
            cpu_sample * scale,
            cpu_sample,
            sizes.cpu_knn_rows
        );
    }
    rows.push(row);
    drop(data);

    // IVF kNN graph: the index on the CPU either way, the search on the device or the CPU.
    let data = demo::generate(sizes.ivf_rows, 64, 200, 5);
    let settings = IvfParams::default()
        .resolve(sizes.ivf_rows)
        .expect("default IVF settings fit");
    let (gpu_ivf, (g, _)) = timed(|| {
        gpu.ivf_knn_graph(data.embeddings.view(), &knn, &settings, &Silent)
            .expect("gpu ivf")
    });
    let (cpu_ivf, (c, _)) = timed(|| {
        cpu.ivf_knn_graph(data.embeddings.view(), &knn, &settings, &Silent)
            .expect("cpu ivf")
    });
    println!(
        "ivf: nnz GPU {} vs CPU {} (nlist {}, nprobe {})",
        g.nnz(),
        c.nnz(),
        settings.nlist,
        settings.nprobe
    );
    rows.push(seconds_row(
        "IVF kNN graph (m = 10, default nlist/nprobe; index on the CPU)",
        format!("{} × 64", sizes.ivf_rows),
        gpu_ivf,
        cpu_ivf,
        target("–"),
    ));
    drop(data);

    // The whole pipeline on the demo's data (default partitions, keep 10%).
    let data = demo::generate(sizes.pipeline_rows, 64, 200, 4);
    let gpu_pipeline = pipeline_seconds(gpu_dyn.clone(), &data);
    let cpu_pipeline = pipeline_seconds(cpu.clone(), &data);
    rows.push(seconds_row(
        "pipeline: select --keep 0.1 (defaults)",
        format!("{} × 64", sizes.pipeline_rows),
        gpu_pipeline,
        cpu_pipeline,
        target("≤ 10 s"),
    ));

    println!("\n| figure | size | GPU | CPU | GPU speed-up | target (H100/H200) |");
    println!("| --- | --- | ---: | ---: | ---: | --- |");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.figure, r.size, r.gpu, r.cpu, r.speedup, r.target
        );
    }
    let c = gpu.counters().expect("a GPU backend counts");
    println!(
        "\nGPU traffic of the whole run: {} submissions, {} dispatches, {} read-backs, {:.1} MB up, {:.1} MB back",
        c.submissions,
        c.dispatches,
        c.readbacks,
        c.bytes_uploaded as f64 / 1e6,
        c.bytes_read_back as f64 / 1e6
    );
}
