#!/usr/bin/env bash
# Suites with the CLI: --version lists every suite; a session server with two identities
# (--key twice: ML-DSA-65 preferred, Falcon-512) serves an ML-DSA-65 device and a Falcon-512
# device, each in the suite of the server key it pins; keys and suites that do not fit are
# refused with a clear message.
#   cli_suites.sh PQCOAP_PROGRAM
. "$(dirname "$0")/../cli/lib.sh"
cd "$TMP"

expect_ok --version
for s in 0x01 falcon512-mlkem768 0x02 falcon1024-mlkem1024 0x03 mldsa65-mlkem768 \
         0x04 mldsa87-mlkem1024; do
  grep -qF -- "$s" out || fail "--version lacks $s: $(cat out)"
done

expect_ok keygen -o gw
expect_ok keygen -o gw-mldsa --alg ml-dsa-65
expect_ok keygen -o gw-87 --alg ml-dsa-87
expect_ok keygen -o gw-44 --alg ml-dsa-44
expect_ok keygen -o dev-falcon
expect_ok keygen -o dev-mldsa --alg ml-dsa-65

# Identities that do not fit a session server.
expect_exit 2 "ml-dsa-44" server -A 127.0.0.1 -p 0 --mode session --key gw-44.key
expect_exit 2 "one --key per suite" server -A 127.0.0.1 -p 0 --mode session --key gw.key \
  --key gw.key
expect_exit 2 "only in modes session and oscore" server -A 127.0.0.1 -p 0 --mode sign --key gw.key \
  --key gw-mldsa.key

start_server --mode session --id gw --key gw-mldsa.key --key gw.key --db gw.db \
  --allow dev-falcon=dev-falcon.pub --allow dev-mldsa=dev-mldsa.pub
base="coap://127.0.0.1:$PORT"

expect_ok get "$base/sensors/temp" --mode session --key dev-mldsa.key --peer gw-mldsa.pub \
  --peer-id gw -v
grep -q 'suite mldsa65-mlkem768' err || fail "ml-dsa device: $(cat err)"
expect_ok post "$base/echo" --mode session --key dev-falcon.key --peer gw.pub -e hello -v
[ "$(cat out)" = hello ] || fail "falcon device echo: '$(cat out)'"
grep -q 'suite falcon512-mlkem768' err || fail "falcon device: $(cat err)"
# each side signs with its own key: a Falcon-512 device with the ML-DSA-65 server key
expect_ok get "$base/sensors/temp" --mode session --key dev-falcon.key --peer gw-mldsa.pub \
  --peer-id gw -v
grep -q 'suite mldsa65-mlkem768' err || fail "falcon device, ml-dsa server key: $(cat err)"
# --suite names the suite; it must be the one of the pinned server key
expect_ok get "$base/sensors/temp" --mode session --key dev-mldsa.key --peer gw-mldsa.pub \
  --peer-id gw --suite mldsa65-mlkem768
expect_exit 2 "needs the server's ml-dsa-65 key, but 'gw.pub' is a falcon-512 key" \
  get "$base/sensors/temp" --mode session --key dev-mldsa.key --peer gw.pub \
  --suite mldsa65-mlkem768
expect_exit 2 "unknown suite" get "$base/sensors/temp" --mode session --key dev-mldsa.key \
  --peer gw.pub --suite falcon512
expect_exit 2 "--suite goes with --mode session" get "$base/sensors/temp" --mode sign \
  --key dev-falcon.key --peer gw.pub --suite falcon512-mlkem768
# a server key of a suite the server holds no identity for: refused as unsupported
expect_exit 2 "no suite offered that the server holds an identity for" get "$base/sensors/temp" --mode session --key dev-mldsa.key \
  --peer gw-87.pub --peer-id gw
# (Mode A v2 takes keys of every algorithm, v1 only Falcon-512: tests/sign/signalg_cli.sh)
stop_server "$SERVER_PID"
finish
