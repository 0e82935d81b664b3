"""The methods compared: `infoprune select` arguments with placeholders, and cached selections.

Every method runs at each pruning ratio with `--embeddings {embeddings} --keep K --seed SEED -q`
plus its own arguments below. Placeholders name the per-(dataset, setting, seed) files:
{embeddings} {labels} {el2n} {aum_raw} {noise} {sim} {logits} (model 0's, "the user's logits").
The two default rows call infomax as a user would (no --method, no tuning per ratio); variants
use documented options only, the same at every ratio. `--extra 'name=ARGS'` adds rows at run time.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study_dynamics import run_cli

PLACEHOLDERS = ("embeddings", "labels", "el2n", "aum_raw", "noise", "sim", "logits")


@dataclass(frozen=True)
class Method:
    key: str  # short name for --methods / --variants
    name: str  # row name in the tables
    args: tuple[str, ...]
    kind: str  # "baseline", "default", "variant" or "extra"


def _m(key, name, args, kind):
    return Method(key, name, tuple(shlex.split(args)), kind)


BASELINES = [
    _m("random", "random", "--method random", "baseline"),
    _m("topk", "topk (EL2N)", "--method topk --scores {el2n}", "baseline"),
    _m("ccs", "ccs", "--method ccs --scores {el2n} --aum {aum_raw}", "baseline"),
    _m("sims", "sims (SIM, 3 models)", "--method sims --scores {sim} --labels {labels}", "baseline"),
    _m("semdedup", "semdedup", "--method semdedup --scores {el2n}", "baseline"),
    _m("moderate", "moderate", "--method moderate --labels {labels}", "baseline"),
    _m("greedy", "greedy", "--method greedy --scores {el2n}", "baseline"),
]
DEFAULTS = [
    _m("infomax-scores", "infomax (scores+labels)", "--scores {el2n} --labels {labels}", "default"),
    _m("infomax-logits", "infomax (logits+labels)",
       "--scores-from el2n --logits {logits} --labels {labels}", "default"),
]
# Each variant changes one documented option of the logits+labels default.
_LOGITS = "--scores-from el2n --logits {logits} --labels {labels}"
VARIANTS = [
    _m("scores-only", "infomax (scores only, no labels) (variant)", "--scores {el2n}", "variant"),
    _m("no-quota", "infomax, --no-class-quota (variant)", f"{_LOGITS} --no-class-quota", "variant"),
    _m("schedule", "infomax, --drop-noisy schedule (variant)", f"{_LOGITS} --drop-noisy schedule",
       "variant"),
    _m("greedy-candidate", "infomax, --greedy-candidate (variant)",
       f"{_LOGITS} --greedy-candidate", "variant"),
    _m("mirror", "infomax, --solver mirror (variant)", f"{_LOGITS} --solver mirror", "variant"),
    _m("rank", "infomax, --typicality rank (variant)", f"{_LOGITS} --typicality rank", "variant"),
]


def parse_extra(spec: str) -> Method:
    """`name=ARGS...` from the command line, e.g. `nb=--scores {el2n} --noise {noise}`."""
    name, sep, args = spec.partition("=")
    if not sep or not name.strip():
        raise SystemExit(f"--extra {spec!r}: expected NAME=ARGS (e.g. 'mine=--scores {{el2n}}')")
    parts = tuple(shlex.split(args))
    for a in parts:
        try:
            a.format(**{p: "" for p in PLACEHOLDERS})
        except (KeyError, IndexError) as e:
            raise SystemExit(f"--extra {spec!r}: unknown placeholder {e}; known: "
                             + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    return Method(name.strip(), name.strip(), parts, "extra")


def choose(methods: str, variants: str, extra: list[str]) -> list[Method]:
    """The rows to run: --methods (keys/names or `all`), --variants (keys, `all`, `none`), --extra."""
    pool = BASELINES + DEFAULTS
    if methods == "all":
        rows = list(pool)
    else:
        want = [w.strip() for w in methods.split(",") if w.strip()]
        rows = []
        for w in want:
            hit = [m for m in pool + VARIANTS if w in (m.key, m.name)]
            if not hit:
                raise SystemExit(f"--methods: unknown {w!r}; known: "
                                 + ", ".join(m.key for m in pool + VARIANTS))
            rows += [h for h in hit if h not in rows]
    if variants == "all":
        rows += [v for v in VARIANTS if v not in rows]
    elif variants != "none":
        for w in (w.strip() for w in variants.split(",") if w.strip()):
            hit = [v for v in VARIANTS if w in (v.key, v.name)]
            if not hit:
                raise SystemExit(f"--variants: unknown {w!r}; known: all, none, "
                                 + ", ".join(v.key for v in VARIANTS))
            rows += [h for h in hit if h not in rows]
    rows += [parse_extra(e) for e in extra]
    names = [m.name for m in rows]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit(f"method names given twice: {', '.join(sorted(dup))}")
    return rows


def digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


@dataclass
class Selection:
    status: str  # "ok", or "n/a (refused: …)" / "n/a (failed …)"
    indices: np.ndarray | None = None
    objective: float | None = None


def select(binary: str, bin_id: str, method: Method, keep: str, seed: int, files: dict,
           digests: dict, sel_dir: Path) -> Selection:
    """Run (or reuse) one selection. Exit 2 is recorded as refused; the study goes on."""
    args = [a.format(**files) for a in method.args]
    # The cache key: the exact arguments with each input file replaced by a digest of its
    # contents, and the binary's identity (path, size, mtime).
    keyed = [digests.get(a, a) for a in args]
    key = hashlib.sha1(json.dumps([bin_id, keep, seed, keyed]).encode()).hexdigest()[:20]
    out, rep, refused = sel_dir / f"{key}.npy", sel_dir / f"{key}.json", sel_dir / f"{key}.refused"
    if refused.exists():
        return Selection(f"n/a (refused: {refused.read_text()})")
    if not (out.exists() and rep.exists()):
        cmd = [binary, "select", "--embeddings", files["embeddings"], "--keep", keep,
               "--seed", str(seed), "-q", "--force", "--out", str(out), "--report", str(rep), *args]
        rc, err = run_cli(cmd)
        msg = err.splitlines()[-1] if err else ""
        msg = msg.removeprefix("error: ")
        if rc == 2:
            refused.write_text(msg)
            return Selection(f"n/a (refused: {msg})")
        if rc != 0:
            out.unlink(missing_ok=True)
            rep.unlink(missing_ok=True)
            return Selection(f"n/a (failed, exit {rc}: {msg})")
    report = json.loads(rep.read_text())
    return Selection("ok", np.load(out), report.get("objective"))
