//! Projected-gradient and mirror ascent for a whole batch on the GPU: the step size of each problem
//! (power iteration for PG, the initial gradient for mirror), then blocks of iterations recorded into one command buffer each, with the per-problem
//! convergence flags read back only between blocks.

use crate::batch::{GpuBatch, Layout};
use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{slot, Kernels, Params, ProblemState, PROJECTION_ROUNDS};
use infoprune_core::backend::ProblemBatch;
use infoprune_core::solver::ascent::{self, AscentRule, Stop};
use infoprune_core::solver::{Algorithm, SolverConfig};

/// Iterations recorded per submission; the host checks convergence between submissions.
pub const ITERATIONS_PER_SUBMIT: usize = 10;

/// Relative tolerance on `|Σ x − k|` (f32 sums; inside SPEC's `1e-4·k`).
pub const SUM_TOLERANCE: f32 = 1e-5;

/// The rounded relaxed solution of every problem and its final state.
pub struct RelaxedBatch {
    /// The top-k of each problem's final `x` (local indices, ascending), selected on the GPU.
    pub rounded: Vec<Vec<usize>>,
    /// Final per-problem state (iterations, step, convergence).
    pub states: Vec<ProblemState>,
    /// The relaxed f after each accepted iteration, per problem (f32 sums widened to f64).
    pub traces: Vec<Vec<f64>>,
    /// The batch's device buffers, kept for the swap refinement.
    pub gpu: GpuBatch,
}

/// The convergence flags of the blocks in flight: each block ends by copying `flags[0]` (problems
/// not yet converged) into one of two small mappable buffers, read without stalling the queue.
struct ConvergenceFlags {
    buffers: [wgpu::Buffer; 2],
    /// Blocks submitted and not yet read, oldest first: (buffer, submission, mapping result).
    pending: std::collections::VecDeque<(usize, wgpu::SubmissionIndex, FlagReceiver)>,
    submitted: usize,
}

type FlagReceiver = std::sync::mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>;

impl ConvergenceFlags {
    fn new(ctx: &GpuContext) -> Self {
        let make = || {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("convergence flag"),
                size: 4,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        Self {
            buffers: [make(), make()],
            pending: Default::default(),
            submitted: 0,
        }
    }

    fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Submits a block whose passes end with `count_unconverged`, and asks for its flag.
    fn submit(&mut self, ctx: &GpuContext, gpu: &GpuBatch, mut encoder: wgpu::CommandEncoder) {
        let which = self.submitted % 2;
        self.submitted += 1;
        encoder.copy_buffer_to_buffer(&gpu.flags, 0, &self.buffers[which], 0, 4);
        let index = ctx.submit(encoder);
        let (tx, rx) = std::sync::mpsc::channel();
        self.buffers[which].map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.pending.push_back((which, index, rx));
    }

    /// The oldest block's count of unconverged problems if it is already back.
    fn poll_oldest(&mut self, ctx: &GpuContext) -> Result<Option<u32>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        ctx.device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| GpuError::DeviceLost(e.to_string()))?;
        match self.pending[0].2.try_recv() {
            Ok(result) => self.take_oldest(ctx, result).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Waits for the oldest block and returns its count of unconverged problems.
    fn wait_oldest(&mut self, ctx: &GpuContext) -> Result<u32> {
        let index = self.pending[0].1.clone();
        ctx.wait(Some(index))?;
        let result = self.pending[0]
            .2
            .recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        self.take_oldest(ctx, result)
    }

    fn take_oldest(
        &mut self,
        ctx: &GpuContext,
        result: std::result::Result<(), wgpu::BufferAsyncError>,
    ) -> Result<u32> {
        let (which, _, _) = self.pending.pop_front().expect("a block is pending");
        result.map_err(|e| GpuError::Readback(format!("the convergence flag: {e}")))?;
        let buffer = &self.buffers[which];
        let count = {
            let view = buffer
                .slice(..)
                .get_mapped_range()
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            u32::from_le_bytes([view[0], view[1], view[2], view[3]])
        };
        buffer.unmap();
        ctx.counters.flag_read(4);
        Ok(count)
    }
}

/// Parameters shared by every kernel of a solve: the core's [`AscentRule`] in `f32`, the
/// arithmetic the kernels sum `f` in, and its floors.
pub fn base_params(config: &SolverConfig) -> Params {
    let rule = AscentRule::<f32>::new(config);
    Params {
        nrhs: 1,
        tolerance: rule.tolerance,
        sum_tolerance: SUM_TOLERANCE,
        ascent_slack: rule.slack,
        lipschitz_floor: ascent::LIPSCHITZ_FLOOR as f32,
        max_backtracks: rule.max_backtracks,
        step_growth: rule.step_growth,
        mirror_floor: ascent::MIRROR_FLOOR,
        ..Params::default()
    }
}

/// Records one projection of slot V onto every problem's capped simplex, into slot XN.
pub fn record_projection(
    gpu: &GpuBatch,
    kernels: &Kernels,
    pass: &mut wgpu::ComputePass,
    params: &wgpu::BindGroup,
) {
    gpu.dispatch(pass, &kernels.chunk_min_max, params, gpu.n_chunks);
    gpu.dispatch(pass, &kernels.combine_min_max, params, gpu.multi_groups());
    gpu.dispatch(pass, &kernels.init_bracket, params, gpu.problem_groups());
    for _ in 0..PROJECTION_ROUNDS {
        gpu.dispatch(pass, &kernels.chunk_sums, params, gpu.n_chunks);
        gpu.dispatch(pass, &kernels.combine_sum, params, gpu.multi_groups());
        gpu.dispatch(pass, &kernels.update_tau, params, gpu.problem_groups());
    }
    gpu.dispatch(pass, &kernels.apply_projection, params, gpu.row_groups());
}

/// Rounds of the key search: three 32-bit components, 32 halvings each.
const SELECT_ROUNDS: usize = 96;

/// Records the per-problem top-k of slot X (ties: larger S, then smaller index) and its compaction:
/// slot W then holds each problem's kept local indices, ascending, from its first row on.
pub fn record_top_k(
    gpu: &GpuBatch,
    kernels: &Kernels,
    pass: &mut wgpu::ComputePass,
    params: &wgpu::BindGroup,
) {
    gpu.dispatch(pass, &kernels.select_init, params, gpu.problem_groups());
    for _ in 0..SELECT_ROUNDS {
        gpu.dispatch(pass, &kernels.chunk_count_keys, params, gpu.n_chunks);
        gpu.dispatch(pass, &kernels.combine_sum, params, gpu.multi_groups());
        gpu.dispatch(
            pass,
            &kernels.update_key_bracket,
            params,
            gpu.problem_groups(),
        );
    }
    gpu.dispatch(pass, &kernels.chunk_mark, params, gpu.n_chunks);
    gpu.dispatch(pass, &kernels.scan_chunk_counts, params, gpu.multi_groups());
    gpu.dispatch(pass, &kernels.chunk_compact, params, gpu.n_chunks);
}

/// The kept local indices of each problem, read back from slot W after [`record_top_k`].
pub fn read_top_k(
    ctx: &GpuContext,
    gpu: &GpuBatch,
    offsets: &[usize],
    budgets: &[usize],
) -> Result<Vec<Vec<usize>>> {
    let w = gpu.read_slot(ctx, slot::W)?;
    Ok(budgets
        .iter()
        .enumerate()
        .map(|(p, &k)| {
            w[offsets[p]..offsets[p] + k]
                .iter()
                .map(|&v| v as usize)
                .collect()
        })
        .collect())
}

/// Records one mirror step from the current x into slot V and its KL projection into slot XN.
fn record_mirror_step(
    gpu: &GpuBatch,
    kernels: &Kernels,
    pass: &mut wgpu::ComputePass,
    params: &wgpu::BindGroup,
) {
    gpu.dispatch(pass, &kernels.chunk_gradient_max, params, gpu.n_chunks);
    gpu.dispatch(pass, &kernels.combine_sum_max, params, gpu.multi_groups());
    gpu.dispatch(pass, &kernels.set_shift, params, gpu.problem_groups());
    gpu.dispatch(pass, &kernels.mirror_step, params, gpu.row_groups());
    gpu.dispatch(pass, &kernels.kl_init, params, gpu.problem_groups());
    for _ in 0..PROJECTION_ROUNDS {
        gpu.dispatch(pass, &kernels.chunk_kl_sums, params, gpu.n_chunks);
        gpu.dispatch(pass, &kernels.combine_sum, params, gpu.multi_groups());
        gpu.dispatch(pass, &kernels.update_lambda, params, gpu.problem_groups());
    }
    gpu.dispatch(pass, &kernels.apply_kl, params, gpu.row_groups());
}

/// A batch on the device ready for the ascent: `x₀`, its `K x`, `f(x₀)` and the first step of
/// every problem computed, and the parameter groups the iterations use.
struct Prepared {
    gpu: GpuBatch,
    offsets: Vec<usize>,
    /// Where the traces start in `vecs` and how many entries they hold.
    trace_base: usize,
    trace_len: usize,
    plain: wgpu::BindGroup,
    spmv_candidate: wgpu::BindGroup,
    objective_candidate: wgpu::BindGroup,
}

/// Uploads `batch` and submits the start of the ascent (see [`Prepared`]).
fn prepare(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    config: &SolverConfig,
) -> Result<Prepared> {
    let offsets = batch.offsets();
    let layout = Layout::new(&offsets);
    let n = layout.n;
    let graph = batch.block_diagonal();
    // The slots, then every problem's trace of relaxed f (one entry per accepted iteration).
    let trace_base = n * slot::COUNT as usize;
    let trace_len = batch.len() * config.iterations;
    if (trace_base + trace_len) as u64 > u64::from(u32::MAX) {
        return Err(GpuError::TooLarge {
            what: "the vector slots and the relaxed traces of a batch (u32 indices)",
            needed: (trace_base + trace_len) as u64,
            limit: u64::from(u32::MAX),
        });
    }
    let rule = AscentRule::<f32>::new(config);
    let mut vecs = vec![0.0f32; trace_base + trace_len];
    let mut states = Vec::with_capacity(batch.len());
    for (p, problem) in batch.problems().iter().enumerate() {
        let (lo, hi) = (offsets[p], offsets[p + 1]);
        let size = (hi - lo) as f32;
        let k = problem.k() as f32;
        vecs[slot::S as usize * n + lo..slot::S as usize * n + hi]
            .copy_from_slice(problem.scores());
        vecs[slot::X as usize * n + lo..slot::X as usize * n + hi].fill(k / size);
        vecs[slot::V as usize * n + lo..slot::V as usize * n + hi].fill(1.0 / size.sqrt());
        let trivial = problem.k() == problem.n();
        states.push(ProblemState {
            k,
            alpha: problem.alpha() as f32,
            eta: config.step_size.unwrap_or(0.0) as f32,
            max_iterations: rule.max_iterations,
            converged: if trivial { Stop::Trivial.code() } else { 0 },
            ..ProblemState::default()
        });
    }
    let gpu = GpuBatch::new(ctx, kernels, &layout, &graph, states, &vecs)?;
    let n32 = n as u32;
    let base = Params {
        trace_base: trace_base as u32,
        trace_stride: config.iterations as u32,
        ..base_params(config)
    };
    let with = |src: u32, dst: u32| gpu.params(ctx, kernels, Params { src, dst, ..base });
    let plain = with(0, 0);
    let spmv_current = with(slot::X * n32, slot::Y * n32);
    let spmv_power = with(slot::V * n32, slot::W * n32);
    let objective_current = with(slot::X, slot::Y);
    let prepared = Prepared {
        spmv_candidate: with(slot::XN * n32, slot::YN * n32),
        objective_candidate: with(slot::XN, slot::YN),
        gpu,
        offsets,
        trace_base,
        trace_len,
        plain,
    };
    let gpu = &prepared.gpu;
    let plain = &prepared.plain;

    // The first step, `ascent::initial_step` on the device: the power iteration for PG's 1/L, the
    // largest |∇f(x₀)| for mirror ascent, or the step the config gives (η > 0 already).
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        gpu.dispatch(&mut pass, &kernels.spmv, &spmv_current, gpu.row_groups());
        if config.algorithm == Algorithm::Mirror {
            gpu.dispatch(&mut pass, &kernels.chunk_gradient_max, plain, gpu.n_chunks);
            gpu.dispatch(
                &mut pass,
                &kernels.combine_sum_max,
                plain,
                gpu.multi_groups(),
            );
            gpu.dispatch(
                &mut pass,
                &kernels.set_mirror_step,
                plain,
                gpu.problem_groups(),
            );
        } else if config.step_size.is_none() {
            for _ in 0..config.power_iterations {
                gpu.dispatch(&mut pass, &kernels.spmv, &spmv_power, gpu.row_groups());
                gpu.dispatch(&mut pass, &kernels.chunk_square_norm, plain, gpu.n_chunks);
                gpu.dispatch(&mut pass, &kernels.combine_sum, plain, gpu.multi_groups());
                gpu.dispatch(&mut pass, &kernels.set_norm, plain, gpu.problem_groups());
                gpu.dispatch(
                    &mut pass,
                    &kernels.normalize_power_vector,
                    plain,
                    gpu.row_groups(),
                );
            }
            gpu.dispatch(&mut pass, &kernels.set_step, plain, gpu.problem_groups());
        }
        gpu.dispatch(&mut pass, &kernels.spmv, &spmv_current, gpu.row_groups());
        gpu.dispatch(
            &mut pass,
            &kernels.chunk_objective,
            &objective_current,
            gpu.n_chunks,
        );
        gpu.dispatch(
            &mut pass,
            &kernels.combine_sum_max,
            plain,
            gpu.multi_groups(),
        );
        gpu.dispatch(
            &mut pass,
            &kernels.set_objective,
            plain,
            gpu.problem_groups(),
        );
    }
    ctx.submit(encoder);
    Ok(prepared)
}

/// Records [`ascent::AscentOps::try_step`] for every running problem: the candidate step from the
/// current x with each problem's η into slot XN, its `K x` into YN, and its objective partials.
fn record_candidate(
    prepared: &Prepared,
    kernels: &Kernels,
    pass: &mut wgpu::ComputePass,
    algorithm: Algorithm,
) {
    let gpu = &prepared.gpu;
    let plain = &prepared.plain;
    if algorithm == Algorithm::Mirror {
        record_mirror_step(gpu, kernels, pass, plain);
    } else {
        gpu.dispatch(pass, &kernels.pg_step, plain, gpu.row_groups());
        record_projection(gpu, kernels, pass, plain);
    }
    gpu.dispatch(
        pass,
        &kernels.spmv,
        &prepared.spmv_candidate,
        gpu.row_groups(),
    );
    gpu.dispatch(
        pass,
        &kernels.chunk_objective,
        &prepared.objective_candidate,
        gpu.n_chunks,
    );
    gpu.dispatch(pass, &kernels.combine_sum_max, plain, gpu.multi_groups());
}

/// Rows per problem up to which [`Stepping::Fused`] serves a batch: one workgroup of 256 then
/// covers a problem in at most 8 strides, where the batch kernels' per-iteration dispatches and
/// second-level combines would cost more than the work.
pub const FUSED_MAX_ROWS: usize = 2048;

/// Who runs the ascent's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepping {
    /// The device, with the batch kernels: `accept_step` judges every candidate, and the host
    /// reads a 4-byte flag per block of ten iterations (`ITERATIONS_PER_SUBMIT`). What `solve` runs
    /// unless the batch qualifies for [`Stepping::Fused`].
    Device,
    /// The device, one workgroup per problem running the whole ascent in one dispatch
    /// (`fused.wgsl`): projected gradient only, every problem at most 2,048 rows (`FUSED_MAX_ROWS`).
    /// What `solve` runs for batches of small problems (token samples, small partitions).
    Fused,
    /// The host: the core's `ascent::run` over the device's primitives, one read-back of the
    /// problem states per step. Slow; it exists to check that [`Stepping::Device`] is the core's
    /// rule, bit for bit.
    Host,
}

/// Runs projected gradient or mirror ascent (`config.algorithm`) on every problem of `batch`,
/// stepped as `stepping` says, and rounds every problem to its top-k on the device.
pub fn relaxed_ascent(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    config: &SolverConfig,
    stepping: Stepping,
) -> Result<RelaxedBatch> {
    if stepping == Stepping::Fused {
        fused_fits(batch, config)?;
    }
    let prepared = prepare(ctx, kernels, batch, config)?;
    let (states, traces) = match stepping {
        Stepping::Device => device_loop(ctx, kernels, batch, config, &prepared)?,
        Stepping::Fused => fused_loop(ctx, kernels, batch, config, &prepared)?,
        Stepping::Host => host_loop(ctx, kernels, batch, config, &prepared)?,
    };
    let Prepared {
        gpu,
        offsets,
        plain,
        ..
    } = prepared;
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        record_top_k(&gpu, kernels, &mut pass, &plain);
    }
    ctx.submit(encoder);
    let rounded = read_top_k(ctx, &gpu, &offsets, &batch.budgets())?;
    Ok(RelaxedBatch {
        rounded,
        states,
        traces,
        gpu,
    })
}

type StatesAndTraces = (Vec<ProblemState>, Vec<Vec<f64>>);

/// The loop on the device; the state and the traces come back once, at the end.
fn device_loop(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    config: &SolverConfig,
    prepared: &Prepared,
) -> Result<StatesAndTraces> {
    let gpu = &prepared.gpu;
    let plain = &prepared.plain;
    // Each attempt either accepts a step or halves the step; a problem accepts within every
    // MAX_BACKTRACKS + 1 attempts or stops, which bounds the blocks a problem can need.
    let per_step = ascent::MAX_BACKTRACKS as usize + 1;
    let max_attempts = config.iterations.saturating_add(1).saturating_mul(per_step);
    let mut flags = ConvergenceFlags::new(ctx);
    for _ in 0..max_attempts.div_ceil(ITERATIONS_PER_SUBMIT) {
        // At most two blocks in flight: the device runs one while the host queues the next, and
        // the host learns from a 4-byte flag, never from the per-problem state, when to stop.
        if flags.in_flight() == 2 && flags.wait_oldest(ctx)? == 0 {
            break;
        }
        if flags.poll_oldest(ctx)? == Some(0) {
            break;
        }
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for _ in 0..ITERATIONS_PER_SUBMIT {
                record_candidate(prepared, kernels, &mut pass, config.algorithm);
                gpu.dispatch(&mut pass, &kernels.accept_step, plain, gpu.problem_groups());
                gpu.dispatch(&mut pass, &kernels.commit_step, plain, gpu.row_groups());
            }
            gpu.dispatch(&mut pass, &kernels.clear_flags, plain, 1);
            gpu.dispatch(
                &mut pass,
                &kernels.count_unconverged,
                plain,
                gpu.problem_groups(),
            );
        }
        flags.submit(ctx, gpu, encoder);
    }
    // Problems that stopped no longer change, so a block queued after the last one that mattered
    // leaves the state as it was; the state itself comes back once, here.
    read_states_and_traces(ctx, batch, config, prepared)
}

/// Whether `batch` can run as [`Stepping::Fused`]; the error says why not.
pub fn fused_fits(batch: &ProblemBatch, config: &SolverConfig) -> Result<()> {
    if config.algorithm != Algorithm::ProjectedGradient {
        return Err(GpuError::Unsupported(
            "the fused small-problem solve runs projected gradient only".into(),
        ));
    }
    match batch.problems().iter().map(|p| p.n()).max() {
        Some(rows) if rows > FUSED_MAX_ROWS => Err(GpuError::Unsupported(format!(
            "the fused small-problem solve takes problems of at most {FUSED_MAX_ROWS} rows, \
             and this batch has one of {rows}"
        ))),
        _ => Ok(()),
    }
}

/// The whole loop in one dispatch, one workgroup per problem.
fn fused_loop(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    config: &SolverConfig,
    prepared: &Prepared,
) -> Result<StatesAndTraces> {
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        let gpu = &prepared.gpu;
        gpu.dispatch(
            &mut pass,
            &kernels.fused_pg,
            &prepared.plain,
            gpu.n_problems,
        );
    }
    ctx.submit(encoder);
    read_states_and_traces(ctx, batch, config, prepared)
}

/// Every problem's state and relaxed trace, read back in one wait.
fn read_states_and_traces(
    ctx: &GpuContext,
    batch: &ProblemBatch,
    config: &SolverConfig,
    prepared: &Prepared,
) -> Result<StatesAndTraces> {
    let gpu = &prepared.gpu;
    let state_bytes = batch.len() as u64 * std::mem::size_of::<ProblemState>() as u64;
    let mut parts = crate::batch::read_buffers(
        ctx,
        &[
            (&gpu.problems, 0, state_bytes),
            (
                &gpu.vecs,
                prepared.trace_base as u64 * 4,
                prepared.trace_len as u64 * 4,
            ),
        ],
    )?;
    let trace: Vec<f32> = bytemuck::pod_collect_to_vec(&parts.pop().expect("two parts"));
    let states: Vec<ProblemState> = bytemuck::pod_collect_to_vec(&parts.pop().expect("two parts"));
    let traces = states
        .iter()
        .enumerate()
        .map(|(p, state)| {
            let start = p * config.iterations;
            let len = (state.iterations as usize).min(config.iterations);
            trace[start..start + len]
                .iter()
                .map(|&f| f as f64)
                .collect()
        })
        .collect();
    Ok((states, traces))
}

/// The core's `ascent::run` for every problem of the batch, over the device's primitives: each
/// step the device measures every running problem's candidate (`measure_step`), the host judges
/// it with [`ascent::AscentState::judge`] and writes the states back, and `commit_step` keeps the
/// accepted ones.
fn host_loop(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    config: &SolverConfig,
    prepared: &Prepared,
) -> Result<StatesAndTraces> {
    let gpu = &prepared.gpu;
    let plain = &prepared.plain;
    let rule = AscentRule::<f32>::new(config);
    let state_bytes = batch.len() as u64 * std::mem::size_of::<ProblemState>() as u64;
    let read_states = || -> Result<Vec<ProblemState>> {
        let bytes = crate::batch::read_buffer(ctx, &gpu.problems, 0, state_bytes)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    };
    let mut states = read_states()?;
    let mut traces = vec![Vec::new(); batch.len()];
    while states.iter().any(|s| s.ascent().stop.is_none()) {
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            record_candidate(prepared, kernels, &mut pass, config.algorithm);
            gpu.dispatch(
                &mut pass,
                &kernels.measure_step,
                plain,
                gpu.problem_groups(),
            );
        }
        ctx.submit(encoder);
        states = read_states()?;
        for (state, trace) in states.iter_mut().zip(&mut traces) {
            let mut ascent = state.ascent();
            if ascent.stop.is_some() {
                state.accepted = 0;
                continue;
            }
            ascent.judge(&rule, state.f_new, state.delta);
            if ascent.accepted_last {
                trace.push(state.f_new as f64);
            }
            state.set_ascent(&ascent);
        }
        ctx.upload(&gpu.problems, 0, bytemuck::cast_slice(&states));
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            gpu.dispatch(&mut pass, &kernels.commit_step, plain, gpu.row_groups());
        }
        ctx.submit(encoder);
    }
    Ok((states, traces))
}

/// Swap refinement for every problem of a batch in lockstep: each round uploads the kept sets,
/// computes `K x` and the gains on the device for all problems in one dispatch pair, and plans each
/// problem's swaps on the host (`plan_swaps` re-checks every swap exactly in f64, so f never
/// decreases). Returns the swaps applied per problem.
pub fn refine_batch(
    ctx: &GpuContext,
    kernels: &Kernels,
    batch: &ProblemBatch,
    gpu: &GpuBatch,
    selected: &mut [Vec<usize>],
    rounds: usize,
) -> Result<Vec<usize>> {
    use infoprune_core::solver::swap::{apply_swaps, plan_swaps};
    use rayon::prelude::*;
    let offsets = batch.offsets();
    let n = gpu.n as usize;
    let n32 = gpu.n;
    let spmv_indicator = gpu.params(
        ctx,
        kernels,
        Params {
            nrhs: 1,
            src: slot::XN * n32,
            dst: slot::YN * n32,
            ..Params::default()
        },
    );
    let plain = gpu.params(ctx, kernels, Params::default());
    let mut members: Vec<Vec<bool>> = selected
        .iter()
        .zip(batch.problems())
        .map(|(set, p)| {
            let mut m = vec![false; p.n()];
            for &i in set {
                m[i] = true;
            }
            m
        })
        .collect();
    let mut swaps_done = vec![0usize; batch.len()];
    for _ in 0..rounds {
        let mut indicator = vec![0.0f32; n];
        for (p, member) in members.iter().enumerate() {
            for (i, &m) in member.iter().enumerate() {
                if m {
                    indicator[offsets[p] + i] = 1.0;
                }
            }
        }
        ctx.upload(
            &gpu.vecs,
            slot::XN as u64 * n as u64 * 4,
            bytemuck::cast_slice(&indicator),
        );
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            gpu.dispatch(&mut pass, &kernels.spmv, &spmv_indicator, gpu.row_groups());
            gpu.dispatch(&mut pass, &kernels.swap_gains, &plain, gpu.row_groups());
        }
        ctx.submit(encoder);
        let gains = gpu.read_slot(ctx, slot::W)?;
        let plans: Vec<Vec<(usize, usize)>> = batch
            .problems()
            .par_iter()
            .enumerate()
            .map(|(p, owned)| {
                let values: Vec<f64> = gains[offsets[p]..offsets[p + 1]]
                    .iter()
                    .map(|&g| g as f64)
                    .collect();
                plan_swaps(&owned.as_problem(), &members[p], &values)
            })
            .collect();
        if plans.iter().all(Vec::is_empty) {
            break;
        }
        for (p, plan) in plans.iter().enumerate() {
            swaps_done[p] += apply_swaps(&mut members[p], &mut selected[p], plan);
        }
    }
    Ok(swaps_done)
}
