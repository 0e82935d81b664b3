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
