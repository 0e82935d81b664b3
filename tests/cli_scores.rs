//! `infoprune score` and the score-based selectors of `select`, end to end.

mod common;

use common::*;
use infoprune::npy::{self, Overwrite};
use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Logits `T × n × C` of a model that learns most samples over the epochs.
fn logits(t: usize, n: usize, c: usize, seed: u64) -> (Array3<f32>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let z = Array3::from_shape_fn((t, n, c), |(e, i, k)| {
        let signal = if k as i64 == labels[i] {
            e as f32 * (i % 3) as f32
        } else {
            0.0
        };
        signal + rng.random_range(-1.0f32..1.0)
    });
    (z, labels)
}

fn write_logits(fx: &Fixture, name: &str, z: &Array3<f32>) -> String {
    let (t, n, c) = z.dim();
    let bytes: Vec<u8> = z.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_npy(&fx.path(name), "<f4", &format!("({t}, {n}, {c})"), &bytes);
    fx.s(name)
}

fn write_labels(fx: &Fixture, name: &str, labels: &[i64]) -> String {
    npy::write_i64_vector(&fx.path(name), labels, Overwrite::Refuse).unwrap();
    fx.s(name)
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

#[test]
fn el2n_and_aum_match_hand_computation() {
    let fx = Fixture::new();
    let (z, y) = logits(3, 5, 3, 1);
    let l = write_logits(&fx, "z.npy", &z);
    let yl = write_labels(&fx, "y.npy", &y);
    let o = infoprune(&[
        "score",
        "--logits",
        &l,
        "--labels",
        &yl,
        "--kind",
        "el2n",
        "--out",
        &fx.s("el2n.npy"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = npy::read_f32_vector(&fx.path("el2n.npy")).unwrap();
    for i in 0..5 {
        let mut mean = 0.0;
        for t in 0..3 {
            let row: Vec<f64> = (0..3).map(|c| z[[t, i, c]] as f64).collect();
            let p = softmax(&row);
            let d: f64 = (0..3)
                .map(|c| (p[c] - if c as i64 == y[i] { 1.0 } else { 0.0 }).powi(2))
                .sum();
            mean += d.sqrt() / 3.0;
        }
        assert!(
            (got[i] as f64 - mean).abs() < 1e-5,
            "sample {i}: {} vs {mean}",
            got[i]
        );
    }
    for (raw, out) in [(true, "aum_raw.npy"), (false, "aum.npy")] {
        let mut args = vec![
            "score", "--logits", &l, "--labels", &yl, "--kind", "aum", "-q",
        ];
        let path = fx.s(out);
        args.extend(["--out", &path]);
        if raw {
            args.push("--raw");
        }
        assert!(infoprune(&args).status.success());
    }
    let raw = npy::read_f32_vector(&fx.path("aum_raw.npy")).unwrap();
    let oriented = npy::read_f32_vector(&fx.path("aum.npy")).unwrap();
    for i in 0..5 {
        let expected: f64 = (0..3)
            .map(|t| {
                let zy = z[[t, i, y[i] as usize]] as f64;
                let other = (0..3)
                    .filter(|&c| c as i64 != y[i])
                    .map(|c| z[[t, i, c]] as f64)
                    .fold(f64::NEG_INFINITY, f64::max);
                zy - other
            })
            .sum::<f64>()
            / 3.0;
        assert!((raw[i] as f64 - expected).abs() < 1e-5);
        assert_eq!(
            oriented[i], -raw[i],
            "AUM is low for hard samples: oriented = −AUM"
        );
    }
}

#[test]
fn sim_from_two_models_is_written_high_for_hard() {
    let fx = Fixture::new();
    let n = 60;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let labels: Vec<i64> = (0..n).map(|i| (i % 3) as i64).collect();
    let yl = write_labels(&fx, "y.npy", &labels);
    let mut files = Vec::new();
    for m in 0..2 {
        let f = Array2::from_shape_fn((n, 4), |(i, j)| {
            (labels[i] as usize == j) as u8 as f32 * 2.0 + rng.random_range(-0.5f32..0.5)
        });
        let p = Array2::from_shape_fn(
            (n, 3),
            |(i, c)| {
                if c as i64 == labels[i] {
                    0.7
                } else {
                    0.15
                }
            },
        );
        let (fp, pp) = (format!("f{m}.npy"), format!("p{m}.npy"));
        npy::write_f32_matrix(&fx.path(&fp), f.view(), Overwrite::Refuse).unwrap();
        npy::write_f32_matrix(&fx.path(&pp), p.view(), Overwrite::Refuse).unwrap();
        files.push((fx.s(&fp), fx.s(&pp)));
    }
    let features = format!("{},{}", files[0].0, files[1].0);
    let probs = format!("{},{}", files[0].1, files[1].1);
    for (raw, out) in [(true, "sim_raw.npy"), (false, "sim.npy")] {
        let path = fx.s(out);
        let mut args = vec![
            "score",
            "--sim",
            "--features",
            &features,
            "--probs",
            &probs,
            "--labels",
            &yl,
            "--out",
            &path,
            "-q",
        ];
        if raw {
            args.push("--raw");
        }
        let o = infoprune(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let raw = npy::read_f32_vector(&fx.path("sim_raw.npy")).unwrap();
    let oriented = npy::read_f32_vector(&fx.path("sim.npy")).unwrap();
    assert_eq!(raw.len(), n);
    assert!(raw.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(raw.iter().zip(&oriented).all(|(r, o)| *o == -*r));
    // Mismatched model counts are a usage error.
    let o = infoprune(&[
        "score",
        "--sim",
        "--features",
        &features,
        "--probs",
        &files[0].1,
        "--labels",
        &yl,
        "--out",
        &fx.s("x.npy"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("one --probs file per --features file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_score_based_method_selects_exactly_k() {
    let fx = Fixture::new();
    let n = 400;
    let e = fx.embeddings("e.npy", &clustered(n, 6, 3));
    let (z, y) = logits(4, n, 4, 4);
    let l = write_logits(&fx, "z.npy", &z);
    let yl = write_labels(&fx, "y.npy", &y);
    assert!(infoprune(&[
        "score",
        "--logits",
        &l,
        "--labels",
        &yl,
        "--kind",
        "el2n",
        "--out",
        &fx.s("s.npy"),
        "-q"
    ])
    .status
    .success());
    assert!(infoprune(&[
        "score",
        "--logits",
        &l,
        "--labels",
        &yl,
        "--kind",
        "aum",
        "--raw",
        "--out",
        &fx.s("aum.npy"),
        "-q"
    ])
    .status
    .success());
    let s = fx.s("s.npy");
    let aum = fx.s("aum.npy");
    for method in ["sims", "ccs", "moderate", "d2", "infomax", "topk"] {
        let out = fx.s(&format!("{method}.npy"));
        let report = fx.s(&format!("{method}.json"));
        // Each method gets the inputs it reads: the others are refused as having no effect.
        let extra: &[&str] = match method {
            "sims" | "moderate" => &["--labels", &yl],
            "ccs" => &["--aum", &aum],
            _ => &[],
        };
        let o = infoprune(
            &[
                &[
                    "select",
                    "--embeddings",
                    &e,
                    "--scores",
                    &s,
                    "--keep",
                    "0.25",
                    "--method",
                    method,
                    "--out",
                    &out,
                    "--report",
                    &report,
                    "-q",
                ][..],
                extra,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        let keep = npy::read_i64_vector(Path::new(&out)).unwrap();
        assert_eq!(keep.len(), 100, "{method}");
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(json["method"], method);
    }
    // --scores-from computes the same importance in process, and (SPEC §1.5) the noise signal
    // minus AUM from the same logits, with class-balanced budgets from the labels: the same run
    // as the score files given by hand.
    assert!(infoprune(&[
        "score",
        "--logits",
        &l,
        "--labels",
        &yl,
        "--kind",
        "aum",
        "--out",
        &fx.s("minus_aum.npy"),
        "-q"
    ])
    .status
    .success());
    // One `select --keep 0.25` on the embeddings with `extra`: its kept rows and its report.
    let keep_quarter = |name: &str, extra: &[&str]| {
        let (out, report) = (fx.s(&format!("{name}.npy")), fx.s(&format!("{name}.json")));
        let common = ["select", "--embeddings", &e, "--keep", "0.25", "-q"];
        let files = ["--out", &out, "--report", &report];
        let o = infoprune(&[&common[..], &files, extra].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        (npy::read_i64_vector(Path::new(&out)).unwrap(), json)
    };
    let minus_aum = fx.s("minus_aum.npy");
    let (by_hand, _) = keep_quarter(
        "by_hand",
        &["--scores", &s, "--noise", &minus_aum, "--labels", &yl],
    );
    let from_logits = ["--scores-from", "el2n", "--logits", &l, "--labels", &yl];
    let (from, json) = keep_quarter("from", &from_logits);
    assert_eq!(from, by_hand);
    assert_eq!(json["noise_signal"], "minus AUM from --logits");
    assert_eq!(json["noise_cutoff"], "auto");
    assert_eq!(json["class_quota"], true);
    assert!(json["dropped_noisy"].as_u64().unwrap() > 0, "{json}");
    // --drop-noisy 0 and --no-class-quota turn both defaults off: the plain --scores run.
    let off = ["--drop-noisy", "0", "--no-class-quota"];
    let (plain, _) = keep_quarter("plain", &[&from_logits[..], &off].concat());
    assert_eq!(
        plain,
        npy::read_i64_vector(&fx.path("infomax.npy")).unwrap()
    );
    // Moderate without labels is a clear error.
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--scores",
        &s,
        "--keep",
        "0.25",
        "--method",
        "moderate",
        "--out",
        &fx.s("m.npy"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs class labels"), "{}", stderr(&o));
}

use std::path::Path;

#[test]
fn bad_score_inputs_exit_2_with_the_problem_named() {
    let fx = Fixture::new();
    let (mut z, y) = logits(2, 6, 3, 5);
    let good = write_logits(&fx, "z.npy", &z);
    z[[1, 2, 1]] = f32::NAN;
    let nan = write_logits(&fx, "nan.npy", &z);
    let yl = write_labels(&fx, "y.npy", &y);
    let bad_labels = write_labels(&fx, "bad.npy", &[0, 1, 2, 0, 1, 7]);
    let short = write_labels(&fx, "short.npy", &[0, 1, 2]);
    let out = fx.s("s.npy");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--logits", &nan, "--labels", &yl, "--kind", "el2n"],
            "index",
        ),
        (
            vec!["--logits", &good, "--labels", &bad_labels, "--kind", "loss"],
            "7",
        ),
        (
            vec!["--logits", &good, "--labels", &short, "--kind", "margin"],
            "labels",
        ),
        (
            vec!["--logits", &good, "--labels", &yl, "--kind", "grand"],
            "features",
        ),
        (vec!["--sim", "--labels", &yl], "required"),
    ];
    for (args, needle) in cases {
        let mut full = vec!["score", "--out", &out, "-q"];
        full.extend(args.iter());
        let o = infoprune(&full);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected '{needle}' in {err}"
        );
        assert!(!err.contains("panicked"));
        assert!(!fx.path("s.npy").exists());
    }
}

/// Little-endian float32 logits in C order are scored in place from the memory map; float64,
/// big-endian and Fortran-order files of the same values go through the converting reader. Both
/// give the same scores, bit for bit, for every kind.
#[test]
fn mapped_and_converted_logits_give_the_same_scores() {
    let fx = Fixture::new();
    let (z, y) = logits(4, 60, 5, 9);
    let (t, n, c) = z.dim();
    let mapped = write_logits(&fx, "z32.npy", &z);
    let b64: Vec<u8> = z.iter().flat_map(|&v| (v as f64).to_le_bytes()).collect();
    raw_npy(
        &fx.path("z64.npy"),
        "<f8",
        &format!("({t}, {n}, {c})"),
        &b64,
    );
    let bbe: Vec<u8> = z.iter().flat_map(|v| v.to_be_bytes()).collect();
    raw_npy(
        &fx.path("zbe.npy"),
        ">f4",
        &format!("({t}, {n}, {c})"),
        &bbe,
    );
    let yl = write_labels(&fx, "y.npy", &y);
    for kind in ["el2n", "entropy", "margin", "loss", "forgetting", "aum"] {
        let mut outs = Vec::new();
        for (name, path) in [
            ("32", mapped.clone()),
            ("64", fx.s("z64.npy")),
            ("be", fx.s("zbe.npy")),
        ] {
            let out = format!("{kind}-{name}.npy");
            let o = infoprune(&[
                "score",
                "--logits",
                &path,
                "--labels",
                &yl,
                "--kind",
                kind,
                "--out",
                &fx.s(&out),
                "-q",
            ]);
            assert!(o.status.success(), "{kind} {name}: {}", stderr(&o));
            outs.push(npy::read_f32_vector(&fx.path(&out)).unwrap());
        }
        let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&outs[0]), bits(&outs[1]), "{kind}: float64");
        assert_eq!(bits(&outs[0]), bits(&outs[2]), "{kind}: big-endian");
    }
}

/// SPEC §1.5 at a size users run (20,000 × 16, one exact problem): labels give class-balanced
/// budgets, and without labels or a noise signal the hardest tenth is dropped at 90% pruning.
#[test]
fn defaults_follow_the_inputs() {
    let fx = Fixture::new();
    let n = 20_000;
    let e = fx.embeddings("e.npy", &clustered(n, 16, 21));
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let scores: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
    // Ten classes of unequal size (class c holds about (c + 1)/55 of the samples).
    let labels: Vec<i64> = (0..n)
        .map(|_| {
            let mut u = rng.random_range(0..55);
            (0..10i64)
                .find(|c| {
                    let take = u < c + 1;
                    u -= if take { 0 } else { c + 1 };
                    take
                })
                .unwrap()
        })
        .collect();
    let s = fx.vector("s.npy", &scores);
    let y = write_labels(&fx, "y.npy", &labels);
    let run = |name: &str, keep: &str, extra: &[&str]| {
        let (out, report) = (fx.s(&format!("{name}.npy")), fx.s(&format!("{name}.json")));
        let o = infoprune(
            &[
                &[
                    "select",
                    "--embeddings",
                    &e,
                    "--scores",
                    &s,
                    "--keep",
                    keep,
                    "--out",
                    &out,
                    "--report",
                    &report,
                    "-q",
                    "--backend",
                    "cpu",
                ][..],
                extra,
            ]
            .concat(),
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        (read_keep(Path::new(&out)), json)
    };
    let k = n / 10;
    let class_counts = |keep: &[i64]| {
        let mut counts = [0usize; 10];
        keep.iter()
            .for_each(|&i| counts[labels[i as usize] as usize] += 1);
        counts
    };
    let sizes = class_counts(&(0..n as i64).collect::<Vec<_>>());
    let share = |c: usize| k as f64 * sizes[c] as f64 / n as f64;

    // Labels: every class keeps its share of k, rounded (largest remainder), and nothing else is
    // dropped (the class cells keep the mislabeled tail out themselves).
    let (balanced, report) = run("balanced", "0.1", &["--labels", &y]);
    assert_eq!(balanced.len(), k);
    assert_eq!(report["class_quota"], true);
    assert_eq!(report["dropped_noisy"], 0);
    assert!(report["noise_signal"].is_null());
    let counts = class_counts(&balanced);
    for c in 0..10 {
        assert!((counts[c] as f64 - share(c)).abs() < 1.0, "{c}: {counts:?}");
    }
    // Without class-balanced budgets the classes drift from their shares (and labels that
    // nothing reads are refused, so that run is checked without them).
    let (plain, report) = run("plain", "0.1", &["--hard-tail", "0"]);
    assert!(report["noise_signal"].is_null(), "{report}");
    let counts = class_counts(&plain);
    assert!(
        (0..10).any(|c| (counts[c] as f64 - share(c)).abs() >= 2.0),
        "{counts:?}"
    );

    // No labels, no noise signal, 90% pruning: the n/10 highest scores are dropped first.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let hardest: std::collections::HashSet<i64> =
        order[..n / 10].iter().map(|&i| i as i64).collect();
    let (tail, report) = run("tail", "0.1", &[]);
    assert_eq!(report["dropped_noisy"], n / 10);
    assert_eq!(report["noise_signal"], "the scores' hard tail");
    assert!(tail.iter().all(|i| !hardest.contains(i)));
    assert!(plain.iter().any(|i| hardest.contains(i)));
    // Below 80% pruning nothing is dropped.
    let (_, report) = run("low", "0.25", &[]);
    assert_eq!(report["dropped_noisy"], 0);
}

/// One `n × C` file per epoch (what a training loop writes as it goes) gives the scores and the
/// selection of the same logits in one `T × n × C` file, bit for bit; float32 and float64 epochs
/// may mix; epochs of different shapes and a 3-D file among epoch files are refused by name.
#[test]
fn one_logits_file_per_epoch_equals_one_stacked_file() {
    let fx = Fixture::new();
    let (z, y) = logits(5, 3_000, 10, 21);
    let (t, n, c) = z.dim();
    let stacked = write_logits(&fx, "z.npy", &z);
    let mut epochs = Vec::new();
    for e in 0..t {
        let name = format!("epoch{e}.npy");
        let rows = z.index_axis(ndarray::Axis(0), e);
        // Every other epoch as float64: each file is read on its own terms.
        if e % 2 == 0 {
            let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
            raw_npy(&fx.path(&name), "<f4", &format!("({n}, {c})"), &bytes);
        } else {
            let bytes: Vec<u8> = rows
                .iter()
                .flat_map(|&v| (v as f64).to_le_bytes())
                .collect();
            raw_npy(&fx.path(&name), "<f8", &format!("({n}, {c})"), &bytes);
        }
        epochs.push(fx.s(&name));
    }
    let yl = write_labels(&fx, "y.npy", &y);
    let bits = |p: &str| {
        npy::read_f32_vector(&fx.path(p))
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    };
    for kind in ["el2n", "forgetting", "aum", "loss"] {
        let run = |files: &[String], out: &str| {
            let mut args = vec!["score", "--kind", kind, "--labels", &yl, "--out", out, "-q"];
            args.push("--logits");
            args.extend(files.iter().map(String::as_str));
            let o = infoprune(&args);
            assert!(o.status.success(), "{kind}: {}", stderr(&o));
        };
        run(
            std::slice::from_ref(&stacked),
            &fx.s(&format!("{kind}-stacked.npy")),
        );
        run(&epochs, &fx.s(&format!("{kind}-epochs.npy")));
        assert_eq!(
            bits(&format!("{kind}-stacked.npy")),
            bits(&format!("{kind}-epochs.npy")),
            "{kind}"
        );
    }
    // The whole select --scores-from flow (EL2N importance, minus AUM noise, class quotas).
    let e = fx.embeddings("e.npy", &clustered(n, 8, 3));
    let select = |files: &[String], out: &str| {
        let out_path = fx.s(out);
        let mut args = vec![
            "select",
            "--embeddings",
            &e,
            "--keep",
            "0.3",
            "--out",
            &out_path,
        ];
        args.extend(["--scores-from", "el2n", "--labels", &yl, "-q", "--logits"]);
        args.extend(files.iter().map(String::as_str));
        let o = infoprune(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read_keep(&fx.path(out))
    };
    assert_eq!(
        select(std::slice::from_ref(&stacked), "keep-stacked.npy"),
        select(&epochs, "keep-epochs.npy")
    );
    // Refused: an epoch of another shape, and a stacked file among epoch files.
    let short = Array2::<f32>::zeros((n - 1, c));
    fx.embeddings("short.npy", &short);
    for (files, needle) in [
        (
            vec![epochs[0].clone(), fx.s("short.npy")],
            "one n × C file per epoch",
        ),
        (vec![epochs[0].clone(), stacked.clone()], "2-D"),
    ] {
        let mut args = vec!["score", "--kind", "aum", "--labels", &yl, "--out"];
        let out = fx.s("bad.npy");
        args.push(&out);
        args.push("--logits");
        args.extend(files.iter().map(String::as_str));
        let o = infoprune(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        assert!(!fx.path("bad.npy").exists());
    }
}

/// With labels the noise cutoff is shared out over the classes by default (SPEC §1.5): a rare
/// class whose samples the signal flags by the dozen drops at most twice its share, where the
/// global rule (`--no-noise-by-class`) drops them all. 6,000 rows in classes of 5,000 / 800 / 200;
/// `--drop-noisy 0.02` flags 120: the 60 rare-class rows with the largest signal and 60 others.
#[test]
fn the_noise_cutoff_is_shared_over_the_classes_by_default() {
    let fx = Fixture::new();
    let n = 6_000;
    let e = fx.embeddings("e.npy", &clustered(n, 8, 17));
    let labels: Vec<i64> = (0..n)
        .map(|i| match i {
            0..5000 => 0,
            5000..5800 => 1,
            _ => 2,
        })
        .collect();
    let mut noise = vec![-1.0f32; n];
    for (r, i) in (5800..5860).enumerate() {
        noise[i] = 10.0 + r as f32;
    }
    for i in (0..45).map(|j| j * 100).chain(5000..5015) {
        noise[i] = 5.0;
    }
    let yl = write_labels(&fx, "y.npy", &labels);
    npy::write_f32_vector(&fx.path("noise.npy"), &noise, Overwrite::Refuse).unwrap();
    let noise_path = fx.s("noise.npy");
    let run = |extra: &[&str], tag: &str| {
        let (out, report) = (
            fx.s(&format!("k-{tag}.npy")),
            fx.s(&format!("r-{tag}.json")),
        );
        let mut args = vec![
            "select",
            "--embeddings",
            &e,
            "--keep",
            "0.5",
            "--labels",
            &yl,
        ];
        args.extend(["--noise", &noise_path, "--drop-noisy", "0.02", "-q"]);
        args.extend(["--out", &out, "--report", &report]);
        args.extend(extra);
        let o = infoprune(&args);
        assert!(o.status.success(), "{tag}: {}", stderr(&o));
        let text = std::fs::read_to_string(fx.path(&format!("r-{tag}.json"))).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let shared = run(&[], "default");
    // Class 2's share of twice the 120 is 8: 60 + 8 dropped instead of 120.
    assert_eq!(shared["noise_by_class"], true, "{shared}");
    assert_eq!(shared["dropped_noisy"], 68, "{shared}");
    let global = run(&["--no-noise-by-class"], "global");
    assert_eq!(global["noise_by_class"], false, "{global}");
    assert_eq!(global["dropped_noisy"], 120, "{global}");
    // Without class-balanced budgets the cutoff is global unless asked for (and the labels,
    // read by nothing else then, are refused without it).
    let asked = run(&["--no-class-quota", "--noise-by-class"], "asked");
    assert_eq!(asked["dropped_noisy"], 68, "{asked}");
    // Either flag without labels (or without a noise signal) has no effect: refused by name.
    for flag in ["--noise-by-class", "--no-noise-by-class"] {
        let o = infoprune(&[
            "select",
            "--embeddings",
            &e,
            "--keep",
            "0.5",
            "--out",
            &fx.s("x.npy"),
            flag,
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains(&flag[2..]), "{}", stderr(&o));
        assert!(!fx.path("x.npy").exists());
    }
}
