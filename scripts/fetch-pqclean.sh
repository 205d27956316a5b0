#!/usr/bin/env bash
# Fetches PQClean from the npm package pqclean@0.8.1, checks its sha512 integrity and
# extracts only the folders pqcoap compiles into deps/pqclean (git-ignored).
#   scripts/fetch-pqclean.sh              fetch (once) and extract
#   scripts/fetch-pqclean.sh --check F    only check tarball F against the pinned integrity
set -euo pipefail
cd "$(dirname "$0")/.."

PKG="pqclean@0.8.1"
INTEGRITY="sha512-+5FtknAJdiNtVBiyLiKW3OnanhcqSWy44KCaZz1tELhalp5HfuIcxNsX9uS0t7ne2tEWc7NBd4GpiQBTGTIJBA=="
DEST=deps/pqclean
KEEP=(common crypto_sign/falcon-512/clean crypto_sign/falcon-1024/clean
      crypto_sign/ml-dsa-44/clean crypto_sign/ml-dsa-65/clean crypto_sign/ml-dsa-87/clean
      crypto_kem/ml-kem-512/clean crypto_kem/ml-kem-768/clean crypto_kem/ml-kem-1024/clean)
# What a complete extraction records in $DEST/.integrity: the checked tarball and the folders
# taken from it, so a change of KEEP extracts again.
MARK="$INTEGRITY ${KEEP[*]}"

check() {
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  if [ "$got" != "$INTEGRITY" ]; then
    echo "fetch-pqclean: integrity mismatch for $1: expected $INTEGRITY, got $got; refusing to use it" >&2
    return 1
  fi
}

if [ "${1:-}" = "--check" ]; then check "$2"; exit $?; fi
[ -f "$DEST/.integrity" ] && [ "$(cat "$DEST/.integrity")" = "$MARK" ] && exit 0

mkdir -p deps
tarball=deps/pqclean-0.8.1.tgz
if [ ! -f "$tarball" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$PKG" >/dev/null)
  mv "$tmp"/pqclean-0.8.1.tgz "$tarball"
  rm -rf "$tmp"
fi
if ! check "$tarball"; then rm -f "$tarball"; exit 1; fi

rm -rf "$DEST" "$DEST.tmp"
mkdir -p "$DEST.tmp"
paths=(); for k in "${KEEP[@]}"; do paths+=("package/deps/PQClean/$k"); done
tar -xzf "$tarball" -C "$DEST.tmp" --strip-components=3 "${paths[@]}"
# PQClean's own randombytes is replaced by pqcoap's RNG interface (src/crypto/rng.c).
rm -f "$DEST.tmp/common/randombytes.c"
echo "$MARK" > "$DEST.tmp/.integrity"
mv "$DEST.tmp" "$DEST"
echo "fetch-pqclean: PQClean from $PKG extracted into $DEST"
