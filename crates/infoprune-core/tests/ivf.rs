//! The IVF kNN graph against the exact search, its recall, its partitions of whole lists and its
//! option checks.

use approx::assert_relative_eq;
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::error::{CoreError, Result};
use infoprune_core::ivf::*;
use infoprune_core::knn::{knn_graph, knn_lists, snap, KnnConfig, Symmetrize};
use infoprune_core::progress::Silent;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gaussian(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| {
        (0..4).map(|_| rng.random::<f32>()).sum::<f32>() - 2.0
    })
}

/// `clusters` Gaussian blobs (random unit-ish centres, spread `noise`), rows in random order.
fn clustered(n: usize, d: usize, clusters: usize, noise: f32, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = gaussian(clusters, d, seed ^ 1);
    Array2::from_shape_fn((n, d), |(i, j)| {
        let c = (i * 7919 + 13) % clusters;
        centres[(c, j)] + noise * ((0..4).map(|_| rng.random::<f32>()).sum::<f32>() - 2.0)
    })
}

fn settings(nlist: usize, nprobe: usize) -> IvfSettings {
    IvfSettings {
        nlist,
        nprobe,
        train_iterations: DEFAULT_TRAIN_ITERATIONS,
        recall_sample: 0,
        seed: 3,
    }
}

fn lists(e: &Array2<f32>, s: &IvfSettings, m: usize) -> Vec<Vec<(u32, f32)>> {
    let index = IvfIndex::build(e.view(), s).unwrap();
    ivf_lists(&index, m, &Silent)
}

fn bits(k: &CsrSimilarity) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
    (
        k.indptr().to_vec(),
        k.indices().to_vec(),
        k.values().iter().map(|v| v.to_bits()).collect(),
    )
}

#[test]
fn probing_every_list_gives_exactly_the_exact_graph() {
    // Partial blocks, several tiles (a list larger than 2048 columns with nlist = 1), ties
    // from duplicated rows, zero rows, and every symmetrisation.
    let mut e = gaussian(2600, 12, 1);
    for (dst, src) in [(7usize, 3usize), (900, 3), (2500, 41)] {
        let row = e.row(src).to_owned();
        e.row_mut(dst).assign(&row);
    }
    e.row_mut(11).fill(0.0);
    for nlist in [1usize, 5, 37] {
        for m in [1usize, 10] {
            let got = lists(&e, &settings(nlist, nlist), m);
            let want = knn_lists(e.view(), m, &Silent).unwrap();
            assert_eq!(got, want, "nlist = {nlist}, m = {m}");
        }
        for mode in [Symmetrize::Max, Symmetrize::Mean] {
            let config = KnnConfig::new(10).symmetrize(mode);
            let (k, info) =
                ivf_knn_graph(e.view(), &config, &settings(nlist, nlist), &Silent).unwrap();
            let want = knn_graph(e.view(), &config, &Silent).unwrap();
            assert_eq!(bits(&k), bits(&want), "nlist = {nlist}, {mode:?}");
            assert_eq!(info.name(), "ivf");
        }
    }
}

#[test]
fn lists_are_exact_among_the_candidates() {
    let e = clustered(3000, 8, 20, 0.4, 2);
    let s = settings(40, 3);
    let index = IvfIndex::build(e.view(), &s).unwrap();
    let m = 7;
    let got = ivf_lists(&index, m, &Silent);
    let x = infoprune_core::knn::l2_normalize_rows(e.view());
    let mut restricted = 0;
    for (i, got_i) in got.iter().enumerate() {
        // Brute force over the probed lists' rows, f32 dot of the same normalised rows.
        let mut cands: Vec<(u32, f32)> = index
            .probes(i)
            .iter()
            .flat_map(|&l| index.list(l as usize).iter().copied())
            .filter(|&j| j as usize != i)
            .map(|j| (j, snap(x.row(i).dot(&x.row(j as usize)))))
            .filter(|&(_, v)| v > 0.0)
            .collect();
        // The search really is restricted: far fewer candidates than rows.
        restricted += usize::from(cands.len() < index.n() / 2);
        cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        cands.truncate(m);
        assert_eq!(got_i.len(), cands.len(), "row {i}");
        for (g, c) in got_i.iter().zip(&cands) {
            // sgemm and ndarray's dot may round differently: same sets up to near-ties.
            assert!((g.1 - c.1).abs() <= 1e-5, "row {i}: {g:?} vs {c:?}");
        }
    }
    assert!(
        restricted > index.n() * 9 / 10,
        "{restricted} rows restricted"
    );
    // Every row is in its own list, first among its probes, probes distinct.
    for i in 0..index.n() {
        let own = index.list_of(i);
        assert!(index.list(own).contains(&(i as u32)));
        let mut p = index.probes(i).to_vec();
        assert_eq!(p[0] as usize, own);
        p.sort_unstable();
        p.dedup();
        assert_eq!(p.len(), 3);
    }
    let sizes: usize = (0..index.nlist()).map(|l| index.list(l).len()).sum();
    assert_eq!(sizes, index.n());
}

#[test]
fn recall_at_defaults_on_clustered_data() {
    // Tens of thousands of rows in 300 clusters: the defaults (nlist = 4√n ≈ 775, nprobe 8)
    // must find at least 95% of the exact neighbours of a 2,000-row sample.
    let n = 60_000;
    let e = clustered(n, 32, 300, 0.35, 4);
    let params = IvfParams {
        recall_sample: 2000,
        seed: 9,
        ..IvfParams::default()
    };
    let s = params.resolve(n).unwrap();
    assert_eq!((s.nlist, s.nprobe), (980, 8));
    let (k, info) = ivf_knn_graph(e.view(), &KnnConfig::default(), &s, &Silent).unwrap();
    let recall = info.recall.unwrap();
    assert_eq!(recall.sampled, 2000);
    assert_eq!(recall.expected, 2000 * 10);
    assert!(recall.recall >= 0.95, "recall {recall:?}");
    assert!(k.is_symmetric());
}

#[test]
fn recall_counts_what_is_missing() {
    let e = gaussian(1500, 10, 5);
    let index = IvfIndex::build(e.view(), &settings(10, 10)).unwrap();
    let full = ivf_lists(&index, 4, &Silent);
    let all = recall_at_m(&index, &full, 4, 1500, 1);
    assert_eq!((all.found, all.expected, all.recall), (6000, 6000, 1.0));
    // Dropping every row's best neighbour loses exactly a quarter.
    let cut: Vec<Vec<(u32, f32)>> = full.iter().map(|l| l[1..].to_vec()).collect();
    let r = recall_at_m(&index, &cut, 4, 1500, 1);
    assert_eq!((r.found, r.expected), (4500, 6000));
    assert_relative_eq!(r.recall, 0.75);
    // A sample: same seed, same rows.
    let a = recall_at_m(&index, &cut, 4, 100, 7);
    assert_eq!(a, recall_at_m(&index, &cut, 4, 100, 7));
    assert_eq!(a.sampled, 100);
    assert_eq!(a.expected, 400);
}

#[test]
fn independent_of_thread_count() {
    let e = clustered(12_000, 16, 50, 0.5, 6);
    let s = IvfSettings {
        recall_sample: 500,
        ..settings(120, 4)
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let index = IvfIndex::build(e.view(), &s).unwrap();
                let lists = ivf_lists(&index, 10, &Silent);
                let (k, info) =
                    graph_from_lists(&index, lists.clone(), &KnnConfig::default(), &s, &Silent)
                        .unwrap();
                (
                    index.centroids().to_vec(),
                    index.order().to_vec(),
                    lists,
                    bits(&k),
                    info,
                )
            })
    };
    let one = run(1);
    let cents = |c: &[f32]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for threads in [2, 3] {
        let other = run(threads);
        assert_eq!(
            cents(&one.0),
            cents(&other.0),
            "{threads} threads: centroids"
        );
        assert_eq!(one.1, other.1, "{threads} threads: lists");
        assert_eq!(one.2, other.2, "{threads} threads: neighbours");
        assert_eq!(one.3, other.3, "{threads} threads: graph");
        assert_eq!(one.4, other.4, "{threads} threads: recall");
    }
}

#[test]
fn edge_cases() {
    // One row, two rows, m = 0, m ≥ n.
    let one = gaussian(1, 4, 7);
    assert_eq!(lists(&one, &settings(1, 1), 10), vec![vec![]]);
    let two = gaussian(2, 4, 8);
    assert_eq!(
        lists(&two, &settings(2, 2), 10),
        knn_lists(two.view(), 10, &Silent).unwrap()
    );
    let e = gaussian(300, 6, 9);
    assert!(lists(&e, &settings(6, 2), 0).iter().all(Vec::is_empty));
    assert_eq!(
        lists(&e, &settings(6, 6), 1000),
        knn_lists(e.view(), 1000, &Silent).unwrap()
    );
    // All rows identical: every similarity is 1 and ties go to the smaller index, whatever
    // the (degenerate) lists.
    let dup = Array2::from_shape_fn((700, 5), |(_, j)| j as f32 + 1.0);
    let got = lists(&dup, &settings(20, 3), 4);
    for (i, list) in got.iter().enumerate() {
        let want: Vec<(u32, f32)> = (0..700u32)
            .filter(|&j| j as usize != i)
            .take(4)
            .map(|j| (j, 1.0))
            .collect();
        assert_eq!(list, &want, "row {i}");
    }
    // nlist = n: every row its own list (when the training separates them).
    let few = gaussian(30, 6, 10);
    let index = IvfIndex::build(few.view(), &settings(30, 30)).unwrap();
    assert_eq!(
        ivf_lists(&index, 5, &Silent),
        knn_lists(few.view(), 5, &Silent).unwrap()
    );
    // Non-finite input is refused by the shared validation.
    let mut bad = gaussian(50, 3, 11);
    bad[(4, 1)] = f32::NAN;
    assert!(matches!(
        IvfIndex::build(bad.view(), &settings(2, 1)).unwrap_err(),
        CoreError::NonFinite { index: 13, .. }
    ));
}

#[test]
fn groups_of_whole_lists_and_the_edges_they_cut() {
    let e = clustered(8000, 8, 40, 0.3, 13);
    let index = IvfIndex::build(e.view(), &settings(60, 4)).unwrap();
    let n = index.n();
    let full = ivf_lists(&index, 10, &Silent);
    for max_size in [1usize, 700, 2500, n] {
        let groups = group_lists(&index, max_size).unwrap();
        let mut part = vec![u32::MAX; n];
        let mut local = vec![0u32; n];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (g, ranges) in groups.iter().enumerate() {
            let mut rows: Vec<usize> = ranges
                .iter()
                .flat_map(|r| index.order()[r.clone()].iter().map(|&i| i as usize))
                .collect();
            rows.sort_unstable();
            assert!(!rows.is_empty() && rows.len() <= max_size);
            for (li, &i) in rows.iter().enumerate() {
                assert_eq!(part[i], u32::MAX, "row {i} in two partitions");
                part[i] = g as u32;
                local[i] = li as u32;
            }
            members.push(rows);
        }
        assert!(part.iter().all(|&p| p != u32::MAX), "a row in no partition");
        // Whole lists stay together unless a list alone exceeds the size.
        for l in 0..index.nlist() {
            let list = index.list(l);
            if list.len() <= max_size && !list.is_empty() {
                assert!(list
                    .iter()
                    .all(|&i| part[i as usize] == part[list[0] as usize]));
            }
        }
        let mut total_cut = 0;
        for (g, ranges) in groups.iter().enumerate() {
            let (lists, cut) = partition_lists(&index, ranges, 10, g as u32, &part, &local);
            total_cut += cut;
            // Exactly the global lists with the outside neighbours dropped.
            for (li, &i) in members[g].iter().enumerate() {
                let want: Vec<(u32, f32)> = full[i]
                    .iter()
                    .filter(|&&(j, _)| part[j as usize] == g as u32)
                    .map(|&(j, v)| (local[j as usize], v))
                    .collect();
                assert_eq!(lists[li], want, "row {i}");
            }
        }
        let crossing: usize = (0..n)
            .map(|i| {
                full[i]
                    .iter()
                    .filter(|&&(j, _)| part[j as usize] != part[i])
                    .count()
            })
            .sum();
        assert_eq!(total_cut, crossing);
        if max_size == n {
            assert_eq!((groups.len(), total_cut), (1, 0));
        }
        if max_size == 1 {
            assert_eq!(total_cut, full.iter().map(Vec::len).sum::<usize>());
        }
    }
    assert!(matches!(
        group_lists(&index, 0).unwrap_err(),
        CoreError::InvalidParameter {
            name: "partition-size",
            ..
        }
    ));
}

#[test]
fn selector_runs_the_configured_search() {
    use infoprune_core::select::{SelectConfig, Selector};
    let e = clustered(2000, 8, 10, 0.4, 14);
    let run = |search: KnnSearch| {
        let selector = Selector::new(SelectConfig::new(200).search(search)).unwrap();
        let prepared = selector.prepare(e.view(), None, None, &Silent).unwrap();
        let info = prepared.search.unwrap();
        let sel = prepared
            .select(selector.config(), selector.config().method, &Silent)
            .unwrap();
        (bits(&prepared.graph), info, sel.indices)
    };
    let exact = run(KnnSearch::Exact);
    assert_eq!(exact.1, SearchInfo::exact());
    // auto below the crossover is the exact search, bit for bit.
    assert_eq!(run(KnnSearch::default()), exact);
    let all = IvfParams {
        nlist: Some(16),
        nprobe: Some(16),
        recall_sample: 100,
        ..IvfParams::default()
    };
    let ivf = run(KnnSearch::Ivf(all));
    assert_eq!((&ivf.0, &ivf.2), (&exact.0, &exact.2));
    assert_eq!(ivf.1.recall.unwrap().recall, 1.0);
    assert!(matches!(
        ivf.1.search,
        ResolvedSearch::Ivf(IvfSettings {
            nlist: 16,
            nprobe: 16,
            ..
        })
    ));
    let bad = SelectConfig::new(10).search(KnnSearch::Ivf(IvfParams {
        nprobe: Some(0),
        ..IvfParams::default()
    }));
    assert_eq!(invalid(Selector::new(bad)), "nprobe");
}

fn invalid(result: Result<impl std::fmt::Debug>) -> &'static str {
    match result.unwrap_err() {
        CoreError::InvalidParameter { name, .. } => name,
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn bad_options_name_the_option() {
    let p = |nlist, nprobe, recall_sample| IvfParams {
        nlist,
        nprobe,
        recall_sample,
        ..IvfParams::default()
    };
    assert_eq!(invalid(p(Some(0), None, 0).validate()), "nlist");
    assert_eq!(invalid(p(None, Some(0), 0).validate()), "nprobe");
    assert_eq!(invalid(p(Some(4), Some(5), 0).validate()), "nprobe");
    assert_eq!(invalid(p(Some(101), None, 0).resolve(100)), "nlist");
    // The default nlist of 4 rows is 8 → clamped to 4; nprobe 5 exceeds it.
    assert_eq!(invalid(p(None, Some(5), 0).resolve(4)), "nprobe");
    assert_eq!(invalid(p(None, None, 101).resolve(100)), "recall-sample");
    let err = p(Some(4), Some(5), 0).validate().unwrap_err().to_string();
    assert!(err.contains("nprobe") && err.contains("nlist = 4"), "{err}");
    // Defaults: nprobe follows a small nlist; nlist is clamped to n.
    assert_eq!(p(Some(3), None, 0).resolve(100).unwrap().nprobe, 3);
    assert_eq!(p(None, None, 0).resolve(4).unwrap().nlist, 4);
    assert_eq!(p(None, None, 0).resolve(1_000_000).unwrap().nlist, 4000);
    // auto: exact below the crossover, IVF from it on, with the options checked then.
    let auto = KnnSearch::Auto(p(None, None, 0));
    assert_eq!(
        auto.resolve(AUTO_EXACT_MAX_ROWS).unwrap(),
        ResolvedSearch::Exact
    );
    assert!(matches!(
        auto.resolve(AUTO_EXACT_MAX_ROWS + 1).unwrap(),
        ResolvedSearch::Ivf(IvfSettings { nprobe: 8, .. })
    ));
    assert_eq!(KnnSearch::Exact.resolve(10).unwrap(), ResolvedSearch::Exact);
    assert_eq!(
        invalid(KnnSearch::Ivf(p(Some(11), None, 0)).resolve(10)),
        "nlist"
    );
    // A built index refuses settings that do not fit its data.
    let e = gaussian(10, 3, 12);
    assert_eq!(
        invalid(IvfIndex::build(e.view(), &settings(11, 1))),
        "nlist"
    );
    assert_eq!(
        invalid(IvfIndex::build(e.view(), &settings(2, 3))),
        "nprobe"
    );
}
