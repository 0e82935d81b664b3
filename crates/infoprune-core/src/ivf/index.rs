//! The inverted file itself: trained centroids, the lists and every row's probes, with the
//! normalised rows stored list by list.

use ndarray::ArrayView2;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::blocks::{ASSIGN_SCORES, BLOCK_ROWS};
use super::kmeans::{nearest_centroids, normalize_into, normalized_rows, update_centroids};
use super::settings::{IvfParams, IvfSettings, TRAIN_ROWS_PER_LIST};
use crate::error::Result;
use crate::knn::validate_embeddings;

/// The inverted file: centroids, lists and every row's probes, with the normalised rows stored
/// list by list so that each list is one contiguous block.
#[derive(Debug, Clone)]
pub struct IvfIndex {
    pub(super) n: usize,
    pub(super) d: usize,
    pub(super) nprobe: usize,
    /// `nlist × d`, unit rows (a centroid of an empty training cluster that could not be re-seeded
    /// keeps its previous value).
    pub(super) centroids: Vec<f32>,
    /// List `l` holds positions `offsets[l]..offsets[l + 1]` of `order` and `data`.
    pub(super) offsets: Vec<usize>,
    /// Original row at each position; ascending within a list.
    pub(super) order: Vec<u32>,
    /// Normalised rows at their positions (`n × d`), bit-identical to
    /// [`crate::knn::l2_normalize_rows`].
    pub(super) data: Vec<f32>,
    /// `n × nprobe` list ids per original row, nearest centroid first (its own list).
    pub(super) probes: Vec<u32>,
}

impl IvfIndex {
    /// Trains the centroids on a seeded sample of `min(n, 40·nlist)` rows (spherical k-means,
    /// initial centroids a seeded choice of distinct sample rows, up to `train_iterations` Lloyd
    /// rounds), assigns every row to its nearest centroid (ties to the smaller list) and records
    /// its `nprobe` nearest lists.
    ///
    /// # Errors
    /// As [`crate::knn::validate_embeddings`], and [`CoreError::InvalidParameter`](crate::error::CoreError::InvalidParameter) when the
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
