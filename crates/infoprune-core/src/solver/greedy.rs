//! Greedy maximisation of `f(S)` (SPEC §1.1): add the element of largest marginal gain
//! `s_i − 2α Σ_{j∈S} K_ij` until `|S| = k`; ties go to the smaller index.
//!
//! [`lazy_greedy`] keeps stale gains in a max-heap. Gains only fall as `S` grows (`αK ≥ 0`: the
//! objective is submodular), so a popped entry whose stale gain equals its current gain is the true
//! maximum, and the result equals [`naive_greedy`]'s exactly: both compute each gain with the same
//! arithmetic, accumulated in the same (selection) order.

use crate::problem::Problem;
use crate::progress::{Progress, Stage};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    gain: f64,
    index: usize,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Incrementally maintained `c_i = Σ_{j∈S} K_ij`, added to in selection order.
struct Coverage<'p> {
    problem: &'p Problem<'p>,
    covered: Vec<f64>,
    two_alpha: f64,
}

impl<'p> Coverage<'p> {
    fn new(problem: &'p Problem<'p>) -> Self {
        Self {
            problem,
            covered: vec![0.0; problem.n()],
            two_alpha: 2.0 * problem.alpha(),
        }
    }

    fn gain(&self, i: usize) -> f64 {
        self.problem.scores()[i] as f64 - self.two_alpha * self.covered[i]
    }

    fn add(&mut self, v: usize) {
        let (cols, vals) = self.problem.similarity().row(v);
        for (&u, &w) in cols.iter().zip(vals) {
            self.covered[u as usize] += w as f64;
        }
    }
}

/// Lazy greedy; returns the indices in the order they were added.
pub fn lazy_greedy(problem: &Problem, progress: &dyn Progress) -> Vec<usize> {
    let k = problem.k();
    let mut coverage = Coverage::new(problem);
    let mut heap: BinaryHeap<Entry> = (0..problem.n())
        .map(|index| Entry {
            gain: coverage.gain(index),
            index,
        })
        .collect();
    let mut order = Vec::with_capacity(k);
    progress.start(Stage::Solve, k as u64);
    while order.len() < k {
        let top = heap.pop().expect("k ≤ n leaves a candidate");
        let current = coverage.gain(top.index);
        if current == top.gain {
            order.push(top.index);
            coverage.add(top.index);
            progress.advance(1);
        } else {
            heap.push(Entry {
                gain: current,
                index: top.index,
            });
        }
    }
    progress.finish(Stage::Solve);
    order
}

/// Plain greedy with a full scan per step (`O(nk)`): the reference lazy greedy is tested against.
pub fn naive_greedy(problem: &Problem) -> Vec<usize> {
    let mut coverage = Coverage::new(problem);
    let mut chosen = vec![false; problem.n()];
    let mut order = Vec::with_capacity(problem.k());
    while order.len() < problem.k() {
        let best = (0..problem.n())
            .filter(|&i| !chosen[i])
            .map(|index| Entry {
                gain: coverage.gain(index),
                index,
            })
            .max()
            .expect("k ≤ n leaves a candidate");
        chosen[best.index] = true;
        order.push(best.index);
        coverage.add(best.index);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::CsrSimilarity;
    use crate::progress::Silent;
    use crate::testing::random_instance;

    #[test]
    fn lazy_equals_naive_exactly() {
        for seed in 0..30u64 {
            let n = 20 + 13 * seed as usize;
            let (s, k) = random_instance(n, 5, seed);
            for alpha in [0.0, 0.1, 0.6, 3.0] {
                for budget in [1, n / 3, n] {
                    let p = Problem::new(&s, &k, budget.max(1), alpha).unwrap();
                    assert_eq!(
                        lazy_greedy(&p, &Silent),
                        naive_greedy(&p),
                        "seed {seed} α {alpha}"
                    );
                }
            }
        }
    }

    #[test]
    fn ties_go_to_the_smaller_index() {
        let k = CsrSimilarity::empty(5);
        let s = [1.0f32, 2.0, 2.0, 0.5, 2.0];
        let p = Problem::new(&s, &k, 3, 1.0).unwrap();
        assert_eq!(lazy_greedy(&p, &Silent), vec![1, 2, 4]);
    }
}
