"""Select the samples to keep across a Ray cluster with infoprune.ray.

On a cluster (every node sees the shards at the same paths and has infoprune installed):

    ray job submit --working-dir . -- python examples/ray_select.py \
        --shards 'data/*.npy' --keep 0.1 --out keep.npy

Locally, on synthetic data and a Ray started for the run:

    python examples/ray_select.py --demo
"""

from __future__ import annotations

import argparse
import glob
import sys
import time

import numpy as np
import ray

import infoprune
import infoprune.ray


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--shards", help="glob of .npy embedding shards (rows, in sorted order)")
    source.add_argument("--demo", action="store_true", help="synthetic data, local Ray")
    parser.add_argument("--scores", help=".npy of importance scores (one per row of all shards)")
    parser.add_argument("--keep", default="0.1", help="fraction to keep (default 0.1)")
    parser.add_argument("--partition-size", type=int, default=None, help="rows per problem")
    parser.add_argument("--partition", default=None, help="random, kmeans, class")
    parser.add_argument("--num-cpus", type=float, default=1, help="CPUs per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the kept indices here (.npy)")
    parser.add_argument("--check", action="store_true", help="compare with infoprune.select")
    args = parser.parse_args()

    if args.demo:
        ray.init(num_cpus=2, include_dashboard=False)
        x, s, _ = infoprune.demo_data(n=20_000, dim=32, seed=args.seed)
        data, scores = x, s
        options = dict(partition_size=args.partition_size or 5_000)
    else:
        ray.init(address="auto")
        data = sorted(glob.glob(args.shards))
        if not data:
            parser.error(f"no file matches {args.shards!r}")
        scores = np.load(args.scores, mmap_mode="r") if args.scores else None
        options = {} if args.partition_size is None else dict(partition_size=args.partition_size)
    if args.partition:
        options["partition"] = args.partition

    started = time.perf_counter()
    selection = infoprune.ray.select(
        data, scores, keep=args.keep, seed=args.seed, num_cpus=args.num_cpus, out=args.out,
        **options,
    )
    seconds = time.perf_counter() - started
    report = selection.report
    print(
        f"kept {len(selection)} of {report['n']} samples, f(S) = {report['objective']:.6f}, "
        f"{report['partitions']} problem(s), {seconds:.1f} s on the cluster"
    )
    if args.check:
        matrix = data if args.demo else np.concatenate([np.load(p, mmap_mode="r") for p in data])
        single = infoprune.select(matrix, scores, keep=args.keep, seed=args.seed, **options)
        same = np.array_equal(single.indices, selection.indices)
        print("same indices as infoprune.select:", same)
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
