//! `infoprune demo`: the whole pipeline on built-in synthetic data ([`crate::demo`]), every method
//! compared on one shared kNN graph.

use crate::args::resolve_budget;
use crate::backend_choice::{open_backend, BackendArg};
use crate::demo;
use crate::error::{Error, Result};
use crate::progress_bars::Bars;
use clap::Args;
use infoprune_core::fraction::Fraction;
use infoprune_core::knn::KnnConfig;
use infoprune_core::memory::{self, human_bytes};
use infoprune_core::select::{Extras, SelectConfig, Selector};
use infoprune_core::{Method, RelaxedSolver};
use std::time::Instant;

/// Arguments of `infoprune demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Samples to generate.
    #[arg(long, default_value_t = 20_000, allow_negative_numbers = true)]
    pub n: usize,
    /// Embedding dimension.
    #[arg(long, default_value_t = 32, allow_negative_numbers = true)]
    pub dim: usize,
    /// Gaussian clusters (at most --n).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true)]
    pub clusters: usize,
    /// Fraction to keep.
    #[arg(long, default_value = "0.1", allow_negative_numbers = true)]
    pub keep: Fraction,
    /// Seed of the data and of the random baseline.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,
    /// Refuse to run if the estimated peak memory exceeds this, e.g. `4G` [default: the
    /// machine's memory].
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub max_memory: Option<String>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One row of the demo's comparison table.
#[derive(Debug, Clone)]
pub struct DemoRow {
    /// Method (and solver) name.
    pub name: String,
    /// `f(S)`.
    pub objective: f64,
    /// Duplicate pairs of which both copies were kept.
    pub duplicates_kept: usize,
    /// Outliers kept.
    pub outliers_kept: usize,
    /// Seconds of the method itself (the shared graph excluded).
    pub seconds: f64,
}

/// Runs every method on the demo data and returns the table rows (graph seconds first).
pub fn demo_rows(
    args: &DemoArgs,
    bars: &Bars,
) -> Result<(demo::DemoData, f64, Vec<DemoRow>, String)> {
    if args.n < 100 {
        return Err(Error::Usage(format!(
            "--n must be at least 100, found {}",
            args.n
        )));
    }
    if args.dim == 0 || args.clusters == 0 {
        return Err(Error::Usage(
            "--dim and --clusters must be at least 1".into(),
        ));
    }
    if args.clusters > args.n {
        return Err(Error::Usage(format!(
            "--clusters must be at most --n = {}, found {}",
            args.n, args.clusters
        )));
    }
    let k = resolve_budget(Some(&args.keep), None, args.n)?;
    check_demo_memory(args)?;
    let data = demo::generate(args.n, args.dim, args.clusters, args.seed);
    let selector = Selector::with_backend(
        SelectConfig::new(k).seed(args.seed),
        open_backend(args.backend, args.quiet)?,
    )?;
    let start = Instant::now();
    let prepared = selector.prepare(data.embeddings.view(), Some(&data.scores), None, bars)?;
    let graph_seconds = start.elapsed().as_secs_f64();
    let runs = [
        (
            "infomax (pg)",
            Method::InfoMax,
            RelaxedSolver::ProjectedGradient,
        ),
        ("infomax (mirror)", Method::InfoMax, RelaxedSolver::Mirror),
        ("greedy", Method::Greedy, RelaxedSolver::default()),
        ("topk", Method::TopK, RelaxedSolver::default()),
        ("random", Method::Random, RelaxedSolver::default()),
        ("sims", Method::Sims, RelaxedSolver::default()),
        ("d2", Method::D2, RelaxedSolver::default()),
        ("ccs", Method::Ccs, RelaxedSolver::default()),
        ("moderate", Method::Moderate, RelaxedSolver::default()),
    ];
    let extras = Extras {
        labels: Some(&data.labels),
        aum: None,
        embeddings: Some(data.embeddings.view()),
    };
    let mut rows = Vec::new();
    for (name, method, solver) in runs {
        let config = selector.config().clone().solver(solver);
        let start = Instant::now();
        let sel = prepared.select_with(&config, method, extras, bars)?;
        rows.push(DemoRow {
            name: name.to_string(),
            objective: sel.objective,
            duplicates_kept: data.duplicates_kept(&sel.indices),
            outliers_kept: data.outliers_kept(&sel.indices),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let backend = selector.backend().name();
    Ok((data, graph_seconds, rows, backend))
}

/// Refuses a demo whose data would not fit: the same estimate as `select --max-memory` (f32
/// embeddings, the kNN graph, the solver), against `--max-memory` or else the machine's memory.
fn check_demo_memory(args: &DemoArgs) -> Result<()> {
    let threads = rayon::current_num_threads() as u64;
    let estimate = memory::estimate(
        args.n as u64,
        args.dim as u64,
        4,
        KnnConfig::default().neighbors as u64,
        threads,
    );
    // The cluster centres (clusters × dim) come on top.
    let peak = estimate.peak.saturating_add(
        (args.clusters as u64)
            .saturating_mul(args.dim as u64)
            .saturating_mul(4),
    );
    let (limit, source) = match &args.max_memory {
        Some(text) => (
            memory::parse_bytes(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--max-memory must be a size such as 512M or 4G, found '{text}'"
                ))
            })?,
            "--max-memory",
        ),
        None => match physical_memory() {
            Some(bytes) => (bytes, "this machine's memory"),
            None => (u64::MAX, "this machine's memory"),
        },
    };
    if peak > limit {
        return Err(Error::Usage(format!(
            "--n {} --dim {} --clusters {}: estimated peak memory {} exceeds {source} {}",
            args.n,
            args.dim,
            args.clusters,
            human_bytes(peak),
            human_bytes(limit)
        )));
    }
    Ok(())
}

/// The machine's memory in bytes (`MemTotal` of `/proc/meminfo`), where the system says. Read
/// by hand: one line of one file does not warrant a system-information crate and its build.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// `infoprune demo`.
pub fn demo(args: &DemoArgs) -> Result<()> {
    let bars = Bars::new(args.quiet);
    let (data, graph_seconds, rows, backend) = demo_rows(args, &bars)?;
    let k = resolve_budget(Some(&args.keep), None, args.n)?;
    crate::outln!(
        "infoprune demo: n = {}, d = {}, {} clusters, {} planted duplicate pairs, {} outliers; keep k = {} ({:.0}%)",
        args.n,
        args.dim,
        args.clusters,
        data.duplicate_pairs.len(),
        data.outliers.len(),
        k,
        100.0 * args.keep.value()
    )?;
    crate::outln!("backend: {backend}")?;
    crate::outln!("shared kNN graph (m = 10) and importance: {graph_seconds:.3} s\n")?;
    crate::outln!(
        "{:<18} {:>14} {:>16} {:>14} {:>10}",
        "method",
        "f(S)",
        "duplicates kept",
        "outliers kept",
        "seconds"
    )?;
    for r in &rows {
        crate::outln!(
            "{:<18} {:>14.4} {:>16} {:>14} {:>10.3}",
            r.name,
            r.objective,
            r.duplicates_kept,
            r.outliers_kept,
            r.seconds
        )?;
    }
    crate::outln!(
        "\nf(S) = Σ s_i − α Σ K_ij over the kept set (higher is better); duplicates kept counts pairs with both copies kept."
    )?;
    Ok(())
}
