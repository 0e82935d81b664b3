//! The arguments of `infoprune select`, the selection they configure, and the refusal of every
//! option that would have no effect with the others given.

use crate::args::{
    at_least_one, auto_or_number, knn_config, MethodArg, NormalizeArg, PartitionArg, ScoreKindArg,
    ScoresHighArg, SemDedupKeepArg, SolverArg, SymmetrizeArg, TypicalityArg,
};
use crate::backend_choice::BackendArg;
use crate::error::{Error, Result};
use clap::Args;
use infoprune_core::fraction::Fraction;
use infoprune_core::importance::{
    AlphaRule, HardTail, NoiseCutoff, Representativeness, ScoreNormalization,
};
use infoprune_core::sampling::Orientation;
use infoprune_core::select::SelectConfig;
use infoprune_core::selectors::CcsCutoff;
use infoprune_core::semdedup::SemDedupKeep;
use infoprune_core::{Method, RelaxedSolver};
use std::path::{Path, PathBuf};

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
    /// Logits saved during training, for --scores-from: one T×n×C file, or one n×C file per
    /// epoch in epoch order (`--logits e0.npy e1.npy …`).
    #[arg(long, value_name = "L.npy", num_args = 1..)]
    pub logits: Vec<PathBuf>,
    /// Penultimate features n×d for --scores-from grand.
    #[arg(long, value_name = "H.npy")]
    pub score_features: Option<PathBuf>,
    /// Integer class labels of length n: with infomax or greedy, class-balanced budgets by
    /// default (--no-class-quota turns it off); also SIMS's class stage, moderate, --scores-from.
    #[arg(long, value_name = "y.npy")]
    pub labels: Option<PathBuf>,
    /// Area under the margin of length n, for CCS's hard cutoff (e.g. `infoprune score --kind aum --raw`).
    #[arg(long, value_name = "A.npy")]
    pub aum: Option<PathBuf>,
    /// SIMS: fraction λ of the budget drawn inside each class when --labels is given
    /// [default: 0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub class_fraction: Option<f64>,
    /// SIMS: concentration α + β of the Beta weights over the score ranks; lower is closer to a
    /// uniform draw [default: 16].
    #[arg(long, allow_negative_numbers = true)]
    pub sims_concentration: Option<f64>,
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
    /// Output: the kept indices, sorted, as an int64 .npy (with --plan and --part: the part's
    /// outcome, JSON, for `infoprune merge`).
    #[arg(long, value_name = "keep.npy", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Print the plan (layout, problems, their sizes and budgets, the memory estimate) and exit
    /// without building a graph, solving or writing anything.
    #[arg(long, conflicts_with_all = ["graph", "plan"])]
    pub dry_run: bool,
    /// Solve one part of this plan (written by `infoprune plan` with the same options) instead
    /// of the whole run; needs --part.
    #[arg(long, value_name = "plan.json", conflicts_with = "graph")]
    pub plan: Option<PathBuf>,
    /// With --plan: the problem to solve, 0-based as the plan lists them (a batch scheduler's
    /// array index); `infoprune merge` puts the parts' outcomes together.
    #[arg(long, value_name = "I", requires = "plan")]
    pub part: Option<usize>,
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
    pub knn_search: crate::args::KnnArgs,
    /// Weight γ of typicality in the importance, with scores: `auto` (= pruning ratio) or a
    /// number in [0, 1] [default: auto].
    #[arg(long, value_name = "auto|G", allow_hyphen_values = true)]
    pub representativeness: Option<String>,
    /// How the degrees are normalised into the typicality d̂ [default: minmax].
    #[arg(long, value_enum)]
    pub typicality: Option<TypicalityArg>,
    /// Noise signal, .npy of length n (high = likely mislabeled, e.g. minus AUM). With
    /// --scores-from and infomax or greedy it defaults to minus AUM from the same --logits.
    #[arg(long, value_name = "N.npy")]
    pub noise: Option<PathBuf>,
    /// Which of the noisiest samples to drop: `auto` (those with a positive signal, i.e. AUM < 0,
    /// at most half), `schedule` (0 / 0.1 / 0.2 of n by pruning ratio) or a fraction C
    /// [default: auto].
    #[arg(long, value_name = "auto|schedule|C", allow_hyphen_values = true)]
    pub drop_noisy: Option<String>,
    /// Share the noise cutoff out over the classes of --labels: no class drops more than twice
    /// its proportional share of the count, its own noisiest first [default: on with
    /// class-balanced budgets].
    #[arg(long, conflicts_with = "no_noise_by_class")]
    pub noise_by_class: bool,
    /// Apply the noise cutoff over the whole set, whatever the classes.
    #[arg(long)]
    pub no_noise_by_class: bool,
    /// Without a noise signal and without class-balanced budgets (no --labels), the fraction of the
    /// highest-scored (hardest) samples infomax and greedy drop first: `auto` (0.1 at 80% pruning
    /// and above, else 0) or C [default: auto].
    #[arg(long, value_name = "auto|C", allow_hyphen_values = true)]
    pub hard_tail: Option<String>,
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
    /// This is the default with --labels and --method infomax or greedy.
    #[arg(long, conflicts_with_all = ["graph", "no_class_quota"])]
    pub class_quota: bool,
    /// With --labels and --method infomax or greedy: budgets proportional to the partitions
    /// instead of class-balanced ones.
    #[arg(long, conflicts_with = "graph")]
    pub no_class_quota: bool,
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

impl SelectArgs {
    /// `--out`, which clap requires unless `--dry-run` is given (and a dry run writes nothing).
    pub(crate) fn out_path(&self) -> Result<&Path> {
        self.out
            .as_deref()
            .ok_or_else(|| Error::Usage("--out is required".into()))
    }

    /// Whether the method is one of InfoMax's (the objective's solvers), to which the defaults
    /// that follow from the inputs apply (SPEC §1.5); the baselines run as their authors define them.
    fn solves_infomax(&self) -> bool {
        matches!(self.method, MethodArg::Infomax | MethodArg::Greedy)
    }

    /// Whether the noise cutoff is shared out over the classes (SPEC §1.5): by default with
    /// class-balanced budgets, the same principle applied to what is dropped.
    pub(crate) fn shares_noise_by_class(&self) -> bool {
        self.labels.is_some()
            && !self.no_noise_by_class
            && (self.noise_by_class || self.class_balanced())
    }

    /// Class-balanced budgets: asked for with --class-quota, and the default with --labels for
    /// InfoMax's methods on embeddings (SPEC §1.5; a given --graph is one problem).
    pub(crate) fn class_balanced(&self) -> bool {
        self.class_quota
            || (self.labels.is_some()
                && self.solves_infomax()
                && self.graph.is_none()
                && !self.no_class_quota)
    }

    /// Whether the noise signal is minus AUM from `--logits` (SPEC §1.5): with --scores-from, no
    /// --noise, and InfoMax's methods.
    pub(crate) fn noise_from_logits(&self) -> bool {
        self.noise.is_none() && self.scores_from.is_some() && self.solves_infomax()
    }

    /// The report's name for where the noise signal comes from, if there is one: a file, minus
    /// AUM from the logits, or the scores themselves (their hard tail, SPEC §1.5).
    pub(super) fn noise_signal(&self) -> Option<&'static str> {
        let has_scores = self.scores.is_some() || self.scores_from.is_some();
        if self.noise.is_some() {
            Some("--noise")
        } else if self.noise_from_logits() {
            Some("minus AUM from --logits")
        } else if self.solves_infomax()
            && has_scores
            && !self.class_balanced()
            && !matches!(self.hard_tail_rule(), Ok(HardTail::Fraction(0.0)))
        {
            Some("the scores' hard tail")
        } else {
            None
        }
    }

    /// `--hard-tail` as parsed (default `auto`), before class-balanced budgets turn `auto` off.
    fn hard_tail_rule(&self) -> Result<HardTail> {
        Ok(match self.hard_tail.as_deref() {
            None => HardTail::Auto,
            Some(text) => match auto_or_number("hard-tail", text)? {
                None => HardTail::Auto,
                Some(c) => HardTail::Fraction(c),
            },
        })
    }

    /// `--drop-noisy` when it asks to drop nothing (`0`).
    fn drops_nothing(&self) -> Result<bool> {
        match self.drop_noisy.as_deref() {
            Some(text) if text.eq_ignore_ascii_case("schedule") => Ok(false),
            Some(text) => Ok(auto_or_number("drop-noisy", text)? == Some(0.0)),
            None => Ok(false),
        }
    }

    pub(super) fn config(&self, k: usize) -> Result<SelectConfig> {
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
        config.typicality = match self.typicality {
            None => defaults.typicality,
            Some(TypicalityArg::Minmax) => ScoreNormalization::MinMax,
            Some(TypicalityArg::Rank) => ScoreNormalization::Rank,
        };
        config.noise_cutoff = match self.drop_noisy.as_deref() {
            None => defaults.noise_cutoff,
            Some(text) if text.eq_ignore_ascii_case("schedule") => NoiseCutoff::Schedule,
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
        config.noise_by_class = self.shares_noise_by_class();
        config.hard_tail = match self.hard_tail_rule()? {
            // Class-balanced budgets keep the mislabeled tail out themselves (SPEC §1.5).
            HardTail::Auto if self.class_balanced() => HardTail::Off,
            rule => rule,
        };
        config.ccs_cutoff = match self.ccs_cutoff.as_deref() {
            None => defaults.ccs_cutoff,
            Some(text) => match auto_or_number("ccs-cutoff", text)? {
                None => CcsCutoff::Auto,
                Some(b) => CcsCutoff::Fraction(b),
            },
        };
        config.sims_class_fraction = self.class_fraction.unwrap_or(defaults.sims_class_fraction);
        config.sims_concentration = self
            .sims_concentration
            .unwrap_or(defaults.sims_concentration);
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
    pub(super) fn refuse_ineffective(&self) -> Result<()> {
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
        if self.typicality.is_some() && !self.solves_infomax() {
            refusals.push((
                "typicality",
                format!(
                    "only the InfoMax objective (--method infomax or greedy) weighs typicality, \
                     not --method {}",
                    method_name()
                ),
            ));
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
            if self.sims_concentration.is_some() {
                refusals.push((
                    "sims-concentration",
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
            || self.class_balanced()
            || self.noise_by_class;
        if self.labels.is_some() && !labels_read {
            refusals.push((
                "labels",
                format!(
                "nothing reads them with --method {}: they are used by --method infomax or greedy \
                 on embeddings (class-balanced budgets), sims or moderate, --scores-from, \
                 --partition class, --class-quota and --noise-by-class", method_name()),
            ));
        }
        if self.no_class_quota && !(self.labels.is_some() && self.solves_infomax()) {
            refusals.push((
                "no-class-quota",
                "budgets are class-balanced by default only with --labels and --method infomax \
                 or greedy"
                    .into(),
            ));
        }
        if !self.logits.is_empty() && self.scores_from.is_none() {
            refusals.push(("logits", "it is read only with --scores-from".into()));
        }
        if self.score_features.is_some() && self.scores_from != Some(ScoreKindArg::Grand) {
            refusals.push((
                "score-features",
                "it is read only with --scores-from grand".into(),
            ));
        }
        if !self.quota_classes.is_empty() && !self.class_balanced() {
            refusals.push(("quota-classes", "it is read only with --class-quota".into()));
        }
        // `--drop-noisy 0` asks for what happens anyway without a noise signal: nothing is
        // dropped; with minus AUM from --logits it turns that default off.
        // (CCS's own cutoff is --ccs-cutoff, not this one.)
        let has_signal = self.noise.is_some() || self.noise_from_logits();
        if self.drop_noisy.is_some() && !self.drops_nothing()? && !has_signal {
            refusals.push((
                "drop-noisy",
                "there is no noise signal to drop samples by (give --noise, or --scores-from \
                 with --method infomax or greedy)"
                    .into(),
            ));
        }
        for (given, name) in [
            (self.noise_by_class, "noise-by-class"),
            (self.no_noise_by_class, "no-noise-by-class"),
        ] {
            if given && !(has_signal && self.labels.is_some()) {
                refusals.push((
                    name,
                    "it says how the noise cutoff treats the classes, so it needs a noise signal \
                     and --labels"
                        .into(),
                ));
            }
        }
        if self.hard_tail.is_some() {
            let why = if !self.solves_infomax() {
                Some(format!(
                    "only infomax and greedy drop a hard tail, not --method {}",
                    method_name()
                ))
            } else if !has_scores {
                Some("there are no scores (give --scores or --scores-from)".into())
            } else if has_signal {
                Some("the noise signal decides what is dropped (--drop-noisy)".into())
            } else if self.class_balanced() {
                Some("class-balanced budgets keep the hard tail out (--no-class-quota turns them off)".into())
            } else {
                None
            };
            if let Some(why) = why {
                refusals.push(("hard-tail", why));
            }
        }
        if self.noise.is_some() && self.drops_nothing()? {
            refusals.push(("noise", "--drop-noisy 0 drops no sample".into()));
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
