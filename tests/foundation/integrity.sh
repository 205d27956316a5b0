#!/usr/bin/env bash
# The PQClean integrity check refuses a corrupted tarball and accepts the untouched one.
#   integrity.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/deps/pqclean-0.8.1.tgz" "$tmp/good.tgz"
cp "$tmp/good.tgz" "$tmp/bad.tgz"
# flip the low bit of byte 1000
byte=$(od -An -tu1 -j1000 -N1 "$tmp/bad.tgz" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$tmp/bad.tgz" bs=1 seek=1000 conv=notrunc status=none

if ! "$src/scripts/fetch-pqclean.sh" --check "$tmp/good.tgz"; then
  echo "integrity: the untouched tarball was refused" >&2
  exit 1
fi
if out=$("$src/scripts/fetch-pqclean.sh" --check "$tmp/bad.tgz" 2>&1); then
  echo "integrity: the corrupted tarball was accepted" >&2
  exit 1
fi
if ! grep -q "integrity mismatch" <<<"$out"; then
  echo "integrity: no 'integrity mismatch' message, got: $out" >&2
  exit 1
fi
cmp -s "$tmp/good.tgz" "$tmp/bad.tgz" && { echo "integrity: byte not flipped" >&2; exit 1; }
echo "integrity: corrupted tarball refused, untouched tarball accepted"
