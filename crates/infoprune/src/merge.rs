//! Putting a plan's solved parts together into the run's result: the union of the kept rows, the
//! per-problem figures in problem order, and the run's search summary and cut edges.

use crate::error::{Error, Result};
use crate::parts::PartOutcome;
use crate::plan::Plan;
use crate::pruned::{Layout, PartitionStats, Pruned, SearchSummary};
use infoprune_core::ivf::{ResolvedSearch, SearchInfo};
use infoprune_core::timing::Timings;

/// The result of `plan` from the outcomes of its parts (in any order): exactly what
/// [`crate::pipeline::Pruner::run`] returns, timings aside (here the parts' `graph` and `solve`
/// seconds summed). Every problem that keeps something needs its outcome; one that keeps nothing
/// may be left out.
///
/// # Errors
/// [`Error::Plan`] when an outcome is missing, repeated, or not this plan's (a problem index out
/// of range, another size or budget, or kept rows outside its problem).
pub fn merge(plan: &Plan, parts: &[PartOutcome]) -> Result<Pruned> {
    plan.check()?;
    let of_row = plan.assignment()?;
    let mut slots: Vec<Option<&PartOutcome>> = vec![None; plan.problems.len()];
    for outcome in parts {
        let p = outcome.part;
        match slots.get_mut(p) {
            Some(slot @ None) => *slot = Some(outcome),
            Some(Some(_)) => return Err(Error::Plan(format!("part {p} is given twice"))),
            None => {
                return Err(Error::Plan(format!(
                    "part {p} is not a problem of the plan ({} problems)",
                    plan.problems.len()
                )))
            }
        }
    }
    let mut indices = Vec::with_capacity(plan.k);
    let mut stats = Vec::with_capacity(plan.problems.len());
    let (mut cut_edges, mut timings) = (0usize, Timings::default());
    for (p, (problem, slot)) in plan.problems.iter().zip(slots).enumerate() {
        let Some(outcome) = slot else {
            if problem.k > 0 {
                return Err(Error::Plan(format!(
                    "part {p} (keeps {}) has no outcome",
                    problem.k
                )));
            }
            stats.push(PartitionStats::empty(problem.size));
            continue;
        };
        let fits = outcome.stats.size == problem.size
            && outcome.stats.k == problem.k
            && outcome.indices.len() == problem.k
            && outcome.indices.windows(2).all(|w| w[0] < w[1])
            && outcome
                .indices
                .iter()
                .all(|&i| of_row.get(i) == Some(&(p as u32)));
        if !fits {
            return Err(Error::Plan(format!(
                "the outcome of part {p} is not of this plan's problem {p} ({} rows, keeps {})",
                problem.size, problem.k
            )));
        }
        indices.extend_from_slice(&outcome.indices);
        cut_edges += outcome.cut_edges.unwrap_or(0);
        timings.add("graph", outcome.graph_seconds);
        timings.add("solve", outcome.solve_seconds);
        stats.push(outcome.stats.clone());
    }
    indices.sort_unstable();
    let search = match plan.global_ivf {
        Some(settings) if plan.restricted() => SearchSummary::of(&[SearchInfo {
            search: ResolvedSearch::Ivf(settings),
            recall: None,
        }]),
        _ => SearchSummary::of(stats.iter().filter_map(|s| s.search.as_ref())),
    };
    let cut_edges = match plan.layout {
        Layout::Global => Some(0),
        Layout::IvfLists if plan.restricted() => Some(cut_edges),
        _ => None,
    };
    Ok(Pruned {
        objective: stats.iter().map(|s| s.objective).sum(),
        indices,
        partitions: stats,
        dropped_noisy: plan.dropped,
        batches: plan.batches.len(),
        timings,
        layout: plan.layout,
        search,
        cut_edges,
    })
}
