//! `--knn exact|ivf|auto`, `--nlist`, `--nprobe`, `--recall-sample` on `graph` and `select`, and
//! SPEC §1.4's layout: one global problem on the near-global IVF graph when it fits
//! `--max-memory`, groups of whole IVF lists (cut edges counted) when it does not.

mod common;

use common::*;
use infoprune::npz;
use infoprune_core::ivf::{default_nlist, DEFAULT_NPROBE};
use infoprune_core::memory;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

fn fails_with(o: &std::process::Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let err = stderr(o);
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `clusters` Gaussian-ish blobs in `d` dims, then `pairs` planted near-duplicates: row
/// `n - pairs + p` is a copy of row `p·step` plus 1% noise. Returns the rows and the pairs.
fn planted(
    n: usize,
    d: usize,
    clusters: usize,
    pairs: usize,
    seed: u64,
) -> (Array2<f32>, Vec<(usize, usize)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
        .collect();
    let mut e = Array2::from_shape_fn((n, d), |(i, j)| {
        centres[(i * 7919) % clusters][j] + 0.3 * rng.random_range(-1.0f32..1.0)
    });
    let step = (n - pairs) / pairs;
    let mut planted = Vec::with_capacity(pairs);
    for p in 0..pairs {
        let (src, dst) = (p * step, n - pairs + p);
        for j in 0..d {
            e[(dst, j)] = e[(src, j)] * (1.0 + 0.01 * rng.random_range(-1.0f32..1.0));
        }
        planted.push((src, dst));
    }
    (e, planted)
}

fn both_kept(keep: &[i64], pairs: &[(usize, usize)]) -> usize {
    let set: std::collections::HashSet<i64> = keep.iter().copied().collect();
    pairs
        .iter()
        .filter(|(a, b)| set.contains(&(*a as i64)) && set.contains(&(*b as i64)))
        .count()
}

#[test]
fn graph_ivf_probing_every_list_is_the_exact_graph() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(3000, 8, 1));
    let run = |name: &str, extra: &[&str]| {
        let out = fx.s(name);
        ok(&infoprune(
            &[
                &[
                    "graph",
                    "--embeddings",
                    &e,
                    "--out",
                    &out,
                    "-q",
                    "--backend",
                    "cpu",
                ][..],
                extra,
            ]
            .concat(),
        ));
        npz::read_csr(&fx.path(name)).unwrap()
    };
    let exact = run("exact.npz", &["--knn", "exact"]);
    // Below the crossover, auto (the default) is the exact search.
    assert_eq!(run("auto.npz", &[]), exact);
    let all = run(
        "all.npz",
        &["--knn", "ivf", "--nlist", "12", "--nprobe", "12"],
    );
    assert_eq!(all, exact);
    // Fewer probes: a different, sparser-candidate graph, still valid and symmetric.
    let few = run(
        "few.npz",
        &["--knn", "ivf", "--nlist", "40", "--nprobe", "2"],
    );
    assert!(few.is_symmetric());
    assert_ne!(few, exact);
    // The summary names the search and the measured recall.
    let o = infoprune(&[
        "graph",
        "--embeddings",
        &e,
        "--out",
        &fx.s("r.npz"),
        "--backend",
        "cpu",
        "--knn",
        "ivf",
        "--recall-sample",
        "300",
    ]);
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("ivf search (nlist 219, nprobe 8, recall@10 "),
        "{err}"
    );
    assert!(err.contains("on 300 samples"), "{err}");
}

#[test]
fn bad_search_options_are_usage_errors_naming_the_option() {
    let fx = Fixture::new();
    let n = 200;
    let e = fx.embeddings("e.npy", &clustered(n, 4, 2));
    let out = fx.s("out.npz");
    let keep = fx.s("keep.npy");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--knn", "ivf", "--nlist", "4", "--nprobe", "9"],
            &["--nprobe 9", "nlist = 4"],
        ),
        (
            &["--knn", "ivf", "--nlist", "201"],
            &["--nlist 201", "n = 200"],
        ),
        (&["--knn", "auto", "--nlist", "201"], &["--nlist 201"]),
        (&["--knn", "ivf", "--nlist", "0"], &["--nlist 0"]),
        (&["--knn", "ivf", "--nprobe", "0"], &["--nprobe 0"]),
        (
            &["--knn", "ivf", "--recall-sample", "201"],
            &["--recall-sample 201", "n = 200"],
        ),
        (
            &["--knn", "ivf", "--recall-sample", "0"],
            &["--recall-sample"],
        ),
        (
            &["--knn", "exact", "--nlist", "4"],
            &["--nlist", "--knn ivf"],
        ),
        (
            &["--knn", "exact", "--nprobe", "2", "--recall-sample", "5"],
            &["--nprobe, --recall-sample"],
        ),
    ];
    for (extra, needles) in cases {
        let graph = [
            &["graph", "--embeddings", &e, "--out", &out, "-q"][..],
            extra,
        ]
        .concat();
        fails_with(&infoprune(&graph), needles);
        let select = [
            &[
                "select",
                "--embeddings",
                &e,
                "--keep",
                "0.5",
                "--out",
                &keep,
                "-q",
            ][..],
            extra,
        ]
        .concat();
        fails_with(&infoprune(&select), needles);
    }
    assert!(!fx.path("out.npz").exists() && !fx.path("keep.npy").exists());
    // A given graph builds no kNN graph: the search options do not apply.
    ok(&infoprune(&[
        "graph",
        "--embeddings",
        &e,
        "--out",
        &out,
        "-q",
    ]));
    fails_with(
        &infoprune(&[
            "select", "--graph", &out, "--keep", "0.5", "--out", &keep, "--knn", "ivf", "-q",
        ]),
        &["--knn", "--graph"],
    );
}

#[test]
fn select_solves_one_global_problem_on_the_ivf_graph() {
    let fx = Fixture::new();
    let n = 60_000;
    let (e, pairs) = planted(n, 16, 150, 2000, 3);
    let emb = fx.embeddings("e.npy", &e);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let scores: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
    let s = fx.vector("s.npy", &scores);
    let run = |name: &str, extra: &[&str]| {
        let out = fx.s(&format!("{name}.npy"));
        let report = fx.s(&format!("{name}.json"));
        ok(&infoprune(
            &[
                &[
                    "select",
                    "--embeddings",
                    &emb,
                    "--scores",
                    &s,
                    "--keep",
                    "0.1",
                    "--out",
                    &out,
                    "--report",
                    &report,
                    "-q",
                    "--backend",
                    "cpu",
                ][..],
                extra,
            ]
            .concat(),
        ));
        (
            read_keep(&fx.path(&format!("{name}.npy"))),
            json(&fx.path(&format!("{name}.json"))),
        )
    };
    // Default: above the crossover auto searches with IVF and, with no memory limit, solves one
    // problem over all candidates: at 90% pruning without labels or a noise signal, the n/10
    // highest scores are dropped first (SPEC §1.5), and the lists are those of the rest.
    let (global, report) = run("global", &["--recall-sample", "1000"]);
    assert_eq!(global.len(), n / 10);
    assert_eq!(report["dropped_noisy"], n / 10);
    assert_eq!(report["noise_signal"], "the scores' hard tail");
    assert_eq!(report["noise_cutoff"], "hard-tail");
    assert_eq!(report["knn"], "ivf");
    assert_eq!(report["nlist"], default_nlist(n - n / 10));
    assert_eq!(report["nprobe"], DEFAULT_NPROBE);
    assert_eq!(report["recall_sample"], 1000);
    assert!(report["recall"].as_f64().unwrap() >= 0.95, "{report}");
    assert_eq!(report["layout"], "global");
    assert_eq!(report["partitions"], 1);
    assert_eq!(report["partition_method"], "none");
    assert_eq!(report["cut_edges"], 0);
    // The exact search keeps the previous layout, random partitions of 50,000: bit for bit what
    // the same explicit options give.
    let (exact, exact_report) = run("exact", &["--knn", "exact"]);
    assert_eq!(exact_report["knn"], "exact");
    assert_eq!(exact_report["partition_method"], "random");
    assert_eq!(exact_report["partitions"], 2);
    assert!(exact_report["cut_edges"].is_null() && exact_report["nlist"].is_null());
    let (explicit, _) = run(
        "explicit",
        &[
            "--knn",
            "exact",
            "--partition",
            "random",
            "--partition-size",
            "50000",
        ],
    );
    assert_eq!(exact, explicit);
    // Random partitions hide most planted duplicates from the redundancy term; the global
    // problem sees them all.
    let (random, random_report) = run(
        "random",
        &["--partition", "random", "--partition-size", "6000"],
    );
    assert_eq!(random_report["partitions"], (n - n / 10) / 6000);
    let (one_exact, _) = run(
        "one_exact",
        &["--knn", "exact", "--partition-size", "60000"],
    );
    let (g, r, x) = (
        both_kept(&global, &pairs),
        both_kept(&random, &pairs),
        both_kept(&one_exact, &pairs),
    );
    let counts =
        format!("both copies kept: global {g}, random partitions {r}, one exact problem {x}");
    // The near-global graph keeps about as few as one exact problem, far fewer than partitions.
    assert!(3 * g < r, "{counts}");
    assert!(g <= x + x / 2 + 2, "{counts}");
}

#[test]
fn select_falls_back_to_groups_of_whole_ivf_lists_when_the_global_problem_does_not_fit() {
    let fx = Fixture::new();
    let n = 60_000;
    let d = 16;
    let (e, pairs) = planted(n, d, 150, 2000, 5);
    let emb = fx.embeddings("e.npy", &e);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()) as u64;
    let (nlist, nprobe) = (default_nlist(n) as u64, DEFAULT_NPROBE as u64);
    let global = memory::estimate_ivf(n as u64, d as u64, 4, 10, threads, nlist, nprobe);
    let part = memory::estimate_ivf_partitioned(
        n as u64,
        d as u64,
        4,
        10,
        threads,
        nlist,
        nprobe,
        (n as u64).min(5_000 * 4 * threads),
    );
    assert!(part.peak < global.peak);
    let limit = (part.peak + global.peak) / 2;
    let out = fx.s("keep.npy");
    let report = fx.s("r.json");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &emb,
        "--keep",
        "0.1",
        "--out",
        &out,
        "--report",
        &report,
        "-q",
        "--backend",
        "cpu",
        "--max-memory",
        &limit.to_string(),
        "--partition-size",
        "5000",
    ]);
    ok(&o);
    let r = json(&fx.path("r.json"));
    assert_eq!(r["layout"], "ivf-lists", "{r}");
    assert_eq!(r["partition_method"], "ivf-lists");
    let partitions = r["partitions"].as_u64().unwrap();
    assert!(partitions >= 2, "{r}");
    let cut = r["cut_edges"].as_u64().unwrap();
    // Some neighbour entries cross the groups, but whole lists keep most of them inside.
    eprintln!("{partitions} groups of lists cut {cut} neighbour entries");
    assert!(cut > 0 && cut < (n as u64 * 10) / 4, "cut {cut}");
    let keep = read_keep(&fx.path("keep.npy"));
    assert_eq!(keep.len(), n / 10);
    eprintln!("both kept {}", both_kept(&keep, &pairs));
    assert!(both_kept(&keep, &pairs) <= pairs.len() / 100);
    // Too small even for groups of lists: refused before any work, naming the limit.
    fails_with(
        &infoprune(&[
            "select",
            "--embeddings",
            &emb,
            "--keep",
            "0.1",
            "--out",
            &fx.s("no.npy"),
            "-q",
            "--max-memory",
            &(part.peak - 1).to_string(),
            "--partition-size",
            "5000",
        ]),
        &["--max-memory"],
    );
    assert!(!fx.path("no.npy").exists());
}
