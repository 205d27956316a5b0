/* Client side of Observe (RFC 7641): registration, notifications checked by the layer with
 * the registration's kept exchange state and ordered by the sequence rule, re-registration,
 * deregistration. The requests themselves go through client.c's slots. */
#include "pqcoap/client.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/sign_endpoint.h"
#include "net/client_internal.h"
#include "net/observe_internal.h"
#include "net/net_internal.h"

#include <stdlib.h>
#include <string.h>
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#define MARGIN_MS 2000u          /* after Max-Age, before re-registering */
#define RETRY_MS 2000u           /* after a re-registration that got no answer */
#define MAX_AGE_DEFAULT 60u      /* RFC 7252 section 5.10.5 */
#define SEQ_HALF (1u << 23)      /* RFC 7641 section 3.4 */
#define SEQ_STALE_MS 128000u

static pqcoap_client_obs *obs_at(pqcoap_client *cl, size_t idx1)
{
    if (idx1 == 0 || idx1 > cl->cfg.max_observe || !cl->obs[idx1 - 1].used)
        return NULL;
    return &cl->obs[idx1 - 1];
}

static size_t idx_of(const pqcoap_client *cl, const pqcoap_client_obs *o)
{
    return (size_t)(o - cl->obs) + 1;
}

/* The Observe value of m (RFC 7641 section 2: at most 3 bytes), or -1 when it has none. */
static long observe_of(const pqcoap_msg *m)
{
    const pqcoap_opt *o = pqcoap_msg_find_opt(m, PQCOAP_OPT_OBSERVE);
    uint32_t v;
    if (!o || o->len > 3 || pqcoap_opt_uint(o, &v) != PQCOAP_OK)
        return -1;
    return (long)v;
}

/* When a notification `m` stops being fresh: its Max-Age (the layer's plaintext first, then
 * the wire's, default 60 s) after `now`, plus a margin. */
static uint64_t fresh_until(const pqcoap_msg *m, const pqcoap_msg *wire, uint64_t now)
{
    const pqcoap_opt *o = pqcoap_msg_find_opt(m, PQCOAP_OPT_MAX_AGE);
    if (!o && wire)
        o = pqcoap_msg_find_opt(wire, PQCOAP_OPT_MAX_AGE);
    uint32_t age = MAX_AGE_DEFAULT;
    if (o && pqcoap_opt_uint(o, &age) != PQCOAP_OK)
        age = MAX_AGE_DEFAULT;
    return now + (uint64_t)age * 1000u + MARGIN_MS;
}

/* RFC 7641 section 3.4: is notification (v2, t2) newer than the last one (v1, t1)? */
static int seq_newer(uint32_t v1, uint64_t t1, uint32_t v2, uint64_t t2)
{
    return (v1 < v2 && v2 - v1 < SEQ_HALF) || (v1 > v2 && v1 - v2 > SEQ_HALF) ||
           t2 > t1 + SEQ_STALE_MS;
}

static void deliver(pqcoap_client_obs *o, pqcoap_err err, const pqcoap_msg *m, uint32_t seq,
                    size_t wire_len)
{
    pqcoap_notification n = {o->id, err, m, seq, wire_len};
    o->fn(o->user, &n);
}

/* Releases a kept exchange state: end_observation, then wiped. */
static void end_state(pqcoap_client *cl, void *state, int *kept)
{
    if (!*kept)
        return;
    if (cl->layer.end_observation)
        cl->layer.end_observation(cl->layer.ctx, state);
    if (state)
        pqcoap_wipe(state, cl->layer.state_size);
    *kept = 0;
}

/* Ends observation o; `fn` gets `err` (with the server's last answer m, may be NULL) unless
 * err is PQCOAP_OK (cancelled). Requests in flight for it are detached. */
static void obs_end(pqcoap_client *cl, pqcoap_client_obs *o, pqcoap_err err, const pqcoap_msg *m)
{
    if (err != PQCOAP_OK && o->live)
        deliver(o, err, m, 0, 0);
    size_t idx = idx_of(cl, o);
    for (size_t i = 0; i < cl->n_slots; i++)
        if (cl->slots[i].obs == idx)
            cl->slots[i].obs = 0;
    end_state(cl, o->state, &o->has_state);
    end_state(cl, o->new_state, &o->new_kept);
    free(o->state);
    free(o->new_state);
    free(o->path);
    pqcoap_reply_free(&o->extra);
    memset(o, 0, sizeof(*o));
}

/* Sends o's request with Observe 0 (register, fresh token) or 1 (deregister, o's token). */
static pqcoap_err obs_send(pqcoap_client *cl, pqcoap_client_obs *o, int deregister,
                           pqcoap_client_slot **out)
{
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    static const uint8_t one = 1;
    size_t n = o->extra.msg.n_opts;
    if (n >= PQCOAP_NET_MAX_OPTS)
        return PQCOAP_ERR_TOO_LARGE;
    if (n)
        memcpy(opts, o->extra.msg.opts, n * sizeof(opts[0]));
    opts[n++] = (pqcoap_opt){PQCOAP_OPT_OBSERVE, deregister ? &one : NULL, deregister ? 1u : 0u};
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = o->method;
    req.path = o->path;
    req.non = o->non;
    req.content_format = o->content_format;
    req.accept = o->accept;
    req.opts = opts;
    req.n_opts = n;
    req.payload = o->extra.msg.payload;
    req.payload_len = o->extra.msg.payload_len;
    return pqcoap_client_start(cl, &req, deregister ? PQCOAP_SLOT_DEREGISTER : PQCOAP_SLOT_REGISTER,
                               deregister ? 0 : idx_of(cl, o), deregister ? o->token : NULL,
                               deregister ? o->token_len : 0, out);
}

void pqcoap_client_obs_keep_state(pqcoap_client *cl, pqcoap_client_slot *s,
                                  const pqcoap_msg *shown)
{
    pqcoap_client_obs *o = obs_at(cl, s->obs);
    if (!o || (shown->code >> 5) != 2 || observe_of(shown) < 0)
        return;
    end_state(cl, o->new_state, &o->new_kept);
    if (o->new_state)
        memcpy(o->new_state, s->state_mem, cl->layer.state_size);
    o->new_kept = 1;
}

/* 1 when the layer's session or context needs a new one (client_internal.h). */
static int layer_stale(const pqcoap_client *cl)
{
    return cl->stale && cl->stale(cl->renew_ctx);
}

/* The layer's upkeep before a re-registration: a new session or context when the old one is
 * stale, and then every observation registers again in it. */
static pqcoap_err renew(pqcoap_client *cl)
{
    if (!layer_stale(cl))
        return PQCOAP_OK;
    pqcoap_err err = cl->renew(cl->renew_ctx);
    if (err == PQCOAP_OK)
        pqcoap_client_obs_moved(cl);
    return err;
}

/* A registration (first or again) of slot s finished. */
static void take_registration(pqcoap_client *cl, pqcoap_client_slot *s, uint64_t now)
{
    pqcoap_client_obs *o = obs_at(cl, s->obs);
    if (!o) {
        pqcoap_client_slot_release(s);
        return;
    }
    o->rereg_inflight = 0;
    const pqcoap_msg *m = s->reply.mem ? &s->reply.msg : NULL;
    long v = m ? observe_of(m) : -1;
    if (m && v < 0 && s->observe0) /* a block-wise answer: block 0's */
        v = s->observe0 - 1;
    int success = m && (m->code >> 5) == 2;
    if (s->err == PQCOAP_OK && success && v >= 0 && o->new_kept == cl->has_layer) {
        /* the observation lives on this registration: its state, token, sequence */
        end_state(cl, o->state, &o->has_state);
        if (o->state)
            memcpy(o->state, o->new_state, cl->layer.state_size);
        if (o->new_state)
            pqcoap_wipe(o->new_state, cl->layer.state_size);
        o->has_state = o->new_kept;
        o->new_kept = 0;
        memcpy(o->token, m->token, m->token_len);
        o->token_len = m->token_len;
        o->seq = (uint32_t)v;
        o->seq_ms = now;
        o->fresh_until_ms = fresh_until(m, NULL, now);
        o->rereg_at_ms = 0;
        o->moved = 0;
        o->live = 1;
        deliver(o, PQCOAP_OK, m, (uint32_t)v, cl->last_received);
    } else if (!o->live) {
        /* the first registration: pqcoap_client_observe reports it */
        o->failed = s->err != PQCOAP_OK ? s->err : !success ? PQCOAP_ERR_COAP : PQCOAP_ERR_UNSUPPORTED;
        if (s->err != PQCOAP_OK || !success)
            memcpy(cl->err, s->msg, sizeof(cl->err));
        else
            pqcoap_net_msg(cl->err, sizeof(cl->err), "server answered without Observe: the "
                           "resource is not observable or its observer limit is reached");
        if (s->err == PQCOAP_OK && success)
            deliver(o, PQCOAP_OK, m, 0, cl->last_received);
    } else if (s->err == PQCOAP_ERR_TIMEOUT || s->err == PQCOAP_ERR_IO ||
               s->err == PQCOAP_ERR_NOMEM || s->err == PQCOAP_ERR_AUTH ||
               s->err == PQCOAP_ERR_REPLAY || s->err == PQCOAP_ERR_UNAUTHENTICATED ||
               (s->err == PQCOAP_OK && success) || layer_stale(cl)) {
        /* no answer, an answer the layer did not verify (a datagram anyone could send with
         * the token, or the answer to a duplicate of the request), not observed this time
         * (e.g. the server's limit), or the layer's session or context is gone (renew
         * makes a new one): again later */
        o->rereg_at_ms = now + RETRY_MS;
    } else {
        memcpy(cl->err, s->msg, sizeof(cl->err));
        obs_end(cl, o, s->err != PQCOAP_OK ? s->err : PQCOAP_ERR_COAP, m);
        o = NULL;
    }
    if (o)
        end_state(cl, o->new_state, &o->new_kept);
    pqcoap_client_slot_release(s);
}

uint64_t pqcoap_client_obs_service(pqcoap_client *cl, uint64_t now)
{
    for (size_t i = 0; i < cl->n_slots; i++) {
        pqcoap_client_slot *s = &cl->slots[i];
        if (s->state != PQCOAP_SLOT_DONE || s->kind == PQCOAP_SLOT_USER)
            continue;
        if (s->kind == PQCOAP_SLOT_REGISTER)
            take_registration(cl, s, now);
        else
            pqcoap_client_slot_release(s);
    }
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < cl->cfg.max_observe; i++) {
        pqcoap_client_obs *o = &cl->obs[i];
        if (!o->used || !o->live || o->rereg_inflight)
            continue;
        /* a retry waits its turn, also once the notifications are stale */
        uint64_t due = o->rereg_at_ms ? o->rereg_at_ms : o->fresh_until_ms;
        if (now < due) {
            next = due < next ? due : next;
            continue;
        }
        if (cl->layer_busy)
            continue; /* the layer's handshake pumps the client: after it */
        /* RFC 7641 section 3.3.1: not fresh any more (or the server forgot us): register
         * again, transparently. When no notification came for Max-Age, from a new port:
         * libcoap 4.3.1 drops a retransmitted CON notification without acknowledging it
         * again, so after a lost ACK the server retransmits it with its later
         * notifications queued behind it (NSTART 1) until it gives up; a registration from
         * a new port has a server session of its own. */
        if (now >= o->fresh_until_ms && !o->moved) {
            o->moved = 1;
            pqcoap_client_new_session(cl);
        }
        pqcoap_err err = renew(cl);
        if (!o->used || !o->live)
            continue; /* ended meanwhile (renew's handshake pumped the client) */
        if (err != PQCOAP_OK && err != PQCOAP_ERR_TIMEOUT && err != PQCOAP_ERR_IO &&
            err != PQCOAP_ERR_BUSY && err != PQCOAP_ERR_NOMEM) {
            obs_end(cl, o, err, NULL); /* e.g. the server refuses a new handshake */
            continue;
        }
        pqcoap_client_slot *s;
        if (err == PQCOAP_OK && obs_send(cl, o, 0, &s) == PQCOAP_OK) {
            o->rereg_inflight = 1;
            o->rereg_at_ms = 0;
        } else {
            o->rereg_at_ms = pqcoap_net_now_ms() + RETRY_MS;
            next = o->rereg_at_ms < next ? o->rereg_at_ms : next;
        }
    }
    return next;
}

int pqcoap_client_obs_notification(pqcoap_client *cl, const coap_pdu_t *pdu)
{
    coap_bin_const_t tok = coap_pdu_get_token(pdu);
    pqcoap_client_obs *o = NULL;
    for (size_t i = 0; i < cl->cfg.max_observe && !o; i++) {
        pqcoap_client_obs *c = &cl->obs[i];
        if (c->used && c->live && c->token_len == tok.length &&
            (tok.length == 0 || memcmp(c->token, tok.s, tok.length) == 0))
            o = c;
    }
    if (!o)
        return 0;
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg wire;
    if (pqcoap_net_view(pdu, opts, PQCOAP_NET_MAX_OPTS, &wire) != PQCOAP_OK)
        return 1; /* dropped */
    coap_block_b_t b;
    if (coap_get_block_b(cl->sess, pdu, COAP_OPTION_BLOCK2, &b) && (b.m || b.num)) {
        /* RFC 7959 section 2.6 would have the client fetch the rest: not done here */
        pqcoap_net_msg(cl->err, sizeof(cl->err), "a notification larger than one block "
                       "(RFC 7959 section 2.6) is not fetched block-wise: observation ended");
        obs_end(cl, o, PQCOAP_ERR_UNSUPPORTED, NULL);
        return 0; /* Reset: the server ends it too */
    }
    if (wire.payload_len > cl->cfg.max_body + cl->layer.overhead)
        return 1;
    size_t wire_len = pqcoap_net_msg_size(&wire);
    const pqcoap_msg *shown = &wire;
    pqcoap_msg plain;
    if (cl->has_layer) {
        pqcoap_exchange x;
        pqcoap_net_exchange(&x, &cl->dst, pdu);
        pqcoap_net_scratch_start(&cl->plain, wire.code, wire.token, wire.token_len);
        if (cl->layer.check_notification(cl->layer.ctx, o->state, &x, &wire, &cl->plain.b) !=
            PQCOAP_OK)
            return 1; /* not verified: never shown */
        pqcoap_msgbuf_view(&cl->plain.b, &plain);
        shown = &plain;
    }
    if (shown->payload_len > cl->cfg.max_body)
        return 1;
    uint64_t now = pqcoap_net_now_ms();
    if ((shown->code >> 5) != 2) { /* RFC 7641 section 3.2: the observation is over */
        cl->last_received = wire_len;
        obs_end(cl, o, PQCOAP_ERR_COAP, shown);
        return 1;
    }
    long v = observe_of(shown);
    if (v < 0) { /* the server no longer counts us as an observer: register again */
        o->rereg_at_ms = now;
        return 1;
    }
    if (!seq_newer(o->seq, o->seq_ms, (uint32_t)v, now))
        return 1; /* older or the same: dropped (RFC 7641 section 3.4) */
    o->seq = (uint32_t)v;
    o->seq_ms = now;
    o->moved = 0;
    o->fresh_until_ms = fresh_until(shown, &wire, now);
    cl->last_received = wire_len;
    deliver(o, PQCOAP_OK, shown, (uint32_t)v, wire_len);
    return 1;
}

void pqcoap_client_obs_moved(pqcoap_client *cl)
{
    uint64_t now = pqcoap_net_now_ms();
    for (size_t i = 0; cl->obs && i < cl->cfg.max_observe; i++)
        if (cl->obs[i].used && cl->obs[i].live)
            cl->obs[i].rereg_at_ms = now;
}

size_t pqcoap_client_obs_count(const pqcoap_client *cl)
{
    size_t n = 0;
    for (size_t i = 0; cl->obs && i < cl->cfg.max_observe; i++)
        n += cl->obs[i].used;
    return n;
}

void pqcoap_client_obs_free(pqcoap_client *cl)
{
    for (size_t i = 0; cl->obs && i < cl->cfg.max_observe; i++)
        if (cl->obs[i].used)
            obs_end(cl, &cl->obs[i], PQCOAP_OK, NULL);
    free(cl->obs);
    cl->obs = NULL;
}

/* Keeps a copy of what the caller asked in o (Observe apart). */
static pqcoap_err obs_copy_req(pqcoap_client_obs *o, const pqcoap_req *req, size_t state_size)
{
    o->method = req->method;
    o->non = req->non;
    o->content_format = req->content_format;
    o->accept = req->accept;
    if (req->path && !(o->path = strdup(req->path)))
        return PQCOAP_ERR_NOMEM;
    pqcoap_msg extra = {0};
    extra.opts = req->opts;
    extra.n_opts = req->n_opts;
    extra.payload = req->payload;
    extra.payload_len = req->payload_len;
    PQCOAP_TRY(pqcoap_reply_copy(&o->extra, &extra));
    if (state_size && (!(o->state = calloc(1, state_size)) ||
                       !(o->new_state = calloc(1, state_size))))
        return PQCOAP_ERR_NOMEM;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_observe(pqcoap_client *cl, const pqcoap_req *req, pqcoap_observe_fn fn,
                                 void *user, uint32_t *id)
{
    if (!cl || !req || !fn || !id)
        return PQCOAP_ERR_ARG;
    *id = 0;
    if (cl->has_layer && !cl->layer.check_notification) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "this security mode cannot check "
                       "notifications (its layer has no check_notification): Observe is "
                       "not supported");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    int bad = (req->method != PQCOAP_GET && req->method != PQCOAP_FETCH) || req->no_layer ||
              (req->n_opts && !req->opts);
    for (size_t i = 0; !bad && i < req->n_opts; i++)
        bad = req->opts[i].number == PQCOAP_OPT_OBSERVE;
    if (bad) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "invalid observation request (a GET or FETCH "
                       "through the layer, without an Observe option of its own)");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_client_obs *o = NULL;
    for (size_t i = 0; i < cl->cfg.max_observe && !o; i++)
        if (!cl->obs[i].used)
            o = &cl->obs[i];
    if (!o) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "%u observations already live (the limit)",
                       cl->cfg.max_observe);
        return PQCOAP_ERR_LIMIT;
    }
    o->used = 1;
    o->fn = fn;
    o->user = user;
    pqcoap_err err = obs_copy_req(o, req, cl->layer.state_size);
    pqcoap_client_slot *s = NULL;
    if (err == PQCOAP_OK)
        err = obs_send(cl, o, 0, &s);
    else
        pqcoap_net_msg(cl->err, sizeof(cl->err), "out of memory");
    uint64_t deadline = s ? s->deadline_ms : 0;
    while (err == PQCOAP_OK && !o->live && !o->failed)
        err = pqcoap_client_pump(cl, deadline);
    if (err == PQCOAP_OK && o->failed)
        err = o->failed;
    if (err != PQCOAP_OK) {
        obs_end(cl, o, PQCOAP_OK, NULL);
        return err;
    }
    if (++cl->next_id == 0)
        cl->next_id = 1;
    o->id = cl->next_id;
    *id = o->id;
    return PQCOAP_OK;
}

static pqcoap_client_obs *obs_by_id(pqcoap_client *cl, uint32_t id)
{
    for (size_t i = 0; id && i < cl->cfg.max_observe; i++)
        if (cl->obs[i].used && cl->obs[i].id == id)
            return &cl->obs[i];
    return NULL;
}

/* Ends observation `id`; with `deregister`, first sends the deregistration (RFC 7641
 * section 3.6: a GET with Observe 1 and the registration's token) and waits for its answer
 * (bounded by the request timeout). Without it, or when that cannot be sent, the next
 * notification is answered with Reset. */
static pqcoap_err obs_stop(pqcoap_client *cl, uint32_t id, int deregister)
{
    if (!cl)
        return PQCOAP_ERR_ARG;
    pqcoap_client_obs *o = obs_by_id(cl, id);
    if (!o)
        return PQCOAP_ERR_NOT_FOUND;
    pqcoap_client_slot *s = NULL;
    pqcoap_err err = deregister ? obs_send(cl, o, 1, &s) : PQCOAP_ERR_ARG;
    obs_end(cl, o, PQCOAP_OK, NULL);
    if (err != PQCOAP_OK)
        return PQCOAP_OK;
    uint32_t slot_id = s->id;
    while (s->state == PQCOAP_SLOT_PENDING && s->id == slot_id)
        if (pqcoap_client_pump(cl, s->deadline_ms) != PQCOAP_OK)
            break;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_observe_cancel(pqcoap_client *cl, uint32_t id)
{
    return obs_stop(cl, id, 1);
}

pqcoap_err pqcoap_client_observe_forget(pqcoap_client *cl, uint32_t id)
{
    return obs_stop(cl, id, 0);
}

/* ---- the modes' own client objects ----------------------------------------------------- */

pqcoap_err pqcoap_sign_client_observe(pqcoap_sign_client *c, const pqcoap_req *req,
                                      pqcoap_observe_fn fn, void *user, uint32_t *id)
{
    if (!c)
        return PQCOAP_ERR_ARG;
    pqcoap_client *cl = pqcoap_sign_client_net(c);
    if (!pqcoap_sign_client_layer(c)->check_notification) { /* PROTOCOL.md "Observe" */
        pqcoap_net_msg(cl->err, sizeof(cl->err), "Mode A v1 cannot observe: a v1 signature "
                       "binds no request and no sequence number, so a notification could not "
                       "be verified as fresh and as this observation's (use Mode A v2)");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    return pqcoap_client_observe(cl, req, fn, user, id);
}

pqcoap_err pqcoap_sign_client_observe_cancel(pqcoap_sign_client *c, uint32_t id)
{
    return c ? pqcoap_client_observe_cancel(pqcoap_sign_client_net(c), id) : PQCOAP_ERR_ARG;
}

pqcoap_err pqcoap_oscore_client_observe_cancel(pqcoap_oscore_client *c, uint32_t id)
{
    return c ? pqcoap_client_observe_cancel(pqcoap_oscore_client_net(c), id) : PQCOAP_ERR_ARG;
}
