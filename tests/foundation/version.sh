#!/usr/bin/env bash
# `pqcoap --version` names every suite, the signature algorithms of identity keys and the
# pqcoap, OpenSSL, libcoap and PQClean versions.
#   version.sh PQCOAP_PROGRAM PQCOAP_VERSION OPENSSL_VERSION LIBCOAP_VERSION PQCLEAN_VERSION
set -euo pipefail
out=$("$1" --version)
echo "$out"
for want in "pqcoap $2" "0x01 falcon512-mlkem768 (Falcon-512 + ML-KEM-768)" \
            "0x02 falcon1024-mlkem1024 (Falcon-1024 + ML-KEM-1024)" \
            "0x03 mldsa65-mlkem768 (ML-DSA-65 + ML-KEM-768)" \
            "0x04 mldsa87-mlkem1024 (ML-DSA-87 + ML-KEM-1024)" "X25519" "AES-256-GCM" "HKDF-SHA256" \
            "keys: falcon-512, falcon-1024, ml-dsa-44, ml-dsa-65, ml-dsa-87" \
            "OpenSSL $3" "libcoap $4" "PQClean $5"; do
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "version: '$want' missing" >&2
    exit 1
  fi
done
