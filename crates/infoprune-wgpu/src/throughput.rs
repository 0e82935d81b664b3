//! Throughput probes for benchmarks (`benches/gpu.rs`): the device's copy bandwidth and the
//! solver's SpMV timed on the device alone, each repeated inside one submission so that launch and
//! transfer costs are not what is measured.

use crate::batch::{GpuBatch, Layout, MAX_GROUPS_PER_DIM};
use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{slot, Params, ProblemState};
use crate::GpuBackend;
use infoprune_core::csr::CsrSimilarity;
use std::time::Instant;

/// Seconds per repetition of `record`, which records one repetition into a pass: one warm-up
/// submission, then `reps` repetitions in a single submission.
fn time_reps(
    ctx: &GpuContext,
    reps: usize,
    mut record: impl FnMut(&mut wgpu::ComputePass),
) -> Result<f64> {
    let mut run = |count: usize| -> Result<f64> {
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for _ in 0..count {
                record(&mut pass);
            }
        }
        let start = Instant::now();
        ctx.submit(encoder);
        ctx.wait(None)?;
        Ok(start.elapsed().as_secs_f64())
    };
    run(1)?;
    Ok(run(reps.max(1))? / reps.max(1) as f64)
}

/// The copy bandwidth in bytes per second (bytes read plus bytes written) of a device-to-device
/// copy of `bytes` (rounded down to whole 16-byte vectors), averaged over `reps` copies.
///
/// # Errors
/// A buffer larger than the device allows, or a device error.
pub fn copy_bandwidth(ctx: &GpuContext, bytes: u64, reps: usize) -> Result<f64> {
    let vectors = (bytes / 16).max(1);
    let bytes = vectors * 16;
    crate::batch::check_fits(ctx, "the copy benchmark's buffer", bytes)?;
    let device = &ctx.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("copy.wgsl"),
        source: wgpu::ShaderSource::Wgsl(include_str!("../../../shaders/copy.wgsl").into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("copy"),
        layout: None,
        module: &module,
        entry_point: Some("copy"),
        compilation_options: Default::default(),
        cache: None,
    });
    let make = |label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    };
    let (src, dst) = (make("copy src"), make("copy dst"));
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("copy"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: src.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: dst.as_entire_binding(),
            },
        ],
    });
    ctx.take_error()?;
    let groups = vectors.div_ceil(256);
    let x = groups.min(u64::from(MAX_GROUPS_PER_DIM)) as u32;
    let y = groups.div_ceil(u64::from(x));
    if y > u64::from(MAX_GROUPS_PER_DIM) {
        return Err(GpuError::TooLarge {
            what: "the copy benchmark's workgroups",
            needed: groups,
            limit: u64::from(MAX_GROUPS_PER_DIM) * u64::from(MAX_GROUPS_PER_DIM),
        });
    }
    let seconds = time_reps(ctx, reps, |pass| {
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x, y as u32, 1);
        ctx.counters.dispatched(1);
    })?;
    Ok(2.0 * bytes as f64 / seconds)
}

impl GpuBackend {
    /// Seconds of one `y = K x` on the device with the solver's own SpMV kernel, averaged over
    /// `reps` products recorded into one submission (the graph and `x` uploaded beforehand).
    ///
    /// # Errors
    /// A graph the device cannot hold, or a device error.
    pub fn spmv_seconds(&self, graph: &CsrSimilarity, reps: usize) -> Result<f64> {
        let ctx = self.context();
        let kernels = self.kernels();
        let n = graph.n();
        let layout = Layout::new(&[0, n]);
        let mut vecs = vec![0.0f32; n * slot::COUNT as usize];
        vecs[..n].fill(1.0);
        let state = ProblemState {
            k: 1.0,
            ..ProblemState::default()
        };
        let gpu = GpuBatch::new(ctx, kernels, &layout, graph, vec![state], &vecs)?;
        let params = gpu.params(
            ctx,
            kernels,
            Params {
                nrhs: 1,
                src: slot::X * n as u32,
                dst: slot::Y * n as u32,
                ..Params::default()
            },
        );
        time_reps(ctx, reps, |pass| {
            gpu.dispatch(pass, &kernels.spmv, &params, gpu.row_groups());
        })
    }
}
