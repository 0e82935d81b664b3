//! Progress bars for the pipeline's stages, drawn on stderr with `indicatif`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use infoprune_core::progress::{Progress, Stage};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A stage shorter than this never shows a bar: flashing bars for instant stages are noise.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The bar of the running stage, drawn only once the stage has run for [`SHOW_AFTER`].
struct StageBar {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

/// One bar per stage; hidden entirely with `--quiet` (and by indicatif when stderr is no terminal).
pub struct Bars {
    quiet: bool,
    current: Mutex<Option<StageBar>>,
}

impl Bars {
    /// Bars that draw unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            current: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, stage: Stage, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(stage.name());
        let stage_bar = StageBar {
            bar,
            started: Instant::now(),
            shown: false,
        };
        if let Ok(mut slot) = self.current.lock() {
            if let Some(old) = slot.replace(stage_bar) {
                old.bar.finish_and_clear();
            }
        }
    }

    fn advance(&self, units: u64) {
        if let Ok(mut slot) = self.current.lock() {
            if let Some(stage) = slot.as_mut() {
                stage.bar.inc(units);
                if !stage.shown && !self.quiet && stage.started.elapsed() >= SHOW_AFTER {
                    stage.shown = true;
                    stage.bar.set_draw_target(ProgressDrawTarget::stderr());
                }
            }
        }
    }

    fn finish(&self, _stage: Stage) {
        if let Ok(mut slot) = self.current.lock() {
            if let Some(stage) = slot.take() {
                stage.bar.finish_and_clear();
            }
        }
    }
}
