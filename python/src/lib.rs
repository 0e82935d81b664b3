//! `infoprune._native`: the Python package's extension module. Each function parses its keywords
//! with the command line's own argument definitions (see [`options`]), reads NumPy arrays in place
//! where it can (see [`arrays`]) and runs the command's in-memory form
//! ([`infoprune::in_memory`]) without the GIL, interruptible by Ctrl-C (see [`interrupt`]). The
//! Python functions in `infoprune/__init__.py` are the documented interface.

mod arrays;
mod interrupt;
mod options;
mod plan;

use arrays::{floats, int_vector, logit_arrays, vector, Floats, LogitArrays};
use infoprune::commands::graph::GraphArgs;
use infoprune::commands::score::ScoreArgs;
use infoprune::commands::select::SelectArgs;
use infoprune::commands::select::{select_in_memory, SelectData};
use infoprune::commands::tokens::TokensArgs;
use infoprune::in_memory::{self, CaptionInputs};
use ndarray::{ArrayView2, Ix2, Ix3};
use numpy::{IntoPyArray, PyArray1, PyArray2};
use options::Spec;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

const MATRIX: &str = "2-D (rows, columns)";
const ARRAY3: &str = "3-D";

/// An infoprune error as a Python exception: bad input (the command line's exit code 2) is a
/// `ValueError`, a failed write an `OSError`, anything else a `RuntimeError`; the message is the
/// command line's.
fn py_error(e: infoprune::Error) -> PyErr {
    let message = e.to_string();
    let write_failure = match &e {
        infoprune::Error::Npy(e) => e.is_write_failure(),
        infoprune::Error::Npz(e) => e.is_write_failure(),
        _ => false,
    };
    if write_failure {
        PyOSError::new_err(message)
    } else if e.exit_code() == 2 {
        PyValueError::new_err(message)
    } else {
        PyRuntimeError::new_err(message)
    }
}

/// `options` with `quiet` set from `progress` unless given; refuses the two contradicting.
fn with_quiet<'py>(options: &Bound<'py, PyDict>, progress: bool) -> PyResult<Bound<'py, PyDict>> {
    let options = options.copy()?;
    match options.get_item("quiet")? {
        Some(q) if !q.is_none() => {
            if q.is_truthy()? && progress {
                return Err(PyValueError::new_err(
                    "progress=True and quiet=True contradict each other",
                ));
            }
        }
        _ => options.set_item("quiet", !progress)?,
    }
    Ok(options)
}

/// The value of keyword `name`, `None` counting as absent.
fn item<'py>(options: &Bound<'py, PyDict>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(options.get_item(name)?.filter(|v| !v.is_none()))
}

/// A similarity from `(indptr, indices, data, shape)`, SciPy's CSR parts.
fn csr(graph: &Bound<'_, PyAny>) -> PyResult<infoprune::core::csr::CsrSimilarity> {
    let parts = graph.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(
            "graph: expected a scipy.sparse matrix or an (indptr, indices, data, shape) tuple",
        )
    })?;
    if parts.len() != 4 {
        return Err(PyTypeError::new_err(format!(
            "graph: expected an (indptr, indices, data, shape) tuple, found {} items",
            parts.len()
        )));
    }
    let indptr = int_vector("graph indptr", &parts.get_item(0)?)?;
    let indices = int_vector("graph indices", &parts.get_item(1)?)?;
    let data = vector("graph data", &parts.get_item(2)?)?;
    let shape: (usize, usize) = parts.get_item(3)?.extract().map_err(|_| {
        PyTypeError::new_err("graph: the shape must be a pair of non-negative integers")
    })?;
    in_memory::csr_from_parts(shape, &indptr, &indices, &data).map_err(py_error)
}

const SELECT: Spec = Spec {
    function: "select",
    inputs: &[
        "embeddings",
        "graph",
        "scores",
        "logits",
        "score_features",
        "labels",
        "aum",
        "noise",
    ],
    // The stages of a planned run on files (`infoprune plan`, `select --plan --part`, `merge`).
    excluded: &["dry_run", "plan", "part"],
};

/// `select(options, progress)`: the kept indices, the report as JSON, and the address of the
/// embeddings' buffer when it was read in place (`None` when converted or absent).
#[pyfunction]
#[pyo3(signature = (options, progress = false))]
fn select<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyDict>,
    progress: bool,
) -> PyResult<(Bound<'py, PyArray1<i64>>, String, Option<usize>)> {
    let options = with_quiet(options, progress)?;
    let args: SelectArgs = options::parse("select", &SELECT, &options, &[])?;
    let embeddings = item(&options, "embeddings")?
        .map(|e| floats::<Ix2>("embeddings", &e, MATRIX))
        .transpose()?;
    let logits = item(&options, "logits")?
        .map(|e| logit_arrays("logits", &e))
        .transpose()?;
    let score_features = item(&options, "score_features")?
        .map(|e| floats::<Ix2>("score_features", &e, MATRIX))
        .transpose()?;
    let vec = |name: &str| -> PyResult<Option<Vec<f32>>> {
        item(&options, name)?.map(|v| vector(name, &v)).transpose()
    };
    let data = SelectData {
        embeddings: embeddings.as_ref().map(Floats::view),
        graph: item(&options, "graph")?.map(|g| csr(&g)).transpose()?,
        scores: vec("scores")?,
        labels: item(&options, "labels")?
            .map(|v| int_vector("labels", &v))
            .transpose()?,
        noise: vec("noise")?,
        aum: vec("aum")?,
        logits: logits.as_ref().map(LogitArrays::view).transpose()?,
        score_features: score_features.as_ref().map(Floats::view),
        embeddings_itemsize: embeddings.as_ref().map_or(4, Floats::itemsize),
    };
    let address = embeddings.as_ref().and_then(arrays::address);
    let show = progress && !args.quiet;
    let selected = interrupt::run(py, show, |p| select_in_memory(&args, data, p))?;
    let selected = selected.map_err(py_error)?;
    let indices: Vec<i64> = selected.indices.iter().map(|&i| i as i64).collect();
    Ok((indices.into_pyarray(py), selected.report.to_json(), address))
}

const GRAPH: Spec = Spec {
    function: "graph",
    inputs: &["embeddings"],
    excluded: &[],
};

/// CSR index arrays as SciPy builds them: int32 when every value fits, else int64.
fn index_array<'py>(py: Python<'py>, values: &[usize]) -> Bound<'py, PyAny> {
    if values.iter().all(|&v| v <= i32::MAX as usize) {
        let narrow: Vec<i32> = values.iter().map(|&v| v as i32).collect();
        narrow.into_pyarray(py).into_any()
    } else {
        let wide: Vec<i64> = values.iter().map(|&v| v as i64).collect();
        wide.into_pyarray(py).into_any()
    }
}

/// `graph(options, progress)`: `(indptr, indices, data, n, report JSON)` of the kNN similarity.
#[pyfunction]
#[pyo3(signature = (options, progress = false))]
fn graph<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyDict>,
    progress: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let options = with_quiet(options, progress)?;
    let mut args: GraphArgs = options::parse("graph", &GRAPH, &options, &[])?;
    args.out = options::output(args.out);
    let embeddings = item(&options, "embeddings")?
        .map(|e| floats::<Ix2>("embeddings", &e, MATRIX))
        .transpose()?
        .ok_or_else(|| PyTypeError::new_err("graph() missing the embeddings"))?;
    let view = embeddings.view();
    let show = progress && !args.quiet;
    let built = interrupt::run(py, show, |p| in_memory::graph(&args, view, p))?;
    let built = built.map_err(py_error)?;
    let g = &built.graph;
    let columns: Vec<usize> = g.indices().iter().map(|&j| j as usize).collect();
    let report = serde_json::to_string_pretty(&built.report).expect("a report always serialises");
    PyTuple::new(
        py,
        [
            index_array(py, g.indptr()),
            index_array(py, &columns),
            g.values().to_vec().into_pyarray(py).into_any(),
            g.n().into_pyobject(py)?.into_any(),
            report.into_pyobject(py)?.into_any(),
        ],
    )
}

/// `evaluate(graph, scores, subset, alpha, fl_self_similarity)`: the evaluation as JSON.
#[pyfunction]
fn evaluate(
    graph: &Bound<'_, PyAny>,
    scores: &Bound<'_, PyAny>,
    subset: &Bound<'_, PyAny>,
    alpha: f64,
    fl_self_similarity: f64,
) -> PyResult<String> {
    let graph = csr(graph)?;
    let scores = vector("scores", scores)?;
    let subset = int_vector("subset", subset)?;
    let e = infoprune::commands::evaluate::evaluate_subset(
        &graph,
        &scores,
        alpha,
        &subset,
        fl_self_similarity,
    )
    .map_err(py_error)?;
    Ok(serde_json::to_string_pretty(&e).expect("an evaluation always serialises"))
}

const SCORE: Spec = Spec {
    function: "score",
    inputs: &["logits", "labels", "features"],
    excluded: &["sim", "probs", "term"],
};

/// `score(options)`: the scores of `--kind` and the kind's name.
#[pyfunction]
fn score<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyDict>,
) -> PyResult<(Bound<'py, PyArray1<f32>>, String)> {
    let options = with_quiet(options, false)?;
    let mut args: ScoreArgs = options::parse("score", &SCORE, &options, &[])?;
    args.out = options::output(args.out);
    let logits = item(&options, "logits")?
        .map(|e| logit_arrays("logits", &e))
        .transpose()?
        .ok_or_else(|| PyTypeError::new_err("score() missing the logits"))?;
    let labels = item(&options, "labels")?
        .map(|v| int_vector("labels", &v))
        .transpose()?
        .ok_or_else(|| PyTypeError::new_err("score() missing the labels"))?;
    let features = item(&options, "features")?
        .map(|e| floats::<Ix2>("features", &e, MATRIX))
        .transpose()?;
    let (z, h) = (logits.view()?, features.as_ref().map(Floats::view));
    let (name, values) = py
        .detach(|| in_memory::score(&args, z, &labels, h))
        .map_err(py_error)?;
    Ok((values.into_pyarray(py), name))
}

const SIM: Spec = Spec {
    function: "sim",
    inputs: &["features", "probs", "labels"],
    excluded: &["kind", "logits", "el2n_epochs", "epoch", "sim"],
};

/// A list of 2-D float arrays (one per model).
fn matrices<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Vec<Floats<'py, Ix2>>> {
    obj.try_iter()?
        .enumerate()
        .map(|(i, m)| floats::<Ix2>(&format!("{name}[{i}]"), &m?, MATRIX))
        .collect()
}

/// `sim(options)`: SIM (or one of its terms) and the term's name.
#[pyfunction]
fn sim<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyDict>,
) -> PyResult<(Bound<'py, PyArray1<f32>>, String)> {
    let options = with_quiet(options, false)?;
    let mut args: ScoreArgs = options::parse("sim", &SIM, &options, &["--sim".to_string()])?;
    args.out = options::output(args.out);
    let missing = |what: &str| PyTypeError::new_err(format!("sim() missing the {what}"));
    let features = matrices(
        "features",
        &item(&options, "features")?.ok_or_else(|| missing("features"))?,
    )?;
    let probs = matrices(
        "probs",
        &item(&options, "probs")?.ok_or_else(|| missing("probs"))?,
    )?;
    let labels = int_vector(
        "labels",
        &item(&options, "labels")?.ok_or_else(|| missing("labels"))?,
    )?;
    let f: Vec<ArrayView2<f32>> = features.iter().map(Floats::view).collect();
    let p: Vec<ArrayView2<f32>> = probs.iter().map(Floats::view).collect();
    let (name, values) = py
        .detach(|| in_memory::sim(&args, &labels, &f, &p))
        .map_err(py_error)?;
    Ok((values.into_pyarray(py), name))
}

const TOKENS: Spec = Spec {
    function: "tokens",
    inputs: &["features", "saliency", "captions", "classes", "class_names"],
    excluded: &["captions_out"],
};

/// The mask, the extended captions and the report of [`tokens`].
type TokensResult<'py> = (Bound<'py, PyArray2<u8>>, Option<Vec<String>>, String);

/// `tokens(options, progress)`: the keep mask, the extended captions (or `None`) and the report
/// as JSON.
#[pyfunction]
#[pyo3(signature = (options, progress = false))]
fn tokens<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyDict>,
    progress: bool,
) -> PyResult<TokensResult<'py>> {
    let options = with_quiet(options, progress)?;
    let has_captions = item(&options, "captions")?.is_some();
    // The command writes the extended captions to --captions-out; here they are returned.
    let extra = if has_captions {
        vec![format!(
            "--captions-out={}",
            options::placeholder("captions")
        )]
    } else {
        Vec::new()
    };
    let mut args: TokensArgs = options::parse("tokens", &TOKENS, &options, &extra)?;
    args.out = options::output(args.out);
    let missing = |what: &str| PyTypeError::new_err(format!("tokens() missing the {what}"));
    let features = floats::<Ix3>(
        "features",
        &item(&options, "features")?.ok_or_else(|| missing("features"))?,
        ARRAY3,
    )?;
    let saliency = floats::<Ix2>(
        "saliency",
        &item(&options, "saliency")?.ok_or_else(|| missing("saliency"))?,
        MATRIX,
    )?;
    let captions: Option<Vec<String>> = item(&options, "captions")?
        .map(|c| c.extract())
        .transpose()
        .map_err(|_| PyTypeError::new_err("captions: expected a list of strings"))?;
    let class_names: Option<Vec<String>> = item(&options, "class_names")?
        .map(|c| c.extract())
        .transpose()
        .map_err(|_| PyTypeError::new_err("class_names: expected a list of strings"))?;
    let classes = item(&options, "classes")?
        .map(|c| floats::<Ix2>("classes", &c, MATRIX))
        .transpose()?;
    let caption_inputs = match (&captions, &classes, &class_names) {
        (Some(captions), Some(classes), Some(class_names)) => Some(CaptionInputs {
            captions,
            classes: classes.view(),
            class_names,
        }),
        _ => None,
    };
    let (x, a) = (features.view(), saliency.view());
    let show = progress && !args.quiet;
    let selected = interrupt::run(py, show, |p| {
        in_memory::tokens(&args, x, a, caption_inputs, p)
    })?;
    let selected = selected.map_err(py_error)?;
    let report =
        serde_json::to_string_pretty(&selected.report).expect("a report always serialises");
    Ok((selected.mask.into_pyarray(py), selected.captions, report))
}

/// The embeddings, scores and labels of [`demo_data`].
type DemoData<'py> = (
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<i64>>,
);

/// `demo_data(n, dim, clusters, seed)`: `infoprune demo`'s synthetic data as
/// `(embeddings, scores, labels)`.
#[pyfunction]
fn demo_data<'py>(
    py: Python<'py>,
    n: usize,
    dim: usize,
    clusters: usize,
    seed: u64,
) -> PyResult<DemoData<'py>> {
    if n < 100 {
        return Err(PyValueError::new_err(format!(
            "n must be at least 100, found {n}"
        )));
    }
    if dim == 0 || clusters == 0 || clusters > n {
        return Err(PyValueError::new_err(format!(
            "dim must be at least 1 and clusters in 1..=n, found dim = {dim}, clusters = {clusters}"
        )));
    }
    let data = py.detach(|| infoprune::demo::generate(n, dim, clusters, seed));
    Ok((
        data.embeddings.into_pyarray(py),
        data.scores.into_pyarray(py),
        data.labels.into_pyarray(py),
    ))
}

/// `keywords(command)`: every keyword the function of `command` takes besides its arrays'.
#[pyfunction]
fn keywords(command: &str) -> PyResult<Vec<String>> {
    Ok(match command {
        "select" => options::keywords::<SelectArgs>("select", &SELECT),
        "graph" => options::keywords::<GraphArgs>("graph", &GRAPH),
        "score" => options::keywords::<ScoreArgs>("score", &SCORE),
        "sim" => options::keywords::<ScoreArgs>("sim", &SIM),
        "tokens" => options::keywords::<TokensArgs>("tokens", &TOKENS),
        other => {
            return Err(PyValueError::new_err(format!(
                "no command '{other}': expected select, graph, score, sim or tokens"
            )))
        }
    })
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(select, m)?)?;
    m.add_function(wrap_pyfunction!(graph, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(score, m)?)?;
    m.add_function(wrap_pyfunction!(sim, m)?)?;
    m.add_function(wrap_pyfunction!(tokens, m)?)?;
    m.add_function(wrap_pyfunction!(demo_data, m)?)?;
    m.add_function(wrap_pyfunction!(keywords, m)?)?;
    plan::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
