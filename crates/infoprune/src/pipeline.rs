//! The million-sample pipeline (SPEC §1.4) as three stages over data: a [`Plan`] (noise cutoff →
//! layout and partitions → budgets → batches that fit the backend; [`Pruner::plan`]), the parts
//! (per-problem graphs and solves, a batch at a time; [`Pruner::run_part`]), and their
//! [`merge`] into one selection. [`Pruner::run`] runs the three in one process.
//!
//! Memory is bounded by the batch, not by n: embeddings can come from a memory map, rows are
//! gathered one batch at a time, and only pairs inside a problem ever get a similarity.

pub use crate::dataset::{Dataset, Embeddings, SampleInputs};
use crate::error::{Error, Result};
use crate::merge::merge;
use crate::parts::PartContext;
use crate::plan::Plan;
pub use crate::pruned::{Layout, PartitionStats, Pruned, SearchSummary};
pub use crate::pruner::{Pruner, PrunerConfig};
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::select::{Extras, Selector};
use infoprune_core::solver::Method;
use infoprune_core::timing::Timings;
use infoprune_core::CoreError;
use ndarray::ArrayView2;

impl Pruner {
    /// Selects `k` samples of `embeddings`: [`Pruner::plan`], every part of the plan solved
    /// here a batch at a time, and [`merge`]; timings per stage (`partition`, `graph`, `solve`).
    pub fn run<'a>(
        &self,
        embeddings: Embeddings<'a>,
        inputs: SampleInputs<'a>,
        progress: &dyn Progress,
    ) -> Result<Pruned> {
        let dataset = Dataset::new(embeddings, inputs);
        let mut timings = Timings::default();
        let (plan, groups): (Plan, _) = self.plan_with(&dataset, progress, &mut timings)?;
        let parts = plan.parts();
        let context = PartContext::new(self, &dataset, &plan, &parts, groups)?;
        progress.start(Stage::Graph, parts.len() as u64);
        progress.start(Stage::Solve, parts.len() as u64);
        let outcomes =
            self.solve_parts(&dataset, &plan, &context, &parts, progress, &mut timings)?;
        progress.finish(Stage::Graph);
        progress.finish(Stage::Solve);
        let pruned = merge(&plan, &outcomes)?;
        Ok(Pruned { timings, ..pruned })
    }

    /// Selects `k` of the `n` samples of a given similarity `graph` (`select --graph`): one problem
    /// over all samples, no partitions and no kNN graph. The importance, the noise cutoff, `α` and
    /// every method work as in [`Pruner::run`], with the typicality (degree) taken from `graph`;
    /// samples dropped by the noise cutoff are removed together with their rows and columns of
    /// `graph`. `embeddings` (`n` rows) are needed only by [`Method::Moderate`].
    ///
    /// With `--normalize raw`, `γ = 0` and no noise dropped, this maximises exactly
    /// `Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij` for the given `s` and `K`.
    pub fn run_graph<'a>(
        &self,
        graph: CsrSimilarity,
        embeddings: Option<ArrayView2<'a, f32>>,
        inputs: SampleInputs<'a>,
        progress: &dyn Progress,
    ) -> Result<Pruned> {
        let n = graph.n();
        let select = &self.config.select;
        let k = select.k;
        if n == 0 {
            return Err(CoreError::Empty { what: "graph" }.into());
        }
        if k == 0 || k > n {
            return Err(CoreError::InvalidBudget { k, n }.into());
        }
        inputs.check(
            n,
            "graph rows",
            embeddings.map(|e| ("embedding rows", e.nrows())),
        )?;
        if let Some(e) = embeddings {
            Embeddings::View(e).check_finite()?;
        }
        inputs.check_finite()?;
        let selector = Selector::with_backend(select.clone(), self.backend.clone())?;
        if self.config.class_quota || !self.config.quota_classes.is_empty() {
            return Err(Error::Usage(
                "--class-quota needs partitions, and a given --graph is solved as one problem"
                    .into(),
            ));
        }
        if select.method == Method::Moderate && embeddings.is_none() {
            return Err(Error::Usage(
                "--method moderate needs the features: give --embeddings along with --graph".into(),
            ));
        }

        let prepared = selector.prepare_with_graph(graph, inputs.scores, inputs.noise)?;
        let (nnz, alpha) = (prepared.graph.nnz(), prepared.alpha);
        let extras = Extras {
            labels: inputs.labels,
            aum: inputs.aum,
            embeddings,
        };
        let selection = prepared.select_with(select, select.method, extras, progress)?;
        // CCS drops its lowest-AUM samples inside the selection, from the rows that remain.
        let ccs_dropped = match (select.method, inputs.aum) {
            (Method::Ccs, Some(aum)) => {
                let kept: Vec<f32> = prepared.rows.iter().map(|&i| aum[i]).collect();
                select.ccs_cutoff.lowest(&kept, k)?.len()
            }
            _ => 0,
        };
        let mut indices = selection.indices;
        indices.sort_unstable();
        Ok(Pruned {
            indices,
            partitions: vec![PartitionStats {
                size: n,
                k,
                objective: selection.objective,
                iterations: selection.iterations,
                alpha,
                nnz,
                converged: selection.converged,
                swaps: selection.swaps,
                search: None,
            }],
            objective: selection.objective,
            dropped_noisy: prepared.dropped_noisy.len() + ccs_dropped,
            batches: 1,
            timings: selection.timings,
            layout: Layout::Global,
            search: SearchSummary::given(),
            cut_edges: Some(0),
        })
    }
}
