//! The JSON report `select --report` writes.

use crate::partition::PartitionMethod;
use crate::pruned::{Layout, Pruned};
use crate::pruner::PrunerConfig;
use infoprune_core::backend::DeviceCounters;
use infoprune_core::importance::{AlphaRule, Representativeness};
use infoprune_core::solver::Method;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything a run decided and measured, for provenance and comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// infoprune's version.
    pub version: &'static str,
    /// Samples in the input.
    pub n: usize,
    /// Samples kept.
    pub k: usize,
    /// Method name (`infomax`, `greedy`, `random`, `topk`).
    pub method: &'static str,
    /// Relaxed solver (`pg`, `mirror`), for infomax.
    pub solver: Option<&'static str>,
    /// Pairwise weight in use (the mean over partitions when there are several).
    pub alpha: f64,
    /// `β` when `α` came from the default rule.
    pub beta: Option<f64>,
    /// Representativeness weight in use.
    pub gamma: f64,
    /// Discrete `f(S)` of the kept set.
    pub objective: f64,
    /// Neighbours per row of the kNN graph (`null` with `select --graph`, which builds none).
    pub neighbors: Option<usize>,
    /// The similarity given with `select --graph` (`null` when a kNN graph was built).
    pub graph: Option<String>,
    /// Stored entries of the similarity graph.
    pub graph_nnz: usize,
    /// How the kNN graph was searched: `exact`, `ivf`, `mixed` (partitions differed) or `given`
    /// (`select --graph`).
    pub knn: &'static str,
    /// IVF lists (`null` for the exact search).
    pub nlist: Option<usize>,
    /// IVF lists probed per row (`null` for the exact search).
    pub nprobe: Option<usize>,
    /// Recall@m of the IVF graph against the exact search on `recall_sample` rows (`null` unless
    /// `--recall-sample` was given and the graph was searched with IVF).
    pub recall: Option<f64>,
    /// Rows the recall was measured on.
    pub recall_sample: Option<usize>,
    /// How the rows were laid out: `global` (one problem over all samples), `ivf-lists`
    /// (groups of whole IVF lists: the global problem did not fit `--max-memory`) or
    /// `configured` (`--partition`/`--partition-size`, or the exact search).
    pub layout: &'static str,
    /// Row-wise neighbour entries of the global IVF graph that partitioning cut (0 for one global
    /// problem; `null` where each partition built its own graph).
    pub cut_edges: Option<usize>,
    /// Samples dropped by the noise cutoff (and CCS's own cutoff).
    pub dropped_noisy: usize,
    /// Where the noise signal came from: `"--noise"`, `"minus AUM from --logits"` (SPEC §1.5), or
    /// `null` without one.
    pub noise_signal: Option<&'static str>,
    /// The noise cutoff's rule: `"auto"` (the samples whose signal is positive, at most half),
    /// `"schedule"` (by pruning ratio) or `"fraction"`; `null` without a noise signal.
    pub noise_cutoff: Option<&'static str>,
    /// Whether the noise cutoff was shared out over the classes (`--noise-by-class`, the default
    /// with class-balanced budgets): no class dropped more than twice its share.
    pub noise_by_class: bool,
    /// Whether each class kept exactly its largest-remainder share of `k` (`--class-quota`, the
    /// default with labels for infomax and greedy).
    pub class_quota: bool,
    /// Samples dropped for non-finite values (`--drop-nonfinite`).
    pub dropped_nonfinite: usize,
    /// The peak-memory estimate made before reading the data, in bytes.
    pub estimated_peak_bytes: u64,
    /// Solver iterations.
    pub iterations: usize,
    /// Whether the solver converged.
    pub converged: bool,
    /// Swaps applied by the refinement.
    pub swaps: usize,
    /// The compute backend that ran the graph and the solver.
    pub backend: String,
    /// What the run did on the GPU (`null` on the CPU).
    pub gpu: Option<GpuCounters>,
    /// Seed used.
    pub seed: u64,
    /// Partitions the data was cut into.
    pub partitions: usize,
    /// How it was cut (`random`, `class`, `kmeans`; `ivf-lists` for groups of whole IVF lists;
    /// `none` for one global problem and with `select --graph`).
    pub partition_method: &'static str,
    /// Batches the partitions were solved in.
    pub batches: usize,
    /// Seconds per phase (read, partition, graph, solve, write).
    pub seconds: BTreeMap<String, f64>,
    /// Seconds in total.
    pub total_seconds: f64,
}

/// Device traffic of a run, as the JSON reports carry it: few submissions and read-backs, and
/// bytes moved close to the inputs and outputs themselves, show that the work stayed on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GpuCounters {
    /// Command buffers submitted.
    pub submissions: u64,
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// Waits for results to come back to the host (4-byte convergence flags are not counted here,
    /// only in `bytes_read_back`).
    pub readbacks: u64,
    /// Bytes written from the host into device buffers.
    pub bytes_uploaded: u64,
    /// Bytes copied from the device to the host.
    pub bytes_read_back: u64,
}

impl From<DeviceCounters> for GpuCounters {
    fn from(c: DeviceCounters) -> Self {
        Self {
            submissions: c.submissions,
            dispatches: c.dispatches,
            readbacks: c.readbacks,
            bytes_uploaded: c.bytes_uploaded,
            bytes_read_back: c.bytes_read_back,
        }
    }
}

/// The name `--partition` uses for a method.
fn partition_method_name(method: PartitionMethod) -> &'static str {
    match method {
        PartitionMethod::Random => "random",
        PartitionMethod::Class => "class",
        PartitionMethod::KMeans => "kmeans",
    }
}

impl Report {
    /// The report of a pipeline run, with the phases the CLI timed itself.
    pub fn new(
        pruned: &Pruned,
        config: &PrunerConfig,
        n: usize,
        extra_phases: &[(&str, f64)],
    ) -> Self {
        let select = &config.select;
        let mut seconds: BTreeMap<String, f64> = BTreeMap::new();
        for &(p, s) in pruned.timings.phases() {
            seconds.insert(p.to_string(), s);
        }
        for &(p, s) in extra_phases {
            *seconds.entry(p.to_string()).or_default() += s;
        }
        let total_seconds = seconds.values().sum();
        let solved: Vec<_> = pruned.partitions.iter().filter(|p| p.k > 0).collect();
        let alpha = solved.iter().map(|p| p.alpha).sum::<f64>() / solved.len().max(1) as f64;
        let solver_method = matches!(select.method, Method::InfoMax);
        Self {
            version: env!("CARGO_PKG_VERSION"),
            n,
            k: select.k,
            method: select.method.name(),
            solver: solver_method.then(|| select.solver.name()),
            alpha,
            beta: match select.alpha {
                AlphaRule::Beta(b) => Some(b),
                AlphaRule::Fixed(_) => None,
            },
            gamma: match select.representativeness {
                Representativeness::Auto => 1.0 - select.k as f64 / n as f64,
                Representativeness::Fixed(g) => g,
            },
            objective: pruned.objective,
            neighbors: Some(select.knn.neighbors),
            graph: None,
            graph_nnz: pruned.partitions.iter().map(|p| p.nnz).sum(),
            knn: pruned.search.knn,
            nlist: pruned.search.nlist,
            nprobe: pruned.search.nprobe,
            recall: pruned.search.recall.map(|r| r.recall),
            recall_sample: pruned.search.recall.map(|r| r.sampled),
            layout: pruned.layout.name(),
            cut_edges: pruned.cut_edges,
            dropped_noisy: pruned.dropped_noisy,
            noise_signal: None,
            noise_cutoff: None,
            noise_by_class: false,
            class_quota: config.class_quota,
            dropped_nonfinite: 0,
            estimated_peak_bytes: 0,
            iterations: solved.iter().map(|p| p.iterations).max().unwrap_or(0),
            converged: solved.iter().all(|p| p.converged),
            swaps: solved.iter().map(|p| p.swaps).sum(),
            seed: select.seed,
            backend: String::new(),
            gpu: None,
            partitions: pruned.partitions.len(),
            partition_method: match pruned.layout {
                Layout::Configured => partition_method_name(config.partition.method),
                Layout::Global => "none",
                Layout::IvfLists => "ivf-lists",
            },
            batches: pruned.batches,
            seconds,
            total_seconds,
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}
