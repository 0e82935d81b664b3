//! The IVF (inverted-file) kNN graph of SPEC §1.3: the near-global graph that vector-search
//! libraries build, here with the exact kernel's rules.
//!
//! Spherical k-means centroids are trained on a seeded sample of the L2-normalised rows
//! ([`IvfIndex::build`]); every row joins the list of its nearest centroid and probes the `nprobe`
//! lists whose centroids are nearest to it (its own list first). A row's neighbours are then its
//! `m` most similar rows among the rows of its probed lists, exact among those candidates, with the
//! exact search's similarity (`max(0, cos)`, snapped to 1 within `1e-6`, see [`crate::knn::snap`])
//! and tie rule (larger similarity, then smaller index), and the same symmetrisation
//! ([`crate::knn::symmetrize_lists`]). With `nprobe = nlist` every row probes every list and the graph is
//! exactly [`crate::knn::knn_graph`]'s.
//!
//! The search ([`ivf_lists`]) runs list against list as blocked matrix products: the rows of a
//! query list (in chunks of at most 256) that probe a list are gathered into one contiguous block
//! and multiplied with `sgemm` against that list's rows, which the index stores contiguously, in
//! tiles of at most 2048 columns. Each row's top-`m` is chosen under a total order, so the result
//! depends only on the candidate set, never on the order of the blocks or the thread count.
//!
//! A backend (the GPU) can run the search itself from the public [`IvfIndex`] (lists, their rows'
//! normalised data, every row's probes): see [`crate::backend::Backend::ivf_knn_lists`].
//!
//! The modules: [`settings`] (the options and their defaults), [`choice`] (exact, IVF or `auto`),
//! [`kmeans`] (the centroid training), [`index`] (the inverted file), [`search`] (the lists),
//! [`recall`], [`graph`] (the symmetrised graph) and [`partitions`] (partitions of whole lists).

mod blocks;
pub mod choice;
pub mod graph;
pub mod index;
pub mod kmeans;
pub mod partitions;
pub mod recall;
pub mod search;
pub mod settings;

pub use self::choice::{KnnSearch, ResolvedSearch, SearchInfo, AUTO_EXACT_MAX_ROWS};
pub use self::graph::{graph_from_lists, ivf_knn_graph};
pub use self::index::IvfIndex;
pub use self::partitions::{group_lists, partition_lists};
pub use self::recall::{recall_at_m, Recall};
pub use self::search::ivf_lists;
pub use self::settings::{
    default_nlist, IvfParams, IvfSettings, DEFAULT_NPROBE, DEFAULT_TRAIN_ITERATIONS,
    TRAIN_ROWS_PER_LIST,
};
pub use crate::backend::search_graph;
