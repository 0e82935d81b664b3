//! The JSON report `select --report` writes.

use infoprune_core::select::Selection;
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
    /// Pairwise weight in use.
    pub alpha: f64,
    /// `β` when `α` came from the default rule.
    pub beta: Option<f64>,
    /// Representativeness weight in use.
    pub gamma: f64,
    /// Discrete `f(S)` of the kept set.
    pub objective: f64,
    /// Neighbours per row of the kNN graph.
    pub neighbors: usize,
    /// Stored entries of the similarity graph.
    pub graph_nnz: usize,
    /// Samples dropped by the noise cutoff.
    pub dropped_noisy: usize,
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
    /// Seed used.
    pub seed: u64,
    /// Seconds per phase (read, noise, graph, importance, solve, round, refine, write).
    pub seconds: BTreeMap<String, f64>,
    /// Seconds in total.
    pub total_seconds: f64,
}

impl Report {
    /// The report of `selection`, with the extra phases the CLI timed itself.
    pub fn new(
        selection: &Selection,
        beta: Option<f64>,
        neighbors: usize,
        seed: u64,
        extra_phases: &[(&str, f64)],
    ) -> Self {
        let mut seconds: BTreeMap<String, f64> = BTreeMap::new();
        for &(p, s) in selection.timings.phases().iter() {
            seconds.insert(p.to_string(), s);
        }
        for &(p, s) in extra_phases {
            *seconds.entry(p.to_string()).or_default() += s;
        }
        let total_seconds = seconds.values().sum();
        Self {
            version: env!("CARGO_PKG_VERSION"),
            n: selection.n,
            k: selection.k,
            method: selection.method.name(),
            solver: selection.solver.map(|s| s.name()),
            alpha: selection.alpha,
            beta,
            gamma: selection.gamma,
            objective: selection.objective,
            neighbors,
            graph_nnz: selection.graph_nnz,
            dropped_noisy: selection.dropped_noisy,
            dropped_nonfinite: 0,
            estimated_peak_bytes: 0,
            iterations: selection.iterations,
            converged: selection.converged,
            swaps: selection.swaps,
            seed,
            backend: String::new(),
            seconds,
            total_seconds,
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}
