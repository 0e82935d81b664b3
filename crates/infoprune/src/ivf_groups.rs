//! The `ivf-lists` layout (SPEC §1.4): one IVF index over every candidate row, its lists grouped
//! into problems of at most `P` rows, and each problem's graph the index's neighbour lists
//! restricted to it.

use crate::dataset::original_index;
use crate::dataset::Embeddings;
use crate::error::{Error, Result};
use infoprune_core::csr::CsrSimilarity;
use infoprune_core::ivf::{group_lists, partition_lists, IvfIndex, IvfSettings};
use infoprune_core::knn::{symmetrize_lists, Symmetrize};
use std::ops::Range;

/// The global IVF index of the candidate rows and its groups of whole lists.
pub(crate) struct IvfGroups {
    index: IvfIndex,
    /// Positions of the index (see [`IvfIndex::order`]) in each group.
    groups: Vec<Vec<Range<usize>>>,
    /// Group of each candidate (by its place among the candidates), and its index inside the
    /// group.
    part: Vec<u32>,
    local: Vec<u32>,
}

impl IvfGroups {
    /// Builds the index over `candidates` (ascending original rows) and groups its lists into
    /// groups of at most `max_size` rows. Deterministic: the same rows and settings give the same
    /// index and groups on any machine and thread count, which is what lets a worker rebuild them
    /// from a plan.
    pub(crate) fn build(
        embeddings: &Embeddings,
        candidates: &[usize],
        settings: &IvfSettings,
        max_size: usize,
    ) -> Result<Self> {
        let rows = embeddings.rows(candidates)?;
        let index = IvfIndex::build(rows.view(), settings)
            .map_err(|err| original_index(err, candidates, embeddings.ncols()))?;
        drop(rows);
        let groups = group_lists(&index, max_size)?;
        let mut part = vec![0u32; candidates.len()];
        let mut local = vec![0u32; candidates.len()];
        for (g, ranges) in groups.iter().enumerate() {
            for (li, i) in members(&index, ranges).into_iter().enumerate() {
                part[i] = g as u32;
                local[i] = li as u32;
            }
        }
        Ok(Self {
            index,
            groups,
            part,
            local,
        })
    }

    /// The groups as problems: the original rows of each, ascending.
    pub(crate) fn partitions(&self, candidates: &[usize]) -> Vec<Vec<usize>> {
        self.groups
            .iter()
            .map(|ranges| {
                members(&self.index, ranges)
                    .into_iter()
                    .map(|i| candidates[i])
                    .collect()
            })
            .collect()
    }

    /// Checks that the groups are the plan's problems: `of_row[candidates[i]]` is candidate
    /// `i`'s group for every candidate (a plan made from other data or another index is refused).
    pub(crate) fn check_against(&self, candidates: &[usize], of_row: &[u32]) -> Result<()> {
        let same = candidates.len() == self.part.len()
            && candidates
                .iter()
                .zip(&self.part)
                .all(|(&row, &g)| of_row[row] == g);
        if same {
            Ok(())
        } else {
            Err(Error::Plan(
                "the groups of IVF lists rebuilt from these embeddings are not the plan's \
                 problems (a plan made for other data or another configuration)"
                    .into(),
            ))
        }
    }

    /// Group `g`'s graph over its rows (local, ascending order): the index's neighbour lists of
    /// its rows restricted to the group, symmetrised; and the neighbour entries the restriction
    /// cut.
    pub(crate) fn graph(
        &self,
        g: usize,
        neighbors: usize,
        symmetrize: Symmetrize,
    ) -> Result<(CsrSimilarity, usize)> {
        let (lists, cut) = partition_lists(
            &self.index,
            &self.groups[g],
            neighbors,
            g as u32,
            &self.part,
            &self.local,
        );
        let size = self.groups[g].iter().map(|r| r.len()).sum();
        Ok((symmetrize_lists(size, lists, symmetrize)?, cut))
    }
}

/// The candidates (by place) at `ranges` of the index, ascending.
fn members(index: &IvfIndex, ranges: &[Range<usize>]) -> Vec<usize> {
    let mut members: Vec<usize> = ranges
        .iter()
        .flat_map(|r| index.order()[r.clone()].iter().map(|&i| i as usize))
        .collect();
    members.sort_unstable();
    members
}
