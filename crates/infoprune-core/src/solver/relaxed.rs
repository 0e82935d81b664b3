//! Ascent on the relaxation `max f(x)` over the capped simplex `C` (SPEC §1.1): projected gradient
//! and entropic mirror ascent share one loop and differ only in their step.
//!
//! **Monotone safeguard (ours).** A step is kept only if it does not lower the relaxed `f`; otherwise
//! the step size is halved and the step retried. With `η = 1/L` this never triggers in exact
//! arithmetic (the ascent lemma), but the power iteration slightly underestimates `‖K‖₂` and mirror
//! ascent has no such guarantee, so the safeguard is what makes "f never decreases" true for both.
//! The `K x` it needs is the one the next gradient uses anyway.

use super::config::{Algorithm, SolverConfig};
use super::operator::SimilarityOperator;
use crate::objective::{gradient, relaxed_objective};
use crate::problem::Problem;
use crate::progress::{Progress, Stage};
use crate::projection::{capped_simplex_kl_projection, capped_simplex_projection};
use crate::reduce;

/// Smallest Lipschitz constant used for the PG step, so that `α = 0` (no redundancy) still gives a
/// finite step: the projection then simply returns the top-k of `s`.
const LIPSCHITZ_FLOOR: f64 = 1e-9;

/// Mirror iterates below this are lifted to it, so that no coordinate underflows to an absorbing 0.
const MIRROR_FLOOR: f32 = 1e-30;

/// Halvings of the step in a row after which the solver declares it cannot ascend further.
const MAX_BACKTRACKS: usize = 40;

/// Relative slack for "did not decrease": `f32` products make `f` noisy at about `1e-7`.
const ASCENT_SLACK: f64 = 1e-9;

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
    lipschitz_of(
        problem,
        &SimilarityOperator::for_graph(problem.similarity()),
        power_iterations,
    )
}

fn lipschitz_of(problem: &Problem, k: &SimilarityOperator, power_iterations: usize) -> f64 {
    (2.0 * problem.alpha() * k.spectral_norm(power_iterations)).max(LIPSCHITZ_FLOOR)
}

/// Runs PG or mirror ascent from `x₀ = (k/n)·1`.
pub fn maximize(
    problem: &Problem,
    config: &SolverConfig,
    progress: &dyn Progress,
) -> RelaxedOutcome {
    let n = problem.n();
    let k = problem.k();
    let mut x = vec![k as f32 / n as f32; n];
    if k == n {
        return RelaxedOutcome {
            x: vec![1.0; n],
            iterations: 0,
            converged: true,
            trace: Vec::new(),
        };
    }
    let similarity = SimilarityOperator::for_graph(problem.similarity());
    let mut y = vec![0.0f32; n];
    similarity.apply(&x, &mut y);
    let mut f = relaxed_objective(problem, &x, &y);
    let mut grad = vec![0.0f32; n];
    gradient(problem, &y, &mut grad);

    let mut eta = match (config.step_size, config.algorithm) {
        (Some(eta), _) => eta,
        (None, Algorithm::Mirror) => {
            let g_max = grad.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
            if g_max > 0.0 {
                1.0 / g_max
            } else {
                1.0
            }
        }
        (None, _) => 1.0 / lipschitz_of(problem, &similarity, config.power_iterations),
    };

    let mut x_new = vec![0.0f32; n];
    let mut y_new = vec![0.0f32; n];
    let mut scratch = vec![0.0f32; n];
    // Reserved for the usual run only: the limit is what the user typed, and most runs converge
    // long before it; the trace grows by one f64 per iteration actually run.
    let mut trace = Vec::with_capacity(config.iterations.min(4096));
    let mut converged = false;
    let mut backtracks = 0usize;
    progress.start(Stage::Solve, config.iterations as u64);
    while trace.len() < config.iterations {
        match config.algorithm {
            Algorithm::Mirror => mirror_step(&x, &grad, eta, k, &mut scratch, &mut x_new),
            _ => pg_step(&x, &grad, eta, k, &mut scratch, &mut x_new),
        }
        similarity.apply(&x_new, &mut y_new);
        let f_new = relaxed_objective(problem, &x_new, &y_new);
        if f_new < f - ASCENT_SLACK * f.abs().max(1.0) {
            backtracks += 1;
            if backtracks > MAX_BACKTRACKS {
                converged = true;
                break;
            }
            eta *= 0.5;
            continue;
        }
        backtracks = 0;
        eta *= config.step_growth;
        let delta = reduce::max_abs_diff(&x, &x_new);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut y, &mut y_new);
        f = f_new;
        trace.push(f);
        progress.advance(1);
        if (delta as f64) < config.tolerance {
            converged = true;
            break;
        }
        gradient(problem, &y, &mut grad);
    }
    progress.finish(Stage::Solve);
    RelaxedOutcome {
        x,
        iterations: trace.len(),
        converged,
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
