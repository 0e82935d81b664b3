//! One validated InfoMax problem: scores, similarity, budget and pairwise weight.

use crate::csr::CsrSimilarity;
use crate::error::{check_finite, CoreError, Result};

/// A validated instance of SPEC §1: importance `s`, similarity `K`, budget `k` and weight `α`.
/// It borrows its data, so building one is free and many can share a graph.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    scores: &'a [f32],
    similarity: &'a CsrSimilarity,
    k: usize,
    alpha: f64,
}

impl<'a> Problem<'a> {
    /// Checks that `s` is finite and has one entry per row of `K`, that `1 ≤ k ≤ n` and `α ≥ 0`.
    pub fn new(
        scores: &'a [f32],
        similarity: &'a CsrSimilarity,
        k: usize,
        alpha: f64,
    ) -> Result<Self> {
        let n = similarity.n();
        if n == 0 {
            return Err(CoreError::Empty { what: "problem" });
        }
        if scores.len() != n {
            return Err(CoreError::ShapeMismatch {
                what: "scores vs similarity rows".into(),
                expected: n,
                found: scores.len(),
            });
        }
        check_finite("scores", scores)?;
        if k == 0 || k > n {
            return Err(CoreError::InvalidBudget { k, n });
        }
        if !alpha.is_finite() || alpha < 0.0 {
            return Err(CoreError::InvalidParameter {
                name: "alpha",
                value: alpha.to_string(),
                reason: "must be finite and ≥ 0",
            });
        }
        Ok(Self {
            scores,
            similarity,
            k,
            alpha,
        })
    }

    /// Number of samples.
    pub fn n(&self) -> usize {
        self.scores.len()
    }
    /// Budget.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Pairwise weight `α`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Importance `s`.
    pub fn scores(&self) -> &'a [f32] {
        self.scores
    }
    /// Similarity `K`.
    pub fn similarity(&self) -> &'a CsrSimilarity {
        self.similarity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_instances() {
        let k = CsrSimilarity::empty(3);
        let s = [1.0f32, 2.0, 3.0];
        assert!(Problem::new(&s, &k, 1, 0.5).is_ok());
        let e = |r: Result<Problem>| r.unwrap_err().to_string();
        assert!(e(Problem::new(&s, &k, 0, 0.5)).contains("k = 0"));
        assert!(e(Problem::new(&s, &k, 4, 0.5)).contains("k = 4"));
        assert!(e(Problem::new(&s[..2], &k, 1, 0.5)).contains("expected 3, found 2"));
        assert!(e(Problem::new(&[1.0, f32::NAN, 0.0], &k, 1, 0.5)).contains("index 1"));
        assert!(e(Problem::new(&s, &k, 1, -1.0)).contains("alpha"));
        assert!(e(Problem::new(&s, &k, 1, f64::NAN)).contains("alpha"));
        let empty = CsrSimilarity::empty(0);
        assert!(e(Problem::new(&[], &empty, 1, 0.5)).contains("empty"));
    }
}
