//! The compute pipelines, built once per device. Every solver kernel file is prefixed with
//! `shaders/common.wgsl` (bindings, per-problem state, reductions), so those pipelines share one
//! bind-group layout and one set of buffers; the kNN search ([`KnnKernel`], `shaders/knn.wgsl`) has
//! its own. Compiling takes only the device, so the context can cache a pipeline without
//! depending on the code that runs it.

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const SPMV: &str = include_str!("../../../shaders/spmv.wgsl");
const PROJECTION: &str = include_str!("../../../shaders/projection.wgsl");
const PG: &str = include_str!("../../../shaders/pg.wgsl");
const POWER: &str = include_str!("../../../shaders/power.wgsl");
const MIRROR: &str = include_str!("../../../shaders/mirror.wgsl");
const TOPK: &str = include_str!("../../../shaders/topk.wgsl");
const FUSED: &str = include_str!("../../../shaders/fused.wgsl");

/// Storage buffers every solver kernel binds (`common.wgsl`, group 0).
pub const STORAGE_BINDINGS: u32 = 9;

/// Threads per workgroup, as in `common.wgsl` (`WG`).
pub const WORKGROUP: u32 = 256;

/// Uniform parameters, laid out as `Params` in `common.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub n: u32,
    pub nrhs: u32,
    pub src: u32,
    pub dst: u32,
    pub tolerance: f32,
    pub sum_tolerance: f32,
    pub ascent_slack: f32,
    pub lipschitz_floor: f32,
    pub n_problems: u32,
    pub n_chunks: u32,
    pub max_backtracks: u32,
    /// Problems with more than one chunk (listed after the chunks in the chunk table).
    pub n_multi: u32,
    pub step_growth: f32,
    pub trace_base: u32,
    pub trace_stride: u32,
    /// Mirror iterates are lifted to this (`ascent::MIRROR_FLOOR`).
    pub mirror_floor: f32,
}

use infoprune_core::solver::ascent::{AscentState, Stop};

/// Per-problem state, laid out as `Problem` in `common.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ProblemState {
    pub row_lo: u32,
    pub row_hi: u32,
    pub chunk_lo: u32,
    pub chunk_hi: u32,
    pub k: f32,
    pub alpha: f32,
    pub eta: f32,
    pub f: f32,
    pub tau: f32,
    pub tau_lo: f32,
    pub tau_hi: f32,
    pub f_new: f32,
    pub iterations: u32,
    pub backtracks: u32,
    /// Why the ascent stopped: `ascent::Stop::code`, 0 while it runs.
    pub converged: u32,
    pub accepted: u32,
    pub norm: f32,
    pub delta: f32,
    pub proj_done: u32,
    pub max_iterations: u32,
    pub shift: f32,
    pub capped_prev: f32,
    pub sel_lo: u32,
    pub sel_hi: u32,
    pub sel_stage: u32,
    pub sel_t1: u32,
    pub sel_t2: u32,
    pub sel_t3: u32,
}

impl ProblemState {
    /// The ascent's part of the state as the core's [`AscentState`] (the stop from its code).
    pub fn ascent(&self) -> AscentState<f32> {
        AscentState {
            f: self.f,
            eta: self.eta,
            backtracks: self.backtracks,
            iterations: self.iterations,
            stop: Stop::from_code(self.converged),
            accepted_last: self.accepted != 0,
        }
    }

    /// Writes `ascent` back, as `accept_step` would have left it.
    pub fn set_ascent(&mut self, ascent: &AscentState<f32>) {
        self.f = ascent.f;
        self.eta = ascent.eta;
        self.backtracks = ascent.backtracks;
        self.iterations = ascent.iterations;
        self.converged = ascent.stop.map_or(0, Stop::code);
        self.accepted = u32::from(ascent.accepted_last);
    }
}

/// Bisection/Newton rounds per projection. Newton usually lands in a handful; 32 halvings of the
/// initial bracket reach f32 resolution in the worst case.
pub const PROJECTION_ROUNDS: usize = 32;

/// Slots of the `vecs` buffer (`common.wgsl`).
pub mod slot {
    pub const S: u32 = 0;
    pub const X: u32 = 1;
    pub const Y: u32 = 2;
    pub const XN: u32 = 3;
    pub const YN: u32 = 4;
    pub const V: u32 = 5;
    pub const W: u32 = 6;
    /// Number of slots.
    pub const COUNT: u32 = 7;
}

/// Every pipeline and the two bind-group layouts they share.
pub struct Kernels {
    pub storage_layout: wgpu::BindGroupLayout,
    pub params_layout: wgpu::BindGroupLayout,
    pub spmv: wgpu::ComputePipeline,
    pub chunk_min_max: wgpu::ComputePipeline,
    pub init_bracket: wgpu::ComputePipeline,
    pub chunk_sums: wgpu::ComputePipeline,
    pub update_tau: wgpu::ComputePipeline,
    pub apply_projection: wgpu::ComputePipeline,
    pub pg_step: wgpu::ComputePipeline,
    pub chunk_objective: wgpu::ComputePipeline,
    pub set_objective: wgpu::ComputePipeline,
    pub accept_step: wgpu::ComputePipeline,
    pub measure_step: wgpu::ComputePipeline,
    pub fused_pg: wgpu::ComputePipeline,
    pub commit_step: wgpu::ComputePipeline,
    pub clear_flags: wgpu::ComputePipeline,
    pub count_unconverged: wgpu::ComputePipeline,
    pub swap_gains: wgpu::ComputePipeline,
    pub chunk_square_norm: wgpu::ComputePipeline,
    pub set_norm: wgpu::ComputePipeline,
    pub normalize_power_vector: wgpu::ComputePipeline,
    pub set_step: wgpu::ComputePipeline,
    pub chunk_gradient_max: wgpu::ComputePipeline,
    pub set_mirror_step: wgpu::ComputePipeline,
    pub set_shift: wgpu::ComputePipeline,
    pub mirror_step: wgpu::ComputePipeline,
    pub kl_init: wgpu::ComputePipeline,
    pub chunk_kl_sums: wgpu::ComputePipeline,
    pub update_lambda: wgpu::ComputePipeline,
    pub apply_kl: wgpu::ComputePipeline,
    pub select_init: wgpu::ComputePipeline,
    pub chunk_count_keys: wgpu::ComputePipeline,
    pub update_key_bracket: wgpu::ComputePipeline,
    pub chunk_mark: wgpu::ComputePipeline,
    pub scan_chunk_counts: wgpu::ComputePipeline,
    pub chunk_compact: wgpu::ComputePipeline,
    pub combine_sum: wgpu::ComputePipeline,
    pub combine_sum_max: wgpu::ComputePipeline,
    pub combine_min_max: wgpu::ComputePipeline,
}

/// A compute-stage storage-buffer binding.
pub fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Kernels {
    /// Compiles every solver kernel for `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        let storage_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("infoprune storage"),
            entries: &[
                storage_entry(0, true),
                storage_entry(1, true),
                storage_entry(2, true),
                storage_entry(3, false),
                storage_entry(4, true),
                storage_entry(5, false),
                storage_entry(6, true),
                storage_entry(7, false),
                storage_entry(8, false),
            ],
        });
        let params_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("infoprune params"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("infoprune"),
            bind_group_layouts: &[Some(&storage_layout), Some(&params_layout)],
            ..Default::default()
        });
        let module = |name: &str, body: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(format!("{COMMON}\n{body}").into()),
            })
        };
        let spmv_module = module("spmv.wgsl", SPMV);
        let projection_module = module("projection.wgsl", PROJECTION);
        let pg_module = module("pg.wgsl", PG);
        let power_module = module("power.wgsl", POWER);
        let mirror_module = module("mirror.wgsl", MIRROR);
        let topk_module = module("topk.wgsl", TOPK);
        // The fused solve calls the batch kernels' own functions, so it is compiled with them;
        // the projection's round count is the host's, spelled once, above.
        let fused_module = module(
            "fused.wgsl",
            &format!(
                "const PROJECTION_ROUNDS: u32 = {}u;\n{SPMV}\n{PROJECTION}\n{PG}\n{FUSED}",
                PROJECTION_ROUNDS
            ),
        );
        let pipeline = |module: &wgpu::ShaderModule, entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&layout),
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        Self {
            spmv: pipeline(&spmv_module, "spmv"),
            chunk_min_max: pipeline(&projection_module, "chunk_min_max"),
            init_bracket: pipeline(&projection_module, "init_bracket"),
            chunk_sums: pipeline(&projection_module, "chunk_sums"),
            update_tau: pipeline(&projection_module, "update_tau"),
            apply_projection: pipeline(&projection_module, "apply_projection"),
            pg_step: pipeline(&pg_module, "pg_step"),
            chunk_objective: pipeline(&pg_module, "chunk_objective"),
            set_objective: pipeline(&pg_module, "set_objective"),
            accept_step: pipeline(&pg_module, "accept_step"),
            measure_step: pipeline(&pg_module, "measure_step"),
            fused_pg: pipeline(&fused_module, "fused_pg"),
            commit_step: pipeline(&pg_module, "commit_step"),
            clear_flags: pipeline(&pg_module, "clear_flags"),
            count_unconverged: pipeline(&pg_module, "count_unconverged"),
            swap_gains: pipeline(&pg_module, "swap_gains"),
            chunk_square_norm: pipeline(&power_module, "chunk_square_norm"),
            set_norm: pipeline(&power_module, "set_norm"),
            normalize_power_vector: pipeline(&power_module, "normalize_power_vector"),
            set_step: pipeline(&power_module, "set_step"),
            chunk_gradient_max: pipeline(&mirror_module, "chunk_gradient_max"),
            set_mirror_step: pipeline(&mirror_module, "set_mirror_step"),
            set_shift: pipeline(&mirror_module, "set_shift"),
            mirror_step: pipeline(&mirror_module, "mirror_step"),
            kl_init: pipeline(&mirror_module, "kl_init"),
            chunk_kl_sums: pipeline(&mirror_module, "chunk_kl_sums"),
            update_lambda: pipeline(&mirror_module, "update_lambda"),
            apply_kl: pipeline(&mirror_module, "apply_kl"),
            select_init: pipeline(&topk_module, "select_init"),
            chunk_count_keys: pipeline(&topk_module, "chunk_count_keys"),
            update_key_bracket: pipeline(&topk_module, "update_key_bracket"),
            chunk_mark: pipeline(&topk_module, "chunk_mark"),
            scan_chunk_counts: pipeline(&topk_module, "scan_chunk_counts"),
            chunk_compact: pipeline(&topk_module, "chunk_compact"),
            // The second-level reductions live in common.wgsl; any module that includes it serves.
            combine_sum: pipeline(&spmv_module, "combine_sum"),
            combine_sum_max: pipeline(&spmv_module, "combine_sum_max"),
            combine_min_max: pipeline(&spmv_module, "combine_min_max"),
            storage_layout,
            params_layout,
        }
    }
}

/// Bytes of `Params` in `knn.wgsl`.
pub const KNN_PARAMS_BYTES: u64 = 48;

/// The kNN pipeline and its bind-group layout, compiled once per device (see
/// `GpuContext::knn_kernel`): the exact kNN search of `knn.rs`, with its own layout.
pub(crate) struct KnnKernel {
    pub layout: wgpu::BindGroupLayout,
    pub pipeline: wgpu::ComputePipeline,
}

impl KnnKernel {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("infoprune knn"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../../shaders/knn.wgsl").into()),
        });
        let storage = storage_entry;
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("infoprune knn"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        // One Params per candidate block, selected per dispatch.
                        has_dynamic_offset: true,
                        min_binding_size: wgpu::BufferSize::new(KNN_PARAMS_BYTES),
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, false),
                storage(3, false),
                storage(4, true),
                storage(5, true),
                storage(6, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("infoprune knn"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("infoprune knn"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self { layout, pipeline }
    }
}
