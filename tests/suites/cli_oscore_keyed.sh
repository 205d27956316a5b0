#!/usr/bin/env bash
# OSCORE keyed by the post-quantum handshake with the CLI: `pqcoap server --mode oscore
# --key gw.key` (and --oscore-conf too: both kinds of context) and `pqcoap get --mode oscore
# --key dev.key --peer gw.pub` (a handshake, then OSCORE); every device its own context; a
# device removed from the trust store gets none; the provisioned context still works; the
# usage errors.
#   cli_oscore_keyed.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

cat >gw.conf <<'CONF'
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
sender_id,hex,""
recipient_id,hex,"01"
CONF
cat >legacy.conf <<'CONF'
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
sender_id,hex,"01"
recipient_id,hex,""
CONF
expect_ok keygen -o gw
expect_ok keygen -o gw-mldsa --alg ml-dsa-65
expect_ok keygen -o dev --alg ml-dsa-65
expect_ok keygen -o dev2
expect_ok keygen -o stranger
expect_ok keygen -o gw44 --alg ml-dsa-44

start_server --mode oscore --id gw --key gw.key --key gw-mldsa.key --oscore-conf gw.conf \
  --db gw.db --allow dev=dev.pub --allow dev2=dev2.pub
base="coap://127.0.0.1:$PORT"

expect_ok get "$base/sensors/temp" --mode oscore --key dev.key --peer gw.pub -v
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "sensors/temp: '$(cat out)'"
kid1=$(sed -n 's/.*OSCORE kid 0x\([0-9a-f]*\) .*/\1/p' err)
[ -n "$kid1" ] && [ "$kid1" != 01 ] || fail "-v kid '$kid1': $(cat err)"
expect_ok post "$base/echo" --mode oscore --key dev2.key --peer gw-mldsa.pub --peer-id gw -e hi -v
[ "$(cat out)" = hi ] || fail "echo: '$(cat out)'"
kid2=$(sed -n 's/.*OSCORE kid 0x\([0-9a-f]*\) .*/\1/p' err)
[ -n "$kid2" ] && [ "$kid2" != 01 ] && [ "$kid2" != "$kid1" ] || fail "kids '$kid1' '$kid2'"
expect_ok put "$base/actuators/led" --mode oscore --key dev.key --peer gw.pub -e on
expect_ok get "$base/actuators/led" --mode oscore --key dev.key --peer gw.pub
[ "$(cat out)" = on ] || fail "led: '$(cat out)'"
# the provisioned context works beside the keyed ones
expect_ok get "$base/actuators/led" --mode oscore --oscore-conf legacy.conf
[ "$(cat out)" = on ] || fail "provisioned context: '$(cat out)'"
# not trusted, or removed from the trust store (by another process): no context
expect_exit 3 "handshake rejected" get "$base/sensors/temp" --mode oscore --key stranger.key \
  --peer gw.pub
expect_ok trust --db gw.db remove dev
expect_exit 3 "handshake rejected" get "$base/sensors/temp" --mode oscore --key dev.key \
  --peer gw.pub
expect_exit 2 "needs --peer" get "$base/sensors/temp" --mode oscore --key dev.key
expect_exit 2 "not from --key" get "$base/x" --mode oscore --oscore-conf legacy.conf \
  --key dev.key --peer gw.pub
expect_exit 2 "ml-dsa-44" server -A 127.0.0.1 -p 0 --mode oscore --key gw44.key
stop_server "$SERVER_PID"
finish
