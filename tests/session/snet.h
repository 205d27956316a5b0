/* Helpers of the Mode B endpoint tests over real UDP on loopback: identities made once per
 * program, a trust store, a session server served by a background thread with counting
 * handlers, session clients; over 127.0.0.1, or ::1 when a program sets snet_family. */
#ifndef PQCOAP_TEST_SNET_H
#define PQCOAP_TEST_SNET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pqcoap/keys.h"
#include "pqcoap/session_endpoint.h"
#include "crypto/crypto_internal.h" /* key lengths of an identity's algorithm */
#include "fixture.h"
#include "loopback.h"

#define BIG_LEN (20 * 1024)

static pqcoap_identity id_client, id_server, id_other, id_stranger;
static pqcoap_store trust;              /* the server's store: trusts "client" and "other" */
static atomic_int runs[8];              /* handler runs per method code 1..7 */
static int snet_family = AF_INET;       /* of servers and clients: AF_INET or AF_INET6 (::1) */

static inline void snet_must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

/* The identities (system RNG) and the server's trust store. */
static inline void snet_init(void)
{
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &id_client) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &id_server) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &id_other) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &id_stranger) == PQCOAP_OK, "key");
    snet_must(pqcoap_store_open_memory(&trust) == PQCOAP_OK, "store");
    fx_trust(&trust, "client", &id_client);
    fx_trust(&trust, "other", &id_other);
}

static inline void snet_fini(void)
{
    pqcoap_store_close(&trust);
    pqcoap_identity_wipe(&id_client);
    pqcoap_identity_wipe(&id_server);
    pqcoap_identity_wipe(&id_other);
    pqcoap_identity_wipe(&id_stranger);
}

static inline uint8_t big_byte(size_t i) { return (uint8_t)(i * 7 + i / 251); }

/* "echo", every method: counts the run, answers with the request body. */
static inline pqcoap_err h_echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                                pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    atomic_fetch_add(&runs[req->code & 7], 1);
    pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, 0);
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

/* "big", GET: a 20 KiB body. */
static inline pqcoap_err h_big(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                               pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    for (size_t i = 0; i < BIG_LEN; i++)
        resp->payload[i] = big_byte(i);
    resp->payload_len = BIG_LEN;
    return PQCOAP_OK;
}

typedef struct snet_server {
    pqcoap_session_server *ss;
    pthread_t thread;
    uint16_t port;
} snet_server;

static inline void *snet_server_main(void *arg)
{
    pqcoap_server_run(pqcoap_session_server_coap(((snet_server *)arg)->ss));
    return NULL;
}

/* Server settings "server" with its key over `store` on 127.0.0.1:port or [::1]:port
 * (0 = ephemeral). */
static inline pqcoap_session_server_config snet_server_cfg(const pqcoap_store *store, uint16_t port)
{
    pqcoap_session_server_config cfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    cfg.id = "server";
    cfg.sk = id_server.sk;
    cfg.sk_len = id_server.pub.alg->sk_len;
    cfg.store = store;
    cfg.coap.addr = loopback_bind(snet_family);
    cfg.coap.port = port;
    return cfg;
}

/* Creates the server with the "echo" and "big" resources (a test may add its own before
 * snet_server_run). */
static inline void snet_server_create(snet_server *t, const pqcoap_session_server_config *cfg)
{
    char msg[160];
    pqcoap_err err = pqcoap_session_server_create(cfg, &t->ss, msg, sizeof msg);
    if (err != PQCOAP_OK)
        fprintf(stderr, "session server: %s\n", msg);
    snet_must(err == PQCOAP_OK, "session server");
    pqcoap_server *srv = pqcoap_session_server_coap(t->ss);
    for (uint8_t m = PQCOAP_GET; m <= PQCOAP_FETCH; m++)
        snet_must(pqcoap_server_handle(srv, "echo", m, h_echo, NULL) == PQCOAP_OK, "handle");
    snet_must(pqcoap_server_handle(srv, "big", PQCOAP_GET, h_big, NULL) == PQCOAP_OK, "handle");
}

/* Serves the created server on a thread. */
static inline void snet_server_run(snet_server *t)
{
    t->port = pqcoap_server_port(pqcoap_session_server_coap(t->ss));
    snet_must(pthread_create(&t->thread, NULL, snet_server_main, t) == 0, "thread");
}

/* Creates the server with the "echo" and "big" resources and serves it on a thread. */
static inline void snet_server_start(snet_server *t, const pqcoap_session_server_config *cfg)
{
    snet_server_create(t, cfg);
    snet_server_run(t);
}

static inline void snet_server_stop(snet_server *t)
{
    pqcoap_server_stop(pqcoap_session_server_coap(t->ss));
    pthread_join(t->thread, NULL);
    pqcoap_session_server_free(t->ss);
    t->ss = NULL;
}

static inline pqcoap_session_server_stats snet_stats(snet_server *t)
{
    pqcoap_session_server_stats st;
    memset(&st, 0, sizeof st);
    pqcoap_session_server_stats_get(t->ss, &st);
    return st;
}

/* Session client settings of `who` (id) pinning `server_pk`, counters in `store`. */
static inline pqcoap_session_client_config snet_client_cfg(const char *id,
                                                           const pqcoap_identity *who,
                                                           const pqcoap_identity *server_key,
                                                           const pqcoap_store *store)
{
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = id;
    cfg.sk = who->sk;
    cfg.sk_len = who->pub.alg->sk_len;
    cfg.alg = who->pub.alg->name;
    cfg.server_id = "server";
    cfg.server_pk = server_key->pub.pk;
    cfg.server_pk_len = server_key->pub.pk_len;
    cfg.store = store;
    return cfg;
}

static inline pqcoap_session_client *snet_client(uint16_t port,
                                                 const pqcoap_session_client_config *cfg)
{
    char uri[64], msg[160];
    pqcoap_session_client *sc = NULL;
    snprintf(uri, sizeof uri, "coap://%s:%u", loopback_uri_host(snet_family), port);
    pqcoap_err err = pqcoap_session_client_open(uri, cfg, &sc, msg, sizeof msg);
    if (err != PQCOAP_OK)
        fprintf(stderr, "session client: %s\n", msg);
    snet_must(err == PQCOAP_OK, "session client");
    return sc;
}

/* A plain CoAP client (no session) of the server on 127.0.0.1:port or [::1]:port. */
static inline pqcoap_client *snet_plain_client(uint16_t port)
{
    char uri[64];
    pqcoap_client *cl = NULL;
    snprintf(uri, sizeof uri, "coap://%s:%u", loopback_uri_host(snet_family), port);
    snet_must(pqcoap_client_open(uri, NULL, &cl, NULL, 0) == PQCOAP_OK, "plain client");
    return cl;
}

/* A handshake request (POST pqc/session/init, Content-Format 42) carrying p[0..n). */
static inline pqcoap_req snet_init_req(const uint8_t *p, size_t n)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_POST;
    req.path = PQCOAP_SESSION_INIT_PATH;
    req.content_format = PQCOAP_SESSION_INIT_FORMAT;
    req.payload = p;
    req.payload_len = n;
    return req;
}

/* A request of `method` to `path` with a payload; *reply filled (caller frees). */
static inline pqcoap_err snet_req(pqcoap_session_client *sc, uint8_t method,
                                  const char *path, const void *payload, size_t len,
                                  pqcoap_reply *reply)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = method;
    req.path = path;
    req.payload = payload;
    req.payload_len = len;
    if (len)
        req.content_format = 0;
    pqcoap_err err = pqcoap_session_client_request(sc, &req, reply);
    if (err != PQCOAP_OK)
        fprintf(stderr, "  request %u %s: %s (%s)\n", method, path, pqcoap_strerror(err),
                pqcoap_session_client_last_error(sc));
    return err;
}

/* 1 if `method` on "echo" with `text` comes back as 2.xx with the same text. */
static inline int snet_echo(pqcoap_session_client *sc, uint8_t method, const char *text)
{
    pqcoap_reply r;
    size_t len = strlen(text);
    pqcoap_err err = snet_req(sc, method, "echo", text, len, &r);
    int ok = err == PQCOAP_OK && (r.msg.code >> 5) == 2 && r.msg.payload_len == len &&
             memcmp(r.msg.payload, text, len) == 0;
    pqcoap_reply_free(&r);
    return ok;
}

/* 1 if a POST of BIG_LEN bytes to "echo" and a GET of "big" (BIG_LEN bytes) both come back
 * whole and intact: block-wise both ways under the protection. */
static inline int snet_big_bodies(pqcoap_session_client *sc)
{
    static uint8_t body[BIG_LEN];
    pqcoap_reply r;
    for (size_t i = 0; i < BIG_LEN; i++)
        body[i] = big_byte(i + 3);
    int ok = snet_req(sc, PQCOAP_POST, "echo", body, BIG_LEN, &r) == PQCOAP_OK &&
             r.msg.payload_len == BIG_LEN && memcmp(r.msg.payload, body, BIG_LEN) == 0;
    pqcoap_reply_free(&r);
    ok &= snet_req(sc, PQCOAP_GET, "big", NULL, 0, &r) == PQCOAP_OK &&
          r.msg.payload_len == BIG_LEN;
    for (size_t i = 0; ok && i < BIG_LEN; i++)
        ok = r.msg.payload[i] == big_byte(i);
    pqcoap_reply_free(&r);
    return ok;
}

#endif
