//! The kNN graph a [`KnnSearch`] chooses, built on a backend.

use ndarray::ArrayView2;

use super::contract::Backend;
use crate::csr::CsrSimilarity;
use crate::error::Result;
use crate::ivf::choice::{KnnSearch, ResolvedSearch, SearchInfo};
use crate::knn::KnnConfig;
use crate::progress::Progress;

/// The graph `search` gives on `n = embeddings.nrows()` rows, built on `backend`: the exact
/// search through [`crate::backend::Backend::knn_graph`] (unchanged), IVF through
/// [`crate::backend::Backend::ivf_knn_graph`].
///
/// # Errors
/// As [`KnnSearch::resolve`] and the backend's graph.
pub fn search_graph(
    backend: &dyn Backend,
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
    search: &KnnSearch,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    match search.resolve(embeddings.nrows())? {
        ResolvedSearch::Exact => Ok((
            backend.knn_graph(embeddings, config, progress)?,
            SearchInfo::exact(),
        )),
        ResolvedSearch::Ivf(settings) => {
            backend.ivf_knn_graph(embeddings, config, &settings, progress)
        }
    }
}
