#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS over its committed seeds; new inputs and crash
# artifacts go to WORK, never into the source tree. Usage: run-one.sh BIN SEEDS WORK SECONDS
set -euo pipefail
bin=$1 seeds=$2 work=$3 secs=$4
mkdir -p "$work/corpus" "$work/artifacts" "$seeds"
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" 2>"$work/log" || {
  tail -n 40 "$work/log" >&2
  echo "$(basename "$bin"): crash found; input saved in $work/artifacts/" >&2
  exit 1
}
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo 0)
echo "$(basename "$bin"): $runs executions in ${secs}s, no crash"
