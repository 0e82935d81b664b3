//! The exact kNN graph against brute force, its ties, symmetrisation, input checks and thread
//! independence.

use super::exact::{BLOCK_ROWS, TILE_COLS};
use super::*;
use crate::progress::Silent;
use ndarray::s;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Mutex;

fn gaussian(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Sum of uniforms: roughly normal, centred, so about half of all similarities are negative
    // and clipping matters.
    Array2::from_shape_fn((n, d), |_| {
        (0..4).map(|_| rng.random::<f32>()).sum::<f32>() - 2.0
    })
}

/// Independent reference: f64 cosine of the normalised rows, every other row sorted by
/// (similarity desc, index asc). Not clipped, not truncated.
fn brute_sorted(e: &Array2<f32>) -> Vec<Vec<(usize, f64)>> {
    let x = l2_normalize_rows(e.view());
    let n = x.nrows();
    (0..n)
        .map(|i| {
            let mut row: Vec<(usize, f64)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let dot = x
                        .row(i)
                        .iter()
                        .zip(x.row(j).iter())
                        .map(|(&a, &b)| a as f64 * b as f64)
                        .sum::<f64>();
                    (j, dot)
                })
                .collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            row
        })
        .collect()
}

fn assert_sorted_and_valid(lists: &[Vec<(u32, f32)>]) {
    for (i, list) in lists.iter().enumerate() {
        for &(j, v) in list {
            assert_ne!(j as usize, i, "row {i} lists itself");
            assert!(v > 0.0 && v <= 1.0, "row {i}: value {v} outside (0, 1]");
        }
        for w in list.windows(2) {
            let ((j0, v0), (j1, v1)) = (w[0], w[1]);
            assert!(
                v0 > v1 || (v0 == v1 && j0 < j1),
                "row {i} not sorted by (sim desc, index asc): {:?}",
                w
            );
        }
    }
}

fn check_against_brute_force(n: usize, d: usize, m: usize, seed: u64) {
    let e = gaussian(n, d, seed);
    let lists = knn_lists(e.view(), m, &Silent).unwrap();
    assert_eq!(lists.len(), n);
    assert_sorted_and_valid(&lists);
    let brute = brute_sorted(&e);
    let tol = 1e-5;
    let m_eff = m.min(n - 1);
    let mut exact_rows = 0;
    for (i, (ours, full)) in lists.iter().zip(&brute).enumerate() {
        let sim = |j: usize| full.iter().find(|e| e.0 == j).unwrap().1;
        let top = &full[..m_eff];
        let expected: Vec<usize> = top.iter().filter(|e| e.1 > 0.0).map(|e| e.0).collect();
        // f32 rounding may flip the sign of a similarity within `tol` of zero and so change
        // whether it is clipped; only then may the lengths differ.
        let near_zero = top.iter().any(|e| e.1.abs() <= tol);
        if !near_zero {
            assert_eq!(ours.len(), expected.len(), "row {i}: list lengths differ");
        }
        let mth = top.last().unwrap().1;
        for &(j, v) in ours {
            let s = sim(j as usize);
            assert!(
                s >= mth - tol,
                "row {i}: neighbour {j} ({s}) below m-th ({mth})"
            );
            assert!(
                (v as f64 - s.min(1.0)).abs() <= tol,
                "row {i}, col {j}: {v} vs brute force {s}"
            );
        }
        let gap_ok = match full.get(m_eff) {
            None => true,
            Some(next) => mth - next.1 > tol,
        };
        if gap_ok && !near_zero {
            let mut got: Vec<usize> = ours.iter().map(|e| e.0 as usize).collect();
            let mut want = expected.clone();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "row {i}: neighbour sets differ");
            exact_rows += 1;
        }
    }
    // Guard against a vacuous test: most rows must have a clear gap.
    assert!(
        exact_rows * 2 > n,
        "only {exact_rows} of {n} rows compared exactly"
    );
}

#[test]
fn equals_brute_force_small_n() {
    check_against_brute_force(50, 8, 5, 1); // n < block
    check_against_brute_force(2, 3, 1, 2);
}

#[test]
fn equals_brute_force_partial_block() {
    check_against_brute_force(300, 16, 10, 3); // one full block and a partial one
    check_against_brute_force(513, 4, 7, 4); // low d: dense similarities, many near ties
}

#[test]
fn equals_brute_force_deep_features() {
    check_against_brute_force(260, 300, 12, 5); // d above sgemm's inner blocking
}

#[test]
fn equals_brute_force_several_tiles() {
    check_against_brute_force(TILE_COLS + 101, 6, 10, 6);
}

#[test]
fn equals_brute_force_m_at_least_n() {
    check_against_brute_force(40, 5, 40, 7);
    check_against_brute_force(40, 5, 39, 8);
    check_against_brute_force(17, 3, 1000, 9);
}

fn tie_data() -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut e = Array2::from_shape_fn((20, 6), |_| rng.random_range(-5i32..=5) as f32);
    let row0 = e.row(0).to_owned();
    e.row_mut(5).assign(&row0);
    e.row_mut(9).assign(&row0);
    // Rows 12 and 15 are equal to each other (not to row 0); row 17 is a small perturbation of
    // them, so its two nearest neighbours tie exactly at a similarity below 1.
    let row12 = e.row(12).to_owned();
    e.row_mut(15).assign(&row12);
    let row17 = &row12 + &ndarray::arr1(&[0.05, -0.05, 0.0, 0.05, 0.0, 0.0]);
    e.row_mut(17).assign(&row17);
    e
}

#[test]
fn exact_ties_go_to_the_smaller_index() {
    let e = tie_data();
    for m in [1, 2, 3] {
        let lists = knn_lists(e.view(), m, &Silent).unwrap();
        assert_sorted_and_valid(&lists);
        let want =
            |dups: &[u32]| -> Vec<(u32, f32)> { dups.iter().take(m).map(|&j| (j, 1.0)).collect() };
        assert_eq!(&lists[0][..m.min(2)], &want(&[5, 9])[..]);
        assert_eq!(&lists[5][..m.min(2)], &want(&[0, 9])[..]);
        assert_eq!(&lists[9][..m.min(2)], &want(&[0, 5])[..]);
        assert_eq!(lists[12][0], (15, 1.0));
        assert_eq!(lists[15][0], (12, 1.0));
        let row17 = &lists[17];
        assert_eq!(row17[0].0, 12);
        assert!(row17[0].1 < 1.0);
        if m >= 2 {
            // Same bits for identical columns, wherever they fall in the sgemm tile.
            assert_eq!(row17[1], (15, row17[0].1));
        } else {
            assert_eq!(row17.len(), 1);
        }
    }
    let k = knn_graph(e.view(), &KnnConfig::new(1), &Silent).unwrap();
    assert!(k.is_symmetric());
    assert_eq!(k.get(0, 5), 1.0);
    assert_eq!(k.get(9, 0), 1.0);
    // Neither 5 nor 9 picks the other with m = 1: they both pick row 0.
    assert_eq!(k.get(5, 9), 0.0);
}

#[test]
fn scaled_duplicates_snap_to_one() {
    let mut e = gaussian(30, 7, 12);
    let scaled = e.row(3).mapv(|x| x * 3.7);
    e.row_mut(8).assign(&scaled);
    let k = knn_graph(e.view(), &KnnConfig::default(), &Silent).unwrap();
    assert_eq!(k.get(3, 8), 1.0);
    assert_eq!(k.get(8, 3), 1.0);
}

fn assert_graph_invariants(k: &CsrSimilarity) {
    assert!(k.is_symmetric());
    for i in 0..k.n() {
        let (cols, vals) = k.row(i);
        assert!(!cols.contains(&(i as u32)), "row {i} stores its diagonal");
        assert!(vals.iter().all(|&v| v > 0.0 && v <= 1.0));
    }
}

#[test]
fn graph_is_symmetric_max_and_mean() {
    let e = gaussian(400, 10, 13);
    let m = 6;
    let lists = knn_lists(e.view(), m, &Silent).unwrap();
    let kmax = knn_graph(e.view(), &KnnConfig::new(m), &Silent).unwrap();
    let kmean = knn_graph(
        e.view(),
        &KnnConfig::new(m).symmetrize(Symmetrize::Mean),
        &Silent,
    )
    .unwrap();
    assert_graph_invariants(&kmax);
    assert_graph_invariants(&kmean);
    assert_eq!(kmax.nnz(), kmean.nnz());
    let (mut one_way, mut two_way) = (0, 0);
    for (i, list) in lists.iter().enumerate() {
        for &(j, v) in list {
            let back = lists[j as usize].iter().find(|e| e.0 as usize == i);
            let j = j as usize;
            match back {
                None => {
                    one_way += 1;
                    assert_eq!(kmax.get(i, j), v);
                    assert_eq!(kmean.get(i, j), v / 2.0);
                    assert_eq!(kmean.get(j, i), v / 2.0);
                }
                Some(&(_, w)) => {
                    two_way += 1;
                    assert_eq!(kmax.get(i, j), v.max(w));
                    assert_eq!(kmean.get(i, j), (v + w) / 2.0);
                }
            }
        }
    }
    assert!(one_way > 0 && two_way > 0);
    // Every stored entry comes from some list.
    for i in 0..kmax.n() {
        for &j in kmax.row(i).0 {
            let found = lists[i].iter().any(|e| e.0 == j)
                || lists[j as usize].iter().any(|e| e.0 as usize == i);
            assert!(found, "entry ({i}, {j}) is in no list");
        }
    }
}

#[test]
fn mean_halves_a_one_way_edge() {
    // Angles 0°, 10°, 15°: with m = 1, row 0 picks row 1 but row 1 picks row 2.
    let rad = |deg: f32| deg.to_radians();
    let e = Array2::from_shape_fn((3, 2), |(i, c)| {
        let a = rad([0.0, 10.0, 15.0][i]);
        if c == 0 {
            a.cos()
        } else {
            a.sin()
        }
    });
    let lists = knn_lists(e.view(), 1, &Silent).unwrap();
    assert_eq!(lists[0][0].0, 1);
    assert_eq!(lists[1][0].0, 2);
    assert_eq!(lists[2][0].0, 1);
    let v01 = lists[0][0].1;
    approx::assert_relative_eq!(v01, 10f32.to_radians().cos(), epsilon = 1e-6);
    let config = KnnConfig::new(1).symmetrize(Symmetrize::Mean);
    let k = knn_graph(e.view(), &config, &Silent).unwrap();
    assert_eq!(k.get(0, 1), v01 / 2.0);
    assert_eq!(k.get(1, 0), v01 / 2.0);
    assert_eq!(k.get(1, 2), lists[1][0].1);
    assert_eq!(k.get(0, 2), 0.0);
    let k = knn_graph(e.view(), &KnnConfig::new(1), &Silent).unwrap();
    assert_eq!(k.get(0, 1), v01);
    assert_eq!(k.nnz(), 4);
}

#[test]
fn zero_rows_have_no_neighbours() {
    let mut e = gaussian(60, 5, 14);
    e.row_mut(3).fill(0.0);
    e.row_mut(40).fill(0.0);
    let x = l2_normalize_rows(e.view());
    assert!(x.row(3).iter().all(|&v| v == 0.0));
    approx::assert_relative_eq!(x.row(4).dot(&x.row(4)), 1.0, epsilon = 1e-6);
    let lists = knn_lists(e.view(), 100, &Silent).unwrap();
    assert!(lists[3].is_empty() && lists[40].is_empty());
    assert!(lists.iter().flatten().all(|&(j, _)| j != 3 && j != 40));
    let k = knn_graph(e.view(), &KnnConfig::new(100), &Silent).unwrap();
    assert_graph_invariants(&k);
    assert_eq!(k.row(3).0.len(), 0);
    assert!(k.nnz() > 0);
}

#[test]
fn degenerate_sizes() {
    let e = gaussian(25, 4, 15);
    let k = knn_graph(e.view(), &KnnConfig::new(0), &Silent).unwrap();
    assert_eq!(k, CsrSimilarity::empty(25));
    let one = gaussian(1, 4, 16);
    assert_eq!(
        knn_graph(one.view(), &KnnConfig::default(), &Silent).unwrap(),
        CsrSimilarity::empty(1)
    );
    assert_eq!(knn_lists(one.view(), 5, &Silent).unwrap(), vec![vec![]]);
    // m ≥ n on positive data: every other row is a neighbour.
    let pos = Array2::from_shape_fn((6, 3), |(i, j)| 1.0 + (i * 3 + j) as f32 * 0.1);
    let lists = knn_lists(pos.view(), 100, &Silent).unwrap();
    assert!(lists.iter().all(|l| l.len() == 5));
    let k = knn_graph(pos.view(), &KnnConfig::new(100), &Silent).unwrap();
    assert_eq!(k.nnz(), 30);
}

#[test]
fn strided_views_match_standard_layout() {
    let e = gaussian(300, 9, 17);
    let transposed = e.t().as_standard_layout().into_owned(); // d × n, C-order
    let view = transposed.t(); // n × d, column-major strides
    assert!(view.as_slice().is_none());
    let config = KnnConfig::new(7);
    let want = knn_graph(e.view(), &config, &Silent).unwrap();
    assert_eq!(knn_graph(view, &config, &Silent).unwrap(), want);
    // Every other column of a wider array; the skipped columns hold NaN, which the view never
    // shows and so must not be reported.
    let padded =
        Array2::from_shape_fn(
            (300, 18),
            |(i, c)| {
                if c % 2 == 0 {
                    e[(i, c / 2)]
                } else {
                    f32::NAN
                }
            },
        );
    let stepped = padded.slice(s![.., ..;2]);
    assert!(stepped.as_slice().is_none());
    assert_eq!(knn_graph(stepped, &config, &Silent).unwrap(), want);
}

#[test]
fn invalid_inputs_are_rejected() {
    let config = KnnConfig::default();
    let empty = Array2::<f32>::zeros((0, 4));
    assert_eq!(
        knn_graph(empty.view(), &config, &Silent).unwrap_err(),
        CoreError::Empty { what: "embeddings" }
    );
    let no_features = Array2::<f32>::zeros((3, 0));
    let err = knn_lists(no_features.view(), 3, &Silent).unwrap_err();
    assert!(matches!(
        err,
        CoreError::InvalidParameter { name: "embeddings", ref value, .. } if value == "d = 0"
    ));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut e = gaussian(5, 4, 18);
        e[(2, 3)] = bad;
        let err = knn_graph(e.view(), &config, &Silent).unwrap_err();
        assert!(matches!(
            err,
            CoreError::NonFinite {
                what: "embeddings",
                index: 11,
                ..
            }
        ));
        assert!(err.to_string().contains("index 11"), "{err}");
        // Checked before anything else, even when no neighbour is wanted.
        assert!(knn_lists(e.view(), 0, &Silent).is_err());
        // The index is the logical row-major one whatever the strides.
        let t = e.t().as_standard_layout().into_owned();
        assert!(t.t().as_slice().is_none());
        let err = knn_graph(t.t(), &config, &Silent).unwrap_err();
        assert!(err.to_string().contains("index 11"), "{err}");
    }
}

#[test]
fn independent_of_thread_count() {
    let e = gaussian(3000, 24, 19);
    let config = KnnConfig::new(10);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    knn_lists(e.view(), 10, &Silent).unwrap(),
                    knn_graph(e.view(), &config, &Silent).unwrap(),
                )
            })
    };
    let (lists1, k1) = run(1);
    let (lists2, k2) = run(2);
    let bits = |k: &CsrSimilarity| k.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(lists1, lists2);
    assert_eq!(k1.indptr(), k2.indptr());
    assert_eq!(k1.indices(), k2.indices());
    assert_eq!(bits(&k1), bits(&k2));
    assert_graph_invariants(&k1);
}

#[derive(Default)]
struct Recorder {
    total: AtomicU64,
    advanced: AtomicU64,
    events: Mutex<Vec<(&'static str, Stage)>>,
}

impl Progress for Recorder {
    fn start(&self, stage: Stage, total: u64) {
        self.total.store(total, AtomicOrdering::SeqCst);
        self.events.lock().unwrap().push(("start", stage));
    }
    fn advance(&self, units: u64) {
        self.advanced.fetch_add(units, AtomicOrdering::SeqCst);
    }
    fn finish(&self, stage: Stage) {
        self.events.lock().unwrap().push(("finish", stage));
    }
}

#[test]
fn progress_sees_every_block() {
    let n = 3 * BLOCK_ROWS + 5;
    let e = gaussian(n, 6, 20);
    let recorder = Recorder::default();
    knn_graph(e.view(), &KnnConfig::default(), &recorder).unwrap();
    assert_eq!(recorder.total.load(AtomicOrdering::SeqCst), 4);
    assert_eq!(recorder.advanced.load(AtomicOrdering::SeqCst), 4);
    assert_eq!(
        *recorder.events.lock().unwrap(),
        vec![("start", Stage::Graph), ("finish", Stage::Graph)]
    );
}
