//! The harness of the tests that need a GPU adapter (`harness = false`, run by `libtest-mimic`).
//!
//! A test that finds no adapter did not run, so it must not count as passed: it is reported as
//! *ignored*, with the reason, and the runner's own closing line says how many did not run
//! (`test result: ok. 1 passed; 0 failed; 12 ignored; …`). In CI (`CI` set) an adapter must exist
//! (Mesa's lavapipe): there a missing adapter fails the test instead.
//!
//! The standard harness cannot ignore a test at run time, hence `libtest-mimic`, which parses the
//! same command line (filters, `--exact`, `--list`, `--test-threads`, `--ignored`, …) and prints
//! the same lines. It does not capture output: what a test prints appears as it runs.
//!
//! A test is a plain function returning [`Outcome`]. The helpers that open a device return
//! [`Skipped`] when there is none, so a test starts with `let gpu = gpu()?;`; a panic is a
//! failure, as under the standard harness.
//!
//! Shared by `crates/infoprune-wgpu/tests/*.rs` and the workspace's `tests/cli_gpu.rs`.

#![allow(dead_code)]

use libtest_mimic::{Arguments, Completion, Trial};

/// Why a test did not run: no GPU adapter outside CI.
#[derive(Debug)]
pub struct Skipped(pub String);

/// What a test function returns: `Ok(())` when it ran (and passed), `Err` when it was skipped.
pub type Outcome = Result<(), Skipped>;

/// Whether this run is CI's, where an adapter must exist (any value of `CI` counts).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// What a test does when opening a device failed with `error`: outside CI it is skipped, with
/// the error as the reason; in CI it fails.
pub fn no_adapter(error: impl std::fmt::Display) -> Skipped {
    if in_ci() {
        panic!("CI must have a GPU adapter (lavapipe): {error}");
    }
    Skipped(error.to_string())
}

/// A trial for `test`: passed, failed (a panic) or ignored at run time (it returned [`Skipped`]).
pub fn trial(name: &'static str, test: fn() -> Outcome) -> Trial {
    Trial::ignorable_test(name, move || match test() {
        Ok(()) => Ok(Completion::Completed),
        Err(Skipped(reason)) => Ok(Completion::ignored_with(reason)),
    })
}

/// A trial for a test that needs no adapter (it always runs).
pub fn plain(name: &'static str, test: fn()) -> Trial {
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// Runs `trials` with the command line `cargo test` passes and exits as the standard harness
/// does (101 when a test failed).
pub fn run(trials: Vec<Trial>) -> std::process::ExitCode {
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// `trials![a, b]`: the trials of the [`Outcome`] functions `a` and `b`, each named after its
/// function, as the standard harness names a `#[test]` at the root of a test crate.
macro_rules! trials {
    ($($test:ident),* $(,)?) => {
        vec![$(support::trial(stringify!($test), $test)),*]
    };
}
