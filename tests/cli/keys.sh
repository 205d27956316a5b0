#!/usr/bin/env bash
# pqcoap keygen / pubkey: files, modes, refusal to overwrite, and clear errors on wrong,
# truncated, foreign or missing key files.   keys.sh PQCOAP_PROGRAM
. "$(dirname "$0")/lib.sh"
cd "$TMP"

expect_ok keygen -o dev
[ -f dev.key ] && [ -f dev.pub ] || fail "keygen did not write dev.key and dev.pub"
[ "$(stat -c %a dev.key)" = 600 ] || fail "dev.key mode is $(stat -c %a dev.key), not 600"
head -n1 dev.key | grep -qx 'pqcoap secret key v1' || fail "dev.key does not name its kind"
grep -qx 'alg: falcon-512' dev.key || fail "dev.key does not name its algorithm"
grep -qx 'alg: falcon-512' dev.pub || fail "dev.pub does not name its algorithm"
! grep -q '^sk:' dev.pub || fail "dev.pub holds a secret key"

# pubkey prints exactly the public key file.
expect_ok pubkey dev.key
cmp -s out dev.pub || fail "pubkey output differs from dev.pub"

# No overwrite without --force; both files are left as they were.
cp dev.key dev.key.orig
cp dev.pub dev.pub.orig
expect_exit 2 "--force" keygen -o dev
cmp -s dev.key dev.key.orig && cmp -s dev.pub dev.pub.orig || fail "refused keygen changed files"
rm dev.key
expect_exit 2 "dev.pub" keygen -o dev
[ ! -e dev.key ] || fail "refused keygen wrote dev.key"
expect_ok keygen -o dev --force
! cmp -s dev.pub dev.pub.orig || fail "keygen --force did not replace dev.pub"
expect_ok keygen -o big --alg falcon-1024
grep -qx 'alg: falcon-1024' big.pub || fail "falcon-1024 key file does not say so"

# Wrong, truncated, foreign and missing key files.
expect_exit 2 "not a valid secret key" pubkey dev.pub
head -c 200 dev.key >trunc.key
expect_exit 2 "not a valid secret key" pubkey trunc.key
sed 's/^kid: ./kid: 0/' dev.key >badkid.key
cmp -s badkid.key dev.key && sed 's/^kid: ./kid: 1/' dev.key >badkid.key
expect_exit 2 "not a valid secret key" pubkey badkid.key
printf -- '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n' >foreign.key
expect_exit 2 "not a valid secret key" pubkey foreign.key
head -c 5000 /dev/urandom >random.key
expect_exit 2 "not a valid secret key" pubkey random.key
expect_exit 2 "does not exist" pubkey missing.key
: >empty.key
expect_exit 2 "not a valid secret key" pubkey empty.key

# Usage errors and --help.
expect_exit 2 "unknown option" keygen -o x --bogus
expect_exit 2 "needs a value" keygen -o
expect_exit 2 "required" keygen
expect_exit 2 "KEYFILE" pubkey
expect_exit 2 "unknown command" frobnicate
expect_ok keygen --help
grep -q 'usage: pqcoap keygen' out || fail "keygen --help"
expect_ok pubkey --help
expect_ok --help
grep -q 'keygen' out || fail "pqcoap --help lists no commands"
pq
[ "$RC" -eq 2 ] || fail "pqcoap without a command exited $RC"

finish
