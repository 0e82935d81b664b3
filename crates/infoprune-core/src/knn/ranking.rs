//! How every search ranks candidate neighbours: the snapped similarity and the total order
//! (larger similarity first, then the smaller index), shared by the exact and IVF searches.

use std::cmp::Ordering;

/// Similarities at least this close to 1 are snapped to exactly 1, so that duplicated samples get
/// similarity 1 despite the rounding of `f32` normalisation and dot products.
const SNAP_TO_ONE: f32 = 1.0 - 1e-6;

/// The snapped similarity every backend ranks by: a cosine within `1e-6` of 1 (or above) becomes
/// exactly 1, so exact duplicates tie; `≤ 0` means "not a neighbour".
#[inline]
pub fn snap(raw: f32) -> f32 {
    if raw >= SNAP_TO_ONE {
        1.0
    } else {
        raw
    }
}

/// A candidate neighbour, ordered so that the *worse* candidate is the greater one: the max-heap's
/// top is then the entry to evict.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub(crate) sim: f32,
    pub(crate) index: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .sim
            .total_cmp(&self.sim)
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}
