//! Swap refinement after rounding (SPEC §1.1, ours, default on).
//!
//! With `y = K x` for the indicator `x` of `S`, swapping `i ∈ S` out for `j ∉ S` changes `f` by exactly
//! `g_j − l_i + 2α K_ij` where `g_j = s_j − 2α y_j` and `l_i = s_i − 2α y_i`. Each round pairs the best
//! outsiders with the worst insiders: it applies the best improving swap of each outsider (its partner is the worst insider or one of its
//! neighbours in `S`), keeping only swaps whose elements touch no other
//! applied swap's elements in `K`, so the changes add up exactly and `f` never decreases.
//!
//! A round that plans no swap has checked every outsider against its best partner, so the set is
//! then 1-swap optimal (up to a relative `1e-12`); [`swap_refinement`] stops there, and its round
//! cap ([`SolverParams::swap_rounds`](super::SolverParams::swap_rounds)) only guards against
//! pathological instances (**ours**; SPEC §1.1 had a fixed 5 rounds).

use crate::problem::Problem;
use crate::progress::{Progress, Stage};
use rayon::prelude::*;

/// Smallest improvement, relative to the size of the gains, that counts: below it a swap could be
/// rounding noise, and accepting noise could make rounds cycle.
const MIN_RELATIVE_GAIN: f64 = 1e-12;

/// `y_i = Σ_{j∈S} K_ij` in `f64`, for every `i`.
fn set_products(problem: &Problem, member: &[bool]) -> Vec<f64> {
    let k = problem.similarity();
    (0..problem.n())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            let (cols, vals) = k.row(i);
            cols.iter()
                .zip(vals)
                .filter(|(&j, _)| member[j as usize])
                .map(|(_, &v)| v as f64)
                .sum()
        })
        .collect()
}

/// `Σ_{u∈S} K_iu` for one row, in `f64`, in column order (the same sum [`set_products`] forms).
fn row_product(problem: &Problem, member: &[bool], i: usize) -> f64 {
    let (cols, vals) = problem.similarity().row(i);
    cols.iter()
        .zip(vals)
        .filter(|(&j, _)| member[j as usize])
        .map(|(_, &v)| v as f64)
        .sum()
}

/// The exact change of `f` when `i ∈ S` is swapped for `j ∉ S`.
fn exact_change(problem: &Problem, member: &[bool], i: usize, j: usize) -> f64 {
    let s = problem.scores();
    let two_alpha = 2.0 * problem.alpha();
    let g = s[j] as f64 - two_alpha * row_product(problem, member, j);
    let l = s[i] as f64 - two_alpha * row_product(problem, member, i);
    g - l + two_alpha * problem.similarity().get(i, j) as f64
}

/// One round of swap refinement for the set `member`, given each sample's value
/// `v_i = s_i − 2α Σ_{u∈S} K_iu` (the gain of adding an outsider, the value of keeping an insider)
/// in any precision, e.g. computed on a GPU. Pairs the best outsiders with the worst insiders (an
/// outsider's best partner is the worst insider or one of its neighbours in `S`), keeps swaps whose
/// elements touch no other kept swap's elements in `K`, and re-checks each swap's change exactly in
/// `f64` before keeping it, so applying all of them never lowers `f`.
pub fn plan_swaps(problem: &Problem, member: &[bool], values: &[f64]) -> Vec<(usize, usize)> {
    let n = problem.n();
    let s = problem.scores();
    let two_alpha = 2.0 * problem.alpha();
    let csr = problem.similarity();
    let k_max = csr.values().iter().fold(0.0f32, |m, &v| m.max(v)) as f64;
    let mut insiders: Vec<(f64, usize)> = (0..n)
        .filter(|&i| member[i])
        .map(|i| (values[i], i))
        .collect();
    if insiders.is_empty() || insiders.len() == n {
        return Vec::new();
    }
    insiders.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let worst_kept = insiders[0].0;
    let scale = insiders
        .iter()
        .map(|p| p.0.abs())
        .fold(
            s.iter().fold(0.0f64, |m, &v| m.max(v.abs() as f64)),
            f64::max,
        )
        .max(f64::MIN_POSITIVE);
    let min_gain = MIN_RELATIVE_GAIN * scale;
    // Only outsiders that could beat the worst insider even with the largest K_ij bonus matter.
    let mut outsiders: Vec<(f64, usize)> = (0..n)
        .filter(|&j| !member[j])
        .map(|j| (values[j], j))
        .filter(|&(g, _)| g - worst_kept + two_alpha * k_max > min_gain)
        .collect();
    outsiders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut blocked = vec![false; n];
    let mut swaps: Vec<(usize, usize)> = Vec::new();
    let mut q = 0usize;
    for &(g, j) in &outsiders {
        if blocked[j] {
            continue;
        }
        while q < insiders.len() && blocked[insiders[q].1] {
            q += 1;
        }
        if q >= insiders.len() {
            break;
        }
        let (l_worst, worst) = insiders[q];
        if g - l_worst + two_alpha * k_max <= min_gain {
            // Outsiders come in falling g: none after this one can improve either.
            break;
        }
        let mut best = (g - l_worst + two_alpha * csr.get(worst, j) as f64, worst);
        let (cols, vals) = csr.row(j);
        for (&i, &kij) in cols.iter().zip(vals) {
            let i = i as usize;
            if member[i] && !blocked[i] {
                let change = g - values[i] + two_alpha * kij as f64;
                if change > best.0 || (change == best.0 && i < best.1) {
                    best = (change, i);
                }
            }
        }
        let (change, i) = best;
        if change <= min_gain || exact_change(problem, member, i, j) <= min_gain {
            continue;
        }
        swaps.push((i, j));
        for v in [i, j] {
            blocked[v] = true;
            for &u in csr.row(v).0 {
                blocked[u as usize] = true;
            }
        }
    }
    swaps
}

/// Improves the sorted set `selected` in place by up to `rounds` rounds of exact swaps; returns
/// the number of swaps applied.
pub fn swap_refinement(
    problem: &Problem,
    selected: &mut Vec<usize>,
    rounds: usize,
    progress: &dyn Progress,
) -> usize {
    let n = problem.n();
    let s = problem.scores();
    let two_alpha = 2.0 * problem.alpha();
    let mut member = vec![false; n];
    for &i in selected.iter() {
        member[i] = true;
    }
    let mut applied = 0;
    progress.start(Stage::Refine, rounds as u64);
    for _ in 0..rounds {
        if selected.len() == n || selected.is_empty() {
            break;
        }
        let y = set_products(problem, &member);
        let values: Vec<f64> = (0..n).map(|i| s[i] as f64 - two_alpha * y[i]).collect();
        let swaps = plan_swaps(problem, &member, &values);
        progress.advance(1);
        if swaps.is_empty() {
            break;
        }
        applied += apply_swaps(&mut member, selected, &swaps);
    }
    progress.finish(Stage::Refine);
    applied
}

/// Applies `swaps` (`i` out, `j` in) to `member` and rewrites `selected` sorted; returns how many.
pub fn apply_swaps(
    member: &mut [bool],
    selected: &mut Vec<usize>,
    swaps: &[(usize, usize)],
) -> usize {
    for &(i, j) in swaps {
        member[i] = false;
        member[j] = true;
    }
    selected.clear();
    selected.extend((0..member.len()).filter(|&i| member[i]));
    swaps.len()
}

/// The change of `f(S)` when `i ∈ S` is swapped for `j ∉ S`: `g_j − l_i + 2α K_ij`, in `f64`.
pub fn swap_change(problem: &Problem, member: &[bool], i: usize, j: usize) -> f64 {
    exact_change(problem, member, i, j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::objective;
    use crate::progress::Silent;
    use crate::testing::random_instance;
    use approx::assert_relative_eq;
    use rand::{seq::SliceRandom, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn swap_change_formula_is_exact() {
        let (s, k) = random_instance(30, 3, 11);
        let p = Problem::new(&s, &k, 10, 0.7).unwrap();
        let mut member = vec![false; 30];
        for i in 0..10 {
            member[i * 3] = true;
        }
        let set: Vec<usize> = (0..30).filter(|&i| member[i]).collect();
        let before = objective(&p, &set).unwrap();
        for &i in &set {
            for j in (0..30).filter(|&j| !member[j]) {
                let mut after_set: Vec<usize> = set.iter().copied().filter(|&v| v != i).collect();
                after_set.push(j);
                let after = objective(&p, &after_set).unwrap();
                assert_relative_eq!(
                    after - before,
                    swap_change(&p, &member, i, j),
                    epsilon = 1e-9
                );
            }
        }
    }

    #[test]
    fn never_lowers_f_and_keeps_k() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for trial in 0..40 {
            let n = 50 + trial * 7;
            let (s, k) = random_instance(n, 4, trial as u64);
            let budget = 1 + trial % (n / 2);
            let alpha = [0.01, 0.2, 1.0, 4.0][trial % 4];
            let p = Problem::new(&s, &k, budget, alpha).unwrap();
            let mut all: Vec<usize> = (0..n).collect();
            all.shuffle(&mut rng);
            let mut set: Vec<usize> = all[..budget].to_vec();
            set.sort_unstable();
            let before = objective(&p, &set).unwrap();
            let swaps = swap_refinement(&p, &mut set, 5, &Silent);
            let after = objective(&p, &set).unwrap();
            assert!(
                after >= before - 1e-9 * before.abs().max(1.0),
                "{before} → {after}"
            );
            assert_eq!(set.len(), budget);
            assert!(set.windows(2).all(|w| w[0] < w[1]));
            if swaps > 0 {
                assert!(after > before);
            }
        }
    }
}
