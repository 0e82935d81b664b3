//! Adapter choice and device creation.

use crate::error::{GpuError, Result};
use infoprune_core::backend::DeviceCounters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Which adapter to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdapterChoice {
    /// Only adapters whose name contains this (case-insensitive). `WGPU_ADAPTER_NAME` sets it too.
    pub name_contains: Option<String>,
    /// Allow a software (CPU) adapter such as lavapipe or WARP. Off for `auto`, where the CPU
    /// backend is faster than a software GPU; on for tests and explicit `--backend wgpu`.
    pub allow_software: bool,
}

impl AdapterChoice {
    /// Any adapter, software ones included, with the environment's overrides.
    pub fn any() -> Self {
        Self {
            name_contains: std::env::var("WGPU_ADAPTER_NAME").ok(),
            allow_software: true,
        }
    }

    /// Hardware GPUs only, with the environment's overrides.
    pub fn hardware() -> Self {
        Self {
            allow_software: false,
            ..Self::any()
        }
    }
}

/// The longest a single wait on the device may take before it is reported as lost.
pub(crate) const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Running totals of the device traffic, shared by everything that records work on one device.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    submissions: AtomicU64,
    dispatches: AtomicU64,
    readbacks: AtomicU64,
    bytes_uploaded: AtomicU64,
    bytes_read_back: AtomicU64,
}

impl Counters {
    /// Counts `n` recorded dispatches.
    pub(crate) fn dispatched(&self, n: u64) {
        self.dispatches.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `bytes` written from the host into a device buffer.
    pub(crate) fn uploaded(&self, bytes: u64) {
        self.bytes_uploaded.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one wait for `bytes` coming back to the host.
    pub(crate) fn read_back(&self, bytes: u64) {
        self.readbacks.fetch_add(1, Ordering::Relaxed);
        self.bytes_read_back.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a small asynchronous status read (a convergence flag): bytes only, since it is not a
    /// read-back of results and the host does not stall on it while work is queued behind it.
    pub(crate) fn flag_read(&self, bytes: u64) {
        self.bytes_read_back.fetch_add(bytes, Ordering::Relaxed);
    }

    fn snapshot(&self) -> DeviceCounters {
        DeviceCounters {
            submissions: self.submissions.load(Ordering::Relaxed),
            dispatches: self.dispatches.load(Ordering::Relaxed),
            readbacks: self.readbacks.load(Ordering::Relaxed),
            bytes_uploaded: self.bytes_uploaded.load(Ordering::Relaxed),
            bytes_read_back: self.bytes_read_back.load(Ordering::Relaxed),
        }
    }
}

/// An open device, its queue and what it can do.
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// Adapter name, driver and backend.
    pub info: wgpu::AdapterInfo,
    /// The limits the device was opened with (the adapter's own, not the defaults).
    pub limits: wgpu::Limits,
    errors: Arc<Mutex<Vec<GpuError>>>,
    pub(crate) counters: Arc<Counters>,
    /// The kNN pipeline, compiled on first use and then reused for every call on this device.
    pub(crate) knn_kernel: OnceLock<crate::kernels::KnnKernel>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("info", &self.info)
            .finish()
    }
}

impl GpuContext {
    /// Opens the best matching adapter: high-performance first, discrete before integrated before
    /// software, among Vulkan, Metal and DX12 adapters. `WGPU_BACKEND` (e.g. `vulkan`, `gl`) replaces
    /// that list of graphics APIs.
    pub fn new(choice: &AdapterChoice) -> Result<Self> {
        // Vulkan, Metal and DX12 only unless WGPU_BACKEND says otherwise: the GL backend adds no
        // compute-capable adapter worth using, and probing EGL makes Mesa print display errors on
        // headless machines.
        let descriptor = wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        }
        .with_env();
        let instance = wgpu::Instance::new(descriptor);
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let rank = |info: &wgpu::AdapterInfo| match info.device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            wgpu::DeviceType::Other => 3,
            wgpu::DeviceType::Cpu => 4,
        };
        let mut seen = Vec::new();
        let mut candidates: Vec<wgpu::Adapter> = adapters
            .into_iter()
            .filter(|a| {
                let info = a.get_info();
                seen.push(format!(
                    "{} ({:?}, {:?})",
                    info.name, info.device_type, info.backend
                ));
                let name_ok = choice
                    .name_contains
                    .as_ref()
                    .is_none_or(|n| info.name.to_lowercase().contains(&n.to_lowercase()));
                let kind_ok = choice.allow_software || info.device_type != wgpu::DeviceType::Cpu;
                let compute_ok = a
                    .get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
                name_ok && kind_ok && compute_ok
            })
            .collect();
        candidates.sort_by_key(|a| rank(&a.get_info()));
        let adapter = candidates.into_iter().next().ok_or_else(|| {
            GpuError::NoAdapter(if seen.is_empty() {
                "no graphics driver reported an adapter (install a Vulkan, Metal or DX12 driver; \
                 on Linux without a GPU, Mesa's lavapipe: apt-get install mesa-vulkan-drivers)"
                    .into()
            } else {
                let wanted = match (&choice.name_contains, choice.allow_software) {
                    (Some(name), _) => format!("has a name containing '{name}'"),
                    (None, false) => {
                        "is a hardware GPU (software adapters are slower than the CPU backend)"
                            .to_string()
                    }
                    (None, true) => "supports compute shaders".to_string(),
                };
                format!("none of [{}] {wanted}", seen.join(", "))
            })
        })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("infoprune"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        let errors: Arc<Mutex<Vec<GpuError>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let err = match e {
                wgpu::Error::OutOfMemory { .. } => GpuError::OutOfMemory(e.to_string()),
                other => GpuError::Validation(other.to_string()),
            };
            if let Ok(mut list) = sink.lock() {
                list.push(err);
            }
        }));
        let lost = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            if reason != wgpu::DeviceLostReason::Destroyed {
                if let Ok(mut list) = lost.lock() {
                    list.push(GpuError::DeviceLost(format!("{reason:?}: {message}")));
                }
            }
        });
        Ok(Self {
            device,
            queue,
            info,
            limits,
            errors,
            counters: Arc::default(),
            knn_kernel: OnceLock::new(),
        })
    }

    /// Waits (at most ten minutes, `WAIT_LIMIT`) until `submission`, or everything submitted so
    /// far, has finished, then reports any error the device raised meanwhile. A failed wait is
    /// reported as the device's own error when it gave one, else as a lost device.
    pub fn wait(&self, submission: Option<wgpu::SubmissionIndex>) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: submission,
                timeout: Some(WAIT_LIMIT),
            })
            .map_err(|e| {
                self.take_error()
                    .err()
                    .unwrap_or_else(|| GpuError::DeviceLost(e.to_string()))
            })?;
        self.take_error()
    }

    /// Submits one command buffer, counting it.
    pub fn submit(&self, encoder: wgpu::CommandEncoder) -> wgpu::SubmissionIndex {
        self.counters.submissions.fetch_add(1, Ordering::Relaxed);
        self.queue.submit([encoder.finish()])
    }

    /// Writes `data` into `buffer` at `offset` (staged until the next submission), counting it.
    pub fn upload(&self, buffer: &wgpu::Buffer, offset: u64, data: &[u8]) {
        self.counters.uploaded(data.len() as u64);
        self.queue.write_buffer(buffer, offset, data);
    }

    /// A buffer created with `contents`, counted as an upload.
    pub fn buffer_with(
        &self,
        label: &str,
        contents: &[u8],
        usage: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        self.counters.uploaded(contents.len() as u64);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
    }

    /// The device traffic since this context was opened.
    pub fn counters(&self) -> DeviceCounters {
        self.counters.snapshot()
    }

    /// The first error the device reported since the last call, if any.
    pub fn take_error(&self) -> Result<()> {
        match self.errors.lock() {
            Ok(mut list) if !list.is_empty() => Err(list.remove(0)),
            _ => Ok(()),
        }
    }

    /// Whether the adapter is a software rasteriser (lavapipe, WARP, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// `name (backend, driver)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {} {})",
            self.info.name, self.info.backend, self.info.driver, self.info.driver_info
        )
    }
}
