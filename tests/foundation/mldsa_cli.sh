#!/usr/bin/env bash
# `pqcoap keygen --alg ml-dsa-*` writes key files that `pqcoap pubkey` reads back and that
# `pqcoap trust add` pins; an unknown algorithm names the supported ones.
#   mldsa_cli.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

for alg in ml-dsa-44 ml-dsa-65 ml-dsa-87; do
  expect_ok keygen -o "$alg" --alg "$alg"
  grep -qx "alg: $alg" "$alg.key" || fail "$alg.key does not name its algorithm"
  expect_ok pubkey "$alg.key"
  cmp -s out "$alg.pub" || fail "pubkey output differs from $alg.pub"
  expect_ok trust --db trust.db add "$alg" "$alg.pub"
done
expect_ok trust --db trust.db list
for alg in ml-dsa-44 ml-dsa-65 ml-dsa-87; do
  grep -q "^$alg  *$alg " out || fail "trust list lacks $alg: $(cat out)"
done
expect_exit 2 "ml-dsa-65" keygen -o x --alg ml-dsa-66
finish
