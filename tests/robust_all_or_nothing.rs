//! Class 3 of the robustness pass: every input is validated before any output is written, and a
//! command's outputs are put in place together, so a failure leaves nothing behind.

mod common;

use common::*;
use infoprune::npy::{self, NpyError, Overwrite};
use infoprune::outputs;
use ndarray::Array2;

/// `tokens` with captions, where each case spoils one caption input: every one is exit 2 with
/// neither the mask nor the captions written, so the same command runs once the input is fixed.
#[test]
fn tokens_checks_every_caption_input_before_writing_the_mask() {
    let fx = Fixture::new();
    let (x, a) = token_inputs(&fx, 3, 8, 4);
    std::fs::write(fx.path("caps.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(fx.path("two.txt"), "one\ntwo\n").unwrap();
    std::fs::write(
        fx.path("bad.jsonl"),
        "{\"caption\": \"a\"}\n{not json\n{}\n",
    )
    .unwrap();
    std::fs::write(
        fx.path("nofield.jsonl"),
        "{\"caption\": \"a\"}\n{\"text\": \"b\"}\n\"c\"\n",
    )
    .unwrap();
    std::fs::write(fx.path("latin1.txt"), b"caf\xe9\ntwo\nthree\n").unwrap();
    std::fs::write(fx.path("names.txt"), "cat\ndog\n").unwrap();
    std::fs::write(fx.path("names3.txt"), "cat\ndog\nfox\n").unwrap();
    let probs = Array2::from_shape_fn((3, 2), |(i, c)| ((i + c) % 2) as f32);
    npy::write_f32_matrix(&fx.path("p.npy"), probs.view(), Overwrite::Refuse).unwrap();
    let mut nan = probs.clone();
    nan[[1, 1]] = f32::NAN;
    npy::write_f32_matrix(&fx.path("nan.npy"), nan.view(), Overwrite::Refuse).unwrap();
    let four = Array2::<f32>::zeros((4, 2));
    npy::write_f32_matrix(&fx.path("p4.npy"), four.view(), Overwrite::Refuse).unwrap();

    let run = |captions: &str, classes: &str, names: &str, extra: &[&str]| {
        let mut args = vec![
            "tokens".to_string(),
            "--features".into(),
            x.clone(),
            "--saliency".into(),
            a.clone(),
            "--count".into(),
            "2".into(),
            "--out".into(),
            fx.s("mask.npy"),
            "--captions".into(),
            fx.s(captions),
            "--classes".into(),
            fx.s(classes),
            "--class-names".into(),
            fx.s(names),
            "--captions-out".into(),
            fx.s("out.jsonl"),
            "--backend".into(),
            "cpu".into(),
            "-q".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        infoprune(&args)
    };
    let before = listing(fx.dir.path());
    let cases: Vec<(&str, &str, &str, Vec<&str>, &str)> = vec![
        ("bad.jsonl", "p.npy", "names.txt", vec![], "line 2"),
        ("nofield.jsonl", "p.npy", "names.txt", vec![], "\"caption\""),
        ("latin1.txt", "p.npy", "names.txt", vec![], "latin1.txt"),
        ("two.txt", "p.npy", "names.txt", vec![], "2 captions"),
        ("caps.txt", "p4.npy", "names.txt", vec![], "4 rows"),
        ("caps.txt", "p.npy", "names3.txt", vec![], "3 class names"),
        ("caps.txt", "nan.npy", "names.txt", vec![], "not finite"),
        (
            "caps.txt",
            "p.npy",
            "names.txt",
            vec!["--threshold", "nan"],
            "--threshold",
        ),
        (
            "caps.txt",
            "p.npy",
            "names.txt",
            vec!["--template", "{classes} only"],
            "{caption}",
        ),
    ];
    for (captions, classes, names, extra, needle) in cases {
        let o = run(captions, classes, names, &extra);
        assert_refused(&o, &[needle]);
        assert_eq!(
            listing(fx.dir.path()),
            before,
            "{captions} {classes} {names} {extra:?}"
        );
    }
    // Fixed, the same command writes both outputs.
    let o = run("caps.txt", "p.npy", "names.txt", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fx.path("mask.npy").exists() && fx.path("out.jsonl").exists());
}

/// `tokens` checks the caption count against the token features' n.
#[test]
fn captions_must_number_the_samples() {
    let fx = Fixture::new();
    let (x, a) = token_inputs(&fx, 3, 8, 4);
    std::fs::write(fx.path("caps.txt"), "one\ntwo\n").unwrap();
    std::fs::write(fx.path("names.txt"), "cat\n").unwrap();
    npy::write_f32_matrix(
        &fx.path("p.npy"),
        Array2::<f32>::zeros((2, 1)).view(),
        Overwrite::Refuse,
    )
    .unwrap();
    let o = infoprune(&[
        "tokens",
        "--features",
        &x,
        "--saliency",
        &a,
        "--count",
        "2",
        "--out",
        &fx.s("m.npy"),
        "--captions",
        &fx.s("caps.txt"),
        "--classes",
        &fx.s("p.npy"),
        "--class-names",
        &fx.s("names.txt"),
        "--captions-out",
        &fx.s("o.jsonl"),
        "-q",
    ]);
    assert_refused(&o, &["2 captions", "n = 3"]);
    assert!(!fx.path("m.npy").exists());
}

/// If one output cannot be put in place, the ones already put in place by the same commit are
/// removed again, and no temporary file is left.
#[test]
fn a_failed_commit_removes_what_it_had_put_in_place() {
    let fx = Fixture::new();
    let (first, second) = (fx.path("a.npy"), fx.path("b.json"));
    let staged = vec![
        outputs::stage(&first, b"first").unwrap(),
        outputs::stage(&second, b"second").unwrap(),
    ];
    // Another writer takes the second name between the check and the commit.
    std::fs::write(&second, b"theirs").unwrap();
    let err = outputs::commit(staged, Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, NpyError::AlreadyExists { .. }), "{err}");
    assert_eq!(listing(fx.dir.path()), ["b.json"]);
    assert_eq!(std::fs::read(&second).unwrap(), b"theirs");

    // Uncommitted stages vanish when dropped.
    drop(outputs::stage(&first, b"x").unwrap());
    assert_eq!(listing(fx.dir.path()), ["b.json"]);

    let third = fx.path("c");
    outputs::write_all(&[(&first, b"1"), (&third, b"2")], Overwrite::Refuse).unwrap();
    assert_eq!(listing(fx.dir.path()), ["a.npy", "b.json", "c"]);
}

/// A failure of the computation after the checks (here k > n, known only once the data is read)
/// writes neither output of `select`.
#[test]
fn select_writes_neither_output_when_the_run_fails() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(30, 3, 1));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "31",
        "--out",
        &fx.s("k.npy"),
        "--report",
        &fx.s("r.json"),
        "-q",
    ]);
    assert_refused(&o, &["31"]);
    assert_eq!(listing(fx.dir.path()), ["e.npy"]);
}
