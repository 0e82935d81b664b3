"""One unit of work: a (dataset, setting, seed) — its data, dynamics, scores, selections and fits.

Units run in worker processes; everything they make is cached under --out/cache/DATASET/SETTING/
seedN, so a rerun with new methods only runs the new selections and fits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

import study_data
import study_dynamics
from study_methods import PLACEHOLDERS, digest, select
from study_models import FitCache

FULL = "full data (r = 0)"


def downstream_inputs(info, sp, emb_train, pca):
    if info.downstream == "pixels":
        return sp.x_train, sp.x_test
    z_te = pca.transform(sp.x_test)
    mu, sd = emb_train.mean(axis=0), emb_train.std(axis=0) + 1e-12
    return (emb_train - mu) / sd, (z_te - mu) / sd


def run_unit(job: dict) -> dict:
    t = {"data": time.time()}
    name, setting, seed = job["dataset"], job["setting"], job["seed"]
    root = Path(job["cache"])
    info = study_data.DATASETS[name]
    x, y = study_data.load(name, root)
    sp = study_data.make_split(name, setting, seed, x, y)
    d = root / name / setting / f"seed{seed}"
    (d / "sel").mkdir(parents=True, exist_ok=True)
    pca = PCA(n_components=info.pca_dim, random_state=seed).fit(sp.x_train)
    emb = pca.transform(sp.x_train)
    np.save(d / "embeddings.npy", emb.astype(np.float32))
    np.save(d / "labels.npy", sp.y_train.astype(np.int64))
    np.save(d / "flipped.npy", sp.flipped)
    x_tr, x_te = downstream_inputs(info, sp, emb, pca)

    t["dynamics"] = time.time()
    dyn = study_dynamics.dynamics(d, sp.x_train, sp.y_train, sp.classes, job["epochs"], seed,
                                  digest(d / "labels.npy") + digest(d / "embeddings.npy"))
    t["scores"] = time.time()
    study_dynamics.scores(d, job["bin"], job["bin_id"])
    files = {p: str(d / f"{p}.npy") for p in PLACEHOLDERS}
    files["logits"] = str(d / "logits0.npy")
    digests = {files[p]: digest(Path(files[p])) for p in PLACEHOLDERS}
    aum = np.load(files["aum_raw"])
    fl = sp.flipped
    meta = {
        "dataset": name, "setting": setting, "seed": seed, "n_train": int(len(sp.y_train)),
        "n_test": int(len(sp.y_test)), "flipped": int(fl.sum()),
        "smallest_class": int(np.bincount(sp.y_train, minlength=sp.classes).min()),
        "train_acc": dyn["train_acc"],
        "aum_neg_flipped": float((aum[fl] < 0).mean()) if fl.any() else None,
        "aum_neg_clean": float((aum[~fl] < 0).mean()),
    }

    t["fits"] = time.time()
    fits = FitCache(d / "fits.json")
    rows = []
    base = {"dataset": name, "setting": setting, "seed": seed}
    every = np.arange(len(sp.y_train))

    def row(model, method, ratio, sel_status, idx, objective):
        r = {**base, "model": model, "method": method, "ratio": ratio, "status": sel_status,
             "accuracy": float("nan"), "f_objective": objective, "k": None, "kept_flipped": None,
             "smallest_class": None}
        if idx is not None:
            r["accuracy"] = fits.accuracy(model, seed, idx, x_tr, sp.y_train, x_te, sp.y_test)
            r["k"] = int(len(idx))
            r["kept_flipped"] = int(fl[idx].sum())
            r["smallest_class"] = int(np.bincount(sp.y_train[idx], minlength=sp.classes).min())
        rows.append(r)

    for model in job["models"]:
        row(model, FULL, 0.0, "ok", every, None)
    select_s = 0.0
    for method in job["methods"]:
        for ratio in job["ratios"]:
            keep = f"{1.0 - ratio:.2f}"
            t0 = time.time()
            s = select(job["bin"], job["bin_id"], method, keep, seed, files, digests, d / "sel")
            select_s += time.time() - t0
            for model in job["models"]:
                row(model, method.name, ratio, s.status, s.indices, s.objective)
    fits.save()
    end = time.time()
    meta["seconds"] = {
        "data": t["dynamics"] - t["data"], "dynamics": t["scores"] - t["dynamics"],
        "scores": t["fits"] - t["scores"], "select": select_s,
        "fit": end - t["fits"] - select_s, "total": end - t["data"],
    }
    meta["new_fits"] = fits.fits
    (d / "unit.json").write_text(json.dumps(meta))
    return {"rows": rows, "meta": meta}
