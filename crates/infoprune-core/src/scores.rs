//! Importance scores from training dynamics (SPEC §2).
//!
//! Inputs are the logits `Z[t, i, c]` recorded over `T` epochs for `n` samples and `C` classes (a
//! `T×n×C` array, or one `n×C` array per epoch: [`Logits`]) and the integer labels `y`.
//! Probabilities are `p = softmax(z)`, computed in `f64` after subtracting the row maximum, so
//! large logits never overflow.
//!
//! | score | definition | epochs (default) | high means |
//! |---|---|---|---|
//! | [`ScoreKind::El2n`] | `‖p_t(i) − onehot(y_i)‖₂` | mean over the first `min(10, T)` | hard (keep) |
//! | [`ScoreKind::Entropy`] | `−Σ_c p_c ln p_c` | last | hard (keep) |
//! | [`ScoreKind::LeastConfidence`] | `1 − max_c p_c` | last | hard (keep) |
//! | [`ScoreKind::Margin`] | `p_(1) − p_(2)` (top two probabilities) | last | **easy** |
//! | [`ScoreKind::Loss`] | `−ln p_y` | last | hard (keep) |
//! | [`ScoreKind::Forgetting`] | `#{t : correct_t ∧ ¬correct_{t+1}}`, never learned → `T` | all | hard (keep) |
//! | [`ScoreKind::Aum`] | `mean_t (z_t[y] − max_{c≠y} z_t[c])` | all | **easy** (low = hard or mislabeled) |
//! | [`ScoreKind::Grand`] | `‖[p − e_y, (p − e_y) ⊗ h]‖₂` | last | hard (keep) |
//!
//! [`ScoreKind::high_is_important`] states the direction, and [`orient`] (or
//! [`ScoreOptions::oriented`]) flips margin and AUM so that high always means "keep".
//!
//! Choices where the SPEC is silent **(ours)**:
//! - A sample counts as *correct* at an epoch only when its label's logit is strictly larger than every
//!   other logit: a tie at the top is "not correct", whatever the class order.
//! - The whole input is validated first: `T, n ≥ 1`, `C ≥ 2`, labels of length `n` in `0..C`, all
//!   logits finite. A non-finite logit is reported by its flat row-major index `t·n·C + i·C + c`.

use crate::error::{CoreError, Result};
use ndarray::{ArrayView1, ArrayView2, ArrayView3};
use rayon::prelude::*;

/// Training logits `T × n × C`: one array, or one `n × C` array per epoch, as a training loop saves
/// them (each may be a memory map of its own file, so no epoch is ever copied). Every score reads
/// them through [`Logits::row`], so both forms give the same bits.
#[derive(Debug, Clone)]
pub enum Logits<'a> {
    /// All epochs in one array.
    Stacked(ArrayView3<'a, f32>),
    /// Epoch `t` is the `t`-th array; all have the same shape (see [`Logits::epochs`]).
    Epochs(Vec<ArrayView2<'a, f32>>),
}

impl<'a> From<ArrayView3<'a, f32>> for Logits<'a> {
    fn from(stacked: ArrayView3<'a, f32>) -> Self {
        Logits::Stacked(stacked)
    }
}

impl<'a> Logits<'a> {
    /// One array per epoch, in epoch order.
    ///
    /// # Errors
    /// [`CoreError::Empty`] without any epoch, [`CoreError::ShapeMismatch`] when an epoch's shape
    /// differs from the first's.
    pub fn epochs(epochs: Vec<ArrayView2<'a, f32>>) -> Result<Self> {
        let first = epochs.first().ok_or(CoreError::Empty {
            what: "logits (epochs)",
        })?;
        let shape = first.dim();
        if let Some((t, e)) = epochs.iter().enumerate().find(|(_, e)| e.dim() != shape) {
            return Err(CoreError::ShapeMismatch {
                what: format!(
                    "logits of epoch {t} have shape {:?}, the first epoch's {shape:?}; samples",
                    e.dim()
                ),
                expected: shape.0,
                found: e.nrows(),
            });
        }
        Ok(Logits::Epochs(epochs))
    }

    /// `(T, n, C)`.
    pub fn dim(&self) -> (usize, usize, usize) {
        match self {
            Logits::Stacked(z) => z.dim(),
            Logits::Epochs(e) => {
                let (n, c) = e.first().map_or((0, 0), |z| z.dim());
                (e.len(), n, c)
            }
        }
    }

    /// Sample `i`'s logits at epoch `t`.
    pub fn row(&self, t: usize, i: usize) -> ArrayView1<'_, f32> {
        match self {
            Logits::Stacked(z) => z.slice(ndarray::s![t, i, ..]),
            Logits::Epochs(e) => e[t].row(i),
        }
    }

    /// The first non-finite logit in row-major order `t·n·C + i·C + c`, with its flat index.
    fn first_non_finite(&self) -> Option<(usize, f32)> {
        match self {
            Logits::Stacked(z) => first_non_finite(z.iter()),
            Logits::Epochs(e) => e
                .iter()
                .enumerate()
                .find_map(|(t, z)| first_non_finite(z.iter()).map(|(at, v)| (t * z.len() + at, v))),
        }
    }
}

/// The position and value of the first non-finite value of `values`.
fn first_non_finite<'v>(values: impl Iterator<Item = &'v f32>) -> Option<(usize, f32)> {
    values
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(i, &v)| (i, v))
}

/// The training-dynamics scores this module computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScoreKind {
    /// Error L2 norm `‖p − onehot(y)‖₂`.
    El2n,
    /// Prediction entropy `−Σ p ln p`.
    Entropy,
    /// `1 − max p`.
    LeastConfidence,
    /// `p_(1) − p_(2)`; low = hard.
    Margin,
    /// Cross-entropy loss `−ln p_y`.
    Loss,
    /// Number of forgetting events; never-learned samples get `T`.
    Forgetting,
    /// Area under the margin; low = hard or mislabeled.
    Aum,
    /// Last-layer gradient norm (needs penultimate features).
    Grand,
}

impl ScoreKind {
    /// Every kind, in the order of the module table.
    pub const ALL: [ScoreKind; 8] = [
        ScoreKind::El2n,
        ScoreKind::Entropy,
        ScoreKind::LeastConfidence,
        ScoreKind::Margin,
        ScoreKind::Loss,
        ScoreKind::Forgetting,
        ScoreKind::Aum,
        ScoreKind::Grand,
    ];

    /// The name users type: `el2n`, `entropy`, `least-confidence`, `margin`, `loss`, `forgetting`,
    /// `aum`, `grand`.
    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::El2n => "el2n",
            ScoreKind::Entropy => "entropy",
            ScoreKind::LeastConfidence => "least-confidence",
            ScoreKind::Margin => "margin",
            ScoreKind::Loss => "loss",
            ScoreKind::Forgetting => "forgetting",
            ScoreKind::Aum => "aum",
            ScoreKind::Grand => "grand",
        }
    }

    /// Parses a [`name`](Self::name) (case-insensitive).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        ScoreKind::ALL
            .into_iter()
            .find(|kind| kind.name() == lower)
            .ok_or_else(|| CoreError::InvalidParameter {
                name: "score",
                value: name.to_string(),
                reason: "must be one of el2n, entropy, least-confidence, margin, loss, forgetting, aum, grand",
            })
    }

    /// `true` when a high value means hard, hence important to keep (EL2N, entropy, least confidence,
    /// loss, forgetting, GraNd); `false` for margin and AUM, where **low** values are the hard ones.
    pub fn high_is_important(self) -> bool {
        !matches!(self, ScoreKind::Margin | ScoreKind::Aum)
    }
}

/// Which epochs EL2N looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum El2nEpochs {
    /// Mean over the first `min(m, T)` epochs (`m ≥ 1`); the default is `m = 10`.
    MeanOfFirst(usize),
    /// A single epoch `t < T`.
    Single(usize),
}

impl Default for El2nEpochs {
    fn default() -> Self {
        El2nEpochs::MeanOfFirst(10)
    }
}

/// Options for [`compute_score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoreOptions {
    /// Epochs used by EL2N (default: mean over the first 10).
    pub el2n: El2nEpochs,
    /// Epoch for entropy, least confidence, margin, loss and GraNd; `None` = the last epoch (default).
    pub epoch: Option<usize>,
    /// When `true`, the result is passed through [`orient`] so that high always means "keep"
    /// (default `false`: the raw score).
    pub oriented: bool,
}

/// Checks the logits and labels: `T, n ≥ 1`, `C ≥ 2`, `labels.len() == n`, `0 ≤ y < C`, all logits
/// finite. Errors name the first bad index (flat row-major for the logits).
pub fn validate_inputs(logits: &Logits, labels: &[i64]) -> Result<()> {
    let (t, n, c) = logits.dim();
    if t == 0 {
        return Err(CoreError::Empty {
            what: "logits (epochs)",
        });
    }
    if n == 0 {
        return Err(CoreError::Empty {
            what: "logits (samples)",
        });
    }
    if c < 2 {
        return Err(CoreError::InvalidParameter {
            name: "classes",
            value: c.to_string(),
            reason: "logits need at least 2 classes",
        });
    }
    if labels.len() != n {
        return Err(CoreError::ShapeMismatch {
            what: "labels vs. samples in the logits".into(),
            expected: n,
            found: labels.len(),
        });
    }
    if let Some(i) = labels.iter().position(|&y| y < 0 || y >= c as i64) {
        return Err(CoreError::InvalidParameter {
            name: "labels",
            value: format!("{} at index {i}", labels[i]),
            reason: "labels must satisfy 0 ≤ y < C (the number of logit columns)",
        });
    }
    if let Some((index, value)) = logits.first_non_finite() {
        return Err(CoreError::NonFinite {
            what: "logits",
            index,
            value: value as f64,
        });
    }
    Ok(())
}

/// Numerically stable softmax in `f64`: subtracts the maximum before exponentiating.
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &z| m.max(z as f64));
    let exp: Vec<f64> = logits.iter().map(|&z| (z as f64 - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / total).collect()
}

fn row(logits: &Logits, t: usize, i: usize) -> Vec<f32> {
    logits.row(t, i).to_vec()
}

fn check_epoch(epoch: usize, t: usize) -> Result<usize> {
    if epoch >= t {
        return Err(CoreError::InvalidParameter {
            name: "epoch",
            value: epoch.to_string(),
            reason: "must be smaller than the number of recorded epochs T",
        });
    }
    Ok(epoch)
}

fn resolve_epoch(epoch: Option<usize>, t: usize) -> Result<usize> {
    check_epoch(epoch.unwrap_or(t - 1), t)
}

fn el2n_one(p: &[f64], y: usize) -> f64 {
    p.iter()
        .enumerate()
        .map(|(c, &pc)| {
            let d = pc - if c == y { 1.0 } else { 0.0 };
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

fn is_correct(z: &[f32], y: usize) -> bool {
    z.iter().enumerate().all(|(c, &v)| c == y || z[y] > v)
}

/// One score with its epochs resolved and its extra input checked: what [`Prepared::value`]
/// needs to score one sample. Every score is a function of one sample's rows, so several can
/// be computed in one pass over the logits ([`compute_scores`]).
enum Prepared<'f> {
    El2n(std::ops::Range<usize>),
    Entropy(usize),
    LeastConfidence(usize),
    Margin(usize),
    Loss(usize),
    Forgetting,
    Aum,
    Grand(usize, ArrayView2<'f, f32>),
}

impl<'f> Prepared<'f> {
    /// Checks what `kind` needs beyond [`validate_inputs`] (its epochs, GraNd's features).
    fn new(
        kind: ScoreKind,
        logits: &Logits,
        features: Option<ArrayView2<'f, f32>>,
        options: &ScoreOptions,
    ) -> Result<Self> {
        let (t_total, n, _) = logits.dim();
        let at = || resolve_epoch(options.epoch, t_total);
        Ok(match kind {
            ScoreKind::El2n => Prepared::El2n(match options.el2n {
                El2nEpochs::MeanOfFirst(0) => {
                    return Err(CoreError::InvalidParameter {
                        name: "el2n-epochs",
                        value: "0".into(),
                        reason: "EL2N needs at least one epoch",
                    })
                }
                El2nEpochs::MeanOfFirst(m) => 0..m.min(t_total),
                El2nEpochs::Single(t) => check_epoch(t, t_total)?..t + 1,
            }),
            ScoreKind::Entropy => Prepared::Entropy(at()?),
            ScoreKind::LeastConfidence => Prepared::LeastConfidence(at()?),
            ScoreKind::Margin => Prepared::Margin(at()?),
            ScoreKind::Loss => Prepared::Loss(at()?),
            ScoreKind::Forgetting => Prepared::Forgetting,
            ScoreKind::Aum => Prepared::Aum,
            ScoreKind::Grand => {
                let features = features.ok_or(CoreError::InvalidParameter {
                    name: "features",
                    value: "none".into(),
                    reason: "GraNd needs the penultimate features",
                })?;
                if features.nrows() != n {
                    return Err(CoreError::ShapeMismatch {
                        what: "penultimate features rows vs. samples in the logits".into(),
                        expected: n,
                        found: features.nrows(),
                    });
                }
                if let Some((index, &value)) =
                    features.iter().enumerate().find(|(_, v)| !v.is_finite())
                {
                    return Err(CoreError::NonFinite {
                        what: "penultimate features",
                        index,
                        value: value as f64,
                    });
                }
                Prepared::Grand(at()?, features)
            }
        })
    }

    /// Sample `i`'s raw score.
    fn value(&self, logits: &Logits, labels: &[i64], i: usize) -> f32 {
        let y = labels[i] as usize;
        // The probabilities (and logits) at one epoch, for the scores that read only one.
        let at = |t: usize| {
            let z = row(logits, t, i);
            (softmax(&z), z)
        };
        let value = match self {
            Prepared::El2n(range) => {
                let total: f64 = range
                    .clone()
                    .map(|t| el2n_one(&softmax(&row(logits, t, i)), y))
                    .sum();
                total / range.len() as f64
            }
            Prepared::Entropy(t) => {
                let (p, _) = at(*t);
                -p.iter()
                    .filter(|&&pc| pc > 0.0)
                    .map(|&pc| pc * pc.ln())
                    .sum::<f64>()
            }
            Prepared::LeastConfidence(t) => {
                1.0 - at(*t).0.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            }
            Prepared::Margin(t) => {
                let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                for &pc in &at(*t).0 {
                    if pc > first {
                        second = first;
                        first = pc;
                    } else if pc > second {
                        second = pc;
                    }
                }
                first - second
            }
            Prepared::Loss(t) => {
                let z = row(logits, *t, i);
                let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let lse = max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
                lse - z[y] as f64
            }
            Prepared::Forgetting => {
                let t_total = logits.dim().0;
                let correct: Vec<bool> = (0..t_total)
                    .map(|t| is_correct(&row(logits, t, i), y))
                    .collect();
                if !correct.iter().any(|&c| c) {
                    t_total as f64
                } else {
                    correct.windows(2).filter(|w| w[0] && !w[1]).count() as f64
                }
            }
            Prepared::Aum => {
                let t_total = logits.dim().0;
                let total: f64 = (0..t_total)
                    .map(|t| {
                        let z = row(logits, t, i);
                        let other = z
                            .iter()
                            .enumerate()
                            .filter(|&(c, _)| c != y)
                            .fold(f64::NEG_INFINITY, |m, (_, &v)| m.max(v as f64));
                        z[y] as f64 - other
                    })
                    .sum();
                total / t_total as f64
            }
            Prepared::Grand(t, features) => {
                let (p, _) = at(*t);
                let h2: f64 = features.row(i).iter().map(|&v| v as f64 * v as f64).sum();
                el2n_one(&p, y) * (1.0 + h2).sqrt()
            }
        };
        value as f32
    }
}

/// EL2N `‖p_t(i) − onehot(y_i)‖₂`, averaged over the chosen epochs.
pub fn el2n<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    epochs: El2nEpochs,
) -> Result<Vec<f32>> {
    let options = ScoreOptions {
        el2n: epochs,
        ..ScoreOptions::default()
    };
    compute_score(ScoreKind::El2n, logits, labels, None, &options)
}

fn at_epoch(epoch: Option<usize>) -> ScoreOptions {
    ScoreOptions {
        epoch,
        ..ScoreOptions::default()
    }
}

/// Entropy `−Σ_c p_c ln p_c` (natural log) at `epoch` (`None` = last). Labels are only validated.
pub fn entropy<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    epoch: Option<usize>,
) -> Result<Vec<f32>> {
    compute_score(ScoreKind::Entropy, logits, labels, None, &at_epoch(epoch))
}

/// Least confidence `1 − max_c p_c` at `epoch` (`None` = last). Labels are only validated.
pub fn least_confidence<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    epoch: Option<usize>,
) -> Result<Vec<f32>> {
    compute_score(
        ScoreKind::LeastConfidence,
        logits,
        labels,
        None,
        &at_epoch(epoch),
    )
}

/// Margin `p_(1) − p_(2)` between the two largest probabilities at `epoch` (`None` = last); 0 when
/// the top two tie. **Low = hard.** Labels are only validated.
pub fn margin<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    epoch: Option<usize>,
) -> Result<Vec<f32>> {
    compute_score(ScoreKind::Margin, logits, labels, None, &at_epoch(epoch))
}

/// Loss `−ln p_y` at `epoch` (`None` = last), computed as `logsumexp(z) − z_y` so it stays finite
/// even when `p_y` underflows.
pub fn loss<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    epoch: Option<usize>,
) -> Result<Vec<f32>> {
    compute_score(ScoreKind::Loss, logits, labels, None, &at_epoch(epoch))
}

/// Forgetting events: the number of `t < T − 1` with the sample correct at `t` and wrong at `t + 1`.
/// A sample never correct at any epoch gets `T`, more than any real count.
pub fn forgetting<'a>(logits: impl Into<Logits<'a>>, labels: &[i64]) -> Result<Vec<f32>> {
    compute_score(
        ScoreKind::Forgetting,
        logits,
        labels,
        None,
        &ScoreOptions::default(),
    )
}

/// Area under the margin `mean_t (z_t[y] − max_{c≠y} z_t[c])` over all epochs. **Low = hard or
/// mislabeled.**
pub fn aum<'a>(logits: impl Into<Logits<'a>>, labels: &[i64]) -> Result<Vec<f32>> {
    compute_score(
        ScoreKind::Aum,
        logits,
        labels,
        None,
        &ScoreOptions::default(),
    )
}

/// GraNd for the last layer: the norm of the gradient of the loss with respect to the last linear
/// layer's bias and weights, `‖[p − e_y, (p − e_y) ⊗ h]‖₂ = ‖p − e_y‖₂ · √(1 + ‖h‖₂²)`, with `h` the
/// penultimate features (`n × d`, finite) and `p` taken at `epoch` (`None` = last).
pub fn grand<'a>(
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    features: ArrayView2<f32>,
    epoch: Option<usize>,
) -> Result<Vec<f32>> {
    compute_score(
        ScoreKind::Grand,
        logits,
        labels,
        Some(features),
        &at_epoch(epoch),
    )
}

/// Flips a score so that high always means "important, keep": unchanged when
/// [`ScoreKind::high_is_important`], negated otherwise (margin, AUM).
pub fn orient(kind: ScoreKind, scores: &[f32]) -> Vec<f32> {
    if kind.high_is_important() {
        scores.to_vec()
    } else {
        scores.iter().map(|&s| -s).collect()
    }
}

/// Computes one score. `features` (penultimate, `n × d`) is required for [`ScoreKind::Grand`] and
/// ignored otherwise. With [`ScoreOptions::oriented`] the result is passed through [`orient`].
pub fn compute_score<'a>(
    kind: ScoreKind,
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    features: Option<ArrayView2<f32>>,
    options: &ScoreOptions,
) -> Result<Vec<f32>> {
    let mut all = compute_scores(&[kind], logits, labels, features, options)?;
    Ok(all.pop().expect("one kind, one score"))
}

/// Computes several scores in **one scoring pass** over the logits: every sample's rows are read
/// once and every kind is evaluated on them, so logits larger than memory (memory-mapped, paged
/// in from disk) are read twice in all (the finiteness check of [`validate_inputs`], then the
/// scores), not twice per kind. Each result is bit-identical to
/// [`compute_score`]'s for that kind; the options apply to every kind.
///
/// # Errors
/// As [`compute_score`], for the first kind that fails.
pub fn compute_scores<'a>(
    kinds: &[ScoreKind],
    logits: impl Into<Logits<'a>>,
    labels: &[i64],
    features: Option<ArrayView2<f32>>,
    options: &ScoreOptions,
) -> Result<Vec<Vec<f32>>> {
    let logits = logits.into();
    validate_inputs(&logits, labels)?;
    let prepared = kinds
        .iter()
        .map(|&kind| Prepared::new(kind, &logits, features, options))
        .collect::<Result<Vec<_>>>()?;
    let (n, width) = (logits.dim().1, kinds.len());
    if width == 0 {
        return Ok(Vec::new());
    }
    // Sample-major, `width` values per sample: each sample's rows are read once for every kind.
    // Each value is computed on its own, so the result does not depend on the thread count.
    let mut values = vec![0.0f32; n * width];
    values
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(i, out)| {
            for (v, p) in out.iter_mut().zip(&prepared) {
                *v = p.value(&logits, labels, i);
            }
        });
    Ok(kinds
        .iter()
        .enumerate()
        .map(|(k, &kind)| {
            let raw: Vec<f32> = values.iter().skip(k).step_by(width).copied().collect();
            if options.oriented {
                orient(kind, &raw)
            } else {
                raw
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    const T: usize = 3;
    const N: usize = 4;
    const C: usize = 3;

    /// Fixed logits (T=3, n=4, C=3) with ties and a sample (3) that is never learned.
    fn fixture() -> (Array3<f32>, Vec<i64>) {
        #[rustfmt::skip]
        let data: [f32; T * N * C] = [
            // epoch 0
            2.0, 1.0, 0.0,    // sample 0: correct (y=0)
            0.5, 0.5, 0.5,    // sample 1: all tie -> not correct
            -1.0, 3.0, 3.0,   // sample 2: tie at top between 1 and 2 (y=2) -> not correct
            5.0, 0.0, -2.0,   // sample 3: y=1, wrong
            // epoch 1
            0.0, 1.0, 0.0,    // sample 0: wrong -> forgetting event
            0.1, 2.0, 0.3,    // sample 1: correct (y=1)
            0.0, 0.0, 4.0,    // sample 2: correct
            1.0, 1.0, 0.0,    // sample 3: tie y=1 with 0 -> not correct
            // epoch 2
            3.0, -1.0, 0.5,   // sample 0: correct again
            1.0, 0.0, 0.0,    // sample 1: wrong -> forgetting event
            0.2, 0.1, 0.2,    // sample 2: tie 0 and 2 -> not correct -> forgetting event
            0.0, -1.0, 100.0, // sample 3: wrong, large logit
        ];
        (
            Array3::from_shape_vec((T, N, C), data.to_vec()).unwrap(),
            vec![0, 1, 2, 1],
        )
    }

    // ---- naive f64 reference implementations ----
    fn naive_p(z: &[f32]) -> Vec<f64> {
        // Direct definition, no max subtraction: fine for the small logits used here.
        let e: Vec<f64> = z.iter().map(|&v| (v as f64).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }
    fn z_of(l: &Array3<f32>, t: usize, i: usize) -> Vec<f32> {
        (0..C).map(|c| l[[t, i, c]]).collect()
    }
    fn close(got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-5 * (1.0 + w.abs()),
                "index {i}: got {g}, want {w}"
            );
        }
    }

    #[test]
    fn el2n_matches_naive_mean_and_single_epoch() {
        let (l, y) = fixture();
        let naive = |t: usize, i: usize| {
            let p = naive_p(&z_of(&l, t, i));
            let mut s = 0.0;
            for (c, pc) in p.iter().enumerate() {
                let e = if c as i64 == y[i] { 1.0 } else { 0.0 };
                s += (pc - e) * (pc - e);
            }
            s.sqrt()
        };
        let mean: Vec<f64> = (0..N)
            .map(|i| (0..T).map(|t| naive(t, i)).sum::<f64>() / T as f64)
            .collect();
        close(&el2n(l.view(), &y, El2nEpochs::default()).unwrap(), &mean);
        let first2: Vec<f64> = (0..N).map(|i| (naive(0, i) + naive(1, i)) / 2.0).collect();
        close(
            &el2n(l.view(), &y, El2nEpochs::MeanOfFirst(2)).unwrap(),
            &first2,
        );
        let single: Vec<f64> = (0..N).map(|i| naive(1, i)).collect();
        close(&el2n(l.view(), &y, El2nEpochs::Single(1)).unwrap(), &single);
        assert!(el2n(l.view(), &y, El2nEpochs::Single(3)).is_err());
        assert!(el2n(l.view(), &y, El2nEpochs::MeanOfFirst(0)).is_err());
    }

    #[test]
    fn entropy_confidence_margin_loss_match_naive() {
        let (l, y) = fixture();
        for epoch in [None, Some(0), Some(1)] {
            let t = epoch.unwrap_or(T - 1);
            let ps: Vec<Vec<f64>> = (0..N).map(|i| naive_p(&z_of(&l, t, i))).collect();
            let ent: Vec<f64> = ps
                .iter()
                .map(|p| -p.iter().map(|v| v * v.ln()).sum::<f64>())
                .collect();
            let lc: Vec<f64> = ps
                .iter()
                .map(|p| 1.0 - p.iter().cloned().fold(0.0, f64::max))
                .collect();
            let mg: Vec<f64> = ps
                .iter()
                .map(|p| {
                    let mut s = p.clone();
                    s.sort_by(|a, b| b.partial_cmp(a).unwrap());
                    s[0] - s[1]
                })
                .collect();
            let ls: Vec<f64> = (0..N).map(|i| -ps[i][y[i] as usize].ln()).collect();
            close(&entropy(l.view(), &y, epoch).unwrap(), &ent);
            close(&least_confidence(l.view(), &y, epoch).unwrap(), &lc);
            close(&margin(l.view(), &y, epoch).unwrap(), &mg);
            close(&loss(l.view(), &y, epoch).unwrap(), &ls);
        }
        // Ties: all-equal logits at epoch 0 (sample 1) give entropy ln 3 and margin 0; the tie at the
        // top for sample 2 gives margin 0 too.
        let e0 = entropy(l.view(), &y, Some(0)).unwrap();
        assert!((e0[1] as f64 - 3f64.ln()).abs() < 1e-6);
        let m0 = margin(l.view(), &y, Some(0)).unwrap();
        assert_eq!(m0[1], 0.0);
        assert!(m0[2].abs() < 1e-7);
        // The large logit at epoch 2 (sample 3) stays finite: loss ≈ 101.
        let l2 = loss(l.view(), &y, None).unwrap();
        assert!((l2[3] - 101.0).abs() < 1e-3, "{}", l2[3]);
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        let p = softmax(&[1000.0, 1000.0, -1000.0]);
        assert!((p[0] - 0.5).abs() < 1e-12 && (p[1] - 0.5).abs() < 1e-12 && p[2] == 0.0);
    }

    #[test]
    fn forgetting_matches_naive_and_never_learned_gets_t() {
        let (l, y) = fixture();
        let naive: Vec<f64> = (0..N)
            .map(|i| {
                let correct: Vec<bool> = (0..T)
                    .map(|t| {
                        let z = z_of(&l, t, i);
                        let yi = y[i] as usize;
                        (0..C).filter(|&c| c != yi).all(|c| z[yi] > z[c])
                    })
                    .collect();
                if correct.iter().all(|c| !c) {
                    T as f64
                } else {
                    (0..T - 1)
                        .filter(|&t| correct[t] && !correct[t + 1])
                        .count() as f64
                }
            })
            .collect();
        let got = forgetting(l.view(), &y).unwrap();
        close(&got, &naive);
        // Hand-checked: sample 0 forgets once, 1 once, 2 once (tie counts as wrong), 3 never learned.
        assert_eq!(got, vec![1.0, 1.0, 1.0, 3.0]);
    }

    #[test]
    fn aum_matches_naive() {
        let (l, y) = fixture();
        let naive: Vec<f64> = (0..N)
            .map(|i| {
                let yi = y[i] as usize;
                (0..T)
                    .map(|t| {
                        let z = z_of(&l, t, i);
                        let other = (0..C)
                            .filter(|&c| c != yi)
                            .map(|c| z[c] as f64)
                            .fold(f64::MIN, f64::max);
                        z[yi] as f64 - other
                    })
                    .sum::<f64>()
                    / T as f64
            })
            .collect();
        close(&aum(l.view(), &y).unwrap(), &naive);
    }

    #[test]
    fn grand_matches_explicit_gradient_vector() {
        let (l, y) = fixture();
        let h =
            Array2::from_shape_vec((N, 2), vec![1.0, 0.0, 0.5, -2.0, 0.0, 0.0, 3.0, 1.0]).unwrap();
        let naive: Vec<f64> = (0..N)
            .map(|i| {
                let p = naive_p(&z_of(&l, T - 1, i));
                let g: Vec<f64> = (0..C)
                    .map(|c| p[c] - if c as i64 == y[i] { 1.0 } else { 0.0 })
                    .collect();
                // Flattened [g, g ⊗ h].
                let mut v = g.clone();
                for &gc in &g {
                    for d in 0..2 {
                        v.push(gc * h[[i, d]] as f64);
                    }
                }
                v.iter().map(|x| x * x).sum::<f64>().sqrt()
            })
            .collect();
        close(&grand(l.view(), &y, h.view(), None).unwrap(), &naive);
        let opts = ScoreOptions::default();
        assert!(compute_score(ScoreKind::Grand, l.view(), &y, None, &opts).is_err());
        let short = Array2::<f32>::zeros((3, 2));
        assert!(matches!(
            grand(l.view(), &y, short.view(), None),
            Err(CoreError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn kinds_round_trip_and_orientation() {
        for kind in ScoreKind::ALL {
            assert_eq!(ScoreKind::from_name(kind.name()).unwrap(), kind);
        }
        assert_eq!(
            ScoreKind::from_name("Least-Confidence").unwrap(),
            ScoreKind::LeastConfidence
        );
        assert!(ScoreKind::from_name("bogus").is_err());
        let low_is_hard: Vec<ScoreKind> = ScoreKind::ALL
            .into_iter()
            .filter(|k| !k.high_is_important())
            .collect();
        assert_eq!(low_is_hard, vec![ScoreKind::Margin, ScoreKind::Aum]);

        let (l, y) = fixture();
        let raw = aum(l.view(), &y).unwrap();
        let opts = ScoreOptions {
            oriented: true,
            ..Default::default()
        };
        let oriented = compute_score(ScoreKind::Aum, l.view(), &y, None, &opts).unwrap();
        assert_eq!(oriented, raw.iter().map(|v| -v).collect::<Vec<_>>());
        let loss_o = compute_score(ScoreKind::Loss, l.view(), &y, None, &opts).unwrap();
        assert_eq!(loss_o, loss(l.view(), &y, None).unwrap());
    }

    #[test]
    fn bad_inputs_are_named() {
        let (mut l, y) = fixture();
        // NaN at t=1, i=2, c=1 -> flat index 1*12 + 2*3 + 1 = 19.
        l[[1, 2, 1]] = f32::NAN;
        match forgetting(l.view(), &y) {
            Err(CoreError::NonFinite { index, .. }) => assert_eq!(index, 19),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        let (l, _) = fixture();
        let err = loss(l.view(), &[0, 1, 3, 0], None).unwrap_err();
        assert!(err.to_string().contains("at index 2"), "{err}");
        assert!(entropy(l.view(), &[0, -1, 0, 0], None).is_err());
        assert!(matches!(
            aum(l.view(), &[0, 1, 2]),
            Err(CoreError::ShapeMismatch {
                expected: 4,
                found: 3,
                ..
            })
        ));
        assert!(margin(l.view(), &[0, 1, 2, 1], Some(3)).is_err());
        let one_class = Array3::<f32>::zeros((2, 2, 1));
        assert!(aum(one_class.view(), &[0, 0]).is_err());
        let empty = Array3::<f32>::zeros((0, 2, 3));
        assert!(matches!(
            aum(empty.view(), &[0, 0]),
            Err(CoreError::Empty { .. })
        ));
    }

    #[test]
    fn one_array_per_epoch_gives_the_stacked_scores_bit_for_bit() {
        let (l, y) = fixture();
        let epochs = || -> Logits {
            Logits::epochs((0..T).map(|t| l.index_axis(ndarray::Axis(0), t)).collect()).unwrap()
        };
        assert_eq!(epochs().dim(), (T, N, C));
        let h = ndarray::Array2::from_shape_fn((N, 2), |(i, j)| (i + j) as f32 * 0.5);
        for kind in [
            ScoreKind::El2n,
            ScoreKind::Entropy,
            ScoreKind::LeastConfidence,
            ScoreKind::Margin,
            ScoreKind::Loss,
            ScoreKind::Forgetting,
            ScoreKind::Aum,
            ScoreKind::Grand,
        ] {
            let options = ScoreOptions::default();
            let stacked = compute_score(kind, l.view(), &y, Some(h.view()), &options).unwrap();
            let split = compute_score(kind, epochs(), &y, Some(h.view()), &options).unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&stacked), bits(&split), "{kind:?}");
        }
    }

    #[test]
    fn per_epoch_arrays_are_checked_like_one_array() {
        let (l, y) = fixture();
        let short = ndarray::Array2::<f32>::zeros((N - 1, C));
        let err =
            Logits::epochs(vec![l.index_axis(ndarray::Axis(0), 0), short.view()]).unwrap_err();
        assert!(err.to_string().contains("epoch 1"), "{err}");
        assert!(matches!(
            Logits::epochs(Vec::new()),
            Err(CoreError::Empty { .. })
        ));
        // A non-finite logit is named by the same flat index as in the stacked array.
        let mut bad = l.clone();
        bad[[2, 1, 2]] = f32::NAN;
        let split = Logits::epochs(
            (0..T)
                .map(|t| bad.index_axis(ndarray::Axis(0), t))
                .collect(),
        )
        .unwrap();
        let want = 2 * N * C + C + 2;
        for result in [aum(bad.view(), &y), aum(split, &y)] {
            match result {
                Err(CoreError::NonFinite { index, .. }) => assert_eq!(index, want),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn several_kinds_in_one_pass_equal_each_alone() {
        let (l, y) = fixture();
        let h = ndarray::Array2::from_shape_fn((N, 2), |(i, j)| (i * 2 + j) as f32 * 0.25);
        let kinds = [
            ScoreKind::Aum,
            ScoreKind::El2n,
            ScoreKind::Grand,
            ScoreKind::Margin,
            ScoreKind::Forgetting,
            ScoreKind::Aum,
        ];
        for oriented in [false, true] {
            let options = ScoreOptions {
                oriented,
                epoch: Some(1),
                ..ScoreOptions::default()
            };
            let together = compute_scores(&kinds, l.view(), &y, Some(h.view()), &options).unwrap();
            assert_eq!(together.len(), kinds.len());
            for (kind, got) in kinds.iter().zip(&together) {
                let alone = compute_score(*kind, l.view(), &y, Some(h.view()), &options).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(&alone), "{kind:?}, oriented {oriented}");
            }
        }
        // The first failing kind's error: GraNd without features.
        assert!(compute_scores(&kinds, l.view(), &y, None, &ScoreOptions::default()).is_err());
    }
}
