#!/usr/bin/env bash
# Mode B end to end: keygen -> trust -> session server -> requests, the session example, and
# the error paths: unknown client, wrong pinned server key, wrong server id, mode mismatch;
# a server restart (sessions lost, floors kept) is handled by a new handshake; a peer removed
# from the trust store can no longer handshake; then the same over IPv6 ([::1]).
#   net_session.sh PQCOAP_PROGRAM EXAMPLE_SESSION_GET
. "$(dirname "$0")/lib.sh"
example=$2
cd "$TMP"

for who in gw dev stranger rogue; do expect_ok keygen -o "$who"; done
start_server --mode session --key gw.key --allow dev=dev.pub
base="coap://127.0.0.1:$PORT"
S=(--mode session --key dev.key --peer gw.pub)

expect_ok get "$base/sensors/temp" "${S[@]}" -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "session sensors/temp: '$(cat out)'"
grep -Eq 'mode session .*handshake [0-9.]+ ms .*request [0-9]+ B, response [0-9]+ B on the wire' err \
  || fail "-v line: $(cat err)"
expect_ok put "$base/actuators/led" "${S[@]}" -e on
expect_ok get "$base/actuators/led" "${S[@]}"
[ "$(cat out)" = on ] || fail "session led: '$(cat out)'"
expect_ok post "$base/counter" "${S[@]}"
[ "$(cat out)" = 1 ] || fail "session counter: '$(cat out)'"
head -c 3000 /dev/urandom >blob
expect_ok post "$base/echo" "${S[@]}" -f blob -o echoed
cmp -s blob echoed || fail "session echo of 3000 bytes (block-wise)"
expect_exit 1 "4.04 Not Found" get "$base/nothing" "${S[@]}"

out=$(timeout 60 "$example" "$base/counter" dev.key dev gw.pub gw dev.state) || fail "session example failed"
grep -qx 'GET: 2.05 1' <<<"$out" && grep -qx 'POST: 2.04 2' <<<"$out" || fail "session example printed '$out'"

# Security failures: exit 3.
# (--peer-id gw: with rogue.pub alone the client would name the server "rogue", and the
# server would refuse an INIT addressed to another id before any key came into play.)
expect_exit 3 "4.01): handshake rejected" get "$base/sensors/temp" --mode session \
  --key stranger.key --peer gw.pub
expect_exit 3 "RESP refused (not signed by the pinned server key)" get "$base/sensors/temp" \
  --mode session --key dev.key --peer rogue.pub --peer-id gw
expect_exit 3 "4.01): handshake rejected" get "$base/sensors/temp" "${S[@]}" --peer-id someone-else
# Mode mismatch: a plain request to a session server is refused (4.00, exit 1).
expect_exit 1 "4.00 Bad Request" get "$base/sensors/temp"
expect_exit 2 "--peer" get "$base/sensors/temp" --mode session --key dev.key

# Restart: the server forgot the session; the client handshakes again (GET is repeated).
stop_server "$SERVER_PID"
start_server --mode session --key gw.key
expect_ok get "coap://127.0.0.1:$PORT/counter" "${S[@]}"
[ "$(cat out)" = 0 ] || fail "counter after restart: '$(cat out)'"
stop_server "$SERVER_PID"

# Removing the device from the gateway's trust store makes its next handshake fail.
expect_ok trust --db gw.db remove dev
start_server --mode session --key gw.key
expect_exit 3 "4.01): handshake rejected" get "coap://127.0.0.1:$PORT/counter" "${S[@]}"
stop_server "$SERVER_PID"

# Over IPv6: a session server on ::1, the handshake (block-wise INIT and RESP), a block-wise
# body, the example, the wrong pinned server key.
SERVER_ADDR=::1 start_server --mode session --key gw.key --allow dev=dev.pub
base="coap://$HOST:$PORT"
expect_ok get "$base/sensors/temp" "${S[@]}" -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "session sensors/temp over IPv6: '$(cat out)'"
grep -Eq '\| handshake [0-9.]+ ms \(INIT [0-9]+ B, RESP [0-9]+ B\)' err || fail "-v over IPv6: $(cat err)"
expect_ok post "$base/echo" "${S[@]}" -f blob -o echoed -b 256
cmp -s blob echoed || fail "session echo of 3000 bytes over IPv6 (block-wise)"
out=$(timeout 60 "$example" "$base/counter" dev.key dev gw.pub gw dev.state) || fail "session example over IPv6 failed"
grep -qx 'GET: 2.05 0' <<<"$out" && grep -qx 'POST: 2.04 1' <<<"$out" || fail "session example over IPv6 printed '$out'"
expect_exit 3 "RESP refused (not signed by the pinned server key)" get "$base/sensors/temp" \
  --mode session --key dev.key --peer rogue.pub --peer-id gw
stop_server "$SERVER_PID"
finish
