/* Mode A client (sign_endpoint.h): a pqcoap_client whose layer signs each request with the
 * client's identity (v2 seq from a store counter reserved ahead) and accepts a response only
 * when it is signed by the pinned server key and, in v2, bound to that request. */
#include "pqcoap/sign_endpoint.h"
#include "net/observe_internal.h"
#include "net/sign_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_LEN 192

struct pqcoap_sign_client {
    pqcoap_identity id;
    pqcoap_signer signer;
    int version;
    pqcoap_seq_counter counter;     /* v2 request seq */
    pqcoap_pubkey server;           /* pinned server key */
    int pinned;
    pqcoap_layer layer;
    pqcoap_client *net;
    char err[ERR_LEN];
};

/* Per-exchange state, from protect_request to check_response (no pointers: it is moved). */
typedef struct cl_state {
    int version;                    /* 0: the request was not signed */
    uint64_t seq;
    int notified;                   /* an observation: a notification was accepted, */
    uint64_t notif_seq;             /* the newest one with this server seq */
} cl_state;

static const char NO_KEY_MSG[] =
    "no server key pinned: pin the server's public key (pqcoap_sign_client_pin) first";

/* Why an identity of the wrong usage is refused, for v1 and v2 clients. */
static const char *const USAGE_MSG[2] = {
    "Mode A v1 needs an identity made for sign-v1",
    "the identity is a sign-v1 key, which signs nothing but Mode A v1"};

/* Why an identity of another algorithm is refused, for v1 and v2 clients. */
static const char *const ALG_MSG[2] = {
    "Mode A v1 signs with falcon-512 keys only",
    "the identity's algorithm is none that Mode A v2 signs with"};

/* pqcoap_key_lookup over the one pinned server key. */
static pqcoap_err pinned_lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key)
{
    const pqcoap_sign_client *c = ctx;
    if (!c->pinned || memcmp(kid, c->server.kid, PQCOAP_KID_LEN) != 0)
        return PQCOAP_ERR_UNKNOWN_PEER;
    *key = &c->server;
    return PQCOAP_OK;
}

static pqcoap_err protect_request(void *ctx, void *state, const pqcoap_exchange *x,
                                  const pqcoap_msg *req, pqcoap_msgbuf *wire)
{
    (void)x;
    pqcoap_sign_client *c = ctx;
    cl_state *st = state;
    if (!c->pinned) {
        snprintf(c->err, sizeof c->err, "%s", NO_KEY_MSG);
        return PQCOAP_ERR_NO_PEER_KEY;
    }
    /* PROTOCOL.md v2: a request names its recipient, the pinned server key. */
    pqcoap_err err = pqcoap_sign_wrap(&c->signer, c->version, &c->counter, req,
                                      c->server.kid, NULL, wire, &st->seq);
    if (err != PQCOAP_OK) {
        snprintf(c->err, sizeof c->err, "cannot sign the request: %s", pqcoap_strerror(err));
        return err;
    }
    st->version = c->version;
    return PQCOAP_OK;
}

/* The error for an answer without a valid signature (PROTOCOL.md "Unsigned answers"): a
 * Mode A server leaves only its refusals and transport errors unsigned; any other code
 * without a valid signature may be forged and is PQCOAP_ERR_UNAUTHENTICATED. */
static pqcoap_err unsigned_error(uint8_t code)
{
    switch (code) {
    case PQCOAP_CODE(4, 0):
    case PQCOAP_CODE(4, 1):
    case PQCOAP_CODE(4, 2):
        return PQCOAP_ERR_REJECTED;
    case PQCOAP_CODE(4, 13):
        return PQCOAP_ERR_TOO_LARGE;
    case PQCOAP_CODE(5, 3):
        return PQCOAP_ERR_BUSY;
    case PQCOAP_CODE(4, 8):
    case PQCOAP_CODE(5, 0):
        return PQCOAP_ERR_COAP;
    default:
        return PQCOAP_ERR_UNAUTHENTICATED;
    }
}

/* Records "server rejected the request: 4.01 <diagnostic>", or for an answer the server
 * would have signed "4.04 answer not signed by the pinned server key: <diagnostic>"
 * (printable characters only; the payload of a 2.xx answer is a body, not shown). */
static void note_unsigned(pqcoap_sign_client *c, const pqcoap_msg *wire, pqcoap_err err)
{
    int n = err == PQCOAP_ERR_UNAUTHENTICATED
                ? snprintf(c->err, sizeof c->err, "%u.%02u answer not signed by the pinned "
                           "server key (a Mode A server signs all but its refusals)",
                           wire->code >> 5, wire->code & 31)
                : snprintf(c->err, sizeof c->err, "server rejected the request: %u.%02u ",
                           wire->code >> 5, wire->code & 31);
    size_t at = (size_t)n;
    if (err == PQCOAP_ERR_UNAUTHENTICATED && (wire->code >> 5) >= 4 && wire->payload_len &&
        at + 2 < sizeof c->err) {
        c->err[at++] = ':';
        c->err[at++] = ' ';
    }
    for (size_t i = 0; (wire->code >> 5) >= 4 && i < wire->payload_len &&
                       at + 1 < sizeof c->err; i++) {
        uint8_t ch = wire->payload[i];
        c->err[at++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    c->err[at] = '\0';
}

static pqcoap_err check_response(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_sign_client *c = ctx;
    const cl_state *st = state;
    if (st->version != 1 && st->version != 2)
        return PQCOAP_ERR_STATE;
    if (!c->pinned) {
        snprintf(c->err, sizeof c->err, "%s", NO_KEY_MSG);
        return PQCOAP_ERR_NO_PEER_KEY;
    }
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.policy = st->version == 2 ? PQCOAP_SIGN_V2_ONLY : PQCOAP_SIGN_V1_ONLY;
    v.v1_key = &c->server;
    v.lookup = pinned_lookup;
    v.lookup_ctx = c;
    /* PROTOCOL.md v2: a response is accepted only for the request it answers (its kid and
     * seq; "The token": the token is not bound), and only once, as it completes that
     * request; no window over the server's seqs (v.replay NULL), so responses to requests
     * in flight together may come in any order. */
    pqcoap_sig_req req = {{0}, st->seq};
    memcpy(req.kid, c->signer.kid, sizeof req.kid);
    const uint8_t *message = NULL;
    size_t len = 0;
    pqcoap_err err = pqcoap_verify_msg(&v, wire, st->version == 2 ? &req : NULL, NULL,
                                       &message, &len);
    if (err == PQCOAP_OK)
        return pqcoap_sign_unwrap(wire, message, len, plain);
    if (!pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG)) { /* v1 never has it */
        err = unsigned_error(wire->code);
        note_unsigned(c, wire, err);
        return err;
    }
    if (err == PQCOAP_ERR_UNKNOWN_PEER)
        err = PQCOAP_ERR_AUTH; /* signed, but not by the pinned key */
    size_t n = wire->payload_len;
    size_t sig_len = n >= 2 ? (size_t)wire->payload[n - 2] << 8 | wire->payload[n - 1] : 0;
    if (err == PQCOAP_ERR_AUTH && !pqcoap_sign_v2_len_ok(&c->server, sig_len))
        /* PROTOCOL.md Mode A v2 "Algorithms": made with another algorithm than the pinned
         * key's, so never by that key */
        snprintf(c->err, sizeof c->err, "response not accepted: its signature (%zu bytes) is "
                 "of another algorithm than the pinned server key (%s)", sig_len,
                 pqcoap_pubkey_alg(&c->server));
    else
        snprintf(c->err, sizeof c->err, "response not accepted: %s%s", pqcoap_strerror(err),
                 err == PQCOAP_ERR_AUTH ? " (not signed by the pinned server key for this "
                                          "request)" : "");
    return err;
}

/* PROTOCOL.md "Observe": a notification of the observation registered by the request
 * (kid, st->seq), signed by the pinned key with the notification label and newer than every
 * notification accepted for it before. Anything else, unsigned refusals included, is
 * dropped (the client never shows it). */
static pqcoap_err check_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                     const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_sign_client *c = ctx;
    cl_state *st = obs_state;
    if (st->version != 2 || !c->pinned)
        return PQCOAP_ERR_STATE;
    pqcoap_verifier v = PQCOAP_VERIFIER_INIT;
    v.lookup = pinned_lookup;
    v.lookup_ctx = c;
    pqcoap_sig_req req = {{0}, st->seq};
    memcpy(req.kid, c->signer.kid, sizeof req.kid);
    pqcoap_sig_info info;
    const uint8_t *message = NULL;
    size_t len = 0;
    if (!pqcoap_msg_find_opt(wire, PQCOAP_OPT_PQ_SIG))
        return PQCOAP_ERR_UNAUTHENTICATED;
    pqcoap_err err = pqcoap_verify_v2_notification(&v, wire, &req, st->notified, st->notif_seq,
                                                   &info, &message, &len);
    if (err == PQCOAP_ERR_UNKNOWN_PEER)
        err = PQCOAP_ERR_AUTH; /* signed, but not by the pinned key */
    if (err != PQCOAP_OK)
        return err;
    st->notified = 1;
    st->notif_seq = info.seq;
    return pqcoap_sign_unwrap(wire, message, len, plain);
}

pqcoap_err pqcoap_sign_client_open(const char *uri, const pqcoap_identity *id,
                                   const pqcoap_store *store,
                                   const pqcoap_sign_client_config *cfg,
                                   pqcoap_sign_client **out, char *msg, size_t msg_cap)
{
    pqcoap_sign_client_config defaults = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    if (msg && msg_cap)
        msg[0] = '\0';
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!uri || !id || (cfg->version != 1 && cfg->version != 2) || cfg->seq_block == 0 ||
        (cfg->version == 2 && (!store || !store->ops))) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "invalid signing client settings (identity, version 1 or 2, "
                                   "a store for v2)");
        return PQCOAP_ERR_ARG;
    }
    /* PROTOCOL.md "Key usage": v1 signs with a sign-v1 key only, v2 never with one. */
    pqcoap_err err = pqcoap_sign_key_check(&id->pub, cfg->version);
    if (err != PQCOAP_OK) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "%s", err == PQCOAP_ERR_KEY_USAGE ? USAGE_MSG[cfg->version - 1]
                                                                     : ALG_MSG[cfg->version - 1]);
        return err;
    }
    pqcoap_sign_client *c = calloc(1, sizeof *c);
    if (!c)
        return PQCOAP_ERR_NOMEM;
    c->id = *id;
    c->version = cfg->version;
    err = pqcoap_signer_from_identity(&c->signer, &c->id, cfg->rng);
    if (err == PQCOAP_OK && store) {
        char name[PQCOAP_SIGN_NAME_LEN];
        pqcoap_sign_name(c->signer.kid, name);
        err = pqcoap_seq_counter_init(&c->counter, store, name, cfg->seq_block);
    }
    if (err != PQCOAP_OK) {
        if (msg && msg_cap)
            snprintf(msg, msg_cap, "cannot set up the signing identity: %s", pqcoap_strerror(err));
        pqcoap_sign_client_free(c);
        return err;
    }
    c->layer.ctx = c;
    c->layer.state_size = sizeof(cl_state);
    c->layer.overhead = PQCOAP_SIGN_OVERHEAD_MAX;
    c->layer.critical_opts = pqcoap_sign_critical_opts;
    c->layer.n_critical_opts = 1;
    c->layer.protect_request = protect_request;
    c->layer.check_response = check_response;
    /* PROTOCOL.md "Observe": v1 binds nothing, so a v1 client does not observe */
    if (cfg->version == 2)
        c->layer.check_notification = check_notification;
    pqcoap_client_config net = cfg->net;
    net.layer = &c->layer;
    err = pqcoap_client_open(uri, &net, &c->net, msg, msg_cap);
    if (err != PQCOAP_OK) {
        pqcoap_sign_client_free(c);
        return err;
    }
    *out = c;
    return PQCOAP_OK;
}

void pqcoap_sign_client_free(pqcoap_sign_client *c)
{
    if (!c)
        return;
    pqcoap_client_free(c->net);
    pqcoap_identity_wipe(&c->id);
    free(c);
}

pqcoap_err pqcoap_sign_client_pin(pqcoap_sign_client *c, const pqcoap_pubkey *server_pk)
{
    if (!c || !server_pk)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = pqcoap_sign_key_check(server_pk, c->version);
    if (err != PQCOAP_OK)
        return err;
    c->server = *server_pk;
    c->pinned = 1;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_sign_client_request(pqcoap_sign_client *c, const pqcoap_req *req,
                                      pqcoap_reply *reply)
{
    if (!c)
        return PQCOAP_ERR_ARG;
    c->err[0] = '\0';
    pqcoap_err err = pqcoap_client_request(c->net, req, reply);
    if (err == PQCOAP_OK)
        c->err[0] = '\0';
    return err;
}

/* A CON request of `method` on `path` with an optional body. */
static pqcoap_err simple_request(pqcoap_sign_client *c, uint8_t method, const char *path,
                                 const uint8_t *payload, size_t len, pqcoap_reply *reply)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    req.path = path;
    req.payload = payload;
    req.payload_len = len;
    return pqcoap_sign_client_request(c, &req, reply);
}

pqcoap_err pqcoap_sign_client_get(pqcoap_sign_client *c, const char *path, pqcoap_reply *reply)
{
    return simple_request(c, PQCOAP_GET, path, NULL, 0, reply);
}

pqcoap_err pqcoap_sign_client_post(pqcoap_sign_client *c, const char *path,
                                   const uint8_t *payload, size_t len, pqcoap_reply *reply)
{
    return simple_request(c, PQCOAP_POST, path, payload, len, reply);
}

pqcoap_err pqcoap_sign_client_put(pqcoap_sign_client *c, const char *path,
                                  const uint8_t *payload, size_t len, pqcoap_reply *reply)
{
    return simple_request(c, PQCOAP_PUT, path, payload, len, reply);
}

pqcoap_err pqcoap_sign_client_delete(pqcoap_sign_client *c, const char *path,
                                     pqcoap_reply *reply)
{
    return simple_request(c, PQCOAP_DELETE, path, NULL, 0, reply);
}

pqcoap_err pqcoap_sign_client_fetch(pqcoap_sign_client *c, const char *path,
                                    const uint8_t *payload, size_t len, pqcoap_reply *reply)
{
    return simple_request(c, PQCOAP_FETCH, path, payload, len, reply);
}

pqcoap_client *pqcoap_sign_client_net(pqcoap_sign_client *c)
{
    return c ? c->net : NULL;
}

const char *pqcoap_sign_client_last_error(const pqcoap_sign_client *c)
{
    if (!c)
        return "";
    return c->err[0] ? c->err : pqcoap_client_last_error(c->net);
}

const pqcoap_layer *pqcoap_sign_client_layer(const pqcoap_sign_client *c)
{
    return c ? &c->layer : NULL;
}
