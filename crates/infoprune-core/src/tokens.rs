//! Token-level selection (SPEC §5): inside each sample, keep the image patches or text tokens that
//! carry its information. `n` samples of `T` tokens are `n` independent InfoMax problems
//! (`s` = the sample's saliency, `K` = similarity between its tokens), solved together in batches
//! on any backend: exactly the batched case of §1.4.
//!
//! Choices marked **(ours)**:
//! - The saliency is min-max normalised per sample (SPEC §1's default) and used as `s` alone: no
//!   representativeness term, since typicality would favour the redundant background.
//! - Similarity: the dense clipped cosine between a sample's tokens for `T ≤ 1024`, else the kNN
//!   graph with `m = 10`; an optional grid prior adds `weight` between adjacent patches.
//! - `α` follows SPEC's `β` rule per sample.

use crate::backend::{Backend, CpuBackend, OwnedProblem, ProblemBatch};
use crate::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
use crate::error::{CoreError, Result};
use crate::fraction::Fraction;
use crate::importance::{AlphaRule, ScoreNormalization};
use crate::knn::{knn_graph, l2_normalize_rows, snap, KnnConfig};
use crate::progress::{Progress, Silent, Stage};
use crate::solver::{SolveResult, SolverConfig, SolverParams};
use ndarray::{Array2, ArrayView2, ArrayView3, Axis};
use rayon::prelude::*;
use std::sync::Arc;

/// The results of a solve running on its own thread; a panic there is re-raised here.
fn join(
    solving: std::thread::ScopedJoinHandle<'_, Result<Vec<SolveResult>>>,
) -> Result<Vec<SolveResult>> {
    solving
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Samples per batch handed to the backend: thousands of tiny problems per dispatch on a GPU,
/// bounded memory on the CPU.
const SAMPLES_PER_BATCH: usize = 2048;

/// Largest `T` for which the dense similarity is the automatic choice.
const DENSE_MAX_TOKENS: usize = 1024;

/// How many tokens each sample keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TokenBudget {
    /// `⌈ρ·T⌉` tokens, `ρ ∈ (0, 1]`, computed exactly from ρ's shortest decimal form (so
    /// `0.07` keeps 7 of 100 tokens; see [`Fraction`]).
    Ratio(f64),
    /// A fixed count, `1 ≤ c ≤ T`.
    Count(usize),
}

impl TokenBudget {
    /// Tokens kept out of `t`.
    pub fn tokens(self, t: usize) -> Result<usize> {
        match self {
            TokenBudget::Ratio(r) if r > 0.0 && r <= 1.0 => {
                Ok(Fraction::from(r).ceil_times(t).clamp(1, t))
            }
            TokenBudget::Ratio(r) => Err(CoreError::InvalidParameter {
                name: "keep",
                value: r.to_string(),
                reason: "the token keep ratio must be in (0, 1]",
            }),
            TokenBudget::Count(c) if c >= 1 && c <= t => Ok(c),
            TokenBudget::Count(c) => Err(CoreError::InvalidBudget { k: c, n: t }),
        }
    }
}

/// Which similarity links the tokens of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenSimilarity {
    /// Dense clipped cosine for `T ≤ 1024`, kNN (`m = 10`) above (default).
    #[default]
    Auto,
    /// Dense clipped cosine between every pair of tokens.
    Dense,
    /// The exact kNN graph with `m` neighbours.
    Knn(usize),
}

/// Extra similarity between adjacent image patches on an `height × width` grid (row-major).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridPrior {
    /// Patch rows.
    pub height: usize,
    /// Patch columns.
    pub width: usize,
    /// Similarity added between 4-neighbours.
    pub weight: f32,
}

impl GridPrior {
    /// The adjacent pairs `(i, j)`, `i < j`, among the first `t` patches: right and below
    /// neighbours in row-major order.
    pub fn edges(&self, t: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..t).flat_map(move |i| {
            let right = (i % self.width + 1 < self.width && i + 1 < t).then_some(i + 1);
            let below = (i + self.width < t).then_some(i + self.width);
            right.into_iter().chain(below).map(move |j| (i, j))
        })
    }

    /// `graph` with [`GridPrior::weight`] added between adjacent patches (an entry is created
    /// where the graph has none), so the prior counts for kNN similarities as for dense ones.
    pub fn add_to(&self, graph: &CsrSimilarity) -> Result<CsrSimilarity> {
        let n = graph.n();
        let mut triplets: Vec<(u32, u32, f32)> = Vec::with_capacity(graph.nnz() + 4 * n);
        for i in 0..n {
            let (cols, vals) = graph.row(i);
            triplets.extend(cols.iter().zip(vals).map(|(&j, &v)| (i as u32, j, v)));
        }
        for (i, j) in self.edges(n) {
            triplets.push((i as u32, j as u32, self.weight));
            triplets.push((j as u32, i as u32, self.weight));
        }
        CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Sum, SymmetryCheck::Skip)
    }
}

/// Parameters of token selection.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenConfig {
    /// Tokens kept per sample.
    pub budget: TokenBudget,
    /// Similarity between a sample's tokens.
    pub similarity: TokenSimilarity,
    /// `α` rule (default `β = 1`).
    pub alpha: AlphaRule,
    /// Saliency normalisation (default min-max, per sample).
    pub normalization: ScoreNormalization,
    /// Optional grid prior.
    pub grid: Option<GridPrior>,
    /// Solver parameters (default projected gradient).
    pub solver: SolverParams,
}

impl TokenConfig {
    /// Keep `budget` tokens per sample, every other choice at its default.
    pub fn new(budget: TokenBudget) -> Self {
        Self {
            budget,
            similarity: TokenSimilarity::Auto,
            alpha: AlphaRule::default(),
            normalization: ScoreNormalization::MinMax,
            grid: None,
            solver: SolverParams::default(),
        }
    }
}

/// The kept tokens of every sample.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSelection {
    /// `n × T`, 1 for kept tokens.
    pub mask: Array2<u8>,
    /// `f(S)` of each sample.
    pub objective: Vec<f64>,
    /// Tokens kept per sample.
    pub kept_per_sample: usize,
}

/// Selects tokens inside every sample, on a backend.
pub struct TokenSelector {
    config: TokenConfig,
    solver: SolverConfig,
    backend: Arc<dyn Backend>,
}

/// The dense clipped-cosine similarity of one sample's tokens (`T × d`), plus the grid prior.
/// Only the upper triangle is computed and mirrored, so `K` is exactly symmetric.
pub fn dense_similarity(tokens: ArrayView2<f32>, grid: Option<&GridPrior>) -> CsrSimilarity {
    let t = tokens.nrows();
    let x = l2_normalize_rows(tokens);
    let mut gram = x.dot(&x.t());
    let dense = gram
        .as_slice_mut()
        .expect("a fresh product is contiguous and row-major");
    // The upper triangle is mirrored: the GEMM need not be bit-symmetric.
    for i in 0..t {
        dense[i * t + i] = 0.0;
        for j in i + 1..t {
            let v = snap(dense[i * t + j]).max(0.0);
            dense[i * t + j] = v;
            dense[j * t + i] = v;
        }
    }
    if let Some(g) = grid {
        for (i, j) in g.edges(t) {
            dense[i * t + j] += g.weight;
            dense[j * t + i] += g.weight;
        }
    }
    let mut indptr = Vec::with_capacity(t + 1);
    let mut indices = Vec::with_capacity(t * t);
    let mut values = Vec::with_capacity(t * t);
    indptr.push(0);
    for row in dense.chunks_exact(t) {
        for (j, &v) in row.iter().enumerate() {
            if v > 0.0 {
                indices.push(j as u32);
                values.push(v);
            }
        }
        indptr.push(indices.len());
    }
    CsrSimilarity::from_trusted_parts(t, indptr, indices, values)
}

impl TokenSelector {
    /// Validates `config`; solves on the CPU.
    pub fn new(config: TokenConfig) -> Result<Self> {
        Self::with_backend(config, Arc::new(CpuBackend))
    }

    /// Validates `config`; solves on `backend`.
    pub fn with_backend(config: TokenConfig, backend: Arc<dyn Backend>) -> Result<Self> {
        config.alpha.validate()?;
        if let TokenBudget::Ratio(r) = config.budget {
            TokenBudget::Ratio(r).tokens(1)?;
        }
        if let Some(g) = &config.grid {
            if !g.weight.is_finite() || g.weight < 0.0 {
                return Err(CoreError::InvalidParameter {
                    name: "grid-weight",
                    value: g.weight.to_string(),
                    reason: "must be finite and ≥ 0",
                });
            }
        }
        let solver = config.solver.clone().check()?;
        Ok(Self {
            config,
            solver,
            backend,
        })
    }

    /// The kNN similarity of one sample's tokens, plus the grid prior when there is one.
    fn knn_similarity(&self, tokens: ArrayView2<f32>, m: usize) -> Result<CsrSimilarity> {
        let graph = knn_graph(tokens, &KnnConfig::new(m), &Silent)?;
        match &self.config.grid {
            Some(g) => g.add_to(&graph),
            None => Ok(graph),
        }
    }

    /// The problem of one sample: its tokens (`T × d`) and saliency (`T`).
    pub fn sample_problem(
        &self,
        tokens: ArrayView2<f32>,
        saliency: &[f32],
    ) -> Result<OwnedProblem> {
        let t = tokens.nrows();
        let k = self.config.budget.tokens(t)?;
        let graph = match self.config.similarity {
            TokenSimilarity::Dense => dense_similarity(tokens, self.config.grid.as_ref()),
            TokenSimilarity::Auto if t <= DENSE_MAX_TOKENS => {
                dense_similarity(tokens, self.config.grid.as_ref())
            }
            TokenSimilarity::Auto => self.knn_similarity(tokens, 10)?,
            TokenSimilarity::Knn(m) => self.knn_similarity(tokens, m)?,
        };
        let s = self.config.normalization.apply(saliency)?;
        let alpha = self.config.alpha.alpha(&s, &graph.degrees(), k);
        OwnedProblem::new(s, graph, k, alpha)
    }

    /// Selects tokens in every sample: `features` is `n × T × d`, `saliency` `n × T`.
    pub fn select(
        &self,
        features: ArrayView3<f32>,
        saliency: ArrayView2<f32>,
        progress: &dyn Progress,
    ) -> Result<TokenSelection> {
        let (n, t, d) = features.dim();
        self.validate(n, t, d, saliency)?;
        if let Some(index) = features.iter().position(|v| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "token features",
                index,
                value: features.iter().nth(index).copied().unwrap_or(f32::NAN) as f64,
            });
        }
        self.select_with(
            n,
            t,
            saliency,
            |i| Ok(features.index_axis(Axis(0), i).to_owned()),
            progress,
        )
    }

    /// Checks shapes, the budget and the grid against `n × T × d` and the saliency.
    pub fn validate(&self, n: usize, t: usize, d: usize, saliency: ArrayView2<f32>) -> Result<()> {
        if n == 0 || t == 0 || d == 0 {
            return Err(CoreError::Empty {
                what: "token features",
            });
        }
        if saliency.dim() != (n, t) {
            return Err(CoreError::ShapeMismatch {
                what: format!(
                    "saliency shape {:?} vs features' n × T = ({n}, {t}); tokens per sample",
                    saliency.dim()
                ),
                expected: t,
                found: saliency.ncols(),
            });
        }
        if let Some(index) = saliency.iter().position(|v| !v.is_finite()) {
            return Err(CoreError::NonFinite {
                what: "saliency",
                index,
                value: saliency.iter().nth(index).copied().unwrap_or(f32::NAN) as f64,
            });
        }
        self.config.budget.tokens(t)?;
        if let Some(g) = &self.config.grid {
            // Checked: a grid typed as 4294967296x4294967297 must not wrap around to T.
            if g.height.checked_mul(g.width) != Some(t) {
                return Err(CoreError::ShapeMismatch {
                    what: format!("grid {}x{} vs tokens per sample", g.height, g.width),
                    expected: t,
                    found: g.height.saturating_mul(g.width),
                });
            }
        }
        Ok(())
    }

    /// Selection with the samples' tokens supplied by `tokens_of(i)` (an in-memory array or rows
    /// of a memory-mapped file), one batch of samples at a time.
    pub fn select_with<F>(
        &self,
        n: usize,
        t: usize,
        saliency: ArrayView2<f32>,
        tokens_of: F,
        progress: &dyn Progress,
    ) -> Result<TokenSelection>
    where
        F: Fn(usize) -> Result<Array2<f32>> + Sync,
    {
        let k = self.config.budget.tokens(t)?;
        let mut mask = Array2::<u8>::zeros((n, t));
        let mut objective = vec![0.0f64; n];
        let mut store = |first: usize, results: Vec<SolveResult>| {
            let solved = results.len() as u64;
            for (offset, result) in results.into_iter().enumerate() {
                let i = first + offset;
                for &j in &result.indices {
                    mask[[i, j]] = 1;
                }
                objective[i] = result.objective;
            }
            progress.advance(solved);
        };
        // On a device the host builds batch b + 1 (features, similarities, α) while the device
        // solves batch b; on the CPU both would compete for the same cores, so they alternate.
        let overlap = self.backend.counters().is_some();
        progress.start(Stage::Solve, n as u64);
        std::thread::scope(|scope| -> Result<()> {
            let mut in_flight = None;
            for first in (0..n).step_by(SAMPLES_PER_BATCH) {
                let last = (first + SAMPLES_PER_BATCH).min(n);
                let problems = (first..last)
                    .into_par_iter()
                    .map(|i| {
                        let tokens = tokens_of(i)?;
                        let s: Vec<f32> = saliency.row(i).to_vec();
                        self.sample_problem(tokens.view(), &s)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let batch = ProblemBatch::new(problems);
                if let Some((earlier, solving)) = in_flight.take() {
                    store(earlier, join(solving)?);
                }
                if overlap {
                    let (backend, solver) = (&self.backend, &self.solver);
                    in_flight = Some((
                        first,
                        scope.spawn(move || backend.solve(&batch, solver, &Silent)),
                    ));
                } else {
                    store(first, self.backend.solve(&batch, &self.solver, &Silent)?);
                }
            }
            if let Some((earlier, solving)) = in_flight {
                store(earlier, join(solving)?);
            }
            Ok(())
        })?;
        progress.finish(Stage::Solve);
        Ok(TokenSelection {
            mask,
            objective,
            kept_per_sample: k,
        })
    }
}
