/* The server security layers driven on raw bytes, shared by their fuzz targets and the seed
 * generator: a sequence of requests handed to layer->check_request, the handler and
 * protect_response, then layer->end, as pqcoap_server's serve() does, with a fake exchange;
 * and the check that the handler is given nothing but what the target's genuine clients
 * sent. Input: records `u8 exchange || u16 length || message view` (fuzz_common.h; a
 * length past the end takes the rest), where the exchange byte gives bits 0-1 the peer
 * (127.0.0.1:40000, 127.0.0.1:40001, 127.0.0.2:40000, [::1]:40000), bit 2 CON, bits 3-5
 * the message ID (0x1000 + value), bit 6 a handler that defers the request and never
 * answers (the layer's end runs without protect_response, as when the server drops the
 * deferred request; Falcon signing of Mode A responses is slow under the sanitizers). */
#ifndef PQCOAP_FUZZ_LAYER_H
#define PQCOAP_FUZZ_LAYER_H

#include "fuzz_oscore.h"
#include "fuzz_session.h"
#include "net/net_internal.h"
#include "net/session_server_internal.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/sign_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* Body limit of the fake server (pqcoap_server_config.max_body). */
#define FUZZ_LAYER_MAX_BODY 8192
/* Room for the layer's overhead beyond it (every layer's is below). */
#define FUZZ_LAYER_OVERHEAD 8192
/* Most genuine requests a target knows. */
#define FUZZ_LAYER_GENUINE_MAX 8

/* A request a genuine client of the target sends: what the handler may be given (the
 * options in encoded order) and the peer id the layer must then name (NULL: none). */
typedef struct fuzz_genuine {
    uint8_t code;
    const pqcoap_opt *opts;
    size_t n_opts;
    const char *payload;
    const char *peer;
} fuzz_genuine;

typedef struct fuzz_layer_cfg {
    const pqcoap_layer *layer;
    /* the options the layer authenticates (with the code); NULL: neither (Mode A v1, which
     * binds the payload alone) */
    int (*bound)(uint16_t number);
    const fuzz_genuine *genuine;
    size_t n_genuine;
    int replays_ok;             /* a genuine request may reach the handler again (v1) */
    /* a request the layer lets through for the handler to authenticate (Mode B's INIT):
     * not checked here; NULL: none */
    int (*exempt)(const pqcoap_msg *req);
    /* the handler; NULL: the fixed response of fuzz_layer_respond */
    void (*handler)(void *arg, const pqcoap_msg *req, pqcoap_msgbuf *resp);
    void *arg;
} fuzz_layer_cfg;

/* The fake exchange of an exchange byte (layout above). */
static inline void fuzz_layer_exchange(uint8_t b, pqcoap_exchange *x)
{
    unsigned peer = b & 3;
    memset(x, 0, sizeof *x);
    if (peer < 3) {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)&x->peer;
        a->sin_family = AF_INET;
        a->sin_port = htons(peer == 1 ? 40001 : 40000);
        a->sin_addr.s_addr = htonl(peer == 2 ? 0x7f000002 : 0x7f000001);
        x->peer_len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)&x->peer;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(40000);
        a->sin6_addr.s6_addr[15] = 1;
        x->peer_len = sizeof *a;
    }
    x->confirmable = (b >> 2) & 1;
    x->mid = (uint16_t)(0x1000 + ((b >> 3) & 7));
}

/* The fixed response of the handler: 2.05, Content-Format text/plain, a body longer than
 * one 16-byte block (so that OSCORE keeps it for outer block-wise). */
static inline void fuzz_layer_respond(pqcoap_msgbuf *resp)
{
    static const char body[] = "the handler's response to a genuine request";
    resp->code = PQCOAP_CODE(2, 5);
    fuzz_must(pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, 0));
    fuzz_must(pqcoap_msgbuf_set_payload(resp, (const uint8_t *)body, sizeof body - 1));
}

/* 1 if the bound parts of `req` are those of g. */
static inline int fuzz_layer_same(const fuzz_layer_cfg *c, const fuzz_genuine *g,
                                  const pqcoap_msg *req)
{
    size_t n = strlen(g->payload);
    if (req->payload_len != n || (n && memcmp(req->payload, g->payload, n) != 0))
        return 0;
    if (!c->bound)
        return 1;
    if (req->code != g->code)
        return 0;
    size_t j = 0;
    for (size_t i = 0; i < req->n_opts; i++) {
        const pqcoap_opt *o = &req->opts[i];
        if (!c->bound(o->number))
            continue;
        while (j < g->n_opts && !c->bound(g->opts[j].number))
            j++;
        if (j == g->n_opts || g->opts[j].number != o->number || g->opts[j].len != o->len ||
            (o->len && memcmp(g->opts[j].value, o->value, o->len) != 0))
            return 0;
        j++;
    }
    while (j < g->n_opts && !c->bound(g->opts[j].number))
        j++;
    return j == g->n_opts;
}

/* The handler is given `req`: it must be a genuine request not given before (unless
 * replays are allowed), and the layer must name its peer. */
static inline void fuzz_layer_genuine(const fuzz_layer_cfg *c, const void *state,
                                      const pqcoap_msg *req, int *given)
{
    for (size_t i = 0; i < c->n_genuine; i++) {
        const fuzz_genuine *g = &c->genuine[i];
        if (!fuzz_layer_same(c, g, req))
            continue;
        if (given[i] && !c->replays_ok)
            __builtin_trap(); /* a replay reached the handler */
        given[i] = 1;
        const pqcoap_layer *l = c->layer;
        const char *peer = l->peer_id ? l->peer_id(l->ctx, state) : NULL;
        if ((peer == NULL) != (g->peer == NULL) || (peer && strcmp(peer, g->peer) != 0))
            __builtin_trap(); /* the handler would be told another sender */
        return;
    }
    __builtin_trap(); /* a forged request reached the handler */
}

/* The handler's response to `req` (into out), protected by the layer (into wire). */
static inline void fuzz_layer_answer(const fuzz_layer_cfg *c, void *state,
                                     const pqcoap_exchange *x, const pqcoap_msg *req,
                                     pqcoap_net_scratch *out, pqcoap_net_scratch *wire)
{
    const pqcoap_layer *l = c->layer;
    pqcoap_net_scratch_start(out, PQCOAP_CODE(2, 5), req->token, req->token_len);
    if (c->handler)
        c->handler(c->arg, req, &out->b);
    else
        fuzz_layer_respond(&out->b);
    pqcoap_msg resp;
    pqcoap_msgbuf_view(&out->b, &resp);
    if (!l->protect_response)
        return;
    pqcoap_net_scratch_start(wire, resp.code, resp.token, resp.token_len);
    if (l->protect_response(l->ctx, state, x, &resp, &wire->b) != PQCOAP_OK)
        pqcoap_msgbuf_error(&wire->b, PQCOAP_CODE(5, 0), "response protection failed");
}

/* Reads the records from r and serves each; returns the set of genuine requests the
 * handler was given (bit i: genuine[i]). */
static inline unsigned fuzz_layer_run(const fuzz_layer_cfg *c, pqcoap_reader *r)
{
    static pqcoap_net_scratch in, out, wire;
    static uint8_t *state;
    static size_t state_cap;
    if (!in.b.payload) {
        fuzz_must(pqcoap_net_scratch_alloc(&in, FUZZ_LAYER_MAX_BODY + FUZZ_LAYER_OVERHEAD));
        fuzz_must(pqcoap_net_scratch_alloc(&out, FUZZ_LAYER_MAX_BODY));
        fuzz_must(pqcoap_net_scratch_alloc(&wire, FUZZ_LAYER_MAX_BODY + FUZZ_LAYER_OVERHEAD));
    }
    const pqcoap_layer *l = c->layer;
    if (l->overhead > FUZZ_LAYER_OVERHEAD || c->n_genuine > FUZZ_LAYER_GENUINE_MAX)
        abort();
    if (l->state_size > state_cap) {
        free(state);
        state_cap = l->state_size;
        if (!(state = malloc(state_cap)))
            abort();
    }
    int given[FUZZ_LAYER_GENUINE_MAX] = {0};
    uint8_t xb;
    uint16_t len;
    while (pqcoap_rd_u8(r, &xb) == PQCOAP_OK && pqcoap_rd_u16(r, &len) == PQCOAP_OK) {
        const uint8_t *view;
        if (len > pqcoap_rd_left(r))
            len = (uint16_t)pqcoap_rd_left(r);
        fuzz_must(pqcoap_rd_bytes(r, len, &view));
        fuzz_msg fm;
        fuzz_msg_read(view, len, &fm);
        const pqcoap_msg *w = &fm.msg;
        pqcoap_exchange x;
        fuzz_layer_exchange(xb, &x);

        /* as serve() in src/net/server.c */
        if (state)
            memset(state, 0, l->state_size);
        pqcoap_layer_verdict verdict = PQCOAP_LAYER_HANDLE;
        pqcoap_net_scratch_start(&in, w->code, w->token, w->token_len);
        pqcoap_err err = l->check_request(l->ctx, state, &x, w, &in.b, &verdict);
        if (err != PQCOAP_OK) {
            pqcoap_msgbuf_from_err(&in.b, err);
            verdict = PQCOAP_LAYER_ANSWER;
        }
        if (verdict == PQCOAP_LAYER_HANDLE) {
            pqcoap_msg req;
            pqcoap_msgbuf_view(&in.b, &req);
            if (req.token != w->token || req.token_len != w->token_len)
                __builtin_trap();
            if (c->exempt && c->exempt(&req)) {
                if (l->peer_id && l->peer_id(l->ctx, state))
                    __builtin_trap(); /* let through unauthenticated, yet naming a peer */
            } else {
                fuzz_layer_genuine(c, state, &req, given);
            }
            if (!(xb & 0x40))
                fuzz_layer_answer(c, state, &x, &req, &out, &wire);
        } else if (verdict != PQCOAP_LAYER_ANSWER) {
            __builtin_trap();
        }
        if (l->end)
            l->end(l->ctx, state);
    }
    unsigned set = 0;
    for (size_t i = 0; i < c->n_genuine; i++)
        set |= given[i] ? 1u << i : 0;
    return set;
}

/* ---- Mode A (src/net/sign_server.c) ----------------------------------------------------- */

/* The fixed Mode A keys: clients alice and bob (general), a v1 device (sign-v1), the v2
 * server and the v1 server. Made once, each from its own seed. */
typedef struct fuzz_sign_keys {
    pqcoap_identity alice, bob, v1dev, server, v1server;
} fuzz_sign_keys;

static inline void fuzz_sign_key(const char *seed, pqcoap_key_usage usage, pqcoap_identity *id)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)seed, strlen(seed)));
    fuzz_must(pqcoap_identity_generate("falcon-512", &rng, id));
    id->pub.usage = usage;
}

static inline const fuzz_sign_keys *fuzz_sign_keys_get(void)
{
    static fuzz_sign_keys k;
    static int ready;
    if (!ready) {
        fuzz_sign_key("pqcoap fuzz layer alice", PQCOAP_USAGE_GENERAL, &k.alice);
        fuzz_sign_key("pqcoap fuzz layer bob", PQCOAP_USAGE_GENERAL, &k.bob);
        fuzz_sign_key("pqcoap fuzz layer v1 device", PQCOAP_USAGE_SIGN_V1, &k.v1dev);
        fuzz_sign_key("pqcoap fuzz layer server", PQCOAP_USAGE_GENERAL, &k.server);
        fuzz_sign_key("pqcoap fuzz layer v1 server", PQCOAP_USAGE_SIGN_V1, &k.v1server);
        ready = 1;
    }
    return &k;
}

#define FUZZ_OPT(num, s) {num, (const uint8_t *)(s), sizeof(s) - 1}

static const pqcoap_opt fuzz_opts_temp[] = {FUZZ_OPT(PQCOAP_OPT_URI_PATH, "sensors"),
                                            FUZZ_OPT(PQCOAP_OPT_URI_PATH, "temp")};
/* Uri-Host is left out of opts() (PROTOCOL.md): a proxy may change it */
static const pqcoap_opt fuzz_opts_valve[] = {FUZZ_OPT(PQCOAP_OPT_URI_HOST, "plant.example"),
                                             FUZZ_OPT(PQCOAP_OPT_URI_PATH, "valve"),
                                             FUZZ_OPT(PQCOAP_OPT_CONTENT_FORMAT, "")};

/* What alice (seq 1, 2, 3) and bob (seq 1) sign for the v2 server, and the v1 device's
 * message to the v1 server. */
static const fuzz_genuine fuzz_sign_genuine[] = {
    {PQCOAP_POST, fuzz_opts_temp, 2, "set 21.5", "alice"},
    {PQCOAP_GET, fuzz_opts_temp, 2, "", "alice"},
    {PQCOAP_PUT, fuzz_opts_valve, 3, "open", "alice"},
    {PQCOAP_POST, fuzz_opts_temp, 2, "bob sets 19", "bob"},
};
static const fuzz_genuine fuzz_sign_genuine_v1[] = {
    {PQCOAP_POST, NULL, 0, "temperature 21.5", NULL},
};

static inline int fuzz_sign_bound(uint16_t number)
{
    return !pqcoap_opt_excluded(number);
}

static inline void fuzz_sign_trust(const pqcoap_store *store, const char *id,
                                   const pqcoap_identity *key)
{
    pqcoap_peer peer;
    fuzz_must(pqcoap_peer_from_pubkey(id, &key->pub, 1700000000, &peer));
    peer.usage = key->pub.usage;
    fuzz_must(pqcoap_store_peer_add(store, &peer));
}

/* One input: u8 config (bit 0: the v1 server, else v2; bits 1-2: max_peers - 1) then the
 * records, against a fresh memory store trusting alice, bob and the v1 device (whose kid
 * a v2 request may name, to be refused for its usage). Returns the set of genuine requests
 * given to the handler (fuzz_layer_run). */
static inline unsigned fuzz_sign_layer_input(const uint8_t *data, size_t size)
{
    const fuzz_sign_keys *k = fuzz_sign_keys_get();
    pqcoap_reader r;
    uint8_t config;
    pqcoap_rd_init(&r, data, size);
    if (pqcoap_rd_u8(&r, &config) != PQCOAP_OK)
        return 0;
    int v1 = config & 1;
    pqcoap_store store;
    fuzz_must(pqcoap_store_open_memory(&store));
    fuzz_sign_trust(&store, "alice", &k->alice);
    fuzz_sign_trust(&store, "bob", &k->bob);
    fuzz_sign_trust(&store, "v1dev", &k->v1dev);
    pqcoap_test_rng st;
    pqcoap_rng rng;
    fuzz_must(pqcoap_test_rng_init(&st, &rng, (const uint8_t *)"responses", 9));
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    cfg.policy = v1 ? PQCOAP_SIGN_V1_ONLY : PQCOAP_SIGN_V2_ONLY;
    cfg.v1_keys = v1 ? &k->v1dev.pub : NULL;
    cfg.n_v1_keys = v1 ? 1 : 0;
    cfg.max_peers = 1 + ((config >> 1) & 3);
    cfg.seq_block = 2;
    cfg.rng = &rng;
    pqcoap_sign_server *s;
    fuzz_must(pqcoap_sign_server_new(v1 ? &k->v1server : &k->server, &store, &cfg, &s));
    fuzz_layer_cfg c = {pqcoap_sign_server_layer(s), v1 ? NULL : fuzz_sign_bound,
                        v1 ? fuzz_sign_genuine_v1 : fuzz_sign_genuine,
                        v1 ? 1 : sizeof fuzz_sign_genuine / sizeof fuzz_sign_genuine[0],
                        v1, NULL, NULL, NULL};
    unsigned given = fuzz_layer_run(&c, &r);
    pqcoap_sign_server_free(s);
    pqcoap_store_close(&store);
    return given;
}

/* ---- Mode B (src/net/session_server.c) -------------------------------------------------- */

/* What the client of fuzz_session.h protects: requests 0, 1 and 2 of its session, and
 * request 0 of the session its waiting initiator makes (after the INIT of session_seq 2). */
static const fuzz_genuine fuzz_session_genuine[] = {
    {PQCOAP_POST, fuzz_opts_temp, 2, "set 21.5", "client"},
    {PQCOAP_GET, fuzz_opts_temp, 2, "", "client"},
    {PQCOAP_PUT, fuzz_opts_valve, 3, "open", "client"},
    {PQCOAP_POST, fuzz_opts_temp, 2, "set 22.0 (new session)", "client"},
};

/* True if the server routes m to the handshake's handler: its Uri-Path options joined
 * with '/' (as the server's router joins them) are PQCOAP_SESSION_INIT_PATH. The layer lets
 * the handshake through for the handler to authenticate. */
static inline int fuzz_session_is_init(const pqcoap_msg *m)
{
    char path[sizeof PQCOAP_SESSION_INIT_PATH];
    size_t n = 0, segments = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (o->number != PQCOAP_OPT_URI_PATH)
            continue;
        if (n + (segments > 0) + o->len >= sizeof path)
            return 0;
        if (segments++ > 0)
            path[n++] = '/';
        memcpy(path + n, o->value, o->len);
        n += o->len;
    }
    return n == sizeof path - 1 && memcmp(path, PQCOAP_SESSION_INIT_PATH, n) == 0;
}

/* The handler of the session server: POST pqc/session/init runs the handshake (as the
 * handshake thread would), anything else gets the fixed response. */
static inline void fuzz_session_handler(void *arg, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    pqcoap_responder *r = arg;
    if (!fuzz_session_is_init(req)) {
        fuzz_layer_respond(resp);
        return;
    }
    size_t len = 0;
    pqcoap_err err = req->code == PQCOAP_POST
                         ? pqcoap_responder_handshake(r, req->payload, req->payload_len,
                                                      pqcoap_net_now_ms(), resp->payload,
                                                      resp->payload_cap, &len)
                         : PQCOAP_ERR_MALFORMED;
    if (err != PQCOAP_OK) {
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(4, 1), pqcoap_strerror(err));
        return;
    }
    resp->code = PQCOAP_CODE(2, 4);
    resp->payload_len = len;
}

static inline int fuzz_session_bound(uint16_t number)
{
    return !pqcoap_opt_excluded(number);
}

/* One input: the records against a session server's layer whose responder holds the state
 * of fuzz_session.h (the session with "client" made to last beyond the run, as the layer
 * reads the real clock). Returns the set of genuine requests given to the handler. */
static inline unsigned fuzz_session_layer_input(const uint8_t *data, size_t size)
{
    fuzz_session *fs = fuzz_session_get();
    pqcoap_session_server_config cfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    cfg.id = "server";
    cfg.sk = fs->server.sk;
    cfg.sk_len = fs->server.pub.alg->sk_len;
    cfg.store = &fs->store;
    cfg.max_sessions = 2;
    pqcoap_session_server *ss;
    const pqcoap_layer *layer;
    pqcoap_responder *r;
    fuzz_must(pqcoap_session_server_layer_only(&cfg, &ss, &layer, &r));
    pqcoap_session *slots = r->table.slots;
    *r = fs->responder; /* its configuration, RESP cache and deterministic RNG */
    r->table.slots = slots;
    memcpy(slots, fs->slots, sizeof fs->slots);
    for (size_t i = 0; i < 2; i++)
        if (slots[i].live)
            slots[i].expires_ms = UINT64_MAX / 2;
    pqcoap_reader rd;
    pqcoap_rd_init(&rd, data, size);
    fuzz_layer_cfg c = {layer, fuzz_session_bound, fuzz_session_genuine,
                        sizeof fuzz_session_genuine / sizeof fuzz_session_genuine[0], 0,
                        fuzz_session_is_init, fuzz_session_handler, r};
    unsigned given = fuzz_layer_run(&c, &rd);
    pqcoap_session_server_free(ss);
    return given;
}

/* ---- OSCORE (src/net/oscore_server.c) --------------------------------------------------- */

/* The server's contexts: Appendix C.1 (recipient ID empty) with its replay window known,
 * and a second client "dev2" (the server's sender ID 02) after a restart, whose first
 * request gets the Echo challenge of Appendix B.1.2. */
static const char fuzz_oscore_conf_c1[] =
    "master_secret,hex,\"0102030405060708090a0b0c0d0e0f10\"\n"
    "master_salt,hex,9e7ca92223786340\n"
    "sender_id,hex,01\nrecipient_id,hex,\"\"\nrfc8613_b_1_2,bool,false\n";
static const char fuzz_oscore_conf_dev2[] =
    "master_secret,hex,\"0102030405060708090a0b0c0d0e0f10\"\n"
    "master_salt,hex,9e7ca92223786340\n"
    "sender_id,hex,02\nrecipient_id,ascii,dev2\n";

static const pqcoap_opt fuzz_opts_tv1[] = {FUZZ_OPT(PQCOAP_OPT_URI_HOST, "localhost"),
                                           FUZZ_OPT(PQCOAP_OPT_URI_PATH, "tv1")};
static const pqcoap_opt fuzz_opts_tv2[] = {FUZZ_OPT(PQCOAP_OPT_URI_HOST, "localhost"),
                                           FUZZ_OPT(PQCOAP_OPT_URI_PATH, "tv2")};

/* What the C.1 client protects (Sender Sequence Numbers 20, 21, 22) and dev2 (0). */
static const fuzz_genuine fuzz_oscore_genuine[] = {
    {PQCOAP_GET, fuzz_opts_tv1, 2, "", NULL},
    {PQCOAP_POST, fuzz_opts_tv1, 2, "o: 21", NULL},
    {PQCOAP_PUT, fuzz_opts_tv1, 2, "o: 22", NULL},
    {PQCOAP_GET, fuzz_opts_tv2, 2, "", NULL},
};

/* Class U options travel outer, unprotected (RFC 8613 section 4.1). */
static inline int fuzz_oscore_bound(uint16_t number)
{
    return pqcoap_oscore_opt_class(number) != 'U';
}

/* The client contexts of the genuine requests: dev2 = 0 the C.1 client, else dev2. */
static inline void fuzz_oscore_client(int dev2, pqcoap_oscore_ctx *out)
{
    static const uint8_t sid[] = "dev2", rid[] = {0x02};
    if (dev2)
        fuzz_oscore_ctx_ids(sid, sizeof sid - 1, rid, sizeof rid, out);
    else
        fuzz_oscore_ctx(0, out);
}

/* One input: the records against a fresh OSCORE server layer with both contexts over a
 * fresh memory store. Returns the set of genuine requests given to the handler. */
static inline unsigned fuzz_oscore_layer_input(const uint8_t *data, size_t size)
{
    static pqcoap_oscore_conf c1, dev2;
    static int ready;
    if (!ready) {
        fuzz_must(pqcoap_oscore_conf_parse(fuzz_oscore_conf_c1, sizeof fuzz_oscore_conf_c1 - 1,
                                           &c1, NULL, 0));
        fuzz_must(pqcoap_oscore_conf_parse(fuzz_oscore_conf_dev2,
                                           sizeof fuzz_oscore_conf_dev2 - 1, &dev2, NULL, 0));
        ready = 1;
    }
    pqcoap_store store;
    fuzz_must(pqcoap_store_open_memory(&store));
    pqcoap_oscore_server_config cfg = {4};
    pqcoap_oscore_server *s;
    fuzz_must(pqcoap_oscore_server_new(&store, &cfg, &s));
    fuzz_must(pqcoap_oscore_server_add_conf(s, &c1));
    fuzz_must(pqcoap_oscore_server_add_conf(s, &dev2));
    pqcoap_reader r;
    pqcoap_rd_init(&r, data, size);
    fuzz_layer_cfg c = {pqcoap_oscore_server_layer(s), fuzz_oscore_bound, fuzz_oscore_genuine,
                        sizeof fuzz_oscore_genuine / sizeof fuzz_oscore_genuine[0], 0, NULL,
                        NULL, NULL};
    unsigned given = fuzz_layer_run(&c, &r);
    pqcoap_oscore_server_free(s);
    pqcoap_store_close(&store);
    return given;
}

#endif
