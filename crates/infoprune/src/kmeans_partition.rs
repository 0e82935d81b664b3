//! [`PartitionMethod::KMeans`](crate::partition::PartitionMethod::KMeans): spherical k-means on
//! the L2-normalised embeddings (k-means++ seeding, Lloyd rounds), clusters then split or merged so
//! that every partition holds at most `P` rows and near-duplicates share one.
//!
//! Deterministic for a seed and independent of the rayon thread count: parallel loops only ever
//! compute per-row or per-cluster values in a fixed order.

use crate::equal_cuts::equal_cuts;
use infoprune_core::error::CoreError;
use ndarray::{s, Array2, ArrayView2, Axis};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Gathers the listed rows and L2-normalises them (same arithmetic as
/// [`infoprune_core::knn::l2_normalize_rows`], done in place to avoid a second `n×d` copy); zero rows
/// stay zero. Checks finiteness of the rows read.
fn gather_normalised(
    rows: &[usize],
    embeddings: ArrayView2<f32>,
) -> Result<Array2<f32>, CoreError> {
    let d = embeddings.ncols();
    if d == 0 {
        return Err(CoreError::InvalidParameter {
            name: "embeddings",
            value: "d = 0".to_string(),
            reason: "need at least one feature column",
        });
    }
    let mut x = embeddings.select(Axis(0), rows);
    if !x.is_standard_layout() {
        x = x.as_standard_layout().into_owned();
    }
    let flat = x
        .as_slice_mut()
        .expect("a standard-layout array is contiguous");
    // First bad value in `rows` order, reported at its flat index in `embeddings`.
    if let Some(i) = flat
        .par_chunks(d)
        .position_first(|row| row.iter().any(|v| !v.is_finite()))
    {
        let row = &flat[i * d..(i + 1) * d];
        let col = row.iter().position(|v| !v.is_finite()).unwrap_or(0);
        return Err(CoreError::NonFinite {
            what: "embeddings",
            index: rows[i] * d + col,
            value: row[col] as f64,
        });
    }
    flat.par_chunks_mut(d).for_each(|row| {
        let norm = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v = (*v as f64 / norm) as f32);
        }
    });
    Ok(x)
}

/// Dot product of two slices, accumulated in f64 (used where a handful of products decide merges,
/// so rounding never flips a close call differently from one run to another).
fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// k-means++ seeding with cosine distance `1 − x·c` on unit rows. For unit vectors
/// `‖x − c‖² = 2(1 − x·c)`, so sampling proportional to the cosine distance is exactly the classic
/// D² weighting. Returns the `c × d` seed centroids (copies of data rows).
fn kmeans_pp(x: &Array2<f32>, c: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let n = x.nrows();
    let mut centers = Vec::with_capacity(c);
    let first = rng.random_range(0..n);
    centers.push(first);
    let cos_dist = |i: usize, j: usize| (1.0 - x.row(i).dot(&x.row(j)) as f64).max(0.0);
    let mut dist: Vec<f64> = (0..n).into_par_iter().map(|i| cos_dist(i, first)).collect();
    while centers.len() < c {
        // Sequential sum and walk: fixed order, so the choice does not depend on the thread count.
        let total: f64 = dist.iter().sum();
        let next = if total > 0.0 {
            let target = rng.random::<f64>() * total;
            let mut acc = 0.0;
            let mut pick = None;
            for (i, &w) in dist.iter().enumerate() {
                if w > 0.0 {
                    acc += w;
                    pick = Some(i);
                    if acc > target {
                        break;
                    }
                }
            }
            pick.expect("total > 0 means some weight is positive")
        } else {
            // Every point coincides with a centre (duplicates only): any row will do; the empty
            // clusters this leaves are re-seeded or dropped later.
            rng.random_range(0..n)
        };
        centers.push(next);
        dist.par_iter_mut()
            .enumerate()
            .for_each(|(i, w)| *w = w.min(cos_dist(i, next)));
    }
    x.select(Axis(0), &centers)
}

/// Assigns every row to the centroid with the largest dot product (ties to the smaller cluster
/// index). Returns the labels and the winning dots. Works in row blocks of at most ~4M scores so
/// memory stays bounded; block boundaries do not depend on the thread count.
fn assign(x: &Array2<f32>, centroids: &Array2<f32>) -> (Vec<usize>, Vec<f32>) {
    let n = x.nrows();
    let c = centroids.nrows();
    let block = ((1usize << 22) / c).clamp(1, 4096);
    let ct = centroids.t().as_standard_layout().into_owned();
    let mut labels = vec![0usize; n];
    let mut best = vec![0f32; n];
    labels
        .par_chunks_mut(block)
        .zip(best.par_chunks_mut(block))
        .enumerate()
        .for_each(|(b, (lab, bst))| {
            let start = b * block;
            let scores = x.slice(s![start..start + lab.len(), ..]).dot(&ct);
            for ((row, l), v) in scores
                .axis_iter(Axis(0))
                .zip(lab.iter_mut())
                .zip(bst.iter_mut())
            {
                let (mut arg, mut top) = (0usize, f32::NEG_INFINITY);
                for (j, &sj) in row.iter().enumerate() {
                    if sj > top {
                        (arg, top) = (j, sj);
                    }
                }
                *l = arg;
                *v = top;
            }
        });
    (labels, best)
}

/// Members of each of `c` clusters, each in ascending row order (a counting sort of `labels`).
fn members_of(labels: &[usize], c: usize) -> Vec<Vec<usize>> {
    let mut counts = vec![0usize; c];
    for &l in labels {
        counts[l] += 1;
    }
    let mut out: Vec<Vec<usize>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (i, &l) in labels.iter().enumerate() {
        out[l].push(i);
    }
    out
}

/// Sum of the member rows in f64, in member order (deterministic).
fn member_sum(x: &Array2<f32>, members: &[usize]) -> Vec<f64> {
    let mut sum = vec![0f64; x.ncols()];
    for &i in members {
        for (s, &v) in sum.iter_mut().zip(x.row(i)) {
            *s += v as f64;
        }
    }
    sum
}

/// The unit vector along `sum` (zero stays zero), as f32.
fn unit(sum: &[f64]) -> Vec<f32> {
    let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        sum.iter().map(|&v| (v / norm) as f32).collect()
    } else {
        vec![0.0; sum.len()]
    }
}

/// One centroid update. An empty cluster is first re-seeded with the row farthest from its own
/// centroid (smallest winning dot, ties to the smaller row) among rows whose cluster keeps at least
/// one other member, and that row moves to it; then every centroid is the renormalised mean of its
/// members.
fn update_centroids(
    x: &Array2<f32>,
    labels: &mut [usize],
    best: &mut [f32],
    c: usize,
) -> Array2<f32> {
    let mut counts = vec![0usize; c];
    for &l in labels.iter() {
        counts[l] += 1;
    }
    for j in 0..c {
        if counts[j] > 0 {
            continue;
        }
        let mut pick: Option<usize> = None;
        for (i, &b) in best.iter().enumerate() {
            if counts[labels[i]] > 1 && pick.is_none_or(|p| b < best[p]) {
                pick = Some(i);
            }
        }
        if let Some(i) = pick {
            counts[labels[i]] -= 1;
            labels[i] = j;
            counts[j] = 1;
            // Already moved: never the farthest again in this update.
            best[i] = f32::INFINITY;
        }
    }
    let members = members_of(labels, c);
    let rows: Vec<Vec<f32>> = members
        .par_iter()
        .map(|m| unit(&member_sum(x, m)))
        .collect();
    let mut out = Array2::<f32>::zeros((c, x.ncols()));
    for (mut dst, src) in out.axis_iter_mut(Axis(0)).zip(rows) {
        dst.iter_mut().zip(src).for_each(|(d, s)| *d = s);
    }
    out
}

/// A cluster during split and merge: member rows (into `x`), their f64 sum and unit centroid.
struct Cluster {
    members: Vec<usize>,
    sum: Vec<f64>,
    centroid: Vec<f32>,
}

impl Cluster {
    fn new(x: &Array2<f32>, members: Vec<usize>) -> Self {
        let sum = member_sum(x, &members);
        let centroid = unit(&sum);
        Self {
            members,
            sum,
            centroid,
        }
    }
}

/// The k-means partitions of the candidate `rows` (see [`crate::partition::partition`]): sorted,
/// non-empty, at most `max_size` rows each, ordered by their smallest row; `iterations` Lloyd
/// rounds at most.
pub(crate) fn kmeans_partitions(
    rows: &[usize],
    embeddings: ArrayView2<f32>,
    max_size: usize,
    iterations: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Vec<usize>>, CoreError> {
    let x = gather_normalised(rows, embeddings)?;
    let n = rows.len();
    let c = n.div_ceil(max_size).max(1);
    if c == 1 {
        // Everything fits one partition: no clustering can change the answer.
        let mut all = rows.to_vec();
        all.sort_unstable();
        return Ok(vec![all]);
    }

    // Lloyd iterations; the last step is always an assignment, so exact duplicates (identical unit
    // rows, identical scores) always share a cluster.
    let mut centroids = kmeans_pp(&x, c, rng);
    let (mut labels, mut best) = assign(&x, &centroids);
    for _ in 0..iterations {
        centroids = update_centroids(&x, &mut labels, &mut best, c);
        let (new_labels, new_best) = assign(&x, &centroids);
        let converged = new_labels == labels;
        (labels, best) = (new_labels, new_best);
        if converged {
            break;
        }
    }

    // Split clusters larger than max_size: members sorted by their dot with the centroid (so rows at
    // the same place relative to it, near-duplicates above all, stay adjacent), cut into equal runs.
    let mut clusters: Vec<Cluster> = Vec::new();
    for members in members_of(&labels, c).into_iter().filter(|m| !m.is_empty()) {
        let cluster = Cluster::new(&x, members);
        let size = cluster.members.len();
        if size <= max_size {
            clusters.push(cluster);
            continue;
        }
        let centroid = &cluster.centroid;
        let mut keyed: Vec<(f64, usize)> = cluster
            .members
            .iter()
            .map(|&i| {
                (
                    dot64(
                        x.row(i).as_slice().expect("owned rows are contiguous"),
                        centroid,
                    ),
                    i,
                )
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (a, b) in equal_cuts(size, size.div_ceil(max_size)) {
            clusters.push(Cluster::new(
                &x,
                keyed[a..b].iter().map(|&(_, i)| i).collect(),
            ));
        }
    }

    // Merge small clusters (< max_size/4), smallest first (ties to the earlier cluster), each into
    // the nearest other cluster by centroid dot (ties to the earlier) whose merged size still fits.
    let small = max_size / 4;
    let mut alive = vec![true; clusters.len()];
    let mut order: Vec<usize> = (0..clusters.len())
        .filter(|&i| clusters[i].members.len() < small)
        .collect();
    order.sort_by_key(|&i| (clusters[i].members.len(), i));
    for a in order {
        let size_a = clusters[a].members.len();
        if !alive[a] || size_a >= small {
            continue;
        }
        let mut partner: Option<(usize, f64)> = None;
        for (b, other) in clusters.iter().enumerate() {
            if b == a || !alive[b] || size_a + other.members.len() > max_size {
                continue;
            }
            let sim = dot64(&clusters[a].centroid, &other.centroid);
            if partner.is_none_or(|(_, s)| sim > s) {
                partner = Some((b, sim));
            }
        }
        if let Some((b, _)) = partner {
            let absorbed = std::mem::take(&mut clusters[a].members);
            let add = std::mem::take(&mut clusters[a].sum);
            let target = &mut clusters[b];
            target.members.extend(absorbed);
            target.sum.iter_mut().zip(add).for_each(|(s, v)| *s += v);
            target.centroid = unit(&target.sum);
            alive[a] = false;
        }
    }

    let mut out: Vec<Vec<usize>> = clusters
        .into_iter()
        .zip(alive)
        .filter(|(_, alive)| *alive)
        .map(|(cl, _)| {
            let mut p: Vec<usize> = cl.members.into_iter().map(|i| rows[i]).collect();
            p.sort_unstable();
            p
        })
        .collect();
    out.sort_unstable_by_key(|p| p[0]);
    Ok(out)
}
