//! Solving the parts of a [`Plan`]: each problem's graph (its own kNN search, or the global IVF
//! lists restricted to it) and its solve, a batch of problems at a time. A part is one problem;
//! any process holding the plan and the dataset can solve any of them alone, and
//! [`crate::merge::merge`] puts the outcomes together.

use crate::dataset::original_index;
use crate::dataset::{gather, Dataset};
use crate::error::{Error, Result};
use crate::ivf_groups::IvfGroups;
use crate::plan::{problem_rows, Plan};
use crate::pruned::PartitionStats;
use crate::pruner::Pruner;
use infoprune_core::backend::{OwnedProblem, ProblemBatch};
use infoprune_core::importance::{HardTail, NoiseCutoff, Representativeness};
use infoprune_core::progress::{Progress, Silent, Stage};
use infoprune_core::select::{Extras, Prepared, SelectConfig, Selector};
use infoprune_core::selectors::CcsCutoff;
use infoprune_core::solver::{Algorithm, Method, SolverParams};
use infoprune_core::timing::Timings;
use ndarray::{CowArray, Ix2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What solving one part (one problem) of a plan gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartOutcome {
    /// The problem, an index into the plan's `problems`.
    pub part: usize,
    /// Its kept rows, as rows of the whole dataset, ascending.
    pub indices: Vec<usize>,
    /// Its figures: size, k, `f(S)`, iterations, α, graph entries, convergence, swaps, search.
    pub stats: PartitionStats,
    /// Neighbour entries of the global IVF lists its graph cut (`None` unless the plan's
    /// problems take their graphs from the global lists).
    pub cut_edges: Option<usize>,
    /// Seconds building its graph.
    pub graph_seconds: f64,
    /// Its share of its batch's solve, in seconds (the batch's time split evenly).
    pub solve_seconds: f64,
}

impl PartOutcome {
    /// The outcome as JSON (floats written so that [`PartOutcome::from_json`] reads them back
    /// bit for bit).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an outcome always serialises")
    }

    /// Reads an outcome written by [`PartOutcome::to_json`].
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::Plan(format!("not a part's outcome: {e}")))
    }

    /// The outcome of a problem that keeps nothing.
    fn empty(part: usize, size: usize) -> Self {
        Self {
            part,
            indices: Vec::new(),
            stats: PartitionStats::empty(size),
            cut_edges: None,
            graph_seconds: 0.0,
            solve_seconds: 0.0,
        }
    }
}

/// What solving parts needs besides the plan, decoded from it once.
pub(crate) struct PartContext {
    /// The rows of each problem asked for (empty for the others).
    rows: Vec<Vec<usize>>,
    /// SemDeDup's set, as a mask over the rows.
    preselected: Option<Vec<bool>>,
    /// The global IVF index, when the problems' graphs are its lists.
    groups: Option<IvfGroups>,
    /// The selection every problem runs: the cutoffs already applied, the dataset's pruning ratio.
    select: SelectConfig,
}

impl PartContext {
    /// The context of `parts` of `plan`; `groups` is the planner's index where it has one, else
    /// a plan whose problems need the global IVF lists rebuilds them (deterministically, from the
    /// same rows and settings) and checks they are the plan's.
    pub(crate) fn new(
        pruner: &Pruner,
        dataset: &Dataset,
        plan: &Plan,
        parts: &[usize],
        groups: Option<IvfGroups>,
    ) -> Result<Self> {
        let of_row = plan.assignment()?;
        let mut wanted = vec![false; plan.problems.len()];
        parts.iter().for_each(|&p| wanted[p] = true);
        let rows = problem_rows(&of_row, &wanted);
        let groups = match (plan.restricted(), groups, plan.global_ivf) {
            (false, ..) => None,
            (true, Some(groups), _) => Some(groups),
            (true, None, Some(settings)) => {
                let none = plan.problems.len() as u32;
                let candidates: Vec<usize> = (0..plan.n).filter(|&i| of_row[i] != none).collect();
                let groups = IvfGroups::build(
                    &dataset.embeddings,
                    &candidates,
                    &settings,
                    plan.partition_size,
                )?;
                groups.check_against(&candidates, &of_row)?;
                Some(groups)
            }
            (true, None, None) => return Err(Error::Plan("ivf-lists without IVF settings".into())),
        };
        let mut select = pruner.config.select.clone();
        if select.representativeness == Representativeness::Auto {
            let ratio = 1.0 - plan.k as f64 / plan.n as f64;
            select.representativeness = Representativeness::Fixed(ratio);
        }
        select.noise_cutoff = NoiseCutoff::Fraction(0.0);
        select.hard_tail = HardTail::Fraction(0.0);
        select.ccs_cutoff = CcsCutoff::Fraction(0.0);
        Ok(Self {
            rows,
            preselected: plan.preselected_rows()?,
            groups,
            select,
        })
    }
}

/// One problem with its graph built.
struct Graphed<'e> {
    part: usize,
    prepared: Prepared,
    /// Its embeddings, where the method reads them.
    embeddings: Option<CowArray<'e, f32, Ix2>>,
    cut_edges: Option<usize>,
    seconds: f64,
}

/// One problem solved: kept rows of the dataset and the solver's figures.
struct Solved {
    indices: Vec<usize>,
    objective: f64,
    iterations: usize,
    converged: bool,
    swaps: usize,
}

impl Pruner {
    /// Solves part `part` (one problem) of `plan` alone, as another process holding the plan and
    /// the same dataset would: [`crate::merge::merge`] of every part's outcome equals
    /// [`Pruner::run`]. The pruner must have the plan's configuration (its memory budget aside).
    pub fn run_part(&self, dataset: &Dataset, plan: &Plan, part: usize) -> Result<PartOutcome> {
        let mut out = self.run_parts(dataset, plan, &[part], &Silent)?;
        Ok(out.pop().expect("one part asked, one solved"))
    }

    /// Solves `parts` of `plan` (distinct problem indices), those sharing a batch of the plan
    /// together; returns their outcomes in the order asked. An `ivf-lists` plan rebuilds its
    /// global IVF index once per call, so a worker with many parts asks for them together.
    pub fn run_parts(
        &self,
        dataset: &Dataset,
        plan: &Plan,
        parts: &[usize],
        progress: &dyn Progress,
    ) -> Result<Vec<PartOutcome>> {
        plan.check()?;
        plan.check_for(dataset, &self.config)?;
        let mut seen = vec![false; plan.problems.len()];
        for &p in parts {
            if p >= seen.len() || std::mem::replace(&mut seen[p], true) {
                return Err(Error::Plan(format!(
                    "part {p} is not a distinct problem of the {} in the plan",
                    seen.len()
                )));
            }
        }
        let context = PartContext::new(self, dataset, plan, parts, None)?;
        let solved = parts.iter().filter(|&&p| plan.problems[p].k > 0).count() as u64;
        progress.start(Stage::Graph, solved);
        progress.start(Stage::Solve, solved);
        let mut timings = Timings::default();
        let out = self.solve_parts(dataset, plan, &context, parts, progress, &mut timings)?;
        progress.finish(Stage::Graph);
        progress.finish(Stage::Solve);
        Ok(out)
    }

    /// Solves the distinct `parts` batch by batch of the plan, adding the `graph` and `solve`
    /// seconds to `timings`.
    pub(crate) fn solve_parts(
        &self,
        dataset: &Dataset,
        plan: &Plan,
        context: &PartContext,
        parts: &[usize],
        progress: &dyn Progress,
        timings: &mut Timings,
    ) -> Result<Vec<PartOutcome>> {
        let mut wanted = vec![false; plan.problems.len()];
        parts.iter().for_each(|&p| wanted[p] = true);
        let mut done: Vec<Option<PartOutcome>> = vec![None; plan.problems.len()];
        for batch in &plan.batches {
            let batch: Vec<usize> = batch.iter().copied().filter(|&p| wanted[p]).collect();
            if !batch.is_empty() {
                for outcome in
                    self.solve_batch(dataset, plan, context, &batch, progress, timings)?
                {
                    let p = outcome.part;
                    done[p] = Some(outcome);
                }
            }
        }
        Ok(parts
            .iter()
            .map(|&p| {
                done[p]
                    .take()
                    .unwrap_or_else(|| PartOutcome::empty(p, plan.problems[p].size))
            })
            .collect())
    }

    /// Builds the graphs of `batch` in parallel, then solves them: the solver methods as one
    /// block-diagonal batch on the backend, the others one problem at a time.
    fn solve_batch(
        &self,
        dataset: &Dataset,
        plan: &Plan,
        context: &PartContext,
        batch: &[usize],
        progress: &dyn Progress,
        timings: &mut Timings,
    ) -> Result<Vec<PartOutcome>> {
        let select = &context.select;
        let start = Instant::now();
        let graphed: Vec<Graphed> = batch
            .par_iter()
            .map(|&p| self.graph_of(dataset, plan, context, p, progress))
            .collect::<Result<_>>()?;
        timings.add("graph", start.elapsed().as_secs_f64());

        let start = Instant::now();
        let solved: Vec<Solved> = if matches!(select.method, Method::InfoMax | Method::Greedy) {
            let algorithm = match select.method {
                Method::Greedy => Algorithm::LazyGreedy,
                _ => select.solver.into(),
            };
            let solver = SolverParams {
                algorithm,
                ..select.solver_params.clone()
            }
            .check()?;
            let problems = graphed
                .iter()
                .map(|g| {
                    let prep = &g.prepared;
                    OwnedProblem::new(
                        prep.importance.clone(),
                        prep.graph.clone(),
                        prep.k,
                        prep.alpha,
                    )
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let results = self
                .backend
                .solve(&ProblemBatch::new(problems), &solver, &Silent)?;
            graphed
                .iter()
                .zip(results)
                .map(|(g, r)| {
                    let rows = &context.rows[g.part];
                    Solved {
                        indices: r
                            .indices
                            .iter()
                            .map(|&i| rows[g.prepared.rows[i]])
                            .collect(),
                        objective: r.objective,
                        iterations: r.iterations,
                        converged: r.converged,
                        swaps: r.swaps,
                    }
                })
                .collect()
        } else {
            graphed
                .iter()
                .map(|g| self.select_part(dataset, context, g))
                .collect::<Result<_>>()?
        };
        let solve_seconds = start.elapsed().as_secs_f64();
        timings.add("solve", solve_seconds);
        progress.advance_stage(Stage::Solve, batch.len() as u64);

        // Every part's figures are made here, whichever way it was solved.
        Ok(graphed
            .into_iter()
            .zip(solved)
            .map(|(g, s)| {
                let mut indices = s.indices;
                indices.sort_unstable();
                PartOutcome {
                    part: g.part,
                    indices,
                    stats: PartitionStats {
                        size: context.rows[g.part].len(),
                        k: g.prepared.k,
                        objective: s.objective,
                        iterations: s.iterations,
                        alpha: g.prepared.alpha,
                        nnz: g.prepared.graph.nnz(),
                        converged: s.converged,
                        swaps: s.swaps,
                        search: g.prepared.search,
                    },
                    cut_edges: g.cut_edges,
                    graph_seconds: g.seconds,
                    solve_seconds: solve_seconds / batch.len() as f64,
                }
            })
            .collect())
    }

    /// Problem `p`'s graph and importance: the global IVF lists restricted to it, or its own
    /// kNN search.
    fn graph_of<'e>(
        &self,
        dataset: &'e Dataset,
        plan: &Plan,
        context: &PartContext,
        p: usize,
        progress: &dyn Progress,
    ) -> Result<Graphed<'e>> {
        let start = Instant::now();
        let select = &context.select;
        let rows = &context.rows[p];
        let scores = gather(dataset.inputs.scores, rows);
        let selector = Selector::with_backend(
            SelectConfig {
                k: plan.problems[p].k,
                ..select.clone()
            },
            self.backend.clone(),
        )?;
        let (prepared, cut_edges, embeddings) = match &context.groups {
            Some(groups) => {
                let (graph, cut) = groups.graph(p, select.knn.neighbors, select.knn.symmetrize)?;
                let prepared = selector.prepare_with_graph(graph, scores.as_deref(), None)?;
                // The solver methods read only the graph; the others may read the features.
                let embeddings = match select.method {
                    Method::InfoMax | Method::Greedy => None,
                    _ => Some(dataset.embeddings.rows(rows)?),
                };
                (prepared, Some(cut), embeddings)
            }
            None => {
                let e = dataset.embeddings.rows(rows)?;
                let prepared = selector
                    .prepare(e.view(), scores.as_deref(), None, &Silent)
                    .map_err(|err| original_index(err, rows, e.ncols()))?;
                (prepared, None, Some(e))
            }
        };
        progress.advance_stage(Stage::Graph, 1);
        Ok(Graphed {
            part: p,
            prepared,
            embeddings,
            cut_edges,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// A method other than the solver's on one problem (SemDeDup: scores its preselected set).
    fn select_part(&self, dataset: &Dataset, context: &PartContext, g: &Graphed) -> Result<Solved> {
        let select = &context.select;
        let rows = &context.rows[g.part];
        let prep = &g.prepared;
        let (labels, aum) = (
            gather(dataset.inputs.labels, rows),
            gather(dataset.inputs.aum, rows),
        );
        let extras = Extras {
            labels: labels.as_deref(),
            aum: aum.as_deref(),
            embeddings: g.embeddings.as_ref().map(|e| e.view()),
        };
        let config = SelectConfig {
            k: prep.k,
            ..select.clone()
        };
        let sel = match &context.preselected {
            Some(kept) => {
                let local = (0..prep.rows.len()).filter(|&i| kept[rows[prep.rows[i]]]);
                prep.selection_of(Method::SemDedup, local.collect())?
            }
            None => prep.select_with(&config, select.method, extras, &Silent)?,
        };
        Ok(Solved {
            indices: sel.indices.iter().map(|&i| rows[i]).collect(),
            objective: sel.objective,
            iterations: sel.iterations,
            converged: sel.converged,
            swaps: sel.swaps,
        })
    }
}
