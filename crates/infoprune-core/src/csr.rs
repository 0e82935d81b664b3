//! The sparse similarity matrix `K`: compressed sparse rows, `u32` column indices, `f32` values.
//!
//! A [`CsrSimilarity`] is validated once when it is built (square, sorted rows without duplicates,
//! finite non-negative values, zero diagonal, optionally symmetric) and trusted afterwards, so the
//! solvers never re-check it.

use crate::error::{CoreError, Result};
use rayon::prelude::*;

/// Rows per parallel task in the sparse products: large enough to amortise scheduling, small enough
/// to balance two to sixty-four cores. Fixed, so results never depend on the thread count.
const ROWS_PER_TASK: usize = 4096;

/// Whether construction verifies `K = Kᵀ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymmetryCheck {
    /// Verify that every stored `K_ij` has an equal `K_ji` (exact equality).
    #[default]
    Require,
    /// Trust the caller: the matrix may be asymmetric (the solvers then optimise with `(K + Kᵀ)/2`
    /// only approximately, so use this for matrices known to be symmetric by construction).
    Skip,
}

/// What [`CsrSimilarity::from_triplets`] does with repeated `(i, j)` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Keep the largest value (what symmetrising a kNN graph by max needs).
    #[default]
    Max,
    /// Add the values up.
    Sum,
    /// Reject the input.
    Error,
}

/// A validated sparse similarity matrix in CSR form.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrSimilarity {
    n: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl CsrSimilarity {
    /// Builds a matrix from CSR arrays that satisfy every invariant by construction (sorted
    /// distinct in-range columns per row, finite non-negative values, zero diagonal, symmetric),
    /// skipping the O(nnz) validation that [`CsrSimilarity::new`] does; debug builds still run it.
    pub(crate) fn from_trusted_parts(
        n: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
    ) -> Self {
        if cfg!(debug_assertions) {
            return Self::new(n, indptr, indices, values, SymmetryCheck::Require)
                .expect("trusted CSR parts violate an invariant");
        }
        Self {
            n,
            indptr,
            indices,
            values,
        }
    }

    /// Builds a matrix from raw CSR arrays and validates every invariant.
    pub fn new(
        n: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
        symmetry: SymmetryCheck,
    ) -> Result<Self> {
        let bad = |msg: String| Err(CoreError::InvalidSimilarity(msg));
        if n > u32::MAX as usize {
            return bad(format!("n = {n} exceeds the u32 index range"));
        }
        if indptr.len() != n + 1 {
            return bad(format!(
                "indptr has length {}, expected n + 1 = {}",
                indptr.len(),
                n + 1
            ));
        }
        if indices.len() != values.len() {
            return bad(format!(
                "{} column indices but {} values",
                indices.len(),
                values.len()
            ));
        }
        if indptr[0] != 0 || indptr[n] != indices.len() {
            return bad(format!(
                "indptr must start at 0 and end at nnz = {}, found {}..{}",
                indices.len(),
                indptr[0],
                indptr[n]
            ));
        }
        // Checked whole before any row is read: with indptr[0] = 0 and indptr[n] = nnz, a
        // non-decreasing indptr keeps every row inside the arrays (a fuzzer found the gap).
        if let Some(i) = (0..n).find(|&i| indptr[i] > indptr[i + 1]) {
            return bad(format!("indptr decreases at row {i}"));
        }
        for i in 0..n {
            let (lo, hi) = (indptr[i], indptr[i + 1]);
            let mut prev: Option<u32> = None;
            for p in lo..hi {
                let j = indices[p];
                let v = values[p];
                if j as usize >= n {
                    return bad(format!("row {i} has column {j}, but n = {n}"));
                }
                if prev.is_some_and(|q| q >= j) {
                    return bad(format!("row {i} has unsorted or repeated column {j}"));
                }
                prev = Some(j);
                if !v.is_finite() || v < 0.0 {
                    return bad(format!(
                        "entry ({i}, {j}) = {v}: values must be finite and ≥ 0"
                    ));
                }
                if j as usize == i && v != 0.0 {
                    return bad(format!(
                        "diagonal entry ({i}, {i}) = {v}: the diagonal must be zero"
                    ));
                }
            }
        }
        let matrix = Self {
            n,
            indptr,
            indices,
            values,
        };
        if symmetry == SymmetryCheck::Require {
            if let Some((i, j)) = matrix.first_asymmetric_entry() {
                return bad(format!(
                    "not symmetric: K[{i},{j}] = {} but K[{j},{i}] = {}",
                    matrix.get(i, j),
                    matrix.get(j, i)
                ));
            }
        }
        Ok(matrix)
    }

    /// Builds a matrix from `(row, column, value)` triplets. Explicit zeros are dropped; repeated
    /// pairs are resolved by `duplicates`.
    pub fn from_triplets(
        n: usize,
        triplets: &[(u32, u32, f32)],
        duplicates: DuplicatePolicy,
        symmetry: SymmetryCheck,
    ) -> Result<Self> {
        if let Some(&(i, j, _)) = triplets
            .iter()
            .find(|&&(i, j, _)| i as usize >= n || j as usize >= n)
        {
            return Err(CoreError::InvalidSimilarity(format!(
                "triplet ({i}, {j}) is outside a {n}×{n} matrix"
            )));
        }
        let mut sorted: Vec<(u32, u32, f32)> = triplets.to_vec();
        sorted.sort_by_key(|&(i, j, _)| (i, j));
        let mut indptr = vec![0usize; n + 1];
        let mut indices = Vec::with_capacity(sorted.len());
        let mut values: Vec<f32> = Vec::with_capacity(sorted.len());
        let mut last: Option<(u32, u32)> = None;
        for &(i, j, v) in &sorted {
            if last == Some((i, j)) {
                let slot = values.last_mut().expect("a previous entry exists");
                match duplicates {
                    DuplicatePolicy::Max => *slot = slot.max(v),
                    DuplicatePolicy::Sum => *slot += v,
                    DuplicatePolicy::Error => {
                        return Err(CoreError::InvalidSimilarity(format!(
                            "entry ({i}, {j}) appears more than once"
                        )))
                    }
                }
                continue;
            }
            last = Some((i, j));
            indptr[i as usize + 1] += 1;
            indices.push(j);
            values.push(v);
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let matrix = Self::new(n, indptr, indices, values, SymmetryCheck::Skip)?;
        let matrix = matrix.without_zeros();
        if symmetry == SymmetryCheck::Require {
            // Re-run validation with the symmetry check now that duplicates are merged.
            return Self::new(
                matrix.n,
                matrix.indptr,
                matrix.indices,
                matrix.values,
                SymmetryCheck::Require,
            );
        }
        Ok(matrix)
    }

    /// The `n × n` matrix with no entries (no similarity between any two samples).
    pub fn empty(n: usize) -> Self {
        Self {
            n,
            indptr: vec![0; n + 1],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    fn without_zeros(self) -> Self {
        if self.values.iter().all(|&v| v != 0.0) {
            return self;
        }
        let mut indptr = vec![0usize; self.n + 1];
        let mut indices = Vec::with_capacity(self.indices.len());
        let mut values = Vec::with_capacity(self.values.len());
        for i in 0..self.n {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                if v != 0.0 {
                    indices.push(j);
                    values.push(v);
                }
            }
            indptr[i + 1] = indices.len();
        }
        Self {
            n: self.n,
            indptr,
            indices,
            values,
        }
    }

    /// Number of rows (= columns = samples).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row pointers (`n + 1` entries).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column indices of all stored entries, row by row.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Values of all stored entries, row by row.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (lo, hi) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[lo..hi], &self.values[lo..hi])
    }

    /// `K_ij`, zero where nothing is stored.
    pub fn get(&self, i: usize, j: usize) -> f32 {
        let (cols, vals) = self.row(i);
        match cols.binary_search(&(j as u32)) {
            Ok(p) => vals[p],
            Err(_) => 0.0,
        }
    }

    fn first_asymmetric_entry(&self) -> Option<(usize, usize)> {
        if self.mirrors_match() {
            return None;
        }
        // The exact first offending entry, in row order (explicitly stored zeros without a
        // mirror fail the structural check above but are symmetric in value: this decides).
        (0..self.n).into_par_iter().find_map_first(|i| {
            let (cols, vals) = self.row(i);
            cols.iter()
                .zip(vals)
                .find(|&(&j, &v)| self.get(j as usize, i) != v)
                .map(|(&j, _)| (i, j as usize))
        })
    }

    /// Whether the entries below the diagonal are exactly the mirrors of those above, in one
    /// sequential pass with no search: scanning rows in order, the entries `(i, j)` above the
    /// diagonal of column `j` arrive in increasing `i`, the order of row `j`'s entries below it.
    fn mirrors_match(&self) -> bool {
        let n = self.n;
        let mut cursor: Vec<usize> = self.indptr[..n].to_vec();
        for i in 0..n {
            for p in self.indptr[i]..self.indptr[i + 1] {
                let j = self.indices[p] as usize;
                if j <= i {
                    continue;
                }
                let c = cursor[j];
                if c >= self.indptr[j + 1]
                    || self.indices[c] as usize != i
                    || self.values[c] != self.values[p]
                {
                    return false;
                }
                cursor[j] = c + 1;
            }
        }
        (0..n).all(|j| {
            let end = self.indptr[j + 1];
            cursor[j] == end || self.indices[cursor[j]] as usize >= j
        })
    }

    /// The similarity among `rows` only (ascending indices): their rows and columns, renumbered
    /// `0..rows.len()`.
    pub fn induced_subgraph(&self, rows: &[usize]) -> CsrSimilarity {
        let mut new_index: Vec<Option<u32>> = vec![None; self.n];
        for (new, &old) in rows.iter().enumerate() {
            new_index[old] = Some(new as u32);
        }
        let mut indptr = Vec::with_capacity(rows.len() + 1);
        let mut indices = Vec::new();
        let mut values = Vec::new();
        indptr.push(0);
        for &i in rows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                if let Some(new) = new_index[j as usize] {
                    indices.push(new);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        // Ascending rows renumber monotonically, so columns stay sorted; a principal submatrix of
        // a symmetric matrix is symmetric.
        Self::from_trusted_parts(rows.len(), indptr, indices, values)
    }

    /// Whether `K_ij = K_ji` holds exactly for every stored entry.
    pub fn is_symmetric(&self) -> bool {
        self.first_asymmetric_entry().is_none()
    }

    /// `y = K x`. Rows are independent and each is summed in column order, so the result is the same
    /// whatever the number of threads.
    ///
    /// # Panics
    /// If `x` or `y` does not have length `n` (a programming error, not an input error).
    pub fn spmv(&self, x: &[f32], y: &mut [f32]) {
        assert_eq!(x.len(), self.n, "spmv: x has the wrong length");
        assert_eq!(y.len(), self.n, "spmv: y has the wrong length");
        y.par_chunks_mut(ROWS_PER_TASK)
            .enumerate()
            .for_each(|(chunk, ys)| {
                let first = chunk * ROWS_PER_TASK;
                for (r, yi) in ys.iter_mut().enumerate() {
                    let (cols, vals) = self.row(first + r);
                    let mut acc = 0.0f32;
                    for (&j, &v) in cols.iter().zip(vals) {
                        acc += v * x[j as usize];
                    }
                    *yi = acc;
                }
            });
    }

    /// `Y = K X` for `nrhs` right-hand sides stored row-major (`x[j * nrhs + r]`): each row of `K`
    /// is read once for all of them. Deterministic like [`CsrSimilarity::spmv`].
    ///
    /// # Panics
    /// If `x` or `y` does not have length `n · nrhs`.
    pub fn spmm(&self, x: &[f32], nrhs: usize, y: &mut [f32]) {
        assert_eq!(x.len(), self.n * nrhs, "spmm: x has the wrong length");
        assert_eq!(y.len(), self.n * nrhs, "spmm: y has the wrong length");
        if nrhs == 0 {
            return;
        }
        y.par_chunks_mut(ROWS_PER_TASK * nrhs)
            .enumerate()
            .for_each(|(chunk, ys)| {
                let first = chunk * ROWS_PER_TASK;
                for (r, yi) in ys.chunks_mut(nrhs).enumerate() {
                    yi.fill(0.0);
                    let (cols, vals) = self.row(first + r);
                    for (&j, &v) in cols.iter().zip(vals) {
                        let xj = &x[j as usize * nrhs..(j as usize + 1) * nrhs];
                        for (acc, &xv) in yi.iter_mut().zip(xj) {
                            *acc += v * xv;
                        }
                    }
                }
            });
    }

    /// Row sums `d_i = Σ_j K_ij` (the degree, or typicality, of each sample).
    pub fn degrees(&self) -> Vec<f32> {
        (0..self.n)
            .map(|i| self.row(i).1.iter().map(|&v| v as f64).sum::<f64>() as f32)
            .collect()
    }

    /// Largest eigenvalue of `K` (its spectral norm, since `K` is symmetric and non-negative) by
    /// power iteration from the all-ones vector, which has a positive overlap with the Perron vector.
    pub fn spectral_norm(&self, iterations: usize) -> f64 {
        if self.nnz() == 0 {
            return 0.0;
        }
        power_iteration(self.n, iterations, |v, w| self.spmv(v, w))
    }
}

/// `‖A‖₂` of a symmetric `n × n` operator by `iterations` power steps from the uniform vector
/// (at least one), given `apply(v, w)` computing `w = A v`.
pub(crate) fn power_iteration(
    n: usize,
    iterations: usize,
    apply: impl Fn(&[f32], &mut [f32]),
) -> f64 {
    let mut v = vec![1.0f32 / (n as f32).sqrt(); n];
    let mut w = vec![0.0f32; n];
    let mut estimate = 0.0f64;
    for _ in 0..iterations.max(1) {
        apply(&v, &mut w);
        let norm = crate::reduce::dot(&w, &w).sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        estimate = norm;
        let inv = (1.0 / norm) as f32;
        for (vi, wi) in v.iter_mut().zip(&w) {
            *vi = wi * inv;
        }
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triangle() -> CsrSimilarity {
        CsrSimilarity::from_triplets(
            3,
            &[(0, 1, 0.5), (1, 0, 0.5), (1, 2, 0.25), (2, 1, 0.25)],
            DuplicatePolicy::Error,
            SymmetryCheck::Require,
        )
        .unwrap()
    }

    #[test]
    fn builds_and_multiplies() {
        let k = triangle();
        assert_eq!(k.nnz(), 4);
        assert_eq!(k.get(0, 1), 0.5);
        assert_eq!(k.get(0, 2), 0.0);
        let mut y = vec![0.0; 3];
        k.spmv(&[1.0, 2.0, 4.0], &mut y);
        assert_eq!(y, vec![1.0, 1.5, 0.5]);
        assert_eq!(k.degrees(), vec![0.5, 0.75, 0.25]);
        assert!(k.is_symmetric());
    }

    #[test]
    fn duplicates_are_resolved_by_policy() {
        let t = [(0, 1, 0.5), (0, 1, 0.75), (1, 0, 0.75)];
        let k = CsrSimilarity::from_triplets(2, &t, DuplicatePolicy::Max, SymmetryCheck::Require);
        assert_eq!(k.unwrap().get(0, 1), 0.75);
        let k = CsrSimilarity::from_triplets(2, &t, DuplicatePolicy::Sum, SymmetryCheck::Skip);
        assert_eq!(k.unwrap().get(0, 1), 1.25);
        let e = CsrSimilarity::from_triplets(2, &t, DuplicatePolicy::Error, SymmetryCheck::Skip);
        assert!(e.unwrap_err().to_string().contains("more than once"));
    }

    #[test]
    fn rejects_broken_matrices() {
        let msg = |r: Result<CsrSimilarity>| r.unwrap_err().to_string();
        let s = SymmetryCheck::Skip;
        assert!(msg(CsrSimilarity::new(2, vec![0, 1], vec![1], vec![1.0], s)).contains("indptr"));
        assert!(
            msg(CsrSimilarity::new(2, vec![0, 1, 1], vec![5], vec![1.0], s)).contains("column 5")
        );
        assert!(msg(CsrSimilarity::new(2, vec![0, 1, 1], vec![1], vec![-1.0], s)).contains("≥ 0"));
        assert!(msg(CsrSimilarity::new(
            2,
            vec![0, 1, 1],
            vec![1],
            vec![f32::NAN],
            s
        ))
        .contains("finite"));
        assert!(
            msg(CsrSimilarity::new(2, vec![0, 1, 1], vec![0], vec![1.0], s)).contains("diagonal")
        );
        assert!(msg(CsrSimilarity::new(
            2,
            vec![0, 2, 2],
            vec![1, 1],
            vec![1.0, 1.0],
            s
        ))
        .contains("repeated"));
        // A middle row pointer past nnz (found by fuzzing) is an error, not an out-of-bounds read.
        assert!(msg(CsrSimilarity::new(
            2,
            vec![0, 5, 2],
            vec![1, 0],
            vec![1.0, 1.0],
            s
        ))
        .contains("indptr decreases"));
        let asym = CsrSimilarity::new(2, vec![0, 1, 1], vec![1], vec![1.0], SymmetryCheck::Require);
        assert!(msg(asym).contains("not symmetric"));
        let out = CsrSimilarity::from_triplets(2, &[(0, 2, 1.0)], DuplicatePolicy::Max, s);
        assert!(msg(out).contains("outside"));
    }

    #[test]
    fn symmetry_check_finds_every_kind_of_asymmetry() {
        let build = |n: usize, rows: &[&[(u32, f32)]]| {
            let mut indptr = vec![0];
            let (mut indices, mut values) = (Vec::new(), Vec::new());
            for row in rows {
                for &(j, v) in *row {
                    indices.push(j);
                    values.push(v);
                }
                indptr.push(indices.len());
            }
            CsrSimilarity::new(n, indptr, indices, values, SymmetryCheck::Skip).unwrap()
        };
        // A symmetric 4×4 with every row holding entries on both sides of the diagonal.
        let sym = build(
            4,
            &[
                &[(1, 0.5), (3, 0.25)],
                &[(0, 0.5), (2, 0.75)],
                &[(1, 0.75), (3, 1.0)],
                &[(0, 0.25), (2, 1.0)],
            ],
        );
        assert!(sym.is_symmetric());
        assert_eq!(sym.first_asymmetric_entry(), None);
        // Different values: the first offending entry in row order is named.
        let value = build(3, &[&[(2, 0.5)], &[], &[(0, 0.25)]]);
        assert_eq!(value.first_asymmetric_entry(), Some((0, 2)));
        // An entry below the diagonal with no mirror above it.
        let lower = build(3, &[&[], &[], &[(1, 0.5)]]);
        assert_eq!(lower.first_asymmetric_entry(), Some((2, 1)));
        // An entry above the diagonal with no mirror, while another pair matches.
        let upper = build(3, &[&[(1, 0.5), (2, 0.5)], &[(0, 0.5)], &[]]);
        assert_eq!(upper.first_asymmetric_entry(), Some((0, 2)));
        // Mirrors present but in a row that also holds an unmatched lower entry.
        let extra = build(3, &[&[(2, 0.5)], &[], &[(0, 0.5), (1, 0.5)]]);
        assert_eq!(extra.first_asymmetric_entry(), Some((2, 1)));
        // A stored zero without a mirror is still symmetric in value.
        let zero = build(2, &[&[(1, 0.0)], &[]]);
        assert!(zero.is_symmetric());
    }

    #[test]
    fn induced_subgraph_keeps_exactly_the_entries_among_the_rows() {
        let k = CsrSimilarity::from_triplets(
            4,
            &[
                (0, 1, 0.5),
                (1, 0, 0.5),
                (0, 3, 0.25),
                (3, 0, 0.25),
                (1, 2, 0.75),
                (2, 1, 0.75),
                (2, 3, 1.0),
                (3, 2, 1.0),
            ],
            DuplicatePolicy::Error,
            SymmetryCheck::Require,
        )
        .unwrap();
        let sub = k.induced_subgraph(&[0, 2, 3]);
        assert_eq!(sub.n(), 3);
        // Rows 0, 2, 3 become 0, 1, 2: only (0,3) and (2,3) survive.
        assert_eq!(sub.indptr(), &[0, 1, 2, 4]);
        assert_eq!(sub.indices(), &[2, 2, 0, 1]);
        assert_eq!(sub.values(), &[0.25, 1.0, 0.25, 1.0]);
        assert!(sub.is_symmetric());
        assert_eq!(k.induced_subgraph(&[0, 1, 2, 3]), k);
        assert_eq!(k.induced_subgraph(&[]).n(), 0);
    }

    #[test]
    fn explicit_zeros_are_dropped() {
        let k = CsrSimilarity::from_triplets(
            2,
            &[(0, 1, 0.0), (1, 0, 0.0)],
            DuplicatePolicy::Max,
            SymmetryCheck::Require,
        )
        .unwrap();
        assert_eq!(k.nnz(), 0);
    }

    #[test]
    fn spectral_norm_of_a_known_matrix() {
        // [[0, 1], [1, 0]] has eigenvalues ±1.
        let k = CsrSimilarity::from_triplets(
            2,
            &[(0, 1, 1.0), (1, 0, 1.0)],
            DuplicatePolicy::Max,
            SymmetryCheck::Require,
        )
        .unwrap();
        approx::assert_relative_eq!(k.spectral_norm(30), 1.0, epsilon = 1e-6);
        assert_eq!(CsrSimilarity::empty(4).spectral_norm(30), 0.0);
    }
}
