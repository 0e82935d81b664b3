//! Seeded test instances shared by this crate's unit and integration tests (`testing` feature).

use crate::backend::conformance::random_graph;
use crate::csr::CsrSimilarity;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Scores uniform in [0, 1) and a symmetric random graph with about `2·degree` entries per row.
pub fn random_instance(n: usize, degree: usize, seed: u64) -> (Vec<f32>, CsrSimilarity) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scores: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    (scores, random_graph(n, degree, seed ^ 0x9e37_79b9))
}
