/* Benchmark server: a pqcoap server on 127.0.0.1 (ephemeral port) serving GET "time" the
 * way libcoap's example server (coap-server) does: 2.05, Content-Format 0, Max-Age 1 and
 * the text "Mon DD HH:MM:SS", in plain CoAP or one of the security modes. Prints
 * "port N" once it listens and serves until SIGTERM or SIGINT.
 * Usage: bench_server plain|sign1|sign2|sign2:ALG|session|suites|oscore|pqoscore [--probe]
 * (sign2:ALG: Mode A v2 with a server key of signature algorithm ALG, e.g. ml-dsa-65, and
 * the ML-DSA-44 device BENCH_DEVICE_ID trusted; oscore: the provisioned context of
 * bench_util.h; pqoscore: contexts keyed by handshakes with the benchmark client, A256GCM as
 * it asks, no request limit per context; suites: a session server holding an identity of
 * every suite, trusting one client per suite, see BENCH_N_SUITES; --probe: only checks that
 * the mode is available, exit status 0 if so). */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "pqcoap/oscore_endpoint.h"

static pqcoap_server *g_srv;

static void on_signal(int sig)
{
    (void)sig;
    pqcoap_server_stop(g_srv);
}

/* GET time: as libcoap's coap-server "time" resource without a query. */
static pqcoap_err get_time(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    char text[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(text, sizeof text, "%b %d %H:%M:%S", &tm);
    PQCOAP_TRY(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, 0));
    PQCOAP_TRY(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, n);
}

/* ---- trust store: a memory store that also trusts every "bench-client-<k>" id ----
 * The memory and flood benchmarks need thousands of initiators; a store refuses two ids
 * with one key, and a Falcon key pair per initiator would cost more than the measurement,
 * so these ids resolve to the benchmark client's key here. Everything else is the memory
 * store's. */

typedef struct bench_store {
    pqcoap_store inner;
    pqcoap_peer client;
} bench_store;

static pqcoap_err bs_add(void *c, const pqcoap_peer *p)
{
    bench_store *b = c;
    return b->inner.ops->peer_add(b->inner.ctx, p);
}
static pqcoap_err bs_remove(void *c, const char *id)
{
    bench_store *b = c;
    return b->inner.ops->peer_remove(b->inner.ctx, id);
}
static pqcoap_err bs_by_id(void *c, const char *id, pqcoap_peer *out)
{
    bench_store *b = c;
    if (strncmp(id, "bench-client-", 13) != 0)
        return b->inner.ops->peer_by_id(b->inner.ctx, id, out);
    *out = b->client;
    snprintf(out->id, sizeof out->id, "%s", id);
    return PQCOAP_OK;
}
static pqcoap_err bs_by_kid(void *c, const uint8_t kid[PQCOAP_KID_LEN], pqcoap_peer *out)
{
    bench_store *b = c;
    return b->inner.ops->peer_by_kid(b->inner.ctx, kid, out);
}
static pqcoap_err bs_list(void *c, pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer), void *arg)
{
    bench_store *b = c;
    return b->inner.ops->peer_list(b->inner.ctx, cb, arg);
}
static pqcoap_err bs_floor_get(void *c, const char *id, pqcoap_floor *out)
{
    bench_store *b = c;
    return b->inner.ops->floor_get(b->inner.ctx, id, out);
}
static pqcoap_err bs_floor_set(void *c, const char *id, const pqcoap_floor *f)
{
    bench_store *b = c;
    return b->inner.ops->floor_set(b->inner.ctx, id, f);
}
static pqcoap_err bs_sign_floor_get(void *c, const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq)
{
    bench_store *b = c;
    return b->inner.ops->sign_floor_get(b->inner.ctx, kid, seq);
}
static pqcoap_err bs_sign_floor_set(void *c, const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq)
{
    bench_store *b = c;
    return b->inner.ops->sign_floor_set(b->inner.ctx, kid, seq);
}
static pqcoap_err bs_reserve(void *c, const char *name, uint64_t count, uint64_t *first)
{
    bench_store *b = c;
    return b->inner.ops->seq_reserve(b->inner.ctx, name, count, first);
}
static pqcoap_err bs_peek(void *c, const char *name, uint64_t *next)
{
    bench_store *b = c;
    return b->inner.ops->seq_peek(b->inner.ctx, name, next);
}
static void bs_close(void *c)
{
    bench_store *b = c;
    pqcoap_store_close(&b->inner);
}
static pqcoap_err bs_change_count(void *c, uint64_t *count)
{
    bench_store *b = c;
    return b->inner.ops->change_count(b->inner.ctx, count);
}

static const pqcoap_store_ops bench_store_ops = {
    bs_add, bs_remove, bs_by_id, bs_by_kid, bs_list, bs_floor_get, bs_floor_set,
    bs_sign_floor_get, bs_sign_floor_set, bs_reserve, bs_peek, bs_close, bs_change_count};

static bench_store g_bstore;
static pqcoap_identity g_server_id, g_client_id;

/* Opens the trust store of the secured modes: the client pinned as BENCH_CLIENT_ID. */
static pqcoap_err open_store(pqcoap_store *out)
{
    PQCOAP_TRY(bench_identity(BENCH_SERVER_ID, &g_server_id));
    PQCOAP_TRY(bench_identity(BENCH_CLIENT_ID, &g_client_id));
    PQCOAP_TRY(pqcoap_store_open_memory(&g_bstore.inner));
    pqcoap_peer *p = &g_bstore.client;
    PQCOAP_TRY(pqcoap_peer_from_pubkey(BENCH_CLIENT_ID, &g_client_id.pub, 0, p));
    PQCOAP_TRY(pqcoap_store_peer_add(&g_bstore.inner, p));
    out->ops = &bench_store_ops;
    out->ctx = &g_bstore;
    return PQCOAP_OK;
}

static pqcoap_store g_store;
static pqcoap_identity g_suite_id[BENCH_N_SUITES];

/* Adds the identities of the per-suite benchmark: the server's of every suite (kept in
 * g_suite_id) and the client of each suite, trusted. */
static pqcoap_err add_suite_identities(void)
{
    for (uint8_t i = 0; i < BENCH_N_SUITES; i++) {
        uint8_t suite = (uint8_t)(i + 1);
        const char *name = pqcoap_suite_name(suite), *alg = pqcoap_suite_sig_alg(suite);
        char id[64];
        pqcoap_identity client;
        pqcoap_peer peer;
        snprintf(id, sizeof id, "bench-server-%s", name);
        PQCOAP_TRY(bench_identity_alg(id, alg, &g_suite_id[i]));
        snprintf(id, sizeof id, "suite-client-%s", name);
        PQCOAP_TRY(bench_identity_alg(id, alg, &client));
        pqcoap_err err = pqcoap_peer_from_pubkey(id, &client.pub, 0, &peer);
        if (err == PQCOAP_OK)
            err = pqcoap_store_peer_add(&g_bstore.inner, &peer);
        pqcoap_identity_wipe(&client);
        PQCOAP_TRY(err);
    }
    return PQCOAP_OK;
}

/* ---- Mode B: the session server (include/pqcoap/session_endpoint.h) ---- */

/* Session table size: BENCH_SLOTS from the environment, else this. */
#define BENCH_MAX_SESSIONS 1024

static pqcoap_session_server *g_sess;

static pqcoap_err make_session_server(pqcoap_server_config *coap, int suites, char *msg,
                                      size_t cap)
{
    pqcoap_session_server_config sc = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    pqcoap_responder_key more[BENCH_N_SUITES - 1];
    const char *env = getenv("BENCH_SLOTS");
    PQCOAP_TRY(open_store(&g_store));
    sc.id = BENCH_SERVER_ID;
    sc.sk = g_server_id.sk;
    sc.sk_len = PQCOAP_SIGN_SK_LEN;
    if (suites) {
        /* one identity per suite; the clients offer one suite each */
        PQCOAP_TRY(add_suite_identities());
        sc.sk = g_suite_id[0].sk;
        for (size_t i = 1; i < BENCH_N_SUITES; i++)
            more[i - 1] = (pqcoap_responder_key){(uint8_t)(i + 1), g_suite_id[i].sk,
                                                 pqcoap_identity_sk_len(&g_suite_id[i]),
                                                 PQCOAP_USAGE_GENERAL};
        sc.more = more;
        sc.n_more = BENCH_N_SUITES - 1;
    }
    sc.store = &g_store;
    sc.max_sessions = env && atol(env) > 0 ? (size_t)atol(env) : BENCH_MAX_SESSIONS;
    sc.handshakes_per_s = 0;        /* every client of the benchmark is 127.0.0.1 */
    sc.max_pending_handshakes = 256;
    sc.coap = *coap;
    return pqcoap_session_server_create(&sc, &g_sess, msg, cap);
}

/* ---- Mode A: the signing server layer (include/pqcoap/sign_endpoint.h) ---- */

static pqcoap_sign_server *g_sign;

/* v1: the client key pinned for v1; v2: the client trusted by kid in the store; with `alg`
 * (v2), a server key of that algorithm and the device BENCH_DEVICE_ID trusted too. */
static pqcoap_err make_sign_server(int version, const char *alg, pqcoap_server_config *cfg,
                                   pqcoap_server **out, char *msg, size_t cap)
{
    pqcoap_sign_server_config sc = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    PQCOAP_TRY(open_store(&g_store));
    if (alg) {
        pqcoap_identity device;
        pqcoap_peer peer;
        PQCOAP_TRY(bench_identity_alg(BENCH_SERVER_ID, alg, &g_server_id));
        PQCOAP_TRY(bench_identity_alg(BENCH_DEVICE_ID, BENCH_DEVICE_ALG, &device));
        pqcoap_err err = pqcoap_peer_from_pubkey(BENCH_DEVICE_ID, &device.pub, 0, &peer);
        pqcoap_identity_wipe(&device);
        PQCOAP_TRY(err);
        PQCOAP_TRY(pqcoap_store_peer_add(&g_store, &peer));
        /* the device's signature makes each request three Block1 blocks, and the window
         * of the generator has them in flight together */
        cfg->max_transfers = cfg->max_transfers_per_peer = 1024;
    }
    if (version == 1) {
        PQCOAP_TRY(bench_identity_v1(BENCH_SERVER_ID, &g_server_id));
        PQCOAP_TRY(bench_identity_v1(BENCH_CLIENT_ID, &g_client_id));
        sc.policy = PQCOAP_SIGN_V1_ONLY;
        sc.v1_keys = &g_client_id.pub;
        sc.n_v1_keys = 1;
    }
    PQCOAP_TRY(pqcoap_sign_server_new(&g_server_id, &g_store, &sc, &g_sign));
    cfg->layer = pqcoap_sign_server_layer(g_sign);
    return pqcoap_server_create(cfg, out, msg, cap);
}

/* ---- OSCORE (include/pqcoap/oscore_endpoint.h) ---- */

static pqcoap_oscore_server *g_os;

static pqcoap_err make_oscore_server(int keyed, pqcoap_server_config *cfg, pqcoap_server **out,
                                     char *msg, size_t cap)
{
    PQCOAP_TRY(open_store(&g_store));
    PQCOAP_TRY(pqcoap_oscore_server_new(&g_store, NULL, &g_os));
    if (!keyed) {
        /* the context in libcoap's format, without Echo recovery: a generator never
         * meets a restarted server */
        pqcoap_oscore_conf conf;
        char hex[33], text[256];
        uint8_t secret[16];
        bench_oscore_secret(hex, secret);
        snprintf(text, sizeof text, "master_secret,hex,%s\nsender_id,hex,01\n"
                 "recipient_id,hex,\"\"\nrfc8613_b_1_2,bool,false\n", hex);
        pqcoap_err err = pqcoap_oscore_conf_parse(text, strlen(text), &conf, msg, cap);
        if (err == PQCOAP_OK)
            err = pqcoap_oscore_server_add_conf(g_os, &conf);
        pqcoap_oscore_conf_wipe(&conf);
        PQCOAP_TRY(err);
    }
    cfg->layer = pqcoap_oscore_server_layer(g_os);
    PQCOAP_TRY(pqcoap_server_create(cfg, out, msg, cap));
    if (!keyed)
        return PQCOAP_OK;
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    kc.id = BENCH_SERVER_ID;
    kc.sk = g_server_id.sk;
    kc.sk_len = PQCOAP_SIGN_SK_LEN;
    kc.store = &g_store;
    kc.max_msgs = UINT32_MAX; /* one context for the whole run, as a session would be renewed */
    return pqcoap_oscore_server_keying(g_os, *out, &kc, msg, cap);
}

/* Creates the server of `mode` on 127.0.0.1, ephemeral port (a session server's CoAP
 * server is owned by g_sess). */
static pqcoap_err make_server(const char *mode, pqcoap_server **out, char *msg, size_t cap)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = 0;
    snprintf(msg, cap, "cannot set up the mode");
    if (strcmp(mode, "plain") == 0)
        return pqcoap_server_create(&cfg, out, msg, cap);
    if (strcmp(mode, "sign1") == 0 || strcmp(mode, "sign2") == 0)
        return make_sign_server(mode[4] - '0', NULL, &cfg, out, msg, cap);
    if (strncmp(mode, "sign2:", 6) == 0)
        return make_sign_server(2, mode + 6, &cfg, out, msg, cap);
    if (strcmp(mode, "oscore") == 0 || strcmp(mode, "pqoscore") == 0)
        return make_oscore_server(mode[0] == 'p', &cfg, out, msg, cap);
    if (strcmp(mode, "session") == 0 || strcmp(mode, "suites") == 0) {
        PQCOAP_TRY(make_session_server(&cfg, strcmp(mode, "suites") == 0, msg, cap));
        *out = pqcoap_session_server_coap(g_sess);
        return PQCOAP_OK;
    }
    snprintf(msg, cap, "unknown mode '%s'", mode);
    return PQCOAP_ERR_ARG;
}

static void free_server(pqcoap_server *srv)
{
    pqcoap_oscore_server_stop(g_os); /* its handshake thread answers through srv */
    if (g_sess)
        pqcoap_session_server_free(g_sess); /* frees its CoAP server */
    else
        pqcoap_server_free(srv);
    pqcoap_sign_server_free(g_sign);
    pqcoap_oscore_server_free(g_os);
    if (g_store.ops)
        pqcoap_store_close(&g_store);
    pqcoap_identity_wipe(&g_server_id);
    for (size_t i = 0; i < BENCH_N_SUITES; i++)
        pqcoap_identity_wipe(&g_suite_id[i]);
}

int main(int argc, char **argv)
{
    int probe = argc == 3 && strcmp(argv[2], "--probe") == 0;
    if (argc != 2 && !probe) {
        fprintf(stderr, "usage: bench_server plain|sign1|sign2|sign2:ALG|session|suites|oscore|"
                        "pqoscore [--probe]\n");
        return 2;
    }
    char msg[200];
    pqcoap_server *srv = NULL;
    if (make_server(argv[1], &srv, msg, sizeof msg) != PQCOAP_OK ||
        pqcoap_server_handle(srv, "time", PQCOAP_GET, get_time, NULL) != PQCOAP_OK) {
        fprintf(stderr, "bench_server: %s\n", msg);
        free_server(srv);
        return 1;
    }
    if (probe) {
        free_server(srv);
        return 0;
    }
    g_srv = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("port %u\n", pqcoap_server_port(srv));
    fflush(stdout);
    pqcoap_err err = pqcoap_server_run(srv);
    free_server(srv);
    return err == PQCOAP_OK ? 0 : 1;
}
