//! Progress bars for the pipeline's stages, drawn on stderr with `indicatif`: one bar per running
//! stage, stacked, each shown only once its stage has run for a second.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use infoprune_core::progress::{Progress, Stage};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A stage shorter than this never shows a bar: flashing bars for instant stages are noise.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The bar of one running stage.
struct StageBar {
    stage: Stage,
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

/// One bar per stage; hidden entirely with `--quiet` (and by indicatif when stderr is no terminal).
pub struct Bars {
    quiet: bool,
    multi: MultiProgress,
    running: Mutex<Vec<StageBar>>,
}

impl Bars {
    /// Bars that draw unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Self {
            quiet,
            multi: MultiProgress::with_draw_target(target),
            running: Mutex::new(Vec::new()),
        }
    }

    fn bump(&self, stage: Option<Stage>, units: u64) {
        if let Ok(mut running) = self.running.lock() {
            let found = match stage {
                Some(stage) => running.iter_mut().find(|b| b.stage == stage),
                None => running.last_mut(),
            };
            if let Some(b) = found {
                b.bar.inc(units);
                if !b.shown && !self.quiet && b.started.elapsed() >= SHOW_AFTER {
                    b.shown = true;
                    b.bar = self.multi.add(b.bar.clone());
                }
            }
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
        if let Ok(mut running) = self.running.lock() {
            if let Some(old) = running.iter().position(|b| b.stage == stage) {
                running.remove(old).bar.finish_and_clear();
            }
            running.push(StageBar {
                stage,
                bar,
                started: Instant::now(),
                shown: false,
            });
        }
    }

    fn advance(&self, units: u64) {
        self.bump(None, units);
    }

    fn advance_stage(&self, stage: Stage, units: u64) {
        self.bump(Some(stage), units);
    }

    fn finish(&self, stage: Stage) {
        if let Ok(mut running) = self.running.lock() {
            if let Some(i) = running.iter().position(|b| b.stage == stage) {
                let b = running.remove(i);
                b.bar.finish_and_clear();
                if b.shown {
                    self.multi.remove(&b.bar);
                }
            }
        }
    }
}
