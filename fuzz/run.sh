#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target (one per fuzz/fuzz_*.c) for FUZZ_SECONDS each
# (default 60) and keeps the corpora it grows under BUILD/fuzz-work.
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1 secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for src in "$here"/fuzz_*.c; do
  name=$(basename "$src" .c)
  "$here/run-one.sh" "$build/fuzz/$name" "$here/corpus/$name" "$build/fuzz-work/$name" "$secs" \
    || status=1
done
exit $status
