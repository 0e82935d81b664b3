"""The package's own surface: the graph without SciPy, progress bars, demo data, type stubs."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

import infoprune


def test_graph_without_scipy_is_csr_parts_select_accepts(demo, monkeypatch):
    x, s, _ = demo
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError("no scipy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    indptr, indices, data, shape = infoprune.graph(x, 6, backend="cpu")
    assert shape == (len(x), len(x))
    assert indptr.dtype == np.int32 and indices.dtype == np.int32 and data.dtype == np.float32
    assert indptr[0] == 0 and indptr[-1] == len(indices) == len(data)
    # Symmetric, non-negative, zero diagonal, at least m = 6 neighbours per row (max-symmetrised).
    assert np.all(np.diff(indptr) >= 6) and np.all(data >= 0)
    rows = np.repeat(np.arange(len(x)), np.diff(indptr))
    assert not np.any(rows == indices)
    pairs = set(zip(rows.tolist(), indices.tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    # keep=0.25: below 80% pruning no hard tail is dropped, so the graph is solved whole.
    by_graph = infoprune.select(scores=s, graph=(indptr, indices, data, shape), keep=0.25,
                                backend="cpu")
    assert by_graph.report["graph_nnz"] == len(data)


def test_progress_bars_change_nothing_but_stderr(demo, capfd):
    x, s, _ = demo
    quiet = infoprune.select(x, s, keep=0.1, backend="cpu")
    shown = infoprune.select(x, s, keep=0.1, backend="cpu", progress=True)
    np.testing.assert_array_equal(quiet.indices, shown.indices)
    assert capfd.readouterr().out == ""


def test_demo_data_is_the_cli_demo_data():
    x, s, y = infoprune.demo_data(n=1_000, dim=4, clusters=5, seed=2)
    assert x.shape == (1_000, 4) and x.dtype == np.float32 and x.flags.c_contiguous
    assert s.shape == (1_000,) and s.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(5))
    again = infoprune.demo_data(n=1_000, dim=4, clusters=5, seed=2)
    np.testing.assert_array_equal(again[0], x)
    with pytest.raises(ValueError, match="n must be at least 100"):
        infoprune.demo_data(n=10)


def test_type_stubs_and_docstrings_ship_with_the_package():
    package = Path(infoprune.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_native.pyi").is_file()
    for name in infoprune.__all__:
        assert getattr(infoprune, name).__doc__, name
