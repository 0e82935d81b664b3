//! One million synthetic clustered samples (d = 64), keep 10%: the whole pipeline with time and peak
//! memory per stage. `cargo run --release -p infoprune --example million [-- N [PARTITION_SIZE]]`.

use infoprune::backend_choice::{open_backend, BackendArg};
use infoprune::demo;
use infoprune::npy::{self, Overwrite};
use infoprune::partition::PartitionConfig;
use infoprune::pipeline::{Embeddings, Pruner, PrunerConfig, SampleInputs};
use infoprune_core::progress::Silent;
use std::time::Instant;

/// Peak resident memory so far (Linux `VmHWM`), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let partition_size = args.get(1).copied().unwrap_or(50_000);
    let d = 64;
    println!("n = {n}, d = {d}, keep 10%, partitions of ≤ {partition_size}, m = 10");
    println!("| stage | seconds | peak MiB |\n| --- | ---: | ---: |");

    let start = Instant::now();
    let data = demo::generate(n, d, 200, 0);
    println!(
        "| generate data | {:.2} | {:.0} |",
        start.elapsed().as_secs_f64(),
        peak_mib()
    );

    let backend = open_backend(BackendArg::Auto, false)?;
    let config = PrunerConfig {
        partition: PartitionConfig {
            max_size: partition_size,
            ..PartitionConfig::default()
        },
        ..PrunerConfig::new(n / 10)
    };
    let pruned = Pruner::new(config).backend(backend.clone()).run(
        Embeddings::View(data.embeddings.view()),
        SampleInputs {
            scores: Some(&data.scores),
            ..SampleInputs::default()
        },
        &Silent,
    )?;
    for (stage, seconds) in pruned.timings.phases() {
        println!("| {stage} | {seconds:.2} | |");
    }
    println!("| (pipeline peak) | | {:.0} |", peak_mib());

    let start = Instant::now();
    let dir = std::env::temp_dir().join(format!("infoprune-million-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kept: Vec<i64> = pruned.indices.iter().map(|&i| i as i64).collect();
    npy::write_i64_vector(&dir.join("keep.npy"), &kept, Overwrite::Allow)?;
    std::fs::remove_dir_all(&dir)?;
    println!(
        "| write | {:.2} | {:.0} |",
        start.elapsed().as_secs_f64(),
        peak_mib()
    );
    println!(
        "\nbackend {}: kept {} in {} partitions ({} batches), f(S) = {:.3}, {} duplicate pairs kept",
        backend.name(),
        pruned.indices.len(),
        pruned.partitions.len(),
        pruned.batches,
        pruned.objective,
        data.duplicates_kept(&pruned.indices)
    );
    Ok(())
}
