#!/usr/bin/env bash
# Fuzzes each target for a bounded time (default 60 s; FUZZ_SECONDS=N to change). Any crash is
# copied into tests/fuzz-regressions/<target>/, which `cargo test` replays, and the script fails.
# Runs on the stable toolchain: coverage instrumentation only, no sanitizer (the readers are
# safe Rust; panics and allocation failures are what a crash means here).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
status=0
for target in npy_reader csr_construction npz_reader captions_parser; do
  seeds="../tests/fuzz-regressions/$target"
  mkdir -p "corpus/$target" "$seeds"
  cp -n "$seeds"/* "corpus/$target/" 2>/dev/null || true
  echo "== fuzzing $target for ${seconds}s"
  if ! cargo fuzz run "$target" --sanitizer none "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1; then
    status=1
  fi
  for crash in artifacts/"$target"/*; do
    [ -e "$crash" ] || continue
    cp "$crash" "$seeds/"
    echo "kept $(basename "$crash") as a regression input in $seeds"
  done
done
exit $status
