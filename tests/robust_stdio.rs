//! Class 1 of the robustness pass: a failed write to stdout or stderr is never a panic. A closed
//! pipe (`| head`) ends the program quietly with exit 0; any other failure (`> /dev/full`) is a
//! one-line error with exit 1.

mod common;

use common::*;
use std::fs::File;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdout: Stdio, stderr: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infoprune"))
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("the binary runs")
}

fn full() -> Stdio {
    File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
        .into()
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

const DEMO: [&str; 8] = ["demo", "--n", "300", "--dim", "4", "--clusters", "3", "-q"];

/// An `evaluate` call on a small graph (its stdout is the result).
fn evaluate_args(fx: &Fixture) -> Vec<String> {
    let e = fx.embeddings("e.npy", &clustered(40, 3, 1));
    let graph = fx.s("K.npz");
    let o = infoprune(&[
        "graph",
        "--embeddings",
        &e,
        "--out",
        &graph,
        "--backend",
        "cpu",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = fx.vector("s.npy", &[0.5; 40]);
    let subset = fx.path("subset.npy");
    infoprune::npy::write_i64_vector(&subset, &[0, 3, 7], infoprune::npy::Overwrite::Refuse)
        .unwrap();
    [
        "evaluate",
        "--graph",
        &graph,
        "--scores",
        &s,
        "--alpha",
        "0.5",
        "--subset",
        &fx.s("subset.npy"),
        "--json",
    ]
    .map(String::from)
    .to_vec()
}

fn assert_no_panic(o: &Output) {
    let msg = stderr(o);
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(!msg.contains("RUST_BACKTRACE"), "{msg}");
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let o = run(&DEMO, closed_pipe(), Stdio::piped());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    let fx = Fixture::new();
    let args = evaluate_args(&fx);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args, closed_pipe(), Stdio::piped());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn a_full_stdout_is_a_one_line_error_with_exit_1() {
    let fx = Fixture::new();
    let args = evaluate_args(&fx);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for args in [&DEMO[..], &args[..]] {
        let o = run(args, full(), Stdio::piped());
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_no_panic(&o);
        let msg = stderr(&o);
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(msg.starts_with("error: cannot write to stdout"), "{msg}");
    }
}

#[test]
fn a_failing_stderr_is_exit_1_never_a_panic_and_outputs_stay_complete() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(120, 4, 2));
    // Summary lines go to stderr: without -q each command writes one after its output.
    let cases: [(&str, Vec<String>); 3] = [
        (
            "keep.npy",
            [
                "select",
                "--embeddings",
                &e,
                "--budget",
                "10",
                "--backend",
                "cpu",
                "--out",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "K.npz",
            ["graph", "--embeddings", &e, "--backend", "cpu", "--out"]
                .map(String::from)
                .to_vec(),
        ),
        (
            "keep2.npy",
            // --backend auto prints a note when there is no GPU, before any work.
            ["select", "--embeddings", &e, "--budget", "10", "--out"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    for (name, mut args) in cases {
        args.push(fx.s(name));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for stderr_target in [full(), closed_pipe()] {
            let _ = std::fs::remove_file(fx.path(name));
            let o = run(&args, Stdio::piped(), stderr_target);
            assert_eq!(o.status.code(), Some(1), "{args:?} (101 is a panic)");
            // The summary comes after the output, which is then complete; the no-GPU note
            // comes before any work, which then never starts.
            if name == "keep2.npy" {
                // (On a machine with a GPU there is no note and the run completes.)
                if fx.path(name).exists() {
                    assert_eq!(read_keep(&fx.path(name)).len(), 10);
                }
            } else if name.ends_with(".npy") {
                assert_eq!(read_keep(&fx.path(name)).len(), 10);
            } else {
                infoprune::npz::read_csr(&fx.path(name)).unwrap();
            }
        }
    }
    assert!(listing(fx.dir.path())
        .iter()
        .all(|n| !n.starts_with(".infoprune-")));
}

#[test]
fn clap_help_to_a_closed_pipe_is_not_a_panic() {
    let o = run(&["select", "--help"], closed_pipe(), Stdio::piped());
    assert_no_panic(&o);
    assert_eq!(o.status.code(), Some(0));
}
