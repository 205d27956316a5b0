#!/bin/sh
# make bench: runs every benchmark on 127.0.0.1 only and writes bench/results.md,
# bench/results.json and bench/results.png. Servers run on free ports and are always
# stopped on exit. Usage: bench/run.sh BUILD_DIR (the Release build holding bench/bench_*).
# Knobs (environment): BENCH_SECONDS timed phase per throughput round (2), BENCH_ROUNDS
# rounds of the plain/libcoap/Mode B comparison (3), BENCH_WINDOW requests in flight (32),
# BENCH_HANDSHAKES (200), BENCH_SUITE_HANDSHAKES per suite (40), BENCH_SESSIONS idle
# sessions for the memory section (10000), BENCH_PROXY_WINDOW requests in flight through the
# proxy pair (16, its queue limit), BENCH_ALG_SECONDS timed phase of each Mode A v2 round per
# signature algorithm (1), BENCH_FILL sessions made on the server before the throughput
# rounds with a full table (1023, the table holds 1024), BENCH_PROFILER perf | callgrind |
# none (perf when it works, else callgrind) for the profile of the Mode B server.
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
FILL=${BENCH_FILL:-1023}
PROFILER=${BENCH_PROFILER:-}
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

START=$(date +%s)
note() { echo "bench: [$(($(date +%s) - START)) s] $*" >&2; }
record() { tee -a "$RAW" >&2; }     # result lines go to the raw file and the terminal
value() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RAW"; }
# sign_rate ALG: signatures per second of ALG (falcon512, mldsa65, ...) at the fastest the
# library signs: with the expanded key where the primitive table measures it
sign_rate() {
    rate=$(value "prim_$1_sign_expanded")
    [ -n "$rate" ] || rate=$(value "prim_$1_sign")
    echo "$rate"
}

# start_server NAME MODE [WRAPPER...]: starts bench_server MODE (under WRAPPER, a command
# that execs it in the same process, e.g. env or valgrind), sets <NAME>_PID and <NAME>_PORT.
start_server() {
    out=$TMP/$1.out
    name=$1
    mode=$2
    shift 2
    rm -f "$out" # an earlier server of the same name must not lend its port
    "$@" "$BIN/bench_server" "$mode" >"$out" 2>"$TMP/$name.err" &
    pid=$!
    RUNNING="$RUNNING $pid"
    set -- "$name" "$mode"
    i=0
    while [ $i -lt 300 ]; do
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
# Arguments, if any, go before the program (e.g. env LD_PRELOAD=...; env execs it, so the
# pid stays the server's).
start_libcoap() {
    base=$((20000 + $$ % 9000))
    for k in 0 1 2 3 4 5 6 7; do
        port=$((base + k * 97))
        "$@" coap-server-notls -A 127.0.0.1 -p "$port" -v 0 >/dev/null 2>&1 &
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
# Mode B with a full table: FILL sessions of other initiators made first, so that the
# generator's session is the last of 1024 live ones (lookups must not grow with the table)
FULL=""
if [ -n "$MODES_B" ] && start_server full session; then
    note "$FILL sessions on the full-table server"
    if "$BIN/bench_session" fill "$full_PORT" "$full_PID" "$FILL" | record; then
        FULL=yes
    else
        note "filling the session table failed: full-table rounds skipped"
        stop_pid "$full_PID"
    fi
fi
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
    if [ -n "$FULL" ]; then
        load full session tp_session_1024
        ratio session_vs_plain_throughput_1024 tp_session_1024_rps tp_plain_rps
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
[ -z "$FULL" ] || stop_pid "$full_PID"

# heap allocations per request on the server: each server once more under the counting
# preload (bench_alloc_count.so), one short round each
ALLOC_SO=$BIN/bench_alloc_count.so
if [ -f "$ALLOC_SO" ]; then
    note "allocations per request"
    for m in plain session oscore pqoscore; do
        have_mode "$m" || continue
        [ "$m" = oscore ] && fresh_oscore_secret
        counter=$TMP/alloc-$m
        rm -f "$counter"
        if start_server counted "$m" env LD_PRELOAD="$ALLOC_SO" BENCH_ALLOC_FILE="$counter"; then
            BENCH_ALLOC_FILE=$counter "$BIN/bench_load" "$m" "$counted_PORT" "$counted_PID" 1 \
                "$WINDOW" "alloc_$m" | record || note "allocation round $m failed"
            stop_pid "$counted_PID"
        fi
    done
    # libcoap's own server under the same counter: what libcoap allocates by itself
    counter=$TMP/alloc-libcoap
    rm -f "$counter"
    if start_libcoap env LD_PRELOAD="$ALLOC_SO" BENCH_ALLOC_FILE="$counter"; then
        BENCH_ALLOC_FILE=$counter "$BIN/bench_load" plain "$libcoap_PORT" "$libcoap_PID" 1 \
            "$WINDOW" alloc_libcoap | record || note "allocation round libcoap failed"
        stop_pid "$libcoap_PID"
    fi
    a=$(value alloc_session_allocs_per_req)
    [ -z "$a" ] || echo "allocations_per_protected_request $a" | record
    for m in plain oscore pqoscore libcoap; do
        a=$(value "alloc_${m}_allocs_per_req")
        [ -z "$a" ] || echo "allocations_per_request_$m $a" | record
    done
else
    note "bench_alloc_count.so not built: allocation counts skipped"
fi

# profile of the Mode B server during a throughput round: perf (samples of the CPU clock,
# self time per function) when it works here, else callgrind (instructions per function)
profile_tool() {
    case $PROFILER in
    perf | callgrind | none) echo "$PROFILER"; return ;;
    esac
    if command -v perf >/dev/null 2>&1 &&
        perf record -q -e cpu-clock -o "$TMP/perf.probe" -- true >/dev/null 2>&1; then
        echo perf
    elif command -v valgrind >/dev/null 2>&1 && command -v callgrind_annotate >/dev/null 2>&1; then
        echo callgrind
    else
        echo none
    fi
}
PROF=none
[ -n "$MODES_B" ] && PROF=$(profile_tool)
case $PROF in
perf)
    note "profile of the Mode B server (perf)"
    if start_server prof session; then
        # the generator's handshake comes first; the samples cover its requests only
        "$BIN/bench_load" session "$prof_PORT" "$prof_PID" "$SECS" "$WINDOW" prof >"$TMP/prof.txt" &
        load_pid=$!
        RUNNING="$RUNNING $load_pid"
        sleep 0.2
        perf record -q -e cpu-clock -F 4999 -p "$prof_PID" -o "$TMP/perf.data" -- sleep "$SECS" \
            >/dev/null 2>"$TMP/perf.err" || note "perf record: $(cat "$TMP/perf.err")"
        wait "$load_pid" || note "profile round failed"
        stop_pid "$load_pid"
        record <"$TMP/prof.txt"
        stop_pid "$prof_PID"
        # "self% command object symbol" lines, the functions of 0.5 % and more
        perf report -i "$TMP/perf.data" --stdio --no-children --sort dso,symbol \
            --percent-limit 0.5 -q 2>/dev/null |
            awk 'NF >= 4 && $1 ~ /%$/ { p = $1; sub("%", "", p); printf "profile_row %s %s %s\n", p, $2, $4 }' \
            >"$TMP/profile.txt"
        # and the self time by object (kernel, libcrypto, libc, the server, libcoap)
        perf report -i "$TMP/perf.data" --stdio --no-children --sort dso -q 2>/dev/null |
            awk 'NF >= 2 && $1 ~ /%$/ { p = $1; sub("%", "", p); printf "profile_object %s %s\n", p, $2 }' \
            >>"$TMP/profile.txt"
        [ -s "$TMP/profile.txt" ] && echo "profile_tool perf" >>"$RAW"
    fi
    ;;
callgrind)
    note "profile of the Mode B server (callgrind)"
    # instructions of the I/O thread only (pqcoap_server_run and what it calls): the
    # handshake, on the handshake thread, is not counted
    if start_server prof session valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect=pqcoap_server_run --callgrind-out-file="$TMP/callgrind.out"; then
        # a few requests in flight: the server runs some 50x slower under valgrind
        "$BIN/bench_load" session "$prof_PORT" "$prof_PID" "$SECS" 4 prof | record ||
            note "profile round failed"
        stop_pid "$prof_PID"
        # "instructions-per-request object function" of the 25 largest (self)
        callgrind_annotate --inclusive=no "$TMP/callgrind.out" 2>/dev/null |
            awk -v n="$(value prof_answered)" '/PROGRAM TOTALS/ && n > 0 {
                t = $1; gsub(",", "", t); printf "profile_total %.1f\n", t / n }
            /^ *[0-9,]+ .*:/ && n > 0 && ++k <= 25 {
                ir = $1; gsub(",", "", ir); obj = $NF; gsub(/[][]/, "", obj); sub(/.*\//, "", obj)
                fn = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", fn); sub(/ +\[[^]]*\]$/, "", fn); sub(/^[^:]*:/, "", fn)
                printf "profile_row %.1f %s %s\n", ir / n, obj, fn }' >"$TMP/profile.txt"
        [ -s "$TMP/profile.txt" ] && echo "profile_tool callgrind" >>"$RAW"
    fi
    ;;
*)
    note "neither perf nor valgrind works here: no profile"
    ;;
esac
[ -s "$TMP/profile.txt" ] || echo "profile_tool none" >>"$RAW"
for v in 1 2; do
    m=sign$v
    if have_mode "$m" && start_server "$m" "$m"; then
        note "throughput Mode A v$v"
        presigned=""
        if [ "$v" = 2 ]; then
            # v2 requests are signed before the timed phase (the generator would otherwise
            # be the bottleneck: each side pays one Falcon signature per message): enough
            # for the server's signing rate over warm-up and phase, with a margin.
            presigned=$(awk -v s="$(sign_rate falcon512)" -v t="$SECS" -v w="$WINDOW" \
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
        presigned=$(awk -v s="$(sign_rate "$(echo "$alg" | tr -d -)")" -v t="$ALG_SECS" \
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
    inits=$(awk -v s="$(sign_rate falcon512)" -v t="$flood_secs" \
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

# 7b. Observe: verified notifications per second per mode, 1.5 s each
note "observe notifications"
"$BIN/bench_observe" 1.5 | record || note "observe section failed"

echo "loadavg_end $(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
touch "$TMP/profile.txt"
sh "$DIR/assemble.sh" "$RAW" "$DIR" "$TMP/chart.dat" "$TMP/profile.txt" "$DIR/baseline.json"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -e "datafile='$TMP/chart.dat'; outfile='$DIR/results.png'" "$DIR/plot.gp"
    gnuplot -e "suites='$TMP/chart.dat.suites'; algs='$TMP/chart.dat.algs'; outfile='$DIR/results_suites.png'" \
        "$DIR/plot_suites.gp"
else
    note "gnuplot not found: no chart"
fi
note "wrote $DIR/results.md, $DIR/results.json, $DIR/results.png, $DIR/results_suites.png"
