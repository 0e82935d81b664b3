//! The IVF kNN search on the GPU (SPEC §1.3): the inverted file the CPU built (`IvfIndex`), searched
//! list against list by the IVF mode of `shaders/knn.wgsl`, the same kernel as the exact search.
//!
//! **Work.** Query positions are cut into slices as in the exact search (one submission each).
//! Within a slice, dispatch `(r, b)` gives every query its `r`-th probed list's `b`-th candidate
//! block: the queries are grouped by that list (so each workgroup multiplies up to 64 queries of
//! one group against one block of one list, a small GEMM tile), and because a query appears in a
//! dispatch at most once, no two workgroups update the same query's running list. Dispatches run
//! in order; a query's list carries from one to the next in the output buffer, and ties rank by the
//! original row whatever order the lists arrive in, so the result is the CPU's `TopM` over the same
//! candidates.
//!
//! **Agreement.** As for the exact search: the CPU's `sgemm` and the kernel's fixed-order f32 dot
//! products round differently, so two neighbours within a few ulps of each other at the boundary of
//! a list may swap. Candidates, probes, snapping, clipping and tie rules are the CPU's.

use infoprune_core::ivf::{ivf_lists, IvfIndex};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::CoreError;

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::kernels::KNN_PARAMS_BYTES as PARAMS_BYTES;
use crate::knn::{
    kernel, params_words, plan, read_slice, snap_threshold, IvfInputs, Search, SliceBuffers,
    MAX_GPU_NEIGHBORS, ROWS_PER_WORKGROUP,
};

/// The IVF neighbour lists `(row, similarity)` of every original row of `index`, at most
/// `neighbors` each, sorted by (similarity descending, row ascending): the GPU counterpart of
/// [`ivf_lists`], up to f32 rounding of the dot products. `m > 32` runs the CPU search. Reports
/// one `advance` per slice of query rows after a `start` of [`Stage::Graph`]; the caller
/// finishes the stage.
///
/// # Errors
/// [`GpuError`]s converted to [`CoreError::Backend`]: the rows not fitting one storage binding,
/// device errors, device loss or a failed read-back.
pub fn ivf_lists_gpu(
    ctx: &GpuContext,
    index: &IvfIndex,
    neighbors: usize,
    progress: &dyn Progress,
) -> Result<Vec<Vec<(u32, f32)>>, CoreError> {
    let n = index.n();
    let m = neighbors.min(n.saturating_sub(1));
    if m > MAX_GPU_NEIGHBORS {
        return Ok(ivf_lists(index, neighbors, progress));
    }
    if m == 0 {
        progress.start(Stage::Graph, 1);
        progress.advance(1);
        return Ok(vec![Vec::new(); n]);
    }
    Ok(gpu_ivf(ctx, index, m, progress)?)
}

/// One dispatch of a slice: its tasks and whether it continues earlier dispatches' lists.
struct Dispatch {
    task_base: usize,
    tasks: usize,
    carry: bool,
}

/// The tasks of slice `positions` for candidate blocks of `block` rows: `(first, end)` into the
/// returned query positions and `(begin, end)` of candidate positions, one per workgroup, and the
/// dispatches that cover them.
fn slice_tasks(
    index: &IvfIndex,
    positions: std::ops::Range<usize>,
    block: usize,
) -> (Vec<[u32; 4]>, Vec<u32>, Vec<Dispatch>) {
    let order = index.order();
    let group_rows = ROWS_PER_WORKGROUP as usize;
    let mut tasks: Vec<[u32; 4]> = Vec::new();
    let mut query_pos: Vec<u32> = Vec::with_capacity(positions.len() * index.nprobe());
    let mut dispatches = Vec::new();
    for r in 0..index.nprobe() {
        // (probed list, query position), grouped by list; positions ascending inside a group.
        let mut pairs: Vec<(u32, u32)> = positions
            .clone()
            .map(|p| (index.probes(order[p] as usize)[r], p as u32))
            .collect();
        pairs.sort_unstable();
        // Each group's queries once in query_pos: (list, first, end).
        let mut groups: Vec<(usize, usize, usize)> = Vec::new();
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let first = query_pos.len();
            query_pos.extend(group.iter().map(|&(_, p)| p));
            groups.push((group[0].0 as usize, first, query_pos.len()));
        }
        let blocks = groups
            .iter()
            .map(|&(l, _, _)| index.list_range(l).len().div_ceil(block))
            .max()
            .unwrap_or(0);
        for b in 0..blocks {
            let task_base = tasks.len();
            for &(l, first, end) in &groups {
                let list = index.list_range(l);
                let begin = list.start + b * block;
                if begin >= list.end {
                    continue;
                }
                let candidates_end = (begin + block).min(list.end);
                for q in (first..end).step_by(group_rows) {
                    let q_end = (q + group_rows).min(end);
                    tasks.push([q as u32, q_end as u32, begin as u32, candidates_end as u32]);
                }
            }
            // Probe 0 is every query's own list, which holds the query: the first dispatch
            // starts every list, the others continue them.
            let carry = !dispatches.is_empty();
            dispatches.push(Dispatch {
                task_base,
                tasks: tasks.len() - task_base,
                carry,
            });
        }
    }
    (tasks, query_pos, dispatches)
}

fn gpu_ivf(
    ctx: &GpuContext,
    index: &IvfIndex,
    m: usize,
    progress: &dyn Progress,
) -> Result<Vec<Vec<(u32, f32)>>, GpuError> {
    let (n, d) = (index.n(), index.dim());
    let plan = plan(&ctx.limits, n, d, m)?;
    ctx.take_error()?;
    let kernel = kernel(ctx)?;
    let storage = wgpu::BufferUsages::STORAGE;
    let emb = ctx.buffer_with(
        "infoprune ivf rows",
        bytemuck::cast_slice(index.data()),
        storage,
    );
    let order = ctx.buffer_with(
        "infoprune ivf order",
        bytemuck::cast_slice(index.order()),
        storage,
    );
    let snap_from = snap_threshold();
    let max_x = ctx.limits.max_compute_workgroups_per_dimension.max(1) as usize;
    let slices: Vec<(usize, usize)> = (0..n)
        .step_by(plan.rows_per_slice)
        .map(|offset| (offset, (offset + plan.rows_per_slice).min(n)))
        .collect();
    progress.start(Stage::Graph, slices.len() as u64);
    let mut lists: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for &(offset, end) in &slices {
        let (tasks, query_pos, dispatches) = slice_tasks(index, offset..end, plan.block);
        let tasks_buffer =
            ctx.buffer_with("infoprune ivf tasks", bytemuck::cast_slice(&tasks), storage);
        let query_buffer = ctx.buffer_with(
            "infoprune ivf queries",
            bytemuck::cast_slice(&query_pos),
            storage,
        );
        let params_bytes = dispatches.len() as u64 * plan.params_stride;
        let rows = end - offset;
        let inputs = IvfInputs {
            tasks: &tasks_buffer,
            query_pos: &query_buffer,
            order: &order,
        };
        let out_bytes = (rows * m * 4) as u64;
        let set = SliceBuffers::new(ctx, kernel, &emb, &inputs, params_bytes, out_bytes);
        let mut params = vec![0u8; params_bytes as usize];
        for (i, dispatch) in dispatches.iter().enumerate() {
            let search = Search::Ivf {
                task_base: dispatch.task_base,
                tasks: dispatch.tasks,
                carry: dispatch.carry,
            };
            let words = params_words(n, d, m, (offset, end), search, snap_from);
            let at = i * plan.params_stride as usize;
            params[at..at + PARAMS_BYTES as usize].copy_from_slice(bytemuck::cast_slice(&words));
        }
        ctx.upload(&set.params, 0, &params);
        ctx.take_error()?;
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("infoprune ivf"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("infoprune ivf"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&kernel.pipeline);
            for (i, dispatch) in dispatches.iter().enumerate() {
                if dispatch.tasks == 0 {
                    continue;
                }
                let at = (i as u64 * plan.params_stride) as u32;
                pass.set_bind_group(0, &set.bind_group, &[at]);
                let x = dispatch.tasks.min(max_x);
                pass.dispatch_workgroups(x as u32, dispatch.tasks.div_ceil(x) as u32, 1);
                ctx.counters.dispatched(1);
            }
        }
        set.copy_out(&mut encoder, out_bytes);
        let submitted = ctx.submit(encoder);
        let positions = index.order();
        let row_of = |p: usize| positions[p] as usize;
        let slice_lists = read_slice(ctx, &set, (offset, end), n, m, submitted, &row_of)?;
        for (p, list) in (offset..end).zip(slice_lists) {
            lists[row_of(p)] = list;
        }
        progress.advance(1);
    }
    Ok(lists)
}
