#!/usr/bin/env bash
# pqcoap server and requests in mode oscore with contexts from libcoap-format files: the
# demo resources with every method, block-wise bodies, -v with the OSCORE option, a server
# restart (Echo, and the client's Sender Sequence Number kept in --state), a wrong key
# (exit 3), and the usage errors of the context file (exit 2); then requests over IPv6.
#   net_oscore.sh PQCOAP_PROGRAM
. "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >gw.conf <<'CONF'
# gateway: one context per device
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
master_salt,hex,9e7ca92223786340
sender_id,hex,"01"
recipient_id,hex,""
aead_alg,text,A256GCM
CONF
cat >dev.conf <<'CONF'
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
master_salt,hex,9e7ca92223786340
sender_id,hex,""
recipient_id,hex,"01"
aead_alg,text,A256GCM
CONF
sed 's/0102030405060708090a0b0c0d0e0f10/ff02030405060708090a0b0c0d0e0f10/' dev.conf >wrong.conf
head -c 5000 /dev/urandom >blob.bin

start_server --mode oscore --oscore-conf gw.conf
[ -f gw.db ] || fail "the server's store gw.db (from gw.conf) was not created"
base="coap://127.0.0.1:$PORT"

expect_ok get "$base/sensors/temp" --mode oscore --oscore-conf dev.conf -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "sensors/temp: '$(cat out)'"
grep -q "mode oscore | 2.05 Content | OSCORE kid 0x piv 0x" err || fail "-v: $(cat err)"
[ -f dev.state ] || fail "the client's store dev.state (from dev.conf) was not created"
expect_ok put "$base/actuators/led" --mode oscore --oscore-conf dev.conf -e on
expect_ok get "$base/actuators/led" --mode oscore --oscore-conf dev.conf
[ "$(cat out)" = on ] || fail "led after PUT on: '$(cat out)'"
expect_ok post "$base/echo" --mode oscore --oscore-conf dev.conf -f blob.bin -o echoed.bin -b 256
cmp -s echoed.bin blob.bin || fail "echo of 5000 bytes, block-wise"
expect_ok post "$base/counter" --mode oscore --oscore-conf dev.conf
expect_ok post "$base/counter" --mode oscore --oscore-conf dev.conf
[ "$(cat out)" = 2 ] || fail "counter after two POSTs: '$(cat out)'"
expect_exit 1 "4.04 Not Found" get "$base/no/such/thing" --mode oscore --oscore-conf dev.conf
expect_exit 1 "4.05 Method Not Allowed" delete "$base/counter" --mode oscore --oscore-conf dev.conf

# Another Master Secret: the server cannot decrypt (exit 3, its diagnostic shown).
expect_exit 3 "Decryption failed" get "$base/sensors/temp" --mode oscore --oscore-conf wrong.conf \
  --state wrong.state
# A plain request to an OSCORE server is refused.
expect_exit 1 "OSCORE required" get "$base/sensors/temp"

# A restarted server has lost its replay window: the next request goes through the Echo
# exchange without the user noticing, and runs once.
stop_server "$SERVER_PID"
start_server --mode oscore --oscore-conf gw.conf -p "$PORT"
expect_ok post "$base/counter" --mode oscore --oscore-conf dev.conf
[ "$(cat out)" = 1 ] || fail "counter after restart and one POST: '$(cat out)'"

# Usage errors of mode oscore.
printf 'master_secret,hex,0102\nsender_id,hex,01\nrecipent_id,hex,02\n' >typo.conf
expect_exit 2 "line 3: unknown keyword" get "$base/x" --mode oscore --oscore-conf typo.conf
expect_exit 2 "needs --oscore-conf" get "$base/x" --mode oscore
expect_exit 2 "cannot open" get "$base/x" --mode oscore --oscore-conf missing.conf
expect_exit 2 "--oscore-conf goes with --mode oscore" get "$base/x" --oscore-conf dev.conf
expect_exit 2 "not from --key" get "$base/x" --mode oscore --oscore-conf dev.conf --key dev.key
expect_exit 2 "needs --oscore-conf" server -A 127.0.0.1 -p 0 --mode oscore
stop_server "$SERVER_PID"

# Over IPv6: a server on ::1 (its first request goes through Echo), a block-wise echo, a
# wrong key.
SERVER_ADDR=::1 start_server --mode oscore --oscore-conf gw.conf
base="coap://$HOST:$PORT"
expect_ok get "$base/sensors/temp" --mode oscore --oscore-conf dev.conf -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "sensors/temp over IPv6: '$(cat out)'"
grep -q "mode oscore | 2.05 Content | OSCORE kid 0x piv 0x" err || fail "-v over IPv6: $(cat err)"
expect_ok post "$base/echo" --mode oscore --oscore-conf dev.conf -f blob.bin -o echoed.bin -b 256
cmp -s echoed.bin blob.bin || fail "echo of 5000 bytes over IPv6, block-wise"
expect_exit 3 "Decryption failed" get "$base/sensors/temp" --mode oscore --oscore-conf wrong.conf \
  --state wrong.state
stop_server "$SERVER_PID"
finish
