//! Class 2 of the robustness pass: every output path of every command is checked before any
//! work (here: before the inputs are even opened, which are missing on purpose), and a path that
//! cannot be written is exit 2 with a message naming the user's path. Nothing is created.

mod common;

use common::*;
use std::path::Path;

/// Each command with its output options; `{}` is replaced by the output path under test. The
/// inputs do not exist: if the output were checked after reading them, the error would name them.
fn commands(fx: &Fixture, out: &str) -> Vec<Vec<String>> {
    let missing = fx.s("missing-input.npy");
    let m = missing.as_str();
    let lists: Vec<Vec<&str>> = vec![
        vec!["select", "--embeddings", m, "--budget", "3", "--out", out],
        vec!["graph", "--embeddings", m, "--out", out],
        vec![
            "score", "--kind", "el2n", "--logits", m, "--labels", m, "--out", out,
        ],
        vec![
            "tokens",
            "--features",
            m,
            "--saliency",
            m,
            "--count",
            "1",
            "--out",
            out,
        ],
    ];
    lists
        .into_iter()
        .map(|l| l.into_iter().map(String::from).collect())
        .collect()
}

fn check_refused_everywhere(fx: &Fixture, out: &str, needles: &[&str], force: bool) {
    let before = listing(fx.dir.path());
    for mut args in commands(fx, out) {
        if force {
            args.push("--force".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = infoprune(&args);
        assert_refused(&o, needles);
        assert!(
            !stderr(&o).contains("missing-input"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert_eq!(
            listing(fx.dir.path()),
            before,
            "{args:?} left a file behind"
        );
    }
}

#[test]
fn a_missing_folder_is_named_with_the_users_path() {
    let fx = Fixture::new();
    let out = fx.s("nodir/sub/k.npy");
    check_refused_everywhere(&fx, &out, &[&out, "does not exist"], false);
}

#[test]
fn a_parent_that_is_a_file_is_refused() {
    let fx = Fixture::new();
    std::fs::write(fx.path("afile"), b"x").unwrap();
    let out = fx.s("afile/k.npy");
    check_refused_everywhere(&fx, &out, &[&out, "is not a folder"], false);
}

#[test]
fn a_folder_is_refused_even_with_force() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.path("adir")).unwrap();
    let out = fx.s("adir");
    check_refused_everywhere(&fx, &out, &[&out, "is a folder"], true);
    check_refused_everywhere(&fx, &out, &[&out, "is a folder"], false);
}

#[test]
fn a_trailing_slash_is_refused() {
    let fx = Fixture::new();
    let out = format!("{}/", fx.s("k.npy"));
    check_refused_everywhere(&fx, &out, &[&out, "path separator"], false);
}

#[test]
fn a_file_name_over_the_limit_is_refused_and_one_at_the_limit_works() {
    let fx = Fixture::new();
    let long = fx.s(&"k".repeat(256));
    check_refused_everywhere(&fx, &long, &["256 bytes", "at most 255"], false);

    // 249 and 255 characters are legal names: the temporary name must not push them over.
    let e = fx.embeddings("e.npy", &clustered(60, 3, 1));
    for len in [249, 255] {
        let name = format!("{}.npy", "k".repeat(len - 4));
        let o = infoprune(&[
            "select",
            "--embeddings",
            &e,
            "--budget",
            "5",
            "--backend",
            "cpu",
            "--out",
            &fx.s(&name),
            "-q",
        ]);
        assert!(o.status.success(), "{len}: {}", stderr(&o));
        assert_eq!(read_keep(&fx.path(&name)).len(), 5);
    }
    assert!(listing(fx.dir.path())
        .iter()
        .all(|n| !n.starts_with(".infoprune-")));
}

#[test]
fn an_existing_output_without_force_has_one_wording() {
    let fx = Fixture::new();
    std::fs::write(fx.path("k.npy"), b"old").unwrap();
    let out = fx.s("k.npy");
    check_refused_everywhere(
        &fx,
        &out,
        &[&out, "already exists; pass --force to replace it"],
        false,
    );
    assert_eq!(std::fs::read(fx.path("k.npy")).unwrap(), b"old");
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let fx = Fixture::new();
    let m = fx.s("missing-input.npy");
    let out = fx.s("k.npy");
    let same = format!("{}/./k.npy", fx.dir.path().display());
    let o = infoprune(&[
        "select",
        "--embeddings",
        &m,
        "--budget",
        "3",
        "--out",
        &out,
        "--report",
        &same,
    ]);
    assert_refused(&o, &["--report", "--out", "same file"]);
    let o = infoprune(&[
        "tokens",
        "--features",
        &m,
        "--saliency",
        &m,
        "--count",
        "1",
        "--out",
        &out,
        "--captions",
        &m,
        "--classes",
        &m,
        "--class-names",
        &m,
        "--captions-out",
        &out,
    ]);
    assert_refused(&o, &["--captions-out", "--out", "same file"]);
    assert_eq!(listing(fx.dir.path()), Vec::<String>::new());
}

#[test]
fn a_missing_report_folder_leaves_no_keep_file() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(60, 3, 1));
    let report = fx.s("nodir/r.json");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &fx.s("k.npy"),
        "--report",
        &report,
        "-q",
    ]);
    assert_refused(&o, &[&report, "does not exist"]);
    assert_eq!(listing(fx.dir.path()), ["e.npy"]);
}

#[test]
fn an_unwritable_folder_is_refused_before_work() {
    let fx = Fixture::new();
    let ro = fx.path("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    // Root ignores permissions; the check is only meaningful when they apply.
    if std::fs::write(ro.join("probe"), b"x").is_ok() {
        std::fs::remove_file(ro.join("probe")).unwrap();
        return;
    }
    let out = ro.join("k.npy");
    let out = out.to_str().unwrap();
    check_refused_everywhere(&fx, out, &[out, "cannot create a file"], false);
    assert!(std::fs::read_dir(Path::new(&ro)).unwrap().next().is_none());
}
