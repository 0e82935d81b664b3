//! The blocked brute-force search: blocks of rows multiplied against tiles of columns with
//! `sgemm`, every row keeping its best `m` under the total order of [`Candidate`].

use std::collections::BinaryHeap;

use ndarray::Array2;

use super::ranking::{snap, Candidate};

/// Rows per parallel task. Enough rows that `sgemm` runs at full speed on each tile, few enough that
/// a graph of a few thousand samples still spreads over several cores. Fixed, so the work split (and
/// hence every value) never depends on the thread count.
pub(super) const BLOCK_ROWS: usize = 256;

/// Columns per similarity tile: a task holds `BLOCK_ROWS × TILE_COLS` floats (2 MiB), whatever `n`.
pub(super) const TILE_COLS: usize = 2048;

/// Bounded top-`m` of one row.
struct TopM {
    heap: BinaryHeap<Candidate>,
    /// A candidate must beat this strictly: zero while the heap has room (clipping drops
    /// non-positive similarities anyway), the worst kept similarity once it is full. Because
    /// columns arrive in increasing order, a candidate equal to the worst has the larger index and
    /// loses, which is exactly the tie rule.
    threshold: f32,
}

impl TopM {
    fn new(m: usize) -> Self {
        Self {
            // Capped so that `m ≥ n` on a large input does not reserve memory for every row at once.
            heap: BinaryHeap::with_capacity(m.min(1024)),
            threshold: 0.0,
        }
    }

    fn offer(&mut self, m: usize, candidate: Candidate) {
        if self.heap.len() < m {
            self.heap.push(candidate);
        } else {
            // Overwriting the top through `PeekMut` sifts it down when the guard drops.
            *self.heap.peek_mut().expect("m ≥ 1 and the heap is full") = candidate;
        }
        if self.heap.len() == m {
            self.threshold = self.heap.peek().expect("the heap is full").sim;
        }
    }

    fn into_sorted(self) -> Vec<(u32, f32)> {
        // Ascending by `Candidate`'s order is best first: similarity descending, index ascending.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| (c.index, c.sim))
            .collect()
    }
}

/// Neighbour lists of rows `first .. first + BLOCK_ROWS` (clamped to `n`).
pub(super) fn block_lists(
    normalized: &Array2<f32>,
    first: usize,
    m: usize,
) -> Vec<Vec<(u32, f32)>> {
    let (n, d) = normalized.dim();
    let rows = BLOCK_ROWS.min(n - first);
    let data = normalized
        .as_slice()
        .expect("l2_normalize_rows returns standard layout");
    let mut top: Vec<TopM> = (0..rows).map(|_| TopM::new(m)).collect();
    let mut tile = vec![0.0f32; rows * TILE_COLS.min(n)];
    for col0 in (0..n).step_by(TILE_COLS) {
        let cols = TILE_COLS.min(n - col0);
        let c = &mut tile[..rows * cols];
        // SAFETY: A is rows `first..first + rows` of the C-order `n × d` matrix (row stride d), B is
        // the transpose of rows `col0..col0 + cols` (element (k, j) at `col0·d + j·d + k`), both
        // in bounds of `data`; C is the `rows × cols` buffer `c`, row stride `cols`, which does not
        // alias A or B.
        unsafe {
            matrixmultiply::sgemm(
                rows,
                d,
                cols,
                1.0,
                data.as_ptr().add(first * d),
                d as isize,
                1,
                data.as_ptr().add(col0 * d),
                1,
                d as isize,
                0.0,
                c.as_mut_ptr(),
                cols as isize,
                1,
            );
        }
        for (r, (sims, row_top)) in c.chunks_exact(cols).zip(top.iter_mut()).enumerate() {
            let i = first + r;
            for (jj, &raw) in sims.iter().enumerate() {
                let sim = snap(raw);
                if sim > row_top.threshold {
                    let j = col0 + jj;
                    if j != i {
                        row_top.offer(
                            m,
                            Candidate {
                                sim,
                                index: j as u32,
                            },
                        );
                    }
                }
            }
        }
    }
    top.into_iter().map(TopM::into_sorted).collect()
}
