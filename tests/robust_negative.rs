//! Class 6 of the robustness pass: a negative number after a space (`--keep -0.1`) reaches the
//! tool's own validation, which names the option, instead of clap's "unexpected argument".

mod common;

use common::*;

#[test]
fn negative_values_reach_the_tools_own_checks() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(30, 3, 1));
    let s = fx.vector("s.npy", &[0.5; 30]);
    let (x, a) = token_inputs(&fx, 2, 8, 3);
    let out = fx.s("out.npy");
    let select = |extra: &[&str]| {
        let mut args = vec!["select", "--embeddings", &e, "--out", &out, "-q"];
        args.extend_from_slice(extra);
        infoprune(&args)
    };
    let cases: Vec<(std::process::Output, &str)> = vec![
        (
            select(&["--keep", "-0.1"]),
            "--keep must be a fraction in (0, 1], found -0.1",
        ),
        (select(&["--budget", "-3"]), "--budget"),
        (select(&["--budget", "3", "--seed", "-1"]), "--seed"),
        (
            select(&["--budget", "3", "--noise", &s, "--drop-noisy", "-0.5"]),
            "drop",
        ),
        (
            select(&["--budget", "3", "--neighbors", "-1"]),
            "--neighbors",
        ),
        (
            select(&["--budget", "3", "--iterations", "-1"]),
            "--iterations",
        ),
        (
            select(&[
                "--budget",
                "3",
                "--method",
                "sims",
                "--class-fraction",
                "-0.5",
            ]),
            "class",
        ),
        (
            select(&[
                "--budget",
                "3",
                "--scores",
                &s,
                "--representativeness",
                "-2",
            ]),
            "representativeness",
        ),
        (select(&["--budget", "3", "--tolerance", "-1"]), "tolerance"),
        (
            infoprune(&[
                "tokens",
                "--features",
                &x,
                "--saliency",
                &a,
                "--keep",
                "-0.25",
                "--out",
                &out,
            ]),
            "(0, 1]",
        ),
        (
            infoprune(&[
                "tokens",
                "--features",
                &x,
                "--saliency",
                &a,
                "--count",
                "-2",
                "--out",
                &out,
            ]),
            "--count",
        ),
        (
            infoprune(&[
                "tokens",
                "--features",
                &x,
                "--saliency",
                &a,
                "--count",
                "2",
                "--grid",
                "2x4",
                "--grid-weight",
                "-1",
                "--out",
                &out,
            ]),
            "grid-weight",
        ),
        (
            infoprune(&["demo", "--keep", "-0.1"]),
            "--keep must be a fraction",
        ),
        (infoprune(&["demo", "--n", "-5"]), "--n"),
        (infoprune(&["demo", "--seed", "-1"]), "--seed"),
    ];
    for (o, needle) in cases {
        let msg = stderr(&o);
        assert_refused(&o, &[needle]);
        assert!(!msg.contains("unexpected argument"), "{msg}");
        assert!(!fx.path("out.npy").exists());
    }
}

#[test]
fn negative_alpha_is_still_a_value() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(30, 3, 1));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "3",
        "--alpha",
        "-0.5",
        "--out",
        &fx.s("k.npy"),
        "-q",
    ]);
    assert!(
        !stderr(&o).contains("unexpected argument"),
        "{}",
        stderr(&o)
    );
}
