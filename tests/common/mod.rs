//! Helpers shared by the end-to-end tests of the `infoprune` binary.
#![allow(dead_code)]

use infoprune::npy::{self, Overwrite};
use infoprune::partition::{partition, partition_budgets, PartitionConfig, PartitionMethod};
use infoprune::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use infoprune_core::backend::Backend;
use infoprune_core::importance::Representativeness;
use infoprune_core::progress::Silent;
use infoprune_core::select::{SelectConfig, Selector};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

pub fn infoprune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infoprune"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn clustered(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f32>> = (0..5)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
        .collect();
    Array2::from_shape_fn((n, d), |(i, j)| {
        centers[i % 5][j] + 0.25 * rng.random_range(-1.0f32..1.0)
    })
}

/// A hand-made `.npy` (v1.0) with any descr, shape and payload.
pub fn raw_npy(path: &Path, descr: &str, shape: &str, payload: &[u8]) {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(payload);
    std::fs::write(path, bytes).unwrap();
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    pub fn embeddings(&self, name: &str, e: &Array2<f32>) -> String {
        npy::write_f32_matrix(&self.path(name), e.view(), Overwrite::Refuse).unwrap();
        self.s(name)
    }
    pub fn vector(&self, name: &str, v: &[f32]) -> String {
        npy::write_f32_vector(&self.path(name), v, Overwrite::Refuse).unwrap();
        self.s(name)
    }
}

pub fn read_keep(path: &Path) -> Vec<i64> {
    npy::read_i64_vector(path).unwrap()
}

/// The names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Token features `n × T × d` (x.npy) and saliency `n × T` (a.npy) in the fixture.
pub fn token_inputs(fx: &Fixture, n: usize, t: usize, d: usize) -> (String, String) {
    let bytes: Vec<u8> = (0..n * t * d)
        .flat_map(|i| ((((i * 31) % 23) as f32 - 11.0) / 11.0).to_le_bytes())
        .collect();
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

/// Exit 2, no panic, and every needle in the message.
pub fn assert_refused(o: &Output, needles: &[&str]) {
    let msg = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    for needle in needles {
        assert!(msg.contains(needle), "expected '{needle}' in: {msg}");
    }
}

/// Asserts that a partitioned run on `backend` equals solving every partition alone (same
/// budgets, same indices, f summing), as `tests/pipeline.rs` (CPU) and `tests/cli_gpu.rs` (GPU)
/// check it.
pub fn assert_partitioned_run_equals_each_partition_alone(backend: Arc<dyn Backend>) {
    let n = 3000;
    let e = clustered(n, 8, 21);
    let scores: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32).collect();
    let k = 300;
    let part = PartitionConfig {
        method: PartitionMethod::Random,
        max_size: 700,
        seed: 5,
        ..PartitionConfig::default()
    };
    let rows: Vec<usize> = (0..n).collect();
    let partitions = partition(&rows, None, None, &part).unwrap();
    let budgets = partition_budgets(&partitions, k).unwrap();
    assert!(partitions.len() >= 5);
    {
        let config = PrunerConfig {
            select: SelectConfig::new(k),
            partition: part.clone(),
            class_quota: false,
            quota_classes: Vec::new(),
        };
        let pruned = Pruner::new(config)
            .backend(backend.clone())
            .run(
                Embeddings::View(e.view()),
                SampleInputs {
                    scores: Some(&scores),
                    ..SampleInputs::default()
                },
                &Silent,
            )
            .unwrap();
        assert_eq!(pruned.indices.len(), k);
        let mut alone = Vec::new();
        let mut f_total = 0.0;
        for (p, rows) in partitions.iter().enumerate() {
            let sub = e.select(ndarray::Axis(0), rows);
            let s: Vec<f32> = rows.iter().map(|&i| scores[i]).collect();
            let config = SelectConfig::new(budgets[p])
                .representativeness(Representativeness::Fixed(1.0 - k as f64 / n as f64));
            let sel = Selector::with_backend(config, backend.clone())
                .unwrap()
                .run(sub.view(), Some(&s), None)
                .unwrap();
            f_total += sel.objective;
            alone.extend(sel.indices.iter().map(|&i| rows[i]));
        }
        alone.sort_unstable();
        assert_eq!(pruned.indices, alone, "{}", backend.name());
        assert!((pruned.objective - f_total).abs() <= 1e-9 * f_total.abs().max(1.0));
        for (p, stats) in pruned.partitions.iter().enumerate() {
            assert_eq!(stats.k, budgets[p]);
            assert_eq!(stats.size, partitions[p].len());
        }
    }
}
