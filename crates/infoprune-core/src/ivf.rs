//! The IVF (inverted-file) kNN graph of SPEC §1.3: the near-global graph that vector-search
//! libraries build, here with the exact kernel's rules.
//!
//! Spherical k-means centroids are trained on a seeded sample of the L2-normalised rows
//! ([`IvfIndex::build`]); every row joins the list of its nearest centroid and probes the `nprobe`
//! lists whose centroids are nearest to it (its own list first). A row's neighbours are then its
//! `m` most similar rows among the rows of its probed lists, exact among those candidates, with the
//! exact search's similarity (`max(0, cos)`, snapped to 1 within `1e-6`, see [`crate::knn::snap`])
//! and tie rule (larger similarity, then smaller index), and the same symmetrisation
//! ([`symmetrize_lists`]). With `nprobe = nlist` every row probes every list and the graph is
//! exactly [`crate::knn::knn_graph`]'s.
//!
//! The search ([`ivf_lists`]) runs list against list as blocked matrix products: the rows of a
//! query list (in chunks of at most 256) that probe a list are gathered into one contiguous block
//! and multiplied with `sgemm` against that list's rows, which the index stores contiguously, in
//! tiles of at most 2048 columns. Each row's top-`m` is chosen under a total order, so the result
//! depends only on the candidate set, never on the order of the blocks or the thread count.
//!
//! A backend (the GPU) can run the search itself from the public [`IvfIndex`] (lists, their rows'
//! normalised data, every row's probes): see [`crate::backend::Backend::ivf_knn_lists`].

use std::collections::BinaryHeap;

use ndarray::{ArrayView1, ArrayView2};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::csr::CsrSimilarity;
use crate::error::{CoreError, Result};
use crate::knn::{snap, symmetrize_lists, validate_embeddings, Candidate, KnnConfig};
use crate::progress::{Progress, Stage};

/// Lists probed per row when none is given (SPEC §1.3).
pub const DEFAULT_NPROBE: usize = 8;

/// Lloyd rounds of the centroid training when none is given ("a few"; it stops earlier when the
/// sample's assignment no longer changes).
pub const DEFAULT_TRAIN_ITERATIONS: usize = 10;

/// Training rows per centroid: the sample is `min(n, 40 · nlist)` rows (SPEC §1.3).
pub const TRAIN_ROWS_PER_LIST: usize = 40;

/// `auto` searches exactly up to this many rows and with IVF above. Measured with
/// `cargo bench -p infoprune --bench ivf` on the 2-core reference machine (BENCHMARKS.md, "IVF
/// kNN graph"), 64-d clustered data: at 10,000 and 20,000 rows IVF at the defaults is about 2×
/// faster but finds only 84% and 91% of the neighbours (matching the exact recall needs nprobe 16,
/// and is then barely faster at 10,000); at 50,000 rows it is 4.4× faster at recall 0.978. The
/// cut sits at 50,000, which is also the default partition size, so partitions are always searched
/// exactly under `auto`.
pub const AUTO_EXACT_MAX_ROWS: usize = 50_000;

/// Query rows per block of the search (as the exact kernel's row blocks).
const BLOCK_ROWS: usize = 256;

/// Columns per similarity tile: a task holds at most `BLOCK_ROWS × TILE_COLS` floats (2 MiB).
const TILE_COLS: usize = 2048;

/// Centroid scores held per task while assigning rows (4 MiB of f32).
const ASSIGN_SCORES: usize = 1 << 20;

/// `nlist` when none is given: `round(4·√n)`, clamped to `1..=n`.
pub fn default_nlist(n: usize) -> usize {
    ((4.0 * (n as f64).sqrt()).round() as usize).clamp(1, n.max(1))
}

/// The IVF options as given; `None` means "the default for the data size".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfParams {
    /// Number of lists (k-means centroids); default [`default_nlist`]`(n)`. Must be in `1..=n`.
    pub nlist: Option<usize>,
    /// Lists probed per row, its own included; default `min(8, nlist)`. Must be in `1..=nlist`.
    pub nprobe: Option<usize>,
    /// Lloyd rounds of the training (default [`DEFAULT_TRAIN_ITERATIONS`]).
    pub train_iterations: usize,
    /// Rows whose IVF neighbours are compared with an exact search to measure recall@m (0: no
    /// measurement). At most `n`.
    pub recall_sample: usize,
    /// Seed of the training sample, the initial centroids and the recall sample.
    pub seed: u64,
}

impl Default for IvfParams {
    fn default() -> Self {
        Self {
            nlist: None,
            nprobe: None,
            train_iterations: DEFAULT_TRAIN_ITERATIONS,
            recall_sample: 0,
            seed: 0,
        }
    }
}

impl IvfParams {
    /// Checks what can be checked without the data: `nlist ≥ 1`, `nprobe ≥ 1`, `nprobe ≤ nlist`
    /// when both are given.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `nlist` or `nprobe`.
    pub fn validate(&self) -> Result<()> {
        if self.nlist == Some(0) {
            return Err(CoreError::InvalidParameter {
                name: "nlist",
                value: "0".into(),
                reason: "need at least one list",
            });
        }
        if self.nprobe == Some(0) {
            return Err(CoreError::InvalidParameter {
                name: "nprobe",
                value: "0".into(),
                reason: "every row must probe at least its own list",
            });
        }
        if let (Some(nlist), Some(nprobe)) = (self.nlist, self.nprobe) {
            if nprobe > nlist {
                return Err(CoreError::InvalidParameter {
                    name: "nprobe",
                    value: format!("{nprobe} (nlist = {nlist})"),
                    reason: "cannot probe more lists than there are (nprobe ≤ nlist)",
                });
            }
        }
        Ok(())
    }

    /// The settings for `n` rows: defaults filled in, everything checked against `n`.
    ///
    /// # Errors
    /// As [`IvfParams::validate`], and [`CoreError::InvalidParameter`] naming `nlist` when it
    /// exceeds `n`, `nprobe` when the default `nlist` is smaller than the given `nprobe`, or
    /// `recall-sample` when it exceeds `n`.
    pub fn resolve(&self, n: usize) -> Result<IvfSettings> {
        self.validate()?;
        let nlist = match self.nlist {
            Some(nlist) if nlist > n => {
                return Err(CoreError::InvalidParameter {
                    name: "nlist",
                    value: format!("{nlist} (n = {n})"),
                    reason: "cannot have more lists than rows (nlist ≤ n)",
                })
            }
            Some(nlist) => nlist,
            None => default_nlist(n),
        };
        let nprobe = match self.nprobe {
            Some(nprobe) if nprobe > nlist => {
                return Err(CoreError::InvalidParameter {
                    name: "nprobe",
                    value: format!("{nprobe} (nlist = {nlist})"),
                    reason: "cannot probe more lists than there are (nprobe ≤ nlist)",
                })
            }
            Some(nprobe) => nprobe,
            None => DEFAULT_NPROBE.min(nlist),
        };
        if self.recall_sample > n {
            return Err(CoreError::InvalidParameter {
                name: "recall-sample",
                value: format!("{} (n = {n})", self.recall_sample),
                reason: "cannot sample more rows than there are",
            });
        }
        Ok(IvfSettings {
            nlist,
            nprobe,
            train_iterations: self.train_iterations,
            recall_sample: self.recall_sample,
            seed: self.seed,
        })
    }
}

/// IVF parameters with every default filled in for a given `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfSettings {
    /// Number of lists, in `1..=n`.
    pub nlist: usize,
    /// Lists probed per row, in `1..=nlist`.
    pub nprobe: usize,
    /// Lloyd rounds of the training.
    pub train_iterations: usize,
    /// Rows sampled to measure recall (0: none).
    pub recall_sample: usize,
    /// Seed.
    pub seed: u64,
}

/// How the kNN graph is searched (SPEC §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnnSearch {
    /// Every row against every row ([`crate::knn::knn_graph`]).
    Exact,
    /// The inverted file with these options.
    Ivf(IvfParams),
    /// Exact up to [`AUTO_EXACT_MAX_ROWS`] rows, IVF with these options above (default).
    Auto(IvfParams),
}

impl Default for KnnSearch {
    fn default() -> Self {
        KnnSearch::Auto(IvfParams::default())
    }
}

/// The search a [`KnnSearch`] comes to for a given `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedSearch {
    /// The exact search.
    Exact,
    /// The IVF search with these settings.
    Ivf(IvfSettings),
}

impl KnnSearch {
    /// Checks the options that do not depend on the data.
    ///
    /// # Errors
    /// As [`IvfParams::validate`].
    pub fn validate(&self) -> Result<()> {
        match self {
            KnnSearch::Exact => Ok(()),
            KnnSearch::Ivf(p) | KnnSearch::Auto(p) => p.validate(),
        }
    }

    /// What runs on `n` rows.
    ///
    /// # Errors
    /// As [`IvfParams::resolve`] when IVF is chosen.
    pub fn resolve(&self, n: usize) -> Result<ResolvedSearch> {
        match self {
            KnnSearch::Exact => Ok(ResolvedSearch::Exact),
            KnnSearch::Ivf(p) => Ok(ResolvedSearch::Ivf(p.resolve(n)?)),
            KnnSearch::Auto(p) if n > AUTO_EXACT_MAX_ROWS => Ok(ResolvedSearch::Ivf(p.resolve(n)?)),
            KnnSearch::Auto(_) => Ok(ResolvedSearch::Exact),
        }
    }
}

/// Recall@m of an IVF search against the exact search on a sample of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// Rows sampled.
    pub sampled: usize,
    /// Exact neighbours of the sampled rows (the denominator).
    pub expected: usize,
    /// Of those, how many the IVF lists hold.
    pub found: usize,
    /// `found / expected` (1 when no sampled row has a neighbour).
    pub recall: f64,
}

/// What a graph search did, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchInfo {
    /// The search that ran.
    pub search: ResolvedSearch,
    /// Its recall, when a sample was measured.
    pub recall: Option<Recall>,
}

impl SearchInfo {
    /// The exact search (recall 1 by construction, nothing measured).
    pub fn exact() -> Self {
        Self {
            search: ResolvedSearch::Exact,
            recall: None,
        }
    }

    /// `exact` or `ivf`.
    pub fn name(&self) -> &'static str {
        match self.search {
            ResolvedSearch::Exact => "exact",
            ResolvedSearch::Ivf(_) => "ivf",
        }
    }
}

/// The inverted file: centroids, lists and every row's probes, with the normalised rows stored
/// list by list so that each list is one contiguous block.
#[derive(Debug, Clone)]
pub struct IvfIndex {
    n: usize,
    d: usize,
    nprobe: usize,
    /// `nlist × d`, unit rows (a centroid of an empty training cluster that could not be re-seeded
    /// keeps its previous value).
    centroids: Vec<f32>,
    /// List `l` holds positions `offsets[l]..offsets[l + 1]` of `order` and `data`.
    offsets: Vec<usize>,
    /// Original row at each position; ascending within a list.
    order: Vec<u32>,
    /// Normalised rows at their positions (`n × d`), bit-identical to
    /// [`crate::knn::l2_normalize_rows`].
    data: Vec<f32>,
    /// `n × nprobe` list ids per original row, nearest centroid first (its own list).
    probes: Vec<u32>,
}

impl IvfIndex {
    /// Trains the centroids on a seeded sample of `min(n, 40·nlist)` rows (spherical k-means,
    /// initial centroids a seeded choice of distinct sample rows, up to `train_iterations` Lloyd
    /// rounds), assigns every row to its nearest centroid (ties to the smaller list) and records
    /// its `nprobe` nearest lists.
    ///
    /// # Errors
    /// As [`crate::knn::validate_embeddings`], and [`CoreError::InvalidParameter`] when the
    /// settings do not fit `n` (see [`IvfParams::resolve`]).
    pub fn build(embeddings: ArrayView2<f32>, settings: &IvfSettings) -> Result<Self> {
        validate_embeddings(embeddings)?;
        let (n, d) = embeddings.dim();
        let params = IvfParams {
            nlist: Some(settings.nlist),
            nprobe: Some(settings.nprobe),
            ..IvfParams::default()
        };
        params.resolve(n)?;
        let (nlist, nprobe) = (settings.nlist, settings.nprobe);
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);

        // Training sample, in ascending row order so the sums below run in a fixed order.
        let train = (TRAIN_ROWS_PER_LIST.saturating_mul(nlist)).min(n);
        let mut sample_rows = sample(&mut rng, n, train).into_vec();
        sample_rows.sort_unstable();
        let sample_data = normalized_rows(embeddings, &sample_rows);
        let init = sample(&mut rng, train, nlist).into_vec();
        let mut centroids = vec![0.0f32; nlist * d];
        for (c, &s) in init.iter().enumerate() {
            centroids[c * d..(c + 1) * d].copy_from_slice(&sample_data[s * d..(s + 1) * d]);
        }
        let mut labels: Option<Vec<u32>> = None;
        for _ in 0..settings.train_iterations {
            let (new_labels, best) = nearest_centroids(&sample_data, d, &centroids, 1);
            if labels.as_ref() == Some(&new_labels) {
                break;
            }
            centroids = update_centroids(&sample_data, d, &new_labels, best, &centroids);
            labels = Some(new_labels);
        }

        // Every row's probes, in fixed blocks of rows normalised on the fly.
        let block = (ASSIGN_SCORES / nlist).clamp(1, BLOCK_ROWS);
        let probes: Vec<u32> = (0..n.div_ceil(block))
            .into_par_iter()
            .flat_map_iter(|b| {
                let rows: Vec<usize> = (b * block..((b + 1) * block).min(n)).collect();
                let x = normalized_rows(embeddings, &rows);
                nearest_centroids(&x, d, &centroids, nprobe).0
            })
            .collect();

        // Lists by a counting sort of the own list: rows ascending inside each list.
        let mut offsets = vec![0usize; nlist + 1];
        for i in 0..n {
            offsets[probes[i * nprobe] as usize + 1] += 1;
        }
        for l in 0..nlist {
            offsets[l + 1] += offsets[l];
        }
        let mut next = offsets.clone();
        let mut order = vec![0u32; n];
        for i in 0..n {
            let l = probes[i * nprobe] as usize;
            order[next[l]] = i as u32;
            next[l] += 1;
        }
        let mut data = vec![0.0f32; n * d];
        data.par_chunks_mut(d)
            .zip(order.par_iter())
            .for_each(|(dst, &i)| normalize_into(embeddings.row(i as usize), dst));
        Ok(Self {
            n,
            d,
            nprobe,
            centroids,
            offsets,
            order,
            data,
            probes,
        })
    }

    /// Rows indexed.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns of the embeddings.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Number of lists.
    pub fn nlist(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Lists probed per row.
    pub fn nprobe(&self) -> usize {
        self.nprobe
    }

    /// The centroids, `nlist × d` row-major.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Positions of list `l`'s rows in [`IvfIndex::order`] and [`IvfIndex::data`].
    pub fn list_range(&self, l: usize) -> std::ops::Range<usize> {
        self.offsets[l]..self.offsets[l + 1]
    }

    /// The original rows of list `l`, ascending.
    pub fn list(&self, l: usize) -> &[u32] {
        &self.order[self.list_range(l)]
    }

    /// Original row at every position (lists one after another).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The normalised rows at their positions, `n × d` row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The lists original row `row` probes, its own first, then by centroid similarity
    /// (descending, ties to the smaller list).
    pub fn probes(&self, row: usize) -> &[u32] {
        &self.probes[row * self.nprobe..(row + 1) * self.nprobe]
    }

    /// The list original row `row` belongs to.
    pub fn list_of(&self, row: usize) -> usize {
        self.probes[row * self.nprobe] as usize
    }

    /// Bytes the index holds (for memory estimates and reports).
    pub fn bytes(&self) -> usize {
        4 * (self.centroids.len() + self.order.len() + self.data.len() + self.probes.len())
            + 8 * self.offsets.len()
    }
}

/// The IVF row-wise neighbour lists `(column, similarity)` of every row, sorted by (similarity
/// descending, index ascending), only positive similarities, at most `neighbors` each (`m ≥ n`
/// keeps every candidate). Reports one `advance` per block of query rows (after a `start`); the
/// caller finishes the stage.
pub fn ivf_lists(
    index: &IvfIndex,
    neighbors: usize,
    progress: &dyn Progress,
) -> Vec<Vec<(u32, f32)>> {
    let n = index.n;
    let m = neighbors.min(n.saturating_sub(1));
    let blocks: Vec<(usize, usize)> = (0..index.nlist())
        .flat_map(|l| {
            let r = index.list_range(l);
            (r.start..r.end)
                .step_by(BLOCK_ROWS)
                .map(move |a| (a, (a + BLOCK_ROWS).min(r.end)))
        })
        .collect();
    progress.start(Stage::Graph, blocks.len() as u64);
    if m == 0 {
        progress.advance(blocks.len() as u64);
        return vec![Vec::new(); n];
    }
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = blocks
        .par_iter()
        .map(|&(a, b)| {
            let lists = search_block(index, a, b, m);
            progress.advance(1);
            lists
        })
        .collect();
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for ((a, _), lists) in blocks.iter().zip(per_block) {
        for (p, list) in (*a..).zip(lists) {
            out[index.order[p] as usize] = list;
        }
    }
    out
}

/// The IVF kNN graph (SPEC §1.3) on the CPU, with its recall when `settings.recall_sample > 0`.
/// [`crate::backend::Backend::ivf_knn_graph`] is the same with the backend's search.
///
/// # Errors
/// As [`IvfIndex::build`].
pub fn ivf_knn_graph(
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
    settings: &IvfSettings,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    let index = IvfIndex::build(embeddings, settings)?;
    let lists = ivf_lists(&index, config.neighbors, progress);
    graph_from_lists(&index, lists, config, settings, progress)
}

/// Measures the recall of `lists` (if asked), symmetrises them and finishes the graph stage: the
/// shared tail of every backend's IVF graph.
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when `lists` does not have one list per row; as
/// [`symmetrize_lists`].
pub fn graph_from_lists(
    index: &IvfIndex,
    lists: Vec<Vec<(u32, f32)>>,
    config: &KnnConfig,
    settings: &IvfSettings,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    if lists.len() != index.n {
        return Err(CoreError::ShapeMismatch {
            what: "IVF neighbour lists vs rows".into(),
            expected: index.n,
            found: lists.len(),
        });
    }
    let recall = (settings.recall_sample > 0).then(|| {
        recall_at_m(
            index,
            &lists,
            config.neighbors,
            settings.recall_sample,
            settings.seed,
        )
    });
    let graph = symmetrize_lists(index.n, lists, config.symmetrize)?;
    progress.finish(Stage::Graph);
    Ok((
        graph,
        SearchInfo {
            search: ResolvedSearch::Ivf(*settings),
            recall,
        },
    ))
}

/// Recall@m of `lists` against the exact search: for `sample_size` rows drawn with `seed` (all
/// rows when it is `n` or more), the fraction of their exact top-`m` neighbours (same similarity,
/// clipping and tie rules) that `lists` holds.
pub fn recall_at_m(
    index: &IvfIndex,
    lists: &[Vec<(u32, f32)>],
    neighbors: usize,
    sample_size: usize,
    seed: u64,
) -> Recall {
    let n = index.n;
    let m = neighbors.min(n.saturating_sub(1));
    let size = sample_size.min(n);
    // Its own stream, so the recall sample does not depend on the training.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7265_6361_6c6c);
    let mut rows = sample(&mut rng, n, size).into_vec();
    rows.sort_unstable();
    if m == 0 || rows.is_empty() {
        return Recall {
            sampled: rows.len(),
            expected: 0,
            found: 0,
            recall: 1.0,
        };
    }
    let mut position = vec![0u32; n];
    for (p, &i) in index.order.iter().enumerate() {
        position[i as usize] = p as u32;
    }
    let counts: Vec<(usize, usize)> = rows
        .par_chunks(BLOCK_ROWS)
        .map(|chunk| {
            let queries: Vec<(usize, u32)> = chunk
                .iter()
                .map(|&i| (position[i] as usize, i as u32))
                .collect();
            let mut tops: Vec<TopM> = chunk.iter().map(|_| TopM::new(m)).collect();
            search_against(
                index,
                &queries,
                0..n,
                &mut tops,
                &(0..chunk.len()).collect::<Vec<_>>(),
            );
            let (mut expected, mut found) = (0, 0);
            for (&i, top) in chunk.iter().zip(tops) {
                let exact = top.into_sorted();
                expected += exact.len();
                found += exact
                    .iter()
                    .filter(|(j, _)| lists[i].iter().any(|(c, _)| c == j))
                    .count();
            }
            (expected, found)
        })
        .collect();
    let expected: usize = counts.iter().map(|c| c.0).sum();
    let found: usize = counts.iter().map(|c| c.1).sum();
    Recall {
        sampled: rows.len(),
        expected,
        found,
        recall: if expected == 0 {
            1.0
        } else {
            found as f64 / expected as f64
        },
    }
}

/// The normalised copy of `rows` of `embeddings` (`rows.len() × d`, row-major).
fn normalized_rows(embeddings: ArrayView2<f32>, rows: &[usize]) -> Vec<f32> {
    let d = embeddings.ncols();
    let mut out = vec![0.0f32; rows.len() * d];
    out.par_chunks_mut(d)
        .zip(rows.par_iter())
        .for_each(|(dst, &i)| normalize_into(embeddings.row(i), dst));
    out
}

/// One row normalised with exactly [`crate::knn::l2_normalize_rows`]'s arithmetic (f64 norm, each
/// value divided in f64), so the IVF and exact searches see the same bits.
fn normalize_into(row: ArrayView1<f32>, dst: &mut [f32]) {
    let norm = row.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (o, &x) in dst.iter_mut().zip(row.iter()) {
            *o = (x as f64 / norm) as f32;
        }
    } else {
        dst.fill(0.0);
    }
}

/// `C = A Bᵀ` for row-major `A` (`rows × d`) and `B` (`cols × d`) into `c` (`rows × cols`).
fn sgemm_abt(a: &[f32], b: &[f32], rows: usize, cols: usize, d: usize, c: &mut [f32]) {
    assert!(a.len() >= rows * d && b.len() >= cols * d && c.len() >= rows * cols);
    // SAFETY: A is `rows × d` row-major (row stride d), B is read as the `d × cols` transpose of
    // the `cols × d` row-major block (element (k, j) at `j·d + k`), C is `rows × cols` row-major;
    // the assert above keeps all three in bounds and C is a distinct mutable buffer.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            d,
            cols,
            1.0,
            a.as_ptr(),
            d as isize,
            1,
            b.as_ptr(),
            1,
            d as isize,
            0.0,
            c.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

/// For every row of `x` (`r × d`), the `t` centroids of largest dot product (descending, ties to
/// the smaller centroid) and the largest dot itself. Blocks of rows are fixed, so the values never
/// depend on the thread count.
fn nearest_centroids(x: &[f32], d: usize, centroids: &[f32], t: usize) -> (Vec<u32>, Vec<f32>) {
    let r = x.len() / d;
    let c = centroids.len() / d;
    let block = (ASSIGN_SCORES / c).clamp(1, BLOCK_ROWS);
    let parts: Vec<(Vec<u32>, Vec<f32>)> = x
        .par_chunks(block * d)
        .map(|a| {
            let rows = a.len() / d;
            let mut scores = vec![0.0f32; rows * c];
            sgemm_abt(a, centroids, rows, c, d, &mut scores);
            let mut ids = Vec::with_capacity(rows * t);
            let mut tops = Vec::with_capacity(rows);
            let mut best: Vec<(f32, u32)> = Vec::with_capacity(t + 1);
            for row in scores.chunks_exact(c) {
                best.clear();
                for (j, &s) in row.iter().enumerate() {
                    // Columns arrive in increasing order: an equal score loses to the earlier one.
                    if best.len() < t || s > best[best.len() - 1].0 {
                        let at = best.partition_point(|&(b, _)| b >= s);
                        best.insert(at, (s, j as u32));
                        best.truncate(t);
                    }
                }
                ids.extend(best.iter().map(|&(_, j)| j));
                tops.push(best[0].0);
            }
            (ids, tops)
        })
        .collect();
    let mut ids = Vec::with_capacity(r * t);
    let mut tops = Vec::with_capacity(r);
    for (i, s) in parts {
        ids.extend(i);
        tops.extend(s);
    }
    (ids, tops)
}

/// One Lloyd update of spherical k-means: each centroid becomes the normalised f64 sum of its
/// members (in row order). An empty cluster is re-seeded with the row least similar to its own
/// centroid (ties to the smaller row) among rows whose cluster keeps another member; if there is
/// none (all rows coincide), it keeps its previous centroid.
fn update_centroids(
    x: &[f32],
    d: usize,
    labels: &[u32],
    best: Vec<f32>,
    previous: &[f32],
) -> Vec<f32> {
    let c = previous.len() / d;
    let mut labels = labels.to_vec();
    let mut counts = vec![0usize; c];
    for &l in &labels {
        counts[l as usize] += 1;
    }
    if counts.contains(&0) {
        // Rows from the least similar to their centroid (ties to the smaller row): one sort, then
        // each empty cluster takes the next row whose cluster keeps another member.
        let mut farthest: Vec<usize> = (0..labels.len()).collect();
        farthest.sort_by(|&p, &q| best[p].total_cmp(&best[q]).then(p.cmp(&q)));
        let mut next = farthest.into_iter();
        for j in 0..c {
            if counts[j] > 0 {
                continue;
            }
            let Some(i) = next.by_ref().find(|&i| counts[labels[i] as usize] > 1) else {
                break;
            };
            counts[labels[i] as usize] -= 1;
            labels[i] = j as u32;
            counts[j] = 1;
        }
    }
    let mut members: Vec<Vec<usize>> = counts.iter().map(|&k| Vec::with_capacity(k)).collect();
    for (i, &l) in labels.iter().enumerate() {
        members[l as usize].push(i);
    }
    let mut out = previous.to_vec();
    out.par_chunks_mut(d)
        .zip(members.par_iter())
        .for_each(|(dst, rows)| {
            if rows.is_empty() {
                return;
            }
            let mut sum = vec![0.0f64; d];
            for &i in rows {
                for (s, &v) in sum.iter_mut().zip(&x[i * d..(i + 1) * d]) {
                    *s += v as f64;
                }
            }
            let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                for (o, s) in dst.iter_mut().zip(sum) {
                    *o = (s / norm) as f32;
                }
            }
        });
    out
}

/// Bounded top-`m` under the total order (similarity descending, index ascending), whatever the
/// order candidates arrive in: the IVF search visits lists, not columns in increasing order.
struct TopM {
    m: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopM {
    fn new(m: usize) -> Self {
        Self {
            m,
            heap: BinaryHeap::with_capacity(m.min(1024)),
        }
    }

    #[inline]
    fn offer(&mut self, sim: f32, index: u32) {
        if self.heap.len() < self.m {
            self.heap.push(Candidate { sim, index });
            return;
        }
        let worst = self.heap.peek().expect("m ≥ 1 and the heap is full");
        if sim > worst.sim || (sim == worst.sim && index < worst.index) {
            *self.heap.peek_mut().expect("full") = Candidate { sim, index };
        }
    }

    /// The smallest similarity that may still enter (0 while there is room: clipping).
    #[inline]
    fn floor(&self) -> f32 {
        if self.heap.len() < self.m {
            0.0
        } else {
            self.heap.peek().map_or(0.0, |c| c.sim)
        }
    }

    fn into_sorted(self) -> Vec<(u32, f32)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| (c.index, c.sim))
            .collect()
    }
}

/// Offers the candidates at `columns` (positions of the index) to the queries `selected` of
/// `queries` (`(position, original row)`), whose tops are `tops[selected[..]]`: the selected query
/// rows are gathered into one block and multiplied against the columns in tiles.
fn search_against(
    index: &IvfIndex,
    queries: &[(usize, u32)],
    columns: std::ops::Range<usize>,
    tops: &mut [TopM],
    selected: &[usize],
) {
    let d = index.d;
    let g = selected.len();
    if g == 0 || columns.is_empty() {
        return;
    }
    let mut a = vec![0.0f32; g * d];
    for (dst, &q) in a.chunks_exact_mut(d).zip(selected) {
        let p = queries[q].0;
        dst.copy_from_slice(&index.data[p * d..(p + 1) * d]);
    }
    let width = TILE_COLS.min(columns.len());
    let mut tile = vec![0.0f32; g * width];
    for c0 in columns.clone().step_by(TILE_COLS) {
        let cols = TILE_COLS.min(columns.end - c0);
        let c = &mut tile[..g * cols];
        sgemm_abt(&a, &index.data[c0 * d..(c0 + cols) * d], g, cols, d, c);
        let col_rows = &index.order[c0..c0 + cols];
        for (sims, &q) in c.chunks_exact(cols).zip(selected) {
            let own = queries[q].1;
            let top = &mut tops[q];
            let mut floor = top.floor();
            for (&raw, &j) in sims.iter().zip(col_rows) {
                let sim = snap(raw);
                // `>=`: an equal similarity may still win on the smaller index.
                if sim > 0.0 && sim >= floor && j != own {
                    top.offer(sim, j);
                    floor = top.floor();
                }
            }
        }
    }
}

/// Neighbour lists of the query rows at positions `a..b` (inside one list), in position order.
fn search_block(index: &IvfIndex, a: usize, b: usize, m: usize) -> Vec<Vec<(u32, f32)>> {
    let queries: Vec<(usize, u32)> = (a..b).map(|p| (p, index.order[p])).collect();
    let mut tops: Vec<TopM> = queries.iter().map(|_| TopM::new(m)).collect();
    // (probed list, query) pairs grouped by list: each group is one block product.
    let mut pairs: Vec<(u32, usize)> = Vec::with_capacity(queries.len() * index.nprobe);
    for (q, &(_, row)) in queries.iter().enumerate() {
        pairs.extend(index.probes(row as usize).iter().map(|&l| (l, q)));
    }
    pairs.sort_unstable();
    let mut selected = Vec::with_capacity(queries.len());
    for group in pairs.chunk_by(|x, y| x.0 == y.0) {
        selected.clear();
        selected.extend(group.iter().map(|&(_, q)| q));
        let l = group[0].0 as usize;
        search_against(index, &queries, index.list_range(l), &mut tops, &selected);
    }
    tops.into_iter().map(TopM::into_sorted).collect()
}

/// Partitions of at most `max_size` rows made of whole IVF lists (SPEC §1.4), as ranges of
/// positions of the index (see [`IvfIndex::order`]): near neighbours share a list or a nearby
/// one, so they stay together. Greedy and deterministic: the first list not yet placed opens a
/// partition, which then takes the remaining lists whose centroids are most similar to that
/// list's (ties to the smaller list) as long as they fit; a list larger than `max_size` is cut
/// into equal runs of its rows (ascending), each a partition of its own. Empty lists are skipped.
///
/// # Errors
/// [`CoreError::InvalidParameter`] naming `partition-size` when `max_size = 0`.
pub fn group_lists(index: &IvfIndex, max_size: usize) -> Result<Vec<Vec<std::ops::Range<usize>>>> {
    if max_size == 0 {
        return Err(CoreError::InvalidParameter {
            name: "partition-size",
            value: "0".into(),
            reason: "a partition must hold at least one sample",
        });
    }
    let d = index.d;
    let nlist = index.nlist();
    let mut out: Vec<Vec<std::ops::Range<usize>>> = Vec::new();
    let mut placed = vec![false; nlist];
    for (l, placed) in placed.iter_mut().enumerate() {
        let r = index.list_range(l);
        if r.is_empty() {
            *placed = true;
        } else if r.len() > max_size {
            *placed = true;
            let parts = r.len().div_ceil(max_size);
            let (base, extra) = (r.len() / parts, r.len() % parts);
            let mut start = r.start;
            for p in 0..parts {
                let len = base + usize::from(p < extra);
                out.push(std::iter::once(start..start + len).collect());
                start += len;
            }
        }
    }
    for seed in 0..nlist {
        if placed[seed] {
            continue;
        }
        placed[seed] = true;
        let mut size = index.list_range(seed).len();
        let mut group = vec![index.list_range(seed)];
        let c = &index.centroids[seed * d..(seed + 1) * d];
        let mut near: Vec<(f64, usize)> = (0..nlist)
            .filter(|&l| !placed[l])
            .map(|l| {
                let o = &index.centroids[l * d..(l + 1) * d];
                (c.iter().zip(o).map(|(&a, &b)| a as f64 * b as f64).sum(), l)
            })
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, l) in near {
            let len = index.list_range(l).len();
            if size + len <= max_size {
                placed[l] = true;
                size += len;
                group.push(index.list_range(l));
            }
            if size == max_size {
                break;
            }
        }
        group.sort_by_key(|r| r.start);
        out.push(group);
    }
    Ok(out)
}

/// The IVF neighbour lists of the rows at `ranges` (one partition of [`group_lists`]) restricted
/// to the partition: neighbours are searched among each row's probed lists as in [`ivf_lists`],
/// then those outside the partition are dropped and counted. `local[row]` is each row's index
/// inside its partition and `part[row]` its partition, `id` this one's. Returns the lists in
/// local order (rows of the partition ascending) with local column indices, and the number of
/// dropped (cut) neighbour entries.
pub fn partition_lists(
    index: &IvfIndex,
    ranges: &[std::ops::Range<usize>],
    neighbors: usize,
    id: u32,
    part: &[u32],
    local: &[u32],
) -> (Vec<Vec<(u32, f32)>>, usize) {
    let m = neighbors.min(index.n.saturating_sub(1));
    let size: usize = ranges.iter().map(|r| r.len()).sum();
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); size];
    if m == 0 {
        return (out, 0);
    }
    let blocks: Vec<(usize, usize)> = ranges
        .iter()
        .flat_map(|r| {
            let end = r.end;
            (r.start..r.end)
                .step_by(BLOCK_ROWS)
                .map(move |a| (a, (a + BLOCK_ROWS).min(end)))
        })
        .collect();
    // Per block: (local row, its restricted list) pairs and the entries cut.
    type BlockLists = (Vec<(usize, Vec<(u32, f32)>)>, usize);
    let per_block: Vec<BlockLists> = blocks
        .par_iter()
        .map(|&(a, b)| {
            let mut cut = 0;
            let lists = search_block(index, a, b, m)
                .into_iter()
                .zip(a..b)
                .map(|(list, p)| {
                    let before = list.len();
                    let kept: Vec<(u32, f32)> = list
                        .into_iter()
                        .filter(|&(j, _)| part[j as usize] == id)
                        .map(|(j, v)| (local[j as usize], v))
                        .collect();
                    cut += before - kept.len();
                    (local[index.order[p] as usize] as usize, kept)
                })
                .collect();
            (lists, cut)
        })
        .collect();
    let mut cut = 0;
    for (lists, c) in per_block {
        cut += c;
        for (i, list) in lists {
            out[i] = list;
        }
    }
    (out, cut)
}

/// The graph `search` gives on `n = embeddings.nrows()` rows, built on `backend`: the exact
/// search through [`crate::backend::Backend::knn_graph`] (unchanged), IVF through
/// [`crate::backend::Backend::ivf_knn_graph`].
///
/// # Errors
/// As [`KnnSearch::resolve`] and the backend's graph.
pub fn search_graph(
    backend: &dyn crate::backend::Backend,
    embeddings: ArrayView2<f32>,
    config: &KnnConfig,
    search: &KnnSearch,
    progress: &dyn Progress,
) -> Result<(CsrSimilarity, SearchInfo)> {
    match search.resolve(embeddings.nrows())? {
        ResolvedSearch::Exact => Ok((
            backend.knn_graph(embeddings, config, progress)?,
            SearchInfo::exact(),
        )),
        ResolvedSearch::Ivf(settings) => {
            backend.ivf_knn_graph(embeddings, config, &settings, progress)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::{knn_graph, knn_lists, Symmetrize};
    use crate::progress::Silent;
    use ndarray::Array2;
    use rand::Rng;

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
        let x = crate::knn::l2_normalize_rows(e.view());
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
        approx::assert_relative_eq!(r.recall, 0.75);
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
        use crate::select::{SelectConfig, Selector};
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
}
