"""Training dynamics of small numpy MLPs and the `infoprune score` files made from them.

Three ReLU MLPs (different seeds and widths) are trained with minibatch SGD on the train split
as the user has it (noisy labels included). Each one's per-epoch logits of every train sample
(T×n×C float32), final penultimate features and final probabilities are saved; model 0's logits
are "the user's logits". Written in numpy rather than with a framework: the study must not pull
in torch for a 2-layer model, and the per-epoch logits of every sample are what the CLI reads.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

HIDDEN = (64, 128, 96)  # one width per dynamics model
LR, BATCH = 0.05, 32


def cli_env() -> dict:
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = "1"  # the workers already use both cores
    return env


def run_cli(cmd: list[str]) -> tuple[int, str]:
    r = subprocess.run(cmd, capture_output=True, text=True, env=cli_env())
    return r.returncode, r.stderr.strip()


def train_mlp(x: np.ndarray, y: np.ndarray, classes: int, epochs: int, seed: int, hidden: int):
    """Per-epoch logits (T×n×C), final penultimate features (n×hidden), final probs (n×C)."""
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
        for start in range(0, n, BATCH):
            b = order[start:start + BATCH]
            h_pre = x[b] @ w1 + b1
            h = np.maximum(h_pre, 0.0)
            z = h @ w2 + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            g = (p - onehot[b]) / len(b)
            gh = (g @ w2.T) * (h_pre > 0)
            w2 -= LR * (h.T @ g)
            b2 -= LR * g.sum(axis=0)
            w1 -= LR * (x[b].T @ gh)
            b1 -= LR * gh.sum(axis=0)
        logits[t] = (np.maximum(x @ w1 + b1, 0.0) @ w2 + b2).astype(np.float32)
    feats = np.maximum(x @ w1 + b1, 0.0).astype(np.float32)
    z = logits[-1].astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=1, keepdims=True)
    return logits, feats, probs.astype(np.float32)


def dynamics(d: Path, x_train: np.ndarray, y_train: np.ndarray, classes: int, epochs: int,
             seed: int, data_digest: str) -> dict:
    """Train the models (or reuse the cached files) and return facts about them."""
    tag = {"epochs": epochs, "hidden": list(HIDDEN), "lr": LR, "batch": BATCH, "seed": seed,
           "data": data_digest}
    meta_path = d / "dynamics.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("tag") == tag:
            return meta
    # Standardise with a floor on the spread: MNIST has pixels lit in a handful of images,
    # whose z-scores would otherwise dominate the first layer.
    mu, sd = x_train.mean(axis=0), np.maximum(x_train.std(axis=0), 0.1)
    xs = (x_train - mu) / sd
    train_acc = []
    for m, hidden in enumerate(HIDDEN):
        logits, feats, probs = train_mlp(xs, y_train, classes, epochs, 1000 * seed + m, hidden)
        np.save(d / f"logits{m}.npy", logits)
        np.save(d / f"features{m}.npy", feats)
        np.save(d / f"probs{m}.npy", probs)
        train_acc.append(float((logits[-1].argmax(axis=1) == y_train).mean()))
    meta = {"tag": tag, "train_acc": train_acc}
    meta_path.write_text(json.dumps(meta))
    return meta


def scores(d: Path, binary: str, bin_id: str) -> None:
    """el2n.npy, aum_raw.npy, noise.npy (−AUM) from model 0's logits; sim.npy from all three.

    Reused while the binary and the dynamics they come from are unchanged.
    """
    meta_path = d / "scores.json"
    tag = {"bin": bin_id, "dynamics": (d / "dynamics.json").read_text()}
    if meta_path.exists() and json.loads(meta_path.read_text()) == tag:
        return
    f = lambda name: str(d / name)
    common = ["--logits", f("logits0.npy"), "--labels", f("labels.npy"), "--force", "-q"]
    m = range(len(HIDDEN))
    calls = [
        [binary, "score", "--kind", "el2n", "--out", f("el2n.npy"), *common],
        [binary, "score", "--kind", "aum", "--raw", "--out", f("aum_raw.npy"), *common],
        [binary, "score", "--kind", "aum", "--out", f("noise.npy"), *common],  # −AUM: high = noisy
        [binary, "score", "--sim", "--features", ",".join(f(f"features{i}.npy") for i in m),
         "--probs", ",".join(f(f"probs{i}.npy") for i in m), "--labels", f("labels.npy"),
         "--out", f("sim.npy"), "--force", "-q"],
    ]
    for cmd in calls:
        rc, err = run_cli(cmd)
        if rc != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` exited {rc}: {err}")
    meta_path.write_text(json.dumps(tag))
