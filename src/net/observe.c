/* Server side of Observe (RFC 7641) on libcoap's subscriptions: which observations the
 * server accepted (bounded per path and in total), and how each handler call is told apart
 * (registration, deregistration, notification).
 *
 * libcoap 4.3.1 keeps the subscriptions and sends the notifications (an observable path is
 * a libcoap resource of its own, flagged to notify with CON). It adds a subscription before
 * the handler runs and offers no call to remove one, so this table decides which
 * observations live: a registration over a limit is answered as a plain GET (the response
 * rebuilt without Observe, RFC 7641 section 4.1), and a notification for an observation the
 * table does not hold is turned into one libcoap drops without sending (5.08 with Hop-Limit
 * 1, which libcoap's loop detection discards), which also deletes libcoap's subscription
 * since the code is not 2.xx.
 *
 * With a security layer libcoap's subscriptions are not used (it would keep the wire
 * request, and an OSCORE request shows no path): the server registers an observation after
 * the layer's check (pqcoap_obs_secured), keeps the layer's state with it, and sends the
 * notifications itself (server.c). */
#include "net/observe_internal.h"
#include "net/net_internal.h"

#include <stdlib.h>
#include <string.h>
#include "crypto/crypto_internal.h"
#include "pqcoap/msg.h"

#define OPT_HOP_LIMIT 16
#define MAX_KEY_PARTS 64

pqcoap_obs_res *pqcoap_obs_find_res(pqcoap_obs_table *t, const char *path)
{
    for (pqcoap_obs_res *r = t->res; r; r = r->next)
        if (strcmp(r->path, path) == 0)
            return r;
    return NULL;
}

static pqcoap_obs_res *res_of(pqcoap_obs_table *t, const coap_resource_t *resource)
{
    for (pqcoap_obs_res *r = t->res; r; r = r->next)
        if (r->r == resource)
            return r;
    return NULL;
}

static pqcoap_obs **find(pqcoap_obs_table *t, const coap_session_t *session,
                         coap_bin_const_t tok)
{
    for (pqcoap_obs **pp = &t->obs; *pp; pp = &(*pp)->next) {
        const pqcoap_obs *o = *pp;
        if (o->sess == session && o->token_len == tok.length &&
            (tok.length == 0 || memcmp(o->token, tok.s, tok.length) == 0))
            return pp;
    }
    return NULL;
}

static void drop(pqcoap_obs_table *t, pqcoap_obs **pp)
{
    pqcoap_obs *o = *pp;
    *pp = o->next;
    o->res->count--;
    t->count_total--;
    if (o->state) {
        if (t->layer && t->layer->end_observation)
            t->layer->end_observation(t->layer->ctx, o->state);
        pqcoap_wipe(o->state, t->layer ? t->layer->state_size : 0);
        free(o->state);
    }
    pqcoap_reply_free(&o->plain);
    coap_delete_pdu(o->request);
    coap_session_release(o->sess);
    free(o);
}

/* Options that are not part of the cache key: ETag (RFC 7641 section 3.6), NoCacheKey. */
static int not_cache_key(uint16_t number)
{
    return number == COAP_OPTION_ETAG || (number & 0x1e) == 0x1c;
}

/* libcoap's cache key of a request (RFC 7252 section 5.6, without ETag: RFC 7641 section
 * 3.6): the options that are not NoCacheKey, and the payload. */
static int request_key(const coap_pdu_t *request, uint8_t key[32])
{
    uint8_t heads[MAX_KEY_PARTS][4];
    pqcoap_span in[2 * MAX_KEY_PARTS + 1];
    size_t n = 0;
    if (pqcoap_net_opt_spans(request, not_cache_key, heads, MAX_KEY_PARTS, in, &n) != PQCOAP_OK)
        return 0;
    size_t plen = 0;
    const uint8_t *p = NULL;
    if (!coap_get_data(request, &plen, &p))
        plen = 0;
    in[n++] = (pqcoap_span){p, plen};
    return pqcoap_sha256(in, n, key) == PQCOAP_OK;
}

/* Rebuilds `response` (libcoap put Observe in it) as the answer to a plain GET: libcoap
 * 4.3.1 has no public call to remove an option, so the PDU is parsed again from its bare
 * header and token (RFC 7252 section 3). Returns 0 if that failed. */
static int without_observe(coap_pdu_t *response, const coap_pdu_t *request)
{
    coap_bin_const_t tok = coap_pdu_get_token(request);
    coap_mid_t mid = coap_pdu_get_mid(response);
    uint8_t hdr[4 + 8];
    if (tok.length > 8)
        return 0;
    hdr[0] = (uint8_t)(0x40 | (coap_pdu_get_type(response) << 4) | tok.length);
    hdr[1] = 0;
    hdr[2] = (uint8_t)(mid >> 8);
    hdr[3] = (uint8_t)mid;
    if (tok.length)
        memcpy(hdr + 4, tok.s, tok.length);
    return coap_pdu_parse(COAP_PROTO_UDP, hdr, 4 + tok.length, response);
}

pqcoap_obs_call pqcoap_obs_classify(pqcoap_obs_table *t, coap_resource_t *resource,
                                    coap_session_t *session, const coap_pdu_t *request,
                                    coap_pdu_t *response, int allow)
{
    pqcoap_obs_res *res = res_of(t, resource);
    if (!res)
        return PQCOAP_OBS_REQUEST;
    coap_bin_const_t tok = coap_pdu_get_token(request);
    pqcoap_obs **pp = find(t, session, tok);
    /* libcoap answers a request with ACK (CON) or NON, and sends every notification of a
     * resource flagged COAP_RESOURCE_FLAGS_NOTIFY_CON as CON: only a notification comes
     * with a CON response. */
    if (coap_pdu_get_type(response) == COAP_MESSAGE_CON) {
        if (pp)
            return PQCOAP_OBS_NOTIFY;
        uint8_t one = 1;
        coap_pdu_set_code(response, COAP_RESPONSE_CODE(508));
        coap_add_option(response, OPT_HOP_LIMIT, 1, &one);
        if (res->refused)
            res->refused--;
        return PQCOAP_OBS_PURGE;
    }
    coap_pdu_code_t code = coap_pdu_get_code(request);
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(request, COAP_OPTION_OBSERVE, &it);
    if (!opt || (code != COAP_REQUEST_CODE_GET && code != COAP_REQUEST_CODE_FETCH))
        return PQCOAP_OBS_REQUEST;
    uint32_t action = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
    if (action == COAP_OBSERVE_CANCEL) { /* RFC 7641 section 3.6: libcoap removes its own */
        if (pp)
            drop(t, pp);
        return PQCOAP_OBS_REQUEST;
    }
    if (action != COAP_OBSERVE_ESTABLISH || pp) /* pp: a re-registration, still accepted */
        return PQCOAP_OBS_REQUEST;
    uint8_t key[32];
    int keyed = request_key(request, key);
    /* libcoap replaced an older subscription of this session with the same cache key */
    for (pqcoap_obs **q = &t->obs; keyed && *q;) {
        if ((*q)->sess == session && (*q)->res == res && memcmp((*q)->key, key, 32) == 0)
            drop(t, q);
        else
            q = &(*q)->next;
    }
    pqcoap_obs *o = allow && keyed && tok.length <= sizeof(o->token) && res->count < res->max &&
                    t->count_total < t->max_total ? calloc(1, sizeof(*o)) : NULL;
    if (!o) {
        without_observe(response, request);
        /* libcoap's subscription stays until a notification round finds it; a round is
         * started once as many are left as the path may have observers, so they are
         * bounded (the accepted observers then get the current state once more, which
         * RFC 7641 section 4.2 allows). */
        if (++res->refused >= res->max) {
            res->refused = 0;
            coap_resource_notify_observers(resource, NULL);
        }
        return PQCOAP_OBS_REQUEST;
    }
    o->sess = coap_session_reference(session);
    memcpy(o->token, tok.s, tok.length);
    o->token_len = tok.length;
    memcpy(o->key, key, sizeof(key));
    o->res = res;
    o->next = t->obs;
    t->obs = o;
    res->count++;
    t->count_total++;
    return PQCOAP_OBS_REQUEST;
}

void pqcoap_obs_served(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *request,
                       const coap_pdu_t *response)
{
    pqcoap_obs **pp = find(t, session, coap_pdu_get_token(request));
    /* a secured observation ends only by what the layer verified (pqcoap_obs_secured), not
     * by the answer to any datagram that carries its token */
    if (pp && !(*pp)->state && COAP_RESPONSE_CLASS(coap_pdu_get_code(response)) != 2)
        drop(t, pp);
}

void pqcoap_obs_forget(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *sent)
{
    pqcoap_obs **pp = find(t, session, coap_pdu_get_token(sent));
    if (pp)
        drop(t, pp);
}

pqcoap_obs *pqcoap_obs_secured(pqcoap_obs_table *t, pqcoap_obs_res *res,
                               coap_session_t *session, const coap_pdu_t *request,
                               const pqcoap_msg *plain, const pqcoap_exchange *x,
                               int answered, size_t state_size)
{
    const pqcoap_opt *opt = pqcoap_msg_find_opt(plain, PQCOAP_OPT_OBSERVE);
    uint32_t action;
    if (!opt || pqcoap_opt_uint(opt, &action) != PQCOAP_OK ||
        (plain->code != PQCOAP_GET && plain->code != PQCOAP_FETCH))
        return NULL;
    coap_bin_const_t tok = coap_pdu_get_token(request);
    pqcoap_obs **pp = find(t, session, tok);
    /* RFC 7641 section 3.6: Observe 1 deregisters; section 4.1: a registration with the
     * token of a live observation replaces it (with the new request's binding) */
    if (pp && (action == COAP_OBSERVE_CANCEL || action == COAP_OBSERVE_ESTABLISH))
        drop(t, pp);
    if (action != COAP_OBSERVE_ESTABLISH || !answered ||
        tok.length > sizeof(((pqcoap_obs *)0)->token) ||
        res->count >= res->max || t->count_total >= t->max_total)
        return NULL;
    pqcoap_obs *o = calloc(1, sizeof(*o));
    if (!o || (state_size && !(o->state = calloc(1, state_size))) ||
        pqcoap_reply_copy(&o->plain, plain) != PQCOAP_OK ||
        !(o->request = coap_pdu_duplicate(request, session, tok.length, tok.s, NULL))) {
        if (o) {
            pqcoap_reply_free(&o->plain);
            free(o->state);
        }
        free(o);
        return NULL;
    }
    coap_pdu_set_type(o->request, coap_pdu_get_type(request));
    o->sess = coap_session_reference(session);
    memcpy(o->token, tok.s, tok.length);
    o->token_len = tok.length;
    o->res = res;
    o->x = *x;
    o->next = t->obs;
    t->obs = o;
    res->count++;
    t->count_total++;
    return o;
}

void pqcoap_obs_end(pqcoap_obs_table *t, pqcoap_obs *o)
{
    for (pqcoap_obs **pp = &t->obs; *pp; pp = &(*pp)->next) {
        if (*pp == o) {
            drop(t, pp);
            return;
        }
    }
}

void pqcoap_obs_clear(pqcoap_obs_table *t)
{
    while (t->obs)
        drop(t, &t->obs);
    while (t->res) {
        pqcoap_obs_res *r = t->res;
        t->res = r->next;
        free(r);
    }
}
