/* Helpers of the tests of OSCORE keyed by handshakes over real UDP on loopback: a gateway
 * whose OSCORE server keys contexts by handshakes (behind a layer that counts what reaches
 * it and can refuse every protected request), a device trusted by it, and its client. */
#ifndef PQCOAP_TEST_OSCOREKEY_COMMON_H
#define PQCOAP_TEST_OSCOREKEY_COMMON_H

#include "check.h"
#include "net/net_test.h"
#include "net/net_internal.h"
#include "pqcoap/keys.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"

#include <stdatomic.h>
#include <stdlib.h>

static pqcoap_identity gw_key, dev_key;

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "set-up failed: %s\n", what);
        exit(2);
    }
}

static void trust(pqcoap_store *store, const char *id, const pqcoap_identity *who)
{
    pqcoap_peer peer;
    must(pqcoap_peer_from_pubkey(id, &who->pub, 0, &peer) == PQCOAP_OK, "peer");
    must(pqcoap_store_peer_add(store, &peer) == PQCOAP_OK, "peer_add");
}

static pqcoap_err on_echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

/* A layer in front of the OSCORE server's: counts the INITs and the other requests that
 * reach the server; with `refuse_all`, answers every request but the handshake with the
 * unprotected 4.01 "Security context not found" of RFC 8613 section 8.2. */
typedef struct counting {
    pqcoap_layer layer;
    const pqcoap_layer *inner;
    atomic_int inits, requests;
    atomic_int refuse_all;
} counting;

static pqcoap_err counting_check(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                 pqcoap_layer_verdict *verdict)
{
    counting *c = ctx;
    int init = pqcoap_net_is_init_path(wire);
    atomic_fetch_add(init ? &c->inits : &c->requests, 1);
    if (!init && c->refuse_all) {
        pqcoap_msgbuf_error(out, PQCOAP_CODE(4, 1), "Security context not found");
        pqcoap_msgbuf_add_uint(out, PQCOAP_OPT_MAX_AGE, 0);
        *verdict = PQCOAP_LAYER_ANSWER;
        return PQCOAP_OK;
    }
    return c->inner->check_request(c->inner->ctx, state, x, wire, out, verdict);
}

static pqcoap_err counting_protect(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    counting *c = ctx;
    return c->inner->protect_response(c->inner->ctx, state, x, resp, wire);
}

typedef struct gateway {
    test_server ts;
    pqcoap_oscore_server *os;
    counting count;
} gateway;

/* Starts the gateway "gw" on 127.0.0.1:port (0: any) over `store` (which trusts the
 * device), handshakes limited to `per_s` per second per address. */
static void gateway_start(gateway *g, pqcoap_store *store, uint16_t port, uint32_t per_s)
{
    char msg[256];
    memset(g, 0, sizeof *g);
    must(pqcoap_oscore_server_new(store, NULL, &g->os) == PQCOAP_OK, "oscore server");
    g->count.inner = pqcoap_oscore_server_layer(g->os);
    g->count.layer = *g->count.inner;
    g->count.layer.ctx = &g->count;
    g->count.layer.check_request = counting_check;
    g->count.layer.protect_response = counting_protect;
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = port;
    cfg.layer = &g->count.layer;
    must(pqcoap_server_create(&cfg, &g->ts.srv, msg, sizeof msg) == PQCOAP_OK, msg);
    must(pqcoap_server_handle(g->ts.srv, "echo", PQCOAP_POST, on_echo, NULL) == PQCOAP_OK,
         "handle");
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    kc.id = "gw";
    kc.sk = gw_key.sk;
    kc.sk_len = pqcoap_identity_sk_len(&gw_key);
    kc.store = store;
    kc.handshakes_per_s = per_s;
    must(pqcoap_oscore_server_keying(g->os, g->ts.srv, &kc, msg, sizeof msg) == PQCOAP_OK,
         msg);
    must(test_server_start(&g->ts), "server thread");
}

static void gateway_stop(gateway *g)
{
    pqcoap_oscore_server_stop(g->os);
    test_server_end(&g->ts);
    pqcoap_oscore_server_free(g->os);
}

/* The device's settings: its key, the pinned gateway key, its store. */
static pqcoap_session_client_config device_cfg(pqcoap_store *store)
{
    pqcoap_session_client_config cfg = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    cfg.id = "dev";
    cfg.sk = dev_key.sk;
    cfg.sk_len = pqcoap_identity_sk_len(&dev_key);
    cfg.server_id = "gw";
    cfg.server_pk = gw_key.pub.pk;
    cfg.server_pk_len = gw_key.pub.pk_len;
    cfg.store = store;
    return cfg;
}

static pqcoap_oscore_client *device_open(const gateway *g, pqcoap_store *store)
{
    char uri[128], msg[256];
    pqcoap_session_client_config cfg = device_cfg(store);
    pqcoap_oscore_client *c = NULL;
    test_uri(uri, sizeof uri, "127.0.0.1", &g->ts, "");
    if (pqcoap_oscore_client_open_keyed(uri, &cfg, 0, &c, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "  keyed client: %s\n", msg);
    return c;
}

/* POST `text` to echo; PQCOAP_OK only if it comes back. */
static pqcoap_err echo(pqcoap_oscore_client *c, const char *text)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply r = {PQCOAP_MSG_INIT, NULL};
    req.method = PQCOAP_POST;
    req.path = "echo";
    req.payload = (const uint8_t *)text;
    req.payload_len = strlen(text);
    pqcoap_err err = pqcoap_oscore_client_request(c, &req, &r);
    if (err == PQCOAP_OK && (r.msg.payload_len != strlen(text) ||
                             memcmp(r.msg.payload, text, r.msg.payload_len) != 0))
        err = PQCOAP_ERR_AUTH;
    pqcoap_reply_free(&r);
    return err;
}

#endif
