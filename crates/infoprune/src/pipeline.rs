//! The million-sample pipeline (SPEC §1.4) as three stages over data: a [`Plan`] (noise cutoff →
//! layout and partitions → budgets → batches that fit the backend; [`Pruner::plan`]), the parts
//! (per-problem graphs and solves, a batch at a time; [`Pruner::run_part`]), and their
//! [`merge`] into one selection. [`Pruner::run`] runs the three in one process.
//!
//! Memory is bounded by the batch, not by n: embeddings can come from a memory map, rows are
//! gathered one batch at a time, and only pairs inside a problem ever get a similarity.

use crate::core_serde::option_search_info;
pub use crate::dataset::{Dataset, Embeddings, SampleInputs};
use crate::error::{Error, Result};
use crate::merge::merge;
use crate::partition::PartitionConfig;
use crate::parts::PartContext;
use crate::plan::Plan;
use infoprune_core::backend::{Backend, CpuBackend};
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::ivf::{IvfSettings, Recall, ResolvedSearch, SearchInfo};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::select::{Extras, SelectConfig, Selector};
use infoprune_core::solver::Method;
use infoprune_core::timing::Timings;
use infoprune_core::CoreError;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything the pipeline needs besides the data.
#[derive(Debug, Clone)]
pub struct PrunerConfig {
    /// The selection (budget, method, solver, graph, importance, α, seed).
    pub select: SelectConfig,
    /// How samples are cut into partitions.
    pub partition: PartitionConfig,
    /// Keep each class's share of the budget exactly (needs labels): partitions are split by class
    /// and each class gets its largest-remainder share of `k`.
    pub class_quota: bool,
    /// Classes that must receive a quota; one without samples is an error (empty: every class
    /// present gets its share).
    pub quota_classes: Vec<i64>,
}

impl PrunerConfig {
    /// Keep `k`, SPEC defaults everywhere (random partitions of at most 50,000).
    pub fn new(k: usize) -> Self {
        Self {
            select: SelectConfig::new(k),
            partition: PartitionConfig::default(),
            class_quota: false,
            quota_classes: Vec::new(),
        }
    }
}

/// What one partition contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionStats {
    /// Samples in the partition.
    pub size: usize,
    /// Samples kept from it.
    pub k: usize,
    /// Its `f(S)` (partitions do not interact, so the total is the sum).
    pub objective: f64,
    /// Solver iterations.
    pub iterations: usize,
    /// Its pairwise weight.
    pub alpha: f64,
    /// Stored entries of its similarity graph.
    pub nnz: usize,
    /// Whether its solver converged.
    pub converged: bool,
    /// Swaps its refinement applied.
    pub swaps: usize,
    /// The search that built its graph (`None` for a given graph or a graph restricted from the
    /// global IVF lists).
    #[serde(with = "option_search_info")]
    pub search: Option<SearchInfo>,
}

impl PartitionStats {
    /// The figures of a partition of `size` rows that keeps nothing.
    pub fn empty(size: usize) -> Self {
        Self {
            size,
            k: 0,
            objective: 0.0,
            iterations: 0,
            alpha: 0.0,
            nnz: 0,
            converged: true,
            swaps: 0,
            search: None,
        }
    }
}

/// How the rows were laid out into problems (SPEC §1.4); in JSON by [`Layout::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Partitions as [`PartitionConfig`]'s `method` and `max_size` say.
    Configured,
    /// One problem over all candidate rows, on the near-global IVF graph.
    Global,
    /// Groups of whole IVF lists, each with the global IVF lists restricted to it (the global
    /// problem did not fit the memory budget).
    IvfLists,
}

impl Layout {
    /// The name reports use: `configured`, `global` or `ivf-lists`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Configured => "configured",
            Layout::Global => "global",
            Layout::IvfLists => "ivf-lists",
        }
    }
}

/// The graph search of a whole run, summarised over its partitions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSummary {
    /// `exact`, `ivf`, `mixed` (partitions searched differently) or `given` (`select --graph`).
    pub knn: &'static str,
    /// Lists of the IVF search, when every IVF partition used the same number.
    pub nlist: Option<usize>,
    /// Lists probed per row, likewise.
    pub nprobe: Option<usize>,
    /// Recall@m over every sampled row of every partition that measured it.
    pub recall: Option<Recall>,
}

impl SearchSummary {
    /// The summary of a given graph.
    pub fn given() -> Self {
        Self {
            knn: "given",
            nlist: None,
            nprobe: None,
            recall: None,
        }
    }

    /// Summarises the searches of the partitions (in order).
    pub fn of<'a>(infos: impl IntoIterator<Item = &'a SearchInfo>) -> Self {
        let infos: Vec<&SearchInfo> = infos.into_iter().collect();
        let mut knn = infos.first().map_or("exact", |i| i.name());
        if infos.iter().any(|i| i.name() != knn) {
            knn = "mixed";
        }
        let ivf: Vec<IvfSettings> = infos
            .iter()
            .filter_map(|i| match i.search {
                ResolvedSearch::Ivf(s) => Some(s),
                ResolvedSearch::Exact => None,
            })
            .collect();
        let same = |f: fn(&IvfSettings) -> usize| {
            let first = ivf.first().map(f)?;
            ivf.iter().all(|s| f(s) == first).then_some(first)
        };
        let measured: Vec<Recall> = infos.iter().filter_map(|i| i.recall).collect();
        let recall = (!measured.is_empty()).then(|| {
            let expected: usize = measured.iter().map(|r| r.expected).sum();
            let found: usize = measured.iter().map(|r| r.found).sum();
            Recall {
                sampled: measured.iter().map(|r| r.sampled).sum(),
                expected,
                found,
                recall: if expected == 0 {
                    1.0
                } else {
                    found as f64 / expected as f64
                },
            }
        });
        Self {
            knn,
            nlist: same(|s| s.nlist),
            nprobe: same(|s| s.nprobe),
            recall,
        }
    }
}

/// The outcome of a pipeline run.
#[derive(Debug, Clone)]
pub struct Pruned {
    /// Kept rows of the input, sorted, exactly k.
    pub indices: Vec<usize>,
    /// Per-partition figures, in partition order.
    pub partitions: Vec<PartitionStats>,
    /// Σ of the partitions' `f(S)`.
    pub objective: f64,
    /// Samples dropped by the noise cutoff.
    pub dropped_noisy: usize,
    /// Batches the partitions were solved in.
    pub batches: usize,
    /// Seconds per stage: `partition`, `graph`, `solve`.
    pub timings: Timings,
    /// How the rows were laid out into problems.
    pub layout: Layout,
    /// The graph search, over all partitions.
    pub search: SearchSummary,
    /// Row-wise neighbour entries of the global IVF graph that partitioning into groups of lists
    /// dropped (`Some(0)` for one global problem; `None` where partitions built their own graphs
    /// and so never saw the global one).
    pub cut_edges: Option<usize>,
}

/// The pipeline: a configuration and a backend.
pub struct Pruner {
    pub(crate) config: PrunerConfig,
    pub(crate) backend: Arc<dyn Backend>,
}

impl Pruner {
    /// A pruner on the CPU backend.
    pub fn new(config: PrunerConfig) -> Self {
        Self {
            config,
            backend: Arc::new(CpuBackend),
        }
    }

    /// Runs on `backend` instead.
    pub fn backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = backend;
        self
    }

    /// The backend in use.
    pub fn backend_ref(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

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

/// Rewrites a non-finite-embedding error from a partition so that it names the original index.
pub(crate) fn original_index(err: CoreError, rows: &[usize], d: usize) -> Error {
    match err {
        CoreError::NonFinite {
            what: "embeddings",
            index,
            value,
        } if d > 0 => CoreError::NonFinite {
            what: "embeddings",
            index: rows[index / d] * d + index % d,
            value,
        }
        .into(),
        other => other.into(),
    }
}
