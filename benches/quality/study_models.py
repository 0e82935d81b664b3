"""The downstream classifiers trained on each kept subset, and a cache of their test accuracies."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

MLP_MAX_ITER = 200
MODELS = ("linear", "mlp")


def tag(model: str) -> str:
    """What a cached accuracy depends on besides the data: the model's configuration."""
    return {"linear": "lr-C1-i2000", "mlp": f"mlp256-i{MLP_MAX_ITER}"}[model]


def make(model: str, seed: int):
    if model == "linear":
        return LogisticRegression(C=1.0, max_iter=2000)
    if model == "mlp":
        return MLPClassifier(hidden_layer_sizes=(256,), early_stopping=False,
                             max_iter=MLP_MAX_ITER, random_state=seed)
    raise SystemExit(f"unknown model {model!r}: choose from {', '.join(MODELS)}")


class FitCache:
    """Test accuracy by (model configuration, kept indices, seed), stored as one JSON per unit.

    Identical subsets (e.g. the full train set, or two methods that agree) are fitted once, and a
    rerun with new methods fits only what is new.
    """

    def __init__(self, path: Path):
        self.path = path
        self.acc = json.loads(path.read_text()) if path.exists() else {}
        self.fits = 0

    def accuracy(self, model: str, seed: int, idx: np.ndarray, x_tr, y_tr, x_te, y_te) -> float:
        h = hashlib.sha1(np.ascontiguousarray(idx, dtype=np.int64).tobytes()).hexdigest()[:20]
        key = f"{tag(model)}:{seed}:{h}"
        if key not in self.acc:
            if len(np.unique(y_tr[idx])) < 2:
                self.acc[key] = float(np.mean(y_te == y_tr[idx][0]))  # one class: predict it
            else:
                clf = make(model, seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(x_tr[idx], y_tr[idx])
                self.acc[key] = float((clf.predict(x_te) == y_te).mean())
            self.fits += 1
            if self.fits % 10 == 0:
                self.save()  # a stopped run keeps most of a unit's fits
        return self.acc[key]

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.acc))
        tmp.replace(self.path)
