//! The plan of a run (SPEC §1.4), as pure data: which rows form which problem, how many each keeps,
//! how each problem's graph is searched, which problems share a batch, and the memory estimate.
//! It is made before any heavy work ([`crate::pipeline::Pruner::plan`]; k-means for the grouping
//! is part of planning, graphs and solving are not), printed by `select --dry-run`, written as
//! JSON and handed to other processes, each of which solves some of its problems alone
//! ([`crate::pipeline::Pruner::run_part`]) before [`crate::merge::merge`] puts them together.
//!
//! # JSON
//! One object (see [`Plan`]'s fields). The two per-row arrays are [`PackedInts`]: zlib-compressed
//! little-endian integers in base64, about one byte a row for up to 254 problems before
//! compression (a 10^7-row plan is a dozen megabytes; one global problem a few kilobytes).
//! `problem_of_row[i]` is row `i`'s problem, or `problems.len()` for a row the noise or CCS cutoff
//! dropped; a problem's rows are its rows in ascending order.

use crate::core_serde::{option_ivf_settings, IvfSettingsDef};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::packed_ints::PackedInts;
use crate::partition::{PartitionConfig, PartitionMethod};
use crate::pruned::Layout;
use crate::pruner::PrunerConfig;
use infoprune_core::ivf::IvfSettings;
use infoprune_core::memory::human_bytes;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The JSON format this build writes and reads.
pub const PLAN_FORMAT: u32 = 1;

/// How the pipeline will run, decided before any graph is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    /// infoprune's version that made the plan.
    pub version: String,
    /// Fingerprint of the configuration the plan was made with (everything but the memory
    /// budget): a part is only solved with the same one.
    pub config_fingerprint: String,
    /// Rows of the dataset.
    pub n: usize,
    /// Embedding columns.
    pub d: usize,
    /// Samples kept in all.
    pub k: usize,
    /// Which per-sample inputs the plan was made with.
    pub inputs: InputKinds,
    /// How the rows were laid out into problems.
    pub layout: Layout,
    /// The partition method of [`Layout::Configured`] (`None` for the other layouts).
    pub partition_method: Option<PartitionMethod>,
    /// Largest problem `P` asked for (a class cell or a group of lists is never larger).
    pub partition_size: usize,
    /// Whether every problem holds one class, with its largest-remainder quota of `k`.
    pub class_quota: bool,
    /// The IVF search over all candidate rows of [`Layout::Global`] and [`Layout::IvfLists`].
    #[serde(with = "option_ivf_settings")]
    pub global_ivf: Option<IvfSettings>,
    /// Rows dropped before partitioning (the noise cutoff and CCS's own).
    pub dropped: usize,
    /// The problems, in order.
    pub problems: Vec<Problem>,
    /// The problem of every row (`problems.len()` for a dropped row).
    pub problem_of_row: PackedInts,
    /// SemDeDup's set (1 = kept), chosen over the whole dataset while planning; its problems
    /// then only score it.
    pub preselected: Option<PackedInts>,
    /// Problems solved together, in order; every problem with `k > 0` is in exactly one.
    pub batches: Vec<Vec<usize>>,
    /// The memory the run is expected to take.
    pub memory: PlanMemory,
}

/// One independent problem of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Rows.
    pub size: usize,
    /// Rows kept (largest remainder over the problems: the budgets sum to the plan's `k`).
    pub k: usize,
    /// How its similarity graph is built.
    pub graph: ProblemGraph,
}

/// How a problem's similarity graph is built.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemGraph {
    /// The exact kNN search over its rows.
    Exact,
    /// An IVF search over its rows with these settings.
    Ivf(#[serde(with = "IvfSettingsDef")] IvfSettings),
    /// The global IVF index's neighbour lists restricted to the problem (its rows are whole IVF
    /// lists; the entries that leave it are cut and counted).
    GlobalIvfLists,
}

/// Which per-sample inputs were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputKinds {
    /// Importance scores.
    pub scores: bool,
    /// Class labels.
    pub labels: bool,
    /// Noise signal (used while planning only: the cutoff).
    pub noise: bool,
    /// Area under the margin.
    pub aum: bool,
}

impl InputKinds {
    /// The inputs given, by name (`scores, labels`), or `no per-sample inputs`.
    pub fn names(&self) -> String {
        let names: Vec<&str> = [
            ("scores", self.scores),
            ("labels", self.labels),
            ("noise", self.noise),
            ("aum", self.aum),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if names.is_empty() {
            "no per-sample inputs".to_string()
        } else {
            names.join(", ")
        }
    }

    /// What `dataset` carries.
    pub fn of(dataset: &Dataset) -> Self {
        let i = &dataset.inputs;
        Self {
            scores: i.scores.is_some(),
            labels: i.labels.is_some(),
            noise: i.noise.is_some(),
            aum: i.aum.is_some(),
        }
    }
}

/// The memory estimate of a plan, in bytes (input counted as float32, as the layout choice does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMemory {
    /// The embeddings as read and their float32 copy.
    pub input: u64,
    /// The largest batch's graphs (with the global IVF index where there is one).
    pub graph: u64,
    /// The largest batch's solver state.
    pub solver: u64,
    /// All three at once.
    pub peak: u64,
    /// The memory budget the plan was made for (`--max-memory`), if any.
    pub budget: Option<u64>,
}

impl Plan {
    /// The plan as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }

    /// Reads a plan written by [`Plan::to_json`] and checks that it holds together.
    pub fn from_json(text: &str) -> Result<Self> {
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| Error::Plan(format!("not a plan: {e}")))?;
        plan.check()?;
        Ok(plan)
    }

    /// Whether problems take their graphs from the global IVF lists.
    pub fn restricted(&self) -> bool {
        self.layout == Layout::IvfLists && !self.class_quota
    }

    /// The problems that keep something (the parts to solve), in batch order.
    pub fn parts(&self) -> Vec<usize> {
        self.batches.iter().flatten().copied().collect()
    }

    /// Checks what can be checked without decoding the rows: the format, budgets summing to `k`
    /// within their sizes, sizes and dropped rows adding up to `n`, and batches that hold every
    /// problem with `k > 0` exactly once.
    pub fn check(&self) -> Result<()> {
        let bad = |why: String| Err(Error::Plan(why));
        if self.format != PLAN_FORMAT {
            return bad(format!(
                "format {} (this build reads format {PLAN_FORMAT})",
                self.format
            ));
        }
        let budgets: usize = self.problems.iter().map(|p| p.k).sum();
        let sizes: usize = self.problems.iter().map(|p| p.size).sum();
        if let Some(p) = self.problems.iter().position(|p| p.k > p.size) {
            return bad(format!("problem {p} keeps more rows than it has"));
        }
        if budgets != self.k || self.k == 0 || sizes + self.dropped != self.n {
            return bad(format!(
                "budgets sum to {budgets} for k = {}, sizes and dropped rows to {} for n = {}",
                self.k,
                sizes + self.dropped,
                self.n
            ));
        }
        if self.global_ivf.is_some() == (self.layout == Layout::Configured) {
            return bad("the global IVF settings do not match the layout".into());
        }
        let mut seen = vec![false; self.problems.len()];
        for &p in self.batches.iter().flatten() {
            if p >= seen.len() || std::mem::replace(&mut seen[p], true) || self.problems[p].k == 0 {
                return bad(format!("batches list problem {p} out of place"));
            }
        }
        if let Some(p) = (0..seen.len()).find(|&p| !seen[p] && self.problems[p].k > 0) {
            return bad(format!("problem {p} is in no batch"));
        }
        for (what, packed) in [
            ("problem_of_row", Some(&self.problem_of_row)),
            ("preselected", self.preselected.as_ref()),
        ] {
            if let Some(packed) = packed.filter(|p| p.len != self.n) {
                return bad(format!("{what} has {} rows for n = {}", packed.len, self.n));
            }
        }
        Ok(())
    }

    /// Refuses to solve this plan with `dataset` and `config` unless they are the ones it was
    /// made with (same shape, same inputs given, same configuration but the memory budget).
    pub(crate) fn check_for(&self, dataset: &Dataset, config: &PrunerConfig) -> Result<()> {
        if (dataset.n(), dataset.d()) != (self.n, self.d) {
            return Err(Error::Plan(format!(
                "made for {} × {} embeddings, given {} × {}",
                self.n,
                self.d,
                dataset.n(),
                dataset.d()
            )));
        }
        let (given, planned) = (InputKinds::of(dataset), self.inputs);
        // The noise signal is only read while planning.
        if (given.scores, given.labels, given.aum) != (planned.scores, planned.labels, planned.aum)
        {
            return Err(Error::Plan(format!(
                "made with {}, given {} (scores, labels and aum must match)",
                planned.names(),
                given.names()
            )));
        }
        if config_fingerprint(config) != self.config_fingerprint {
            return Err(Error::Plan(
                "made with another configuration (method, solver, graph, budget, partitions or \
                 seed differ)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Every row's problem, checked: values in `0..=problems.len()` and each problem's row count
    /// its size.
    pub(crate) fn assignment(&self) -> Result<Vec<u32>> {
        let of_row = self.problem_of_row.unpack("problem_of_row")?;
        let none = self.problems.len();
        let mut counts = vec![0usize; none + 1];
        for &p in &of_row {
            match counts.get_mut(p as usize) {
                Some(c) => *c += 1,
                None => return Err(Error::Plan(format!("problem_of_row holds {p}"))),
            }
        }
        if counts[none] != self.dropped
            || self.problems.iter().zip(&counts).any(|(p, &c)| p.size != c)
        {
            return Err(Error::Plan(
                "problem_of_row does not match the problem sizes".into(),
            ));
        }
        Ok(of_row)
    }

    /// SemDeDup's set as a mask over the rows.
    pub(crate) fn preselected_rows(&self) -> Result<Option<Vec<bool>>> {
        let Some(packed) = &self.preselected else {
            return Ok(None);
        };
        let values = packed.unpack("preselected")?;
        if values.iter().any(|&v| v > 1) {
            return Err(Error::Plan(
                "preselected holds values other than 0 and 1".into(),
            ));
        }
        Ok(Some(values.into_iter().map(|v| v == 1).collect()))
    }
}

/// The rows of each problem (ascending) from `of_row`, kept only for the problems `wanted` marks.
pub(crate) fn problem_rows(of_row: &[u32], wanted: &[bool]) -> Vec<Vec<usize>> {
    let mut rows = vec![Vec::new(); wanted.len()];
    for (i, &p) in of_row.iter().enumerate() {
        if wanted.get(p as usize) == Some(&true) {
            rows[p as usize].push(i);
        }
    }
    rows
}

/// A short fingerprint of everything in `config` but the memory budget (FNV-1a of its `Debug`
/// form: hand-written because std's hasher may change between Rust releases, and a plan may be
/// solved by a build other than the one that made it).
pub(crate) fn config_fingerprint(config: &PrunerConfig) -> String {
    let config = PrunerConfig {
        partition: PartitionConfig {
            memory_budget: None,
            ..config.partition.clone()
        },
        ..config.clone()
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{config:?}").bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The `select --dry-run` summary: layout, problems and their sizes and budgets, graphs, memory.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ivf = |s: &IvfSettings| format!("nlist {}, nprobe {}", s.nlist, s.nprobe);
        let size = self.partition_size;
        let layout = match (self.layout, self.partition_method, &self.global_ivf) {
            (Layout::Global, _, Some(s)) => format!("one problem over all rows, IVF {}", ivf(s)),
            (Layout::IvfLists, _, Some(s)) => {
                format!(
                    "groups of whole IVF lists of at most {size} rows, {}",
                    ivf(s)
                )
            }
            (_, Some(method), _) => {
                let method = serde_json::to_value(method).expect("a method serialises");
                let method = method.as_str().unwrap_or("configured").to_string();
                format!("{method} partitions of at most {size} rows")
            }
            _ => format!("partitions of at most {size} rows"),
        };
        let quota = if self.class_quota {
            ", split by class"
        } else {
            ""
        };
        writeln!(f, "layout: {} ({layout}{quota})", self.layout.name())?;
        writeln!(
            f,
            "rows: {} ({} dropped by the cutoffs), keep k = {}",
            self.n, self.dropped, self.k
        )?;
        let sizes = spread(self.problems.iter().map(|p| p.size));
        let budgets = spread(self.problems.iter().map(|p| p.k));
        let sum: usize = self.problems.iter().map(|p| p.k).sum();
        writeln!(
            f,
            "problems: {} in {} batch(es); sizes {sizes}; budgets {budgets}, sum {sum}{}",
            self.problems.len(),
            self.batches.len(),
            if sum == self.k { " = k" } else { " ≠ k" }
        )?;
        writeln!(f, "graphs: {}", self.graphs())?;
        let m = &self.memory;
        let against = match m.budget {
            Some(b) if m.peak <= b => format!("within the memory budget {}", human_bytes(b)),
            Some(b) => format!("over the memory budget {}", human_bytes(b)),
            None => "no memory budget (--max-memory)".to_string(),
        };
        write!(
            f,
            "memory: estimated peak {} (input {}, graph {}, solver {}), {against}",
            human_bytes(m.peak),
            human_bytes(m.input),
            human_bytes(m.graph),
            human_bytes(m.solver)
        )
    }
}

impl Plan {
    /// How the graphs of the problems that keep something are built, counted by kind.
    fn graphs(&self) -> String {
        let solved: Vec<&Problem> = self.problems.iter().filter(|p| p.k > 0).collect();
        let count = |f: fn(&ProblemGraph) -> bool| solved.iter().filter(|p| f(&p.graph)).count();
        let (exact, ivf, lists) = (
            count(|g| matches!(g, ProblemGraph::Exact)),
            count(|g| matches!(g, ProblemGraph::Ivf(_))),
            count(|g| matches!(g, ProblemGraph::GlobalIvfLists)),
        );
        let mut parts = Vec::new();
        if exact > 0 {
            parts.push(format!("exact kNN in {exact} problem(s)"));
        }
        if ivf > 0 {
            let nlists = spread(solved.iter().filter_map(|p| match p.graph {
                ProblemGraph::Ivf(s) => Some(s.nlist),
                _ => None,
            }));
            parts.push(format!("IVF kNN (nlist {nlists}) in {ivf} problem(s)"));
        }
        if lists > 0 {
            parts.push(format!(
                "the global IVF lists restricted to each of {lists} problem(s)"
            ));
        }
        parts.join("; ")
    }
}

/// `min …, median …, max …` of `values` (the lower median for an even count).
fn spread(values: impl Iterator<Item = usize>) -> String {
    let mut v: Vec<usize> = values.collect();
    v.sort_unstable();
    match (v.first(), v.get(v.len().saturating_sub(1) / 2), v.last()) {
        (Some(min), Some(median), Some(max)) => format!("min {min}, median {median}, max {max}"),
        _ => "none".to_string(),
    }
}
