//! The iteration logic of the relaxed ascent, defined once for every backend (SPEC §1.1 and the
//! monotone safeguard, **ours**): the step rule, the safeguard, the stopping tests and the trace.
//!
//! A backend supplies only the primitives ([`AscentOps`]: "try a step of size η", "keep it"); the
//! loop that decides what to do with the step is [`run`], stepped over an [`AscentState`] by an
//! [`AscentRule`] (the argmin pattern: solver state + executor). The CPU reference runs it directly.
//! The GPU keeps its whole loop on the device, so its `accept_step` kernel is a transliteration of
//! [`AscentState::judge`] fed with this rule's constants; the wgpu crate's tests run [`run`] over
//! the device's own primitives (one read-back per step) and require the device-resident loop to
//! give the same trace, iterations and final point, bit for bit. That test is what keeps the two
//! from drifting.
//!
//! **Arithmetic.** The rule is generic over the scalar the backend sums `f` in ([`Real`]): `f64` on
//! the CPU, `f32` on the GPU. Only the safeguard's slack depends on it ([`Real::ASCENT_SLACK`]):
//! it is the relative noise of `f`'s evaluation, which the sum's precision sets.

use super::config::{Algorithm, SolverConfig};
use crate::progress::{Progress, Stage};

/// Smallest Lipschitz constant used for the PG step, so that `α = 0` (no redundancy) still gives a
/// finite step: the projection then simply returns the top-k of `s`.
pub const LIPSCHITZ_FLOOR: f64 = 1e-9;

/// Mirror iterates below this are lifted to it, so that no coordinate underflows to an absorbing 0.
pub const MIRROR_FLOOR: f32 = 1e-30;

/// Halvings of the step in a row after which the solver declares it cannot ascend further.
pub const MAX_BACKTRACKS: u32 = 40;

/// The scalar a backend evaluates the relaxed objective in.
pub trait Real: Copy + PartialOrd + std::fmt::Debug {
    /// Relative slack of the safeguard's "did not decrease" test, `f_new ≥ f − slack·max(|f|, 1)`.
    const ASCENT_SLACK: Self;
    /// `value` rounded to this type.
    fn of(value: f64) -> Self;
    /// Widened to `f64`.
    fn wide(self) -> f64;
    /// `self · other`, rounded once.
    fn mul(self, other: Self) -> Self;
    /// `f − slack·max(|f|, 1)`, the lowest `f_new` the safeguard accepts, in this type's
    /// arithmetic and in the order the GPU kernel evaluates it.
    fn floor_below(f: Self, slack: Self) -> Self;
}

impl Real for f64 {
    /// Sums in `f64` of `f32` products: `f` is exact to about `1e-12` for a fixed `y`, so the
    /// slack only has to absorb the `f32` rounding of `y = K x` between nearby points.
    const ASCENT_SLACK: f64 = 1e-9;
    fn of(value: f64) -> Self {
        value
    }
    fn wide(self) -> f64 {
        self
    }
    fn mul(self, other: Self) -> Self {
        self * other
    }
    fn floor_below(f: Self, slack: Self) -> Self {
        f - slack * f.abs().max(1.0)
    }
}

impl Real for f32 {
    /// Tree sums in `f32` are noisy at about `1e-7·log₂ n` relative; a tighter slack would reject
    /// steps that did not really lower `f` and halve the step for nothing.
    const ASCENT_SLACK: f32 = 1e-6;
    fn of(value: f64) -> Self {
        value as f32
    }
    fn wide(self) -> f64 {
        self as f64
    }
    fn mul(self, other: Self) -> Self {
        self * other
    }
    fn floor_below(f: Self, slack: Self) -> Self {
        f - slack * f.abs().max(1.0)
    }
}

/// Why an ascent stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// An accepted step moved no coordinate by `tolerance` or more.
    Tolerance,
    /// More than [`MAX_BACKTRACKS`] halvings in a row found no step that keeps `f`.
    NoAscent,
    /// The iteration limit was reached.
    IterationLimit,
    /// Nothing to do: `k = n` selects every row.
    Trivial,
}

impl Stop {
    /// Whether the stop counts as converged (everything but the iteration limit).
    pub fn converged(self) -> bool {
        !matches!(self, Stop::IterationLimit)
    }

    /// The code a GPU kernel stores for this stop (0 means still running); `STOP_*` in
    /// `shaders/common.wgsl` spell the same numbers.
    pub fn code(self) -> u32 {
        match self {
            Stop::Tolerance => 1,
            Stop::NoAscent => 2,
            Stop::IterationLimit => 3,
            Stop::Trivial => 4,
        }
    }

    /// The stop a kernel's code names; `None` for 0 (running) and unknown codes.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            1 => Some(Stop::Tolerance),
            2 => Some(Stop::NoAscent),
            3 => Some(Stop::IterationLimit),
            4 => Some(Stop::Trivial),
            _ => None,
        }
    }
}

/// What [`AscentState::judge`] made of a candidate step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The step keeps `f`: it becomes the current point, and its `f` joins the trace.
    Accepted,
    /// The step lowers `f`: it is dropped and the step size halved.
    Halved,
    /// The ascent is over; whether the step was kept is [`AscentState::accepted_last`].
    Stopped(Stop),
}

/// The constants of one solve, from its [`SolverConfig`], in the backend's arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AscentRule<R> {
    /// Relative slack of the safeguard ([`Real::ASCENT_SLACK`]).
    pub slack: R,
    /// Factor the step grows by after an accepted step ([`super::SolverParams::step_growth`]).
    pub step_growth: R,
    /// Stop once an accepted step moves no coordinate by this much.
    pub tolerance: R,
    /// Accepted steps at most.
    pub max_iterations: u32,
    /// Halvings in a row at most.
    pub max_backtracks: u32,
}

impl<R: Real> AscentRule<R> {
    /// The rule `config` asks for.
    pub fn new(config: &SolverConfig) -> Self {
        Self {
            slack: R::ASCENT_SLACK,
            step_growth: R::of(config.step_growth),
            tolerance: R::of(config.tolerance),
            // `SolverParams::check` keeps the limit within u32.
            max_iterations: config.iterations as u32,
            max_backtracks: MAX_BACKTRACKS,
        }
    }
}

/// The first step size: `config.step_size` if given, else SPEC's rule, `1/L` with
/// `L = max(2α‖K‖₂, LIPSCHITZ_FLOOR)` for PG and `1/max|∇f(x₀)|` (1 if the gradient is 0) for
/// mirror ascent. `spectral_norm` is only called for PG without a given step.
pub fn initial_step(
    config: &SolverConfig,
    alpha: f64,
    max_abs_gradient: f64,
    spectral_norm: impl FnOnce() -> f64,
) -> f64 {
    match (config.step_size, config.algorithm) {
        (Some(eta), _) => eta,
        (None, Algorithm::Mirror) => {
            if max_abs_gradient > 0.0 {
                1.0 / max_abs_gradient
            } else {
                1.0
            }
        }
        (None, _) => 1.0 / (2.0 * alpha * spectral_norm()).max(LIPSCHITZ_FLOOR),
    }
}

/// Where an ascent stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AscentState<R> {
    /// Relaxed `f` at the current point.
    pub f: R,
    /// The step size the next candidate uses.
    pub eta: R,
    /// Halvings since the last accepted step.
    pub backtracks: u32,
    /// Accepted steps.
    pub iterations: u32,
    /// Why the ascent stopped; `None` while it runs.
    pub stop: Option<Stop>,
    /// Whether the last judged step was kept.
    pub accepted_last: bool,
}

impl<R: Real> AscentState<R> {
    /// The state at `x₀`, where `f = f0`, with first step `eta`.
    pub fn new(f0: R, eta: R) -> Self {
        Self {
            f: f0,
            eta,
            backtracks: 0,
            iterations: 0,
            stop: None,
            accepted_last: false,
        }
    }

    /// Judges a candidate step with relaxed value `f_new` that moved the point by `delta`
    /// (`‖x_new − x‖_∞`), and updates the state.
    pub fn judge(&mut self, rule: &AscentRule<R>, f_new: R, delta: R) -> Verdict {
        debug_assert!(
            self.stop.is_none(),
            "judged a step after the ascent stopped"
        );
        if f_new < R::floor_below(self.f, rule.slack) {
            self.accepted_last = false;
            self.backtracks += 1;
            if self.backtracks > rule.max_backtracks {
                self.stop = Some(Stop::NoAscent);
                return Verdict::Stopped(Stop::NoAscent);
            }
            self.eta = self.eta.mul(R::of(0.5));
            return Verdict::Halved;
        }
        self.accepted_last = true;
        self.backtracks = 0;
        self.eta = self.eta.mul(rule.step_growth);
        self.f = f_new;
        self.iterations += 1;
        let stop = if delta < rule.tolerance {
            Some(Stop::Tolerance)
        } else if self.iterations >= rule.max_iterations {
            Some(Stop::IterationLimit)
        } else {
            None
        };
        self.stop = stop;
        stop.map_or(Verdict::Accepted, Verdict::Stopped)
    }
}

/// What a backend does for the ascent; the decisions are [`run`]'s.
pub trait AscentOps<R> {
    /// Computes the candidate step of size `eta` from the current point, and returns its relaxed
    /// `f` and `‖x_new − x‖_∞`. Called again with a halved `eta` after a rejected step, from the
    /// same current point.
    fn try_step(&mut self, eta: R) -> (R, R);
    /// Makes the last candidate the current point.
    fn accept(&mut self);
}

/// Runs the ascent from `state` until the rule stops it, and returns the relaxed `f` after each
/// accepted step. Every iteration is reported to `progress` (stage [`Stage::Solve`]).
pub fn run<R: Real>(
    rule: &AscentRule<R>,
    state: &mut AscentState<R>,
    ops: &mut impl AscentOps<R>,
    progress: &dyn Progress,
) -> Vec<R> {
    // Reserved for the usual run only: the limit is what the user typed, and most runs converge
    // long before it; the trace grows by one value per iteration actually run.
    let mut trace = Vec::with_capacity((rule.max_iterations as usize).min(4096));
    progress.start(Stage::Solve, u64::from(rule.max_iterations));
    while state.stop.is_none() {
        let (f_new, delta) = ops.try_step(state.eta);
        state.judge(rule, f_new, delta);
        if state.accepted_last {
            ops.accept();
            trace.push(f_new);
            progress.advance(1);
        }
    }
    progress.finish(Stage::Solve);
    trace
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::solver::SolverParams;

    fn rule(iterations: usize, growth: f64) -> AscentRule<f64> {
        let config = SolverParams {
            iterations,
            step_growth: growth,
            tolerance: 1e-3,
            ..SolverParams::default()
        }
        .check()
        .unwrap();
        AscentRule::new(&config)
    }

    #[test]
    fn accepts_within_the_slack_and_halves_below_it() {
        let r = rule(100, 2.0);
        let mut s = AscentState::new(1000.0, 1.0);
        // 1000 − 1e-9·1000 = 1000 − 1e-6 is still kept.
        assert_eq!(s.judge(&r, 1000.0 - 0.9e-6, 1.0), Verdict::Accepted);
        assert_eq!((s.eta, s.iterations), (2.0, 1));
        assert_eq!(s.judge(&r, s.f - 2e-6, 1.0), Verdict::Halved);
        assert_eq!((s.eta, s.backtracks, s.iterations), (1.0, 1, 1));
        // For |f| < 1 the slack is absolute.
        let mut small = AscentState::new(0.0f64, 1.0);
        assert_eq!(small.judge(&r, -0.9e-9, 1.0), Verdict::Accepted);
        assert_eq!(small.judge(&r, -2.1e-9, 1.0), Verdict::Halved);
    }

    #[test]
    fn stops_after_too_many_halvings_and_at_the_limits() {
        let r = rule(3, 1.0);
        let mut s = AscentState::new(0.0f64, 1.0);
        for _ in 0..MAX_BACKTRACKS {
            assert_eq!(s.judge(&r, -1.0, 1.0), Verdict::Halved);
        }
        assert_eq!(s.judge(&r, -1.0, 1.0), Verdict::Stopped(Stop::NoAscent));
        assert!(!s.accepted_last && Stop::NoAscent.converged());

        let mut s = AscentState::new(0.0f64, 1.0);
        assert_eq!(s.judge(&r, 1.0, 1.0), Verdict::Accepted);
        assert_eq!(s.judge(&r, 2.0, 1.0), Verdict::Accepted);
        assert_eq!(
            s.judge(&r, 3.0, 1.0),
            Verdict::Stopped(Stop::IterationLimit)
        );
        assert!(s.accepted_last && !Stop::IterationLimit.converged());

        // The tolerance wins over the limit when both hold.
        let mut s = AscentState::new(0.0f64, 1.0);
        s.iterations = 2;
        assert_eq!(s.judge(&r, 1.0, 1e-4), Verdict::Stopped(Stop::Tolerance));
    }

    #[test]
    fn stop_codes_round_trip() {
        for stop in [
            Stop::Tolerance,
            Stop::NoAscent,
            Stop::IterationLimit,
            Stop::Trivial,
        ] {
            assert_eq!(Stop::from_code(stop.code()), Some(stop));
        }
        assert_eq!(Stop::from_code(0), None);
        assert_eq!(Stop::from_code(5), None);
    }

    #[test]
    fn f32_rule_uses_its_own_slack_in_f32_arithmetic() {
        let config = SolverConfig::default();
        let r = AscentRule::<f32>::new(&config);
        assert_eq!(r.slack, 1e-6f32);
        let mut s = AscentState::new(100.0f32, 0.25);
        assert_eq!(s.judge(&r, 100.0 - 0.5e-4, 1.0), Verdict::Accepted);
        assert_eq!(s.judge(&r, s.f - 2e-4, 1.0), Verdict::Halved);
        assert_eq!(s.eta, 0.125);
    }

    #[test]
    fn initial_step_follows_spec() {
        let pg = SolverConfig::default();
        assert_eq!(initial_step(&pg, 0.5, 9.0, || 4.0), 0.25);
        // α = 0: the floor keeps the step finite.
        assert_eq!(initial_step(&pg, 0.0, 9.0, || 4.0), 1.0 / LIPSCHITZ_FLOOR);
        let mirror = SolverParams::new(Algorithm::Mirror).check().unwrap();
        assert_eq!(
            initial_step(&mirror, 0.5, 4.0, || unreachable!("mirror needs no norm")),
            0.25
        );
        assert_eq!(initial_step(&mirror, 0.5, 0.0, || 1.0), 1.0);
        let given = SolverParams {
            step_size: Some(0.1),
            ..SolverParams::default()
        }
        .check()
        .unwrap();
        assert_eq!(initial_step(&given, 0.5, 4.0, || unreachable!()), 0.1);
    }

    /// A 1-d ascent on `f(x) = −(x − 3)²` from 0 whose step overshoots: the loop halves and
    /// accepts as the rule says, and its trace never decreases.
    #[test]
    fn run_halves_overshooting_steps_and_keeps_f_monotone() {
        struct Parabola {
            x: f64,
            candidate: f64,
        }
        impl AscentOps<f64> for Parabola {
            fn try_step(&mut self, eta: f64) -> (f64, f64) {
                let gradient = -2.0 * (self.x - 3.0);
                self.candidate = self.x + eta * gradient;
                (
                    -(self.candidate - 3.0).powi(2),
                    (self.candidate - self.x).abs(),
                )
            }
            fn accept(&mut self) {
                self.x = self.candidate;
            }
        }
        let r = rule(200, 1.0);
        let mut ops = Parabola {
            x: 0.0,
            candidate: 0.0,
        };
        let mut state = AscentState::new(-9.0, 1.5);
        let trace = run(&r, &mut state, &mut ops, &Silent);
        assert_eq!(state.stop, Some(Stop::Tolerance));
        assert_eq!(trace.len() as u32, state.iterations);
        assert!(trace.windows(2).all(|w| w[1] >= w[0]));
        assert!((ops.x - 3.0).abs() < 1e-3, "x = {}", ops.x);
        // η = 1.5 overshoots to x = 9 (f = −36 < −9): halved once to 0.75, then kept.
        assert_eq!(state.eta, 0.75);
    }
}
