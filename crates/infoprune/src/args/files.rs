//! The per-sample input files the commands read (each checked against the data's `n`), and the
//! checks and policy of their output paths.

use crate::error::{Error, Result};
use crate::npy::{self, Overwrite};
use crate::outputs;
use infoprune_core::scores::{compute_score, ScoreKind, ScoreOptions};
use std::path::Path;

pub(crate) fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    }
}

/// Refuses before any work is done an output path that cannot be written (see
/// [`outputs::check_outputs`]), or that exists while `--force` is absent.
pub(crate) fn check_outputs(outputs: &[(&str, &Path)], force: bool) -> Result<()> {
    outputs::check_outputs(outputs, force)
}

/// Reads a per-sample vector that must have `n` values; `source` says where `n` comes from
/// ("the embeddings have", "the graph K.npz has").
pub(crate) fn read_vector(path: &Path, what: &str, n: usize, source: &str) -> Result<Vec<f32>> {
    let v = npy::read_f32_vector(path)?;
    if v.len() != n {
        return Err(Error::Usage(format!(
            "{what} {} has {} values but {source} n = {n} rows",
            path.display(),
            v.len()
        )));
    }
    Ok(v)
}

pub(crate) fn read_labels(path: &Path, n: usize) -> Result<Vec<i64>> {
    let labels = npy::read_i64_vector(path)?;
    if labels.len() != n {
        return Err(Error::Usage(format!(
            "labels {} has {} values but the data has n = {n} samples",
            path.display(),
            labels.len()
        )));
    }
    Ok(labels)
}

/// A score from saved logits (`T × n × C`); `features` are the penultimate features for GraNd.
pub(crate) fn score_from_logits(
    kind: ScoreKind,
    logits: &Path,
    labels: &[i64],
    features: Option<&Path>,
    options: &ScoreOptions,
) -> Result<Vec<f32>> {
    // Little-endian float32 in C order (what numpy saves) is scored straight from the memory map:
    // the pages are file-backed, so logits of any size (10^6 samples × 1,000 classes × 20 epochs
    // is 80 GB) stream through the page cache instead of being read into memory. Anything else
    // (float64, Fortran order, big-endian) is converted in memory once.
    let mapped = crate::npy_map::MappedMatrix::open_rows(logits).ok();
    let in_place = mapped.as_ref().and_then(|m| match *m.shape() {
        [t, n, c] => m.view()?.into_shape_with_order((t, n, c)).ok(),
        _ => None,
    });
    let read;
    let z = match in_place {
        Some(view) => view,
        None => {
            read = npy::read_f32_array3(logits)?;
            read.view()
        }
    };
    if z.dim().1 != labels.len() {
        return Err(Error::Usage(format!(
            "logits {} hold n = {} samples (shape T×n×C = {:?}) but the labels have {}",
            logits.display(),
            z.dim().1,
            z.dim(),
            labels.len()
        )));
    }
    let h = features.map(npy::read_f32_matrix).transpose()?;
    Ok(compute_score(
        kind,
        z,
        labels,
        h.as_ref().map(|h| h.view()),
        options,
    )?)
}
