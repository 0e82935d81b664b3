"""The Python package against the CLI on the same data: wall time and peak RSS.

Usage: python benches/python/compare.py --cli target/release/infoprune [--n 1000000] [--d 64]
       [--repeats 3] [--dir /tmp/ip-pybench]

Writes n × d float32 embeddings (Gaussian clusters) and random scores as .npy once, then runs, in
alternation, `infoprune select --embeddings e.npy --scores s.npy --keep 0.1` and the same selection
through `infoprune.select` on the memory-mapped arrays, each in a fresh process, and prints a
Markdown table of medians and the Python/CLI ratios. Both must keep the same indices.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

PY_RUN = """
import sys, numpy as np, infoprune
x = np.load(sys.argv[1], mmap_mode="r")
s = np.load(sys.argv[2], mmap_mode="r")
sel = infoprune.select(x, s, keep=0.1, seed=0)
np.save(sys.argv[3], sel.indices)
"""


def measured(cmd):
    """(seconds, peak RSS bytes) of cmd, measured by a wrapper process of its own."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "t = time.perf_counter() - t\n"
        "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/ip-pybench")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    e, s = os.path.join(args.dir, "e.npy"), os.path.join(args.dir, "s.npy")
    if not os.path.exists(e):
        rng = np.random.default_rng(0)
        centers = rng.normal(size=(2000, args.d)).astype(np.float32)
        x = np.lib.format.open_memmap(e, mode="w+", dtype=np.float32, shape=(args.n, args.d))
        for lo in range(0, args.n, 100_000):
            hi = min(args.n, lo + 100_000)
            x[lo:hi] = centers[rng.integers(0, 2000, hi - lo)] + 0.3 * rng.normal(
                size=(hi - lo, args.d)
            ).astype(np.float32)
        x.flush()
        del x
        np.save(s, rng.random(args.n, dtype=np.float32))
    keep_cli, keep_py = os.path.join(args.dir, "cli.npy"), os.path.join(args.dir, "py.npy")
    cli = [args.cli, "select", "--embeddings", e, "--scores", s, "--keep", "0.1",
           "--out", keep_cli, "--force", "-q"]
    py = [sys.executable, "-c", PY_RUN, e, s, keep_py]
    runs = {"cli": [], "python": []}
    for _ in range(args.repeats):
        runs["cli"].append(measured(cli))
        runs["python"].append(measured(py))
    same = np.array_equal(np.load(keep_cli), np.load(keep_py))
    t = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
    m = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
    print(f"n = {args.n}, d = {args.d}, keep 0.1, {args.repeats} alternating runs each, "
          f"same indices: {same}")
    print("| run | median s | all s | median peak RSS MB |")
    print("| --- | ---: | --- | ---: |")
    for k in runs:
        all_s = ", ".join(f"{r[0]:.1f}" for r in runs[k])
        print(f"| {k} | {t[k]:.2f} | {all_s} | {m[k] / 1e6:.0f} |")
    print(f"| python / cli | {t['python'] / t['cli']:.3f} | | {m['python'] / m['cli']:.3f} |")
    if not same:
        sys.exit("the Python package and the CLI kept different indices")


if __name__ == "__main__":
    main()
