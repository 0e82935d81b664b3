//! The baselines as their authors define them (issue 14, part 3), through the pipeline and the CLI.

mod common;

use common::*;
use infoprune::partition::PartitionConfig;
use infoprune::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use infoprune_core::progress::Silent;
use infoprune_core::selectors::CcsCutoff;
use infoprune_core::solver::Method;

/// The `count` lowest AUM values (ties: smaller index), ascending.
fn lowest(aum: &[f32], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..aum.len()).collect();
    order.sort_by(|&a, &b| aum[a].total_cmp(&aum[b]).then(a.cmp(&b)));
    let mut low = order[..count].to_vec();
    low.sort_unstable();
    low
}

#[test]
fn ccs_drops_its_beta_schedule_of_lowest_aum_through_the_partitioned_pipeline() {
    let n = 3000;
    let e = clustered(n, 8, 4);
    let scores: Vec<f32> = (0..n).map(|i| ((i * 31) % 97) as f32).collect();
    let aum: Vec<f32> = (0..n).map(|i| ((i * 53) % 211) as f32 - 30.0).collect();
    // β by pruning ratio: 0.1 below 70%, 0.2 from 70%, 0.3 from 80%.
    for (keep, beta) in [(0.7, 0.1), (0.5, 0.1), (0.3, 0.2), (0.2, 0.3), (0.1, 0.3)] {
        let k = (keep * n as f64) as usize;
        let mut config = PrunerConfig::new(k);
        config.select.method = Method::Ccs;
        // Several partitions: the cut is global, not per partition.
        config.partition = PartitionConfig {
            max_size: 700,
            ..PartitionConfig::default()
        };
        let inputs = SampleInputs {
            scores: Some(&scores),
            aum: Some(&aum),
            ..SampleInputs::default()
        };
        let pruned = Pruner::new(config.clone())
            .run(Embeddings::View(e.view()), inputs, &Silent)
            .unwrap();
        let count = (beta * n as f64) as usize;
        assert_eq!(pruned.dropped_noisy, count, "keep {keep}");
        assert!(pruned.partitions.len() > 1);
        assert_eq!(pruned.indices.len(), k);
        for i in lowest(&aum, count) {
            assert!(
                pruned.indices.binary_search(&i).is_err(),
                "keep {keep}: {i} kept"
            );
        }
        // Its own option, independent of the noise cutoff.
        config.select.ccs_cutoff = CcsCutoff::Fraction(0.05);
        let pruned = Pruner::new(config)
            .run(Embeddings::View(e.view()), inputs, &Silent)
            .unwrap();
        assert_eq!(pruned.dropped_noisy, n / 20);
        for i in lowest(&aum, n / 20) {
            assert!(pruned.indices.binary_search(&i).is_err());
        }
    }
    // A given graph (one problem, `select --graph`): the same cut, counted the same way.
    let graph = infoprune_core::knn::knn_graph(
        e.view(),
        &infoprune_core::knn::KnnConfig::default(),
        &Silent,
    )
    .unwrap();
    let mut config = PrunerConfig::new(300);
    config.select.method = Method::Ccs;
    let inputs = SampleInputs {
        scores: Some(&scores),
        aum: Some(&aum),
        ..SampleInputs::default()
    };
    let pruned = Pruner::new(config)
        .run_graph(graph, None, inputs, &Silent)
        .unwrap();
    assert_eq!(pruned.dropped_noisy, 900);
    assert_eq!(pruned.indices.len(), 300);
    for i in lowest(&aum, 900) {
        assert!(pruned.indices.binary_search(&i).is_err());
    }
    // Without an AUM nothing is dropped.
    let mut config = PrunerConfig::new(300);
    config.select.method = Method::Ccs;
    let pruned = Pruner::new(config)
        .run(
            Embeddings::View(e.view()),
            SampleInputs {
                scores: Some(&scores),
                ..SampleInputs::default()
            },
            &Silent,
        )
        .unwrap();
    assert_eq!(pruned.dropped_noisy, 0);
}

#[test]
fn select_method_ccs_with_aum_reports_and_applies_its_cutoff() {
    let fx = Fixture::new();
    let n = 1000;
    let e = fx.embeddings("e.npy", &clustered(n, 8, 2));
    let scores: Vec<f32> = (0..n).map(|i| ((i * 7) % 13) as f32).collect();
    let aum: Vec<f32> = (0..n).map(|i| ((i * 37) % 101) as f32).collect();
    let s = fx.vector("s.npy", &scores);
    let a = fx.vector("aum.npy", &aum);
    for (cutoff, dropped) in [("auto", 300usize), ("0.15", 150)] {
        let (out, report) = (fx.s("keep.npy"), fx.s("r.json"));
        let _ = std::fs::remove_file(&out);
        let o = infoprune(&[
            "select",
            "--embeddings",
            &e,
            "--scores",
            &s,
            "--aum",
            &a,
            "--method",
            "ccs",
            "--keep",
            "0.1",
            "--ccs-cutoff",
            cutoff,
            "--out",
            &out,
            "--report",
            &report,
            "--quiet",
            "--force",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fx.path("r.json")).unwrap()).unwrap();
        assert_eq!(
            r["dropped_noisy"].as_u64().unwrap() as usize,
            dropped,
            "{r}"
        );
        let keep = read_keep(&fx.path("keep.npy"));
        assert_eq!(keep.len(), 100);
        for i in lowest(&aum, dropped) {
            assert!(!keep.contains(&(i as i64)), "{cutoff}: {i} kept");
        }
    }
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--aum",
        &a,
        "--method",
        "ccs",
        "--keep",
        "0.1",
        "--ccs-cutoff",
        "1.5",
        "--out",
        &fx.s("bad.npy"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("ccs-cutoff"), "{}", stderr(&o));
}

#[test]
fn semdedup_through_the_pipeline_removes_planted_duplicates_and_meets_the_budget() {
    // Realistic size: 20,000 rows, 1,000 planted exact copies, 20 k-means clusters at least.
    let n = 20_000;
    let data = infoprune::demo::generate(n, 16, 10, 3);
    let dups = data.duplicate_pairs.len();
    let k = n - dups;
    let mut config = PrunerConfig::new(k);
    config.select.method = Method::SemDedup;
    config.partition = PartitionConfig {
        max_size: 8000,
        ..PartitionConfig::default()
    };
    let inputs = SampleInputs {
        scores: Some(&data.scores),
        ..SampleInputs::default()
    };
    let pruned = Pruner::new(config.clone())
        .run(Embeddings::View(data.embeddings.view()), inputs, &Silent)
        .unwrap();
    assert_eq!(pruned.indices.len(), k);
    assert_eq!(data.duplicates_kept(&pruned.indices), 0);
    assert!(pruned.objective.is_finite());
    let total: f64 = pruned.partitions.iter().map(|p| p.objective).sum();
    assert_eq!(pruned.objective, total);
    // The set is the library's SemDeDup over all rows, whatever the evaluation partitions.
    let all: Vec<usize> = (0..n).collect();
    let direct = infoprune::semdedup::semdedup(
        data.embeddings.view(),
        &all,
        Some(&data.scores),
        &infoprune::semdedup::SemDedupConfig::new(k),
    )
    .unwrap();
    assert_eq!(pruned.indices, direct.indices);
    // On a given graph there are no clusters to work in: an error, not a wrong answer.
    let graph = infoprune_core::knn::knn_graph(
        data.embeddings.view(),
        &infoprune_core::knn::KnnConfig::default(),
        &Silent,
    )
    .unwrap();
    let err = Pruner::new(config)
        .run_graph(graph, None, inputs, &Silent)
        .unwrap_err();
    assert!(err.to_string().contains("semdedup"), "{err}");
}

#[test]
fn select_method_semdedup_on_the_command_line() {
    let fx = Fixture::new();
    let data = infoprune::demo::generate(2000, 16, 8, 5);
    let e = fx.embeddings("e.npy", &data.embeddings);
    let k = 2000 - data.duplicate_pairs.len();
    for keep in ["hard", "easy", "random"] {
        let o = infoprune(&[
            "select",
            "--embeddings",
            &e,
            "--method",
            "semdedup",
            "--budget",
            &k.to_string(),
            "--semdedup-keep",
            keep,
            "--out",
            &fx.s("keep.npy"),
            "--report",
            &fx.s("r.json"),
            "--quiet",
            "--force",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let keep_rows = read_keep(&fx.path("keep.npy"));
        assert_eq!(keep_rows.len(), k);
        let sorted: Vec<usize> = keep_rows.iter().map(|&i| i as usize).collect();
        assert_eq!(data.duplicates_kept(&sorted), 0, "{keep}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fx.path("r.json")).unwrap()).unwrap();
        assert_eq!(r["method"], "semdedup");
    }
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--method",
        "semdedup",
        "--keep",
        "0.5",
        "--semdedup-cluster-size",
        "0",
        "--out",
        &fx.s("bad.npy"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("semdedup-cluster-size"),
        "{}",
        stderr(&o)
    );
}
