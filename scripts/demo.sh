#!/usr/bin/env bash
# `make demo`: a post-quantum secured CoAP exchange on loopback with throwaway keys.
#   demo.sh BUILD_DIR
# Creates a gateway and a device identity in a temporary folder, pins each other's keys,
# starts `pqcoap server` on 127.0.0.1 (ephemeral port) in Mode A (signed payloads, v2) and
# then in Mode B (sessions), performs a GET, and in Mode B a GET and a POST, printing the
# verified payloads, the handshake time and the bytes on the wire; then Mode A v1 (the seed
# format) with keys of its own (keygen --v1). Servers and files are removed at the end, also
# on failure.
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
PQ="$(cd "$build" && pwd)/tools/pqcoap/pqcoap"
[ -x "$PQ" ] || { echo "demo: $PQ not built" >&2; exit 1; }
work=$(mktemp -d)
server_pid=

cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

step() { printf '\n== %s\n' "$*"; }
show() {
  printf '$ pqcoap'
  printf ' %q' "$@"
  printf '\n'
}
run() {
  show "$@"
  timeout 60 "$PQ" "$@"
}
# request ARGS...: a request with -v; prints the verified payload, then the mode, handshake
# time and bytes on the wire that -v reports.
request() {
  show "$@"
  local payload
  payload=$(timeout 60 "$PQ" "$@" -v 2>stats) || { cat stats >&2; exit 1; }
  printf '  verified payload: %s\n  %s\n' "$payload" "$(cat stats)"
}

# start_server ARGS...: starts the server on an ephemeral loopback port; sets port.
start_server() {
  : >server.out # empty before the server starts, so no earlier server's port is read
  "$PQ" server -A 127.0.0.1 -p 0 "$@" >server.out 2>server.err &
  server_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's|.*listening on coap://127\.0\.0\.1:\([0-9]*\).*|\1|p' server.out | head -n1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "demo: the server did not start: $(cat server.err)" >&2
    exit 1
  fi
  echo "server: $(head -n1 server.out)"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  server_pid=
}

step "$("$PQ" --version)"
step "Throwaway identities (Falcon-512) in $work"
run keygen -o gateway
run keygen -o device
step "The gateway trusts the device; the device pins the gateway's key with --peer"
run trust --db gateway.db add device device.pub

step "Mode A: signed payloads (v2: method, options and a sequence number bound)"
start_server --mode sign --id gateway --key gateway.key --db gateway.db
request get "coap://127.0.0.1:$port/sensors/temp" --mode sign --key device.key --peer gateway.pub
stop_server

step "Mode B: session (ML-KEM-768 + X25519 handshake, AES-256-GCM per-message keys)"
start_server --mode session --id gateway --key gateway.key --db gateway.db
request get "coap://127.0.0.1:$port/sensors/temp" --mode session --key device.key --peer gateway.pub
request post "coap://127.0.0.1:$port/echo" -e 'hello over a post-quantum session' --mode session \
  --key device.key --peer gateway.pub
stop_server

step "Mode A v1 (the seed's format, for older devices): keys made for it alone (keygen --v1)"
echo "   v1 signs bare messages, so its keys never sign or verify anything else"
run keygen --v1 -o gateway-v1
run keygen --v1 -o device-v1
start_server --mode sign-v1 --id gateway --key gateway-v1.key --allow device=device-v1.pub
request get "coap://127.0.0.1:$port/sensors/temp" --mode sign-v1 --key device-v1.key \
  --peer gateway-v1.pub
stop_server

step "Demo finished: all payloads verified (ids, device.state and gateway.db are the defaults"
echo "   derived from the key file names)"
