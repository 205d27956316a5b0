#!/usr/bin/env bash
# Cross-check with @noble/post-quantum: installs the pinned package (tests/js, npm ci) if it
# is missing, then runs tests/js/crosscheck.mjs against the xcheck helper.
#   crosscheck.sh XCHECK_PROGRAM TESTS_JS_DIR
set -euo pipefail
helper=$1
js=$2
command -v node >/dev/null || { echo "crosscheck: node is required (scripts/bootstrap.sh installs it)" >&2; exit 1; }
if [ ! -f "$js/node_modules/@noble/post-quantum/package.json" ]; then
  (cd "$js" && npm ci --no-audit --no-fund --silent)
fi
node "$js/crosscheck.mjs" "$helper"
