//! The whole single-problem pipeline of SPEC §1: noise cutoff → kNN graph → importance → `α` →
//! solver, from embeddings (and optional scores and noise signal) to the selected indices.
//!
//! [`Selector::prepare`] does everything up to the solver once; [`Prepared::select`] then runs any
//! [`Method`] on that same instance, so several methods can be compared under one objective.

use crate::backend::{Backend, CpuBackend, OwnedProblem, ProblemBatch};
use crate::baselines;
use crate::csr::CsrSimilarity;
use crate::error::{CoreError, Result};
use crate::importance::{
    compose_importance, AlphaRule, HardTail, NoiseCutoff, Representativeness, ScoreNormalization,
};
use crate::ivf::{search_graph, KnnSearch, SearchInfo};
use crate::knn::{validate_embeddings, KnnConfig};
use crate::objective::objective;
use crate::progress::{Progress, Silent};
use crate::sampling::{sims_sample, Orientation, SimsConfig};
use crate::selectors::{ccs_select, d2_select, moderate_select, CcsConfig, CcsCutoff, D2Config};
use crate::semdedup::SemDedupKeep;
use crate::solver::{
    Algorithm, Method, Problem, RelaxedSolver, SolveResult, SolverConfig, SolverParams,
};
use crate::timing::Timings;
use ndarray::{ArrayView2, Axis};
use std::sync::Arc;

/// Everything a selection needs besides the data; defaults are SPEC's.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectConfig {
    /// Budget: how many samples to keep.
    pub k: usize,
    /// How the subset is chosen.
    pub method: Method,
    /// The relaxed solver used by [`Method::InfoMax`].
    pub solver: RelaxedSolver,
    /// The similarity graph.
    pub knn: KnnConfig,
    /// How the graph is searched: exact, IVF, or `auto` (default: exact up to
    /// [`crate::ivf::AUTO_EXACT_MAX_ROWS`] rows, IVF above).
    pub search: KnnSearch,
    /// How raw scores are normalised.
    pub normalization: ScoreNormalization,
    /// Weight of the degree (typicality) term.
    pub representativeness: Representativeness,
    /// How the degrees are normalised into the typicality `d̂` (default min-max).
    pub typicality: ScoreNormalization,
    /// How many of the noisiest samples are dropped when a noise signal is given.
    pub noise_cutoff: NoiseCutoff,
    /// Share the noise cutoff's count out over the classes in proportion to their sizes, where
    /// labels are given ([`NoiseCutoff::noisiest_by_class`]; default off).
    pub noise_by_class: bool,
    /// How many of the highest-scored samples InfoMax's methods drop without a noise signal.
    pub hard_tail: HardTail,
    /// How many of the lowest-AUM samples [`Method::Ccs`] drops when an AUM is given (its own `β`,
    /// independent of `noise_cutoff`).
    pub ccs_cutoff: CcsCutoff,
    /// Which sample of a near-duplicate pair [`Method::SemDedup`] keeps.
    pub semdedup_keep: SemDedupKeep,
    /// Largest k-means cluster [`Method::SemDedup`] compares pairs in (default 1,000, **ours**).
    pub semdedup_cluster_size: usize,
    /// How `α` is chosen.
    pub alpha: AlphaRule,
    /// Iterations, tolerance, swap rounds and step size of the solvers (the algorithm field is set
    /// from `method` and `solver`).
    pub solver_params: SolverParams,
    /// Seed of every random choice (random baseline, SIMS, CCS).
    pub seed: u64,
    /// Fraction `λ` of the SIMS budget drawn inside each class when labels are given (default 0.5).
    pub sims_class_fraction: f64,
    /// Concentration `α + β` of SIMS's Beta weights (default 16; lower is closer to uniform).
    pub sims_concentration: f64,
    /// What a high user score means to SIMS; `None` (default): user scores are "high = keep = hard"
    /// like everywhere else, and without user scores the typicality-based importance is
    /// "high = easy".
    pub scores_orientation: Option<Orientation>,
}

impl SelectConfig {
    /// The samples dropped before selection (ascending): with a noise signal, the noise cutoff's;
    /// without one, for InfoMax's methods with scores, the scores' hard tail (SPEC §1.5).
    pub fn cutoff(&self, noise: Option<&[f32]>, scores: Option<&[f32]>) -> Result<Vec<usize>> {
        self.cutoff_by_class(noise, scores, None)
    }

    /// [`SelectConfig::cutoff`], with the noise cutoff shared out over the classes of `labels`
    /// ([`NoiseCutoff::noisiest_by_class`]) when [`SelectConfig::noise_by_class`] is on and
    /// labels are given.
    pub fn cutoff_by_class(
        &self,
        noise: Option<&[f32]>,
        scores: Option<&[f32]>,
        labels: Option<&[i64]>,
    ) -> Result<Vec<usize>> {
        match (noise, scores) {
            (Some(noise), _) => match labels.filter(|_| self.noise_by_class) {
                Some(labels) => self.noise_cutoff.noisiest_by_class(noise, labels, self.k),
                None => self.noise_cutoff.noisiest(noise, self.k),
            },
            (None, Some(scores)) if matches!(self.method, Method::InfoMax | Method::Greedy) => {
                crate::error::check_finite("scores", scores)?;
                self.hard_tail.hardest(scores, self.k)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Keep `k` samples, everything else at its default.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            method: Method::default(),
            solver: RelaxedSolver::default(),
            knn: KnnConfig::default(),
            search: KnnSearch::default(),
            normalization: ScoreNormalization::default(),
            representativeness: Representativeness::default(),
            typicality: ScoreNormalization::MinMax,
            noise_cutoff: NoiseCutoff::default(),
            noise_by_class: false,
            hard_tail: HardTail::default(),
            ccs_cutoff: CcsCutoff::default(),
            semdedup_keep: SemDedupKeep::default(),
            semdedup_cluster_size: 1000,
            alpha: AlphaRule::default(),
            solver_params: SolverParams::default(),
            seed: 0,
            sims_class_fraction: 0.5,
            sims_concentration: 16.0,
            scores_orientation: None,
        }
    }

    /// Sets the method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets the relaxed solver.
    pub fn solver(mut self, solver: RelaxedSolver) -> Self {
        self.solver = solver;
        self
    }

    /// Sets the number of neighbours `m` of the graph.
    pub fn neighbors(mut self, m: usize) -> Self {
        self.knn.neighbors = m;
        self
    }

    /// Sets the graph search.
    pub fn search(mut self, search: KnnSearch) -> Self {
        self.search = search;
        self
    }

    /// Sets the `α` rule.
    pub fn alpha(mut self, rule: AlphaRule) -> Self {
        self.alpha = rule;
        self
    }

    /// Sets the representativeness weight.
    pub fn representativeness(mut self, r: Representativeness) -> Self {
        self.representativeness = r;
        self
    }

    /// Sets the noise cutoff.
    pub fn noise_cutoff(mut self, c: NoiseCutoff) -> Self {
        self.noise_cutoff = c;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// A validated configuration, ready to run on data, and the backend it runs on.
#[derive(Clone)]
pub struct Selector {
    config: SelectConfig,
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector")
            .field("config", &self.config)
            .field("backend", &self.backend.name())
            .finish()
    }
}

/// The instance a [`Selector`] builds from the data: what every method is then run on.
#[derive(Clone)]
pub struct Prepared {
    /// The backend that built the graph and runs the solvers.
    pub backend: Arc<dyn Backend>,
    /// Original row index of each row of the instance (ascending; the noisy rows are missing).
    pub rows: Vec<usize>,
    /// Rows dropped by the noise cutoff (original indices, ascending).
    pub dropped_noisy: Vec<usize>,
    /// The similarity graph over `rows`.
    pub graph: CsrSimilarity,
    /// Normalised user scores `ŝ` over `rows`, if scores were given.
    pub normalized_scores: Option<Vec<f32>>,
    /// The importance `s` the solver maximises.
    pub importance: Vec<f32>,
    /// Representativeness weight in use.
    pub gamma: f64,
    /// Pairwise weight in use.
    pub alpha: f64,
    /// Budget.
    pub k: usize,
    /// Seconds spent preparing: `noise`, `graph`, `importance`.
    pub timings: Timings,
    /// The search that built the graph and its measured recall (`None` for a given graph).
    pub search: Option<SearchInfo>,
}

/// Per-sample inputs that only some methods need, indexed like the original data (before the
/// noise cutoff).
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// Class labels: SIMS's class-dependent stage, and Moderate (required there).
    pub labels: Option<&'a [i64]>,
    /// Area under the margin: CCS's hard cutoff (without it CCS drops nothing).
    pub aum: Option<&'a [f32]>,
    /// The embeddings: Moderate's features (required there).
    pub embeddings: Option<ArrayView2<'a, f32>>,
}

/// The outcome of a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Selected rows of the input (original indices), sorted ascending, exactly `k`.
    pub indices: Vec<usize>,
    /// `f(S)` under the instance's objective.
    pub objective: f64,
    /// The method that chose them.
    pub method: Method,
    /// The relaxed solver, where one ran.
    pub solver: Option<RelaxedSolver>,
    /// Samples in the input.
    pub n: usize,
    /// Budget.
    pub k: usize,
    /// Pairwise weight in use.
    pub alpha: f64,
    /// Representativeness weight in use.
    pub gamma: f64,
    /// How many noisy samples were dropped before selection.
    pub dropped_noisy: usize,
    /// Stored entries of the similarity graph.
    pub graph_nnz: usize,
    /// Solver iterations (0 for baselines).
    pub iterations: usize,
    /// Whether the solver converged (baselines: true).
    pub converged: bool,
    /// Swaps applied by the refinement.
    pub swaps: usize,
    /// Seconds per phase, preparation included.
    pub timings: Timings,
}

impl Selector {
    /// Validates `config`; the selector runs on the CPU reference backend.
    pub fn new(config: SelectConfig) -> Result<Self> {
        Self::with_backend(config, Arc::new(CpuBackend))
    }

    /// Validates `config` (the budget is checked against the data in [`Selector::prepare`]); the
    /// graph is built and the solvers run on `backend`.
    pub fn with_backend(config: SelectConfig, backend: Arc<dyn Backend>) -> Result<Self> {
        config.representativeness.validate()?;
        config.noise_cutoff.validate()?;
        config.hard_tail.validate()?;
        config.ccs_cutoff.validate()?;
        if config.semdedup_cluster_size == 0 {
            return Err(CoreError::InvalidParameter {
                name: "semdedup-cluster-size",
                value: "0".into(),
                reason: "a cluster must hold at least one sample",
            });
        }
        config.alpha.validate()?;
        config.search.validate()?;
        config.solver_params.clone().check()?;
        if !(0.0..=1.0).contains(&config.sims_class_fraction) {
            return Err(CoreError::InvalidParameter {
                name: "class-fraction",
                value: config.sims_class_fraction.to_string(),
                reason: "must be in [0, 1]",
            });
        }
        if !(config.sims_concentration > 0.0 && config.sims_concentration.is_finite()) {
            return Err(CoreError::InvalidParameter {
                name: "sims-concentration",
                value: config.sims_concentration.to_string(),
                reason: "must be finite and positive",
            });
        }
        Ok(Self { config, backend })
    }

    /// The backend in use.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &SelectConfig {
        &self.config
    }

    /// Selects from `embeddings` (`n × d`), with optional importance `scores` (high = keep) and
    /// optional `noise` (high = likely mislabeled), without progress reports.
    pub fn run(
        &self,
        embeddings: ArrayView2<f32>,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
    ) -> Result<Selection> {
        self.run_with_progress(embeddings, scores, noise, &Silent)
    }

    /// [`Selector::run`] reporting progress.
    pub fn run_with_progress(
        &self,
        embeddings: ArrayView2<f32>,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
        progress: &dyn Progress,
    ) -> Result<Selection> {
        self.run_with_extras(embeddings, scores, noise, Extras::default(), progress)
    }

    /// [`Selector::run_with_progress`] with the inputs that SIMS, CCS and Moderate can use.
    pub fn run_with_extras<'a>(
        &self,
        embeddings: ArrayView2<'a, f32>,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
        extras: Extras<'a>,
        progress: &dyn Progress,
    ) -> Result<Selection> {
        let prepared = self.prepare(embeddings, scores, noise, progress)?;
        let extras = Extras {
            embeddings: extras.embeddings.or(Some(embeddings)),
            ..extras
        };
        prepared.select_with(&self.config, self.config.method, extras, progress)
    }

    /// Builds the instance: validates the inputs, drops noisy rows, builds the graph, composes the
    /// importance and chooses `α`.
    pub fn prepare(
        &self,
        embeddings: ArrayView2<f32>,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
        progress: &dyn Progress,
    ) -> Result<Prepared> {
        let config = &self.config;
        // Validated here, on the full input, so a bad value is reported by its original index even
        // when the noise cutoff later removes its row.
        validate_embeddings(embeddings)?;
        let n = embeddings.nrows();
        self.check_sample_inputs(n, "embedding rows", scores, noise)?;

        let mut timings = Timings::default();
        let (dropped_noisy, rows) = self.drop_noisy(n, noise, scores, &mut timings)?;
        let backend = self.backend.as_ref();
        let (graph, search) = timings.time("graph", || {
            if rows.len() == n {
                search_graph(backend, embeddings, &config.knn, &config.search, progress)
            } else {
                search_graph(
                    backend,
                    embeddings.select(Axis(0), &rows).view(),
                    &config.knn,
                    &config.search,
                    progress,
                )
            }
        })?;
        let mut prepared = self.compose(graph, rows, dropped_noisy, scores, n, timings)?;
        prepared.search = Some(search);
        Ok(prepared)
    }

    /// [`Selector::prepare`] on a given similarity over all `n` samples instead of a kNN graph
    /// built from embeddings: the rows and columns of the samples the noise cutoff drops are
    /// removed from `graph`, and the typicality (degree) is taken from what remains.
    pub fn prepare_with_graph(
        &self,
        graph: CsrSimilarity,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
    ) -> Result<Prepared> {
        let n = graph.n();
        self.check_sample_inputs(n, "graph rows", scores, noise)?;
        let mut timings = Timings::default();
        let (dropped_noisy, rows) = self.drop_noisy(n, noise, scores, &mut timings)?;
        let graph = timings.time("importance", || {
            if rows.len() == n {
                graph
            } else {
                graph.induced_subgraph(&rows)
            }
        });
        self.compose(graph, rows, dropped_noisy, scores, n, timings)
    }

    /// The budget fits `n`, and the per-sample inputs have `n` values (`rows` names what `n`
    /// counts in the error) with finite scores.
    fn check_sample_inputs(
        &self,
        n: usize,
        rows: &str,
        scores: Option<&[f32]>,
        noise: Option<&[f32]>,
    ) -> Result<()> {
        if self.config.k == 0 || self.config.k > n {
            return Err(CoreError::InvalidBudget {
                k: self.config.k,
                n,
            });
        }
        for (what, values) in [("scores", scores), ("noise", noise)] {
            if let Some(v) = values {
                if v.len() != n {
                    return Err(CoreError::ShapeMismatch {
                        what: format!("{what} length vs {rows}"),
                        expected: n,
                        found: v.len(),
                    });
                }
            }
        }
        if let Some(s) = scores {
            crate::error::check_finite("scores", s)?;
        }
        Ok(())
    }

    /// The noise cutoff: the dropped rows and the remaining ones (both ascending).
    fn drop_noisy(
        &self,
        n: usize,
        noise: Option<&[f32]>,
        scores: Option<&[f32]>,
        timings: &mut Timings,
    ) -> Result<(Vec<usize>, Vec<usize>)> {
        let dropped = timings.time("noise", || self.config.cutoff(noise, scores))?;
        let rows = remaining_rows(n, &dropped);
        Ok((dropped, rows))
    }

    /// Composes the importance over `rows` (of the original `n`) on their `graph` and chooses `α`.
    fn compose(
        &self,
        graph: CsrSimilarity,
        rows: Vec<usize>,
        dropped_noisy: Vec<usize>,
        scores: Option<&[f32]>,
        n: usize,
        mut timings: Timings,
    ) -> Result<Prepared> {
        let config = &self.config;
        let start = std::time::Instant::now();
        let normalized_scores = match scores {
            Some(s) => {
                let kept: Vec<f32> = rows.iter().map(|&i| s[i]).collect();
                Some(config.normalization.apply(&kept)?)
            }
            None => None,
        };
        let pruning_ratio = 1.0 - config.k as f64 / n as f64;
        let gamma = config.representativeness.gamma(pruning_ratio);
        let degrees = graph.degrees();
        let importance = compose_importance(
            normalized_scores.as_deref(),
            &degrees,
            gamma,
            config.typicality,
        );
        let alpha = config.alpha.alpha(&importance, &degrees, config.k);
        timings.add("importance", start.elapsed().as_secs_f64());

        Ok(Prepared {
            backend: self.backend.clone(),
            rows,
            dropped_noisy,
            graph,
            normalized_scores,
            importance,
            gamma,
            alpha,
            k: config.k,
            timings,
            search: None,
        })
    }
}

/// The rows of `0..n` not in `dropped` (indices in `0..n`), ascending.
pub fn remaining_rows(n: usize, dropped: &[usize]) -> Vec<usize> {
    if dropped.is_empty() {
        return (0..n).collect();
    }
    let mut keep = vec![true; n];
    for &i in dropped {
        keep[i] = false;
    }
    (0..n).filter(|&i| keep[i]).collect()
}

impl Prepared {
    /// The InfoMax problem this instance defines.
    pub fn problem(&self) -> Result<Problem<'_>> {
        Problem::new(&self.importance, &self.graph, self.k, self.alpha)
    }

    /// Runs `method` (with `config`'s solver settings and seed) on this instance.
    pub fn select(
        &self,
        config: &SelectConfig,
        method: Method,
        progress: &dyn Progress,
    ) -> Result<Selection> {
        self.select_with(config, method, Extras::default(), progress)
    }

    /// The rows of this instance taken from a per-sample input of the original data.
    fn kept<T: Copy>(&self, what: &'static str, values: &[T]) -> Result<Vec<T>> {
        let n = self.rows.len() + self.dropped_noisy.len();
        if values.len() != n {
            return Err(CoreError::ShapeMismatch {
                what: format!("{what} length vs embedding rows"),
                expected: n,
                found: values.len(),
            });
        }
        Ok(self.rows.iter().map(|&i| values[i]).collect())
    }

    /// The baseline selectors' view of the scores: the user's (normalised) if given, else `s`.
    fn baseline_scores(&self) -> &[f32] {
        self.normalized_scores
            .as_deref()
            .unwrap_or(&self.importance)
    }

    /// Runs the score-based selectors of SPEC §3–§4 on this instance.
    fn select_baseline(
        &self,
        config: &SelectConfig,
        method: Method,
        extras: Extras,
    ) -> Result<Vec<usize>> {
        let k = self.k;
        let labels = extras.labels.map(|l| self.kept("labels", l)).transpose()?;
        match method {
            Method::Random => Ok(baselines::random_subset(self.rows.len(), k, config.seed)),
            Method::TopK => Ok(baselines::top_k_by_score(self.baseline_scores(), k)),
            Method::Sims => {
                let orientation =
                    config
                        .scores_orientation
                        .unwrap_or(if self.normalized_scores.is_some() {
                            Orientation::HighIsHard
                        } else {
                            Orientation::HighIsEasy
                        });
                let sims = SimsConfig::new(k, config.seed)
                    .class_fraction(config.sims_class_fraction)
                    .concentration(config.sims_concentration)
                    .orientation(orientation);
                sims_sample(self.baseline_scores(), labels.as_deref(), &sims)
            }
            Method::Ccs => {
                let aum = extras.aum.map(|a| self.kept("aum", a)).transpose()?;
                let ccs = CcsConfig {
                    cutoff: config.ccs_cutoff,
                    ..CcsConfig::new(k, config.seed)
                };
                ccs_select(self.baseline_scores(), aum.as_deref(), &ccs)
            }
            Method::Moderate => {
                let labels = labels.ok_or(CoreError::InvalidParameter {
                    name: "labels",
                    value: "none".into(),
                    reason: "the moderate method needs class labels",
                })?;
                let embeddings = extras.embeddings.ok_or(CoreError::InvalidParameter {
                    name: "embeddings",
                    value: "none".into(),
                    reason: "the moderate method needs the features",
                })?;
                let n = self.rows.len() + self.dropped_noisy.len();
                if embeddings.nrows() != n {
                    return Err(CoreError::ShapeMismatch {
                        what: "moderate features vs embedding rows".into(),
                        expected: n,
                        found: embeddings.nrows(),
                    });
                }
                let features = embeddings.select(Axis(0), &self.rows);
                moderate_select(features.view(), &labels, k)
            }
            Method::D2 => d2_select(self.baseline_scores(), &self.graph, &D2Config::new(k)),
            Method::SemDedup => Err(CoreError::InvalidParameter {
                name: "method",
                value: "semdedup".into(),
                reason: "SemDeDup chooses its ε across all k-means clusters at once: run it \
                         through the pipeline (infoprune select with --embeddings)",
            }),
            Method::InfoMax | Method::Greedy => unreachable!("solver methods are not baselines"),
        }
    }

    /// A [`Selection`] of the given `indices` (rows of this instance, distinct) chosen by `method`
    /// elsewhere, e.g. the pipeline's SemDeDup: its `f(S)` under this instance's objective.
    pub fn selection_of(&self, method: Method, indices: Vec<usize>) -> Result<Selection> {
        let mut indices = indices;
        indices.sort_unstable();
        let problem = Problem::new(
            &self.importance,
            &self.graph,
            indices.len().max(1),
            self.alpha,
        )?;
        let objective = objective(&problem, &indices)?;
        Ok(Selection {
            indices: indices.iter().map(|&i| self.rows[i]).collect(),
            objective,
            method,
            solver: None,
            n: self.rows.len() + self.dropped_noisy.len(),
            k: indices.len(),
            alpha: self.alpha,
            gamma: self.gamma,
            dropped_noisy: self.dropped_noisy.len(),
            graph_nnz: self.graph.nnz(),
            iterations: 0,
            converged: true,
            swaps: 0,
            timings: self.timings.clone(),
        })
    }

    /// [`Prepared::select`] with the extra inputs SIMS, CCS and Moderate can use.
    pub fn select_with(
        &self,
        config: &SelectConfig,
        method: Method,
        extras: Extras,
        progress: &dyn Progress,
    ) -> Result<Selection> {
        let problem = self.problem()?;
        let mut timings = self.timings.clone();
        let solved: SolveResult = match method {
            Method::InfoMax | Method::Greedy => {
                let algorithm = match method {
                    Method::Greedy => Algorithm::LazyGreedy,
                    _ => config.solver.into(),
                };
                let params = SolverParams {
                    algorithm,
                    ..config.solver_params.clone()
                };
                let solver: SolverConfig = params.check()?;
                let batch = ProblemBatch::new(vec![OwnedProblem::new(
                    self.importance.clone(),
                    self.graph.clone(),
                    self.k,
                    self.alpha,
                )?]);
                self.backend
                    .solve(&batch, &solver, progress)?
                    .pop()
                    .ok_or_else(|| CoreError::Backend {
                        backend: self.backend.name(),
                        message: "returned no result for a one-problem batch".into(),
                    })?
            }
            _ => {
                let start = std::time::Instant::now();
                let mut indices = self.select_baseline(config, method, extras)?;
                indices.sort_unstable();
                let f = objective(&problem, &indices)?;
                let mut t = Timings::default();
                t.add("solve", start.elapsed().as_secs_f64());
                SolveResult {
                    indices,
                    objective: f,
                    iterations: 0,
                    converged: true,
                    relaxed_trace: Vec::new(),
                    rounded_objective: f,
                    swaps: 0,
                    timings: t,
                }
            }
        };
        timings.extend(&solved.timings);
        Ok(Selection {
            indices: solved.indices.iter().map(|&i| self.rows[i]).collect(),
            objective: solved.objective,
            method,
            solver: (method == Method::InfoMax).then_some(config.solver),
            n: self.rows.len() + self.dropped_noisy.len(),
            k: self.k,
            alpha: self.alpha,
            gamma: self.gamma,
            dropped_noisy: self.dropped_noisy.len(),
            graph_nnz: self.graph.nnz(),
            iterations: solved.iterations,
            converged: solved.converged,
            swaps: solved.swaps,
            timings,
        })
    }
}
