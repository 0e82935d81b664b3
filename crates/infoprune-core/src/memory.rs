//! An upper estimate of the peak memory of a single-problem selection, computed from the shapes alone
//! so that a run can refuse before it allocates anything.

/// Rows per kNN task and columns per tile (mirrors `knn`'s blocking; a tile is `rows × cols` f32).
const KNN_TILE_BYTES: u64 = 256 * 2048 * 4;

/// Estimated bytes per stage; `peak` is what the run may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The input as read (file bytes) plus its f32 copy.
    pub input: u64,
    /// kNN scratch, neighbour lists and the symmetrised CSR graph.
    pub graph: u64,
    /// Importance, the solver's vectors and the swap-refinement buffers.
    pub solver: u64,
    /// Input + graph + solver: all three can be alive at once.
    pub peak: u64,
}

/// Estimate for `n × d` embeddings stored with `itemsize` bytes per value, `neighbors` per row, on
/// `threads` worker threads.
pub fn estimate(n: u64, d: u64, itemsize: u64, neighbors: u64, threads: u64) -> MemoryEstimate {
    let f32s = |count: u64| count.saturating_mul(4);
    // The file is read whole, converted to f32 and normalised into a second f32 copy.
    let input = n
        .saturating_mul(d)
        .saturating_mul(itemsize)
        .saturating_add(f32s(n.saturating_mul(d)));
    let normalized = f32s(n.saturating_mul(d));
    // Row-wise lists (u32 + f32 each), then the symmetric CSR with at most twice as many entries and
    // a transposed copy while merging.
    let lists = n.saturating_mul(neighbors).saturating_mul(8);
    let csr = n.saturating_mul(neighbors).saturating_mul(2 * 8 * 2);
    let indptr = n.saturating_add(1).saturating_mul(8);
    let tiles = threads.max(1).saturating_mul(KNN_TILE_BYTES);
    let graph = normalized
        .saturating_add(lists)
        .saturating_add(csr)
        .saturating_add(indptr)
        .saturating_add(tiles);
    // Degrees, ŝ, s, x, y, x_new, y_new, gradient, scratch (f32); swap products (f64), membership
    // and blocking flags, and the sorted outsiders (f64 + usize).
    let solver = f32s(n.saturating_mul(9)).saturating_add(n.saturating_mul(8 + 2 + 16));
    MemoryEstimate {
        input,
        graph,
        solver,
        peak: input.saturating_add(graph).saturating_add(solver),
    }
}

/// Bytes of an IVF index over `n × d` rows (see [`crate::ivf::IvfIndex`]): the normalised rows
/// in list order, row ids, `nprobe` probes and the list of each row, the centroids and the
/// training sample.
fn ivf_index_bytes(n: u64, d: u64, nlist: u64, nprobe: u64) -> u64 {
    let f32s = |count: u64| count.saturating_mul(4);
    let train = (crate::ivf::TRAIN_ROWS_PER_LIST as u64)
        .saturating_mul(nlist)
        .min(n);
    f32s(n.saturating_mul(d))
        .saturating_add(f32s(n.saturating_mul(nprobe.saturating_add(2))))
        .saturating_add(f32s(nlist.saturating_mul(d)))
        .saturating_add(f32s(train.saturating_mul(d)))
}

/// Bytes of the IVF search's output over `rows` rows and its scratch on `threads` threads: each
/// row's list (its own allocation, a 24-byte header besides its entries), the symmetric CSR
/// with its transposed copy, and per thread a similarity tile, a query block and centroid scores.
fn ivf_graph_bytes(rows: u64, d: u64, neighbors: u64, threads: u64) -> u64 {
    let lists = rows.saturating_mul(neighbors.saturating_mul(8).saturating_add(24));
    let csr = rows.saturating_mul(neighbors).saturating_mul(2 * 8 * 2);
    let indptr = rows.saturating_add(1).saturating_mul(8);
    let per_thread = KNN_TILE_BYTES
        .saturating_add(256u64.saturating_mul(d).saturating_mul(4))
        .saturating_add(1 << 22);
    lists
        .saturating_add(csr)
        .saturating_add(indptr)
        .saturating_add(threads.max(1).saturating_mul(per_thread))
}

/// Estimate for the IVF path (SPEC §1.3) over `n × d` embeddings, one problem over all rows: as
/// [`estimate`] with the IVF index in place of the normalised copy and the IVF search's lists
/// and scratch.
pub fn estimate_ivf(
    n: u64,
    d: u64,
    itemsize: u64,
    neighbors: u64,
    threads: u64,
    nlist: u64,
    nprobe: u64,
) -> MemoryEstimate {
    // One problem over all rows is the partitioned layout with a single batch of n rows.
    estimate_ivf_partitioned(n, d, itemsize, neighbors, threads, nlist, nprobe, n)
}

/// Estimate for the IVF path when the one global problem does not fit and groups of whole IVF
/// lists are solved a batch of `batch_rows` rows at a time: the input and the global index as in
/// [`estimate_ivf`], the graphs and the solver state of one batch.
#[allow(clippy::too_many_arguments)]
pub fn estimate_ivf_partitioned(
    n: u64,
    d: u64,
    itemsize: u64,
    neighbors: u64,
    threads: u64,
    nlist: u64,
    nprobe: u64,
    batch_rows: u64,
) -> MemoryEstimate {
    let input = estimate(n, d, itemsize, neighbors, threads).input;
    let solver = estimate(batch_rows, d, itemsize, neighbors, threads).solver;
    let graph = ivf_index_bytes(n, d, nlist, nprobe)
        .saturating_add(ivf_graph_bytes(batch_rows, d, neighbors, threads));
    MemoryEstimate {
        input,
        graph,
        solver,
        peak: input.saturating_add(graph).saturating_add(solver),
    }
}

/// `bytes` as a short human-readable size (`1.5 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parses a size such as `512M`, `3G`, `2GiB`, `1.5g` or a plain byte count (binary units).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = value * scale;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::{knn_graph, KnnConfig};
    use crate::progress::Silent;
    use ndarray::Array2;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_bytes("512"), Some(512));
        assert_eq!(parse_bytes("2K"), Some(2048));
        assert_eq!(parse_bytes("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("3 g"), Some(3 << 30));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("-1G"), None);
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }

    #[test]
    fn estimate_covers_what_is_really_built() {
        let n = 3000;
        let e = Array2::from_shape_fn((n, 16), |(i, j)| ((i * 31 + j * 17) % 97) as f32);
        let graph = knn_graph(e.view(), &KnnConfig::default(), &Silent).unwrap();
        let built = (graph.nnz() * 8 + (n + 1) * 8) as u64;
        let est = estimate(n as u64, 16, 4, 10, 2);
        assert!(est.graph >= built, "{} < {}", est.graph, built);
        assert_eq!(est.input, (n * 16 * 8) as u64);
        assert!(est.peak >= est.input + est.graph);
        // Absurd shapes saturate instead of overflowing.
        assert_eq!(estimate(u64::MAX, u64::MAX, 8, 10, 2).peak, u64::MAX);
        assert_eq!(
            estimate_ivf(u64::MAX, u64::MAX, 8, 10, 2, 9, 8).peak,
            u64::MAX
        );
    }

    #[test]
    fn ivf_estimate_covers_the_index_and_the_graph() {
        use crate::ivf::{ivf_knn_graph, IvfIndex, IvfParams};
        let n = 6000;
        let e = Array2::from_shape_fn((n, 16), |(i, j)| ((i * 31 + j * 17) % 97) as f32);
        let s = IvfParams::default().resolve(n).unwrap();
        let index = IvfIndex::build(e.view(), &s).unwrap();
        let (graph, _) = ivf_knn_graph(e.view(), &KnnConfig::default(), &s, &Silent).unwrap();
        let built = (index.bytes() + graph.nnz() * 8 + (n + 1) * 8) as u64;
        let est = estimate_ivf(n as u64, 16, 4, 10, 2, s.nlist as u64, s.nprobe as u64);
        assert!(est.graph >= built, "{} < {}", est.graph, built);
        assert_eq!(est.input, estimate(n as u64, 16, 4, 10, 2).input);
        assert_eq!(est.peak, est.input + est.graph + est.solver);
        // Solving a batch at a time keeps the index but only a batch's graph and solver state.
        let part = estimate_ivf_partitioned(n as u64, 16, 4, 10, 2, s.nlist as u64, 8, 1000);
        assert!(part.peak < est.peak);
        assert_eq!(part.input, est.input);
        assert!(part.graph >= index.bytes() as u64);
        assert_eq!(
            estimate_ivf_partitioned(n as u64, 16, 4, 10, 2, s.nlist as u64, 8, n as u64),
            est
        );
    }
}
