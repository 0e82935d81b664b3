#!/usr/bin/env python3
"""Quality study: accuracy after pruning on scikit-learn's bundled handwritten digits.

For each seed: a stratified 75/25 train/test split of `load_digits()` (1,797 8×8 images, shipped
inside scikit-learn, nothing downloaded); embeddings = PCA of the train pixels (fit on train);
training dynamics = per-epoch logits of a small numpy MLP trained with SGD on the whole train split,
scored with `infoprune score` (EL2N, AUM); subsets chosen with `infoprune select` for every method
and pruning ratio; the same classifier (multinomial logistic regression) trained on each subset and
evaluated on the held-out test split.

Writes to --out: quality.csv, subsets.csv (what each subset holds), quality.md, quality.png.
Run it through `bash benches/quality/run.sh`, which sets up the venv and builds the binary.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

RATIOS = (0.3, 0.5, 0.7, 0.9)

# (row name, extra `infoprune select` arguments). Every method gets --seed and -q.
# `infomax` uses the documented defaults (nothing tuned per ratio). Variants use only documented
# options, the same ones at every ratio, and are labelled as variants; `--variants class` (default)
# adds the class-balanced one, `--variants all` the others tried, `--variants none` none.
METHODS = {
    "random": ["--method", "random"],
    "topk (EL2N)": ["--method", "topk", "--scores", "{el2n}"],
    "ccs": ["--method", "ccs", "--scores", "{el2n}", "--aum", "{aum_raw}"],
    "sims": ["--method", "sims", "--scores", "{el2n}", "--labels", "{labels}"],
    "infomax": ["--method", "infomax", "--scores", "{el2n}"],
}
VARIANTS = {
    "infomax, class partitions (variant)": [
        "--method", "infomax", "--scores", "{el2n}", "--partition", "class", "--labels", "{labels}",
    ],
}
MORE_VARIANTS = {
    "infomax + noise −AUM (variant)": ["--method", "infomax", "--scores", "{el2n}", "--noise", "{noise}"],
    "infomax, mirror solver (variant)": ["--method", "infomax", "--scores", "{el2n}", "--solver", "mirror"],
    "greedy (variant)": ["--method", "greedy", "--scores", "{el2n}"],
}
FULL = "full data (r = 0)"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (0..N-1), default 5")
    p.add_argument("--out", type=Path, default=Path("target/quality"), help="output folder")
    p.add_argument("--bin", type=Path, default=Path("target/release/infoprune"), help="infoprune binary")
    p.add_argument("--pca-dim", type=int, default=32, help="embedding dimension (PCA), default 32")
    p.add_argument("--epochs", type=int, default=15, help="epochs of the dynamics model, default 15")
    p.add_argument("--variants", choices=["none", "class", "all"], default="class",
                   help="infomax variants besides the default row (default: class)")
    return p.parse_args()


def run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")


# ---------------------------------------------------------------------------------------------
# Training dynamics: a 64-64-10 ReLU MLP, minibatch SGD, logits of every train sample per epoch.
# ---------------------------------------------------------------------------------------------
def train_dynamics(x: np.ndarray, y: np.ndarray, classes: int, epochs: int, seed: int,
                   hidden: int = 64, lr: float = 0.05, batch: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, d = x.shape
    w1 = rng.normal(0.0, np.sqrt(2.0 / d), (d, hidden))
    b1 = np.zeros(hidden)
    w2 = rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, classes))
    b2 = np.zeros(classes)
    onehot = np.eye(classes)[y]
    logits = np.empty((epochs, n, classes), dtype=np.float32)
    for t in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            b = order[start:start + batch]
            h_pre = x[b] @ w1 + b1
            h = np.maximum(h_pre, 0.0)
            z = h @ w2 + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            g = (p - onehot[b]) / len(b)
            gw2 = h.T @ g
            gb2 = g.sum(axis=0)
            gh = (g @ w2.T) * (h_pre > 0)
            gw1 = x[b].T @ gh
            gb1 = gh.sum(axis=0)
            w1 -= lr * gw1
            b1 -= lr * gb1
            w2 -= lr * gw2
            b2 -= lr * gb2
        logits[t] = (np.maximum(x @ w1 + b1, 0.0) @ w2 + b2).astype(np.float32)
    return logits


def final_accuracy(x_tr, y_tr, x_te, y_te) -> float:
    """The same classifier for every subset: multinomial logistic regression on pixels / 16."""
    clf = LogisticRegression(C=1.0, max_iter=5000)
    clf.fit(x_tr, y_tr)
    return float((clf.predict(x_te) == y_te).mean())


def one_seed(seed: int, args, methods, tmp: Path, rows: list, subset_rows: list) -> None:
    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    classes = int(y.max()) + 1
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    n = len(y_tr)

    d = tmp / f"seed{seed}"
    d.mkdir(parents=True, exist_ok=True)
    emb = PCA(n_components=args.pca_dim, random_state=seed).fit_transform(x_tr).astype(np.float32)
    np.save(d / "embeddings.npy", emb)
    np.save(d / "labels.npy", y_tr)

    mu, sd = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-6
    logits = train_dynamics((x_tr - mu) / sd, y_tr, classes, args.epochs, seed)
    np.save(d / "logits.npy", logits)
    b = str(args.bin)
    files = {k: str(d / f"{k}.npy") for k in ("embeddings", "labels", "logits", "el2n", "aum_raw", "noise")}
    common = ["--logits", files["logits"], "--labels", files["labels"], "--force", "-q"]
    run([b, "score", "--kind", "el2n", "--out", files["el2n"], *common])
    run([b, "score", "--kind", "aum", "--raw", "--out", files["aum_raw"], *common])
    run([b, "score", "--kind", "aum", "--out", files["noise"], *common])  # −AUM: high = noisy
    el2n = np.load(files["el2n"])
    el2n_pct = el2n.argsort().argsort() / (n - 1)  # percentile of EL2N (1 = hardest)
    # Typicality percentile: mean cosine similarity to the 10 nearest train neighbours.
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sim = e @ e.T
    np.fill_diagonal(sim, -np.inf)
    typ = np.sort(sim, axis=1)[:, -10:].mean(axis=1)
    typ_pct = typ.argsort().argsort() / (n - 1)

    acc = final_accuracy(x_tr, y_tr, x_te, y_te)
    rows.append({"seed": seed, "method": FULL, "ratio": 0.0, "k": n, "accuracy": acc})
    train_acc = float((logits[-1].argmax(axis=1) == y_tr).mean())
    print(f"seed {seed}: n_train = {n}, n_test = {len(y_te)}, dynamics-model train acc "
          f"{train_acc:.3f} after {args.epochs} epochs, full-data test acc {acc:.4f}", flush=True)

    for ratio in RATIOS:
        keep = 1.0 - ratio
        for name, extra in methods.items():
            tag = "".join(c if c.isalnum() else "_" for c in name.split(" (")[0])
            out = d / f"keep_{tag}_{ratio}.npy"
            cmd = [b, "select", "--embeddings", files["embeddings"], "--keep", f"{keep:.2f}",
                   "--out", str(out), "--seed", str(seed), "--force", "-q",
                   *[a.format(**files) for a in extra]]
            run(cmd)
            idx = np.load(out)
            a = final_accuracy(x_tr[idx], y_tr[idx], x_te, y_te)
            rows.append({"seed": seed, "method": name, "ratio": ratio, "k": len(idx), "accuracy": a})
            counts = np.bincount(y_tr[idx], minlength=classes)
            subset_rows.append({
                "seed": seed, "method": name, "ratio": ratio, "k": len(idx),
                "min_class_count": int(counts.min()), "max_class_count": int(counts.max()),
                "mean_el2n_percentile": round(float(el2n_pct[idx].mean()), 4),
                "mean_typicality_percentile": round(float(typ_pct[idx].mean()), 4),
                "share_in_least_typical_10pct": round(float((typ_pct[idx] < 0.1).mean()), 4),
            })


def summarise(rows, methods):
    stats = {}
    names = [FULL, *methods]
    for name in names:
        for ratio in ((0.0,) if name == FULL else RATIOS):
            v = np.array([r["accuracy"] for r in rows if r["method"] == name and r["ratio"] == ratio])
            stats[name, ratio] = (v.mean(), v.std(ddof=1) if len(v) > 1 else 0.0, len(v))
    return names, stats


def paired(rows, a: str, b: str, ratio: float) -> tuple[int, int, int]:
    """Seeds where method a beats, ties, loses to method b at this ratio (same split, same seed)."""
    acc = {(r["method"], r["seed"]): r["accuracy"] for r in rows if r["ratio"] == ratio}
    seeds = sorted({s for (m, s) in acc if m == a})
    d = [acc[a, s] - acc[b, s] for s in seeds]
    return sum(x > 1e-12 for x in d), sum(abs(x) <= 1e-12 for x in d), sum(x < -1e-12 for x in d)


def write_md(path: Path, rows, names, stats, subset_rows, seeds: int, elapsed: float) -> list[str]:
    pct = lambda r: f"{round(100 * r)}%"
    lines = [f"Test accuracy (mean ± std over {seeds} seeds, %) of multinomial logistic regression "
             "trained on the kept subset; columns are pruning ratios.", "",
             "| method | " + " | ".join(pct(r) for r in RATIOS) + " |",
             "| --- | " + " | ".join("---:" for _ in RATIOS) + " |"]
    best = {r: max(round(100 * stats[n, r][0], 2) for n in names if n != FULL) for r in RATIOS}
    for n in names:
        if n == FULL:
            continue
        cells = []
        for r in RATIOS:
            m, s, _ = stats[n, r]
            c = f"{100 * m:.2f} ± {100 * s:.2f}"
            cells.append(f"**{c}**" if round(100 * m, 2) == best[r] else c)
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    m, s, _ = stats[FULL, 0.0]
    lines += ["", f"Full data (r = 0, every train sample): {100 * m:.2f} ± {100 * s:.2f}.", ""]
    variants = [n for n in names if "variant" in n]
    if variants:
        lines += ["Rows marked (variant) are not the defaults: documented options, the same at every "
                  "ratio (see METHODS/VARIANTS in study.py); the targets use the default `infomax` "
                  "row.", ""]

    targets = []
    for r in RATIOS:
        i, rd = stats["infomax", r][0], stats["random", r][0]
        targets.append((f"infomax ≥ random at {pct(r)}", i >= rd, i, rd, paired(rows, "infomax", "random", r)))
    for r in (0.7, 0.9):
        i, t = stats["infomax", r][0], stats["topk (EL2N)", r][0]
        targets.append((f"infomax ≥ topk at {pct(r)}", i >= t, i, t, paired(rows, "infomax", "topk (EL2N)", r)))
    lines.append("Targets (default infomax, on the means; per seed: wins / ties / losses on the same split):")
    lines.append("")
    for what, ok, a, b, (w, t, l) in targets:
        lines.append(f"- {what}: **{'met' if ok else 'not met'}** ({100 * a:.2f} vs {100 * b:.2f}; "
                     f"per seed {w} / {t} / {l})")
    met = sum(t[1] for t in targets)
    lines += ["", f"{met} of {len(targets)} targets met.", ""]

    lines += ["What the subsets hold (mean over seeds): smallest class count, mean EL2N percentile "
              "(1 = hardest), mean typicality percentile (mean cosine to the 10 nearest train "
              "neighbours in the PCA embedding; 0 = most isolated), share of the kept samples among "
              "the 10% least typical.", "",
              "| method | ratio | min class | EL2N pct | typicality pct | least-typical 10% share |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for n in names:
        if n == FULL:
            continue
        for r in RATIOS:
            sel = [s for s in subset_rows if s["method"] == n and s["ratio"] == r]
            f = lambda key: np.mean([s[key] for s in sel])
            lines.append(f"| {n} | {pct(r)} | {f('min_class_count'):.1f} | "
                         f"{f('mean_el2n_percentile'):.2f} | {f('mean_typicality_percentile'):.2f} | "
                         f"{f('share_in_least_typical_10pct'):.2f} |")
    lines += ["", f"Whole study: {elapsed:.0f} s."]
    path.write_text("\n".join(lines) + "\n")
    return lines


def plot(path: Path, names, stats, seeds: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), dpi=90)
    m, s, _ = stats[FULL, 0.0]
    xs = [100 * r for r in RATIOS]
    styles = {"infomax": dict(lw=2.4, marker="o", color="C3"),
              "infomax, class partitions (variant)": dict(lw=1.6, marker="o", ls=":", color="C3")}
    shown = [x for x in names if x != FULL and x not in MORE_VARIANTS]
    for ax, zoom in zip(axes, (False, True)):
        ax.axhline(100 * m, color="black", ls="--", lw=1, label=f"{FULL}")
        ax.axhspan(100 * (m - s), 100 * (m + s), color="black", alpha=0.08)
        for i, n in enumerate(shown):
            ms = [100 * stats[n, r][0] for r in RATIOS]
            ss = [100 * stats[n, r][1] for r in RATIOS]
            st = styles.get(n, dict(lw=1.4, marker="s", color=["C0", "C1", "C2", "C4", "C5"][i % 5]))
            dx = 0.5 * (i - (len(shown) - 1) / 2)  # small offsets so error bars stay apart
            ax.errorbar([x + dx for x in xs], ms, yerr=ss, capsize=3, label=n, **st)
        ax.set_xlabel("pruning ratio (%)")
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
        if zoom:
            ax.set_ylim(84, 98.5)
            ax.set_title("zoom: 84–98.5%", fontsize=10)
        else:
            ax.set_ylabel("test accuracy (%)")
            ax.set_title(f"sklearn digits: logistic regression on the kept subset "
                         f"(mean ± std, {seeds} seeds)", fontsize=10, loc="left")
            ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    if not args.bin.exists():
        sys.exit(f"{args.bin} not found: run `cargo build --release -p infoprune` first")
    args.out.mkdir(parents=True, exist_ok=True)
    methods = dict(METHODS)
    if args.variants != "none":
        methods.update(VARIANTS)
    if args.variants == "all":
        methods.update(MORE_VARIANTS)
    tmp = args.out / "work"
    rows, subset_rows = [], []
    t0 = time.time()
    for seed in range(args.seeds):
        one_seed(seed, args, methods, tmp, rows, subset_rows)
    elapsed = time.time() - t0

    with open(args.out / "quality.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["seed", "method", "ratio", "k", "accuracy"])
        w.writeheader()
        w.writerows(rows)
    with open(args.out / "subsets.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(subset_rows[0]))
        w.writeheader()
        w.writerows(subset_rows)
    names, stats = summarise(rows, methods)
    lines = write_md(args.out / "quality.md", rows, names, stats, subset_rows, args.seeds, elapsed)
    plot(args.out / "quality.png", names, stats, args.seeds)
    print("\n".join(lines))
    print(f"\nwrote {args.out}/quality.csv, subsets.csv, quality.md, quality.png")


if __name__ == "__main__":
    os.environ.pop("RAYON_NUM_THREADS", None)
    main()
