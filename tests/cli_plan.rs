//! A run split into jobs from the command line: `infoprune plan`, `select --plan --part I` and
//! `infoprune merge` write exactly the indices and report one `select` writes, for every layout;
//! `select --dry-run` prints the plan and writes nothing; misuse is refused before any work.

mod common;

use common::*;
use infoprune::npy::{self, Overwrite};
use std::path::Path;

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The report without its timings, which differ from run to run.
fn timeless(path: &Path) -> serde_json::Value {
    let mut r = json(path);
    let map = r.as_object_mut().unwrap();
    map.remove("seconds");
    map.remove("total_seconds");
    r
}

fn join<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    a.iter().chain(b).copied().collect()
}

/// Runs `select` once, then the same options as plan → every part (last first) → merge, and
/// asserts both wrote the same indices and the same report. Returns the plan's JSON.
fn split_equals_whole(fx: &Fixture, options: &[&str]) -> serde_json::Value {
    let with = |extra: &[&str]| -> Vec<String> {
        options.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |cmd: &str, extra: &[&str]| {
        let mut args = vec![cmd.to_string()];
        args.extend(with(extra));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        infoprune(&args)
    };
    let (keep, report) = (fx.s("keep.npy"), fx.s("r.json"));
    ok(&run(
        "select",
        &["--out", &keep, "--report", &report, "--force"],
    ));
    let plan = fx.s("plan.json");
    ok(&run("plan", &["--out", &plan, "--force"]));
    let plan_json = json(&fx.path("plan.json"));
    let problems = plan_json["problems"].as_array().unwrap().len();
    let mut parts = Vec::new();
    for i in (0..problems).rev() {
        let part = fx.s(&format!("part{i}.json"));
        let i = i.to_string();
        ok(&run(
            "select",
            &["--plan", &plan, "--part", &i, "--out", &part, "--force"],
        ));
        parts.push(part);
    }
    let (keep2, report2) = (fx.s("keep2.npy"), fx.s("r2.json"));
    let mut extra = vec![
        "--plan", &plan, "--out", &keep2, "--report", &report2, "--force",
    ];
    extra.extend(parts.iter().map(String::as_str));
    ok(&run("merge", &extra));
    assert_eq!(
        read_keep(&fx.path("keep.npy")),
        read_keep(&fx.path("keep2.npy"))
    );
    assert_eq!(timeless(&fx.path("r.json")), timeless(&fx.path("r2.json")));
    plan_json
}

#[test]
fn plan_parts_and_merge_write_what_one_select_writes() {
    let fx = Fixture::new();
    let n = 40_000;
    let d = 16;
    let mut e = clustered(n, d, 3);
    let emb = fx.embeddings("e.npy", &e);
    let scores: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let s = fx.vector("s.npy", &scores);
    let labels: Vec<i64> = (0..n as i64).map(|i| (i * 31) % 7).collect();
    npy::write_i64_vector(&fx.path("y.npy"), &labels, Overwrite::Refuse).unwrap();
    let y = fx.s("y.npy");
    let common = ["--embeddings", &emb, "--scores", &s, "--keep", "0.1", "-q"];

    let plan = split_equals_whole(
        &fx,
        &join(
            &common,
            &["--partition", "kmeans", "--partition-size", "9000"],
        ),
    );
    assert!(plan["problems"].as_array().unwrap().len() >= 5, "{plan}");
    let plan = split_equals_whole(
        &fx,
        &join(
            &common,
            &["--labels", &y, "--class-quota", "--partition-size", "6000"],
        ),
    );
    assert!(plan["class_quota"].as_bool().unwrap());

    // Groups of whole IVF lists: the global problem does not fit --max-memory, a group does.
    let plan = fx.s("global.json");
    let args = join(&join(&["plan"], &common), &["--knn", "ivf", "--out", &plan]);
    ok(&infoprune(&args));
    let global = json(&fx.path("global.json"));
    assert_eq!(global["layout"], "global", "{global}");
    let limit = (global["memory"]["peak"].as_u64().unwrap() * 3 / 4).to_string();
    let ivf = join(
        &common,
        &[
            "--knn",
            "ivf",
            "--max-memory",
            &limit,
            // Small groups, so a batch of them fits where the whole does not on any thread count.
            "--partition-size",
            "500",
        ],
    );
    let plan = split_equals_whole(&fx, &ivf);
    assert_eq!(plan["layout"], "ivf-lists", "{plan}");

    // A non-finite row dropped by --drop-nonfinite: every job drops it, merge maps back to rows.
    e[[17, 3]] = f32::NAN;
    npy::write_f32_matrix(&fx.path("e.npy"), e.view(), Overwrite::Allow).unwrap();
    split_equals_whole(
        &fx,
        &join(&common, &["--drop-nonfinite", "--partition-size", "12000"]),
    );
    let keep = read_keep(&fx.path("keep2.npy"));
    assert!(!keep.contains(&17));
    assert_eq!(keep.len(), (n - 1) / 10 + usize::from((n - 1) % 10 >= 5));
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let fx = Fixture::new();
    let emb = fx.embeddings("e.npy", &clustered(20_000, 8, 1));
    let before = listing(fx.dir.path());
    let o = infoprune(&[
        "select",
        "--embeddings",
        &emb,
        "--keep",
        "0.2",
        "--partition-size",
        "6000",
        "--max-memory",
        "1G",
        "--dry-run",
    ]);
    let out = ok(&o);
    for needle in [
        "layout: configured (random partitions of at most 6000 rows)",
        "rows: 20000 (0 dropped by the cutoffs), keep k = 4000",
        "problems: 4 in",
        "sum 4000 = k",
        "exact kNN in 4 problem(s)",
        "within the memory budget 1.0 GiB",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    assert_eq!(listing(fx.dir.path()), before);
}

#[test]
fn misuse_of_a_plan_is_refused_before_any_work() {
    let fx = Fixture::new();
    let n = 12_000;
    let emb = fx.embeddings("e.npy", &clustered(n, 8, 2));
    let base = [
        "--embeddings",
        &emb,
        "--keep",
        "0.1",
        "--partition-size",
        "5000",
        "-q",
    ];
    let with = |cmd: &str, more: &[&str]| -> std::process::Output {
        let args: Vec<&str> = [cmd].iter().chain(&base).chain(more).copied().collect();
        infoprune(&args)
    };
    let plan = fx.s("plan.json");
    ok(&with("plan", &["--out", &plan]));
    let part0 = fx.s("p0.json");
    ok(&with(
        "select",
        &["--plan", &plan, "--part", "0", "--out", &part0],
    ));
    let before = listing(fx.dir.path());
    let out = fx.s("out.npy");

    assert_refused(
        &with("select", &["--plan", &plan, "--out", &out]),
        &["--plan needs --part"],
    );
    assert_refused(
        &with(
            "select",
            &[
                "--plan",
                &plan,
                "--part",
                "0",
                "--out",
                &out,
                "--report",
                &fx.s("r.json"),
            ],
        ),
        &["--report has no effect", "merge writes the report"],
    );
    assert_refused(
        &with("select", &["--plan", &plan, "--part", "3", "--out", &out]),
        &["part 3 is not a distinct problem"],
    );
    assert_refused(
        &with(
            "select",
            &["--plan", &plan, "--part", "0", "--out", &out, "--seed", "7"],
        ),
        &["another configuration"],
    );
    assert_refused(
        &with("merge", &["--plan", &plan, "--out", &out, &part0]),
        &["has no outcome"],
    );
    assert_refused(
        &with("merge", &["--out", &out, &part0]),
        &["merge needs --plan"],
    );
    assert_refused(
        &with("plan", &["--out", &out, "--dry-run"]),
        &["--dry-run, --plan and --part belong to select"],
    );
    std::fs::write(fx.path("bad.json"), "{\"format\": 1}").unwrap();
    assert_refused(
        &with(
            "select",
            &["--plan", &fx.s("bad.json"), "--part", "0", "--out", &out],
        ),
        &["bad.json", "not a plan"],
    );
    // Another dataset of the same options: the plan names the shape it was made for.
    let other = fx.embeddings("other.npy", &clustered(n + 1, 8, 2));
    assert_refused(
        &infoprune(&[
            "select",
            "--embeddings",
            &other,
            "--keep",
            "0.1",
            "--partition-size",
            "5000",
            "-q",
            "--plan",
            &plan,
            "--part",
            "0",
            "--out",
            &out,
        ]),
        &["made for 12000 × 8 embeddings, given 12001 × 8"],
    );
    // With a given graph there is nothing to plan (clap refuses --dry-run with --graph).
    let o = infoprune(&[
        "plan",
        "--graph",
        &fx.s("K.npz"),
        "--keep",
        "0.1",
        "--out",
        &out,
    ]);
    assert_refused(&o, &["nothing to plan"]);
    let o = infoprune(&[
        "select",
        "--graph",
        &fx.s("K.npz"),
        "--keep",
        "0.1",
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let mut after = listing(fx.dir.path());
    after.retain(|name| name != "bad.json" && name != "other.npy");
    assert_eq!(after, before, "a refused run left a file behind");
}
