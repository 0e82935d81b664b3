//! The commands on arrays already in memory instead of files: what the Python package calls.
//!
//! Each function takes the command's parsed arguments (the same clap structs the command line
//! fills, so every option, default and refusal is the command line's) and the data. The path
//! fields that name inputs only say which inputs are given (their values are not read); an output
//! path (`out`, `report`) is written, exactly as the command writes it, unless it is empty.
//! Everything else runs through the command's own code, so the same inputs give the same result.
//! `select`'s lives with the command ([`crate::commands::select::select_in_memory`]).

pub use crate::logit_scores::scores_from_logits;

use crate::args::{check_outputs, overwrite};
use crate::backend_choice::open_backend;
use crate::commands::graph::{GraphArgs, GraphReport};
use crate::commands::score::ScoreArgs;
use crate::commands::tokens::{TokensArgs, TokensReport};
use crate::error::{Error, Result};
use crate::npy;
use crate::outputs::{self, Staged};
use crate::pipeline::Embeddings;
use infoprune_core::csr::{CsrSimilarity, SymmetryCheck};
use infoprune_core::ivf::{search_graph, ResolvedSearch};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::scores::{Logits, ScoreKind};
use infoprune_core::tokens::TokenSelector;
use infoprune_core::CoreError;
use ndarray::{Array2, ArrayView2, ArrayView3};
use std::path::Path;
use std::time::Instant;

/// Whether an output path was asked for (the Python package passes an empty one when not).
fn wanted(path: &Path) -> bool {
    !path.as_os_str().is_empty()
}

fn commit(staged: Vec<Staged>, force: bool) -> Result<()> {
    if !staged.is_empty() {
        outputs::commit(staged, overwrite(force))?;
    }
    Ok(())
}

/// `infoprune score --kind` on logits in memory: the scores and the kind's name.
///
/// # Errors
/// Every error the command gives for the same inputs and options.
pub fn score<'a>(
    args: &ScoreArgs,
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    features: Option<ArrayView2<f32>>,
) -> Result<(String, Vec<f32>)> {
    crate::commands::score::refuse_ineffective(args)?;
    let kind: ScoreKind = args
        .kind
        .ok_or_else(|| Error::Usage("give --kind (or --sim)".into()))?
        .into();
    let options = crate::commands::score::score_options(args, kind);
    let mut values = scores_from_logits(&[kind], logits.into(), labels, features, &options)?;
    let values = values.pop().expect("one kind, one score");
    if wanted(&args.out) {
        npy::write_f32_vector(&args.out, &values, overwrite(args.force))?;
    }
    Ok((kind.name().to_string(), values))
}

/// `infoprune score --sim` on matrices in memory: one features and one probabilities matrix per
/// model; returns the term's name and its values.
///
/// # Errors
/// Every error the command gives for the same inputs and options.
pub fn sim<'a>(
    args: &ScoreArgs,
    labels: &[i64],
    features: &[ArrayView2<'a, f32>],
    probs: &[ArrayView2<'a, f32>],
) -> Result<(String, Vec<f32>)> {
    crate::commands::score::refuse_ineffective(args)?;
    if features.len() != probs.len() {
        return Err(Error::Usage(format!(
            "--sim needs one --probs file per --features file: {} features, {} probs",
            features.len(),
            probs.len()
        )));
    }
    let named: Vec<(String, ArrayView2<f32>)> = probs
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("probs[{i}]"), *p))
        .collect();
    let (name, values) =
        crate::commands::score::sim_values(args, "array", labels, features, &named)?;
    if wanted(&args.out) {
        npy::write_f32_vector(&args.out, &values, overwrite(args.force))?;
    }
    Ok((name, values))
}

/// What [`graph`] returns: the similarity and the report `graph --report` writes.
#[derive(Debug, Clone)]
pub struct GraphBuilt {
    /// The symmetrised kNN similarity.
    pub graph: CsrSimilarity,
    /// The report.
    pub report: GraphReport,
}

/// `infoprune graph` on embeddings in memory: the same graph `select` builds over all n samples.
///
/// # Errors
/// Every error the command gives for the same inputs and options.
pub fn graph(
    args: &GraphArgs,
    embeddings: ArrayView2<f32>,
    progress: &dyn Progress,
) -> Result<GraphBuilt> {
    let started = Instant::now();
    let mut paths = Vec::new();
    if wanted(&args.out) {
        paths.push(("out", args.out.as_path()));
    }
    paths.extend(args.report.as_deref().map(|r| ("report", r)));
    check_outputs(&paths, args.force)?;
    let n = embeddings.nrows();
    if n == 0 {
        return Err(CoreError::Empty { what: "embeddings" }.into());
    }
    let (search, _) = args.knn_search.resolve(args.seed, n)?;
    Embeddings::View(embeddings).check_finite()?;
    let backend = open_backend(args.backend, args.quiet)?;
    let config = crate::args::knn_config(Some(args.neighbors), Some(args.symmetrize));
    let (graph, info) = search_graph(backend.as_ref(), embeddings, &config, &search, progress)?;
    progress.start(Stage::Write, 1);
    let mut staged = Vec::new();
    if wanted(&args.out) {
        staged.push(outputs::stage(
            &args.out,
            &crate::npz::csr_to_npz_bytes(&args.out, &graph)?,
        )?);
    }
    let (knn, nlist, nprobe) = match info.search {
        ResolvedSearch::Exact => ("exact", None, None),
        ResolvedSearch::Ivf(s) => ("ivf", Some(s.nlist), Some(s.nprobe)),
    };
    let report = GraphReport {
        version: env!("CARGO_PKG_VERSION"),
        n,
        nnz: graph.nnz(),
        neighbors: config.neighbors,
        knn,
        nlist,
        nprobe,
        recall: info.recall.map(|r| r.recall),
        recall_sample: info.recall.map(|r| r.sampled),
        backend: backend.name(),
        gpu: backend.counters().map(Into::into),
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        staged.push(outputs::stage(path, json.as_bytes())?);
    }
    commit(staged, args.force)?;
    progress.finish(Stage::Write);
    Ok(GraphBuilt { graph, report })
}

/// A similarity from CSR parts as SciPy holds them: `indptr` (`n + 1` row pointers) and
/// `indices` of any integer width, values as `f32`. Rows need not be sorted and repeated entries
/// are summed (SciPy's convention, as `select --graph K.npz` reads a file); the result is
/// checked like a file's: square, symmetric, finite, non-negative, zero diagonal.
///
/// # Errors
/// A usage error naming the part that is out of range; [`CoreError::InvalidSimilarity`] for a
/// matrix that breaks an invariant.
pub fn csr_from_parts(
    shape: (usize, usize),
    indptr: &[i64],
    indices: &[i64],
    data: &[f32],
) -> Result<CsrSimilarity> {
    let (n, cols) = shape;
    if n != cols {
        return Err(Error::Usage(format!(
            "the graph must be square (n × n), found shape ({n}, {cols})"
        )));
    }
    if indptr.len() != n + 1 {
        return Err(Error::Usage(format!(
            "the graph's indptr has {} entries: expected n + 1 = {}",
            indptr.len(),
            n + 1
        )));
    }
    if indices.len() != data.len() {
        return Err(Error::Usage(format!(
            "the graph has {} column indices but {} values",
            indices.len(),
            data.len()
        )));
    }
    let nnz = indices.len();
    if indptr[0] != 0 || indptr[n] != nnz as i64 || indptr.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::Usage(format!(
            "the graph's indptr must rise from 0 to nnz = {nnz}, found {}..{}",
            indptr[0], indptr[n]
        )));
    }
    if let Some((p, &j)) = indices
        .iter()
        .enumerate()
        .find(|&(_, &j)| j < 0 || j as u64 >= n as u64)
    {
        return Err(Error::Usage(format!(
            "the graph's entry {p} has column {j}: expected a column in 0..{n}"
        )));
    }
    let mut out_ptr = Vec::with_capacity(n + 1);
    let mut out_cols: Vec<u32> = Vec::with_capacity(nnz);
    let mut out_vals: Vec<f32> = Vec::with_capacity(nnz);
    out_ptr.push(0);
    let mut row: Vec<(u32, f32)> = Vec::new();
    for i in 0..n {
        let (lo, hi) = (indptr[i] as usize, indptr[i + 1] as usize);
        row.clear();
        row.extend((lo..hi).map(|p| (indices[p] as u32, data[p])));
        row.sort_by_key(|&(j, _)| j);
        let start = out_cols.len();
        for &(j, v) in &row {
            if out_cols.len() > start && out_cols.last() == Some(&j) {
                *out_vals.last_mut().expect("an entry was pushed") += v;
            } else {
                out_cols.push(j);
                out_vals.push(v);
            }
        }
        out_ptr.push(out_cols.len());
    }
    Ok(CsrSimilarity::new(
        n,
        out_ptr,
        out_cols,
        out_vals,
        SymmetryCheck::Require,
    )?)
}

/// What [`tokens`] returns.
#[derive(Debug, Clone)]
pub struct TokensSelected {
    /// `n × T`, 1 for kept tokens.
    pub mask: Array2<u8>,
    /// The extended captions, when captions were given.
    pub captions: Option<Vec<String>>,
    /// The report `tokens --report` writes.
    pub report: TokensReport,
}

/// The captions input of [`tokens`]: one caption per sample, class probabilities `n × C` and
/// the `C` class names.
#[derive(Debug, Clone, Copy)]
pub struct CaptionInputs<'a> {
    /// One caption per sample.
    pub captions: &'a [String],
    /// Class probabilities, `n × C`.
    pub classes: ArrayView2<'a, f32>,
    /// The class names.
    pub class_names: &'a [String],
}

/// `infoprune tokens` on token features `n × T × d` and saliency `n × T` in memory.
///
/// # Errors
/// Every error the command gives for the same inputs and options.
pub fn tokens(
    args: &TokensArgs,
    features: ArrayView3<f32>,
    saliency: ArrayView2<f32>,
    captions: Option<CaptionInputs<'_>>,
    progress: &dyn Progress,
) -> Result<TokensSelected> {
    let started = Instant::now();
    crate::commands::tokens::refuse_ineffective(args)?;
    let mut paths = Vec::new();
    if wanted(&args.out) {
        paths.push(("out", args.out.as_path()));
    }
    paths.extend(args.report.as_deref().map(|p| ("report", p)));
    check_outputs(&paths, args.force)?;
    let (n, t, d) = features.dim();
    let extended = match captions {
        Some(c) => {
            let template = args
                .template
                .as_deref()
                .unwrap_or(crate::captions::DEFAULT_TEMPLATE);
            crate::captions::extend_caption(template, "", &[])?;
            if c.classes.nrows() != c.captions.len() {
                return Err(Error::Usage(format!(
                    "{} captions but {} rows of class probabilities",
                    c.captions.len(),
                    c.classes.nrows()
                )));
            }
            let detected = crate::captions::detected_classes(
                c.classes,
                c.class_names,
                args.threshold.unwrap_or(0.5),
            )?;
            let extended = c
                .captions
                .iter()
                .zip(&detected)
                .map(|(caption, found)| crate::captions::extend_caption(template, caption, found))
                .collect::<Result<Vec<_>>>()?;
            if extended.len() != n {
                return Err(Error::Usage(format!(
                    "{} captions but the token features have n = {n} samples",
                    extended.len()
                )));
            }
            let count = detected.iter().filter(|found| !found.is_empty()).count();
            Some((extended, count))
        }
        None => None,
    };
    let config = crate::commands::tokens::token_config(args, t)?;
    let backend = open_backend(args.backend, args.quiet)?;
    let selector = TokenSelector::with_backend(config, backend.clone())?;
    selector.validate(n, t, d, saliency)?;
    let selection = selector.select_with(
        n,
        t,
        saliency,
        |i| {
            let tokens = features.index_axis(ndarray::Axis(0), i).to_owned();
            if let Some(flat) = tokens.iter().position(|v| !v.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "token features",
                    index: i * t * d + flat,
                    value: tokens.iter().nth(flat).copied().unwrap_or(f32::NAN) as f64,
                });
            }
            Ok(tokens)
        },
        progress,
    )?;
    let mut staged = Vec::new();
    if wanted(&args.out) {
        staged.push(outputs::stage(
            &args.out,
            &npy::u8_matrix_bytes(&args.out, selection.mask.view())?,
        )?);
    }
    let report = TokensReport {
        version: env!("CARGO_PKG_VERSION"),
        n,
        tokens: t,
        dim: d,
        kept_per_sample: selection.kept_per_sample,
        mean_objective: selection.objective.iter().sum::<f64>() / n as f64,
        captions_extended: extended.as_ref().map_or(0, |(_, count)| *count),
        backend: backend.name(),
        gpu: backend.counters().map(Into::into),
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).expect("a report always serialises");
        staged.push(outputs::stage(path, json.as_bytes())?);
    }
    commit(staged, args.force)?;
    Ok(TokensSelected {
        mask: selection.mask,
        captions: extended.map(|(captions, _)| captions),
        report,
    })
}
