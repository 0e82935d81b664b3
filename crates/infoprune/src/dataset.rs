//! The inputs of a pipeline run: the embeddings (in memory or memory-mapped) and the per-sample
//! vectors (scores, labels, noise, margins), all indexed by the original row.

use crate::error::{Error, Result};
use crate::npy_map::MappedMatrix;
use infoprune_core::CoreError;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};

/// Where the embeddings come from.
#[derive(Debug, Clone, Copy)]
pub enum Embeddings<'a> {
    /// An in-memory matrix.
    View(ArrayView2<'a, f32>),
    /// A memory-mapped `.npy`.
    Mapped(&'a MappedMatrix),
}

impl Embeddings<'_> {
    /// Rows.
    pub fn nrows(&self) -> usize {
        match self {
            Embeddings::View(v) => v.nrows(),
            Embeddings::Mapped(m) => m.nrows(),
        }
    }

    /// Columns.
    pub fn ncols(&self) -> usize {
        match self {
            Embeddings::View(v) => v.ncols(),
            Embeddings::Mapped(m) => m.ncols(),
        }
    }

    /// Rejects a NaN or infinite value, naming its flat (row-major) index; blocks of rows are
    /// read at a time so a mapped file is never loaded whole.
    pub fn check_finite(&self) -> Result<()> {
        const BLOCK: usize = 65_536;
        let (n, d) = (self.nrows(), self.ncols());
        if d == 0 {
            return Err(CoreError::InvalidParameter {
                name: "embeddings",
                value: "d = 0".into(),
                reason: "need at least one feature column",
            }
            .into());
        }
        let mut first = 0;
        while first < n {
            let rows: Vec<usize> = (first..(first + BLOCK).min(n)).collect();
            let block = self.gather(&rows)?;
            if let Some((flat, &value)) = block.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "embeddings",
                    index: first * d + flat,
                    value: value as f64,
                }
                .into());
            }
            first += BLOCK;
        }
        Ok(())
    }

    /// Every row as f32, viewed in place where possible (see [`MappedMatrix::whole`]).
    pub fn whole(&self) -> Result<CowArray<'_, f32, Ix2>> {
        match self {
            Embeddings::View(v) => Ok(v.view().into()),
            Embeddings::Mapped(m) => Ok(m.whole()?),
        }
    }

    /// The given rows, as f32.
    pub fn gather(&self, rows: &[usize]) -> Result<Array2<f32>> {
        match self {
            Embeddings::View(v) => Ok(v.select(ndarray::Axis(0), rows)),
            Embeddings::Mapped(m) => Ok(m.gather(rows)?),
        }
    }

    /// The given (ascending, distinct) rows as f32: every row viewed in place where possible, else
    /// gathered.
    pub fn rows(&self, rows: &[usize]) -> Result<CowArray<'_, f32, Ix2>> {
        if rows.len() == self.nrows() {
            self.whole()
        } else {
            Ok(self.gather(rows)?.into())
        }
    }
}

/// Per-sample inputs besides the embeddings, all of length n (or absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleInputs<'a> {
    /// Importance (high = keep).
    pub scores: Option<&'a [f32]>,
    /// Class labels.
    pub labels: Option<&'a [i64]>,
    /// Noise signal (high = likely mislabeled).
    pub noise: Option<&'a [f32]>,
    /// Area under the margin (CCS's cutoff).
    pub aum: Option<&'a [f32]>,
}

impl SampleInputs<'_> {
    /// Checks that every input has `n` entries (`rows` names what `n` counts in the error, plus
    /// any `extra` lengths to hold to it). Finiteness is checked apart, after the embeddings', so
    /// the first bad value reported is the embeddings' when both have one.
    pub(crate) fn check(&self, n: usize, rows: &str, extra: Option<(&str, usize)>) -> Result<()> {
        for (what, len) in [
            ("scores", self.scores.map(<[f32]>::len)),
            ("labels", self.labels.map(<[i64]>::len)),
            ("noise", self.noise.map(<[f32]>::len)),
            ("aum", self.aum.map(<[f32]>::len)),
            extra.map_or(("", None), |(what, len)| (what, Some(len))),
        ] {
            if let Some(len) = len.filter(|&len| len != n) {
                return Err(CoreError::ShapeMismatch {
                    what: format!("{what} length vs {rows}"),
                    expected: n,
                    found: len,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Rejects a NaN or infinite score, noise value or margin, naming the input and the index.
    pub(crate) fn check_finite(&self) -> Result<()> {
        for (what, v) in [
            ("scores", self.scores),
            ("noise", self.noise),
            ("aum", self.aum),
        ] {
            if let Some(v) = v {
                infoprune_core::error::check_finite(what, v)?;
            }
        }
        Ok(())
    }
}

/// Everything a run reads: the embeddings and the per-sample inputs, indexed by the original row.
/// Borrowed, never copied: a memory-mapped file of any size stays on disk until rows are gathered.
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    /// The `n × d` embeddings.
    pub embeddings: Embeddings<'a>,
    /// Scores, labels, noise and margins, each of length `n` when given.
    pub inputs: SampleInputs<'a>,
}

impl<'a> Dataset<'a> {
    /// The dataset of `embeddings` and `inputs`.
    pub fn new(embeddings: Embeddings<'a>, inputs: SampleInputs<'a>) -> Self {
        Self { embeddings, inputs }
    }

    /// Rows.
    pub fn n(&self) -> usize {
        self.embeddings.nrows()
    }

    /// Embedding columns.
    pub fn d(&self) -> usize {
        self.embeddings.ncols()
    }

    /// Everything about the data that can be checked before any work: a non-empty input, a budget
    /// `k` in `1..=n`, inputs of length `n`, and one pass over every value for NaN or infinity
    /// (so a bad value far into a mapped file fails at once rather than after hours of graphs).
    pub(crate) fn validate(&self, k: usize) -> Result<()> {
        let n = self.n();
        if n == 0 {
            return Err(CoreError::Empty { what: "embeddings" }.into());
        }
        if k == 0 || k > n {
            return Err(CoreError::InvalidBudget { k, n }.into());
        }
        self.inputs.check(n, "embedding rows", None)?;
        self.embeddings.check_finite()?;
        self.inputs.check_finite()
    }
}

/// `values` at `rows`, when given.
pub(crate) fn gather<T: Copy>(values: Option<&[T]>, rows: &[usize]) -> Option<Vec<T>> {
    values.map(|v| rows.iter().map(|&i| v[i]).collect())
}

/// Rewrites a non-finite-embedding error from a partition so that it names the original index.
pub(crate) fn original_index(err: CoreError, rows: &[usize], d: usize) -> Error {
    match err {
        CoreError::NonFinite {
            what: "embeddings",
            index,
            value,
        } if d > 0 => CoreError::NonFinite {
            what: "embeddings",
            index: rows[index / d] * d + index % d,
            value,
        }
        .into(),
        other => other.into(),
    }
}
