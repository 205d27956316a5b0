#!/bin/sh
# Turns the "key value" lines of one bench/run.sh run into results.json, results.md and the
# chart data (CHART_DATA: throughput; CHART_DATA.suites and CHART_DATA.algs: the per-suite
# chart). A key recorded several times (one per round) counts by its median. PROFILE holds
# the "profile_row" lines of bench/run.sh (may be empty); BASELINE is bench/baseline.json,
# the figures before the performance work, for the before/now table.
# Usage: bench/assemble.sh RAW_FILE OUT_DIR CHART_DATA [PROFILE [BASELINE]]
set -eu
RAW=${1:?usage: assemble.sh RAW OUT_DIR CHART_DATA [PROFILE [BASELINE]]}
OUT=${2:?}
DAT=${3:?}
PROFILE=${4:-/dev/null}
BASELINE=${5:-/dev/null}

awk -v out="$OUT" -v dat="$DAT" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" \
    -v profile="$PROFILE" -v baseline="$BASELINE" \
    -v cores="$(nproc)" -v cpu="$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
    -v libcoap="$(pkg-config --modversion libcoap-3-openssl 2>/dev/null || echo '?')" '
function median(k,    n, i, j, t, a) {
    n = cnt[k]
    for (i = 1; i <= n; i++) a[i] = vals[k, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function has(k) { return k in v }
# "falcon512_mlkem768" -> "falcon512 + mlkem768" (chart labels)
function label_of(s,    t) { t = s; sub("_", " + ", t); return t }
function us(op) { return has("prim_" op) && v["prim_" op] > 0 ? 1e6 / v["prim_" op] : 0 }
function fmt(x) { return x == int(x) && x < 1e9 ? sprintf("%d", x) : (x >= 100 ? sprintf("%.0f", x) : sprintf("%.3g", x)) }
# metric NAME VALUE-KEY OP TARGET UNIT TEXT: a target row (value missing -> "not measured")
function metric(name, op, target, unit, text,    val, met) {
    nm++
    mname[nm] = name; mop[nm] = op; mtarget[nm] = target; munit[nm] = unit; mtext[nm] = text
    if (has(name)) {
        val = v[name]
        met = op == "<=" ? val <= target : val >= target
        mval[nm] = val; mmet[nm] = met ? "yes" : "no"
    } else {
        mval[nm] = ""; mmet[nm] = "not measured"
    }
}
# before/now row: LABEL, KEY (in both), US (1: show 1e6 / value, for ops/s)
function bn(label, k, us_of,    b, n, ratio) {
    if (!(k in base) && !has(k)) return
    b = k in base ? base[k] : ""; n = has(k) ? v[k] : ""
    if (us_of) { b = b != "" && b > 0 ? 1e6 / b : ""; n = n != "" && n > 0 ? 1e6 / n : "" }
    ratio = b != "" && n != "" && b > 0 ? sprintf("%.2f", n / b) : ""
    printf "| %s | %s | %s | %s |\n", label, b == "" ? "-" : fmt(b), n == "" ? "-" : fmt(n), ratio > md
}
$1 == "profile_tool" { ptool = $2; next }
{ cnt[$1]++; vals[$1, cnt[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++nk] = $1 } }
END {
    for (i = 1; i <= nk; i++) v[order[i]] = median(order[i])
    # the baseline: the "key": number lines and the date of baseline.json
    while ((getline line < baseline) > 0) {
        split(line, bp, "\"")
        if (bp[2] == "date") base_date = bp[4]
        else if (line ~ /^ *"[A-Za-z0-9_.-]+": *-?[0-9][0-9.e+-]*,? *$/) {
            val = substr(line, index(line, ":") + 1); gsub(/[ ,]/, "", val)
            base[bp[2]] = val + 0
        }
    }
    close(baseline)

    # primitive sums each handshake side must run (PROTOCOL.md "Handshake", "Key schedule"):
    # both hash INIT and INIT || RESP (about two 4 KiB SHA-256 passes) and run HKDF
    # (one extract, two expands).
    # Falcon-512 signing at the fastest the library has: with the expanded key when the
    # primitive table measures it
    kdf = us("hkdf_extract_64") + 2 * us("hkdf_expand_32") + 2 * us("sha256_4096")
    sign_op = has("prim_falcon512_sign_expanded") ? "falcon512_sign_expanded" : "falcon512_sign"
    if (has("prim_" sign_op)) {
        v["prim_sum_initiator_us"] = us("mlkem768_keygen") + us("mlkem768_decaps") + us("x25519_keygen_derive") + us(sign_op) + us("falcon512_verify") + kdf
        v["prim_sum_responder_us"] = us("falcon512_verify") + us(sign_op) + us("mlkem768_encaps") + us("x25519_keygen_derive") + kdf
    }
    if (has("hs_client_cpu_us") && has("prim_sum_initiator_us"))
        v["handshake_cpu_ratio_client"] = v["hs_client_cpu_us"] / v["prim_sum_initiator_us"]
    if (has("hs_server_cpu_us") && has("prim_sum_responder_us"))
        v["handshake_cpu_ratio_server"] = v["hs_server_cpu_us"] / v["prim_sum_responder_us"]
    if (has("flood_p99_us") && v["flood_base_p99_us"] > 0)
        v["flood_p99_ratio"] = v["flood_p99_us"] / v["flood_base_p99_us"]
    if (has("tp_session_req_bytes") && has("tp_plain_req_bytes")) {
        v["overhead_request_bytes"] = v["tp_session_req_bytes"] - v["tp_plain_req_bytes"]
        v["overhead_response_bytes"] = v["tp_session_resp_bytes"] - v["tp_plain_resp_bytes"]
    }
    if (has("tp_plain_server_cpu_us_per_req") && has("tp_libcoap_server_cpu_us_per_req") && v["tp_plain_server_cpu_us_per_req"] > 0)
        v["plain_vs_libcoap_cpu_efficiency"] = v["tp_libcoap_server_cpu_us_per_req"] / v["tp_plain_server_cpu_us_per_req"]
    if (has("tp_plain_server_cpu_us_per_req") && has("tp_session_server_cpu_us_per_req") && v["tp_session_server_cpu_us_per_req"] > 0)
        v["session_vs_plain_cpu_efficiency"] = v["tp_plain_server_cpu_us_per_req"] / v["tp_session_server_cpu_us_per_req"]
    # per protected request the server runs one chain step and AES-GCM open, then one chain
    # step and AES-GCM seal (PROTOCOL.md "Key schedule", "Protected message")
    v["session_crypto_floor_us"] = 2 * us("kdf_chain_step") + us("aes256gcm_seal_64") + us("aes256gcm_open_64")
    for (m = 1; m <= 2; m++)
        if (has("tp_sign" m "_req_bytes") && has("tp_plain_req_bytes")) {
            v["overhead_sign_v" m "_request_bytes"] = v["tp_sign" m "_req_bytes"] - v["tp_plain_req_bytes"]
            v["overhead_sign_v" m "_response_bytes"] = v["tp_sign" m "_resp_bytes"] - v["tp_plain_resp_bytes"]
        }

    metric("session_vs_plain_throughput", ">=", 0.85, "x", "Mode B requests/s over plain CoAP on our server")
    metric("session_vs_plain_throughput_1024", ">=", 0.80, "x", "the same with 1024 live sessions on the server, ours the last made")
    metric("allocations_per_protected_request", "<=", 2, "", "heap allocations (malloc, calloc, realloc) of the Mode B server per protected request")
    metric("plain_vs_libcoap_throughput", ">=", 0.95, "x", "plain CoAP on our server over libcoap coap-server")
    metric("handshake_cpu_ratio_client", "<=", 1.15, "x", "initiator CPU per handshake over its primitive sum")
    metric("handshake_cpu_ratio_server", "<=", 1.15, "x", "responder CPU per handshake over its primitive sum")
    metric("overhead_request_bytes", "<=", 21, "B", "Mode B request datagram minus plain request datagram")
    metric("overhead_response_bytes", "<=", 19, "B", "Mode B response datagram minus plain response datagram")
    metric("handshake_payload_framing_bytes", "<=", 64, "B", "handshake bytes per message in the INIT and RESP payloads beyond the crypto objects")
    metric("bytes_per_idle_session", "<=", 4096, "B", "server RSS growth per live idle Mode B session (W=64)")
    metric("flood_p99_ratio", "<=", 3, "x", "p99 of protected requests during a handshake flood over p99 without")
    if ("sign_v2_vs_plain_throughput" in base)
        metric("sign_v2_vs_plain_throughput", ">=", 2 * base["sign_v2_vs_plain_throughput"], "x", "Mode A v2 requests/s over plain CoAP, at least twice the baseline (bench/baseline.json)")

    # ---- results.json ----
    js = out "/results.json"
    printf "{\n  \"date\": \"%s\",\n  \"cores\": %d,\n  \"cpu\": \"%s\",\n  \"libcoap\": \"%s\",\n", date, cores, cpu, libcoap > js
    printf "  \"targets\": {\n" > js
    for (i = 1; i <= nm; i++)
        printf "    \"%s\": {\"value\": %s, \"target\": \"%s %s\", \"met\": %s}%s\n", mname[i],
            mval[i] == "" ? "null" : sprintf("%.6g", mval[i]), mop[i], mtarget[i],
            mmet[i] == "yes" ? "true" : mmet[i] == "no" ? "false" : "null", i < nm ? "," : "" > js
    printf "  },\n  \"measurements\": {\n" > js
    nv = 0
    for (k in v) keys[++nv] = k
    for (i = 2; i <= nv; i++) { t = keys[i]; for (j = i - 1; j >= 1 && keys[j] > t; j--) keys[j + 1] = keys[j]; keys[j + 1] = t }
    for (i = 1; i <= nv; i++)
        printf "    \"%s\": %.6g%s\n", keys[i], v[keys[i]], i < nv ? "," : "" > js
    printf "  }\n}\n" > js

    # ---- chart data: label, requests/s ----
    split("tp_plain:plain (pqcoap),tp_libcoap:plain (libcoap),tp_session:Mode B,tp_session_1024:Mode B (1024 sessions),tp_oscore:OSCORE,tp_pq_oscore:OSCORE (PQ-keyed),tp_sign1:Mode A v1,tp_sign2:Mode A v2", rows, ",")
    for (i = 1; i <= 8; i++) {
        split(rows[i], kv, ":")
        if (has(kv[1] "_rps")) printf "\"%s\" %.1f\n", kv[2], v[kv[1] "_rps"] > dat
    }
    # per-suite chart: "suite" initiator-us responder-us wire-bytes datagrams; "alg" responses/s
    nsu = split("falcon512_mlkem768 falcon1024_mlkem1024 mldsa65_mlkem768 mldsa87_mlkem1024", su, " ")
    for (i = 1; i <= nsu; i++)
        if (has("handshake_cpu_us_" su[i]))
            printf "\"%s\" %.1f %.1f %.0f %.1f\n", label_of(su[i]), v["handshake_cpu_us_" su[i] "_initiator"], v["handshake_cpu_us_" su[i] "_responder"], v["handshake_wire_bytes_" su[i]], v["handshake_datagrams_" su[i]] > (dat ".suites")
    printf "" > (dat ".suites")
    nal = split("falcon-512 falcon-1024 ml-dsa-44 ml-dsa-65 ml-dsa-87", al, " ")
    for (i = 1; i <= nal; i++)
        if (has("sign_v2_rps_" al[i])) printf "\"%s\" %.1f\n", al[i], v["sign_v2_rps_" al[i]] > (dat ".algs")
    printf "" > (dat ".algs")

    # ---- results.md ----
    md = out "/results.md"
    print "# pqcoap benchmark results\n" > md
    printf "Produced by `make bench` (bench/run.sh) on %s: %d cores (%s), libcoap %s, loopback only. ", date, cores, cpu, libcoap > md
    printf "Load average of the machine at start / end: %s / %s (other work on the machine slows everything; ratios are measured side by side in one run).\n\n", v["loadavg_start"], v["loadavg_end"] > md
    print "## Targets\n" > md
    print "| metric | value | target | met | meaning |" > md
    print "|---|---|---|---|---|" > md
    for (i = 1; i <= nm; i++)
        printf "| %s | %s | %s %s %s | %s | %s |\n", mname[i], mval[i] == "" ? "-" : fmt(mval[i]), mop[i], mtarget[i], munit[i] == "x" ? "x" : munit[i], mmet[i], mtext[i] > md

    print "\n## 1. Primitives (the floor)\n" > md
    print "Operations per CPU second of one thread (CLOCK_THREAD_CPUTIME_ID, read once per batch), PQClean clean implementations (Falcon also signing from the expanded key), nettle (AES-GCM, AES-CCM, SHA-256, HMAC) and OpenSSL 3 (X25519).\n" > md
    print "| primitive | ops/s | us/op |" > md
    print "|---|---|---|" > md
    for (i = 1; i <= nk; i++)
        if (order[i] ~ /^prim_/) printf "| %s | %s | %.2f |\n", substr(order[i], 6), fmt(v[order[i]]), 1e6 / v[order[i]] > md
    if (has("prim_sum_initiator_us"))
        printf "\nPrimitive sum per handshake: initiator %.0f us (ML-KEM keygen + decaps, X25519 keygen + derive, Falcon sign + verify, HKDF, SHA-256), responder %.0f us (Falcon verify + sign, ML-KEM encaps, X25519 keygen + derive, HKDF, SHA-256); Falcon signing as %s (the fastest signing the library has that this table measures).\n", v["prim_sum_initiator_us"], v["prim_sum_responder_us"], sign_op > md

    print "\n## 2. Handshake (Mode B)\n" > md
    if (has("hs_latency_p50_us")) {
        printf "%d sequential handshakes of the library'"'"'s session client (pqcoap_session_client_connect: POST pqc/session/init, block-wise as libcoap needs) against the session server (handshakes on its handshake thread). INIT and RESP sizes and the datagrams are from handshakes made step by step (initiator functions over the plain client) through a counting UDP relay.\n\n", v["hs_count"] > md
        print "| | value |" > md
        print "|---|---|" > md
        printf "| latency median | %.2f ms |\n| latency p99 | %.2f ms |\n", v["hs_latency_p50_us"] / 1000, v["hs_latency_p99_us"] / 1000 > md
        printf "| initiator CPU per handshake (pqcoap_session_client_connect, thread CPU time: the CoAP client included) | %.0f us (%.2f x primitive sum) |\n", v["hs_client_cpu_us"], v["handshake_cpu_ratio_client"] > md
        printf "| responder CPU per handshake (session server process CPU time, all threads, / handshakes) | %.0f us (%.2f x primitive sum) |\n", v["hs_server_cpu_us"], v["handshake_cpu_ratio_server"] > md
        printf "| INIT / RESP payload | %d / %d B, crypto objects %d / %d B |\n", v["hs_init_bytes"], v["hs_resp_bytes"], v["hs_init_crypto_bytes"], v["hs_resp_crypto_bytes"] > md
        printf "| datagrams per handshake (both directions) | %d, %d B on the wire |\n", v["hs_datagrams"], v["hs_wire_bytes"] > md
        printf "| framing per handshake message: payload / on the wire | %.1f / %.1f B |\n", v["handshake_payload_framing_bytes"], v["handshake_framing_bytes"] > md
        printf "\nFraming on the wire (handshake_framing_bytes, reported, not a target): the INIT and RESP each need two 1024-byte blocks (RFC 7959; 1024 is the largest block over UDP), so a handshake is %d datagrams. Every request block repeats Uri-Path pqc/session/init (17 B), Content-Format, Block1 or Block2, Size1 and Request-Tag, the token grows for block-wise transfers, and responses carry ETag, Block2 and Size2; the payloads themselves carry %.0f B of framing per message (ids, counters, length prefixes).\n", v["hs_datagrams"], v["handshake_payload_framing_bytes"] > md
    } else print "Not measured: the Mode B server (session endpoint) is not available in this build.\n" > md

    print "\n### Handshake per suite\n" > md
    if (has("handshake_cpu_us_falcon512_mlkem768")) {
        print "The library'"'"'s session client against one session server holding an identity of every suite (PROTOCOL.md \"Algorithms\"); in each suite both sides sign with keys of the suite'"'"'s algorithm. CPU per handshake: the client thread (initiator) and the server process (responder); bytes and datagrams: every datagram of the exchange through the counting relay, both directions.\n" > md
        print "| suite | initiator CPU us | responder CPU us | total us | bytes on the wire | datagrams |" > md
        print "|---|---|---|---|---|---|" > md
        split("falcon512_mlkem768 falcon1024_mlkem1024 mldsa65_mlkem768 mldsa87_mlkem1024", su, " ")
        for (i = 1; i <= 4; i++)
            if (has("handshake_cpu_us_" su[i]))
                printf "| %s | %.0f | %.0f | %.0f | %d | %d |\n", su[i], v["handshake_cpu_us_" su[i] "_initiator"], v["handshake_cpu_us_" su[i] "_responder"], v["handshake_cpu_us_" su[i]], v["handshake_wire_bytes_" su[i]], v["handshake_datagrams_" su[i]] > md
        print "\nThe same figures, with the Mode A v2 responses/s per signature algorithm of section 3 (keys handshake_cpu_us_<suite>, handshake_wire_bytes_<suite>, handshake_datagrams_<suite>, sign_v2_rps_<alg> in results.json):\n" > md
        print "![per-suite costs](results_suites.png)" > md
    } else print "Not measured.\n" > md

    print "\n## 3. Throughput\n" > md
    printf "Load generator: raw UDP, one socket, %s CON GET requests in flight, timed phase of %s s after 0.3 s of warm-up, median of the rounds. ", v["window"] ? v["window"] : "32", v["seconds"] ? v["seconds"] : "2" > md
    print "The resource is `time` on every server: libcoap'"'"'s coap-server-notls built-in resource (2.05, Content-Format 0, Max-Age 1, \"Mon DD HH:MM:SS\"), and the same on our server (bench/server.c). Server CPU is the server process'"'"'s share of one core over the run.\n" > md
    print "| server | requests/s | p50 ms | p99 ms | server CPU | server CPU us/request | request B | response B |" > md
    print "|---|---|---|---|---|---|---|---|" > md
    split("tp_plain:plain CoAP on pqcoap_server,tp_libcoap:plain CoAP on libcoap coap-server-notls,tp_session:Mode B (sessions),tp_session_1024:Mode B with 1024 live sessions (ours the last made),tp_oscore:OSCORE (provisioned AES-CCM-16-64-128),tp_pq_oscore:OSCORE keyed by the handshake (A256GCM),tp_sign1:Mode A v1,tp_sign2:Mode A v2 (requests presigned)", rows, ",")
    for (i = 1; i <= 8; i++) {
        split(rows[i], kv, ":"); p = kv[1]
        if (has(p "_rps"))
            printf "| %s | %s | %.3f | %.3f | %.0f%% | %.1f | %s | %s |\n", kv[2], fmt(v[p "_rps"]), v[p "_p50_us"] / 1000, v[p "_p99_us"] / 1000, 100 * v[p "_server_cpu"], v[p "_server_cpu_us_per_req"], fmt(v[p "_req_bytes"]), fmt(v[p "_resp_bytes"]) > md
        else printf "| %s | not measured | | | | | | |\n", kv[2] > md
    }
    print "\nRatios: " > md
    split("session_vs_plain_throughput session_vs_plain_throughput_1024 oscore_vs_plain_throughput pq_oscore_vs_plain_throughput sign_v1_vs_plain_throughput sign_v2_vs_plain_throughput plain_vs_libcoap_throughput", rr, " ")
    for (i = 1; i <= 7; i++) printf "%s = %s; ", rr[i], has(rr[i]) ? sprintf("%.3f", v[rr[i]]) : "not measured" > md
    print "\n\nServer CPU per request is the steadier figure on a shared machine: libcoap / ours = " (has("plain_vs_libcoap_cpu_efficiency") ? sprintf("%.3f", v["plain_vs_libcoap_cpu_efficiency"]) : "-") ", plain / Mode B = " (has("session_vs_plain_cpu_efficiency") ? sprintf("%.3f", v["session_vs_plain_cpu_efficiency"]) : "-") " (above 1: ours costs less).\n" > md
    if (has("tp_sign2_rps") || has("tp_sign1_rps"))
        printf "Mode A signs every response with Falcon-512 on the server (%.1f ms of CPU each here), which bounds it near %.0f responses/s per core whatever the transport does; the generator signs its v2 requests before the timed phase (v1 reuses one signed request, as v1 binds nothing but the message). Mode A v2 request overhead includes the PQ-Sig option (20 B) and the signature with its length.\n\n", us(sign_op) / 1000, 1e6 / us(sign_op) > md
    if (has("fill_sessions"))
        printf "The full-table row: a Mode B server with a table of 1024 sessions, %d of them made first by handshakes of other initiators and left live, then the generator'"'"'s own (the last made), loaded in each round next to the others.\n\n", v["fill_sessions"] > md
    print "Heap allocations of the server per request (malloc, calloc and realloc of all its threads, counted by the preloaded bench_alloc_count.so over one more round of each server, divided by the requests answered):\n" > md
    print "| server | allocations per request |" > md
    print "|---|---|" > md
    split("plain:allocations_per_request_plain,Mode B:allocations_per_protected_request,OSCORE (provisioned):allocations_per_request_oscore,OSCORE keyed by the handshake:allocations_per_request_pqoscore,plain on libcoap coap-server-notls:allocations_per_request_libcoap", ar, ",")
    for (i = 1; i <= 5; i++) {
        split(ar[i], kv, ":")
        printf "| %s | %s |\n", kv[1], has(kv[2]) ? sprintf("%.2f", v[kv[2]]) : "not measured" > md
    }
    print "" > md
    print "![throughput](results.png)\n" > md

    print "### Mode A v2 by signature algorithm\n" > md
    print "The same generator against a Mode A v2 server whose key is of each algorithm (bench_server sign2:ALG), as its ML-DSA-44 device: requests presigned as above, each three Block1 blocks (the 2420-byte signature), and responses larger than one 1024-byte block fetched block by block, all verified. One round of " (has("seconds_alg") ? v["seconds_alg"] : "1") " s each. sign_v2_rps_<alg> in results.json is the responses/s column.\n" > md
    print "| server key | responses/s | p50 ms | server CPU | server CPU us/response | signing alone us | request B | response B |" > md
    print "|---|---|---|---|---|---|---|---|" > md
    split("falcon-512 falcon-1024 ml-dsa-44 ml-dsa-65 ml-dsa-87", algs, " ")
    for (i = 1; i <= 5; i++) {
        p = "tp_sign2_" algs[i]; k = algs[i]; gsub("-", "", k)
        k = has("prim_" k "_sign_expanded") ? k "_sign_expanded" : k "_sign"
        if (has("sign_v2_rps_" algs[i]))
            printf "| %s | %s | %.3f | %.0f%% | %.1f | %.0f | %s | %s |\n", algs[i], fmt(v["sign_v2_rps_" algs[i]]), v[p "_p50_us"] / 1000, 100 * v[p "_server_cpu"], v[p "_server_cpu_us_per_req"], us(k), fmt(v[p "_req_bytes"]), fmt(v[p "_resp_bytes"]) > md
        else printf "| %s | not measured | | | | | | |\n", algs[i] > md
    }
    print "" > md

    print "## 4. Bytes on the wire\n" > md
    print "Real datagram sizes seen by the generator (4-byte token, Uri-Path \"time\"). The plain GET has no payload, so a protected request also pays the payload marker (1 B).\n" > md
    printf "| mode | request overhead B | response overhead B |\n|---|---|---|\n" > md
    printf "| Mode B | %s | %s |\n", has("overhead_request_bytes") ? fmt(v["overhead_request_bytes"]) : "-", has("overhead_response_bytes") ? fmt(v["overhead_response_bytes"]) : "-" > md
    split("tp_oscore:OSCORE (provisioned AES-CCM-16-64-128, empty kid, 8-byte tag);tp_pq_oscore:OSCORE keyed by the handshake (A256GCM, 1-byte kid, 16-byte tag)", orows, ";")
    for (i = 1; i <= 2; i++) {
        split(orows[i], kv, ":"); p = kv[1]
        if (has(p "_req_bytes") && has("tp_plain_req_bytes"))
            printf "| %s | %s | %s |\n", kv[2], fmt(v[p "_req_bytes"] - v["tp_plain_req_bytes"]), fmt(v[p "_resp_bytes"] - v["tp_plain_resp_bytes"]) > md
    }
    for (m = 1; m <= 2; m++)
        printf "| Mode A v%d | %s | %s |\n", m, has("overhead_sign_v" m "_request_bytes") ? fmt(v["overhead_sign_v" m "_request_bytes"]) : "-", has("overhead_sign_v" m "_response_bytes") ? fmt(v["overhead_sign_v" m "_response_bytes"]) : "-" > md

    print "\n## 5. Memory per idle session (Mode B)\n" > md
    if (has("bytes_per_idle_session"))
        printf "%d live sessions made by real handshakes (distinct initiator ids; the benchmark trust store maps them to one key), then left idle, in a server whose session table has room for them plus 64 (W = 64, %d B per table slot). Against the same server with a 64-slot table after the same warm-up: RSS %.1f MiB -> %.1f MiB, %.0f B per idle session (table slot, anti-rollback floor in the memory store, its share of the spare slots). The responder zeroes its whole table when it starts, so RSS grows by only %.0f B per session while sessions are made. %s\n", v["mem_sessions"], v["mem_session_struct_bytes"], v["mem_rss_base"] / 1048576, v["mem_rss_after"] / 1048576, v["bytes_per_idle_session"], v["mem_growth_per_session"], v["mem_sessions"] < 10000 ? "Fewer than 10,000 sessions were made to stay within the time budget (each costs a Falcon signature on both sides); the cost is linear in the number of sessions, so the per-session figure holds for 10,000." : "" > md
    else print "Not measured (Mode B server not available).\n" > md

    print "\n## 6. Handshake flood (Mode B)\n" > md
    if (has("flood_p99_ratio"))
        printf "p99 of protected GETs (one every 2 ms, one at a time) on an existing session: %.3f ms without (mean of the runs before and after the flood), %.3f ms while a flood client keeps the server busy with handshakes (%.0f handshakes/s, server CPU %.0f%%): ratio %.2f.\n", v["flood_base_p99_us"] / 1000, v["flood_p99_us"] / 1000, v["flood_hs_rate"], 100 * v["flood_hs_server_cpu"], v["flood_p99_ratio"] > md
    else print "Not measured (Mode B server not available).\n" > md

    print "\n## 7. Proxy pair\n" > md
    if (has("proxy_chain_vs_plain_throughput") && has("proxy_chain_added_latency_us"))
        printf "GET `time` through `pqcoap proxy device` and `pqcoap proxy gateway` (Mode B, one session between them) to our plain server, against the same server directly, same generator, 1 s per round. One request in flight: p50 %.3f ms direct, %.3f ms through the pair (%.0f us added: two more CoAP hops, a protected exchange and the hand-offs between I/O and forwarding thread in each proxy). %d in flight: %s requests/s direct, %s through the pair, proxy_chain_vs_plain_throughput = %.3f (each proxy forwards one request at a time, as NSTART = 1 asks).\n", v["proxy_direct_w1_p50_us"] / 1000, v["proxy_chain_w1_p50_us"] / 1000, v["proxy_chain_added_latency_us"], v["window_proxy"], fmt(v["proxy_direct_w" v["window_proxy"] "_rps"]), fmt(v["proxy_chain_w" v["window_proxy"] "_rps"]), v["proxy_chain_vs_plain_throughput"] > md
    else print "Not measured (the pqcoap CLI or Mode B not available).\n" > md

    print "\n## 7b. Observe notifications\n" > md
    if (has("observe_notifications_per_s_plain")) {
        print "One observer on 127.0.0.1 (bench_observe, 1.5 s per mode): the server notifies again as soon as the observer has taken the last notification, each a CON message, so the next one leaves once the ACK is back; verified notifications delivered to the client per second (keys observe_notifications_per_s_<mode> in results.json).\n" > md
        print "| mode | notifications/s |\n|---|---|" > md
        split("plain sign_v2 session oscore", om, " ")
        split("plain CoAP|Mode A v2|Mode B|OSCORE (provisioned context)", ol, "|")
        for (i = 1; i <= 4; i++)
            if (has("observe_notifications_per_s_" om[i]))
                printf "| %s | %s |\n", ol[i], fmt(v["observe_notifications_per_s_" om[i]]) > md
    } else print "Not measured.\n" > md

    print "\n## 8. Profile of one protected request (Mode B server)\n" > md
    np = 0
    ptotal = ""
    while ((getline line < profile) > 0) {
        if (line ~ /^profile_row /) prow[++np] = substr(line, 13)
        if (line ~ /^profile_total /) ptotal = substr(line, 15) + 0
        if (line ~ /^profile_object /) pobj[++nob] = substr(line, 16)
    }
    close(profile)
    if (ptool == "perf" && np) {
        printf "`perf record -e cpu-clock` (sampling) of the Mode B server process, all threads, during one throughput round of %s s with %s requests in flight (%s requests/s, %.1f us of server CPU per request), sampling from just after the generator'"'"'s handshake. Self time per function, the functions of 0.5 %% and more; us per request = self share x server CPU per request.\n\n", v["seconds"], v["window"], fmt(v["prof_rps"]), v["prof_server_cpu_us_per_req"] > md
        print "| self % | us per request | object | function |" > md
        print "|---|---|---|---|" > md
        for (i = 1; i <= np && i <= 30; i++) {
            split(prow[i], f, " "); fn = prow[i]; sub(/^[^ ]+ [^ ]+ /, "", fn)
            printf "| %.2f | %.2f | %s | %s |\n", f[1], f[1] * v["prof_server_cpu_us_per_req"] / 100, f[2], fn > md
        }
        if (nob) {
            print "\nSelf time by object (every function):\n" > md
            print "| self % | us per request | object |" > md
            print "|---|---|---|" > md
            for (i = 1; i <= nob; i++) {
                split(pobj[i], f, " ")
                printf "| %.2f | %.2f | %s |\n", f[1], f[1] * v["prof_server_cpu_us_per_req"] / 100, f[2] > md
            }
        }
    } else if (ptool == "callgrind" && np) {
        printf "`valgrind --tool=callgrind` on the Mode B server, instructions of its I/O thread only (`--toggle-collect=pqcoap_server_run`: the generator'"'"'s handshake, on the handshake thread, is left out) over a throughput round of %s s with 4 requests in flight, %d requests answered under valgrind: %s instructions per request in all; by function (self, the 25 largest):\n\n", v["seconds"], v["prof_answered"], ptotal != "" ? fmt(ptotal) : "?" > md
        print "| instructions per request | object | function |" > md
        print "|---|---|---|" > md
        for (i = 1; i <= np; i++) {
            split(prow[i], f, " "); fn = prow[i]; sub(/^[^ ]+ [^ ]+ /, "", fn)
            printf "| %s | %s | %s |\n", fmt(f[1] + 0), f[2], fn > md
        }
    } else
        print "No profile: neither `perf record` nor valgrind'"'"'s callgrind works in this environment (make bench records one when either does).\n" > md

    print "\n## 9. Before and after the performance work\n" > md
    if (length(base)) {
        printf "\"before\": bench/baseline.json (make bench on %s, the same 2-core machine); \"now\": this run; \"now / before\" above 1 means a larger figure now (better for requests/s and ratios, worse for CPU and us/op). The primitive figures of the baseline were timed with a clock read after every operation, which overstates the symmetric primitives; the handshake ratios of the baseline are over a sum with Falcon-512 signing from the packed key%s.\n\n", base_date != "" ? base_date : "?", sign_op == "falcon512_sign_expanded" ? ", now with the expanded key" : "" > md
        print "| metric | before | now | now / before |" > md
        print "|---|---|---|---|" > md
        bn("server CPU us/request, plain CoAP", "tp_plain_server_cpu_us_per_req")
        bn("server CPU us/request, Mode B", "tp_session_server_cpu_us_per_req")
        bn("server CPU us/request, Mode B with 1024 sessions", "tp_session_1024_server_cpu_us_per_req")
        bn("server CPU us/request, OSCORE (provisioned)", "tp_oscore_server_cpu_us_per_req")
        bn("server CPU us/request, OSCORE keyed by the handshake", "tp_pq_oscore_server_cpu_us_per_req")
        bn("server CPU us/request, libcoap", "tp_libcoap_server_cpu_us_per_req")
        bn("session_vs_plain_throughput", "session_vs_plain_throughput")
        bn("session_vs_plain_throughput_1024", "session_vs_plain_throughput_1024")
        bn("session_vs_plain_cpu_efficiency", "session_vs_plain_cpu_efficiency")
        bn("oscore_vs_plain_throughput", "oscore_vs_plain_throughput")
        bn("pq_oscore_vs_plain_throughput", "pq_oscore_vs_plain_throughput")
        bn("plain_vs_libcoap_throughput", "plain_vs_libcoap_throughput")
        bn("allocations per request, plain CoAP", "allocations_per_request_plain")
        bn("allocations per request, Mode B (allocations_per_protected_request)", "allocations_per_protected_request")
        bn("allocations per request, OSCORE (provisioned)", "allocations_per_request_oscore")
        bn("allocations per request, OSCORE keyed by the handshake", "allocations_per_request_pqoscore")
        bn("handshake_cpu_ratio_client", "handshake_cpu_ratio_client")
        bn("handshake_cpu_ratio_server", "handshake_cpu_ratio_server")
        bn("initiator CPU us per handshake", "hs_client_cpu_us")
        bn("responder CPU us per handshake", "hs_server_cpu_us")
        bn("Mode A v2 responses/s (Falcon-512)", "tp_sign2_rps")
        bn("sign_v2_vs_plain_throughput", "sign_v2_vs_plain_throughput")
        for (i = 1; i <= nal; i++) bn("sign_v2_rps_" al[i], "sign_v2_rps_" al[i])
        # primitives: us/op, every key of either side
        np2 = 0
        for (k in base) if (k ~ /^prim_/ && k !~ /^prim_sum/) pk[++np2] = k
        for (k in v) if (k ~ /^prim_/ && k !~ /^prim_sum/ && !(k in base)) pk[++np2] = k
        for (i = 2; i <= np2; i++) { t = pk[i]; for (j = i - 1; j >= 1 && pk[j] > t; j--) pk[j + 1] = pk[j]; pk[j + 1] = t }
        for (i = 1; i <= np2; i++) bn(substr(pk[i], 6) " us/op", pk[i], 1)
    } else print "No baseline (bench/baseline.json) found.\n" > md

    print "\n## Targets not met: why\n" > md
    nmiss = 0
    for (i = 1; i <= nm; i++) {
        if (mmet[i] != "no") continue
        nmiss++
        n = mname[i]
        if (n == "session_vs_plain_throughput" || n == "session_vs_plain_throughput_1024")
            printf "- **%s** (%.3f): server CPU per request: plain %.1f us, Mode B %.1f us%s; the primitives of one protected request at their own speed (a key-chain step each way, AES-GCM open and seal) are %.1f us, and the server makes %s heap allocations per protected request against %s for plain CoAP. A ratio of 0.85 allows Mode B to add %.1f us per request (plain x (1/0.85 - 1)). Where the rest goes: the profile in section 8.\n", n, mval[i], v["tp_plain_server_cpu_us_per_req"], v["tp_session_server_cpu_us_per_req"], has("tp_session_1024_server_cpu_us_per_req") ? sprintf(" (%.1f us with 1024 live sessions)", v["tp_session_1024_server_cpu_us_per_req"]) : "", v["session_crypto_floor_us"], has("allocations_per_protected_request") ? sprintf("%.1f", v["allocations_per_protected_request"]) : "?", has("allocations_per_request_plain") ? sprintf("%.1f", v["allocations_per_request_plain"]) : "?", v["tp_plain_server_cpu_us_per_req"] * (1 / 0.85 - 1) > md
        else if (n == "allocations_per_protected_request")
            printf "- **%s** (%.1f): counted over every thread of the Mode B server, against %s per request for plain CoAP on the same server and %s for libcoap'"'"'s own coap-server-notls. What remains is libcoap'"'"'s: 4.3.1 allocates every PDU it receives or sends (coap_pdu_init: the PDU and its buffer, for the request and for the response) and the Uri-Path string of its resource look-up (coap_new_string); the protection layer, the session table and the crypto allocate nothing per request (callgrind: malloc callers by function). Two or fewer would take a libcoap built with static PDU pools, which Debian'"'"'s is not.\n", n, mval[i], has("allocations_per_request_plain") ? sprintf("%.1f", v["allocations_per_request_plain"]) : "?", has("allocations_per_request_libcoap") ? sprintf("%.1f", v["allocations_per_request_libcoap"]) : "?" > md
        else if (n == "plain_vs_libcoap_throughput")
            printf "- **%s** (%.3f): requests/s on this shared, loaded machine vary by tens of percent between rounds (see raw values in results.json); the server CPU per request, which does not depend on scheduling, gives libcoap / ours = %.3f. Both servers make the same system calls per request (strace: one recvmsg, one sendmsg, two timerfd_settime, two epoll waits).\n", n, mval[i], v["plain_vs_libcoap_cpu_efficiency"] > md
        else if (n == "flood_p99_ratio")
            printf "- **%s** (%.1f): the server answers handshakes on its handshake thread, which runs at a lower priority (nice +10) than the I/O thread; on %d cores that thread, the I/O thread, the flood client, the latency generator and any other load on the machine still compete, and a protected request waits whenever the I/O thread is not scheduled. The baseline p99 (%.2f ms) is itself set by other load on the machine.\n", n, mval[i], cores, v["flood_base_p99_us"] / 1000 > md
        else if (n ~ /^handshake_cpu_ratio/)
            printf "- **%s** (%.2f): the Falcon-512 signature is more than 90%% of a handshake and its time varies from call to call (rejection sampling); on a loaded machine the primitive loop and the handshakes run at different moments (the primitives are measured before and after the handshakes and averaged). Beyond the primitives each side runs the CoAP exchange (block-wise request/response pairs) and the endpoint'"'"'s bookkeeping.\n", n, mval[i] > md
        else if (n == "sign_v2_vs_plain_throughput" && base["tp_sign2_rps"] > 0 && base["tp_plain_rps"] > 0 && has("tp_sign2_rps") && has("tp_sign2_server_cpu_us_per_req"))
            printf "- **%s** (%.4f): Mode A v2 responses/s went from %.0f to %.0f (x%.2f; the server signs from its expanded Falcon-512 key, %.0f us per signature against %.0f us from the packed key), but plain CoAP on our server itself became x%.2f faster in the same work, so the ratio moved x%.2f. One Falcon-512 signature per response is %.0f%% of the server'"'"'s %.0f us of CPU per response; the project'"'"'s PQClean package has only the portable (clean) Falcon, so a further factor would take a vectorised Falcon or another algorithm (ML-DSA-44 serves %s responses/s, table below).\n", n, mval[i], base["tp_sign2_rps"], v["tp_sign2_rps"], v["tp_sign2_rps"] / base["tp_sign2_rps"], us(sign_op), us("falcon512_sign"), v["tp_plain_rps"] / base["tp_plain_rps"], mval[i] / base["sign_v2_vs_plain_throughput"], 100 * us(sign_op) / v["tp_sign2_server_cpu_us_per_req"], v["tp_sign2_server_cpu_us_per_req"], has("sign_v2_rps_ml-dsa-44") ? sprintf("%.0f", v["sign_v2_rps_ml-dsa-44"]) : "?" > md
        else
            printf "- **%s** (%s): see the section above.\n", n, fmt(mval[i]) > md
    }
    if (!nmiss) print "Every measured target is met.\n" > md
}' "$RAW"
