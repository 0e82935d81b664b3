"""Selections across a Ray cluster: ``pip install "./python[ray]"``.

:func:`select` takes what :func:`infoprune.select` takes, with the embeddings as an array, a list
of ``.npy`` shards or a Ray Dataset, and returns the same :class:`infoprune.Selection`: the same
indices and the same report (timings aside) as ``infoprune.select`` on the same rows, options and
seed, whatever the cluster. It runs the selection's plan (the command line's ``infoprune plan``,
``select --plan --part``, ``infoprune merge``)::

    driver:   plan      partitions (k-means / IVF lists, seeded), budgets by largest remainder
    workers:  run_parts one Ray task per batch of the plan: its problems' graphs and solves
    driver:   merge     the parts' outcomes → the kept indices and the report

How the data moves:

* an array: put in the object store once (``ray.put``); every task reads it as a zero-copy,
  read-only view of the shared memory on its node (one copy per node, none per task);
* a list of ``.npy`` paths: only the paths travel; the driver and every task memory-map the
  shards (``np.load(mmap_mode="r")``), so every node must see the same files at the same paths
  (a shared file system). One shard is read in place; several are concatenated in each process
  that reads them (a copy of the whole matrix there);
* a Ray Dataset: materialised on the driver, in the dataset's order, into one float32 matrix
  (its embedding column, one row per sample) and per-sample vectors (the columns named by
  ``scores``, ``labels``, ``noise``, ``aum``), then handled as an array.

The per-sample vectors, the options and the plan (JSON, about a byte a row) are put in the object
store once; each task returns its problems' outcomes as JSON (a few bytes per kept row). The
workers need infoprune installed (same version) on every node.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import Selection, _native

try:
    import ray
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'infoprune.ray needs Ray: pip install "infoprune[ray]" (or pip install "ray>=2.9")'
    ) from error

__all__ = ["plan", "select"]

#: Keywords that name the files the selection writes: only the driver's merge writes them.
_OUTPUTS = ("out", "report", "force")


def _is_paths(data: Any) -> bool:
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(
        isinstance(p, (str, os.PathLike)) for p in data
    )


def _load_shards(paths: Sequence[Union[str, "os.PathLike[str]"]]) -> np.ndarray:
    """The shards memory-mapped and, when there are several, concatenated by rows."""
    shards = []
    for path in paths:
        shard = np.load(os.fspath(path), mmap_mode="r", allow_pickle=False)
        if shard.ndim != 2:
            raise ValueError(
                f"embeddings shard {os.fspath(path)}: expected a 2-D (rows, columns) array, "
                f"found shape {shard.shape}"
            )
        if shards and shard.shape[1] != shards[0].shape[1]:
            raise ValueError(
                f"embeddings shard {os.fspath(path)} has {shard.shape[1]} columns, "
                f"{os.fspath(paths[0])} has {shards[0].shape[1]}"
            )
        shards.append(shard)
    return shards[0] if len(shards) == 1 else np.concatenate(shards, axis=0)


def _is_ray_dataset(data: Any) -> bool:
    # Without importing ray.data (pandas, pyarrow) unless the data is one of its datasets.
    if not type(data).__module__.startswith("ray.data"):
        return False
    import ray.data

    return isinstance(data, ray.data.Dataset)


def _column(batch: Dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in batch:
        raise ValueError(f"the Ray Dataset has no column '{name}' (columns: {sorted(batch)})")
    return batch[name]


def _materialise(
    dataset: Any, embedding_column: str, columns: Dict[str, str]
) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """The dataset's embedding column as one float32 matrix and the named columns as vectors,
    rows in the dataset's order."""
    import ray.data

    context = ray.data.DataContext.get_current()
    preserve = context.execution_options.preserve_order
    context.execution_options.preserve_order = True
    try:
        embeddings: List[np.ndarray] = []
        vectors: Dict[str, List[np.ndarray]] = {key: [] for key in columns}
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            embeddings.append(np.asarray(_column(batch, embedding_column), dtype=np.float32))
            for key, name in columns.items():
                vectors[key].append(np.asarray(_column(batch, name)))
    finally:
        context.execution_options.preserve_order = preserve
    if not embeddings:
        raise ValueError("the Ray Dataset has no rows")
    matrix = np.ascontiguousarray(np.concatenate(embeddings, axis=0), dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(
            f"the Ray Dataset's column '{embedding_column}' must hold one 1-D vector per row, "
            f"found rows of shape {matrix.shape[1:]}"
        )
    return matrix, {key: np.concatenate(parts) for key, parts in vectors.items()}


def _arguments(
    data: Any, scores: Any, embedding_column: str, keywords: Dict[str, Any]
) -> Tuple[Any, Optional[List[str]], Dict[str, Any]]:
    """``(embeddings the workers get, shard paths or None, select's keywords for the driver)``."""
    keywords = dict(keywords, scores=scores)
    if _is_paths(data):
        paths = [os.fspath(p) for p in data]
        return None, paths, dict(keywords, embeddings=_load_shards(paths))
    if _is_ray_dataset(data):
        per_sample = ("scores", "labels", "noise", "aum")
        columns = {k: keywords[k] for k in per_sample if isinstance(keywords.get(k), str)}
        matrix, vectors = _materialise(data, embedding_column, columns)
        keywords.update(vectors)
        return matrix, None, dict(keywords, embeddings=matrix)
    return data, None, dict(keywords, embeddings=data)


def _keywords(
    keep: Any, budget: Any, method: str, labels: Any, noise: Any, seed: int, backend: str,
    options: Dict[str, Any],
) -> Dict[str, Any]:
    return dict(
        options, keep=keep, budget=budget, method=method, labels=labels, noise=noise, seed=seed,
        backend=backend,
    )


@ray.remote
def _solve(
    plan_json: str, parts: List[int], embeddings: Any, paths: Optional[List[str]],
    arguments: Dict[str, Any],
) -> List[str]:
    """One task: the outcomes (JSON) of problems ``parts`` of the plan."""
    matrix = _load_shards(paths) if paths is not None else embeddings
    return _native.run_parts(plan_json, parts, dict(arguments, embeddings=matrix))


def _cause(error: "ray.exceptions.RayTaskError") -> BaseException:
    """The exception a task raised, as its own type (``ValueError`` for bad input)."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, Exception) else error


def plan(
    data: Any,
    scores: Any = None,
    *,
    keep: Optional[Union[float, str]] = None,
    budget: Optional[int] = None,
    method: str = "infomax",
    labels: Any = None,
    noise: Any = None,
    seed: int = 0,
    backend: str = "auto",
    embedding_column: str = "embedding",
    **options: Any,
) -> Dict[str, Any]:
    """The plan :func:`select` runs, as a dict (what ``infoprune plan`` writes): its problems,
    batches, layout and memory estimate; made on the calling process, nothing is solved."""
    keywords = _keywords(keep, budget, method, labels, noise, seed, backend, options)
    _, _, arguments = _arguments(data, scores, embedding_column, keywords)
    plan_json, _batches = _native.plan(arguments, False)
    return json.loads(plan_json)


def select(
    data: Any,
    scores: Any = None,
    *,
    keep: Optional[Union[float, str]] = None,
    budget: Optional[int] = None,
    method: str = "infomax",
    labels: Any = None,
    noise: Any = None,
    seed: int = 0,
    backend: str = "auto",
    progress: bool = False,
    num_cpus: float = 1,
    parts_per_task: Optional[int] = None,
    embedding_column: str = "embedding",
    **options: Any,
) -> Selection:
    """:func:`infoprune.select` across a Ray cluster: one task per batch of the selection's plan.

    Args:
        data: the embeddings: an ``n × d`` float array; a list of ``.npy`` paths (row shards,
            concatenated in the order given, on a file system every node sees); or a
            ``ray.data.Dataset`` with one embedding vector per row in ``embedding_column``
            (materialised on the driver into one float32 matrix, in the dataset's order).
        scores: importance per sample, length ``n``; with a Ray Dataset also a column name.
        keep, budget, method, labels, noise, seed, backend: as :func:`infoprune.select`
            (``labels``, ``noise`` and ``aum`` may name columns of a Ray Dataset).
        progress: progress bars on the driver's stderr for the planning and the merge.
        num_cpus: CPUs each task reserves (and the solver threads it runs).
        parts_per_task: problems per task; ``None``: one task per batch of the plan (the
            problems the single run solves together). A problem's outcome does not depend on its
            task, so any split gives the same selection; an ``ivf-lists`` plan rebuilds the
            global IVF index in every task, so fewer, larger tasks suit it.
        embedding_column: the Ray Dataset's column of embeddings.
        **options: every other keyword of :func:`infoprune.select` (``partition``,
            ``partition_size``, ``knn``, ``max_memory``, ...); ``out``, ``report`` and ``force``
            write the files on the driver. A given ``graph`` is refused: it is one problem,
            nothing to distribute.

    Returns:
        The :class:`infoprune.Selection` ``infoprune.select`` returns for the same rows, options
        and seed: the same indices, the same report but for its timings.

    Raises:
        TypeError, ValueError, OSError: as :func:`infoprune.select` for the same input (raised by
            the driver's planning before any task starts, or re-raised from the task).
    """
    if parts_per_task is not None:
        if isinstance(parts_per_task, bool) or not isinstance(parts_per_task, int):
            raise TypeError(f"parts_per_task must be an int, found {parts_per_task!r}")
        if parts_per_task < 1:
            raise ValueError(f"parts_per_task must be at least 1, found {parts_per_task}")
    if not ray.is_initialized():
        ray.init()
    keywords = _keywords(keep, budget, method, labels, noise, seed, backend, options)
    embeddings, paths, arguments = _arguments(data, scores, embedding_column, keywords)
    started = time.perf_counter()
    plan_json, batches = _native.plan(arguments, progress)
    plan_seconds = time.perf_counter() - started

    worker_arguments = {
        key: value
        for key, value in arguments.items()
        if key not in _OUTPUTS and key != "embeddings"
    }
    plan_ref = ray.put(plan_json)
    arguments_ref = ray.put(worker_arguments)
    embeddings_ref = ray.put(embeddings) if paths is None else None
    threads = str(max(1, int(num_cpus)))
    task = _solve.options(
        num_cpus=num_cpus, runtime_env={"env_vars": {"RAYON_NUM_THREADS": threads}}
    )
    if parts_per_task is not None:
        batches = [
            batch[i : i + parts_per_task]
            for batch in batches
            for i in range(0, len(batch), parts_per_task)
        ]
    pending = [
        task.remote(plan_ref, batch, embeddings_ref, paths, arguments_ref) for batch in batches
    ]
    try:
        outcomes = [outcome for done in ray.get(pending) for outcome in done]
    except ray.exceptions.RayTaskError as error:
        raise _cause(error) from None
    indices, report = _native.merge(plan_json, outcomes, arguments, plan_seconds, progress)
    return Selection(indices=indices, report=json.loads(report))
