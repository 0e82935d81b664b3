//! Running a command without the GIL, interruptible by Ctrl-C.
//!
//! The work runs on a scoped worker thread while the calling thread, the GIL released, waits for
//! it and asks Python every [`POLL`] whether a signal came (`PyErr_CheckSignals`: Python runs its
//! handlers only on the main thread, and only when asked while native code runs). When one did,
//! an atomic flag is raised; the progress observer the work reports to sees it at its next report
//! (the start of a stage, or a unit of one) and unwinds the work from there, with a payload no
//! one else uses. Files are staged and put in place only after the last stage, so an interrupted
//! run leaves nothing behind; the caller gets Python's own exception (`KeyboardInterrupt`).

use infoprune::core::progress::{Progress, Stage};
use infoprune::progress_bars::Bars;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often the waiting thread asks Python for signals.
const POLL: Duration = Duration::from_millis(25);

/// The worker's stack: the pipeline's own threads (rayon's) get 8 MiB too.
const STACK: usize = 8 << 20;

/// The unwinding payload of an interrupted run.
struct Interrupted;

/// The progress observer of one run: the command line's bars (hidden unless asked for), and the
/// interrupt flag checked at every report.
struct Observer<'a> {
    bars: Bars,
    interrupted: &'a AtomicBool,
}

impl Observer<'_> {
    fn check(&self) {
        if self.interrupted.load(Ordering::Relaxed) {
            // `resume_unwind`, not `panic!`: no panic hook runs, nothing is printed.
            panic::resume_unwind(Box::new(Interrupted));
        }
    }
}

impl Progress for Observer<'_> {
    fn start(&self, stage: Stage, total: u64) {
        self.check();
        self.bars.start(stage, total);
    }

    fn advance(&self, units: u64) {
        self.check();
        self.bars.advance(units);
    }

    fn advance_stage(&self, stage: Stage, units: u64) {
        self.check();
        self.bars.advance_stage(stage, units);
    }

    fn finish(&self, stage: Stage) {
        self.bars.finish(stage);
    }
}

/// Runs `work` with the GIL released, showing progress bars if `progress`, and returns its
/// result; a signal whose Python handler raises (Ctrl-C: `KeyboardInterrupt`) stops it at its
/// next progress report and is returned as the error.
///
/// # Errors
/// The exception a signal handler raised; `work`'s own errors come back inside `Ok`.
pub fn run<T, F>(py: Python<'_>, progress: bool, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&dyn Progress) -> T + Send,
{
    let interrupted = AtomicBool::new(false);
    let observer = Observer {
        bars: Bars::new(!progress),
        interrupted: &interrupted,
    };
    let (outcome, raised) = py.detach(|| {
        let (done, finished) = mpsc::channel::<()>();
        let mut raised: Option<PyErr> = None;
        let outcome = std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("infoprune".into())
                .stack_size(STACK)
                .spawn_scoped(scope, || {
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| work(&observer)));
                    let _ = done.send(());
                    outcome
                })?;
            while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(POLL) {
                if raised.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        raised = Some(e);
                        interrupted.store(true, Ordering::Relaxed);
                    }
                }
            }
            Ok::<_, std::io::Error>(worker.join().unwrap_or_else(Err))
        });
        (outcome, raised)
    });
    let outcome = outcome
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    match (outcome, raised) {
        // Interrupted, or finished just as the signal came: the signal wins, as in Python code.
        (_, Some(e)) => Err(e),
        (Ok(value), None) => Ok(value),
        (Err(payload), None) => {
            if payload.is::<Interrupted>() {
                return Err(PyKeyboardInterrupt::new_err(()));
            }
            // A bug: let PyO3 turn the panic into a PanicException.
            panic::resume_unwind(payload)
        }
    }
}
