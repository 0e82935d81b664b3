//! `infoprune graph`: the kNN similarity `select` builds, saved as a SciPy `.npz`.

use crate::args::{at_least_one, check_outputs, knn_config, overwrite, SymmetrizeArg};
use crate::backend_choice::{open_backend, BackendArg};
use crate::dataset::Embeddings;
use crate::error::Result;
use crate::npy_map::MappedMatrix;
use crate::npz;
use crate::progress_bars::Bars;
use clap::Args;
use infoprune_core::ivf::{search_graph, ResolvedSearch};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::CoreError;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `infoprune graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Embeddings, float32 or float64 .npy of shape n×d (memory-mapped; NaN or inf is refused).
    #[arg(long, value_name = "E.npy")]
    pub embeddings: PathBuf,
    /// Neighbours kept per sample before symmetrising (m, at least 1).
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = at_least_one)]
    pub neighbors: usize,
    /// How the kNN lists are made symmetric.
    #[arg(long, value_enum, default_value = "max")]
    pub symmetrize: SymmetrizeArg,
    /// How the graph is searched (--knn, --nlist, --nprobe, --recall-sample).
    #[command(flatten)]
    pub knn_search: crate::args::KnnArgs,
    /// Seed of the IVF training sample and of the recall sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output: the similarity K as a SciPy sparse .npz (CSR, float32; `scipy.sparse.load_npz`).
    #[arg(long, value_name = "K.npz")]
    pub out: PathBuf,
    /// Compute backend for the kNN search (as for `select`).
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Output: a JSON report (n, nnz, m, the search and its recall, backend, GPU counters, seconds).
    #[arg(long, value_name = "report.json")]
    pub report: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// No progress bars and no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The JSON report `graph --report` writes.
#[derive(Debug, Clone, Serialize)]
pub struct GraphReport {
    /// infoprune's version.
    pub version: &'static str,
    /// Rows of the embeddings.
    pub n: usize,
    /// Stored entries of the symmetrised graph.
    pub nnz: usize,
    /// Neighbours kept per row before symmetrising.
    pub neighbors: usize,
    /// The search that ran (`exact` or `ivf`).
    pub knn: &'static str,
    /// IVF lists (`null` for the exact search).
    pub nlist: Option<usize>,
    /// Lists probed per row (`null` for the exact search).
    pub nprobe: Option<usize>,
    /// Recall@m against the exact search on the sampled rows (`null` unless `--recall-sample`).
    pub recall: Option<f64>,
    /// Rows the recall was measured on.
    pub recall_sample: Option<usize>,
    /// The backend that searched.
    pub backend: String,
    /// What the run did on the GPU (`null` on the CPU).
    pub gpu: Option<crate::report::GpuCounters>,
    /// Seconds from the start to the outputs staged.
    pub seconds: f64,
}

/// `infoprune graph`: exactly the graph `select` builds for one partition holding all n samples
/// (same embeddings reading, same backend choice, same kNN function), written as a `.npz`.
pub fn graph(args: &GraphArgs) -> Result<()> {
    let started = Instant::now();
    let mut outputs = vec![("out", args.out.as_path())];
    outputs.extend(args.report.as_deref().map(|r| ("report", r)));
    check_outputs(&outputs, args.force)?;
    let bars = Bars::new(args.quiet);
    let mapped = MappedMatrix::open(&args.embeddings)?;
    let n = mapped.nrows();
    if n == 0 {
        return Err(CoreError::Empty { what: "embeddings" }.into());
    }
    let (search, _) = args.knn_search.resolve(args.seed, n)?;
    Embeddings::Mapped(&mapped).check_finite()?;
    let all = mapped.whole()?;
    let backend = open_backend(args.backend, args.quiet)?;
    let config = knn_config(Some(args.neighbors), Some(args.symmetrize));
    let (graph, info) = search_graph(backend.as_ref(), all.view(), &config, &search, &bars)?;
    bars.start(Stage::Write, 1);
    let mut staged = vec![crate::outputs::stage(
        &args.out,
        &npz::csr_to_npz_bytes(&args.out, &graph)?,
    )?];
    if let Some(path) = &args.report {
        let (search_name, nlist, nprobe) = match info.search {
            ResolvedSearch::Exact => ("exact", None, None),
            ResolvedSearch::Ivf(s) => ("ivf", Some(s.nlist), Some(s.nprobe)),
        };
        let report = GraphReport {
            version: env!("CARGO_PKG_VERSION"),
            n,
            nnz: graph.nnz(),
            neighbors: config.neighbors,
            knn: search_name,
            nlist,
            nprobe,
            recall: info.recall.map(|r| r.recall),
            recall_sample: info.recall.map(|r| r.sampled),
            backend: backend.name(),
            gpu: backend.counters().map(Into::into),
            seconds: started.elapsed().as_secs_f64(),
        };
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        staged.push(crate::outputs::stage(path, json.as_bytes())?);
    }
    crate::outputs::commit(staged, overwrite(args.force))?;
    bars.finish(Stage::Write);
    if !args.quiet {
        let search = match info.search {
            ResolvedSearch::Exact => "exact search".to_string(),
            ResolvedSearch::Ivf(s) => format!(
                "ivf search (nlist {}, nprobe {}{})",
                s.nlist,
                s.nprobe,
                info.recall.map_or(String::new(), |r| format!(
                    ", recall@{} {:.4} on {} samples",
                    config.neighbors, r.recall, r.sampled
                ))
            ),
        };
        crate::errln!(
            "graph: n = {n}, nnz = {}, m = {}, {search}, {} backend, {:.2} s → {}",
            graph.nnz(),
            config.neighbors,
            backend.name(),
            started.elapsed().as_secs_f64(),
            args.out.display()
        )?;
    }
    Ok(())
}
