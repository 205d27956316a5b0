#!/usr/bin/env bash
# Mode A v2 with ML-DSA and Falcon keys from the CLI (PROTOCOL.md Mode A v2 "Algorithms"):
# an ML-DSA-65 gateway serves an ML-DSA-65 device and a Falcon-512 device side by side, a
# Falcon-512 gateway an ML-DSA-87 device; the trust store records each algorithm; the proxy
# pair in mode sign with ML-DSA keys; sign-v1 refuses keys other than Falcon-512.
#   signalg_cli.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

expect_ok keygen -o gw-mldsa --alg ml-dsa-65
expect_ok keygen -o dev-mldsa --alg ml-dsa-65
grep -qx 'alg: ml-dsa-65' dev-mldsa.pub || fail "dev-mldsa.pub does not name its algorithm"
expect_ok keygen -o dev-falcon
expect_ok keygen -o gw-falcon
expect_ok keygen -o dev-mldsa87 --alg ml-dsa-87
expect_ok trust --db gw-mldsa.db add dev-falcon dev-falcon.pub
head -c 3000 /dev/urandom >blob

start_server --mode sign --key gw-mldsa.key --allow dev-mldsa=dev-mldsa.pub
base="coap://127.0.0.1:$PORT"
A=(--mode sign --key dev-mldsa.key --peer gw-mldsa.pub)
expect_ok get "$base/sensors/temp" "${A[@]}"
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "ML-DSA-65 signed sensors/temp: '$(cat out)'"
expect_ok post "$base/echo" "${A[@]}" -f blob -o echoed
cmp -s blob echoed || fail "ML-DSA-65 signed echo of 3000 bytes"
expect_ok post "$base/counter" "${A[@]}"
[ "$(cat out)" = 1 ] || fail "ML-DSA-65 signed counter: '$(cat out)'"
# A Falcon-512 device on the same ML-DSA-65 gateway.
F=(--mode sign --key dev-falcon.key --peer gw-mldsa.pub)
expect_ok post "$base/counter" "${F[@]}"
[ "$(cat out)" = 2 ] || fail "Falcon-512 device on the ML-DSA-65 gateway: '$(cat out)'"
expect_ok get "$base/sensors/temp" "${A[@]}"
expect_ok trust --db gw-mldsa.db list
grep -Eq '^dev-mldsa +ml-dsa-65 +general ' out || fail "trust list: $(cat out)"
grep -Eq '^dev-falcon +falcon-512 +general ' out || fail "trust list: $(cat out)"
# A device pinning a key of another algorithm than the gateway's (its request is signed
# for that key) is refused.
expect_exit 3 "4.01 signature or tag does not verify" get "$base/sensors/temp" --mode sign \
  --key dev-mldsa.key --peer gw-falcon.pub
stop_server "$SERVER_PID"

# An ML-DSA-87 device on a Falcon-512 gateway.
start_server --mode sign --key gw-falcon.key --allow dev-mldsa87=dev-mldsa87.pub
expect_ok post "coap://127.0.0.1:$PORT/echo" --mode sign --key dev-mldsa87.key --peer gw-falcon.pub \
  -e 'from ML-DSA-87'
[ "$(cat out)" = 'from ML-DSA-87' ] || fail "ML-DSA-87 device on a Falcon-512 gateway: '$(cat out)'"

# The proxy pair in mode sign with ML-DSA keys, in front of a plain server: an ML-DSA-44
# gateway and an ML-DSA-87 device.
# start_proxy NAME ROLE ARGS...: `pqcoap proxy ROLE -A 127.0.0.1 -p 0 ARGS...` in the
# background; sets <NAME>_PORT from its "listening on" line.
start_proxy() {
  local name=$1 log="$TMP/$1.out"
  shift
  : >"$log"
  "$PQ" proxy "$@" -A 127.0.0.1 -p 0 >"$log" 2>"$log.err" &
  SERVER_PIDS+=("$!")
  for _ in $(seq 1 300); do
    local port
    port=$(sed -n 's|^listening on coap://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$log")
    if [ -n "$port" ]; then
      eval "${name}_PORT=$port"
      return 0
    fi
    sleep 0.1
  done
  fail "proxy $name did not start: $(cat "$log.err")"
  return 1
}
expect_ok keygen -o pgw --alg ml-dsa-44
expect_ok keygen -o pdev --alg ml-dsa-87
start_server --mode plain
start_proxy gateway gateway --mode sign --to "coap://127.0.0.1:$PORT" --key pgw.key \
  --allow pdev=pdev.pub
start_proxy device device --mode sign --to "coap://127.0.0.1:$gateway_PORT" --key pdev.key \
  --peer pgw.pub
expect_ok post "coap://127.0.0.1:$device_PORT/echo" -f blob -o echoed
cmp -s blob echoed || fail "3000-byte echo through ML-DSA proxies"
expect_ok get "coap://127.0.0.1:$device_PORT/sensors/temp"
grep -Eq '^[0-9]+\.[0-9] C$' out || fail "sensors/temp through ML-DSA proxies: '$(cat out)'"

# sign-v1 is Falcon-512 only.
expect_ok keygen -o gw-v1 --v1 --alg ml-dsa-65
expect_ok keygen -o dev-v1 --v1
expect_exit 2 "falcon-512" server -A 127.0.0.1 -p 0 --mode sign-v1 --key gw-v1.key \
  --allow dev-v1=dev-v1.pub
expect_exit 2 "falcon-512" get "coap://127.0.0.1:$PORT/sensors/temp" --mode sign-v1 \
  --key dev-v1.key --peer gw-v1.pub
finish
