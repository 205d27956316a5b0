/* OSCORE contexts keyed by the post-quantum handshake (PROTOCOL.md "OSCORE keyed by the
 * handshake"): the server side (POST pqc/session/init on an OSCORE server, rate-limited per
 * address and run on a handshake thread as Mode B's, one context per device in the
 * handshake's table of live peer contexts, ended with its entry) and the client that makes
 * the handshake and then speaks OSCORE. */
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "net/oscore_internal.h"
#include "core/session_internal.h"
#include "net/net_internal.h"
#include "net/hs_queue_internal.h"
#include "crypto/crypto_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/** Store counter of session_seq: the session client's, so that the responder's floor per
 *  initiator rises whichever of the two keys a handshake. */
#define SEQ_COUNTER "mode-b session_seq"
/** How often the store's change count is read for revocations (PROTOCOL.md "Revocation"),
 *  and how often the I/O thread ends the contexts of ended entries. */
#define REVALIDATE_MS 250

/* The store of the keying, shared by the handshake thread (trust look-ups, floors) and the
 * I/O thread (the contexts' Sender Sequence Numbers): every operation under one mutex, as a
 * store handle is used by one thread at a time (store.h). */
typedef struct locked_store {
    pqcoap_store inner;
    pthread_mutex_t mu;
} locked_store;

/* A context keyed by a handshake, waiting in the done list for the I/O thread. */
typedef struct made_ctx {
    pqcoap_hs_oscore keys;          /* the responder's view of the context (secret) */
    uint64_t serial;                /* its entry in the table */
    uint64_t expires_ms;
    struct made_ctx *next;
} made_ctx;

struct pqcoap_oscore_keying {
    pqcoap_oscore_server *s;
    pqcoap_server *srv;
    locked_store store;
    pqcoap_store shared;            /* over `store`: what the responder and s use */
    pthread_mutex_t lock;           /* guards r, the queue's jobs, done, and changes of s's
                                       contexts */
    pqcoap_responder r;
    pqcoap_session *slots;
    pqcoap_hs_queue queue;          /* INITs for the handshake thread */
    made_ctx *done;                 /* contexts keyed, not yet added to s */
    atomic_int n_done;              /* nonzero: done has contexts or entries ended */

    pqcoap_hs_pending pending;      /* handshake thread: the handshake in progress */
    uint8_t resp[PQCOAP_RESP_MAX];  /* handshake thread: its RESP */
    uint64_t change_count;          /* handshake thread: the count all live entries were
                                       checked at */
    int count_known;

    uint64_t refreshed_ms;          /* I/O thread: ended entries' contexts last dropped */
};

/* ---- the shared store ---- */

#define LOCKED(call)                                                                      \
    do {                                                                                  \
        locked_store *l = ctx;                                                            \
        pthread_mutex_lock(&l->mu);                                                       \
        pqcoap_err err_ = l->inner.ops->call;                                             \
        pthread_mutex_unlock(&l->mu);                                                     \
        return err_;                                                                      \
    } while (0)

static pqcoap_err ls_peer_add(void *ctx, const pqcoap_peer *p)
{ LOCKED(peer_add(l->inner.ctx, p)); }
static pqcoap_err ls_peer_remove(void *ctx, const char *id)
{ LOCKED(peer_remove(l->inner.ctx, id)); }
static pqcoap_err ls_peer_by_id(void *ctx, const char *id, pqcoap_peer *out)
{ LOCKED(peer_by_id(l->inner.ctx, id, out)); }
static pqcoap_err ls_peer_by_kid(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], pqcoap_peer *out)
{ LOCKED(peer_by_kid(l->inner.ctx, kid, out)); }
static pqcoap_err ls_peer_list(void *ctx, pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                               void *arg)
{ LOCKED(peer_list(l->inner.ctx, cb, arg)); }
static pqcoap_err ls_floor_get(void *ctx, const char *id, pqcoap_floor *out)
{ LOCKED(floor_get(l->inner.ctx, id, out)); }
static pqcoap_err ls_floor_set(void *ctx, const char *id, const pqcoap_floor *f)
{ LOCKED(floor_set(l->inner.ctx, id, f)); }
static pqcoap_err ls_sign_floor_get(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq)
{ LOCKED(sign_floor_get(l->inner.ctx, kid, seq)); }
static pqcoap_err ls_sign_floor_set(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq)
{ LOCKED(sign_floor_set(l->inner.ctx, kid, seq)); }
static pqcoap_err ls_seq_reserve(void *ctx, const char *name, uint64_t count, uint64_t *first)
{ LOCKED(seq_reserve(l->inner.ctx, name, count, first)); }
static pqcoap_err ls_seq_peek(void *ctx, const char *name, uint64_t *next)
{ LOCKED(seq_peek(l->inner.ctx, name, next)); }
static pqcoap_err ls_change_count(void *ctx, uint64_t *count)
{
    if (!((locked_store *)ctx)->inner.ops->change_count)
        return PQCOAP_ERR_UNSUPPORTED;
    LOCKED(change_count(l->inner.ctx, count));
}
static void ls_close(void *ctx)
{
    (void)ctx; /* the caller's store: the caller closes it */
}

static const pqcoap_store_ops locked_ops = {
    ls_peer_add, ls_peer_remove, ls_peer_by_id, ls_peer_by_kid, ls_peer_list,
    ls_floor_get, ls_floor_set, ls_sign_floor_get, ls_sign_floor_set, ls_seq_reserve,
    ls_seq_peek, ls_close, ls_change_count,
};

/* ---- server: I/O thread ---- */

/* A table id whose bytes are the Recipient ID of a context held (a provisioned one) is not
 * handed out. Called under the lock, which every change of s's contexts holds. */
static int id_taken(void *arg, uint64_t id)
{
    const pqcoap_oscore_keying *k = arg;
    uint8_t kid[4];
    size_t n = pqcoap_hs_oscore_id((uint32_t)id, kid);
    return pqcoap_oscore_server_has_kid(k->s, kid, n);
}

static int entry_live(void *arg, uint64_t serial)
{
    pqcoap_oscore_keying *k = arg;
    return pqcoap_responder_entry_live(&k->r, serial, pqcoap_net_now_ms());
}

static void free_made(made_ctx *m)
{
    while (m) {
        made_ctx *next = m->next;
        pqcoap_wipe(m, sizeof *m);
        free(m);
        m = next;
    }
}

void pqcoap_oscore_keying_lock(pqcoap_oscore_keying *k)
{
    pthread_mutex_lock(&k->lock);
}

void pqcoap_oscore_keying_unlock(pqcoap_oscore_keying *k)
{
    pthread_mutex_unlock(&k->lock);
}

uint64_t pqcoap_oscore_keying_refresh(pqcoap_oscore_keying *k)
{
    uint64_t now = pqcoap_net_now_ms();
    if (atomic_load_explicit(&k->n_done, memory_order_acquire) == 0 &&
        now - k->refreshed_ms < REVALIDATE_MS)
        return now;
    k->refreshed_ms = now;
    pthread_mutex_lock(&k->lock);
    pqcoap_responder_expire(&k->r, now, NULL);
    /* entries that ended (lifetime, revoked, or replaced by a device's new handshake):
     * their contexts end, before the new contexts come in */
    pqcoap_oscore_server_drop_keyed(k->s, entry_live, k);
    made_ctx *done = k->done;
    k->done = NULL;
    atomic_store_explicit(&k->n_done, 0, memory_order_release);
    for (made_ctx *j = done; j; j = j->next) {
        if (!entry_live(k, j->serial))
            continue;
        pqcoap_oscore_params p;
        pqcoap_hs_oscore_params(&j->keys, &p);
        /* cannot fail for a live entry unless memory is short (max_contexts): then the entry
         * ends too, and the device's next request gets "Security context not found" */
        if (pqcoap_oscore_server_add_keyed(k->s, &p, j->serial, j->expires_ms,
                                           j->keys.max_msgs) != PQCOAP_OK)
            pqcoap_session_wipe(pqcoap_peer_table_by_serial(&k->r.table, j->serial));
    }
    pthread_mutex_unlock(&k->lock);
    free_made(done);
    return now;
}

int pqcoap_oscore_keying_is_init(const pqcoap_msg *m)
{
    return m->code == PQCOAP_POST && pqcoap_net_is_init_path(m);
}

/* Handler of POST pqc/session/init (I/O thread): the rate limit per address, then the INIT
 * goes to the handshake thread and the response is deferred (as Mode B's session server). */
static pqcoap_err on_init(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    pqcoap_oscore_keying *k = arg;
    pqcoap_err err = pqcoap_hs_queue_submit(&k->queue, rq, req, resp);
    return err == PQCOAP_ERR_BUSY || err == PQCOAP_ERR_MALFORMED ? PQCOAP_OK : err;
}

/* ---- server: the handshake thread ---- */

/* One handshake in the phases of session.h: the crypto and the store outside the lock, the
 * table under it. A new entry's context goes to the done list before the RESP is handed to
 * the I/O thread, which adds it before it sends the RESP (protect_response of the handshake
 * refreshes), so the device's first protected request finds it. */
static int run_handshake(void *arg, pqcoap_hs_job *job)
{
    pqcoap_oscore_keying *k = arg;
    pqcoap_hs_pending *p = &k->pending;
    size_t resp_len = 0;
    pqcoap_err err = pqcoap_responder_hs_verify(&k->r, job->init, job->init_len, p);
    if (err == PQCOAP_OK) {
        pthread_mutex_lock(&k->lock);
        err = pqcoap_responder_hs_reserve(&k->r, pqcoap_net_now_ms(), p);
        pthread_mutex_unlock(&k->lock);
    }
    if (err == PQCOAP_OK)
        err = pqcoap_responder_hs_respond(&k->r, job->init, job->init_len, p);
    made_ctx *made = err == PQCOAP_OK && !p->resend ? calloc(1, sizeof *made) : NULL;
    if (err == PQCOAP_OK && !p->resend && !made)
        err = PQCOAP_ERR_NOMEM;
    pthread_mutex_lock(&k->lock);
    if (err == PQCOAP_OK) {
        uint64_t now = pqcoap_net_now_ms();
        uint32_t sid = p->sid;
        if (made)
            made->keys = p->oscore;
        err = pqcoap_responder_hs_commit(&k->r, now, p, k->resp, sizeof k->resp, &resp_len);
        const pqcoap_session *e = err == PQCOAP_OK && made
                                      ? pqcoap_peer_table_by_id(&k->r.table, sid) : NULL;
        if (e) {
            made->serial = e->serial;
            made->expires_ms = now + (uint64_t)made->keys.lifetime_s * 1000u;
            made->next = k->done;
            k->done = made;
            made = NULL;
            atomic_fetch_add_explicit(&k->n_done, 1, memory_order_release);
        }
    } else {
        pqcoap_responder_hs_abort(&k->r, p);
    }
    pthread_mutex_unlock(&k->lock);

    free_made(made);
    pqcoap_hs_complete(k->srv, job->ticket, err, k->resp, resp_len);
    return 0;
}

/* PROTOCOL.md "Revocation": when the store's change count moved since the last check, ends
 * every entry whose device is no longer trusted with the key that made it (the I/O thread
 * then ends its context). */
static void revalidate(void *arg)
{
    pqcoap_oscore_keying *k = arg;
    uint64_t count = 0;
    pqcoap_err err = pqcoap_store_change_count(&k->store.inner, &count);
    if (err == PQCOAP_OK && k->count_known && count == k->change_count)
        return;
    size_t ended = 0;
    pthread_mutex_lock(&k->lock);
    pqcoap_err rv = pqcoap_responder_revalidate(&k->r, &ended);
    if (ended) /* the I/O thread ends their contexts at its next request */
        atomic_fetch_add_explicit(&k->n_done, 1, memory_order_release);
    pthread_mutex_unlock(&k->lock);
    k->change_count = count;
    k->count_known = err == PQCOAP_OK && rv == PQCOAP_OK;
}

/* ---- server: set-up ---- */

pqcoap_err pqcoap_oscore_server_keying(pqcoap_oscore_server *s, pqcoap_server *srv,
                                       const pqcoap_oscore_keying_config *cfg, char *msg,
                                       size_t msg_cap)
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!s || !srv || !cfg || !cfg->store || !cfg->store->ops || cfg->max_peers == 0 ||
        cfg->max_pending_handshakes == 0) {
        pqcoap_net_msg(msg, msg_cap, "OSCORE keying needs a server, a store, max_peers and "
                       "max_pending_handshakes");
        return PQCOAP_ERR_ARG;
    }
    if (pqcoap_oscore_server_has_keying(s)) {
        pqcoap_net_msg(msg, msg_cap, "this OSCORE server keys contexts by handshakes already");
        return PQCOAP_ERR_EXISTS;
    }
    pqcoap_oscore_keying *k = calloc(1, sizeof *k);
    pqcoap_session *slots = calloc(cfg->max_peers, sizeof *slots);
    if (!k || !slots) {
        free(k);
        free(slots);
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    k->s = s;
    k->srv = srv;
    k->slots = slots;
    k->store.inner = *cfg->store;
    pthread_mutex_init(&k->store.mu, NULL);
    pthread_mutex_init(&k->lock, NULL);
    pqcoap_hs_queue_init(&k->queue, &k->lock, cfg->handshakes_per_s,
                         cfg->max_pending_handshakes, run_handshake, revalidate, REVALIDATE_MS,
                         k);
    k->shared.ops = &locked_ops;
    k->shared.ctx = &k->store;
    pqcoap_responder_cfg rc = PQCOAP_RESPONDER_CFG_INIT;
    rc.id = cfg->id;
    rc.sk = cfg->sk;
    rc.sk_len = cfg->sk_len;
    rc.usage = cfg->usage;
    rc.suite = cfg->suite;
    rc.more = cfg->more;
    rc.n_more = cfg->n_more;
    rc.lifetime_s = cfg->lifetime_s;
    rc.max_msgs = cfg->max_msgs;
    rc.store = &k->shared;
    rc.protections = PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE);
    rc.id_taken = id_taken;
    rc.id_taken_ctx = k;
    pqcoap_err err = pqcoap_responder_init(&k->r, &rc, slots, cfg->max_peers);
    if (err == PQCOAP_OK)
        err = pqcoap_server_handle(srv, PQCOAP_SESSION_INIT_PATH, PQCOAP_POST, on_init, k);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "%s: %s", err == PQCOAP_ERR_KEY_USAGE
                       ? "a key made for sign-v1 cannot key OSCORE contexts"
                       : "invalid OSCORE keying settings (id, key, suite, limits)",
                       pqcoap_strerror(err));
        pqcoap_oscore_keying_free(k);
        return err;
    }
    if (pqcoap_hs_queue_start(&k->queue) != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "cannot start the handshake thread");
        pqcoap_oscore_keying_free(k);
        return PQCOAP_ERR_NOMEM;
    }
    /* the contexts' Sender Sequence Numbers: the same store, so through the same lock */
    pqcoap_oscore_server_share_store(s, cfg->store, &k->shared);
    pqcoap_oscore_server_set_keying(s, k);
    return PQCOAP_OK;
}

void pqcoap_oscore_keying_stop(pqcoap_oscore_keying *k)
{
    if (k)
        pqcoap_hs_queue_stop(&k->queue);
}

void pqcoap_oscore_keying_free(pqcoap_oscore_keying *k)
{
    if (!k)
        return;
    pqcoap_hs_queue_free(&k->queue);
    free_made(k->done);
    pqcoap_responder_hs_abort(&k->r, &k->pending);
    pqcoap_responder_wipe(&k->r);
    free(k->slots);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->store.mu);
    pqcoap_wipe(k, sizeof *k);
    free(k);
}

/* ---- client ---- */

/* The handshake over a plain client: INIT asking for an OSCORE context, RESP verified,
 * *keys derived. */
static pqcoap_err client_handshake(const char *uri, const pqcoap_session_client_config *cfg,
                                   int aead, pqcoap_hs_oscore *keys, char *msg, size_t msg_cap)
{
    const pqcoap_oscore_request oreq = {aead ? aead : PQCOAP_COSE_A256GCM, NULL, 0};
    pqcoap_initiator_cfg ic = PQCOAP_INITIATOR_CFG_INIT;
    ic.id = cfg->id;
    ic.sk = cfg->sk;
    ic.sk_len = cfg->sk_len;
    ic.alg = cfg->alg;
    ic.usage = cfg->usage;
    ic.responder_id = cfg->server_id;
    ic.responder_pk = cfg->server_pk;
    ic.responder_pk_len = cfg->server_pk_len;
    ic.responder_usage = cfg->server_usage;
    ic.suite = cfg->suite;
    ic.oscore = &oreq; /* C_I: the empty ID, one context per server */

    pqcoap_seq_counter seq;
    uint64_t session_seq = 0;
    pqcoap_initiator *st = calloc(1, sizeof *st);
    uint8_t *init = malloc(PQCOAP_INIT_MAX);
    size_t init_len = 0;
    pqcoap_err err = st && init ? PQCOAP_OK : PQCOAP_ERR_NOMEM;
    if (err == PQCOAP_OK)
        err = pqcoap_seq_counter_init(&seq, cfg->store, SEQ_COUNTER, cfg->seq_block);
    if (err == PQCOAP_OK)
        err = pqcoap_seq_next(&seq, &session_seq);
    if (err != PQCOAP_OK)
        pqcoap_net_msg(msg, msg_cap, "cannot reserve a session_seq: %s", pqcoap_strerror(err));
    if (err == PQCOAP_OK) {
        err = pqcoap_initiator_start(st, &ic, session_seq, 0, NULL, init, PQCOAP_INIT_MAX,
                                     &init_len);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "cannot make the INIT: %s%s", pqcoap_strerror(err),
                           err == PQCOAP_ERR_KEY_USAGE ? " (a key made for sign-v1)" : "");
    }
    pqcoap_client *cl = NULL;
    pqcoap_client_config ccfg = cfg->coap;
    ccfg.layer = NULL;
    if (err == PQCOAP_OK)
        err = pqcoap_client_open(uri, &ccfg, &cl, msg, msg_cap);
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    if (err == PQCOAP_OK) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = PQCOAP_POST;
        req.path = PQCOAP_SESSION_INIT_PATH;
        req.content_format = PQCOAP_SESSION_INIT_FORMAT;
        req.payload = init;
        req.payload_len = init_len;
        err = pqcoap_client_request(cl, &req, &reply);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "handshake: %s", pqcoap_client_last_error(cl));
    }
    const pqcoap_msg *m = &reply.msg;
    if (err == PQCOAP_OK && (m->code >> 5) != 2) {
        err = pqcoap_error_from_coap(m->code, m->payload, m->payload_len);
        pqcoap_net_msg(msg, msg_cap, "%s the handshake (%u.%02u): %s",
                       err == PQCOAP_ERR_UNAUTHENTICATED ? "unauthenticated answer to"
                                                         : "server refused",
                       m->code >> 5, m->code & 31, pqcoap_strerror(err));
    } else if (err == PQCOAP_OK) {
        err = pqcoap_initiator_finish_oscore(st, m->payload, m->payload_len, keys);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "RESP refused%s: %s",
                           err == PQCOAP_ERR_AUTH ? " (not signed by the pinned server key)" : "",
                           pqcoap_strerror(err));
    }
    pqcoap_reply_free(&reply);
    pqcoap_client_free(cl);
    pqcoap_initiator_wipe(st);
    free(st);
    free(init);
    return err;
}

/* Copies of a keyed client's settings, for its next handshake. */
struct pqcoap_oscore_rekey {
    pqcoap_session_client_config cfg;   /* pointing into the copies below */
    int aead;
    char *uri, *id, *server_id, *alg;
    uint8_t *sk, *server_pk;
};

void pqcoap_oscore_rekey_free(pqcoap_oscore_rekey *rk)
{
    if (!rk)
        return;
    if (rk->sk)
        pqcoap_wipe(rk->sk, rk->cfg.sk_len);
    free(rk->sk);
    free(rk->server_pk);
    free(rk->uri);
    free(rk->id);
    free(rk->server_id);
    free(rk->alg);
    pqcoap_wipe(rk, sizeof *rk);
    free(rk);
}

static char *dup_str(const char *s, int *ok)
{
    char *d = s ? strdup(s) : NULL;
    *ok &= s == NULL || d != NULL;
    return d;
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n, int *ok)
{
    uint8_t *d = b && n ? malloc(n) : NULL;
    if (d)
        memcpy(d, b, n);
    *ok &= !(b && n) || d != NULL;
    return d;
}

static pqcoap_oscore_rekey *rekey_new(const char *uri, const pqcoap_session_client_config *cfg,
                                      int aead)
{
    pqcoap_oscore_rekey *rk = calloc(1, sizeof *rk);
    if (!rk)
        return NULL;
    int ok = 1;
    rk->cfg = *cfg;
    rk->aead = aead;
    rk->uri = dup_str(uri, &ok);
    rk->cfg.id = rk->id = dup_str(cfg->id, &ok);
    rk->cfg.server_id = rk->server_id = dup_str(cfg->server_id, &ok);
    rk->cfg.alg = rk->alg = dup_str(cfg->alg, &ok);
    rk->cfg.sk = rk->sk = dup_bytes(cfg->sk, cfg->sk_len, &ok);
    rk->cfg.server_pk = rk->server_pk = dup_bytes(cfg->server_pk, cfg->server_pk_len, &ok);
    if (!ok) {
        pqcoap_oscore_rekey_free(rk);
        return NULL;
    }
    return rk;
}

pqcoap_err pqcoap_oscore_client_rekey(pqcoap_oscore_client *c, pqcoap_oscore_rekey *rk,
                                      char *msg, size_t msg_cap)
{
    pqcoap_hs_oscore keys;
    pqcoap_oscore_params p;
    pqcoap_err err = client_handshake(rk->uri, &rk->cfg, rk->aead, &keys, msg, msg_cap);
    if (err == PQCOAP_OK) {
        pqcoap_hs_oscore_params(&keys, &p);
        err = pqcoap_oscore_client_set_context(c, &p);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "cannot set up the new context: %s",
                           pqcoap_strerror(err));
    }
    pqcoap_wipe(&keys, sizeof keys);
    return err;
}

pqcoap_err pqcoap_oscore_client_open_keyed(const char *uri,
                                           const pqcoap_session_client_config *cfg,
                                           int aead_alg, pqcoap_oscore_client **out, char *msg,
                                           size_t msg_cap)
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!uri || !cfg || !cfg->store || !cfg->store->ops || cfg->seq_block == 0) {
        pqcoap_net_msg(msg, msg_cap, "an OSCORE client needs a URI, its keys and a store");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_oscore_rekey *rk = rekey_new(uri, cfg, aead_alg);
    if (!rk) {
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    pqcoap_hs_oscore keys;
    pqcoap_oscore_params p;
    pqcoap_err err = client_handshake(uri, cfg, aead_alg, &keys, msg, msg_cap);
    if (err == PQCOAP_OK) {
        pqcoap_hs_oscore_params(&keys, &p);
        err = pqcoap_oscore_client_open_params(uri, &p, 16, cfg->store, &cfg->coap, out, msg,
                                               msg_cap);
    }
    pqcoap_wipe(&keys, sizeof keys);
    if (err == PQCOAP_OK)
        pqcoap_oscore_client_set_rekey(*out, rk); /* 4.01 "Security context not found" */
    else
        pqcoap_oscore_rekey_free(rk);
    return err;
}
