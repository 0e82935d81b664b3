//! SemDeDup (semantic deduplication, Abbas et al. 2023; the curation step of Meta's SemDeDup and
//! NeMo Curator): within each k-means cluster, of every pair of samples whose cosine similarity
//! exceeds `1 − ε`, drop the one the keep policy likes less. `ε` is chosen so that exactly `k`
//! samples remain.
//!
//! Within a cluster the members are ordered by preference (most wanted first); sample `i`'s
//! *duplicate similarity* `m_i` is its largest cosine to a more-preferred member of its cluster
//! (`−∞` for the most preferred). As in the authors' code, `i` is dropped at `ε` exactly when
//! `m_i > 1 − ε`, whether or not its partner is itself dropped. The clusters are the caller's
//! (the pipeline uses its spherical k-means); this module is the exact part.

use crate::error::{check_finite, CoreError, Result};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Which sample of a near-duplicate pair SemDeDup keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SemDedupKeep {
    /// The one with the larger score (high = hard), ties to the smaller index (default; **ours**,
    /// after the authors, who keep the member least similar to its cluster centroid, i.e. the least
    /// typical one).
    #[default]
    Hard,
    /// The one with the smaller score, ties to the smaller index.
    Easy,
    /// A seeded random one.
    Random,
}

/// What [`semdedup_select`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SemDedup {
    /// The `k` kept samples, ascending.
    pub indices: Vec<usize>,
    /// The `ε` found by bisection: dropping every sample with `m_i > 1 − ε` leaves at least `k`.
    pub epsilon: f64,
    /// Samples that `ε` alone left beyond `k` (ties in `m`), trimmed deterministically: largest
    /// `m` first, then the larger index.
    pub trimmed: usize,
}

/// Bisection steps on `ε ∈ [0, 2]`: 2 / 2^60 is far below any difference of two f64 cosines.
const BISECTION_STEPS: usize = 60;

/// The duplicate similarity `m_i` of every sample (indexed like `embeddings`; `−∞` for the most
/// preferred member of each cluster and for samples in no cluster). Cosines are computed in f64
/// from L2-normalised rows, so the result does not depend on the thread count.
pub fn duplicate_similarity(
    embeddings: ArrayView2<f32>,
    clusters: &[Vec<usize>],
    scores: &[f32],
    keep: SemDedupKeep,
    seed: u64,
) -> Result<Vec<f64>> {
    let (n, d) = embeddings.dim();
    if scores.len() != n {
        return Err(CoreError::ShapeMismatch {
            what: "semdedup scores vs embedding rows".into(),
            expected: n,
            found: scores.len(),
        });
    }
    check_finite("scores", scores)?;
    let mut seen = vec![false; n];
    for &i in clusters.iter().flatten() {
        if i >= n || std::mem::replace(&mut seen[i], true) {
            return Err(CoreError::InvalidParameter {
                name: "clusters",
                value: i.to_string(),
                reason: "a row out of range or in two clusters",
            });
        }
    }
    let unit = |i: usize| -> Vec<f64> {
        let row: Vec<f64> = embeddings.row(i).iter().map(|&v| v as f64).collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter().map(|v| v / norm).collect()
        } else {
            row
        }
    };
    let per_cluster: Vec<Vec<(usize, f64)>> = clusters
        .par_iter()
        .enumerate()
        .map(|(c, members)| {
            let mut order = members.clone();
            match keep {
                SemDedupKeep::Hard => {
                    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)))
                }
                SemDedupKeep::Easy => {
                    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)))
                }
                SemDedupKeep::Random => {
                    order.sort_unstable();
                    let mut rng = ChaCha8Rng::seed_from_u64(
                        seed ^ (c as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    );
                    order.shuffle(&mut rng);
                }
            }
            let rows: Vec<Vec<f64>> = order.iter().map(|&i| unit(i)).collect();
            (0..order.len())
                .map(|p| {
                    let m = (0..p)
                        .map(|q| (0..d).map(|t| rows[p][t] * rows[q][t]).sum::<f64>())
                        .fold(f64::NEG_INFINITY, f64::max);
                    (order[p], m)
                })
                .collect()
        })
        .collect();
    let mut m = vec![f64::NEG_INFINITY; n];
    for (i, v) in per_cluster.into_iter().flatten() {
        m[i] = v;
    }
    Ok(m)
}

/// Keeps exactly `k` of the samples with duplicate similarities `m` (from
/// [`duplicate_similarity`]): `ε` is bisected on `[0, 2]` to the largest value at which
/// `#{i : m_i ≤ 1 − ε} ≥ k`; if ties leave more than `k`, those with the largest `m` (then the
/// larger index) are trimmed.
pub fn keep_exactly(m: &[f64], k: usize) -> Result<SemDedup> {
    let n = m.len();
    if k == 0 || k > n {
        return Err(CoreError::InvalidBudget { k, n });
    }
    let kept = |eps: f64| m.iter().filter(|&&v| v <= 1.0 - eps).count();
    // kept(0) counts every m ≤ 1, which cosines of unit rows always are (up to rounding, which
    // the bisection's lower end covers by never going below 0).
    let (mut lo, mut hi) = (0.0f64, 2.0f64);
    if kept(hi) >= k {
        lo = hi;
    } else {
        for _ in 0..BISECTION_STEPS {
            let mid = 0.5 * (lo + hi);
            if kept(mid) >= k {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    let threshold = 1.0 - lo;
    let mut candidates: Vec<usize> = (0..n).filter(|&i| m[i] <= threshold).collect();
    // Rounding above 1 (cosines of unit rows slightly over 1) can leave fewer than k at ε = 0:
    // then the smallest m are taken regardless.
    if candidates.len() < k {
        candidates = (0..n).collect();
    }
    let trimmed = candidates.len() - k;
    candidates.sort_by(|&a, &b| m[a].total_cmp(&m[b]).then(a.cmp(&b)));
    candidates.truncate(k);
    candidates.sort_unstable();
    Ok(SemDedup {
        indices: candidates,
        epsilon: lo,
        trimmed,
    })
}

/// SemDeDup: [`duplicate_similarity`] within `clusters`, then [`keep_exactly`] `k`.
pub fn semdedup_select(
    embeddings: ArrayView2<f32>,
    clusters: &[Vec<usize>],
    scores: &[f32],
    k: usize,
    keep: SemDedupKeep,
    seed: u64,
) -> Result<SemDedup> {
    let m = duplicate_similarity(embeddings, clusters, scores, keep, seed)?;
    keep_exactly(&m, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::Rng;

    /// Cosine of two rows: both L2-normalised in f64, then the dot product in column order (the
    /// arithmetic the module uses, so a pair exactly at the threshold is judged the same way).
    fn cos(e: &Array2<f32>, a: usize, b: usize) -> f64 {
        let unit = |i: usize| -> Vec<f64> {
            let row: Vec<f64> = e.row(i).iter().map(|&v| v as f64).collect();
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            row.iter().map(|v| v / norm).collect()
        };
        let (x, y) = (unit(a), unit(b));
        (0..x.len()).map(|t| x[t] * y[t]).sum()
    }

    /// The definition, pair by pair: drop `j` when some `i` of its cluster that the policy prefers
    /// has cosine above `1 − ε`.
    fn brute_force_kept(
        e: &Array2<f32>,
        clusters: &[Vec<usize>],
        scores: &[f32],
        eps: f64,
    ) -> Vec<usize> {
        let prefers =
            |i: usize, j: usize| scores[i] > scores[j] || (scores[i] == scores[j] && i < j);
        let mut kept = Vec::new();
        for c in clusters {
            for &j in c {
                if !c
                    .iter()
                    .any(|&i| i != j && prefers(i, j) && cos(e, i, j) > 1.0 - eps)
                {
                    kept.push(j);
                }
            }
        }
        kept.sort_unstable();
        kept
    }

    fn data(n: usize, seed: u64) -> (Array2<f32>, Vec<f32>, Vec<Vec<usize>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let e = Array2::from_shape_fn((n, 4), |_| rng.random_range(-1.0f32..1.0));
        let s: Vec<f32> = (0..n).map(|_| rng.random_range(0..5) as f32).collect();
        let clusters = vec![
            (0..n).filter(|i| i % 3 == 0).collect(),
            (0..n).filter(|i| i % 3 != 0).collect(),
        ];
        (e, s, clusters)
    }

    #[test]
    fn matches_the_pairwise_definition_at_the_chosen_epsilon() {
        for seed in 0..8u64 {
            let n = 60 + seed as usize * 10;
            let (e, s, clusters) = data(n, seed);
            for k in [1, n / 5, n / 2, n - 1, n] {
                let out =
                    semdedup_select(e.view(), &clusters, &s, k, SemDedupKeep::Hard, 0).unwrap();
                assert_eq!(out.indices.len(), k);
                let want = brute_force_kept(&e, &clusters, &s, out.epsilon);
                // ε leaves at least k, and the kept set is inside it (trimmed only on ties).
                assert!(want.len() >= k, "seed {seed} k {k}");
                assert!(out.indices.iter().all(|i| want.binary_search(i).is_ok()));
                assert_eq!(want.len() - k, out.trimmed);
                // A slightly larger ε would leave fewer than k (ε is the largest that works).
                if out.epsilon < 2.0 {
                    let fewer = brute_force_kept(&e, &clusters, &s, out.epsilon + 1e-9);
                    assert!(fewer.len() < k, "seed {seed} k {k}: ε not maximal");
                }
            }
        }
    }

    #[test]
    fn planted_duplicates_are_removed_and_the_preferred_copy_stays() {
        let n = 200;
        let (mut e, mut s, _) = data(n, 42);
        // Rows 150.. copy rows 0..50 exactly (scaled: cosine 1), with lower or higher scores.
        for i in 0..50 {
            let row = e.row(i).to_owned() * 2.0;
            e.row_mut(150 + i).assign(&row);
            s[150 + i] = if i % 2 == 0 { -1.0 } else { 10.0 };
        }
        let clusters = vec![(0..n).collect::<Vec<_>>()];
        for keep in [SemDedupKeep::Hard, SemDedupKeep::Easy, SemDedupKeep::Random] {
            let out = semdedup_select(e.view(), &clusters, &s, 150, keep, 3).unwrap();
            for i in 0..50 {
                let (a, b) = (i, 150 + i);
                let has = |x: usize| out.indices.binary_search(&x).is_ok();
                assert!(
                    has(a) != has(b),
                    "{keep:?}: pair {a}/{b} kept {}/{}",
                    has(a),
                    has(b)
                );
                if keep != SemDedupKeep::Random {
                    let hard = if s[a] > s[b] { a } else { b };
                    assert_eq!(has(hard), keep == SemDedupKeep::Hard, "{keep:?} pair {i}");
                }
            }
        }
    }

    #[test]
    fn same_answer_on_any_number_of_threads_and_bad_input_is_an_error() {
        let (e, s, clusters) = data(300, 5);
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| semdedup_select(e.view(), &clusters, &s, 100, SemDedupKeep::Random, 9))
                .unwrap()
        };
        assert_eq!(run(1), run(3));
        assert!(semdedup_select(e.view(), &clusters, &s[..10], 5, SemDedupKeep::Hard, 0).is_err());
        assert!(semdedup_select(e.view(), &clusters, &s, 0, SemDedupKeep::Hard, 0).is_err());
        let twice = vec![vec![0, 1], vec![1, 2]];
        assert!(semdedup_select(e.view(), &twice, &s, 1, SemDedupKeep::Hard, 0).is_err());
    }
}
