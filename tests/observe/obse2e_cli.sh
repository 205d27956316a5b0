#!/usr/bin/env bash
# pqcoap get -s (Observe) in each secured mode against pqcoap server in that mode: Mode A v2
# (sign), Mode B (session), OSCORE with a provisioned context and OSCORE keyed by the
# handshake print the demo's sensors/temp notifications, each verified, with -v lines of
# increasing sequence numbers; Mode A v1 refuses to observe with one line and exit 2.
#   obse2e_cli.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

for who in gw dev; do expect_ok keygen -o "$who"; done
for who in gw dev; do expect_ok keygen --v1 -o "$who-v1"; done
cat >gw.conf <<'CONF'
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
sender_id,hex,"01"
recipient_id,hex,""
CONF
cat >dev.conf <<'CONF'
master_secret,hex,"0102030405060708090a0b0c0d0e0f10"
sender_id,hex,""
recipient_id,hex,"01"
CONF

# observe MODE-NAME CLIENT-ARGS...: get -s 3 -v of sensors/temp on the running server
observe() {
  local name=$1
  shift
  expect_ok get "coap://127.0.0.1:$PORT/sensors/temp" -s 3 -v "$@"
  local lines vlines seqs
  lines=$(grep -Ec '^[0-9]+\.[0-9] C$' out || true)
  [ "$lines" -ge 3 ] || fail "$name: get -s 3 printed $lines readings: '$(cat out)' $(cat err)"
  [ "$lines" -eq "$(wc -l <out)" ] || fail "$name: lines other than readings: '$(cat out)'"
  vlines=$(grep -Ec '^notification [0-9]+ \| seq [0-9]+ \| 2\.05 Content \| [0-9]+ B on the wire \| payload [0-9]+ B$' err || true)
  [ "$vlines" -eq "$lines" ] || fail "$name: -v: $vlines lines for $lines notifications: '$(cat err)'"
  seqs=$(sed -n 's/^notification [0-9]* | seq \([0-9]*\) .*/\1/p' err)
  [ "$(sort -n <<<"$seqs")" = "$seqs" ] && [ "$(sort -nu <<<"$seqs" | wc -l)" -eq "$vlines" ] ||
    fail "$name: -v sequence numbers not increasing: $seqs"
}

start_server --mode sign --key gw.key --allow dev=dev.pub
observe sign --mode sign --key dev.key --peer gw.pub
stop_server "$SERVER_PID"

start_server --mode session --key gw.key --allow dev=dev.pub
observe session --mode session --key dev.key --peer gw.pub
stop_server "$SERVER_PID"

start_server --mode oscore --oscore-conf gw.conf --key gw.key --allow dev=dev.pub
observe oscore --mode oscore --oscore-conf dev.conf
observe "oscore keyed" --mode oscore --key dev.key --peer gw.pub
stop_server "$SERVER_PID"

start_server --mode sign-v1 --key gw-v1.key --allow dev=dev-v1.pub
expect_exit 2 "Mode A v1 cannot observe" get "coap://127.0.0.1:$PORT/sensors/temp" -s 3 \
  --mode sign-v1 --key dev-v1.key --peer gw-v1.pub
stop_server "$SERVER_PID"

finish
