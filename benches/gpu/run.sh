#!/usr/bin/env bash
# Every GPU figure beside the CPU's from the same run, as one Markdown table (benches/gpu/main.rs).
#
#   bash benches/gpu/run.sh             # a hardware GPU; target sizes (10^6 rows); ≤ 8 minutes
#   bash benches/gpu/run.sh --quick     # the same at small sizes on any adapter (CI: lavapipe)
#   bash benches/gpu/run.sh --no-build  # run the binary built earlier (a GPU machine without cargo)
#
# The binary is copied to target/gpu-bench-PROFILE so it can be carried to a machine without a
# toolchain. Where that machine lacks the Vulkan loader, put Debian's libvulkan1 .deb (and its
# friends) in .gl/ beside this repository's root; it is unpacked before the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=""
build=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick="--quick" ;;
    --no-build) build=0 ;;
    *) echo "usage: bash benches/gpu/run.sh [--quick] [--no-build]" >&2; exit 2 ;;
  esac
done
# --quick shares the test build's artifacts (dev profile, dependencies optimised) instead of a
# second, release build: on CI's two cores that is minutes saved, and the figures mean nothing
# on lavapipe anyway.
profile=release
[ -n "$quick" ] && profile=dev
bin="target/gpu-bench-$profile"

if [ "$build" = 1 ]; then
  exe=$(cargo bench --locked --profile "$profile" -p infoprune --bench gpu --no-run \
          --message-format=json 2>/dev/null \
        | sed -n 's/.*"executable":"\([^"]*\/gpu-[^"]*\)".*/\1/p' | tail -n 1)
  if [ -z "$exe" ]; then
    echo "error: building the gpu bench failed; run: cargo bench -p infoprune --bench gpu --no-run" >&2
    exit 1
  fi
  cp "$exe" "$bin"
fi
if [ ! -x "$bin" ]; then
  echo "error: $bin is missing: run once without --no-build where cargo is installed" >&2
  exit 2
fi

if ! ldconfig -p 2>/dev/null | grep -q libvulkan && compgen -G ".gl/*.deb" >/dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# Mesa warns on every device creation without it.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

exec timeout 480 "$bin" $quick
