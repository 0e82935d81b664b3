//! `f(S)` and seconds of the InfoMax solver variants against lazy greedy (issue 14, part 2), printed
//! as a Markdown table. Run with `cargo bench -p infoprune --bench solver_quality`.
//!
//! Instances: the `infoprune demo` data (SPEC-default importance and `α` on its exact kNN graph) at
//! the sizes in `INFOPRUNE_QUALITY_SIZES` (default `10000,30000`), keeping 10/30/50/70/90%; the
//! conformance suite's random and clustered problems; and the random problems `benches/solvers.rs`
//! times, up to `INFOPRUNE_BENCH_MAX_N` (default 10^5).
//!
//! Variants: PG with SPEC's former 5 swap rounds; PG with the refinement run to a 1-swap optimum
//! (`ls`); PG whose step grows ×1.5 after each accepted step (`growth`), to a 1-swap optimum;
//! lazy greedy; greedy + the same refinement (the quality reference); and the default (PG + `ls`,
//! keeping the better of it and greedy + `ls`).

use infoprune::demo;
use infoprune_core::backend::conformance::{clustered_problem, random_problem};
use infoprune_core::knn::{knn_graph, KnnConfig};
use infoprune_core::objective::objective;
use infoprune_core::progress::Silent;
use infoprune_core::select::{SelectConfig, Selector};
use infoprune_core::solver::swap::swap_refinement;
use infoprune_core::solver::{
    greedy, Algorithm, Problem, SolverConfig, SolverParams, DEFAULT_SWAP_ROUNDS,
};
use std::time::Instant;

struct Owned {
    name: String,
    scores: Vec<f32>,
    graph: infoprune_core::csr::CsrSimilarity,
    k: usize,
    alpha: f64,
}

fn variants() -> Vec<(&'static str, SolverConfig)> {
    let pg = |rounds: usize, growth: f64, greedy_candidate: bool| {
        SolverParams {
            swap_rounds: rounds,
            step_growth: growth,
            greedy_candidate,
            ..SolverParams::new(Algorithm::ProjectedGradient)
        }
        .check()
        .expect("valid parameters")
    };
    vec![
        ("pg+5", pg(5, 1.0, false)),
        ("pg+ls", pg(DEFAULT_SWAP_ROUNDS, 1.0, false)),
        ("growth+ls", pg(DEFAULT_SWAP_ROUNDS, 1.5, false)),
        ("mirror+ls", {
            SolverParams {
                greedy_candidate: false,
                ..SolverParams::new(Algorithm::Mirror)
            }
            .check()
            .expect("valid parameters")
        }),
        (
            "greedy",
            SolverParams::new(Algorithm::LazyGreedy).check().unwrap(),
        ),
        ("default", SolverConfig::default()),
    ]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

fn demo_instances(sizes: &[usize]) -> Vec<Owned> {
    let mut out = Vec::new();
    for &n in sizes {
        let data = demo::generate(n, 32, 30, 0);
        let (graph, secs) =
            timed(|| knn_graph(data.embeddings.view(), &KnnConfig::default(), &Silent).unwrap());
        eprintln!("demo n = {n}: graph in {secs:.1} s");
        for keep in [0.1, 0.3, 0.5, 0.7, 0.9] {
            let k = ((keep * n as f64).round() as usize).max(1);
            let selector = Selector::new(SelectConfig::new(k)).unwrap();
            let prepared = selector
                .prepare_with_graph(graph.clone(), Some(&data.scores), None)
                .unwrap();
            out.push(Owned {
                name: format!("demo {n} keep {:.0}%", keep * 100.0),
                scores: prepared.importance,
                graph: prepared.graph,
                k,
                alpha: prepared.alpha,
            });
        }
    }
    out
}

fn problem_instances(max_n: usize) -> Vec<Owned> {
    let mut out = Vec::new();
    let owned = |name: String, p: infoprune_core::backend::OwnedProblem| {
        let q = p.as_problem();
        Owned {
            name,
            scores: q.scores().to_vec(),
            graph: q.similarity().clone(),
            k: q.k(),
            alpha: q.alpha(),
        }
    };
    for (n, seed) in [(2000usize, 1u64), (20_000, 2)] {
        for keep in [0.1, 0.5, 0.9] {
            let k = (keep * n as f64) as usize;
            out.push(owned(
                format!("random {n} keep {:.0}%", keep * 100.0),
                random_problem(n, k, seed),
            ));
            out.push(owned(
                format!("clustered {n} keep {:.0}%", keep * 100.0),
                clustered_problem(n, k, seed),
            ));
        }
    }
    for n in [10_000usize, 100_000, 1_000_000] {
        if n <= max_n {
            out.push(owned(
                format!("bench random {n} keep 10%"),
                random_problem(n, n / 10, 7),
            ));
        }
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; this binary takes no arguments of its own.
    let sizes: Vec<usize> = std::env::var("INFOPRUNE_QUALITY_SIZES")
        .unwrap_or_else(|_| "10000,30000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let max_n: usize = std::env::var("INFOPRUNE_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut instances = demo_instances(&sizes);
    instances.extend(problem_instances(max_n));
    let variants = variants();
    let mut header = String::from("| instance |");
    for (name, _) in &variants {
        header.push_str(&format!(" {name} f | s |"));
    }
    header.push_str(" greedy+ls f | s | default/greedy |");
    println!("{header}");
    println!("|{}", "---|".repeat(1 + 2 * variants.len() + 3));
    for inst in &instances {
        let p = Problem::new(&inst.scores, &inst.graph, inst.k, inst.alpha).unwrap();
        let mut row = format!("| {} |", inst.name);
        let mut greedy_f = f64::NAN;
        let mut default_f = f64::NAN;
        for (name, config) in &variants {
            let (r, secs) = timed(|| config.solve(&p, &Silent));
            row.push_str(&format!(" {:.3} | {secs:.2} |", r.objective));
            match *name {
                "greedy" => greedy_f = r.objective,
                "default" => default_f = r.objective,
                _ => {}
            }
        }
        let ((f, _), secs) = timed(|| {
            let mut set = greedy::lazy_greedy(&p, &Silent);
            set.sort_unstable();
            let stats = swap_refinement(&p, &mut set, DEFAULT_SWAP_ROUNDS, &Silent);
            (objective(&p, &set).unwrap(), stats)
        });
        row.push_str(&format!(
            " {f:.3} | {secs:.2} | {:+.3}% |",
            100.0 * (default_f - greedy_f) / greedy_f.abs()
        ));
        println!("{row}");
    }
}
