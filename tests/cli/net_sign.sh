#!/usr/bin/env bash
# Mode A end to end: keygen -> trust -> server -> requests in `sign` (v2) and `sign-v1`
# (with keys made for it, keygen --v1), with the error paths: unknown client, wrong pinned
# server key, missing or corrupted key file, missing --peer, mode mismatch; the server
# restarts on its store and stops with 0; then v2 over IPv6 ([::1]).
#   net_sign.sh PQCOAP_PROGRAM EXAMPLE_SECURE_GET
. "$(dirname "$0")/lib.sh"
example=$2
cd "$TMP"

for who in gw dev stranger rogue; do expect_ok keygen -o "$who"; done
expect_ok trust --db gw.db add dev dev.pub
head -c 3000 /dev/urandom >big

start_server --mode sign --key gw.key --dir .
base="coap://127.0.0.1:$PORT"
A=(--mode sign --key dev.key --peer gw.pub)

expect_ok get "$base/sensors/temp" "${A[@]}" -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "signed sensors/temp: '$(cat out)'"
grep -q 'mode sign' err || fail "-v does not name the mode: $(cat err)"
[ -f dev.state ] || fail "the client did not keep its counters in dev.state"
expect_ok post "$base/counter" "${A[@]}"
expect_ok post "$base/counter" "${A[@]}"
[ "$(cat out)" = 2 ] || fail "signed counter: '$(cat out)'"
expect_ok put "$base/actuators/led" "${A[@]}" -e on
expect_ok get "$base/actuators/led" "${A[@]}"
[ "$(cat out)" = on ] || fail "signed led: '$(cat out)'"
head -c 300 /dev/urandom >blob
expect_ok post "$base/echo" "${A[@]}" -f blob -o echoed
cmp -s blob echoed || fail "signed echo of 300 bytes"
# Block-wise signed requests and responses (the signature covers the whole body).
expect_ok post "$base/echo" "${A[@]}" -f big -b 256 -o echoed
cmp -s big echoed || fail "signed block-wise echo of 3000 bytes"
expect_ok get "$base/big" "${A[@]}" -o got
cmp -s big got || fail "signed block-wise response of 3000 bytes"
expect_exit 1 "4.04 Not Found" get "$base/nothing/here" "${A[@]}"

# The example program does the same GET through the API.
out=$(timeout 60 "$example" "$base/sensors/temp" dev.key gw.pub dev.state) || fail "secure_get example failed"
grep -Eq '^verified reading: [0-9]+\.[0-9] C$' <<<"$out" || fail "secure_get printed '$out'"

# Security failures: exit 3.
expect_exit 3 "4.01 unknown peer: not in the trust store" get "$base/sensors/temp" --mode sign \
  --key stranger.key --peer gw.pub
# A request bound to another server's key (the one pinned by mistake) is refused by this
# server: the recipient's kid is part of the signed request.
expect_exit 3 "4.01 signature or tag does not verify" get "$base/sensors/temp" --mode sign \
  --key dev.key --peer rogue.pub
# Usage and key file errors: exit 2.
expect_exit 2 "does not exist" get "$base/sensors/temp" --mode sign --key missing.key --peer gw.pub
head -c 1500 dev.key >broken.key
expect_exit 2 "not a valid secret key" get "$base/sensors/temp" --mode sign --key broken.key --peer gw.pub
expect_exit 2 "not a valid public key" get "$base/sensors/temp" --mode sign --key dev.key --peer gw.key
expect_exit 2 "--peer" get "$base/sensors/temp" --mode sign --key dev.key
expect_exit 2 "--key" get "$base/sensors/temp" --mode sign --peer gw.pub
# Mode mismatch: an unsigned request is refused (4.01, exit 1 in plain mode).
expect_exit 1 "4.01" get "$base/sensors/temp"
expect_exit 2 "--key" server -A 127.0.0.1 -p 0 --mode sign

# Restart on the same store: the client's counters moved on, so it is still accepted.
stop_server "$SERVER_PID"
start_server --mode sign --key gw.key
expect_ok get "coap://127.0.0.1:$PORT/counter" "${A[@]}"
[ "$(cat out)" = 0 ] || fail "counter after restart: '$(cat out)'"
# A signing client talking to a plain server gets no signed answer: exit 3.
start_server --mode plain
expect_exit 3 "response not accepted" get "coap://127.0.0.1:$PORT/sensors/temp" "${A[@]}"

# v1 (the seed format), keys made for it: trusted peers from the store and --allow.
for who in gw dev stranger rogue; do expect_ok keygen --v1 -o "$who-v1"; done
start_server --mode sign-v1 --key gw-v1.key --allow dev=dev-v1.pub
V1=(--mode sign-v1 --key dev-v1.key --peer gw-v1.pub)
expect_ok get "coap://127.0.0.1:$PORT/sensors/temp" "${V1[@]}"
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "v1 sensors/temp: '$(cat out)'"
expect_ok put "coap://127.0.0.1:$PORT/actuators/led" "${V1[@]}" -e off
[ "$(cat out)" = off ] || fail "v1 led: '$(cat out)'"
expect_exit 1 "4.04" post "coap://127.0.0.1:$PORT/echo" "${V1[@]}" -e 'v1 body'
expect_exit 3 "server rejected the request: 4.01" get "coap://127.0.0.1:$PORT/sensors/temp" \
  --mode sign-v1 --key stranger-v1.key --peer gw-v1.pub
expect_exit 3 "not signed by the pinned server key" get "coap://127.0.0.1:$PORT/sensors/temp" \
  --mode sign-v1 --key dev-v1.key --peer rogue-v1.pub
expect_exit 2 "trusted" server -A 127.0.0.1 -p 0 --mode sign-v1 --key gw-v1.key --db empty.db

# SIGINT also stops a server with exit 0.
kill -INT "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "server exited $rc after SIGINT"

# v2 over IPv6: a server on ::1, block-wise both ways, the example, an unknown client.
SERVER_ADDR=::1 start_server --mode sign --key gw.key --dir .
base="coap://$HOST:$PORT"
expect_ok get "$base/sensors/temp" "${A[@]}" -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "signed sensors/temp over IPv6: '$(cat out)'"
expect_ok post "$base/echo" "${A[@]}" -f big -b 256 -o echoed
cmp -s big echoed || fail "signed block-wise echo of 3000 bytes over IPv6"
expect_ok get "$base/big" "${A[@]}" -b 256 -o got
cmp -s big got || fail "signed block-wise response of 3000 bytes over IPv6"
out=$(timeout 60 "$example" "$base/sensors/temp" dev.key gw.pub dev.state) || fail "secure_get example over IPv6 failed"
grep -Eq '^verified reading: [0-9]+\.[0-9] C$' <<<"$out" || fail "secure_get over IPv6 printed '$out'"
expect_exit 3 "4.01 unknown peer: not in the trust store" get "$base/sensors/temp" --mode sign \
  --key stranger.key --peer gw.pub
stop_server "$SERVER_PID"
finish
