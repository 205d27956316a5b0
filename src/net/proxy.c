/* The device and gateway proxies (proxy.h): a CoAP server whose default handler copies each
 * request into a bounded queue and defers its response, and a forwarding thread that sends
 * the requests on through the upstream client (plain, Mode A or Mode B), one at a time, and
 * completes each deferred response with the verified answer or an error of its own. */
#include "pqcoap/proxy.h"
#include "pqcoap/client.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign_endpoint.h"
#include "net/net_internal.h"
#include "common/buf_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_TIMEOUT_MS 15000
#define GATEWAY_TIMEOUT_MS 5000
#define PREFIX_MAX 256
#define DIAG_MAX 160

/* A request waiting for the forwarding thread. */
typedef struct job {
    uint64_t ticket;
    uint8_t method;
    char *path;                 /* "prefix/segment/...?query&...", percent-encoded */
    pqcoap_reply req;           /* the options to forward (no Uri-Path, Uri-Query) and body */
    struct job *next;
} job;

struct pqcoap_proxy {
    int gateway;
    pqcoap_proxy_mode mode;
    int forward_identity;
    size_t max_in_flight;
    uint32_t busy_max_age_s;    /* Max-Age of a 5.03: a place frees within one exchange */
    const char *upstream_name;  /* "gateway" or "backend", for diagnostics */
    char prefix[PREFIX_MAX];    /* path of `to`, percent-encoded, no '/' at either end */
    pqcoap_proxy_log_fn log;
    void *log_arg;

    pqcoap_server *srv;         /* the listener (owned by sess_srv in a Mode B gateway) */
    pqcoap_sign_server *sign_srv;
    pqcoap_session_server *sess_srv;
    pqcoap_client *client;      /* upstream: plain */
    pqcoap_sign_client *sign;   /* upstream: Mode A */
    pqcoap_session_client *session; /* upstream: Mode B */
    pqcoap_oscore_client *oscore;   /* upstream: OSCORE */
    pqcoap_oscore_server *oscore_srv;

    pthread_mutex_t lock;       /* guards the queue */
    pthread_cond_t wake;
    job *head, *tail;
    size_t n_jobs;              /* queued and being forwarded */
    int stopping;
    pthread_t thread;
    int thread_started;
};

/* ---- options ------------------------------------------------------------------------ */

/* RFC 7252 section 5.4.2: an option whose number has bit 1 set is unsafe to forward. */
static int unsafe(uint16_t number)
{
    return (number & 2) != 0;
}

/* The options this proxy knows (RFC 7252 section 5.10, RFC 7641, RFC 7959, RFC 7967,
 * RFC 9175, proxy.h); an unknown unsafe one in a request gets 5.02 (RFC 7252 section
 * 5.7.1). */
static int known(uint16_t number)
{
    static const uint16_t numbers[] = {
        1, PQCOAP_OPT_URI_HOST, PQCOAP_OPT_ETAG, 5, PQCOAP_OPT_OBSERVE, PQCOAP_OPT_URI_PORT,
        8, PQCOAP_OPT_URI_PATH, PQCOAP_OPT_CONTENT_FORMAT, PQCOAP_OPT_MAX_AGE,
        PQCOAP_OPT_URI_QUERY, PQCOAP_OPT_ACCEPT, 20, PQCOAP_OPT_BLOCK2, PQCOAP_OPT_BLOCK1,
        PQCOAP_OPT_SIZE2, PQCOAP_OPT_PROXY_URI, PQCOAP_OPT_PROXY_SCHEME, PQCOAP_OPT_SIZE1,
        258, PQCOAP_OPT_REQUEST_TAG, PQCOAP_OPT_PEER_ID};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (numbers[i] == number)
            return 1;
    return 0;
}

/* Options of a request that are this hop's own (RFC 7252 section 5.7): the address of the
 * next hop, the path (it travels in the request's path string), Observe (not relayed: the
 * application gets a plain answer, RFC 7641 section 4.1) and No-Response (RFC 7967: the
 * proxies always answer). */
static int request_hop_opt(uint16_t number)
{
    return number == PQCOAP_OPT_URI_HOST || number == PQCOAP_OPT_URI_PORT ||
           number == PQCOAP_OPT_URI_PATH || number == PQCOAP_OPT_URI_QUERY ||
           number == PQCOAP_OPT_OBSERVE || number == 258;
}

/* Options of an answer that are this hop's own: Observe, and PQ-Sig (a gateway signs its
 * own answers; a backend's would make signing fail). */
static int response_hop_opt(uint16_t number)
{
    return number == PQCOAP_OPT_OBSERVE || number == PQCOAP_OPT_PQ_SIG;
}

/* ---- the request's path ------------------------------------------------------------- */

/* Appends value[0..len) percent-encoded (RFC 3986 section 2.1: all but letters, digits,
 * '-', '_' and '~', so that '/', '?', '&', '#' and dot segments survive libcoap's
 * splitting) at out + *n. */
static void encode(char *out, size_t *n, const uint8_t *value, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        uint8_t c = value[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '~') {
            out[(*n)++] = (char)c;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
}

/* The path string of `req` for pqcoap_req.path: the prefix, then the Uri-Path segments and
 * the Uri-Query items, percent-encoded. malloc'd; NULL when memory is short. */
static char *path_string(const pqcoap_proxy *p, const pqcoap_msg *req)
{
    size_t cap = strlen(p->prefix) + 2;
    for (size_t i = 0; i < req->n_opts; i++)
        cap += 3 * req->opts[i].len + 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t n = strlen(p->prefix);
    memcpy(s, p->prefix, n);
    int first_query = 1;
    for (size_t i = 0; i < req->n_opts; i++) {
        const pqcoap_opt *o = &req->opts[i];
        if (o->number == PQCOAP_OPT_URI_PATH) {
            if (n)
                s[n++] = '/';
            encode(s, &n, o->value, o->len);
        } else if (o->number == PQCOAP_OPT_URI_QUERY) {
            s[n++] = first_query ? '?' : '&';
            first_query = 0;
            encode(s, &n, o->value, o->len);
        }
    }
    s[n] = '\0';
    return s;
}

/* Takes the path of `to` = coap://authority[/path] as the prefix; a query is refused. */
static pqcoap_err set_prefix(pqcoap_proxy *p, const char *to, char *msg, size_t cap)
{
    const char *auth = strstr(to, "://");
    const char *path = auth ? strchr(auth + 3, '/') : NULL;
    if (auth && strchr(auth, '?')) {
        pqcoap_net_msg(msg, cap, "\"%s\": the upstream URI takes no query", to);
        return PQCOAP_ERR_BAD_URI;
    }
    while (path && *path == '/')
        path++;
    size_t len = path ? strlen(path) : 0;
    while (len && path[len - 1] == '/')
        len--;
    if (len >= sizeof p->prefix) {
        pqcoap_net_msg(msg, cap, "\"%s\": path too long", to);
        return PQCOAP_ERR_BAD_URI;
    }
    if (len)
        memcpy(p->prefix, path, len);
    p->prefix[len] = '\0';
    return PQCOAP_OK;
}

/* ---- the listener's handler (I/O thread) -------------------------------------------- */

static void job_free(job *j)
{
    if (!j)
        return;
    free(j->path);
    pqcoap_reply_free(&j->req);
    free(j);
}

/* Copies what the forwarding thread needs of `req`: method, path string, the options to
 * forward (at a gateway without any PQCOAP_OPT_PEER_ID a device sent, with the
 * authenticated one if forward_identity is set) and the body. */
static job *make_job(const pqcoap_proxy *p, pqcoap_server_req *rq, const pqcoap_msg *req)
{
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS + 1];
    uint8_t vals[PQCOAP_NET_OPT_VALS];
    pqcoap_msgbuf b;
    pqcoap_msgbuf_init(&b, opts, PQCOAP_NET_MAX_OPTS + 1, vals, sizeof vals, NULL, 0);
    pqcoap_err err = PQCOAP_OK;
    for (size_t i = 0; i < req->n_opts && err == PQCOAP_OK; i++) {
        const pqcoap_opt *o = &req->opts[i];
        if (!request_hop_opt(o->number) && !(p->gateway && o->number == PQCOAP_OPT_PEER_ID))
            err = pqcoap_msgbuf_add_opt(&b, o->number, o->value, o->len);
    }
    const char *peer = pqcoap_server_req_peer(rq);
    if (err == PQCOAP_OK && p->forward_identity && peer[0])
        err = pqcoap_msgbuf_add_opt(&b, PQCOAP_OPT_PEER_ID, (const uint8_t *)peer, strlen(peer));
    pqcoap_msg m;
    pqcoap_msgbuf_view(&b, &m);
    m.payload = req->payload;
    m.payload_len = req->payload_len;
    job *j = err == PQCOAP_OK ? calloc(1, sizeof *j) : NULL;
    if (!j)
        return NULL;
    j->method = req->code;
    j->path = path_string(p, req);
    if (!j->path || pqcoap_reply_copy(&j->req, &m) != PQCOAP_OK) {
        job_free(j);
        return NULL;
    }
    return j;
}

static pqcoap_err on_request(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                             pqcoap_msgbuf *resp)
{
    pqcoap_proxy *p = arg;
    char diag[64];
    for (size_t i = 0; i < req->n_opts; i++) {
        uint16_t number = req->opts[i].number;
        if (number == PQCOAP_OPT_PROXY_URI || number == PQCOAP_OPT_PROXY_SCHEME) {
            /* RFC 7252 section 5.7.2: this is not a forward-proxy for other URIs */
            pqcoap_msgbuf_error(resp, PQCOAP_CODE(5, 5), "proxying not supported");
            return PQCOAP_OK;
        }
        if (unsafe(number) && !known(number)) {
            snprintf(diag, sizeof diag, "unsafe option %u not forwarded", number);
            pqcoap_msgbuf_error(resp, PQCOAP_CODE(5, 2), diag);
            return PQCOAP_OK;
        }
    }
    pthread_mutex_lock(&p->lock);
    int full = p->n_jobs >= p->max_in_flight;
    p->n_jobs += !full;
    pthread_mutex_unlock(&p->lock);
    if (full) {
        pqcoap_msgbuf_error(resp, PQCOAP_CODE(5, 3), "too many requests in flight");
        return pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, p->busy_max_age_s);
    }
    job *j = make_job(p, rq, req);
    pqcoap_err err = j ? pqcoap_server_defer(rq, &j->ticket) : PQCOAP_ERR_NOMEM;
    pthread_mutex_lock(&p->lock);
    if (err == PQCOAP_OK) {
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->wake);
    } else {
        p->n_jobs--;
    }
    pthread_mutex_unlock(&p->lock);
    if (err != PQCOAP_OK)
        job_free(j);
    return err;
}

/* ---- forwarding (forwarding thread) ------------------------------------------------- */

static void logf_line(const pqcoap_proxy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_line(const pqcoap_proxy *p, const char *fmt, ...)
{
    if (!p->log)
        return;
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->log_arg, line);
}

static const char *method_name(uint8_t code)
{
    static const char *const names[] = {"?", "GET", "POST", "PUT", "DELETE", "FETCH", "PATCH",
                                        "iPATCH"};
    return code < sizeof names / sizeof names[0] ? names[code] : "?";
}

/* Sends `r` through the upstream client; *why is its reason of a failure. */
static pqcoap_err upstream(pqcoap_proxy *p, const pqcoap_req *r, pqcoap_reply *reply,
                           const char **why)
{
    pqcoap_err err;
    if (p->session) {
        err = pqcoap_session_client_request(p->session, r, reply);
        *why = pqcoap_session_client_last_error(p->session);
    } else if (p->sign) {
        err = pqcoap_sign_client_request(p->sign, r, reply);
        *why = pqcoap_sign_client_last_error(p->sign);
    } else if (p->oscore) {
        err = pqcoap_oscore_client_request(p->oscore, r, reply);
        *why = pqcoap_oscore_client_last_error(p->oscore);
    } else {
        err = pqcoap_client_request(p->client, r, reply);
        *why = pqcoap_client_last_error(p->client);
    }
    if (!(*why)[0])
        *why = pqcoap_strerror(err);
    return err;
}

/* The code a failed forward gives (RFC 7252 sections 5.7.1, 5.9.3): no answer in time
 * 5.04, a busy upstream 5.03, anything else (Reset, refused or failed protection, a
 * malformed or oversized answer) 5.02. */
static uint8_t failure_code(pqcoap_err err)
{
    if (err == PQCOAP_ERR_TIMEOUT)
        return PQCOAP_CODE(5, 4);
    if (err == PQCOAP_ERR_BUSY)
        return PQCOAP_CODE(5, 3);
    return PQCOAP_CODE(5, 2);
}

/* Forwards job j and completes its deferred response. */
static void forward(pqcoap_proxy *p, const job *j)
{
    pqcoap_req r = PQCOAP_REQ_INIT;
    r.method = j->method;
    r.path = j->path;
    r.opts = j->req.msg.opts;
    r.n_opts = j->req.msg.n_opts;
    r.payload = j->req.msg.payload;
    r.payload_len = j->req.msg.payload_len;
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    const char *why = "";
    pqcoap_err err = upstream(p, &r, &reply, &why);

    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    uint8_t vals[PQCOAP_NET_OPT_VALS];
    pqcoap_msgbuf b;
    pqcoap_msgbuf_init(&b, opts, PQCOAP_NET_MAX_OPTS, vals, sizeof vals, NULL, 0);
    char diag[DIAG_MAX];
    const uint8_t *body = reply.msg.payload;
    size_t body_len = reply.msg.payload_len;
    if (err == PQCOAP_OK) {
        /* the verified answer: code, end-to-end options, body */
        b.code = reply.msg.code;
        for (size_t i = 0; i < reply.msg.n_opts && err == PQCOAP_OK; i++) {
            const pqcoap_opt *o = &reply.msg.opts[i];
            if (!response_hop_opt(o->number))
                err = pqcoap_msgbuf_add_opt(&b, o->number, o->value, o->len);
        }
        if (err != PQCOAP_OK)
            why = "answer with more options than the proxy can carry";
    }
    if (err != PQCOAP_OK) {
        b.code = failure_code(err);
        pqcoap_msgbuf_reset(&b);
        snprintf(diag, sizeof diag, "%s: %s", p->upstream_name, why);
        body = (const uint8_t *)diag;
        body_len = strlen(diag);
        /* the proxy's own wait: a refusal of the upstream is not verified (PROTOCOL.md
         * "Errors"), so its Max-Age is not taken over */
        if (b.code == PQCOAP_CODE(5, 3))
            pqcoap_msgbuf_add_uint(&b, PQCOAP_OPT_MAX_AGE, p->busy_max_age_s);
        logf_line(p, "%s /%s -> %u.%02u: %s", method_name(j->method), j->path, b.code >> 5,
                  b.code & 31, diag);
    }
    pqcoap_msg m;
    pqcoap_msgbuf_view(&b, &m);
    m.payload = body;
    m.payload_len = body_len;
    /* the place frees before the answer leaves, so that an application that sends its next
     * request as soon as it has the answer never finds the queue full because of this one */
    pthread_mutex_lock(&p->lock);
    p->n_jobs--;
    pthread_mutex_unlock(&p->lock);
    if (pqcoap_server_complete(p->srv, j->ticket, &m) != PQCOAP_OK)
        logf_line(p, "%s /%s: cannot complete the answer", method_name(j->method), j->path);
    pqcoap_reply_free(&reply);
}

static void *forward_main(void *arg)
{
    pqcoap_proxy *p = arg;
    /* one session for every request, made before the first one needs it */
    if (p->session && pqcoap_session_client_connect(p->session) != PQCOAP_OK)
        logf_line(p, "no session with the gateway yet: %s",
                  pqcoap_session_client_last_error(p->session));
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->stopping && !p->head)
            pthread_cond_wait(&p->wake, &p->lock);
        job *j = p->stopping ? NULL : p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        if (!j)
            return NULL;
        forward(p, j);
        job_free(j);
    }
}

/* ---- set-up ------------------------------------------------------------------------- */

/* Suite 1 of Mode B signs with Falcon-512; Mode A v2 with any algorithm its layers take
 * (PROTOCOL.md Mode A v2 "Algorithms"), which they check. */
static int falcon512(const pqcoap_pubkey *pk)
{
    return pk && pk->pk_len == PQCOAP_SIGN_PK_LEN;
}

/* Checks what every proxy needs and fills the common part of p. */
static pqcoap_err proxy_new(const pqcoap_proxy_config *cfg, int gateway, pqcoap_proxy **out,
                            char *msg, size_t cap)
{
    pqcoap_net_msg(msg, cap, "%s", "");
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    int oscore = cfg && cfg->mode == PQCOAP_PROXY_OSCORE;
    int secured = cfg && cfg->mode != PQCOAP_PROXY_PLAIN && !oscore; /* signature keys */
    if (!cfg || !cfg->to || !cfg->addr || cfg->max_in_flight == 0 || cfg->max_body == 0 ||
        (cfg->mode != PQCOAP_PROXY_PLAIN && cfg->mode != PQCOAP_PROXY_SIGN &&
         cfg->mode != PQCOAP_PROXY_SESSION && !oscore) ||
        (oscore && (!cfg->oscore || !cfg->store || cfg->forward_identity)) ||
        (secured && (!cfg->identity || !cfg->store)) ||
        (secured && !gateway && !cfg->peer) ||
        (cfg->mode == PQCOAP_PROXY_SESSION && !cfg->id) ||
        (cfg->mode == PQCOAP_PROXY_SESSION && !gateway && !cfg->peer_id) ||
        (cfg->forward_identity && (!gateway || !secured))) {
        pqcoap_net_msg(msg, cap, "invalid proxy settings (upstream URI, address, limits, mode, "
                       "or the keys, ids, store or identity forwarding the mode needs)");
        return PQCOAP_ERR_ARG;
    }
    if (cfg->mode == PQCOAP_PROXY_SESSION &&
        (!falcon512(&cfg->identity->pub) || (!gateway && !falcon512(cfg->peer)))) {
        pqcoap_net_msg(msg, cap, "mode session needs falcon-512 keys");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    pqcoap_proxy *p = calloc(1, sizeof *p);
    if (!p) {
        pqcoap_net_msg(msg, cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->gateway = gateway;
    p->mode = cfg->mode;
    p->forward_identity = cfg->forward_identity;
    p->max_in_flight = cfg->max_in_flight;
    p->upstream_name = gateway ? "backend" : "gateway";
    p->log = cfg->log;
    p->log_arg = cfg->log_arg;
    *out = p;
    return set_prefix(p, cfg->to, msg, cap);
}

static uint32_t timeout_of(const pqcoap_proxy_config *cfg, int gateway)
{
    return cfg->timeout_ms ? cfg->timeout_ms : gateway ? GATEWAY_TIMEOUT_MS : DEVICE_TIMEOUT_MS;
}

/* The listener's CoAP settings. */
static pqcoap_server_config listener_config(const pqcoap_proxy_config *cfg)
{
    pqcoap_server_config s = PQCOAP_SERVER_CONFIG_INIT;
    s.addr = cfg->addr;
    s.port = cfg->port;
    s.max_body = cfg->max_body;
    s.log_level = cfg->log_level;
    s.ack_delay_ms = cfg->ack_delay_ms;
    return s;
}

/* The upstream client's CoAP settings. */
static pqcoap_client_config upstream_config(const pqcoap_proxy_config *cfg, uint32_t timeout_ms)
{
    pqcoap_client_config c = PQCOAP_CLIENT_CONFIG_INIT;
    c.timeout_ms = timeout_ms;
    c.max_body = cfg->max_body;
    c.log_level = cfg->log_level;
    return c;
}

/* Registers the forwarding handler and starts the forwarding thread. */
static pqcoap_err start(pqcoap_proxy *p, char *msg, size_t cap)
{
    pqcoap_err err = pqcoap_server_handle_default(p->srv, on_request, p);
    if (err == PQCOAP_OK && pthread_create(&p->thread, NULL, forward_main, p) != 0)
        err = PQCOAP_ERR_NOMEM;
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "cannot start the forwarding thread");
        return err;
    }
    p->thread_started = 1;
    return PQCOAP_OK;
}

static pqcoap_err device_setup(pqcoap_proxy *p, const pqcoap_proxy_config *cfg, char *msg,
                               size_t cap)
{
    uint32_t timeout_ms = timeout_of(cfg, 0);
    p->busy_max_age_s = (timeout_ms + 999) / 1000;
    pqcoap_server_config scfg = listener_config(cfg);
    PQCOAP_TRY(pqcoap_server_create(&scfg, &p->srv, msg, cap));
    pqcoap_client_config net = upstream_config(cfg, timeout_ms);
    pqcoap_err err;
    if (cfg->mode == PQCOAP_PROXY_SIGN) {
        pqcoap_sign_client_config sc = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
        sc.net = net;
        err = pqcoap_sign_client_open(cfg->to, cfg->identity, cfg->store, &sc, &p->sign, msg,
                                      cap);
        if (err == PQCOAP_OK && (err = pqcoap_sign_client_pin(p->sign, cfg->peer)) != PQCOAP_OK)
            pqcoap_net_msg(msg, cap, "cannot pin the gateway's key: %s", pqcoap_strerror(err));
    } else if (cfg->mode == PQCOAP_PROXY_OSCORE) {
        err = pqcoap_oscore_client_open(cfg->to, cfg->oscore, cfg->store, &net, &p->oscore, msg,
                                        cap);
    } else if (cfg->mode == PQCOAP_PROXY_SESSION) {
        pqcoap_session_client_config sc = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
        sc.id = cfg->id;
        sc.sk = cfg->identity->sk;
        sc.sk_len = PQCOAP_SIGN_SK_LEN;
        sc.server_id = cfg->peer_id;
        sc.server_pk = cfg->peer->pk;
        sc.server_pk_len = cfg->peer->pk_len;
        sc.store = cfg->store;
        sc.coap = net;
        err = pqcoap_session_client_open(cfg->to, &sc, &p->session, msg, cap);
    } else {
        err = pqcoap_client_open(cfg->to, &net, &p->client, msg, cap);
    }
    return err != PQCOAP_OK ? err : start(p, msg, cap);
}

static pqcoap_err gateway_setup(pqcoap_proxy *p, const pqcoap_proxy_config *cfg, char *msg,
                                size_t cap)
{
    uint32_t timeout_ms = timeout_of(cfg, 1);
    p->busy_max_age_s = (timeout_ms + 999) / 1000;
    pqcoap_server_config scfg = listener_config(cfg);
    pqcoap_err err = PQCOAP_OK;
    if (cfg->mode == PQCOAP_PROXY_SESSION) {
        pqcoap_session_server_config sc = PQCOAP_SESSION_SERVER_CONFIG_INIT;
        sc.id = cfg->id;
        sc.sk = cfg->identity->sk;
        sc.sk_len = PQCOAP_SIGN_SK_LEN;
        sc.store = cfg->store;
        sc.coap = scfg;
        PQCOAP_TRY(pqcoap_session_server_create(&sc, &p->sess_srv, msg, cap));
        p->srv = pqcoap_session_server_coap(p->sess_srv);
    } else {
        if (cfg->mode == PQCOAP_PROXY_SIGN) {
            err = pqcoap_sign_server_new(cfg->identity, cfg->store, NULL, &p->sign_srv);
            if (err != PQCOAP_OK) {
                pqcoap_net_msg(msg, cap, "cannot set up Mode A: %s", pqcoap_strerror(err));
                return err;
            }
            scfg.layer = pqcoap_sign_server_layer(p->sign_srv);
        } else if (cfg->mode == PQCOAP_PROXY_OSCORE) {
            err = pqcoap_oscore_server_new(cfg->store, NULL, &p->oscore_srv);
            if (err == PQCOAP_OK)
                err = pqcoap_oscore_server_add_conf(p->oscore_srv, cfg->oscore);
            if (err != PQCOAP_OK) {
                pqcoap_net_msg(msg, cap, "cannot set up OSCORE: %s", pqcoap_strerror(err));
                return err;
            }
            scfg.layer = pqcoap_oscore_server_layer(p->oscore_srv);
        }
        PQCOAP_TRY(pqcoap_server_create(&scfg, &p->srv, msg, cap));
    }
    pqcoap_client_config net = upstream_config(cfg, timeout_ms);
    PQCOAP_TRY(pqcoap_client_open(cfg->to, &net, &p->client, msg, cap));
    return start(p, msg, cap);
}

static pqcoap_err create(const pqcoap_proxy_config *cfg, int gateway, pqcoap_proxy **out,
                         char *msg, size_t msg_cap)
{
    pqcoap_err err = proxy_new(cfg, gateway, out, msg, msg_cap);
    if (err == PQCOAP_OK)
        err = gateway ? gateway_setup(*out, cfg, msg, msg_cap) : device_setup(*out, cfg, msg, msg_cap);
    if (err != PQCOAP_OK && out) {
        pqcoap_proxy_free(*out);
        *out = NULL;
    }
    return err;
}

pqcoap_err pqcoap_proxy_device_create(const pqcoap_proxy_config *cfg, pqcoap_proxy **out,
                                      char *msg, size_t msg_cap)
{
    return create(cfg, 0, out, msg, msg_cap);
}

pqcoap_err pqcoap_proxy_gateway_create(const pqcoap_proxy_config *cfg, pqcoap_proxy **out,
                                       char *msg, size_t msg_cap)
{
    return create(cfg, 1, out, msg, msg_cap);
}

pqcoap_server *pqcoap_proxy_server(pqcoap_proxy *p)
{
    return p ? p->srv : NULL;
}

void pqcoap_proxy_free(pqcoap_proxy *p)
{
    if (!p)
        return;
    if (p->thread_started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = 1;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    while (p->head) {
        job *j = p->head;
        p->head = j->next;
        job_free(j);
    }
    if (p->sess_srv)
        pqcoap_session_server_free(p->sess_srv);
    else
        pqcoap_server_free(p->srv);
    pqcoap_sign_server_free(p->sign_srv);
    pqcoap_oscore_server_free(p->oscore_srv);
    pqcoap_oscore_client_free(p->oscore);
    pqcoap_client_free(p->client);
    pqcoap_sign_client_free(p->sign);
    pqcoap_session_client_free(p->session);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
