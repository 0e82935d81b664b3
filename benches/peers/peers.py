"""Peer comparison: infoprune against apricot and submodlib on the same kNN similarity graph.

Started by benches/peers/run.sh (which makes the venv and builds the binary); by hand:

    target/venv-peers/bin/python benches/peers/peers.py --bin target/release/infoprune \
        --sizes 5000,20000 --timeout 600 --mem-limit 16G --out target/peers

Per size n:
  * Data: a seeded Gaussian mixture (--clusters 50 centres ~ N(0, I_d) in d = --dim 32, cluster
    weights ∝ 1/rank (Zipf), points = centre + 0.5·N(0, I_d)), L2-normalised, float32 -> E.npy.
  * `infoprune graph` builds the exact kNN similarity (m = --neighbors 10, max-symmetrised, zero
    diagonal) -> K.npz (a SciPy CSR matrix); timed on its own ("graph build" row).
  * s = degree (row sums of K), float32 -> s.npy; α = λ = --lambda 0.5; k = round(--keep · n).
    With s = degree, submodlib's GraphCut f_GC(S) = Σ_{j∈S} Σ_{i∈V} K_ij − λ Σ_{i,j∈S} K_ij is
    exactly our f(S) = Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij (ordered pairs) with α = λ.
  * Every system runs in its own process (runner.py for the Python peers, the CLI for infoprune)
    under a wall timeout (--timeout) and an address-space limit (--mem-limit, RLIMIT_AS); peak RSS
    comes from wait4's ru_maxrss. Python peers: inputs are loaded before the clock starts, and the
    clock includes the dense-kernel construction where a peer needs one. infoprune: the whole CLI
    invocation (reading K.npz and s.npy, solving, writing keep.npy) is timed from outside.
  * A timeout or memory failure is "DNF" with the reason; such a system is not attempted at larger
    n. A dense-kernel peer whose estimated memory (max(8·n², its peak RSS at the previous size
    scaled by n²)) exceeds the limit is recorded as DNF (memory, estimated) without running; a peer
    whose time at the previous size, scaled LINEARLY (a lower bound for these algorithms), already
    exceeds the timeout is recorded as DNF (time, lower bound) without running (--no-predict runs
    them anyway).
  * A system whose first run took under --repeat-below (1 s) runs --repeat (3) times in all, and
    the median is reported (these sizes are at the mercy of other load on a shared machine).
  * Every subset is scored with `infoprune evaluate` (f(S) in f64 and facility location
    FL(S) = Σ_i max_{j∈S} K_ij, self-similarity 1 for selected points) and independently with SciPy;
    the two must agree to 1e-6 relative.

Outputs in --out: peers.csv, peers.md (tables with ratios and the targets), peers.png (log-log
seconds against n), and per size the instance and every subset (n<N>/).
"""

import argparse
import csv
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent

# name, label, family, dense-kernel memory floor in bytes per n² entry (None: sparse). The sparse
# variant of a dense peer runs first: its peak RSS is the dense one's baseline in the estimate.
PEERS = [
    ("apricot-fl", "apricot FacilityLocation (lazy)", "apricot", None),
    ("apricot-gc", "apricot GraphCut (lazy)", "apricot", None),
    ("apricot-sr", "apricot SumRedundancy (lazy)", "apricot", None),
    ("submodlib-gc-sparse", "submodlib GraphCut sparse (LazyGreedy)", "submodlib", None),
    ("submodlib-gc-dense", "submodlib GraphCut dense (LazyGreedy)", "submodlib", 8),
    ("submodlib-fl-sparse", "submodlib FacilityLocation sparse (LazyGreedy)", "submodlib", None),
    ("submodlib-fl-dense", "submodlib FacilityLocation dense (LazyGreedy)", "submodlib", 8),
]
INFOPRUNE = [
    ("infoprune-greedy-cpu", "infoprune greedy (cpu)", ["--method", "greedy"], "cpu"),
    ("infoprune-pg-cpu", "infoprune infomax-pg (cpu)", ["--method", "infomax", "--solver", "pg"], "cpu"),
    ("infoprune-mirror-cpu", "infoprune infomax-mirror (cpu)", ["--method", "infomax", "--solver", "mirror"], "cpu"),
    ("infoprune-greedy-gpu", "infoprune greedy (gpu)", ["--method", "greedy"], "wgpu"),
    ("infoprune-pg-gpu", "infoprune infomax-pg (gpu)", ["--method", "infomax", "--solver", "pg"], "wgpu"),
    ("infoprune-mirror-gpu", "infoprune infomax-mirror (gpu)", ["--method", "infomax", "--solver", "mirror"], "wgpu"),
]
REF = "submodlib-gc-dense"  # the reference: submodlib GraphCut (dense kernel) with LazyGreedy
REF_SPARSE = "submodlib-gc-sparse"
LABELS = {name: label for name, label, *_ in PEERS + INFOPRUNE}
LABELS["graph"] = "infoprune graph (kNN build, shared input)"
COLORS = {
    "graph": "black", "apricot-fl": "#ff7f0e", "apricot-gc": "#8c564b", "apricot-sr": "#e377c2",
    "submodlib-gc-sparse": "#2ca02c", "submodlib-gc-dense": "#98df8a", "submodlib-fl-sparse": "#7f7f7f",
    "submodlib-fl-dense": "#bcbd22", "infoprune-greedy-cpu": "#d62728", "infoprune-pg-cpu": "#1f77b4",
    "infoprune-mirror-cpu": "#9467bd",
}
CSV_FIELDS = [
    "n", "k", "system", "label", "status", "reason", "seconds", "peak_mb", "f", "fl",
    "f_scipy", "fl_scipy", "eval_rel_diff", "cli_solve_seconds", "cli_total_seconds", "version", "notes",
]


def parse_bytes(text):
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)i?B?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " "))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- running a child


def run_limited(cmd, timeout, mem_bytes, log_path, env=None):
    """Runs cmd through limit.py (own session, RLIMIT_AS = mem_bytes, wall timeout). Returns
    (status, reason, wall seconds, peak RSS MiB); status is 'ok', 'DNF' or 'failed'."""
    result = Path(str(log_path) + ".limit.json")
    if result.exists():
        result.unlink()
    with open(log_path, "w") as out:
        subprocess.run([sys.executable, str(HERE / "limit.py"), "--timeout", str(timeout), "--mem-bytes",
                        str(int(mem_bytes or 0)), "--result", str(result), "--", *cmd],
                       stdout=out, stderr=subprocess.STDOUT, env=env)
    r = json.loads(result.read_text())
    wall, peak_mb = r["wall"], r["peak_mb"]
    text = Path(log_path).read_text(errors="replace")
    if r["timed_out"]:
        return "DNF", f"time: killed after {timeout:.0f} s", wall, peak_mb
    if r["exit"] == 0:
        return "ok", "", wall, peak_mb
    memory_signs = ("MemoryError", "bad_alloc", "memory allocation of", "Cannot allocate memory",
                    "out of memory", "Unable to allocate")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    tail = (lines[-1] if lines else "no output")[:200]
    if any(s in text for s in memory_signs):
        return "DNF", f"memory: {tail} under the {mem_bytes / 2**30:.0f} GiB address-space limit", wall, peak_mb
    return "failed", f"exit {r['exit']}: {tail}", wall, peak_mb


# ----------------------------------------------------------------------------- instances


def make_embeddings(n, d, clusters, seed):
    rng = np.random.default_rng([seed, n])
    centres = rng.standard_normal((clusters, d))
    w = 1.0 / np.arange(1, clusters + 1)
    labels = rng.choice(clusters, size=n, p=w / w.sum())
    E = np.empty((n, d), dtype=np.float32)
    step = 200_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        x = centres[labels[lo:hi]] + 0.5 * rng.standard_normal((hi - lo, d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        E[lo:hi] = x
    return E


def load_graph(path):
    K = sp.csr_matrix(sp.load_npz(path))
    K.sort_indices()
    return K


# ----------------------------------------------------------------------------- evaluation


def eval_scipy(K, Kcsc, s, alpha, idx):
    sub = K[idx][:, idx]
    f = float(s[idx].astype(np.float64).sum()) - alpha * float(sub.sum(dtype=np.float64))
    cols = Kcsc[:, idx].tocsr()
    best = cols.max(axis=1).toarray().ravel().astype(np.float64)
    best[idx] = np.maximum(best[idx], 1.0)
    return f, float(best.sum())


def eval_cli(binary, graph, scores, alpha, subset):
    r = subprocess.run([binary, "evaluate", "--graph", str(graph), "--scores", str(scores),
                        "--alpha", repr(alpha), "--subset", str(subset), "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"infoprune evaluate failed: {r.stderr.strip()[:300]}")
    data = json.loads(r.stdout)
    f = next(data[key] for key in ("f", "objective", "f_s") if key in data)
    fl = next(data[key] for key in ("fl", "facility_location", "fl_s") if key in data)
    return float(f), float(fl)


def rel_diff(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


# ----------------------------------------------------------------------------- environment


def install_status(status_dir):
    out = {}
    for group in ("apricot", "submodlib"):
        path = Path(status_dir or "/nonexistent") / f"{group}.status"
        out[group] = path.read_text().strip() if path.exists() else "ok"
    return out


def import_check(family):
    module = {"apricot": "apricot", "submodlib": "submodlib"}[family]
    r = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return True, r.stdout.strip()
    return False, (r.stderr.strip().splitlines() or ["import failed"])[-1][:300]


def machine_info(binary):
    info = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", lscpu)
        info["cpu"] = m.group(1).strip() if m else "?"
    except OSError:
        info["cpu"] = "?"
    with open("/proc/meminfo") as fh:
        kb = int(re.search(r"MemTotal:\s*(\d+)", fh.read()).group(1))
    info["ram_gib"] = round(kb / 2**20, 1)
    info["infoprune"] = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    versions = {}
    for pkg in ("numpy", "scipy", "matplotlib", "apricot-select", "submodlib-py", "numba", "scikit-learn"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "not installed"
    info["packages"] = versions
    return info


def detect_gpu(binary, work):
    """A hardware adapter is there if `select --backend auto` (which takes only real GPUs) reports a
    backend other than the CPU on a tiny instance."""
    work.mkdir(parents=True, exist_ok=True)
    E = make_embeddings(400, 8, 5, 0)
    np.save(work / "E.npy", E)
    r = subprocess.run([binary, "graph", "--embeddings", str(work / "E.npy"), "--neighbors", "5",
                        "--out", str(work / "K.npz"), "--force", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, f"probe graph failed: {r.stderr.strip()[:200]}"
    K = load_graph(work / "K.npz")
    np.save(work / "s.npy", np.asarray(K.sum(axis=1)).ravel().astype(np.float32))
    r = subprocess.run([binary, "select", "--graph", str(work / "K.npz"), "--scores", str(work / "s.npy"),
                        "--normalize", "raw", "--representativeness", "0", "--drop-noisy", "0",
                        "--alpha", "0.5", "--budget", "40", "--backend", "auto",
                        "--out", str(work / "keep.npy"), "--report", str(work / "r.json"),
                        "--force", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, f"probe select failed: {r.stderr.strip()[:200]}"
    backend = json.loads((work / "r.json").read_text()).get("backend", "cpu")
    if backend.lower().startswith("cpu"):
        return False, "no hardware GPU adapter (--backend auto chose the CPU; a software Vulkan driver is not a GPU)"
    return True, backend


# ----------------------------------------------------------------------------- reports


def fmt_sec(x):
    if x is None:
        return ""
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def fmt_val(x, decimals=2):
    return "" if x is None else f"{x:,.{decimals}f}"


def num(x):
    try:
        v = float(x)
        return None if math.isnan(v) else v
    except (TypeError, ValueError):
        return None


def write_csv(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in CSV_FIELDS})


def is_peer(system):
    return system.startswith(("apricot", "submodlib"))


def targets_for(rows_n):
    """Per-n lines on the issue's targets, from the rows of one size: each infoprune CPU solver
    against submodlib GraphCut (each variant that finished) and the fastest apricot finisher."""
    ok = {r.get("system"): r for r in rows_n if r.get("status") == "ok" and r.get("system") != "graph"}
    ours = [r for s, r in ok.items() if s.startswith("infoprune") and num(r.get("f")) is not None]
    if not ours:
        return ["- no infoprune solver finished at this size: **not met**"]
    refs = [ok[r] for r in (REF, REF_SPARSE) if r in ok]
    # apricot's systems that optimise a coverage objective (GraphCut = ours, FacilityLocation);
    # SumRedundancy only penalises redundancy (no representation term), so it is not the yardstick.
    apricots = [r for s, r in ok.items() if s in ("apricot-gc", "apricot-fl")]
    fastest_apricot = min(apricots, key=lambda r: num(r.get("seconds"))) if apricots else None
    if not refs and not apricots:
        return ["- no peer finished at this size: nothing to compare against"]
    head = ["infoprune solver"]
    if refs:
        head.append("f / submodlib GC")
        head += [f"× {r.get('label')}" for r in refs]
    agc = ok.get("apricot-gc")
    if agc is not None:
        head.append("f / apricot GC")
    if fastest_apricot:
        head.append(f"× {fastest_apricot.get('label')} (faster of apricot GC / FL)")
    head.append("all targets")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" + " ---: |" * (len(head) - 2) + " --- |"]
    any_met = False
    for r in ours:
        sec, f = num(r.get("seconds")), num(r.get("f"))
        cells, met = [r.get("label")], True
        if refs:
            rf = num(refs[0].get("f"))
            cells.append(f"{f / rf:.5f}" + ("" if f >= 0.999 * rf else " ✗"))
            met &= f >= 0.999 * rf
            for ref in refs:
                x = num(ref.get("seconds")) / sec
                cells.append(f"{x:.1f}" + ("" if x >= 100 else " ✗"))
                met &= x >= 100
        if agc is not None:
            cells.append(f"{f / num(agc.get('f')):.5f}")
        if fastest_apricot:
            x = num(fastest_apricot.get("seconds")) / sec
            cells.append(f"{x:.1f}" + ("" if x >= 20 else " ✗"))
            met &= x >= 20
        cells.append("**met**" if met else "not met")
        any_met |= met
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Targets (f ≥ 0.999 × submodlib GraphCut's, ≥ 100× faster than it, ≥ 20× faster than apricot; "
                 "✗ marks a miss): " + ("**met** by at least one infoprune solver" if any_met else "**not met** by any "
                 "infoprune solver") + (" (only the peers that finished at this size are compared)" if len(refs) < 2 or
                 not apricots else "") + ".")
    return lines


def write_markdown(path, rows, meta):
    out = []
    out.append("# Peer comparison: infoprune vs apricot and submodlib\n")
    out.append(f"Command: `{meta['command']}`  ")
    m = meta["machine"]
    out.append(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}; "
               f"{m['infoprune']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + "  ")
    out.append(f"Limits per system and size: {meta['timeout']:.0f} s wall, {meta['mem_limit'] / 2**30:.0f} GiB address space. "
               f"λ = α = {meta['lam']}, m = {meta['neighbors']}, k = round({meta['keep']}·n), data: {meta['data']}.  ")
    out.append(f"GPU: {meta['gpu']}\n")
    out.append("Columns: seconds = selection wall time (Python peers: after loading the inputs, including any dense "
               "kernel construction; infoprune: the whole CLI call incl. reading K.npz); peak MiB = max RSS of the "
               "process; in-CLI s = infoprune's own report (read + solve + write, without process start); f = our objective with s = degree (= submodlib GraphCut's value); FL = facility location "
               "Σ_i max_{j∈S} K_ij (K_jj = 1); × fastest peer = seconds of the fastest peer that finished / this row's "
               "seconds; × sub-GC = seconds of submodlib GraphCut (the faster of its dense and sparse variants that "
               "finished) / this row's seconds; f / sub-GC = f / f(that submodlib GraphCut); FL / best = FL / the highest FL at this n.\n")
    sizes = sorted({int(r.get("n")) for r in rows})
    for n in sizes:
        rows_n = [r for r in rows if int(r.get("n")) == n]
        ok = [r for r in rows_n if r.get("status") == "ok" and r.get("system") != "graph"]
        peers_ok = [r for r in ok if is_peer(r.get("system"))]
        fastest_peer = min((num(r.get("seconds")) for r in peers_ok), default=None)
        # submodlib GraphCut: the faster of its variants that finished (dense and sparse run the same
        # LazyGreedy on the same objective; the sparse one is the faster, so the stricter reference).
        refs = [r for r in ok if r.get("system") in (REF, REF_SPARSE)]
        ref = min(refs, key=lambda r: num(r.get("seconds"))) if refs else None
        best_fl = max((num(r.get("fl")) for r in ok if num(r.get("fl")) is not None), default=None)
        k = rows_n[0].get("k")
        out.append(f"## n = {n:,} (k = {int(k):,})\n")
        out.append("| system | status | seconds | in-CLI s | peak MiB | f(S) | f / sub-GC | FL(S) | FL / best | × fastest peer | × sub-GC |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows_n:
            sec = num(r.get("seconds"))
            f, fl = num(r.get("f")), num(r.get("fl"))
            status = r.get("status") if r.get("status") == "ok" else f"{r.get('status')}: {r.get('reason')}"
            cells = [r.get("label"), status, fmt_sec(sec), fmt_sec(num(r.get("cli_total_seconds"))),
                     fmt_val(num(r.get("peak_mb")), 0), fmt_val(f), "", fmt_val(fl), "", "", ""]
            if r.get("status") == "ok" and r.get("system") != "graph":
                if ref is not None and f is not None:
                    cells[6] = f"{f / num(ref['f']):.5f}"
                if best_fl and fl is not None:
                    cells[8] = f"{fl / best_fl:.4f}"
                if fastest_peer and sec:
                    cells[9] = f"{fastest_peer / sec:.2f}"
                if ref is not None and sec:
                    cells[10] = f"{num(ref['seconds']) / sec:.2f}"
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append("Targets at this size:\n")
        out.extend(targets_for(rows_n))
        out.append("")
    big = [r for r in rows if int(r.get("n")) >= 1_000_000 and r.get("system").startswith("infoprune") and r.get("system").endswith("-cpu")]
    if big:
        done = [r for r in big if r.get("status") == "ok"]
        out.append(f"Target \"infoprune finishes n = 10^6 on the {m['nproc']}-core CPU\": "
                   f"{len(done)}/{len(big)} solvers finished → **{'met' if done and len(done) == len(big) else 'not met'}**\n")
    Path(path).write_text("\n".join(out))


def plot(path, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=80)
    systems = []
    for r in rows:
        if r.get("system") not in systems:
            systems.append(r.get("system"))
    for i, s in enumerate(systems):
        pts = sorted((int(r.get("n")), num(r.get("seconds"))) for r in rows
                     if r.get("system") == s and r.get("status") == "ok" and num(r.get("seconds")))
        dnf = sorted(int(r.get("n")) for r in rows if r.get("system") == s and r.get("status") != "ok")
        label = LABELS.get(s, s)
        if dnf:
            label += f"  (DNF from n = {dnf[0]:,})"
        if not pts:
            label += ": no point"
        style = "--" if s == "graph" else ("-" if s.startswith("infoprune") else ":")
        marker = "x" if s == "graph" else ("o" if s.startswith("infoprune") else
                                            ("s" if s.startswith("submodlib") else "^"))
        color = COLORS.get(s.replace("-gpu", "-cpu"), "gray")
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker=marker, color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (samples; k = n/10, m = 10)")
    ax.set_ylabel("wall seconds (selection)")
    ax.set_title("Subset selection on the same kNN graph: seconds vs n")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----------------------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default="target/release/infoprune")
    p.add_argument("--install-status", default=None, help="folder with run.sh's <group>.status files")
    p.add_argument("--out", default="target/peers")
    p.add_argument("--sizes", default="5000,20000,100000,1000000")
    p.add_argument("--timeout", type=float, default=600.0, help="wall seconds per system and size")
    p.add_argument("--graph-timeout", type=float, default=5400.0, help="wall seconds for `infoprune graph`")
    p.add_argument("--mem-limit", type=parse_bytes, default=parse_bytes("16G"))
    p.add_argument("--lambda", dest="lam", type=float, default=0.5, help="GraphCut's λ = our α")
    p.add_argument("--neighbors", type=int, default=10)
    p.add_argument("--keep", type=float, default=0.1)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--clusters", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--systems", default="all", help="comma-separated system names (see runner.py), or all")
    p.add_argument("--repeat", type=int, default=3, help="runs of a system whose first run is sub-second")
    p.add_argument("--repeat-below", type=float, default=1.0, help="seconds below which runs are repeated")
    p.add_argument("--no-predict", action="store_true", help="run peers even when predicted to DNF")
    p.add_argument("--reuse-inputs", action="store_true", help="reuse E.npy/K.npz/s.npy found in --out")
    p.add_argument("--gpu", choices=["auto", "off"], default="auto")
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite peers.md and peers.png from --out's peers.csv and meta.json")
    a = p.parse_args()

    if a.report_only:
        out = Path(a.out)
        rows = list(csv.DictReader(open(out / "peers.csv")))
        meta = json.loads((out / "meta.json").read_text())
        write_markdown(out / "peers.md", rows, meta)
        plot(out / "peers.png", rows)
        log(f"rewrote {out / 'peers.md'} and {out / 'peers.png'}")
        return

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    # A private copy, so that a rebuild of target/release during a long run changes nothing.
    binary = str((out / "infoprune").resolve())
    shutil.copy2(Path(a.bin).resolve(), binary)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    wanted = None if a.systems == "all" else set(a.systems.split(","))
    meta = {
        "command": os.environ.get("PEERS_COMMAND") or "python " + " ".join(sys.argv),
        "machine": machine_info(binary),
        "timeout": a.timeout, "mem_limit": a.mem_limit, "lam": a.lam, "neighbors": a.neighbors,
        "keep": a.keep,
        "data": f"Gaussian mixture, {a.clusters} Zipf-weighted clusters, d = {a.dim}, σ = 0.5, "
                f"L2-normalised, float32, seed {a.seed}",
    }
    log(f"machine: {json.dumps(meta['machine'])}")

    # Which systems can run at all.
    unavailable = {}
    inst = install_status(a.install_status)
    for family in ("apricot", "submodlib"):
        if inst[family] != "ok":
            unavailable[family] = f"not installable: {inst[family]}"
            continue
        ok_, info = import_check(family)
        if not ok_:
            unavailable[family] = f"not installable: import fails: {info}"
    gpu_ok, gpu_note = (False, "skipped (--gpu off)") if a.gpu == "off" else detect_gpu(binary, out / "gpu-probe")
    meta["gpu"] = f"hardware adapter found ({gpu_note}); GPU rows run" if gpu_ok else f"GPU rows skipped: {gpu_note}"
    log(meta["gpu"])
    (out / "meta.json").write_text(json.dumps(meta, indent=1))

    systems = []
    for name, label, family, dense in PEERS:
        systems.append(dict(name=name, label=label, family=family, dense=dense, kind="peer"))
    for name, label, flags, backend in INFOPRUNE:
        if backend == "wgpu" and not gpu_ok:
            continue
        systems.append(dict(name=name, label=label, family="infoprune", flags=flags, backend=backend, kind="ours"))
    if wanted is not None:
        systems = [s for s in systems if s["name"] in wanted]

    rows = []
    history = {}  # system -> list of (n, seconds, peak_mb) that finished
    dnf_at = {}  # system -> n

    def save():
        write_csv(out / "peers.csv", rows)
        write_markdown(out / "peers.md", rows, meta)

    for n in sizes:
        k = int(round(a.keep * n))
        work = out / f"n{n}"
        work.mkdir(parents=True, exist_ok=True)
        E, K_path, s_path = work / "E.npy", work / "K.npz", work / "s.npy"

        # ---- instance: embeddings, kNN graph (timed), scores
        graph_json = work / "graph.json"
        if a.reuse_inputs and K_path.exists() and s_path.exists() and graph_json.exists():
            g = json.loads(graph_json.read_text())
            log(f"n={n}: reusing the exported instance ({g['seconds']:.2f} s graph build)")
        else:
            log(f"n={n}: generating embeddings")
            np.save(E, make_embeddings(n, a.dim, a.clusters, a.seed))
            log(f"n={n}: infoprune graph")
            status, reason, wall, peak = run_limited(
                [binary, "graph", "--embeddings", str(E), "--neighbors", str(a.neighbors),
                 "--symmetrize", "max", "--backend", "auto" if gpu_ok else "cpu", "--out", str(K_path),
                 "--force", "-q"],
                a.graph_timeout, a.mem_limit, work / "graph.log")
            g = dict(status=status, reason=reason, seconds=wall, peak_mb=peak)
            graph_json.write_text(json.dumps(g))
        rows.append(dict(n=n, k=k, system="graph", label=LABELS["graph"], status=g["status"],
                         reason=g["reason"], seconds=g["seconds"], peak_mb=g["peak_mb"],
                         notes=f"exact kNN, m = {a.neighbors}, max-symmetrised"))
        if g["status"] != "ok":
            log(f"n={n}: graph build {g['status']}: {g['reason']}; stopping")
            save()
            break
        K = load_graph(K_path)
        s = np.asarray(K.sum(axis=1, dtype=np.float64)).ravel().astype(np.float32)
        np.save(s_path, s)
        Kcsc = K.tocsc()
        rows[-1]["notes"] += f", nnz = {K.nnz:,}"
        log(f"n={n}: graph {g['seconds']:.2f} s, nnz {K.nnz:,}, peak {g['peak_mb']:.0f} MiB")
        save()

        for sysd in systems:
            name = sysd["name"]
            row = dict(n=n, k=k, system=name, label=sysd["label"], status="", reason="")
            rows.append(row)
            sel_path = work / f"{name}.npy"
            # ---- skip rules
            if sysd["family"] in unavailable:
                row.update(status="not installable", reason=unavailable[sysd["family"]])
                continue
            if name in dnf_at:
                row.update(status="not attempted", reason=f"DNF at smaller n ({dnf_at[name]:,})")
                continue
            if sysd["kind"] == "peer" and not a.no_predict:
                if sysd["dense"]:
                    est = sysd["dense"] * n * n
                    basis = f"{sysd['dense']}·n² bytes"
                    if history.get(name):
                        # The n²-part of the previous peak (above the sparse variant's peak at that n),
                        # scaled by n², plus the sparse variant's peak now.
                        n0, _, m0 = history[name][-1]
                        sparse = name.replace("-dense", "-sparse")
                        b0 = next((m for nn, _, m in history.get(sparse, []) if nn == n0), 0.0)
                        b1 = next((m for nn, _, m in history.get(sparse, []) if nn == n), b0)
                        scaled = (b1 + max(m0 - b0, 0.0) * (n / n0) ** 2) * 2**20
                        if scaled > est:
                            est, basis = scaled, (f"peak RSS {m0:,.0f} MiB at n = {n0:,}, its part above the "
                                                  f"sparse variant's ({b0:,.0f} MiB) scaled by n²")
                    if est > a.mem_limit:
                        row.update(status="DNF", reason=f"memory (estimated, not run): {est / 2**30:.1f} GiB "
                                   f"({basis}) > {a.mem_limit / 2**30:.0f} GiB")
                        dnf_at[name] = n
                        log(f"n={n}: {name}: {row['reason']}")
                        continue
                if history.get(name):
                    n0, t0, _ = history[name][-1]
                    lower = t0 * n / n0
                    if lower > a.timeout:
                        row.update(status="DNF", reason=f"time (lower bound, not run): {t0:.1f} s at n = {n0:,} "
                                   f"scaled linearly = {lower:.0f} s > {a.timeout:.0f} s")
                        dnf_at[name] = n
                        log(f"n={n}: {name}: {row['reason']}")
                        continue
            # ---- run (sub-second runs are repeated: the median of --repeat runs is reported)
            log(f"n={n}: running {name}")
            times, peaks = [], []
            while True:
                if sel_path.exists():
                    sel_path.unlink()
                if sysd["kind"] == "peer":
                    timing = work / f"{name}.timing.json"
                    if timing.exists():
                        timing.unlink()
                    cmd = [sys.executable, str(HERE / "runner.py"), name, "--graph", str(K_path), "--budget",
                           str(k), "--lam", repr(a.lam), "--neighbors", str(a.neighbors), "--out", str(sel_path),
                           "--timing", str(timing)]
                    env = dict(os.environ, PYTHONUNBUFFERED="1")
                    status, reason, wall, peak = run_limited(cmd, a.timeout, a.mem_limit, work / f"{name}.log", env)
                    if status == "ok":
                        t = json.loads(timing.read_text())
                        times.append(t["seconds"])
                        row.update(version=t["version"], notes=t["notes"] +
                                   f" (process wall incl. imports and loading: {wall:.2f} s)")
                else:
                    report = work / f"{name}.report.json"
                    cmd = [binary, "select", "--graph", str(K_path), "--scores", str(s_path), "--normalize", "raw",
                           "--representativeness", "0", "--drop-noisy", "0", "--alpha", repr(a.lam),
                           *sysd["flags"], "--backend", sysd["backend"], "--budget", str(k), "--out",
                           str(sel_path), "--report", str(report), "--force", "-q"]
                    status, reason, wall, peak = run_limited(cmd, a.timeout, a.mem_limit, work / f"{name}.log")
                    if status == "ok":
                        rep = json.loads(report.read_text())
                        times.append(wall)
                        row.setdefault("_cli", []).append((rep.get("seconds", {}).get("solve", float("nan")),
                                                           rep.get("total_seconds", float("nan"))))
                        row.update(version=rep.get("version", ""),
                                   notes=f"backend {rep.get('backend', '?')}, {rep.get('iterations', '?')} "
                                         f"iterations, {rep.get('swaps', '?')} swaps")
                peaks.append(peak)
                if status != "ok" or times[0] >= a.repeat_below or len(times) >= a.repeat:
                    break
            if status == "ok":
                order = np.argsort(times)
                mid = int(order[(len(times) - 1) // 2])
                row["seconds"] = times[mid]
                if len(times) > 1:
                    row["notes"] += f"; median of {len(times)} runs: " + ", ".join(f"{x:.4g}" for x in times) + " s"
                if "_cli" in row:
                    row["cli_solve_seconds"], row["cli_total_seconds"] = row["_cli"][mid]
            row.pop("_cli", None)
            peak = max(peaks)
            row.update(status=status, reason=reason, peak_mb=peak)
            if status != "ok":
                if status == "DNF":
                    dnf_at[name] = n
                log(f"n={n}: {name}: {status}: {reason}")
                save()
                continue
            history.setdefault(name, []).append((n, float(row["seconds"]), peak))
            # ---- score the subset both ways
            idx = np.load(sel_path).astype(np.int64)
            if len(idx) != k or len(np.unique(idx)) != k or idx.min() < 0 or idx.max() >= n:
                row["notes"] = (row.get("notes", "") + f"; INVALID subset: {len(idx)} indices, "
                                f"{len(np.unique(idx))} distinct").strip("; ")
            fs, fls = eval_scipy(K, Kcsc, s, a.lam, idx)
            row.update(f_scipy=fs, fl_scipy=fls)
            try:
                f, fl = eval_cli(binary, K_path, s_path, a.lam, sel_path)
                row.update(f=f, fl=fl, eval_rel_diff=max(rel_diff(f, fs), rel_diff(fl, fls)))
                if row["eval_rel_diff"] > 1e-6:
                    row["notes"] = (row.get("notes", "") + "; infoprune evaluate and SciPy DISAGREE").strip("; ")
            except Exception as e:  # noqa: BLE001 - recorded, SciPy's values stand in
                row.update(f=fs, fl=fls, notes=(row.get("notes", "") + f"; scored by SciPy only ({e})").strip("; "))
            log(f"n={n}: {name}: {float(row['seconds']):.3f} s, peak {peak:.0f} MiB, f = {row['f']:.6g}, "
                f"FL = {row['fl']:.6g}")
            save()
        del K, Kcsc
    save()
    plot(out / "peers.png", rows)
    log(f"wrote {out / 'peers.csv'}, {out / 'peers.md'}, {out / 'peers.png'}")


if __name__ == "__main__":
    main()
