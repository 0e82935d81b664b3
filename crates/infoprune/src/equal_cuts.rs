//! Cutting a run of items into parts of equal size, shared by the label and k-means partitions.

/// Boundaries of `parts` consecutive runs of `len` items whose sizes differ by at most one (the
/// larger runs first).
pub(crate) fn equal_cuts(len: usize, parts: usize) -> impl Iterator<Item = (usize, usize)> {
    let (base, extra) = (len / parts, len % parts);
    (0..parts).map(move |p| {
        let start = p * base + p.min(extra);
        (start, start + base + usize::from(p < extra))
    })
}
