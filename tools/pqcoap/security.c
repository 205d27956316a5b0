/* The security of each mode for the server and request commands, from the library's
 * endpoint APIs: plain CoAP (no layer), Mode A (sign_endpoint.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "pqcoap/sign_endpoint.h"

int cli_mode_available(cli_mode mode)
{
    return mode == CLI_MODE_PLAIN || mode == CLI_MODE_SIGN || mode == CLI_MODE_SIGN_V1;
}

/* ---- server ---- */

/* The trusted keys of a store, for a v1 server (v1 carries no key id). */
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
    /* Only Falcon-512 keys can verify Mode A; others are left out. */
    if (strcmp(peer->alg, "falcon-512") == 0 &&
        pqcoap_pubkey_set(peer->alg, peer->pk, peer->pk_len, &l->keys[l->n]) == PQCOAP_OK)
        l->n++;
    return PQCOAP_OK;
}

static int sign_server(cli_endpoint *ep)
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
            return cli_fail(CLI_USAGE, "mode sign-v1 needs a trusted falcon-512 peer in '%s' "
                            "(--allow ID=PUBFILE or pqcoap trust add)", ep->db);
        }
        cfg.policy = PQCOAP_SIGN_V1_ONLY;
        cfg.v1_keys = v1.keys;
        cfg.n_v1_keys = v1.n;
    }
    pqcoap_sign_server *s = NULL;
    pqcoap_err err = pqcoap_sign_server_new(&ep->identity, &ep->store, &cfg, &s);
    free(v1.keys);
    if (err == PQCOAP_ERR_UNSUPPORTED)
        return cli_fail(CLI_USAGE, "'%s': Mode A needs a falcon-512 key", ep->key);
    if (err != PQCOAP_OK)
        return cli_fail(cli_exit_for(err), "cannot set up Mode A: %s", pqcoap_strerror(err));
    ep->layer_obj = s;
    ep->layer = pqcoap_sign_server_layer(s);
    return CLI_OK;
}

int cli_endpoint_server_layer(cli_endpoint *ep)
{
    switch (ep->mode) {
    case CLI_MODE_SIGN:
    case CLI_MODE_SIGN_V1:
        return sign_server(ep);
    default:
        ep->layer = NULL;
        return CLI_OK;
    }
}

void cli_endpoint_free_server_layer(cli_endpoint *ep)
{
    if (ep->mode == CLI_MODE_SIGN || ep->mode == CLI_MODE_SIGN_V1)
        pqcoap_sign_server_free(ep->layer_obj);
    ep->layer_obj = NULL;
    ep->layer = NULL;
}

/* ---- client ---- */

static int open_failed(const char *uri, pqcoap_err err, const char *msg)
{
    return cli_fail(cli_exit_for(err), "%s: %s", uri, msg[0] ? msg : pqcoap_strerror(err));
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
    if (err == PQCOAP_ERR_UNSUPPORTED)
        return cli_fail(CLI_USAGE, "'%s': Mode A needs a falcon-512 key", ep->key);
    if (err != PQCOAP_OK)
        return open_failed(uri, err, msg);
    err = pqcoap_sign_client_pin(c, &ep->peer_key);
    if (err != PQCOAP_OK) {
        pqcoap_sign_client_free(c);
        return cli_fail(CLI_USAGE, "'%s': Mode A needs a falcon-512 key", ep->peer);
    }
    out->obj = c;
    return CLI_OK;
}

int cli_client_open(cli_endpoint *ep, const char *uri, const pqcoap_client_config *net,
                    cli_client *out)
{
    out->mode = ep->mode;
    out->obj = NULL;
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
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_request(c->obj, req, reply);
    return pqcoap_client_request(c->obj, req, reply);
}

const char *cli_client_last_error(const cli_client *c)
{
    if (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1)
        return pqcoap_sign_client_last_error(c->obj);
    return pqcoap_client_last_error(c->obj);
}

void cli_client_free(cli_client *c)
{
    if (c->obj && (c->mode == CLI_MODE_SIGN || c->mode == CLI_MODE_SIGN_V1))
        pqcoap_sign_client_free(c->obj);
    else if (c->obj)
        pqcoap_client_free(c->obj);
    c->obj = NULL;
}
