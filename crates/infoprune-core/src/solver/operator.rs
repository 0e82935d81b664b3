//! The `x ↦ K x` that the relaxed solvers apply at every step, in the cheapest form for the graph.
//!
//! A token problem (SPEC §5) has a nearly dense `K` of a few hundred rows. Stored as CSR, every
//! product gathers `x[j]` through an index and adds into one serial accumulator, so it runs at the
//! latency of a float add per entry. The same matrix laid out dense is a contiguous dot product per
//! row that the compiler vectorises: about ten times fewer cycles. Large sparse graphs stay CSR.
//!
//! The dense sums use a fixed lane order, so results are deterministic and independent of the
//! thread count, like every other reduction here; they differ from the CSR sums only by rounding.

use crate::csr::CsrSimilarity;
use rayon::prelude::*;

/// Largest `n` laid out dense (`n² · 4` bytes: 16 MiB at 2048).
const DENSE_MAX_ROWS: usize = 2048;

/// Smallest fill `nnz / n²` for which the dense form pays off.
const DENSE_MIN_FILL: f64 = 0.25;

/// Dense products with at least this many entries split their rows over threads.
const PARALLEL_MIN_ENTRIES: usize = 1 << 20;

/// Accumulator lanes of a dense row product. Lane `l` sums the products at positions `≡ l (mod
/// LANES)` in order, each a separate multiply then add (never a fused multiply-add), and the lanes
/// are combined in one fixed tree: the SSE, AVX and portable kernels all give the same bits, so
/// results never depend on the machine. 32 lanes are eight SSE or four AVX accumulators, enough
/// independent adds to hide the add latency.
const LANES: usize = 32;

/// `K` as the solver multiplies by it.
#[derive(Debug)]
pub enum SimilarityOperator<'a> {
    /// The CSR matrix itself.
    Sparse(&'a CsrSimilarity),
    /// A row-major `n × n` copy.
    Dense {
        /// Rows (and columns).
        n: usize,
        /// `K[i][j]` at `i·n + j`.
        values: Vec<f32>,
    },
}

impl<'a> SimilarityOperator<'a> {
    /// The dense form when `K` is small and full enough, else the CSR matrix.
    pub fn for_graph(graph: &'a CsrSimilarity) -> Self {
        let n = graph.n();
        if n == 0 || n > DENSE_MAX_ROWS || (graph.nnz() as f64) < DENSE_MIN_FILL * (n * n) as f64 {
            return SimilarityOperator::Sparse(graph);
        }
        let mut values = vec![0.0f32; n * n];
        for (i, row) in values.chunks_exact_mut(n).enumerate() {
            let (cols, vals) = graph.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                row[j as usize] = v;
            }
        }
        SimilarityOperator::Dense { n, values }
    }

    /// Whether the dense form is in use.
    pub fn is_dense(&self) -> bool {
        matches!(self, SimilarityOperator::Dense { .. })
    }

    /// `y = K x`.
    ///
    /// # Panics
    /// If `x` or `y` does not have length `n`.
    pub fn apply(&self, x: &[f32], y: &mut [f32]) {
        match self {
            SimilarityOperator::Sparse(graph) => graph.spmv(x, y),
            SimilarityOperator::Dense { n, values } => {
                assert_eq!(x.len(), *n, "operator: x has the wrong length");
                assert_eq!(y.len(), *n, "operator: y has the wrong length");
                if values.len() >= PARALLEL_MIN_ENTRIES {
                    const ROWS: usize = 64;
                    y.par_chunks_mut(ROWS)
                        .zip(values.par_chunks(ROWS * n))
                        .for_each(|(ys, rows)| dense_rows(rows, x, ys));
                } else {
                    dense_rows(values, x, y);
                }
            }
        }
    }

    /// `‖K‖₂` by power iteration from the uniform vector, as [`CsrSimilarity::spectral_norm`].
    pub fn spectral_norm(&self, iterations: usize) -> f64 {
        match self {
            SimilarityOperator::Sparse(graph) => graph.spectral_norm(iterations),
            SimilarityOperator::Dense { n, .. } => {
                crate::csr::power_iteration(*n, iterations, |v, w| self.apply(v, w))
            }
        }
    }
}

/// `y_i = Σ_j rows[i·n + j] x_j` for the `y.len()` rows, `n = x.len()`, on the widest kernel
/// the CPU has (all give the same bits).
fn dense_rows(rows: &[f32], x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        unsafe { dense_rows_avx(rows, x, y) };
        return;
    }
    for (yi, row) in y.iter_mut().zip(rows.chunks_exact(x.len())) {
        *yi = finish(row, x, lane_sums(row, x));
    }
}

/// [`dense_rows`] compiled for AVX, so that [`lane_sums_avx`] inlines into the row loop.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn dense_rows_avx(rows: &[f32], x: &[f32], y: &mut [f32]) {
    for (yi, row) in y.iter_mut().zip(rows.chunks_exact(x.len())) {
        // SAFETY: the caller guarantees AVX.
        *yi = finish(row, x, unsafe { lane_sums_avx(row, x) });
    }
}

/// Adds the products past the last whole group of [`LANES`] to the lane sums, in a fixed order.
fn finish(a: &[f32], b: &[f32], mut lanes: [f32; LANES]) -> f32 {
    let body = a.len() - a.len() % LANES;
    let tail: f32 = a[body..].iter().zip(&b[body..]).map(|(x, y)| x * y).sum();
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            lanes[l] += lanes[l + width];
        }
        width /= 2;
    }
    lanes[0] + tail
}

/// Per-lane sums of `a ⊙ b` over the whole groups of [`LANES`]: eight SSE accumulators (SSE2 is
/// part of the x86_64 baseline).
#[cfg(target_arch = "x86_64")]
fn lane_sums(a: &[f32], b: &[f32]) -> [f32; LANES] {
    use std::arch::x86_64::{_mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_setzero_ps, _mm_storeu_ps};
    const WIDTH: usize = 4;
    let body = a.len().min(b.len()) / LANES * LANES;
    let mut out = [0.0f32; LANES];
    // SAFETY: SSE2 is in the x86_64 baseline; every load reads 4 floats ending at most at `body`,
    // within both slices; the stores write the 4-float groups of `out`.
    unsafe {
        let mut acc = [_mm_setzero_ps(); LANES / WIDTH];
        for c in (0..body).step_by(LANES) {
            for (v, lane) in acc.iter_mut().enumerate() {
                let x = _mm_loadu_ps(a.as_ptr().add(c + v * WIDTH));
                let y = _mm_loadu_ps(b.as_ptr().add(c + v * WIDTH));
                *lane = _mm_add_ps(*lane, _mm_mul_ps(x, y));
            }
        }
        for (v, lane) in acc.into_iter().enumerate() {
            _mm_storeu_ps(out.as_mut_ptr().add(v * WIDTH), lane);
        }
    }
    out
}

/// Per-lane sums of `a ⊙ b` over the whole groups of [`LANES`]: four AVX accumulators.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn lane_sums_avx(a: &[f32], b: &[f32]) -> [f32; LANES] {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    const WIDTH: usize = 8;
    let body = a.len().min(b.len()) / LANES * LANES;
    let mut out = [0.0f32; LANES];
    // SAFETY: AVX is guaranteed by the caller; loads and stores stay in bounds as in `lane_sums`.
    unsafe {
        let mut acc = [_mm256_setzero_ps(); LANES / WIDTH];
        for c in (0..body).step_by(LANES) {
            for (v, lane) in acc.iter_mut().enumerate() {
                let x = _mm256_loadu_ps(a.as_ptr().add(c + v * WIDTH));
                let y = _mm256_loadu_ps(b.as_ptr().add(c + v * WIDTH));
                *lane = _mm256_add_ps(*lane, _mm256_mul_ps(x, y));
            }
        }
        for (v, lane) in acc.into_iter().enumerate() {
            _mm256_storeu_ps(out.as_mut_ptr().add(v * WIDTH), lane);
        }
    }
    out
}

/// Per-lane sums of `a ⊙ b` over the whole groups of [`LANES`], portable.
#[cfg(not(target_arch = "x86_64"))]
fn lane_sums(a: &[f32], b: &[f32]) -> [f32; LANES] {
    let mut out = [0.0f32; LANES];
    for (xa, xb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for (l, lane) in out.iter_mut().enumerate() {
            *lane += xa[l] * xb[l];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::{DuplicatePolicy, SymmetryCheck};
    use approx::assert_relative_eq;

    fn random_graph(n: usize, fill: f64, seed: u64) -> CsrSimilarity {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut triplets = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                if next() < fill {
                    let v = next() as f32;
                    triplets.push((i as u32, j as u32, v));
                    triplets.push((j as u32, i as u32, v));
                }
            }
        }
        CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Max, SymmetryCheck::Require)
            .unwrap()
    }

    #[test]
    fn dense_form_is_chosen_only_for_small_full_graphs() {
        assert!(SimilarityOperator::for_graph(&random_graph(60, 0.9, 1)).is_dense());
        assert!(!SimilarityOperator::for_graph(&random_graph(60, 0.05, 2)).is_dense());
        assert!(!SimilarityOperator::for_graph(&CsrSimilarity::empty(5)).is_dense());
    }

    #[test]
    fn dense_and_sparse_products_agree() {
        // Odd sizes exercise the lane remainder; 1100² entries exercise the parallel rows.
        for (n, seed) in [(1, 3), (7, 4), (61, 5), (200, 6), (1100, 7)] {
            let graph = random_graph(n, 0.7, seed);
            let dense = SimilarityOperator::for_graph(&graph);
            assert!(dense.is_dense() || graph.nnz() == 0);
            let x: Vec<f32> = (0..n).map(|i| ((i * 37) % 11) as f32 / 11.0).collect();
            let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
            dense.apply(&x, &mut a);
            SimilarityOperator::Sparse(&graph).apply(&x, &mut b);
            for (u, v) in a.iter().zip(&b) {
                assert_relative_eq!(*u, *v, max_relative = 1e-5, epsilon = 1e-5);
            }
            assert_relative_eq!(
                dense.spectral_norm(30),
                graph.spectral_norm(30),
                max_relative = 1e-5
            );
        }
    }

    /// The documented order, written out plainly.
    fn reference_lanes(a: &[f32], b: &[f32]) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        for c in (0..a.len() / LANES * LANES).step_by(LANES) {
            for (l, lane) in out.iter_mut().enumerate() {
                *lane += a[c + l] * b[c + l];
            }
        }
        out
    }

    #[test]
    fn every_kernel_follows_the_documented_order() {
        for len in [0, 5, LANES, 3 * LANES + 7, 196] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let expect = reference_lanes(&a, &b);
            let bits = |v: [f32; LANES]| v.map(f32::to_bits);
            assert_eq!(bits(lane_sums(&a, &b)), bits(expect), "len {len}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: AVX checked just above.
                assert_eq!(bits(unsafe { lane_sums_avx(&a, &b) }), bits(expect));
                if len > 0 {
                    let mut y = [0.0f32; 1];
                    // SAFETY: as above.
                    unsafe { dense_rows_avx(&a, &b, &mut y) };
                    assert_eq!(y[0].to_bits(), finish(&a, &b, expect).to_bits());
                }
            }
        }
    }

    #[test]
    fn dense_products_are_deterministic_across_thread_counts() {
        let graph = random_graph(1100, 0.6, 8);
        let op = SimilarityOperator::for_graph(&graph);
        let x: Vec<f32> = (0..1100).map(|i| (i as f32).sin()).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut y = vec![0.0f32; 1100];
                op.apply(&x, &mut y);
                y
            })
        };
        assert_eq!(run(1), run(3));
    }
}
