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
/// are combined in one fixed tree. Every kernel of [`dense_rows`] follows that order, so results
/// never depend on the machine. 32 lanes are eight SSE or four AVX registers, enough independent
/// adds to hide the add latency.
const LANES: usize = 32;

/// Lanes per group: one AVX register.
const GROUP: usize = 8;

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

/// `y_i = Σ_j rows[i·n + j] x_j` for the `y.len()` rows, `n = x.len()`, on the widest instruction
/// set the CPU has: [`dense_rows_v3`] where it has AVX2 and FMA (x86-64-v3), else
/// [`dense_rows_portable`], plain Rust the compiler vectorises for the target's baseline (SSE2 on
/// x86_64). Both follow the order of [`LANES`] with separate multiplies and adds, which round the
/// same in every instruction set, so they give the same bits (tested).
fn dense_rows(rows: &[f32], x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        dense_rows_v3(simd, rows, x, y);
        return;
    }
    dense_rows_portable(rows, x, y);
}

/// The row products on AVX2 registers, through `pulp`'s safe vector types: four registers of
/// eight lanes, multiplied then added (never fused), combined by the same tree as
/// [`row_product`]. Explicit vectors keep the tree in registers (a horizontal add), which the
/// auto-vectorised [`dense_rows_portable`] cannot: compiled for AVX it took about a sixth more
/// time on a token problem's 196 columns, and the same from about a thousand columns on
/// (BENCHMARKS.md, "Dense similarity operator").
#[cfg(target_arch = "x86_64")]
fn dense_rows_v3(simd: pulp::x86::V3, rows: &[f32], x: &[f32], y: &mut [f32]) {
    use pulp::f32x8;
    simd.vectorize(
        #[inline(always)]
        || {
            let (x_groups, x_tail) = pulp::as_arrays::<LANES, f32>(x);
            for (yi, row) in y.iter_mut().zip(rows.chunks_exact(x.len())) {
                let (row_groups, row_tail) = pulp::as_arrays::<LANES, f32>(row);
                let mut lanes = [simd.splat_f32x8(0.0); LANES / GROUP];
                for (a, b) in row_groups.iter().zip(x_groups) {
                    let a: [f32x8; LANES / GROUP] = pulp::cast(*a);
                    let b: [f32x8; LANES / GROUP] = pulp::cast(*b);
                    for g in 0..LANES / GROUP {
                        lanes[g] = simd.add_f32x8(lanes[g], simd.mul_f32x8(a[g], b[g]));
                    }
                }
                let [g0, g1, g2, g3] = lanes;
                let h = simd.add_f32x8(simd.add_f32x8(g0, g2), simd.add_f32x8(g1, g3));
                let h: [f32; GROUP] = pulp::cast(h);
                let tail: f32 = row_tail.iter().zip(x_tail).map(|(a, b)| a * b).sum();
                *yi = last_levels(h, tail);
            }
        },
    )
}

/// The row products in [`LANES`] fixed lanes, for any target.
#[inline(always)]
fn dense_rows_portable(rows: &[f32], x: &[f32], y: &mut [f32]) {
    for (yi, row) in y.iter_mut().zip(rows.chunks_exact(x.len())) {
        *yi = row_product(row, x);
    }
}

/// `Σ_j a_j b_j` in the documented order: the [`LANES`] lane sums over the whole groups of 32, the
/// lanes by halves (lane `l` plus lane `l + 16`, then `l + 8`, …), then the products past the last
/// whole group, in order.
///
/// The lanes are four groups of eight (one AVX or two SSE registers each), and the first two
/// levels of the tree add whole groups. `black_box` then hands the compiler the resulting eight
/// lanes as one value it must store: only as an optimisation barrier, the arithmetic is the same
/// without it. With it the compiler vectorises the loop a whole register at a time (eight SSE
/// multiplies and adds per 32 products, as checked in the disassembly of `benches/operator.rs`);
/// without it the release build shaped the loop after the narrow last levels of the tree and came
/// out two lanes wide, 3.5× the instructions.
#[inline(always)]
fn row_product(a: &[f32], b: &[f32]) -> f32 {
    let [g0, g1, g2, g3] = lane_sums(a, b);
    let h = std::hint::black_box(add(add(g0, g2), add(g1, g3)));
    let body = a.len() - a.len() % LANES;
    let tail: f32 = a[body..].iter().zip(&b[body..]).map(|(x, y)| x * y).sum();
    last_levels(h, tail)
}

/// The last three levels of the tree over the eight lanes left after the first two, plus `tail`.
#[inline(always)]
fn last_levels(h: [f32; GROUP], tail: f32) -> f32 {
    let h = [h[0] + h[4], h[1] + h[5], h[2] + h[6], h[3] + h[7]];
    let h = [h[0] + h[2], h[1] + h[3]];
    (h[0] + h[1]) + tail
}

/// The lane sums of `a ⊙ b` over the whole groups of [`LANES`], as four groups of eight lanes.
#[inline(always)]
fn lane_sums(a: &[f32], b: &[f32]) -> [[f32; GROUP]; LANES / GROUP] {
    let mut groups = [[0.0f32; GROUP]; LANES / GROUP];
    for (xa, xb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for (g, group) in groups.iter_mut().enumerate() {
            for l in 0..GROUP {
                group[l] += xa[g * GROUP + l] * xb[g * GROUP + l];
            }
        }
    }
    groups
}

/// Lane by lane `u + v`.
#[inline(always)]
fn add(u: [f32; GROUP], v: [f32; GROUP]) -> [f32; GROUP] {
    std::array::from_fn(|l| u[l] + v[l])
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

    /// One row product in the documented order, written out as scalar code: the lanes over the
    /// whole groups, the tail in order, then the tree over the lanes.
    fn reference_row(a: &[f32], b: &[f32]) -> f32 {
        let body = a.len() / LANES * LANES;
        let mut lanes = [0.0f32; LANES];
        for c in (0..body).step_by(LANES) {
            for (l, lane) in lanes.iter_mut().enumerate() {
                *lane += a[c + l] * b[c + l];
            }
        }
        let mut tail = 0.0f32;
        for j in body..a.len() {
            tail += a[j] * b[j];
        }
        let mut width = LANES / 2;
        while width > 0 {
            for l in 0..width {
                lanes[l] += lanes[l + width];
            }
            width /= 2;
        }
        lanes[0] + tail
    }

    /// Values over six orders of magnitude and both signs, so that any change of summation order
    /// shows in the last bits.
    fn wide_values(len: usize, phase: f32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32 * 0.37 + phase;
                t.sin() * 10f32.powi((i % 7) as i32 - 3)
            })
            .collect()
    }

    #[test]
    fn every_code_path_gives_the_documented_bits() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for n in [1, 5, LANES - 1, LANES, LANES + 1, 3 * LANES + 7, 196, 300] {
            let rows = 9;
            let matrix = wide_values(rows * n, 0.5);
            let x = wide_values(n, 1.5);
            let expect: Vec<f32> = matrix
                .chunks_exact(n)
                .map(|row| reference_row(row, &x))
                .collect();
            let mut portable = vec![0.0f32; rows];
            dense_rows_portable(&matrix, &x, &mut portable);
            assert_eq!(bits(&portable), bits(&expect), "portable, n = {n}");
            let mut dispatched = vec![0.0f32; rows];
            dense_rows(&matrix, &x, &mut dispatched);
            assert_eq!(bits(&dispatched), bits(&expect), "dispatched, n = {n}");
            #[cfg(target_arch = "x86_64")]
            if let Some(simd) = pulp::x86::V3::try_new() {
                let mut v3 = vec![0.0f32; rows];
                dense_rows_v3(simd, &matrix, &x, &mut v3);
                assert_eq!(bits(&v3), bits(&expect), "AVX2, n = {n}");
            }
        }
        // The parallel rows (1100² entries) on any thread count: the same bits again.
        let graph = random_graph(1100, 0.6, 9);
        let op = SimilarityOperator::for_graph(&graph);
        let SimilarityOperator::Dense { n, values } = &op else {
            panic!("a 60% full graph of 1100 rows is dense");
        };
        assert!(values.len() >= PARALLEL_MIN_ENTRIES);
        let x = wide_values(*n, 2.5);
        let expect: Vec<f32> = values
            .chunks_exact(*n)
            .map(|row| reference_row(row, &x))
            .collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut y = vec![0.0f32; *n];
            pool.install(|| op.apply(&x, &mut y));
            assert_eq!(bits(&y), bits(&expect), "{threads} threads");
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
