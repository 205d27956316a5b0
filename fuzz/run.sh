#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target for FUZZ_SECONDS each (default 60) and keeps the
# corpora it grows under BUILD/fuzz-work. Usage: fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1 secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  "$here/run-one.sh" "$bin" "$here/corpus/$name" "$build/fuzz-work/$name" "$secs" || status=1
done
exit $status
