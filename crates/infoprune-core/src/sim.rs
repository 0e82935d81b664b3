//! SIM: separability, integrity and uncertainty from one or more models (SPEC §3).
//!
//! For each of `M ≥ 1` models, with features `F_m` (`n × d_m`) and class probabilities `P_m`
//! (`n × C`, the same `C` for every model):
//!
//! - **Separability** `sep_m(i) = d_N(i) / (d_P(i) + ε)`, `ε = 1e-8`. Features are L2-normalised, class
//!   centroids are the means of the normalised features of each class, `d_P` is the cosine distance
//!   `1 − cos` to the sample's own class centroid and `d_N` the smallest cosine distance to any other
//!   class's centroid. At least two distinct labels must be present.
//! - **Integrity** `int_m(i) = ‖F_m(i)‖₂`, the raw feature norm.
//! - **Uncertainty** `cert(i) = 1 − JSD(P_1(i), …, P_M(i)) / ln M`, with the generalised Jensen–Shannon
//!   divergence with equal weights `JSD = H(mean_m P_m) − mean_m H(P_m)` (natural log), clamped to
//!   `[0, 1]`; `cert = 1` when `M = 1`.
//! - **SIM (ours)**: `SIM = minmax(mean_m sep_m) · minmax(mean_m int_m) · cert` (default,
//!   [`SimCombine::Product`]), or a weighted sum of the same three terms ([`SimCombine::WeightedSum`]).
//!   High SIM = easy, clean, agreed on.
//!
//! Choices where the SPEC is silent **(ours)**: a zero feature row stays zero after normalisation and
//! has cosine similarity 0 (distance 1) to every centroid, as does any sample to a zero centroid;
//! probability rows are renormalised to sum 1 (a row summing to zero is an error); min-max scaling of a
//! constant vector gives all ones (as in [`crate::importance::min_max`]); labels may be any integers
//! (classes are the distinct values).

use crate::error::{CoreError, Result};
use crate::importance::min_max;
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The `ε` in `sep = d_N / (d_P + ε)`.
pub const SEPARABILITY_EPSILON: f64 = 1e-8;

/// One model's outputs on the dataset.
#[derive(Debug, Clone, Copy)]
pub struct SimModel<'a> {
    /// Features, `n × d` (any `d ≥ 1`, may differ between models).
    pub features: ArrayView2<'a, f32>,
    /// Class probabilities, `n × C`: finite, non-negative, rows renormalised to sum 1.
    pub probabilities: ArrayView2<'a, f32>,
}

/// How the three terms are combined into SIM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimCombine {
    /// `ŝep · înt · cert` (default).
    Product,
    /// `w_sep·ŝep + w_int·înt + w_cert·cert`.
    WeightedSum {
        /// Weight of the normalised separability.
        separability: f64,
        /// Weight of the normalised integrity.
        integrity: f64,
        /// Weight of the certainty.
        certainty: f64,
    },
}

/// Options for [`sim_scores`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// How the terms are combined (default [`SimCombine::Product`]).
    pub combine: SimCombine,
    /// `ε` in the separability ratio (default [`SEPARABILITY_EPSILON`]).
    pub epsilon: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            combine: SimCombine::Product,
            epsilon: SEPARABILITY_EPSILON,
        }
    }
}

/// Every term of SIM, per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTerms {
    /// `mean_m sep_m`, raw.
    pub separability: Vec<f32>,
    /// `mean_m int_m`, raw.
    pub integrity: Vec<f32>,
    /// `cert ∈ [0, 1]`.
    pub certainty: Vec<f32>,
    /// Min-max normalised separability `ŝep`.
    pub separability_normalized: Vec<f32>,
    /// Min-max normalised integrity `înt`.
    pub integrity_normalized: Vec<f32>,
    /// The combined score (high = easy).
    pub sim: Vec<f32>,
}

fn check_matrix(what: &'static str, model: usize, m: &ArrayView2<f32>) -> Result<()> {
    let cols = m.ncols().max(1);
    if let Some((flat, &v)) = m.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(CoreError::InvalidParameter {
            name: what,
            value: format!(
                "{v} at model {model}, row {}, column {}",
                flat / cols,
                flat % cols
            ),
            reason: "values must be finite",
        });
    }
    Ok(())
}

fn check_labels(labels: &[i64], n: usize) -> Result<()> {
    if labels.len() != n {
        return Err(CoreError::ShapeMismatch {
            what: "labels vs. samples".into(),
            expected: n,
            found: labels.len(),
        });
    }
    Ok(())
}

/// Separability of one model's features (see the module docs). Needs at least two distinct labels.
pub fn separability(features: ArrayView2<f32>, labels: &[i64], epsilon: f64) -> Result<Vec<f32>> {
    let n = features.nrows();
    if n == 0 {
        return Err(CoreError::Empty { what: "features" });
    }
    check_labels(labels, n)?;
    check_matrix("features", 0, &features)?;
    let classes: Vec<i64> = {
        let mut c = labels.to_vec();
        c.sort_unstable();
        c.dedup();
        c
    };
    if classes.len() < 2 {
        return Err(CoreError::InvalidParameter {
            name: "labels",
            value: format!("{} distinct class(es)", classes.len()),
            reason: "separability needs at least 2 classes present",
        });
    }
    let class_of: BTreeMap<i64, usize> = classes.iter().enumerate().map(|(k, &c)| (c, k)).collect();
    let d = features.ncols();
    let normalized: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let row: Vec<f64> = features.row(i).iter().map(|&v| v as f64).collect();
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.iter().map(|v| v / norm).collect()
            } else {
                row
            }
        })
        .collect();
    let mut centroids = vec![vec![0.0f64; d]; classes.len()];
    let mut counts = vec![0usize; classes.len()];
    for (i, x) in normalized.iter().enumerate() {
        let k = class_of[&labels[i]];
        counts[k] += 1;
        for (c, v) in centroids[k].iter_mut().zip(x) {
            *c += v;
        }
    }
    // Unit-length centroid directions (a zero centroid stays zero: cosine 0).
    for (c, &count) in centroids.iter_mut().zip(&counts) {
        debug_assert!(count > 0);
        let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        c.iter_mut().for_each(|v| *v *= scale);
    }
    Ok((0..n)
        .into_par_iter()
        .map(|i| {
            let own = class_of[&labels[i]];
            let dist = |k: usize| {
                1.0 - normalized[i]
                    .iter()
                    .zip(&centroids[k])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
            };
            let d_p = dist(own);
            let d_n = (0..classes.len())
                .filter(|&k| k != own)
                .map(dist)
                .fold(f64::INFINITY, f64::min);
            (d_n / (d_p + epsilon)) as f32
        })
        .collect())
}

/// Integrity `‖F(i)‖₂` of one model's features.
pub fn integrity(features: ArrayView2<f32>) -> Result<Vec<f32>> {
    check_matrix("features", 0, &features)?;
    Ok(features
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt() as f32)
        .collect())
}

/// Shannon entropy (natural log) of a distribution; `0 ln 0 = 0`.
fn entropy(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.ln())
        .sum::<f64>()
}

/// Generalised Jensen–Shannon divergence with equal weights, `H(mean P) − mean H(P_m)` (natural log),
/// of distributions of the same length that each sum to 1. Lies in `[0, ln M]` up to rounding.
pub fn generalized_jsd(distributions: &[Vec<f64>]) -> f64 {
    let m = distributions.len();
    if m == 0 {
        return 0.0;
    }
    let c = distributions[0].len();
    let mean: Vec<f64> = (0..c)
        .map(|j| distributions.iter().map(|p| p[j]).sum::<f64>() / m as f64)
        .collect();
    entropy(&mean) - distributions.iter().map(|p| entropy(p)).sum::<f64>() / m as f64
}

/// Certainty `1 − JSD(P_1(i), …, P_M(i)) / ln M`, clamped to `[0, 1]` (all ones when `M = 1`).
/// Every matrix must be `n × C` with the same `n` and `C`; rows must be finite and non-negative and
/// are renormalised to sum 1 (a zero row is an error).
pub fn certainty(probabilities: &[ArrayView2<f32>]) -> Result<Vec<f32>> {
    let m = probabilities.len();
    if m == 0 {
        return Err(CoreError::Empty { what: "models" });
    }
    let (n, c) = probabilities[0].dim();
    for (k, p) in probabilities.iter().enumerate() {
        if p.nrows() != n {
            return Err(CoreError::ShapeMismatch {
                what: format!("probability rows of model {k} vs. model 0"),
                expected: n,
                found: p.nrows(),
            });
        }
        if p.ncols() != c {
            return Err(CoreError::ShapeMismatch {
                what: format!("probability columns (classes) of model {k} vs. model 0"),
                expected: c,
                found: p.ncols(),
            });
        }
        check_matrix("probabilities", k, p)?;
        if let Some((flat, &v)) = p.iter().enumerate().find(|(_, &v)| v < 0.0) {
            return Err(CoreError::InvalidParameter {
                name: "probabilities",
                value: format!(
                    "{v} at model {k}, row {}, column {}",
                    flat / c.max(1),
                    flat % c.max(1)
                ),
                reason: "probabilities must be non-negative",
            });
        }
        if let Some(i) = (0..n).find(|&i| p.row(i).iter().all(|&v| v == 0.0)) {
            return Err(CoreError::InvalidParameter {
                name: "probabilities",
                value: format!("model {k}, row {i}"),
                reason: "a probability row sums to zero and cannot be renormalised",
            });
        }
    }
    if m == 1 {
        return Ok(vec![1.0; n]);
    }
    let log_m = (m as f64).ln();
    Ok((0..n)
        .into_par_iter()
        .map(|i| {
            let dists: Vec<Vec<f64>> = probabilities
                .iter()
                .map(|p| {
                    let row: Vec<f64> = p.row(i).iter().map(|&v| v as f64).collect();
                    let s: f64 = row.iter().sum();
                    row.into_iter().map(|v| v / s).collect()
                })
                .collect();
            (1.0 - generalized_jsd(&dists) / log_m).clamp(0.0, 1.0) as f32
        })
        .collect())
}

/// All SIM terms for `M ≥ 1` models (see the module docs).
pub fn sim_scores(models: &[SimModel], labels: &[i64], config: &SimConfig) -> Result<SimTerms> {
    if models.is_empty() {
        return Err(CoreError::Empty { what: "models" });
    }
    if !(config.epsilon.is_finite() && config.epsilon >= 0.0) {
        return Err(CoreError::InvalidParameter {
            name: "epsilon",
            value: config.epsilon.to_string(),
            reason: "must be finite and non-negative",
        });
    }
    if let SimCombine::WeightedSum {
        separability,
        integrity,
        certainty,
    } = config.combine
    {
        if ![separability, integrity, certainty]
            .iter()
            .all(|w| w.is_finite())
        {
            return Err(CoreError::InvalidParameter {
                name: "sim-weights",
                value: format!("({separability}, {integrity}, {certainty})"),
                reason: "weights must be finite",
            });
        }
    }
    let n = labels.len();
    if n == 0 {
        return Err(CoreError::Empty { what: "labels" });
    }
    for (k, model) in models.iter().enumerate() {
        for (what, rows) in [
            ("feature rows", model.features.nrows()),
            ("probability rows", model.probabilities.nrows()),
        ] {
            if rows != n {
                return Err(CoreError::ShapeMismatch {
                    what: format!("{what} of model {k} vs. labels"),
                    expected: n,
                    found: rows,
                });
            }
        }
        check_matrix("features", k, &model.features)?;
    }
    let mut sep = vec![0.0f64; n];
    let mut int = vec![0.0f64; n];
    for model in models {
        let s = separability(model.features, labels, config.epsilon)?;
        let f = integrity(model.features)?;
        for i in 0..n {
            sep[i] += s[i] as f64;
            int[i] += f[i] as f64;
        }
    }
    let m = models.len() as f64;
    let separability: Vec<f32> = sep.iter().map(|v| (v / m) as f32).collect();
    let integrity: Vec<f32> = int.iter().map(|v| (v / m) as f32).collect();
    let probabilities: Vec<ArrayView2<f32>> = models.iter().map(|m| m.probabilities).collect();
    let certainty = certainty(&probabilities)?;
    let separability_normalized = min_max(&separability);
    let integrity_normalized = min_max(&integrity);
    let sim = (0..n)
        .map(|i| {
            let (s, f, c) = (
                separability_normalized[i] as f64,
                integrity_normalized[i] as f64,
                certainty[i] as f64,
            );
            (match config.combine {
                SimCombine::Product => s * f * c,
                SimCombine::WeightedSum {
                    separability,
                    integrity,
                    certainty,
                } => separability * s + integrity * f + certainty * c,
            }) as f32
        })
        .collect();
    Ok(SimTerms {
        separability,
        integrity,
        certainty,
        separability_normalized,
        integrity_normalized,
        sim,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn jsd_zero_for_identical_and_log_m_for_disjoint() {
        let p = vec![0.2, 0.5, 0.3];
        assert!(generalized_jsd(&[p.clone(), p.clone(), p.clone()]).abs() < 1e-12);
        for m in 2..=5usize {
            let onehots: Vec<Vec<f64>> = (0..m)
                .map(|k| (0..m).map(|j| if j == k { 1.0 } else { 0.0 }).collect())
                .collect();
            assert!((generalized_jsd(&onehots) - (m as f64).ln()).abs() < 1e-12);
        }
        // Through `certainty`: identical -> 1, disjoint one-hots -> 0.
        let same = Array2::from_shape_vec((2, 3), vec![0.2f32, 0.5, 0.3, 1.0, 0.0, 0.0]).unwrap();
        let c = certainty(&[same.view(), same.view()]).unwrap();
        assert!(c.iter().all(|&v| (v - 1.0).abs() < 1e-6), "{c:?}");
        let a = Array2::from_shape_vec((1, 3), vec![1.0f32, 0.0, 0.0]).unwrap();
        let b = Array2::from_shape_vec((1, 3), vec![0.0f32, 1.0, 0.0]).unwrap();
        let d = Array2::from_shape_vec((1, 3), vec![0.0f32, 0.0, 5.0]).unwrap(); // renormalised
        let c = certainty(&[a.view(), b.view(), d.view()]).unwrap();
        assert!(c[0].abs() < 1e-6, "{c:?}");
        assert_eq!(certainty(&[a.view()]).unwrap(), vec![1.0]);
    }

    #[test]
    fn certainty_in_unit_interval_on_random_inputs() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for m in 1..=4 {
            let mats: Vec<Array2<f32>> = (0..m)
                .map(|_| Array2::from_shape_fn((50, 4), |_| rng.random_range(0.0f32..1.0) + 1e-3))
                .collect();
            let views: Vec<ArrayView2<f32>> = mats.iter().map(|a| a.view()).collect();
            let c = certainty(&views).unwrap();
            assert!(c.iter().all(|v| (0.0..=1.0).contains(v)));
            if m > 1 {
                assert!(c.iter().any(|&v| v < 1.0));
            }
        }
    }

    #[test]
    fn separability_and_integrity_by_hand() {
        // Two classes on the axes; sample 2 sits between them, closer to class 0.
        let f = Array2::from_shape_vec((4, 2), vec![2.0f32, 0.0, 1.0, 0.0, 3.0, 1.0, 0.0, 4.0])
            .unwrap();
        let y = [0i64, 0, 0, 1];
        let sep = separability(f.view(), &y, 0.0).unwrap();
        // Naive: normalise, centroids, cosine distances.
        let rows: Vec<[f64; 2]> = (0..4)
            .map(|i| {
                let (a, b) = (f[[i, 0]] as f64, f[[i, 1]] as f64);
                let n = (a * a + b * b).sqrt();
                [a / n, b / n]
            })
            .collect();
        let c0 = [
            (rows[0][0] + rows[1][0] + rows[2][0]) / 3.0,
            (rows[0][1] + rows[1][1] + rows[2][1]) / 3.0,
        ];
        let c1 = rows[3];
        let cosd =
            |x: [f64; 2], c: [f64; 2]| 1.0 - (x[0] * c[0] + x[1] * c[1]) / (c[0].hypot(c[1]));
        for i in 0..3 {
            let want = cosd(rows[i], c1) / cosd(rows[i], c0);
            assert!((sep[i] as f64 - want).abs() < 1e-4 * want.abs(), "{i}");
        }
        // Sample 3 is exactly its own centroid: d_P = 0 -> huge with ε = 0 (inf), finite with ε.
        assert!(separability(f.view(), &y, 1e-8).unwrap()[3] > 1e7);
        assert_eq!(
            integrity(f.view()).unwrap(),
            vec![2.0, 1.0, 10f32.sqrt(), 4.0]
        );
        assert!(separability(f.view(), &[1, 1, 1, 1], 1e-8).is_err());
    }

    #[test]
    fn sim_combines_terms() {
        let f = Array2::from_shape_vec((4, 2), vec![2.0f32, 0.0, 1.0, 0.1, 3.0, 1.0, 0.1, 4.0])
            .unwrap();
        let p = Array2::from_shape_vec((4, 2), vec![0.9f32, 0.1, 0.5, 0.5, 0.2, 0.8, 0.1, 0.9])
            .unwrap();
        let q = Array2::from_shape_vec((4, 2), vec![0.9f32, 0.1, 0.1, 0.9, 0.2, 0.8, 0.7, 0.3])
            .unwrap();
        let y = [0i64, 0, 1, 1];
        let models = [
            SimModel {
                features: f.view(),
                probabilities: p.view(),
            },
            SimModel {
                features: f.view(),
                probabilities: q.view(),
            },
        ];
        let t = sim_scores(&models, &y, &SimConfig::default()).unwrap();
        for i in 0..4 {
            let want = t.separability_normalized[i] * t.integrity_normalized[i] * t.certainty[i];
            assert!((t.sim[i] - want).abs() < 1e-6);
        }
        // Samples 0 and 2 agree exactly across models.
        assert!((t.certainty[0] - 1.0).abs() < 1e-6 && (t.certainty[2] - 1.0).abs() < 1e-6);
        assert!(t.certainty[1] < 1.0 && t.certainty[3] < 1.0);
        // Same features twice: the mean equals the single-model term.
        assert_eq!(t.separability, separability(f.view(), &y, 1e-8).unwrap());
        let ws = SimConfig {
            combine: SimCombine::WeightedSum {
                separability: 1.0,
                integrity: 2.0,
                certainty: 0.5,
            },
            ..Default::default()
        };
        let w = sim_scores(&models, &y, &ws).unwrap();
        for i in 0..4 {
            let want = t.separability_normalized[i]
                + 2.0 * t.integrity_normalized[i]
                + 0.5 * t.certainty[i];
            assert!((w.sim[i] - want).abs() < 1e-5);
        }
    }

    #[test]
    fn bad_inputs() {
        let f = Array2::<f32>::ones((3, 2));
        let p = Array2::<f32>::from_elem((3, 2), 0.5);
        let y = [0i64, 1, 0];
        let cfg = SimConfig::default();
        assert!(matches!(
            sim_scores(&[], &y, &cfg),
            Err(CoreError::Empty { what: "models" })
        ));
        let model = SimModel {
            features: f.view(),
            probabilities: p.view(),
        };
        assert!(matches!(
            sim_scores(&[model], &[0, 1], &cfg),
            Err(CoreError::ShapeMismatch { .. })
        ));
        let p4 = Array2::<f32>::from_elem((4, 2), 0.5);
        let other = SimModel {
            features: f.view(),
            probabilities: p4.view(),
        };
        assert!(matches!(
            sim_scores(&[model, other], &y, &cfg),
            Err(CoreError::ShapeMismatch { .. })
        ));
        let mut bad = p.clone();
        bad[[1, 0]] = -0.1;
        assert!(certainty(&[p.view(), bad.view()])
            .unwrap_err()
            .to_string()
            .contains("model 1, row 1"));
        bad[[1, 0]] = f32::NAN;
        assert!(certainty(&[bad.view()]).is_err());
        let mut zero = p.clone();
        zero[[2, 0]] = 0.0;
        zero[[2, 1]] = 0.0;
        assert!(certainty(&[zero.view()])
            .unwrap_err()
            .to_string()
            .contains("row 2"));
        assert!(sim_scores(&[model], &[0, 0, 0], &cfg).is_err());
    }
}
