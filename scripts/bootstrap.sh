#!/usr/bin/env bash
# Installs what pqcoap needs on Debian 12 (only what is missing) and fetches PQClean; idempotent.
# Usage: scripts/bootstrap.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(cmake make pkg-config gcc libssl-dev nettle-dev libcoap3-dev libcoap3-bin libsqlite3-dev sqlite3
      clang libclang-rt-14-dev gnuplot-nox nodejs npm valgrind python3)
# --bench (make bench): also perf, for the profile in bench/results.md
if [ "${1:-}" = "--bench" ]; then pkgs+=(linux-perf); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from outside Debian's packages; only install them when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  keep=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || keep+=("$p"); done
  missing=("${keep[@]+"${keep[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/fetch-pqclean.sh
