#!/usr/bin/env bash
# pqcoap get -s (Observe, RFC 7641) against the demo server in plain mode: one line per
# notification, -v adds its sequence number and size, exit 0 after the time given;
# sensors/temp notifies once a second, counter on every change; libcoap's coap-client
# observes pqcoap server; errors are one line with the usual exit codes.
#   obsclient_cli.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

start_server --mode plain
base="coap://127.0.0.1:$PORT"

# sensors/temp for 3 s: the registration's answer and a notification a second
expect_ok get "$base/sensors/temp" -s 3 -v
lines=$(grep -Ec '^[0-9]+\.[0-9] C$' out || true)
[ "$lines" -ge 3 ] || fail "get -s 3 sensors/temp printed $lines readings: '$(cat out)'"
[ "$lines" -eq "$(wc -l <out)" ] || fail "get -s: lines other than readings: '$(cat out)'"
vlines=$(grep -Ec '^notification [0-9]+ \| seq [0-9]+ \| 2\.05 Content \| [0-9]+ B on the wire \| payload [0-9]+ B$' err || true)
[ "$vlines" -eq "$lines" ] || fail "-v: $vlines lines for $lines notifications: '$(cat err)'"
# sequence numbers increase
seqs=$(sed -n 's/^notification [0-9]* | seq \([0-9]*\) .*/\1/p' err)
[ "$(sort -n <<<"$seqs")" = "$seqs" ] && [ "$(sort -nu <<<"$seqs" | wc -l)" -eq "$vlines" ] ||
  fail "-v sequence numbers not increasing: $seqs"

# counter: every change is notified
timeout 60 "$PQ" get "$base/counter" -s 4 >counter.out 2>counter.err &
observer=$!
for _ in $(seq 1 50); do # until the observer has registered (its first line), bounded
  [ -s counter.out ] && break
  sleep 0.1
done
expect_ok post "$base/counter"
expect_ok post "$base/counter"
expect_ok post "$base/counter"
rc=0
wait "$observer" || rc=$?
[ "$rc" -eq 0 ] || fail "get -s 4 counter exited $rc: $(cat counter.err)"
# each change (libcoap sends only the newest state while a notification awaits its ACK, so
# a change may be folded into the next one): increasing, from 0 to 3
[ "$(head -n1 counter.out)" = 0 ] && [ "$(tail -n1 counter.out)" = 3 ] &&
  [ "$(sort -nu counter.out)" = "$(cat counter.out)" ] ||
  fail "counter notifications: '$(cat counter.out)'"

# -o: the notifications go to the file, one per line
expect_ok get "$base/sensors/temp" -s 2 -o temps.txt
[ "$(grep -Ec '^[0-9]+\.[0-9] C$' temps.txt)" -ge 2 ] || fail "-s -o: '$(cat temps.txt)'"

# errors: one line, the usual exit codes
expect_exit 1 "4.04" get "$base/nothing" -s 2
expect_exit 2 "without Observe" get "$base/actuators/led" -s 2
[ "$(cat out)" = off ] || fail "get -s of a resource that is not observable: '$(cat out)'"
expect_exit 2 "-s is for get only" post "$base/counter" -s 2
expect_exit 2 "-s SECONDS" get "$base/counter" -s 0

# libcoap's client observes our server for 3 s and prints several notifications
if [ -x /usr/bin/coap-client-notls ]; then
  timeout 60 coap-client-notls -s 3 "$base/sensors/temp" >libcoap.out 2>libcoap.err || true
  n=$(grep -Eo '[0-9]+\.[0-9] C' libcoap.out | wc -l)
  [ "$n" -ge 3 ] || fail "coap-client-notls -s 3 printed $n readings: '$(cat libcoap.out)'"
else
  fail "libcoap3-bin tools missing (scripts/bootstrap.sh installs them)"
fi

stop_server "$SERVER_PID"
finish
