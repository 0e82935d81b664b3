"""Bad inputs and options raise TypeError or ValueError with the command line's message, before any
work and without writing anything; every option of the command line is a keyword."""

from __future__ import annotations

import re

import numpy as np
import pytest

import infoprune
from infoprune import _native
from conftest import run_cli


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    return rng.normal(size=(400, 8)).astype(np.float32), rng.random(400).astype(np.float32)


def test_other_dtypes_are_type_errors(small):
    x, s = small
    with pytest.raises(TypeError, match=r"embeddings: unsupported dtype '<i8' \(int64\): expected float32"):
        infoprune.select(x.astype(np.int64), keep=0.1)
    with pytest.raises(TypeError, match=r"scores: unsupported dtype '\|b1' \(bool\)"):
        infoprune.select(x, s > 0.5, keep=0.1)
    with pytest.raises(TypeError, match=r"labels: unsupported dtype '<f4' \(float32\): expected an integer"):
        infoprune.select(x, s, keep=0.1, method="moderate", labels=s)
    with pytest.raises(TypeError, match="unsupported dtype"):
        infoprune.select(x.astype(np.complex64), keep=0.1)
    with pytest.raises(TypeError, match="unsupported dtype"):
        infoprune.select(x.astype(np.float16), keep=0.1)


def test_other_shapes_are_value_errors(small):
    x, s = small
    with pytest.raises(ValueError, match=r"embeddings: expected a 2-D \(rows, columns\) array, found shape \(400,\)"):
        infoprune.select(s, keep=0.1)
    with pytest.raises(ValueError, match=r"scores: expected a 1-D \(n,\) or 2-D \(n, 1\) array, found shape \(400, 8\)"):
        infoprune.select(x, x, keep=0.1)
    with pytest.raises(ValueError, match=r"logits: expected a 3-D \(T, n, C\) array"):
        infoprune.select(x, keep=0.1, scores_from="el2n", logits=x, labels=np.zeros(400, np.int64))


def test_nan_and_out_of_range_values_are_value_errors(small):
    x, s = small
    bad = x.copy()
    bad[10, 3] = np.nan
    with pytest.raises(ValueError, match=r"embeddings has a non-finite value \(NaN\) at index 83"):
        infoprune.select(bad, s, keep=0.1)
    bad_s = s.copy()
    bad_s[5] = np.inf
    with pytest.raises(ValueError, match=r"scores has a non-finite value \(inf\) at index 5"):
        infoprune.select(x, bad_s, keep=0.1)
    wide = x.astype(np.float64)
    wide[2, 1] = 1e300
    with pytest.raises(ValueError, match=r"embeddings: element \[2, 1\] is 1e300: expected a value within the float32 range"):
        infoprune.select(wide, keep=0.1)


def test_length_mismatches_are_value_errors(small):
    x, s = small
    with pytest.raises(ValueError, match="scores has 399 values but the embeddings have n = 400 rows"):
        infoprune.select(x, s[:-1], keep=0.1)
    with pytest.raises(ValueError, match="noise has 10 values"):
        infoprune.select(x, s, keep=0.1, noise=s[:10])
    with pytest.raises(ValueError, match="labels has 3 values but the data has n = 400 samples"):
        infoprune.select(x, s, keep=0.1, method="sims", labels=[0, 1, 2])


def test_unknown_keywords_and_bad_values(small):
    x, s = small
    with pytest.raises(TypeError, match="select\\(\\) got an unexpected keyword argument 'kep'"):
        infoprune.select(x, s, kep=0.1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'dry_run'"):
        infoprune.select(x, s, keep=0.1, dry_run=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'captions_out'"):
        infoprune.tokens(np.zeros((2, 4, 3), np.float32), np.ones((2, 4), np.float32), count=1,
                         captions_out="x.jsonl")
    with pytest.raises(ValueError, match="invalid value 'fastest' for '--method <METHOD>'"):
        infoprune.select(x, s, keep=0.1, method="fastest")
    with pytest.raises(TypeError, match="'drop_nonfinite' must be True or False"):
        infoprune.select(x, s, keep=0.1, drop_nonfinite="yes")
    with pytest.raises(TypeError, match="'budget' takes a value"):
        infoprune.select(x, s, budget=True)
    with pytest.raises(TypeError, match="required arguments were not provided"):
        infoprune.select(x, s)
    with pytest.raises(ValueError, match="cannot be used with"):
        infoprune.select(x, s, keep=0.1, budget=4)
    with pytest.raises(ValueError, match="--keep must be a fraction in \\(0, 1\\], found 1.5"):
        infoprune.select(x, s, keep=1.5)
    with pytest.raises(ValueError, match="--solver has no effect here: only --method infomax"):
        infoprune.select(x, s, keep=0.1, method="greedy", solver="mirror")
    with pytest.raises(ValueError, match="--neighbors"):
        infoprune.select(x, s, keep=0.1, neighbors=0)
    with pytest.raises(ValueError, match="budget k = 401 is invalid for n = 400"):
        infoprune.select(x, s, budget=401)
    with pytest.raises(ValueError, match="contradict"):
        infoprune.select(x, s, keep=0.1, progress=True, quiet=True)


def test_bad_graphs(small):
    _, s = small
    asym = (np.array([0, 1, 1, 1]), np.array([1]), np.array([0.5], np.float32), (3, 3))
    with pytest.raises(ValueError, match="not symmetric"):
        infoprune.select(graph=asym, keep=0.5)
    with pytest.raises(ValueError, match="the graph's indptr has 3 entries: expected n \\+ 1 = 4"):
        infoprune.select(graph=(np.array([0, 0, 0]), np.array([], np.int32), np.array([], np.float32), (3, 3)), keep=0.5)
    with pytest.raises(TypeError, match="scipy.sparse matrix or an"):
        infoprune.select(graph=np.eye(3), keep=0.5)
    with pytest.raises(ValueError, match="scores has 400 values but the graph has n = 3 rows"):
        k = (np.array([0, 1, 2, 2]), np.array([1, 0]), np.array([0.5, 0.5], np.float32), (3, 3))
        infoprune.select(scores=s, graph=k, keep=0.5)
    with pytest.raises(ValueError, match="--knn, --nlist, --nprobe and --recall-sample"):
        k = (np.array([0, 1, 2, 2]), np.array([1, 0]), np.array([0.5, 0.5], np.float32), (3, 3))
        infoprune.select(graph=k, keep=0.5, knn="exact")


def test_errors_write_nothing(small, tmp_path):
    x, s = small
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        infoprune.select(bad, s, keep=0.1, out=tmp_path / "k.npy", report=tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def _cli_options(cli, command):
    """The long options `infoprune <command> --help` lists, in snake case, help excluded."""
    text = run_cli(cli, *command.split(), "--help").stdout
    names = set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+)", text, flags=re.M))
    return {n.replace("-", "_") for n in names} - {"help"}


@pytest.mark.parametrize(
    "command,function,left_out",
    [
        ("select", "select", {"dry_run", "plan", "part"}),
        ("graph", "graph", set()),
        ("score", "score", {"sim", "probs", "term"}),
        ("score", "sim", {"kind", "logits", "el2n_epochs", "epoch", "sim"}),
        ("tokens", "tokens", {"captions_out"}),
    ],
)
def test_every_cli_option_is_a_keyword(cli, command, function, left_out):
    assert set(_native.keywords(function)) == _cli_options(cli, command) - left_out


def test_score_sim_and_tokens_refuse_bad_inputs():
    rng = np.random.default_rng(1)
    probs = [rng.dirichlet(np.ones(3), size=5).astype(np.float32)]
    feats = [rng.normal(size=(5, 2)).astype(np.float32)]
    with pytest.raises(ValueError, match=r"labels array: sample 1 has label 7, but the probabilities probs\[0\] have 3 class columns"):
        infoprune.sim(feats, probs, [0, 7, 1, 2, 0])
    with pytest.raises(ValueError, match="one --probs file per --features file: 1 features, 2 probs"):
        infoprune.sim(feats, probs * 2, [0, 1, 1, 2, 0])
    logits = rng.normal(size=(2, 5, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"logits hold n = 5 samples \(shape T×n×C = \(2, 5, 3\)\) but the labels have 4"):
        infoprune.score(logits, [0, 1, 2, 0], kind="loss")
    with pytest.raises(TypeError, match="unexpected keyword argument 'probs'"):
        infoprune.score(logits, [0, 1, 2, 0, 1], kind="loss", probs=probs)
    features = rng.normal(size=(4, 6, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="saliency shape"):
        infoprune.tokens(features, np.ones((4, 5), np.float32), count=2)
    with pytest.raises(ValueError, match="--grid must look like 14x14"):
        infoprune.tokens(features, np.ones((4, 6), np.float32), count=2, grid="six")
    with pytest.raises(TypeError, match="required arguments were not provided"):
        infoprune.tokens(features, np.ones((4, 6), np.float32))
