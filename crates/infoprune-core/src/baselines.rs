//! Baseline selectors: a seeded uniform random subset and the top-k by score.

use crate::solver::rounding;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `k` distinct indices of `0..n` drawn uniformly with a seeded ChaCha8 generator (stable across
/// platforms and library versions), sorted ascending.
pub fn random_subset(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = sample(&mut rng, n, k.min(n)).into_vec();
    chosen.sort_unstable();
    chosen
}

/// The `k` largest scores (ties: smaller index), sorted ascending.
pub fn top_k_by_score(scores: &[f32], k: usize) -> Vec<usize> {
    rounding::top_k(scores, scores, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_seeded_distinct_and_uniformish() {
        let a = random_subset(1000, 100, 3);
        assert_eq!(a, random_subset(1000, 100, 3));
        assert_ne!(a, random_subset(1000, 100, 4));
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let mut hits = vec![0u32; 10];
        for seed in 0..200 {
            for i in random_subset(100, 10, seed) {
                hits[i / 10] += 1;
            }
        }
        // Each decile expects 200 hits; a biased sampler would miss this band.
        assert!(hits.iter().all(|&h| (140..=260).contains(&h)), "{hits:?}");
    }

    #[test]
    fn top_k_breaks_ties_by_index() {
        assert_eq!(top_k_by_score(&[0.5, 0.9, 0.9, 0.1], 2), vec![1, 2]);
        assert_eq!(top_k_by_score(&[0.5, 0.9, 0.9, 0.9], 2), vec![1, 2]);
    }
}
