//! Entry points for the fuzz targets (`fuzz/`) and their regression corpus (replayed by
//! `cargo test`): arbitrary bytes decoded into calls of the validating constructors, which must
//! answer `Ok` or a clear `Err`, never panic.

use crate::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};

/// Decodes `bytes` into a matrix size, triplets and raw CSR arrays and builds similarities from
/// them every way the API allows. Returns how many constructions succeeded.
pub fn csr_construction(bytes: &[u8]) -> usize {
    let Some((&size, rest)) = bytes.split_first() else {
        return 0;
    };
    let n = size as usize % 64;
    let mut words = rest.chunks_exact(3).map(|c| {
        (
            c[0] as u32 % 70,
            c[1] as u32 % 70,
            c[2] as f32 / 128.0 - 0.25,
        )
    });
    let triplets: Vec<(u32, u32, f32)> = words.by_ref().take(256).collect();
    let mut ok = 0;
    for duplicates in [
        DuplicatePolicy::Max,
        DuplicatePolicy::Sum,
        DuplicatePolicy::Error,
    ] {
        for symmetry in [SymmetryCheck::Require, SymmetryCheck::Skip] {
            if let Ok(k) = CsrSimilarity::from_triplets(n, &triplets, duplicates, symmetry) {
                // A valid matrix must be usable.
                let x = vec![1.0f32; k.n()];
                let mut y = vec![0.0f32; k.n()];
                k.spmv(&x, &mut y);
                ok += 1;
            }
        }
    }
    // Raw arrays: row pointers from the first bytes, then indices and values.
    let indptr: Vec<usize> = rest.iter().take(n + 1).map(|&b| b as usize).collect();
    let nnz = indptr.last().copied().unwrap_or(0);
    let indices: Vec<u32> = rest
        .iter()
        .skip(n + 1)
        .take(nnz)
        .map(|&b| b as u32)
        .collect();
    let values: Vec<f32> = rest
        .iter()
        .skip(n + 1 + nnz)
        .take(nnz)
        .map(|&b| b as f32 / 64.0)
        .collect();
    if CsrSimilarity::new(n, indptr, indices, values, SymmetryCheck::Require).is_ok() {
        ok += 1;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_inputs_are_answered() {
        assert_eq!(csr_construction(&[]), 0);
        // n = 3 with the symmetric pair (0, 1) = (1, 0): every triplet construction accepts it.
        assert!(csr_construction(&[3, 0, 1, 160, 1, 0, 160]) >= 4);
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            csr_construction(&bytes);
        }
    }
}
