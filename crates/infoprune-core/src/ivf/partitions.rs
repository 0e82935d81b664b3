//! Partitions made of whole IVF lists (SPEC §1.4) and each partition's neighbour lists restricted
//! to it.

use rayon::prelude::*;

use super::blocks::BLOCK_ROWS;
use super::index::IvfIndex;
use super::search::search_block;
use crate::error::{CoreError, Result};

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
/// to the partition: neighbours are searched among each row's probed lists as in [`ivf_lists`](super::search::ivf_lists),
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
