//! The list-against-list search: every row's top-`m` among the rows of the lists it probes.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::blocks::{sgemm_abt, BLOCK_ROWS, TILE_COLS};
use super::index::IvfIndex;
use crate::knn::{snap, Candidate};
use crate::progress::{Progress, Stage};

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

/// Bounded top-`m` under the total order (similarity descending, index ascending), whatever the
/// order candidates arrive in: the IVF search visits lists, not columns in increasing order.
pub(super) struct TopM {
    m: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopM {
    pub(super) fn new(m: usize) -> Self {
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

    pub(super) fn into_sorted(self) -> Vec<(u32, f32)> {
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
pub(super) fn search_against(
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
pub(super) fn search_block(index: &IvfIndex, a: usize, b: usize, m: usize) -> Vec<Vec<(u32, f32)>> {
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
