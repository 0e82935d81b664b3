//! The InfoMax objective `f(x) = Σ s_i x_i − α Σ_{i,j} K_ij x_i x_j` (SPEC §1): its discrete value
//! `f(S)` for a set, its relaxed value for `x ∈ [0,1]^n`, and its gradient `s − 2α K x`.

use crate::csr::CsrSimilarity;
use crate::error::{CoreError, Result};
use crate::problem::Problem;
use crate::reduce;

/// `f(S)` for the set `S` given by `indices`, computed in `f64` the same way for every solver so that
/// their results are comparable. Indices must be distinct and `< n`.
pub fn objective(problem: &Problem, indices: &[usize]) -> Result<f64> {
    let n = problem.n();
    let mut member = vec![false; n];
    for &i in indices {
        if i >= n {
            return Err(CoreError::InvalidParameter {
                name: "indices",
                value: i.to_string(),
                reason: "index out of range",
            });
        }
        if std::mem::replace(&mut member[i], true) {
            return Err(CoreError::InvalidParameter {
                name: "indices",
                value: i.to_string(),
                reason: "index appears twice",
            });
        }
    }
    Ok(objective_of_mask(problem, &member))
}

/// `f(S)` for `S = { i : member[i] }`.
pub fn objective_of_mask(problem: &Problem, member: &[bool]) -> f64 {
    let (linear, pairwise) = objective_terms(problem.similarity(), problem.scores(), member);
    linear - problem.alpha() * pairwise
}

/// The two terms of `f(S)`, `(Σ_{i∈S} s_i, Σ_{i,j∈S} K_ij)` over ordered pairs, for
/// `S = { i : member[i] }`: members in ascending order, each row's similarities summed in `f64`,
/// then the rows, so every caller gets the same bits.
pub fn objective_terms(k: &CsrSimilarity, s: &[f32], member: &[bool]) -> (f64, f64) {
    let sorted: Vec<usize> = (0..member.len()).filter(|&i| member[i]).collect();
    let linear: f64 = sorted.iter().map(|&i| s[i] as f64).sum();
    let pairwise: f64 = sorted
        .iter()
        .map(|&i| {
            let (cols, vals) = k.row(i);
            cols.iter()
                .zip(vals)
                .filter(|(&j, _)| member[j as usize])
                .map(|(_, &v)| v as f64)
                .sum::<f64>()
        })
        .sum();
    (linear, pairwise)
}

/// Relaxed `f(x) = s·x − α x·(Kx)`, given `y = K x`.
pub fn relaxed_objective(problem: &Problem, x: &[f32], y: &[f32]) -> f64 {
    let s = problem.scores();
    let alpha = problem.alpha();
    reduce::sum_by(x.len(), |i| {
        x[i] as f64 * (s[i] as f64 - alpha * y[i] as f64)
    })
}

/// `∇f(x) = s − 2α y` with `y = K x`, into `out`.
pub fn gradient(problem: &Problem, y: &[f32], out: &mut [f32]) {
    let two_alpha = (2.0 * problem.alpha()) as f32;
    for ((g, &s), &yi) in out.iter_mut().zip(problem.scores()).zip(y) {
        *g = s - two_alpha * yi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
    use approx::assert_relative_eq;

    #[test]
    fn matches_the_formula_by_hand() {
        let k = CsrSimilarity::from_triplets(
            3,
            &[(0, 1, 0.5), (1, 0, 0.5), (1, 2, 0.25), (2, 1, 0.25)],
            DuplicatePolicy::Error,
            SymmetryCheck::Require,
        )
        .unwrap();
        let s = [1.0f32, 2.0, 3.0];
        let p = Problem::new(&s, &k, 2, 2.0).unwrap();
        // S = {0, 1}: 1 + 2 − 2·(0.5 + 0.5) = 1.
        assert_relative_eq!(objective(&p, &[0, 1]).unwrap(), 1.0);
        // S = {0, 2}: no edge inside.
        assert_relative_eq!(objective(&p, &[2, 0]).unwrap(), 4.0);
        let x = [1.0f32, 1.0, 0.0];
        let mut y = [0.0f32; 3];
        k.spmv(&x, &mut y);
        assert_relative_eq!(relaxed_objective(&p, &x, &y), 1.0);
        let mut g = [0.0f32; 3];
        gradient(&p, &y, &mut g);
        assert_eq!(g, [1.0 - 4.0 * 0.5, 2.0 - 4.0 * 0.5, 3.0 - 4.0 * 0.25]);
        assert!(objective(&p, &[0, 0]).is_err());
        assert!(objective(&p, &[3]).is_err());
    }
}
