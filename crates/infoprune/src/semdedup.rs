//! SemDeDup on embeddings (issue 14, part 3): the clusters come from the pipeline's spherical
//! k-means ([`crate::partition`], `kmeans`), the exact in-cluster deduplication and the choice of
//! `ε` from [`infoprune_core::semdedup`].

use crate::partition::{partition, PartitionConfig, PartitionMethod};
use infoprune_core::semdedup::{duplicate_similarity, keep_exactly, SemDedup, SemDedupKeep};
use infoprune_core::{CoreError, Result};
use ndarray::ArrayView2;

/// Options of [`semdedup`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemDedupConfig {
    /// Budget `k`.
    pub k: usize,
    /// Which sample of a near-duplicate pair stays (default [`SemDedupKeep::Hard`]).
    pub keep: SemDedupKeep,
    /// Largest k-means cluster (default 1,000, **ours**: pairs are compared exactly inside a
    /// cluster, `O(n · size · d)` in all; near duplicates share a cluster at any size).
    pub cluster_size: usize,
    /// Seed of the k-means seeding and of the random keep policy.
    pub seed: u64,
}

impl SemDedupConfig {
    /// The defaults for a budget `k`.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            keep: SemDedupKeep::default(),
            cluster_size: 1000,
            seed: 0,
        }
    }
}

/// SemDeDup: spherical k-means clusters of at most `cluster_size` rows, then within each cluster the
/// less preferred sample of every pair above cosine `1 − ε` is dropped, with `ε` bisected so exactly
/// `k` remain. `scores` (high = hard) rank the samples for the keep policy; without them the
/// authors' criterion is used: hardness = `1 − cos` to the cluster's mean direction (so `Hard`
/// keeps the least typical member of a duplicate group, as the authors do).
///
/// Only `rows` (ascending; e.g. what the noise cutoff left) take part; the returned indices are
/// rows of `embeddings`.
pub fn semdedup(
    embeddings: ArrayView2<f32>,
    rows: &[usize],
    scores: Option<&[f32]>,
    config: &SemDedupConfig,
) -> Result<SemDedup> {
    let n = embeddings.nrows();
    if n == 0 || rows.is_empty() {
        return Err(CoreError::Empty { what: "embeddings" });
    }
    if config.k == 0 || config.k > rows.len() {
        return Err(CoreError::InvalidBudget {
            k: config.k,
            n: rows.len(),
        });
    }
    let clusters = partition(
        rows,
        Some(embeddings),
        None,
        &PartitionConfig {
            method: PartitionMethod::KMeans,
            max_size: config.cluster_size,
            seed: config.seed,
            ..PartitionConfig::default()
        },
    )?;
    let hardness: Vec<f32> = match scores {
        Some(s) => {
            if s.len() != n {
                return Err(CoreError::ShapeMismatch {
                    what: "scores length vs embedding rows".into(),
                    expected: n,
                    found: s.len(),
                });
            }
            s.to_vec()
        }
        None => centroid_distance(embeddings, &clusters),
    };
    let m = duplicate_similarity(embeddings, &clusters, &hardness, config.keep, config.seed)?;
    let of_rows: Vec<f64> = rows.iter().map(|&i| m[i]).collect();
    let mut out = keep_exactly(&of_rows, config.k)?;
    for i in out.indices.iter_mut() {
        *i = rows[*i];
    }
    Ok(out)
}

/// `1 − cos(x_i, c)` with `c` the mean of the unit rows of `i`'s cluster.
fn centroid_distance(embeddings: ArrayView2<f32>, clusters: &[Vec<usize>]) -> Vec<f32> {
    let d = embeddings.ncols();
    let unit = |i: usize| -> Vec<f64> {
        let row: Vec<f64> = embeddings.row(i).iter().map(|&v| v as f64).collect();
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        row.iter()
            .map(|v| if norm > 0.0 { v / norm } else { 0.0 })
            .collect()
    };
    let mut out = vec![0.0f32; embeddings.nrows()];
    for members in clusters {
        let mut c = vec![0.0f64; d];
        for &i in members {
            for (a, b) in c.iter_mut().zip(unit(i)) {
                *a += b;
            }
        }
        let norm = c
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        for &i in members {
            let cos: f64 = unit(i).iter().zip(&c).map(|(a, b)| a * b).sum::<f64>() / norm;
            out[i] = (1.0 - cos) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn planted_demo_duplicates_are_removed_with_the_budget_met() {
        let data = demo::generate(4000, 16, 10, 1);
        let dups = data.duplicate_pairs.len();
        assert!(dups > 0);
        // Drop exactly as many as were planted: every planted copy (or its original) goes.
        let k = 4000 - dups;
        let all: Vec<usize> = (0..4000).collect();
        for (scores, keep) in [
            (Some(&data.scores[..]), SemDedupKeep::Hard),
            (Some(&data.scores[..]), SemDedupKeep::Easy),
            (None, SemDedupKeep::Hard),
            (None, SemDedupKeep::Random),
        ] {
            let config = SemDedupConfig {
                keep,
                ..SemDedupConfig::new(k)
            };
            let out = semdedup(data.embeddings.view(), &all, scores, &config).unwrap();
            assert_eq!(out.indices.len(), k);
            assert_eq!(data.duplicates_kept(&out.indices), 0, "{keep:?}");
            // ε is the largest that keeps k: the gap up to the first near (not exact) duplicate.
            assert!(out.epsilon < 0.01, "{keep:?}: ε = {}", out.epsilon);
            assert_eq!(out.trimmed, 0, "{keep:?}");
        }
        // A tighter budget drops near duplicates too, and still exactly.
        let out = semdedup(
            data.embeddings.view(),
            &all,
            None,
            &SemDedupConfig::new(2500),
        )
        .unwrap();
        assert_eq!(out.indices.len(), 2500);
        assert!(out.epsilon > 0.0);
        assert!(semdedup(data.embeddings.view(), &all, None, &SemDedupConfig::new(0)).is_err());
        // Only the given rows take part.
        let half: Vec<usize> = (0..4000).step_by(2).collect();
        let out = semdedup(
            data.embeddings.view(),
            &half,
            None,
            &SemDedupConfig::new(1500),
        )
        .unwrap();
        assert_eq!(out.indices.len(), 1500);
        assert!(out.indices.iter().all(|i| i % 2 == 0));
    }
}
