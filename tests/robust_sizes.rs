//! Class 5 of the robustness pass: a size typed on the command line goes through the memory
//! estimate before anything is allocated from it, and is refused with a clear error rather than
//! aborting the process.

mod common;

use common::*;

#[test]
fn demo_refuses_sizes_that_do_not_fit_in_memory() {
    for args in [
        vec!["demo", "--n", "1000000000000"],
        vec!["demo", "--dim", "1000000000000"],
        vec![
            "demo",
            "--n",
            "18446744073709551615",
            "--dim",
            "18446744073709551615",
        ],
        vec!["demo", "--n", "100000", "--max-memory", "1M"],
    ] {
        let o = infoprune(&args);
        assert_refused(&o, &["estimated peak memory", "exceeds"]);
    }
}

#[test]
fn demo_refuses_more_clusters_than_samples() {
    let o = infoprune(&["demo", "--n", "200", "--clusters", "1000000000000"]);
    assert_refused(&o, &["--clusters", "at most --n = 200"]);
}

#[test]
fn demo_within_memory_runs() {
    let o = infoprune(&[
        "demo",
        "--n",
        "200",
        "--dim",
        "3",
        "--clusters",
        "4",
        "--max-memory",
        "1G",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn select_max_memory_uses_the_same_estimate() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(2000, 8, 1));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--max-memory",
        "1K",
        "--out",
        &fx.s("k.npy"),
    ]);
    assert_refused(&o, &["estimated peak memory", "exceeds --max-memory"]);
}

#[test]
fn huge_iteration_counts_and_grids_are_refused_not_allocated() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(50, 3, 1));
    let (x, a) = token_inputs(&fx, 2, 4, 3);
    let out = fx.s("out.npy");
    let huge = "1000000000000000000";
    for (args, needles) in [
        (
            vec![
                "select",
                "--embeddings",
                &e,
                "--budget",
                "5",
                "--iterations",
                huge,
                "--backend",
                "cpu",
                "--out",
                &out,
            ],
            vec!["iterations", huge, "at most 4294967295"],
        ),
        (
            vec![
                "tokens",
                "--features",
                &x,
                "--saliency",
                &a,
                "--count",
                "2",
                "--iterations",
                huge,
                "--backend",
                "cpu",
                "--out",
                &out,
            ],
            vec!["iterations", "at most 4294967295"],
        ),
        (
            vec![
                "tokens",
                "--features",
                &x,
                "--saliency",
                &a,
                "--count",
                "2",
                "--grid",
                "4294967296x4294967297",
                "--backend",
                "cpu",
                "--out",
                &out,
            ],
            vec!["grid 4294967296x4294967297"],
        ),
    ] {
        assert_refused(&infoprune(&args), &needles);
        assert!(!fx.path("out.npy").exists());
    }
    // Neighbour counts beyond n are clamped to n − 1 (the graph is then complete), not allocated.
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--neighbors",
        "1000000000000000",
        "--backend",
        "cpu",
        "--out",
        &out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_keep(&fx.path("out.npy")).len(), 5);
}
