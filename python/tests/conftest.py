"""Shared fixtures: the command-line binary the package is compared with, and small datasets."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest

import infoprune

REPO = Path(__file__).resolve().parents[2]


def cli_path() -> Optional[Path]:
    """The ``infoprune`` binary: $INFOPRUNE_CLI, else the workspace's debug build."""
    given = os.environ.get("INFOPRUNE_CLI")
    path = Path(given) if given else REPO / "target" / "debug" / "infoprune"
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def cli() -> Path:
    """The command-line binary; its absence fails the run under CI and skips locally."""
    path = cli_path()
    if path is None:
        message = "no infoprune binary: run `cargo build -p infoprune` or set INFOPRUNE_CLI"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_cli(cli: Path, *args: Any, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the binary with ``args`` (stringified); fails the test with its stderr if it fails."""
    argv = [str(cli)] + [str(a) for a in args]
    done = subprocess.run(argv, capture_output=True, text=True)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
    return done


def cli_select(
    cli: Path, tmp: Path, arrays: Dict[str, np.ndarray], *options: Any
) -> Tuple[np.ndarray, Dict[str, Any]]:
    """``infoprune select`` on ``arrays`` saved as .npy (``--name file``), with ``options``;
    returns the kept indices and the report."""
    args: List[Any] = ["select"]
    for name, value in arrays.items():
        path = tmp / f"{name}.npy"
        np.save(path, value)
        args += [f"--{name.replace('_', '-')}", path]
    out, report = tmp / "keep.npy", tmp / "report.json"
    args += ["--out", out, "--report", report, "--quiet", "--force", *options]
    run_cli(cli, *args)
    return np.load(out), json.loads(report.read_text())


#: Report fields that measure time, or name where the input came from: they differ between two
#: runs of the same selection.
VOLATILE = {"seconds", "total_seconds", "graph"}


def same_report(a: Dict[str, Any], b: Dict[str, Any]) -> None:
    """The two reports have the same keys and agree on every field but timings and the graph's
    name."""
    assert sorted(a) == sorted(b)
    differ = {key: (a[key], b[key]) for key in a if key not in VOLATILE and a[key] != b[key]}
    assert not differ, differ
    assert sorted(a["seconds"]) == sorted(b["seconds"])


@pytest.fixture(scope="session")
def demo() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``infoprune demo``'s data at 3,000 × 16: embeddings, scores, labels."""
    return infoprune.demo_data(n=3_000, dim=16, clusters=12, seed=5)
