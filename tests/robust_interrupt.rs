//! Class 7 of the robustness pass: SIGINT or SIGTERM never leaves a temporary file beside an
//! output. The signal handler removes every staged file before the signal ends the process.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "INFOPRUNE_TEST_INTERRUPT_DIR";

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn temporaries(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with(".infoprune-"))
        .collect()
}

/// In the child (this same test binary, re-run with the directory in the environment): install
/// the handler, stage an output, say so, and wait to be signalled.
fn child(dir: &Path) {
    infoprune::outputs::clean_up_on_signals().unwrap();
    let staged = infoprune::outputs::stage(&dir.join("keep.npy"), &[7u8; 1 << 20]).unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    std::thread::sleep(Duration::from_secs(60));
    drop(staged);
}

#[test]
fn a_signal_while_an_output_is_staged_removes_its_temporary_file() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        child(Path::new(&dir));
        return;
    }
    for name in ["INT", "TERM", "HUP"] {
        let fx = Fixture::new();
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_signal_while_an_output_is_staged_removes_its_temporary_file",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_DIR, fx.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !fx.path("ready").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the child never staged"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            temporaries(fx.dir.path()).len(),
            1,
            "the staged file is there"
        );
        signal(process.id(), name);
        let status = process.wait().unwrap();
        assert!(
            status.signal().is_some(),
            "{name}: ended by the signal, not {status:?}"
        );
        assert_eq!(listing(fx.dir.path()), ["ready"], "{name}");
    }
}

/// The real binary, interrupted at many moments of a run: afterwards there is never a temporary
/// file, and the output is either absent or complete.
#[test]
fn select_interrupted_at_any_moment_leaves_no_temporary_file() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(3000, 8, 1));
    let (out, report) = (fx.path("k.npy"), fx.path("r.json"));
    let args = [
        "select",
        "--embeddings",
        &e,
        "--budget",
        "300",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "-q",
    ];
    // How long an uninterrupted run takes, to spread the signals over it.
    let started = Instant::now();
    assert!(infoprune(&args).status.success());
    let full = started.elapsed();
    for (i, signal_name) in ["INT", "TERM"].iter().cycle().take(24).enumerate() {
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_file(&report);
        let process = Command::new(env!("CARGO_BIN_EXE_infoprune"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(i as f64 / 20.0));
        signal(process.id(), signal_name);
        let output = process.wait_with_output().unwrap();
        assert!(
            temporaries(fx.dir.path()).is_empty(),
            "run {i}: {:?}",
            listing(fx.dir.path())
        );
        // All or nothing: both outputs or neither, and complete.
        assert_eq!(
            out.exists(),
            report.exists(),
            "run {i}: {:?}",
            output.status
        );
        if out.exists() {
            assert_eq!(read_keep(&out).len(), 300);
            let _: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        }
    }
}
