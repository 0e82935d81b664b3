//! Many independent problems solved together: a block-diagonal instance (SPEC §1.4).

use crate::csr::CsrSimilarity;
use crate::error::Result;
use crate::problem::Problem;

/// One problem of a batch, owning its data (a partition, or one sample's tokens).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedProblem {
    scores: Vec<f32>,
    graph: CsrSimilarity,
    k: usize,
    alpha: f64,
}

impl OwnedProblem {
    /// Validates like [`Problem::new`].
    pub fn new(scores: Vec<f32>, graph: CsrSimilarity, k: usize, alpha: f64) -> Result<Self> {
        Problem::new(&scores, &graph, k, alpha)?;
        Ok(Self {
            scores,
            graph,
            k,
            alpha,
        })
    }

    /// The borrowed view the solvers take.
    pub fn as_problem(&self) -> Problem<'_> {
        Problem::new(&self.scores, &self.graph, self.k, self.alpha)
            .expect("validated at construction")
    }

    /// Importance `s`.
    pub fn scores(&self) -> &[f32] {
        &self.scores
    }
    /// Similarity `K`.
    pub fn graph(&self) -> &CsrSimilarity {
        &self.graph
    }
    /// Budget.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Pairwise weight.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Number of samples.
    pub fn n(&self) -> usize {
        self.scores.len()
    }
}

/// Independent problems laid out one after another: row offsets, concatenated scores, and one
/// block-diagonal matrix on demand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProblemBatch {
    problems: Vec<OwnedProblem>,
}

impl ProblemBatch {
    /// A batch of `problems` (any sizes, from one token to a whole partition).
    pub fn new(problems: Vec<OwnedProblem>) -> Self {
        Self { problems }
    }

    /// The problems, in order.
    pub fn problems(&self) -> &[OwnedProblem] {
        &self.problems
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Whether the batch has no problem.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Row offsets: problem `p` occupies rows `offsets[p]..offsets[p+1]`.
    pub fn offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.problems.len() + 1);
        offsets.push(0);
        for p in &self.problems {
            offsets.push(offsets.last().copied().unwrap_or(0) + p.n());
        }
        offsets
    }

    /// Total rows.
    pub fn rows(&self) -> usize {
        self.problems.iter().map(OwnedProblem::n).sum()
    }

    /// Total stored entries.
    pub fn nnz(&self) -> usize {
        self.problems.iter().map(|p| p.graph.nnz()).sum()
    }

    /// Budgets, in order.
    pub fn budgets(&self) -> Vec<usize> {
        self.problems.iter().map(OwnedProblem::k).collect()
    }

    /// Scores of all problems, concatenated.
    pub fn scores(&self) -> Vec<f32> {
        self.problems
            .iter()
            .flat_map(|p| p.scores.iter().copied())
            .collect()
    }

    /// The block-diagonal matrix of all problems (global row and column indices).
    pub fn block_diagonal(&self) -> CsrSimilarity {
        let rows = self.rows();
        let mut indptr = Vec::with_capacity(rows + 1);
        let mut indices = Vec::with_capacity(self.nnz());
        let mut values = Vec::with_capacity(self.nnz());
        indptr.push(0);
        let mut offset = 0u32;
        for p in &self.problems {
            for i in 0..p.n() {
                let (cols, vals) = p.graph.row(i);
                indices.extend(cols.iter().map(|&j| j + offset));
                values.extend_from_slice(vals);
                indptr.push(indices.len());
            }
            offset += p.n() as u32;
        }
        CsrSimilarity::new(
            rows,
            indptr,
            indices,
            values,
            crate::csr::SymmetryCheck::Skip,
        )
        .expect("blocks of valid matrices form a valid matrix")
    }
}
