/* OSCORE server layer (oscore_endpoint.h): a table of security contexts found by kid (and
 * kid context) through an open-addressed index, request verification with the error
 * answers of RFC 8613 section 8.2, Echo recovery of the replay window (Appendix B.1.2),
 * and protected responses. Contexts are provisioned (add_conf) or keyed by the post-quantum
 * handshake (oscore_keying.c adds and removes them; they end by time and request count). */
#include "pqcoap/oscore_endpoint.h"
#include "net/oscore_internal.h"
#include "net/net_internal.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <stdlib.h>
#include <string.h>

#define ECHO_LEN 8

/* One security context of the server and what it keeps beside it. */
/* The last protected response of a context, kept while its blocks may be asked for: outer
 * block-wise (RFC 8613 section 4.1.3.4.2) repeats the protected request, without payload,
 * with an outer Block2 for each further block of the protected response. */
typedef struct kept_response {
    pqcoap_reply wire;              /* the protected response, every option; empty: none */
    uint8_t piv[PQCOAP_OSCORE_PIV_MAX]; /* the request it answers */
    size_t piv_len;
    struct sockaddr_storage peer;   /* and where that request came from */
    socklen_t peer_len;
    unsigned sends_left;            /* block requests it may still answer */
} kept_response;

typedef struct entry {
    pqcoap_oscore_ctx ctx;
    pqcoap_seq_counter ssn;         /* the server's own Partial IVs */
    uint8_t echo[ECHO_LEN];         /* the Echo value sent while the window is unknown */
    int echo_set;
    int used;
    kept_response kept;
    int keyed;                      /* keyed by a handshake: ends as below */
    uint64_t serial;                /* its entry in the handshake's table */
    uint64_t expires_ms;
    uint64_t max_msgs, n_msgs;      /* requests accepted at most, and so far */
    uint64_t gen;                   /* tells this context from later ones in its place */
} entry;

struct pqcoap_oscore_server {
    pqcoap_store store;
    entry *entries;
    size_t cap, n;
    uint32_t *index;                /* open addressing over kid: entry number + 1, 0 free */
    size_t index_cap;               /* a power of two, at least twice cap */
    pqcoap_layer layer;
    pqcoap_oscore_keying *keying;   /* NULL unless contexts are keyed by handshakes */
    uint64_t next_gen;              /* entry.gen of the next context added */
};

/* Per-exchange state from check_request to protect_response (plain data, it is moved). */
typedef struct sv_state {
    uint32_t entry;                 /* entry number + 1; 0: not an OSCORE exchange */
    uint64_t gen;                   /* and that entry's context */
    int handshake;                  /* the unprotected POST pqc/session/init */
    int with_piv;                   /* respond with the server's own Partial IV */
    int block2;                     /* the request carried an outer Block2 */
    pqcoap_oscore_binding bind;
} sv_state;

static size_t kid_hash(const uint8_t *kid, size_t len, size_t mask)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ kid[i]) * 16777619u;
    h = (h ^ (uint32_t)len) * 16777619u;
    return h & mask;
}

/* The context for kid (and kid context, when the request carries one). A request without
 * kid context takes the first context with that kid (section 8.2 step 2). */
static entry *lookup(const pqcoap_oscore_server *s, const pqcoap_oscore_option *o)
{
    size_t mask = s->index_cap - 1;
    for (size_t i = kid_hash(o->kid, o->kid_len, mask), probes = 0;
         s->index[i] != 0 && probes < s->index_cap; i = (i + 1) & mask, probes++) {
        entry *e = &s->entries[s->index[i] - 1];
        const pqcoap_oscore_ctx *c = &e->ctx;
        if (c->recipient_id_len != o->kid_len ||
            memcmp(c->recipient_id, o->kid, o->kid_len) != 0)
            continue;
        if (o->has_kid_context &&
            (!c->has_id_context || c->id_context_len != o->kid_context_len ||
             memcmp(c->id_context, o->kid_context, o->kid_context_len) != 0))
            continue;
        return e;
    }
    return NULL;
}

static void index_put(pqcoap_oscore_server *s, size_t k)
{
    const entry *e = &s->entries[k];
    size_t mask = s->index_cap - 1, i = kid_hash(e->ctx.recipient_id, e->ctx.recipient_id_len,
                                                mask);
    while (s->index[i] != 0)
        i = (i + 1) & mask;
    s->index[i] = (uint32_t)(k + 1);
}

/* Ends entry k: wiped, and the index made again without it (open addressing has no simple
 * removal; contexts end rarely). */
static void remove_entry(pqcoap_oscore_server *s, size_t k)
{
    pqcoap_reply_free(&s->entries[k].kept.wire);
    pqcoap_wipe(&s->entries[k], sizeof s->entries[k]);
    memset(s->index, 0, s->index_cap * sizeof *s->index);
    for (size_t i = 0; i < s->n; i++)
        if (s->entries[i].used)
            index_put(s, i);
}

/* An unprotected refusal (section 8.2) with an outer Max-Age of 0 (section 4.1.3.1), so
 * that no intermediary caches it. */
static void refuse(pqcoap_msgbuf *out, pqcoap_err err, const char *diag,
                   pqcoap_layer_verdict *verdict)
{
    const char *d = NULL;
    uint8_t code = pqcoap_oscore_error_code(err, &d);
    pqcoap_msgbuf_error(out, code, diag != NULL ? diag : d);
    pqcoap_msgbuf_add_uint(out, PQCOAP_OPT_MAX_AGE, 0);
    *verdict = PQCOAP_LAYER_ANSWER;
}

/* Protects `resp` for the exchange in `st` into `wire`. */
static pqcoap_err protect(pqcoap_oscore_server *s, const sv_state *st, const pqcoap_msg *resp,
                          pqcoap_msgbuf *wire)
{
    entry *e = &s->entries[st->entry - 1];
    uint64_t ssn = 0;
    if (st->with_piv)
        PQCOAP_TRY(pqcoap_seq_next(&e->ssn, &ssn));
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(wire, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg out;
    PQCOAP_TRY(pqcoap_oscore_protect_response(&e->ctx, &st->bind, st->with_piv, ssn, resp,
                                              &room, &out));
    return pqcoap_oscore_fill(wire, &out);
}

/* Appendix B.1.2: the window of e is unknown (a restart). A request that returns e's Echo
 * value starts the window; any other gets a protected 4.01 with a fresh Echo value, sent
 * with the server's own Partial IV (the request may be a replay: its nonce must not be
 * used again). Returns 1 when the request may be handled. */
static int echo_gate(pqcoap_oscore_server *s, entry *e, sv_state *st, pqcoap_msgbuf *out,
                     pqcoap_layer_verdict *verdict, pqcoap_err *err)
{
    pqcoap_msg req;
    pqcoap_msgbuf_view(out, &req);
    const pqcoap_opt *echo = pqcoap_msg_find_opt(&req, PQCOAP_OPT_ECHO);
    if (e->echo_set && echo != NULL && echo->len == ECHO_LEN &&
        pqcoap_ct_equal(echo->value, e->echo, ECHO_LEN)) {
        *err = pqcoap_oscore_window_init(&e->ctx, &st->bind);
        pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_ECHO);
        return *err == PQCOAP_OK;
    }
    if (!e->echo_set) {
        *err = pqcoap_random(NULL, e->echo, ECHO_LEN);
        if (*err != PQCOAP_OK)
            return 0;
        e->echo_set = 1;
    }
    uint8_t token[PQCOAP_TOKEN_MAX];
    size_t token_len = req.token_len;
    memcpy(token, req.token, token_len);
    const pqcoap_opt o = {PQCOAP_OPT_ECHO, e->echo, ECHO_LEN};
    const pqcoap_msg challenge = {PQCOAP_CODE(4, 1), token, token_len, &o, 1, NULL, 0};
    st->with_piv = 1;
    *err = protect(s, st, &challenge, out);
    *verdict = PQCOAP_LAYER_ANSWER;
    return 0;
}

/* Inner block-wise transfer (RFC 8613 section 4.1.3.4.1) is not reassembled here: a body
 * split into inner blocks would reach the handler cut short. An inner Block1 that is not
 * one complete block, or an inner Block2 asking for a later block, gets a protected 4.02
 * Bad Option (RFC 7959: an unsupported critical option); outer block-wise (section
 * 4.1.3.4.2) carries bodies of any size. Inner block options that say "all of it in one
 * block" are dropped. Returns 1 when the request may go on. */
static int inner_blocks_ok(pqcoap_oscore_server *s, sv_state *st, pqcoap_msgbuf *out,
                           pqcoap_layer_verdict *verdict, pqcoap_err *err)
{
    pqcoap_msg req;
    pqcoap_msgbuf_view(out, &req);
    int any = 0; /* inner block options: rare, so one scan before any other work */
    for (size_t i = 0; i < req.n_opts && !any; i++) {
        uint16_t n = req.opts[i].number;
        any = n == PQCOAP_OPT_BLOCK1 || n == PQCOAP_OPT_BLOCK2 || n == PQCOAP_OPT_SIZE1 ||
              n == PQCOAP_OPT_SIZE2;
    }
    if (!any)
        return 1;
    const pqcoap_opt *b1 = pqcoap_msg_find_opt(&req, PQCOAP_OPT_BLOCK1);
    const pqcoap_opt *b2 = pqcoap_msg_find_opt(&req, PQCOAP_OPT_BLOCK2);
    uint32_t v1 = 0, v2 = 0;
    int ok = (b1 == NULL || (pqcoap_opt_uint(b1, &v1) == PQCOAP_OK && (v1 >> 3) == 0)) &&
             (b2 == NULL || (pqcoap_opt_uint(b2, &v2) == PQCOAP_OK && (v2 >> 3) == 0));
    if (ok) {
        pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_BLOCK1);
        pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_BLOCK2);
        pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_SIZE1);
        pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_SIZE2);
        return 1;
    }
    static const char diag[] = "inner block-wise transfer not supported: use outer block-wise";
    uint8_t token[PQCOAP_TOKEN_MAX];
    memcpy(token, req.token, req.token_len);
    const pqcoap_msg answer = {PQCOAP_CODE(4, 2), token, req.token_len, NULL, 0,
                               (const uint8_t *)diag, sizeof diag - 1};
    *err = protect(s, st, &answer, out);
    *verdict = PQCOAP_LAYER_ANSWER;
    return 0;
}

/* Responses whose body is at most this long go in one block of any size (RFC 7959: 16 bytes
 * and up): nothing to keep for them. */
#define ONE_BLOCK 16
/* A response this long goes in one datagram unless the request asked for smaller blocks with
 * an outer Block2 (the CoAP server's blocks are 1024 bytes, its datagrams 1152): nothing to
 * keep for it either, so a response is not copied for every request. */
#define ONE_DATAGRAM 512

/* Keeps `wire`, the protected response to the request of st from x->peer, for the block
 * requests that may follow; at most one per context. */
static void keep_response(entry *e, const sv_state *st, const pqcoap_exchange *x,
                          const pqcoap_msgbuf *wire)
{
    kept_response *k = &e->kept;
    pqcoap_reply_free(&k->wire);
    k->sends_left = 0;
    if (wire->payload_len <= (st->block2 ? ONE_BLOCK : ONE_DATAGRAM) || x == NULL)
        return;
    pqcoap_msg m;
    pqcoap_msgbuf_view(wire, &m);
    m.token = NULL;
    m.token_len = 0;
    if (pqcoap_reply_copy(&k->wire, &m) != PQCOAP_OK)
        return;
    memcpy(k->piv, st->bind.piv, st->bind.piv_len);
    k->piv_len = st->bind.piv_len;
    memcpy(&k->peer, &x->peer, sizeof k->peer);
    k->peer_len = x->peer_len;
    /* every block once, at the smallest block size, and a few retransmissions */
    k->sends_left = (unsigned)(wire->payload_len / ONE_BLOCK) + 4;
}

/* A block request of outer block-wise transfer: the protected request again, without its
 * payload, from the same address. Answers it with the kept protected response (the server
 * sends the block the request's Block2 asks for) and returns 1; 0 if it is none. An empty
 * payload is never an OSCORE request of its own (the tag alone is 8 or 16 bytes), so this
 * opens no way around the replay window, and what it sends was sent to that address
 * before, a bounded number of times. */
static int block_request(entry *e, const pqcoap_oscore_option *opt, const pqcoap_exchange *x,
                         const pqcoap_msg *wire, pqcoap_msgbuf *out,
                         pqcoap_layer_verdict *verdict)
{
    kept_response *k = &e->kept;
    if (wire->payload_len != 0 || k->sends_left == 0 || opt->piv_len != k->piv_len ||
        memcmp(opt->piv, k->piv, k->piv_len) != 0 || x->peer_len != k->peer_len ||
        memcmp(&x->peer, &k->peer, k->peer_len) != 0)
        return 0;
    pqcoap_msgbuf_reset(out);
    out->code = k->wire.msg.code;
    if (pqcoap_msgbuf_copy_opts(out, &k->wire.msg) != PQCOAP_OK ||
        pqcoap_msgbuf_set_payload(out, k->wire.msg.payload, k->wire.msg.payload_len) != PQCOAP_OK)
        return 0;
    k->sends_left--;
    *verdict = PQCOAP_LAYER_ANSWER;
    return 1;
}

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    pqcoap_oscore_server *s = ctx;
    sv_state *st = state;
    pqcoap_oscore_option opt;
    uint64_t now = s->keying ? pqcoap_oscore_keying_refresh(s->keying) : 0;
    pqcoap_err err = pqcoap_oscore_find_option(wire, &opt);
    if (err == PQCOAP_ERR_NOT_FOUND && s->keying && pqcoap_oscore_keying_is_init(wire)) {
        /* the handshake itself travels unprotected (PROTOCOL.md "Handshake") */
        st->handshake = 1;
        *verdict = PQCOAP_LAYER_HANDLE;
        return pqcoap_oscore_fill(out, wire);
    }
    if (err == PQCOAP_ERR_NOT_FOUND) {
        refuse(out, PQCOAP_ERR_UNKNOWN_PEER, "OSCORE required", verdict);
        return PQCOAP_OK;
    }
    entry *e = err == PQCOAP_OK && opt.has_kid ? lookup(s, &opt) : NULL;
    /* a context keyed by a handshake ends with its lifetime or after max_msgs requests */
    if (e != NULL && e->keyed &&
        (now >= e->expires_ms || e->n_msgs >= e->max_msgs)) {
        pqcoap_oscore_keying_lock(s->keying);
        remove_entry(s, (size_t)(e - s->entries));
        pqcoap_oscore_keying_unlock(s->keying);
        e = NULL;
    }
    if (err != PQCOAP_OK || e == NULL) {
        refuse(out, err != PQCOAP_OK ? err : PQCOAP_ERR_UNKNOWN_PEER, NULL, verdict);
        return PQCOAP_OK;
    }
    if (block_request(e, &opt, x, wire, out, verdict))
        return PQCOAP_OK;
    st->block2 = pqcoap_msg_find_opt(wire, PQCOAP_OPT_BLOCK2) != NULL;
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(out, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg plain;
    err = pqcoap_oscore_unprotect_request(&e->ctx, wire, &opt, &room, &plain, &st->bind);
    if (err != PQCOAP_OK && err != PQCOAP_ERR_STATE) {
        refuse(out, err, NULL, verdict);
        return PQCOAP_OK;
    }
    st->entry = (uint32_t)(e - s->entries) + 1;
    st->gen = e->gen;
    if (err == PQCOAP_OK)
        e->n_msgs++;
    pqcoap_err fill = pqcoap_oscore_fill(out, &plain);
    if (fill != PQCOAP_OK)
        return fill;
    if (err == PQCOAP_ERR_STATE && !echo_gate(s, e, st, out, verdict, &err))
        return err;
    if (!inner_blocks_ok(s, st, out, verdict, &err))
        return err;
    *verdict = PQCOAP_LAYER_HANDLE;
    return PQCOAP_OK;
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    pqcoap_oscore_server *s = ctx;
    const sv_state *st = state;
    if (st->handshake) {
        /* the context of this RESP's handshake is added before the RESP leaves */
        (void)pqcoap_oscore_keying_refresh(s->keying);
        return pqcoap_oscore_fill(wire, resp); /* RESP or a refusal, unprotected */
    }
    if (st->entry == 0)
        return PQCOAP_ERR_STATE;
    PQCOAP_TRY(protect(s, st, resp, wire));
    keep_response(&s->entries[st->entry - 1], st, x, wire);
    return PQCOAP_OK;
}

/* RFC 8613 section 4.1.3.5.2: a notification with the server's own Partial IV, bound to
 * the registration (request_kid, request_piv). Fails once the context of the registration
 * has ended (removed, expired, revoked, its place taken by another): the server then ends
 * the observation. */
static pqcoap_err protect_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                       const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    pqcoap_oscore_server *s = ctx;
    const sv_state *st = obs_state;
    if (st->handshake || st->entry == 0 || st->entry > s->n)
        return PQCOAP_ERR_STATE;
    if (s->keying)
        pqcoap_oscore_keying_refresh(s->keying);
    entry *e = &s->entries[st->entry - 1];
    if (!e->used || e->gen != st->gen)
        return PQCOAP_ERR_UNKNOWN_PEER;
    if (e->keyed && pqcoap_net_now_ms() >= e->expires_ms) {
        remove_entry(s, st->entry - 1);
        return PQCOAP_ERR_EXPIRED;
    }
    uint64_t ssn;
    PQCOAP_TRY(pqcoap_seq_next(&e->ssn, &ssn));
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(wire, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg out;
    PQCOAP_TRY(pqcoap_oscore_protect_notification(&e->ctx, &st->bind, ssn, resp, &room, &out));
    PQCOAP_TRY(pqcoap_oscore_fill(wire, &out));
    /* a notification larger than a block: its later blocks are asked for with the
     * registration again (outer block-wise, section 4.1.3.4.2) */
    keep_response(e, st, x, wire);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_server_new(const pqcoap_store *store,
                                    const pqcoap_oscore_server_config *cfg,
                                    pqcoap_oscore_server **out)
{
    pqcoap_oscore_server_config defaults = PQCOAP_OSCORE_SERVER_CONFIG_INIT;
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!store || !store->ops || cfg->max_contexts == 0 || cfg->max_contexts > (1u << 24))
        return PQCOAP_ERR_ARG;
    pqcoap_oscore_server *s = calloc(1, sizeof *s);
    if (!s)
        return PQCOAP_ERR_NOMEM;
    s->store = *store;
    s->cap = cfg->max_contexts;
    s->index_cap = 16;
    while (s->index_cap < 2 * s->cap)
        s->index_cap *= 2;
    s->entries = calloc(s->cap, sizeof *s->entries);
    s->index = calloc(s->index_cap, sizeof *s->index);
    if (!s->entries || !s->index) {
        pqcoap_oscore_server_free(s);
        return PQCOAP_ERR_NOMEM;
    }
    s->layer.ctx = s;
    s->layer.state_size = sizeof(sv_state);
    s->layer.overhead = PQCOAP_OSCORE_LAYER_OVERHEAD;
    s->layer.critical_opts = pqcoap_oscore_critical_opts;
    s->layer.n_critical_opts = 1;
    s->layer.check_request = check_request;
    s->layer.protect_response = protect_response;
    s->layer.protect_notification = protect_notification;
    *out = s;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_server_add_conf(pqcoap_oscore_server *s,
                                         const pqcoap_oscore_conf *conf)
{
    if (!s || !conf || conf->n_recipients == 0)
        return PQCOAP_ERR_ARG;
    if (s->n + conf->n_recipients > s->cap)
        return PQCOAP_ERR_LIMIT;
    size_t first = s->n;
    pqcoap_err err = PQCOAP_OK;
    for (size_t r = 0; r < conf->n_recipients && err == PQCOAP_OK; r++) {
        entry *e = &s->entries[s->n];
        pqcoap_oscore_params p;
        char name[PQCOAP_OSCORE_SSN_NAME_LEN];
        err = pqcoap_oscore_conf_params(conf, r, &p);
        if (err == PQCOAP_OK)
            err = pqcoap_oscore_derive(&p, &e->ctx);
        pqcoap_oscore_option key = {NULL, 0, e->ctx.recipient_id, e->ctx.recipient_id_len, 1,
                                    e->ctx.id_context, e->ctx.id_context_len,
                                    e->ctx.has_id_context};
        entry *same = err == PQCOAP_OK ? lookup(s, &key) : NULL;
        if (same != NULL && same->ctx.has_id_context == e->ctx.has_id_context)
            err = PQCOAP_ERR_EXISTS;
        if (err == PQCOAP_OK)
            err = pqcoap_oscore_ssn_name(&e->ctx, name);
        if (err == PQCOAP_OK)
            err = pqcoap_seq_counter_init(&e->ssn, &s->store, name, conf->ssn_freq);
        if (err != PQCOAP_OK)
            break;
        e->ctx.window_valid = !conf->rfc8613_b_1_2;
        e->used = 1;
        e->gen = ++s->next_gen;
        index_put(s, s->n);
        s->n++;
    }
    if (err != PQCOAP_OK) {
        /* Undo this call's entries: clear their index slots, wipe them. */
        for (size_t i = 0; i < s->index_cap; i++)
            if (s->index[i] > first)
                s->index[i] = 0;
        for (size_t k = first; k <= s->n && k < s->cap; k++)
            pqcoap_wipe(&s->entries[k], sizeof s->entries[k]);
        s->n = first;
    }
    return err;
}

const pqcoap_layer *pqcoap_oscore_server_layer(const pqcoap_oscore_server *s)
{
    return s ? &s->layer : NULL;
}

pqcoap_err pqcoap_oscore_server_add_keyed(pqcoap_oscore_server *s, const pqcoap_oscore_params *p,
                                          uint64_t serial, uint64_t expires_ms,
                                          uint32_t max_msgs)
{
    size_t k = 0;
    while (k < s->n && s->entries[k].used)
        k++;
    if (k == s->cap)
        return PQCOAP_ERR_LIMIT;
    entry *e = &s->entries[k];
    char name[PQCOAP_OSCORE_SSN_NAME_LEN];
    pqcoap_err err = pqcoap_oscore_derive(p, &e->ctx);
    pqcoap_oscore_option key = {NULL, 0, e->ctx.recipient_id, e->ctx.recipient_id_len, 1,
                                NULL, 0, 0};
    if (err == PQCOAP_OK && lookup(s, &key) != NULL)
        err = PQCOAP_ERR_EXISTS;
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_ssn_name(&e->ctx, name);
    if (err == PQCOAP_OK)
        err = pqcoap_seq_counter_init(&e->ssn, &s->store, name, 16);
    if (err != PQCOAP_OK) {
        pqcoap_wipe(e, sizeof *e);
        return err;
    }
    /* fresh keys: no request under them was seen before, so the window is known */
    e->ctx.window_valid = 1;
    e->used = e->keyed = 1;
    e->gen = ++s->next_gen;
    e->serial = serial;
    e->expires_ms = expires_ms;
    e->max_msgs = max_msgs;
    if (k == s->n)
        s->n++;
    index_put(s, k);
    return PQCOAP_OK;
}

size_t pqcoap_oscore_server_drop_keyed(pqcoap_oscore_server *s,
                                       int (*live)(void *arg, uint64_t serial), void *arg)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n; k++)
        if (s->entries[k].used && s->entries[k].keyed && !live(arg, s->entries[k].serial)) {
            remove_entry(s, k);
            n++;
        }
    return n;
}

int pqcoap_oscore_server_has_kid(const pqcoap_oscore_server *s, const uint8_t *kid, size_t len)
{
    pqcoap_oscore_option key = {NULL, 0, kid, len, 1, NULL, 0, 0};
    return lookup(s, &key) != NULL;
}

void pqcoap_oscore_server_share_store(pqcoap_oscore_server *s, const pqcoap_store *from,
                                      const pqcoap_store *to)
{
    if (s->store.ops != from->ops || s->store.ctx != from->ctx)
        return;
    s->store = *to;
    for (size_t i = 0; i < s->n; i++)
        if (s->entries[i].used)
            s->entries[i].ssn.store = *to;
}

void pqcoap_oscore_server_set_keying(pqcoap_oscore_server *s, pqcoap_oscore_keying *k)
{
    s->keying = k;
}

int pqcoap_oscore_server_has_keying(const pqcoap_oscore_server *s)
{
    return s->keying != NULL;
}

void pqcoap_oscore_server_stop(pqcoap_oscore_server *s)
{
    if (s)
        pqcoap_oscore_keying_stop(s->keying);
}

void pqcoap_oscore_server_free(pqcoap_oscore_server *s)
{
    if (!s)
        return;
    pqcoap_oscore_keying_free(s->keying);
    if (s->entries) {
        for (size_t i = 0; i < s->cap; i++)
            pqcoap_reply_free(&s->entries[i].kept.wire);
        pqcoap_wipe(s->entries, s->cap * sizeof *s->entries);
        free(s->entries);
    }
    free(s->index);
    free(s);
}
