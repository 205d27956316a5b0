/* The security of each mode for the server and request commands, from the library's
 * endpoint APIs: plain CoAP, Mode A (sign_endpoint.h), Mode B (session_endpoint.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign_endpoint.h"

int cli_mode_available(cli_mode mode)
{
    return mode == CLI_MODE_PLAIN || mode == CLI_MODE_SIGN || mode == CLI_MODE_SIGN_V1 ||
           mode == CLI_MODE_SESSION || mode == CLI_MODE_OSCORE;
}

/* ---- server ---- */

/* The trusted sign-v1 keys of a store, for a v1 server (v1 carries no key id). */
typedef struct key_list {
    pqcoap_pubkey *keys;
    size_t n, cap;
} key_list;

static pqcoap_err collect_key(void *arg, const pqcoap_peer *peer)
{
    key_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        pqcoap_pubkey *bigger = realloc(l->keys, cap * sizeof *bigger);
        if (!bigger)
            return PQCOAP_ERR_NOMEM;
        l->keys = bigger;
        l->cap = cap;
    }
    /* Only Falcon-512 keys made for sign-v1 verify v1 requests; others are left out. */
    if (peer->usage == PQCOAP_USAGE_SIGN_V1 && strcmp(peer->alg, "falcon-512") == 0 &&
        pqcoap_pubkey_set(peer->alg, peer->pk, peer->pk_len, &l->keys[l->n]) == PQCOAP_OK)
        l->keys[l->n++].usage = peer->usage;
    return PQCOAP_OK;
}

/* Mode A v1 signs with Falcon-512 (PROTOCOL.md "Mode A"); Mode A v2 and the session suites
 * take the algorithms the library checks. */
static int needs_falcon512(cli_mode mode, const char *path, const pqcoap_pubkey *pk)
{
    const char *alg = pqcoap_pubkey_alg(pk);
    if (mode != CLI_MODE_SIGN_V1 || (alg && strcmp(alg, "falcon-512") == 0))
        return CLI_OK;
    return cli_fail(CLI_USAGE, "'%s' is a %s key; mode sign-v1 needs a falcon-512 key", path,
                    alg);
}

/* The suite of a session server's identity: the one of its key's algorithm (PROTOCOL.md
 * "Algorithms"); 0 after printing why if there is none or an earlier --key has it. */
static uint8_t identity_suite(const char *path, const pqcoap_identity *id, const uint8_t *taken,
                              size_t n_taken)
{
    const char *alg = pqcoap_pubkey_alg(&id->pub);
    uint8_t suite = pqcoap_suite_for_alg(alg);
    if (!suite) {
        cli_fail(CLI_USAGE, "'%s' is a %s key; no suite signs with it (mode session takes "
                 "falcon-512, falcon-1024, ml-dsa-65 or ml-dsa-87 keys)", path, alg);
        return 0;
    }
    for (size_t i = 0; i < n_taken; i++)
        if (taken[i] == suite) {
            cli_fail(CLI_USAGE, "'%s': a second %s key (one --key per suite)", path, alg);
            return 0;
        }
    return suite;
}

static int create_failed(const pqcoap_server_config *cfg, pqcoap_err err, const char *msg)
{
    if (err == PQCOAP_ERR_ARG)
        return cli_fail(CLI_USAGE, "-A %s: %s", cfg->addr, msg[0] ? msg : "bad address");
    return cli_fail(cli_exit_for(err) == CLI_USAGE ? CLI_USAGE : CLI_NETWORK,
                    "cannot listen on %s port %u: %s", cfg->addr, (unsigned)cfg->port,
                    msg[0] ? msg : pqcoap_strerror(err));
}

/* The suite of the first --key (*first) and the further identities (more[0..n_more_keys)),
 * one per suite; CLI_USAGE after printing why if they do not fit. */
static int server_identities(const cli_endpoint *ep, uint8_t *first,
                             pqcoap_responder_key more[CLI_MORE_KEYS])
{
    uint8_t taken[CLI_MORE_KEYS + 1];
    taken[0] = identity_suite(ep->key, &ep->identity, NULL, 0);
    if (!taken[0])
        return CLI_USAGE;
    for (size_t i = 0; i < ep->n_more_keys; i++) {
        const pqcoap_identity *id = &ep->more_identity[i];
        taken[i + 1] = identity_suite(ep->more_keys[i], id, taken, i + 1);
        if (!taken[i + 1])
            return CLI_USAGE;
        more[i] = (pqcoap_responder_key){taken[i + 1], id->sk, pqcoap_identity_sk_len(id),
                                         id->pub.usage};
    }
    *first = taken[0];
    return CLI_OK;
}

static int session_server(cli_endpoint *ep, const pqcoap_server_config *cfg, cli_server *out)
{
    pqcoap_session_server_config sc = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    pqcoap_responder_key more[CLI_MORE_KEYS];
    if (server_identities(ep, &sc.suite, more) != CLI_OK)
        return CLI_USAGE;
    sc.id = ep->id;
    sc.sk = ep->identity.sk;
    sc.sk_len = pqcoap_identity_sk_len(&ep->identity);
    sc.usage = ep->identity.pub.usage;
    sc.more = more;
    sc.n_more = ep->n_more_keys;
    sc.store = &ep->store;
    sc.coap = *cfg;
    char msg[256] = "";
    pqcoap_session_server *ss = NULL;
    pqcoap_err err = pqcoap_session_server_create(&sc, &ss, msg, sizeof msg);
    if (err != PQCOAP_OK)
        return create_failed(cfg, err, msg);
    out->obj = ss;
    out->coap = pqcoap_session_server_coap(ss);
    return CLI_OK;
}

static int sign_server(cli_endpoint *ep, pqcoap_sign_server **out)
{
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    key_list v1 = {NULL, 0, 0};
    if (ep->mode == CLI_MODE_SIGN_V1) {
        pqcoap_err err = pqcoap_store_peer_list(&ep->store, collect_key, &v1);
        if (err != PQCOAP_OK) {
            free(v1.keys);
            return cli_fail(cli_exit_for(err), "cannot read the trust store '%s': %s", ep->db,
                            pqcoap_strerror(err));
        }
        if (v1.n == 0) {
            free(v1.keys);
            return cli_fail(CLI_USAGE, "mode sign-v1 needs a trusted sign-v1 peer in '%s' (a "
                            "falcon-512 key made with pqcoap keygen --v1; --allow ID=PUBFILE "
                            "or pqcoap trust add)", ep->db);
        }
        cfg.policy = PQCOAP_SIGN_V1_ONLY;
        cfg.v1_keys = v1.keys;
        cfg.n_v1_keys = v1.n;
    }
    pqcoap_err err = pqcoap_sign_server_new(&ep->identity, &ep->store, &cfg, out);
    free(v1.keys);
    if (err == PQCOAP_ERR_LIMIT) /* each v1 request is checked against every key */
        return cli_fail(CLI_USAGE, "mode sign-v1 takes at most %zu trusted peers, '%s' has %zu",
                        cfg.max_v1_keys, ep->db, cfg.n_v1_keys);
    if (err != PQCOAP_OK)
        return cli_fail(cli_exit_for(err), "cannot set up Mode A: %s", pqcoap_strerror(err));
    return CLI_OK;
}

int cli_server_create(cli_endpoint *ep, pqcoap_server_config *cfg, cli_server *out)
{
    out->mode = ep->mode;
    out->coap = NULL;
    out->obj = NULL;
    char msg[256] = "";
    pqcoap_err err;
    if (needs_falcon512(ep->mode, ep->key, &ep->identity.pub) != CLI_OK)
        return CLI_USAGE;
    pqcoap_oscore_keying_config kc = PQCOAP_OSCORE_KEYING_CONFIG_INIT;
    pqcoap_responder_key more[CLI_MORE_KEYS];
    if (ep->mode == CLI_MODE_OSCORE) {
        if (ep->key && server_identities(ep, &kc.suite, more) != CLI_OK)
            return CLI_USAGE;
        pqcoap_oscore_server *os = NULL;
        err = pqcoap_oscore_server_new(&ep->store, NULL, &os);
        if (err == PQCOAP_OK && ep->have_oscore)
            err = pqcoap_oscore_server_add_conf(os, &ep->oscore);
        if (err != PQCOAP_OK) {
            pqcoap_oscore_server_free(os);
            return cli_fail(cli_exit_for(err), "cannot set up OSCORE from '%s': %s",
                            ep->oscore_conf, pqcoap_strerror(err));
        }
        out->obj = os;
        cfg->layer = pqcoap_oscore_server_layer(os);
    }
    if (ep->mode == CLI_MODE_SESSION)
        return session_server(ep, cfg, out);
    if (ep->mode == CLI_MODE_SIGN || ep->mode == CLI_MODE_SIGN_V1) {
        pqcoap_sign_server *s = NULL;
        int rc = sign_server(ep, &s);
        if (rc != CLI_OK)
            return rc;
        out->obj = s;
        cfg->layer = pqcoap_sign_server_layer(s);
    }
    err = pqcoap_server_create(cfg, &out->coap, msg, sizeof msg);
    if (err != PQCOAP_OK) {
        cli_server_free(out);
        return create_failed(cfg, err, msg);
    }
    if (ep->mode == CLI_MODE_OSCORE && ep->key) {
        /* contexts keyed by post-quantum handshakes with the trusted devices */
        kc.id = ep->id;
        kc.sk = ep->identity.sk;
        kc.sk_len = pqcoap_identity_sk_len(&ep->identity);
        kc.usage = ep->identity.pub.usage;
        kc.more = more;
        kc.n_more = ep->n_more_keys;
        kc.store = &ep->store;
        err = pqcoap_oscore_server_keying(out->obj, out->coap, &kc, msg, sizeof msg);
        if (err != PQCOAP_OK) {
            cli_server_free(out);
            return cli_fail(cli_exit_for(err), "cannot key OSCORE by handshakes: %s", msg);
        }
    }
    return CLI_OK;
}

void cli_server_free(cli_server *s)
{
    if (s->mode == CLI_MODE_SESSION) {
        pqcoap_session_server_free(s->obj);
    } else if (s->mode == CLI_MODE_OSCORE) {
        pqcoap_oscore_server_stop(s->obj); /* its handshake thread answers through s->coap */
        pqcoap_server_free(s->coap);
        pqcoap_oscore_server_free(s->obj);
    } else {
        pqcoap_server_free(s->coap);
        pqcoap_sign_server_free(s->obj);
    }
    s->coap = NULL;
    s->obj = NULL;
}

/* ---- client ---- */

static int open_failed(const char *uri, pqcoap_err err, const char *msg)
{
    return cli_fail(cli_exit_for(err), "%s: %s", uri, msg[0] ? msg : pqcoap_strerror(err));
}

/* The suite of a handshake: --suite, or the one of the pinned server key's algorithm (a
 * suite names the server's signature algorithm); the own key signs with its own. */
static int client_suite(const cli_endpoint *ep, uint8_t *suite)
{
    const char *server_alg = pqcoap_pubkey_alg(&ep->peer_key);
    *suite = ep->suite ? pqcoap_suite_id(ep->suite) : pqcoap_suite_for_alg(server_alg);
    if (ep->suite && !*suite)
        return cli_fail(CLI_USAGE, "unknown suite '%s' (pqcoap --version lists them)",
                        ep->suite);
    if (!*suite)
        return cli_fail(CLI_USAGE, "'%s' is a %s key; no suite has a server of that algorithm "
                        "(falcon-512, falcon-1024, ml-dsa-65 or ml-dsa-87)", ep->peer, server_alg);
    const char *want = pqcoap_suite_sig_alg(*suite);
    if (strcmp(want, server_alg) != 0)
        return cli_fail(CLI_USAGE, "suite %s needs the server's %s key, but '%s' is a %s key",
                        ep->suite, want, ep->peer, server_alg);
    return CLI_OK;
}

/* The settings of a handshake with the server of ep (mode session, or oscore with --key). */
static int handshake_settings(const cli_endpoint *ep, const pqcoap_client_config *net,
                              pqcoap_session_client_config *cfg)
{
    const pqcoap_session_client_config init = PQCOAP_SESSION_CLIENT_CONFIG_INIT;
    *cfg = init;
    int rc = client_suite(ep, &cfg->suite);
    if (rc != CLI_OK)
        return rc;
    cfg->id = ep->id;
    cfg->sk = ep->identity.sk;
    cfg->sk_len = pqcoap_identity_sk_len(&ep->identity);
    cfg->alg = pqcoap_pubkey_alg(&ep->identity.pub);
    cfg->usage = ep->identity.pub.usage;
    cfg->server_id = ep->peer_id;
    cfg->server_pk = ep->peer_key.pk;
    cfg->server_pk_len = ep->peer_key.pk_len;
    cfg->server_usage = ep->peer_key.usage;
    cfg->store = &ep->store;
    cfg->coap = *net;
    return CLI_OK;
}

static int session_client(cli_endpoint *ep, const char *uri, const pqcoap_client_config *net,
                          cli_client *out)
{
    pqcoap_session_client_config cfg;
    int rc = handshake_settings(ep, net, &cfg);
    if (rc != CLI_OK)
        return rc;
    char msg[256] = "";
    pqcoap_session_client *c = NULL;
    pqcoap_err err = pqcoap_session_client_open(uri, &cfg, &c, msg, sizeof msg);
    if (err != PQCOAP_OK)
        return open_failed(uri, err, msg);
    out->obj = c;
    return CLI_OK;
}

static int sign_client(cli_endpoint *ep, const char *uri, const pqcoap_client_config *net,
                       cli_client *out)
{
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    cfg.version = ep->mode == CLI_MODE_SIGN_V1 ? 1 : 2;
    cfg.net = *net;
    char msg[256] = "";
    pqcoap_sign_client *c = NULL;
    pqcoap_err err = pqcoap_sign_client_open(uri, &ep->identity, &ep->store, &cfg, &c, msg,
                                             sizeof msg);
    if (err != PQCOAP_OK)
        return open_failed(uri, err, msg);
    err = pqcoap_sign_client_pin(c, &ep->peer_key);
    if (err != PQCOAP_OK) {
        pqcoap_sign_client_free(c);
        return cli_fail(cli_exit_for(err), "cannot pin '%s': %s", ep->peer, pqcoap_strerror(err));
    }
    out->obj = c;
    return CLI_OK;
}

int cli_client_open(cli_endpoint *ep, const char *uri, const pqcoap_client_config *net,
                    cli_client *out)
{
    out->mode = ep->mode;
    out->obj = NULL;
    if (ep->mode == CLI_MODE_OSCORE) {
        char msg[256] = "";
        pqcoap_oscore_client *c = NULL;
        pqcoap_err err;
        if (ep->have_oscore) {
            err = pqcoap_oscore_client_open(uri, &ep->oscore, &ep->store, net, &c, msg,
                                            sizeof msg);
        } else {
            pqcoap_session_client_config kc;
            int rc = handshake_settings(ep, net, &kc);
            if (rc != CLI_OK)
                return rc;
            err = pqcoap_oscore_client_open_keyed(uri, &kc, 0, &c, msg, sizeof msg);
        }
        if (err != PQCOAP_OK)
            return open_failed(uri, err, msg);
        out->obj = c;
        return CLI_OK;
    }
    if (needs_falcon512(ep->mode, ep->key, &ep->identity.pub) != CLI_OK ||
        needs_falcon512(ep->mode, ep->peer, &ep->peer_key) != CLI_OK)
        return CLI_USAGE;
    if (ep->mode == CLI_MODE_SESSION)
        return session_client(ep, uri, net, out);
    if (ep->mode == CLI_MODE_SIGN || ep->mode == CLI_MODE_SIGN_V1)
        return sign_client(ep, uri, net, out);
    char msg[256] = "";
    pqcoap_client *cl = NULL;
    pqcoap_err err = pqcoap_client_open(uri, net, &cl, msg, sizeof msg);
    if (err != PQCOAP_OK)
        return open_failed(uri, err, msg);
    out->obj = cl;
    return CLI_OK;
}

pqcoap_err cli_client_request(cli_client *c, const pqcoap_req *req, pqcoap_reply *reply)
{
    if (c->mode == CLI_MODE_SESSION)
        return pqcoap_session_client_request(c->obj, req, reply);
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_request(c->obj, req, reply);
    if (c->mode == CLI_MODE_OSCORE)
        return pqcoap_oscore_client_request(c->obj, req, reply);
    return pqcoap_client_request(c->obj, req, reply);
}

pqcoap_client *cli_client_net(cli_client *c)
{
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_net(c->obj);
    if (c->mode == CLI_MODE_OSCORE)
        return pqcoap_oscore_client_net(c->obj);
    if (c->mode == CLI_MODE_SESSION)
        return pqcoap_session_client_net(c->obj);
    return c->obj;
}

pqcoap_err cli_client_observe(cli_client *c, const pqcoap_req *req, pqcoap_observe_fn fn,
                              void *user, uint32_t *id)
{
    if (c->mode == CLI_MODE_SESSION)
        return pqcoap_session_client_observe(c->obj, req, fn, user, id);
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_observe(c->obj, req, fn, user, id);
    if (c->mode == CLI_MODE_OSCORE)
        return pqcoap_oscore_client_observe(c->obj, req, fn, user, id);
    return pqcoap_client_observe(cli_client_net(c), req, fn, user, id);
}

const char *cli_client_last_error(const cli_client *c)
{
    if (c->mode == CLI_MODE_SESSION)
        return pqcoap_session_client_last_error(c->obj);
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_last_error(c->obj);
    if (c->mode == CLI_MODE_OSCORE)
        return pqcoap_oscore_client_last_error(c->obj);
    return pqcoap_client_last_error(c->obj);
}

void cli_client_free(cli_client *c)
{
    if (c->obj && c->mode == CLI_MODE_SESSION)
        pqcoap_session_client_free(c->obj);
    else if (c->obj && (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1))
        pqcoap_sign_client_free(c->obj);
    else if (c->obj && c->mode == CLI_MODE_OSCORE)
        pqcoap_oscore_client_free(c->obj);
    else if (c->obj)
        pqcoap_client_free(c->obj);
    c->obj = NULL;
}

void cli_client_info(const cli_client *c, cli_client_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c->obj)
        return;
    pqcoap_session_client_info info;
    if (c->mode == CLI_MODE_SESSION) {
        if (pqcoap_session_client_info_get(c->obj, &info) != PQCOAP_OK)
            return;
        out->known = 1;
        out->suite = pqcoap_suite_name(info.suite);
        out->handshake_us = info.handshakes ? info.handshake_us : 0;
        out->handshake_bytes_sent = info.handshake_bytes_sent;
        out->handshake_bytes_received = info.handshake_bytes_received;
        out->bytes_sent = info.last_bytes_sent;
        out->bytes_received = info.last_bytes_received;
        return;
    }
    const pqcoap_client *net = c->mode == CLI_MODE_PLAIN ? c->obj
                             : c->mode == CLI_MODE_OSCORE ? pqcoap_oscore_client_net(c->obj)
                                                          : pqcoap_sign_client_net(c->obj);
    out->known = 1;
    pqcoap_client_last_bytes(net, &out->bytes_sent, &out->bytes_received);
    pqcoap_oscore_binding b;
    if (c->mode == CLI_MODE_OSCORE &&
        pqcoap_oscore_client_last_request(c->obj, &b) == PQCOAP_OK) {
        char kid[2 * PQCOAP_OSCORE_ID_MAX + 1], piv[2 * PQCOAP_OSCORE_PIV_MAX + 1];
        cli_hex(b.kid, b.kid_len, kid);
        cli_hex(b.piv, b.piv_len, piv);
        snprintf(out->oscore, sizeof out->oscore, "OSCORE kid 0x%s piv 0x%s", kid, piv);
    }
}
