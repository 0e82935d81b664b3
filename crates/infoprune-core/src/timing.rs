//! Wall-clock seconds per phase, in the order the phases ran.

use std::time::Instant;

/// Seconds spent in each named phase, in order. A phase timed twice accumulates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    phases: Vec<(&'static str, f64)>,
}

impl Timings {
    /// Adds `seconds` to `phase`.
    pub fn add(&mut self, phase: &'static str, seconds: f64) {
        match self.phases.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, s)) => *s += seconds,
            None => self.phases.push((phase, seconds)),
        }
    }

    /// Runs `f`, charging its wall time to `phase`.
    pub fn time<T>(&mut self, phase: &'static str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.add(phase, start.elapsed().as_secs_f64());
        out
    }

    /// Appends every phase of `other`.
    pub fn extend(&mut self, other: &Timings) {
        for &(p, s) in &other.phases {
            self.add(p, s);
        }
    }

    /// The phases and their seconds, in order.
    pub fn phases(&self) -> &[(&'static str, f64)] {
        &self.phases
    }

    /// Seconds of one phase (0 if it never ran).
    pub fn get(&self, phase: &str) -> f64 {
        self.phases
            .iter()
            .find(|(p, _)| *p == phase)
            .map_or(0.0, |(_, s)| *s)
    }

    /// Sum over all phases.
    pub fn total(&self) -> f64 {
        self.phases.iter().map(|(_, s)| s).sum()
    }
}
