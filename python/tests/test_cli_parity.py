"""The package selects exactly what the command line selects from the same inputs (saved as .npy),
with the same report, for every method and the options that change the flow."""

from __future__ import annotations

import json

import numpy as np
import pytest

import infoprune
from conftest import cli_select, run_cli, same_report

# (method, extra CLI options, extra keywords, needs labels)
METHODS = [
    ("infomax", [], {}, False),
    ("infomax", ["--solver", "mirror", "--iterations", "60"], {"solver": "mirror", "iterations": 60}, False),
    ("greedy", [], {}, False),
    ("random", [], {}, False),
    ("topk", [], {}, False),
    ("sims", ["--class-fraction", "0.3"], {"class_fraction": 0.3}, True),
    ("ccs", [], {}, False),
    ("moderate", [], {}, True),
    ("d2", [], {}, False),
    ("semdedup", ["--semdedup-keep", "random"], {"semdedup_keep": "random"}, False),
]


@pytest.mark.parametrize("method,flags,keywords,labelled", METHODS)
def test_every_method_matches_the_cli(cli, demo, tmp_path, method, flags, keywords, labelled):
    x, s, y = demo
    arrays = {"embeddings": x, "scores": s}
    if labelled:
        arrays["labels"] = y
    expected, report = cli_select(
        cli, tmp_path, arrays, "--keep", "0.2", "--method", method, "--seed", 11,
        "--backend", "cpu", *flags,
    )
    got = infoprune.select(
        x, s, keep=0.2, method=method, seed=11, backend="cpu",
        labels=y if labelled else None, **keywords,
    )
    assert got.indices.dtype == np.int64
    assert np.all(np.diff(got.indices) > 0)
    np.testing.assert_array_equal(got.indices, expected)
    same_report(got.report, report)
    assert len(got) == report["k"] == 600


def test_noise_aum_partitions_and_quota_match_the_cli(cli, demo, tmp_path):
    x, s, y = demo
    rng = np.random.default_rng(2)
    noise = rng.random(len(s)).astype(np.float32)
    aum = rng.normal(size=len(s)).astype(np.float32)
    cases = [
        ({"noise": noise}, ["--drop-noisy", "0.1"], {"noise": noise, "drop_noisy": 0.1}),
        ({"aum": aum}, ["--method", "ccs", "--ccs-cutoff", "0.2"],
         {"aum": aum, "method": "ccs", "ccs_cutoff": 0.2}),
        ({}, ["--partition", "random", "--partition-size", "1000"],
         {"partition": "random", "partition_size": 1000}),
        ({"labels": y}, ["--partition", "class", "--class-quota", "--partition-size", "800"],
         {"labels": y, "partition": "class", "class_quota": True, "partition_size": 800}),
        ({}, ["--knn", "ivf", "--nlist", "20", "--nprobe", "4", "--recall-sample", "200"],
         {"knn": "ivf", "nlist": 20, "nprobe": 4, "recall_sample": 200}),
        ({}, ["--alpha", "0.05", "--normalize", "rank", "--representativeness", "0.3"],
         {"alpha": 0.05, "normalize": "rank", "representativeness": 0.3}),
    ]
    for extra, flags, keywords in cases:
        arrays = {"embeddings": x, "scores": s, **extra}
        expected, report = cli_select(
            cli, tmp_path, arrays, "--budget", 500, "--seed", 3, "--backend", "cpu", *flags
        )
        method = keywords.pop("method", "infomax")
        got = infoprune.select(x, s, budget=500, seed=3, backend="cpu", method=method, **keywords)
        np.testing.assert_array_equal(got.indices, expected, err_msg=str(flags))
        same_report(got.report, report)


def test_scores_from_logits_match_the_cli(cli, demo, tmp_path):
    x, _, y = demo
    rng = np.random.default_rng(4)
    classes = int(y.max()) + 1
    logits = rng.normal(size=(5, len(y), classes)).astype(np.float32)
    features = rng.normal(size=(len(y), 8)).astype(np.float32)
    for kind, extra in [("el2n", {}), ("grand", {"score_features": features})]:
        arrays = {"embeddings": x, "logits": logits, "labels": y, **extra}
        expected, report = cli_select(
            cli, tmp_path, arrays, "--keep", "0.1", "--scores-from", kind, "--backend", "cpu"
        )
        got = infoprune.select(
            x, keep=0.1, scores_from=kind, logits=logits, labels=y, backend="cpu", **extra
        )
        np.testing.assert_array_equal(got.indices, expected)
        same_report(got.report, report)


def test_one_logits_array_per_epoch_equals_the_stacked_array(cli, demo, tmp_path):
    x, _, y = demo
    rng = np.random.default_rng(8)
    classes = int(y.max()) + 1
    logits = rng.normal(size=(4, len(y), classes)).astype(np.float32)
    # Memory-mapped epoch files, as a training loop would leave them, one of them float64.
    epochs = []
    for t in range(logits.shape[0]):
        path = tmp_path / f"epoch{t}.npy"
        np.save(path, logits[t].astype(np.float64 if t == 1 else np.float32))
        epochs.append(np.load(path, mmap_mode="r"))
    for kind in ["el2n", "aum", "forgetting"]:
        stacked = infoprune.score(logits, y, kind=kind)
        split = infoprune.score(epochs, y, kind=kind)
        np.testing.assert_array_equal(stacked.view(np.uint32), split.view(np.uint32), err_msg=kind)
    got = infoprune.select(x, keep=0.1, scores_from="el2n", logits=epochs, labels=y, backend="cpu")
    want = infoprune.select(x, keep=0.1, scores_from="el2n", logits=logits, labels=y, backend="cpu")
    np.testing.assert_array_equal(got.indices, want.indices)
    # And the CLI's one-file-per-epoch form gives the same set.
    out = tmp_path / "keep.npy"
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    epoch_files = [tmp_path / f"epoch{t}.npy" for t in range(4)]
    run_cli(cli, "select", "--embeddings", tmp_path / "x.npy", "--keep", "0.1",
            "--scores-from", "el2n", "--labels", tmp_path / "y.npy", "--backend", "cpu",
            "--out", out, "-q", "--logits", *epoch_files)
    np.testing.assert_array_equal(np.load(out), want.indices)
    with pytest.raises(ValueError, match="epoch 1"):
        infoprune.score([logits[0], logits[1][:-1]], y, kind="aum")


def test_a_given_graph_matches_the_cli(cli, demo, tmp_path):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    x, s, y = demo
    k = infoprune.graph(x, 8, backend="cpu")
    path = tmp_path / "K.npz"
    scipy_sparse.save_npz(path, k)
    for method, extra_cli, extra_kw in [
        ("infomax", [], {}),
        ("greedy", [], {}),
        ("moderate", ["--embeddings", tmp_path / "x.npy", "--labels", tmp_path / "y.npy"],
         {"embeddings": x, "labels": y}),
    ]:
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "y.npy", y)
        expected, report = cli_select(
            cli, tmp_path, {"scores": s}, "--graph", path, "--keep", "0.25",
            "--method", method, "--backend", "cpu", *extra_cli,
        )
        as_tuple = (k.indptr, k.indices, k.data, k.shape)
        for given in (k, as_tuple):
            got = infoprune.select(
                scores=s, graph=given, keep=0.25, method=method, backend="cpu", **extra_kw
            )
            np.testing.assert_array_equal(got.indices, expected)
            same_report(got.report, report)
            assert got.report["graph"] == "<in memory>"
            assert report["graph"] == str(path)


def test_float64_and_fortran_order_inputs_match_the_cli(cli, demo, tmp_path):
    x, s, _ = demo
    x64 = x.astype(np.float64) * (1 + 1e-9)
    expected, report = cli_select(
        cli, tmp_path, {"embeddings": x64, "scores": s.astype(np.float64)}, "--keep", "0.1",
        "--backend", "cpu",
    )
    got = infoprune.select(x64, s.astype(np.float64), keep=0.1, backend="cpu")
    np.testing.assert_array_equal(got.indices, expected)
    same_report(got.report, report)
    fortran = np.asfortranarray(x)
    expected, _ = cli_select(cli, tmp_path, {"embeddings": fortran, "scores": s}, "--keep", "0.1",
                             "--backend", "cpu")
    got = infoprune.select(fortran, s, keep=0.1, backend="cpu")
    np.testing.assert_array_equal(got.indices, expected)
    assert got._embeddings_address is None


def test_drop_nonfinite_matches_the_cli(cli, demo, tmp_path):
    x, s, _ = demo
    x = x.copy()
    x[[3, 50, 2999], 1] = [np.nan, np.inf, -np.inf]
    s = s.copy()
    s[7] = np.nan
    expected, report = cli_select(
        cli, tmp_path, {"embeddings": x, "scores": s}, "--keep", "0.1", "--drop-nonfinite",
        "--backend", "cpu",
    )
    got = infoprune.select(x, s, keep=0.1, drop_nonfinite=True, backend="cpu")
    np.testing.assert_array_equal(got.indices, expected)
    same_report(got.report, report)
    assert got.report["dropped_nonfinite"] == 4
    assert not set(got.indices) & {3, 7, 50, 2999}


def test_out_and_report_write_the_cli_files(cli, demo, tmp_path):
    x, s, _ = demo
    expected, report = cli_select(cli, tmp_path, {"embeddings": x, "scores": s}, "--keep", "0.1",
                                  "--backend", "cpu")
    out, rep = tmp_path / "py-keep.npy", tmp_path / "py-report.json"
    got = infoprune.select(x, s, keep=0.1, backend="cpu", out=out, report=str(rep))
    assert (tmp_path / "py-keep.npy").read_bytes() == (tmp_path / "keep.npy").read_bytes()
    same_report(json.loads(rep.read_text()), report)
    same_report(json.loads(rep.read_text()), got.report)
    # Existing outputs are refused before any work, as the CLI refuses them, unless force=True.
    with pytest.raises(ValueError, match="already exists; pass --force"):
        infoprune.select(x, s, keep=0.1, backend="cpu", out=out)
    infoprune.select(x, s, keep=0.2, backend="cpu", out=out, force=True)
    assert len(np.load(out)) == 600


def test_graph_matches_the_cli(cli, demo, tmp_path):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    x, _, _ = demo
    np.save(tmp_path / "x.npy", x)
    for flags, keywords in [
        ([], {}),
        (["--neighbors", 5, "--symmetrize", "mean"], {"neighbors": 5, "symmetrize": "mean"}),
        (["--knn", "ivf", "--nlist", 16], {"knn": "ivf", "nlist": 16}),
    ]:
        run_cli(cli, "graph", "--embeddings", tmp_path / "x.npy", "--out", tmp_path / "K.npz",
                "--backend", "cpu", "--force", "-q", *flags)
        expected = scipy_sparse.load_npz(tmp_path / "K.npz")
        got = infoprune.graph(x, backend="cpu", **keywords)
        assert isinstance(got, scipy_sparse.csr_matrix)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_array_equal(got.data, expected.data)
    infoprune.graph(x, backend="cpu", out=tmp_path / "py.npz")
    run_cli(cli, "graph", "--embeddings", tmp_path / "x.npy", "--out", tmp_path / "K.npz",
            "--backend", "cpu", "--force", "-q")
    assert (tmp_path / "py.npz").read_bytes() == (tmp_path / "K.npz").read_bytes()


def test_evaluate_matches_the_cli(cli, demo, tmp_path):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    x, s, _ = demo
    k = infoprune.graph(x, backend="cpu")
    scipy_sparse.save_npz(tmp_path / "K.npz", k)
    subset = infoprune.select(x, s, keep=0.1, backend="cpu").indices
    np.save(tmp_path / "s.npy", s)
    np.save(tmp_path / "S.npy", subset)
    done = run_cli(cli, "evaluate", "--graph", tmp_path / "K.npz", "--scores", tmp_path / "s.npy",
                   "--subset", tmp_path / "S.npy", "--alpha", 0.3, "--json")
    assert infoprune.evaluate(k, s, subset, alpha=0.3) == json.loads(done.stdout)
    with pytest.raises(ValueError, match="twice"):
        infoprune.evaluate(k, s, [1, 1], alpha=0.3)


def test_score_and_sim_match_the_cli(cli, demo, tmp_path):
    _, _, y = demo
    rng = np.random.default_rng(8)
    classes = int(y.max()) + 1
    logits = rng.normal(size=(6, len(y), classes)).astype(np.float32)
    features = rng.normal(size=(len(y), 4)).astype(np.float32)
    np.save(tmp_path / "L.npy", logits)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "F.npy", features)
    for flags, keywords in [
        (["--kind", "el2n", "--el2n-epochs", 3], {"kind": "el2n", "el2n_epochs": 3}),
        (["--kind", "margin", "--epoch", 2, "--raw"], {"kind": "margin", "epoch": 2, "raw": True}),
        (["--kind", "forgetting"], {"kind": "forgetting"}),
        (["--kind", "grand", "--features", tmp_path / "F.npy"], {"kind": "grand", "features": features}),
    ]:
        run_cli(cli, "score", "--logits", tmp_path / "L.npy", "--labels", tmp_path / "y.npy",
                "--out", tmp_path / "s.npy", "--force", "-q", *flags)
        got = infoprune.score(logits, y, **keywords)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.load(tmp_path / "s.npy"))
    probs = [rng.dirichlet(np.ones(classes), size=len(y)).astype(np.float32) for _ in range(2)]
    feats = [rng.normal(size=(len(y), 6)).astype(np.float32) for _ in range(2)]
    for i in range(2):
        np.save(tmp_path / f"P{i}.npy", probs[i])
        np.save(tmp_path / f"H{i}.npy", feats[i])
    run_cli(cli, "score", "--sim", "--labels", tmp_path / "y.npy",
            "--features", f"{tmp_path / 'H0.npy'},{tmp_path / 'H1.npy'}",
            "--probs", f"{tmp_path / 'P0.npy'},{tmp_path / 'P1.npy'}", "--term", "certainty",
            "--out", tmp_path / "sim.npy", "--force", "-q")
    got = infoprune.sim(feats, probs, y, term="certainty")
    np.testing.assert_array_equal(got, np.load(tmp_path / "sim.npy"))
    with pytest.raises(ValueError, match="--epoch has no effect"):
        infoprune.score(logits, y, kind="forgetting", epoch=1)


def test_tokens_match_the_cli(cli, tmp_path):
    rng = np.random.default_rng(9)
    n, t, d = 40, 16, 8
    features = rng.normal(size=(n, t, d)).astype(np.float32)
    saliency = rng.random((n, t)).astype(np.float32)
    classes = rng.random((n, 3)).astype(np.float32)
    names = ["cat", "dog", "tree"]
    captions = [f"photo {i}" for i in range(n)]
    np.save(tmp_path / "X.npy", features)
    np.save(tmp_path / "A.npy", saliency)
    np.save(tmp_path / "P.npy", classes)
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    (tmp_path / "c.txt").write_text("\n".join(captions) + "\n")
    run_cli(cli, "tokens", "--features", tmp_path / "X.npy", "--saliency", tmp_path / "A.npy",
            "--keep", "0.25", "--grid", "4x4", "--out", tmp_path / "mask.npy",
            "--report", tmp_path / "r.json", "--captions", tmp_path / "c.txt",
            "--classes", tmp_path / "P.npy", "--class-names", tmp_path / "names.txt",
            "--captions-out", tmp_path / "out.jsonl", "--backend", "cpu", "--force", "-q")
    got = infoprune.tokens(features, saliency, keep=0.25, grid="4x4", backend="cpu",
                           captions=captions, classes=classes, class_names=names)
    np.testing.assert_array_equal(got.mask, np.load(tmp_path / "mask.npy"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert {k: v for k, v in got.report.items() if k != "seconds"} == {
        k: v for k, v in report.items() if k != "seconds"
    }
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert got.captions == [json.loads(line)["caption"] for line in lines]
    assert got.report["captions_extended"] > 0
