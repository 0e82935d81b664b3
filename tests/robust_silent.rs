//! Class 4 of the robustness pass: no silent wrong answers. Labels outside the probability
//! columns, zero neighbours, and every option that would have no effect in the combination given
//! are refused with exit 2, naming the option; nothing is written.

mod common;

use common::*;
use infoprune::npy::{self, Overwrite};
use ndarray::Array2;

#[test]
fn score_sim_refuses_labels_outside_the_probability_columns() {
    let fx = Fixture::new();
    let n = 20;
    let f = fx.embeddings("f.npy", &clustered(n, 4, 1));
    let p = Array2::from_shape_fn((n, 3), |(i, c)| if i % 3 == c { 0.8 } else { 0.1 });
    npy::write_f32_matrix(&fx.path("p.npy"), p.view(), Overwrite::Refuse).unwrap();
    for (bad, needle) in [(3i64, "label 3"), (-1, "label -1")] {
        let labels: Vec<i64> = (0..n as i64)
            .map(|i| if i == 5 { bad } else { i % 3 })
            .collect();
        let y = fx.path("y.npy");
        npy::write_i64_vector(&y, &labels, Overwrite::Allow).unwrap();
        let o = infoprune(&[
            "score",
            "--sim",
            "--features",
            &f,
            "--probs",
            &fx.s("p.npy"),
            "--labels",
            &fx.s("y.npy"),
            "--out",
            &fx.s("s.npy"),
            "-q",
        ]);
        assert_refused(&o, &[needle, "sample 5", "p.npy", "3 class columns"]);
        assert!(!fx.path("s.npy").exists());
    }
    // In range, it runs.
    let labels: Vec<i64> = (0..n as i64).map(|i| i % 3).collect();
    npy::write_i64_vector(&fx.path("y.npy"), &labels, Overwrite::Allow).unwrap();
    let o = infoprune(&[
        "score",
        "--sim",
        "--features",
        &f,
        "--probs",
        &fx.s("p.npy"),
        "--labels",
        &fx.s("y.npy"),
        "--out",
        &fx.s("s.npy"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn zero_neighbours_are_refused_everywhere() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(30, 3, 1));
    let (x, a) = token_inputs(&fx, 2, 8, 3);
    let out = fx.s("out.npy");
    for args in [
        vec![
            "select",
            "--embeddings",
            &e,
            "--budget",
            "3",
            "--neighbors",
            "0",
            "--out",
            &out,
        ],
        vec![
            "graph",
            "--embeddings",
            &e,
            "--neighbors",
            "0",
            "--out",
            &out,
        ],
        vec![
            "tokens",
            "--features",
            &x,
            "--saliency",
            &a,
            "--count",
            "2",
            "--similarity",
            "knn",
            "--neighbors",
            "0",
            "--out",
            &out,
        ],
    ] {
        assert_refused(&infoprune(&args), &["--neighbors", "at least 1"]);
        assert!(!fx.path("out.npy").exists());
    }
}

/// Each case adds one option that the rest of the command line makes meaningless.
#[test]
fn options_without_effect_are_refused_by_name() {
    let fx = Fixture::new();
    let n = 40;
    let e = fx.embeddings("e.npy", &clustered(n, 3, 1));
    let s = fx.vector("s.npy", &(0..n).map(|i| i as f32).collect::<Vec<_>>());
    let labels: Vec<i64> = (0..n as i64).map(|i| i % 2).collect();
    npy::write_i64_vector(&fx.path("y.npy"), &labels, Overwrite::Refuse).unwrap();
    let y = fx.s("y.npy");
    let out = fx.s("out.npy");
    let select = |extra: &[&str]| {
        let mut args = vec![
            "select",
            "--embeddings",
            &e,
            "--budget",
            "5",
            "--out",
            &out,
            "-q",
        ];
        args.extend_from_slice(extra);
        infoprune(&args)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--method", "greedy", "--solver", "mirror"], "--solver"),
        (
            vec!["--method", "topk", "--iterations", "5"],
            "--iterations",
        ),
        (
            vec!["--method", "random", "--tolerance", "0.1"],
            "--tolerance",
        ),
        (
            vec!["--method", "d2", "--step-growth", "2"],
            "--step-growth",
        ),
        (
            vec!["--method", "greedy", "--swap-rounds", "0"],
            "--swap-rounds",
        ),
        (
            vec!["--method", "topk", "--scores-high", "easy"],
            "--scores-high",
        ),
        (
            vec!["--method", "topk", "--class-fraction", "0.3"],
            "--class-fraction",
        ),
        (
            vec!["--method", "sims", "--class-fraction", "0.3"],
            "--class-fraction",
        ),
        (vec!["--method", "topk", "--aum", &s], "--aum"),
        (vec!["--normalize", "rank"], "--normalize"),
        (vec!["--representativeness", "0.5"], "--representativeness"),
        (vec!["--method", "topk", "--labels", &y], "--labels"),
        // Without class-balanced budgets nothing else reads the labels here.
        (vec!["--labels", &y, "--no-class-quota"], "--labels"),
        (vec!["--no-class-quota"], "--no-class-quota"),
        (
            vec!["--method", "random", "--typicality", "rank"],
            "--typicality",
        ),
        (vec!["--drop-noisy", "schedule"], "--drop-noisy"),
        (vec!["--hard-tail", "0.1"], "--hard-tail"),
        (
            vec!["--method", "topk", "--sims-concentration", "4"],
            "--sims-concentration",
        ),
        (
            vec!["--method", "topk", "--scores", &s, "--hard-tail", "0.1"],
            "--hard-tail",
        ),
        (
            vec!["--scores", &s, "--labels", &y, "--hard-tail", "0.1"],
            "--hard-tail",
        ),
        (
            vec!["--scores", &s, "--noise", &s, "--hard-tail", "0.1"],
            "--hard-tail",
        ),
        (vec!["--logits", &s], "--logits"),
        (vec!["--drop-noisy", "0.2"], "--drop-noisy"),
        (vec!["--noise", &s, "--drop-noisy", "0"], "--noise"),
        (vec!["--quota-classes", "1"], "--quota-classes"),
    ];
    for (extra, flag) in cases {
        assert_refused(&select(&extra), &[flag, "no effect"]);
        assert!(!fx.path("out.npy").exists(), "{extra:?}");
    }
    // The same options where they do act are accepted.
    for extra in [
        vec![
            "--method",
            "infomax",
            "--solver",
            "mirror",
            "--iterations",
            "5",
        ],
        vec![
            "--method",
            "sims",
            "--labels",
            &y,
            "--class-fraction",
            "0.3",
        ],
        vec![
            "--scores",
            &s,
            "--normalize",
            "rank",
            "--representativeness",
            "0.5",
        ],
        vec!["--noise", &s, "--drop-noisy", "0.1"],
        vec!["--noise", &s, "--drop-noisy", "schedule"],
        vec!["--scores", &s, "--hard-tail", "0.2"],
        vec!["--method", "sims", "--sims-concentration", "4"],
        vec!["--drop-noisy", "0"],
        // Labels give infomax and greedy class-balanced budgets (SPEC §1.5).
        vec!["--labels", &y],
        vec!["--method", "greedy", "--labels", &y, "--typicality", "rank"],
    ] {
        let o = select(&[&extra[..], &["--force"]].concat());
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    }
}

#[test]
fn tokens_and_score_refuse_options_without_effect() {
    let fx = Fixture::new();
    let (x, a) = token_inputs(&fx, 2, 8, 3);
    let out = fx.s("out.npy");
    let tokens = |extra: &[&str]| {
        let mut args = vec![
            "tokens",
            "--features",
            &x,
            "--saliency",
            &a,
            "--count",
            "2",
            "--out",
            &out,
        ];
        args.extend_from_slice(extra);
        infoprune(&args)
    };
    let caps = fx.s("caps.txt");
    for (extra, flag) in [
        (vec!["--captions-out", &caps], "--captions"),
        (vec!["--threshold", "0.3"], "--captions"),
        (vec!["--template", "{caption}!"], "--captions"),
        (vec!["--classes", &a], "--captions"),
        (vec!["--neighbors", "3"], "--neighbors"),
        (
            vec!["--similarity", "dense", "--neighbors", "3"],
            "--neighbors",
        ),
        (vec!["--grid-weight", "0.5"], "--grid-weight"),
    ] {
        let o = tokens(&extra);
        assert_refused(&o, &[flag]);
        assert!(!fx.path("out.npy").exists(), "{extra:?}");
        assert!(!fx.path("caps.txt").exists());
    }

    let l = fx.s("l.npy");
    let y = fx.s("y.npy");
    let score = |extra: &[&str]| {
        let mut args = vec!["score", "--labels", &y, "--out", &out];
        args.extend_from_slice(extra);
        infoprune(&args)
    };
    for (extra, flag) in [
        (
            vec!["--kind", "el2n", "--logits", &l, "--term", "certainty"],
            "--term",
        ),
        (
            vec!["--kind", "margin", "--logits", &l, "--el2n-epochs", "3"],
            "--el2n-epochs",
        ),
        (
            vec![
                "--kind",
                "el2n",
                "--logits",
                &l,
                "--el2n-epochs",
                "3",
                "--epoch",
                "1",
            ],
            "--el2n-epochs",
        ),
        (
            vec!["--kind", "aum", "--logits", &l, "--epoch", "1"],
            "--epoch",
        ),
        (
            vec!["--kind", "forgetting", "--logits", &l, "--epoch", "1"],
            "--epoch",
        ),
        (
            vec!["--kind", "loss", "--logits", &l, "--features", &l],
            "--features",
        ),
        (vec!["--kind", "el2n", "--logits", &l, "--raw"], "--raw"),
        (
            vec!["--sim", "--features", &l, "--probs", &l, "--logits", &l],
            "--logits",
        ),
        (
            vec!["--sim", "--features", &l, "--probs", &l, "--epoch", "2"],
            "--epoch",
        ),
    ] {
        assert_refused(&score(&extra), &[flag]);
        assert!(!fx.path("out.npy").exists(), "{extra:?}");
    }
}

/// `--method ccs --aum` applies CCS's own cutoff (its lowest-AUM samples are never kept), and the
/// options of CCS, SemDeDup and the greedy candidate are refused where they would do nothing.
#[test]
fn ccs_cutoff_applies_and_method_options_without_effect_are_refused() {
    let fx = Fixture::new();
    let n = 40;
    let e = fx.embeddings("e.npy", &clustered(n, 3, 1));
    let aum = fx.vector("aum.npy", &(0..n).map(|i| i as f32).collect::<Vec<_>>());
    let out = fx.s("k.npy");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--method",
        "ccs",
        "--aum",
        &aum,
        "--backend",
        "cpu",
        "--out",
        &out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 5 of 40 is 87.5% pruning: β = 0.3 drops the 12 lowest-AUM samples (AUM = index here).
    assert!(read_keep(&fx.path("k.npy")).iter().all(|&i| i >= 12));
    for (extra, flag) in [
        (&["--ccs-cutoff", "0.2"][..], "--ccs-cutoff"),
        (&["--semdedup-keep", "easy"][..], "--semdedup-keep"),
        (
            &["--semdedup-cluster-size", "100"][..],
            "--semdedup-cluster-size",
        ),
    ] {
        let o = infoprune(
            &[
                &[
                    "select",
                    "--embeddings",
                    &e,
                    "--budget",
                    "5",
                    "--out",
                    &fx.s("x.npy"),
                ][..],
                extra,
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{flag} has no effect here")),
            "{}",
            stderr(&o)
        );
    }
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--method",
        "random",
        "--greedy-candidate",
        "--out",
        &fx.s("x.npy"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--greedy-candidate has no effect here"),
        "{}",
        stderr(&o)
    );
    assert!(!fx.path("x.npy").exists());
}
