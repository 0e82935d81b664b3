"""infoprune.ray.select on a local Ray cluster equals infoprune.select on the same rows: indices
and report (timings aside), for array, shard-list and Ray Dataset inputs and for the random,
k-means and IVF-lists layouts split into several tasks; bad input raises what select raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import numpy as np
import pytest

import infoprune

from conftest import same_report

ray = pytest.importorskip(
    "ray", reason='Ray is not installed: pip install "./python[ray]" to run these tests'
)
import infoprune.ray as iray  # noqa: E402

N, D = 20_000, 16


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    """One local cluster of two CPUs for the module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    return infoprune.demo_data(n=N, dim=D, clusters=20, seed=3)


def same(distributed: infoprune.Selection, single: infoprune.Selection) -> None:
    np.testing.assert_array_equal(distributed.indices, single.indices)
    same_report(distributed.report, single.report)


def test_array_random_partitions_one_problem_per_task(data) -> None:
    x, s, _ = data
    # hard_tail=0: the layout is the subject here, so every row is a candidate.
    options: Dict[str, Any] = dict(keep=0.1, seed=7, partition_size=6000, hard_tail=0)
    plan = iray.plan(x, s, **options)
    assert plan["layout"] == "configured" and len(plan["problems"]) == 4, plan["layout"]
    single = infoprune.select(x, s, **options)
    same(iray.select(x, s, parts_per_task=1, **options), single)
    # One task per batch of the plan gives the same.
    same(iray.select(x, s, **options), single)
    assert single.report["k"] == N // 10


def test_shards_kmeans(tmp_path: Path, data) -> None:
    x, s, _ = data
    cuts = [0, 3_001, 11_000, N]
    paths = []
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        paths.append(tmp_path / f"part-{i}.npy")
        np.save(paths[-1], x[a:b])
    options: Dict[str, Any] = dict(
        budget=1_500, seed=1, partition="kmeans", partition_size=6000
    )
    plan = iray.plan([str(p) for p in paths], s, **options)
    assert len(plan["problems"]) >= 4
    single = infoprune.select(x, s, **options)
    same(iray.select([str(p) for p in paths], s, parts_per_task=2, **options), single)


def test_ray_dataset_ivf_lists(data) -> None:
    x, s, y = data
    rows = [{"embedding": x[i], "score": s[i], "label": int(y[i])} for i in range(N)]
    dataset = ray.data.from_items(rows, override_num_blocks=7)
    common: Dict[str, Any] = dict(keep="0.1", seed=2, knn="ivf", hard_tail=0)
    whole = iray.plan(x, s, **common)
    assert whole["layout"] == "global", whole["layout"]
    # The global problem does not fit the limit, a group of whole IVF lists does.
    limit = whole["memory"]["peak"] * 3 // 4
    options = dict(common, max_memory=limit, partition_size=500)
    plan = iray.plan(x, s, **options)
    assert plan["layout"] == "ivf-lists" and len(plan["batches"]) >= 2, plan["layout"]
    single = infoprune.select(x, s, **options)
    same(iray.select(dataset, "score", **options), single)


def test_ray_dataset_columns_and_class_quota(data) -> None:
    x, s, y = data
    n = 6_000
    rows = [{"embedding": x[i], "score": s[i], "label": int(y[i])} for i in range(n)]
    dataset = ray.data.from_items(rows, override_num_blocks=3)
    options: Dict[str, Any] = dict(keep=0.2, seed=4, class_quota=True, partition_size=2000)
    single = infoprune.select(x[:n], s[:n], labels=y[:n], **options)
    same(iray.select(dataset, "score", labels="label", parts_per_task=3, **options), single)


def test_drop_nonfinite_maps_rows_back(data) -> None:
    x, s, _ = data
    x = x.copy()
    x[17, 3] = np.nan
    options: Dict[str, Any] = dict(keep=0.1, seed=0, partition_size=8000, drop_nonfinite=True)
    single = infoprune.select(x, s, **options)
    assert 17 not in single.indices
    same(iray.select(x, s, parts_per_task=1, **options), single)


def test_outputs_written_by_the_driver(tmp_path: Path, data) -> None:
    x, s, _ = data
    out, report = tmp_path / "keep.npy", tmp_path / "report.json"
    sel = iray.select(x, s, keep=0.05, partition_size=10_000, out=str(out), report=str(report))
    np.testing.assert_array_equal(np.load(out), sel.indices)
    assert report.is_file()


@pytest.mark.parametrize(
    "options, error",
    [
        (dict(keep=1.5), ValueError),
        (dict(keep=0.1, budget=10), ValueError),
        (dict(keep=0.1, no_such_option=1), TypeError),
        (dict(keep=0.1, partition_size=-3), ValueError),
        (dict(keep=0.1, method="nope"), ValueError),
        (dict(keep=0.1, drop_nonfinite="yes"), TypeError),
    ],
)
def test_bad_options_raise_what_select_raises(data, options, error) -> None:
    x, s, _ = data
    with pytest.raises(error) as single:
        infoprune.select(x, s, **options)
    with pytest.raises(error) as distributed:
        iray.select(x, s, **options)
    assert str(distributed.value) == str(single.value)


def test_bad_inputs_raise_what_select_raises(tmp_path: Path, data) -> None:
    x, s, _ = data
    with pytest.raises(ValueError) as single:
        infoprune.select(x, s[:-1], keep=0.1)
    with pytest.raises(ValueError) as distributed:
        iray.select(x, s[:-1], keep=0.1)
    assert str(distributed.value) == str(single.value)
    with pytest.raises(TypeError):
        iray.select(x.astype(np.int32), s, keep=0.1)
    nan = x.copy()
    nan[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN|non-finite"):
        iray.select(nan, s, keep=0.1)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, x[:100])
    np.save(b, x[100:200, :8])
    with pytest.raises(ValueError, match="columns"):
        iray.select([str(a), str(b)], keep=0.1)
    with pytest.raises(ValueError, match="nothing to plan"):
        iray.select(x, s, keep=0.1, method="moderate", graph=infoprune.graph(x[:200]))
    with pytest.raises(ValueError, match="parts_per_task"):
        iray.select(x, s, keep=0.1, parts_per_task=0)
