//! The graph-search options `select` and `graph` share: `--knn exact|ivf|auto`, `--nlist`,
//! `--nprobe`, `--recall-sample` (SPEC §1.3), and their checks against the data size; and the
//! kNN graph `--neighbors` and `--symmetrize` ask for.

use super::choices::SymmetrizeArg;
use crate::error::{Error, Result};
use clap::{Args, ValueEnum};
use infoprune_core::ivf::{IvfParams, KnnSearch, ResolvedSearch};
use infoprune_core::knn::{KnnConfig, Symmetrize};
use infoprune_core::CoreError;

/// `--knn`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KnnArg {
    /// Every sample against every sample (blocked matrix products).
    Exact,
    /// Inverted file: k-means lists, each sample searches its own and its nearest lists.
    Ivf,
    /// Exact up to 50,000 samples, IVF above.
    Auto,
}

/// The graph-search options.
#[derive(Debug, Clone, Args)]
pub struct KnnArgs {
    /// How the kNN graph is searched: exact, ivf (an inverted file over spherical k-means lists,
    /// exact among the rows of each sample's --nprobe nearest lists) or auto (exact up to 50,000
    /// samples, ivf above).
    #[arg(long, value_enum, default_value = "auto")]
    pub knn: KnnArg,
    /// IVF: number of k-means lists, in 1..=n [default: round(4·√n)].
    #[arg(long, value_name = "L")]
    pub nlist: Option<usize>,
    /// IVF: lists each sample searches, its own included, in 1..=nlist [default: 8, or nlist if
    /// smaller].
    #[arg(long, value_name = "P")]
    pub nprobe: Option<usize>,
    /// IVF: measure recall@m against the exact search on N random samples (seeded by --seed)
    /// and report it.
    #[arg(long, value_name = "N")]
    pub recall_sample: Option<usize>,
}

impl KnnArgs {
    /// Whether any IVF option was given.
    pub fn any_ivf_option(&self) -> bool {
        self.nlist.is_some() || self.nprobe.is_some() || self.recall_sample.is_some()
    }

    /// The options as given, before any data size is known: IVF options with `--knn exact` and
    /// zero counts are usage errors naming the option.
    pub fn search(&self, seed: u64) -> Result<KnnSearch> {
        if self.knn == KnnArg::Exact && self.any_ivf_option() {
            let given: Vec<&str> = [
                ("--nlist", self.nlist.is_some()),
                ("--nprobe", self.nprobe.is_some()),
                ("--recall-sample", self.recall_sample.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            return Err(Error::Usage(format!(
                "{} only apply to the IVF search: use --knn ivf or --knn auto (--knn exact \
                 searches every sample)",
                given.join(", ")
            )));
        }
        if self.recall_sample == Some(0) {
            return Err(Error::Usage(
                "--recall-sample must be at least 1 (omit it to measure nothing)".into(),
            ));
        }
        let params = IvfParams {
            nlist: self.nlist,
            nprobe: self.nprobe,
            recall_sample: self.recall_sample.unwrap_or(0),
            seed,
            ..IvfParams::default()
        };
        let search = match self.knn {
            KnnArg::Exact => KnnSearch::Exact,
            KnnArg::Ivf => KnnSearch::Ivf(params),
            KnnArg::Auto => KnnSearch::Auto(params),
        };
        search.validate().map_err(option_error)?;
        Ok(search)
    }

    /// The search for `n` samples, every option checked against `n` (also under `auto` when it
    /// comes to the exact search, so a bad value never passes silently).
    pub fn resolve(&self, seed: u64, n: usize) -> Result<(KnnSearch, ResolvedSearch)> {
        let search = self.search(seed)?;
        if let KnnSearch::Auto(params) = search {
            params.resolve(n).map_err(option_error)?;
        }
        let resolved = search.resolve(n).map_err(option_error)?;
        Ok((search, resolved))
    }
}

/// The kNN graph `--neighbors` and `--symmetrize` ask for (SPEC defaults where absent).
pub(crate) fn knn_config(neighbors: Option<usize>, symmetrize: Option<SymmetrizeArg>) -> KnnConfig {
    let default = KnnConfig::default();
    KnnConfig {
        neighbors: neighbors.unwrap_or(default.neighbors),
        symmetrize: match symmetrize {
            None => default.symmetrize,
            Some(SymmetrizeArg::Max) => Symmetrize::Max,
            Some(SymmetrizeArg::Mean) => Symmetrize::Mean,
        },
    }
}

/// A core parameter error as a usage error naming the command-line option.
fn option_error(err: CoreError) -> Error {
    match err {
        CoreError::InvalidParameter {
            name,
            value,
            reason,
        } if matches!(name, "nlist" | "nprobe" | "recall-sample") => {
            Error::Usage(format!("--{name} {value}: {reason}"))
        }
        other => other.into(),
    }
}
