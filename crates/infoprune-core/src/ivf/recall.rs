//! Recall@m of IVF neighbour lists against the exact search on a seeded sample of rows.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::blocks::BLOCK_ROWS;
use super::index::IvfIndex;
use super::search::{search_against, TopM};

/// Recall@m of an IVF search against the exact search on a sample of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// Rows sampled.
    pub sampled: usize,
    /// Exact neighbours of the sampled rows (the denominator).
    pub expected: usize,
    /// Of those, how many the IVF lists hold.
    pub found: usize,
    /// `found / expected` (1 when no sampled row has a neighbour).
    pub recall: f64,
}

/// Recall@m of `lists` against the exact search: for `sample_size` rows drawn with `seed` (all
/// rows when it is `n` or more), the fraction of their exact top-`m` neighbours (same similarity,
/// clipping and tie rules) that `lists` holds.
pub fn recall_at_m(
    index: &IvfIndex,
    lists: &[Vec<(u32, f32)>],
    neighbors: usize,
    sample_size: usize,
    seed: u64,
) -> Recall {
    let n = index.n;
    let m = neighbors.min(n.saturating_sub(1));
    let size = sample_size.min(n);
    // Its own stream, so the recall sample does not depend on the training.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7265_6361_6c6c);
    let mut rows = sample(&mut rng, n, size).into_vec();
    rows.sort_unstable();
    if m == 0 || rows.is_empty() {
        return Recall {
            sampled: rows.len(),
            expected: 0,
            found: 0,
            recall: 1.0,
        };
    }
    let mut position = vec![0u32; n];
    for (p, &i) in index.order.iter().enumerate() {
        position[i as usize] = p as u32;
    }
    let counts: Vec<(usize, usize)> = rows
        .par_chunks(BLOCK_ROWS)
        .map(|chunk| {
            let queries: Vec<(usize, u32)> = chunk
                .iter()
                .map(|&i| (position[i] as usize, i as u32))
                .collect();
            let mut tops: Vec<TopM> = chunk.iter().map(|_| TopM::new(m)).collect();
            search_against(
                index,
                &queries,
                0..n,
                &mut tops,
                &(0..chunk.len()).collect::<Vec<_>>(),
            );
            let (mut expected, mut found) = (0, 0);
            for (&i, top) in chunk.iter().zip(tops) {
                let exact = top.into_sorted();
                expected += exact.len();
                found += exact
                    .iter()
                    .filter(|(j, _)| lists[i].iter().any(|(c, _)| c == j))
                    .count();
            }
            (expected, found)
        })
        .collect();
    let expected: usize = counts.iter().map(|c| c.0).sum();
    let found: usize = counts.iter().map(|c| c.1).sum();
    Recall {
        sampled: rows.len(),
        expected,
        found,
        recall: if expected == 0 {
            1.0
        } else {
            found as f64 / expected as f64
        },
    }
}
