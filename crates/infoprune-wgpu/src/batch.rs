//! A batch of problems laid out in GPU buffers: the block-diagonal CSR, the vector slots, the
//! per-problem state and the chunk table that lets one dispatch reduce every problem at once.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{slot, Kernels, Params, ProblemState, WORKGROUP};
use infoprune_core::csr::CsrSimilarity;

/// Most workgroups in one dispatch dimension (WebGPU's guaranteed minimum).
pub(crate) const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// Rows, problems and 256-row chunks of a batch; chunks never straddle two problems, so a chunk's
/// reduction belongs to exactly one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Total rows.
    pub n: usize,
    /// Problem of each row.
    pub row_problem: Vec<u32>,
    /// `(problem, first row, end row, 0)` per chunk.
    pub chunks: Vec<[u32; 4]>,
    /// First and end chunk of each problem.
    pub chunk_ranges: Vec<(u32, u32)>,
    /// Problems with more than one chunk: those the second level of a reduction works on.
    pub multi: Vec<u32>,
}

impl Layout {
    /// The layout of problems occupying `offsets[p]..offsets[p+1]`.
    pub fn new(offsets: &[usize]) -> Self {
        let n = offsets.last().copied().unwrap_or(0);
        let mut row_problem = Vec::with_capacity(n);
        let mut chunks = Vec::new();
        let mut chunk_ranges = Vec::with_capacity(offsets.len().saturating_sub(1));
        for p in 0..offsets.len().saturating_sub(1) {
            let (lo, hi) = (offsets[p], offsets[p + 1]);
            row_problem.extend(std::iter::repeat_n(p as u32, hi - lo));
            let first = chunks.len() as u32;
            let mut start = lo;
            while start < hi {
                let end = (start + WORKGROUP as usize).min(hi);
                chunks.push([p as u32, start as u32, end as u32, 0]);
                start = end;
            }
            chunk_ranges.push((first, chunks.len() as u32));
        }
        let multi = chunk_ranges
            .iter()
            .enumerate()
            .filter(|(_, &(lo, hi))| hi - lo > 1)
            .map(|(p, _)| p as u32)
            .collect();
        Self {
            n,
            row_problem,
            chunks,
            chunk_ranges,
            multi,
        }
    }
}

/// The buffers of one batch and the bind group over them.
pub struct GpuBatch {
    /// `flags[0]`: problems not yet converged (see `count_unconverged`).
    pub flags: wgpu::Buffer,
    pub vecs: wgpu::Buffer,
    pub problems: wgpu::Buffer,
    pub storage: wgpu::BindGroup,
    pub n: u32,
    pub n_problems: u32,
    pub n_chunks: u32,
    /// Problems with more than one chunk.
    pub n_multi: u32,
    counters: std::sync::Arc<crate::context::Counters>,
}

/// A storage buffer holding `bytes`, at least 16 bytes long (bindings cannot be empty).
fn storage_buffer(
    ctx: &GpuContext,
    label: &str,
    bytes: &[u8],
    extra: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let mut contents = bytes.to_vec();
    if contents.len() < 16 {
        contents.resize(16, 0);
    }
    ctx.buffer_with(label, &contents, wgpu::BufferUsages::STORAGE | extra)
}

/// Checks one buffer against the device's binding and buffer limits.
pub fn check_fits(ctx: &GpuContext, what: &'static str, bytes: u64) -> Result<()> {
    let limit = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    if bytes > limit {
        return Err(GpuError::TooLarge {
            what,
            needed: bytes,
            limit,
        });
    }
    Ok(())
}

impl GpuBatch {
    /// Uploads a batch: `graph` is the block-diagonal matrix over all rows, `states` one entry per
    /// problem (its row and chunk ranges are filled in here), `vecs` the initial contents of every
    /// slot (`slot::COUNT · n` values).
    pub fn new(
        ctx: &GpuContext,
        kernels: &Kernels,
        layout: &Layout,
        graph: &CsrSimilarity,
        mut states: Vec<ProblemState>,
        vecs: &[f32],
    ) -> Result<Self> {
        let n = layout.n;
        debug_assert!(vecs.len() >= n * slot::COUNT as usize);
        // The kernels index similarity entries and every slot's values with u32.
        let needed = graph.nnz().max(vecs.len()).max(n + 1);
        if needed > u32::MAX as usize {
            return Err(GpuError::TooLarge {
                what: "batch (u32 indices on the GPU: similarity entries, or rows × slots)",
                needed: needed as u64,
                limit: u32::MAX as u64,
            });
        }
        check_fits(ctx, "the vector slots of a batch", vecs.len() as u64 * 4)?;
        check_fits(
            ctx,
            "the similarity values of a batch",
            graph.nnz() as u64 * 4,
        )?;
        for (p, state) in states.iter_mut().enumerate() {
            let (lo, hi) = layout.chunk_ranges[p];
            state.chunk_lo = lo;
            state.chunk_hi = hi;
            if lo < hi {
                state.row_lo = layout.chunks[lo as usize][1];
                state.row_hi = layout.chunks[hi as usize - 1][2];
            }
        }
        let indptr: Vec<u32> = graph.indptr().iter().map(|&p| p as u32).collect();
        let none = wgpu::BufferUsages::empty();
        let copy = wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let indptr = storage_buffer(ctx, "indptr", bytemuck::cast_slice(&indptr), none);
        let indices = storage_buffer(ctx, "indices", bytemuck::cast_slice(graph.indices()), none);
        let values = storage_buffer(ctx, "values", bytemuck::cast_slice(graph.values()), none);
        let vecs_buffer = storage_buffer(ctx, "vecs", bytemuck::cast_slice(vecs), copy);
        let row_problem = storage_buffer(
            ctx,
            "row problem",
            bytemuck::cast_slice(&layout.row_problem),
            none,
        );
        let problems = storage_buffer(ctx, "problems", bytemuck::cast_slice(&states), copy);
        // The chunk table, then the problems of several chunks (see `combine_*` in common.wgsl).
        let mut table = layout.chunks.clone();
        table.extend(layout.multi.iter().map(|&p| [p, 0, 0, 0]));
        let chunks = storage_buffer(ctx, "chunks", bytemuck::cast_slice(&table), none);
        let partials = storage_buffer(
            ctx,
            "partials",
            &vec![0u8; layout.chunks.len().max(1) * 16],
            none,
        );
        let flags = storage_buffer(ctx, "flags", &[0u8; 16], wgpu::BufferUsages::COPY_SRC);
        let buffers = [
            &indptr,
            &indices,
            &values,
            &vecs_buffer,
            &row_problem,
            &problems,
            &chunks,
            &partials,
            &flags,
        ];
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let storage = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("infoprune batch"),
            layout: &kernels.storage_layout,
            entries: &entries,
        });
        ctx.take_error()?;
        Ok(Self {
            flags,
            vecs: vecs_buffer,
            problems,
            storage,
            n: n as u32,
            n_problems: states.len() as u32,
            n_chunks: layout.chunks.len() as u32,
            n_multi: layout.multi.len() as u32,
            counters: ctx.counters.clone(),
        })
    }

    /// A uniform bind group with this batch's sizes and the given source and destination.
    pub fn params(
        &self,
        ctx: &GpuContext,
        kernels: &Kernels,
        mut params: Params,
    ) -> wgpu::BindGroup {
        params.n = self.n;
        params.n_problems = self.n_problems;
        params.n_chunks = self.n_chunks;
        params.n_multi = self.n_multi;
        let buffer = ctx.buffer_with(
            "params",
            bytemuck::bytes_of(&params),
            wgpu::BufferUsages::UNIFORM,
        );
        ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("params"),
            layout: &kernels.params_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: buffer.as_entire_binding(),
            }],
        })
    }

    /// Records one dispatch of `workgroups` groups (2-D past the per-dimension limit).
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass,
        pipeline: &wgpu::ComputePipeline,
        params: &wgpu::BindGroup,
        workgroups: u32,
    ) {
        if workgroups == 0 {
            return;
        }
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &self.storage, &[]);
        pass.set_bind_group(1, params, &[]);
        let x = workgroups.min(MAX_GROUPS_PER_DIM);
        pass.dispatch_workgroups(x, workgroups.div_ceil(x), 1);
        self.counters.dispatched(1);
    }

    /// Workgroups for one invocation per row.
    pub fn row_groups(&self) -> u32 {
        self.n.div_ceil(WORKGROUP)
    }

    /// Workgroups for one workgroup per problem of several chunks (`combine_*`, the chunk scan).
    pub fn multi_groups(&self) -> u32 {
        self.n_multi
    }

    /// Workgroups for one invocation per problem.
    pub fn problem_groups(&self) -> u32 {
        self.n_problems.div_ceil(WORKGROUP)
    }

    /// One slot of `vecs`, read back.
    pub fn read_slot(&self, ctx: &GpuContext, which: u32) -> Result<Vec<f32>> {
        let bytes = read_buffer(
            ctx,
            &self.vecs,
            which as u64 * self.n as u64 * 4,
            self.n as u64 * 4,
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

/// Copies `size` bytes of `buffer` from `offset` to the host, waiting for the device (bounded).
pub fn read_buffer(
    ctx: &GpuContext,
    buffer: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> Result<Vec<u8>> {
    Ok(read_buffers(ctx, &[(buffer, offset, size)])?.remove(0))
}

/// Copies several `(buffer, offset, size)` ranges to the host through one staging buffer: one
/// submission and one wait for all of them (sizes and offsets are multiples of 4).
pub fn read_buffers(ctx: &GpuContext, parts: &[(&wgpu::Buffer, u64, u64)]) -> Result<Vec<Vec<u8>>> {
    let total: u64 = parts.iter().map(|p| p.2).sum();
    if total == 0 {
        return Ok(vec![Vec::new(); parts.len()]);
    }
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: total,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    let mut at = 0;
    for &(buffer, offset, size) in parts {
        if size > 0 {
            encoder.copy_buffer_to_buffer(buffer, offset, &staging, at, size);
        }
        at += size;
    }
    ctx.submit(encoder);
    ctx.counters.read_back(total);
    let (sender, receiver) = std::sync::mpsc::channel();
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
    ctx.wait(None)?;
    receiver
        .recv()
        .map_err(|e| GpuError::Readback(e.to_string()))?
        .map_err(|e| GpuError::Readback(e.to_string()))?;
    let bytes = staging
        .slice(..)
        .get_mapped_range()
        .map_err(|e| GpuError::Readback(e.to_string()))?
        .to_vec();
    staging.unmap();
    let mut out = Vec::with_capacity(parts.len());
    let mut at = 0usize;
    for &(_, _, size) in parts {
        out.push(bytes[at..at + size as usize].to_vec());
        at += size as usize;
    }
    Ok(out)
}
