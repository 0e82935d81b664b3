//! `infoprune evaluate`: any subset scored under the InfoMax objective `f(S)` (and facility
//! location) on a given similarity.

use crate::error::{Error, Result};
use crate::npy;
use crate::npz;
use clap::Args;
use infoprune_core::csr::CsrSimilarity;
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `infoprune evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The similarity K, a SciPy sparse .npz (n×n, symmetric, non-negative, zero diagonal).
    #[arg(long, value_name = "K.npz")]
    pub graph: PathBuf,
    /// The importance s, float32/float64 .npy of length n, used as given (no normalisation; read
    /// as float32, as `select` reads it).
    #[arg(long, value_name = "s.npy")]
    pub scores: PathBuf,
    /// The pairwise weight α.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: f64,
    /// The subset S: an integer .npy of distinct row indices in 0..n (e.g. `select --out`).
    #[arg(long, value_name = "keep.npy")]
    pub subset: PathBuf,
    /// Facility location: the similarity K_ii of a selected sample to itself.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub fl_self_similarity: f64,
    /// Print JSON (n, k, alpha, objective, linear, pairwise, facility_location,
    /// fl_self_similarity) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The scores of one subset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Samples (rows of K).
    pub n: usize,
    /// Size of the subset.
    pub k: usize,
    /// The pairwise weight α.
    pub alpha: f64,
    /// `f(S) = Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij`, summed in f64 as `select` does.
    pub objective: f64,
    /// `Σ_{i∈S} s_i`.
    pub linear: f64,
    /// `Σ_{i,j∈S} K_ij` over ordered pairs (each unordered pair counts twice, K being symmetric).
    pub pairwise: f64,
    /// `FL(S) = Σ_{i=1..n} max_{j∈S} K_ij` with `K_ii = fl_self_similarity` for `i ∈ S`, and 0 for a
    /// sample with no stored similarity to any member of S.
    pub facility_location: f64,
    /// The self-similarity used in `facility_location`.
    pub fl_self_similarity: f64,
}

/// Scores `subset` (distinct indices in `0..n`) under the objective with importance `scores` and
/// weight `alpha`, and under facility location with self-similarity `fl_self_similarity`.
///
/// # Errors
/// [`Error::Usage`] if the lengths disagree, an index is out of range or repeated, or `alpha` or
/// `fl_self_similarity` is not finite; [`CoreError::NonFinite`](infoprune_core::CoreError::NonFinite)
/// for a NaN or infinite score.
pub fn evaluate_subset(
    graph: &CsrSimilarity,
    scores: &[f32],
    alpha: f64,
    subset: &[i64],
    fl_self_similarity: f64,
) -> Result<Evaluation> {
    let n = graph.n();
    if scores.len() != n {
        return Err(Error::Usage(format!(
            "the scores have {} values but the graph has n = {n} rows",
            scores.len()
        )));
    }
    infoprune_core::error::check_finite("scores", scores)?;
    for (name, v) in [("alpha", alpha), ("fl-self-similarity", fl_self_similarity)] {
        if !v.is_finite() {
            return Err(Error::Usage(format!("--{name} must be finite, found {v}")));
        }
    }
    let mut position: Vec<Option<usize>> = vec![None; n];
    for (p, &i) in subset.iter().enumerate() {
        let slot = usize::try_from(i)
            .ok()
            .and_then(|i| position.get_mut(i))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "subset entry {p} is {i}: expected a row index in 0..{n}"
                ))
            })?;
        if let Some(first) = slot.replace(p) {
            return Err(Error::Usage(format!(
                "subset lists index {i} twice (entries {first} and {p}): expected distinct indices"
            )));
        }
    }
    let member: Vec<bool> = position.iter().map(Option::is_some).collect();
    let k = member.iter().filter(|&&m| m).count();
    let (linear, pairwise) = infoprune_core::objective::objective_terms(graph, scores, &member);
    let facility_location: f64 = (0..n)
        .map(|i| {
            let (cols, vals) = graph.row(i);
            let own = if member[i] { fl_self_similarity } else { 0.0 };
            cols.iter()
                .zip(vals)
                .filter(|(&j, _)| member[j as usize])
                .fold(own, |best, (_, &v)| best.max(v as f64))
        })
        .sum();
    // An empty f64 sum is −0.0; `+ 0.0` prints it as 0.
    let (linear, pairwise, facility_location) =
        (linear + 0.0, pairwise + 0.0, facility_location + 0.0);
    Ok(Evaluation {
        n,
        k,
        alpha,
        objective: linear - alpha * pairwise,
        linear,
        pairwise,
        facility_location,
        fl_self_similarity,
    })
}

/// `infoprune evaluate`: prints `f(S)` and `FL(S)` of a subset on stdout.
pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let graph = npz::read_csr(&args.graph)?;
    let scores = npy::read_f32_vector(&args.scores)?;
    if scores.len() != graph.n() {
        return Err(Error::Usage(format!(
            "scores {} has {} values but the graph {} has n = {} rows",
            args.scores.display(),
            scores.len(),
            args.graph.display(),
            graph.n()
        )));
    }
    let subset = npy::read_i64_vector(&args.subset)?;
    let e = evaluate_subset(
        &graph,
        &scores,
        args.alpha,
        &subset,
        args.fl_self_similarity,
    )
    .map_err(|err| match err {
        Error::Usage(msg) if msg.starts_with("subset") => {
            Error::Usage(format!("{}: {msg}", args.subset.display()))
        }
        other => other,
    })?;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&e).expect("an evaluation always serialises")
        )?;
    } else {
        crate::outln!(
            "f(S) = {} (Σ s_i = {}, Σ_ij K_ij = {}, α = {})",
            e.objective,
            e.linear,
            e.pairwise,
            e.alpha
        )?;
        crate::outln!(
            "FL(S) = {} (K_ii = {} for selected i)",
            e.facility_location,
            e.fl_self_similarity
        )?;
        crate::outln!("n = {}, k = {}", e.n, e.k)?;
    }
    Ok(())
}
