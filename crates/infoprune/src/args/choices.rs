//! The choices of the command-line options (`--method`, `--solver`, `--normalize`, `--kind`,
//! `--term`, `--scores-high`, `--semdedup-keep`, `--partition`, `--symmetrize`) and the core types
//! they stand for.

use crate::partition::PartitionMethod;
use clap::ValueEnum;
use infoprune_core::scores::ScoreKind;
use infoprune_core::{Method, RelaxedSolver};

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

/// `--typicality` of `select`: how the degrees become the typicality `d̂`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TypicalityArg {
    /// Min-max to [0, 1].
    Minmax,
    /// Average rank / n (a heavy-tailed degree does not squash the typical samples).
    Rank,
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
