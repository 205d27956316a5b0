# Shared helpers of the CLI tests (sourced): a temp dir removed on exit, servers killed on
# exit, checks of exit codes and of the one-line error message.
#   PQ   the pqcoap program (first argument of every test script)
set -euo pipefail
PQ=$1
TMP=$(mktemp -d)
SERVER_PIDS=()
FAILS=0

cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}

# pq ARGS...: runs pqcoap (bounded in time) with stdout in $TMP/out and stderr in $TMP/err;
# sets RC.
pq() {
  RC=0
  timeout 60 "$PQ" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}

# expect_ok ARGS...: pqcoap succeeds (exit 0).
expect_ok() {
  pq "$@"
  if [ "$RC" -ne 0 ]; then
    fail "pqcoap $* exited $RC: $(cat "$TMP/err")"
  fi
}

# expect_exit CODE TEXT ARGS...: pqcoap exits CODE with exactly one line on stderr, of the
# form "pqcoap: ..." and containing TEXT (not empty: the exit code alone says too little).
expect_exit() {
  local code=$1 text=$2
  shift 2
  [ -n "$text" ] || fail "expect_exit $code without the message to expect: pqcoap $*"
  pq "$@"
  local lines
  lines=$(wc -l <"$TMP/err")
  if [ "$RC" -ne "$code" ]; then
    fail "pqcoap $* exited $RC, expected $code: $(cat "$TMP/err")"
  elif [ "$lines" -ne 1 ] || ! head -n1 "$TMP/err" | grep -q '^pqcoap: '; then
    fail "pqcoap $*: stderr is not one 'pqcoap: ' line: $(cat "$TMP/err")"
  elif ! grep -qiF -- "$text" "$TMP/err"; then
    fail "pqcoap $*: stderr lacks '$text': $(cat "$TMP/err")"
  fi
}

# start_server ARGS...: starts `pqcoap server -A $SERVER_ADDR -p 0 ARGS...` in the background
# (SERVER_ADDR: 127.0.0.1 unless set, e.g. `SERVER_ADDR=::1 start_server ...`), waits
# (bounded) for its "listening on coap://HOST:PORT" line, checks that HOST is SERVER_ADDR as a
# URI writes it (127.0.0.1, [::1]) and sets HOST, PORT and SERVER_PID.
SERVER_ADDR=127.0.0.1
start_server() {
  local log="$TMP/server.$((${#SERVER_PIDS[@]})).out" want=$SERVER_ADDR
  [[ $want == *:* ]] && want="[$want]"
  : >"$log" # exists before the server starts, so the wait below can read it at once
  "$PQ" server -A "$SERVER_ADDR" -p 0 "$@" >"$log" 2>"$log.err" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  PORT=
  for _ in $(seq 1 300); do
    local line
    line=$(grep -m1 '^listening on coap://' "$log" || true)
    HOST=$(sed -n 's|^listening on coap://\(.*\):[0-9][0-9]* (mode .*|\1|p' <<<"$line")
    PORT=$(sed -n 's|^listening on coap://.*:\([0-9][0-9]*\) (mode .*|\1|p' <<<"$line")
    if [ -n "$PORT" ]; then
      [ "$HOST" = "$want" ] || fail "server on $SERVER_ADDR says it listens on '$HOST'"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server exited early: $(cat "$log.err")" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$log.err")" >&2
  return 1
}

# stop_server PID: SIGTERM, then the server must exit 0 (bounded).
stop_server() {
  local pid=$1 rc=0
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "server $pid exited $rc after SIGTERM"
}

# finish: exit status of the test.
finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
