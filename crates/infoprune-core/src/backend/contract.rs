//! What every backend promises: the [`Backend`] trait, the batch sizes it takes
//! ([`BackendLimits`]), the device traffic it reports ([`DeviceCounters`]) and the argument checks
//! its methods share.

use crate::csr::CsrSimilarity;
use crate::error::Result;
use crate::ivf::choice::SearchInfo;
use crate::ivf::graph::graph_from_lists;
use crate::ivf::index::IvfIndex;
use crate::ivf::search::ivf_lists;
use crate::ivf::settings::IvfSettings;
use crate::knn::KnnConfig;
use crate::progress::Progress;
use crate::solver::{SolveResult, SolverConfig};
use ndarray::ArrayView2;

use super::batch::ProblemBatch;

/// How much one batch may hold on a backend. The planner packs partitions into batches that fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendLimits {
    /// Most rows (samples or tokens) in one batch.
    pub max_rows: usize,
    /// Most stored similarity entries in one batch.
    pub max_nnz: usize,
    /// Most problems in one batch.
    pub max_problems: usize,
}

impl BackendLimits {
    /// No limit beyond what the index types hold.
    pub fn unlimited() -> Self {
        Self {
            max_rows: u32::MAX as usize,
            max_nnz: usize::MAX,
            max_problems: usize::MAX,
        }
    }

    /// Whether a batch of `problems` problems with `rows` rows and `nnz` entries fits.
    pub fn fits(&self, problems: usize, rows: usize, nnz: usize) -> bool {
        problems <= self.max_problems && rows <= self.max_rows && nnz <= self.max_nnz
    }
}

/// What a device backend did since it was opened: the traffic that shows whether work stays on
/// the device. Reports carry it (`"gpu": {...}`); the CPU backend has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceCounters {
    /// Command buffers submitted to the queue.
    pub submissions: u64,
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// Waits for a buffer to come back to the host.
    pub readbacks: u64,
    /// Bytes written from the host into device buffers.
    pub bytes_uploaded: u64,
    /// Bytes copied from the device back to the host.
    pub bytes_read_back: u64,
}

impl DeviceCounters {
    /// The work done between `earlier` and `self` (both snapshots of one backend).
    pub fn since(&self, earlier: &DeviceCounters) -> DeviceCounters {
        DeviceCounters {
            submissions: self.submissions - earlier.submissions,
            dispatches: self.dispatches - earlier.dispatches,
            readbacks: self.readbacks - earlier.readbacks,
            bytes_uploaded: self.bytes_uploaded - earlier.bytes_uploaded,
            bytes_read_back: self.bytes_read_back - earlier.bytes_read_back,
        }
    }
}

/// A compute backend. Every method validates its arguments and reports problems as errors, never
/// panics; results agree with [`CpuBackend`](super::CpuBackend) within the tolerances of the
/// conformance suite (`backend::conformance`, behind the `testing` feature).
pub trait Backend: Send + Sync {
    /// Human-readable name (device and driver for GPUs).
    fn name(&self) -> String;

    /// What fits in one batch.
    fn limits(&self) -> BackendLimits;

    /// `Y = K X` for `nrhs` right-hand sides stored row-major (`x[i * nrhs + r]`): the matrix is read
    /// once for all of them.
    fn spmm(&self, graph: &CsrSimilarity, x: &[f32], nrhs: usize) -> Result<Vec<f32>>;

    /// `y = K x`.
    fn spmv(&self, graph: &CsrSimilarity, x: &[f32]) -> Result<Vec<f32>> {
        self.spmm(graph, x, 1)
    }

    /// Projects each segment `v[offsets[p]..offsets[p+1]]` onto the capped simplex with sum
    /// `budgets[p]` (SPEC §1.2).
    fn project(&self, offsets: &[usize], v: &[f32], budgets: &[usize]) -> Result<Vec<f32>>;

    /// Per segment, the `budgets[p]` largest entries of `x` (ties: larger `s`, then smaller index),
    /// as sorted indices local to the segment.
    fn top_k(
        &self,
        offsets: &[usize],
        x: &[f32],
        s: &[f32],
        budgets: &[usize],
    ) -> Result<Vec<Vec<usize>>>;

    /// Solves every problem of `batch` with `config`; results are in the batch's order, with
    /// indices local to each problem.
    fn solve(
        &self,
        batch: &ProblemBatch,
        config: &SolverConfig,
        progress: &dyn Progress,
    ) -> Result<Vec<SolveResult>>;

    /// The device traffic so far (`None` for backends without a device, such as the CPU).
    fn counters(&self) -> Option<DeviceCounters> {
        None
    }

    /// The exact kNN similarity graph of one partition's embeddings (SPEC §1.3).
    fn knn_graph(
        &self,
        embeddings: ArrayView2<f32>,
        config: &KnnConfig,
        progress: &dyn Progress,
    ) -> Result<CsrSimilarity>;

    /// The row-wise IVF neighbour lists of `index` (SPEC §1.3): for every row, its `neighbors`
    /// most similar rows among the rows of its probed lists, sorted by (similarity descending,
    /// index ascending), with the exact search's similarity, snapping and clipping. The index (the
    /// k-means training and the probes) is built on the CPU; a backend overrides this to run the
    /// list-against-list products on its device and must return [`ivf_lists`]'s result over the
    /// same candidates, up to what [`Backend::knn_graph`] allows a device: its own f32 rounding of
    /// the dot products, which may swap near-ties at a list's boundary. By default, the CPU
    /// search.
    fn ivf_knn_lists(
        &self,
        index: &IvfIndex,
        neighbors: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<Vec<(u32, f32)>>> {
        Ok(ivf_lists(index, neighbors, progress))
    }

    /// The IVF kNN graph of one set of embeddings: the index on the CPU, the search by
    /// [`Backend::ivf_knn_lists`], then the recall sample (if any) and the symmetrisation.
    fn ivf_knn_graph(
        &self,
        embeddings: ArrayView2<f32>,
        config: &KnnConfig,
        settings: &IvfSettings,
        progress: &dyn Progress,
    ) -> Result<(CsrSimilarity, SearchInfo)> {
        let index = IvfIndex::build(embeddings, settings)?;
        let lists = self.ivf_knn_lists(&index, config.neighbors, progress)?;
        graph_from_lists(&index, lists, config, settings, progress)
    }
}

/// Checks that `offsets` splits `len` values into `budgets.len()` segments with `1 ≤ k_p ≤ size_p`.
pub fn validate_segments(offsets: &[usize], len: usize, budgets: &[usize]) -> Result<()> {
    use crate::error::CoreError;
    if offsets.len() != budgets.len() + 1 {
        return Err(CoreError::ShapeMismatch {
            what: "segment offsets vs budgets + 1".into(),
            expected: budgets.len() + 1,
            found: offsets.len(),
        });
    }
    if offsets.first() != Some(&0) || offsets.last() != Some(&len) {
        return Err(CoreError::InvalidParameter {
            name: "offsets",
            value: format!("{:?}..{:?}", offsets.first(), offsets.last()),
            reason: "must start at 0 and end at the vector length",
        });
    }
    for (p, &k) in budgets.iter().enumerate() {
        let size = offsets[p + 1]
            .checked_sub(offsets[p])
            .ok_or(CoreError::InvalidParameter {
                name: "offsets",
                value: format!("offsets[{p}] > offsets[{}]", p + 1),
                reason: "must not decrease",
            })?;
        if k == 0 || k > size {
            return Err(CoreError::InvalidBudget { k, n: size });
        }
    }
    Ok(())
}

/// Checks the arguments of [`Backend::top_k`]: segments as in [`validate_segments`], `s` as long as
/// `x`, both finite.
pub fn validate_top_k(offsets: &[usize], x: &[f32], s: &[f32], budgets: &[usize]) -> Result<()> {
    use crate::error::{check_finite, CoreError};
    validate_segments(offsets, x.len(), budgets)?;
    if s.len() != x.len() {
        return Err(CoreError::ShapeMismatch {
            what: "s vs x".into(),
            expected: x.len(),
            found: s.len(),
        });
    }
    check_finite("x", x)?;
    check_finite("s", s)
}

/// Checks the arguments of [`Backend::spmm`]: `x` holds `n · nrhs` finite values, `nrhs ≥ 1`.
pub fn validate_spmm(graph: &CsrSimilarity, x: &[f32], nrhs: usize) -> Result<()> {
    use crate::error::{check_finite, CoreError};
    let n = graph.n();
    if nrhs == 0 || x.len() != n * nrhs {
        return Err(CoreError::ShapeMismatch {
            what: format!("x length vs n × nrhs (nrhs = {nrhs})"),
            expected: n * nrhs,
            found: x.len(),
        });
    }
    check_finite("x", x)
}
