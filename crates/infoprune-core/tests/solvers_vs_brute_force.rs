//! Every solver against the exact optimum, found by enumerating all subsets of size k (n ≤ 14).

use infoprune_core::csr::{CsrSimilarity, DuplicatePolicy, SymmetryCheck};
use infoprune_core::importance::AlphaRule;
use infoprune_core::objective::objective;
use infoprune_core::progress::Silent;
use infoprune_core::solver::{Algorithm, Problem, SolverParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Instance {
    scores: Vec<f32>,
    graph: CsrSimilarity,
    k: usize,
    alpha: f64,
}

fn instance(rng: &mut ChaCha8Rng) -> Instance {
    let n = rng.random_range(6..=14);
    let k = rng.random_range(1..n);
    let scores: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    let density = rng.random_range(0.15..0.6);
    let mut triplets = Vec::new();
    for i in 0..n as u32 {
        for j in (i + 1)..n as u32 {
            if rng.random_bool(density) {
                let v = rng.random_range(0.05f32..1.0);
                triplets.push((i, j, v));
                triplets.push((j, i, v));
            }
        }
    }
    let graph =
        CsrSimilarity::from_triplets(n, &triplets, DuplicatePolicy::Error, SymmetryCheck::Require)
            .unwrap();
    let beta = [0.25, 0.5, 1.0, 2.0][rng.random_range(0..4)];
    let alpha = AlphaRule::Beta(beta).alpha(&scores, &graph.degrees(), k);
    Instance {
        scores,
        graph,
        k,
        alpha,
    }
}

/// max f(S) over all |S| = k, by Gosper's hack over bitmasks.
fn brute_force(p: &Problem) -> f64 {
    let n = p.n();
    let mut best = f64::NEG_INFINITY;
    let mut mask: u32 = (1 << p.k()) - 1;
    while mask < (1 << n) {
        let set: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
        best = best.max(objective(p, &set).unwrap());
        let c = mask & mask.wrapping_neg();
        let r = mask + c;
        mask = (((r ^ mask) >> 2) / c) | r;
    }
    best
}

#[test]
fn solvers_reach_the_optimum_on_small_instances() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let algorithms = [
        Algorithm::LazyGreedy,
        Algorithm::ProjectedGradient,
        Algorithm::Mirror,
    ];
    let mut ratios = vec![Vec::new(); algorithms.len()];
    let mut exact_hits = vec![0usize; algorithms.len()];
    let trials = 200;
    for _ in 0..trials {
        let inst = instance(&mut rng);
        let p = Problem::new(&inst.scores, &inst.graph, inst.k, inst.alpha).unwrap();
        let optimum = brute_force(&p);
        for (a, &algorithm) in algorithms.iter().enumerate() {
            let result = SolverParams::new(algorithm)
                .check()
                .unwrap()
                .solve(&p, &Silent);
            assert_eq!(result.indices.len(), inst.k);
            let f = objective(&p, &result.indices).unwrap();
            assert!(
                (f - result.objective).abs() < 1e-9,
                "reported f(S) is not f(S)"
            );
            assert!(
                f <= optimum + 1e-9,
                "{algorithm:?} beat the optimum: {f} > {optimum}"
            );
            if f >= optimum - 1e-9 {
                exact_hits[a] += 1;
            }
            // A ratio only means something for a positive optimum.
            if optimum > 1e-6 {
                ratios[a].push(f / optimum);
            }
        }
    }
    for (a, algorithm) in algorithms.iter().enumerate() {
        let r = &ratios[a];
        println!("positive optima: {}", r.len());
        assert!(r.len() >= trials * 9 / 10, "too few positive optima");
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let worst = r.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "{algorithm:?}: mean f/f* = {mean:.4}, worst = {worst:.4}, optimal in {}/{trials}",
            exact_hits[a]
        );
        assert!(mean >= 0.95, "{algorithm:?}: mean ratio {mean} < 0.95");
    }
}
