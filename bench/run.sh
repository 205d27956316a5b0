#!/bin/sh
# make bench: runs every benchmark on 127.0.0.1 only and writes bench/results.md,
# bench/results.json and bench/results.png. Servers run on free ports and are always
# stopped on exit. Usage: bench/run.sh BUILD_DIR (the Release build holding bench/bench_*).
# Knobs (environment): BENCH_SECONDS timed phase per throughput round (2), BENCH_ROUNDS
# rounds of the plain/libcoap/Mode B comparison (3), BENCH_WINDOW requests in flight (32),
# BENCH_HANDSHAKES (200), BENCH_SUITE_HANDSHAKES per suite (40), BENCH_SESSIONS idle
# sessions for the memory section (10000), BENCH_PROXY_WINDOW requests in flight through the
# proxy pair (16, its queue limit), BENCH_ALG_SECONDS timed phase of each Mode A v2 round per
# signature algorithm (1).
set -eu

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
BIN=$(cd "$BUILD/bench" && pwd)
DIR=$(cd "$(dirname "$0")" && pwd)
SECS=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
WINDOW=${BENCH_WINDOW:-32}
HANDSHAKES=${BENCH_HANDSHAKES:-200}
SUITE_HANDSHAKES=${BENCH_SUITE_HANDSHAKES:-40}
SESSIONS=${BENCH_SESSIONS:-10000}
PROXY_WINDOW=${BENCH_PROXY_WINDOW:-16}
ALG_SECS=${BENCH_ALG_SECONDS:-1}
PQ=$BUILD/tools/pqcoap/pqcoap

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pqcoap-bench.XXXXXX")
RAW=$TMP/raw.txt
: >"$RAW"
RUNNING=""   # pids of the servers this script started and has not stopped yet

cleanup() {
    for p in $RUNNING; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

note() { echo "bench: $*" >&2; }
record() { tee -a "$RAW" >&2; }     # result lines go to the raw file and the terminal
value() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RAW"; }

# start_server NAME MODE: starts bench_server MODE, sets <NAME>_PID and <NAME>_PORT.
start_server() {
    out=$TMP/$1.out
    rm -f "$out" # an earlier server of the same name must not lend its port
    "$BIN/bench_server" "$2" >"$out" 2>"$TMP/$1.err" &
    pid=$!
    RUNNING="$RUNNING $pid"
    i=0
    while [ $i -lt 100 ]; do
        port=$(awk '$1 == "port" { print $2 }' "$out" 2>/dev/null || true)
        if [ -n "$port" ]; then
            eval "$1_PID=$pid $1_PORT=$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    note "server $2 did not start: $(cat "$TMP/$1.err")"
    stop_pid "$pid"
    return 1
}

# libcoap's example server on a port below the ephemeral range (so no test's ephemeral
# socket holds it); a few candidates in case one is taken.
start_libcoap() {
    base=$((20000 + $$ % 9000))
    for k in 0 1 2 3 4 5 6 7; do
        port=$((base + k * 97))
        coap-server-notls -A 127.0.0.1 -p "$port" -v 0 >/dev/null 2>&1 &
        pid=$!
        RUNNING="$RUNNING $pid"
        sleep 0.3
        if kill -0 "$pid" 2>/dev/null; then
            libcoap_PID=$pid
            libcoap_PORT=$port
            return 0
        fi
        stop_pid "$pid"
    done
    note "coap-server-notls did not start"
    return 1
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    keep=""
    for p in $RUNNING; do [ "$p" = "$1" ] || keep="$keep $p"; done
    RUNNING=$keep
}

# load NAME MODE LABEL [PRESIGNED]: one throughput round against server NAME.
load() {
    eval "port=\$$1_PORT pid=\$$1_PID"
    "$BIN/bench_load" "$2" "$port" "$pid" "$SECS" "$WINDOW" "$3" ${4:-} | record ||
        note "load $3 failed"
}

# ratio KEY A B: records KEY = A / B from the last values of A and B.
ratio() {
    a=$(value "$2")
    b=$(value "$3")
    [ -n "$a" ] && [ -n "$b" ] && awk -v k="$1" -v a="$a" -v b="$b" \
        'BEGIN { if (b > 0) printf "%s %.4f\n", k, a / b }' | record
    return 0
}

have_mode() { "$BIN/bench_server" "$1" --probe >/dev/null 2>&1; }
# slots N: session table size of the Mode B servers started next (bench_server reads it).
slots() {
    BENCH_SLOTS=$1
    export BENCH_SLOTS
}

note "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "loadavg_start $(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
printf "window %s\nseconds %s\nwindow_proxy %s\nseconds_alg %s\n" "$WINDOW" "$SECS" "$PROXY_WINDOW" \
    "$ALG_SECS" >>"$RAW"

# 1. primitives (ops per CPU second)
note "primitives"
"$BIN/bench_crypto" 0.5 | awk '{ printf "prim_%s %s\n", $1, $2 }' | record

# 2-4. throughput, bytes on the wire
start_server plain plain
start_libcoap
MODES_B=""
slots 1024
if have_mode session && start_server session session; then MODES_B=session; fi
# OSCORE: a provisioned context (a fresh Master Secret for each server, since each generator
# run starts its Sender Sequence Numbers at 0) and contexts keyed by handshakes
fresh_oscore_secret() {
    BENCH_OSCORE_SECRET=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    export BENCH_OSCORE_SECRET
}
MODES_O=""
if have_mode oscore && start_server pqoscore pqoscore; then MODES_O=oscore; fi
r=1
while [ $r -le "$ROUNDS" ]; do
    note "throughput round $r/$ROUNDS"
    load plain plain tp_plain
    load libcoap plain tp_libcoap
    ratio plain_vs_libcoap_throughput tp_plain_rps tp_libcoap_rps
    if [ -n "$MODES_B" ]; then
        load session session tp_session
        ratio session_vs_plain_throughput tp_session_rps tp_plain_rps
    fi
    if [ -n "$MODES_O" ]; then
        fresh_oscore_secret
        if start_server oscore oscore; then
            load oscore oscore tp_oscore
            ratio oscore_vs_plain_throughput tp_oscore_rps tp_plain_rps
            stop_pid "$oscore_PID"
        fi
        load pqoscore pqoscore tp_pq_oscore
        ratio pq_oscore_vs_plain_throughput tp_pq_oscore_rps tp_plain_rps
    fi
    r=$((r + 1))
done
[ -z "$MODES_O" ] || stop_pid "$pqoscore_PID"
for v in 1 2; do
    m=sign$v
    if have_mode "$m" && start_server "$m" "$m"; then
        note "throughput Mode A v$v"
        presigned=""
        if [ "$v" = 2 ]; then
            # v2 requests are signed before the timed phase (the generator would otherwise
            # be the bottleneck: each side pays one Falcon signature per message): enough
            # for the server's signing rate over warm-up and phase, with a margin.
            presigned=$(awk -v s="$(value prim_falcon512_sign)" -v t="$SECS" -v w="$WINDOW" \
                'BEGIN { printf "%d", s * (t + 0.3) * 1.3 + w }')
        fi
        load "$m" "$m" "tp_$m" $presigned
        ratio "sign_v${v}_vs_plain_throughput" "tp_${m}_rps" tp_plain_rps
        eval "stop_pid \$${m}_PID"
    else
        note "Mode A v$v server not available: section skipped"
    fi
done
# Mode A v2 by the signature algorithm of the server key (PROTOCOL.md Mode A v2
# "Algorithms"): responses/s of a server signing with each algorithm, loaded by its ML-DSA-44
# device (requests presigned as above, enough for the algorithm's signing rate), one short
# round each; requests and responses larger than a block go block-wise.
for alg in falcon-512 falcon-1024 ml-dsa-44 ml-dsa-65 ml-dsa-87; do
    if have_mode "sign2:$alg" && start_server signalg "sign2:$alg"; then
        note "Mode A v2, server key $alg"
        presigned=$(awk -v s="$(value "prim_$(echo "$alg" | tr -d -)_sign")" -v t="$ALG_SECS" \
            -v w="$WINDOW" 'BEGIN { printf "%d", s * (t + 0.3) * 1.3 + w }')
        "$BIN/bench_load" "sign2:$alg" "$signalg_PORT" "$signalg_PID" "$ALG_SECS" "$WINDOW" \
            "tp_sign2_$alg" "$presigned" | record || note "load sign2:$alg failed"
        rps=$(value "tp_sign2_${alg}_rps")
        [ -n "$rps" ] && echo "sign_v2_rps_$alg $rps" | record
        stop_pid "$signalg_PID"
    else
        note "Mode A v2 server with a $alg key not available: skipped"
    fi
done
stop_pid "$libcoap_PID"
stop_pid "$plain_PID"

# 5-6. handshakes, idle sessions, flood (Mode B)
if [ -n "$MODES_B" ]; then
    note "handshakes"
    "$BIN/bench_session" handshake "$session_PORT" "$session_PID" "$HANDSHAKES" | record ||
        note "handshake section failed"
    stop_pid "$session_PID"

    note "handshakes per suite"
    slots 64
    if start_server suites suites; then
        "$BIN/bench_session" suites "$suites_PORT" "$suites_PID" "$SUITE_HANDSHAKES" | record ||
            note "per-suite handshake section failed"
        stop_pid "$suites_PID"
    fi
    # the primitives once more, close in time to the handshakes they are compared with (a
    # key recorded twice counts by the mean of both)
    "$BIN/bench_crypto" 0.5 | awk '{ printf "prim_%s %s\n", $1, $2 }' | record

    note "idle sessions ($SESSIONS)"
    slots 64
    start_server base session
    slots $((SESSIONS + 64))
    start_server session session
    "$BIN/bench_session" memory "$session_PORT" "$session_PID" "$SESSIONS" "$base_PORT" "$base_PID" |
        record || note "memory section failed"
    stop_pid "$session_PID"
    stop_pid "$base_PID"

    note "handshake flood"
    # p99 of protected GETs at a fixed rate (one every PACE us) without, with, and again
    # without a flood of handshakes from presigned INITs of distinct initiators.
    pace=2000
    flood_secs=$(awk -v t="$SECS" 'BEGIN { print t + 2 }')
    inits=$(awk -v s="$(value prim_falcon512_sign)" -v t="$flood_secs" \
        'BEGIN { printf "%d", s * t * 1.3 + 8 }')
    slots $((inits + 64))
    start_server session session
    "$BIN/bench_load" session "$session_PORT" "$session_PID" "$SECS" 1 flood_base 0 "$pace" |
        record || note "flood baseline failed"
    rm -f "$TMP/flood.out"
    "$BIN/bench_session" flood "$session_PORT" "$session_PID" "$flood_secs" "$inits" \
        >"$TMP/flood.out" 2>"$TMP/flood.err" &
    flood_pid=$!
    RUNNING="$RUNNING $flood_pid"
    i=0
    while [ $i -lt 1200 ] && ! grep -qs ready "$TMP/flood.out" && kill -0 "$flood_pid" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    sleep 0.5
    "$BIN/bench_load" session "$session_PORT" "$session_PID" "$SECS" 1 flood 0 "$pace" |
        record || note "flood measurement failed"
    wait "$flood_pid" || note "flood client failed: $(cat "$TMP/flood.err")"
    stop_pid "$flood_pid"
    grep -v ready "$TMP/flood.out" | record
    # the baseline again after the flood: the ratio uses the mean of both baselines
    "$BIN/bench_load" session "$session_PORT" "$session_PID" "$SECS" 1 flood_base 0 "$pace" |
        record || note "flood baseline failed"
    stop_pid "$session_PID"
else
    note "Mode B server not available: handshake, memory and flood sections skipped"
fi

# start_proxy NAME ROLE ARGS...: starts `pqcoap proxy ROLE -p 0 ARGS...` on 127.0.0.1, sets
# <NAME>_PID and <NAME>_PORT from its "listening on" line.
start_proxy() {
    name=$1
    shift
    "$PQ" proxy "$@" -A 127.0.0.1 -p 0 >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pid=$!
    RUNNING="$RUNNING $pid"
    i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
        port=$(sed -n 's|^listening on coap://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/$name.out")
        [ -n "$port" ] && eval "${name}_PID=$pid ${name}_PORT=$port" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    note "proxy $name did not start: $(cat "$TMP/$name.err")"
    return 1
}

# 7. proxy pair: GET time through pqcoap proxy device and gateway (Mode B) to our plain
# server, against the same server directly; one request in flight (latency), then
# PROXY_WINDOW (throughput), one short round each.
if [ -x "$PQ" ] && have_mode session; then
    note "proxy pair"
    "$PQ" keygen -o "$TMP/pgw" >/dev/null && "$PQ" keygen -o "$TMP/pdev" >/dev/null
    if start_server backend plain &&
        start_proxy gateway gateway --mode session --to "coap://127.0.0.1:$backend_PORT" \
            --key "$TMP/pgw.key" --allow "pdev=$TMP/pdev.pub" &&
        start_proxy device device --mode session --to "coap://127.0.0.1:$gateway_PORT" \
            --key "$TMP/pdev.key" --peer "$TMP/pgw.pub"; then
        for w in 1 "$PROXY_WINDOW"; do
            "$BIN/bench_load" plain "$backend_PORT" "$backend_PID" 1 "$w" "proxy_direct_w$w" | record
            "$BIN/bench_load" plain "$device_PORT" "$device_PID" 1 "$w" "proxy_chain_w$w" | record
        done
        ratio proxy_chain_vs_plain_throughput "proxy_chain_w${PROXY_WINDOW}_rps" \
            "proxy_direct_w${PROXY_WINDOW}_rps"
        awk -v a="$(value proxy_chain_w1_p50_us)" -v b="$(value proxy_direct_w1_p50_us)" \
            'BEGIN { if (a != "" && b != "") printf "proxy_chain_added_latency_us %.1f\n", a - b }' | record
    else
        note "proxy pair did not start: section skipped"
    fi
    for p in device gateway backend; do
        eval "pid=\${${p}_PID:-}"
        [ -n "$pid" ] && stop_pid "$pid"
    done
else
    note "pqcoap CLI or Mode B not available: proxy section skipped"
fi

echo "loadavg_end $(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
sh "$DIR/assemble.sh" "$RAW" "$DIR" "$TMP/chart.dat"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -e "datafile='$TMP/chart.dat'; outfile='$DIR/results.png'" "$DIR/plot.gp"
else
    note "gnuplot not found: no chart"
fi
note "wrote $DIR/results.md, $DIR/results.json, $DIR/results.png"
