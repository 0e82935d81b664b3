//! `infoprune graph` (the kNN similarity `select` builds, saved as a SciPy `.npz`) and
//! `infoprune evaluate` (any subset scored under the InfoMax objective on a given similarity).

use crate::backend_choice::{open_backend, BackendArg};
use crate::cli::{at_least_one, check_outputs, knn_config, overwrite, SymmetrizeArg};
use crate::error::{Error, Result};
use crate::npy;
use crate::npy_map::MappedMatrix;
use crate::npz;
use crate::pipeline::Embeddings;
use crate::progress_bars::Bars;
use clap::Args;
use infoprune_core::csr::CsrSimilarity;
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
    pub knn_search: crate::knn_args::KnnArgs,
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

/// Arguments of `infoprune evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The similarity K, a SciPy sparse .npz (n×n, symmetric, non-negative, zero diagonal).
    #[arg(long, value_name = "K.npz")]
    pub graph: PathBuf,
    /// The importance s, float32/float64 .npy of length n, used as given (no normalisation; read
    /// as float32, as `select` reads it).
    #[arg(long, value_name = "s.npy")]
    pub scores: PathBuf,
    /// The pairwise weight α.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: f64,
    /// The subset S: an integer .npy of distinct row indices in 0..n (e.g. `select --out`).
    #[arg(long, value_name = "keep.npy")]
    pub subset: PathBuf,
    /// Facility location: the similarity K_ii of a selected sample to itself.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub fl_self_similarity: f64,
    /// Print JSON (n, k, alpha, objective, linear, pairwise, facility_location,
    /// fl_self_similarity) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The scores of one subset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Samples (rows of K).
    pub n: usize,
    /// Size of the subset.
    pub k: usize,
    /// The pairwise weight α.
    pub alpha: f64,
    /// `f(S) = Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij`, summed in f64 as `select` does.
    pub objective: f64,
    /// `Σ_{i∈S} s_i`.
    pub linear: f64,
    /// `Σ_{i,j∈S} K_ij` over ordered pairs (each unordered pair counts twice, K being symmetric).
    pub pairwise: f64,
    /// `FL(S) = Σ_{i=1..n} max_{j∈S} K_ij` with `K_ii = fl_self_similarity` for `i ∈ S`, and 0 for a
    /// sample with no stored similarity to any member of S.
    pub facility_location: f64,
    /// The self-similarity used in `facility_location`.
    pub fl_self_similarity: f64,
}

/// Scores `subset` (distinct indices in `0..n`) under the objective with importance `scores` and
/// weight `alpha`, and under facility location with self-similarity `fl_self_similarity`.
///
/// # Errors
/// [`Error::Usage`] if the lengths disagree, an index is out of range or repeated, or `alpha` or
/// `fl_self_similarity` is not finite; [`CoreError::NonFinite`] for a NaN or infinite score.
pub fn evaluate_subset(
    graph: &CsrSimilarity,
    scores: &[f32],
    alpha: f64,
    subset: &[i64],
    fl_self_similarity: f64,
) -> Result<Evaluation> {
    let n = graph.n();
    if scores.len() != n {
        return Err(Error::Usage(format!(
            "the scores have {} values but the graph has n = {n} rows",
            scores.len()
        )));
    }
    infoprune_core::error::check_finite("scores", scores)?;
    for (name, v) in [("alpha", alpha), ("fl-self-similarity", fl_self_similarity)] {
        if !v.is_finite() {
            return Err(Error::Usage(format!("--{name} must be finite, found {v}")));
        }
    }
    let mut position: Vec<Option<usize>> = vec![None; n];
    for (p, &i) in subset.iter().enumerate() {
        let slot = usize::try_from(i)
            .ok()
            .and_then(|i| position.get_mut(i))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "subset entry {p} is {i}: expected a row index in 0..{n}"
                ))
            })?;
        if let Some(first) = slot.replace(p) {
            return Err(Error::Usage(format!(
                "subset lists index {i} twice (entries {first} and {p}): expected distinct indices"
            )));
        }
    }
    let member: Vec<bool> = position.iter().map(Option::is_some).collect();
    let k = member.iter().filter(|&&m| m).count();
    let (linear, pairwise) = infoprune_core::objective::objective_terms(graph, scores, &member);
    let facility_location: f64 = (0..n)
        .map(|i| {
            let (cols, vals) = graph.row(i);
            let own = if member[i] { fl_self_similarity } else { 0.0 };
            cols.iter()
                .zip(vals)
                .filter(|(&j, _)| member[j as usize])
                .fold(own, |best, (_, &v)| best.max(v as f64))
        })
        .sum();
    // An empty f64 sum is −0.0; `+ 0.0` prints it as 0.
    let (linear, pairwise, facility_location) =
        (linear + 0.0, pairwise + 0.0, facility_location + 0.0);
    Ok(Evaluation {
        n,
        k,
        alpha,
        objective: linear - alpha * pairwise,
        linear,
        pairwise,
        facility_location,
        fl_self_similarity,
    })
}

/// `infoprune evaluate`: prints `f(S)` and `FL(S)` of a subset on stdout.
pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let graph = npz::read_csr(&args.graph)?;
    let scores = npy::read_f32_vector(&args.scores)?;
    if scores.len() != graph.n() {
        return Err(Error::Usage(format!(
            "scores {} has {} values but the graph {} has n = {} rows",
            args.scores.display(),
            scores.len(),
            args.graph.display(),
            graph.n()
        )));
    }
    let subset = npy::read_i64_vector(&args.subset)?;
    let e = evaluate_subset(
        &graph,
        &scores,
        args.alpha,
        &subset,
        args.fl_self_similarity,
    )
    .map_err(|err| match err {
        Error::Usage(msg) if msg.starts_with("subset") => {
            Error::Usage(format!("{}: {msg}", args.subset.display()))
        }
        other => other,
    })?;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&e).expect("an evaluation always serialises")
        )?;
    } else {
        crate::outln!(
            "f(S) = {} (Σ s_i = {}, Σ_ij K_ij = {}, α = {})",
            e.objective,
            e.linear,
            e.pairwise,
            e.alpha
        )?;
        crate::outln!(
            "FL(S) = {} (K_ii = {} for selected i)",
            e.facility_location,
            e.fl_self_similarity
        )?;
        crate::outln!("n = {}, k = {}", e.n, e.k)?;
    }
    Ok(())
}
