#!/usr/bin/env bash
# Quality study on scikit-learn's bundled digits: one command, sets everything up itself.
#   bash benches/quality/run.sh [--seeds 5] [--out target/quality] [--epochs 15] [--pca-dim 32] [--no-variant]
# Creates the venv target/venv-quality (pinned wheels from requirements.txt), builds the release
# binary, runs study.py, and copies the plot to benches/quality/quality.png when --out is the default.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
unset RAYON_NUM_THREADS

venv="target/venv-quality"
stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

cargo build --release -p infoprune

out="target/quality"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [[ "${args[$i]}" == "--out" ]] && out="${args[$((i + 1))]}"
    [[ "${args[$i]}" == --out=* ]] && out="${args[$i]#--out=}"
done
"$venv/bin/python" "$here/study.py" --bin target/release/infoprune --out "$out" "$@"
if [[ "$out" == "target/quality" ]]; then
    cp "$out/quality.png" "$here/quality.png"
    echo "copied $out/quality.png to benches/quality/quality.png"
fi
