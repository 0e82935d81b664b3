//! `select` on arrays already in memory instead of files: what the Python package calls.
//!
//! [`select_in_memory`] takes the command's parsed arguments (the `SelectArgs` the command line
//! fills, so every option, default and refusal is the command line's) and the data. The path fields
//! that name inputs only say which inputs are given (their values are not read); `--out` and
//! `--report` are written exactly as the command writes them when given. Everything
//! else is the command's own code (its configuration, the pipeline, the report), so the same
//! inputs and seed give the same selection and the same report.

use super::args::SelectArgs;
use super::config::{
    back_to_rows, embeddings_config, graph_config, refuse_search_with_graph, select_report,
    RunFacts,
};
use super::inputs::{scores_and_noise, Inputs};
use super::memory::check_peak_memory;
use crate::args::{check_outputs, overwrite, resolve_budget, MethodArg};
use crate::backend_choice::open_backend;
use crate::error::{Error, Result};
use crate::logit_scores::scores_from_logits;
use crate::npy;
use crate::outputs::{self, Staged};
use crate::pipeline::{Embeddings, Pruned, Pruner, PrunerConfig};
use crate::report::Report;
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::scores::{Logits, ScoreKind, ScoreOptions};
use ndarray::ArrayView2;
use std::path::Path;
use std::time::Instant;

/// What the report's `graph` says for a similarity given in memory (a file's path otherwise).
pub const IN_MEMORY_GRAPH: &str = "<in memory>";

/// The inputs of [`select_in_memory`], each indexed like the embeddings' rows (or the graph's).
#[derive(Debug, Default)]
pub struct SelectData<'a> {
    /// `n × d` embeddings (`--embeddings`), viewed where they are.
    pub embeddings: Option<ArrayView2<'a, f32>>,
    /// The similarity (`--graph`).
    pub graph: Option<CsrSimilarity>,
    /// Importance scores (`--scores`).
    pub scores: Option<Vec<f32>>,
    /// Class labels (`--labels`).
    pub labels: Option<Vec<i64>>,
    /// Noise signal (`--noise`).
    pub noise: Option<Vec<f32>>,
    /// Area under the margin (`--aum`).
    pub aum: Option<Vec<f32>>,
    /// Logits `T × n × C` for `--scores-from` (`--logits`): one array, or one `n × C` array per
    /// epoch.
    pub logits: Option<Logits<'a>>,
    /// Penultimate features for `--scores-from grand` (`--score-features`).
    pub score_features: Option<ArrayView2<'a, f32>>,
    /// Bytes per element of the embeddings as the caller holds them (8 for float64 converted to
    /// the float32 `embeddings`; 0 means 4): the memory estimate counts them as the command
    /// counts a file's.
    pub embeddings_itemsize: usize,
}

/// What [`select_in_memory`] returns: the kept rows, sorted, and the report `select --report` writes.
#[derive(Debug, Clone)]
pub struct Selected {
    /// Kept row indices, ascending.
    pub indices: Vec<usize>,
    /// The report.
    pub report: Report,
}

/// Refuses data that disagrees with the arguments about which inputs are given: the caller
/// builds both, so a disagreement is a bug there, not bad input.
fn check_given(pairs: &[(&str, bool, bool)]) -> Result<()> {
    match pairs.iter().find(|(_, said, given)| said != given) {
        Some((what, said, _)) => Err(Error::Internal(format!(
            "the arguments {} {what}, the data {}",
            if *said { "name" } else { "omit" },
            if *said { "lacks it" } else { "holds it" }
        ))),
        None => Ok(()),
    }
}

/// Refuses data that disagrees with `args` about which inputs are given.
pub(super) fn check_given_data(args: &SelectArgs, data: &SelectData<'_>) -> Result<()> {
    check_given(&[
        (
            "embeddings",
            args.embeddings.is_some(),
            data.embeddings.is_some(),
        ),
        ("graph", args.graph.is_some(), data.graph.is_some()),
        ("scores", args.scores.is_some(), data.scores.is_some()),
        ("labels", args.labels.is_some(), data.labels.is_some()),
        ("noise", args.noise.is_some(), data.noise.is_some()),
        ("aum", args.aum.is_some(), data.aum.is_some()),
        ("logits", !args.logits.is_empty(), data.logits.is_some()),
        (
            "score features",
            args.score_features.is_some(),
            data.score_features.is_some(),
        ),
    ])
}

/// `infoprune select` on data in memory: the kept rows and the report, identical to the command's
/// for the same inputs and options.
///
/// # Errors
/// Every error the command gives for the same inputs (usage, shapes, non-finite values, budget).
pub fn select_in_memory(
    args: &SelectArgs,
    data: SelectData<'_>,
    progress: &dyn Progress,
) -> Result<Selected> {
    let started = Instant::now();
    args.refuse_ineffective()?;
    check_given_data(args, &data)?;
    let mut paths = Vec::new();
    if args.dry_run || args.plan.is_some() || args.part.is_some() {
        return Err(Error::Usage(
            "--dry-run, --plan and --part are stages of a planned run on files (infoprune plan, \
             select --plan --part, infoprune merge); in memory a selection runs whole"
                .into(),
        ));
    }
    paths.extend(args.out.as_deref().map(|o| ("out", o)));
    paths.extend(args.report.as_deref().map(|r| ("report", r)));
    check_outputs(&paths, args.force)?;
    let mut data = data;
    match data.graph.take() {
        Some(graph) => select_with_graph(args, graph, data, started, progress),
        None => select_with_embeddings(args, data, started, progress),
    }
}

fn select_with_embeddings(
    args: &SelectArgs,
    data: SelectData<'_>,
    started: Instant,
    progress: &dyn Progress,
) -> Result<Selected> {
    let view = data.embeddings.ok_or_else(|| {
        Error::Usage("--embeddings E.npy is required unless --graph K.npz is given".into())
    })?;
    let (n, d) = view.dim();
    let itemsize = match data.embeddings_itemsize {
        0 => 4,
        size => size as u64,
    };
    let estimate = check_peak_memory(args, n as u64, d as u64, itemsize)?;
    let read_start = Instant::now();
    let mut inputs = inputs(args, &data, n, "the embeddings have")?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let mut rows = None;
    if args.drop_nonfinite {
        inputs.embeddings = Some(view.to_owned());
        let (kept, kept_rows) = inputs.drop_nonfinite()?;
        inputs = kept;
        rows = Some(kept_rows);
    }
    let read_seconds = read_start.elapsed().as_secs_f64();
    let embeddings = match &inputs.embeddings {
        Some(e) => Embeddings::View(e.view()),
        // A reborrow: views are invariant in their lifetime, and this one must match `inputs`'.
        None => Embeddings::View(view.view()),
    };
    let config = embeddings_config(args, k, n, d, itemsize)?;
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let mut pruned = pruner.run(embeddings, inputs.sample_inputs(), progress)?;
    let dropped_nonfinite = back_to_rows(&mut pruned, rows.as_deref(), n);
    let facts = RunFacts {
        started,
        n,
        read_seconds,
        dropped_nonfinite,
        estimated_peak_bytes: estimate,
        backend: pruner.backend_ref().name(),
        gpu: pruner.backend_ref().counters(),
        graph: None,
    };
    finish_select(args, &config, pruned, facts, progress)
}

fn select_with_graph(
    args: &SelectArgs,
    graph: CsrSimilarity,
    data: SelectData<'_>,
    started: Instant,
    progress: &dyn Progress,
) -> Result<Selected> {
    refuse_search_with_graph(args)?;
    let read_start = Instant::now();
    let n = graph.n();
    if let Some(e) = &data.embeddings {
        if e.nrows() != n {
            return Err(Error::Usage(format!(
                "embeddings have {} rows but the graph has n = {n}",
                e.nrows()
            )));
        }
    }
    let inputs = inputs(args, &data, n, "the graph has")?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let embeddings = data
        .embeddings
        .as_ref()
        .filter(|_| args.method == MethodArg::Moderate)
        .map(|e| e.view());
    let read_seconds = read_start.elapsed().as_secs_f64();
    let config = graph_config(args, k)?;
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let pruned = pruner.run_graph(graph, embeddings, inputs.sample_inputs(), progress)?;
    let facts = RunFacts {
        started,
        n,
        read_seconds,
        dropped_nonfinite: 0,
        estimated_peak_bytes: 0,
        backend: pruner.backend_ref().name(),
        gpu: pruner.backend_ref().counters(),
        graph: Some(Path::new(IN_MEMORY_GRAPH)),
    };
    finish_select(args, &config, pruned, facts, progress)
}

/// The report, and the files asked for written together (all or nothing), as the command does.
pub(super) fn finish_select(
    args: &SelectArgs,
    config: &PrunerConfig,
    pruned: Pruned,
    facts: RunFacts,
    progress: &dyn Progress,
) -> Result<Selected> {
    progress.start(Stage::Write, 1);
    let write_start = Instant::now();
    let mut staged = Vec::new();
    if let Some(out) = &args.out {
        let kept: Vec<i64> = pruned.indices.iter().map(|&i| i as i64).collect();
        staged.push(outputs::stage(out, &npy::i64_vector_bytes(out, &kept)?)?);
    }
    let write_seconds = write_start.elapsed().as_secs_f64();
    let report = select_report(args, config, &pruned, &facts, write_seconds);
    if let Some(path) = &args.report {
        staged.push(outputs::stage(path, report.to_json().as_bytes())?);
    }
    commit(staged, args.force)?;
    progress.finish(Stage::Write);
    Ok(Selected {
        indices: pruned.indices,
        report,
    })
}

fn commit(staged: Vec<Staged>, force: bool) -> Result<()> {
    if !staged.is_empty() {
        outputs::commit(staged, overwrite(force))?;
    }
    Ok(())
}

/// A per-sample vector must have `n` values; `source` says where `n` comes from.
fn check_len(what: &str, len: usize, n: usize, source: &str) -> Result<()> {
    if len != n {
        return Err(Error::Usage(format!(
            "{what} has {len} values but {source} n = {n} rows"
        )));
    }
    Ok(())
}

/// The per-sample inputs, each checked to have `n` values, with scores computed from logits for
/// `--scores-from` (as the command's `read_inputs` does from files).
pub(super) fn inputs(
    args: &SelectArgs,
    data: &SelectData<'_>,
    n: usize,
    source: &str,
) -> Result<Inputs> {
    if let Some(labels) = &data.labels {
        if labels.len() != n {
            return Err(Error::Usage(format!(
                "labels has {} values but the data has n = {n} samples",
                labels.len()
            )));
        }
    }
    for (what, v) in [
        ("scores", &data.scores),
        ("noise", &data.noise),
        ("aum", &data.aum),
    ] {
        if let Some(v) = v {
            check_len(what, v.len(), n, source)?;
        }
    }
    let from_logits = data
        .logits
        .clone()
        .zip(data.labels.as_deref())
        .map(|(logits, labels)| {
            move |kinds: &[ScoreKind], options: &ScoreOptions| {
                let features = data
                    .score_features
                    .filter(|_| kinds.contains(&ScoreKind::Grand));
                scores_from_logits(kinds, logits.clone(), labels, features, options)
            }
        });
    let (scores, noise) =
        scores_and_noise(args, data.scores.clone(), data.noise.clone(), from_logits)?;
    Ok(Inputs {
        embeddings: None,
        scores,
        noise,
        labels: data.labels.clone(),
        aum: data.aum.clone(),
    })
}
