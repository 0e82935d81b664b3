//! The IVF kNN graph: the index, the search, the recall sample and the symmetrisation.

use ndarray::ArrayView2;

use super::choice::{ResolvedSearch, SearchInfo};
use super::index::IvfIndex;
use super::recall::recall_at_m;
use super::search::ivf_lists;
use super::settings::IvfSettings;
use crate::csr::CsrSimilarity;
use crate::error::{CoreError, Result};
use crate::knn::{symmetrize_lists, KnnConfig};
use crate::progress::{Progress, Stage};

/// The IVF kNN graph (SPEC §1.3) on the CPU, with its recall when `settings.recall_sample > 0`.
/// [`crate::backend::Backend::ivf_knn_graph`] is the same with the backend's search.
///
/// # Errors
/// As [`IvfIndex::build`].
pub fn ivf_knn_graph(
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
    settings: &IvfSettings,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    let index = IvfIndex::build(embeddings, settings)?;
    let lists = ivf_lists(&index, config.neighbors, progress);
    graph_from_lists(&index, lists, config, settings, progress)
}

/// Measures the recall of `lists` (if asked), symmetrises them and finishes the graph stage: the
/// shared tail of every backend's IVF graph.
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when `lists` does not have one list per row; as
/// [`symmetrize_lists`].
pub fn graph_from_lists(
    index: &IvfIndex,
    lists: Vec<Vec<(u32, f32)>>,
    config: &KnnConfig,
    settings: &IvfSettings,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    if lists.len() != index.n {
        return Err(CoreError::ShapeMismatch {
            what: "IVF neighbour lists vs rows".into(),
            expected: index.n,
            found: lists.len(),
        });
    }
    let recall = (settings.recall_sample > 0).then(|| {
        recall_at_m(
            index,
            &lists,
            config.neighbors,
            settings.recall_sample,
            settings.seed,
        )
    });
    let graph = symmetrize_lists(index.n, lists, config.symmetrize)?;
    progress.finish(Stage::Graph);
    Ok((
        graph,
        SearchInfo {
            search: ResolvedSearch::Ivf(*settings),
            recall,
        },
    ))
}
