/* Helpers shared by the benchmark programs (see bench_util.h). */
#include "bench_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf_internal.h"
#include "core/session_internal.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_proc_cpu_ns(pid_t pid)
{
    /* proc(5): the first field of /proc/PID/task/TID/schedstat is the time the thread has
     * run on a CPU, in nanoseconds; the process's CPU time is the sum over its threads
     * (threads that already ended are not counted: the servers keep theirs). */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char file[128];
        unsigned long long ns = 0;
        snprintf(file, sizeof file, "%s/%.20s/schedstat", path, e->d_name);
        FILE *f = fopen(file, "r");
        if (f && fscanf(f, "%llu", &ns) == 1)
            sum += ns;
        if (f)
            fclose(f);
    }
    closedir(d);
    return sum;
}

uint64_t bench_proc_rss(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024u;
}

uint64_t bench_alloc_count(const char *path)
{
    uint64_t n = 0;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    if (fread(&n, sizeof n, 1, f) != 1)
        n = 0;
    fclose(f);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof v[0], cmp_double);
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return v[(rank > n ? n : rank) - 1];
}

pqcoap_err bench_identity(const char *name, pqcoap_identity *out)
{
    return bench_identity_alg(name, "falcon-512", out);
}

pqcoap_err bench_identity_alg(const char *name, const char *alg, pqcoap_identity *out)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    pqcoap_err err = pqcoap_test_rng_init(&st, &rng, (const uint8_t *)name, strlen(name));
    return err != PQCOAP_OK ? err : pqcoap_identity_generate(alg, &rng, out);
}

void bench_oscore_secret(char hex[33], uint8_t out[16])
{
    const char *env = getenv("BENCH_OSCORE_SECRET");
    snprintf(hex, 33, "%s", env && strlen(env) == 32 ? env : "00112233445566778899aabbccddeeff");
    for (size_t i = 0; i < 16; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

pqcoap_err bench_identity_v1(const char *name, pqcoap_identity *out)
{
    char seed[96];
    snprintf(seed, sizeof seed, "%s v1", name);
    PQCOAP_TRY(bench_identity(seed, out));
    out->pub.usage = PQCOAP_USAGE_SIGN_V1;
    return PQCOAP_OK;
}

void bench_out(const char *key, double value)
{
    printf("%s %.6g\n", key, value);
    fflush(stdout);
}

/* ---- raw CoAP datagrams ---- */

/* RFC 7252 section 3.1: an option delta or length as a nibble plus 0..2 extension bytes. */
static uint8_t nibble(size_t v)
{
    return v < 13 ? (uint8_t)v : v < 269 ? 13 : 14;
}

static void put_ext(pqcoap_writer *w, size_t v)
{
    if (v >= 269)
        pqcoap_wr_u16(w, (uint16_t)(v - 269));
    else if (v >= 13)
        pqcoap_wr_u8(w, (uint8_t)(v - 13));
}

pqcoap_err bench_encode(uint8_t type, uint16_t mid, const pqcoap_msg *m, uint8_t *out,
                        size_t cap, size_t *out_len)
{
    if (m->token_len > 8)
        return PQCOAP_ERR_ARG;
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, (uint8_t)(0x40 | type << 4 | m->token_len)); /* version 1 */
    pqcoap_wr_u8(&w, m->code);
    pqcoap_wr_u16(&w, mid);
    pqcoap_wr_bytes(&w, m->token, m->token_len);
    uint16_t prev = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (o->number < prev || o->len > 65535 + 269)
            return PQCOAP_ERR_ARG;
        size_t delta = (size_t)(o->number - prev);
        pqcoap_wr_u8(&w, (uint8_t)(nibble(delta) << 4 | nibble(o->len)));
        put_ext(&w, delta);
        put_ext(&w, o->len);
        pqcoap_wr_bytes(&w, o->value, o->len);
        prev = o->number;
    }
    if (m->payload_len) {
        pqcoap_wr_u8(&w, 0xff);
        pqcoap_wr_bytes(&w, m->payload, m->payload_len);
    }
    *out_len = w.len;
    return w.err;
}

/* Reads the extension bytes of an option delta or length nibble. */
static pqcoap_err get_ext(pqcoap_reader *r, uint8_t nib, size_t *v)
{
    if (nib < 13) {
        *v = nib;
        return PQCOAP_OK;
    }
    if (nib == 13) {
        uint8_t b;
        PQCOAP_TRY(pqcoap_rd_u8(r, &b));
        *v = (size_t)b + 13;
        return PQCOAP_OK;
    }
    if (nib == 14) {
        uint16_t s;
        PQCOAP_TRY(pqcoap_rd_u16(r, &s));
        *v = (size_t)s + 269;
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_MALFORMED; /* 15 is reserved */
}

pqcoap_err bench_decode(const uint8_t *p, size_t len, bench_dgram *d)
{
    pqcoap_reader r;
    uint8_t b0;
    memset(d, 0, sizeof *d);
    pqcoap_rd_init(&r, p, len);
    if (pqcoap_rd_u8(&r, &b0) != PQCOAP_OK || (b0 >> 6) != 1 || (b0 & 0x0f) > 8 ||
        pqcoap_rd_u8(&r, &d->msg.code) != PQCOAP_OK || pqcoap_rd_u16(&r, &d->mid) != PQCOAP_OK)
        return PQCOAP_ERR_MALFORMED;
    d->type = (uint8_t)((b0 >> 4) & 3);
    d->msg.token_len = b0 & 0x0f;
    if (pqcoap_rd_bytes(&r, d->msg.token_len, &d->msg.token) != PQCOAP_OK)
        return PQCOAP_ERR_MALFORMED;
    d->msg.opts = d->opts;
    size_t number = 0;
    while (pqcoap_rd_left(&r) > 0) {
        uint8_t h;
        size_t delta, olen;
        PQCOAP_TRY(pqcoap_rd_u8(&r, &h));
        if (h == 0xff) {
            d->msg.payload_len = pqcoap_rd_left(&r);
            if (d->msg.payload_len == 0)
                return PQCOAP_ERR_MALFORMED; /* marker without payload */
            return pqcoap_rd_bytes(&r, d->msg.payload_len, &d->msg.payload);
        }
        if (get_ext(&r, h >> 4, &delta) != PQCOAP_OK || get_ext(&r, h & 0x0f, &olen) != PQCOAP_OK)
            return PQCOAP_ERR_MALFORMED;
        number += delta;
        if (number > 65535 || d->msg.n_opts == BENCH_MAX_OPTS)
            return PQCOAP_ERR_MALFORMED;
        pqcoap_opt *o = &d->opts[d->msg.n_opts++];
        o->number = (uint16_t)number;
        o->len = olen;
        if (pqcoap_rd_bytes(&r, olen, &o->value) != PQCOAP_OK)
            return PQCOAP_ERR_MALFORMED;
    }
    return PQCOAP_OK;
}

/* ---- Mode B handshake ---- */

pqcoap_err bench_client(uint16_t port, size_t window, pqcoap_client **out)
{
    char uri[64], msg[160];
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.max_in_flight = window;
    cfg.nstart = (uint16_t)window;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", port);
    pqcoap_err err = pqcoap_client_open(uri, &cfg, out, msg, sizeof msg);
    if (err != PQCOAP_OK)
        fprintf(stderr, "bench: client: %s\n", msg);
    return err;
}

static void initiator_cfg(pqcoap_initiator_cfg *c, const char *id, const pqcoap_identity *me,
                          const pqcoap_pubkey *server_pk)
{
    pqcoap_initiator_cfg init = PQCOAP_INITIATOR_CFG_INIT;
    *c = init;
    c->id = id;
    c->sk = me->sk;
    c->sk_len = pqcoap_identity_sk_len(me);
    c->alg = pqcoap_pubkey_alg(&me->pub);
    c->suite = 0; /* the suite of the server key's algorithm */
    c->responder_id = BENCH_SERVER_ID;
    c->responder_pk = server_pk->pk;
    c->responder_pk_len = server_pk->pk_len;
}

/* Bytes of cryptographic objects in an INIT (nonce_i, kem_pk, x25519_pk_i, sig_i) or a RESP
 * (kem_ct, x25519_pk_r, sig_r), read by the library's strict decoders (PROTOCOL.md
 * "Handshake"); 0 if it does not parse. */
static size_t crypto_bytes(const uint8_t *p, size_t len, int is_init, size_t *sig_len)
{
    pqcoap_init_view iv;
    pqcoap_resp_view rv;
    if (is_init) {
        if (pqcoap_init_decode(p, len, &iv) != PQCOAP_OK)
            return 0;
        *sig_len = iv.sig.sig_len;
        return PQCOAP_NONCE_I_LEN + iv.suite->kem->pk_len + PQCOAP_X25519_LEN + iv.sig.sig_len;
    }
    if (pqcoap_resp_decode(p, len, &rv) != PQCOAP_OK)
        return 0;
    *sig_len = rv.sig.sig_len;
    return rv.suite->kem->ct_len + PQCOAP_X25519_LEN + rv.sig.sig_len;
}

pqcoap_err bench_make_init(const char *id, const pqcoap_identity *me,
                           const pqcoap_pubkey *server_pk, uint64_t seq, uint8_t *out,
                           size_t cap, size_t *out_len)
{
    static pqcoap_initiator st;
    pqcoap_initiator_cfg c;
    initiator_cfg(&c, id, me, server_pk);
    pqcoap_err err = pqcoap_initiator_start(&st, &c, seq, bench_wall_ms(), NULL, out, cap,
                                            out_len);
    pqcoap_initiator_wipe(&st);
    return err;
}

/* Starts the handshake of `c` as st and sends INIT on cl; *reply gets the answer. */
static pqcoap_err exchange(pqcoap_client *cl, pqcoap_initiator *st, const pqcoap_initiator_cfg *c,
                           uint64_t seq, uint8_t *init, size_t *init_len, pqcoap_reply *reply)
{
    PQCOAP_TRY(pqcoap_initiator_start(st, c, seq, bench_wall_ms(), NULL, init, PQCOAP_INIT_MAX,
                                      init_len));
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_POST;
    req.path = "pqc/session/init";
    req.content_format = 42;
    req.payload = init;
    req.payload_len = *init_len;
    req.expect_success = 1;
    req.no_layer = 1;
    pqcoap_err err = pqcoap_client_request(cl, &req, reply);
    if (err != PQCOAP_OK)
        fprintf(stderr, "bench: handshake: %s (%s)\n", pqcoap_strerror(err),
                pqcoap_client_last_error(cl));
    return err;
}

pqcoap_err bench_handshake(pqcoap_client *cl, const char *id, const pqcoap_identity *me,
                           const pqcoap_pubkey *server_pk, uint64_t seq, pqcoap_session *out,
                           bench_hs *info)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len = 0;
    pqcoap_initiator_cfg c;
    initiator_cfg(&c, id, me, server_pk);
    uint64_t t0 = bench_now_ns(), c0 = bench_thread_cpu_ns();
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    pqcoap_err err = exchange(cl, &st, &c, seq, init, &init_len, &reply);
    if (err == PQCOAP_OK)
        err = pqcoap_initiator_finish(&st, reply.msg.payload, reply.msg.payload_len,
                                      bench_now_ns() / 1000000u, out);
    uint64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
    if (err == PQCOAP_OK && info) {
        info->init_len = init_len;
        info->resp_len = reply.msg.payload_len;
        info->init_crypto = crypto_bytes(init, init_len, 1, &info->sig_i_len);
        info->resp_crypto = crypto_bytes(reply.msg.payload, reply.msg.payload_len, 0,
                                         &info->sig_r_len);
        info->latency_ns = t1 - t0;
        info->cpu_ns = c1 - c0;
    }
    pqcoap_initiator_wipe(&st);
    pqcoap_reply_free(&reply);
    return err;
}

pqcoap_err bench_handshake_oscore(pqcoap_client *cl, const char *id, const pqcoap_identity *me,
                                  const pqcoap_pubkey *server_pk, uint64_t seq, int aead,
                                  pqcoap_oscore_ctx *out)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len = 0;
    const pqcoap_oscore_request oreq = {aead, NULL, 0};
    pqcoap_initiator_cfg c;
    initiator_cfg(&c, id, me, server_pk);
    c.oscore = &oreq;
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    pqcoap_hs_oscore keys;
    pqcoap_oscore_params p;
    pqcoap_err err = exchange(cl, &st, &c, seq, init, &init_len, &reply);
    if (err == PQCOAP_OK)
        err = pqcoap_initiator_finish_oscore(&st, reply.msg.payload, reply.msg.payload_len,
                                             &keys);
    if (err == PQCOAP_OK) {
        pqcoap_hs_oscore_params(&keys, &p);
        err = pqcoap_oscore_derive(&p, out);
    }
    pqcoap_wipe(&keys, sizeof keys);
    pqcoap_initiator_wipe(&st);
    pqcoap_reply_free(&reply);
    return err;
}
