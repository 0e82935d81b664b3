//! [`GpuBackend`]: the `Backend` trait on a wgpu device.

use crate::batch::{GpuBatch, Layout};
use crate::context::{AdapterChoice, GpuContext};
use crate::error::GpuError;
use crate::kernels::{slot, Kernels, Params, ProblemState};
pub use crate::solver::Stepping;
use crate::solver::{
    base_params, read_top_k, record_projection, record_top_k, refine_batch, relaxed_ascent,
};
use infoprune_core::backend::{
    validate_segments, validate_spmm, validate_top_k, Backend, BackendLimits, CpuBackend,
    ProblemBatch,
};
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::error::{check_finite, Result};
use infoprune_core::knn::KnnConfig;
use infoprune_core::objective::objective;
use infoprune_core::progress::{Progress, Silent};
use infoprune_core::solver::ascent::{AscentState, Stop};
use infoprune_core::solver::relaxed::RelaxedOutcome;
use infoprune_core::solver::{Algorithm, SolveResult, SolverConfig};
use infoprune_core::timing::Timings;
use ndarray::ArrayView2;
use std::time::Instant;

/// Local indices travel through f32 slots in the compaction, exact below 2^24 rows per problem.
fn check_local_indices(offsets: &[usize]) -> Result<()> {
    const LIMIT: usize = 1 << 24;
    match offsets.windows(2).map(|w| w[1] - w[0]).max() {
        Some(size) if size > LIMIT => Err(GpuError::TooLarge {
            what: "rows in one problem",
            needed: size as u64,
            limit: LIMIT as u64,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Consecutive groups of problems, each fitting `limits`; a problem that does not fit alone is an
/// error naming it.
pub fn split_to_fit(batch: &ProblemBatch, limits: &BackendLimits) -> Result<Vec<Vec<usize>>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let (mut rows, mut nnz) = (0usize, 0usize);
    for (p, problem) in batch.problems().iter().enumerate() {
        let (r, z) = (problem.n(), problem.graph().nnz());
        if !limits.fits(1, r, z) {
            return Err(GpuError::TooLarge {
                what: "one problem (rows or similarity entries) on this device",
                needed: r.max(z) as u64,
                limit: limits.max_rows.min(limits.max_nnz) as u64,
            }
            .into());
        }
        let open = groups.last().map_or(0, Vec::len);
        if open == 0 || !limits.fits(open + 1, rows + r, nnz + z) {
            groups.push(Vec::new());
            rows = 0;
            nnz = 0;
        }
        groups.last_mut().expect("a group was just opened").push(p);
        rows += r;
        nnz += z;
    }
    Ok(groups)
}

/// What one batch may hold on a device with `limits`: every buffer within one binding, and every
/// index the kernels compute within u32 (the slots of `vecs` are addressed as `slot · n + i` for
/// seven slots, similarity entries and problems by u32 too). The planner splits batches to fit,
/// so a problem past these is refused by name (`split_to_fit`), never indexed out of range.
pub fn limits_for(limits: &wgpu::Limits) -> BackendLimits {
    let binding = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    let u32_max = u64::from(u32::MAX);
    let slots = u64::from(slot::COUNT);
    BackendLimits {
        max_rows: (binding / (4 * slots)).min(u32_max / slots - 1) as usize,
        max_nnz: (binding / 4).min(u32_max) as usize,
        max_problems: (binding / std::mem::size_of::<ProblemState>() as u64).min(u32_max) as usize,
    }
}

/// The GPU backend: a device and its compiled kernels.
pub struct GpuBackend {
    ctx: GpuContext,
    kernels: Kernels,
}

impl std::fmt::Debug for GpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend")
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl GpuBackend {
    /// Opens the adapter `choice` selects and compiles the kernels.
    pub fn new(choice: &AdapterChoice) -> std::result::Result<Self, GpuError> {
        let ctx = GpuContext::new(choice)?;
        let have = ctx.limits.max_storage_buffers_per_shader_stage;
        if have < crate::kernels::STORAGE_BINDINGS {
            return Err(GpuError::TooLarge {
                what: "storage buffers per shader stage for the solver kernels",
                needed: u64::from(crate::kernels::STORAGE_BINDINGS),
                limit: u64::from(have),
            });
        }
        let kernels = Kernels::new(&ctx.device);
        ctx.take_error()?;
        Ok(Self { ctx, kernels })
    }

    /// The device context.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The compiled solver kernels.
    pub(crate) fn kernels(&self) -> &Kernels {
        &self.kernels
    }

    /// The relaxed solution of every problem of `batch` (PG or mirror ascent, `config.algorithm`),
    /// before rounding, with each ascent's final state (why it stopped, its last step size and
    /// halvings); `stepping` says whether the device runs the
    /// loop (what [`Backend::solve`] does) or the host runs the core's `ascent::run` over the
    /// device's kernels, which is how the tests hold the device-resident loop to the core's rule.
    pub fn relaxed(
        &self,
        batch: &ProblemBatch,
        config: &SolverConfig,
        stepping: Stepping,
    ) -> Result<Vec<(RelaxedOutcome, AscentState<f32>)>> {
        if config.algorithm == Algorithm::LazyGreedy {
            return Err(infoprune_core::CoreError::InvalidParameter {
                name: "algorithm",
                value: "greedy".into(),
                reason: "has no relaxed ascent",
            });
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        check_local_indices(&batch.offsets())?;
        if split_to_fit(batch, &self.limits())?.len() > 1 {
            return Err(GpuError::TooLarge {
                what: "rows or similarity entries of one relaxed batch on this device",
                needed: batch.offsets().last().copied().unwrap_or(0) as u64,
                limit: self.limits().max_rows as u64,
            }
            .into());
        }
        let relaxed = relaxed_ascent(&self.ctx, &self.kernels, batch, config, stepping)?;
        let x = relaxed.gpu.read_slot(&self.ctx, slot::X)?;
        let offsets = batch.offsets();
        Ok(relaxed
            .states
            .iter()
            .zip(relaxed.traces)
            .enumerate()
            .map(|(p, (state, trace))| {
                let ascent = state.ascent();
                let outcome = RelaxedOutcome {
                    x: x[offsets[p]..offsets[p + 1]].to_vec(),
                    iterations: trace.len(),
                    converged: ascent.stop.is_some_and(Stop::converged),
                    trace,
                };
                (outcome, ascent)
            })
            .collect())
    }

    /// A batch of segments without a graph (for projection and top-k): budgets per segment and
    /// the given slots filled.
    fn segment_batch(
        &self,
        offsets: &[usize],
        budgets: &[usize],
        slots: &[(u32, &[f32])],
    ) -> Result<GpuBatch> {
        let n = offsets.last().copied().unwrap_or(0);
        let mut vecs = vec![0.0f32; n * slot::COUNT as usize];
        for &(which, values) in slots {
            vecs[which as usize * n..(which as usize + 1) * n].copy_from_slice(values);
        }
        let states = budgets
            .iter()
            .map(|&k| ProblemState {
                k: k as f32,
                ..ProblemState::default()
            })
            .collect();
        let empty = CsrSimilarity::empty(n);
        Ok(GpuBatch::new(
            &self.ctx,
            &self.kernels,
            &Layout::new(offsets),
            &empty,
            states,
            &vecs,
        )?)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("wgpu: {}", self.ctx.describe())
    }

    fn limits(&self) -> BackendLimits {
        limits_for(&self.ctx.limits)
    }

    fn spmm(&self, graph: &CsrSimilarity, x: &[f32], nrhs: usize) -> Result<Vec<f32>> {
        validate_spmm(graph, x, nrhs)?;
        let n = graph.n();
        let layout = Layout::new(&[0, n]);
        let mut vecs = vec![0.0f32; (n * slot::COUNT as usize).max(2 * n * nrhs)];
        vecs[..n * nrhs].copy_from_slice(x);
        let state = ProblemState {
            k: 1.0,
            ..ProblemState::default()
        };
        let gpu = GpuBatch::new(&self.ctx, &self.kernels, &layout, graph, vec![state], &vecs)?;
        let params = gpu.params(
            &self.ctx,
            &self.kernels,
            Params {
                nrhs: nrhs as u32,
                src: 0,
                dst: (n * nrhs) as u32,
                ..Params::default()
            },
        );
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            gpu.dispatch(&mut pass, &self.kernels.spmv, &params, gpu.row_groups());
        }
        self.ctx.submit(encoder);
        let bytes = crate::batch::read_buffer(
            &self.ctx,
            &gpu.vecs,
            (n * nrhs * 4) as u64,
            (n * nrhs * 4) as u64,
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    fn project(&self, offsets: &[usize], v: &[f32], budgets: &[usize]) -> Result<Vec<f32>> {
        validate_segments(offsets, v.len(), budgets)?;
        check_finite("v", v)?;
        let gpu = self.segment_batch(offsets, budgets, &[(slot::V, v)])?;
        let params = gpu.params(
            &self.ctx,
            &self.kernels,
            base_params(&SolverConfig::default()),
        );
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            record_projection(&gpu, &self.kernels, &mut pass, &params);
        }
        self.ctx.submit(encoder);
        Ok(gpu.read_slot(&self.ctx, slot::XN)?)
    }

    fn top_k(
        &self,
        offsets: &[usize],
        x: &[f32],
        s: &[f32],
        budgets: &[usize],
    ) -> Result<Vec<Vec<usize>>> {
        validate_top_k(offsets, x, s, budgets)?;
        check_local_indices(offsets)?;
        let gpu = self.segment_batch(offsets, budgets, &[(slot::S, s), (slot::X, x)])?;
        let params = gpu.params(&self.ctx, &self.kernels, Params::default());
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            record_top_k(&gpu, &self.kernels, &mut pass, &params);
        }
        self.ctx.submit(encoder);
        Ok(read_top_k(&self.ctx, &gpu, offsets, budgets)?)
    }

    fn solve(
        &self,
        batch: &ProblemBatch,
        config: &SolverConfig,
        progress: &dyn Progress,
    ) -> Result<Vec<SolveResult>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if config.algorithm == Algorithm::LazyGreedy {
            // Greedy is sequential by nature (one element per step): the CPU reference runs it.
            return CpuBackend.solve(batch, config, progress);
        }
        check_local_indices(&batch.offsets())?;
        let limits = self.limits();
        let groups = split_to_fit(batch, &limits)?;
        if groups.len() > 1 {
            let mut results = Vec::with_capacity(batch.len());
            for group in groups {
                let sub =
                    ProblemBatch::new(group.iter().map(|&p| batch.problems()[p].clone()).collect());
                results.extend(self.solve(&sub, config, progress)?);
            }
            return Ok(results);
        }
        let start = Instant::now();
        let stepping = if crate::solver::fused_fits(batch, config).is_ok() {
            Stepping::Fused
        } else {
            Stepping::Device
        };
        let relaxed = relaxed_ascent(&self.ctx, &self.kernels, batch, config, stepping)?;
        let gpu_seconds = start.elapsed().as_secs_f64();
        let mut selected = relaxed.rounded.clone();
        let start = Instant::now();
        let swaps = refine_batch(
            &self.ctx,
            &self.kernels,
            batch,
            &relaxed.gpu,
            &mut selected,
            config.swap_rounds,
        )?;
        let refine_seconds = start.elapsed().as_secs_f64();
        let mut results = Vec::with_capacity(batch.len());
        for (p, owned) in batch.problems().iter().enumerate() {
            let problem = owned.as_problem();
            let state = &relaxed.states[p];
            // Seconds are per batch: every problem of a batch shares the same dispatches.
            let mut timings = Timings::default();
            timings.add("solve", gpu_seconds);
            timings.add("refine", refine_seconds);
            let rounded_objective = objective(&problem, &relaxed.rounded[p])?;
            let indices = std::mem::take(&mut selected[p]);
            let f = objective(&problem, &indices)?;
            let converged = state.ascent().stop.is_some_and(Stop::converged);
            let mut result = SolveResult {
                indices,
                objective: f,
                iterations: state.iterations as usize,
                converged,
                relaxed_trace: relaxed.traces[p].clone(),
                rounded_objective,
                swaps: swaps[p],
                timings,
            };
            // Greedy is sequential: the core runs it on the host, as for the CPU backend.
            config.keep_the_better_of_greedy(&problem, &mut result, &Silent);
            results.push(result);
        }
        Ok(results)
    }

    fn counters(&self) -> Option<infoprune_core::backend::DeviceCounters> {
        Some(self.ctx.counters())
    }

    fn knn_graph(
        &self,
        embeddings: ArrayView2<f32>,
        config: &KnnConfig,
        progress: &dyn Progress,
    ) -> Result<CsrSimilarity> {
        progress.start(infoprune_core::progress::Stage::Graph, 1);
        let graph = crate::knn::knn_graph_gpu(&self.ctx, embeddings, config);
        progress.advance(1);
        progress.finish(infoprune_core::progress::Stage::Graph);
        graph
    }

    fn ivf_knn_lists(
        &self,
        index: &infoprune_core::ivf::IvfIndex,
        neighbors: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<Vec<(u32, f32)>>> {
        crate::ivf::ivf_lists_gpu(&self.ctx, index, neighbors, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_stay_inside_u32_indices_and_bindings() {
        // A device with unbounded bindings: the kernels' u32 arithmetic is the limit.
        let huge = wgpu::Limits {
            max_storage_buffer_binding_size: u64::MAX,
            max_buffer_size: u64::MAX,
            ..wgpu::Limits::default()
        };
        let l = limits_for(&huge);
        // The last slot's last row, 6 · n + n − 1, still indexes with u32.
        assert!((l.max_rows as u64 + 1) * u64::from(slot::COUNT) <= u64::from(u32::MAX));
        assert!(l.max_nnz as u64 <= u64::from(u32::MAX));
        assert!(l.max_problems as u64 <= u64::from(u32::MAX));
        // WebGPU's default binding (128 MiB): the vectors of a batch fill one binding at most.
        let default = limits_for(&wgpu::Limits::default());
        let binding = wgpu::Limits::default().max_storage_buffer_binding_size;
        assert_eq!(default.max_rows as u64, binding / 28);
        assert_eq!(default.max_nnz as u64, binding / 4);
        // A batch one row past the limit does not fit; split_to_fit then refuses the problem.
        assert!(default.fits(1, default.max_rows, 0));
        assert!(!default.fits(1, default.max_rows + 1, 0));
    }
}
