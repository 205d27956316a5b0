/* Mode B benchmarks besides throughput: handshake latency and CPU on each side, handshake
 * bytes on the wire (through a counting UDP relay), server memory per idle session, and a
 * handshake flood that keeps the server busy while bench_load measures request latency,
 * and a table filled with live sessions ahead of a throughput run.
 * Usage: bench_session handshake PORT SERVER_PID N
 *        bench_session memory PORT SERVER_PID N BASE_PORT BASE_PID
 *        bench_session flood PORT SERVER_PID SECONDS N_INITS
 *        bench_session suites PORT SERVER_PID N     (against bench_server suites)
 *        bench_session fill PORT SERVER_PID N       (N live sessions, then idle)
 * Initiator ids: handshake uses the library's session client as "bench-client-hs" and takes
 * INIT and RESP apart as BENCH_CLIENT_ID; memory, flood and fill use "bench-client-<k>" (the
 * benchmark server trusts these ids with the client key). flood prints "ready" once its
 * INITs are signed, then floods for SECONDS. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define HS_WARMUP 3
#define HS_WIRE_RUNS 5
#define RELAY_DGRAM 4096

static pqcoap_identity g_me, g_server;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- counting UDP relay: client <-> relay <-> server ---- */

typedef struct relay {
    int front, back;                /* front: the clients' side; back: connected to server */
    uint16_t port;
    struct sockaddr_in client;
    int have_client;
    atomic_int stop;
    int verbose;
    unsigned long dgrams;
    uint64_t bytes;
    pthread_t thread;
} relay;

/* With BENCH_VERBOSE set: one line per datagram on stderr (direction, size, CoAP header
 * and options as decoded), to see where handshake bytes go. */
static void relay_log(const relay *r, const char *dir, const uint8_t *p, size_t len)
{
    bench_dgram d;
    if (!r->verbose || bench_decode(p, len, &d) != PQCOAP_OK)
        return;
    fprintf(stderr, "%s %4zu B: type %u code %u.%02u token %zu B, options", dir, len, d.type,
            d.msg.code >> 5, d.msg.code & 31, d.msg.token_len);
    for (size_t i = 0; i < d.msg.n_opts; i++)
        fprintf(stderr, " %u(%zu B)", d.opts[i].number, d.opts[i].len);
    fprintf(stderr, ", payload %zu B\n", d.msg.payload_len);
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    uint8_t buf[RELAY_DGRAM];
    while (!atomic_load(&r->stop)) {
        struct pollfd p[2] = {{r->front, POLLIN, 0}, {r->back, POLLIN, 0}};
        if (poll(p, 2, 20) <= 0)
            continue;
        socklen_t len = sizeof r->client;
        ssize_t n;
        if (p[0].revents & POLLIN &&
            (n = recvfrom(r->front, buf, sizeof buf, 0, (struct sockaddr *)&r->client, &len)) > 0) {
            r->have_client = 1;
            relay_log(r, "c->s", buf, (size_t)n);
            r->dgrams++;
            r->bytes += (uint64_t)n;
            (void)!send(r->back, buf, (size_t)n, 0);
        }
        if (p[1].revents & POLLIN && (n = recv(r->back, buf, sizeof buf, 0)) > 0 && r->have_client) {
            relay_log(r, "s->c", buf, (size_t)n);
            r->dgrams++;
            r->bytes += (uint64_t)n;
            (void)!sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&r->client,
                          sizeof r->client);
        }
    }
    return NULL;
}

static int relay_start(relay *r, uint16_t server_port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(r, 0, sizeof *r);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->front = socket(AF_INET, SOCK_DGRAM, 0);
    r->back = socket(AF_INET, SOCK_DGRAM, 0);
    if (r->front < 0 || r->back < 0 || bind(r->front, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(r->front, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    r->port = ntohs(sa.sin_port);
    sa.sin_port = htons(server_port);
    if (connect(r->back, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    atomic_init(&r->stop, 0);
    r->verbose = getenv("BENCH_VERBOSE") != NULL;
    return pthread_create(&r->thread, NULL, relay_main, r) == 0 ? 0 : -1;
}

static void relay_stop(relay *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->front);
    close(r->back);
}

/* ---- handshake: latency, CPU per side, bytes ---- */

/* Opens a library session client as `me` (id) pinning `server` for the server on `port`. */
static pqcoap_err suite_client(uint16_t port, const char *id, const pqcoap_identity *me,
                               const pqcoap_identity *server, const pqcoap_store *st,
                               pqcoap_session_client **out)
{
    char uri[64], msg[200];
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = id;
    cfg.sk = me->sk;
    cfg.sk_len = pqcoap_identity_sk_len(me);
    cfg.alg = pqcoap_pubkey_alg(&me->pub);
    cfg.server_id = BENCH_SERVER_ID;
    cfg.server_pk = server->pub.pk; /* the suite follows from its algorithm */
    cfg.server_pk_len = server->pub.pk_len;
    cfg.store = st;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", port);
    pqcoap_err err = pqcoap_session_client_open(uri, &cfg, out, msg, sizeof msg);
    if (err != PQCOAP_OK)
        fprintf(stderr, "bench_session: session client: %s\n", msg);
    return err;
}

/* Handshakes of the library's session client: latency as the client sees it, this thread's
 * CPU time (the initiator) and the server process's (the responder) per handshake. */
static int cmd_handshake(uint16_t port, pid_t pid, size_t n)
{
    pqcoap_store st;
    pqcoap_session_client *sc = NULL;
    double *lat = calloc(n, sizeof *lat);
    uint64_t client_cpu = 0;
    if (!lat || pqcoap_store_open_memory(&st) != PQCOAP_OK ||
        suite_client(port, "bench-client-hs", &g_me, &g_server, &st, &sc) != PQCOAP_OK)
        return 1;
    for (size_t i = 0; i < HS_WARMUP; i++)
        if (pqcoap_session_client_connect(sc) != PQCOAP_OK)
            return 1;
    uint64_t cpu0 = bench_proc_cpu_ns(pid);
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns(), c0 = bench_thread_cpu_ns();
        pqcoap_err err = pqcoap_session_client_connect(sc);
        uint64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
        if (err != PQCOAP_OK) {
            fprintf(stderr, "bench_session: handshake: %s (%s)\n", pqcoap_strerror(err),
                    pqcoap_session_client_last_error(sc));
            return 1;
        }
        lat[i] = (double)(t1 - t0) / 1000.0;
        client_cpu += c1 - c0;
    }
    uint64_t cpu1 = bench_proc_cpu_ns(pid);
    pqcoap_session_client_free(sc);
    pqcoap_store_close(&st);
    bench_out("hs_count", (double)n);
    bench_out("hs_latency_p50_us", bench_quantile(lat, n, 0.50));
    bench_out("hs_latency_p99_us", bench_quantile(lat, n, 0.99));
    bench_out("hs_client_cpu_us", (double)client_cpu / (double)n / 1000.0);
    bench_out("hs_server_cpu_us", (double)(cpu1 - cpu0) / (double)n / 1000.0);

    /* INIT and RESP taken apart: one handshake made step by step */
    pqcoap_client *cl = NULL;
    pqcoap_session s;
    bench_hs info;
    uint64_t seq = bench_wall_ms() * 1000u;
    if (bench_client(port, 1, &cl) != PQCOAP_OK ||
        bench_handshake(cl, BENCH_CLIENT_ID, &g_me, &g_server.pub, ++seq, &s, &info) != PQCOAP_OK)
        return 1;
    pqcoap_session_wipe(&s);
    pqcoap_client_free(cl);
    bench_out("hs_init_bytes", (double)info.init_len);
    bench_out("hs_resp_bytes", (double)info.resp_len);
    bench_out("hs_init_crypto_bytes", (double)info.init_crypto);
    bench_out("hs_resp_crypto_bytes", (double)info.resp_crypto);
    bench_out("hs_sig_i_bytes", (double)info.sig_i_len);
    bench_out("hs_sig_r_bytes", (double)info.sig_r_len);
    double crypto = (double)(info.init_crypto + info.resp_crypto);
    bench_out("handshake_payload_framing_bytes",
              ((double)(info.init_len + info.resp_len) - crypto) / 2.0);

    /* the same handshakes through the counting relay: every datagram of the exchange */
    relay r;
    size_t crypto_sum = 0;
    if (relay_start(&r, port) != 0 || bench_client(r.port, 1, &cl) != PQCOAP_OK)
        return 1;
    for (size_t i = 0; i < HS_WIRE_RUNS; i++) {
        if (bench_handshake(cl, BENCH_CLIENT_ID, &g_me, &g_server.pub, ++seq, &s, &info) != PQCOAP_OK)
            return 1;
        crypto_sum += info.init_crypto + info.resp_crypto;
        pqcoap_session_wipe(&s);
    }
    pqcoap_client_free(cl);
    pause_ms(50); /* let the relay pass the last datagrams */
    relay_stop(&r);
    double wire = (double)r.bytes / HS_WIRE_RUNS;
    bench_out("hs_datagrams", (double)r.dgrams / HS_WIRE_RUNS);
    bench_out("hs_wire_bytes", wire);
    bench_out("handshake_framing_bytes", (wire - (double)crypto_sum / HS_WIRE_RUNS) / 2.0);
    free(lat);
    return 0;
}

/* ---- per suite: CPU per side, bytes and datagrams on the wire ---- */

/* For each suite: n handshakes of the library's session client (both sides with keys of
 * the suite's algorithm), this thread's CPU (initiator) and the server's (responder) per
 * handshake; then HS_WIRE_RUNS more through the counting relay: bytes and datagrams. */
static int cmd_suites(uint16_t port, pid_t pid, size_t n)
{
    for (uint8_t s = 1; s <= BENCH_N_SUITES; s++) {
        const char *name = pqcoap_suite_name(s), *alg = pqcoap_suite_sig_alg(s);
        char id[64], key[96], tok[64];
        pqcoap_identity me, server;
        pqcoap_store st;
        pqcoap_session_client *sc = NULL;
        snprintf(tok, sizeof tok, "%s", name);
        for (char *c = tok; *c; c++)
            *c = *c == '-' ? '_' : *c;
        snprintf(id, sizeof id, "bench-server-%s", name);
        if (bench_identity_alg(id, alg, &server) != PQCOAP_OK)
            return 1;
        snprintf(id, sizeof id, "suite-client-%s", name);
        if (bench_identity_alg(id, alg, &me) != PQCOAP_OK ||
            pqcoap_store_open_memory(&st) != PQCOAP_OK ||
            suite_client(port, id, &me, &server, &st, &sc) != PQCOAP_OK)
            return 1;
        uint64_t client_cpu = 0, cpu0 = 0;
        for (size_t i = 0; i < HS_WARMUP + n; i++) {
            if (i == HS_WARMUP)
                cpu0 = bench_proc_cpu_ns(pid);
            uint64_t c0 = bench_thread_cpu_ns();
            if (pqcoap_session_client_connect(sc) != PQCOAP_OK) {
                fprintf(stderr, "bench_session: %s handshake: %s\n", name,
                        pqcoap_session_client_last_error(sc));
                return 1;
            }
            if (i >= HS_WARMUP)
                client_cpu += bench_thread_cpu_ns() - c0;
        }
        uint64_t cpu1 = bench_proc_cpu_ns(pid);
        pqcoap_session_client_free(sc);
        double ini = (double)client_cpu / (double)n / 1000.0;
        double resp = (double)(cpu1 - cpu0) / (double)n / 1000.0;
        snprintf(key, sizeof key, "handshake_cpu_us_%s_initiator", tok);
        bench_out(key, ini);
        snprintf(key, sizeof key, "handshake_cpu_us_%s_responder", tok);
        bench_out(key, resp);
        snprintf(key, sizeof key, "handshake_cpu_us_%s", tok);
        bench_out(key, ini + resp);

        relay r;
        if (relay_start(&r, port) != 0 ||
            suite_client(r.port, id, &me, &server, &st, &sc) != PQCOAP_OK)
            return 1;
        for (size_t i = 0; i < HS_WIRE_RUNS; i++)
            if (pqcoap_session_client_connect(sc) != PQCOAP_OK)
                return 1;
        pqcoap_session_client_free(sc);
        pause_ms(50); /* let the relay pass the last datagrams */
        relay_stop(&r);
        snprintf(key, sizeof key, "handshake_wire_bytes_%s", tok);
        bench_out(key, (double)r.bytes / HS_WIRE_RUNS);
        snprintf(key, sizeof key, "handshake_datagrams_%s", tok);
        bench_out(key, (double)r.dgrams / HS_WIRE_RUNS);
        pqcoap_store_close(&st);
        pqcoap_identity_wipe(&me);
        pqcoap_identity_wipe(&server);
    }
    return 0;
}

/* ---- handshakes from many initiators, a window of them in flight ---- */

typedef struct hs_batch {
    unsigned long ok, failed;
} hs_batch;

/* Takes one completion (waiting up to wait_ms) and counts it; 0 if none came. */
static int collect(pqcoap_client *cl, uint32_t wait_ms, hs_batch *b)
{
    pqcoap_completion c;
    int done = 0;
    if (pqcoap_client_poll(cl, wait_ms, &c, &done) != PQCOAP_OK || !done)
        return 0;
    if (c.err == PQCOAP_OK && c.reply.msg.code >> 5 == 2) {
        b->ok++;
    } else {
        b->failed++;
        if (getenv("BENCH_VERBOSE"))
            fprintf(stderr, "bench_session: handshake failed: %s, code %u.%02u\n",
                    pqcoap_strerror(c.err), c.reply.msg.code >> 5, c.reply.msg.code & 31);
    }
    pqcoap_reply_free(&c.reply);
    return 1;
}

static pqcoap_err send_init(pqcoap_client *cl, const uint8_t *init, size_t len)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    uint32_t id;
    req.method = PQCOAP_POST;
    req.path = "pqc/session/init";
    req.content_format = 42;
    req.payload = init;
    req.payload_len = len;
    req.no_layer = 1;
    return pqcoap_client_send(cl, &req, NULL, &id);
}

/* Makes sessions for initiators first..first+n-1 over clients cl[0..n_cl) in turn, one
 * handshake in flight on each (the client endpoint is used with one block-wise transfer at
 * a time), signing each INIT while the server works on the previous ones. */
static int many_sessions(pqcoap_client **cl, size_t n_cl, unsigned first, size_t n, hs_batch *b)
{
    static uint8_t init[PQCOAP_INIT_MAX];
    uint64_t seq = bench_wall_ms() * 1000u;
    for (size_t k = 0; k < n; k++) {
        char id[32];
        size_t len;
        snprintf(id, sizeof id, "bench-client-%u", first + (unsigned)k);
        if (bench_make_init(id, &g_me, &g_server.pub, seq, init, sizeof init, &len) != PQCOAP_OK)
            return -1;
        pqcoap_client *c = cl[k % n_cl];
        for (int guard = 0; pqcoap_client_pending(c) && guard < 100; guard++)
            collect(c, 1000, b);
        if (send_init(c, init, len) != PQCOAP_OK)
            return -1;
        for (size_t j = 0; j < n_cl; j++)
            while (collect(cl[j], 0, b))
                ;
    }
    for (size_t j = 0; j < n_cl; j++)
        for (int guard = 0; pqcoap_client_pending(cl[j]) && guard < 100; guard++)
            collect(cl[j], 1000, b);
    return 0;
}

/* RSS of a server with a table for n sessions and n live idle sessions, against the RSS of
 * the same server with a minimal table (base_pid), both after the same warm-up. */
static int cmd_memory(uint16_t port, pid_t pid, size_t n, uint16_t base_port, pid_t base_pid)
{
    enum { WARM = 16, CLIENTS = 3 };
    pqcoap_client *cl[CLIENTS] = {NULL}, *base = NULL;
    hs_batch warm = {0, 0}, b = {0, 0};
    for (size_t j = 0; j < CLIENTS; j++)
        if (bench_client(port, 1, &cl[j]) != PQCOAP_OK)
            return 1;
    if (bench_client(base_port, 1, &base) != PQCOAP_OK ||
        many_sessions(&base, 1, 0, WARM, &warm) != 0 ||
        many_sessions(cl, CLIENTS, 0, WARM, &warm) != 0)
        return 1;
    pause_ms(200);
    uint64_t rss_base = bench_proc_rss(base_pid), rss0 = bench_proc_rss(pid);
    if (many_sessions(cl, CLIENTS, WARM, n, &b) != 0)
        return 1;
    pause_ms(200);
    uint64_t rss1 = bench_proc_rss(pid);
    for (size_t j = 0; j < CLIENTS; j++)
        pqcoap_client_free(cl[j]);
    pqcoap_client_free(base);
    unsigned long live = b.ok + warm.ok / 2;
    bench_out("mem_sessions", (double)live);
    bench_out("mem_session_struct_bytes", (double)sizeof(pqcoap_session));
    bench_out("mem_failed", (double)(b.failed + warm.failed));
    bench_out("mem_rss_base", (double)rss_base);
    bench_out("mem_rss_before", (double)rss0);
    bench_out("mem_rss_after", (double)rss1);
    bench_out("mem_growth_per_session", b.ok ? ((double)rss1 - (double)rss0) / (double)b.ok : 0);
    if (live)
        bench_out("bytes_per_idle_session", ((double)rss1 - (double)rss_base) / (double)live);
    return b.ok ? 0 : 1;
}

/* N sessions of initiators bench-client-0..N-1 made and left live (fill_sessions,
 * fill_failed): the table a throughput round then meets, its session not the first. */
static int cmd_fill(uint16_t port, size_t n)
{
    enum { CLIENTS = 3 };
    pqcoap_client *cl[CLIENTS] = {NULL};
    hs_batch b = {0, 0};
    for (size_t j = 0; j < CLIENTS; j++)
        if (bench_client(port, 1, &cl[j]) != PQCOAP_OK)
            return 1;
    int rc = many_sessions(cl, CLIENTS, 0, n, &b);
    for (size_t j = 0; j < CLIENTS; j++)
        pqcoap_client_free(cl[j]);
    bench_out("fill_sessions", (double)b.ok);
    bench_out("fill_failed", (double)b.failed);
    return rc == 0 && b.ok ? 0 : 1;
}

/* ---- flood: presigned INITs of distinct initiators, a window of 4 in flight ---- */

static int cmd_flood(uint16_t port, pid_t pid, double seconds, size_t n)
{
    enum { WINDOW = 4 };
    uint8_t *inits = malloc(n * PQCOAP_INIT_MAX);
    size_t *lens = calloc(n, sizeof *lens);
    pqcoap_client *cl = NULL;
    hs_batch b = {0, 0};
    uint64_t seq = bench_wall_ms() * 1000u;
    if (!inits || !lens)
        return 1;
    for (size_t k = 0; k < n; k++) {
        char id[32];
        snprintf(id, sizeof id, "bench-client-%u", (unsigned)k);
        if (bench_make_init(id, &g_me, &g_server.pub, seq, inits + k * PQCOAP_INIT_MAX,
                            PQCOAP_INIT_MAX, &lens[k]) != PQCOAP_OK)
            return 1;
    }
    if (bench_client(port, WINDOW, &cl) != PQCOAP_OK)
        return 1;
    printf("ready\n");
    fflush(stdout);
    uint64_t t0 = bench_now_ns(), cpu0 = bench_proc_cpu_ns(pid);
    uint64_t end = t0 + (uint64_t)(seconds * 1e9);
    size_t k = 0;
    while (bench_now_ns() < end && (k < n || pqcoap_client_pending(cl))) {
        for (; k < n && pqcoap_client_pending(cl) < WINDOW; k++)
            if (send_init(cl, inits + k * PQCOAP_INIT_MAX, lens[k]) != PQCOAP_OK)
                return 1;
        collect(cl, 10, &b);
    }
    uint64_t t1 = bench_now_ns(), cpu1 = bench_proc_cpu_ns(pid);
    pqcoap_client_free(cl);
    double span = (double)(t1 - t0) / 1e9;
    bench_out("flood_hs_rate", (double)b.ok / span);
    bench_out("flood_hs_refused", (double)b.failed);
    bench_out("flood_hs_server_cpu", (double)(cpu1 - cpu0) / 1e9 / span);
    bench_out("flood_inits_used", (double)k);
    free(inits);
    free(lens);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_session handshake PORT SERVER_PID N\n"
                        "       bench_session suites PORT SERVER_PID N\n"
                        "       bench_session fill PORT SERVER_PID N\n"
                        "       bench_session memory PORT SERVER_PID N BASE_PORT BASE_PID\n"
                        "       bench_session flood PORT SERVER_PID SECONDS N_INITS\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(argv[2]);
    pid_t pid = (pid_t)atoi(argv[3]);
    if (bench_identity(BENCH_SERVER_ID, &g_server) != PQCOAP_OK ||
        bench_identity(BENCH_CLIENT_ID, &g_me) != PQCOAP_OK)
        return 1;
    int rc = 2;
    if (strcmp(argv[1], "handshake") == 0)
        rc = cmd_handshake(port, pid, (size_t)atoi(argv[4]));
    else if (strcmp(argv[1], "suites") == 0)
        rc = cmd_suites(port, pid, (size_t)atoi(argv[4]));
    else if (strcmp(argv[1], "fill") == 0)
        rc = cmd_fill(port, (size_t)atoi(argv[4]));
    else if (strcmp(argv[1], "memory") == 0 && argc == 7)
        rc = cmd_memory(port, pid, (size_t)atoi(argv[4]), (uint16_t)atoi(argv[5]),
                        (pid_t)atoi(argv[6]));
    else if (strcmp(argv[1], "flood") == 0 && argc == 6)
        rc = cmd_flood(port, pid, atof(argv[4]), (size_t)atoi(argv[5]));
    pqcoap_identity_wipe(&g_me);
    return rc;
}
