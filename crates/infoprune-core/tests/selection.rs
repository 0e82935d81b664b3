//! End-to-end properties of the single-problem pipeline: determinism, planted duplicates, defaults.

use infoprune_core::importance::{AlphaRule, NoiseCutoff, Representativeness};
use infoprune_core::progress::Silent;
use infoprune_core::select::{SelectConfig, Selector};
use infoprune_core::{Method, RelaxedSolver};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Gaussian clusters on the sphere, with `dups` rows that are exact copies of earlier rows.
/// Returns the embeddings and the (original, copy) pairs.
fn clustered(
    n: usize,
    d: usize,
    clusters: usize,
    dups: usize,
    seed: u64,
) -> (Array2<f32>, Vec<(usize, usize)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
        .collect();
    let mut e = Array2::<f32>::zeros((n, d));
    for i in 0..n - dups {
        let c = &centers[i % clusters];
        for j in 0..d {
            e[[i, j]] = c[j] + 0.3 * rng.random_range(-1.0f32..1.0);
        }
    }
    let mut pairs = Vec::new();
    for t in 0..dups {
        let src = rng.random_range(0..n - dups);
        let dst = n - dups + t;
        let row = e.row(src).to_owned();
        e.row_mut(dst).assign(&row);
        pairs.push((src, dst));
    }
    (e, pairs)
}

#[test]
fn same_seed_same_subset() {
    let (e, _) = clustered(600, 8, 6, 20, 1);
    let scores: Vec<f32> = (0..600).map(|i| ((i * 31) % 97) as f32).collect();
    for method in [
        Method::InfoMax,
        Method::Greedy,
        Method::Random,
        Method::TopK,
    ] {
        for solver in [RelaxedSolver::ProjectedGradient, RelaxedSolver::Mirror] {
            let config = SelectConfig::new(60).method(method).solver(solver).seed(9);
            let a = Selector::new(config.clone())
                .unwrap()
                .run(e.view(), Some(&scores), None)
                .unwrap();
            let b = Selector::new(config)
                .unwrap()
                .run(e.view(), Some(&scores), None)
                .unwrap();
            assert_eq!(a.indices, b.indices, "{method:?}");
            assert_eq!(a.objective.to_bits(), b.objective.to_bits());
            assert_eq!(a.indices.len(), 60);
        }
    }
    let r = |seed| {
        Selector::new(SelectConfig::new(60).method(Method::Random).seed(seed))
            .unwrap()
            .run(e.view(), None, None)
            .unwrap()
            .indices
    };
    assert_ne!(r(1), r(2));
}

#[test]
fn planted_duplicates_are_never_both_kept_when_alpha_is_large() {
    // Spread-out clusters and a small budget: an independent set of size k exists in the graph, so
    // for large α the objective itself forbids keeping any similar pair, let alone duplicates.
    let (e, pairs) = clustered(800, 16, 8, 60, 3);
    let scores: Vec<f32> = {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        (0..800).map(|_| rng.random_range(0.0..1.0)).collect()
    };
    for method in [Method::InfoMax, Method::Greedy] {
        for solver in [RelaxedSolver::ProjectedGradient, RelaxedSolver::Mirror] {
            let config = SelectConfig::new(60)
                .method(method)
                .solver(solver)
                .alpha(AlphaRule::Beta(20.0));
            let sel = Selector::new(config)
                .unwrap()
                .run(e.view(), Some(&scores), None)
                .unwrap();
            let kept: std::collections::HashSet<usize> = sel.indices.iter().copied().collect();
            for &(a, b) in &pairs {
                assert!(
                    !(kept.contains(&a) && kept.contains(&b)),
                    "{method:?}/{solver:?} kept both {a} and {b}"
                );
            }
        }
    }
}

#[test]
fn infomax_beats_baselines_on_its_objective() {
    let (e, _) = clustered(1500, 16, 10, 100, 5);
    let scores: Vec<f32> = {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        (0..1500).map(|_| rng.random_range(0.0..1.0)).collect()
    };
    let selector = Selector::new(SelectConfig::new(150)).unwrap();
    let prepared = selector
        .prepare(
            e.view(),
            Some(&scores),
            None,
            &infoprune_core::progress::Silent,
        )
        .unwrap();
    let f = |m| {
        prepared
            .select(selector.config(), m, &infoprune_core::progress::Silent)
            .unwrap()
            .objective
    };
    let (infomax, greedy, random, topk) = (
        f(Method::InfoMax),
        f(Method::Greedy),
        f(Method::Random),
        f(Method::TopK),
    );
    assert!(
        infomax > random && infomax > topk,
        "{infomax} vs {random}, {topk}"
    );
    println!("f(S): infomax {infomax:.3}, greedy {greedy:.3}, random {random:.3}, topk {topk:.3}");
    assert!(infomax >= 0.95 * greedy, "{infomax} vs greedy {greedy}");
}

#[test]
fn defaults_follow_the_spec() {
    let (e, _) = clustered(500, 8, 5, 0, 7);
    // Minus AUM: rows 0..460 have AUM 2 (median 2, so τ = 0.5), rows 460..480 AUM −0.4 (within
    // the margin) and rows 480..500 AUM −3: the auto cutoff drops those 20, at any pruning ratio.
    let noise: Vec<f32> = (0..500)
        .map(|i| match i {
            0..460 => -2.0,
            460..480 => 0.4,
            _ => 3.0,
        })
        .collect();
    for k in [50, 300] {
        let sel = Selector::new(SelectConfig::new(k))
            .unwrap()
            .run(e.view(), None, Some(&noise))
            .unwrap();
        assert!((sel.gamma - (1.0 - k as f64 / 500.0)).abs() < 1e-12);
        assert_eq!(sel.dropped_noisy, 20);
        assert!(sel.indices.iter().all(|&i| i < 480));
    }
    // The former schedule follows the pruning ratio: keeping 10% drops 20% (the 100 noisiest
    // rows, ties by smaller index: 400..500), keeping 60% none.
    let ramp: Vec<f32> = (0..500).map(|i| i as f32).collect();
    let schedule = |k| SelectConfig::new(k).noise_cutoff(NoiseCutoff::Schedule);
    let sel = Selector::new(schedule(50))
        .unwrap()
        .run(e.view(), None, Some(&ramp))
        .unwrap();
    assert_eq!(sel.dropped_noisy, 100);
    assert!(sel.indices.iter().all(|&i| i < 400));
    let sel = Selector::new(schedule(300))
        .unwrap()
        .run(e.view(), None, Some(&ramp))
        .unwrap();
    assert_eq!(sel.dropped_noisy, 0);
    // SIMS's concentration must be a positive number.
    for kappa in [0.0, -1.0, f64::INFINITY] {
        let config = SelectConfig {
            sims_concentration: kappa,
            ..SelectConfig::new(5)
        };
        assert!(Selector::new(config).is_err(), "{kappa}");
    }
    // Explicit settings win.
    let config = SelectConfig::new(50)
        .noise_cutoff(NoiseCutoff::Fraction(0.0))
        .representativeness(Representativeness::Fixed(0.0))
        .alpha(AlphaRule::Fixed(0.25));
    let sel = Selector::new(config)
        .unwrap()
        .run(e.view(), None, Some(&noise))
        .unwrap();
    assert_eq!((sel.dropped_noisy, sel.gamma, sel.alpha), (0, 0.0, 0.25));
}

#[test]
fn bad_input_is_a_clear_error() {
    let (mut e, _) = clustered(50, 4, 2, 0, 8);
    let run = |e: &Array2<f32>, k: usize, s: Option<&[f32]>| {
        Selector::new(SelectConfig::new(k))
            .and_then(|sel| sel.run(e.view(), s, None))
            .unwrap_err()
            .to_string()
    };
    assert!(run(&e, 0, None).contains("k = 0"));
    assert!(run(&e, 51, None).contains("k = 51"));
    assert!(run(&e, 5, Some(&[1.0; 49])).contains("expected 50, found 49"));
    let mut s = vec![1.0f32; 50];
    s[7] = f32::NAN;
    assert!(run(&e, 5, Some(&s)).contains("scores has a non-finite value (NaN) at index 7"));
    e[[3, 1]] = f32::INFINITY;
    assert!(run(&e, 5, None).contains("embeddings has a non-finite value (inf) at index 13"));
    let empty =
        Selector::new(SelectConfig::new(1))
            .unwrap()
            .run(Array2::zeros((0, 4)).view(), None, None);
    assert!(empty.unwrap_err().to_string().contains("empty"));
}

#[test]
fn thread_count_does_not_change_the_subset() {
    let (e, _) = clustered(20_000, 8, 12, 200, 9);
    let scores: Vec<f32> = (0..20_000).map(|i| ((i * 7919) % 1000) as f32).collect();
    let run = |threads: usize, method: Method, solver: RelaxedSolver| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let config = SelectConfig::new(2_000).method(method).solver(solver);
                Selector::new(config)
                    .unwrap()
                    .run(e.view(), Some(&scores), None)
                    .unwrap()
            })
    };
    for (method, solver) in [
        (Method::InfoMax, RelaxedSolver::ProjectedGradient),
        (Method::InfoMax, RelaxedSolver::Mirror),
        (Method::Greedy, RelaxedSolver::ProjectedGradient),
    ] {
        let one = run(1, method, solver);
        let two = run(2, method, solver);
        let three = run(3, method, solver);
        assert_eq!(one.indices, two.indices, "{method:?}/{solver:?}");
        assert_eq!(one.indices, three.indices, "{method:?}/{solver:?}");
        assert_eq!(one.objective.to_bits(), two.objective.to_bits());
    }
}

#[test]
fn score_based_selectors_run_through_the_pipeline() {
    use infoprune_core::select::Extras;
    let (e, _) = clustered(1000, 8, 5, 0, 10);
    let scores: Vec<f32> = (0..1000).map(|i| ((i * 7) % 100) as f32).collect();
    let labels: Vec<i64> = (0..1000).map(|i| (i % 5) as i64).collect();
    let aum: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    let noise: Vec<f32> = (0..1000).map(|i| if i < 100 { 1.0 } else { 0.0 }).collect();
    let extras = Extras {
        labels: Some(&labels),
        aum: Some(&aum),
        embeddings: None,
    };
    for method in [Method::Sims, Method::Ccs, Method::Moderate, Method::D2] {
        let selector = Selector::new(SelectConfig::new(100).method(method).seed(3)).unwrap();
        let run = |noise: Option<&[f32]>| {
            selector
                .run_with_extras(
                    e.view(),
                    Some(&scores),
                    noise,
                    extras,
                    &infoprune_core::progress::Silent,
                )
                .unwrap()
        };
        let sel = run(None);
        assert_eq!(sel.indices.len(), 100, "{method:?}");
        assert!(sel.indices.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sel.method, method);
        assert!(sel.objective.is_finite());
        assert_eq!(
            run(None).indices,
            sel.indices,
            "{method:?} is not deterministic"
        );
        // Keeping 10%: the auto cutoff drops the 100 noisiest rows (0..100) first, and the indices
        // still refer to the original rows.
        let with_noise = run(Some(&noise));
        assert!(with_noise.indices.iter().all(|&i| i >= 100), "{method:?}");
        if method == Method::Ccs {
            // 90% pruning: CCS's own AUM cutoff removes the 20% lowest-AUM samples (0..200).
            assert!(
                sel.indices.iter().all(|&i| i >= 200),
                "{:?}",
                &sel.indices[..5]
            );
        }
    }
    let err = Selector::new(SelectConfig::new(100).method(Method::Moderate))
        .unwrap()
        .run(e.view(), Some(&scores), None)
        .unwrap_err();
    assert!(err.to_string().contains("needs class labels"), "{err}");
    let short = Extras {
        labels: Some(&labels[..999]),
        ..Extras::default()
    };
    let err = Selector::new(SelectConfig::new(100).method(Method::Sims))
        .unwrap()
        .run_with_extras(
            e.view(),
            Some(&scores),
            None,
            short,
            &infoprune_core::progress::Silent,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("expected 1000, found 999"),
        "{err}"
    );
}

#[test]
fn a_given_graph_prepares_the_same_instance_as_the_embeddings_it_came_from() {
    let (e, _) = clustered(400, 6, 5, 10, 3);
    let scores: Vec<f32> = (0..400).map(|i| ((i * 17) % 89) as f32).collect();
    let selector = Selector::new(SelectConfig::new(40)).unwrap();
    let built = selector
        .prepare(e.view(), Some(&scores), None, &Silent)
        .unwrap();
    let given = selector
        .prepare_with_graph(built.graph.clone(), Some(&scores), None)
        .unwrap();
    assert_eq!(given.graph, built.graph);
    assert_eq!(given.rows, built.rows);
    assert_eq!(given.importance, built.importance);
    assert_eq!(given.alpha, built.alpha);

    // With the noise cutoff, the dropped samples' rows and columns leave the given graph (on
    // embeddings the kNN graph would be rebuilt over the rest instead).
    let noise: Vec<f32> = (0..400).map(|i| ((i * 53) % 401) as f32).collect();
    let selector =
        Selector::new(SelectConfig::new(40).noise_cutoff(NoiseCutoff::Fraction(0.25))).unwrap();
    let given = selector
        .prepare_with_graph(built.graph.clone(), Some(&scores), Some(&noise))
        .unwrap();
    assert_eq!(given.dropped_noisy.len(), 100);
    assert_eq!(given.rows.len(), 300);
    assert!(given.dropped_noisy.iter().all(|i| !given.rows.contains(i)));
    assert_eq!(given.graph, built.graph.induced_subgraph(&given.rows));
    assert_eq!(given.importance.len(), 300);
}
