#!/usr/bin/env bash
# Key separation in the CLI: `keygen --v1` marks a key for sign-v1, `trust` keeps and shows
# the mark, and every command checks its keys against the mode before it starts: sign-v1
# (server, requests, sign, verify) takes only v1 keys, sign and session refuse them; exit 2
# with one line. A sign-v1 server has no echo.   keys_cli_usage.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

expect_ok keygen -o gw
expect_ok keygen -o dev
expect_ok keygen --v1 -o gw1
grep -q 'sign-v1' out || fail "keygen --v1 does not say the key is for sign-v1: $(cat out)"
expect_ok keygen --v1 -o dev1
for f in gw1.key gw1.pub dev1.pub; do
  sed -n 3p "$f" | grep -qx 'usage: sign-v1' || fail "$f lacks 'usage: sign-v1' after alg:"
done
! grep -q '^usage:' gw.key gw.pub || fail "a general key file has a usage line"
expect_ok pubkey gw1.key
cmp -s out gw1.pub || fail "pubkey of a v1 key differs from its .pub"

# The trust store keeps the usage of the public key file and lists it.
expect_ok trust --db t.db add dev dev.pub
expect_ok trust --db t.db add dev1 dev1.pub
expect_ok trust --db t.db list
grep -Eq '^dev +falcon-512 +general +[0-9a-f]{16} ' out || fail "list line of dev: $(cat out)"
grep -Eq '^dev1 +falcon-512 +sign-v1 +[0-9a-f]{16} ' out || fail "list line of dev1: $(cat out)"

# Servers: own key and --allow keys against the mode, before anything is written.
S=(server -A 127.0.0.1 -p 0)
expect_exit 2 "keygen --v1" "${S[@]}" --mode sign-v1 --key gw.key --allow dev1=dev1.pub
expect_exit 2 "sign-v1" "${S[@]}" --mode session --key gw1.key --allow dev=dev.pub
expect_exit 2 "sign-v1" "${S[@]}" --mode sign --key gw1.key --allow dev=dev.pub
expect_exit 2 "dev.pub" "${S[@]}" --mode sign-v1 --key gw1.key --db s.db --allow dev=dev.pub
expect_exit 2 "dev1.pub" "${S[@]}" --mode session --key gw.key --db s.db --allow dev1=dev1.pub
expect_exit 2 "dev1.pub" "${S[@]}" --mode sign --key gw.key --db s.db --allow dev=dev.pub \
  --allow dev1=dev1.pub
expect_ok trust --db s.db list
[ ! -s out ] || fail "a refused server pinned keys: $(cat out)"
# Only the store's sign-v1 peers count in sign-v1; a store of general peers is refused.
expect_ok trust --db g.db add dev dev.pub
expect_exit 2 "sign-v1 peer" "${S[@]}" --mode sign-v1 --key gw1.key --db g.db

# A sign-v1 exchange with v1 keys; no echo to sign request bytes.
start_server --mode sign-v1 --key gw1.key --db t.db
base="coap://127.0.0.1:$PORT"
V1=(--mode sign-v1 --key dev1.key --peer gw1.pub)
expect_ok get "$base/sensors/temp" "${V1[@]}"
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "v1 sensors/temp: '$(cat out)'"
expect_exit 1 "4.04" post "$base/echo" "${V1[@]}" -e 'sign these bytes'

# Clients: own key and --peer against the mode.
expect_exit 2 "keygen --v1" get "$base/sensors/temp" --mode sign-v1 --key dev.key --peer gw1.pub
expect_exit 2 "keygen --v1" get "$base/sensors/temp" --mode sign-v1 --key dev1.key --peer gw.pub
for mode in sign session; do
  expect_exit 2 "sign-v1" get "$base/sensors/temp" --mode "$mode" --key dev1.key --peer gw.pub
  expect_exit 2 "sign-v1" get "$base/sensors/temp" --mode "$mode" --key dev.key --peer gw1.pub
done
stop_server "$SERVER_PID"

# sign and verify write and read the v1 format: v1 keys only.
printf 'reading=1' >msg
expect_exit 2 "keygen --v1" sign --key gw.key -f msg
expect_ok sign --key gw1.key -f msg -o signed
expect_exit 2 "keygen --v1" verify --peer gw.pub -f signed
expect_ok verify --peer gw1.pub -f signed
cmp -s out msg || fail "verify with the v1 key"

finish
