//! Progress observers: the solvers and graph builders report what they did, the caller decides how to
//! show it (a progress bar in the CLI, nothing in a library call, a recorder in tests).

/// The stages a selection goes through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Cutting the dataset into partitions.
    Partition,
    /// Building the kNN similarity graph.
    Graph,
    /// Iterating a relaxed solver (or adding elements greedily).
    Solve,
    /// Swap refinement after rounding.
    Refine,
    /// Writing the outputs.
    Write,
}

impl Stage {
    /// Human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Partition => "partition",
            Stage::Graph => "knn graph",
            Stage::Solve => "solve",
            Stage::Refine => "refine",
            Stage::Write => "write",
        }
    }
}

/// Receives progress. Implementations must be cheap: `advance` is called from worker threads.
pub trait Progress: Sync {
    /// A stage starts with `total` units of work.
    fn start(&self, _stage: Stage, _total: u64) {}
    /// `units` more units of the current stage are done.
    fn advance(&self, _units: u64) {}
    /// `units` more units of `stage` are done, for pipelines that run stages side by side (graphs
    /// of one batch while another is solved). By default the same as [`Progress::advance`].
    fn advance_stage(&self, _stage: Stage, units: u64) {
        self.advance(units);
    }
    /// The current stage is over.
    fn finish(&self, _stage: Stage) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}
