//! Deterministic parallel reductions.
//!
//! rayon's own `sum` splits work by the number of threads, so a float sum could change with
//! `RAYON_NUM_THREADS`. These reductions sum fixed-size chunks in parallel and then the chunk sums in
//! order, always in `f64`: the same inputs give the same bits on any machine and thread count.

use rayon::prelude::*;

/// Elements per chunk of a reduction; a constant so results never depend on the thread count.
const CHUNK: usize = 16_384;

/// Sum of `f(i)` over `0..n`, in `f64`, deterministic.
pub fn sum_by<F>(n: usize, f: F) -> f64
where
    F: Fn(usize) -> f64 + Sync,
{
    if n <= CHUNK {
        return (0..n).map(&f).sum();
    }
    let chunks = n.div_ceil(CHUNK);
    let partial: Vec<f64> = (0..chunks)
        .into_par_iter()
        .map(|c| (c * CHUNK..((c + 1) * CHUNK).min(n)).map(&f).sum())
        .collect();
    partial.iter().sum()
}

/// Several sums at once: `Σ_i f(i)[c]` for each component `c`, in one pass, deterministic.
pub fn sums_by<const N: usize, F>(n: usize, f: F) -> [f64; N]
where
    F: Fn(usize) -> [f64; N] + Sync,
{
    let add = |mut acc: [f64; N], x: [f64; N]| {
        for c in 0..N {
            acc[c] += x[c];
        }
        acc
    };
    let chunk_sum = |range: std::ops::Range<usize>| range.map(&f).fold([0.0; N], add);
    if n <= CHUNK {
        return chunk_sum(0..n);
    }
    let partial: Vec<[f64; N]> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| chunk_sum(c * CHUNK..((c + 1) * CHUNK).min(n)))
        .collect();
    partial.into_iter().fold([0.0; N], add)
}

/// `Σ a_i b_i` in `f64`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    sum_by(a.len(), |i| a[i] as f64 * b[i] as f64)
}

/// `Σ a_i`.
pub fn sum(a: &[f32]) -> f64 {
    sum_by(a.len(), |i| a[i] as f64)
}

/// `max_i |a_i − b_i|` (order-independent, so exact in parallel).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    if a.len() <= CHUNK {
        return a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
    }
    a.par_iter()
        .zip(b.par_iter())
        .map(|(x, y)| (x - y).abs())
        .reduce(|| 0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_sum_matches_sequential_order() {
        let v: Vec<f32> = (0..100_000)
            .map(|i| ((i * 37) % 101) as f32 * 0.01)
            .collect();
        let expected: f64 = v
            .chunks(CHUNK)
            .map(|c| c.iter().map(|&x| x as f64).sum::<f64>())
            .sum();
        assert_eq!(sum(&v), expected);
        assert_eq!(max_abs_diff(&v, &vec![0.0; v.len()]), 1.0);
    }
}
