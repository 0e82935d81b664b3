//! The `--backend wgpu` path of the real binary: reports carry the device counters, and the GPU
//! gives the CPU's subset. In CI (`CI` set) an adapter must exist (lavapipe); elsewhere without a
//! GPU these tests return early with a printed reason.

mod common;

use common::*;

/// Runs `select` on `backend`, returning the report, or `None` when no adapter exists outside CI.
fn select_report(fx: &Fixture, e: &str, backend: &str) -> Option<serde_json::Value> {
    let (out, report) = (
        fx.s(&format!("keep-{backend}.npy")),
        fx.s(&format!("r-{backend}.json")),
    );
    let o = infoprune(&[
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
    ]);
    let err = stderr(&o);
    if !o.status.success() && err.contains("no GPU adapter") && std::env::var("CI").is_err() {
        println!("skipped: {err}");
        return None;
    }
    assert!(o.status.success(), "{err}");
    let text = std::fs::read_to_string(fx.path(&format!("r-{backend}.json"))).unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

#[test]
fn select_reports_gpu_counters_and_null_on_the_cpu() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(2000, 16, 3));
    let cpu = select_report(&fx, &e, "cpu").unwrap();
    assert!(cpu["gpu"].is_null(), "{cpu}");
    let Some(gpu) = select_report(&fx, &e, "wgpu") else {
        return;
    };
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
}
