//! The memory side of `select`: the peak estimate checked against `--max-memory` before any data
//! is read, and the partition layout and memory budget the pipeline is given.

use super::args::SelectArgs;
use crate::args::knn_config;
use crate::error::{Error, Result};
use crate::npy;
use crate::partition::PartitionConfig;
use infoprune_core::ivf::ResolvedSearch;
use infoprune_core::memory::{self, human_bytes};
use std::path::Path;

/// Estimates the peak memory from the embeddings' header (nothing is read yet) and refuses the run
/// if `--max-memory` is exceeded. Returns the estimate in bytes (0 if the header has no 2-D shape:
/// the reader will then say what is wrong).
pub(super) fn check_memory(args: &SelectArgs, embeddings: &Path) -> Result<u64> {
    let header = npy::read_header(embeddings)?;
    let (n, d) = match header.shape[..] {
        [n, d] => (n as u64, d as u64),
        _ => return Ok(0),
    };
    check_peak_memory(args, n, d, header.dtype.itemsize() as u64)
}

/// [`check_memory`] for `n × d` embeddings of `itemsize`-byte elements, wherever they are.
pub(super) fn check_peak_memory(args: &SelectArgs, n: u64, d: u64, itemsize: u64) -> Result<u64> {
    let threads = rayon::current_num_threads() as u64;
    let m = knn_config(args.neighbors, args.symmetrize).neighbors as u64;
    let mut estimate = memory::estimate(n, d, itemsize, m, threads);
    let limit = args
        .max_memory
        .as_deref()
        .map(|text| {
            memory::parse_bytes(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--max-memory must be a size such as 512M or 4G, found '{text}'"
                ))
            })
        })
        .transpose()?;
    let (_, resolved) = args.knn_search.resolve(args.seed, n as usize)?;
    if let (ResolvedSearch::Ivf(s), true) = (resolved, global_layout(args)) {
        // One problem over all n if it fits, else groups of whole IVF lists solved a batch at a
        // time (the pipeline makes the same choice from the same estimate).
        let (nlist, nprobe) = (s.nlist as u64, s.nprobe as u64);
        estimate = memory::estimate_ivf(n, d, itemsize, m, threads, nlist, nprobe);
        if limit.is_some_and(|limit| estimate.peak > limit) {
            let batch_rows = n.min(partition_size(args) as u64 * 4 * threads.max(1));
            estimate = memory::estimate_ivf_partitioned(
                n, d, itemsize, m, threads, nlist, nprobe, batch_rows,
            );
        }
    }
    if let Some(limit) = limit {
        if estimate.peak > limit {
            return Err(Error::Usage(format!(
                "estimated peak memory {} (input {}, graph {}, solver {}) exceeds --max-memory {}",
                human_bytes(estimate.peak),
                human_bytes(estimate.input),
                human_bytes(estimate.graph),
                human_bytes(estimate.solver),
                human_bytes(limit)
            )));
        }
    }
    Ok(estimate.peak)
}

/// Whether the SPEC §1.4 layout applies (one global problem when the search is IVF and it fits,
/// else groups of whole IVF lists of at most `--partition-size`): no `--partition` given.
pub(super) fn global_layout(args: &SelectArgs) -> bool {
    args.partition.is_none()
}

/// `--partition-size` or its default.
fn partition_size(args: &SelectArgs) -> usize {
    args.partition_size
        .unwrap_or(PartitionConfig::default().max_size)
}

/// The memory budget the pipeline weighs the one global problem against: `--max-memory` less
/// what a float64 file costs beyond the float32 input the pipeline's estimate counts.
pub(super) fn memory_budget(args: &SelectArgs, n: usize, d: usize, itemsize: u64) -> Option<u64> {
    let limit = args.max_memory.as_deref().and_then(memory::parse_bytes)?;
    let extra = (n as u64)
        .saturating_mul(d as u64)
        .saturating_mul(itemsize.saturating_sub(4));
    Some(limit.saturating_sub(extra))
}
