//! The partitioned pipeline: equal to solving every partition alone, exact budgets and quotas,
//! millions of rows with bounded memory, and clear errors.

mod common;

use common::*;
use infoprune::partition::{PartitionConfig, PartitionMethod};
use infoprune::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use infoprune_core::backend::CpuBackend;
use infoprune_core::progress::Silent;
use infoprune_core::select::SelectConfig;
use ndarray::Array2;
use std::sync::Arc;

#[test]
fn partitioned_run_equals_solving_each_partition_alone() {
    assert_partitioned_run_equals_each_partition_alone(Arc::new(CpuBackend));
}

#[test]
fn two_million_rows_with_small_partitions() {
    let n = 2_000_000;
    let d = 4;
    // A cheap deterministic cloud: no RNG per element, so setup stays fast in debug builds.
    let e = Array2::from_shape_fn((n, d), |(i, j)| {
        let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (8 * j + 3);
        (h % 1000) as f32 / 1000.0 - 0.5
    });
    let config = PrunerConfig {
        select: SelectConfig::new(n / 10).neighbors(4),
        partition: PartitionConfig {
            max_size: 1000,
            ..PartitionConfig::default()
        },
        class_quota: false,
        quota_classes: Vec::new(),
    };
    let pruned = Pruner::new(config)
        .run(Embeddings::View(e.view()), SampleInputs::default(), &Silent)
        .unwrap();
    assert_eq!(pruned.indices.len(), n / 10);
    assert!(pruned.indices.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(pruned.partitions.len(), n / 1000);
    assert!(pruned
        .partitions
        .iter()
        .all(|p| p.size <= 1000 && p.k <= p.size));
    assert_eq!(pruned.partitions.iter().map(|p| p.k).sum::<usize>(), n / 10);
}

#[test]
fn class_quotas_hold_in_the_selection() {
    let n = 2000;
    let e = clustered(n, 6, 22);
    // Imbalanced classes: 0 has 1000 samples, 1 has 600, 2 has 400.
    let labels: Vec<i64> = (0..n)
        .map(|i| {
            if i < 1000 {
                0
            } else if i < 1600 {
                1
            } else {
                2
            }
        })
        .collect();
    let config = PrunerConfig {
        select: SelectConfig::new(200),
        partition: PartitionConfig {
            method: PartitionMethod::Class,
            max_size: 300,
            ..PartitionConfig::default()
        },
        class_quota: true,
        quota_classes: vec![0, 1, 2],
    };
    let pruned = Pruner::new(config)
        .run(
            Embeddings::View(e.view()),
            SampleInputs {
                labels: Some(&labels),
                ..SampleInputs::default()
            },
            &Silent,
        )
        .unwrap();
    let per_class = |c: i64| pruned.indices.iter().filter(|&&i| labels[i] == c).count();
    assert_eq!((per_class(0), per_class(1), per_class(2)), (100, 60, 40));
}

#[test]
fn class_quotas_hold_inside_one_mixed_partition() {
    // One random partition holds every class; the quota must still hold per class, even for a
    // class whose samples are atypical (spread out) and would lose a mixed competition.
    let n = 900;
    let e = clustered(n, 3, 31);
    let labels: Vec<i64> = (0..n)
        .map(|i| if i % 9 == 0 { 2 } else { (i % 2) as i64 })
        .collect();
    let count = |c: i64| labels.iter().filter(|&&l| l == c).count();
    let k = 90;
    let config = PrunerConfig {
        select: SelectConfig::new(k),
        partition: PartitionConfig {
            method: PartitionMethod::Random,
            max_size: 50_000,
            ..PartitionConfig::default()
        },
        class_quota: true,
        quota_classes: Vec::new(),
    };
    let pruned = Pruner::new(config)
        .run(
            Embeddings::View(e.view()),
            SampleInputs {
                labels: Some(&labels),
                ..SampleInputs::default()
            },
            &Silent,
        )
        .unwrap();
    assert_eq!(pruned.indices.len(), k);
    for c in 0..3 {
        let kept = pruned.indices.iter().filter(|&&i| labels[i] == c).count();
        let share = k as f64 * count(c) as f64 / n as f64;
        assert!(
            (kept as f64 - share).abs() < 1.0,
            "class {c}: kept {kept}, share {share}"
        );
    }
}

#[test]
fn select_cli_partitions_and_reports_them() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(1200, 6, 23));
    let labels: Vec<i64> = (0..1200).map(|i| (i % 3) as i64).collect();
    npy_labels(&fx, "y.npy", &labels);
    for partition in ["random", "class", "kmeans"] {
        let (out, report) = (
            fx.s(&format!("{partition}.npy")),
            fx.s(&format!("{partition}.json")),
        );
        // Only class partitions read the labels (elsewhere they are refused as having no effect).
        let y = fx.s("y.npy");
        let labels: &[&str] = if partition == "class" {
            &["--labels", &y]
        } else {
            &[]
        };
        let o = infoprune(
            &[
                &[
                    "select",
                    "--embeddings",
                    &e,
                    "--keep",
                    "0.1",
                    "--partition",
                    partition,
                    "--partition-size",
                    "300",
                    "--out",
                    &out,
                    "--report",
                    &report,
                    "-q",
                ][..],
                labels,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{partition}: {}", stderr(&o));
        assert_eq!(read_keep(std::path::Path::new(&out)).len(), 120);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert!(
            json["partitions"].as_u64().unwrap() >= 4,
            "{partition}: {json}"
        );
        assert_eq!(json["partition_method"], partition);
    }
    let bad: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--partition-size", "0"], "partition-size"),
        (vec!["--partition", "class"], "labels"),
        (vec!["--class-quota"], "labels"),
    ];
    for (args, needle) in bad {
        let out = fx.s("bad.npy");
        let mut full = vec![
            "select",
            "--embeddings",
            &e,
            "--keep",
            "0.1",
            "--out",
            &out,
            "-q",
        ];
        full.extend(args.iter());
        let o = infoprune(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!fx.path("bad.npy").exists());
    }
    // A quota asked for a class with no samples.
    let out = fx.s("bad.npy");
    let y = fx.s("y.npy");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--labels",
        &y,
        "--keep",
        "0.1",
        "--class-quota",
        "--quota-classes",
        "0,1,7",
        "--out",
        &out,
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("class 7"), "{}", stderr(&o));
    // Labels of the wrong length.
    npy_labels(&fx, "short.npy", &labels[..1000]);
    let out = fx.s("bad.npy");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--labels",
        &fx.s("short.npy"),
        "--partition",
        "class",
        "--keep",
        "0.1",
        "--out",
        &out,
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1000 values"), "{}", stderr(&o));
}

fn npy_labels(fx: &Fixture, name: &str, labels: &[i64]) {
    infoprune::npy::write_i64_vector(&fx.path(name), labels, infoprune::npy::Overwrite::Refuse)
        .unwrap();
}
