"""Runs ONE Python peer on one exported instance, in its own process (peers.py starts it under a wall
timeout and an address-space limit and reads its peak RSS from wait4).

    python runner.py SYSTEM --graph K.npz --budget k --lam 0.5 --neighbors 10 --out sel.npy --timing t.json

The inputs (the CSR kNN similarity K, zero diagonal, from `infoprune graph`) are loaded and the
library imported BEFORE the clock starts; the clock covers everything the peer needs from a sparse K
on: dense-kernel construction (`K.toarray()`) for the dense modes, the function object's
construction (including submodlib's conversion of the kernel to Python lists and C++ vectors, and
apricot's per-fit numba compilation) and the maximisation. The selected indices go to --out (int64,
sorted); the seconds to --timing. With --warm (apricot only) a first, untimed fit compiles the numba
kernels and the second fit is timed: apricot as used inside a long-lived Python process.

Systems (λ = --lam; our objective is f(S) = Σ_{i∈S} s_i − α Σ_{i,j∈S} K_ij with α = λ):
  apricot-fl           apricot FacilityLocationSelection(k, metric='precomputed', optimizer='lazy')
                       on the sparse K + I (self-similarity 1, so its objective is our FL(S))
  apricot-gc           apricot GraphCutSelection(alpha=1/λ, precomputed, lazy) on the sparse K:
                       apricot's f = a·Σ_{v∈V,x∈X} K − Σ_{x,y∈X} K = a·(our f with s = degree, α = 1/a)
  apricot-sr           apricot SumRedundancySelection(precomputed, lazy) on the sparse K
  submodlib-gc-dense   submodlib GraphCutFunction(mode='dense', lambdaVal=λ, ggsijs=K.toarray())
  submodlib-gc-sparse  submodlib GraphCutFunction(mode='sparse', lambdaVal=λ, ggsijs=K, num_neighbors=m)
  submodlib-fl-dense   submodlib FacilityLocationFunction(mode='dense', sijs=dense K + I, separate_rep=False)
  submodlib-fl-sparse  submodlib FacilityLocationFunction(mode='sparse', sijs=K + I, num_neighbors=m)
All submodlib runs: maximize(budget=k, optimizer='LazyGreedy', stopIfZeroGain=False,
stopIfNegativeGain=False, verbose=False, show_progress=False).
"""

import argparse
import json
import sys
import time

import numpy as np
import scipy.sparse as sp


def load_graph(path):
    K = sp.load_npz(path)
    # apricot checks isinstance(X, csr_matrix) and submodlib type(X) == scipy.sparse.csr.csr_matrix:
    # both want the legacy matrix class, not csr_array.
    K = sp.csr_matrix(K)
    K.sort_indices()
    return K


def with_unit_diagonal(K):
    n = K.shape[0]
    return sp.csr_matrix(K + sp.identity(n, dtype=K.dtype, format="csr"))


def for_apricot(K):
    # apricot's sparse numba kernels are compiled for float64 data and int32 indices.
    K = sp.csr_matrix(K, dtype=np.float64)
    K.indices = K.indices.astype(np.int32)
    K.indptr = K.indptr.astype(np.int32)
    return K


def main():
    p = argparse.ArgumentParser()
    p.add_argument("system")
    p.add_argument("--graph", required=True)
    p.add_argument("--budget", type=int, required=True)
    p.add_argument("--lam", type=float, required=True)
    p.add_argument("--neighbors", type=int, default=10)
    p.add_argument("--out", required=True)
    p.add_argument("--timing", required=True)
    p.add_argument("--warm", action="store_true",
                   help="apricot: fit once untimed first, so numba compilation is not on the clock")
    a = p.parse_args()
    k, lam, system = a.budget, a.lam, a.system

    K = load_graph(a.graph)
    n = K.shape[0]
    notes = ""

    if system.startswith("apricot"):
        import apricot

        version = apricot.__version__
        if system == "apricot-fl":
            X = for_apricot(with_unit_diagonal(K))
            sel = apricot.FacilityLocationSelection(k, metric="precomputed", optimizer="lazy")
        elif system == "apricot-gc":
            X = for_apricot(K)
            sel = apricot.GraphCutSelection(k, metric="precomputed", alpha=1.0 / lam, optimizer="lazy")
        elif system == "apricot-sr":
            if not hasattr(apricot, "SumRedundancySelection"):
                raise SystemExit("not available: this apricot has no SumRedundancySelection")
            X = for_apricot(K)
            sel = apricot.SumRedundancySelection(k, metric="precomputed", optimizer="lazy")
        else:
            raise SystemExit(f"unknown system {system}")
        del K
        if a.warm:
            # A first fit in this process compiles apricot's numba kernels; only the second is timed.
            sel.fit(X)
        t0 = time.perf_counter()
        sel.fit(X)
        idx = np.asarray(sel.ranking, dtype=np.int64)
        seconds = time.perf_counter() - t0
    elif system.startswith("submodlib"):
        import submodlib
        from submodlib import FacilityLocationFunction, GraphCutFunction

        version = getattr(submodlib, "__version__", "?")
        opts = dict(
            budget=k,
            optimizer="LazyGreedy",
            stopIfZeroGain=False,
            stopIfNegativeGain=False,
            verbose=False,
            show_progress=False,
        )
        if system == "submodlib-gc-dense":
            t0 = time.perf_counter()
            D = K.toarray()
            del K
            f = GraphCutFunction(n=n, mode="dense", lambdaVal=lam, ggsijs=D)
        elif system == "submodlib-gc-sparse":
            t0 = time.perf_counter()
            f = GraphCutFunction(n=n, mode="sparse", lambdaVal=lam, ggsijs=K, num_neighbors=a.neighbors)
        elif system == "submodlib-fl-dense":
            t0 = time.perf_counter()
            D = K.toarray()
            del K
            np.fill_diagonal(D, 1.0)
            f = FacilityLocationFunction(n=n, mode="dense", sijs=D, separate_rep=False)
        elif system == "submodlib-fl-sparse":
            Ki = with_unit_diagonal(K)
            del K
            t0 = time.perf_counter()
            f = FacilityLocationFunction(n=n, mode="sparse", sijs=Ki, num_neighbors=a.neighbors)
        else:
            raise SystemExit(f"unknown system {system}")
        result = f.maximize(**opts)
        idx = np.asarray([i for i, _ in result], dtype=np.int64)
        seconds = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown system {system}")

    if len(idx) != k or len(np.unique(idx)) != k:
        notes = f"returned {len(idx)} indices ({len(np.unique(idx))} distinct) for k = {k}"
    np.save(a.out, np.sort(idx).astype(np.int64))
    with open(a.timing, "w") as fh:
        json.dump({"seconds": seconds, "version": version, "notes": notes}, fh)


if __name__ == "__main__":
    sys.exit(main())
