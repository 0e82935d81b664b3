//! What a solve is asked to do ([`SolverParams`], validated into a [`SolverConfig`]) and what it
//! returns ([`SolveResult`]); the solvers themselves read these and never the other way round.

use crate::error::{CoreError, Result};
use crate::timing::Timings;

/// How the sample subset is chosen (the CLI's `--method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Relaxed InfoMax solver + rounding + swap refinement (default).
    #[default]
    InfoMax,
    /// Lazy greedy on the same objective.
    Greedy,
    /// Uniformly random subset (seeded baseline).
    Random,
    /// The `k` highest scores (baseline).
    TopK,
    /// SIMS importance sampling on the scores (SPEC §3).
    Sims,
    /// Coverage-centric coreset selection with the AUM cutoff (SPEC §4).
    Ccs,
    /// The band around the median distance to the class median feature (SPEC §4).
    Moderate,
    /// D2 message passing on the kNN graph (SPEC §4).
    D2,
    /// SemDeDup: drop one of every near-duplicate pair inside k-means clusters
    /// ([`crate::semdedup`]); its set is chosen across all clusters at once, so the pipeline runs it.
    SemDedup,
}

impl Method {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::InfoMax => "infomax",
            Method::Greedy => "greedy",
            Method::Random => "random",
            Method::TopK => "topk",
            Method::Sims => "sims",
            Method::Ccs => "ccs",
            Method::Moderate => "moderate",
            Method::D2 => "d2",
            Method::SemDedup => "semdedup",
        }
    }
}

/// Which relaxation solver InfoMax uses (the CLI's `--solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelaxedSolver {
    /// Projected gradient ascent with `η = 1/L` (default).
    #[default]
    ProjectedGradient,
    /// Entropic mirror (softmax) ascent.
    Mirror,
}

impl RelaxedSolver {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RelaxedSolver::ProjectedGradient => "pg",
            RelaxedSolver::Mirror => "mirror",
        }
    }
}

/// The algorithm a [`SolverConfig`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Projected gradient ascent on the relaxation.
    ProjectedGradient,
    /// Entropic mirror ascent on the relaxation.
    Mirror,
    /// Lazy greedy on the discrete objective.
    LazyGreedy,
}

impl From<RelaxedSolver> for Algorithm {
    fn from(s: RelaxedSolver) -> Self {
        match s {
            RelaxedSolver::ProjectedGradient => Algorithm::ProjectedGradient,
            RelaxedSolver::Mirror => Algorithm::Mirror,
        }
    }
}

/// Unvalidated solver parameters, with SPEC's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverParams {
    /// Which algorithm runs.
    pub algorithm: Algorithm,
    /// Maximum iterations of a relaxed solver (`T`, default 100).
    pub iterations: usize,
    /// Stop when `‖x_{t+1} − x_t‖_∞` falls below this (default `1e-4`).
    pub tolerance: f64,
    /// Most swap-refinement rounds after rounding (`R`; 0 disables it). The default,
    /// [`DEFAULT_SWAP_ROUNDS`], is a safety cap (**ours**): the refinement runs until no swap
    /// improves `f`, i.e. to a 1-swap optimum, which it reaches in far fewer rounds on every
    /// instance measured (`benches/solver_quality.rs`). SPEC's former fixed 5 rounds left the
    /// relaxed solver up to 10% below greedy at 90% pruning.
    pub swap_rounds: usize,
    /// Power-iteration steps for `‖K‖₂` (default 30).
    pub power_iterations: usize,
    /// Step size override; `None` uses SPEC's rule (`1/L` for PG, `1/max|∇f(x₀)|` for mirror).
    pub step_size: Option<f64>,
    /// Factor the step grows by after each accepted step (ours; 1 keeps SPEC's fixed step). Steps
    /// that would lower `f` are still halved, so the ascent stays monotone whatever the growth.
    pub step_growth: f64,
    /// Also run lazy greedy followed by the same swap refinement, and return whichever of the two
    /// sets has the larger `f(S)` (the relaxed one on a tie) (**ours**, default **off**; relaxed
    /// algorithms only). Greedy is cheap next to the relaxed ascent (`O(n log n + k·m)` against
    /// `T` products), and with it on the result never loses to `--method greedy` on `f(S)`.
    ///
    /// Off by default because `f` and the redundancy the objective exists to remove disagree
    /// there: on 10^6 × 64 embeddings with 25,000 planted near-duplicate pairs (keep 10%, random
    /// scores), greedy's set has the larger `f` (12,003 against 11,827) yet keeps both copies of
    /// 254 pairs (1.0%, what a random subset keeps), where the relaxed set keeps 5 (0.02%). With
    /// the default typicality weight near-duplicates raise each other's degree, so greedy adds
    /// both; the relaxed ascent, which spreads its mass before rounding, does not.
    pub greedy_candidate: bool,
}

/// The default cap on swap-refinement rounds ([`SolverParams::swap_rounds`]).
pub const DEFAULT_SWAP_ROUNDS: usize = 1000;

impl Default for SolverParams {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::ProjectedGradient,
            iterations: 100,
            tolerance: 1e-4,
            swap_rounds: DEFAULT_SWAP_ROUNDS,
            power_iterations: 30,
            step_size: None,
            step_growth: 1.0,
            greedy_candidate: false,
        }
    }
}

impl SolverParams {
    /// Parameters for `algorithm` with every other value at its default.
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            ..Self::default()
        }
    }

    /// Validates the parameters.
    pub fn check(self) -> Result<SolverConfig> {
        let invalid = |name, value: String, reason| {
            Err(CoreError::InvalidParameter {
                name,
                value,
                reason,
            })
        };
        if self.iterations == 0 {
            return invalid("iterations", "0".into(), "need at least one iteration");
        }
        // The GPU solver counts iterations in u32; a larger count would silently wrap there.
        if self.iterations > u32::MAX as usize {
            return invalid(
                "iterations",
                self.iterations.to_string(),
                "must be at most 4294967295",
            );
        }
        if !self.tolerance.is_finite() || self.tolerance < 0.0 {
            return invalid(
                "tolerance",
                self.tolerance.to_string(),
                "must be finite and ≥ 0",
            );
        }
        if self.power_iterations == 0 {
            return invalid("power_iterations", "0".into(), "need at least one step");
        }
        if !self.step_growth.is_finite() || self.step_growth < 1.0 {
            return invalid(
                "step_growth",
                self.step_growth.to_string(),
                "must be finite and ≥ 1",
            );
        }
        if let Some(eta) = self.step_size {
            if !eta.is_finite() || eta <= 0.0 {
                return invalid("step_size", eta.to_string(), "must be finite and > 0");
            }
        }
        Ok(SolverConfig(self))
    }
}

/// Validated solver parameters: the only way to run a solver.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverConfig(SolverParams);

impl std::ops::Deref for SolverConfig {
    type Target = SolverParams;
    fn deref(&self) -> &SolverParams {
        &self.0
    }
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverParams::default().check().expect("defaults are valid")
    }
}

/// What every solver returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveResult {
    /// The selected sample indices, sorted ascending, exactly `k` of them.
    pub indices: Vec<usize>,
    /// Discrete `f(S)` of `indices`.
    pub objective: f64,
    /// Iterations run (relaxed steps accepted, or greedy additions).
    pub iterations: usize,
    /// Whether the stopping tolerance was met before the iteration limit (greedy: always true).
    pub converged: bool,
    /// Relaxed `f(x)` after each accepted step (empty for greedy); never decreases.
    pub relaxed_trace: Vec<f64>,
    /// `f(S)` right after rounding, before swap refinement (greedy: equals `objective`).
    pub rounded_objective: f64,
    /// Swaps applied by the refinement.
    pub swaps: usize,
    /// Seconds per phase: `solve`, `round`, `refine`.
    pub timings: Timings,
}
