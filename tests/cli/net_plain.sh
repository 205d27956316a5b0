#!/usr/bin/env bash
# pqcoap server and requests in plain mode over loopback: the demo resources, files under
# --dir, block-wise, NON, payload sources, CoAP error responses (exit 1), bad URIs (exit 2),
# nothing listening (exit 4), server start-up errors, and exit 0 on SIGTERM.
#   net_plain.sh PQCOAP_PROGRAM
. "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p www/sub
printf 'hello file' >www/hello.txt
head -c 5000 /dev/urandom >www/sub/blob.bin
printf 'secret' >outside.txt
ln -s ../outside.txt www/link.txt

start_server --mode plain --dir www
base="coap://127.0.0.1:$PORT"

expect_ok get "$base/sensors/temp"
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "sensors/temp: '$(cat out)'"

expect_ok get "$base/actuators/led"
[ "$(cat out)" = off ] || fail "led starts '$(cat out)'"
expect_ok put "$base/actuators/led" -e on
expect_ok get "$base/actuators/led"
[ "$(cat out)" = on ] || fail "led after PUT on: '$(cat out)'"
expect_exit 1 "4.00 Bad Request" put "$base/actuators/led" -e purple

expect_ok post "$base/echo" -e 'hello echo'
[ "$(cat out)" = 'hello echo' ] || fail "echo -e: '$(cat out)'"
expect_ok post "$base/echo" -f www/sub/blob.bin -o echoed.bin -b 64
cmp -s echoed.bin www/sub/blob.bin || fail "echo of 5000 bytes with -b 64"
RC=0
"$PQ" post "$base/echo" -f - <www/hello.txt >piped 2>"$TMP/err" || RC=$?
[ "$RC" -eq 0 ] && [ "$(cat piped)" = 'hello file' ] || fail "echo -f - (stdin)"
expect_ok post "$base/echo" -e '{"a":1}' -t json -N
[ "$(cat out)" = '{"a":1}' ] || fail "echo -t json -N: '$(cat out)'"

expect_ok get "$base/counter"
[ "$(cat out)" = 0 ] || fail "counter starts at '$(cat out)'"
expect_ok post "$base/counter"
expect_ok post "$base/counter"
[ "$(cat out)" = 2 ] || fail "counter after two POSTs: '$(cat out)'"
expect_ok get "$base/counter"
[ "$(cat out)" = 2 ] || fail "counter GET: '$(cat out)'"

expect_ok get "$base/hello.txt"
[ "$(cat out)" = 'hello file' ] || fail "--dir file: '$(cat out)'"
expect_ok get "$base/sub/blob.bin" -o got.bin
cmp -s got.bin www/sub/blob.bin || fail "--dir binary file of 5000 bytes"

# CoAP error responses: exit 1 and the code.
expect_exit 1 "4.04 Not Found" get "$base/no/such/thing"
expect_exit 1 "4.04 Not Found" get "$base/link.txt"
expect_exit 1 "4.04 Not Found" get "$base/sub/%2E%2E/%2E%2E/outside.txt"
expect_exit 1 "4.05 Method Not Allowed" delete "$base/counter"
expect_exit 1 "4.05 Method Not Allowed" fetch "$base/sensors/temp"

# Bad URIs and flags: exit 2.
expect_exit 2 "bad URI \"http://127.0.0.1:$PORT/sensors/temp\"" get "http://127.0.0.1:$PORT/sensors/temp"
expect_exit 2 'bad URI "coap://"' get "coap://"
expect_exit 2 'bad URI "not a uri"' get "not a uri"
expect_exit 2 "URI is required" get
expect_exit 2 "unknown option" get "$base/counter" --bogus
expect_exit 2 "exclude each other" post "$base/echo" -e a -f www/hello.txt
expect_exit 2 "block size" get "$base/counter" -b 100
expect_exit 2 "Content-Format" post "$base/echo" -e a -t nonsense
expect_exit 2 "wait" get "$base/counter" -B 0
expect_exit 2 "unknown mode" get "$base/counter" --mode magic
expect_exit 2 "cannot open" post "$base/echo" -f missing-file

# Nothing listening: exit 4 (bounded by -B).
closed=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 4 "no response within 2000 ms" get "coap://127.0.0.1:$closed/sensors/temp" -B 2

# Server start-up errors.
expect_exit 2 '"not-an-address" is not a numeric IPv4 or IPv6 address' server -A not-an-address \
  -p 0 --mode plain
expect_exit 2 "--mode is required" server -p 0
expect_exit 2 "PORT" server -p 70000 --mode plain
expect_exit 2 "cannot open folder" server -A 127.0.0.1 -p 0 --mode plain --dir no-such-dir
expect_ok server --help
expect_ok get --help

stop_server "$SERVER_PID"
finish
