#!/usr/bin/env bash
# Mode B end to end: keygen -> trust -> session server -> requests, the session example, and
# the error paths: unknown client, wrong pinned server key, wrong server id, mode mismatch;
# a server restart: the session and the handshake of a request captured before it are
# refused (sessions lost, floors kept), the next request handshakes again; a peer removed
# from the trust store can no longer handshake; then the same over IPv6 ([::1]).
#   net_session.sh PQCOAP_PROGRAM EXAMPLE_SESSION_GET
. "$(dirname "$0")/lib.sh"
example=$2
tap="$(dirname "$0")/udp_tap.py"
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

# Restart. Every pqcoap call is a process with a session of its own, so a restart is seen
# from the wire: a GET through a relay that records the client's datagrams (udp_tap.py),
# then the server restarted on its store. Sent again, the GET's protected request is refused
# (the session is gone) and so is its handshake (INIT at the persisted floor, its RESP no
# longer cached); the next pqcoap call handshakes again (-v) and is served.
: >captured
: >tap.out # exists before the relay starts, so the wait below can read it at once
python3 "$tap" relay 127.0.0.1 127.0.0.1 "$PORT" captured >tap.out &
SERVER_PIDS+=("$!")
for _ in $(seq 1 100); do
  relay=$(sed -n 's/^relay //p' tap.out)
  [ -n "$relay" ] && break
  sleep 0.1
done
[ -n "$relay" ] || fail "udp_tap.py relay did not start: $(cat tap.out)"
expect_ok get "coap://127.0.0.1:$relay/counter" "${S[@]}"
[ "$(cat out)" = 2 ] || fail "counter through the relay: '$(cat out)'"
replay() { python3 "$tap" send 127.0.0.1 "$PORT" captured "$1" >replayed 2>&1 || true; }
replay counter
[ "$(cat replayed)" = "4.01 rejected" ] || fail "replayed GET before the restart: $(cat replayed)"
stop_server "$SERVER_PID"
start_server --mode session --key gw.key
replay counter
[ "$(cat replayed)" = "4.01 unknown session" ] || fail "GET of a session from before the restart: $(cat replayed)"
replay pqc/session/init
grep -qx '4.01 handshake rejected' replayed && ! grep -q '^2\.0' replayed \
  || fail "INIT from before the restart: $(cat replayed)"
expect_ok get "coap://127.0.0.1:$PORT/counter" "${S[@]}" -v
[ "$(cat out)" = 0 ] || fail "counter after restart: '$(cat out)'"
grep -q '| handshake [0-9.]* ms' err || fail "no new handshake after the restart: $(cat err)"
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
