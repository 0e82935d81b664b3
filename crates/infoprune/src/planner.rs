//! Making a [`Plan`] (SPEC §1.4): the cutoffs over the whole dataset, the layout (one global
//! problem, groups of whole IVF lists, or the configured partitions), class cells, budgets by
//! largest remainder, SemDeDup's set, the batches that fit the backend, and the memory estimate.
//! Everything here runs before any graph is built.

use crate::dataset::{Dataset, Embeddings};
use crate::error::{Error, Result};
use crate::ivf_groups::IvfGroups;
use crate::packed_ints::PackedInts;
use crate::partition::{
    class_quota_budgets, partition, partition_budgets, split_by_class, PartitionMethod,
};
use crate::plan::PLAN_FORMAT;
use crate::plan::{config_fingerprint, InputKinds, Plan, PlanMemory, Problem, ProblemGraph};
use crate::pruned::Layout;
use crate::pruner::Pruner;
use crate::semdedup::{semdedup, SemDedupConfig};
use infoprune_core::ivf::{IvfSettings, ResolvedSearch};
use infoprune_core::memory::{self, MemoryEstimate};
use infoprune_core::progress::{Progress, Silent, Stage};
use infoprune_core::select::{remaining_rows, SelectConfig, Selector};
use infoprune_core::solver::Method;
use infoprune_core::timing::Timings;
use std::time::Instant;

/// The layout's problems before budgets: their rows and, for groups of IVF lists, the index.
type Cut = (Vec<Vec<usize>>, Option<IvfGroups>);

impl Pruner {
    /// The plan of a run over `dataset`: every check on the data and the configuration, the
    /// cutoffs, the problems and their budgets, the batches and the memory estimate; no graph is
    /// built and nothing is solved. [`Pruner::run`] is this plan, its parts, and
    /// [`crate::merge::merge`].
    pub fn plan(&self, dataset: &Dataset) -> Result<Plan> {
        self.plan_with_progress(dataset, &Silent)
    }

    /// [`Pruner::plan`] reporting its `partition` stage to `progress` (k-means over millions of
    /// rows takes minutes).
    pub fn plan_with_progress(&self, dataset: &Dataset, progress: &dyn Progress) -> Result<Plan> {
        Ok(self
            .plan_with(dataset, progress, &mut Timings::default())?
            .0)
    }

    /// [`Pruner::plan`] reporting progress and its time (`partition`), and keeping the global
    /// IVF index of an `ivf-lists` layout for the graphs.
    pub(crate) fn plan_with(
        &self,
        dataset: &Dataset,
        progress: &dyn Progress,
        timings: &mut Timings,
    ) -> Result<(Plan, Option<IvfGroups>)> {
        let (config, select) = (&self.config, &self.config.select);
        let (n, k, inputs) = (dataset.n(), select.k, dataset.inputs);
        dataset.validate(k)?;
        // Validate the configuration once, before any work.
        Selector::with_backend(select.clone(), self.backend.clone())?;
        if config.class_quota && inputs.labels.is_none() {
            return Err(Error::Usage("--class-quota needs --labels".into()));
        }
        if !config.quota_classes.is_empty() && !config.class_quota {
            return Err(Error::Usage("--quota-classes needs --class-quota".into()));
        }

        // The cutoffs run over the whole dataset, before partitioning.
        let start = Instant::now();
        let mut dropped = select.cutoff_by_class(inputs.noise, inputs.scores, inputs.labels)?;
        if let (Method::Ccs, Some(aum)) = (select.method, inputs.aum) {
            dropped = ccs_cut(select, aum, dropped, n)?;
        }
        let rows = remaining_rows(n, &dropped);
        progress.start(Stage::Partition, 1);
        let (layout, settings) = self.layout(rows.len(), dataset.d())?;
        let (partitions, groups) = self.cut(dataset, &rows, layout, settings)?;
        // Class cells are not whole groups of lists: each builds its own graph then.
        let groups = groups.filter(|_| !config.class_quota);
        let (partitions, mut budgets) = if config.class_quota {
            let labels = inputs.labels.expect("checked above");
            let cells = split_by_class(partitions, labels)?;
            let budgets = class_quota_budgets(&cells, labels, k, &config.quota_classes)?;
            (cells, budgets)
        } else {
            let budgets = partition_budgets(&partitions, k)?;
            (partitions, budgets)
        };
        // SemDeDup chooses its set across all clusters at once; the problems then only score it.
        let preselected = match select.method {
            Method::SemDedup => Some(semdedup_rows(
                select,
                dataset.embeddings,
                &rows,
                inputs.scores,
                &partitions,
                &mut budgets,
            )?),
            _ => None,
        };
        let work: Vec<usize> = (0..partitions.len()).filter(|&p| budgets[p] > 0).collect();
        let batches = self.batches(&partitions, &work);
        let problems = partitions
            .iter()
            .zip(&budgets)
            .map(|(rows, &k)| {
                let graph = match (&groups, select.search.resolve(rows.len())) {
                    (Some(_), _) => ProblemGraph::GlobalIvfLists,
                    (None, Ok(ResolvedSearch::Ivf(s))) => ProblemGraph::Ivf(s),
                    // A size the search cannot resolve fails when its graph is built, as before.
                    (None, _) => ProblemGraph::Exact,
                };
                Problem {
                    size: rows.len(),
                    k,
                    graph,
                }
            })
            .collect();
        let mut of_row = vec![partitions.len() as u32; n];
        for (p, rows) in partitions.iter().enumerate() {
            rows.iter().for_each(|&i| of_row[i] = p as u32);
        }
        let batch_rows = batches
            .iter()
            .map(|b| b.iter().map(|&p| partitions[p].len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        let plan = Plan {
            format: PLAN_FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            config_fingerprint: config_fingerprint(config),
            n,
            d: dataset.d(),
            k,
            inputs: InputKinds::of(dataset),
            layout,
            partition_method: (layout == Layout::Configured).then_some(config.partition.method),
            partition_size: config.partition.max_size,
            class_quota: config.class_quota,
            global_ivf: settings,
            dropped: dropped.len(),
            problems,
            problem_of_row: PackedInts::pack(&of_row, partitions.len() as u32),
            preselected: preselected.map(|kept| {
                let bits: Vec<u32> = kept.into_iter().map(u32::from).collect();
                PackedInts::pack(&bits, 1)
            }),
            batches,
            memory: self.memory(layout, rows.len(), dataset.d(), settings, batch_rows),
        };
        timings.add("partition", start.elapsed().as_secs_f64());
        progress.advance(1);
        progress.finish(Stage::Partition);
        Ok((plan, groups))
    }

    /// The layout of the candidate rows (SPEC §1.4) and, when the search comes to IVF over all
    /// of them, its settings: with [`crate::partition::PartitionConfig::global`] one problem when
    /// the IVF estimate (input counted as float32) fits the memory budget, else groups of whole
    /// IVF lists.
    fn layout(&self, candidates: usize, d: usize) -> Result<(Layout, Option<IvfSettings>)> {
        let part = &self.config.partition;
        if !part.global {
            return Ok((Layout::Configured, None));
        }
        let settings = match self.config.select.search.resolve(candidates)? {
            ResolvedSearch::Exact => return Ok((Layout::Configured, None)),
            ResolvedSearch::Ivf(settings) => settings,
        };
        let estimate = self.ivf_estimate(candidates, d, &settings, candidates);
        let fits = part.memory_budget.is_none_or(|b| estimate.peak <= b);
        let layout = if fits {
            Layout::Global
        } else {
            Layout::IvfLists
        };
        Ok((layout, Some(settings)))
    }

    /// The candidate rows cut as `layout` says.
    fn cut(
        &self,
        dataset: &Dataset,
        rows: &[usize],
        layout: Layout,
        settings: Option<IvfSettings>,
    ) -> Result<Cut> {
        let part = &self.config.partition;
        match (layout, settings) {
            (Layout::Global, _) => Ok((vec![rows.to_vec()], None)),
            (Layout::IvfLists, Some(settings)) => {
                let groups = IvfGroups::build(&dataset.embeddings, rows, &settings, part.max_size)?;
                Ok((groups.partitions(rows), Some(groups)))
            }
            _ => {
                // k-means needs every row at once; a mapped float32 file is viewed in place.
                let all = match part.method {
                    PartitionMethod::KMeans => Some(dataset.embeddings.whole()?),
                    _ => None,
                };
                let view = all.as_ref().map(|a| a.view());
                Ok((partition(rows, view, dataset.inputs.labels, part)?, None))
            }
        }
    }

    /// Groups the problems to solve into batches: as many as fit the backend's limits (a
    /// symmetrised kNN graph holds at most 2·m entries per row), and on the CPU no more than the
    /// worker threads can build at once, so memory stays bounded by a batch.
    fn batches(&self, partitions: &[Vec<usize>], work: &[usize]) -> Vec<Vec<usize>> {
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

    /// The run's memory: the input, then the largest batch's graphs and solver state (with the
    /// global IVF index where there is one).
    fn memory(
        &self,
        layout: Layout,
        candidates: usize,
        d: usize,
        settings: Option<IvfSettings>,
        batch_rows: usize,
    ) -> PlanMemory {
        let estimate = match (layout, settings) {
            (Layout::Global | Layout::IvfLists, Some(s)) => {
                self.ivf_estimate(candidates, d, &s, batch_rows)
            }
            _ => {
                let (m, threads) = self.neighbors_and_threads();
                let input = memory::estimate(candidates as u64, d as u64, 4, m, threads).input;
                let batch = memory::estimate(batch_rows as u64, d as u64, 4, m, threads);
                MemoryEstimate {
                    input,
                    peak: input + batch.graph + batch.solver,
                    ..batch
                }
            }
        };
        PlanMemory {
            input: estimate.input,
            graph: estimate.graph,
            solver: estimate.solver,
            peak: estimate.peak,
            budget: self.config.partition.memory_budget,
        }
    }

    /// The IVF path's estimate over `candidates` rows solved `batch_rows` at a time.
    fn ivf_estimate(
        &self,
        candidates: usize,
        d: usize,
        s: &IvfSettings,
        batch_rows: usize,
    ) -> MemoryEstimate {
        let (m, threads) = self.neighbors_and_threads();
        let (nlist, nprobe) = (s.nlist as u64, s.nprobe as u64);
        let (n, d, b) = (candidates as u64, d as u64, batch_rows as u64);
        memory::estimate_ivf_partitioned(n, d, 4, m, threads, nlist, nprobe, b)
    }

    fn neighbors_and_threads(&self) -> (u64, u64) {
        (
            self.config.select.knn.neighbors as u64,
            rayon::current_num_threads() as u64,
        )
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
