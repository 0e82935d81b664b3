//! Replays the fuzz corpus kept in `tests/fuzz-regressions/` (seed inputs, and every crash
//! `fuzz/run.sh` ever found) through the fuzz targets' entry points: each must be answered
//! without a panic.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fuzz-regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn npy_reader_corpus_replays_without_panics() {
    let corpus = inputs("npy_reader");
    assert!(corpus.len() >= 6, "the seed corpus is missing");
    let mut accepted = 0;
    for (name, bytes) in &corpus {
        let ok = std::panic::catch_unwind(|| infoprune::npy::exercise_readers(bytes))
            .unwrap_or_else(|_| panic!("{name} panicked a reader"));
        accepted += ok;
    }
    // The valid seeds must still be read (the replay is not vacuous).
    assert!(
        accepted >= 4,
        "only {accepted} reader calls accepted the valid seeds"
    );
}

#[test]
fn csr_corpus_replays_without_panics() {
    let corpus = inputs("csr_construction");
    assert!(!corpus.is_empty());
    let mut accepted = 0;
    for (name, bytes) in &corpus {
        accepted += std::panic::catch_unwind(|| infoprune_core::fuzzing::csr_construction(bytes))
            .unwrap_or_else(|_| panic!("{name} panicked a constructor"));
    }
    assert!(accepted >= 4);
}

#[test]
fn npz_corpus_replays_without_panics() {
    let corpus = inputs("npz_reader");
    assert!(corpus.len() >= 3, "the seed corpus is missing");
    let mut accepted = 0;
    for (name, bytes) in &corpus {
        let read = std::panic::catch_unwind(|| {
            infoprune::npz::csr_from_bytes(std::path::Path::new(name), bytes).is_ok()
        })
        .unwrap_or_else(|_| panic!("{name} panicked the .npz reader"));
        accepted += usize::from(read);
    }
    // The two SciPy seeds must still be read.
    assert!(accepted >= 2, "only {accepted} seeds were read");
}

#[test]
fn captions_corpus_replays_without_panics() {
    let corpus = inputs("captions_parser");
    assert!(corpus.len() >= 3, "the seed corpus is missing");
    let mut parsed = 0;
    for (name, bytes) in &corpus {
        parsed += std::panic::catch_unwind(|| infoprune::captions::exercise_captions(bytes))
            .unwrap_or_else(|_| panic!("{name} panicked the captions parser"));
    }
    assert!(
        parsed >= 6,
        "only {parsed} captions parsed from the valid seeds"
    );
}
