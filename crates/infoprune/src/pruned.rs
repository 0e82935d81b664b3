//! What a pipeline run returns: the kept rows with per-partition figures, the layout of the
//! problems and a summary of the graph search.

use crate::core_serde::option_search_info;
use infoprune_core::ivf::{IvfSettings, Recall, ResolvedSearch, SearchInfo};
use infoprune_core::timing::Timings;
use serde::{Deserialize, Serialize};

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
    /// Partitions as [`PartitionConfig`](crate::partition::PartitionConfig)'s `method` and `max_size` say.
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
