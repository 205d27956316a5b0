/* Load generator: keeps a window of CON GET "time" requests in flight over one UDP socket
 * (raw datagrams, so that the generator costs little next to the server), for plain CoAP
 * or a security mode, and prints requests/s, latency percentiles, datagram sizes and the
 * server's CPU use during the timed phase.
 * Usage: bench_load MODE PORT SERVER_PID SECONDS WINDOW LABEL [PRESIGNED [PACE_US]]
 *   MODE plain | sign1 | sign2 | sign2:ALG | session | oscore | pqoscore (oscore: the
 *   provisioned AES-CCM-16-64-128 context of bench_util.h; pqoscore: an A256GCM context
 *   keyed by one handshake); PRESIGNED = number of Mode A v2 requests signed before the
 *   timed phase (the generator could not sign them as fast as the server answers: both
 *   sides pay one signature per message), 0 = not needed; PACE_US = least time between two
 *   sends (a fixed request rate for latency measurements). sign2:ALG loads bench_server
 *   sign2:ALG as its ML-DSA-44 device: each request goes in Block1 blocks, each response
 *   larger than a block comes back in Block2 blocks. With BENCH_ALLOC_FILE set (the
 *   counter file of a server run under bench_alloc_count.so), also the server's heap
 *   allocations per answered request over the same span as its CPU time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define RING 65536u                 /* request records, indexed by token mod RING */
#define MAX_WINDOW 1024
#define MAX_LAT (1u << 21)
#define DGRAM_MAX 2048
#define WARMUP_NS 300000000ull
#define TIMEOUT_NS 2000000000ull
#define DRAIN_NS 2000000000ull

typedef struct rec {
    uint32_t token;                 /* request number i, also the 4-byte token */
    int busy;
    uint64_t sent_ns;
    size_t req_len;
    uint64_t request_n;             /* Mode B: number of the request in its chain */
    uint64_t seq;                   /* Mode A v2: seq the request was signed with */
    pqcoap_oscore_binding bind;     /* OSCORE: what the response must answer */
    /* sign2:ALG, block-wise both ways */
    size_t off1;                    /* offset of the Block1 block in flight */
    uint32_t next2;                 /* number of the Block2 block asked for */
    uint8_t *first;                 /* the response's first datagram (its options) */
    size_t first_len;
    uint8_t *body;                  /* the response body so far */
    size_t body_len, resp_len;      /* ... and the bytes of all its datagrams */
} rec;

typedef struct gen gen;

/* One mode of the generator: optional set-up, building request i, checking its answer. */
typedef struct mode_ops {
    const char *name;
    pqcoap_err (*setup)(gen *g);
    pqcoap_err (*make)(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out, size_t *out_len);
    pqcoap_err (*check)(gen *g, rec *r, const pqcoap_msg *resp);
    /** Optional: takes datagram d of an exchange in progress and sends its next message
     *  (returns 1), or makes *resp the whole response (returns 0); -1 on an error. */
    int (*step)(gen *g, rec *r, const bench_dgram *d, const uint8_t *p, size_t len,
                bench_dgram *resp);
} mode_ops;

struct gen {
    const mode_ops *mode;
    int fd;
    uint16_t port;
    size_t window, presigned;
    uint64_t pace_ns, next_send;
    uint32_t next_i;
    uint16_t next_mid;
    size_t in_flight;
    rec *ring;
    double *lat;
    size_t n_lat;
    uint64_t measure_start, measure_end;
    unsigned long done, errors, lost, all_ok;
    uint64_t req_bytes, resp_bytes;
    pqcoap_identity server, me;     /* the fixed benchmark identities */
    /* Mode A */
    pqcoap_signer signer;
    uint8_t *signed_dgrams;         /* v2: presigned request datagrams, DGRAM_MAX apart;
                                       sign2:ALG: presigned payloads, SA_PAYLOAD apart */
    size_t *signed_lens;
    uint8_t (*sig_opts)[PQCOAP_SIG_OPT_LEN]; /* sign2:ALG: their PQ-Sig values */
    const char *alg;                /* sign2:ALG: the server key's algorithm */
    uint64_t seq0;                  /* v2: seq of presigned request 0 */
    uint8_t v1_payload[PQCOAP_SIGN_OVERHEAD_MAX]; /* v1: the signed empty message */
    size_t v1_len;
    pqcoap_verifier verifier;
    pqcoap_replay_table replay;
    pqcoap_replay_entry replay_entries[4];
    /* Mode B */
    pqcoap_client *hs;              /* plain client for the handshakes */
    pqcoap_session session;
    int rehandshake;                /* the session is used up: renew once nothing is in flight */
    unsigned long handshakes;
    /* OSCORE */
    pqcoap_oscore_ctx octx;
    uint64_t ssn;
};

static const uint8_t path_time[] = "time";

/* The request every mode sends: CON GET time, token = i (4 bytes), no payload. */
static void base_request(uint32_t i, uint8_t token[4], pqcoap_opt opts[1], pqcoap_msg *m)
{
    token[0] = (uint8_t)(i >> 24);
    token[1] = (uint8_t)(i >> 16);
    token[2] = (uint8_t)(i >> 8);
    token[3] = (uint8_t)i;
    opts[0].number = PQCOAP_OPT_URI_PATH;
    opts[0].value = path_time;
    opts[0].len = 4;
    memset(m, 0, sizeof *m);
    m->code = PQCOAP_GET;
    m->token = token;
    m->token_len = 4;
    m->opts = opts;
    m->n_opts = 1;
}

/* ---- plain ---- */

static pqcoap_err plain_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out,
                             size_t *out_len)
{
    (void)g;
    (void)r;
    return bench_encode(BENCH_CON, 0, req, out, DGRAM_MAX, out_len);
}

static pqcoap_err plain_check(gen *g, rec *r, const pqcoap_msg *resp)
{
    (void)g;
    (void)r;
    return resp->code == PQCOAP_CODE(2, 5) && resp->payload_len > 0 ? PQCOAP_OK
                                                                     : PQCOAP_ERR_COAP;
}

/* ---- Mode A (PROTOCOL.md "Mode A"): the server signs every response ---- */

/* Key look-up of the verifier: the server's key is the only one the generator knows. */
static pqcoap_err server_key(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    const pqcoap_pubkey *server = ctx;
    if (memcmp(kid, server->kid, 8) != 0)
        return PQCOAP_ERR_UNKNOWN_PEER;
    *key = server;
    return PQCOAP_OK;
}

static pqcoap_err sign_setup_common(gen *g)
{
    PQCOAP_TRY(pqcoap_signer_from_identity(&g->signer, &g->me, NULL));
    PQCOAP_TRY(pqcoap_replay_table_init(&g->replay, g->replay_entries, 4));
    g->verifier.policy = PQCOAP_SIGN_V1_AND_V2;
    g->verifier.v1_key = &g->server.pub;
    g->verifier.lookup = server_key;
    g->verifier.lookup_ctx = &g->server.pub;
    g->verifier.replay = &g->replay;
    return PQCOAP_OK;
}

/* v1 binds nothing but the message, so one signed empty message serves every request (the
 * property PROTOCOL.md names for v1: no anti-replay). */
static pqcoap_err sign1_setup(gen *g)
{
    PQCOAP_TRY(bench_identity_v1(BENCH_SERVER_ID, &g->server));
    PQCOAP_TRY(bench_identity_v1(BENCH_CLIENT_ID, &g->me));
    PQCOAP_TRY(sign_setup_common(g));
    return pqcoap_sign_v1(&g->signer, (const uint8_t *)"", 0, g->v1_payload,
                          sizeof g->v1_payload, &g->v1_len);
}

static pqcoap_err sign1_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out,
                             size_t *out_len)
{
    (void)r;
    pqcoap_msg m = *req;
    m.payload = g->v1_payload;
    m.payload_len = g->v1_len;
    return bench_encode(BENCH_CON, 0, &m, out, DGRAM_MAX, out_len);
}

/* v2: each request is bound to its token and a fresh seq, so they are signed ahead. */
static pqcoap_err sign2_setup(gen *g)
{
    PQCOAP_TRY(sign_setup_common(g));
    g->signed_dgrams = malloc(g->presigned * DGRAM_MAX);
    g->signed_lens = calloc(g->presigned, sizeof *g->signed_lens);
    if (!g->signed_dgrams || !g->signed_lens)
        return PQCOAP_ERR_NOMEM;
    g->seq0 = bench_wall_ms() * 1000u; /* above any seq an earlier run used */
    for (uint32_t i = 0; i < g->presigned; i++) {
        uint8_t token[4], optval[PQCOAP_SIG_OPT_LEN], payload[PQCOAP_SIGN_OVERHEAD_MAX];
        pqcoap_opt opts[2];
        pqcoap_msg m;
        size_t plen;
        base_request(i, token, opts, &m);
        PQCOAP_TRY(pqcoap_sign_v2(&g->signer, g->seq0 + i, &m, g->server.pub.kid, NULL, optval,
                                  payload, sizeof payload, &plen));
        opts[1].number = PQCOAP_OPT_PQ_SIG;
        opts[1].value = optval;
        opts[1].len = sizeof optval;
        m.n_opts = 2;
        m.payload = payload;
        m.payload_len = plen;
        PQCOAP_TRY(bench_encode(BENCH_CON, 0, &m, g->signed_dgrams + (size_t)i * DGRAM_MAX,
                                DGRAM_MAX, &g->signed_lens[i]));
    }
    return PQCOAP_OK;
}

static pqcoap_err sign2_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out,
                             size_t *out_len)
{
    (void)req;
    if (r->token >= g->presigned)
        return PQCOAP_ERR_LIMIT;
    r->seq = g->seq0 + r->token;
    *out_len = g->signed_lens[r->token];
    memcpy(out, g->signed_dgrams + (size_t)r->token * DGRAM_MAX, *out_len);
    return PQCOAP_OK;
}

static pqcoap_err sign_check(gen *g, rec *r, const pqcoap_msg *resp)
{
    pqcoap_sig_req sreq = {{0}, r->seq}; /* the request's kid and seq bind the response */
    memcpy(sreq.kid, g->signer.kid, 8);
    const uint8_t *message;
    size_t mlen;
    if (resp->code != PQCOAP_CODE(2, 5))
        return PQCOAP_ERR_COAP;
    return pqcoap_verify_msg(&g->verifier, resp, &sreq, NULL, &message, &mlen);
}

/* ---- Mode A v2 per algorithm (PROTOCOL.md Mode A v2 "Algorithms") ----
 * The device signs with ML-DSA-44 (2420 bytes), so each request is three Block1 blocks
 * (RFC 7959, with Size1 and a Request-Tag, RFC 9175, as pqcoap's client sends them); a
 * response larger than a block comes in Block2 blocks, the later ones asked for with the
 * request's options and no payload. Request i carries Uri-Query "s=<i mod window>" and is
 * sent only once request i - window is over: libcoap keeps one block-wise response per
 * resource and query for the later blocks. */

#define SA_BLOCK 1024
#define SA_SZX 6
#define SA_PAYLOAD PQCOAP_SIGN_OVERHEAD_MAX
#define SA_BODY_MAX 8192

static int sa_can_send(const gen *g)
{
    uint32_t i = g->next_i;
    const rec *prev = &g->ring[(i - (uint32_t)g->window) % RING];
    return i < g->window || !prev->busy || prev->token != i - (uint32_t)g->window;
}

/* A CoAP uint option value (RFC 7252 section 3.2) into buf; returns its length. */
static size_t sa_uint(uint32_t v, uint8_t buf[4])
{
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8)
        if (n || (v >> shift) & 0xff)
            buf[n++] = (uint8_t)(v >> shift);
    return n;
}

/* Request i before signing: the base request with Uri-Query "s=<i mod window>" in opts[1]. */
static void sa_request(const gen *g, uint32_t i, uint8_t token[4], uint8_t query[16],
                       pqcoap_opt *opts, pqcoap_msg *m)
{
    base_request(i, token, opts, m);
    int ql = snprintf((char *)query, 16, "s=%u", (unsigned)(i % g->window));
    opts[1] = (pqcoap_opt){PQCOAP_OPT_URI_QUERY, query, (size_t)ql};
    m->n_opts = 2;
}

/* Datagram of exchange i: Block1 block `num1` of its payload (num1 >= 0), or the request
 * for Block2 block `num2` without payload. */
static pqcoap_err sa_encode(gen *g, uint32_t i, long num1, long num2, uint8_t *out,
                            size_t *out_len)
{
    uint8_t token[4], query[16], b1[4], b2[4], size1[4];
    pqcoap_opt opts[8];
    pqcoap_msg m;
    sa_request(g, i, token, query, opts, &m);
    size_t n = 2;
    const uint8_t *payload = g->signed_dgrams + (size_t)i * SA_PAYLOAD;
    size_t total = g->signed_lens[i];
    if (num2 >= 0)
        opts[n++] = (pqcoap_opt){PQCOAP_OPT_BLOCK2, b2, sa_uint((uint32_t)num2 << 4 | SA_SZX, b2)};
    if (num1 >= 0) {
        size_t off = (size_t)num1 * SA_BLOCK;
        int more = off + SA_BLOCK < total;
        opts[n++] = (pqcoap_opt){PQCOAP_OPT_BLOCK1, b1,
                                 sa_uint((uint32_t)num1 << 4 | (uint32_t)more << 3 | SA_SZX, b1)};
        opts[n++] = (pqcoap_opt){PQCOAP_OPT_SIZE1, size1, sa_uint((uint32_t)total, size1)};
        opts[n++] = (pqcoap_opt){PQCOAP_OPT_REQUEST_TAG, token, sizeof token};
        m.payload = payload + off;
        m.payload_len = more ? SA_BLOCK : total - off;
    }
    opts[n++] = (pqcoap_opt){PQCOAP_OPT_PQ_SIG, g->sig_opts[i], PQCOAP_SIG_OPT_LEN};
    m.opts = opts;
    m.n_opts = n;
    return bench_encode(BENCH_CON, 0, &m, out, DGRAM_MAX, out_len);
}

static pqcoap_err sa_setup(gen *g)
{
    pqcoap_identity device;
    PQCOAP_TRY(bench_identity_alg(BENCH_SERVER_ID, g->alg, &g->server));
    PQCOAP_TRY(bench_identity_alg(BENCH_DEVICE_ID, BENCH_DEVICE_ALG, &device));
    g->me = device;
    pqcoap_identity_wipe(&device);
    PQCOAP_TRY(sign_setup_common(g));
    g->signed_dgrams = malloc(g->presigned * SA_PAYLOAD);
    g->signed_lens = calloc(g->presigned, sizeof *g->signed_lens);
    g->sig_opts = calloc(g->presigned, sizeof *g->sig_opts);
    if (!g->signed_dgrams || !g->signed_lens || !g->sig_opts)
        return PQCOAP_ERR_NOMEM;
    g->seq0 = bench_wall_ms() * 1000u;
    for (uint32_t i = 0; i < g->presigned; i++) {
        uint8_t token[4], query[16];
        pqcoap_opt opts[2];
        pqcoap_msg m;
        sa_request(g, i, token, query, opts, &m);
        PQCOAP_TRY(pqcoap_sign_v2(&g->signer, g->seq0 + i, &m, g->server.pub.kid, NULL,
                                  g->sig_opts[i], g->signed_dgrams + (size_t)i * SA_PAYLOAD,
                                  SA_PAYLOAD, &g->signed_lens[i]));
    }
    return PQCOAP_OK;
}

static pqcoap_err sa_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out, size_t *out_len)
{
    (void)req;
    if (r->token >= g->presigned)
        return PQCOAP_ERR_LIMIT;
    r->seq = g->seq0 + r->token;
    return sa_encode(g, r->token, 0, -1, out, out_len);
}

static void sa_free(rec *r)
{
    free(r->first);
    free(r->body);
    r->first = r->body = NULL;
}

static void send_more(gen *g, rec *r, const uint8_t *dgram, size_t len);

static int sa_step(gen *g, rec *r, const bench_dgram *d, const uint8_t *p, size_t len,
                   bench_dgram *resp)
{
    uint8_t dgram[DGRAM_MAX];
    size_t out_len;
    r->resp_len += len;
    if (d->msg.code == PQCOAP_CODE(2, 31)) { /* RFC 7959 2.5: the next Block1 block */
        r->off1 += SA_BLOCK;
        if (r->off1 >= g->signed_lens[r->token] ||
            sa_encode(g, r->token, (long)(r->off1 / SA_BLOCK), -1, dgram, &out_len) != PQCOAP_OK)
            return -1;
        send_more(g, r, dgram, out_len);
        return 1;
    }
    const pqcoap_opt *b2 = pqcoap_msg_find_opt(&d->msg, PQCOAP_OPT_BLOCK2);
    uint32_t v = 0;
    if (!b2) { /* the whole response in one datagram */
        *resp = *d;
        return 0;
    }
    if (pqcoap_opt_uint(b2, &v) != PQCOAP_OK || (v & 7) != SA_SZX || v >> 4 != r->next2)
        return -1;
    if (!r->body && (!(r->body = malloc(SA_BODY_MAX)) || !(r->first = malloc(len))))
        return -1;
    if (r->next2 == 0) {
        memcpy(r->first, p, len);
        r->first_len = len;
    }
    if (r->body_len + d->msg.payload_len > SA_BODY_MAX)
        return -1;
    memcpy(r->body + r->body_len, d->msg.payload, d->msg.payload_len);
    r->body_len += d->msg.payload_len;
    if (v & 8) { /* M: ask for the next block */
        r->next2++;
        if (sa_encode(g, r->token, -1, (long)r->next2, dgram, &out_len) != PQCOAP_OK)
            return -1;
        send_more(g, r, dgram, out_len);
        return 1;
    }
    /* complete: the first block's options (ETag included, bound by the signature) and the
     * whole body */
    if (bench_decode(r->first, r->first_len, resp) != PQCOAP_OK)
        return -1;
    resp->msg.payload = r->body;
    resp->msg.payload_len = r->body_len;
    return 0;
}

/* ---- Mode B (PROTOCOL.md "Mode B"): a session from one handshake, renewed when used up ---- */

static pqcoap_err session_handshake(gen *g)
{
    pqcoap_session_wipe(&g->session);
    g->handshakes++;
    return bench_handshake(g->hs, BENCH_CLIENT_ID, &g->me, &g->server.pub,
                           bench_wall_ms() * 1000u + g->handshakes, &g->session, NULL);
}

static pqcoap_err session_setup(gen *g)
{
    PQCOAP_TRY(bench_client(g->port, 1, &g->hs));
    return session_handshake(g);
}

static pqcoap_err session_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out,
                               size_t *out_len)
{
    uint8_t payload[64];
    size_t plen;
    /* the AAD carries an empty token on CoAP endpoints (PROTOCOL.md "Protected message") */
    pqcoap_msg aad_view = *req;
    aad_view.token_len = 0;
    pqcoap_err err = pqcoap_session_protect_request(&g->session, &aad_view,
                                                    bench_now_ns() / 1000000u, payload,
                                                    sizeof payload, &plen, &r->request_n);
    if (err == PQCOAP_ERR_EXPIRED)
        g->rehandshake = 1;
    PQCOAP_TRY(err);
    pqcoap_msg m = *req;
    m.payload = payload;
    m.payload_len = plen;
    return bench_encode(BENCH_CON, 0, &m, out, DGRAM_MAX, out_len);
}

static pqcoap_err session_check(gen *g, rec *r, const pqcoap_msg *resp)
{
    uint8_t plain[64];
    size_t plen;
    if (resp->code != PQCOAP_CODE(2, 5))
        return PQCOAP_ERR_COAP;
    pqcoap_msg aad_view = *resp;
    aad_view.token_len = 0;
    return pqcoap_session_unprotect_response(&g->session, r->request_n, &aad_view,
                                             bench_now_ns() / 1000000u, plain, sizeof plain,
                                             &plen);
}

/* ---- OSCORE (RFC 8613): a provisioned context, or one keyed by the handshake ---- */

static pqcoap_err oscore_setup(gen *g)
{
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    static const uint8_t server_id[] = {0x01};
    char hex[33];
    uint8_t secret[16];
    bench_oscore_secret(hex, secret);
    p.master_secret = secret;
    p.master_secret_len = sizeof secret;
    p.recipient_id = server_id;
    p.recipient_id_len = 1;
    return pqcoap_oscore_derive(&p, &g->octx);
}

static pqcoap_err pqoscore_setup(gen *g)
{
    PQCOAP_TRY(bench_client(g->port, 1, &g->hs));
    g->handshakes++;
    return bench_handshake_oscore(g->hs, BENCH_CLIENT_ID, &g->me, &g->server.pub,
                                  bench_wall_ms() * 1000u, PQCOAP_COSE_A256GCM, &g->octx);
}

static pqcoap_err oscore_make(gen *g, rec *r, const pqcoap_msg *req, uint8_t *out,
                              size_t *out_len)
{
    pqcoap_opt opts[8];
    uint8_t buf[256];
    const pqcoap_oscore_out room = {opts, 8, buf, sizeof buf};
    pqcoap_msg m;
    PQCOAP_TRY(pqcoap_oscore_protect_request(&g->octx, g->ssn++, 0, req, &room, &m, &r->bind));
    return bench_encode(BENCH_CON, 0, &m, out, DGRAM_MAX, out_len);
}

static pqcoap_err oscore_check(gen *g, rec *r, const pqcoap_msg *resp)
{
    pqcoap_opt opts[8];
    uint8_t buf[256];
    const pqcoap_oscore_out room = {opts, 8, buf, sizeof buf};
    const pqcoap_opt *o = pqcoap_msg_find_opt(resp, PQCOAP_OPT_OSCORE);
    pqcoap_oscore_option opt;
    pqcoap_msg plain;
    if (!o || pqcoap_oscore_option_parse(o->value, o->len, &opt) != PQCOAP_OK)
        return PQCOAP_ERR_COAP;
    PQCOAP_TRY(pqcoap_oscore_unprotect_response(&g->octx, &r->bind, resp, &opt, &room, &plain));
    return plain.code == PQCOAP_CODE(2, 5) && plain.payload_len > 0 ? PQCOAP_OK
                                                                      : PQCOAP_ERR_COAP;
}

static const mode_ops modes[] = {
    {"plain", NULL, plain_make, plain_check, NULL},
    {"sign1", sign1_setup, sign1_make, sign_check, NULL},
    {"sign2", sign2_setup, sign2_make, sign_check, NULL},
    {"session", session_setup, session_make, session_check, NULL},
    {"oscore", oscore_setup, oscore_make, oscore_check, NULL},
    {"pqoscore", pqoscore_setup, oscore_make, oscore_check, NULL},
    {"sign2:ALG", sa_setup, sa_make, sign_check, sa_step},
};

/* ---- the window loop ---- */

static void send_one(gen *g)
{
    uint32_t i = g->next_i++;
    rec *r = &g->ring[i % RING];
    uint8_t token[4], dgram[DGRAM_MAX];
    pqcoap_opt opts[1];
    pqcoap_msg req;
    size_t len = 0;
    base_request(i, token, opts, &req);
    memset(r, 0, sizeof *r);
    r->token = i;
    if (g->mode->make(g, r, &req, dgram, &len) != PQCOAP_OK) {
        if (!g->rehandshake)
            g->errors++;
        return;
    }
    uint16_t mid = g->next_mid++;
    dgram[2] = (uint8_t)(mid >> 8);
    dgram[3] = (uint8_t)mid;
    r->sent_ns = bench_now_ns();
    r->req_len = len;
    if (send(g->fd, dgram, len, 0) != (ssize_t)len) {
        g->errors++;
        return;
    }
    r->busy = 1;
    g->in_flight++;
}

/* Sends the next datagram of the exchange of r under a new message ID. */
static void send_more(gen *g, rec *r, const uint8_t *dgram, size_t len)
{
    uint8_t out[DGRAM_MAX];
    uint16_t mid = g->next_mid++;
    memcpy(out, dgram, len);
    out[2] = (uint8_t)(mid >> 8);
    out[3] = (uint8_t)mid;
    if (send(g->fd, out, len, 0) == (ssize_t)len)
        r->req_len += len;
}

static void on_datagram(gen *g, const uint8_t *p, size_t len)
{
    bench_dgram d;
    if (bench_decode(p, len, &d) != PQCOAP_OK || d.msg.token_len != 4 || d.msg.code == 0)
        return;
    if (d.type == BENCH_CON) { /* a separate response: acknowledge it (RFC 7252 5.2.2) */
        uint8_t ack[4] = {0x60, 0, (uint8_t)(d.mid >> 8), (uint8_t)d.mid};
        (void)!send(g->fd, ack, sizeof ack, 0);
    }
    uint32_t i = (uint32_t)d.msg.token[0] << 24 | (uint32_t)d.msg.token[1] << 16 |
                 (uint32_t)d.msg.token[2] << 8 | d.msg.token[3];
    rec *r = &g->ring[i % RING];
    if (!r->busy || r->token != i)
        return; /* a duplicate or an answer after the timeout */
    uint64_t now = bench_now_ns();
    bench_dgram whole;
    int more = g->mode->step ? g->mode->step(g, r, &d, p, len, &whole) : 0;
    if (more > 0)
        return;
    r->busy = 0;
    g->in_flight--;
    size_t resp_len = g->mode->step ? r->resp_len : len;
    pqcoap_err err = more < 0 ? PQCOAP_ERR_MALFORMED
                              : g->mode->check(g, r, g->mode->step ? &whole.msg : &d.msg);
    sa_free(r);
    if (err != PQCOAP_OK) {
        g->errors++;
        return;
    }
    g->all_ok++;
    if (r->sent_ns < g->measure_start || now > g->measure_end)
        return;
    g->done++;
    g->req_bytes += r->req_len;
    g->resp_bytes += resp_len;
    if (g->n_lat < MAX_LAT)
        g->lat[g->n_lat++] = (double)(now - r->sent_ns) / 1000.0;
}

static void expire(gen *g, uint64_t now)
{
    for (uint32_t k = 0; k < RING && g->in_flight; k++) {
        rec *r = &g->ring[k];
        if (r->busy && now - r->sent_ns > TIMEOUT_NS) {
            sa_free(r);
            r->busy = 0;
            g->in_flight--;
            g->lost++;
        }
    }
}

/* 1 while presigned requests are left (or none are needed). */
static int have_requests(const gen *g)
{
    return !g->presigned || g->next_i < g->presigned;
}

static int can_send(const gen *g)
{
    return have_requests(g) && (!g->alg || sa_can_send(g));
}

static int open_socket(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int big = 1 << 20;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("bench_load: socket");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void run(gen *g, double seconds)
{
    uint64_t start = bench_now_ns(), last_expire = start;
    g->measure_start = start + WARMUP_NS;
    g->measure_end = g->measure_start + (uint64_t)(seconds * 1e9);
    uint64_t stop_sending = g->measure_end;
    for (;;) {
        uint64_t now = bench_now_ns();
        if (now >= stop_sending && (!g->in_flight || now >= stop_sending + DRAIN_NS))
            break;
        if (g->rehandshake && !g->in_flight) {
            if (session_handshake(g) != PQCOAP_OK)
                break;
            g->rehandshake = 0;
        }
        while (now < stop_sending && g->in_flight < g->window && can_send(g) &&
               !g->rehandshake && now >= g->next_send) {
            send_one(g);
            g->next_send = g->pace_ns ? now + g->pace_ns : 0;
        }
        if (!have_requests(g) && now < stop_sending) {
            /* presigned requests used up: the timed phase ends here */
            g->measure_end = now;
            stop_sending = now;
        }
        struct pollfd pfd = {g->fd, POLLIN, 0};
        int wait_ms = g->pace_ns && g->in_flight < g->window
                          ? (int)((g->next_send > now ? g->next_send - now + 999999u : 0) / 1000000u)
                          : 5;
        if (poll(&pfd, 1, wait_ms > 5 ? 5 : wait_ms) < 0 && errno != EINTR)
            break;
        uint8_t buf[DGRAM_MAX];
        ssize_t n;
        while ((n = recv(g->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            on_datagram(g, buf, (size_t)n);
        now = bench_now_ns();
        if (now - last_expire > 100000000ull) {
            expire(g, now);
            last_expire = now;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_load MODE PORT SERVER_PID SECONDS WINDOW LABEL "
                        "[PRESIGNED [PACE_US]]\n");
        return 2;
    }
    static gen g;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++)
        if (strcmp(argv[1], modes[k].name) == 0)
            g.mode = &modes[k];
    if (strncmp(argv[1], "sign2:", 6) == 0 && argv[1][6]) {
        g.mode = &modes[sizeof modes / sizeof modes[0] - 1];
        g.alg = argv[1] + 6;
    }
    g.port = (uint16_t)atoi(argv[2]);
    pid_t server_pid = (pid_t)atoi(argv[3]);
    double seconds = atof(argv[4]);
    g.window = (size_t)atoi(argv[5]);
    const char *label = argv[6];
    g.presigned = argc > 7 ? (size_t)atoi(argv[7]) : 0;
    g.pace_ns = argc > 8 ? (uint64_t)atoi(argv[8]) * 1000u : 0;
    if (strncmp(argv[1], "sign2", 5) != 0)
        g.presigned = 0; /* only v2 requests are signed ahead */
    if (!g.mode || !g.port || seconds <= 0 || g.window < 1 || g.window > MAX_WINDOW) {
        fprintf(stderr, "bench_load: bad arguments (mode %s)\n", argv[1]);
        return 2;
    }
    g.ring = calloc(RING, sizeof *g.ring);
    g.lat = calloc(MAX_LAT, sizeof *g.lat);
    g.fd = open_socket(g.port);
    if (!g.ring || !g.lat || g.fd < 0)
        return 1;
    g.next_mid = (uint16_t)getpid();
    if (bench_identity(BENCH_SERVER_ID, &g.server) != PQCOAP_OK ||
        bench_identity(BENCH_CLIENT_ID, &g.me) != PQCOAP_OK)
        return 1;
    if (g.mode->setup && g.mode->setup(&g) != PQCOAP_OK) {
        fprintf(stderr, "bench_load: %s set-up failed\n", g.mode->name);
        return 1;
    }
    const char *alloc_file = getenv("BENCH_ALLOC_FILE");
    uint64_t alloc0 = bench_alloc_count(alloc_file);
    uint64_t cpu0 = bench_proc_cpu_ns(server_pid), self0 = bench_thread_cpu_ns();
    run(&g, seconds);
    uint64_t cpu1 = bench_proc_cpu_ns(server_pid), self1 = bench_thread_cpu_ns();
    uint64_t alloc1 = bench_alloc_count(alloc_file);
    double span = (double)(g.measure_end - g.measure_start) / 1e9;
    /* the generator's and the server's CPU are over the whole run (warm-up and drain too) */
    double whole = (double)(bench_now_ns() - (g.measure_start - WARMUP_NS)) / 1e9;
    char key[128];
#define OUT(name, v) (snprintf(key, sizeof key, "%s_%s", label, name), bench_out(key, v))
    OUT("rps", span > 0 ? (double)g.done / span : 0);
    OUT("requests", (double)g.done);
    OUT("errors", (double)g.errors);
    OUT("lost", (double)g.lost);
    OUT("p50_us", bench_quantile(g.lat, g.n_lat, 0.50));
    OUT("p99_us", bench_quantile(g.lat, g.n_lat, 0.99));
    OUT("req_bytes", g.done ? (double)g.req_bytes / (double)g.done : 0);
    OUT("resp_bytes", g.done ? (double)g.resp_bytes / (double)g.done : 0);
    OUT("server_cpu", whole > 0 ? (double)(cpu1 - cpu0) / 1e9 / whole : 0);
    OUT("server_cpu_us_per_req", g.all_ok ? (double)(cpu1 - cpu0) / 1000.0 / (double)g.all_ok : 0);
    OUT("answered", (double)g.all_ok);
    OUT("handshakes", (double)g.handshakes);
    OUT("generator_cpu", whole > 0 ? (double)(self1 - self0) / 1e9 / whole : 0);
    if (alloc_file && g.all_ok)
        OUT("allocs_per_req", (double)(alloc1 - alloc0) / (double)g.all_ok);
#undef OUT
    close(g.fd);
    pqcoap_client_free(g.hs);
    pqcoap_session_wipe(&g.session);
    pqcoap_oscore_wipe(&g.octx);
    pqcoap_identity_wipe(&g.me);
    return g.done ? 0 : 1;
}
