#!/usr/bin/env bash
# Peer comparison (apricot, submodlib) against infoprune: one command, sets everything up itself.
#   bash benches/peers/run.sh [--sizes 5000,20000,100000,1000000] [--timeout 600] [--mem-limit 16G]
#                             [--out target/peers] [--lambda 0.5] [--neighbors 10] [--keep 0.1] ...
# (every option is passed through to peers.py; `bash benches/peers/run.sh --help` lists them).
# Creates the venv target/venv-peers, installs each group of benches/peers/requirements.txt on its
# own (a group that fails is recorded, and its systems are reported as "not installable" with the
# reason), builds the release binary, runs peers.py, and copies the plot to
# benches/peers/peers.png when --out is the default.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

venv="target/venv-peers"
status_dir="$venv/.peers-install"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
mkdir -p "$status_dir"

# Split requirements.txt into its "## group" sections and install each one on its own.
groups=$(sed -n 's/^## *\([A-Za-z0-9_-]*\).*/\1/p' "$here/requirements.txt")
for group in $groups; do
    reqs="$status_dir/$group.txt"
    awk -v g="$group" '/^## /{cur=$2; next} cur==g && !/^#/ && NF' "$here/requirements.txt" > "$reqs.new"
    if cmp -s "$reqs.new" "$reqs" && [[ "$(cat "$status_dir/$group.status" 2>/dev/null)" == ok ]]; then
        rm -f "$reqs.new"
        continue
    fi
    mv "$reqs.new" "$reqs"
    echo "installing the '$group' packages into $venv"
    if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" \
        > "$status_dir/$group.log" 2>&1; then
        echo ok > "$status_dir/$group.status"
    else
        reason=$(grep -E "ERROR|error:" "$status_dir/$group.log" | tail -n 3 | tr '\n' ' ' | cut -c1-400)
        echo "failed: pip install exited non-zero: ${reason:-see $status_dir/$group.log}" \
            > "$status_dir/$group.status"
        echo "warning: could not install the '$group' packages ($status_dir/$group.log)" >&2
    fi
done
if [[ "$(cat "$status_dir/core.status")" != ok ]]; then
    echo "error: numpy/scipy/matplotlib could not be installed; see $status_dir/core.log" >&2
    exit 1
fi

cargo build --release -p infoprune

out="target/peers"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [[ "${args[$i]}" == "--out" ]] && out="${args[$((i + 1))]}"
    [[ "${args[$i]}" == --out=* ]] && out="${args[$i]#--out=}"
done
PEERS_COMMAND="bash benches/peers/run.sh $*" "$venv/bin/python" "$here/peers.py" --bin target/release/infoprune --install-status "$status_dir" \
    --out "$out" "$@"
if [[ "$out" == "target/peers" && -f "$out/peers.png" ]]; then
    cp "$out/peers.png" "$here/peers.png"
    echo "copied $out/peers.png to benches/peers/peers.png"
fi
