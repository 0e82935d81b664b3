//! `infoprune tokens`, end to end: masks, exact per-sample counts, captions, bad input.

mod common;

use common::*;
use infoprune::npy::{self, Overwrite};
use ndarray::{Array2, Array3};

fn token_files(fx: &Fixture, n: usize, t: usize, d: usize) -> (String, String) {
    let features = Array3::from_shape_fn((n, t, d), |(i, p, j)| {
        (((i * 31 + p * 17 + j * 7) % 23) as f32 - 11.0) / 11.0
    });
    let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_npy(
        &fx.path("x.npy"),
        "<f4",
        &format!("({n}, {t}, {d})"),
        &bytes,
    );
    let saliency = Array2::from_shape_fn((n, t), |(i, p)| ((i + p * 13) % 29) as f32 / 29.0);
    npy::write_f32_matrix(&fx.path("a.npy"), saliency.view(), Overwrite::Refuse).unwrap();
    (fx.s("x.npy"), fx.s("a.npy"))
}

#[test]
fn tokens_writes_exact_masks_and_extended_captions() {
    let fx = Fixture::new();
    let (x, a) = token_files(&fx, 5, 16, 6);
    std::fs::write(fx.path("caps.txt"), "one\ntwo\nthree\nfour\nfive\n").unwrap();
    std::fs::write(fx.path("names.txt"), "cat\ndog\n").unwrap();
    let probs = ndarray::array![
        [0.9f32, 0.1],
        [0.2, 0.8],
        [0.1, 0.1],
        [0.7, 0.7],
        [0.0, 0.6]
    ];
    npy::write_f32_matrix(&fx.path("p.npy"), probs.view(), Overwrite::Refuse).unwrap();
    let (out, caps_out) = (fx.s("mask.npy"), fx.s("caps.jsonl"));
    let o = infoprune(&[
        "tokens",
        "--features",
        &x,
        "--saliency",
        &a,
        "--keep",
        "0.25",
        "--grid",
        "4x4",
        "--out",
        &out,
        "--captions",
        &fx.s("caps.txt"),
        "--classes",
        &fx.s("p.npy"),
        "--class-names",
        &fx.s("names.txt"),
        "--captions-out",
        &caps_out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let header = npy::read_header(&fx.path("mask.npy")).unwrap();
    assert_eq!(header.shape, vec![5, 16]);
    assert_eq!(header.dtype, npy::Dtype::U8);
    let bytes = std::fs::read(fx.path("mask.npy")).unwrap();
    let mask = &bytes[header.data_offset..];
    for row in mask.chunks(16) {
        assert_eq!(row.iter().map(|&m| m as usize).sum::<usize>(), 4);
    }
    let text = std::fs::read_to_string(fx.path("caps.jsonl")).unwrap();
    assert_eq!(
        text,
        "{\"caption\":\"one Contains: cat.\"}\n{\"caption\":\"two Contains: dog.\"}\n\
         {\"caption\":\"three\"}\n{\"caption\":\"four Contains: cat, dog.\"}\n\
         {\"caption\":\"five Contains: dog.\"}\n"
    );
    // --count gives the fixed number.
    let out = fx.s("mask3.npy");
    let o = infoprune(&[
        "tokens",
        "--features",
        &x,
        "--saliency",
        &a,
        "--count",
        "3",
        "--out",
        &out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn bad_token_input_exits_2_without_output() {
    let fx = Fixture::new();
    let (x, a) = token_files(&fx, 4, 16, 6);
    let short = Array2::<f32>::zeros((4, 15));
    npy::write_f32_matrix(&fx.path("short.npy"), short.view(), Overwrite::Refuse).unwrap();
    let out = fx.s("mask.npy");
    let short = fx.s("short.npy");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--saliency", &short, "--keep", "0.25"],
            "tokens per sample",
        ),
        (vec!["--saliency", &a, "--keep", "1.5"], "(0, 1]"),
        (vec!["--saliency", &a, "--keep", "0"], "(0, 1]"),
        (
            vec!["--saliency", &a, "--keep", "0.25", "--grid", "4x5"],
            "grid 4x5",
        ),
        (
            vec!["--saliency", &a, "--keep", "0.25", "--grid", "four"],
            "--grid",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["tokens", "--features", &x, "--out", &out, "-q"];
        full.extend(args.iter());
        let o = infoprune(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!fx.path("mask.npy").exists());
    }
}
