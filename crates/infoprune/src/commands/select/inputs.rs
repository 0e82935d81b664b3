//! The per-sample inputs of `select` (scores, possibly from logits; noise; labels; AUM), read and
//! checked against the data's `n`, and the dropping of samples with a non-finite value.

use super::args::SelectArgs;
use crate::args::{read_labels, read_vector, scores_from_logits};
use crate::dataset::SampleInputs;
use crate::error::{Error, Result};
use infoprune_core::scores::{ScoreKind, ScoreOptions};
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
    let scores = args
        .scores
        .as_deref()
        .map(|p| read_vector(p, "scores", n, source))
        .transpose()?;
    let noise = args
        .noise
        .as_deref()
        .map(|p| read_vector(p, "noise", n, source))
        .transpose()?;
    let from_logits = Some(args.logits.as_slice())
        .filter(|files| !files.is_empty())
        .zip(labels.as_deref())
        .map(|(logits, labels)| {
            move |kinds: &[ScoreKind], options: &ScoreOptions| {
                let features = args.score_features.as_deref();
                let features = features.filter(|_| kinds.contains(&ScoreKind::Grand));
                scores_from_logits(kinds, logits, labels, features, options)
            }
        });
    let (scores, noise) = scores_and_noise(args, scores, noise, from_logits)?;
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

/// The importance and the noise signal, each if there is one.
type ScoresAndNoise = (Option<Vec<f32>>, Option<Vec<f32>>);

/// The importance and the noise signal of `select` (SPEC §1.5), shared by the file and the
/// in-memory flows: given vectors win; otherwise, with logits and labels, `score(kinds, options)`
/// computes from the logits, in one pass, the importance for `--scores-from` and, for InfoMax's
/// methods without `--noise`, minus AUM as the noise signal.
pub(super) fn scores_and_noise(
    args: &SelectArgs,
    scores: Option<Vec<f32>>,
    noise: Option<Vec<f32>>,
    score: Option<impl Fn(&[ScoreKind], &ScoreOptions) -> Result<Vec<Vec<f32>>>>,
) -> Result<ScoresAndNoise> {
    let Some(score) = score else {
        return Ok((scores, noise));
    };
    let importance: Option<ScoreKind> = args
        .scores_from
        .filter(|_| scores.is_none())
        .map(Into::into);
    let aum = noise.is_none() && args.noise_from_logits();
    let mut kinds: Vec<ScoreKind> = importance.into_iter().collect();
    if aum && importance != Some(ScoreKind::Aum) {
        kinds.push(ScoreKind::Aum);
    }
    if kinds.is_empty() {
        return Ok((scores, noise));
    }
    // Oriented: AUM then means "likely mislabeled" (minus AUM, what `score --kind aum` writes).
    let oriented = ScoreOptions {
        oriented: true,
        ..ScoreOptions::default()
    };
    let computed = score(&kinds, &oriented)?;
    let of = |kind: ScoreKind| {
        kinds
            .iter()
            .position(|&k| k == kind)
            .map(|at| computed[at].clone())
    };
    let scores = scores.or_else(|| importance.and_then(of));
    let noise = noise.or_else(|| if aum { of(ScoreKind::Aum) } else { None });
    Ok((scores, noise))
}
