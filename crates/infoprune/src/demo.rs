//! Built-in synthetic data for `infoprune demo`: clustered Gaussian embeddings with planted exact
//! duplicates and a few far outliers, and "difficulty" scores like those training dynamics give
//! (hard = far from the cluster centre; outliers hardest of all).

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A synthetic dataset and what was planted in it.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// `n × d` embeddings.
    pub embeddings: Array2<f32>,
    /// Importance scores (high = hard = keep).
    pub scores: Vec<f32>,
    /// `(original, copy)` pairs of exact duplicates.
    pub duplicate_pairs: Vec<(usize, usize)>,
    /// Rows that are far outliers.
    pub outliers: Vec<usize>,
    /// Class label of each row: its cluster (outliers and copies take a cluster's label).
    pub labels: Vec<i64>,
}

/// Standard normal draw (Box–Muller), so the demo needs no distribution crate.
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// `n` samples in `d` dimensions: `clusters` Gaussian clusters of varied spread and size, 5% of rows
/// replaced by exact copies of other rows, 1% by outliers.
pub fn generate(n: usize, d: usize, clusters: usize, seed: u64) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..d).map(|_| normal(&mut rng)).collect())
        .collect();
    let spreads: Vec<f32> = (0..clusters).map(|_| rng.random_range(0.15..0.6)).collect();
    // Zipf-like cluster sizes: real datasets are imbalanced.
    let weights: Vec<f64> = (1..=clusters).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut embeddings = Array2::<f32>::zeros((n, d));
    let mut scores = vec![0.0f32; n];
    let mut labels = vec![0i64; n];
    let n_dups = n / 20;
    let n_outliers = n / 100;
    let n_plain = n - n_dups - n_outliers;
    for i in 0..n_plain {
        let mut pick = rng.random_range(0.0..total);
        let mut c = 0;
        while c + 1 < clusters && pick >= weights[c] {
            pick -= weights[c];
            c += 1;
        }
        let mut dist2 = 0.0f32;
        for j in 0..d {
            let z = normal(&mut rng);
            embeddings[[i, j]] = centers[c][j] + spreads[c] * z;
            dist2 += z * z;
        }
        scores[i] = (dist2 / d as f32).sqrt() + 0.1 * normal(&mut rng);
        labels[i] = c as i64;
    }
    let mut outliers = Vec::with_capacity(n_outliers);
    for i in n_plain..n_plain + n_outliers {
        for j in 0..d {
            embeddings[[i, j]] = 3.0 * normal(&mut rng);
        }
        scores[i] = 3.0 + rng.random_range(0.0..0.5);
        labels[i] = rng.random_range(0..clusters) as i64;
        outliers.push(i);
    }
    let mut duplicate_pairs = Vec::with_capacity(n_dups);
    for i in n_plain + n_outliers..n {
        let src = rng.random_range(0..n_plain);
        let row = embeddings.row(src).to_owned();
        embeddings.row_mut(i).assign(&row);
        scores[i] = scores[src];
        labels[i] = labels[src];
        duplicate_pairs.push((src, i));
    }
    DemoData {
        embeddings,
        scores,
        duplicate_pairs,
        outliers,
        labels,
    }
}

impl DemoData {
    /// Pairs of exact duplicates of which both copies are in `selected` (sorted).
    pub fn duplicates_kept(&self, selected: &[usize]) -> usize {
        let has = |i: &usize| selected.binary_search(i).is_ok();
        self.duplicate_pairs
            .iter()
            .filter(|(a, b)| has(a) && has(b))
            .count()
    }

    /// Outliers in `selected` (sorted).
    pub fn outliers_kept(&self, selected: &[usize]) -> usize {
        self.outliers
            .iter()
            .filter(|i| selected.binary_search(i).is_ok())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_structure_is_real_and_seeded() {
        let data = generate(2000, 8, 10, 1);
        assert_eq!(data.embeddings.dim(), (2000, 8));
        assert_eq!(data.duplicate_pairs.len(), 100);
        assert_eq!(data.outliers.len(), 20);
        for &(a, b) in &data.duplicate_pairs {
            assert_eq!(data.embeddings.row(a), data.embeddings.row(b));
        }
        assert!(data.embeddings.iter().all(|v| v.is_finite()));
        let again = generate(2000, 8, 10, 1);
        assert_eq!(again.embeddings, data.embeddings);
        let all: Vec<usize> = (0..2000).collect();
        assert_eq!(data.duplicates_kept(&all), 100);
        assert_eq!(data.outliers_kept(&all), 20);
    }
}
