//! The pipeline's configuration and the pruner that runs it on a backend; the stages are
//! [`Pruner::plan`] (in `planner`), [`Pruner::run_part`] (in `parts`) and [`Pruner::run`]
//! (in [`crate::pipeline`]).

use crate::partition::PartitionConfig;
use infoprune_core::backend::{Backend, CpuBackend};
use infoprune_core::select::SelectConfig;
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
}
