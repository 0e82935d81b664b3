//! The pipeline as data: the subsets are those of the pipeline before it was cut into plan →
//! parts → merge (hashes recorded on the earlier code), a plan survives JSON, and parts solved
//! alone from a re-read plan merge into exactly what `Pruner::run` gives.

use infoprune::demo;
use infoprune::merge::merge;
use infoprune::partition::{PartitionConfig, PartitionMethod};
use infoprune::parts::PartOutcome;
use infoprune::pipeline::{
    Dataset, Embeddings, Layout, Pruned, Pruner, PrunerConfig, SampleInputs,
};
use infoprune::plan::Plan;
use infoprune::report::Report;
use infoprune_core::importance::NoiseCutoff;
use infoprune_core::ivf::{IvfParams, KnnSearch};
use infoprune_core::progress::Silent;
use infoprune_core::select::SelectConfig;
use infoprune_core::solver::Method;

/// FNV-1a over the kept indices as little-endian u64: a fingerprint of the subset.
fn subset_hash(indices: &[usize]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &i in indices {
        for b in (i as u64).to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The 20,000-row data of the multi-partition cases: demo clusters, labels, and a noise signal.
struct Data {
    demo: demo::DemoData,
    noise: Vec<f32>,
}

fn data() -> Data {
    let demo = demo::generate(20_000, 16, 40, 3);
    let noise = (0..20_000)
        .map(|i| ((i as u64 * 2_654_435_761) % 10_007) as f32 / 10_007.0)
        .collect();
    Data { demo, noise }
}

/// The layouts the regression and the part-by-part runs cover, each with several problems.
fn cases() -> Vec<(&'static str, PrunerConfig, bool)> {
    let parts = |method| PartitionConfig {
        method,
        max_size: 5_000,
        seed: 7,
        ..PartitionConfig::default()
    };
    let k = 2_000;
    let with = |select: SelectConfig, partition: PartitionConfig| PrunerConfig {
        select,
        partition,
        class_quota: false,
        quota_classes: Vec::new(),
    };
    let ivf = SelectConfig {
        search: KnnSearch::Ivf(IvfParams::default()),
        ..SelectConfig::new(k)
    };
    vec![
        (
            "random",
            with(SelectConfig::new(k), parts(PartitionMethod::Random)),
            false,
        ),
        (
            "random+noise",
            // The cutoff the subset was recorded with (the default before it followed the signal).
            with(
                SelectConfig::new(k).noise_cutoff(NoiseCutoff::Schedule),
                parts(PartitionMethod::Random),
            ),
            true,
        ),
        (
            "kmeans",
            with(SelectConfig::new(k), parts(PartitionMethod::KMeans)),
            false,
        ),
        (
            "ivf-lists",
            with(
                ivf.clone(),
                PartitionConfig {
                    global: true,
                    memory_budget: Some(0),
                    ..parts(PartitionMethod::Random)
                },
            ),
            false,
        ),
        (
            "ivf-lists+class-quota",
            PrunerConfig {
                class_quota: true,
                ..with(
                    ivf,
                    PartitionConfig {
                        global: true,
                        memory_budget: Some(0),
                        ..parts(PartitionMethod::Random)
                    },
                )
            },
            false,
        ),
        (
            "class-quota",
            PrunerConfig {
                class_quota: true,
                ..with(SelectConfig::new(k), parts(PartitionMethod::Class))
            },
            false,
        ),
        (
            "semdedup",
            with(
                SelectConfig::new(k).method(Method::SemDedup),
                parts(PartitionMethod::Random),
            ),
            false,
        ),
        (
            "greedy",
            with(
                SelectConfig::new(k).method(Method::Greedy),
                parts(PartitionMethod::Random),
            ),
            false,
        ),
    ]
}

fn inputs<'a>(data: &'a Data, noise: bool) -> SampleInputs<'a> {
    SampleInputs {
        scores: Some(&data.demo.scores),
        labels: Some(&data.demo.labels),
        noise: noise.then_some(&data.noise[..]),
        aum: None,
    }
}

fn run(config: &PrunerConfig, data: &Data, noise: bool) -> Pruned {
    Pruner::new(config.clone())
        .run(
            Embeddings::View(data.demo.embeddings.view()),
            inputs(data, noise),
            &Silent,
        )
        .unwrap()
}

/// `subset_hash` of every case's subset, recorded by this test's body run on the pipeline before
/// it became plan → parts → merge (commit 54966f3); the demo and the random case also match
/// `infoprune select` of that commit's binary on the same data written as `.npy`.
const BEFORE: [(&str, u64); 9] = [
    ("demo", 0x9c01_9a29_9613_c83e),
    ("random", 0xe10a_7a25_c0a0_e6e7),
    ("random+noise", 0xf0b0_68cf_830b_f035),
    ("kmeans", 0x7430_3a47_1cbc_2a04),
    ("ivf-lists", 0x019b_de7a_0458_bd0f),
    ("ivf-lists+class-quota", 0x6a0d_d24a_b8df_c10e),
    ("class-quota", 0xc9c8_de55_1c94_ee34),
    ("semdedup", 0xab02_9995_cbf5_e23d),
    ("greedy", 0x8a0e_4b31_e057_e435),
];

fn before(name: &str) -> u64 {
    BEFORE.iter().find(|(n, _)| *n == name).expect("recorded").1
}

#[test]
fn subsets_are_those_of_the_pipeline_before_the_plan() {
    // The demo's data through `select`'s defaults (one problem, exact graph).
    let demo = demo::generate(20_000, 32, 30, 0);
    let config = PrunerConfig {
        partition: PartitionConfig {
            global: true,
            ..PartitionConfig::default()
        },
        ..PrunerConfig::new(2_000)
    };
    let pruned = Pruner::new(config)
        .run(
            Embeddings::View(demo.embeddings.view()),
            SampleInputs {
                scores: Some(&demo.scores),
                ..SampleInputs::default()
            },
            &Silent,
        )
        .unwrap();
    assert_eq!(pruned.partitions.len(), 1);
    assert_eq!(subset_hash(&pruned.indices), before("demo"));

    let data = data();
    for (name, config, noise) in cases() {
        let pruned = run(&config, &data, noise);
        assert!(pruned.partitions.len() >= 4, "{name}");
        assert_eq!(pruned.indices.len(), 2_000, "{name}");
        assert_eq!(subset_hash(&pruned.indices), before(name), "{name}");
    }
}

/// Everything `run` reports but the timings, and the JSON report without its seconds.
fn assert_same(name: &str, a: &Pruned, b: &Pruned, config: &PrunerConfig, n: usize) {
    assert_eq!(a.indices, b.indices, "{name}");
    assert_eq!(a.partitions, b.partitions, "{name}");
    assert_eq!(a.objective.to_bits(), b.objective.to_bits(), "{name}");
    assert_eq!(a.dropped_noisy, b.dropped_noisy, "{name}");
    assert_eq!(a.batches, b.batches, "{name}");
    assert_eq!(a.layout, b.layout, "{name}");
    assert_eq!(a.search, b.search, "{name}");
    assert_eq!(a.cut_edges, b.cut_edges, "{name}");
    let report = |p: &Pruned| {
        let mut r = Report::new(p, config, n, &[]);
        r.seconds.clear();
        r.total_seconds = 0.0;
        r.to_json()
    };
    assert_eq!(report(a), report(b), "{name}");
}

#[test]
fn parts_solved_alone_from_a_json_plan_merge_into_the_run() {
    let data = data();
    for (name, config, noise) in cases() {
        let dataset = Dataset::new(
            Embeddings::View(data.demo.embeddings.view()),
            inputs(&data, noise),
        );
        let plan = Pruner::new(config.clone()).plan(&dataset).unwrap();
        let json = plan.to_json();
        assert_eq!(Plan::from_json(&json).unwrap(), plan, "{name}");
        // Rows are one byte each before compression here, plus a line per problem.
        assert!(
            json.len() < 20_000 + 200 * plan.problems.len() + 4_096,
            "{name}: {} bytes",
            json.len()
        );
        let run = run(&config, &data, noise);
        assert_eq!(plan.problems.len(), run.partitions.len(), "{name}");
        assert_eq!(plan.layout, run.layout, "{name}");

        // Each part by its own worker, from the JSON, in reverse order; outcomes through JSON.
        let outcomes: Vec<PartOutcome> = plan
            .parts()
            .into_iter()
            .rev()
            .map(|p| {
                let worker = Pruner::new(config.clone());
                let plan = Plan::from_json(&json).unwrap();
                let outcome = worker.run_part(&dataset, &plan, p).unwrap();
                let back = PartOutcome::from_json(&outcome.to_json()).unwrap();
                assert_eq!(back, outcome, "{name}: part {p} through JSON");
                back
            })
            .collect();
        let merged = merge(&plan, &outcomes).unwrap();
        assert_same(name, &merged, &run, &config, 20_000);
        assert_eq!(subset_hash(&merged.indices), before(name), "{name}");

        // Two workers, each with half of the parts solved together.
        let parts = plan.parts();
        let (even, odd): (Vec<usize>, Vec<usize>) = parts.iter().partition(|&&p| p % 2 == 0);
        let worker = Pruner::new(config.clone());
        let mut halves = worker.run_parts(&dataset, &plan, &odd, &Silent).unwrap();
        halves.extend(worker.run_parts(&dataset, &plan, &even, &Silent).unwrap());
        assert_same(name, &merge(&plan, &halves).unwrap(), &run, &config, 20_000);
    }
}

#[test]
fn the_summary_says_layout_problems_budgets_and_memory() {
    let data = data();
    let dataset = Dataset::new(
        Embeddings::View(data.demo.embeddings.view()),
        inputs(&data, false),
    );
    for (name, config, _) in cases() {
        let plan = Pruner::new(config.clone()).plan(&dataset).unwrap();
        let text = plan.to_string();
        println!("{name}:\n{text}\n");
        let mut sizes: Vec<usize> = plan.problems.iter().map(|p| p.size).collect();
        sizes.sort_unstable();
        let expected = [
            format!("layout: {}", plan.layout.name()),
            format!(
                "problems: {} in {} batch(es)",
                sizes.len(),
                plan.batches.len()
            ),
            format!(
                "sizes min {}, median {}, max {}",
                sizes[0],
                sizes[(sizes.len() - 1) / 2],
                sizes[sizes.len() - 1]
            ),
            "sum 2000 = k".to_string(),
            "memory: estimated peak".to_string(),
            match config.partition.memory_budget {
                Some(_) => "over the memory budget".to_string(),
                None => "no memory budget".to_string(),
            },
        ];
        for needle in expected {
            assert!(text.contains(&needle), "{name}: '{needle}' not in\n{text}");
        }
        assert!(
            plan.memory.peak >= plan.memory.input + plan.memory.graph,
            "{name}"
        );
        if plan.layout == Layout::IvfLists && !config.class_quota {
            assert!(text.contains("global IVF lists restricted"), "{text}");
        }
    }
}

#[test]
fn parts_and_merges_that_do_not_fit_the_plan_are_refused() {
    let data = data();
    let (_, config, _) = cases().swap_remove(3);
    assert_eq!(
        config.partition.memory_budget,
        Some(0),
        "the ivf-lists case"
    );
    let dataset = Dataset::new(
        Embeddings::View(data.demo.embeddings.view()),
        inputs(&data, false),
    );
    let pruner = Pruner::new(config.clone());
    let plan = pruner.plan(&dataset).unwrap();
    let refused = |result: Result<PartOutcome, infoprune::Error>, needle: &str| {
        let err = result.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(needle), "{err}");
    };
    refused(
        pruner.run_part(&dataset, &plan, plan.problems.len()),
        "part",
    );
    let other = Pruner::new(PrunerConfig {
        select: SelectConfig {
            seed: 1,
            ..config.select.clone()
        },
        ..config.clone()
    });
    refused(other.run_part(&dataset, &plan, 0), "another configuration");
    let fewer = data.demo.embeddings.slice(ndarray::s![..19_999, ..]);
    let short = Dataset::new(Embeddings::View(fewer), SampleInputs::default());
    refused(pruner.run_part(&short, &plan, 0), "20000 × 16");
    let unscored = Dataset {
        inputs: SampleInputs {
            scores: None,
            ..dataset.inputs
        },
        ..dataset
    };
    refused(
        pruner.run_part(&unscored, &plan, 0),
        "made with scores, labels, given labels",
    );
    // Same shape, other embeddings: the IVF groups rebuilt from them are not the plan's.
    let shuffled = demo::generate(20_000, 16, 40, 4);
    let other_data = Dataset {
        embeddings: Embeddings::View(shuffled.embeddings.view()),
        ..dataset
    };
    refused(
        pruner.run_part(&other_data, &plan, 0),
        "not the plan's problems",
    );
    // A plan whose budget was edited no longer adds up.
    let mut edited = plan.clone();
    edited.problems[0].k += 1;
    refused(pruner.run_part(&dataset, &edited, 0), "budgets sum");
    assert!(Plan::from_json(&edited.to_json()).is_err());
    assert!(Plan::from_json("{")
        .unwrap_err()
        .to_string()
        .contains("not a plan"));

    let outcomes: Vec<PartOutcome> = plan
        .parts()
        .iter()
        .map(|&p| pruner.run_part(&dataset, &plan, p).unwrap())
        .collect();
    let merge_fails = |parts: &[PartOutcome], needle: &str| {
        let err = merge(&plan, parts).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    };
    merge_fails(&outcomes[1..], "has no outcome");
    let mut twice = outcomes.clone();
    twice.push(outcomes[0].clone());
    merge_fails(&twice, "given twice");
    let mut moved = outcomes.clone();
    moved[0].indices[0] = outcomes[1].indices[0];
    moved[0].indices.sort_unstable();
    merge_fails(&moved, "not of this plan's problem");
    assert_eq!(merge(&plan, &outcomes).unwrap().indices.len(), 2_000);
}

#[test]
fn a_ten_million_row_plan_is_a_few_megabytes_of_json() {
    let n = 10_000_000;
    let e = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| (i % 977) as f32 + 1.0);
    let config = PrunerConfig {
        select: SelectConfig::new(n / 10),
        partition: PartitionConfig {
            max_size: 50_000,
            ..PartitionConfig::default()
        },
        class_quota: false,
        quota_classes: Vec::new(),
    };
    let dataset = Dataset::new(Embeddings::View(e.view()), SampleInputs::default());
    let plan = Pruner::new(config).plan(&dataset).unwrap();
    assert_eq!(plan.problems.len(), 200);
    assert_eq!(plan.problems.iter().map(|p| p.k).sum::<usize>(), n / 10);
    let json = plan.to_json();
    // About one byte a row for 200 random problems (7.6 bits of entropy), in base64.
    assert!(json.len() < 14_000_000, "{} bytes", json.len());
    println!("10^7 rows, 200 problems: {} bytes of JSON", json.len());
    assert_eq!(Plan::from_json(&json).unwrap(), plan);
}

#[test]
fn parts_alone_on_the_wgpu_backend_merge_into_its_run() {
    // Problems that converged stop changing on the device, so a part solved in a batch of one
    // is the part solved in the plan's batch.
    let gpu: std::sync::Arc<dyn infoprune_core::backend::Backend> =
        match infoprune_wgpu::GpuBackend::new(&infoprune_wgpu::AdapterChoice::any()) {
            Ok(gpu) => std::sync::Arc::new(gpu),
            Err(e) if std::env::var("CI").is_err() => return println!("wgpu skipped: {e}"),
            Err(e) => panic!("CI must have a GPU adapter (lavapipe): {e}"),
        };
    // 8,000 rows in problems of at most 2,000: lavapipe runs the kernels on the CPU.
    let demo = demo::generate(8_000, 16, 40, 3);
    let dataset = Dataset::new(
        Embeddings::View(demo.embeddings.view()),
        SampleInputs {
            scores: Some(&demo.scores),
            ..SampleInputs::default()
        },
    );
    for (name, mut config, _) in cases()
        .into_iter()
        .filter(|c| c.0 == "random" || c.0 == "ivf-lists")
    {
        config.select.k = 800;
        config.partition.max_size = 2_000;
        let pruner = Pruner::new(config.clone()).backend(gpu.clone());
        let run = pruner
            .run(dataset.embeddings, dataset.inputs, &Silent)
            .unwrap();
        let plan = Plan::from_json(&pruner.plan(&dataset).unwrap().to_json()).unwrap();
        assert!(plan.batches.iter().any(|b| b.len() > 1), "{name}");
        let outcomes: Vec<PartOutcome> = plan
            .parts()
            .iter()
            .map(|&p| pruner.run_part(&dataset, &plan, p).unwrap())
            .collect();
        assert_same(
            name,
            &merge(&plan, &outcomes).unwrap(),
            &run,
            &config,
            8_000,
        );
    }
}
