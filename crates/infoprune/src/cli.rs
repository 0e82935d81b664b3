//! The `infoprune` command line: argument definitions and the commands they run.

use crate::backend_choice::{open_backend, BackendArg};
use crate::demo;
use crate::error::{Error, Result};
use crate::npy::{self, Overwrite};
use crate::npy_map::MappedMatrix;
use crate::outputs;
use crate::partition::{PartitionConfig, PartitionMethod};
use crate::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use crate::progress_bars::Bars;
use crate::report::Report;
pub use crate::score_command::ScoreArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use infoprune_core::fraction::Fraction;
use infoprune_core::importance::{AlphaRule, NoiseCutoff, Representativeness, ScoreNormalization};
use infoprune_core::ivf::ResolvedSearch;
use infoprune_core::knn::{KnnConfig, Symmetrize};
use infoprune_core::memory::{self, human_bytes};
use infoprune_core::progress::{Progress, Stage};
use infoprune_core::sampling::Orientation;
use infoprune_core::scores::{compute_score, ScoreKind, ScoreOptions};
use infoprune_core::select::{Extras, SelectConfig, Selector};
use infoprune_core::selectors::CcsCutoff;
use infoprune_core::semdedup::SemDedupKeep;
use infoprune_core::{Method, RelaxedSolver};
use ndarray::{Array2, Axis};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Prune a training dataset to the subset that keeps the most information.
#[derive(Debug, Parser)]
#[command(name = "infoprune", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Select the samples to keep from embeddings (and optional importance scores), or from a
    /// given similarity (--graph K.npz).
    Select(Box<SelectArgs>),
    /// Build the kNN similarity `select` would build over all samples and save it as a SciPy .npz.
    Graph(Box<crate::graph_command::GraphArgs>),
    /// Score a subset under the InfoMax objective f(S) (and facility location) on a given graph.
    Evaluate(Box<crate::graph_command::EvaluateArgs>),
    /// Compute per-sample importance scores from training dynamics or from several models (SIM).
    Score(Box<ScoreArgs>),
    /// Keep the informative patches or tokens inside every sample (and extend captions).
    Tokens(Box<crate::tokens_command::TokensArgs>),
    /// Run the whole pipeline on built-in synthetic data and compare the methods.
    Demo(DemoArgs),
}

/// `--method`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// InfoMax: relaxed solver + rounding + swap refinement.
    Infomax,
    /// Lazy greedy on the InfoMax objective.
    Greedy,
    /// Seeded uniform random subset.
    Random,
    /// The k highest scores.
    Topk,
    /// SIMS importance sampling on the scores (pruning-ratio-aware, class-hybrid with --labels).
    Sims,
    /// Coverage-centric coreset selection (CCS); --aum enables its hard-sample cutoff.
    Ccs,
    /// Moderate coreset: the band around the median distance to the class median (needs --labels).
    Moderate,
    /// D2 message passing on the kNN graph.
    D2,
    /// SemDeDup: inside k-means clusters, drop one of every pair above cosine 1 − ε, ε chosen to
    /// meet the budget.
    Semdedup,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Infomax => Method::InfoMax,
            MethodArg::Greedy => Method::Greedy,
            MethodArg::Random => Method::Random,
            MethodArg::Topk => Method::TopK,
            MethodArg::Sims => Method::Sims,
            MethodArg::Ccs => Method::Ccs,
            MethodArg::Moderate => Method::Moderate,
            MethodArg::D2 => Method::D2,
            MethodArg::Semdedup => Method::SemDedup,
        }
    }
}

/// `--solver`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SolverArg {
    /// Projected gradient ascent.
    Pg,
    /// Entropic mirror (softmax) ascent.
    Mirror,
}

impl From<SolverArg> for RelaxedSolver {
    fn from(s: SolverArg) -> Self {
        match s {
            SolverArg::Pg => RelaxedSolver::ProjectedGradient,
            SolverArg::Mirror => RelaxedSolver::Mirror,
        }
    }
}

/// `--normalize`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum NormalizeArg {
    /// Min-max to [0, 1].
    Minmax,
    /// Average rank / n.
    Rank,
    /// As given.
    Raw,
}

/// `--kind` of `infoprune score` and `--scores-from` of `select`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScoreKindArg {
    /// ‖softmax − onehot‖₂, mean over the first epochs.
    El2n,
    /// Prediction entropy.
    Entropy,
    /// 1 − max probability.
    LeastConfidence,
    /// Top-1 minus top-2 probability (low = hard).
    Margin,
    /// Cross-entropy loss.
    Loss,
    /// Forgetting events (never learned = T).
    Forgetting,
    /// Area under the margin (low = hard or mislabeled).
    Aum,
    /// Last-layer gradient norm (needs --features with penultimate features).
    Grand,
}

impl From<ScoreKindArg> for ScoreKind {
    fn from(k: ScoreKindArg) -> Self {
        match k {
            ScoreKindArg::El2n => ScoreKind::El2n,
            ScoreKindArg::Entropy => ScoreKind::Entropy,
            ScoreKindArg::LeastConfidence => ScoreKind::LeastConfidence,
            ScoreKindArg::Margin => ScoreKind::Margin,
            ScoreKindArg::Loss => ScoreKind::Loss,
            ScoreKindArg::Forgetting => ScoreKind::Forgetting,
            ScoreKindArg::Aum => ScoreKind::Aum,
            ScoreKindArg::Grand => ScoreKind::Grand,
        }
    }
}

/// `--term` of `infoprune score --sim`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SimTermArg {
    /// SIM = separability · integrity · certainty (normalised).
    Sim,
    /// Mean separability over the models.
    Separability,
    /// Mean feature norm over the models.
    Integrity,
    /// 1 − JSD / log M across the models.
    Certainty,
}

/// `--scores-high`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScoresHighArg {
    /// User scores mean "hard / keep" (as `infoprune score` writes them); typicality means "easy".
    Auto,
    /// A high score marks a hard sample.
    Hard,
    /// A high score marks an easy sample (raw SIM, raw margin or AUM).
    Easy,
}

/// `--semdedup-keep`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SemDedupKeepArg {
    /// The harder sample of a pair (larger score; without scores the one farther from its
    /// cluster's mean direction, as SemDeDup's authors do).
    Hard,
    /// The easier sample of a pair.
    Easy,
    /// A seeded random one.
    Random,
}

/// `--partition`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PartitionArg {
    /// Seeded random partitions of equal size.
    Random,
    /// One or more partitions per class label (needs --labels).
    Class,
    /// Spherical k-means clusters, split or merged to fit --partition-size.
    Kmeans,
}

impl From<PartitionArg> for PartitionMethod {
    fn from(p: PartitionArg) -> Self {
        match p {
            PartitionArg::Random => PartitionMethod::Random,
            PartitionArg::Class => PartitionMethod::Class,
            PartitionArg::Kmeans => PartitionMethod::KMeans,
        }
    }
}

/// `--symmetrize`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SymmetrizeArg {
    /// K = max(K, Kᵀ).
    Max,
    /// K = (K + Kᵀ)/2.
    Mean,
}

/// Arguments of `infoprune select`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("budget_group").required(true).args(["keep", "budget"])))]
#[command(group(clap::ArgGroup::new("alpha_group").args(["alpha", "beta"])))]
pub struct SelectArgs {
    /// Embeddings, float32 or float64 .npy of shape n×d (optional with --graph; then only
    /// --method moderate uses them).
    #[arg(long, value_name = "E.npy", required_unless_present = "graph")]
    pub embeddings: Option<PathBuf>,
    /// Use this similarity K (a SciPy sparse .npz, n×n, symmetric, non-negative, zero diagonal,
    /// e.g. from `infoprune graph`) instead of building a kNN graph: one problem over all n
    /// samples, no partitions.
    #[arg(long, value_name = "K.npz")]
    pub graph: Option<PathBuf>,
    /// Importance scores, float32/float64 .npy of length n (high = keep). Omitted: typicality only.
    #[arg(long, value_name = "S.npy", conflicts_with = "scores_from")]
    pub scores: Option<PathBuf>,
    /// Compute the importance from training dynamics instead (needs --logits and --labels).
    #[arg(long, value_enum, value_name = "KIND", requires_all = ["logits", "labels"])]
    pub scores_from: Option<ScoreKindArg>,
    /// Logits saved during training, T×n×C, for --scores-from.
    #[arg(long, value_name = "L.npy")]
    pub logits: Option<PathBuf>,
    /// Penultimate features n×d for --scores-from grand.
    #[arg(long, value_name = "H.npy")]
    pub score_features: Option<PathBuf>,
    /// Integer class labels of length n (SIMS's class stage, moderate, --scores-from).
    #[arg(long, value_name = "y.npy")]
    pub labels: Option<PathBuf>,
    /// Area under the margin of length n, for CCS's hard cutoff (e.g. `infoprune score --kind aum --raw`).
    #[arg(long, value_name = "A.npy")]
    pub aum: Option<PathBuf>,
    /// SIMS: fraction λ of the budget drawn inside each class when --labels is given
    /// [default: 0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub class_fraction: Option<f64>,
    /// SIMS: what a high score means [default: auto].
    #[arg(long, value_enum)]
    pub scores_high: Option<ScoresHighArg>,
    /// Fraction of the samples to keep, in (0, 1]; k = max(1, round(keep·n)), computed exactly
    /// from the decimal given.
    #[arg(long, value_name = "FRACTION", allow_negative_numbers = true)]
    pub keep: Option<Fraction>,
    /// Number of samples to keep.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub budget: Option<usize>,
    /// Output: the kept indices, sorted, as an int64 .npy.
    #[arg(long, value_name = "keep.npy")]
    pub out: PathBuf,
    /// Selection method.
    #[arg(long, value_enum, default_value = "infomax")]
    pub method: MethodArg,
    /// Relaxed solver for infomax [default: pg].
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// Pairwise weight α, given directly.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// α = β·mean(s)/((k/n)·mean degree) (default β = 1).
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Neighbours per sample in the similarity graph, at least 1 [default: 10].
    #[arg(long, conflicts_with = "graph", allow_negative_numbers = true, value_parser = at_least_one)]
    pub neighbors: Option<usize>,
    /// How the kNN lists are made symmetric [default: max].
    #[arg(long, value_enum, conflicts_with = "graph")]
    pub symmetrize: Option<SymmetrizeArg>,
    /// How the kNN graph is searched (--knn, --nlist, --nprobe, --recall-sample).
    #[command(flatten)]
    pub knn_search: crate::knn_args::KnnArgs,
    /// Weight γ of typicality in the importance, with scores: `auto` (= pruning ratio) or a
    /// number in [0, 1] [default: auto].
    #[arg(long, value_name = "auto|G", allow_hyphen_values = true)]
    pub representativeness: Option<String>,
    /// Noise signal, .npy of length n (high = likely mislabeled, e.g. minus AUM).
    #[arg(long, value_name = "N.npy")]
    pub noise: Option<PathBuf>,
    /// Fraction of the noisiest samples (--noise) to drop: `auto` (0 / 0.1 / 0.2 by pruning
    /// ratio) or C [default: auto].
    #[arg(long, value_name = "auto|C", allow_hyphen_values = true)]
    pub drop_noisy: Option<String>,
    /// CCS's own cutoff: the fraction β of lowest-AUM samples `--method ccs --aum` drops: `auto`
    /// (0.1 below 70% pruning, 0.2 from 70%, 0.3 from 80%) or β [default: auto].
    #[arg(long, value_name = "auto|B", allow_hyphen_values = true)]
    pub ccs_cutoff: Option<String>,
    /// Which sample of a near-duplicate pair `--method semdedup` keeps [default: hard].
    #[arg(long, value_enum)]
    pub semdedup_keep: Option<SemDedupKeepArg>,
    /// Largest k-means cluster `--method semdedup` compares pairs in [default: 1000].
    #[arg(long, allow_negative_numbers = true)]
    pub semdedup_cluster_size: Option<usize>,
    /// How scores are normalised before use [default: minmax].
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Maximum solver iterations (infomax) [default: 100].
    #[arg(long, allow_negative_numbers = true)]
    pub iterations: Option<usize>,
    /// Stop when the largest change of x falls below this (infomax) [default: 0.0001].
    #[arg(long, allow_negative_numbers = true)]
    pub tolerance: Option<f64>,
    /// Step growth after each accepted solver step, 1 = SPEC's fixed step 1/L (infomax)
    /// [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub step_growth: Option<f64>,
    /// Most swap-refinement rounds after rounding, 0 disables it; the refinement stops earlier at
    /// a 1-swap optimum (infomax) [default: 1000].
    #[arg(long, allow_negative_numbers = true)]
    pub swap_rounds: Option<usize>,
    /// Also run greedy + the swap refinement and keep whichever set has the larger f(S)
    /// (infomax). Off by default: greedy's larger f can come from keeping near-duplicate pairs.
    #[arg(long)]
    pub greedy_candidate: bool,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,
    /// Write a JSON report here.
    #[arg(long, value_name = "report.json")]
    pub report: Option<PathBuf>,
    /// Refuse to run (before reading the data) if the estimated peak memory exceeds this, e.g. `4G`.
    #[arg(
        long,
        value_name = "SIZE",
        conflicts_with = "graph",
        allow_hyphen_values = true
    )]
    pub max_memory: Option<String>,
    /// Drop samples with a NaN or infinite value in any input (and report how many) instead of
    /// refusing the input.
    #[arg(long, conflicts_with = "graph")]
    pub drop_nonfinite: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// How the dataset is cut into independent partitions [default: with an IVF graph, one
    /// problem over all samples, or groups of whole IVF lists when that does not fit
    /// --max-memory; with the exact search, random].
    #[arg(long, value_enum, conflicts_with = "graph")]
    pub partition: Option<PartitionArg>,
    /// Largest partition (each gets its own kNN graph and problem) [default: 50000]. With an IVF
    /// graph and no --partition, partitions are only made when one global problem does not fit
    /// --max-memory; this then bounds the groups of IVF lists.
    #[arg(long, conflicts_with = "graph", allow_negative_numbers = true)]
    pub partition_size: Option<usize>,
    /// Keep each class's share of the budget exactly (needs --labels): every partition is split by
    /// class, and each class keeps its share of k, rounded by largest remainder.
    #[arg(long, conflicts_with = "graph")]
    pub class_quota: bool,
    /// With --class-quota: classes that must receive a quota (comma-separated); one with no
    /// samples is an error.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "graph"
    )]
    pub quota_classes: Vec<i64>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// No progress bars and no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `infoprune demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Samples to generate.
    #[arg(long, default_value_t = 20_000, allow_negative_numbers = true)]
    pub n: usize,
    /// Embedding dimension.
    #[arg(long, default_value_t = 32, allow_negative_numbers = true)]
    pub dim: usize,
    /// Gaussian clusters (at most --n).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true)]
    pub clusters: usize,
    /// Fraction to keep.
    #[arg(long, default_value = "0.1", allow_negative_numbers = true)]
    pub keep: Fraction,
    /// Seed of the data and of the random baseline.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,
    /// Refuse to run if the estimated peak memory exceeds this, e.g. `4G` [default: the
    /// machine's memory].
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub max_memory: Option<String>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses `auto` or a number.
fn auto_or_number(flag: &str, text: &str) -> Result<Option<f64>> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--{flag} must be 'auto' or a number, found '{text}'"
            ))
        })
}

/// A `--neighbors` value: a count of at least 1 (0 neighbours would make an empty graph).
pub(crate) fn at_least_one(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1, found 0".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(format!(
            "expected a whole number of at least 1, found '{text}' ({e})"
        )),
    }
}

/// `k` from `--keep` or `--budget`; `round(keep·n)` is computed exactly from the decimal given.
pub fn resolve_budget(keep: Option<&Fraction>, budget: Option<usize>, n: usize) -> Result<usize> {
    match (keep, budget) {
        (Some(f), None) => {
            if !(f.value() > 0.0 && f.value() <= 1.0) {
                return Err(Error::Usage(format!(
                    "--keep must be a fraction in (0, 1], found {f}"
                )));
            }
            Ok(f.round_times(n).max(1))
        }
        (None, Some(k)) => Ok(k),
        _ => Err(Error::Usage(
            "give exactly one of --keep and --budget".into(),
        )),
    }
}

impl SelectArgs {
    fn config(&self, k: usize) -> Result<SelectConfig> {
        let defaults = SelectConfig::new(k);
        let mut config = SelectConfig::new(k)
            .method(self.method.into())
            .solver(self.solver.map_or(defaults.solver, RelaxedSolver::from))
            .seed(self.seed);
        config.knn = knn_config(self.neighbors, self.symmetrize);
        config.search = self.knn_search.search(self.seed)?;
        config.normalization = match self.normalize {
            None => defaults.normalization,
            Some(NormalizeArg::Minmax) => ScoreNormalization::MinMax,
            Some(NormalizeArg::Rank) => ScoreNormalization::Rank,
            Some(NormalizeArg::Raw) => ScoreNormalization::Raw,
        };
        config.alpha = match (self.alpha, self.beta) {
            (Some(a), _) => AlphaRule::Fixed(a),
            (None, Some(b)) => AlphaRule::Beta(b),
            (None, None) => AlphaRule::default(),
        };
        config.representativeness = match self.representativeness.as_deref() {
            None => defaults.representativeness,
            Some(text) => match auto_or_number("representativeness", text)? {
                None => Representativeness::Auto,
                Some(g) => Representativeness::Fixed(g),
            },
        };
        config.noise_cutoff = match self.drop_noisy.as_deref() {
            None => defaults.noise_cutoff,
            Some(text) => match auto_or_number("drop-noisy", text)? {
                None => NoiseCutoff::Auto,
                Some(c) => NoiseCutoff::Fraction(c),
            },
        };
        config.semdedup_keep = match self.semdedup_keep {
            None => defaults.semdedup_keep,
            Some(SemDedupKeepArg::Hard) => SemDedupKeep::Hard,
            Some(SemDedupKeepArg::Easy) => SemDedupKeep::Easy,
            Some(SemDedupKeepArg::Random) => SemDedupKeep::Random,
        };
        config.semdedup_cluster_size = self
            .semdedup_cluster_size
            .unwrap_or(defaults.semdedup_cluster_size);
        config.ccs_cutoff = match self.ccs_cutoff.as_deref() {
            None => defaults.ccs_cutoff,
            Some(text) => match auto_or_number("ccs-cutoff", text)? {
                None => CcsCutoff::Auto,
                Some(b) => CcsCutoff::Fraction(b),
            },
        };
        config.sims_class_fraction = self.class_fraction.unwrap_or(defaults.sims_class_fraction);
        config.scores_orientation = match self.scores_high {
            None | Some(ScoresHighArg::Auto) => None,
            Some(ScoresHighArg::Hard) => Some(Orientation::HighIsHard),
            Some(ScoresHighArg::Easy) => Some(Orientation::HighIsEasy),
        };
        let solver = &defaults.solver_params;
        config.solver_params.iterations = self.iterations.unwrap_or(solver.iterations);
        config.solver_params.tolerance = self.tolerance.unwrap_or(solver.tolerance);
        config.solver_params.swap_rounds = self.swap_rounds.unwrap_or(solver.swap_rounds);
        config.solver_params.step_growth = self.step_growth.unwrap_or(solver.step_growth);
        config.solver_params.greedy_candidate = self.greedy_candidate;
        Ok(config)
    }

    /// Refuses every option that would have no effect with the others given (a silent no-op
    /// looks like a result): the solver's options without infomax, SIMS's without sims, labels
    /// nothing reads, and so on. The data is not looked at; this runs before any work.
    fn refuse_ineffective(&self) -> Result<()> {
        let method = self.method;
        let is = |m: MethodArg| method == m;
        let method_name = || Method::from(method).name();
        let mut refusals: Vec<(&str, String)> = Vec::new();
        let solver_options = [
            ("solver", self.solver.is_some()),
            ("iterations", self.iterations.is_some()),
            ("tolerance", self.tolerance.is_some()),
            ("step-growth", self.step_growth.is_some()),
            ("swap-rounds", self.swap_rounds.is_some()),
            ("greedy-candidate", self.greedy_candidate),
        ];
        if !is(MethodArg::Infomax) {
            for (flag, given) in solver_options {
                if given {
                    refusals.push((
                        flag,
                        format!(
                            "only --method infomax uses it, not --method {}",
                            method_name()
                        ),
                    ));
                }
            }
        }
        if !is(MethodArg::Sims) {
            if self.scores_high.is_some() {
                refusals.push((
                    "scores-high",
                    format!("only --method sims uses it, not --method {}", method_name()),
                ));
            }
            if self.class_fraction.is_some() {
                refusals.push((
                    "class-fraction",
                    format!("only --method sims uses it, not --method {}", method_name()),
                ));
            }
        } else if self.class_fraction.is_some() && self.labels.is_none() {
            refusals.push((
                "class-fraction",
                "SIMS draws inside classes only with --labels".into(),
            ));
        }
        if self.ccs_cutoff.is_some() && !(is(MethodArg::Ccs) && self.aum.is_some()) {
            refusals.push((
                "ccs-cutoff",
                "only --method ccs with --aum drops the lowest-AUM samples".into(),
            ));
        }
        for (flag, given) in [
            ("semdedup-keep", self.semdedup_keep.is_some()),
            (
                "semdedup-cluster-size",
                self.semdedup_cluster_size.is_some(),
            ),
        ] {
            if given && !is(MethodArg::Semdedup) {
                refusals.push((
                    flag,
                    format!(
                        "only --method semdedup uses it, not --method {}",
                        method_name()
                    ),
                ));
            }
        }
        if self.aum.is_some() && !is(MethodArg::Ccs) {
            refusals.push((
                "aum",
                format!("only --method ccs uses it, not --method {}", method_name()),
            ));
        }
        let has_scores = self.scores.is_some() || self.scores_from.is_some();
        if !has_scores {
            if self.normalize.is_some() {
                refusals.push((
                    "normalize",
                    "there are no scores to normalise (give --scores or --scores-from)".into(),
                ));
            }
            if self.representativeness.is_some() {
                refusals.push(("representativeness", "without scores the importance is typicality alone (give --scores or --scores-from)".into()));
            }
        }
        let labels_read = is(MethodArg::Sims)
            || is(MethodArg::Moderate)
            || self.scores_from.is_some()
            || self.partition == Some(PartitionArg::Class)
            || self.class_quota;
        if self.labels.is_some() && !labels_read {
            refusals.push((
                "labels",
                format!(
                "nothing reads them with --method {}: they are used by --method sims or moderate, \
                 --scores-from, --partition class and --class-quota", method_name()),
            ));
        }
        if self.logits.is_some() && self.scores_from.is_none() {
            refusals.push(("logits", "it is read only with --scores-from".into()));
        }
        if self.score_features.is_some() && self.scores_from != Some(ScoreKindArg::Grand) {
            refusals.push((
                "score-features",
                "it is read only with --scores-from grand".into(),
            ));
        }
        if !self.quota_classes.is_empty() && !self.class_quota {
            refusals.push(("quota-classes", "it is read only with --class-quota".into()));
        }
        // `--drop-noisy 0` asks for what happens anyway without --noise: nothing is dropped.
        // (CCS's own cutoff is --ccs-cutoff, not this one.)
        if let Some(text) = self.drop_noisy.as_deref() {
            let drops = auto_or_number("drop-noisy", text)? != Some(0.0);
            if drops && self.noise.is_none() {
                refusals.push((
                    "drop-noisy",
                    "there is no --noise signal to drop samples by".into(),
                ));
            }
        }
        if self.noise.is_some() {
            if let Some(text) = self.drop_noisy.as_deref() {
                if auto_or_number("drop-noisy", text)? == Some(0.0) {
                    refusals.push(("noise", "--drop-noisy 0 drops no sample".into()));
                }
            }
        }
        if self.graph.is_some() && self.embeddings.is_some() && !is(MethodArg::Moderate) {
            refusals.push((
                "embeddings",
                format!(
                    "with --graph only --method moderate reads the embeddings, not --method {}",
                    method_name()
                ),
            ));
        }
        match refusals.first() {
            Some((flag, why)) => Err(Error::Usage(format!("--{flag} has no effect here: {why}"))),
            None => Ok(()),
        }
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

pub(crate) fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    }
}

/// Refuses before any work is done an output path that cannot be written (see
/// [`outputs::check_outputs`]), or that exists while `--force` is absent.
pub(crate) fn check_outputs(outputs: &[(&str, &Path)], force: bool) -> Result<()> {
    outputs::check_outputs(outputs, force)
}

/// Reads a per-sample vector that must have `n` values; `source` says where `n` comes from
/// ("the embeddings have", "the graph K.npz has").
fn read_vector(path: &Path, what: &str, n: usize, source: &str) -> Result<Vec<f32>> {
    let v = npy::read_f32_vector(path)?;
    if v.len() != n {
        return Err(Error::Usage(format!(
            "{what} {} has {} values but {source} n = {n} rows",
            path.display(),
            v.len()
        )));
    }
    Ok(v)
}

fn read_labels(path: &Path, n: usize) -> Result<Vec<i64>> {
    let labels = npy::read_i64_vector(path)?;
    if labels.len() != n {
        return Err(Error::Usage(format!(
            "labels {} has {} values but the data has n = {n} samples",
            path.display(),
            labels.len()
        )));
    }
    Ok(labels)
}

/// A score from saved logits (`T × n × C`); `features` are the penultimate features for GraNd.
pub(crate) fn score_from_logits(
    kind: ScoreKind,
    logits: &Path,
    labels: &[i64],
    features: Option<&Path>,
    options: &ScoreOptions,
) -> Result<Vec<f32>> {
    // Little-endian float32 in C order (what numpy saves) is scored straight from the memory map:
    // the pages are file-backed, so logits of any size (10^6 samples × 1,000 classes × 20 epochs
    // is 80 GB) stream through the page cache instead of being read into memory. Anything else
    // (float64, Fortran order, big-endian) is converted in memory once.
    let mapped = crate::npy_map::MappedMatrix::open_rows(logits).ok();
    let in_place = mapped.as_ref().and_then(|m| match *m.shape() {
        [t, n, c] => m.view()?.into_shape_with_order((t, n, c)).ok(),
        _ => None,
    });
    let read;
    let z = match in_place {
        Some(view) => view,
        None => {
            read = npy::read_f32_array3(logits)?;
            read.view()
        }
    };
    if z.dim().1 != labels.len() {
        return Err(Error::Usage(format!(
            "logits {} hold n = {} samples (shape T×n×C = {:?}) but the labels have {}",
            logits.display(),
            z.dim().1,
            z.dim(),
            labels.len()
        )));
    }
    let h = features.map(npy::read_f32_matrix).transpose()?;
    Ok(compute_score(
        kind,
        z,
        labels,
        h.as_ref().map(|h| h.view()),
        options,
    )?)
}

/// The per-sample inputs of `select`, all indexed like the embeddings' rows.
struct Inputs {
    /// The whole matrix, when it had to be read (for `--drop-nonfinite`); otherwise the map is used.
    embeddings: Option<Array2<f32>>,
    scores: Option<Vec<f32>>,
    noise: Option<Vec<f32>>,
    labels: Option<Vec<i64>>,
    aum: Option<Vec<f32>>,
}

impl Inputs {
    /// The per-sample vectors as the pipeline takes them.
    fn sample_inputs(&self) -> SampleInputs<'_> {
        SampleInputs {
            scores: self.scores.as_deref(),
            labels: self.labels.as_deref(),
            noise: self.noise.as_deref(),
            aum: self.aum.as_deref(),
        }
    }

    /// Removes every sample with a NaN or infinite value in any float input; returns the inputs
    /// that remain and the original index of each remaining row.
    fn drop_nonfinite(self) -> Result<(Inputs, Vec<usize>)> {
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

/// Estimates the peak memory from the embeddings' header (nothing is read yet) and refuses the run
/// if `--max-memory` is exceeded. Returns the estimate in bytes (0 if the header has no 2-D shape:
/// the reader will then say what is wrong).
fn check_memory(args: &SelectArgs, embeddings: &Path) -> Result<u64> {
    let header = npy::read_header(embeddings)?;
    let (n, d) = match header.shape[..] {
        [n, d] => (n as u64, d as u64),
        _ => return Ok(0),
    };
    let threads = rayon::current_num_threads() as u64;
    let (itemsize, m) = (
        header.dtype.itemsize() as u64,
        knn_config(args.neighbors, args.symmetrize).neighbors as u64,
    );
    let mut estimate = memory::estimate(n, d, itemsize, m, threads);
    let limit = args
        .max_memory
        .as_deref()
        .map(|text| {
            memory::parse_bytes(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--max-memory must be a size such as 512M or 4G, found '{text}'"
                ))
            })
        })
        .transpose()?;
    let (_, resolved) = args.knn_search.resolve(args.seed, n as usize)?;
    if let (ResolvedSearch::Ivf(s), true) = (resolved, global_layout(args)) {
        // One problem over all n if it fits, else groups of whole IVF lists solved a batch at a
        // time (the pipeline makes the same choice from the same estimate).
        let (nlist, nprobe) = (s.nlist as u64, s.nprobe as u64);
        estimate = memory::estimate_ivf(n, d, itemsize, m, threads, nlist, nprobe);
        if limit.is_some_and(|limit| estimate.peak > limit) {
            let batch_rows = n.min(partition_size(args) as u64 * 4 * threads.max(1));
            estimate = memory::estimate_ivf_partitioned(
                n, d, itemsize, m, threads, nlist, nprobe, batch_rows,
            );
        }
    }
    if let Some(limit) = limit {
        if estimate.peak > limit {
            return Err(Error::Usage(format!(
                "estimated peak memory {} (input {}, graph {}, solver {}) exceeds --max-memory {}",
                human_bytes(estimate.peak),
                human_bytes(estimate.input),
                human_bytes(estimate.graph),
                human_bytes(estimate.solver),
                human_bytes(limit)
            )));
        }
    }
    Ok(estimate.peak)
}

/// Reads the per-sample inputs of `select` (scores, possibly from logits; noise; labels; AUM),
/// each checked to have `n` values; `source` says where `n` comes from.
fn read_inputs(args: &SelectArgs, n: usize, source: &str) -> Result<Inputs> {
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
    Ok(Inputs {
        embeddings: None,
        scores,
        noise: args
            .noise
            .as_deref()
            .map(|p| read_vector(p, "noise", n, source))
            .transpose()?,
        labels,
        aum: args
            .aum
            .as_deref()
            .map(|p| read_vector(p, "aum", n, source))
            .transpose()?,
    })
}

/// What a run of `select` measured besides the pipeline's own result.
struct RunFacts<'a> {
    started: Instant,
    n: usize,
    read_seconds: f64,
    dropped_nonfinite: usize,
    estimated_peak_bytes: u64,
    backend: String,
    gpu: Option<infoprune_core::backend::DeviceCounters>,
    graph: Option<&'a Path>,
}

/// Writes the kept indices and the report, and prints the summary line.
fn finish_select(
    args: &SelectArgs,
    config: &PrunerConfig,
    pruned: &crate::pipeline::Pruned,
    facts: RunFacts,
    bars: &Bars,
) -> Result<()> {
    let n = facts.n;
    bars.start(Stage::Write, 1);
    let write_start = Instant::now();
    let kept: Vec<i64> = pruned.indices.iter().map(|&i| i as i64).collect();
    // Both outputs are staged, then put in place together: all or nothing.
    let mut staged = vec![outputs::stage(
        &args.out,
        &npy::i64_vector_bytes(&args.out, &kept)?,
    )?];
    let write_seconds = write_start.elapsed().as_secs_f64();
    if let Some(path) = &args.report {
        let mut report = Report::new(
            pruned,
            config,
            n,
            &[("read", facts.read_seconds), ("write", write_seconds)],
        );
        report.dropped_nonfinite = facts.dropped_nonfinite;
        report.estimated_peak_bytes = facts.estimated_peak_bytes;
        report.backend = facts.backend.clone();
        report.gpu = facts.gpu.map(Into::into);
        if let Some(graph) = facts.graph {
            report.graph = Some(graph.display().to_string());
            report.neighbors = None;
            report.partition_method = "none";
        }
        staged.push(outputs::stage(path, report.to_json().as_bytes())?);
    }
    outputs::commit(staged, overwrite(args.force))?;
    bars.finish(Stage::Write);
    if !args.quiet {
        let layout = match facts.graph {
            Some(graph) => format!(
                "graph {}, α = {}",
                graph.display(),
                pruned.partitions.first().map_or(0.0, |p| p.alpha)
            ),
            None => format!(
                "{} partition(s) in {} batch(es)",
                pruned.partitions.len(),
                pruned.batches
            ),
        };
        crate::errln!(
            "kept {} of {} samples ({}{}), f(S) = {:.6}, {}, {} noisy and {} non-finite dropped, {:.2} s → {}",
            kept.len(),
            n,
            config.select.method.name(),
            if config.select.method == Method::InfoMax {
                format!("/{}", config.select.solver.name())
            } else {
                String::new()
            },
            pruned.objective,
            layout,
            pruned.dropped_noisy,
            facts.dropped_nonfinite,
            facts.started.elapsed().as_secs_f64(),
            args.out.display()
        )?;
    }
    Ok(())
}

/// `infoprune select`.
pub fn select(args: &SelectArgs) -> Result<()> {
    let started = Instant::now();
    args.refuse_ineffective()?;
    let mut paths = vec![("out", args.out.as_path())];
    paths.extend(args.report.as_deref().map(|r| ("report", r)));
    check_outputs(&paths, args.force)?;
    let bars = Bars::new(args.quiet);
    match &args.graph {
        Some(graph) => select_with_graph(args, graph, started, &bars),
        None => select_with_embeddings(args, started, &bars),
    }
}

/// Whether the SPEC §1.4 layout applies (one global problem when the search is IVF and it fits,
/// else groups of whole IVF lists of at most `--partition-size`): no `--partition` given.
fn global_layout(args: &SelectArgs) -> bool {
    args.partition.is_none()
}

/// `--partition-size` or its default.
fn partition_size(args: &SelectArgs) -> usize {
    args.partition_size
        .unwrap_or(PartitionConfig::default().max_size)
}

/// The memory budget the pipeline weighs the one global problem against: `--max-memory` less
/// what a float64 file costs beyond the float32 input the pipeline's estimate counts.
fn memory_budget(args: &SelectArgs, mapped: &MappedMatrix, itemsize: u64) -> Option<u64> {
    let limit = args.max_memory.as_deref().and_then(memory::parse_bytes)?;
    let extra = (mapped.nrows() as u64)
        .saturating_mul(mapped.ncols() as u64)
        .saturating_mul(itemsize.saturating_sub(4));
    Some(limit.saturating_sub(extra))
}

/// `infoprune select --embeddings E.npy`: partitions, a kNN graph and a problem per partition.
fn select_with_embeddings(args: &SelectArgs, started: Instant, bars: &Bars) -> Result<()> {
    let embeddings_path = args.embeddings.as_deref().ok_or_else(|| {
        Error::Usage("--embeddings E.npy is required unless --graph K.npz is given".into())
    })?;
    let estimate = check_memory(args, embeddings_path)?;
    let read_start = Instant::now();
    let mapped = MappedMatrix::open(embeddings_path)?;
    let n = mapped.nrows();
    let mut inputs = read_inputs(args, n, "the embeddings have")?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let mut rows = None;
    if args.drop_nonfinite {
        inputs.embeddings = Some(mapped.whole()?.into_owned());
        let (kept, kept_rows) = inputs.drop_nonfinite()?;
        inputs = kept;
        rows = Some(kept_rows);
    }
    let read_seconds = read_start.elapsed().as_secs_f64();
    let embeddings = match &inputs.embeddings {
        Some(e) => Embeddings::View(e.view()),
        None => Embeddings::Mapped(&mapped),
    };

    let default_partition = PartitionConfig::default();
    let config = PrunerConfig {
        select: args.config(k)?,
        partition: PartitionConfig {
            method: args
                .partition
                .map_or(default_partition.method, PartitionMethod::from),
            max_size: args.partition_size.unwrap_or(default_partition.max_size),
            seed: args.seed,
            global: global_layout(args),
            memory_budget: memory_budget(
                args,
                &mapped,
                npy::read_header(embeddings_path)?.dtype.itemsize() as u64,
            ),
            ..default_partition
        },
        class_quota: args.class_quota,
        quota_classes: args.quota_classes.clone(),
    };
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let mut pruned = pruner.run(embeddings, inputs.sample_inputs(), bars)?;
    let dropped_nonfinite = match &rows {
        Some(rows) => {
            for i in &mut pruned.indices {
                *i = rows[*i];
            }
            n - rows.len()
        }
        None => 0,
    };
    let facts = RunFacts {
        started,
        n,
        read_seconds,
        dropped_nonfinite,
        estimated_peak_bytes: estimate,
        backend: pruner.backend_ref().name(),
        gpu: pruner.backend_ref().counters(),
        graph: None,
    };
    finish_select(args, &config, &pruned, facts, bars)
}

/// `infoprune select --graph K.npz`: the given similarity, one problem over all its n samples.
fn select_with_graph(
    args: &SelectArgs,
    graph_path: &Path,
    started: Instant,
    bars: &Bars,
) -> Result<()> {
    if args.knn_search.knn != crate::knn_args::KnnArg::Auto || args.knn_search.any_ivf_option() {
        return Err(Error::Usage(
            "--knn, --nlist, --nprobe and --recall-sample choose how a kNN graph is searched; \
             with --graph K.npz none is built"
                .into(),
        ));
    }
    let read_start = Instant::now();
    let graph = crate::npz::read_csr(graph_path)?;
    let n = graph.n();
    let source = format!("the graph {} has", graph_path.display());
    // The embeddings are only read by the method that needs them; their row count must match.
    let mapped = args
        .embeddings
        .as_deref()
        .map(MappedMatrix::open)
        .transpose()?;
    if let (Some(m), Some(path)) = (&mapped, args.embeddings.as_deref()) {
        if m.nrows() != n {
            return Err(Error::Usage(format!(
                "embeddings {} have {} rows but the graph {} has n = {n}",
                path.display(),
                m.nrows(),
                graph_path.display()
            )));
        }
    }
    let inputs = read_inputs(args, n, &source)?;
    let k = resolve_budget(args.keep.as_ref(), args.budget, n)?;
    let all = match &mapped {
        Some(m) if args.method == MethodArg::Moderate => Some(m.whole()?),
        _ => None,
    };
    let embeddings = all.as_ref().map(|a| a.view());
    let read_seconds = read_start.elapsed().as_secs_f64();

    let config = PrunerConfig {
        select: args.config(k)?,
        partition: PartitionConfig::default(),
        class_quota: false,
        quota_classes: Vec::new(),
    };
    let pruner = Pruner::new(config.clone()).backend(open_backend(args.backend, args.quiet)?);
    let pruned = pruner.run_graph(graph, embeddings, inputs.sample_inputs(), bars)?;
    let facts = RunFacts {
        started,
        n,
        read_seconds,
        dropped_nonfinite: 0,
        estimated_peak_bytes: 0,
        backend: pruner.backend_ref().name(),
        gpu: pruner.backend_ref().counters(),
        graph: Some(graph_path),
    };
    finish_select(args, &config, &pruned, facts, bars)
}

/// One row of the demo's comparison table.
#[derive(Debug, Clone)]
pub struct DemoRow {
    /// Method (and solver) name.
    pub name: String,
    /// `f(S)`.
    pub objective: f64,
    /// Duplicate pairs of which both copies were kept.
    pub duplicates_kept: usize,
    /// Outliers kept.
    pub outliers_kept: usize,
    /// Seconds of the method itself (the shared graph excluded).
    pub seconds: f64,
}

/// Runs every method on the demo data and returns the table rows (graph seconds first).
pub fn demo_rows(
    args: &DemoArgs,
    bars: &Bars,
) -> Result<(demo::DemoData, f64, Vec<DemoRow>, String)> {
    if args.n < 100 {
        return Err(Error::Usage(format!(
            "--n must be at least 100, found {}",
            args.n
        )));
    }
    if args.dim == 0 || args.clusters == 0 {
        return Err(Error::Usage(
            "--dim and --clusters must be at least 1".into(),
        ));
    }
    if args.clusters > args.n {
        return Err(Error::Usage(format!(
            "--clusters must be at most --n = {}, found {}",
            args.n, args.clusters
        )));
    }
    let k = resolve_budget(Some(&args.keep), None, args.n)?;
    check_demo_memory(args)?;
    let data = demo::generate(args.n, args.dim, args.clusters, args.seed);
    let selector = Selector::with_backend(
        SelectConfig::new(k).seed(args.seed),
        open_backend(args.backend, args.quiet)?,
    )?;
    let start = Instant::now();
    let prepared = selector.prepare(data.embeddings.view(), Some(&data.scores), None, bars)?;
    let graph_seconds = start.elapsed().as_secs_f64();
    let runs = [
        (
            "infomax (pg)",
            Method::InfoMax,
            RelaxedSolver::ProjectedGradient,
        ),
        ("infomax (mirror)", Method::InfoMax, RelaxedSolver::Mirror),
        ("greedy", Method::Greedy, RelaxedSolver::default()),
        ("topk", Method::TopK, RelaxedSolver::default()),
        ("random", Method::Random, RelaxedSolver::default()),
        ("sims", Method::Sims, RelaxedSolver::default()),
        ("d2", Method::D2, RelaxedSolver::default()),
        ("ccs", Method::Ccs, RelaxedSolver::default()),
        ("moderate", Method::Moderate, RelaxedSolver::default()),
    ];
    let extras = Extras {
        labels: Some(&data.labels),
        aum: None,
        embeddings: Some(data.embeddings.view()),
    };
    let mut rows = Vec::new();
    for (name, method, solver) in runs {
        let config = selector.config().clone().solver(solver);
        let start = Instant::now();
        let sel = prepared.select_with(&config, method, extras, bars)?;
        rows.push(DemoRow {
            name: name.to_string(),
            objective: sel.objective,
            duplicates_kept: data.duplicates_kept(&sel.indices),
            outliers_kept: data.outliers_kept(&sel.indices),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let backend = selector.backend().name();
    Ok((data, graph_seconds, rows, backend))
}

/// Refuses a demo whose data would not fit: the same estimate as `select --max-memory` (f32
/// embeddings, the kNN graph, the solver), against `--max-memory` or else the machine's memory.
fn check_demo_memory(args: &DemoArgs) -> Result<()> {
    let threads = rayon::current_num_threads() as u64;
    let estimate = memory::estimate(
        args.n as u64,
        args.dim as u64,
        4,
        KnnConfig::default().neighbors as u64,
        threads,
    );
    // The cluster centres (clusters × dim) come on top.
    let peak = estimate.peak.saturating_add(
        (args.clusters as u64)
            .saturating_mul(args.dim as u64)
            .saturating_mul(4),
    );
    let (limit, source) = match &args.max_memory {
        Some(text) => (
            memory::parse_bytes(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--max-memory must be a size such as 512M or 4G, found '{text}'"
                ))
            })?,
            "--max-memory",
        ),
        None => match physical_memory() {
            Some(bytes) => (bytes, "this machine's memory"),
            None => (u64::MAX, "this machine's memory"),
        },
    };
    if peak > limit {
        return Err(Error::Usage(format!(
            "--n {} --dim {} --clusters {}: estimated peak memory {} exceeds {source} {}",
            args.n,
            args.dim,
            args.clusters,
            human_bytes(peak),
            human_bytes(limit)
        )));
    }
    Ok(())
}

/// The machine's memory in bytes (`MemTotal` of `/proc/meminfo`), where the system says. Read
/// by hand: one line of one file does not warrant a system-information crate and its build.
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// `infoprune demo`.
pub fn demo(args: &DemoArgs) -> Result<()> {
    let bars = Bars::new(args.quiet);
    let (data, graph_seconds, rows, backend) = demo_rows(args, &bars)?;
    let k = resolve_budget(Some(&args.keep), None, args.n)?;
    crate::outln!(
        "infoprune demo: n = {}, d = {}, {} clusters, {} planted duplicate pairs, {} outliers; keep k = {} ({:.0}%)",
        args.n,
        args.dim,
        args.clusters,
        data.duplicate_pairs.len(),
        data.outliers.len(),
        k,
        100.0 * args.keep.value()
    )?;
    crate::outln!("backend: {backend}")?;
    crate::outln!("shared kNN graph (m = 10) and importance: {graph_seconds:.3} s\n")?;
    crate::outln!(
        "{:<18} {:>14} {:>16} {:>14} {:>10}",
        "method",
        "f(S)",
        "duplicates kept",
        "outliers kept",
        "seconds"
    )?;
    for r in &rows {
        crate::outln!(
            "{:<18} {:>14.4} {:>16} {:>14} {:>10.3}",
            r.name,
            r.objective,
            r.duplicates_kept,
            r.outliers_kept,
            r.seconds
        )?;
    }
    crate::outln!(
        "\nf(S) = Σ s_i − α Σ K_ij over the kept set (higher is better); duplicates kept counts pairs with both copies kept."
    )?;
    Ok(())
}
