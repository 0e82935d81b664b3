"""infoprune: prune a training dataset to the subset that keeps the most information.

The functions mirror the ``infoprune`` command line on arrays in memory::

    import infoprune
    x, s, y = infoprune.demo_data()                    # 20,000 × 32 synthetic embeddings
    sel = infoprune.select(x, s, keep=0.1, seed=0)      # InfoMax, 10% kept
    sel.indices                                         # sorted int64 row indices
    sel.report["objective"]                             # the report `select --report` writes

Every option of a command is a keyword of its function with the same name in snake case
(``--partition-size 20000`` is ``partition_size=20000``; a flag such as ``--drop-nonfinite`` is
``drop_nonfinite=True``; a list option such as ``--quota-classes 1,2`` takes ``[1, 2]``). The
options are parsed by the command line's own definitions, so defaults, checks and error messages
are the command line's (its messages name options as ``--name``). An unknown keyword raises
``TypeError``; a value the command refuses raises ``ValueError``. The optional keywords ``out``,
``report`` and ``force`` also write the files the command writes, all or nothing.

Arrays: C-contiguous float32 arrays (``np.memmap`` included) are read in place, without a copy;
float64, Fortran-order or strided arrays are converted once to float32, as the command line
converts such files. Any other dtype raises ``TypeError``; a wrong shape, a NaN or a length
mismatch ``ValueError``. The work runs without the GIL (other Python threads keep running, and
several selections can run at once; do not modify an input array while a call reads it); Ctrl-C
stops it at its next progress report (a partition's graph, a solved batch) with
``KeyboardInterrupt``, leaving no file half-written. ``progress=True`` shows the command line's
progress bars on stderr.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__all__ = [
    "Selection",
    "TokenSelection",
    "demo_data",
    "evaluate",
    "graph",
    "score",
    "select",
    "sim",
    "tokens",
]

__version__: str = _native.__version__

#: SciPy's CSR parts: ``(indptr, indices, data, shape)``, what :func:`graph` returns without SciPy.
CsrParts = Tuple[np.ndarray, np.ndarray, np.ndarray, Tuple[int, int]]

#: A path for an output file.
PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select`.

    Attributes:
        indices: the kept rows, sorted ascending (``int64``), what ``select --out`` writes.
        report: the JSON report ``select --report`` writes, as a dict (same keys and values).
    """

    indices: np.ndarray
    report: Dict[str, Any]
    #: Address of the embeddings buffer the Rust side read in place (``None`` after a
    #: conversion); the tests use it to check that no copy was made.
    _embeddings_address: Optional[int] = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        """The number of kept samples."""
        return int(self.indices.shape[0])


@dataclass(frozen=True)
class TokenSelection:
    """The result of :func:`tokens`.

    Attributes:
        mask: ``uint8`` array of shape ``n × T``, 1 for the kept tokens (what ``tokens --out``
            writes).
        report: the JSON report ``tokens --report`` writes, as a dict.
        captions: the extended captions, one per sample, when ``captions`` were given.
    """

    mask: np.ndarray
    report: Dict[str, Any]
    captions: Optional[List[str]] = None


def _csr_parts(graph: Any) -> CsrParts:
    """SciPy's CSR parts of ``graph``: a ``scipy.sparse`` matrix or array of any format, or an
    ``(indptr, indices, data, shape)`` tuple (returned as given)."""
    if isinstance(graph, tuple):
        return graph
    tocsr = getattr(graph, "tocsr", None)
    if tocsr is None:
        raise TypeError(
            "graph: expected a scipy.sparse matrix or an (indptr, indices, data, shape) tuple, "
            f"found {type(graph).__name__}"
        )
    k = tocsr()
    return (k.indptr, k.indices, k.data, tuple(int(d) for d in k.shape))


def select(
    embeddings: Any = None,
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
    graph: Any = None,
    **options: Any,
) -> Selection:
    """Select the samples to keep: ``infoprune select`` on arrays.

    Args:
        embeddings: ``n × d`` float array (optional with ``graph``; then only
            ``method="moderate"`` reads it).
        scores: importance of each sample (high = keep), length ``n``; omitted: typicality only.
        keep: fraction of the samples to keep, in (0, 1]; ``k = max(1, round(keep·n))``, computed
            exactly from the decimal (pass a string such as ``"0.1"`` for an exact decimal).
        budget: number of samples to keep (give exactly one of ``keep`` and ``budget``).
        method: ``infomax``, ``greedy``, ``random``, ``topk``, ``sims``, ``ccs``, ``moderate``,
            ``d2`` or ``semdedup``.
        labels: integer class labels, length ``n``: with ``infomax`` or ``greedy`` the budgets
            are class-balanced by default (``no_class_quota=True`` turns it off); also SIMS's
            class stage, moderate, ``scores_from``, ``partition="class"``.
        noise: noise signal, length ``n`` (high = likely mislabeled, e.g. minus AUM), for
            ``drop_noisy``; with ``scores_from`` it defaults to minus AUM from the same logits.
        seed: seed of every random choice.
        backend: ``auto``, ``cpu`` or ``wgpu``.
        progress: show the stages as progress bars on stderr.
        graph: a given similarity ``K`` (``scipy.sparse`` matrix, or ``(indptr, indices, data,
            shape)``; ``n × n``, symmetric, non-negative, zero diagonal) instead of a kNN graph.
        **options: every other option of ``infoprune select`` in snake case: ``aum``,
            ``logits`` (a ``T × n × C`` array or a list of ``n × C`` arrays, one per epoch) and
            ``score_features`` take arrays; ``scores_from``, ``class_fraction``,
            ``sims_concentration``, ``scores_high``, ``solver``, ``alpha``, ``beta``,
            ``neighbors``, ``symmetrize``, ``knn``, ``nlist``, ``nprobe``, ``recall_sample``,
            ``representativeness``, ``typicality``, ``drop_noisy``, ``noise_by_class``,
            ``no_noise_by_class``, ``hard_tail``,
            ``ccs_cutoff``, ``semdedup_keep``, ``semdedup_cluster_size``, ``normalize``,
            ``iterations``, ``tolerance``, ``step_growth``, ``swap_rounds``,
            ``greedy_candidate``, ``max_memory``, ``drop_nonfinite``, ``partition``,
            ``partition_size``, ``class_quota``, ``no_class_quota``, ``quota_classes``; ``out``
            and ``report`` (paths) also write the command's files, ``force`` lets them replace
            existing ones, ``quiet`` is ``not progress``.

    Returns:
        The kept indices and the report.

    Raises:
        TypeError: an unknown keyword, a required one missing, or an array of another dtype.
        ValueError: a value or an input the command line refuses (its message).
        KeyboardInterrupt: Ctrl-C during the run.
    """
    arguments = dict(options)
    arguments.update(
        embeddings=embeddings,
        scores=scores,
        keep=keep,
        budget=budget,
        method=method,
        labels=labels,
        noise=noise,
        seed=seed,
        backend=backend,
        graph=None if graph is None else _csr_parts(graph),
    )
    indices, report, address = _native.select(arguments, progress)
    return Selection(indices=indices, report=json.loads(report), _embeddings_address=address)


def graph(
    embeddings: Any,
    neighbors: int = 10,
    *,
    symmetrize: str = "max",
    knn: str = "auto",
    seed: int = 0,
    backend: str = "auto",
    progress: bool = False,
    **options: Any,
) -> Any:
    """The kNN similarity ``select`` builds over all samples: ``infoprune graph`` on an array.

    Args:
        embeddings: ``n × d`` float array.
        neighbors: neighbours kept per sample before symmetrising (at least 1).
        symmetrize: ``max`` (``K = max(K, Kᵀ)``) or ``mean`` (``(K + Kᵀ)/2``).
        knn: ``exact``, ``ivf`` or ``auto`` (exact up to 50,000 samples).
        seed: seed of the IVF training sample and of the recall sample.
        backend: ``auto``, ``cpu`` or ``wgpu``.
        progress: show progress bars on stderr.
        **options: ``nlist``, ``nprobe``, ``recall_sample``; ``out`` and ``report`` (paths) also
            write the command's ``.npz`` and JSON report, ``force`` lets them replace existing
            files.

    Returns:
        A ``scipy.sparse.csr_matrix`` (``float32``, ``n × n``) when SciPy is installed, else the
        tuple ``(indptr, indices, data, shape)``; either can be passed to ``select(graph=...)``.
    """
    arguments = dict(options)
    arguments.update(
        embeddings=embeddings,
        neighbors=neighbors,
        symmetrize=symmetrize,
        knn=knn,
        seed=seed,
        backend=backend,
    )
    indptr, indices, data, n, _report = _native.graph(arguments, progress)
    try:
        import scipy.sparse
    except ImportError:
        return (indptr, indices, data, (n, n))
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def evaluate(
    graph: Any,
    scores: Any,
    subset: Any,
    *,
    alpha: float,
    fl_self_similarity: float = 1.0,
) -> Dict[str, Any]:
    """Score a subset under the InfoMax objective and facility location: ``infoprune evaluate``.

    Args:
        graph: the similarity ``K`` (``scipy.sparse`` matrix or ``(indptr, indices, data,
            shape)``).
        scores: the importance ``s``, length ``n``, used as given.
        subset: distinct row indices in ``0..n`` (e.g. ``select(...).indices``).
        alpha: the pairwise weight α.
        fl_self_similarity: ``K_ii`` of a selected sample in facility location.

    Returns:
        ``{"n", "k", "alpha", "objective", "linear", "pairwise", "facility_location",
        "fl_self_similarity"}`` as ``evaluate --json`` prints them.
    """
    result = _native.evaluate(_csr_parts(graph), scores, subset, alpha, fl_self_similarity)
    return json.loads(result)


def score(
    logits: Any,
    labels: Any,
    *,
    kind: str,
    el2n_epochs: Optional[int] = None,
    epoch: Optional[int] = None,
    raw: bool = False,
    features: Any = None,
    **options: Any,
) -> np.ndarray:
    """Importance scores from training dynamics: ``infoprune score --kind`` on arrays.

    Args:
        logits: logits saved during training: one ``T × n × C`` array, or a list of ``n × C``
            arrays, one per epoch (e.g. ``np.load(path, mmap_mode="r")`` of each epoch's file);
            float32 arrays are read in place.
        labels: integer class labels, length ``n``.
        kind: ``el2n``, ``entropy``, ``least-confidence``, ``margin``, ``loss``, ``forgetting``,
            ``aum`` or ``grand``.
        el2n_epochs: EL2N: mean over the first N epochs (default 10).
        epoch: the epoch for single-epoch scores (default: the last).
        raw: the score's natural values instead of "high = important".
        features: penultimate features ``n × d`` for ``kind="grand"``.
        **options: ``out`` (path) also writes the command's ``.npy``; ``force``, ``quiet``.

    Returns:
        ``float32`` scores of length ``n`` (high = important unless ``raw``).
    """
    arguments = dict(options)
    arguments.update(
        logits=logits,
        labels=labels,
        kind=kind,
        el2n_epochs=el2n_epochs,
        epoch=epoch,
        raw=raw,
        features=features,
    )
    values, _name = _native.score(arguments)
    return values


def sim(
    features: Sequence[Any],
    probs: Sequence[Any],
    labels: Any,
    *,
    term: Optional[str] = None,
    raw: bool = False,
    **options: Any,
) -> np.ndarray:
    """SIM (separability · integrity · certainty) from several models: ``infoprune score --sim``.

    Args:
        features: one ``n × d`` features array per model.
        probs: one ``n × C`` predicted-probabilities array per model.
        labels: integer class labels, length ``n``.
        term: ``sim`` (default), ``separability``, ``integrity`` or ``certainty``.
        raw: the term's natural values (high = easy) instead of "high = important".
        **options: ``out`` (path) also writes the command's ``.npy``; ``force``, ``quiet``.

    Returns:
        ``float32`` values of length ``n``.
    """
    arguments = dict(options)
    arguments.update(features=list(features), probs=list(probs), labels=labels, term=term, raw=raw)
    values, _name = _native.sim(arguments)
    return values


def tokens(
    features: Any,
    saliency: Any,
    *,
    keep: Optional[Union[float, str]] = None,
    count: Optional[int] = None,
    backend: str = "auto",
    progress: bool = False,
    captions: Optional[Sequence[str]] = None,
    classes: Any = None,
    class_names: Optional[Sequence[str]] = None,
    **options: Any,
) -> TokenSelection:
    """Keep the informative tokens inside every sample: ``infoprune tokens`` on arrays.

    Args:
        features: token features, ``n × T × d``.
        saliency: token saliency, ``n × T`` (high = keep).
        keep: fraction of each sample's tokens to keep, in (0, 1] (``⌈keep·T⌉`` tokens).
        count: tokens to keep per sample (give exactly one of ``keep`` and ``count``).
        backend: ``auto``, ``cpu`` or ``wgpu``.
        progress: show progress bars on stderr.
        captions: one caption per sample, extended with the classes detected in it (needs
            ``classes`` and ``class_names``).
        classes: class probabilities ``n × C``.
        class_names: the ``C`` class names.
        **options: ``grid`` (``"14x14"``), ``grid_weight``, ``similarity``, ``neighbors``,
            ``alpha``, ``beta``, ``iterations``, ``threshold``, ``template``; ``out`` and
            ``report`` (paths) also write the command's files, ``force``, ``quiet``.

    Returns:
        The keep mask, the report and the extended captions.
    """
    arguments = dict(options)
    arguments.update(
        features=features,
        saliency=saliency,
        keep=keep,
        count=count,
        backend=backend,
        captions=None if captions is None else list(captions),
        classes=classes,
        class_names=None if class_names is None else list(class_names),
    )
    mask, extended, report = _native.tokens(arguments, progress)
    return TokenSelection(mask=mask, report=json.loads(report), captions=extended)


def demo_data(
    n: int = 20_000, dim: int = 32, clusters: int = 30, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The synthetic data of ``infoprune demo``: clustered Gaussian embeddings with planted exact
    duplicates (5%) and far outliers (1%).

    Returns:
        ``(embeddings, scores, labels)``: ``n × dim`` float32, float32 "difficulty" scores (high =
        hard = keep) and int64 cluster labels.
    """
    return _native.demo_data(n, dim, clusters, seed)
