//! The per-sample inputs of `select` (scores, possibly from logits; noise; labels; AUM), read and
//! checked against the data's `n`, and the dropping of samples with a non-finite value.

use super::args::SelectArgs;
use crate::args::{read_labels, read_vector, score_from_logits};
use crate::dataset::SampleInputs;
use crate::error::{Error, Result};
use infoprune_core::scores::{ScoreKind, ScoreOptions};

/// How SPEC §1.5 derives the noise signal from the logits: AUM oriented so that high means
/// likely mislabeled (minus AUM, what `score --kind aum` writes).
pub(super) fn minus_aum() -> ScoreOptions {
    ScoreOptions {
        oriented: true,
        ..ScoreOptions::default()
    }
}
use ndarray::{Array2, Axis};

/// The per-sample inputs of `select`, all indexed like the embeddings' rows.
pub(super) struct Inputs {
    /// The whole matrix, when it had to be read (for `--drop-nonfinite`); otherwise the map is used.
    pub(super) embeddings: Option<Array2<f32>>,
    pub(super) scores: Option<Vec<f32>>,
    pub(super) noise: Option<Vec<f32>>,
    pub(super) labels: Option<Vec<i64>>,
    pub(super) aum: Option<Vec<f32>>,
}

impl Inputs {
    /// The per-sample vectors as the pipeline takes them.
    pub(super) fn sample_inputs(&self) -> SampleInputs<'_> {
        SampleInputs {
            scores: self.scores.as_deref(),
            labels: self.labels.as_deref(),
            noise: self.noise.as_deref(),
            aum: self.aum.as_deref(),
        }
    }

    /// Removes every sample with a NaN or infinite value in any float input; returns the inputs
    /// that remain and the original index of each remaining row.
    pub(super) fn drop_nonfinite(self) -> Result<(Inputs, Vec<usize>)> {
        let embeddings = self
            .embeddings
            .expect("drop_nonfinite is called with the matrix read");
        let finite = |v: &Option<Vec<f32>>, i: usize| v.as_ref().is_none_or(|v| v[i].is_finite());
        let rows: Vec<usize> = (0..embeddings.nrows())
            .filter(|&i| {
                embeddings.row(i).iter().all(|v| v.is_finite())
                    && finite(&self.scores, i)
                    && finite(&self.noise, i)
                    && finite(&self.aum, i)
            })
            .collect();
        if rows.is_empty() && embeddings.nrows() > 0 {
            return Err(Error::Usage(
                "--drop-nonfinite: every sample has a non-finite value; nothing is left".into(),
            ));
        }
        fn pick<T: Copy>(v: Option<Vec<T>>, rows: &[usize]) -> Option<Vec<T>> {
            v.map(|v| rows.iter().map(|&i| v[i]).collect())
        }
        let kept = Inputs {
            embeddings: Some(embeddings.select(Axis(0), &rows)),
            scores: pick(self.scores, &rows),
            noise: pick(self.noise, &rows),
            labels: pick(self.labels, &rows),
            aum: pick(self.aum, &rows),
        };
        Ok((kept, rows))
    }
}

/// Reads the per-sample inputs of `select` (scores, possibly from logits; noise; labels; AUM),
/// each checked to have `n` values; `source` says where `n` comes from.
pub(super) fn read_inputs(args: &SelectArgs, n: usize, source: &str) -> Result<Inputs> {
    let labels = args
        .labels
        .as_deref()
        .map(|p| read_labels(p, n))
        .transpose()?;
    let scores = match (&args.scores, args.scores_from, &args.logits, &labels) {
        (Some(path), ..) => Some(read_vector(path, "scores", n, source)?),
        (None, Some(kind), Some(logits), Some(labels)) => Some(score_from_logits(
            kind.into(),
            logits,
            labels,
            args.score_features.as_deref(),
            &ScoreOptions {
                oriented: true,
                ..ScoreOptions::default()
            },
        )?),
        _ => None,
    };
    let noise =
        match (&args.noise, &args.logits, &labels) {
            (Some(path), ..) => Some(read_vector(path, "noise", n, source)?),
            (None, Some(logits), Some(labels)) if args.noise_from_logits() => Some(
                score_from_logits(ScoreKind::Aum, logits, labels, None, &minus_aum())?,
            ),
            _ => None,
        };
    Ok(Inputs {
        embeddings: None,
        scores,
        noise,
        labels,
        aum: args
            .aum
            .as_deref()
            .map(|p| read_vector(p, "aum", n, source))
            .transpose()?,
    })
}
