//! Importance scores computed from training logits, shared by `select --scores-from` on arrays
//! and the in-memory `score`.

use crate::error::{Error, Result};
use infoprune_core::scores::{compute_scores, Logits, ScoreKind, ScoreOptions};
use ndarray::ArrayView2;

/// Scores from logits `T × n × C` (one array, or one `n × C` array per epoch) and penultimate
/// features for GraNd, all in one pass, as `select --scores-from` and `score --kind` compute them.
///
/// # Errors
/// A usage error if the logits' `n` differs from the labels'; the core's errors otherwise.
pub fn scores_from_logits(
    kinds: &[ScoreKind],
    logits: Logits,
    labels: &[i64],
    features: Option<ArrayView2<f32>>,
    options: &ScoreOptions,
) -> Result<Vec<Vec<f32>>> {
    if logits.dim().1 != labels.len() {
        return Err(Error::Usage(format!(
            "logits hold n = {} samples (shape T×n×C = {:?}) but the labels have {}",
            logits.dim().1,
            logits.dim(),
            labels.len()
        )));
    }
    Ok(compute_scores(kinds, logits, labels, features, options)?)
}
