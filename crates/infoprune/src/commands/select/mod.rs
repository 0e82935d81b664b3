//! `infoprune select`: the samples to keep, from embeddings (partitions, a kNN graph and a problem
//! per partition) or from a given similarity (`--graph K.npz`, one problem over all samples).

mod args;
mod config;
mod in_memory;
mod inputs;
mod memory;
mod planned;

pub use args::SelectArgs;
pub use in_memory::{select_in_memory, SelectData, Selected, IN_MEMORY_GRAPH};
pub use planned::{merge_in_memory, plan_in_memory, run_parts_in_memory};

use crate::args::{check_outputs, overwrite, resolve_budget, MethodArg};
use crate::backend_choice::open_backend;
use crate::dataset::Dataset;
use crate::dataset::Embeddings;
use crate::error::{Error, Result};
use crate::merge::merge;
use crate::npy;
use crate::npy_map::MappedMatrix;
use crate::outputs;
use crate::parts::PartOutcome;
use crate::plan::Plan;
use crate::progress_bars::Bars;
use crate::pruner::{Pruner, PrunerConfig};
use config::{
    back_to_rows, embeddings_config, graph_config, refuse_search_with_graph, select_report,
    RunFacts,
};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::Method;
use inputs::read_inputs;
use memory::check_memory;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Writes the kept indices and the report, and prints the summary line.
fn finish_select(
    args: &SelectArgs,
    config: &PrunerConfig,
    pruned: &crate::pruned::Pruned,
    facts: RunFacts,
    bars: &Bars,
) -> Result<()> {
    let n = facts.n;
    bars.start(Stage::Write, 1);
    let write_start = Instant::now();
    let kept: Vec<i64> = pruned.indices.iter().map(|&i| i as i64).collect();
    let out = args.out_path()?;
    // Both outputs are staged, then put in place together: all or nothing.
    let mut staged = vec![outputs::stage(out, &npy::i64_vector_bytes(out, &kept)?)?];
    let write_seconds = write_start.elapsed().as_secs_f64();
    if let Some(path) = &args.report {
        let report = select_report(args, config, pruned, &facts, write_seconds);
        staged.push(outputs::stage(path, report.to_json().as_bytes())?);
    }
    outputs::commit(staged, overwrite(args.force))?;
    bars.finish(Stage::Write);
    if !args.quiet {
        let layout = match facts.graph {
            Some(graph) => format!(
                "graph {}, α = {}",
                graph.display(),
                pruned.partitions.first().map_or(0.0, |p| p.alpha)
            ),
            None => format!(
                "{} partition(s) in {} batch(es)",
                pruned.partitions.len(),
                pruned.batches
            ),
        };
        crate::errln!(
            "kept {} of {} samples ({}{}), f(S) = {:.6}, {}, {} noisy and {} non-finite dropped, {:.2} s → {}",
            kept.len(),
            n,
            config.select.method.name(),
            if config.select.method == Method::InfoMax {
                format!("/{}", config.select.solver.name())
            } else {
                String::new()
            },
            pruned.objective,
            layout,
            pruned.dropped_noisy,
            facts.dropped_nonfinite,
            facts.started.elapsed().as_secs_f64(),
            out.display()
        )?;
    }
    Ok(())
}

/// What a run over embeddings does once its inputs are read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// Plan, solve every part and write the kept indices (plain `select`).
    Run,
    /// Print the plan and stop (`select --dry-run`).
    DryRun,
    /// Write the plan as JSON to `--out` (`infoprune plan`).
    WritePlan,
    /// Solve one part of a written plan, its outcome as JSON to `--out` (`select --plan --part`).
    Part {
        /// The plan file.
        plan: &'a Path,
        /// The problem to solve.
        part: usize,
    },
    /// Put the parts' outcomes together into the kept indices (`infoprune merge`).
    Merge {
        /// The plan file.
        plan: &'a Path,
        /// The parts' outcome files.
        parts: &'a [PathBuf],
    },
}

/// `infoprune select`.
pub fn select(args: &SelectArgs) -> Result<()> {
    let mode =
        match (args.dry_run, args.plan.as_deref(), args.part) {
            (true, _, _) => Mode::DryRun,
            (false, Some(plan), Some(part)) => Mode::Part { plan, part },
            (false, Some(_), None) => return Err(Error::Usage(
                "--plan needs --part I: select solves one part of a plan (infoprune merge puts \
                 the parts together)"
                    .into(),
            )),
            (false, None, _) => Mode::Run,
        };
    run(args, mode)
}

/// `select` in `mode`: the commands of a planned run (`plan`, `select --plan --part`, `merge`)
/// take the same options and read the same inputs, so each sees the dataset the plan was made of.
pub(crate) fn run(args: &SelectArgs, mode: Mode) -> Result<()> {
    let started = Instant::now();
    args.refuse_ineffective()?;
    refuse_for_mode(args, mode)?;
    if !matches!(mode, Mode::DryRun) {
        let mut paths = vec![("out", args.out_path()?)];
        paths.extend(args.report.as_deref().map(|r| ("report", r)));
        check_outputs(&paths, args.force)?;
    }
    let bars = Bars::new(args.quiet);
    match &args.graph {
        Some(graph) => select_with_graph(args, graph, started, &bars),
        None => select_with_embeddings(args, mode, started, &bars),
    }
}

/// Refuses the options a mode has no use for, and a planned run over a given graph.
fn refuse_for_mode(args: &SelectArgs, mode: Mode) -> Result<()> {
    if args.graph.is_some() && !matches!(mode, Mode::Run) {
        return Err(Error::Usage(
            "with --graph K.npz there is one problem and nothing to plan: --dry-run, --plan, \
             infoprune plan and infoprune merge need --embeddings"
                .into(),
        ));
    }
    let writes = match mode {
        Mode::Run | Mode::Merge { .. } => return Ok(()),
        Mode::DryRun => "--dry-run writes nothing",
        Mode::WritePlan => "infoprune plan writes the plan to --out",
        Mode::Part { .. } => "a part's outcome goes to --out; infoprune merge writes the report",
    };
    match args.report {
        Some(_) => Err(Error::Usage(format!(
            "--report has no effect here: {writes}"
        ))),
        None => Ok(()),
    }
}

/// Reads a plan written by `infoprune plan`.
fn read_plan(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the plan {}: {e}", path.display())))?;
    Plan::from_json(&text).map_err(|e| Error::Plan(format!("{}: {e}", path.display())))
}

/// Writes `text` to `--out` (staged: all or nothing) and prints `summary` unless quiet.
fn write_text(args: &SelectArgs, text: &str, summary: String) -> Result<()> {
    let out = args.out_path()?;
    outputs::commit(
        vec![outputs::stage(out, text.as_bytes())?],
        overwrite(args.force),
    )?;
    if !args.quiet {
        crate::errln!("{summary} → {}", out.display())?;
    }
    Ok(())
}

/// `infoprune select --embeddings E.npy`: partitions, a kNN graph and a problem per partition
/// (or one stage of a planned run, by `mode`).
fn select_with_embeddings(
    args: &SelectArgs,
    mode: Mode,
    started: Instant,
    bars: &Bars,
) -> Result<()> {
    let embeddings_path = args.embeddings.as_deref().ok_or_else(|| {
        Error::Usage("--embeddings E.npy is required unless --graph K.npz is given".into())
    })?;
    let estimate = check_memory(args, embeddings_path)?;
    let read_start = Instant::now();
    let mapped = MappedMatrix::open(embeddings_path)?;
    let n = mapped.nrows();
    let mut inputs = read_inputs(args, n, "the embeddings have")?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let mut rows = None;
    if args.drop_nonfinite {
        inputs.embeddings = Some(mapped.whole()?.into_owned());
        let (kept, kept_rows) = inputs.drop_nonfinite()?;
        inputs = kept;
        rows = Some(kept_rows);
    }
    let read_seconds = read_start.elapsed().as_secs_f64();
    let embeddings = match &inputs.embeddings {
        Some(e) => Embeddings::View(e.view()),
        None => Embeddings::Mapped(&mapped),
    };

    let itemsize = npy::read_header(embeddings_path)?.dtype.itemsize() as u64;
    let config = embeddings_config(args, k, mapped.nrows(), mapped.ncols(), itemsize)?;
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let dataset = Dataset::new(embeddings, inputs.sample_inputs());
    let mut pruned = match mode {
        Mode::Run => pruner.run(embeddings, inputs.sample_inputs(), bars)?,
        Mode::DryRun => {
            let plan = pruner.plan_with_progress(&dataset, bars)?;
            crate::outln!("{plan}")?;
            return Ok(());
        }
        Mode::WritePlan => {
            let plan = pruner.plan_with_progress(&dataset, bars)?;
            let summary = format!(
                "planned {} of {} samples in {} problem(s), {} batch(es), {} part(s) to solve",
                plan.k,
                plan.n,
                plan.problems.len(),
                plan.batches.len(),
                plan.parts().len()
            );
            return write_text(args, &plan.to_json(), summary);
        }
        Mode::Part { plan, part } => {
            let plan = read_plan(plan)?;
            let outcome = pruner
                .run_parts(&dataset, &plan, &[part], bars)?
                .pop()
                .ok_or_else(|| Error::Internal("one part asked, none solved".into()))?;
            let summary = format!(
                "part {part}: kept {} of {} rows, f = {:.6}, {:.2} s",
                outcome.indices.len(),
                plan.problems[part].size,
                outcome.stats.objective,
                started.elapsed().as_secs_f64()
            );
            return write_text(args, &outcome.to_json(), summary);
        }
        Mode::Merge { plan, parts } => {
            let plan = read_plan(plan)?;
            plan.check_for(&dataset, &config)?;
            let outcomes = parts
                .iter()
                .map(|path| {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        Error::Usage(format!("cannot read the part {}: {e}", path.display()))
                    })?;
                    PartOutcome::from_json(&text)
                        .map_err(|e| Error::Plan(format!("{}: {e}", path.display())))
                })
                .collect::<Result<Vec<_>>>()?;
            merge(&plan, &outcomes)?
        }
    };
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
    finish_select(args, &config, &pruned, facts, bars)
}

/// `infoprune select --graph K.npz`: the given similarity, one problem over all its n samples.
fn select_with_graph(
    args: &SelectArgs,
    graph_path: &Path,
    started: Instant,
    bars: &Bars,
) -> Result<()> {
    refuse_search_with_graph(args)?;
    let read_start = Instant::now();
    let graph = crate::npz::read_csr(graph_path)?;
    let n = graph.n();
    let source = format!("the graph {} has", graph_path.display());
    // The embeddings are only read by the method that needs them; their row count must match.
    let mapped = args
        .embeddings
        .as_deref()
        .map(MappedMatrix::open)
        .transpose()?;
    if let (Some(m), Some(path)) = (&mapped, args.embeddings.as_deref()) {
        if m.nrows() != n {
            return Err(Error::Usage(format!(
                "embeddings {} have {} rows but the graph {} has n = {n}",
                path.display(),
                m.nrows(),
                graph_path.display()
            )));
        }
    }
    let inputs = read_inputs(args, n, &source)?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let all = match &mapped {
        Some(m) if args.method == MethodArg::Moderate => Some(m.whole()?),
        _ => None,
    };
    let embeddings = all.as_ref().map(|a| a.view());
    let read_seconds = read_start.elapsed().as_secs_f64();

    let config = graph_config(args, k)?;
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let pruned = pruner.run_graph(graph, embeddings, inputs.sample_inputs(), bars)?;
    let facts = RunFacts {
        started,
        n,
        read_seconds,
        dropped_nonfinite: 0,
        estimated_peak_bytes: 0,
        backend: pruner.backend_ref().name(),
        gpu: pruner.backend_ref().counters(),
        graph: Some(graph_path),
    };
    finish_select(args, &config, &pruned, facts, bars)
}
