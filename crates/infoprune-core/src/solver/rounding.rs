//! Rounding a relaxed solution: the top-k of `x`, ties broken by larger `s`, then smaller index.

use std::cmp::Ordering;

/// The `k` indices with the largest `x` (ties: larger `s`, then smaller index), sorted ascending.
pub fn top_k(x: &[f32], s: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    let better = |&a: &usize, &b: &usize| -> Ordering {
        x[b].total_cmp(&x[a])
            .then_with(|| s[b].total_cmp(&s[a]))
            .then_with(|| a.cmp(&b))
    };
    if k < order.len() {
        order.select_nth_unstable_by(k, better);
        order.truncate(k);
    }
    order.sort_unstable();
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_larger_score_then_smaller_index() {
        let x = [0.5f32, 0.9, 0.5, 0.5, 0.1];
        let s = [1.0f32, 0.0, 2.0, 1.0, 9.0];
        assert_eq!(top_k(&x, &s, 1), vec![1]);
        assert_eq!(top_k(&x, &s, 2), vec![1, 2]);
        assert_eq!(top_k(&x, &s, 3), vec![0, 1, 2]);
        assert_eq!(top_k(&x, &s, 5), vec![0, 1, 2, 3, 4]);
    }
}
