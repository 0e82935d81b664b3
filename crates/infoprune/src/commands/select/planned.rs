//! `select` on arrays in memory split into the stages of a planned run: [`plan_in_memory`] (the
//! plan as `infoprune plan` writes it), [`run_parts_in_memory`] (some problems solved, as
//! `select --plan --part` solves one) and [`merge_in_memory`] (the outcomes put together into the
//! indices and report [`super::select_in_memory`] returns). What a distributed driver (the Python
//! package's `infoprune.ray`) calls: each stage takes the same arguments and data, so every
//! process sees the dataset the plan was made of, and the merged result equals one selection.

use super::args::SelectArgs;
use super::config::{back_to_rows, embeddings_config, RunFacts};
use super::in_memory::{check_given_data, finish_select, inputs};
use super::in_memory::{SelectData, Selected};
use super::inputs::Inputs;
use super::memory::check_peak_memory;
use crate::args::{check_outputs, resolve_budget};
use crate::backend_choice::open_backend;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::merge::merge;
use crate::parts::PartOutcome;
use crate::pipeline::{Embeddings, Pruner, PrunerConfig};
use crate::plan::Plan;
use infoprune_core::progress::Progress;
use infoprune_core::timing::Timings;
use ndarray::ArrayView2;
use std::time::Instant;

/// Everything the three stages build alike from the arguments and the data, before any work.
struct Setup<'a> {
    view: ArrayView2<'a, f32>,
    inputs: Inputs,
    /// The original row of each row left by `--drop-nonfinite`.
    rows: Option<Vec<usize>>,
    config: PrunerConfig,
    pruner: Pruner,
    estimate: u64,
    read_seconds: f64,
}

impl Setup<'_> {
    /// The dataset the plan is made of (the rows left by `--drop-nonfinite` where it is given).
    fn dataset(&self) -> Dataset<'_> {
        let embeddings = match &self.inputs.embeddings {
            Some(e) => Embeddings::View(e.view()),
            None => Embeddings::View(self.view.view()),
        };
        Dataset::new(embeddings, self.inputs.sample_inputs())
    }
}

/// The checks and the configuration of [`super::select_in_memory`] over embeddings.
fn setup<'a>(args: &SelectArgs, data: &SelectData<'a>) -> Result<Setup<'a>> {
    args.refuse_ineffective()?;
    if args.graph.is_some() || data.graph.is_some() {
        return Err(Error::Usage(
            "with a given graph there is one problem and nothing to plan: a planned run needs \
             the embeddings"
                .into(),
        ));
    }
    if args.dry_run || args.plan.is_some() || args.part.is_some() {
        return Err(Error::Usage(
            "--dry-run, --plan and --part are options of the command line's planned run".into(),
        ));
    }
    check_given_data(args, data)?;
    let mut paths = Vec::new();
    paths.extend(args.out.as_deref().map(|o| ("out", o)));
    paths.extend(args.report.as_deref().map(|r| ("report", r)));
    check_outputs(&paths, args.force)?;
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
    let mut inputs = inputs(args, data, n, "the embeddings have")?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let mut rows = None;
    if args.drop_nonfinite {
        inputs.embeddings = Some(view.to_owned());
        let (kept, kept_rows) = inputs.drop_nonfinite()?;
        inputs = kept;
        rows = Some(kept_rows);
    }
    let read_seconds = read_start.elapsed().as_secs_f64();
    let config = embeddings_config(args, k, n, d, itemsize)?;
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    Ok(Setup {
        view,
        inputs,
        rows,
        config,
        pruner,
        estimate,
        read_seconds,
    })
}

/// The plan [`super::select_in_memory`] would run with these arguments and data: `infoprune
/// plan` on arrays.
///
/// # Errors
/// Every error the selection gives for the same inputs before its graphs are built.
pub fn plan_in_memory(
    args: &SelectArgs,
    data: SelectData<'_>,
    progress: &dyn Progress,
) -> Result<Plan> {
    let setup = setup(args, &data)?;
    setup.pruner.plan_with_progress(&setup.dataset(), progress)
}

/// Solves `parts` (distinct problem indices) of `plan` with the same arguments and data the
/// plan was made with: `select --plan --part` on arrays, several parts at once.
///
/// # Errors
/// A plan of other data or another configuration, a part not in it, or the solve's errors.
pub fn run_parts_in_memory(
    args: &SelectArgs,
    data: SelectData<'_>,
    plan: &Plan,
    parts: &[usize],
    progress: &dyn Progress,
) -> Result<Vec<PartOutcome>> {
    let setup = setup(args, &data)?;
    setup
        .pruner
        .run_parts(&setup.dataset(), plan, parts, progress)
}

/// The outcomes of every part of `plan` put together: the indices and the report
/// [`super::select_in_memory`] returns for the same arguments and data (timings aside), with
/// `out` and `report` written as it writes them. `plan_seconds`, the time the plan took to make,
/// is the report's `partition` time, as in one selection.
///
/// # Errors
/// A plan of other data or another configuration, an outcome missing, repeated or not the
/// plan's, or a failed write.
pub fn merge_in_memory(
    args: &SelectArgs,
    data: SelectData<'_>,
    plan: &Plan,
    outcomes: &[PartOutcome],
    plan_seconds: f64,
    progress: &dyn Progress,
) -> Result<Selected> {
    let started = Instant::now();
    let setup = setup(args, &data)?;
    plan.check_for(&setup.dataset(), &setup.config)?;
    let mut pruned = merge(plan, outcomes)?;
    let mut timings = Timings::default();
    timings.add("partition", plan_seconds);
    timings.extend(&pruned.timings);
    pruned.timings = timings;
    let n = setup.view.nrows();
    let dropped_nonfinite = back_to_rows(&mut pruned, setup.rows.as_deref(), n);
    let facts = RunFacts {
        started,
        n,
        read_seconds: setup.read_seconds,
        dropped_nonfinite,
        estimated_peak_bytes: setup.estimate,
        backend: setup.pruner.backend_ref().name(),
        gpu: setup.pruner.backend_ref().counters(),
        graph: None,
    };
    finish_select(args, &setup.config, pruned, facts, progress)
}
