"""How the package runs: no copy of float32 input (memory maps included), the GIL released so
threads select side by side, Ctrl-C stopping a long run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import infoprune


def test_float32_c_order_input_is_read_in_place(demo, tmp_path):
    x, s, _ = demo
    got = infoprune.select(x, s, keep=0.1, backend="cpu")
    assert got._embeddings_address == x.ctypes.data
    path = tmp_path / "x.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    from_map = infoprune.select(mapped, s, keep=0.1, backend="cpu")
    assert from_map._embeddings_address == mapped.ctypes.data
    np.testing.assert_array_equal(from_map.indices, got.indices)
    # A row slice of a C-order array is still C-contiguous: read in place at its offset.
    rows = x[100:]
    part = infoprune.select(rows, s[100:], keep=0.1, backend="cpu")
    assert part._embeddings_address == rows.ctypes.data
    # Converted once: float64, Fortran order, a strided column slice.
    for converted in (x.astype(np.float64), np.asfortranarray(x), x[:, ::2]):
        other = infoprune.select(converted, s, keep=0.1, backend="cpu")
        assert other._embeddings_address is None
    assert x.flags.writeable, "the borrow is released after the call"


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import infoprune

    def peak_rss():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
        status = open("/proc/self/status").read()
        return int(status.split("VmHWM:")[1].split()[0]) * 1024

    x = np.load(sys.argv[1], mmap_mode="r")
    before = peak_rss()
    sel = infoprune.select(x, keep=0.1, seed=1, backend="cpu", knn="ivf", nlist=400, nprobe=1)
    peak = peak_rss()
    np.save(sys.argv[2], sel.indices)
    print(json.dumps({"before": before, "peak": peak, "address": sel._embeddings_address,
                      "data": x.ctypes.data}))
    """
)

# The peak RSS of a command run alone: a child of this small script, whose own RSS is all that
# Linux carries over into the child's ru_maxrss.
PEAK_SCRIPT = textwrap.dedent(
    """
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], check=True)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_a_large_memory_map_is_not_copied(cli, tmp_path):
    """200,000 × 64 float32 (51 MB) from a memory map: the run's peak RSS above the interpreter's
    stays within the command line's own peak on the same file (it maps the file too) plus 16 MB,
    where one copy of the input would add 51 MB. (A coarse IVF graph keeps the run short: the
    graph is the pipeline's, the same in both.)"""
    n, d = 200_000, 64
    rng = np.random.default_rng(0)
    path = tmp_path / "x.npy"
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 50_000):
        x[start : start + 50_000] = rng.normal(size=(50_000, d)).astype(np.float32)
    x.flush()
    del x
    input_bytes = n * d * 4
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(path), str(tmp_path / "py.npy")],
        capture_output=True, text=True, check=True,
    )
    py = json.loads(done.stdout)
    assert py["address"] == py["data"], "the map was read in place"
    measured = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(cli), "select", "--embeddings", str(path),
         "--keep", "0.1", "--seed", "1", "--backend", "cpu", "--knn", "ivf", "--nlist", "400",
         "--nprobe", "1", "--out", str(tmp_path / "cli.npy"), "-q"],
        capture_output=True, text=True, check=True,
    )
    cli_peak = int(measured.stdout)
    np.testing.assert_array_equal(np.load(tmp_path / "py.npy"), np.load(tmp_path / "cli.npy"))
    added = py["peak"] - py["before"]
    assert added <= cli_peak + (16 << 20), (added, cli_peak)
    # The run read the whole map (its pages count in both peaks): the bound is not vacuous.
    assert cli_peak > input_bytes and added > input_bytes, (added, cli_peak, input_bytes)


def test_two_threads_select_at_once(demo):
    x, s, y = demo
    jobs = [
        dict(embeddings=x, scores=s, keep=0.2, method="infomax", seed=1),
        dict(embeddings=x[::-1].copy(), scores=s[::-1].copy(), keep=0.1, method="sims",
             labels=y[::-1].copy(), seed=2),
    ]
    sequential = [infoprune.select(backend="cpu", **job).indices for job in jobs]
    results = [None, None]
    started = threading.Barrier(2)

    def work(i):
        started.wait()
        results[i] = infoprune.select(backend="cpu", **jobs[i]).indices

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, expected in zip(results, sequential):
        np.testing.assert_array_equal(got, expected)


def test_the_gil_is_released_while_selecting(demo):
    """A Python thread keeps running (counting) while another thread selects."""
    x, s, _ = demo
    big = np.tile(x, (4, 1))
    count = 0
    done = threading.Event()

    def counter():
        nonlocal count
        while not done.is_set():
            count += 1

    t = threading.Thread(target=counter)
    t.start()
    before = count
    start = time.perf_counter()
    infoprune.select(big, keep=0.1, backend="cpu", knn="exact")
    elapsed = time.perf_counter() - start
    during = count - before
    done.set()
    t.join()
    assert elapsed > 0.05
    assert during > 1000, (during, elapsed)


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import infoprune
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600_000, 8)).astype(np.float32)
    print("ready", flush=True)
    start = time.perf_counter()
    try:
        infoprune.select(x, keep=0.1, knn="exact", partition="random", partition_size=4000,
                         backend="cpu", out=sys.argv[1], report=sys.argv[2])
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter() - start, flush=True)
        sys.exit(0)
    print("finished", time.perf_counter() - start, flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_interrupts_a_long_run(tmp_path):
    """150 partitions of 4,000 × 8 (exact graphs) take many seconds; SIGINT after 1 s ends the
    run within a few with KeyboardInterrupt, and no output (nor temporary file) is left. (The
    pipeline reports progress once per partition graph and per solved batch, so that is where a
    run can stop.)"""
    out, report = tmp_path / "keep.npy", tmp_path / "report.json"
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(out), str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    stopped = time.perf_counter() - sent
    assert child.returncode == 0, stderr
    assert stdout.startswith("interrupted"), (stdout, stderr)
    assert stopped < 5, stopped
    assert list(tmp_path.iterdir()) == []
