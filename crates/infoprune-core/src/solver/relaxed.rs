//! Ascent on the relaxation `max f(x)` over the capped simplex `C` (SPEC §1.1): projected gradient
//! and entropic mirror ascent share one loop ([`super::ascent::run`], the loop every backend
//! follows) and differ only in their step.
//!
//! **Monotone safeguard (ours).** A step is kept only if it does not lower the relaxed `f`; otherwise
//! the step size is halved and the step retried. With `η = 1/L` this never triggers in exact
//! arithmetic (the ascent lemma), but the power iteration slightly underestimates `‖K‖₂` and mirror
//! ascent has no such guarantee, so the safeguard is what makes "f never decreases" true for both.
//! The `K x` it needs is the one the next gradient uses anyway.

use super::ascent::{
    self, AscentOps, AscentRule, AscentState, Stop, LIPSCHITZ_FLOOR, MIRROR_FLOOR,
};
use super::config::{Algorithm, SolverConfig};
use super::operator::SimilarityOperator;
use crate::objective::{gradient, relaxed_objective};
use crate::problem::Problem;
use crate::progress::Progress;
use crate::projection::{capped_simplex_kl_projection, capped_simplex_projection};
use crate::reduce;

/// The relaxed solution and how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaxedOutcome {
    /// The final point in `C`.
    pub x: Vec<f32>,
    /// Accepted steps.
    pub iterations: usize,
    /// Whether `‖Δx‖_∞ < tolerance` (or no ascent was possible) before the iteration limit.
    pub converged: bool,
    /// Relaxed `f` after each accepted step.
    pub trace: Vec<f64>,
}

/// Lipschitz constant of `∇f`: `L = 2α‖K‖₂`, floored.
pub fn lipschitz(problem: &Problem, power_iterations: usize) -> f64 {
    let k = SimilarityOperator::for_graph(problem.similarity());
    (2.0 * problem.alpha() * k.spectral_norm(power_iterations)).max(LIPSCHITZ_FLOOR)
}

/// The CPU's primitives for [`ascent::run`]: the current point, its `K x` and gradient, and the
/// candidate step with its own `K x`.
struct CpuAscent<'a> {
    problem: &'a Problem<'a>,
    similarity: SimilarityOperator<'a>,
    algorithm: Algorithm,
    x: Vec<f32>,
    y: Vec<f32>,
    grad: Vec<f32>,
    /// Whether `grad` is the gradient at `x` (a rejected step retries from the same point).
    grad_fresh: bool,
    x_new: Vec<f32>,
    y_new: Vec<f32>,
    scratch: Vec<f32>,
}

impl AscentOps<f64> for CpuAscent<'_> {
    fn try_step(&mut self, eta: f64) -> (f64, f64) {
        if !self.grad_fresh {
            gradient(self.problem, &self.y, &mut self.grad);
            self.grad_fresh = true;
        }
        let k = self.problem.k();
        match self.algorithm {
            Algorithm::Mirror => mirror_step(
                &self.x,
                &self.grad,
                eta,
                k,
                &mut self.scratch,
                &mut self.x_new,
            ),
            _ => pg_step(
                &self.x,
                &self.grad,
                eta,
                k,
                &mut self.scratch,
                &mut self.x_new,
            ),
        }
        self.similarity.apply(&self.x_new, &mut self.y_new);
        let f_new = relaxed_objective(self.problem, &self.x_new, &self.y_new);
        (f_new, reduce::max_abs_diff(&self.x, &self.x_new) as f64)
    }

    fn accept(&mut self) {
        std::mem::swap(&mut self.x, &mut self.x_new);
        std::mem::swap(&mut self.y, &mut self.y_new);
        self.grad_fresh = false;
    }
}

/// Runs PG or mirror ascent from `x₀ = (k/n)·1`.
pub fn maximize(
    problem: &Problem,
    config: &SolverConfig,
    progress: &dyn Progress,
) -> RelaxedOutcome {
    let n = problem.n();
    let k = problem.k();
    if k == n {
        return RelaxedOutcome {
            x: vec![1.0; n],
            iterations: 0,
            converged: Stop::Trivial.converged(),
            trace: Vec::new(),
        };
    }
    let x = vec![k as f32 / n as f32; n];
    let similarity = SimilarityOperator::for_graph(problem.similarity());
    let mut y = vec![0.0f32; n];
    similarity.apply(&x, &mut y);
    let f = relaxed_objective(problem, &x, &y);
    let mut grad = vec![0.0f32; n];
    gradient(problem, &y, &mut grad);
    let g_max = grad.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
    let eta = ascent::initial_step(config, problem.alpha(), g_max, || {
        similarity.spectral_norm(config.power_iterations)
    });
    let mut ops = CpuAscent {
        problem,
        similarity,
        algorithm: config.algorithm,
        x,
        y,
        grad,
        grad_fresh: true,
        x_new: vec![0.0f32; n],
        y_new: vec![0.0f32; n],
        scratch: vec![0.0f32; n],
    };
    let rule = AscentRule::new(config);
    let mut state = AscentState::new(f, eta);
    let trace = ascent::run(&rule, &mut state, &mut ops, progress);
    RelaxedOutcome {
        x: ops.x,
        iterations: trace.len(),
        converged: state.stop.is_some_and(Stop::converged),
        trace,
    }
}

/// `x ← Π_C(x + η ∇f)`.
fn pg_step(x: &[f32], grad: &[f32], eta: f64, k: usize, v: &mut [f32], out: &mut [f32]) {
    let eta = eta as f32;
    for ((vi, &xi), &gi) in v.iter_mut().zip(x).zip(grad) {
        *vi = xi + eta * gi;
    }
    capped_simplex_projection(v, k, out);
}

/// `x ← Π^KL_C(x ⊙ exp(η ∇f))`. The KL projection is scale-invariant, so the exponent is shifted by
/// its maximum to keep every factor in `(0, 1]`.
fn mirror_step(x: &[f32], grad: &[f32], eta: f64, k: usize, v: &mut [f32], out: &mut [f32]) {
    let shift = grad.iter().fold(f32::NEG_INFINITY, |m, &g| m.max(g)) as f64 * eta;
    for ((vi, &xi), &gi) in v.iter_mut().zip(x).zip(grad) {
        let factor = (gi as f64 * eta - shift).exp() as f32;
        *vi = (xi * factor).max(MIRROR_FLOOR);
    }
    capped_simplex_kl_projection(v, k, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::solver::SolverParams;
    use crate::testing::random_instance;

    #[test]
    fn relaxed_objective_never_decreases_and_stays_feasible() {
        for (seed, algorithm) in [(1, Algorithm::ProjectedGradient), (2, Algorithm::Mirror)] {
            for alpha in [0.0, 0.05, 0.5, 5.0] {
                let (s, k) = random_instance(400, 4, seed);
                let p = Problem::new(&s, &k, 40, alpha).unwrap();
                let config = SolverParams::new(algorithm).check().unwrap();
                let out = maximize(&p, &config, &Silent);
                assert!(!out.trace.is_empty());
                for w in out.trace.windows(2) {
                    assert!(
                        w[1] >= w[0] - 1e-6 * w[0].abs().max(1.0),
                        "{algorithm:?} α={alpha}: {w:?}"
                    );
                }
                let total: f64 = out.x.iter().map(|&v| v as f64).sum();
                assert!((total - 40.0).abs() < 1e-3, "sum {total}");
                assert!(out.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
            }
        }
    }

    #[test]
    fn without_redundancy_pg_finds_the_top_scores() {
        let (s, k) = random_instance(100, 3, 9);
        let p = Problem::new(&s, &k, 10, 0.0).unwrap();
        let out = maximize(&p, &SolverConfig::default(), &Silent);
        let mut by_score: Vec<usize> = (0..100).collect();
        by_score.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
        for &i in &by_score[..10] {
            assert!(out.x[i] > 0.99, "top scorer {i} has x = {}", out.x[i]);
        }
        assert!(out.converged);
    }

    #[test]
    fn k_equal_n_selects_everything() {
        let (s, k) = random_instance(20, 2, 4);
        let p = Problem::new(&s, &k, 20, 1.0).unwrap();
        let out = maximize(&p, &SolverConfig::default(), &Silent);
        assert!(out.x.iter().all(|&v| v == 1.0));
    }
}
