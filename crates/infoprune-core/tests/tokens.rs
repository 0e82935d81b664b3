//! Token-level selection: exact per-sample budgets, batch = alone, redundant backgrounds pruned,
//! grid prior, and bad input.

use infoprune_core::backend::{Backend, CpuBackend, ProblemBatch};
use infoprune_core::importance::AlphaRule;
use infoprune_core::progress::Silent;
use infoprune_core::tokens::{
    dense_similarity, GridPrior, TokenBudget, TokenConfig, TokenSelector, TokenSimilarity,
};
use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` synthetic 14×14 "images": an object of `object` distinct, salient patches in the middle and
/// a background of identical, dull patches.
fn images(n: usize, object: usize, seed: u64) -> (Array3<f32>, Array2<f32>, Vec<Vec<bool>>) {
    let (t, d) = (196, 16);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Array3::<f32>::zeros((n, t, d));
    let mut saliency = Array2::<f32>::zeros((n, t));
    let mut is_object = vec![vec![false; t]; n];
    let background: Vec<f32> = (0..d).map(|j| if j == 0 { 1.0 } else { 0.05 }).collect();
    for i in 0..n {
        let start = rng.random_range(0..t - object);
        for p in 0..t {
            let inside = p >= start && p < start + object;
            is_object[i][p] = inside;
            for j in 0..d {
                features[[i, p, j]] = if inside {
                    rng.random_range(-1.0f32..1.0)
                } else {
                    background[j]
                };
            }
            saliency[[i, p]] = if inside {
                rng.random_range(0.6f32..1.0)
            } else {
                rng.random_range(0.0f32..0.3)
            };
        }
    }
    (features, saliency, is_object)
}

#[test]
fn every_sample_keeps_exactly_its_budget() {
    let (features, saliency, _) = images(12, 60, 1);
    for (budget, expected) in [
        (TokenBudget::Ratio(0.25), 49),
        (TokenBudget::Ratio(1.0), 196),
        (TokenBudget::Count(7), 7),
    ] {
        let sel = TokenSelector::new(TokenConfig::new(budget))
            .unwrap()
            .select(features.view(), saliency.view(), &Silent)
            .unwrap();
        assert_eq!(sel.kept_per_sample, expected);
        for row in sel.mask.rows() {
            assert_eq!(row.iter().map(|&m| m as usize).sum::<usize>(), expected);
        }
    }
}

#[test]
fn batched_equals_each_sample_alone() {
    let (features, saliency, _) = images(20, 50, 2);
    let selector = TokenSelector::new(TokenConfig::new(TokenBudget::Ratio(0.25))).unwrap();
    let sel = selector
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
    for i in 0..20 {
        let s: Vec<f32> = saliency.row(i).to_vec();
        let problem = selector
            .sample_problem(features.index_axis(ndarray::Axis(0), i), &s)
            .unwrap();
        let alone = CpuBackend
            .solve(
                &ProblemBatch::new(vec![problem]),
                &Default::default(),
                &Silent,
            )
            .unwrap()
            .remove(0);
        let kept: Vec<usize> = (0..196).filter(|&j| sel.mask[[i, j]] == 1).collect();
        assert_eq!(kept, alone.indices, "sample {i}");
        assert_eq!(sel.objective[i].to_bits(), alone.objective.to_bits());
    }
}

#[test]
fn a_background_of_identical_patches_keeps_at_most_a_few() {
    let (features, saliency, is_object) = images(10, 70, 3);
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.alpha = AlphaRule::Beta(20.0);
    let sel = TokenSelector::new(config)
        .unwrap()
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
    for (i, object) in is_object.iter().enumerate() {
        let background_kept = (0..196)
            .filter(|&j| sel.mask[[i, j]] == 1 && !object[j])
            .count();
        assert!(
            background_kept <= 2,
            "sample {i} kept {background_kept} identical background patches"
        );
    }
}

#[test]
fn dense_similarity_is_symmetric_and_the_grid_prior_links_neighbours() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let tokens = Array2::from_shape_fn((6, 5), |_| rng.random_range(-1.0f32..1.0));
    let plain = dense_similarity(tokens.view(), None);
    assert!(plain.is_symmetric());
    assert!((0..6).all(|i| plain.get(i, i) == 0.0));
    let grid = GridPrior {
        height: 2,
        width: 3,
        weight: 0.5,
    };
    let with = dense_similarity(tokens.view(), Some(&grid));
    assert!(with.is_symmetric());
    for i in 0..6 {
        for j in 0..6 {
            let (ri, ci, rj, cj): (usize, usize, usize, usize) = (i / 3, i % 3, j / 3, j % 3);
            let adjacent = ri.abs_diff(rj) + ci.abs_diff(cj) == 1;
            let expected = plain.get(i, j) + if adjacent { 0.5 } else { 0.0 };
            assert!((with.get(i, j) - expected).abs() < 1e-6, "({i}, {j})");
        }
    }
}

#[test]
fn bad_token_input_is_a_clear_error() {
    let (features, saliency, _) = images(3, 20, 5);
    let run = |config: TokenConfig, s: &Array2<f32>| {
        TokenSelector::new(config)
            .and_then(|sel| sel.select(features.view(), s.view(), &Silent))
            .unwrap_err()
            .to_string()
    };
    let wrong_t = Array2::<f32>::zeros((3, 195));
    assert!(run(TokenConfig::new(TokenBudget::Ratio(0.25)), &wrong_t).contains("tokens per sample"));
    assert!(run(TokenConfig::new(TokenBudget::Ratio(0.0)), &saliency).contains("(0, 1]"));
    assert!(run(TokenConfig::new(TokenBudget::Ratio(1.5)), &saliency).contains("(0, 1]"));
    assert!(run(TokenConfig::new(TokenBudget::Count(197)), &saliency).contains("k = 197"));
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.grid = Some(GridPrior {
        height: 14,
        width: 13,
        weight: 0.1,
    });
    assert!(run(config, &saliency).contains("grid 14x13"));
    let mut nan = saliency.clone();
    nan[[1, 4]] = f32::NAN;
    assert!(run(TokenConfig::new(TokenBudget::Ratio(0.25)), &nan).contains("index 200"));
}

#[test]
fn the_grid_prior_counts_for_knn_similarities_too() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (height, width) = (6usize, 7usize);
    let t = height * width;
    let tokens = Array2::from_shape_fn((t, 8), |_| rng.random_range(-1.0f32..1.0));
    let saliency: Vec<f32> = (0..t).map(|i| (i % 5) as f32).collect();
    let grid = GridPrior {
        height,
        width,
        weight: 0.25,
    };
    let problem = |grid: Option<GridPrior>| {
        let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
        config.similarity = TokenSimilarity::Knn(4);
        config.grid = grid;
        TokenSelector::new(config)
            .unwrap()
            .sample_problem(tokens.view(), &saliency)
            .unwrap()
    };
    let plain = problem(None);
    let with = problem(Some(grid));
    let (plain, with) = (plain.graph(), with.graph());
    assert!(with.is_symmetric());
    let mut adjacent_pairs = 0;
    for i in 0..t {
        for j in 0..t {
            let (ri, ci, rj, cj) = (i / width, i % width, j / width, j % width);
            let adjacent = ri.abs_diff(rj) + ci.abs_diff(cj) == 1;
            adjacent_pairs += usize::from(adjacent);
            let expected = plain.get(i, j) + if adjacent { 0.25 } else { 0.0 };
            assert!((with.get(i, j) - expected).abs() < 1e-6, "({i}, {j})");
        }
    }
    // 4-neighbour pairs on a 6×7 grid, counted both ways.
    assert_eq!(
        adjacent_pairs,
        2 * (height * (width - 1) + (height - 1) * width)
    );
}

/// A "device" (it reports counters) that solves on the CPU, but only once the host has started
/// preparing the next batch: it waits, with a deadline, for `tokens_of` to be asked for a sample
/// past its own batch. Without the overlap the host would wait for the solve, and the deadline
/// would pass.
struct WaitsForTheNextBatch {
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Samples in all; the last batch has no next one to wait for.
    n: usize,
    overlapped: std::sync::atomic::AtomicUsize,
    solves: std::sync::atomic::AtomicUsize,
}

impl Backend for WaitsForTheNextBatch {
    fn name(&self) -> String {
        "waits".into()
    }
    fn limits(&self) -> infoprune_core::backend::BackendLimits {
        CpuBackend.limits()
    }
    fn spmm(
        &self,
        g: &infoprune_core::CsrSimilarity,
        x: &[f32],
        r: usize,
    ) -> infoprune_core::Result<Vec<f32>> {
        CpuBackend.spmm(g, x, r)
    }
    fn project(&self, o: &[usize], v: &[f32], b: &[usize]) -> infoprune_core::Result<Vec<f32>> {
        CpuBackend.project(o, v, b)
    }
    fn top_k(
        &self,
        o: &[usize],
        x: &[f32],
        s: &[f32],
        b: &[usize],
    ) -> infoprune_core::Result<Vec<Vec<usize>>> {
        CpuBackend.top_k(o, x, s, b)
    }
    fn knn_graph(
        &self,
        e: ndarray::ArrayView2<f32>,
        c: &infoprune_core::knn::KnnConfig,
        p: &dyn infoprune_core::progress::Progress,
    ) -> infoprune_core::Result<infoprune_core::CsrSimilarity> {
        CpuBackend.knn_graph(e, c, p)
    }
    fn counters(&self) -> Option<infoprune_core::backend::DeviceCounters> {
        Some(Default::default())
    }
    fn solve(
        &self,
        batch: &ProblemBatch,
        config: &infoprune_core::SolverConfig,
        progress: &dyn infoprune_core::progress::Progress,
    ) -> infoprune_core::Result<Vec<infoprune_core::solver::SolveResult>> {
        use std::sync::atomic::Ordering;
        let first_past = (self.solves.fetch_add(1, Ordering::SeqCst) + 1) * 2048;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while first_past < self.n
            && self.asked.load(Ordering::SeqCst) <= first_past
            && std::time::Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        if self.asked.load(Ordering::SeqCst) > first_past {
            self.overlapped.fetch_add(1, Ordering::SeqCst);
        }
        CpuBackend.solve(batch, config, progress)
    }
}

#[test]
fn on_a_device_the_next_batch_is_prepared_while_one_is_solved() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (n, t, d) = (2048 * 2 + 10, 16, 4);
    let features = Array3::from_shape_fn((n, t, d), |(i, p, j)| ((i + 3 * p + 7 * j) % 11) as f32);
    let saliency = Array2::from_shape_fn((n, t), |(i, p)| ((i * 5 + p) % 13) as f32 / 13.0);
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let backend = std::sync::Arc::new(WaitsForTheNextBatch {
        asked: asked.clone(),
        n,
        overlapped: AtomicUsize::new(0),
        solves: AtomicUsize::new(0),
    });
    let config = TokenConfig::new(TokenBudget::Count(4));
    let selector = TokenSelector::with_backend(config.clone(), backend.clone()).unwrap();
    let overlapped = selector
        .select_with(
            n,
            t,
            saliency.view(),
            |i| {
                asked.fetch_max(i + 1, Ordering::SeqCst);
                Ok(features.index_axis(ndarray::Axis(0), i).to_owned())
            },
            &Silent,
        )
        .unwrap();
    // Batches 1 and 2 of 3 were solved while the host prepared the next; the last has none after.
    assert_eq!(backend.solves.load(Ordering::SeqCst), 3);
    assert_eq!(backend.overlapped.load(Ordering::SeqCst), 2);
    // And the answer is the CPU's, batch for batch.
    let plain = TokenSelector::new(config)
        .unwrap()
        .select(features.view(), saliency.view(), &Silent)
        .unwrap();
    assert_eq!(overlapped.mask, plain.mask);
    assert_eq!(overlapped.objective, plain.objective);
}
