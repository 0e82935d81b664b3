//! `--backend cpu|wgpu|auto`: which compute backend a run uses.

use crate::error::{Error, Result};
use clap::ValueEnum;
use infoprune_core::backend::{Backend, CpuBackend};
use infoprune_wgpu::{AdapterChoice, GpuBackend};
use std::sync::Arc;

/// The `--backend` choices.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum BackendArg {
    /// The CPU reference (rayon).
    Cpu,
    /// The best wgpu adapter (a software one such as lavapipe only if nothing else exists).
    Wgpu,
    /// A hardware GPU if one exists, otherwise the CPU with a one-line notice (default).
    #[default]
    Auto,
}

/// Opens the backend `choice` asks for. `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` narrow the adapters.
pub fn open_backend(choice: BackendArg, quiet: bool) -> Result<Arc<dyn Backend>> {
    match choice {
        BackendArg::Cpu => Ok(Arc::new(CpuBackend)),
        BackendArg::Wgpu => GpuBackend::new(&AdapterChoice::any())
            .map(|b| Arc::new(b) as Arc<dyn Backend>)
            .map_err(|e| Error::Usage(format!("--backend wgpu: {e}"))),
        // A software adapter is slower than the CPU backend, so auto only takes real GPUs.
        BackendArg::Auto => match GpuBackend::new(&AdapterChoice::hardware()) {
            Ok(b) => Ok(Arc::new(b)),
            Err(e) => {
                if !quiet {
                    crate::errln!("note: no GPU ({e}); using the CPU backend")?;
                }
                Ok(Arc::new(CpuBackend))
            }
        },
    }
}
