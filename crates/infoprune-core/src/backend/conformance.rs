//! The conformance suite every [`Backend`] must pass, written once (the burn pattern): each check is
//! a function taking the backend, and [`backend_conformance_tests!`](crate::backend_conformance_tests)
//! turns them all into `#[test]`s for a backend. Tolerances are the ones the backends promise:
//! SpMV within `1e-5` relative of an `f64` product, projections summing to `k` within `1e-4·k`,
//! top-k identical to the CPU's, and solved sets identical to the CPU's or, where float order makes
//! them differ, `f(S)` within `1e-4` relative.

use super::{Backend, CpuBackend, OwnedProblem, ProblemBatch};
use crate::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
use crate::importance::AlphaRule;
use crate::knn::{knn_graph, KnnConfig};
use crate::objective::objective;
use crate::progress::Silent;
use crate::projection::capped_simplex_projection_exact;
use crate::solver::{Algorithm, SolverConfig, SolverParams};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random symmetric graph on `n` nodes with about `2·degree` entries per row.
pub fn random_graph(n: usize, degree: usize, seed: u64) -> CsrSimilarity {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut triplets = Vec::with_capacity(2 * n * degree);
    for i in 0..n as u32 {
        for _ in 0..degree {
            let j = rng.random_range(0..n as u32);
            if j != i {
                let v = rng.random_range(0.05f32..1.0);
                triplets.push((i, j, v));
                triplets.push((j, i, v));
            }
        }
    }
    CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Max, SymmetryCheck::Require)
        .expect("a valid random graph")
}

/// A problem on clustered embeddings with its real kNN graph and SPEC's default `α`.
pub fn clustered_problem(n: usize, k: usize, seed: u64) -> OwnedProblem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = 8;
    let centers: Vec<Vec<f32>> = (0..4)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
        .collect();
    let e = Array2::from_shape_fn((n, d), |(i, j)| {
        centers[i % 4][j] + 0.3 * rng.random_range(-1.0f32..1.0)
    });
    let graph = knn_graph(e.view(), &KnnConfig::default(), &Silent).expect("valid embeddings");
    let scores: Vec<f32> = (0..n).map(|_| rng.random_range(0.0f32..1.0)).collect();
    let alpha = AlphaRule::default().alpha(&scores, &graph.degrees(), k);
    OwnedProblem::new(scores, graph, k, alpha).expect("valid problem")
}

/// A problem on a random graph.
pub fn random_problem(n: usize, k: usize, seed: u64) -> OwnedProblem {
    let graph = random_graph(n, 4, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let scores: Vec<f32> = (0..n).map(|_| rng.random_range(0.0f32..1.0)).collect();
    let alpha = AlphaRule::default().alpha(&scores, &graph.degrees(), k);
    OwnedProblem::new(scores, graph, k, alpha).expect("valid problem")
}

/// SpMV and the multi-vector product agree with an `f64` product to `1e-5` relative.
pub fn spmv_matches_f64(backend: &dyn Backend) {
    for (n, seed) in [(1usize, 1u64), (37, 2), (5000, 3)] {
        let graph = random_graph(n, 6, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for nrhs in [1usize, 3] {
            let x: Vec<f32> = (0..n * nrhs)
                .map(|_| rng.random_range(0.0f32..1.0))
                .collect();
            let y = backend.spmm(&graph, &x, nrhs).expect("spmm runs");
            assert_eq!(y.len(), n * nrhs);
            let mut worst = 0.0f64;
            let mut scale = 0.0f64;
            for i in 0..n {
                let (cols, vals) = graph.row(i);
                for r in 0..nrhs {
                    let exact: f64 = cols
                        .iter()
                        .zip(vals)
                        .map(|(&j, &v)| v as f64 * x[j as usize * nrhs + r] as f64)
                        .sum();
                    worst = worst.max((y[i * nrhs + r] as f64 - exact).abs());
                    scale = scale.max(exact.abs());
                }
            }
            assert!(
                worst <= 1e-5 * scale.max(1e-30),
                "n={n} nrhs={nrhs}: error {worst} vs scale {scale}"
            );
        }
    }
}

/// Segment sizes from 1 to tens of thousands in one call, budgets from 1 to `n`.
fn mixed_segments(seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sizes = [1usize, 2, 16, 3, 700, 1, 20_000, 196, 5];
    let mut offsets = vec![0];
    let mut budgets = Vec::new();
    for &size in &sizes {
        offsets.push(offsets.last().unwrap() + size);
        budgets.push(match rng.random_range(0..4) {
            0 => 1,
            1 => size,
            _ => rng.random_range(1..=size),
        });
    }
    (offsets, budgets)
}

/// Segmented projection sums to each budget within `1e-4·k` and matches the exact projection.
pub fn projection_matches_exact(backend: &dyn Backend) {
    let (offsets, budgets) = mixed_segments(11);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let n = *offsets.last().unwrap();
    for scale in [0.5f32, 50.0] {
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
        let x = backend
            .project(&offsets, &v, &budgets)
            .expect("projection runs");
        for p in 0..budgets.len() {
            let range = offsets[p]..offsets[p + 1];
            let total: f64 = x[range.clone()].iter().map(|&v| v as f64).sum();
            let k = budgets[p] as f64;
            assert!(
                (total - k).abs() <= 1e-4 * k,
                "segment {p}: sum {total} vs {k}"
            );
            let exact = capped_simplex_projection_exact(&v[range.clone()], budgets[p]);
            for (a, b) in x[range].iter().zip(&exact) {
                assert!((a - b).abs() <= 1e-4, "segment {p}: {a} vs exact {b}");
            }
        }
    }
}

/// Top-k per segment equals the CPU's exactly, ties included.
pub fn top_k_equals_cpu(backend: &dyn Backend) {
    let (offsets, budgets) = mixed_segments(21);
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let n = *offsets.last().unwrap();
    // Few distinct values, so ties in x (and in s) are everywhere.
    let x: Vec<f32> = (0..n)
        .map(|_| rng.random_range(0..8) as f32 / 8.0)
        .collect();
    let s: Vec<f32> = (0..n).map(|_| rng.random_range(0..4) as f32).collect();
    let got = backend
        .top_k(&offsets, &x, &s, &budgets)
        .expect("top-k runs");
    let want = CpuBackend.top_k(&offsets, &x, &s, &budgets).unwrap();
    assert_eq!(got, want);
}

fn check_solve(backend: &dyn Backend, batch: &ProblemBatch, config: &SolverConfig) {
    let got = backend.solve(batch, config, &Silent).expect("solve runs");
    let want = CpuBackend.solve(batch, config, &Silent).unwrap();
    assert_eq!(got.len(), batch.len());
    for (p, (g, w)) in got.iter().zip(&want).enumerate() {
        let problem = batch.problems()[p].as_problem();
        assert_eq!(g.indices.len(), problem.k(), "problem {p}: wrong size");
        assert!(
            g.indices.windows(2).all(|w| w[0] < w[1]),
            "problem {p}: not sorted"
        );
        let f = objective(&problem, &g.indices).expect("valid indices");
        assert!(
            (f - g.objective).abs() <= 1e-6 * f.abs().max(1.0),
            "problem {p}: f(S) misreported"
        );
        if g.indices != w.indices {
            let rel = (f - w.objective).abs() / w.objective.abs().max(1e-12);
            assert!(
                rel <= 1e-4,
                "problem {p}: f(S) {f} vs CPU {} ({rel:e})",
                w.objective
            );
        }
    }
}

/// Random and clustered problems, alone and in batches mixing tiny and large, size 1 and `k = n`.
pub fn solve_matches_cpu(backend: &dyn Backend) {
    for algorithm in [Algorithm::ProjectedGradient, Algorithm::Mirror] {
        let config = SolverParams::new(algorithm).check().unwrap();
        check_solve(
            backend,
            &ProblemBatch::new(vec![random_problem(2000, 200, 1)]),
            &config,
        );
        check_solve(
            backend,
            &ProblemBatch::new(vec![clustered_problem(1500, 150, 2)]),
            &config,
        );
        let mixed = ProblemBatch::new(vec![
            random_problem(1, 1, 3),
            clustered_problem(16, 4, 4),
            random_problem(3000, 300, 5),
            random_problem(7, 7, 6),
            clustered_problem(196, 49, 7),
            random_problem(2, 1, 8),
        ]);
        check_solve(backend, &mixed, &config);
    }
}

/// The kNN graph has the CPU's neighbour sets (up to float near-ties) and values within `1e-5`.
pub fn knn_graph_matches_cpu(backend: &dyn Backend) {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    for (n, d, m) in [
        (1usize, 4usize, 10usize),
        (50, 3, 5),
        (700, 24, 10),
        (300, 8, 32),
    ] {
        let e = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0f32..1.0));
        let config = KnnConfig::new(m);
        let got = backend
            .knn_graph(e.view(), &config, &Silent)
            .expect("knn runs");
        let want = knn_graph(e.view(), &config, &Silent).unwrap();
        assert_eq!(got.n(), n);
        assert!(got.is_symmetric());
        let mut differing = 0usize;
        for i in 0..n {
            if got.row(i).0 != want.row(i).0 {
                differing += 1;
                continue;
            }
            for (a, b) in got.row(i).1.iter().zip(want.row(i).1) {
                assert!((a - b).abs() <= 1e-5, "row {i}: {a} vs {b}");
            }
        }
        // Near-ties may swap a neighbour at the boundary in a few rows, never in many.
        assert!(
            differing * 50 <= n.max(50),
            "{differing} of {n} rows differ"
        );
    }
}

/// Bad arguments are errors, not panics.
pub fn bad_arguments_are_errors(backend: &dyn Backend) {
    let graph = random_graph(10, 2, 41);
    assert!(backend.spmv(&graph, &[1.0; 9]).is_err());
    assert!(backend.spmm(&graph, &[1.0; 10], 0).is_err());
    assert!(backend.spmv(&graph, &[f32::NAN; 10]).is_err());
    assert!(backend.project(&[0, 5, 10], &[0.0; 10], &[1]).is_err());
    assert!(backend.project(&[0, 5, 10], &[0.0; 10], &[6, 1]).is_err());
    assert!(backend.project(&[0, 5, 9], &[0.0; 10], &[1, 1]).is_err());
    assert!(backend
        .project(&[0, 10], &[f32::INFINITY; 10], &[1])
        .is_err());
    assert!(backend
        .top_k(&[0, 10], &[0.0; 10], &[0.0; 9], &[1])
        .is_err());
    assert!(backend
        .top_k(&[0, 10], &[0.0; 10], &[0.0; 10], &[0])
        .is_err());
}

/// Instantiates every conformance check as a `#[test]` for the backend `$make` returns
/// (`Option<Box<dyn Backend>>`; `None` skips, which the expression itself should explain).
#[macro_export]
macro_rules! backend_conformance_tests {
    ($make:expr) => {
        fn conformance_backend() -> Option<Box<dyn $crate::backend::Backend>> {
            $make
        }
        $crate::backend_conformance_tests!(@tests
            spmv_matches_f64,
            projection_matches_exact,
            top_k_equals_cpu,
            solve_matches_cpu,
            knn_graph_matches_cpu,
            bad_arguments_are_errors
        );
    };
    (@tests $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                if let Some(backend) = conformance_backend() {
                    $crate::backend::conformance::$name(backend.as_ref());
                }
            }
        )*
    };
}
