#!/usr/bin/env bash
# infoprune's IVF kNN graph against faiss-cpu (IVF-Flat, HNSW) at matched recall, and the
# planted-duplicate retention table of issue 13. One command, sets everything up itself:
#   bash benches/ivf/run.sh [--sizes 100000,1000000] [--duplicates 1000000] [--hnsw-max 1000000]
#                           [--threads 2] [--out target/ivf-bench]
# (options are passed through to compare.py; `bash benches/ivf/run.sh --help` lists them).
# Creates the venv target/venv-ivf from benches/ivf/requirements.txt, builds the release binary
# and runs compare.py, which prints markdown tables (also written to <out>/results.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

venv="target/venv-ivf"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.requirements.txt"
fi
cargo build --release -p infoprune
IVF_COMMAND="bash benches/ivf/run.sh $*" "$venv/bin/python" "$here/compare.py" \
    --bin target/release/infoprune "$@"
