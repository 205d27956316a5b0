/* Mode B session server on the CoAP server (session_endpoint.h): a layer that lets the
 * handshake through unprotected and protects everything else, handshakes on a worker thread
 * behind the per-address rate limit (hs_queue.c), and the kept protected responses for
 * retransmissions. */
#include "pqcoap/session_endpoint.h"
#include "net/net_internal.h"
#include "net/session_server_internal.h"
#include "net/hs_queue_internal.h"
#include "core/session_internal.h"
#include "common/buf_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
/* RFC 7252 section 4.8.2: a message ID is retransmitted within EXCHANGE_LIFETIME, and a
 * request is sent at most MAX_RETRANSMIT + 1 = 5 times. */
#define EXCHANGE_LIFETIME_MS 247000u
#define RESENDS_MAX 5u
#define PEER_KEY_LEN PQCOAP_ADDR_KEY_LEN
/* PROTOCOL.md "Revocation": how often the handshake thread reads the store's change count */
#define REVOKE_CHECK_MS 250u

/* Per-exchange state of the layer: set by check_request for a protected request. */
typedef struct srv_state {
    int protected;
    pqcoap_req_ctx ctx;
    char peer[PQCOAP_ID_MAX + 1];   /* initiator_id of the request's session */
} srv_state;

/* The last protected response of a session (slot i of the table), for retransmissions of
 * its request: the same message ID from the same address, within EXCHANGE_LIFETIME. The
 * slot's buffer is reused from response to response and grows only for a larger one. */
typedef struct kept {
    uint64_t serial;                /* of the session it answered; 0: nothing kept */
    uint64_t request_n;
    uint16_t mid;                   /* the request's CoAP message ID */
    uint8_t peer[PEER_KEY_LEN];     /* and source address */
    uint64_t made_ms;
    unsigned resent;                /* times sent again */
    pqcoap_msgbuf wire;             /* over mem: options, then option values, then payload */
    void *mem;
    size_t mem_cap;
} kept;

/* A live session's initiator and key, copied for the revocation check outside the lock. */
typedef struct peer_ref {
    uint64_t serial;
    char id[PQCOAP_ID_MAX + 1];
    uint8_t pk_hash[32];
} peer_ref;

struct pqcoap_session_server {
    pqcoap_server *srv;
    pqcoap_layer layer;
    pthread_mutex_t lock;           /* guards r, slots, kept, the queue's jobs, stats */
    pqcoap_responder r;
    pqcoap_session *slots;
    uint32_t *index;                /* the table's index by sid */
    kept *kept;
    size_t n_slots;
    pqcoap_session_server_stats stats;

    pqcoap_hs_queue queue;          /* INITs for the worker (the handshake thread) */
    pqcoap_hs_pending pending;      /* the worker's handshake in progress */
    uint8_t resp[PQCOAP_RESP_MAX];  /* the worker's RESP */
    peer_ref *refs;                 /* the worker's revocation check: n_slots entries */
    uint64_t change_count;          /* worker: the count all live sessions were checked at */
    int count_known;                /* worker: change_count is valid */
};

/* ---- errors on the wire ------------------------------------------------------------ */

/* Makes b the unprotected error response PROTOCOL.md "Errors" prescribes for err; a 5.03
 * carries Max-Age (max_age_s, or the mapping's default when 0). */
void pqcoap_net_hs_error(pqcoap_msgbuf *b, pqcoap_err err, pqcoap_err_where where,
                         uint32_t max_age_s)
{
    pqcoap_coap_error e;
    if (pqcoap_error_to_coap(err, where, &e) != PQCOAP_OK) {
        e.code = PQCOAP_CODE(5, 0);
        e.diagnostic = "internal error";
        e.max_age_s = 0;
    }
    pqcoap_msgbuf_error(b, e.code, e.diagnostic);
    if (e.max_age_s)
        pqcoap_msgbuf_add_uint(b, PQCOAP_OPT_MAX_AGE, max_age_s ? max_age_s : e.max_age_s);
}

/* Copies code-independent content (options and payload) of m into b. */
static pqcoap_err copy_msg(pqcoap_msgbuf *b, const pqcoap_msg *m)
{
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(b, m));
    return pqcoap_msgbuf_set_payload(b, m->payload, m->payload_len);
}

/* ---- kept protected responses (under the lock) ---------------------------------------- */

static size_t slot_of(const pqcoap_session_server *ss, const pqcoap_session *s)
{
    return (size_t)(s - ss->slots);
}


/* PROTOCOL.md "Receive rules": the kept response to the request ctx, if x is a
 * retransmission of that request (RFC 7252 section 4.5: the same message ID from the same
 * address, within EXCHANGE_LIFETIME) and it was not sent again RESENDS_MAX times already;
 * else NULL (the request is a replay). */
static kept *kept_for(pqcoap_session_server *ss, const pqcoap_req_ctx *ctx,
                      const pqcoap_exchange *x, uint64_t now_ms)
{
    pqcoap_session *s = pqcoap_peer_table_by_serial(&ss->r.table, ctx->serial);
    if (!s)
        return NULL;
    kept *k = &ss->kept[slot_of(ss, s)];
    uint8_t peer[PEER_KEY_LEN];
    pqcoap_net_addr_key(x, peer);
    if (k->serial != ctx->serial || k->request_n != ctx->request_n ||
        k->mid != x->mid || memcmp(k->peer, peer, sizeof peer) != 0 ||
        now_ms - k->made_ms >= EXCHANGE_LIFETIME_MS || k->resent >= RESENDS_MAX)
        return NULL;
    return k;
}

static void keep(pqcoap_session_server *ss, const pqcoap_req_ctx *ctx,
                 const pqcoap_exchange *x, const pqcoap_msgbuf *wire, uint64_t now_ms)
{
    pqcoap_session *s = pqcoap_peer_table_by_serial(&ss->r.table, ctx->serial);
    if (!s)
        return;
    kept *k = &ss->kept[slot_of(ss, s)];
    pqcoap_msg m;
    pqcoap_msgbuf_view(wire, &m);
    size_t opts_len = m.n_opts * sizeof(pqcoap_opt), vals_len = 0;
    for (size_t i = 0; i < m.n_opts; i++)
        vals_len += m.opts[i].len;
    size_t need = opts_len + vals_len + m.payload_len;
    k->serial = 0;
    if (!k->mem || need > k->mem_cap) {
        size_t cap = (need + 63) / 64 * 64; /* room for a little larger response next time */
        free(k->mem);
        k->mem_cap = 0;
        /* out of memory: nothing kept, a retransmission is then answered "rejected" */
        if (!(k->mem = malloc(cap ? cap : 64)))
            return;
        k->mem_cap = cap;
    }
    uint8_t *mem = k->mem;
    pqcoap_msgbuf_init(&k->wire, k->mem, m.n_opts, mem + opts_len, vals_len,
                       mem + opts_len + vals_len, m.payload_len);
    k->wire.code = m.code;
    if (copy_msg(&k->wire, &m) == PQCOAP_OK) {
        k->serial = ctx->serial;
        k->request_n = ctx->request_n;
        k->mid = x->mid;
        pqcoap_net_addr_key(x, k->peer);
        k->made_ms = now_ms;
        k->resent = 0;
    }
}

/* ---- the layer ---------------------------------------------------------------------- */

/* The time of exchange x: the server's one clock read for it, or the clock now if the
 * transport gave none. */
static uint64_t now_of(const pqcoap_exchange *x)
{
    return x->now_ms ? x->now_ms : pqcoap_net_now_ms();
}

int pqcoap_net_is_init_path(const pqcoap_msg *m)
{
    static const char *const seg[] = {"pqc", "session", "init"};
    size_t k = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (o->number != PQCOAP_OPT_URI_PATH)
            continue;
        if (k == 3 || o->len != strlen(seg[k]) || memcmp(o->value, seg[k], o->len) != 0)
            return 0;
        k++;
    }
    return k == 3;
}

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    pqcoap_session_server *ss = ctx;
    srv_state *st = state;
    *verdict = PQCOAP_LAYER_HANDLE;
    /* PROTOCOL.md "Handshake": the handshake itself travels unprotected */
    if (pqcoap_net_is_init_path(wire))
        return copy_msg(out, wire);

    uint64_t now = now_of(x);
    pqcoap_req_ctx rc;
    size_t len = 0;
    pthread_mutex_lock(&ss->lock);
    pqcoap_responder_expire(&ss->r, now, NULL); /* a pass only when a session ends */
    pqcoap_err err = pqcoap_responder_unprotect(&ss->r, wire, now, out->payload,
                                                out->payload_cap, &len, &rc);
    const pqcoap_session *sess =
        err == PQCOAP_OK ? pqcoap_peer_table_by_serial(&ss->r.table, rc.serial) : NULL;
    if (sess)
        memcpy(st->peer, sess->peer_id, sizeof st->peer);
    if (err == PQCOAP_ERR_RETRANSMIT) {
        /* PROTOCOL.md "Receive rules": the same protected response again, no handler run;
         * the same bytes under another message ID or from elsewhere are a replay */
        kept *k = kept_for(ss, &rc, x, now);
        if (k) {
            pqcoap_msg m;
            pqcoap_msgbuf_view(&k->wire, &m);
            k->resent++;
            out->code = m.code;
            err = copy_msg(out, &m);
            ss->stats.retransmissions++;
            pthread_mutex_unlock(&ss->lock);
            *verdict = PQCOAP_LAYER_ANSWER;
            return err;
        }
        err = PQCOAP_ERR_REPLAY;
    }
    pthread_mutex_unlock(&ss->lock);
    if (err != PQCOAP_OK) {
        pqcoap_net_hs_error(out, err, PQCOAP_WHERE_PROTECTED, 0);
        *verdict = PQCOAP_LAYER_ANSWER;
        return PQCOAP_OK;
    }
    out->payload_len = len;
    st->protected = 1;
    st->ctx = rc;
    return pqcoap_msgbuf_copy_opts(out, wire);
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    pqcoap_session_server *ss = ctx;
    const srv_state *st = state;
    if (!st->protected)
        return copy_msg(wire, resp); /* the handshake's answer, or an error made before */
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(wire, resp));
    uint64_t now = now_of(x);
    pthread_mutex_lock(&ss->lock);
    pqcoap_err err = pqcoap_responder_protect(&ss->r, &st->ctx, resp, now, wire->payload,
                                              wire->payload_cap, &wire->payload_len);
    if (err == PQCOAP_OK)
        keep(ss, &st->ctx, x, wire, now);
    pthread_mutex_unlock(&ss->lock);
    /* e.g. the session ended while the handler ran: 4.01 "unknown session" */
    if (err != PQCOAP_OK)
        pqcoap_net_hs_error(wire, err, PQCOAP_WHERE_PROTECTED, 0);
    return PQCOAP_OK;
}

/* PROTOCOL.md "Observe": a notification is a protected response to the registering
 * request_n with its own n. Nothing is kept for retransmissions (libcoap resends a CON
 * notification itself). Fails once the session has ended (expired, revoked, replaced):
 * the server then ends the observation. */
static pqcoap_err protect_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                       const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    pqcoap_session_server *ss = ctx;
    const srv_state *st = obs_state;
    if (!st->protected)
        return PQCOAP_ERR_STATE;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(wire, resp));
    pthread_mutex_lock(&ss->lock);
    pqcoap_err err = pqcoap_responder_protect(&ss->r, &st->ctx, resp, now_of(x),
                                              wire->payload, wire->payload_cap,
                                              &wire->payload_len);
    pthread_mutex_unlock(&ss->lock);
    return err;
}

static const char *peer_id(void *ctx, const void *state)
{
    (void)ctx;
    const srv_state *st = state;
    return st->protected && st->peer[0] ? st->peer : NULL;
}

/* ---- handshakes: rate limit, queue, worker ------------------------------------------ */

/* Handler of POST pqc/session/init (I/O thread): rate limit, then the INIT goes to the
 * worker and the response is deferred. */
static pqcoap_err on_init(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    pqcoap_session_server *ss = arg;
    pqcoap_err err = pqcoap_hs_queue_submit(&ss->queue, rq, req, resp);
    if (err == PQCOAP_ERR_BUSY) {
        pthread_mutex_lock(&ss->lock);
        ss->stats.handshakes_refused++;
        ss->stats.handshakes_busy++;
        pthread_mutex_unlock(&ss->lock);
    }
    return err == PQCOAP_ERR_BUSY || err == PQCOAP_ERR_MALFORMED ? PQCOAP_OK : err;
}

/* One handshake in the phases of session.h: the crypto and the store outside the lock, the
 * table changes under it; then the response goes back to the I/O thread. */
static int run_handshake(void *arg, pqcoap_hs_job *job)
{
    pqcoap_session_server *ss = arg;
    pqcoap_hs_pending *p = &ss->pending;
    size_t resp_len = 0;
    pqcoap_err err = pqcoap_responder_hs_verify(&ss->r, job->init, job->init_len, p);
    if (err == PQCOAP_OK) {
        pthread_mutex_lock(&ss->lock);
        err = pqcoap_responder_hs_reserve(&ss->r, pqcoap_net_now_ms(), p);
        pthread_mutex_unlock(&ss->lock);
    }
    int resend = err == PQCOAP_OK && p->resend;
    if (err == PQCOAP_OK)
        err = pqcoap_responder_hs_respond(&ss->r, job->init, job->init_len, p);
    pthread_mutex_lock(&ss->lock);
    if (err == PQCOAP_OK)
        err = pqcoap_responder_hs_commit(&ss->r, pqcoap_net_now_ms(), p, ss->resp,
                                         sizeof ss->resp, &resp_len);
    else
        pqcoap_responder_hs_abort(&ss->r, p);
    if (err != PQCOAP_OK)
        ss->stats.handshakes_refused++;
    else if (resend)
        ss->stats.resp_resent++;
    else
        ss->stats.sessions_created++;
    ss->stats.handshakes_busy += err == PQCOAP_ERR_LIMIT;
    pthread_mutex_unlock(&ss->lock);

    pqcoap_hs_complete(ss->srv, job->ticket, err, ss->resp, resp_len);
    return 0;
}

/* PROTOCOL.md "Revocation" (worker thread, the store's one user): when the store's change
 * count moved since the last check, ends every session whose initiator is no longer trusted
 * with the key that made it. Look-ups run outside the lock, as a handshake's do. */
static void revalidate(void *arg)
{
    pqcoap_session_server *ss = arg;
    uint64_t count = 0;
    pqcoap_err err = pqcoap_store_change_count(ss->r.cfg.store, &count);
    if (err == PQCOAP_OK && ss->count_known && count == ss->change_count)
        return;
    size_t n = 0, ended = 0;
    pthread_mutex_lock(&ss->lock);
    for (size_t i = 0; i < ss->n_slots; i++) {
        const pqcoap_session *s = &ss->slots[i];
        if (!s->live)
            continue;
        peer_ref *p = &ss->refs[n++];
        p->serial = s->serial;
        memcpy(p->id, s->peer_id, sizeof p->id);
        memcpy(p->pk_hash, s->peer_pk_hash, sizeof p->pk_hash);
    }
    pthread_mutex_unlock(&ss->lock);
    int complete = err == PQCOAP_OK; /* without a count (or a look-up failing): every time */
    for (size_t i = 0; i < n; i++) {
        err = pqcoap_responder_peer_trusted(&ss->r, ss->refs[i].id, ss->refs[i].pk_hash);
        if (err == PQCOAP_ERR_UNKNOWN_PEER || err == PQCOAP_ERR_KEY_USAGE)
            ss->refs[ended++].serial = ss->refs[i].serial;
        else if (err != PQCOAP_OK)
            complete = 0;
    }
    if (ended) {
        pthread_mutex_lock(&ss->lock);
        for (size_t i = 0; i < ended; i++)
            pqcoap_session_wipe(pqcoap_peer_table_by_serial(&ss->r.table, ss->refs[i].serial));
        pthread_mutex_unlock(&ss->lock);
    }
    ss->change_count = count;
    ss->count_known = complete;
}

/* ---- set-up ------------------------------------------------------------------------- */

/* The layer and its responder over a table of cfg->max_sessions sessions. */
static pqcoap_err setup_layer(pqcoap_session_server *ss, const pqcoap_session_server_config *cfg,
                              char *msg, size_t cap)
{
    ss->n_slots = cfg->max_sessions;
    ss->slots = calloc(ss->n_slots, sizeof *ss->slots);
    ss->kept = calloc(ss->n_slots, sizeof *ss->kept);
    ss->refs = calloc(ss->n_slots, sizeof *ss->refs);
    ss->index = calloc(PQCOAP_PEER_INDEX_CAP(ss->n_slots), sizeof *ss->index);
    if (!ss->slots || !ss->kept || !ss->refs || !ss->index) {
        pqcoap_net_msg(msg, cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    pqcoap_responder_cfg rcfg = PQCOAP_RESPONDER_CFG_INIT;
    rcfg.id = cfg->id;
    rcfg.sk = cfg->sk;
    rcfg.sk_len = cfg->sk_len;
    rcfg.usage = cfg->usage;
    rcfg.suite = cfg->suite;
    rcfg.more = cfg->more;
    rcfg.n_more = cfg->n_more;
    rcfg.lifetime_s = cfg->lifetime_s;
    rcfg.max_msgs = cfg->max_msgs;
    rcfg.window = cfg->window;
    rcfg.evict_idle_ms = cfg->evict_idle_ms;
    rcfg.store = cfg->store;
    pqcoap_err err = pqcoap_responder_init(&ss->r, &rcfg, ss->slots, ss->n_slots);
    if (err == PQCOAP_ERR_KEY_USAGE) {
        pqcoap_net_msg(msg, cap, "a key made for sign-v1 cannot be a session server's key");
        return err;
    }
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "invalid session settings (id, key, suite, limits): %s",
                       pqcoap_strerror(err));
        return err;
    }
    /* look-ups by sid in one step, however many sessions are live */
    pqcoap_peer_table_index(&ss->r.table, ss->index, PQCOAP_PEER_INDEX_CAP(ss->n_slots));

    ss->layer.ctx = ss;
    ss->layer.state_size = sizeof(srv_state);
    ss->layer.overhead = PQCOAP_PROTECTED_REQ_OVERHEAD_MAX;
    ss->layer.check_request = check_request;
    ss->layer.protect_response = protect_response;
    ss->layer.peer_id = peer_id;
    ss->layer.protect_notification = protect_notification;
    return PQCOAP_OK;
}

static pqcoap_err setup(pqcoap_session_server *ss, const pqcoap_session_server_config *cfg,
                        char *msg, size_t cap)
{
    PQCOAP_TRY(setup_layer(ss, cfg, msg, cap));
    pqcoap_server_config scfg = cfg->coap;
    scfg.layer = &ss->layer;
    PQCOAP_TRY(pqcoap_server_create(&scfg, &ss->srv, msg, cap));
    pqcoap_err err = pqcoap_server_handle(ss->srv, PQCOAP_SESSION_INIT_PATH, PQCOAP_POST,
                                          on_init, ss);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "out of memory");
        return err;
    }
    if (pqcoap_hs_queue_start(&ss->queue) != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "cannot start the handshake thread");
        return PQCOAP_ERR_NOMEM;
    }
    return PQCOAP_OK;
}

/* Creates a session server set up by `fn` (setup, or setup_layer alone). */
static pqcoap_err create(const pqcoap_session_server_config *cfg, pqcoap_session_server **out,
                         char *msg, size_t msg_cap,
                         pqcoap_err (*fn)(pqcoap_session_server *ss,
                                          const pqcoap_session_server_config *cfg, char *msg,
                                          size_t cap))
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!cfg || !out || !cfg->store || cfg->coap.layer || cfg->max_sessions == 0 ||
        cfg->max_sessions > (size_t)UINT32_MAX / 2 || cfg->max_pending_handshakes == 0) {
        pqcoap_net_msg(msg, msg_cap, "invalid session server settings (NULL, store, "
                       "max_sessions, max_pending_handshakes or a coap.layer)");
        return PQCOAP_ERR_ARG;
    }
    *out = NULL;
    pqcoap_session_server *ss = calloc(1, sizeof *ss);
    if (!ss) {
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    pthread_mutex_init(&ss->lock, NULL);
    pqcoap_hs_queue_init(&ss->queue, &ss->lock, cfg->handshakes_per_s,
                         cfg->max_pending_handshakes, run_handshake, revalidate,
                         REVOKE_CHECK_MS, ss);
    pqcoap_err err = fn(ss, cfg, msg, msg_cap);
    if (err != PQCOAP_OK) {
        pqcoap_session_server_free(ss);
        return err;
    }
    *out = ss;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_session_server_create(const pqcoap_session_server_config *cfg,
                                        pqcoap_session_server **out, char *msg,
                                        size_t msg_cap)
{
    return create(cfg, out, msg, msg_cap, setup);
}

pqcoap_err pqcoap_session_server_layer_only(const pqcoap_session_server_config *cfg,
                                            pqcoap_session_server **out,
                                            const pqcoap_layer **layer,
                                            pqcoap_responder **responder)
{
    PQCOAP_TRY(create(cfg, out, NULL, 0, setup_layer));
    *layer = &(*out)->layer;
    *responder = &(*out)->r;
    return PQCOAP_OK;
}

void pqcoap_session_server_free(pqcoap_session_server *ss)
{
    if (!ss)
        return;
    pqcoap_hs_queue_free(&ss->queue);
    pqcoap_server_free(ss->srv); /* drops deferred handshakes not answered yet */
    pqcoap_responder_hs_abort(&ss->r, &ss->pending);
    pqcoap_responder_wipe(&ss->r);
    for (size_t i = 0; ss->kept && i < ss->n_slots; i++)
        free(ss->kept[i].mem);
    free(ss->kept);
    free(ss->index);
    free(ss->refs);
    free(ss->slots);
    pthread_mutex_destroy(&ss->lock);
    free(ss);
}

pqcoap_server *pqcoap_session_server_coap(pqcoap_session_server *ss)
{
    return ss ? ss->srv : NULL;
}

pqcoap_err pqcoap_session_server_stats_get(pqcoap_session_server *ss,
                                           pqcoap_session_server_stats *out)
{
    if (!ss || !out)
        return PQCOAP_ERR_ARG;
    pthread_mutex_lock(&ss->lock);
    *out = ss->stats;
    out->live_sessions = pqcoap_responder_live(&ss->r);
    pthread_mutex_unlock(&ss->lock);
    return PQCOAP_OK;
}
