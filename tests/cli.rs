//! The real `infoprune` binary, end to end, on temporary `.npy` files.

mod common;

use common::*;
use infoprune::npy::{self, Overwrite};
use std::path::Path;
use std::process::Command;

#[test]
fn select_end_to_end_with_report() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(300, 8, 1));
    let scores: Vec<f32> = (0..300).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
    let s = fx.vector("s.npy", &scores);
    let (out, report) = (fx.s("keep.npy"), fx.s("report.json"));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--scores",
        &s,
        "--keep",
        "0.1",
        "--out",
        &out,
        "--report",
        &report,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keep = read_keep(&fx.path("keep.npy"));
    assert_eq!(keep.len(), 30);
    assert!(keep.windows(2).all(|w| w[0] < w[1]));
    assert!(keep.iter().all(|&i| (0..300).contains(&i)));
    let header = npy::read_header(&fx.path("keep.npy")).unwrap();
    assert_eq!(header.dtype, npy::Dtype::I64);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx.path("report.json")).unwrap()).unwrap();
    assert_eq!(json["n"], 300);
    assert_eq!(json["k"], 30);
    assert_eq!(json["method"], "infomax");
    assert_eq!(json["solver"], "pg");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["alpha"].as_f64().unwrap() > 0.0);
    assert!(json["objective"].as_f64().unwrap().is_finite());
    for phase in ["read", "graph", "solve", "write"] {
        assert!(json["seconds"][phase].as_f64().unwrap() >= 0.0, "{phase}");
    }
}

#[test]
fn float64_input_gives_the_same_subset() {
    let fx = Fixture::new();
    let e32 = clustered(250, 6, 2);
    let e = fx.embeddings("e32.npy", &e32);
    let e64 = e32.mapv(|v| v as f64);
    npy::write_f64_matrix(&fx.path("e64.npy"), e64.view(), Overwrite::Refuse).unwrap();
    let scores: Vec<f64> = (0..250).map(|i| (i % 17) as f64 * 0.5).collect();
    raw_npy(
        &fx.path("s64.npy"),
        "<f8",
        "(250,)",
        &scores
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let s32: Vec<f32> = scores.iter().map(|&v| v as f32).collect();
    let s = fx.vector("s32.npy", &s32);
    for (emb, sc, out) in [
        (&e, &s, "a.npy"),
        (&fx.s("e64.npy"), &fx.s("s64.npy"), "b.npy"),
    ] {
        let o = infoprune(&[
            "select",
            "--embeddings",
            emb,
            "--scores",
            sc,
            "--budget",
            "40",
            "--out",
            &fx.s(out),
            "-q",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(read_keep(&fx.path("a.npy")), read_keep(&fx.path("b.npy")));
}

#[test]
fn every_method_and_solver_runs_and_is_deterministic() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(200, 5, 3));
    let scores: Vec<f32> = (0..200).map(|i| ((i * 13) % 29) as f32).collect();
    let s = fx.vector("s.npy", &scores);
    for extra in [
        &["--method", "greedy"][..],
        &["--method", "random", "--seed", "7"],
        &["--method", "topk"],
        &["--solver", "mirror"],
        &["--beta", "3", "--neighbors", "5", "--symmetrize", "mean"],
        // γ and the normalisation only act on scores (without them they are refused).
        &[
            "--scores",
            &s,
            "--alpha",
            "0.5",
            "--representativeness",
            "0",
            "--normalize",
            "rank",
        ],
    ] {
        let mut results = Vec::new();
        for run in 0..2 {
            let out = fx.s(&format!("k{run}.npy"));
            let mut args = vec![
                "select",
                "--embeddings",
                &e,
                "--budget",
                "25",
                "--out",
                &out,
            ];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-q", "--force"]);
            let o = infoprune(&args);
            assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
            results.push(read_keep(Path::new(&out)));
        }
        assert_eq!(results[0].len(), 25);
        assert_eq!(results[0], results[1], "{extra:?} is not deterministic");
    }
}

#[test]
fn noise_cutoff_is_applied_and_reported() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(400, 6, 4));
    let noise: Vec<f32> = (0..400)
        .map(|i| if i % 10 == 0 { 5.0 } else { 0.0 })
        .collect();
    let n = fx.vector("n.npy", &noise);
    let (out, report) = (fx.s("keep.npy"), fx.s("r.json"));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--noise",
        &n,
        "--keep",
        "0.1",
        "--drop-noisy",
        "0.1",
        "--out",
        &out,
        "--report",
        &report,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read_keep(&fx.path("keep.npy")).iter().all(|i| i % 10 != 0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx.path("r.json")).unwrap()).unwrap();
    assert_eq!(json["dropped_noisy"], 40);
}

#[test]
fn bad_input_exits_2_with_a_clear_message_and_no_output() {
    let fx = Fixture::new();
    let good = clustered(50, 4, 5);
    let e = fx.embeddings("e.npy", &good);
    let mut nan = good.clone();
    nan[[2, 3]] = f32::NAN;
    let e_nan = fx.embeddings("nan.npy", &nan);
    let s_inf = fx.vector("inf.npy", &{
        let mut v = vec![1.0f32; 50];
        v[9] = f32::INFINITY;
        v
    });
    let s_short = fx.vector("short.npy", &[1.0; 49]);
    raw_npy(&fx.path("empty.npy"), "<f4", "(0, 4)", &[]);
    raw_npy(&fx.path("trunc.npy"), "<f4", "(50, 4)", &[0u8; 100]);
    raw_npy(&fx.path("complex.npy"), "<c8", "(50, 4)", &[0u8; 1600]);
    raw_npy(&fx.path("vec.npy"), "<f4", "(50,)", &[0u8; 200]);
    std::fs::write(fx.path("garbage.npy"), b"definitely not numpy").unwrap();
    let out = fx.s("keep.npy");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--embeddings".into(), e_nan, "--budget".into(), "5".into()],
            "index 11",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--scores".into(),
                s_inf,
                "--budget".into(),
                "5".into(),
            ],
            "index 9",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--scores".into(),
                s_short,
                "--budget".into(),
                "5".into(),
            ],
            "49 values",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--budget".into(),
                "0".into(),
            ],
            "k = 0",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--budget".into(),
                "51".into(),
            ],
            "k = 51",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--keep".into(),
                "1.5".into(),
            ],
            "--keep",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("empty.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "empty",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("trunc.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "trunc.npy",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("complex.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "c8",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("vec.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "vec.npy",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("garbage.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "garbage.npy",
        ),
        (
            vec![
                "--embeddings".into(),
                fx.s("missing.npy"),
                "--budget".into(),
                "1".into(),
            ],
            "missing.npy",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--budget".into(),
                "5".into(),
                "--drop-noisy".into(),
                "lots".into(),
            ],
            "--drop-noisy",
        ),
        (
            vec![
                "--embeddings".into(),
                e.clone(),
                "--budget".into(),
                "5".into(),
                "--alpha".into(),
                "-1".into(),
            ],
            "alpha",
        ),
    ];
    for (args, needle) in cases {
        let mut full: Vec<String> = vec!["select".into(), "--out".into(), out.clone(), "-q".into()];
        full.extend(args.iter().cloned());
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let o = infoprune(&refs);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected '{needle}' in: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(
            !fx.path("keep.npy").exists(),
            "{args:?} left an output file"
        );
    }
}

#[test]
fn existing_output_needs_force() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(60, 4, 6));
    let out = fx.s("keep.npy");
    std::fs::write(fx.path("keep.npy"), b"precious").unwrap();
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &out,
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"));
    assert_eq!(std::fs::read(fx.path("keep.npy")).unwrap(), b"precious");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &out,
        "-q",
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_keep(&fx.path("keep.npy")).len(), 5);
}

#[test]
fn demo_prints_the_comparison_table() {
    let o = infoprune(&["demo", "--n", "3000", "--dim", "16", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).unwrap();
    for method in [
        "infomax (pg)",
        "infomax (mirror)",
        "greedy",
        "topk",
        "random",
    ] {
        assert!(table.contains(method), "{method} missing:\n{table}");
    }
    assert!(table.contains("duplicates kept"));
}

#[test]
fn drop_nonfinite_skips_bad_rows_and_reports_them() {
    let fx = Fixture::new();
    let mut e = clustered(120, 4, 7);
    e[[3, 0]] = f32::NAN;
    e[[50, 2]] = f32::NEG_INFINITY;
    let e = fx.embeddings("e.npy", &e);
    let mut scores = vec![1.0f32; 120];
    scores[77] = f32::NAN;
    let s = fx.vector("s.npy", &scores);
    let (out, report) = (fx.s("keep.npy"), fx.s("r.json"));
    let base = [
        "select",
        "--embeddings",
        &e,
        "--scores",
        &s,
        "--budget",
        "117",
        "--out",
        &out,
    ];
    let o = infoprune(&[&base[..], &["-q"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("index 12"), "{}", stderr(&o));
    let o = infoprune(&[&base[..], &["--drop-nonfinite", "--report", &report, "-q"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let keep = read_keep(&fx.path("keep.npy"));
    let expected: Vec<i64> = (0..120).filter(|i| ![3, 50, 77].contains(i)).collect();
    assert_eq!(keep, expected);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx.path("r.json")).unwrap()).unwrap();
    assert_eq!(json["dropped_nonfinite"], 3);
    assert_eq!(json["n"], 120);
}

#[test]
fn max_memory_refuses_before_reading() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(100, 4, 8));
    let out = fx.s("keep.npy");
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &out,
        "--max-memory",
        "1K",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("exceeds --max-memory 1.0 KiB"),
        "{}",
        stderr(&o)
    );
    assert!(!fx.path("keep.npy").exists());
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &out,
        "--max-memory",
        "lots",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--budget",
        "5",
        "--out",
        &out,
        "--max-memory",
        "1G",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn backends_agree_and_auto_falls_back_with_a_notice() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(600, 8, 9));
    let scores: Vec<f32> = (0..600).map(|i| ((i * 13) % 29) as f32).collect();
    let s = fx.vector("s.npy", &scores);
    let run = |backend: &str, out: &str, quiet: bool| {
        let (out, report) = (fx.s(out), fx.s(&format!("{out}.json")));
        let mut args = vec![
            "select",
            "--embeddings",
            &e,
            "--scores",
            &s,
            "--keep",
            "0.1",
            "--out",
            &out,
            "--report",
            &report,
            "--backend",
            backend,
        ];
        if quiet {
            args.push("-q");
        }
        let o = infoprune(&args);
        let json: Option<serde_json::Value> = std::fs::read_to_string(&report)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap());
        (o, json)
    };
    let (o, cpu) = run("cpu", "cpu.npy", true);
    assert!(o.status.success(), "{}", stderr(&o));
    let cpu = cpu.unwrap();
    assert!(cpu["backend"].as_str().unwrap().starts_with("cpu"));

    let (o, gpu) = run("wgpu", "gpu.npy", true);
    match gpu {
        Some(gpu) => {
            assert!(
                gpu["backend"].as_str().unwrap().starts_with("wgpu"),
                "{gpu}"
            );
            let (f_gpu, f_cpu) = (
                gpu["objective"].as_f64().unwrap(),
                cpu["objective"].as_f64().unwrap(),
            );
            let same = read_keep(&fx.path("gpu.npy")) == read_keep(&fx.path("cpu.npy"));
            assert!(
                same || (f_gpu - f_cpu).abs() <= 1e-4 * f_cpu.abs(),
                "{f_gpu} vs {f_cpu}"
            );
        }
        None => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have an adapter: {}",
                stderr(&o)
            );
            assert_eq!(o.status.code(), Some(2));
            assert!(stderr(&o).contains("no GPU adapter"), "{}", stderr(&o));
        }
    }

    let (o, auto) = run("auto", "auto.npy", false);
    assert!(o.status.success(), "{}", stderr(&o));
    let backend = auto.unwrap()["backend"].as_str().unwrap().to_string();
    if backend.starts_with("cpu") {
        assert!(stderr(&o).contains("note: no GPU"), "{}", stderr(&o));
    }
}

#[test]
fn rayon_thread_count_does_not_change_the_subset() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(5000, 8, 31));
    let scores: Vec<f32> = (0..5000).map(|i| ((i * 7919) % 1009) as f32).collect();
    let s = fx.vector("s.npy", &scores);
    let mut outputs = Vec::new();
    for (threads, method) in [
        ("1", "infomax"),
        ("2", "infomax"),
        ("1", "greedy"),
        ("2", "greedy"),
    ] {
        let out = fx.s(&format!("keep-{method}-{threads}.npy"));
        let o = Command::new(env!("CARGO_BIN_EXE_infoprune"))
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "select",
                "--embeddings",
                &e,
                "--scores",
                &s,
                "--keep",
                "0.1",
                "--method",
                method,
                "--partition-size",
                "2000",
                "--backend",
                "cpu",
                "--out",
                &out,
                "-q",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(read_keep(Path::new(&out)));
    }
    assert_eq!(
        outputs[0], outputs[1],
        "infomax differs between 1 and 2 threads"
    );
    assert_eq!(
        outputs[2], outputs[3],
        "greedy differs between 1 and 2 threads"
    );
}
