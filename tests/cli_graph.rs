//! `infoprune graph`, `select --graph` and `evaluate`, end to end on the real binary, and the SciPy
//! `.npz` fixtures written by `scipy.sparse.save_npz` (see tests/fixtures/make_scipy_fixtures.py).

mod common;

use common::*;
use infoprune::npz;
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::knn::{knn_graph, KnnConfig, Symmetrize};
use infoprune_core::progress::Silent;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The 5×5 matrix the SciPy fixtures hold.
const FIXTURE: [[f32; 5]; 5] = [
    [0.0, 0.5, 0.0, 0.25, 0.0],
    [0.5, 0.0, 0.75, 0.0, 0.0],
    [0.0, 0.75, 0.0, 0.0, 0.125],
    [0.25, 0.0, 0.0, 0.0, 1.0],
    [0.0, 0.0, 0.125, 1.0, 0.0],
];

fn fixture(name: &str) -> String {
    format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

fn fails_with(o: &std::process::Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let msg = stderr(o);
    for needle in needles {
        assert!(msg.contains(needle), "expected '{needle}' in: {msg}");
    }
}

/// Runs `infoprune graph` on the CPU with `extra` options, writing `K.npz` in the fixture; returns
/// its path.
fn build_graph(fx: &Fixture, embeddings: &str, extra: &[&str]) -> String {
    let graph = fx.s("K.npz");
    let args = [
        "graph",
        "--embeddings",
        embeddings,
        "--backend",
        "cpu",
        "--out",
        &graph,
        "-q",
    ];
    ok(&infoprune(&[&args[..], extra].concat()));
    graph
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `f(S) = Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij` straight from the definition (dense lookups, f64).
fn f(k: &CsrSimilarity, s: &[f32], alpha: f64, set: &[usize]) -> f64 {
    let linear: f64 = set.iter().map(|&i| s[i] as f64).sum();
    let pairwise: f64 = set
        .iter()
        .flat_map(|&i| set.iter().map(move |&j| (i, j)))
        .map(|(i, j)| k.get(i, j) as f64)
        .sum();
    linear - alpha * pairwise
}

/// Every k-subset of 0..n, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..k).collect();
    loop {
        out.push(current.clone());
        let Some(i) = (0..k).rev().find(|&i| current[i] < n - k + i) else {
            return out;
        };
        current[i] += 1;
        for j in i + 1..k {
            current[j] = current[j - 1] + 1;
        }
    }
}

fn random_scores(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(0.0f32..2.0)).collect()
}

#[test]
fn scipy_fixtures_are_read_exactly() {
    for name in ["scipy_5x5_stored.npz", "scipy_5x5_deflated.npz"] {
        let k = npz::read_csr(Path::new(&fixture(name))).unwrap();
        assert_eq!(k.n(), 5, "{name}");
        assert_eq!(k.nnz(), 10, "{name}");
        for (i, row) in FIXTURE.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(k.get(i, j), v, "{name}: K[{i},{j}]");
            }
        }
        assert_eq!(k.indptr(), &[0, 2, 4, 6, 8, 10], "{name}");
        assert_eq!(k.indices(), &[1, 3, 0, 2, 1, 4, 0, 4, 2, 3], "{name}");
    }
}

#[test]
fn graph_writes_exactly_the_core_knn_graph() {
    let fx = Fixture::new();
    let e = clustered(150, 6, 11);
    let path = fx.embeddings("e.npy", &e);
    for (m, sym, symmetrize) in [
        ("4", "max", Symmetrize::Max),
        ("7", "mean", Symmetrize::Mean),
    ] {
        let out = fx.s(&format!("K{m}.npz"));
        let o = infoprune(&[
            "graph",
            "--embeddings",
            &path,
            "--neighbors",
            m,
            "--symmetrize",
            sym,
            "--backend",
            "cpu",
            "--out",
            &out,
        ]);
        ok(&o);
        let want = knn_graph(
            e.view(),
            &KnnConfig::new(m.parse().unwrap()).symmetrize(symmetrize),
            &Silent,
        )
        .unwrap();
        let line = stderr(&o);
        assert!(
            line.contains("n = 150") && line.contains(&format!("nnz = {}", want.nnz())),
            "{line}"
        );
        assert_eq!(npz::read_csr(Path::new(&out)).unwrap(), want, "m = {m}");
    }

    // Refuses to overwrite without --force; -q prints nothing.
    let out = fx.s("K4.npz");
    let args = [
        "graph",
        "--embeddings",
        &path,
        "--out",
        &out,
        "--backend",
        "cpu",
        "-q",
    ];
    fails_with(&infoprune(&args), &["already exists", "--force"]);
    let o = infoprune(&[&args[..], &["--force"]].concat());
    ok(&o);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // m = 10 by default.
    let want = knn_graph(e.view(), &KnnConfig::new(10), &Silent).unwrap();
    assert_eq!(npz::read_csr(Path::new(&out)).unwrap(), want);

    let mut nan = e.clone();
    nan[[3, 2]] = f32::NAN;
    let bad = fx.embeddings("nan.npy", &nan);
    let o = infoprune(&[
        "graph",
        "--embeddings",
        &bad,
        "--out",
        &fx.s("bad.npz"),
        "--backend",
        "cpu",
    ]);
    fails_with(&o, &["non-finite", "index 20"]);
    assert!(!fx.path("bad.npz").exists());
}

#[test]
fn select_graph_greedy_maximises_exactly_the_given_objective() {
    let (n, k, alpha) = (12usize, 4usize, 0.5f64);
    let mut best_found = 0;
    for seed in 0..4u64 {
        let fx = Fixture::new();
        let e = fx.embeddings("e.npy", &clustered(n, 3, 100 + seed));
        let graph = build_graph(&fx, &e, &["--neighbors", "4"]);
        let kmat = npz::read_csr(Path::new(&graph)).unwrap();
        // Raw scores beyond [0, 1] and of both signs: any normalisation would change the result.
        let s: Vec<f32> = random_scores(n, seed)
            .iter()
            .map(|v| 3.0 * v - 2.0)
            .collect();
        let scores = fx.vector("s.npy", &s);
        let (out, report) = (fx.s("keep.npy"), fx.s("r.json"));
        ok(&infoprune(&[
            "select",
            "--graph",
            &graph,
            "--scores",
            &scores,
            "--normalize",
            "raw",
            "--representativeness",
            "0",
            "--drop-noisy",
            "0",
            "--alpha",
            "0.5",
            "--method",
            "greedy",
            "--budget",
            "4",
            "--backend",
            "cpu",
            "--out",
            &out,
            "--report",
            &report,
            "-q",
        ]));
        let kept: Vec<usize> = read_keep(&fx.path("keep.npy"))
            .iter()
            .map(|&i| i as usize)
            .collect();
        assert_eq!(kept.len(), k);

        // The greedy the SPEC defines, written out independently on the exact objective.
        let mut chosen: Vec<usize> = Vec::new();
        for _ in 0..k {
            let gain = |j: usize| {
                s[j] as f64
                    - 2.0 * alpha * chosen.iter().map(|&i| kmat.get(i, j) as f64).sum::<f64>()
            };
            let next = (0..n)
                .filter(|j| !chosen.contains(j))
                .max_by(|&a, &b| gain(a).total_cmp(&gain(b)).then(b.cmp(&a)))
                .unwrap();
            chosen.push(next);
        }
        chosen.sort_unstable();
        assert_eq!(kept, chosen, "seed {seed}");

        // The report's f(S) and α are the objective's, to rounding.
        let r = json(&fx.path("r.json"));
        assert_eq!(r["alpha"].as_f64().unwrap(), alpha);
        assert_eq!(r["gamma"].as_f64().unwrap(), 0.0);
        assert_eq!(r["graph"].as_str().unwrap(), graph);
        let fs = f(&kmat, &s, alpha, &kept);
        let reported = r["objective"].as_f64().unwrap();
        assert!(
            (reported - fs).abs() <= 1e-9 * fs.abs().max(1.0),
            "{reported} vs {fs}"
        );

        // Brute force over all 495 subsets: greedy is never above the optimum, and on these
        // instances the greedy subset is the optimum itself.
        let optimum = subsets(n, k)
            .iter()
            .map(|set| f(&kmat, &s, alpha, set))
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(fs <= optimum + 1e-12, "seed {seed}");
        if (optimum - fs).abs() <= 1e-12 {
            best_found += 1;
        }

        // evaluate agrees with the report and the definition.
        let o = infoprune(&[
            "evaluate", "--graph", &graph, "--scores", &scores, "--alpha", "0.5", "--subset", &out,
            "--json",
        ]);
        ok(&o);
        let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!((ev["objective"].as_f64().unwrap() - reported).abs() <= 1e-12);
    }
    assert!(
        best_found >= 3,
        "greedy found the optimum on {best_found} of 4 instances"
    );
}

#[test]
fn select_graph_equals_select_from_embeddings_with_one_partition() {
    let fx = Fixture::new();
    let n = 400;
    let e = fx.embeddings("e.npy", &clustered(n, 8, 7));
    let scores = fx.vector("s.npy", &random_scores(n, 9));
    let graph = build_graph(&fx, &e, &["--neighbors", "6"]);
    let (a_out, a_report) = (fx.s("a.npy"), fx.s("a.json"));
    let (b_out, b_report) = (fx.s("b.npy"), fx.s("b.json"));
    for extra in [
        &["--method", "infomax"][..],
        &["--method", "infomax", "--solver", "mirror", "--beta", "2"],
        &["--method", "greedy", "--representativeness", "0.3"],
        &["--method", "d2"],
    ] {
        let common = [
            "select",
            "--scores",
            &scores,
            "--keep",
            "0.25",
            "--backend",
            "cpu",
            "-q",
            "--force",
        ];
        let a = [
            &common[..],
            &[
                "--embeddings",
                &e,
                "--neighbors",
                "6",
                "--partition-size",
                "400",
            ],
            &["--out", &a_out, "--report", &a_report],
            extra,
        ]
        .concat();
        let b = [
            &common[..],
            &["--graph", &graph],
            &["--out", &b_out, "--report", &b_report],
            extra,
        ]
        .concat();
        ok(&infoprune(&a));
        ok(&infoprune(&b));
        assert_eq!(
            read_keep(&fx.path("a.npy")),
            read_keep(&fx.path("b.npy")),
            "{extra:?}"
        );
        let (ra, rb) = (json(&fx.path("a.json")), json(&fx.path("b.json")));
        for key in ["objective", "alpha", "gamma", "k", "graph_nnz"] {
            assert_eq!(ra[key], rb[key], "{extra:?}: {key}");
        }
        assert_eq!(rb["partitions"], 1);
        assert_eq!(rb["partition_method"], "none");
        assert!(rb["neighbors"].is_null());
    }
}

#[test]
fn select_graph_runs_every_method_and_the_noise_cutoff() {
    let fx = Fixture::new();
    let n = 120;
    let e = fx.embeddings("e.npy", &clustered(n, 5, 3));
    let graph = build_graph(&fx, &e, &[]);
    let scores = fx.vector("s.npy", &random_scores(n, 1));
    let labels = fx.path("y.npy");
    infoprune::npy::write_i64_vector(
        &labels,
        &(0..n as i64).map(|i| i % 3).collect::<Vec<_>>(),
        infoprune::npy::Overwrite::Refuse,
    )
    .unwrap();
    let labels = labels.to_string_lossy().into_owned();
    for method in ["infomax", "greedy", "topk", "random", "sims", "ccs", "d2"] {
        let o = infoprune(&[
            "select",
            "--graph",
            &graph,
            "--scores",
            &scores,
            "--budget",
            "15",
            "--method",
            method,
            "--backend",
            "cpu",
            "--out",
            &fx.s("k.npy"),
            "--force",
            "-q",
        ]);
        ok(&o);
        let kept = read_keep(&fx.path("k.npy"));
        assert_eq!(kept.len(), 15, "{method}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "{method}");
    }
    // Without scores the importance is the graph's typicality.
    ok(&infoprune(&[
        "select",
        "--graph",
        &graph,
        "--budget",
        "15",
        "--backend",
        "cpu",
        "--out",
        &fx.s("k.npy"),
        "--force",
        "-q",
    ]));
    // Moderate needs the features: an error without them, fine with them.
    let base = [
        "select",
        "--graph",
        &graph,
        "--budget",
        "15",
        "--method",
        "moderate",
        "--labels",
        &labels,
        "--backend",
        "cpu",
        "--out",
        &fx.s("k.npy"),
        "--force",
        "-q",
    ];
    fails_with(&infoprune(&base), &["moderate", "--embeddings"]);
    ok(&infoprune(&[&base[..], &["--embeddings", &e]].concat()));

    let noise = fx.vector(
        "n.npy",
        &(0..n)
            .map(|i| if i % 6 == 0 { 1.0 } else { 0.0 })
            .collect::<Vec<_>>(),
    );
    ok(&infoprune(&[
        "select",
        "--graph",
        &graph,
        "--scores",
        &scores,
        "--noise",
        &noise,
        "--drop-noisy",
        "0.2",
        "--budget",
        "30",
        "--backend",
        "cpu",
        "--out",
        &fx.s("k.npy"),
        "--report",
        &fx.s("r.json"),
        "--force",
        "-q",
    ]));
    assert!(read_keep(&fx.path("k.npy")).iter().all(|i| i % 6 != 0));
    assert_eq!(json(&fx.path("r.json"))["dropped_noisy"], 24);
}

#[test]
fn evaluate_matches_a_hand_computation() {
    let fx = Fixture::new();
    let scores = fx.vector("s.npy", &[1.0, 2.0, 3.0, 4.0, 5.0]);
    let subset = fx.path("S.npy");
    // Any order is accepted.
    infoprune::npy::write_i64_vector(&subset, &[4, 1, 2], infoprune::npy::Overwrite::Refuse)
        .unwrap();
    let subset = subset.to_string_lossy().into_owned();
    // S = {1, 2, 4}: Σ s = 2 + 3 + 5 = 10; Σ_ij K_ij = 2·(0.75 + 0.125) = 1.75;
    // f = 10 − 0.5·1.75 = 9.125. FL with K_ii = 1: row 0 → 0.5, rows 1, 2, 4 → 1, row 3 → 1.0
    // (K_34), so 4.5; with K_ii = 0: 0.5 + 0.75 + 0.75 + 1 + 0.125 = 3.125.
    for graph in ["scipy_5x5_stored.npz", "scipy_5x5_deflated.npz"] {
        let graph = fixture(graph);
        let o = infoprune(&[
            "evaluate", "--graph", &graph, "--scores", &scores, "--alpha", "0.5", "--subset",
            &subset, "--json",
        ]);
        ok(&o);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["n"], 5);
        assert_eq!(v["k"], 3);
        assert_eq!(v["alpha"], 0.5);
        assert_eq!(v["linear"], 10.0);
        assert_eq!(v["pairwise"], 1.75);
        assert_eq!(v["objective"], 9.125);
        assert_eq!(v["facility_location"], 4.5);
        assert_eq!(v["fl_self_similarity"], 1.0);

        let o = infoprune(&[
            "evaluate",
            "--graph",
            &graph,
            "--scores",
            &scores,
            "--alpha",
            "2",
            "--subset",
            &subset,
            "--fl-self-similarity",
            "0",
        ]);
        ok(&o);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("f(S) = 6.5 "), "{text}");
        assert!(text.contains("FL(S) = 3.125 "), "{text}");
    }

    let graph = fixture("scipy_5x5_stored.npz");
    let bad = |values: &[i64], name: &str| {
        let p = fx.path(name);
        infoprune::npy::write_i64_vector(&p, values, infoprune::npy::Overwrite::Refuse).unwrap();
        infoprune(&[
            "evaluate",
            "--graph",
            &graph,
            "--scores",
            &scores,
            "--alpha",
            "1",
            "--subset",
            &p.to_string_lossy(),
        ])
    };
    fails_with(
        &bad(&[1, 5], "out.npy"),
        &["out.npy", "entry 1 is 5", "0..5"],
    );
    fails_with(&bad(&[-1], "neg.npy"), &["entry 0 is -1"]);
    fails_with(&bad(&[2, 0, 2], "dup.npy"), &["index 2 twice"]);
}

#[test]
fn mismatched_sizes_and_options_are_clear_errors() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(12, 3, 1));
    let graph = build_graph(&fx, &e, &[]);
    let short = fx.vector("short.npy", &[1.0; 11]);
    let out = fx.s("keep.npy");
    let select = [
        "select", "--graph", &graph, "--budget", "3", "--out", &out, "-q",
    ];
    fails_with(
        &infoprune(&[&select[..], &["--scores", &short]].concat()),
        &["short.npy has 11 values", "K.npz has n = 12"],
    );
    fails_with(
        &infoprune(&[
            "evaluate", "--graph", &graph, "--scores", &short, "--alpha", "1", "--subset", &out,
        ]),
        &["short.npy has 11 values", "n = 12"],
    );
    let e13 = fx.embeddings("e13.npy", &Array2::from_elem((13, 3), 1.0f32));
    fails_with(
        // (Only --method moderate reads embeddings beside --graph; others refuse them.)
        &infoprune(&[&select[..], &["--embeddings", &e13, "--method", "moderate"]].concat()),
        &["13 rows", "n = 12"],
    );
    for flag in [
        &["--partition-size", "5"][..],
        &["--partition", "kmeans"],
        &["--class-quota"],
        &["--neighbors", "5"],
        &["--drop-nonfinite"],
    ] {
        fails_with(
            &infoprune(&[&select[..], flag].concat()),
            &["--graph", "cannot be used with", flag[0]],
        );
    }
    fails_with(
        &infoprune(&["select", "--budget", "3", "--out", &out]),
        &["--embeddings"],
    );
    fails_with(
        &infoprune(&[
            "select", "--graph", &graph, "--budget", "13", "--out", &out, "-q",
        ]),
        &["k = 13", "n = 12"],
    );
    // A file that is not an .npz.
    fails_with(
        &infoprune(&["select", "--graph", &e, "--budget", "3", "--out", &out]),
        &["e.npy", "not a zip archive"],
    );
    assert!(!fx.path("keep.npy").exists());
}
