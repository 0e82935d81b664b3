//! The stages of a planned selection for a distributed driver (`infoprune.ray`): `plan` makes
//! the plan of a selection as JSON, `run_parts` solves some of its problems (each outcome as
//! JSON, so it travels between processes as text), `merge` puts the outcomes together into the
//! indices and report `select` returns. Each takes `select`'s keywords and arrays, the same in
//! every process, parsed and read exactly as `select` parses and reads them.

use crate::arrays::{floats, int_vector, logit_arrays, vector, Floats, LogitArrays};
use crate::{interrupt, item, options, py_error, with_quiet, MATRIX, SELECT};
use infoprune::commands::select::{
    merge_in_memory, plan_in_memory, run_parts_in_memory, SelectArgs, SelectData,
};
use infoprune::parts::PartOutcome;
use infoprune::plan::Plan;
use ndarray::Ix2;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The arrays of a planned selection, held while the Rust side reads them.
struct Arrays<'py> {
    embeddings: Floats<'py, Ix2>,
    scores: Option<Vec<f32>>,
    labels: Option<Vec<i64>>,
    noise: Option<Vec<f32>>,
    aum: Option<Vec<f32>>,
    logits: Option<LogitArrays<'py>>,
    score_features: Option<Floats<'py, Ix2>>,
}

impl Arrays<'_> {
    fn data(&self) -> PyResult<SelectData<'_>> {
        Ok(SelectData {
            embeddings: Some(self.embeddings.view()),
            scores: self.scores.clone(),
            labels: self.labels.clone(),
            noise: self.noise.clone(),
            aum: self.aum.clone(),
            logits: self.logits.as_ref().map(LogitArrays::view).transpose()?,
            score_features: self.score_features.as_ref().map(Floats::view),
            embeddings_itemsize: self.embeddings.itemsize(),
            graph: None,
        })
    }
}

/// The arguments and arrays of `options` (`select`'s keywords).
fn parse<'py>(
    function: &'static str,
    options: &Bound<'py, PyDict>,
    progress: bool,
) -> PyResult<(SelectArgs, Arrays<'py>)> {
    let options = with_quiet(options, progress)?;
    let args: SelectArgs = options::parse("select", &SELECT, &options, &[])?;
    let embeddings = item(&options, "embeddings")?
        .map(|e| floats::<Ix2>("embeddings", &e, MATRIX))
        .transpose()?
        .ok_or_else(|| PyTypeError::new_err(format!("{function}() missing the embeddings")))?;
    let vec = |name: &str| -> PyResult<Option<Vec<f32>>> {
        item(&options, name)?.map(|v| vector(name, &v)).transpose()
    };
    let arrays = Arrays {
        embeddings,
        scores: vec("scores")?,
        labels: item(&options, "labels")?
            .map(|v| int_vector("labels", &v))
            .transpose()?,
        noise: vec("noise")?,
        aum: vec("aum")?,
        logits: item(&options, "logits")?
            .map(|e| logit_arrays("logits", &e))
            .transpose()?,
        score_features: item(&options, "score_features")?
            .map(|e| floats::<Ix2>("score_features", &e, MATRIX))
            .transpose()?,
    };
    Ok((args, arrays))
}

/// A plan's JSON, read.
fn read_plan(plan: &str) -> PyResult<Plan> {
    Plan::from_json(plan).map_err(py_error)
}

/// `plan(options, progress)`: the plan of `select(**options)` as JSON, with the problems of each
/// of its batches.
#[pyfunction]
#[pyo3(signature = (options, progress = false))]
pub fn plan(
    py: Python<'_>,
    options: &Bound<'_, PyDict>,
    progress: bool,
) -> PyResult<(String, Vec<Vec<usize>>)> {
    let (args, arrays) = parse("plan", options, progress)?;
    let show = progress && !args.quiet;
    let data = arrays.data()?;
    let planned = interrupt::run(py, show, |p| plan_in_memory(&args, data, p))?;
    let planned = planned.map_err(py_error)?;
    Ok((planned.to_json(), planned.batches.clone()))
}

/// `run_parts(plan, parts, options)`: the outcomes of problems `parts` of the plan (JSON, in the
/// order asked), solved with `select(**options)`'s arguments and data.
#[pyfunction]
pub fn run_parts(
    py: Python<'_>,
    plan: &str,
    parts: Vec<usize>,
    options: &Bound<'_, PyDict>,
) -> PyResult<Vec<String>> {
    let plan = read_plan(plan)?;
    let (args, arrays) = parse("run_parts", options, false)?;
    let data = arrays.data()?;
    let outcomes = interrupt::run(py, false, |p| {
        run_parts_in_memory(&args, data, &plan, &parts, p)
    })?;
    Ok(outcomes
        .map_err(py_error)?
        .iter()
        .map(PartOutcome::to_json)
        .collect())
}

/// `merge(plan, outcomes, options, plan_seconds, progress)`: the kept indices and the report as
/// JSON, what `select(**options)` returns (`plan_seconds`: the report's `partition` time).
#[pyfunction]
#[pyo3(signature = (plan, outcomes, options, plan_seconds = 0.0, progress = false))]
pub fn merge<'py>(
    py: Python<'py>,
    plan: &str,
    outcomes: Vec<String>,
    options: &Bound<'py, PyDict>,
    plan_seconds: f64,
    progress: bool,
) -> PyResult<(Bound<'py, PyArray1<i64>>, String)> {
    let plan = read_plan(plan)?;
    let outcomes = outcomes
        .iter()
        .map(|o| PartOutcome::from_json(o))
        .collect::<infoprune::Result<Vec<_>>>()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let (args, arrays) = parse("merge", options, progress)?;
    let show = progress && !args.quiet;
    let data = arrays.data()?;
    let selected = interrupt::run(py, show, |p| {
        merge_in_memory(&args, data, &plan, &outcomes, plan_seconds, p)
    })?;
    let selected = selected.map_err(py_error)?;
    let indices: Vec<i64> = selected.indices.iter().map(|&i| i as i64).collect();
    Ok((indices.into_pyarray(py), selected.report.to_json()))
}

/// Adds the planned run's functions to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(run_parts, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    Ok(())
}
