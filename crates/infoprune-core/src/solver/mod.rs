//! The InfoMax solvers of SPEC §1.1 behind one validated configuration and one result type.
//!
//! Parameters are plain data ([`SolverParams`]) until [`SolverParams::check`] turns them into a
//! [`SolverConfig`], which is then trusted everywhere (the linfa pattern): invalid input never reaches
//! an inner loop.
//!
//! - [`Algorithm::ProjectedGradient`] (default) and [`Algorithm::Mirror`] optimise the relaxation over
//!   the capped simplex, then round to the top-k and refine by swaps to a 1-swap optimum
//!   ([`relaxed`], [`rounding`], [`swap`]); with [`SolverParams::greedy_candidate`] (**ours**,
//!   off by default) they also run greedy + the same refinement and keep the better set, so they
//!   never return less than greedy's `f(S)`.
//! - [`Algorithm::LazyGreedy`] adds the element of largest marginal gain, exactly ([`greedy`]).

pub mod ascent;
pub mod config;
pub mod greedy;
pub mod operator;
pub mod relaxed;
pub mod rounding;
pub mod swap;

pub use self::config::{
    Algorithm, Method, RelaxedSolver, SolveResult, SolverConfig, SolverParams, DEFAULT_SWAP_ROUNDS,
};
pub use crate::problem::Problem;

use crate::progress::Progress;
use crate::timing::Timings;

impl SolverConfig {
    /// Solves `problem`, reporting progress to `progress`.
    pub fn solve(&self, problem: &Problem, progress: &dyn Progress) -> SolveResult {
        let mut timings = Timings::default();
        match self.algorithm {
            Algorithm::LazyGreedy => {
                let order = timings.time("solve", || greedy::lazy_greedy(problem, progress));
                let mut indices = order;
                indices.sort_unstable();
                let objective = crate::objective::objective(problem, &indices)
                    .expect("greedy returns distinct in-range indices");
                SolveResult {
                    iterations: indices.len(),
                    indices,
                    objective,
                    converged: true,
                    relaxed_trace: Vec::new(),
                    rounded_objective: objective,
                    swaps: 0,
                    timings,
                }
            }
            Algorithm::ProjectedGradient | Algorithm::Mirror => {
                let relaxed = timings.time("solve", || relaxed::maximize(problem, self, progress));
                let mut indices = timings.time("round", || {
                    rounding::top_k(&relaxed.x, problem.scores(), problem.k())
                });
                let rounded_objective = crate::objective::objective(problem, &indices)
                    .expect("top-k returns distinct in-range indices");
                let swaps = timings.time("refine", || {
                    swap::swap_refinement(problem, &mut indices, self.swap_rounds, progress)
                });
                let objective = crate::objective::objective(problem, &indices)
                    .expect("swaps keep indices distinct and in range");
                let mut result = SolveResult {
                    indices,
                    objective,
                    iterations: relaxed.iterations,
                    converged: relaxed.converged,
                    relaxed_trace: relaxed.trace,
                    rounded_objective,
                    swaps,
                    timings,
                };
                self.keep_the_better_of_greedy(problem, &mut result, progress);
                result
            }
        }
    }

    /// With [`SolverParams::greedy_candidate`] on, runs lazy greedy and the swap refinement
    /// (at most [`SolverParams::swap_rounds`] rounds) on `problem`, and replaces `result`'s set,
    /// `f(S)` and swap count by greedy's when its `f(S)` is strictly larger; the time is added to
    /// `result.timings` as `greedy`. Every backend calls this after its own relaxed solve, so all
    /// of them return the same kind of answer. Returns whether greedy's set was taken.
    pub fn keep_the_better_of_greedy(
        &self,
        problem: &Problem,
        result: &mut SolveResult,
        progress: &dyn Progress,
    ) -> bool {
        if !self.greedy_candidate || self.algorithm == Algorithm::LazyGreedy {
            return false;
        }
        let start = std::time::Instant::now();
        let mut indices = greedy::lazy_greedy(problem, &crate::progress::Silent);
        indices.sort_unstable();
        let refined = swap::swap_refinement(problem, &mut indices, self.swap_rounds, progress);
        let objective = crate::objective::objective(problem, &indices)
            .expect("greedy and swaps keep indices distinct and in range");
        result.timings.add("greedy", start.elapsed().as_secs_f64());
        if objective > result.objective {
            result.indices = indices;
            result.objective = objective;
            result.swaps = refined;
            true
        } else {
            false
        }
    }
}
