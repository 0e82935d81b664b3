//! Property tests (proptest): invariants that must hold for every input, not only the hand-picked
//! ones — the projection, budgets and swap refinement.

use infoprune_core::backend::conformance::random_graph;
use infoprune_core::budget::largest_remainder;
use infoprune_core::objective::objective;
use infoprune_core::progress::Silent;
use infoprune_core::projection::{capped_simplex_projection, capped_simplex_projection_exact};
use infoprune_core::solver::swap::swap_refinement;
use infoprune_core::solver::Problem;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn projection_is_feasible_and_matches_the_exact_one(
        v in prop::collection::vec(-1.0e3f32..1.0e3, 1..80),
        k_seed in any::<usize>(),
    ) {
        let k = 1 + k_seed % v.len();
        let mut x = vec![0.0f32; v.len()];
        capped_simplex_projection(&v, k, &mut x);
        let exact = capped_simplex_projection_exact(&v, k);
        let total: f64 = x.iter().map(|&t| t as f64).sum();
        prop_assert!((total - k as f64).abs() <= 1e-4 * k as f64, "sum {} vs {}", total, k);
        for (a, b) in x.iter().zip(&exact) {
            prop_assert!((0.0..=1.0).contains(a));
            prop_assert!((a - b).abs() <= 1e-4, "{} vs exact {}", a, b);
        }
    }

    #[test]
    fn largest_remainder_is_exact_and_fair(
        sizes in prop::collection::vec(0usize..500, 1..30),
        fraction in 0.0f64..=1.0,
    ) {
        let n: usize = sizes.iter().sum();
        let k = (fraction * n as f64).floor() as usize;
        let budgets = largest_remainder(&sizes, k);
        prop_assert_eq!(budgets.iter().sum::<usize>(), k);
        for (b, s) in budgets.iter().zip(&sizes) {
            prop_assert!(b <= s);
            if n > 0 {
                let share = k as f64 * *s as f64 / n as f64;
                prop_assert!((*b as f64 - share).abs() < 1.0 + 1e-9, "{} vs share {}", b, share);
            }
        }
    }

    #[test]
    fn swap_refinement_never_lowers_f_and_keeps_the_budget(
        n in 2usize..120,
        degree in 1usize..6,
        seed in any::<u64>(),
        k_seed in any::<usize>(),
        alpha in 0.0f64..5.0,
        start_seed in any::<u64>(),
    ) {
        let graph = random_graph(n, degree, seed);
        let scores: Vec<f32> = (0..n).map(|i| ((i as u64).wrapping_mul(seed | 1) % 97) as f32 / 97.0).collect();
        let k = 1 + k_seed % (n - 1);
        let problem = Problem::new(&scores, &graph, k, alpha).unwrap();
        // A deterministic pseudo-random starting set of size k.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (i as u64).wrapping_mul(start_seed | 1).rotate_left(17));
        let mut set: Vec<usize> = order[..k].to_vec();
        set.sort_unstable();
        let before = objective(&problem, &set).unwrap();
        swap_refinement(&problem, &mut set, 5, &Silent);
        let after = objective(&problem, &set).unwrap();
        prop_assert_eq!(set.len(), k);
        prop_assert!(set.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(after >= before - 1e-9 * before.abs().max(1.0), "{} → {}", before, after);
    }
}
