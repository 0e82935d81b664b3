//! The exact kNN similarity graph on the GPU (SPEC §1.3), matching `infoprune_core::knn`.
//!
//! Rows are L2-normalised on the host with the CPU's own [`l2_normalize_rows`] (so both backends
//! start from the same bits), uploaded once, and `shaders/knn.wgsl` computes every row's top-`m`
//! list by brute force: tiled cosine similarities, the CPU's snap-to-one rule applied before
//! ranking, self and non-positive similarities skipped, ties to the smaller index. The lists come
//! back and the CPU's [`symmetrize_lists`] turns them into the CSR graph, so symmetrisation is
//! shared code, not a second implementation.
//!
//! Differences from the CPU are limited to f32 rounding of the dot products (the CPU uses `sgemm`,
//! the GPU a fixed sequential order), which can swap two neighbours whose similarities are within
//! a few ulps of each other at the boundary of a list. The GPU result itself is deterministic.

use std::sync::mpsc;

use infoprune_core::knn::{
    knn_graph, knn_lists, l2_normalize_rows, snap, symmetrize_lists, validate_embeddings, KnnConfig,
};
use infoprune_core::progress::Silent;
use infoprune_core::{CoreError, CsrSimilarity};
use ndarray::ArrayView2;

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::kernels::{KnnKernel, KNN_PARAMS_BYTES as PARAMS_BYTES};

/// The largest `m` the kernel handles. Each invocation keeps its row's top-`m` similarities and
/// indices in private arrays (registers, or spilled local memory); beyond 32 entries the register
/// pressure and the linear insertion cost outweigh the GPU's advantage, so larger `m` runs on the
/// CPU reference instead.
pub const MAX_GPU_NEIGHBORS: usize = 32;

/// Query rows per workgroup: one invocation per row. Must match `ROWS` and `@workgroup_size` in
/// `knn.wgsl`.
pub(crate) const ROWS_PER_WORKGROUP: u32 = 64;

/// Candidate rows per tile of the kernel (`TILE` in `knn.wgsl`); candidate blocks are multiples.
const TILE: usize = 32;

/// Workgroup memory the kernel declares: 64 query rows of a 32-feature chunk padded to 33 floats
/// (`q_tile`) and 32 candidates × 32 features (`c_tile`) in `knn.wgsl`.
const WORKGROUP_STORAGE_BYTES: u32 = (64 * 33 + 32 * 32) * 4;

/// Storage buffers the kernel binds (embeddings, output indices, output values, and the IVF
/// mode's tasks, query positions and row order).
const STORAGE_BUFFERS: u32 = 6;

/// Marks an empty slot in the kernel's output (a row with fewer than `m` positive similarities).
const EMPTY: u32 = u32::MAX;

/// Most query rows in one slice: 1,024 workgroups per dispatch, enough to fill the largest GPUs,
/// while a slice's lists stay small enough to read back while the next slice runs.
const MAX_ROWS_PER_SLICE: usize = 65_536;

/// Multiply-adds one invocation does in one dispatch (candidate block × padded `d`). Bounds the run
/// of a single invocation: lavapipe loses private-array writes in invocations that scan several
/// hundred tiles (see `knn.wgsl`), and on real GPUs it keeps a dispatch short enough for OS
/// watchdogs while a slice's thousand workgroups still fill the device.
const MACS_PER_ROW_PER_DISPATCH: usize = 1 << 17;

/// The largest candidate block (128 tiles), reached for `d ≤ 32`.
const MAX_BLOCK: usize = MACS_PER_ROW_PER_DISPATCH / TILE;

/// The device's kNN kernel, compiled on first use.
pub(crate) fn kernel(ctx: &GpuContext) -> Result<&KnnKernel, GpuError> {
    if let Some(kernel) = ctx.knn_kernel.get() {
        return Ok(kernel);
    }
    let kernel = KnnKernel::new(&ctx.device);
    // A shader or pipeline error surfaces here, before any buffer is allocated.
    ctx.take_error()?;
    Ok(ctx.knn_kernel.get_or_init(|| kernel))
}

/// The kNN graph of `embeddings` computed on the GPU: the same graph as
/// [`infoprune_core::knn::knn_graph`] up to f32 rounding (near-ties at the boundary of a row's list
/// may pick a different neighbour).
///
/// `m = min(config.neighbors, n − 1)`; `m = 0` gives the empty graph and `m > 32`
/// ([`MAX_GPU_NEIGHBORS`]) runs the CPU reference, whose heap has no register budget.
///
/// # Errors
/// The CPU's validation errors ([`CoreError::Empty`], [`CoreError::InvalidParameter`],
/// [`CoreError::NonFinite`]), and [`GpuError`]s converted to [`CoreError::Backend`]: the
/// embedding matrix not fitting one storage binding (`TooLarge`), device errors, device loss or a
/// failed read-back.
pub fn knn_graph_gpu(
    ctx: &GpuContext,
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
) -> Result<CsrSimilarity, CoreError> {
    validate_embeddings(embeddings)?;
    let n = embeddings.nrows();
    let m = config.neighbors.min(n - 1);
    if m == 0 {
        return Ok(CsrSimilarity::empty(n));
    }
    if m > MAX_GPU_NEIGHBORS {
        return knn_graph(embeddings, config, &Silent);
    }
    let lists = gpu_lists(ctx, embeddings, m)?;
    symmetrize_lists(n, lists, config.symmetrize)
}

/// The row-wise (not yet symmetrised) neighbour lists `(column, similarity)` computed on the GPU,
/// each sorted by (similarity descending, index ascending) with only positive similarities: the
/// GPU counterpart of [`infoprune_core::knn::knn_lists`], with the same `m` rules and fallback as
/// [`knn_graph_gpu`].
///
/// # Errors
/// As [`knn_graph_gpu`].
pub fn knn_lists_gpu(
    ctx: &GpuContext,
    embeddings: ArrayView2<f32>,
    neighbors: usize,
) -> Result<Vec<Vec<(u32, f32)>>, CoreError> {
    validate_embeddings(embeddings)?;
    let n = embeddings.nrows();
    let m = neighbors.min(n - 1);
    if m == 0 {
        return Ok(vec![Vec::new(); n]);
    }
    if m > MAX_GPU_NEIGHBORS {
        return knn_lists(embeddings, neighbors, &Silent);
    }
    Ok(gpu_lists(ctx, embeddings, m)?)
}

/// The smallest `f32` the CPU's [`snap`] turns into 1, found from `snap` itself so that the kernel's
/// `raw >= snap_from` test agrees with the CPU on every input, whatever the constant's rounding.
pub(crate) fn snap_threshold() -> f32 {
    let mut x = 1.0f32;
    loop {
        let below = f32::from_bits(x.to_bits() - 1);
        if snap(below) == 1.0 {
            x = below;
        } else {
            return x;
        }
    }
}

/// How a problem is cut into dispatches: query rows into slices (one submission each), candidates
/// into blocks (one dispatch each, in increasing order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Query rows per slice (a multiple of the workgroup's rows unless it covers all of `n`).
    pub rows_per_slice: usize,
    /// Candidate rows per dispatch, a multiple of the kernel's tile.
    pub block: usize,
    /// Bytes between consecutive `Params` in the uniform buffer (the dynamic-offset alignment).
    pub params_stride: u64,
}

impl Plan {
    /// Candidate blocks per slice.
    fn blocks(&self, n: usize) -> usize {
        n.div_ceil(self.block)
    }
}

/// The largest row count the kernel's u32 arithmetic handles: row and candidate counters run up
/// to `n` plus one workgroup or tile past it.
const MAX_ROWS: u64 = u32::MAX as u64 - 2 * ROWS_PER_WORKGROUP as u64;

/// Checks that the problem fits the device and the kernel's index range, and chooses the slices
/// and blocks. The embedding matrix must fit one storage binding (every query row needs every
/// candidate row) and index with u32 element offsets; the outputs are sliced by query rows to
/// respect the binding size, the buffer size and the workgroup-count limit.
pub(crate) fn plan(limits: &wgpu::Limits, n: usize, d: usize, m: usize) -> Result<Plan, GpuError> {
    let needs = |what: &'static str, needed: u64, limit: u64| {
        if needed > limit {
            Err(GpuError::TooLarge {
                what,
                needed,
                limit,
            })
        } else {
            Ok(())
        }
    };
    needs(
        "the kNN kernel's workgroup size (invocations)",
        u64::from(ROWS_PER_WORKGROUP),
        u64::from(
            limits
                .max_compute_invocations_per_workgroup
                .min(limits.max_compute_workgroup_size_x),
        ),
    )?;
    needs(
        "the kNN kernel's workgroup memory (bytes)",
        u64::from(WORKGROUP_STORAGE_BYTES),
        u64::from(limits.max_compute_workgroup_storage_size),
    )?;
    needs(
        "the kNN kernel's storage buffers per stage",
        u64::from(STORAGE_BUFFERS),
        u64::from(limits.max_storage_buffers_per_shader_stage),
    )?;
    needs(
        "rows for the kNN kernel (u32 row indices)",
        n as u64,
        MAX_ROWS,
    )?;
    // The shader indexes `emb` with u32 element offsets, so 2^32 − 1 elements is a hard cap too.
    let binding = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
        .min(u64::from(u32::MAX) * 4);
    let emb_bytes = (n as u64) * (d as u64) * 4;
    needs(
        "the normalised embedding matrix (bytes)",
        emb_bytes,
        binding,
    )?;

    let wg = ROWS_PER_WORKGROUP as usize;
    let row_bytes = (m as u64) * 4;
    let by_binding = (binding / row_bytes) as usize / wg * wg;
    let by_groups = limits.max_compute_workgroups_per_dimension as usize * wg;
    let rows = by_binding
        .min(by_groups)
        .min(MAX_ROWS_PER_SLICE)
        .min(n.div_ceil(wg) * wg);
    // Zero only on a device whose binding cannot hold one workgroup's output.
    if rows == 0 {
        return Err(GpuError::TooLarge {
            what: "one workgroup's kNN output (bytes)",
            needed: row_bytes * wg as u64,
            limit: binding,
        });
    }
    let padded_d = d.div_ceil(TILE) * TILE;
    let block = (MACS_PER_ROW_PER_DISPATCH / padded_d).clamp(TILE, MAX_BLOCK) / TILE * TILE;
    // Dynamic offsets must be multiples of the alignment (a power of two, 32 on lavapipe, 256 on
    // most GPUs), which need not divide the 48 bytes of Params.
    let align = u64::from(limits.min_uniform_buffer_offset_alignment).max(1);
    let params_stride = PARAMS_BYTES.div_ceil(align) * align;
    let plan = Plan {
        rows_per_slice: rows,
        block,
        params_stride,
    };
    // Dynamic offsets are u32, and every block's Params must fit one buffer.
    needs(
        "the kNN kernel's per-dispatch parameters (bytes)",
        plan.blocks(n) as u64 * params_stride,
        limits.max_buffer_size.min(u64::from(u32::MAX)),
    )?;
    Ok(plan)
}

/// What one dispatch of `knn.wgsl` searches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Search {
    /// Exact: consecutive query rows against one candidate block.
    Exact {
        /// The candidate rows.
        candidates: (usize, usize),
    },
    /// IVF: one task per workgroup from `tasks[task_base..]`.
    Ivf {
        /// The dispatch's first task.
        task_base: usize,
        /// Its tasks (one per workgroup; a 2-D dispatch's extra workgroups do nothing).
        tasks: usize,
        /// Whether the queries' lists continue from an earlier dispatch.
        carry: bool,
    },
}

/// The uniform block of `knn.wgsl` (`Params`), as twelve 32-bit words.
pub(crate) fn params_words(
    n: usize,
    d: usize,
    m: usize,
    rows: (usize, usize),
    search: Search,
    snap_from: f32,
) -> [u32; 12] {
    // All fit u32: n ≤ MAX_ROWS and d ≤ n·d ≤ u32::MAX by the plan, m ≤ 32, and tasks number at
    // most the queries of a slice times the probes.
    let (candidates, mode, carry, task_base, tasks) = match search {
        Search::Exact { candidates } => (candidates, 0, candidates.0 > 0, 0, 0),
        Search::Ivf {
            task_base,
            tasks,
            carry,
        } => ((0, 0), 1, carry, task_base, tasks),
    };
    [
        n as u32,
        d as u32,
        m as u32,
        rows.0 as u32,
        rows.1 as u32,
        snap_from.to_bits(),
        candidates.0 as u32,
        candidates.1 as u32,
        mode,
        carry as u32,
        task_base as u32,
        tasks as u32,
    ]
}

/// Converts a device or poll failure, preferring the error the device itself reported.
fn device_error(ctx: &GpuContext, fallback: GpuError) -> GpuError {
    ctx.take_error().err().unwrap_or(fallback)
}

/// The buffers of one in-flight slice: its per-block parameters, the running lists the kernel
/// updates, and their read-back copies. Two sets alternate, so that slice s + 1 runs on the device
/// while the host reads slice s.
pub(crate) struct SliceBuffers {
    pub params: wgpu::Buffer,
    read_idx: wgpu::Buffer,
    read_val: wgpu::Buffer,
    out_idx: wgpu::Buffer,
    out_val: wgpu::Buffer,
    pub bind_group: wgpu::BindGroup,
}

/// The IVF mode's inputs (`tasks`, `query_pos`, `order` in `knn.wgsl`); exact searches bind
/// [`IvfInputs::unused`].
pub(crate) struct IvfInputs<'a> {
    pub tasks: &'a wgpu::Buffer,
    pub query_pos: &'a wgpu::Buffer,
    pub order: &'a wgpu::Buffer,
}

impl IvfInputs<'_> {
    /// A 16-byte placeholder for each binding, which exact mode never reads.
    pub fn unused(ctx: &GpuContext) -> wgpu::Buffer {
        ctx.buffer_with(
            "infoprune knn unused",
            &[0u8; 16],
            wgpu::BufferUsages::STORAGE,
        )
    }
}

impl SliceBuffers {
    /// Records the copy of the first `bytes` of the lists into the mappable buffers.
    pub fn copy_out(&self, encoder: &mut wgpu::CommandEncoder, bytes: u64) {
        encoder.copy_buffer_to_buffer(&self.out_idx, 0, &self.read_idx, 0, bytes);
        encoder.copy_buffer_to_buffer(&self.out_val, 0, &self.read_val, 0, bytes);
    }

    pub fn new(
        ctx: &GpuContext,
        kernel: &KnnKernel,
        emb: &wgpu::Buffer,
        ivf: &IvfInputs,
        params_bytes: u64,
        out_bytes: u64,
    ) -> Self {
        let device = &ctx.device;
        let make = |label: &'static str, size: u64, usage: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        let out_usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        let read_usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let params = make(
            "infoprune knn params",
            params_bytes,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let out_idx = make("infoprune knn indices", out_bytes, out_usage);
        let out_val = make("infoprune knn values", out_bytes, out_usage);
        let read_idx = make("infoprune knn indices readback", out_bytes, read_usage);
        let read_val = make("infoprune knn values readback", out_bytes, read_usage);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("infoprune knn"),
            layout: &kernel.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &params,
                        offset: 0,
                        size: wgpu::BufferSize::new(PARAMS_BYTES),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: emb.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: out_idx.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: out_val.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: ivf.tasks.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: ivf.query_pos.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 6,
                    resource: ivf.order.as_entire_binding(),
                },
            ],
        });
        Self {
            params,
            read_idx,
            read_val,
            out_idx,
            out_val,
            bind_group,
        }
    }
}

/// Runs the kernel for `1 ≤ m ≤ MAX_GPU_NEIGHBORS` on validated embeddings.
fn gpu_lists(
    ctx: &GpuContext,
    embeddings: ArrayView2<f32>,
    m: usize,
) -> Result<Vec<Vec<(u32, f32)>>, GpuError> {
    let (n, d) = embeddings.dim();
    debug_assert!((1..=MAX_GPU_NEIGHBORS).contains(&m) && m < n);
    let plan = plan(&ctx.limits, n, d, m)?;
    // Errors left over from earlier work are not this call's; report them rather than blame it.
    ctx.take_error()?;
    let kernel = kernel(ctx)?;

    let normalized = l2_normalize_rows(embeddings);
    let flat = normalized
        .as_slice()
        .expect("l2_normalize_rows returns standard layout");
    let emb = ctx.buffer_with(
        "infoprune knn embeddings",
        bytemuck::cast_slice(flat),
        wgpu::BufferUsages::STORAGE,
    );
    let blocks = plan.blocks(n);
    let params_bytes = blocks as u64 * plan.params_stride;
    let out_bytes = (plan.rows_per_slice * m * 4) as u64;
    let slices: Vec<(usize, usize)> = (0..n)
        .step_by(plan.rows_per_slice)
        .map(|offset| (offset, (offset + plan.rows_per_slice).min(n)))
        .collect();
    let unused = IvfInputs::unused(ctx);
    let ivf = IvfInputs {
        tasks: &unused,
        query_pos: &unused,
        order: &unused,
    };
    let sets: Vec<SliceBuffers> = (0..slices.len().min(2))
        .map(|_| SliceBuffers::new(ctx, kernel, &emb, &ivf, params_bytes, out_bytes))
        .collect();
    // Out of memory on any of these is reported here rather than as a confusing mapping failure.
    ctx.take_error()?;

    let snap_from = snap_threshold();
    let mut lists = Vec::with_capacity(n);
    let mut in_flight: Option<(usize, wgpu::SubmissionIndex)> = None;
    for (s, &(offset, end)) in slices.iter().enumerate() {
        let set = &sets[s % 2];
        let mut params = vec![0u8; params_bytes as usize];
        for b in 0..blocks {
            let candidates = (b * plan.block, ((b + 1) * plan.block).min(n));
            let words = params_words(
                n,
                d,
                m,
                (offset, end),
                Search::Exact { candidates },
                snap_from,
            );
            let at = b * plan.params_stride as usize;
            params[at..at + PARAMS_BYTES as usize].copy_from_slice(bytemuck::cast_slice(&words));
        }
        ctx.upload(&set.params, 0, &params);
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("infoprune knn"),
            });
        let rows = end - offset;
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("infoprune knn"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&kernel.pipeline);
            // rows ≤ rows_per_slice ≤ max_compute_workgroups_per_dimension · 64 (the plan).
            let groups = rows.div_ceil(ROWS_PER_WORKGROUP as usize) as u32;
            for b in 0..blocks {
                // Blocks in increasing order: each continues the lists the previous one left.
                let at = (b as u64 * plan.params_stride) as u32;
                pass.set_bind_group(0, &set.bind_group, &[at]);
                pass.dispatch_workgroups(groups, 1, 1);
            }
            ctx.counters.dispatched(blocks as u64);
        }
        set.copy_out(&mut encoder, (rows * m * 4) as u64);
        let submitted = ctx.submit(encoder);
        // The previous slice is read while this one runs.
        if let Some((prev, index)) = in_flight.replace((s, submitted)) {
            lists.extend(read_slice(
                ctx,
                &sets[prev % 2],
                slices[prev],
                n,
                m,
                index,
                &|r| r,
            )?);
        }
    }
    if let Some((last, index)) = in_flight {
        lists.extend(read_slice(
            ctx,
            &sets[last % 2],
            slices[last],
            n,
            m,
            index,
            &|r| r,
        )?);
    }
    Ok(lists)
}

/// Waits for slice `rows` (submitted as `index`) and returns its checked lists, in position order;
/// `row_of` maps a position to the row it holds (for the checks).
pub(crate) fn read_slice(
    ctx: &GpuContext,
    set: &SliceBuffers,
    rows: (usize, usize),
    n: usize,
    m: usize,
    index: wgpu::SubmissionIndex,
    row_of: &dyn Fn(usize) -> usize,
) -> Result<Vec<Vec<(u32, f32)>>, GpuError> {
    let (offset, end) = rows;
    let bytes = ((end - offset) * m * 4) as u64;
    let (tx, rx) = mpsc::channel();
    for (which, buffer) in [(0, &set.read_idx), (1, &set.read_val)] {
        let tx = tx.clone();
        buffer.map_async(wgpu::MapMode::Read, ..bytes, move |r| {
            // The receiver outlives the poll below; a failed send only means we already gave up.
            let _ = tx.send((which, r));
        });
    }
    drop(tx);
    ctx.counters.read_back(2 * bytes);
    ctx.wait(Some(index))?;
    let mut mapped = 0;
    while let Ok((which, r)) = rx.try_recv() {
        r.map_err(|e| {
            let buffer = if which == 0 { "indices" } else { "values" };
            device_error(
                ctx,
                GpuError::Readback(format!("mapping the {buffer}: {e}")),
            )
        })?;
        mapped += 1;
    }
    if mapped != 2 {
        return Err(device_error(
            ctx,
            GpuError::Readback("the device finished but a mapping never completed".into()),
        ));
    }
    let mut lists = Vec::with_capacity(end - offset);
    {
        let idx_view = set
            .read_idx
            .get_mapped_range(..bytes)
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let val_view = set
            .read_val
            .get_mapped_range(..bytes)
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let idx: &[u32] = bytemuck::cast_slice(&idx_view);
        let val: &[f32] = bytemuck::cast_slice(&val_view);
        for (r, (row_idx, row_val)) in idx.chunks_exact(m).zip(val.chunks_exact(m)).enumerate() {
            lists.push(row_list(row_of(offset + r), n, row_idx, row_val)?);
        }
    }
    set.read_idx.unmap();
    set.read_val.unmap();
    Ok(lists)
}

/// One row's list from the kernel's fixed-width output: entries up to the first empty slot, which
/// the kernel already wrote best first. Anything the CPU would never produce (an index out of range,
/// the row itself, a similarity outside `(0, 1]`, a wrong order) is reported, not passed on.
fn row_list(row: usize, n: usize, idx: &[u32], val: &[f32]) -> Result<Vec<(u32, f32)>, GpuError> {
    let mut list: Vec<(u32, f32)> = Vec::with_capacity(idx.len());
    for (&j, &v) in idx.iter().zip(val) {
        if j == EMPTY {
            break;
        }
        let in_order = list
            .last()
            .is_none_or(|&(pj, pv)| pv > v || (pv == v && pj < j));
        if j as usize >= n || j as usize == row || !(v > 0.0 && v <= 1.0) || !in_order {
            return Err(GpuError::Readback(format!(
                "the kNN kernel returned an invalid entry ({j}, {v}) for row {row}"
            )));
        }
        list.push((j, v));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_threshold_is_the_cpu_boundary() {
        let t = snap_threshold();
        assert_eq!(snap(t), 1.0);
        assert!(snap(f32::from_bits(t.to_bits() - 1)) < 1.0);
        assert!((t - (1.0 - 1e-6)).abs() < 1e-7);
    }

    #[test]
    fn plan_slices_by_every_limit() {
        let limits = wgpu::Limits::default();
        // Small problems: one slice covering n rounded up to the workgroup.
        assert_eq!(plan(&limits, 700, 24, 10).unwrap().rows_per_slice, 704);
        // Few workgroups per dispatch: slices of that many workgroups.
        let few = wgpu::Limits {
            max_compute_workgroups_per_dimension: 3,
            ..limits.clone()
        };
        assert_eq!(plan(&few, 1000, 8, 5).unwrap().rows_per_slice, 192);
        // A small binding: outputs sliced, embeddings still fit.
        let small = wgpu::Limits {
            max_storage_buffer_binding_size: 64 * 1024,
            ..limits.clone()
        };
        let p = plan(&small, 4000, 4, 32).unwrap();
        assert_eq!(p.rows_per_slice, 512);
        // Embeddings larger than a binding: a clear error.
        let err = plan(&small, 4000, 8, 32).unwrap_err();
        assert!(
            matches!(
                err,
                GpuError::TooLarge {
                    needed: 128_000,
                    ..
                }
            ),
            "{err}"
        );
        // Large problems are no longer cut by work: a slice is 65,536 rows (1,024 workgroups)
        // whatever d, and the candidates come in blocks bounded by d.
        let big = wgpu::Limits {
            max_storage_buffer_binding_size: 1 << 31,
            max_buffer_size: 1 << 31,
            ..limits.clone()
        };
        let p = plan(&big, 1_000_000, 64, 10).unwrap();
        assert_eq!(p.rows_per_slice, MAX_ROWS_PER_SLICE);
        assert_eq!(p.block, 2048);
        assert_eq!(p.blocks(1_000_000), 489);
        assert_eq!(plan(&big, 100_000, 768, 10).unwrap().block, 160);
        assert_eq!(plan(&big, 100_000, 4, 10).unwrap().block, MAX_BLOCK);
        assert_eq!(plan(&big, 100_000, 100_000 / 32, 10).unwrap().block, TILE);
        // Per-dispatch parameters are spaced by the uniform offset alignment.
        assert_eq!(p.params_stride, 256);
    }

    #[test]
    fn plan_refuses_what_u32_indices_cannot_reach() {
        // A device with huge bindings: the kernel's own u32 arithmetic is the limit.
        let huge = wgpu::Limits {
            max_storage_buffer_binding_size: u64::MAX,
            max_buffer_size: u64::MAX,
            ..wgpu::Limits::default()
        };
        // n · d elements must index with u32: exactly 2^32 − 1 elements fit, 2^32 do not.
        assert!(plan(&huge, 65_535, 65_537, 1).is_ok());
        let err = plan(&huge, 65_536, 65_536, 1).unwrap_err();
        assert!(matches!(err, GpuError::TooLarge { needed, .. } if needed == 1u64 << 34));
        // Rows: up to MAX_ROWS, where row + one workgroup and candidate + one tile stay below
        // 2^32; one more is refused, not wrapped.
        let rows = MAX_ROWS as usize;
        assert!(plan(&huge, rows, 1, 1).is_ok());
        let err = plan(&huge, rows + 1, 1, 1).unwrap_err();
        assert!(err.to_string().contains("u32 row indices"), "{err}");
        assert!(rows + ROWS_PER_WORKGROUP as usize + TILE <= u32::MAX as usize);
        // The largest slice's output offsets, (rows − 1) · m + m − 1, stay in range too.
        let p = plan(&huge, rows, 1, MAX_GPU_NEIGHBORS).unwrap();
        assert!((p.rows_per_slice * MAX_GPU_NEIGHBORS) as u64 <= u64::from(u32::MAX));
    }

    #[test]
    fn row_lists_stop_at_empty_and_reject_garbage() {
        let l = row_list(0, 5, &[3, 1, EMPTY, EMPTY], &[0.9, 0.5, 0.0, 0.0]).unwrap();
        assert_eq!(l, vec![(3, 0.9), (1, 0.5)]);
        assert_eq!(row_list(0, 5, &[2, 4], &[1.0, 1.0]).unwrap().len(), 2);
        assert!(row_list(0, 5, &[0], &[0.5]).is_err()); // itself
        assert!(row_list(0, 5, &[7], &[0.5]).is_err()); // out of range
        assert!(row_list(0, 5, &[1, 2], &[0.5, 0.6]).is_err()); // wrong order
        assert!(row_list(0, 5, &[4, 2], &[0.5, 0.5]).is_err()); // tie with larger index first
        assert!(row_list(0, 5, &[1], &[0.0]).is_err()); // non-positive
    }
}
