/* Mode B session client on the CoAP client (session_endpoint.h): the handshake as a plain
 * POST on pqc/session/init, a layer protecting every other request, proactive re-handshakes,
 * and the "unknown session" rule of PROTOCOL.md "Errors". */
#include "pqcoap/session_endpoint.h"
#include "pqcoap/keys.h"
#include "net/client_internal.h"
#include "net/observe_internal.h"
#include "net/net_internal.h"
#include "core/session_internal.h"

#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_LEN 256
/** Store counter of session_seq (one per store: strictly increasing for every initiator). */
#define SEQ_COUNTER "mode-b session_seq"

/* Per-exchange state of the layer. */
typedef struct cl_state {
    int protected;
    uint64_t generation;            /* the session the request was protected in */
    uint64_t request_n;
    int notified;                   /* an observation: a notification was accepted, */
    uint64_t notif_n;               /* the newest one with this n */
} cl_state;

struct pqcoap_session_client {
    pqcoap_client *cl;
    pqcoap_layer layer;
    char id[PQCOAP_ID_MAX + 1];
    char server_id[PQCOAP_ID_MAX + 1];
    uint8_t sk[PQCOAP_SESSION_SK_MAX];
    size_t sk_len;
    pqcoap_expanded_key ek;         /* sk expanded once, where its algorithm has that form */
    pqcoap_key_usage usage;
    uint8_t server_pk[PQCOAP_PK_MAX];
    size_t server_pk_len;
    pqcoap_key_usage server_usage;
    uint8_t suite;
    const char *alg;                /* static name of the own key's algorithm */
    uint16_t window;
    pqcoap_seq_counter seq;

    pqcoap_session sess;
    uint64_t generation;            /* changes with every new or dropped session */
    uint64_t session_seq;
    uint64_t lifetime_ms;           /* of the current session, as the client saw it */
    int out_of_step;                /* the server answered "unknown session", or beyond the
                                       window: the session needs a new handshake */
    int hs_active;                  /* the request in flight is the handshake */
    pqcoap_session_client_info info;
    pqcoap_initiator st;
    uint8_t init[PQCOAP_INIT_MAX];
    char err[MSG_LEN];
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void drop_session(pqcoap_session_client *sc)
{
    pqcoap_session_wipe(&sc->sess);
    sc->session_seq = 0;
    sc->out_of_step = 0;
    sc->generation++;
}

/* ---- the layer ---------------------------------------------------------------------- */

static pqcoap_err protect_request(void *ctx, void *state, const pqcoap_exchange *x,
                                  const pqcoap_msg *req, pqcoap_msgbuf *wire)
{
    (void)x;
    pqcoap_session_client *sc = ctx;
    cl_state *st = state;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(wire, req));
    if (sc->hs_active) {
        /* PROTOCOL.md "Handshake": INIT travels unprotected */
        return pqcoap_msgbuf_set_payload(wire, req->payload, req->payload_len);
    }
    PQCOAP_TRY(pqcoap_session_protect_request(&sc->sess, req, pqcoap_net_now_ms(),
                                              wire->payload, wire->payload_cap,
                                              &wire->payload_len, &st->request_n));
    st->protected = 1;
    st->generation = sc->generation;
    return PQCOAP_OK;
}

static pqcoap_err check_response(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_session_client *sc = ctx;
    const cl_state *st = state;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(plain, wire));
    if (!st->protected) {
        return pqcoap_msgbuf_set_payload(plain, wire->payload, wire->payload_len);
    }
    if (st->generation != sc->generation || !sc->sess.live)
        return PQCOAP_ERR_STATE; /* the session it was sent in is gone */
    pqcoap_err err;
    if (wire->payload_len && wire->payload[0] == PQCOAP_TYPE_RESPONSE) {
        err = pqcoap_session_unprotect_response(&sc->sess, st->request_n, wire,
                                                pqcoap_net_now_ms(), plain->payload,
                                                plain->payload_cap, &plain->payload_len);
        /* PROTOCOL.md "Errors": an answer to our request beyond the window means the
         * server sent more than W messages we never got; no later one opens either */
        if (err == PQCOAP_ERR_REPLAY && pqcoap_session_beyond_window(&sc->sess, wire))
            sc->out_of_step = 1;
        return err;
    }
    /* PROTOCOL.md "Errors": the listed session errors come unprotected; anything else
     * (an application result, a success) without protection is not the server's word */
    err = pqcoap_error_from_coap(wire->code, wire->payload, wire->payload_len);
    if (err == PQCOAP_ERR_UNKNOWN_SESSION)
        sc->out_of_step = 1;
    return err;
}

/* PROTOCOL.md "Observe": a notification of the observation registered by request_n, in
 * the session that request went in, newer than every notification accepted for it. An
 * unprotected answer (even a session error of PROTOCOL.md "Errors") is not the server's
 * word and is dropped. */
static pqcoap_err check_notification(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                     const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    (void)x;
    pqcoap_session_client *sc = ctx;
    cl_state *st = obs_state;
    if (!st->protected || st->generation != sc->generation || !sc->sess.live)
        return PQCOAP_ERR_STATE; /* the session it was registered in is gone */
    if (!wire->payload_len || wire->payload[0] != PQCOAP_TYPE_RESPONSE)
        return PQCOAP_ERR_UNAUTHENTICATED;
    PQCOAP_TRY(pqcoap_msgbuf_copy_opts(plain, wire));
    uint64_t n;
    PQCOAP_TRY(pqcoap_session_unprotect_notification(&sc->sess, st->request_n, st->notified,
                                                     st->notif_n, wire, pqcoap_net_now_ms(),
                                                     plain->payload, plain->payload_cap,
                                                     &plain->payload_len, &n));
    st->notified = 1;
    st->notif_n = n;
    return PQCOAP_OK;
}

/* ---- handshake ---------------------------------------------------------------------- */

static pqcoap_err handshake_exchange(pqcoap_session_client *sc, uint64_t seq)
{
    const pqcoap_initiator_cfg icfg = {
        sc->id, sc->sk, sc->sk_len, sc->usage, sc->server_id, sc->server_pk,
        sc->server_pk_len, sc->server_usage, sc->suite, sc->window, sc->alg, NULL, 0, NULL,
        &sc->ek,
    };
    uint64_t t0 = mono_us();
    size_t init_len = 0;
    pqcoap_err err = pqcoap_initiator_start(&sc->st, &icfg, seq, wall_ms(), NULL, sc->init,
                                            sizeof sc->init, &init_len);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(sc->err, sizeof sc->err, "cannot make the INIT: %s", pqcoap_strerror(err));
        return err;
    }
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_POST;
    req.path = PQCOAP_SESSION_INIT_PATH;
    req.content_format = PQCOAP_SESSION_INIT_FORMAT;
    req.payload = sc->init;
    req.payload_len = init_len;
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    /* no re-registration goes out while the handshake pumps the client: protect_request
     * would send it as the INIT, unprotected */
    sc->hs_active = 1;
    sc->cl->layer_busy = 1;
    err = pqcoap_client_request(sc->cl, &req, &reply);
    sc->cl->layer_busy = 0;
    sc->hs_active = 0;
    pqcoap_client_last_bytes(sc->cl, &sc->info.handshake_bytes_sent,
                             &sc->info.handshake_bytes_received);
    const pqcoap_msg *m = &reply.msg;
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(sc->err, sizeof sc->err, "handshake: %s", pqcoap_client_last_error(sc->cl));
    } else if ((m->code >> 5) != 2) {
        err = pqcoap_error_from_coap(m->code, m->payload, m->payload_len);
        pqcoap_net_msg(sc->err, sizeof sc->err, "%s the handshake (%u.%02u): %s%s",
                       err == PQCOAP_ERR_UNAUTHENTICATED ? "unauthenticated answer to"
                                                         : "server refused",
                       m->code >> 5, m->code & 31, pqcoap_strerror(err),
                       err == PQCOAP_ERR_UNSUPPORTED ? " (no suite offered that the server "
                       "holds an identity for, or another protocol version)" : "");
    } else {
        err = pqcoap_initiator_finish(&sc->st, m->payload, m->payload_len, pqcoap_net_now_ms(),
                                      &sc->sess);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(sc->err, sizeof sc->err, "RESP refused%s: %s",
                           err == PQCOAP_ERR_AUTH ? " (not signed by the pinned server key)" : "",
                           pqcoap_strerror(err));
    }
    pqcoap_reply_free(&reply);
    pqcoap_initiator_wipe(&sc->st);
    if (err == PQCOAP_OK)
        sc->info.handshake_us = mono_us() - t0;
    return err;
}

pqcoap_err pqcoap_session_client_connect(pqcoap_session_client *sc)
{
    if (!sc)
        return PQCOAP_ERR_ARG;
    drop_session(sc);
    uint64_t seq;
    pqcoap_err err = pqcoap_seq_next(&sc->seq, &seq);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(sc->err, sizeof sc->err, "cannot reserve a session_seq in the store: %s",
                       pqcoap_strerror(err));
        return err;
    }
    err = handshake_exchange(sc, seq);
    if (err != PQCOAP_OK) {
        drop_session(sc);
        return err;
    }
    uint64_t now = pqcoap_net_now_ms();
    sc->session_seq = seq;
    sc->lifetime_ms = sc->sess.expires_ms > now ? sc->sess.expires_ms - now : 0;
    sc->info.handshakes++;
    return PQCOAP_OK;
}

/* 1 if the session can carry the next request without a re-handshake first: it is live and
 * not in the last eighth of its lifetime or of its max_msgs (PROTOCOL.md: the initiator
 * re-handshakes before the session ends). */
static int session_fresh(const pqcoap_session_client *sc, uint64_t now)
{
    const pqcoap_session *s = &sc->sess;
    if (sc->out_of_step || pqcoap_session_usable(s, now) != PQCOAP_OK)
        return 0;
    return s->expires_ms - now > sc->lifetime_ms / 8
        && s->max_msgs - s->send.n > s->max_msgs / 8;
}

/* The observations' upkeep (client_internal.h): the session is over, near its end or out of
 * step with the server's, and a new handshake makes a new one. */
static int stale(void *ctx)
{
    return !session_fresh(ctx, pqcoap_net_now_ms());
}

static pqcoap_err renew(void *ctx)
{
    pqcoap_session_client *sc = ctx;
    pqcoap_err err = pqcoap_session_client_connect(sc);
    if (err != PQCOAP_OK)
        pqcoap_net_msg(sc->cl->err, sizeof sc->cl->err, "%s", sc->err);
    return err;
}

/* ---- requests ----------------------------------------------------------------------- */

static int idempotent(uint8_t method)
{
    /* RFC 7252 section 5.1 and RFC 8132: GET, PUT, DELETE, FETCH are idempotent */
    return method == PQCOAP_GET || method == PQCOAP_PUT || method == PQCOAP_DELETE ||
           method == PQCOAP_FETCH;
}

/* 1 if a request failed with `err` because the session is out of step with the server's. */
static int needs_new_session(const pqcoap_session_client *sc, pqcoap_err err)
{
    return sc->out_of_step && (err == PQCOAP_ERR_UNKNOWN_SESSION || err == PQCOAP_ERR_REPLAY);
}

static pqcoap_err send_protected(pqcoap_session_client *sc, const pqcoap_req *req,
                                 pqcoap_reply *reply)
{
    pqcoap_err err = pqcoap_client_request(sc->cl, req, reply);
    pqcoap_client_last_bytes(sc->cl, &sc->info.last_bytes_sent, &sc->info.last_bytes_received);
    if (err != PQCOAP_OK)
        pqcoap_net_msg(sc->err, sizeof sc->err, "%s", pqcoap_client_last_error(sc->cl));
    return err;
}

pqcoap_err pqcoap_session_client_request(pqcoap_session_client *sc, const pqcoap_req *req,
                                         pqcoap_reply *reply)
{
    if (!sc || !req || !reply || req->no_layer)
        return PQCOAP_ERR_ARG;
    memset(reply, 0, sizeof *reply);
    sc->err[0] = '\0';
    if (!session_fresh(sc, pqcoap_net_now_ms()))
        PQCOAP_TRY(pqcoap_session_client_connect(sc));
    pqcoap_err err = send_protected(sc, req, reply);
    if (!needs_new_session(sc, err))
        return err;
    /* PROTOCOL.md "Errors": "unknown session" or an answer beyond the window -> re-handshake
     * once; repeat an idempotent request once; never repeat a POST/PATCH silently */
    pqcoap_reply_free(reply);
    PQCOAP_TRY(pqcoap_session_client_connect(sc));
    if (!idempotent(req->method)) {
        pqcoap_net_msg(sc->err, sizeof sc->err, "session lost: the server no longer knew the "
                       "session, or its answer lay beyond the window; the request was not "
                       "repeated (it may have been executed)");
        return PQCOAP_ERR_SESSION_LOST;
    }
    return send_protected(sc, req, reply);
}

/* ---- open / free / info ------------------------------------------------------------- */

/* The suite (cfg->suite, or that of the server key's algorithm, told by its length) and the
 * own key's algorithm (cfg->alg, or the suite's). */
static pqcoap_err choose_algs(const pqcoap_session_client_config *cfg,
                              const pqcoap_suite **suite, const pqcoap_sig_alg **own)
{
    *suite = NULL;
    for (size_t i = 0; !cfg->suite && pqcoap_suite_at(i); i++)
        if (pqcoap_suite_at(i)->sig->pk_len == cfg->server_pk_len)
            *suite = pqcoap_suite_at(i);
    if (cfg->suite)
        *suite = pqcoap_suite_find(cfg->suite);
    *own = cfg->alg ? pqcoap_sig_alg_by_name((const uint8_t *)cfg->alg, strlen(cfg->alg))
                    : *suite ? (*suite)->sig : NULL;
    return *suite && *own ? PQCOAP_OK : PQCOAP_ERR_UNSUPPORTED;
}

static pqcoap_err check_config(const pqcoap_session_client_config *cfg, char *msg,
                               size_t msg_cap)
{
    const pqcoap_suite *suite;
    const pqcoap_sig_alg *own;
    if (!cfg->server_pk || choose_algs(cfg, &suite, &own) != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "no suite for this server key, or an unknown suite or "
                       "key algorithm");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    /* a suite names the server's signature algorithm (PROTOCOL.md "Algorithms") */
    if (cfg->server_pk_len != suite->sig->pk_len) {
        pqcoap_net_msg(msg, msg_cap, "suite %s needs the server's %s key; the pinned server "
                       "key is not %s", suite->name, suite->sig->name, suite->sig->name);
        return PQCOAP_ERR_UNSUPPORTED;
    }
    if (!cfg->id || !cfg->server_id || !cfg->sk || !cfg->store ||
        cfg->coap.layer || cfg->sk_len != own->sk_len || cfg->window == 0 ||
        cfg->window > PQCOAP_WINDOW_MAX || cfg->seq_block == 0 ||
        !pqcoap_id_valid((const uint8_t *)cfg->id, strnlen(cfg->id, PQCOAP_ID_MAX + 1)) ||
        !pqcoap_id_valid((const uint8_t *)cfg->server_id,
                         strnlen(cfg->server_id, PQCOAP_ID_MAX + 1)))
        return PQCOAP_ERR_ARG;
    if (cfg->usage != PQCOAP_USAGE_GENERAL || cfg->server_usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_session_client_open(const char *uri, const pqcoap_session_client_config *cfg,
                                      pqcoap_session_client **out, char *msg, size_t msg_cap)
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!uri || !cfg || !out) {
        pqcoap_net_msg(msg, msg_cap, "NULL argument");
        return PQCOAP_ERR_ARG;
    }
    *out = NULL;
    pqcoap_err err = check_config(cfg, msg, msg_cap);
    if (err == PQCOAP_ERR_UNSUPPORTED)
        return err;
    if (err == PQCOAP_ERR_KEY_USAGE) {
        pqcoap_net_msg(msg, msg_cap, "a key made for sign-v1 cannot be used in a session "
                       "(own key or pinned server key)");
        return err;
    }
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "invalid session client settings (suite, ids, key "
                       "lengths, window, store, seq_block or a coap.layer)");
        return err;
    }
    pqcoap_session_client *sc = calloc(1, sizeof *sc);
    if (!sc) {
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    memcpy(sc->id, cfg->id, strlen(cfg->id));
    memcpy(sc->server_id, cfg->server_id, strlen(cfg->server_id));
    memcpy(sc->sk, cfg->sk, cfg->sk_len);
    sc->sk_len = cfg->sk_len;
    sc->usage = cfg->usage;
    memcpy(sc->server_pk, cfg->server_pk, cfg->server_pk_len);
    sc->server_pk_len = cfg->server_pk_len;
    sc->server_usage = cfg->server_usage;
    const pqcoap_suite *suite;
    const pqcoap_sig_alg *own;
    (void)choose_algs(cfg, &suite, &own);
    sc->suite = suite->id;
    sc->alg = own->name;
    sc->window = cfg->window;
    sc->layer.ctx = sc;
    sc->layer.state_size = sizeof(cl_state);
    sc->layer.overhead = PQCOAP_PROTECTED_REQ_OVERHEAD_MAX;
    sc->layer.protect_request = protect_request;
    sc->layer.check_response = check_response;
    sc->layer.check_notification = check_notification;
    pqcoap_client_config ccfg = cfg->coap;
    ccfg.layer = &sc->layer;
    err = pqcoap_sig_expand(own, sc->sk, &sc->ek); /* once, for every handshake */
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "the own secret key is not a %s key", own->name);
    } else {
        err = pqcoap_seq_counter_init(&sc->seq, cfg->store, SEQ_COUNTER, cfg->seq_block);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "invalid store");
        else
            err = pqcoap_client_open(uri, &ccfg, &sc->cl, msg, msg_cap);
    }
    if (err == PQCOAP_OK) {
        sc->cl->stale = stale;
        sc->cl->renew = renew;
        sc->cl->renew_ctx = sc;
    }
    if (err != PQCOAP_OK) {
        pqcoap_session_client_free(sc);
        return err;
    }
    *out = sc;
    return PQCOAP_OK;
}

void pqcoap_session_client_free(pqcoap_session_client *sc)
{
    if (!sc)
        return;
    pqcoap_client_free(sc->cl);
    pqcoap_wipe(sc, sizeof *sc); /* identity key, session keys, initiator state */
    free(sc);
}

pqcoap_err pqcoap_session_client_info_get(const pqcoap_session_client *sc,
                                          pqcoap_session_client_info *out)
{
    if (!sc || !out)
        return PQCOAP_ERR_ARG;
    *out = sc->info;
    uint64_t now = pqcoap_net_now_ms();
    const pqcoap_session *s = &sc->sess;
    out->live = s->live;
    out->sid = s->live ? s->sid : 0;
    out->suite = s->live ? s->suite : 0;
    out->session_seq = s->live ? sc->session_seq : 0;
    out->sent = s->live ? s->send.n : 0;
    out->max_msgs = s->live ? s->max_msgs : 0;
    out->expires_in_ms = s->live && s->expires_ms > now ? s->expires_ms - now : 0;
    return PQCOAP_OK;
}

const char *pqcoap_session_client_last_error(const pqcoap_session_client *sc)
{
    return sc ? sc->err : "";
}

const pqcoap_layer *pqcoap_session_client_layer(const pqcoap_session_client *sc)
{
    return sc ? &sc->layer : NULL;
}

/* ---- Observe (RFC 7641) -------------------------------------------------------------- */

pqcoap_err pqcoap_session_client_observe(pqcoap_session_client *sc, const pqcoap_req *req,
                                         pqcoap_observe_fn fn, void *user, uint32_t *id)
{
    if (!sc)
        return PQCOAP_ERR_ARG;
    sc->err[0] = '\0';
    int can = sc->layer.check_notification != NULL; /* else refused before a handshake */
    pqcoap_err err = PQCOAP_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        /* a registration is a GET or FETCH: repeated once after "unknown session" or an
         * answer beyond the window */
        if (can && (attempt || !session_fresh(sc, pqcoap_net_now_ms())))
            PQCOAP_TRY(pqcoap_session_client_connect(sc));
        err = pqcoap_client_observe(sc->cl, req, fn, user, id);
        if (!needs_new_session(sc, err))
            break;
    }
    if (err != PQCOAP_OK)
        pqcoap_net_msg(sc->err, sizeof sc->err, "%s", pqcoap_client_last_error(sc->cl));
    return err;
}

pqcoap_err pqcoap_session_client_observe_cancel(pqcoap_session_client *sc, uint32_t id)
{
    return sc ? pqcoap_client_observe_cancel(sc->cl, id) : PQCOAP_ERR_ARG;
}

pqcoap_client *pqcoap_session_client_net(pqcoap_session_client *sc)
{
    return sc ? sc->cl : NULL;
}
