//! The IVF kNN graph against the exact one: time and recall@10 on clustered 64-d embeddings.
//! Run with `cargo bench -p infoprune --bench ivf` (add sizes, e.g. `-- 20000 100000`); the rows
//! with `nprobe = default` are what `--knn ivf` runs, and `auto` switches to IVF at
//! above `infoprune_core::ivf::AUTO_EXACT_MAX_ROWS` rows.

use infoprune_core::ivf::{ivf_lists, recall_at_m, IvfIndex, IvfParams};
use infoprune_core::knn::{knn_graph, symmetrize_lists, KnnConfig, Symmetrize};
use infoprune_core::progress::Silent;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// A standard normal draw (Box–Muller; the bench needs nothing better).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u: f64 = rng.random::<f64>().max(1e-300);
    let v: f64 = rng.random::<f64>();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// `n × d` rows around `clusters` standard-normal centres with per-coordinate noise `sigma`.
fn clustered(n: usize, d: usize, clusters: usize, sigma: f32, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = Array2::from_shape_fn((clusters, d), |_| normal(&mut rng));
    let mut e = Array2::<f32>::zeros((n, d));
    for i in 0..n {
        let c = rng.random_range(0..clusters);
        for j in 0..d {
            e[(i, j)] = centres[(c, j)] + sigma * normal(&mut rng);
        }
    }
    e
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 20_000, 50_000, 100_000]
    } else {
        sizes
    };
    let d = 64;
    let config = KnnConfig::default();
    println!(
        "IVF vs exact kNN graph, m = 10, d = {d}, clusters = n/500, noise 0.6, {} threads",
        rayon::current_num_threads()
    );
    println!("\n| n | search | nlist | nprobe | index s | search s | total s | recall@10 (2,000 rows) | speed-up |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in &sizes {
        let e = clustered(n, d, (n / 500).max(2), 0.6, 1);
        // The exact graph of 10^6 rows takes a quarter of an hour on two cores: timed up to
        // 200,000 rows only.
        let exact_s = (n <= 200_000).then(|| {
            let start = Instant::now();
            let exact = knn_graph(e.view(), &config, &Silent).unwrap();
            assert!(exact.nnz() > 0);
            start.elapsed().as_secs_f64()
        });
        if let Some(s) = exact_s {
            println!("| {n} | exact | – | – | – | {s:.2} | {s:.2} | 1 | 1.0 |");
        }
        for nprobe in [None, Some(4), Some(16)] {
            let params = IvfParams {
                nprobe,
                recall_sample: 2000.min(n),
                seed: 1,
                ..IvfParams::default()
            };
            let settings = params.resolve(n).unwrap();
            let start = Instant::now();
            let index = IvfIndex::build(e.view(), &settings).unwrap();
            let index_s = start.elapsed().as_secs_f64();
            let lists = ivf_lists(&index, config.neighbors, &Silent);
            let search_s = start.elapsed().as_secs_f64() - index_s;
            let recall = recall_at_m(&index, &lists, 10, settings.recall_sample, 1);
            let start = Instant::now();
            let graph = symmetrize_lists(n, lists, Symmetrize::Max).unwrap();
            let total = index_s + search_s + start.elapsed().as_secs_f64();
            assert!(graph.nnz() > 0);
            println!(
                "| {n} | ivf | {} | {}{} | {index_s:.2} | {search_s:.2} | {total:.2} | {:.4} | {} |",
                settings.nlist,
                settings.nprobe,
                if nprobe.is_none() { " (default)" } else { "" },
                recall.recall,
                exact_s.map_or("–".to_string(), |s| format!("{:.1}", s / total))
            );
        }
    }
}
