//! The exact k-nearest-neighbour similarity graph `K` built from embeddings.
//!
//! Rows of `E ∈ R^{n×d}` are L2-normalised and `sim(i, j) = max(0, cos(e_i, e_j))`. Each row keeps
//! its `m` most similar *other* rows (ties go to the smaller index), zero similarities are dropped,
//! and the row-wise lists are symmetrised by `max(K, Kᵀ)` (default) or `(K + Kᵀ)/2`.
//!
//! The search is exact and brute force: blocks of rows are multiplied against tiles of columns with
//! `sgemm`, so memory stays bounded by one block × tile buffer per task and the `n × n` similarity
//! matrix never exists. Every row's list depends only on the data, not on how rayon schedules the
//! blocks, so the graph is bit-identical for any thread count.

//!
//! Its parts: `exact` (the blocked search), `ranking` (the snapped similarity and the order every
//! search ranks by, shared with IVF) and `symmetrize` (the symmetric CSR graph from row-wise lists,
//! shared by every backend).

mod exact;
mod ranking;
mod symmetrize;
#[cfg(test)]
mod tests;

pub use self::ranking::snap;
pub(crate) use self::ranking::Candidate;
pub use self::symmetrize::{symmetrize_lists, Symmetrize};

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use self::exact::{block_lists, BLOCK_ROWS};
use crate::csr::CsrSimilarity;
use crate::error::{check_finite, CoreError, Result};
use crate::progress::{Progress, Stage};

/// Neighbours kept per row when none is given.
const DEFAULT_NEIGHBORS: usize = 10;

/// Parameters of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnnConfig {
    /// Neighbours kept per row before symmetrising (`m`, default 10). `0` gives the empty graph;
    /// `m ≥ n` keeps all `n − 1` other rows.
    pub neighbors: usize,
    /// How the row-wise lists are symmetrised (default [`Symmetrize::Max`]).
    pub symmetrize: Symmetrize,
}

impl Default for KnnConfig {
    fn default() -> Self {
        Self::new(DEFAULT_NEIGHBORS)
    }
}

impl KnnConfig {
    /// `neighbors` per row, symmetrised by max.
    pub fn new(neighbors: usize) -> Self {
        Self {
            neighbors,
            symmetrize: Symmetrize::default(),
        }
    }

    /// Sets the symmetrisation.
    pub fn symmetrize(self, symmetrize: Symmetrize) -> Self {
        Self { symmetrize, ..self }
    }
}

/// Row-wise L2 normalisation; rows of norm zero stay zero. Returns a C-order `Array2<f32>`.
///
/// Norms are accumulated in `f64` so that neither tiny nor huge (but finite) rows under- or overflow.
pub fn l2_normalize_rows(embeddings: ArrayView2<f32>) -> Array2<f32> {
    let (n, d) = embeddings.dim();
    let mut out = Array2::<f32>::zeros((n, d));
    if n == 0 || d == 0 {
        return out;
    }
    let flat = out
        .as_slice_mut()
        .expect("a freshly allocated array is in standard layout");
    flat.par_chunks_mut(d).enumerate().for_each(|(i, dst)| {
        let row = embeddings.row(i);
        let norm = row.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (o, &x) in dst.iter_mut().zip(row.iter()) {
                *o = (x as f64 / norm) as f32;
            }
        }
    });
    out
}

/// The exact kNN graph of `embeddings` (one sample per row), symmetric with a zero diagonal and
/// values in `(0, 1]`.
///
/// # Errors
/// [`CoreError::Empty`] for `n = 0`, [`CoreError::InvalidParameter`] for `d = 0` or `n > u32::MAX`,
/// [`CoreError::NonFinite`] (with the flat row-major index) for a NaN or infinite entry.
pub fn knn_graph(
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
    progress: &dyn Progress,
) -> Result<CsrSimilarity> {
    let n = embeddings.nrows();
    let lists = compute_lists(embeddings, config.neighbors, progress)?;
    let graph = symmetrize_lists(n, lists, config.symmetrize);
    progress.finish(Stage::Graph);
    graph
}

/// The row-wise (not yet symmetrised) neighbour lists `(column, similarity)`, each sorted by
/// (similarity descending, index ascending), after clipping: only positive similarities are listed,
/// so a list may be shorter than `neighbors`. Useful for tests and as the reference for other
/// backends.
///
/// # Errors
/// As [`knn_graph`].
pub fn knn_lists(
    embeddings: ArrayView2<f32>,
    neighbors: usize,
    progress: &dyn Progress,
) -> Result<Vec<Vec<(u32, f32)>>> {
    let lists = compute_lists(embeddings, neighbors, progress)?;
    progress.finish(Stage::Graph);
    Ok(lists)
}

/// Checks embeddings are usable: at least one row and one column, few enough rows for `u32`
/// indices, every value finite (the error names the first bad flat index, row-major).
pub fn validate_embeddings(embeddings: ArrayView2<f32>) -> Result<()> {
    let (n, d) = embeddings.dim();
    if n == 0 {
        return Err(CoreError::Empty { what: "embeddings" });
    }
    if d == 0 {
        return Err(CoreError::InvalidParameter {
            name: "embeddings",
            value: "d = 0".to_string(),
            reason: "need at least one feature column",
        });
    }
    if n > u32::MAX as usize {
        return Err(CoreError::InvalidParameter {
            name: "embeddings",
            value: format!("n = {n}"),
            reason: "at most u32::MAX rows fit the u32 column indices",
        });
    }
    match embeddings.as_slice() {
        Some(flat) => check_finite("embeddings", flat),
        // `iter` walks a view in logical row-major order whatever its strides, so the position is
        // the same flat index a standard-layout copy would report.
        None => match embeddings.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(CoreError::NonFinite {
                what: "embeddings",
                index,
                value: embeddings[(index / d, index % d)] as f64,
            }),
            None => Ok(()),
        },
    }
}

/// Validates, then runs the blocked search; reports `start` and one `advance` per row block but
/// leaves `finish` to the caller, which may still have work to do for this stage.
fn compute_lists(
    embeddings: ArrayView2<f32>,
    neighbors: usize,
    progress: &dyn Progress,
) -> Result<Vec<Vec<(u32, f32)>>> {
    validate_embeddings(embeddings)?;
    let n = embeddings.nrows();
    let m = neighbors.min(n - 1);
    if m == 0 {
        progress.start(Stage::Graph, 0);
        return Ok(vec![Vec::new(); n]);
    }
    let normalized = l2_normalize_rows(embeddings);
    let blocks = n.div_ceil(BLOCK_ROWS);
    progress.start(Stage::Graph, blocks as u64);
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let lists = block_lists(&normalized, b * BLOCK_ROWS, m);
            progress.advance(1);
            lists
        })
        .collect();
    Ok(per_block.into_iter().flatten().collect())
}
