//! The GPU kNN graph against the CPU reference. In CI (`CI` set) an adapter must exist (lavapipe);
//! elsewhere without a GPU these tests are reported as ignored, with the reason (see `support`).

#[macro_use]
mod support;

use infoprune_core::backend::{Backend, CpuBackend};
use infoprune_core::ivf::{ivf_lists, IvfIndex, IvfSettings};
use infoprune_core::knn::{knn_graph, knn_lists, KnnConfig, Symmetrize};
use infoprune_core::progress::Silent;
use infoprune_core::{CoreError, CsrSimilarity};
use infoprune_wgpu::ivf::ivf_lists_gpu;
use infoprune_wgpu::knn::{knn_graph_gpu, knn_lists_gpu, MAX_GPU_NEIGHBORS};
use infoprune_wgpu::{AdapterChoice, GpuContext};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::{no_adapter, Outcome, Skipped};

fn main() -> std::process::ExitCode {
    support::run(trials![
        matches_cpu_on_random_data,
        duplicates_get_exactly_one_and_ties_go_to_the_smaller_index,
        zero_rows_have_no_neighbours,
        runs_are_bit_identical_and_slicing_changes_nothing,
        embeddings_larger_than_a_binding_are_a_clear_error,
        large_m_falls_back_to_the_cpu_and_small_cases_are_exact,
        invalid_inputs_are_the_cpu_errors,
        clip_sized_embeddings_past_the_old_failure,
        ties_carry_across_candidate_blocks,
        submissions_follow_slices_not_work,
        ivf_search_matches_the_cpu_at_twenty_thousand_rows,
        ivf_ties_rank_by_the_original_row_across_lists,
    ])
}

fn context() -> Result<GpuContext, Skipped> {
    GpuContext::new(&AdapterChoice::any()).map_err(no_adapter)
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0f32..1.0))
}

/// Exactly the criterion of `infoprune_core::backend::conformance::knn_graph_matches_cpu`: rows
/// with the same columns agree within 1e-5, and at most one row in 50 (of `max(n, 50)`) may have
/// different columns (a near-tie swapped at the boundary). Returns the number of differing rows.
fn assert_graph_matches(got: &CsrSimilarity, want: &CsrSimilarity, what: &str) -> usize {
    let n = want.n();
    assert_eq!(got.n(), n, "{what}");
    assert!(got.is_symmetric(), "{what}: not symmetric");
    let mut differing = 0usize;
    for i in 0..n {
        if got.row(i).0 != want.row(i).0 {
            differing += 1;
            continue;
        }
        for (a, b) in got.row(i).1.iter().zip(want.row(i).1) {
            assert!((a - b).abs() <= 1e-5, "{what}, row {i}: {a} vs {b}");
        }
    }
    assert!(
        differing * 50 <= n.max(50),
        "{what}: {differing} of {n} rows differ"
    );
    differing
}

/// The exact (f64) cosine of rows `i` and `j`, 0 when either is zero.
fn cosine(e: &Array2<f32>, i: usize, j: usize) -> f64 {
    let (a, b) = (e.row(i), e.row(j));
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Row lists against the CPU's: identical where the CPU's list has no near-tie at its boundary;
/// where they differ, every GPU entry is a true neighbour (its exact cosine matches its value and
/// reaches the CPU's m-th similarity up to 1e-5). Returns the number of differing rows.
fn assert_lists_match(e: &Array2<f32>, got: &[Vec<(u32, f32)>], want: &[Vec<(u32, f32)>]) -> usize {
    assert_eq!(got.len(), want.len());
    let tol = 1e-5;
    let tol64 = 1e-5f64;
    let mut differing = 0;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same_cols = g.iter().map(|x| x.0).eq(w.iter().map(|x| x.0));
        if same_cols {
            for (a, b) in g.iter().zip(w) {
                assert!((a.1 - b.1).abs() <= tol, "row {i}: {a:?} vs {b:?}");
            }
            continue;
        }
        differing += 1;
        let mth = w.last().map_or(0.0, |x| x.1 as f64);
        for &(j, v) in g {
            let exact = cosine(e, i, j as usize).min(1.0);
            assert!(
                (exact - v as f64).abs() <= tol64,
                "row {i}, col {j}: {v} vs {exact}"
            );
            assert!(
                exact >= mth - tol64,
                "row {i}: {j} ({exact}) below m-th ({mth})"
            );
        }
        // A length difference only from a similarity within tol of zero being clipped.
        if g.len() != w.len() {
            let boundary = g.iter().chain(w).map(|x| x.1).fold(1.0f32, f32::min);
            assert!(
                boundary <= tol,
                "row {i}: lengths {} vs {}",
                g.len(),
                w.len()
            );
        }
    }
    differing
}

fn matches_cpu_on_random_data() -> Outcome {
    let ctx = context()?;
    println!("adapter: {}", ctx.describe());
    // The first four are the conformance suite's cases, same seed and order.
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    for (n, d, m) in [
        (1usize, 4usize, 10usize),
        (50, 3, 5),
        (700, 24, 10),
        (300, 8, 32),
        (1000, 70, 10), // d not a multiple of the 32-float chunk
        (130, 33, 7),   // n not a multiple of the 64-row workgroup, d one past a chunk
        (64, 32, 3),    // exact multiples
        (65, 1, 4),     // d = 1: every similarity is ±1, so ranking is all ties
        (17, 3, 1000),  // m ≥ n: everything positive is kept
        (2, 5, 1),
    ] {
        let e = uniform(&mut rng, n, d);
        let what = format!("n = {n}, d = {d}, m = {m}");
        for mode in [Symmetrize::Max, Symmetrize::Mean] {
            let config = KnnConfig::new(m).symmetrize(mode);
            let got = knn_graph_gpu(&ctx, e.view(), &config).expect("gpu knn runs");
            let want = knn_graph(e.view(), &config, &Silent).unwrap();
            let differing = assert_graph_matches(&got, &want, &what);
            if differing > 0 {
                println!("{what}, {mode:?}: {differing} graph rows differ (near-ties)");
            }
        }
        let got = knn_lists_gpu(&ctx, e.view(), m).unwrap();
        let want = knn_lists(e.view(), m, &Silent).unwrap();
        let differing = assert_lists_match(&e, &got, &want);
        println!("{what}: {differing} of {n} row lists differ (boundary near-ties)");
        assert!(
            differing * 50 <= n.max(50),
            "{what}: {differing} lists differ"
        );
        if d == 1 {
            // All ties: must be resolved exactly like the CPU.
            assert_eq!(got, want, "{what}");
        }
    }
    ctx.take_error().unwrap();
    Ok(())
}

fn duplicates_get_exactly_one_and_ties_go_to_the_smaller_index() -> Outcome {
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // Integer data as in the core's tie test, 150 rows so duplicates span several workgroups and
    // candidate tiles.
    let mut e = Array2::from_shape_fn((150, 6), |_| rng.random_range(-5i32..=5) as f32);
    let row0 = e.row(0).to_owned();
    for r in [5, 9, 70, 140] {
        e.row_mut(r).assign(&row0);
    }
    // Scaled copies are duplicates too (cosine 1 after normalisation rounding and snapping).
    let scaled = e.row(12).mapv(|x| x * 3.7);
    e.row_mut(100).assign(&scaled);
    e.row_mut(33).assign(&scaled);
    for m in [1, 2, 4, 8] {
        let got = knn_lists_gpu(&ctx, e.view(), m).unwrap();
        let want = knn_lists(e.view(), m, &Silent).unwrap();
        let dups = [0u32, 5, 9, 70, 140];
        for &i in &dups {
            let expect: Vec<(u32, f32)> = dups
                .iter()
                .filter(|&&j| j != i)
                .take(m)
                .map(|&j| (j, 1.0))
                .collect();
            assert_eq!(
                got[i as usize][..expect.len()],
                expect[..],
                "row {i}, m = {m}"
            );
            assert_eq!(got[i as usize], want[i as usize], "row {i}, m = {m}");
        }
        for (i, others) in [(12usize, [33u32, 100]), (33, [12, 100]), (100, [12, 33])] {
            let expect: Vec<(u32, f32)> = others.iter().take(m).map(|&j| (j, 1.0)).collect();
            assert_eq!(got[i][..expect.len()], expect[..], "row {i}, m = {m}");
        }
        let config = KnnConfig::new(m);
        let k = knn_graph_gpu(&ctx, e.view(), &config).unwrap();
        assert_eq!(k.get(0, 5), 1.0);
        assert_eq!(k.get(140, 0), 1.0);
        assert_eq!(k.get(12, 100), 1.0);
        assert_graph_matches(&k, &knn_graph(e.view(), &config, &Silent).unwrap(), "ties");
    }
    ctx.take_error().unwrap();
    Ok(())
}

fn zero_rows_have_no_neighbours() -> Outcome {
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut e = uniform(&mut rng, 100, 5);
    e.row_mut(3).fill(0.0);
    e.row_mut(70).fill(0.0);
    let lists = knn_lists_gpu(&ctx, e.view(), 32).unwrap();
    assert!(lists[3].is_empty() && lists[70].is_empty());
    assert!(lists.iter().flatten().all(|&(j, _)| j != 3 && j != 70));
    let config = KnnConfig::new(10);
    let k = knn_graph_gpu(&ctx, e.view(), &config).unwrap();
    assert_eq!(k.row(3).0.len(), 0);
    assert!(k.nnz() > 0);
    assert_graph_matches(&k, &knn_graph(e.view(), &config, &Silent).unwrap(), "zeros");
    // All rows zero: an empty graph, not an error.
    let zeros = Array2::<f32>::zeros((10, 3));
    assert_eq!(
        knn_graph_gpu(&ctx, zeros.view(), &config).unwrap(),
        CsrSimilarity::empty(10)
    );
    Ok(())
}

fn runs_are_bit_identical_and_slicing_changes_nothing() -> Outcome {
    let mut ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let e = uniform(&mut rng, 700, 24);
    let config = KnnConfig::new(10);
    let bits = |lists: &[Vec<(u32, f32)>]| -> Vec<(u32, u32)> {
        lists
            .iter()
            .flatten()
            .map(|&(j, v)| (j, v.to_bits()))
            .collect()
    };
    let a = knn_lists_gpu(&ctx, e.view(), 10).unwrap();
    let b = knn_lists_gpu(&ctx, e.view(), 10).unwrap();
    assert_eq!(bits(&a), bits(&b));
    let ga = knn_graph_gpu(&ctx, e.view(), &config).unwrap();
    let gb = knn_graph_gpu(&ctx, e.view(), &config).unwrap();
    assert_eq!(ga.indptr(), gb.indptr());
    assert_eq!(ga.indices(), gb.indices());
    let vbits = |k: &CsrSimilarity| k.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(vbits(&ga), vbits(&gb));
    // Pretend the device allows only 3 workgroups per dispatch: 4 dispatches of ≤ 192 rows.
    ctx.limits.max_compute_workgroups_per_dimension = 3;
    let sliced = knn_lists_gpu(&ctx, e.view(), 10).unwrap();
    assert_eq!(bits(&sliced), bits(&a));
    // A storage binding that just holds the embeddings but only 64 rows of outputs at a time:
    // 700 × 4 × 4 = 11 200 bytes of embeddings; with m = 32 a row's output is 128 bytes, so 11 slices.
    ctx.limits.max_compute_workgroups_per_dimension = 65535;
    let narrow = uniform(&mut rng, 700, 4);
    let whole = knn_lists_gpu(&ctx, narrow.view(), 32).unwrap();
    ctx.limits.max_storage_buffer_binding_size = 11_200 + 100;
    let sliced = knn_lists_gpu(&ctx, narrow.view(), 32).unwrap();
    assert_eq!(bits(&sliced), bits(&whole));
    ctx.take_error().unwrap();
    Ok(())
}

fn embeddings_larger_than_a_binding_are_a_clear_error() -> Outcome {
    let mut ctx = context()?;
    let e = Array2::<f32>::ones((100, 10));
    ctx.limits.max_storage_buffer_binding_size = 1000;
    let err = knn_graph_gpu(&ctx, e.view(), &KnnConfig::default()).unwrap_err();
    assert!(matches!(err, CoreError::Backend { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("embedding matrix") && msg.contains("4000"),
        "{msg}"
    );
    Ok(())
}

fn large_m_falls_back_to_the_cpu_and_small_cases_are_exact() -> Outcome {
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let e = uniform(&mut rng, 200, 6);
    for m in [MAX_GPU_NEIGHBORS + 1, 40, 500] {
        let config = KnnConfig::new(m);
        assert_eq!(
            knn_graph_gpu(&ctx, e.view(), &config).unwrap(),
            knn_graph(e.view(), &config, &Silent).unwrap(),
            "m = {m}"
        );
        assert_eq!(
            knn_lists_gpu(&ctx, e.view(), m).unwrap(),
            knn_lists(e.view(), m, &Silent).unwrap()
        );
    }
    // m = 0 and n = 1: the empty graph.
    assert_eq!(
        knn_graph_gpu(&ctx, e.view(), &KnnConfig::new(0)).unwrap(),
        CsrSimilarity::empty(200)
    );
    let one = uniform(&mut rng, 1, 4);
    assert_eq!(
        knn_graph_gpu(&ctx, one.view(), &KnnConfig::default()).unwrap(),
        CsrSimilarity::empty(1)
    );
    Ok(())
}

fn invalid_inputs_are_the_cpu_errors() -> Outcome {
    let ctx = context()?;
    let config = KnnConfig::default();
    let empty = Array2::<f32>::zeros((0, 4));
    assert_eq!(
        knn_graph_gpu(&ctx, empty.view(), &config).unwrap_err(),
        CoreError::Empty { what: "embeddings" }
    );
    let no_features = Array2::<f32>::zeros((3, 0));
    assert!(matches!(
        knn_graph_gpu(&ctx, no_features.view(), &config).unwrap_err(),
        CoreError::InvalidParameter { .. }
    ));
    let mut e = Array2::<f32>::ones((5, 4));
    e[(2, 3)] = f32::NAN;
    let err = knn_graph_gpu(&ctx, e.view(), &KnnConfig::new(0)).unwrap_err();
    assert!(
        matches!(err, CoreError::NonFinite { index: 11, .. }),
        "{err}"
    );
    Ok(())
}

/// `n` rows of `d` features around `clusters` Gaussian centres (spread 0.3 around unit-scale
/// centres), so neighbour lists are meaningful rather than near-ties everywhere.
fn clustered(rng: &mut ChaCha8Rng, n: usize, d: usize, clusters: usize) -> Array2<f32> {
    let centres = uniform(rng, clusters, d);
    let mut e = Array2::zeros((n, d));
    for i in 0..n {
        let c = rng.random_range(0..clusters);
        for k in 0..d {
            e[(i, k)] = centres[(c, k)] + 0.3 * rng.random_range(-1.0f32..1.0);
        }
    }
    e
}

fn clip_sized_embeddings_past_the_old_failure() -> Outcome {
    // 3,000 × 768 used to fail ("invalid entry (0, 0) for row 0"): lavapipe lost the running lists
    // of invocations that scanned every candidate. 4,000 × 768 now runs in 25 candidate blocks.
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(768);
    let e = clustered(&mut rng, 4000, 768, 40);
    let before = ctx.counters();
    let got = knn_lists_gpu(&ctx, e.view(), 10).expect("gpu knn runs at 4000 × 768");
    let used = ctx.counters().since(&before);
    let want = knn_lists(e.view(), 10, &Silent).unwrap();
    let differing = assert_lists_match(&e, &got, &want);
    assert!(differing * 50 <= 4000, "{differing} lists differ");
    assert!(got.iter().all(|l| l.len() == 10));
    // One slice: one submission, one wait for the lists, one dispatch per candidate block, and
    // only the lists come back (4,000 rows × 10 × (index + value)).
    assert_eq!(used.submissions, 1, "{used:?}");
    assert_eq!(used.readbacks, 1, "{used:?}");
    assert_eq!(used.dispatches, 4000u64.div_ceil(160), "{used:?}");
    assert_eq!(used.bytes_read_back, 4000 * 10 * 8, "{used:?}");
    // The embeddings once, and 25 blocks' parameters (32 bytes each at the device's alignment).
    let params = used.bytes_uploaded - 4000 * 768 * 4;
    assert!((25 * 32..=25 * 256).contains(&params), "{used:?}");
    let config = KnnConfig::new(10);
    let graph = knn_graph_gpu(&ctx, e.view(), &config).unwrap();
    assert_graph_matches(
        &graph,
        &knn_graph(e.view(), &config, &Silent).unwrap(),
        "768-d",
    );
    ctx.take_error().unwrap();
    Ok(())
}

fn ties_carry_across_candidate_blocks() -> Outcome {
    // d = 768 gives blocks of 160 candidates, so these duplicates sit in three different blocks
    // and the running lists must keep the smaller index first across dispatches.
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut e = Array2::from_shape_fn((400, 768), |_| rng.random_range(-5i32..=5) as f32);
    let row0 = e.row(0).to_owned();
    let dups = [0u32, 5, 170, 330, 399];
    for &r in &dups[1..] {
        e.row_mut(r as usize).assign(&row0);
    }
    for m in [1, 3, 8] {
        let got = knn_lists_gpu(&ctx, e.view(), m).unwrap();
        let want = knn_lists(e.view(), m, &Silent).unwrap();
        for &i in &dups {
            let expect: Vec<(u32, f32)> = dups
                .iter()
                .filter(|&&j| j != i)
                .take(m)
                .map(|&j| (j, 1.0))
                .collect();
            assert_eq!(
                got[i as usize][..expect.len()],
                expect[..],
                "row {i}, m = {m}"
            );
        }
        let differing = assert_lists_match(&e, &got, &want);
        assert!(differing * 50 <= 400, "m = {m}: {differing} lists differ");
    }
    ctx.take_error().unwrap();
    Ok(())
}

fn submissions_follow_slices_not_work() -> Outcome {
    let mut ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let e = uniform(&mut rng, 700, 24);
    let before = ctx.counters();
    let whole = knn_lists_gpu(&ctx, e.view(), 10).unwrap();
    let used = ctx.counters().since(&before);
    assert_eq!(
        (used.submissions, used.readbacks, used.dispatches),
        (1, 1, 1)
    );
    // Three workgroups per dispatch: slices of 192 rows, so 4 submissions and 4 waits, each
    // read back while the next slice runs, with results unchanged.
    ctx.limits.max_compute_workgroups_per_dimension = 3;
    let before = ctx.counters();
    let sliced = knn_lists_gpu(&ctx, e.view(), 10).unwrap();
    let used = ctx.counters().since(&before);
    assert_eq!(
        (used.submissions, used.readbacks, used.dispatches),
        (4, 4, 4)
    );
    assert_eq!(sliced, whole);
    // Calls after the first reuse the compiled pipeline and leave no device error behind.
    ctx.take_error().unwrap();
    Ok(())
}

fn ivf(nlist: usize, nprobe: usize) -> IvfSettings {
    IvfSettings {
        nlist,
        nprobe,
        train_iterations: 10,
        recall_sample: 0,
        seed: 5,
    }
}

fn ivf_search_matches_the_cpu_at_twenty_thousand_rows() -> Outcome {
    // 20,000 × 64 in 200 clusters, 64 lists, 4 probed: the GPU searches the CPU's index list
    // against list and gives the CPU's lists up to near-ties at a list's boundary; the graph of
    // `GpuBackend::ivf_knn_graph` passes the exact graph's criterion against the CPU backend's.
    let ctx = context()?;
    let mut rng = ChaCha8Rng::seed_from_u64(20_000);
    let e = clustered(&mut rng, 20_000, 64, 200);
    let settings = ivf(64, 4);
    let index = IvfIndex::build(e.view(), &settings).unwrap();
    let before = ctx.counters();
    let got = ivf_lists_gpu(&ctx, &index, 10, &Silent).expect("gpu ivf runs");
    let used = ctx.counters().since(&before);
    let want = ivf_lists(&index, 10, &Silent);
    let differing = assert_lists_match(&e, &got, &want);
    println!("IVF 20,000 × 64: {differing} of 20,000 lists differ by a near-tie; {used:?}");
    assert!(differing * 50 <= 20_000, "{differing} lists differ");
    // One slice: one submission and one wait, whatever the lists.
    assert_eq!(used.submissions, 1, "{used:?}");
    assert_eq!(used.readbacks, 1, "{used:?}");

    let gpu = infoprune_wgpu::GpuBackend::new(&AdapterChoice::any()).map_err(no_adapter)?;
    let config = KnnConfig::new(10);
    let (g, _) = gpu
        .ivf_knn_graph(e.view(), &config, &settings, &Silent)
        .unwrap();
    let (c, _) = CpuBackend
        .ivf_knn_graph(e.view(), &config, &settings, &Silent)
        .unwrap();
    assert_graph_matches(&g, &c, "IVF graph");
    ctx.take_error().unwrap();
    Ok(())
}

fn ivf_ties_rank_by_the_original_row_across_lists() -> Outcome {
    // Three clusters (around e1, e2, e3) become three lists, all probed. Query row 0 (= e1) has
    // two pairs of exactly tied candidates, one of each pair in the e2 list and one in the e3 list:
    // its dot products with them are exactly c plus exact zeros, on any hardware. Whichever list
    // the search visits first, each pair must come out smaller row first, as on the CPU.
    let ctx = context()?;
    let d = 8;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut e = Array2::<f32>::zeros((70, d));
    let axis = |row: &mut ndarray::ArrayViewMut1<f32>, a: usize, rng: &mut ChaCha8Rng| {
        row[a] = 1.0;
        for k in 4..d {
            row[k] = rng.random_range(-0.05f32..0.05);
        }
    };
    for i in 0..70 {
        axis(&mut e.row_mut(i), 1 + i % 3 - 1, &mut rng);
    }
    e.row_mut(0).fill(0.0);
    e[[0, 0]] = 1.0;
    // Pair one: row 10 in the e2 list before row 20 in the e3 list; pair two the other way round.
    let place = |e: &mut Array2<f32>, row: usize, c: f32, other: usize| {
        e.row_mut(row).fill(0.0);
        e[[row, 0]] = c;
        e[[row, other]] = (1.0 - c * c).sqrt();
    };
    place(&mut e, 10, 0.6, 1);
    place(&mut e, 20, 0.6, 2);
    place(&mut e, 31, 0.5, 1);
    place(&mut e, 29, 0.5, 2);
    let index = IvfIndex::build(e.view(), &ivf(3, 3)).unwrap();
    assert_ne!(
        index.list_of(10),
        index.list_of(20),
        "the pair shares a list"
    );
    assert_ne!(
        index.list_of(31),
        index.list_of(29),
        "the pair shares a list"
    );
    // Row 0's list: its 23 cluster mates (cosine near 1), then the pairs. m = 24 and 26 fill the
    // list so that a pair's second member ties with the last kept entry (it must displace it
    // when its row is smaller); m = 30 leaves room, so ties are ordered on insertion.
    let cols = |l: &[(u32, f32)]| l.iter().map(|x| x.0).collect::<Vec<_>>();
    for (m, kept, dropped) in [(24, vec![10], vec![20]), (26, vec![10, 20, 29], vec![31])] {
        let got = ivf_lists_gpu(&ctx, &index, m, &Silent).unwrap();
        let want = ivf_lists(&index, m, &Silent);
        assert_eq!(cols(&got[0]), cols(&want[0]), "m = {m}");
        assert!(
            kept.iter().all(|r| cols(&got[0]).contains(r)),
            "m = {m}: {:?}",
            got[0]
        );
        assert!(
            !dropped.iter().any(|r| cols(&got[0]).contains(r)),
            "m = {m}: {:?}",
            got[0]
        );
    }
    let got = ivf_lists_gpu(&ctx, &index, 30, &Silent).unwrap();
    let want = ivf_lists(&index, 30, &Silent);
    assert_eq!(
        cols(&got[0]),
        cols(&want[0]),
        "row 0: {:?} vs {:?}",
        got[0],
        want[0]
    );
    let at = |row: u32| cols(&got[0]).iter().position(|&j| j == row).unwrap();
    assert!(at(10) < at(20) && at(29) < at(31), "{:?}", got[0]);
    let sims: Vec<f32> = [10u32, 20, 29, 31]
        .iter()
        .map(|&r| got[0][at(r)].1)
        .collect();
    assert!(sims[0] == sims[1] && sims[2] == sims[3], "{sims:?}");
    ctx.take_error().unwrap();
    Ok(())
}
