//! Instances shared by the unit tests.

use crate::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Scores uniform in [0, 1) and a symmetric random graph with about `2·degree` entries per row.
pub fn random_instance(n: usize, degree: usize, seed: u64) -> (Vec<f32>, CsrSimilarity) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scores: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    let mut triplets = Vec::new();
    for i in 0..n as u32 {
        for _ in 0..degree {
            let j = rng.random_range(0..n as u32);
            if j != i {
                let v = rng.random_range(0.05f32..1.0);
                triplets.push((i, j, v));
                triplets.push((j, i, v));
            }
        }
    }
    let k =
        CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Max, SymmetryCheck::Require)
            .unwrap();
    (scores, k)
}
