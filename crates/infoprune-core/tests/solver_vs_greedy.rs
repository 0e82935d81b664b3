//! The default InfoMax solver against lazy greedy (issue 14): it never returns a smaller `f(S)`, its
//! set is 1-swap optimal (checked by trying every swap), the refinement never lowers `f`, and the
//! answer is the same on any number of threads.

use infoprune_core::backend::conformance::{clustered_problem, random_problem};
use infoprune_core::objective::objective;
use infoprune_core::progress::Silent;
use infoprune_core::solver::swap::swap_refinement;
use infoprune_core::solver::{rounding, Algorithm, Problem, SolverConfig, SolverParams};
use infoprune_core::testing::random_instance;

fn greedy_f(p: &Problem) -> f64 {
    SolverParams::new(Algorithm::LazyGreedy)
        .check()
        .unwrap()
        .solve(p, &Silent)
        .objective
}

#[test]
fn with_the_greedy_candidate_never_below_greedy() {
    let mut cases = 0;
    for (n, seed) in [(500usize, 1u64), (3000, 2), (12_000, 3)] {
        for keep in [0.1, 0.3, 0.5, 0.7, 0.9] {
            let k = ((keep * n as f64) as usize).max(1);
            for owned in [random_problem(n, k, seed), clustered_problem(n, k, seed)] {
                let p = owned.as_problem();
                let greedy = greedy_f(&p);
                for algorithm in [Algorithm::ProjectedGradient, Algorithm::Mirror] {
                    let r = SolverParams {
                        greedy_candidate: true,
                        ..SolverParams::new(algorithm)
                    }
                    .check()
                    .unwrap()
                    .solve(&p, &Silent);
                    assert_eq!(r.indices.len(), k);
                    assert_eq!(r.objective, objective(&p, &r.indices).unwrap());
                    assert!(
                        r.objective >= greedy,
                        "n={n} keep={keep} {algorithm:?}: {} < greedy {greedy}",
                        r.objective
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 60);
}

#[test]
fn without_the_greedy_candidate_the_relaxed_set_is_returned() {
    // The option really switches greedy off (no time is charged to it), and on keeps the better.
    let owned = clustered_problem(3000, 300, 2);
    let p = owned.as_problem();
    let plain = SolverConfig::default().solve(&p, &Silent);
    let with = SolverParams {
        greedy_candidate: true,
        ..SolverParams::default()
    }
    .check()
    .unwrap()
    .solve(&p, &Silent);
    assert!(with.objective >= plain.objective);
    assert!(with.objective >= greedy_f(&p));
    assert!(with.timings.get("greedy") > 0.0);
    assert_eq!(plain.timings.get("greedy"), 0.0);
}

/// Every swap of one kept for one left-out sample, evaluated from scratch with `objective`.
fn best_swap_gain(p: &Problem, set: &[usize]) -> f64 {
    let n = p.n();
    let base = objective(p, set).unwrap();
    let mut member = vec![false; n];
    for &i in set {
        member[i] = true;
    }
    let mut best = f64::NEG_INFINITY;
    for (pos, _) in set.iter().enumerate() {
        for j in (0..n).filter(|&j| !member[j]) {
            let mut other = set.to_vec();
            other[pos] = j;
            best = best.max(objective(p, &other).unwrap() - base);
        }
    }
    best
}

#[test]
fn the_default_answer_is_one_swap_optimal() {
    for seed in 0..40u64 {
        let n = 20 + (seed as usize * 7) % 60;
        let (s, k) = random_instance(n, 3 + seed as usize % 4, seed);
        let budget = 1 + (seed as usize * 13) % (n - 1);
        let alpha = [0.05, 0.3, 1.0, 3.0][seed as usize % 4];
        let p = Problem::new(&s, &k, budget, alpha).unwrap();
        for algorithm in [Algorithm::ProjectedGradient, Algorithm::Mirror] {
            let r = SolverParams::new(algorithm)
                .check()
                .unwrap()
                .solve(&p, &Silent);
            let gain = best_swap_gain(&p, &r.indices);
            let tol = 1e-9 * r.objective.abs().max(1.0);
            assert!(
                gain <= tol,
                "seed {seed} {algorithm:?}: a swap still gains {gain}"
            );
        }
    }
}

#[test]
fn refinement_runs_to_a_one_swap_optimum_and_never_lowers_f() {
    for seed in 0..25u64 {
        let n = 30 + seed as usize * 3;
        let (s, k) = random_instance(n, 4, seed + 100);
        let budget = 2 + seed as usize % (n / 2);
        let p = Problem::new(&s, &k, budget, [0.2, 1.0, 2.5][seed as usize % 3]).unwrap();
        // Start from the worst set there is for redundancy: the top scores.
        let zeros = vec![0.0f32; n];
        let start = rounding::top_k(&zeros, &s, budget);
        let mut previous = objective(&p, &start).unwrap();
        let mut last = start.clone();
        // One more round at a time from the same start: f after r rounds never falls as r grows.
        for rounds in 1..=60 {
            let mut set = start.clone();
            swap_refinement(&p, &mut set, rounds, &Silent);
            let f = objective(&p, &set).unwrap();
            assert!(
                f >= previous,
                "seed {seed}: round {rounds}: {previous} → {f}"
            );
            previous = f;
            last = set;
        }
        assert!(best_swap_gain(&p, &last) <= 1e-9 * previous.abs().max(1.0));
    }
}

#[test]
fn same_answer_on_any_number_of_threads() {
    let owned = clustered_problem(20_000, 2_000, 9);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| SolverConfig::default().solve(&owned.as_problem(), &Silent))
    };
    let one = run(1);
    for threads in [2, 5] {
        let other = run(threads);
        assert_eq!(one.indices, other.indices, "{threads} threads");
        assert_eq!(one.objective.to_bits(), other.objective.to_bits());
    }
}
