//! The `--backend wgpu` path of the real binary: reports carry the device counters, and the GPU
//! gives the CPU's subset. In CI (`CI` set) an adapter must exist (lavapipe); elsewhere without a
//! GPU these tests are reported as ignored, with the reason (the harness of
//! `crates/infoprune-wgpu/tests/support`, shared through `#[path]`).

mod common;
#[macro_use]
#[path = "../crates/infoprune-wgpu/tests/support/mod.rs"]
mod support;

use common::*;
use support::{no_adapter, Outcome, Skipped};

fn main() -> std::process::ExitCode {
    support::run(trials![
        select_reports_gpu_counters_and_null_on_the_cpu,
        tokens_report_carries_gpu_counters_and_the_same_masks,
        graph_report_carries_the_search_and_gpu_counters,
        partitioned_run_on_the_gpu_equals_solving_each_partition_alone,
        ivf_graph_and_select_search_on_the_gpu,
    ])
}

/// Runs the binary with `args`: [`Skipped`] when it found no GPU adapter outside CI (the test
/// then ends, reported as ignored with the reason; in CI it fails), else the output of a
/// successful run.
fn run_or_skip(args: &[&str]) -> Result<std::process::Output, Skipped> {
    let o = infoprune(args);
    let err = stderr(&o);
    if !o.status.success() && err.contains("no GPU adapter") {
        return Err(no_adapter(err.trim()));
    }
    assert!(o.status.success(), "{err}");
    Ok(o)
}

/// Runs `select` on `backend`, returning the report, or [`Skipped`] when no adapter exists
/// outside CI.
fn select_report(fx: &Fixture, e: &str, backend: &str) -> Result<serde_json::Value, Skipped> {
    let (out, report) = (
        fx.s(&format!("keep-{backend}.npy")),
        fx.s(&format!("r-{backend}.json")),
    );
    run_or_skip(&[
        "select",
        "--embeddings",
        e,
        "--keep",
        "0.2",
        "--out",
        &out,
        "--report",
        &report,
        "--backend",
        backend,
        // A fixed number of swap rounds, so the read-backs below have a fixed bound (by default
        // the refinement runs until no swap improves, one read-back per round).
        "--swap-rounds",
        "5",
        "--quiet",
    ])?;
    let text = std::fs::read_to_string(fx.path(&format!("r-{backend}.json"))).unwrap();
    Ok(serde_json::from_str(&text).unwrap())
}

fn select_reports_gpu_counters_and_null_on_the_cpu() -> Outcome {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(2000, 16, 3));
    let cpu = select_report(&fx, &e, "cpu").unwrap();
    assert!(cpu["gpu"].is_null(), "{cpu}");
    let gpu = select_report(&fx, &e, "wgpu")?;
    let counters = &gpu["gpu"];
    for key in [
        "submissions",
        "dispatches",
        "readbacks",
        "bytes_uploaded",
        "bytes_read_back",
    ] {
        assert!(counters[key].as_u64().unwrap() > 0, "{key}: {counters}");
    }
    // One partition: one kNN submission and one solve; the read-backs are the kNN lists, the final
    // state, the rounded set and the swap rounds, however many iterations ran.
    assert!(
        counters["readbacks"].as_u64().unwrap() <= 1 + 2 + 5,
        "{counters}"
    );
    assert!(counters["dispatches"].as_u64().unwrap() > counters["submissions"].as_u64().unwrap());
    // Same subset as the CPU.
    assert_eq!(
        read_keep(&fx.path("keep-wgpu.npy")),
        read_keep(&fx.path("keep-cpu.npy"))
    );
    let (fg, fc) = (
        gpu["objective"].as_f64().unwrap(),
        cpu["objective"].as_f64().unwrap(),
    );
    assert!((fg - fc).abs() <= 1e-4 * fc.abs().max(1.0), "{fg} vs {fc}");
    Ok(())
}

fn tokens_report_carries_gpu_counters_and_the_same_masks() -> Outcome {
    use infoprune::npy::{self, Overwrite};
    use ndarray::{Array2, Array3};
    let fx = Fixture::new();
    let (n, t, d) = (40, 16, 8);
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
    let run = |backend: &str| {
        let (mask, report) = (
            fx.s(&format!("m-{backend}.npy")),
            fx.s(&format!("r-{backend}.json")),
        );
        run_or_skip(&[
            "tokens",
            "--features",
            &fx.s("x.npy"),
            "--saliency",
            &fx.s("a.npy"),
            "--keep",
            "0.25",
            "--out",
            &mask,
            "--report",
            &report,
            "--backend",
            backend,
            "-q",
        ])?;
        let text = std::fs::read_to_string(fx.path(&format!("r-{backend}.json"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mask = std::fs::read(fx.path(&format!("m-{backend}.npy"))).unwrap();
        Ok((json, mask))
    };
    let (cpu, cpu_mask) = run("cpu").unwrap();
    assert!(cpu["gpu"].is_null(), "{cpu}");
    assert_eq!(cpu["n"], n);
    assert_eq!(cpu["tokens"], t);
    assert_eq!(cpu["kept_per_sample"], 4);
    let (gpu, gpu_mask) = run("wgpu")?;
    assert!(gpu["gpu"]["dispatches"].as_u64().unwrap() > 0, "{gpu}");
    assert!(gpu["gpu"]["readbacks"].as_u64().unwrap() > 0, "{gpu}");
    assert_eq!(gpu_mask, cpu_mask);
    Ok(())
}

fn graph_report_carries_the_search_and_gpu_counters() -> Outcome {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(3000, 24, 5));
    let run = |backend: &str| {
        let report = fx.s(&format!("g-{backend}.json"));
        run_or_skip(&[
            "graph",
            "--embeddings",
            &e,
            "--out",
            &fx.s(&format!("k-{backend}.npz")),
            "--report",
            &report,
            "--backend",
            backend,
            "-q",
        ])?;
        let text = std::fs::read_to_string(fx.path(&format!("g-{backend}.json"))).unwrap();
        Ok(serde_json::from_str::<serde_json::Value>(&text).unwrap())
    };
    let cpu = run("cpu").unwrap();
    assert_eq!(cpu["n"], 3000);
    assert_eq!(cpu["knn"], "exact");
    assert!(cpu["nlist"].is_null() && cpu["gpu"].is_null(), "{cpu}");
    let gpu = run("wgpu")?;
    // 3,000 rows are one query slice: one submission and one wait for the lists.
    assert_eq!(gpu["gpu"]["submissions"], 1, "{gpu}");
    assert_eq!(gpu["gpu"]["readbacks"], 1, "{gpu}");
    let (a, b) = (gpu["nnz"].as_u64().unwrap(), cpu["nnz"].as_u64().unwrap());
    assert!(a.abs_diff(b) * 100 <= b, "nnz {a} vs {b}");
    Ok(())
}

/// The pipeline's partitioned run on the GPU backend: the same as each partition solved alone on
/// it (the CPU half of this check is in `tests/pipeline.rs`).
fn partitioned_run_on_the_gpu_equals_solving_each_partition_alone() -> Outcome {
    let gpu = infoprune_wgpu::GpuBackend::new(&infoprune_wgpu::AdapterChoice::any())
        .map_err(no_adapter)?;
    assert_partitioned_run_equals_each_partition_alone(std::sync::Arc::new(gpu));
    Ok(())
}

/// `--knn ivf` on the GPU backend: the CPU builds the index, the device searches it (one
/// submission per slice of 65,536 query rows), and the graph and the subset are the CPU's up to
/// near-ties.
fn ivf_graph_and_select_search_on_the_gpu() -> Outcome {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(20_000, 32, 11));
    let ivf = ["--knn", "ivf", "--nlist", "64", "--nprobe", "4", "-q"];
    let graph = |backend: &str| {
        let report = fx.s(&format!("g-{backend}.json"));
        let out = fx.s(&format!("k-{backend}.npz"));
        let mut args = vec![
            "graph",
            "--embeddings",
            &e,
            "--out",
            &out,
            "--report",
            &report,
        ];
        args.extend(["--backend", backend]);
        args.extend(ivf);
        run_or_skip(&args)?;
        let text = std::fs::read_to_string(fx.path(&format!("g-{backend}.json"))).unwrap();
        Ok(serde_json::from_str::<serde_json::Value>(&text).unwrap())
    };
    let cpu = graph("cpu").unwrap();
    let gpu = graph("wgpu")?;
    assert_eq!(gpu["knn"], "ivf", "{gpu}");
    assert_eq!(gpu["nlist"], 64, "{gpu}");
    // The search ran on the device: one slice, one submission, one wait for its lists.
    assert_eq!(gpu["gpu"]["submissions"], 1, "{gpu}");
    assert_eq!(gpu["gpu"]["readbacks"], 1, "{gpu}");
    let (a, b) = (gpu["nnz"].as_u64().unwrap(), cpu["nnz"].as_u64().unwrap());
    assert!(a.abs_diff(b) * 100 <= b, "nnz {a} vs {b}");

    let select = |backend: &str| {
        let out = fx.s(&format!("keep-{backend}.npy"));
        let report = fx.s(&format!("s-{backend}.json"));
        let mut args = vec!["select", "--embeddings", &e, "--keep", "0.1", "--out", &out];
        args.extend(["--report", &report, "--backend", backend]);
        args.extend(ivf);
        run_or_skip(&args)?;
        let text = std::fs::read_to_string(fx.path(&format!("s-{backend}.json"))).unwrap();
        Ok(serde_json::from_str::<serde_json::Value>(&text).unwrap())
    };
    let cpu = select("cpu").unwrap();
    let gpu = select("wgpu")?;
    let (fg, fc) = (
        gpu["objective"].as_f64().unwrap(),
        cpu["objective"].as_f64().unwrap(),
    );
    assert!((fg - fc).abs() <= 1e-3 * fc.abs().max(1.0), "{fg} vs {fc}");
    assert_eq!(read_keep(&fx.path("keep-wgpu.npy")).len(), 2_000);
    Ok(())
}
