//! Spherical k-means on normalised rows: the normalisation (bit-identical to the exact search's),
//! the nearest-centroid assignment and the Lloyd update.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::blocks::{sgemm_abt, ASSIGN_SCORES, BLOCK_ROWS};

/// The normalised copy of `rows` of `embeddings` (`rows.len() × d`, row-major).
pub(super) fn normalized_rows(embeddings: ArrayView2<f32>, rows: &[usize]) -> Vec<f32> {
    let d = embeddings.ncols();
    let mut out = vec![0.0f32; rows.len() * d];
    out.par_chunks_mut(d)
        .zip(rows.par_iter())
        .for_each(|(dst, &i)| normalize_into(embeddings.row(i), dst));
    out
}

/// One row normalised with exactly [`crate::knn::l2_normalize_rows`]'s arithmetic (f64 norm, each
/// value divided in f64), so the IVF and exact searches see the same bits.
pub(super) fn normalize_into(row: ArrayView1<f32>, dst: &mut [f32]) {
    let norm = row.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (o, &x) in dst.iter_mut().zip(row.iter()) {
            *o = (x as f64 / norm) as f32;
        }
    } else {
        dst.fill(0.0);
    }
}

/// For every row of `x` (`r × d`), the `t` centroids of largest dot product (descending, ties to
/// the smaller centroid) and the largest dot itself. Blocks of rows are fixed, so the values never
/// depend on the thread count.
pub(super) fn nearest_centroids(
    x: &[f32],
    d: usize,
    centroids: &[f32],
    t: usize,
) -> (Vec<u32>, Vec<f32>) {
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
pub(super) fn update_centroids(
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
