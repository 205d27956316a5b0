/* OSCORE client (oscore_endpoint.h): a pqcoap_client whose layer protects each request
 * with the security context (Sender Sequence Numbers reserved ahead in a store) and
 * accepts only a response that verifies under it for that request; repeats a request
 * once with the server's Echo value after the server restarted (RFC 8613 Appendix B.1.2). */
#include "pqcoap/oscore_endpoint.h"
#include "net/client_internal.h"
#include "net/observe_internal.h"
#include "net/oscore_internal.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_LEN 192

struct pqcoap_oscore_client {
    pqcoap_oscore_ctx ctx;
    pqcoap_seq_counter ssn;
    pqcoap_layer layer;
    pqcoap_client *net;
    pqcoap_oscore_binding last;     /* kid and Partial IV of the last request */
    pqcoap_oscore_rekey *rekey;     /* keyed by a handshake: how to make it again */
    int lost;                       /* the last answer: 4.01 "Security context not found" */
    uint8_t echo[40];               /* the Echo value of the last protected 4.01, if any */
    size_t echo_len;
    char err[ERR_LEN];
};

/* Per-exchange state from protect_request to check_response (plain data, it is moved). */
typedef struct cl_state {
    int protected_;
    pqcoap_oscore_binding bind;
    int notified;                   /* an observation: a notification was accepted, and */
    uint64_t number;                /* its Notification Number (RFC 8613 section 7.4.1) */
} cl_state;

/* RFC 9175 section 2.4 / RFC 8613 Appendix B.1.2: req, with the Echo value of the server's
 * last protected 4.01 among its options (in ascending order, in opts[0..cap)) when there is
 * one and req carries none. */
static const pqcoap_msg *with_echo(const pqcoap_oscore_client *c, const pqcoap_msg *req,
                                   pqcoap_opt *opts, size_t cap, pqcoap_msg *with)
{
    if (c->echo_len == 0 || req->n_opts >= cap || pqcoap_msg_find_opt(req, PQCOAP_OPT_ECHO))
        return req;
    const pqcoap_opt echo = {PQCOAP_OPT_ECHO, c->echo, c->echo_len};
    size_t n = 0;
    int placed = 0;
    for (size_t i = 0; i < req->n_opts; i++) {
        if (!placed && req->opts[i].number > PQCOAP_OPT_ECHO) {
            opts[n++] = echo;
            placed = 1;
        }
        opts[n++] = req->opts[i];
    }
    if (!placed)
        opts[n++] = echo;
    *with = *req;
    with->opts = opts;
    with->n_opts = n;
    return with;
}

static pqcoap_err protect_request(void *ctx, void *state, const pqcoap_exchange *x,
                                  const pqcoap_msg *req, pqcoap_msgbuf *wire)
{
    (void)x;
    pqcoap_oscore_client *c = ctx;
    cl_state *st = state;
    uint64_t ssn;
    pqcoap_err err = pqcoap_seq_next(&c->ssn, &ssn);
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(wire, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg out, echoed;
    pqcoap_opt req_opts[PQCOAP_NET_MAX_OPTS];
    req = with_echo(c, req, req_opts, PQCOAP_NET_MAX_OPTS, &echoed);
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_protect_request(&c->ctx, ssn, c->ctx.has_id_context, req, &room,
                                            &out, &st->bind);
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_fill(wire, &out);
    if (err != PQCOAP_OK) {
        snprintf(c->err, sizeof c->err, "cannot protect the request: %s",
                 pqcoap_strerror(err));
        return err;
    }
    st->protected_ = 1;
    c->last = st->bind;
    c->echo_len = 0; /* sent once */
    return PQCOAP_OK;
}

/* The error for an unprotected answer: the refusals RFC 8613 section 8.2 leaves
 * unprotected, overload and size; anything else was not authenticated. */
static pqcoap_err unprotected_error(pqcoap_oscore_client *c, const pqcoap_msg *wire)
{
    uint8_t code = wire->code;
    static const char lost[] = "Security context not found";
    /* RFC 8613 section 8.2 step 2: the server holds no context for our kid */
    c->lost = code == PQCOAP_CODE(4, 1) && wire->payload_len == sizeof lost - 1 &&
              memcmp(wire->payload, lost, sizeof lost - 1) == 0;
    pqcoap_err err = code == PQCOAP_CODE(4, 0) || code == PQCOAP_CODE(4, 1) ||
                     code == PQCOAP_CODE(4, 2) ? PQCOAP_ERR_REJECTED
                   : code == PQCOAP_CODE(5, 3) ? PQCOAP_ERR_BUSY
                   : code == PQCOAP_CODE(4, 13) ? PQCOAP_ERR_TOO_LARGE
                   : PQCOAP_ERR_UNAUTHENTICATED;
    int n = snprintf(c->err, sizeof c->err, "%s: %u.%02u ",
                     err == PQCOAP_ERR_UNAUTHENTICATED ? "response not authenticated (no OSCORE)"
                                                       : "server rejected the request",
                     code >> 5, code & 31);
    size_t at = (size_t)n;
    for (size_t i = 0; i < wire->payload_len && at + 1 < sizeof c->err; i++) {
        uint8_t ch = wire->payload[i];
        c->err[at++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    c->err[at] = '\0';
    return err;
}

static pqcoap_err check_response(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_oscore_client *c = ctx;
    const cl_state *st = state;
    if (!st->protected_)
        return PQCOAP_ERR_STATE;
    pqcoap_oscore_option opt;
    pqcoap_err err = pqcoap_oscore_find_option(wire, &opt);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return unprotected_error(c, wire);
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(plain, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg out;
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_unprotect_response(&c->ctx, &st->bind, wire, &opt, &room, &out);
    const pqcoap_opt *b2 = err == PQCOAP_OK ? pqcoap_msg_find_opt(&out, PQCOAP_OPT_BLOCK2) : NULL;
    uint32_t v = 0;
    if (b2 != NULL && (pqcoap_opt_uint(b2, &v) != PQCOAP_OK || (v >> 3) != 0)) {
        /* Inner block-wise (RFC 8613 section 4.1.3.4.1): only part of the body came. */
        snprintf(c->err, sizeof c->err, "the server sent the response in inner blocks, "
                 "which this client does not reassemble (outer block-wise works)");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_fill(plain, &out);
    if (err == PQCOAP_OK) {
        pqcoap_msgbuf_remove_opt(plain, PQCOAP_OPT_BLOCK2);
        pqcoap_msgbuf_remove_opt(plain, PQCOAP_OPT_SIZE2);
        const pqcoap_opt *echo = pqcoap_msg_find_opt(&out, PQCOAP_OPT_ECHO);
        c->echo_len = out.code == PQCOAP_CODE(4, 1) && echo && echo->len <= sizeof c->echo
                          ? echo->len : 0;
        if (c->echo_len)
            memcpy(c->echo, echo->value, c->echo_len);
    }
    if (err != PQCOAP_OK)
        snprintf(c->err, sizeof c->err, "response not accepted: %s%s", pqcoap_strerror(err),
                 err == PQCOAP_ERR_AUTH ? " (does not verify under the security context for "
                                          "this request)" : "");
    return err;
}

/* RFC 8613 sections 4.1.3.5.2 and 7.4.1: a notification of the observation registered by
 * the request st->bind, with a Partial IV above the Notification Number; its Observe is
 * given the three least significant bytes of that Partial IV (the outer value is not
 * protected and is ignored). Unprotected answers are dropped. */
static pqcoap_err check_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                     const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_oscore_client *c = ctx;
    cl_state *st = obs_state;
    if (!st->protected_)
        return PQCOAP_ERR_STATE;
    pqcoap_oscore_option opt;
    pqcoap_err err = pqcoap_oscore_find_option(wire, &opt);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return PQCOAP_ERR_UNAUTHENTICATED;
    PQCOAP_TRY(err);
    pqcoap_opt opts[PQCOAP_OSCORE_LAYER_OPTS];
    pqcoap_oscore_out room = pqcoap_oscore_room(plain, opts, PQCOAP_OSCORE_LAYER_OPTS);
    pqcoap_msg out;
    uint64_t piv;
    PQCOAP_TRY(pqcoap_oscore_unprotect_notification(&c->ctx, &st->bind, wire, &opt,
                                                    st->notified, st->number, &room, &out,
                                                    &piv));
    int observe = pqcoap_msg_find_opt(&out, PQCOAP_OPT_OBSERVE) != NULL;
    PQCOAP_TRY(pqcoap_oscore_fill(plain, &out));
    if (observe) {
        pqcoap_msgbuf_remove_opt(plain, PQCOAP_OPT_OBSERVE);
        PQCOAP_TRY(pqcoap_msgbuf_add_uint(plain, PQCOAP_OPT_OBSERVE, (uint32_t)(piv & 0xffffff)));
    }
    st->notified = 1;
    st->number = piv;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_client_open(const char *uri, const pqcoap_oscore_conf *conf,
                                     const pqcoap_store *store,
                                     const pqcoap_client_config *net,
                                     pqcoap_oscore_client **out, char *msg, size_t msg_cap)
{
    pqcoap_oscore_params p;
    if (msg && msg_cap)
        msg[0] = '\0';
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!conf) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "an OSCORE client needs a URI, a context and a store");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_err err = pqcoap_oscore_conf_params(conf, 0, &p);
    if (err != PQCOAP_OK)
        return err;
    return pqcoap_oscore_client_open_params(uri, &p, conf->ssn_freq, store, net, out, msg,
                                            msg_cap);
}

/* Derives the context of p into c (replacing the one it had, wiped) with its Sender
 * Sequence Number counter in `store`, reserved ssn_freq ahead. On error c is unchanged. */
static pqcoap_err set_context(pqcoap_oscore_client *c, const pqcoap_oscore_params *p,
                              const pqcoap_store *store, uint64_t ssn_freq)
{
    pqcoap_oscore_ctx ctx;
    pqcoap_seq_counter ssn;
    char name[PQCOAP_OSCORE_SSN_NAME_LEN];
    pqcoap_err err = pqcoap_oscore_derive(p, &ctx);
    if (err == PQCOAP_OK)
        err = pqcoap_oscore_ssn_name(&ctx, name);
    if (err == PQCOAP_OK)
        err = pqcoap_seq_counter_init(&ssn, store, name, ssn_freq);
    if (err != PQCOAP_OK) {
        pqcoap_oscore_wipe(&ctx);
        return err;
    }
    pqcoap_oscore_wipe(&c->ctx);
    c->ctx = ctx; /* moved: the bytes of the copy are wiped, nothing it owns is released */
    c->ssn = ssn;
    pqcoap_wipe(&ctx, sizeof ctx);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_client_set_context(pqcoap_oscore_client *c,
                                            const pqcoap_oscore_params *p)
{
    return set_context(c, p, &c->ssn.store, c->ssn.block);
}

/* The observations' upkeep (client_internal.h): the server asked for an Echo value (it
 * restarted: the next request carries it), or a keyed client got 4.01 "Security context not
 * found" and a new handshake makes a new context. */
static int stale(void *ctx)
{
    const pqcoap_oscore_client *c = ctx;
    return c->echo_len || (c->lost && c->rekey);
}

static pqcoap_err renew(void *ctx)
{
    pqcoap_oscore_client *c = ctx;
    if (!c->lost || !c->rekey)
        return PQCOAP_OK;
    char why[ERR_LEN];
    pqcoap_err err = pqcoap_oscore_client_rekey(c, c->rekey, why, sizeof why);
    if (err != PQCOAP_OK)
        pqcoap_net_msg(c->net->err, sizeof c->net->err, "the server no longer holds the "
                       "security context and a new handshake failed: %.80s", why);
    c->lost = 0;
    return err;
}

void pqcoap_oscore_client_set_rekey(pqcoap_oscore_client *c, pqcoap_oscore_rekey *rk)
{
    c->rekey = rk;
}

pqcoap_err pqcoap_oscore_client_open_params(const char *uri, const pqcoap_oscore_params *p,
                                            uint64_t ssn_freq, const pqcoap_store *store,
                                            const pqcoap_client_config *net,
                                            pqcoap_oscore_client **out, char *msg,
                                            size_t msg_cap)
{
    pqcoap_client_config defaults = PQCOAP_CLIENT_CONFIG_INIT;
    if (msg && msg_cap)
        msg[0] = '\0';
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!uri || !p || !store || !store->ops) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "an OSCORE client needs a URI, a context and a store");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_oscore_client *c = calloc(1, sizeof *c);
    if (!c)
        return PQCOAP_ERR_NOMEM;
    pqcoap_err err = set_context(c, p, store, ssn_freq);
    if (err != PQCOAP_OK) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "cannot set up the OSCORE context: %s", pqcoap_strerror(err));
        pqcoap_oscore_client_free(c);
        return err;
    }
    c->layer.ctx = c;
    c->layer.state_size = sizeof(cl_state);
    c->layer.overhead = PQCOAP_OSCORE_LAYER_OVERHEAD;
    c->layer.critical_opts = pqcoap_oscore_critical_opts;
    c->layer.n_critical_opts = 1;
    c->layer.protect_request = protect_request;
    c->layer.check_response = check_response;
    c->layer.check_notification = check_notification;
    pqcoap_client_config cfg = net ? *net : defaults;
    cfg.layer = &c->layer;
    err = pqcoap_client_open(uri, &cfg, &c->net, msg, msg_cap);
    if (err != PQCOAP_OK) {
        pqcoap_oscore_client_free(c);
        return err;
    }
    c->net->stale = stale;
    c->net->renew = renew;
    c->net->renew_ctx = c;
    *out = c;
    return PQCOAP_OK;
}

void pqcoap_oscore_client_free(pqcoap_oscore_client *c)
{
    if (!c)
        return;
    pqcoap_client_free(c->net);
    pqcoap_oscore_rekey_free(c->rekey);
    pqcoap_oscore_wipe(&c->ctx);
    free(c);
}

/* Sends req, and once more (a new request: new Sender Sequence Number) with the server's
 * Echo value if it asks for one: protect_request adds it. */
static pqcoap_err request_echo(pqcoap_oscore_client *c, const pqcoap_req *req,
                               pqcoap_reply *reply)
{
    c->err[0] = '\0';
    c->lost = 0;
    c->echo_len = 0;
    pqcoap_err err = pqcoap_client_request(c->net, req, reply);
    if (err != PQCOAP_OK || reply->msg.code != PQCOAP_CODE(4, 1) || c->echo_len == 0)
        return err;
    pqcoap_reply_free(reply);
    return pqcoap_client_request(c->net, req, reply);
}

pqcoap_err pqcoap_oscore_client_request(pqcoap_oscore_client *c, const pqcoap_req *req,
                                        pqcoap_reply *reply)
{
    if (!c || !req || !reply)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = request_echo(c, req, reply);
    if (err != PQCOAP_ERR_REJECTED || !c->lost || !c->rekey)
        return err;
    /* RFC 8613 section 8.2: the server has no context for our kid (it restarted, or the
     * context ended) and processed nothing; a context keyed by a handshake is made again
     * by a new handshake, and the request sent once more under it, once. */
    char why[ERR_LEN];
    pqcoap_reply_free(reply);
    err = pqcoap_oscore_client_rekey(c, c->rekey, why, sizeof why);
    if (err != PQCOAP_OK) {
        snprintf(c->err, sizeof c->err, "the server no longer holds the security context "
                 "(4.01 Security context not found) and a new handshake failed: %.80s", why);
        return err;
    }
    err = request_echo(c, req, reply);
    if (err == PQCOAP_ERR_REJECTED && c->lost)
        snprintf(c->err, sizeof c->err, "the server answered 4.01 \"Security context not "
                 "found\" again right after a new handshake: giving up");
    return err;
}

pqcoap_err pqcoap_oscore_client_observe(pqcoap_oscore_client *c, const pqcoap_req *req,
                                        pqcoap_observe_fn fn, void *user, uint32_t *id)
{
    if (!c || !req)
        return PQCOAP_ERR_ARG;
    c->err[0] = '\0';
    c->echo_len = 0;
    pqcoap_err err = pqcoap_client_observe(c->net, req, fn, user, id);
    /* a server just started asks for its Echo value first (RFC 8613 Appendix B.1.2) */
    if (err != PQCOAP_ERR_COAP || c->echo_len == 0)
        return err;
    return pqcoap_client_observe(c->net, req, fn, user, id);
}

pqcoap_client *pqcoap_oscore_client_net(pqcoap_oscore_client *c)
{
    return c ? c->net : NULL;
}

pqcoap_err pqcoap_oscore_client_last_request(const pqcoap_oscore_client *c,
                                             pqcoap_oscore_binding *out)
{
    if (!c || !out)
        return PQCOAP_ERR_ARG;
    *out = c->last;
    return PQCOAP_OK;
}

const char *pqcoap_oscore_client_last_error(const pqcoap_oscore_client *c)
{
    if (!c)
        return "";
    return c->err[0] ? c->err : pqcoap_client_last_error(c->net);
}

const pqcoap_layer *pqcoap_oscore_client_layer(const pqcoap_oscore_client *c)
{
    return c ? &c->layer : NULL;
}
