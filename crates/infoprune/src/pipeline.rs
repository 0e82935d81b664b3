//! The million-sample pipeline (SPEC §1.4): noise cutoff → partitions → budgets → batches that fit
//! the backend → per-partition graphs and problems → batched solve → merged selection.
//!
//! Memory is bounded by the batch, not by n: embeddings can come from a memory map, rows are
//! gathered one batch at a time, and only pairs inside a partition ever get a similarity.

use crate::error::{Error, Result};
use crate::npy_map::MappedMatrix;
use crate::partition::{
    class_quota_budgets, partition, partition_budgets, split_by_class, PartitionConfig,
    PartitionMethod,
};
use crate::semdedup::{semdedup, SemDedupConfig};
use infoprune_core::backend::{Backend, CpuBackend, OwnedProblem, ProblemBatch};
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::importance::{NoiseCutoff, Representativeness};
use infoprune_core::ivf::{
    group_lists, partition_lists, IvfIndex, IvfSettings, Recall, ResolvedSearch, SearchInfo,
};
use infoprune_core::knn::symmetrize_lists;
use infoprune_core::memory;
use infoprune_core::progress::{Progress, Silent, Stage};
use infoprune_core::select::{remaining_rows, Extras, Prepared, SelectConfig, Selector};
use infoprune_core::selectors::CcsCutoff;
use infoprune_core::solver::{Algorithm, Method, SolverParams};
use infoprune_core::timing::Timings;
use infoprune_core::CoreError;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Where the embeddings come from.
#[derive(Debug, Clone, Copy)]
pub enum Embeddings<'a> {
    /// An in-memory matrix.
    View(ArrayView2<'a, f32>),
    /// A memory-mapped `.npy`.
    Mapped(&'a MappedMatrix),
}

impl Embeddings<'_> {
    /// Rows.
    pub fn nrows(&self) -> usize {
        match self {
            Embeddings::View(v) => v.nrows(),
            Embeddings::Mapped(m) => m.nrows(),
        }
    }

    /// Columns.
    pub fn ncols(&self) -> usize {
        match self {
            Embeddings::View(v) => v.ncols(),
            Embeddings::Mapped(m) => m.ncols(),
        }
    }

    /// Rejects a NaN or infinite value, naming its flat (row-major) index; blocks of rows are
    /// read at a time so a mapped file is never loaded whole.
    pub fn check_finite(&self) -> Result<()> {
        const BLOCK: usize = 65_536;
        let (n, d) = (self.nrows(), self.ncols());
        if d == 0 {
            return Err(CoreError::InvalidParameter {
                name: "embeddings",
                value: "d = 0".into(),
                reason: "need at least one feature column",
            }
            .into());
        }
        let mut first = 0;
        while first < n {
            let rows: Vec<usize> = (first..(first + BLOCK).min(n)).collect();
            let block = self.gather(&rows)?;
            if let Some((flat, &value)) = block.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "embeddings",
                    index: first * d + flat,
                    value: value as f64,
                }
                .into());
            }
            first += BLOCK;
        }
        Ok(())
    }

    /// Every row as f32, viewed in place where possible (see [`MappedMatrix::whole`]).
    pub fn whole(&self) -> Result<CowArray<'_, f32, Ix2>> {
        match self {
            Embeddings::View(v) => Ok(v.view().into()),
            Embeddings::Mapped(m) => Ok(m.whole()?),
        }
    }

    /// The given rows, as f32.
    pub fn gather(&self, rows: &[usize]) -> Result<Array2<f32>> {
        match self {
            Embeddings::View(v) => Ok(v.select(ndarray::Axis(0), rows)),
            Embeddings::Mapped(m) => Ok(m.gather(rows)?),
        }
    }
}

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
#[derive(Debug, Clone, PartialEq)]
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
    pub search: Option<SearchInfo>,
}

/// How the rows were laid out into problems (SPEC §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The global IVF index of the candidate rows and its groups of whole lists, for
/// [`Layout::IvfLists`].
struct IvfGroups {
    index: IvfIndex,
    groups: Vec<Vec<std::ops::Range<usize>>>,
    /// Group of each candidate row, and its index inside the group.
    part: Vec<u32>,
    local: Vec<u32>,
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

/// Per-sample inputs besides the embeddings, all of length n (or absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleInputs<'a> {
    /// Importance (high = keep).
    pub scores: Option<&'a [f32]>,
    /// Class labels.
    pub labels: Option<&'a [i64]>,
    /// Noise signal (high = likely mislabeled).
    pub noise: Option<&'a [f32]>,
    /// Area under the margin (CCS's cutoff).
    pub aum: Option<&'a [f32]>,
}

impl SampleInputs<'_> {
    /// Checks that every input has `n` entries (`rows` names what `n` counts in the error, plus
    /// any `extra` lengths to hold to it). Finiteness is checked apart, after the embeddings', so
    /// the first bad value reported is the embeddings' when both have one.
    fn check(&self, n: usize, rows: &str, extra: Option<(&str, usize)>) -> Result<()> {
        for (what, len) in [
            ("scores", self.scores.map(<[f32]>::len)),
            ("labels", self.labels.map(<[i64]>::len)),
            ("noise", self.noise.map(<[f32]>::len)),
            ("aum", self.aum.map(<[f32]>::len)),
            extra.map_or(("", None), |(what, len)| (what, Some(len))),
        ] {
            if let Some(len) = len.filter(|&len| len != n) {
                return Err(CoreError::ShapeMismatch {
                    what: format!("{what} length vs {rows}"),
                    expected: n,
                    found: len,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Rejects a NaN or infinite score, noise value or margin, naming the input and the index.
    fn check_finite(&self) -> Result<()> {
        for (what, v) in [
            ("scores", self.scores),
            ("noise", self.noise),
            ("aum", self.aum),
        ] {
            if let Some(v) = v {
                infoprune_core::error::check_finite(what, v)?;
            }
        }
        Ok(())
    }
}

/// The pipeline: a configuration and a backend.
pub struct Pruner {
    config: PrunerConfig,
    backend: Arc<dyn Backend>,
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

    /// Selects `k` samples of `embeddings`.
    pub fn run(
        &self,
        embeddings: Embeddings,
        inputs: SampleInputs,
        progress: &dyn Progress,
    ) -> Result<Pruned> {
        let n = embeddings.nrows();
        let k = self.config.select.k;
        if n == 0 {
            return Err(CoreError::Empty { what: "embeddings" }.into());
        }
        if k == 0 || k > n {
            return Err(CoreError::InvalidBudget { k, n }.into());
        }
        inputs.check(n, "embedding rows", None)?;
        // One pass over the embeddings before any work, so a bad value far into a mapped file fails
        // the run at once rather than after hours of graphs.
        embeddings.check_finite()?;
        inputs.check_finite()?;
        // Validate the configuration once, before any work.
        Selector::with_backend(self.config.select.clone(), self.backend.clone())?;
        if self.config.class_quota && inputs.labels.is_none() {
            return Err(Error::Usage("--class-quota needs --labels".into()));
        }
        if !self.config.quota_classes.is_empty() && !self.config.class_quota {
            return Err(Error::Usage("--quota-classes needs --class-quota".into()));
        }
        let mut timings = Timings::default();

        // Noise cutoff over the whole dataset, before partitioning.
        let start = Instant::now();
        let mut dropped = match inputs.noise {
            Some(noise) => self.config.select.noise_cutoff.noisiest(noise, k)?,
            None => Vec::new(),
        };
        if let (Method::Ccs, Some(aum)) = (self.config.select.method, inputs.aum) {
            dropped = ccs_cut(&self.config.select, aum, dropped, n)?;
        }
        let rows = remaining_rows(n, &dropped);
        progress.start(Stage::Partition, 1);
        let (layout, settings) = self.layout(rows.len(), embeddings.ncols())?;
        let mut ivf_groups: Option<IvfGroups> = None;
        let partitions = match (layout, settings) {
            (Layout::Global, _) => vec![rows.clone()],
            (Layout::IvfLists, Some(settings)) => {
                let candidates = self.gather_rows(&embeddings, &rows)?;
                let index = IvfIndex::build(candidates.view(), &settings)
                    .map_err(|err| original_index(err, &rows, embeddings.ncols()))?;
                drop(candidates);
                let groups = group_lists(&index, self.config.partition.max_size)?;
                let mut part = vec![0u32; rows.len()];
                let mut local = vec![0u32; rows.len()];
                let mut partitions = Vec::with_capacity(groups.len());
                for (g, ranges) in groups.iter().enumerate() {
                    let mut members: Vec<usize> = ranges
                        .iter()
                        .flat_map(|r| index.order()[r.clone()].iter().map(|&i| i as usize))
                        .collect();
                    members.sort_unstable();
                    for (li, &i) in members.iter().enumerate() {
                        part[i] = g as u32;
                        local[i] = li as u32;
                    }
                    partitions.push(members.into_iter().map(|i| rows[i]).collect());
                }
                ivf_groups = Some(IvfGroups {
                    index,
                    groups,
                    part,
                    local,
                });
                partitions
            }
            _ => {
                // k-means needs every row at once; a mapped float32 file is viewed in place.
                let all = if self.config.partition.method == PartitionMethod::KMeans {
                    Some(embeddings.whole()?)
                } else {
                    None
                };
                let kmeans_view = all.as_ref().map(|a| a.view());
                partition(&rows, kmeans_view, inputs.labels, &self.config.partition)?
            }
        };
        // Class cells are not whole groups of lists: each builds its own graph then.
        let restricted = ivf_groups.as_ref().filter(|_| !self.config.class_quota);
        let cut_edges = AtomicUsize::new(0);
        let (partitions, budgets) = if self.config.class_quota {
            let labels = inputs.labels.expect("checked above");
            let cells = split_by_class(partitions, labels)?;
            let budgets = class_quota_budgets(&cells, labels, k, &self.config.quota_classes)?;
            (cells, budgets)
        } else {
            let budgets = partition_budgets(&partitions, k)?;
            (partitions, budgets)
        };
        // SemDeDup chooses its set across all clusters at once; the partitions then only score it.
        let mut budgets = budgets;
        let semdedup_kept = match self.config.select.method {
            Method::SemDedup => Some(semdedup_rows(
                &self.config.select,
                embeddings,
                &rows,
                inputs.scores,
                &partitions,
                &mut budgets,
            )?),
            _ => None,
        };
        timings.add("partition", start.elapsed().as_secs_f64());
        progress.advance(1);
        progress.finish(Stage::Partition);

        // Every partition shares the dataset's pruning ratio, and the cutoff has been applied.
        let mut select = self.config.select.clone();
        if select.representativeness == Representativeness::Auto {
            select.representativeness = Representativeness::Fixed(1.0 - k as f64 / n as f64);
        }
        select.noise_cutoff = NoiseCutoff::Fraction(0.0);
        select.ccs_cutoff = CcsCutoff::Fraction(0.0);

        let work: Vec<usize> = (0..partitions.len()).filter(|&p| budgets[p] > 0).collect();
        let batches = self.plan(&partitions, &work);
        let mut kept: Vec<usize> = Vec::with_capacity(k);
        let mut stats = vec![
            PartitionStats {
                size: 0,
                k: 0,
                objective: 0.0,
                iterations: 0,
                alpha: 0.0,
                nnz: 0,
                converged: true,
                swaps: 0,
                search: None,
            };
            partitions.len()
        ];
        for (p, part) in partitions.iter().enumerate() {
            stats[p].size = part.len();
        }
        progress.start(Stage::Graph, work.len() as u64);
        progress.start(Stage::Solve, work.len() as u64);
        for batch in &batches {
            let start = Instant::now();
            let prepared: Vec<(usize, Prepared, CowArray<f32, Ix2>)> = batch
                .par_iter()
                .map(|&p| {
                    let rows = &partitions[p];
                    let e = self.gather_rows(&embeddings, rows)?;
                    let scores: Option<Vec<f32>> =
                        inputs.scores.map(|s| rows.iter().map(|&i| s[i]).collect());
                    let selector = Selector::with_backend(
                        SelectConfig {
                            k: budgets[p],
                            ..select.clone()
                        },
                        self.backend.clone(),
                    )?;
                    let prepared = match restricted {
                        Some(g) => {
                            let (lists, cut) = partition_lists(
                                &g.index,
                                &g.groups[p],
                                select.knn.neighbors,
                                p as u32,
                                &g.part,
                                &g.local,
                            );
                            cut_edges.fetch_add(cut, Ordering::Relaxed);
                            let graph = symmetrize_lists(rows.len(), lists, select.knn.symmetrize)?;
                            selector.prepare_with_graph(graph, scores.as_deref(), None)?
                        }
                        None => selector
                            .prepare(e.view(), scores.as_deref(), None, &Silent)
                            .map_err(|err| original_index(err, rows, e.ncols()))?,
                    };
                    progress.advance_stage(Stage::Graph, 1);
                    Ok((p, prepared, e))
                })
                .collect::<Result<_>>()?;
            timings.add("graph", start.elapsed().as_secs_f64());

            let start = Instant::now();
            let solver_method = matches!(select.method, Method::InfoMax | Method::Greedy);
            if solver_method {
                let algorithm = match select.method {
                    Method::Greedy => Algorithm::LazyGreedy,
                    _ => select.solver.into(),
                };
                let solver = SolverParams {
                    algorithm,
                    ..select.solver_params.clone()
                }
                .check()?;
                let problems = prepared
                    .iter()
                    .map(|(_, prep, _)| {
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
                for ((p, prep, _), result) in prepared.iter().zip(results) {
                    kept.extend(result.indices.iter().map(|&i| partitions[*p][prep.rows[i]]));
                    stats[*p] = PartitionStats {
                        size: partitions[*p].len(),
                        k: prep.k,
                        objective: result.objective,
                        iterations: result.iterations,
                        alpha: prep.alpha,
                        nnz: prep.graph.nnz(),
                        converged: result.converged,
                        swaps: result.swaps,
                        search: prep.search,
                    };
                }
            } else {
                for (p, prep, e) in &prepared {
                    let rows = &partitions[*p];
                    let labels: Option<Vec<i64>> =
                        inputs.labels.map(|l| rows.iter().map(|&i| l[i]).collect());
                    let aum: Option<Vec<f32>> =
                        inputs.aum.map(|a| rows.iter().map(|&i| a[i]).collect());
                    let extras = Extras {
                        labels: labels.as_deref(),
                        aum: aum.as_deref(),
                        embeddings: Some(e.view()),
                    };
                    let config = SelectConfig {
                        k: prep.k,
                        ..select.clone()
                    };
                    let sel = match &semdedup_kept {
                        Some(kept) => {
                            let local = (0..prep.rows.len()).filter(|&i| kept[rows[prep.rows[i]]]);
                            prep.selection_of(Method::SemDedup, local.collect())?
                        }
                        None => prep.select_with(&config, select.method, extras, &Silent)?,
                    };
                    kept.extend(sel.indices.iter().map(|&i| rows[i]));
                    stats[*p] = PartitionStats {
                        size: rows.len(),
                        k: prep.k,
                        objective: sel.objective,
                        iterations: sel.iterations,
                        alpha: prep.alpha,
                        nnz: prep.graph.nnz(),
                        converged: sel.converged,
                        swaps: sel.swaps,
                        search: prep.search,
                    };
                }
            }
            timings.add("solve", start.elapsed().as_secs_f64());
            progress.advance_stage(Stage::Solve, batch.len() as u64);
        }
        progress.finish(Stage::Graph);
        progress.finish(Stage::Solve);
        kept.sort_unstable();
        debug_assert_eq!(kept.len(), k);
        let search = match (&ivf_groups, settings) {
            (Some(_), Some(settings)) if restricted.is_some() => SearchSummary::of(&[SearchInfo {
                search: ResolvedSearch::Ivf(settings),
                recall: None,
            }]),
            _ => SearchSummary::of(stats.iter().filter_map(|s| s.search.as_ref())),
        };
        let cut_edges = match layout {
            Layout::Global => Some(0),
            Layout::IvfLists if restricted.is_some() => Some(cut_edges.into_inner()),
            _ => None,
        };
        Ok(Pruned {
            objective: stats.iter().map(|s| s.objective).sum(),
            indices: kept,
            partitions: stats,
            dropped_noisy: dropped.len(),
            batches: batches.len(),
            timings,
            layout,
            search,
            cut_edges,
        })
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

    /// The layout of the candidate rows (SPEC §1.4) and, when the search comes to IVF over all
    /// of them, its settings: with [`PartitionConfig::global`] one problem when the IVF estimate
    /// (input counted as float32) fits the memory budget, else groups of whole IVF lists.
    fn layout(&self, candidates: usize, d: usize) -> Result<(Layout, Option<IvfSettings>)> {
        let part = &self.config.partition;
        if !part.global {
            return Ok((Layout::Configured, None));
        }
        let settings = match self.config.select.search.resolve(candidates)? {
            ResolvedSearch::Exact => return Ok((Layout::Configured, None)),
            ResolvedSearch::Ivf(settings) => settings,
        };
        let estimate = memory::estimate_ivf(
            candidates as u64,
            d as u64,
            4,
            self.config.select.knn.neighbors as u64,
            rayon::current_num_threads() as u64,
            settings.nlist as u64,
            settings.nprobe as u64,
        );
        let fits = part.memory_budget.is_none_or(|b| estimate.peak <= b);
        Ok((
            if fits {
                Layout::Global
            } else {
                Layout::IvfLists
            },
            Some(settings),
        ))
    }

    /// The given rows as f32: every row viewed in place where possible, else gathered.
    fn gather_rows<'e>(
        &self,
        embeddings: &'e Embeddings,
        rows: &[usize],
    ) -> Result<CowArray<'e, f32, Ix2>> {
        if rows.len() == embeddings.nrows() {
            embeddings.whole()
        } else {
            Ok(embeddings.gather(rows)?.into())
        }
    }

    /// Groups the partitions to solve into batches: as many as fit the backend's limits (a
    /// symmetrised kNN graph holds at most 2·m entries per row), and on the CPU no more than the
    /// worker threads can build at once, so memory stays bounded by a batch.
    fn plan(&self, partitions: &[Vec<usize>], work: &[usize]) -> Vec<Vec<usize>> {
        let limits = self.backend.limits();
        let m = self.config.select.knn.neighbors;
        let cap = limits
            .max_problems
            .min(rayon::current_num_threads().max(1) * 4);
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let (mut rows, mut nnz) = (0usize, 0usize);
        for &p in work {
            let (r, z) = (partitions[p].len(), 2 * m * partitions[p].len());
            let open = batches.last().map_or(0, Vec::len);
            if open == 0 || open >= cap || !limits.fits(open + 1, rows + r, nnz + z) {
                batches.push(Vec::new());
                rows = 0;
                nnz = 0;
            }
            batches.last_mut().expect("just opened").push(p);
            rows += r;
            nnz += z;
        }
        batches
    }
}

/// SemDeDup over the remaining `rows` of the whole dataset ([`crate::semdedup`]); returns which
/// rows it keeps and sets each partition's budget to its kept members.
fn semdedup_rows(
    select: &SelectConfig,
    embeddings: Embeddings,
    rows: &[usize],
    scores: Option<&[f32]>,
    partitions: &[Vec<usize>],
    budgets: &mut [usize],
) -> Result<Vec<bool>> {
    let all = embeddings.whole()?;
    let config = SemDedupConfig {
        k: select.k,
        keep: select.semdedup_keep,
        cluster_size: select.semdedup_cluster_size,
        seed: select.seed,
    };
    let out = semdedup(all.view(), rows, scores, &config)?;
    let mut kept = vec![false; embeddings.nrows()];
    for &i in &out.indices {
        kept[i] = true;
    }
    for (budget, part) in budgets.iter_mut().zip(partitions) {
        *budget = part.iter().filter(|&&i| kept[i]).count();
    }
    Ok(kept)
}

/// CCS's own cutoff (SPEC §4) over the whole dataset, before partitioning, like the noise cutoff:
/// adds to the sorted `dropped` the `⌊β·n⌋` lowest-AUM samples of the rest (ties: smaller index),
/// never so many that fewer than `k` remain.
fn ccs_cut(
    select: &SelectConfig,
    aum: &[f32],
    dropped: Vec<usize>,
    n: usize,
) -> Result<Vec<usize>> {
    let k = select.k;
    let beta = select.ccs_cutoff.validate()?.beta(k, n);
    let mut rest = remaining_rows(n, &dropped);
    let count = ((beta * n as f64).floor() as usize).min(rest.len().saturating_sub(k));
    rest.sort_by(|&a, &b| aum[a].total_cmp(&aum[b]).then(a.cmp(&b)));
    let mut all = dropped;
    all.extend_from_slice(&rest[..count]);
    all.sort_unstable();
    Ok(all)
}

/// Rewrites a non-finite-embedding error from a partition so that it names the original index.
fn original_index(err: CoreError, rows: &[usize], d: usize) -> Error {
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
