//! The symmetric CSR graph from row-wise neighbour lists, by `max(K, Kᵀ)` or `(K + Kᵀ)/2`.

use rayon::prelude::*;

use crate::csr::{CsrSimilarity, SymmetryCheck};
use crate::error::Result;

/// How the row-wise kNN lists become a symmetric matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Symmetrize {
    /// `K = max(K, Kᵀ)`: an edge found from either side keeps its full similarity.
    #[default]
    Max,
    /// `K = (K + Kᵀ)/2`: an edge found from one side only gets half its similarity.
    Mean,
}

/// `max(K, Kᵀ)` or `(K + Kᵀ)/2` of the row-wise lists, built directly in CSR: each row is the merge
/// of its own list (sorted by column) with the transposed lists, gathered by a counting sort.
/// Builds the symmetric CSR graph from row-wise neighbour lists (sorted by similarity descending,
/// index ascending), by max or mean as `symmetrize` says. Backends that compute the lists
/// themselves (the GPU) share this step with the CPU.
pub fn symmetrize_lists(
    n: usize,
    mut lists: Vec<Vec<(u32, f32)>>,
    mode: Symmetrize,
) -> Result<CsrSimilarity> {
    let mut t_ptr = vec![0usize; n + 1];
    for list in &lists {
        for &(j, _) in list {
            t_ptr[j as usize + 1] += 1;
        }
    }
    for i in 0..n {
        t_ptr[i + 1] += t_ptr[i];
    }
    let nnz = t_ptr[n];
    let mut t_cols = vec![0u32; nnz];
    let mut t_vals = vec![0.0f32; nnz];
    let mut next = t_ptr.clone();
    // Rows are visited in increasing order, so every transposed row comes out sorted by column.
    for (i, list) in lists.iter().enumerate() {
        for &(j, v) in list {
            let p = next[j as usize];
            t_cols[p] = i as u32;
            t_vals[p] = v;
            next[j as usize] += 1;
        }
    }
    lists
        .par_iter_mut()
        .for_each(|list| list.sort_unstable_by_key(|&(j, _)| j));

    // Both combinations are commutative in (K_ij, K_ji), so entry (i, j) and entry (j, i) get the
    // same bits and the result is exactly symmetric.
    let both = |a: f32, b: f32| match mode {
        Symmetrize::Max => a.max(b),
        Symmetrize::Mean => 0.5 * a + 0.5 * b,
    };
    let one = |a: f32| match mode {
        Symmetrize::Max => a,
        Symmetrize::Mean => 0.5 * a,
    };
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let mut indices = Vec::with_capacity(nnz + nnz / 2);
    let mut values = Vec::with_capacity(nnz + nnz / 2);
    for (i, own) in lists.iter().enumerate() {
        let (tc, tv) = (
            &t_cols[t_ptr[i]..t_ptr[i + 1]],
            &t_vals[t_ptr[i]..t_ptr[i + 1]],
        );
        let (mut p, mut q) = (0, 0);
        while p < own.len() || q < tc.len() {
            let (j, v) = match (own.get(p), tc.get(q)) {
                (Some(&(a, va)), Some(&b)) if a == b => {
                    p += 1;
                    q += 1;
                    (a, both(va, tv[q - 1]))
                }
                (Some(&(a, va)), Some(&b)) if a < b => {
                    p += 1;
                    (a, one(va))
                }
                (Some(&(a, va)), None) => {
                    p += 1;
                    (a, one(va))
                }
                (_, Some(&b)) => {
                    q += 1;
                    (b, one(tv[q - 1]))
                }
                (None, None) => unreachable!("the loop condition guarantees an entry"),
            };
            // Halving can underflow the tiniest subnormal similarity to zero.
            if v > 0.0 {
                indices.push(j);
                values.push(v);
            }
        }
        indptr.push(indices.len());
    }
    CsrSimilarity::new(n, indptr, indices, values, SymmetryCheck::Skip)
}
