//! How the kNN graph is searched ([`KnnSearch`]: exact, IVF or `auto`), what that comes to for a
//! data size ([`ResolvedSearch`]) and what the search reports ([`SearchInfo`]).

use super::recall::Recall;
use super::settings::{IvfParams, IvfSettings};
use crate::error::Result;

/// `auto` searches exactly up to this many rows and with IVF above. Measured with
/// `cargo bench -p infoprune --bench ivf` on the 2-core reference machine (BENCHMARKS.md, "IVF
/// kNN graph"), 64-d clustered data: at 10,000 and 20,000 rows IVF at the defaults is about 2×
/// faster but finds only 84% and 91% of the neighbours (matching the exact recall needs nprobe 16,
/// and is then barely faster at 10,000); at 50,000 rows it is 4.4× faster at recall 0.978. The
/// cut sits at 50,000, which is also the default partition size, so partitions are always searched
/// exactly under `auto`.
pub const AUTO_EXACT_MAX_ROWS: usize = 50_000;

/// How the kNN graph is searched (SPEC §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnnSearch {
    /// Every row against every row ([`crate::knn::knn_graph`]).
    Exact,
    /// The inverted file with these options.
    Ivf(IvfParams),
    /// Exact up to [`AUTO_EXACT_MAX_ROWS`] rows, IVF with these options above (default).
    Auto(IvfParams),
}

impl Default for KnnSearch {
    fn default() -> Self {
        KnnSearch::Auto(IvfParams::default())
    }
}

/// The search a [`KnnSearch`] comes to for a given `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedSearch {
    /// The exact search.
    Exact,
    /// The IVF search with these settings.
    Ivf(IvfSettings),
}

impl KnnSearch {
    /// Checks the options that do not depend on the data.
    ///
    /// # Errors
    /// As [`IvfParams::validate`].
    pub fn validate(&self) -> Result<()> {
        match self {
            KnnSearch::Exact => Ok(()),
            KnnSearch::Ivf(p) | KnnSearch::Auto(p) => p.validate(),
        }
    }

    /// What runs on `n` rows.
    ///
    /// # Errors
    /// As [`IvfParams::resolve`] when IVF is chosen.
    pub fn resolve(&self, n: usize) -> Result<ResolvedSearch> {
        match self {
            KnnSearch::Exact => Ok(ResolvedSearch::Exact),
            KnnSearch::Ivf(p) => Ok(ResolvedSearch::Ivf(p.resolve(n)?)),
            KnnSearch::Auto(p) if n > AUTO_EXACT_MAX_ROWS => Ok(ResolvedSearch::Ivf(p.resolve(n)?)),
            KnnSearch::Auto(_) => Ok(ResolvedSearch::Exact),
        }
    }
}

/// What a graph search did, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchInfo {
    /// The search that ran.
    pub search: ResolvedSearch,
    /// Its recall, when a sample was measured.
    pub recall: Option<Recall>,
}

impl SearchInfo {
    /// The exact search (recall 1 by construction, nothing measured).
    pub fn exact() -> Self {
        Self {
            search: ResolvedSearch::Exact,
            recall: None,
        }
    }

    /// `exact` or `ivf`.
    pub fn name(&self) -> &'static str {
        match self.search {
            ResolvedSearch::Exact => "exact",
            ResolvedSearch::Ivf(_) => "ivf",
        }
    }
}
