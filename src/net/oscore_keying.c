/* OSCORE contexts keyed by the post-quantum handshake (PROTOCOL.md "OSCORE keyed by the
 * handshake"): the server side (POST pqc/session/init on an OSCORE server, one context per
 * device in the handshake's table of live peer contexts, ended with its entry) and the
 * client that makes the handshake and then speaks OSCORE. */
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "net/oscore_internal.h"
#include "core/session_internal.h"
#include "net/net_internal.h"
#include "crypto/crypto_internal.h"

#include <stdlib.h>
#include <string.h>

/** Store counter of session_seq: the session client's, so that the responder's floor per
 *  initiator rises whichever of the two keys a handshake. */
#define SEQ_COUNTER "mode-b session_seq"
/** How often the store's change count is read for revocations. */
#define REVALIDATE_MS 250

struct pqcoap_oscore_keying {
    pqcoap_oscore_server *s;
    pqcoap_responder r;
    pqcoap_session *slots;
    const pqcoap_store *trust;
    uint64_t change_count;
    uint64_t checked_ms;
    int checked;
};

/* ---- server ---- */

/* A table id whose bytes are the Recipient ID of a context held (a provisioned one) is not
 * handed out. */
static int id_taken(void *arg, uint64_t id)
{
    const pqcoap_oscore_keying *k = arg;
    uint8_t kid[4];
    size_t n = pqcoap_hs_oscore_id((uint32_t)id, kid);
    return pqcoap_oscore_server_has_kid(k->s, kid, n);
}

static int entry_live(void *arg, uint64_t serial)
{
    pqcoap_oscore_keying *k = arg;
    return pqcoap_responder_entry_live(&k->r, serial, pqcoap_net_now_ms());
}

/* Ends entries whose lifetime is over and (at most every REVALIDATE_MS) those of revoked
 * peers, then the contexts of ended entries. */
static void refresh(pqcoap_oscore_keying *k, int force)
{
    uint64_t now = pqcoap_net_now_ms(), count = 0;
    if (!force && k->checked && now - k->checked_ms < REVALIDATE_MS)
        return;
    k->checked_ms = now;
    pqcoap_responder_expire(&k->r, now, NULL);
    /* PROTOCOL.md "Revocation": a context lives only while its device is trusted with the
     * key that made it */
    if (pqcoap_store_change_count(k->trust, &count) != PQCOAP_OK || !k->checked ||
        count != k->change_count) {
        size_t ended;
        if (pqcoap_responder_revalidate(&k->r, &ended) == PQCOAP_OK) {
            k->change_count = count;
            k->checked = 1;
        }
    }
    pqcoap_oscore_server_drop_keyed(k->s, entry_live, k);
}

void pqcoap_oscore_keying_refresh(pqcoap_oscore_keying *k)
{
    refresh(k, 0);
}

int pqcoap_oscore_keying_is_init(const pqcoap_msg *m)
{
    return m->code == PQCOAP_POST && pqcoap_net_is_init_path(m);
}

/* Adds the context of a handshake; on failure its table entry ends too. */
static pqcoap_err add_context(pqcoap_oscore_keying *k, pqcoap_hs_result *res, uint64_t now)
{
    pqcoap_oscore_params p;
    pqcoap_hs_oscore_params(&res->oscore, &p);
    uint64_t expires = now + (uint64_t)res->oscore.lifetime_s * 1000u;
    pqcoap_err err = pqcoap_oscore_server_add_keyed(k->s, &p, res->serial, expires,
                                                    res->oscore.max_msgs);
    if (err != PQCOAP_OK)
        pqcoap_session_wipe(pqcoap_peer_table_by_serial(&k->r.table, res->serial));
    return err;
}

/* Handler of POST pqc/session/init (I/O thread). */
static pqcoap_err on_init(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)rq;
    pqcoap_oscore_keying *k = arg;
    uint64_t now = pqcoap_net_now_ms();
    pqcoap_hs_result res;
    size_t len = 0;
    refresh(k, 1);
    pqcoap_err err = pqcoap_responder_handshake_ex(&k->r, req->payload, req->payload_len, now,
                                                   resp->payload, resp->payload_cap, &len,
                                                   &res);
    if (err == PQCOAP_OK) {
        /* a new handshake replaced the device's entry: its old context ends */
        pqcoap_oscore_server_drop_keyed(k->s, entry_live, k);
        if (!res.resent)
            err = add_context(k, &res, now);
        pqcoap_wipe(&res, sizeof res);
    }
    if (err != PQCOAP_OK) {
        pqcoap_net_hs_error(resp, err, PQCOAP_WHERE_HANDSHAKE, 0);
        return PQCOAP_OK;
    }
    resp->code = PQCOAP_CODE(2, 4);
    resp->payload_len = len;
    return pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, PQCOAP_SESSION_INIT_FORMAT);
}

pqcoap_err pqcoap_oscore_server_keying(pqcoap_oscore_server *s, pqcoap_server *srv,
                                       const pqcoap_oscore_keying_config *cfg, char *msg,
                                       size_t msg_cap)
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!s || !srv || !cfg || !cfg->store || cfg->max_peers == 0) {
        pqcoap_net_msg(msg, msg_cap, "OSCORE keying needs a server, a store and max_peers");
        return PQCOAP_ERR_ARG;
    }
    if (pqcoap_oscore_server_has_keying(s)) {
        pqcoap_net_msg(msg, msg_cap, "this OSCORE server keys contexts by handshakes already");
        return PQCOAP_ERR_EXISTS;
    }
    pqcoap_oscore_keying *k = calloc(1, sizeof *k);
    pqcoap_session *slots = calloc(cfg->max_peers, sizeof *slots);
    if (!k || !slots) {
        free(k);
        free(slots);
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    k->s = s;
    k->slots = slots;
    k->trust = cfg->store;
    pqcoap_responder_cfg rc = PQCOAP_RESPONDER_CFG_INIT;
    rc.id = cfg->id;
    rc.sk = cfg->sk;
    rc.sk_len = cfg->sk_len;
    rc.usage = cfg->usage;
    rc.suite = cfg->suite;
    rc.more = cfg->more;
    rc.n_more = cfg->n_more;
    rc.lifetime_s = cfg->lifetime_s;
    rc.max_msgs = cfg->max_msgs;
    rc.store = cfg->store;
    rc.protections = PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE);
    rc.id_taken = id_taken;
    rc.id_taken_ctx = k;
    pqcoap_err err = pqcoap_responder_init(&k->r, &rc, slots, cfg->max_peers);
    if (err == PQCOAP_OK)
        err = pqcoap_server_handle(srv, PQCOAP_SESSION_INIT_PATH, PQCOAP_POST, on_init, k);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "%s: %s", err == PQCOAP_ERR_KEY_USAGE
                       ? "a key made for sign-v1 cannot key OSCORE contexts"
                       : "invalid OSCORE keying settings (id, key, suite, limits)",
                       pqcoap_strerror(err));
        pqcoap_oscore_keying_free(k);
        return err;
    }
    pqcoap_oscore_server_set_keying(s, k);
    return PQCOAP_OK;
}

void pqcoap_oscore_keying_free(pqcoap_oscore_keying *k)
{
    if (!k)
        return;
    pqcoap_responder_wipe(&k->r);
    free(k->slots);
    pqcoap_wipe(k, sizeof *k);
    free(k);
}

/* ---- client ---- */

/* The handshake over a plain client: INIT asking for an OSCORE context, RESP verified,
 * *keys derived. */
static pqcoap_err client_handshake(const char *uri, const pqcoap_session_client_config *cfg,
                                   int aead, pqcoap_hs_oscore *keys, char *msg, size_t msg_cap)
{
    const pqcoap_oscore_request oreq = {aead ? aead : PQCOAP_COSE_A256GCM, NULL, 0};
    pqcoap_initiator_cfg ic = PQCOAP_INITIATOR_CFG_INIT;
    ic.id = cfg->id;
    ic.sk = cfg->sk;
    ic.sk_len = cfg->sk_len;
    ic.alg = cfg->alg;
    ic.usage = cfg->usage;
    ic.responder_id = cfg->server_id;
    ic.responder_pk = cfg->server_pk;
    ic.responder_pk_len = cfg->server_pk_len;
    ic.responder_usage = cfg->server_usage;
    ic.suite = cfg->suite;
    ic.oscore = &oreq; /* C_I: the empty ID, one context per server */

    pqcoap_seq_counter seq;
    uint64_t session_seq = 0;
    pqcoap_initiator *st = calloc(1, sizeof *st);
    uint8_t *init = malloc(PQCOAP_INIT_MAX);
    size_t init_len = 0;
    pqcoap_err err = st && init ? PQCOAP_OK : PQCOAP_ERR_NOMEM;
    if (err == PQCOAP_OK)
        err = pqcoap_seq_counter_init(&seq, cfg->store, SEQ_COUNTER, cfg->seq_block);
    if (err == PQCOAP_OK)
        err = pqcoap_seq_next(&seq, &session_seq);
    if (err != PQCOAP_OK)
        pqcoap_net_msg(msg, msg_cap, "cannot reserve a session_seq: %s", pqcoap_strerror(err));
    if (err == PQCOAP_OK) {
        err = pqcoap_initiator_start(st, &ic, session_seq, 0, NULL, init, PQCOAP_INIT_MAX,
                                     &init_len);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "cannot make the INIT: %s%s", pqcoap_strerror(err),
                           err == PQCOAP_ERR_KEY_USAGE ? " (a key made for sign-v1)" : "");
    }
    pqcoap_client *cl = NULL;
    pqcoap_client_config ccfg = cfg->coap;
    ccfg.layer = NULL;
    if (err == PQCOAP_OK)
        err = pqcoap_client_open(uri, &ccfg, &cl, msg, msg_cap);
    pqcoap_reply reply = {PQCOAP_MSG_INIT, NULL};
    if (err == PQCOAP_OK) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = PQCOAP_POST;
        req.path = PQCOAP_SESSION_INIT_PATH;
        req.content_format = PQCOAP_SESSION_INIT_FORMAT;
        req.payload = init;
        req.payload_len = init_len;
        err = pqcoap_client_request(cl, &req, &reply);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "handshake: %s", pqcoap_client_last_error(cl));
    }
    const pqcoap_msg *m = &reply.msg;
    if (err == PQCOAP_OK && (m->code >> 5) != 2) {
        err = pqcoap_error_from_coap(m->code, m->payload, m->payload_len);
        pqcoap_net_msg(msg, msg_cap, "%s the handshake (%u.%02u): %s",
                       err == PQCOAP_ERR_UNAUTHENTICATED ? "unauthenticated answer to"
                                                         : "server refused",
                       m->code >> 5, m->code & 31, pqcoap_strerror(err));
    } else if (err == PQCOAP_OK) {
        err = pqcoap_initiator_finish_oscore(st, m->payload, m->payload_len, keys);
        if (err != PQCOAP_OK)
            pqcoap_net_msg(msg, msg_cap, "RESP refused%s: %s",
                           err == PQCOAP_ERR_AUTH ? " (not signed by the pinned server key)" : "",
                           pqcoap_strerror(err));
    }
    pqcoap_reply_free(&reply);
    pqcoap_client_free(cl);
    pqcoap_initiator_wipe(st);
    free(st);
    free(init);
    return err;
}

pqcoap_err pqcoap_oscore_client_open_keyed(const char *uri,
                                           const pqcoap_session_client_config *cfg,
                                           int aead_alg, pqcoap_oscore_client **out, char *msg,
                                           size_t msg_cap)
{
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!out)
        return PQCOAP_ERR_ARG;
    *out = NULL;
    if (!uri || !cfg || !cfg->store || !cfg->store->ops || cfg->seq_block == 0) {
        pqcoap_net_msg(msg, msg_cap, "an OSCORE client needs a URI, its keys and a store");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_hs_oscore keys;
    pqcoap_oscore_params p;
    pqcoap_err err = client_handshake(uri, cfg, aead_alg, &keys, msg, msg_cap);
    if (err == PQCOAP_OK) {
        pqcoap_hs_oscore_params(&keys, &p);
        err = pqcoap_oscore_client_open_params(uri, &p, 16, cfg->store, &cfg->coap, out, msg,
                                               msg_cap);
    }
    pqcoap_wipe(&keys, sizeof keys);
    return err;
}
