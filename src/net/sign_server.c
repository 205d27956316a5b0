/* Mode A server layer (sign_endpoint.h): verifies signed requests against the trust store
 * or the pinned v1 keys, keeps per-kid replay windows whose floors persist in the store,
 * signs every response the handlers (or the server's 4.04 / 4.05) give, and answers a
 * retransmitted v2 request with the response already signed for it. */
#include "pqcoap/sign_endpoint.h"
#include "net/sign_internal.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* The last signed response to a v2 request of one sender kid (the kid of its slot), kept
 * for retransmissions of that request (same kid, seq and CoAP message ID, from the same
 * address). */
typedef struct sent_resp {
    uint64_t seq;                   /* the request's seq */
    uint16_t mid;                   /* the request's CoAP message ID */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    pqcoap_reply wire;              /* empty (mem NULL): nothing kept */
} sent_resp;

/* What the server keeps in memory about one sender kid: its replay window and its last
 * response. Slots are taken only for verified requests; when all are taken, the least
 * recently used is given to the next kid (its floor is persisted, see load_window). */
typedef struct slot {
    pqcoap_replay_entry e;          /* kid, used, window */
    uint64_t last_used;             /* s->uses when a request of kid was last accepted */
    sent_resp sent;
} slot;

struct pqcoap_sign_server {
    pqcoap_identity id;
    pqcoap_signer signer;
    pqcoap_store store;             /* borrowed handle (copied struct) */
    pqcoap_sign_policy policy;
    pqcoap_pubkey *v1_keys;
    size_t n_v1_keys;
    pqcoap_store_lookup lookup;     /* v2: peer by kid */
    slot *slots;
    size_t n_slots;
    uint64_t uses;                  /* accepted v2 requests, the clock of last_used */
    pqcoap_seq_counter counter;     /* response seq */
    pqcoap_layer layer;
};

/* Per-exchange state, from check_request to protect_response (no pointers: it is moved). */
typedef struct srv_state {
    int version;                    /* 0: the request was not accepted */
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
    char peer[PQCOAP_ID_MAX + 1];   /* v2: trust-store id of kid; "" for v1 */
} srv_state;

/* The slot of kid, or NULL if none is kept. */
static slot *find_slot(const pqcoap_sign_server *s, const uint8_t *kid)
{
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].e.used && memcmp(s->slots[i].e.kid, kid, PQCOAP_KID_LEN) == 0)
            return &s->slots[i];
    return NULL;
}

/* PROTOCOL.md Mode A v2, receiver state: the window of kid, into the scratch entry *e
 * (nothing in the server changes). From its slot if it has one; else, after a start or an
 * eviction, from the persisted floor, with every seq up to it counted as seen; else empty
 * (e->used = 0: nothing is known about kid). */
static pqcoap_err load_window(pqcoap_sign_server *s, const uint8_t *kid, pqcoap_replay_entry *e)
{
    const slot *sl = find_slot(s, kid);
    if (sl) {
        *e = sl->e;
        return PQCOAP_OK;
    }
    uint64_t floor = 0;
    pqcoap_err err = pqcoap_store_sign_floor_get(&s->store, kid, &floor);
    if (err == PQCOAP_ERR_NOT_FOUND || (err == PQCOAP_OK && floor == 0))
        return PQCOAP_OK;
    PQCOAP_TRY(err);
    memcpy(e->kid, kid, sizeof e->kid);
    e->used = 1;
    e->window.top = floor;
    e->window.bitmap = UINT64_MAX; /* the floor and the 63 below it: seen */
    return PQCOAP_OK;
}

/* Persists the highest accepted seq of kid when `seq` raised it above `top`. */
static pqcoap_err save_floor(pqcoap_sign_server *s, const uint8_t *kid, uint64_t seq,
                             uint64_t top)
{
    return seq > top ? pqcoap_store_sign_floor_set(&s->store, kid, seq) : PQCOAP_OK;
}

/* Keeps the window `e` of a kid whose request was just accepted (and its floor saved) in
 * the kid's slot, or else in the least recently used slot (a free one has last_used 0),
 * whose kid is forgotten with its kept response. */
static void keep_window(pqcoap_sign_server *s, const pqcoap_replay_entry *e)
{
    slot *sl = find_slot(s, e->kid);
    if (!sl) {
        sl = &s->slots[0];
        for (size_t i = 1; i < s->n_slots; i++)
            if (s->slots[i].last_used < sl->last_used)
                sl = &s->slots[i];
        pqcoap_reply_free(&sl->sent.wire);
        memset(&sl->sent, 0, sizeof sl->sent);
    }
    sl->e = *e;
    sl->last_used = ++s->uses;
}

/* The server's verifier: its policy, the trust store, the replay table `replay` and its
 * own kid, which a v2 request must be signed for. */
static pqcoap_verifier make_verifier(pqcoap_sign_server *s, pqcoap_replay_table *replay)
{
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.policy = s->policy;
    v.own_kid = s->signer.kid;
    v.lookup = pqcoap_store_key_lookup;
    v.lookup_ctx = &s->lookup;
    v.replay = replay;
    return v;
}

/* Verifies `wire` under the policy: v2 against the trust store and a scratch copy of the
 * kid's window, v1 against each pinned v1 key in turn. A kid gets a slot only once its
 * request verified and its new floor is saved, so forged datagrams take none. */
static pqcoap_err verify_request(pqcoap_sign_server *s, const pqcoap_msg *wire,
                                 pqcoap_sig_info *info, const uint8_t **message,
                                 size_t *len)
{
    pqcoap_replay_entry window;
    pqcoap_replay_table scratch;
    PQCOAP_TRY(pqcoap_replay_table_init(&scratch, &window, 1));
    pqcoap_verifier v = make_verifier(s, &scratch);
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG);
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
    if (o && s->policy == PQCOAP_SIGN_V2_ONLY &&
        pqcoap_sig_opt_parse(o->value, o->len, kid, &seq) == PQCOAP_OK)
        PQCOAP_TRY(load_window(s, kid, &window));
    uint64_t top = window.used ? window.window.top : 0;
    pqcoap_err err = PQCOAP_ERR_AUTH;
    size_t tries = o || s->n_v1_keys == 0 ? 1 : s->n_v1_keys;
    for (size_t i = 0; i < tries && err == PQCOAP_ERR_AUTH; i++) {
        v.v1_key = s->n_v1_keys ? &s->v1_keys[i] : NULL;
        err = pqcoap_verify_msg(&v, wire, NULL, info, message, len);
    }
    if (err == PQCOAP_OK && info->version == 2) {
        PQCOAP_TRY(save_floor(s, info->kid, info->seq, top));
        keep_window(s, &window);
    }
    return err;
}

/* ---- kept responses ------------------------------------------------------------------- */

/* 1 if a and b are the same IP address and port. */
static int same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *p = (const struct sockaddr_in *)(const void *)a;
        const struct sockaddr_in *q = (const struct sockaddr_in *)(const void *)b;
        return p->sin_port == q->sin_port &&
               memcmp(&p->sin_addr, &q->sin_addr, sizeof p->sin_addr) == 0;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)(const void *)a;
        const struct sockaddr_in6 *q = (const struct sockaddr_in6 *)(const void *)b;
        return p->sin6_port == q->sin6_port &&
               memcmp(&p->sin6_addr, &q->sin6_addr, sizeof p->sin6_addr) == 0;
    }
    return 0;
}

/* The kept response of kid, or NULL if none is kept. */
static sent_resp *sent_for(pqcoap_sign_server *s, const uint8_t *kid)
{
    slot *sl = find_slot(s, kid);
    return sl && sl->sent.wire.mem ? &sl->sent : NULL;
}

/* PROTOCOL.md Mode A v2 "Retransmissions": a v2 request with the kid, seq and message ID
 * of the request the kept response answers, from the same address, gets that response
 * again; the handler does not run. This comes before the replay window (where seq is
 * already marked) but only once the signature verifies, checked against a scratch window,
 * so a forged datagram cannot fetch the response. Sets *hit and fills `out` on a match. */
static pqcoap_err resend_kept(pqcoap_sign_server *s, const pqcoap_exchange *x,
                              const pqcoap_msg *wire, pqcoap_msgbuf *out, int *hit)
{
    *hit = 0;
    const pqcoap_opt *o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG);
    uint8_t kid[PQCOAP_KID_LEN];
    uint64_t seq;
    if (!o || s->policy == PQCOAP_SIGN_V1_ONLY ||
        pqcoap_sig_opt_parse(o->value, o->len, kid, &seq) != PQCOAP_OK)
        return PQCOAP_OK;
    const sent_resp *k = sent_for(s, kid);
    if (!k || k->seq != seq || k->mid != x->mid || k->peer_len != x->peer_len ||
        !same_peer(&k->peer, &x->peer))
        return PQCOAP_OK;
    pqcoap_replay_entry scratch_entry;
    pqcoap_replay_table scratch;
    PQCOAP_TRY(pqcoap_replay_table_init(&scratch, &scratch_entry, 1));
    pqcoap_verifier v = make_verifier(s, &scratch);
    const uint8_t *message;
    size_t len;
    if (pqcoap_verify_v2(&v, wire, NULL, NULL, &message, &len) != PQCOAP_OK)
        return PQCOAP_OK; /* the ordinary path refuses it */
    out->code = k->wire.msg.code;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(out, &k->wire.msg));
    PQCOAP_TRY(pqcoap_msgbuf_set_payload(out, k->wire.msg.payload, k->wire.msg.payload_len));
    *hit = 1;
    return PQCOAP_OK;
}

/* Keeps `wire`, the signed response to the v2 request (st->kid, st->seq) of exchange x,
 * replacing what was kept for that kid. Out of memory: nothing is kept, and a
 * retransmission is then refused as a replay. */
static void keep_response(pqcoap_sign_server *s, const srv_state *st,
                          const pqcoap_exchange *x, const pqcoap_msgbuf *wire)
{
    slot *sl = find_slot(s, st->kid);
    if (!sl)
        return; /* its slot went to another kid meanwhile (a deferred response) */
    sent_resp *k = &sl->sent;
    pqcoap_reply_free(&k->wire);
    pqcoap_msg m;
    pqcoap_msgbuf_view(wire, &m);
    if (pqcoap_reply_copy(&k->wire, &m) != PQCOAP_OK)
        return;
    k->seq = st->seq;
    k->mid = x->mid;
    k->peer = x->peer;
    k->peer_len = x->peer_len;
}

/* ---- the layer ------------------------------------------------------------------------ */

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    pqcoap_sign_server *s = ctx;
    srv_state *st = state;
    pqcoap_sig_info info;
    const uint8_t *message = NULL;
    size_t len = 0;
    int hit;
    PQCOAP_TRY(resend_kept(s, x, wire, out, &hit));
    if (hit) {
        *verdict = PQCOAP_LAYER_ANSWER;
        return PQCOAP_OK;
    }
    pqcoap_err err = verify_request(s, wire, &info, &message, &len);
    if (err != PQCOAP_OK) {
        /* Refused before the handler: unsigned 4.00 / 4.01 with a short diagnostic. */
        pqcoap_msgbuf_error(out, pqcoap_sign_error_code(err), pqcoap_strerror(err));
        *verdict = PQCOAP_LAYER_ANSWER;
        return PQCOAP_OK;
    }
    st->version = info.version;
    memcpy(st->kid, info.kid, sizeof st->kid);
    st->seq = info.seq;
    /* v2: the look-up that found the verifying key was by info.kid */
    if (info.version == 2)
        memcpy(st->peer, s->lookup.peer.id, sizeof st->peer);
    *verdict = PQCOAP_LAYER_HANDLE;
    return pqcoap_sign_unwrap(wire, message, len, out);
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    pqcoap_sign_server *s = ctx;
    const srv_state *st = state;
    if (st->version != 1 && st->version != 2)
        return PQCOAP_ERR_STATE;
    /* PROTOCOL.md v2: the response binds the request's kid and seq (not its token). */
    pqcoap_sig_req req = {{0}, st->seq};
    memcpy(req.kid, st->kid, sizeof req.kid);
    uint64_t seq;
    PQCOAP_TRY(pqcoap_sign_wrap(&s->signer, st->version, &s->counter, resp, NULL,
                                st->version == 2 ? &req : NULL, wire, &seq));
    if (st->version == 2)
        keep_response(s, st, x, wire);
    return PQCOAP_OK;
}

/* PROTOCOL.md "Observe": a v2 notification, signed with a fresh seq and bound to the
 * registering request (its kid and seq, kept in the observation's state). */
static pqcoap_err protect_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                       const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    (void)x;
    pqcoap_sign_server *s = ctx;
    const srv_state *st = obs_state;
    if (st->version != 2) /* v1 binds nothing: no v1 notifications */
        return PQCOAP_ERR_STATE;
    pqcoap_sig_req req = {{0}, st->seq};
    memcpy(req.kid, st->kid, sizeof req.kid);
    return pqcoap_sign_wrap_notification(&s->signer, &s->counter, resp, &req, wire);
}

static const char *peer_id(void *ctx, const void *state)
{
    (void)ctx;
    const srv_state *st = state;
    return st->version == 2 ? st->peer : NULL;
}

/* Copies the v1 keys of a v1 server, each of which must be a Falcon-512 key made for v1. */
static pqcoap_err copy_v1_keys(pqcoap_sign_server *s, const pqcoap_sign_server_config *cfg)
{
    if (cfg->policy != PQCOAP_SIGN_V1_ONLY)
        return PQCOAP_OK;
    if (cfg->n_v1_keys == 0 || !cfg->v1_keys)
        return PQCOAP_ERR_ARG;
    /* Each v1 request costs up to one signature check per key: bounded by the cap. */
    if (cfg->n_v1_keys > cfg->max_v1_keys)
        return PQCOAP_ERR_LIMIT;
    s->v1_keys = calloc(cfg->n_v1_keys, sizeof *s->v1_keys);
    if (!s->v1_keys)
        return PQCOAP_ERR_NOMEM;
    s->n_v1_keys = cfg->n_v1_keys;
    for (size_t i = 0; i < cfg->n_v1_keys; i++) {
        PQCOAP_TRY(pqcoap_sign_key_check(&cfg->v1_keys[i], 1));
        s->v1_keys[i] = cfg->v1_keys[i];
    }
    return PQCOAP_OK;
}

static pqcoap_err server_setup(pqcoap_sign_server *s, const pqcoap_identity *id,
                               const pqcoap_sign_server_config *cfg)
{
    char name[PQCOAP_SIGN_NAME_LEN];
    s->id = *id;
    /* PROTOCOL.md "Key usage": a v1 server signs with a sign-v1 key, a v2 server never. */
    PQCOAP_TRY(pqcoap_sign_key_check(&id->pub, cfg->policy == PQCOAP_SIGN_V1_ONLY ? 1 : 2));
    PQCOAP_TRY(pqcoap_signer_from_identity(&s->signer, &s->id, cfg->rng));
    PQCOAP_TRY(copy_v1_keys(s, cfg));
    s->slots = calloc(cfg->max_peers, sizeof *s->slots);
    if (!s->slots)
        return PQCOAP_ERR_NOMEM;
    s->n_slots = cfg->max_peers;
    pqcoap_sign_name(s->signer.kid, name);
    PQCOAP_TRY(pqcoap_seq_counter_init(&s->counter, &s->store, name, cfg->seq_block));
    s->lookup.store = &s->store;
    s->layer.ctx = s;
    s->layer.state_size = sizeof(srv_state);
    /* A client may sign with any algorithm (PROTOCOL.md Mode A v2 "Algorithms"); responses
     * carry a signature of the server's own. */
    s->layer.overhead = PQCOAP_SIGN_OVERHEAD_MAX;
    s->layer.response_overhead = s->signer.alg->sig_max + 2;
    s->layer.critical_opts = pqcoap_sign_critical_opts;
    s->layer.n_critical_opts = 1;
    s->layer.check_request = check_request;
    s->layer.protect_response = protect_response;
    s->layer.peer_id = peer_id;
    /* PROTOCOL.md "Observe": v1 binds nothing, so a v1 server answers registrations
     * without Observe */
    if (cfg->policy == PQCOAP_SIGN_V2_ONLY)
        s->layer.protect_notification = protect_notification;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_server_new(const pqcoap_identity *id, const pqcoap_store *store,
                                  const pqcoap_sign_server_config *cfg,
                                  pqcoap_sign_server **out)
{
    pqcoap_sign_server_config defaults = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!id || !store || !store->ops || cfg->max_peers == 0 || cfg->seq_block == 0 ||
        (cfg->policy != PQCOAP_SIGN_V2_ONLY && cfg->policy != PQCOAP_SIGN_V1_ONLY) ||
        cfg->max_peers > SIZE_MAX / sizeof(slot))
        return PQCOAP_ERR_ARG;
    pqcoap_sign_server *s = calloc(1, sizeof *s);
    if (!s)
        return PQCOAP_ERR_NOMEM;
    s->store = *store;
    s->policy = cfg->policy;
    pqcoap_err err = server_setup(s, id, cfg);
    if (err != PQCOAP_OK) {
        pqcoap_sign_server_free(s);
        return err;
    }
    *out = s;
    return PQCOAP_OK;
}

const pqcoap_layer *pqcoap_sign_server_layer(const pqcoap_sign_server *s)
{
    return s ? &s->layer : NULL;
}

void pqcoap_sign_server_free(pqcoap_sign_server *s)
{
    if (!s)
        return;
    pqcoap_identity_wipe(&s->id);
    free(s->v1_keys);
    for (size_t i = 0; s->slots && i < s->n_slots; i++)
        pqcoap_reply_free(&s->slots[i].sent.wire);
    free(s->slots);
    free(s);
}
