//! What the file and the in-memory flows of `select` share: the configuration built from the
//! arguments, the refusal of search options with a given graph, and the report of a run.

use super::args::SelectArgs;
use super::memory::{global_layout, memory_budget};
use crate::error::{Error, Result};
use crate::partition::{PartitionConfig, PartitionMethod};
use crate::pruned::Pruned;
use crate::pruner::PrunerConfig;
use crate::report::Report;
use infoprune_core::importance::NoiseCutoff;
use std::path::Path;
use std::time::Instant;

/// What a run of `select` measured besides the pipeline's own result.
pub(super) struct RunFacts<'a> {
    pub(super) started: Instant,
    pub(super) n: usize,
    pub(super) read_seconds: f64,
    pub(super) dropped_nonfinite: usize,
    pub(super) estimated_peak_bytes: u64,
    pub(super) backend: String,
    pub(super) gpu: Option<infoprune_core::backend::DeviceCounters>,
    pub(super) graph: Option<&'a Path>,
}

/// The report of a `select` run that took `write_seconds` to write its outputs.
pub(super) fn select_report(
    args: &SelectArgs,
    config: &PrunerConfig,
    pruned: &crate::pruned::Pruned,
    facts: &RunFacts,
    write_seconds: f64,
) -> Report {
    let mut report = Report::new(
        pruned,
        config,
        facts.n,
        &[("read", facts.read_seconds), ("write", write_seconds)],
    );
    report.dropped_nonfinite = facts.dropped_nonfinite;
    report.noise_signal = args.noise_signal();
    report.noise_cutoff =
        report
            .noise_signal
            .map(|signal| match (signal, config.select.noise_cutoff) {
                ("the scores' hard tail", _) => "hard-tail",
                (_, NoiseCutoff::Auto) => "auto",
                (_, NoiseCutoff::Schedule) => "schedule",
                (_, NoiseCutoff::Fraction(_)) => "fraction",
            });
    report.noise_by_class =
        config.select.noise_by_class && report.noise_cutoff.is_some_and(|rule| rule != "hard-tail");
    report.estimated_peak_bytes = facts.estimated_peak_bytes;
    report.backend = facts.backend.clone();
    report.gpu = facts.gpu.map(Into::into);
    if let Some(graph) = facts.graph {
        report.graph = Some(graph.display().to_string());
        report.neighbors = None;
        report.partition_method = "none";
    }
    report
}

/// The pipeline's configuration for `k` of `n × d` embeddings of `itemsize`-byte elements.
pub(super) fn embeddings_config(
    args: &SelectArgs,
    k: usize,
    n: usize,
    d: usize,
    itemsize: u64,
) -> Result<PrunerConfig> {
    let default_partition = PartitionConfig::default();
    Ok(PrunerConfig {
        select: args.config(k)?,
        partition: PartitionConfig {
            method: args
                .partition
                .map_or(default_partition.method, PartitionMethod::from),
            max_size: args.partition_size.unwrap_or(default_partition.max_size),
            seed: args.seed,
            global: global_layout(args),
            memory_budget: memory_budget(args, n, d, itemsize),
            ..default_partition
        },
        class_quota: args.class_balanced(),
        quota_classes: args.quota_classes.clone(),
    })
}

/// The pipeline's configuration for `k` samples of a given graph: one problem, no partitions.
pub(super) fn graph_config(args: &SelectArgs, k: usize) -> Result<PrunerConfig> {
    Ok(PrunerConfig {
        select: args.config(k)?,
        partition: PartitionConfig::default(),
        class_quota: false,
        quota_classes: Vec::new(),
    })
}

/// Refuses the graph-search options with a given graph: none is searched.
pub(super) fn refuse_search_with_graph(args: &SelectArgs) -> Result<()> {
    if args.knn_search.knn != crate::args::KnnArg::Auto || args.knn_search.any_ivf_option() {
        return Err(Error::Usage(
            "--knn, --nlist, --nprobe and --recall-sample choose how a kNN graph is searched; \
             with --graph K.npz none is built"
                .into(),
        ));
    }
    Ok(())
}

/// Maps the kept indices of a run over the finite rows (`--drop-nonfinite`: `rows` holds the
/// original index of each) back to the original rows; returns how many of the `n` were dropped.
pub(super) fn back_to_rows(pruned: &mut Pruned, rows: Option<&[usize]>, n: usize) -> usize {
    match rows {
        Some(rows) => {
            for i in &mut pruned.indices {
                *i = rows[*i];
            }
            n - rows.len()
        }
        None => 0,
    }
}
