/* Regression test (Mode A key separation): a v1 signature covers the bare message, so a
 * key that signs v1 must sign nothing else and v1 must use no other key. The sign client
 * and server refuse an identity or pinned key of the other usage (PQCOAP_ERR_KEY_USAGE),
 * the server accepts one version per identity, and a v2 request from a trust-store peer
 * pinned for v1 is refused with 4.01 before anything runs. Real UDP on loopback. */
#include "modea_util.h"

static pqcoap_identity gw, gw_v1, dev, dev_v1;

/* A copy of `id` marked for `usage` (the same key material: only the mark differs). */
static pqcoap_identity with_usage(const pqcoap_identity *id, pqcoap_key_usage usage)
{
    pqcoap_identity c = *id;
    c.pub.usage = usage;
    return c;
}

/* Creates a server layer and frees it again; returns the result of the creation. */
static pqcoap_err try_server(const pqcoap_identity *id, const pqcoap_store *st,
                             pqcoap_sign_policy policy, const pqcoap_pubkey *v1_keys, size_t n)
{
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    pqcoap_sign_server *s = NULL;
    cfg.policy = policy;
    cfg.v1_keys = v1_keys;
    cfg.n_v1_keys = n;
    pqcoap_err err = pqcoap_sign_server_new(id, st, &cfg, &s);
    CHECK(err == PQCOAP_OK || s == NULL);
    pqcoap_sign_server_free(s);
    return err;
}

/* Opens a client of `version` with `id` and pins `server`; returns the first error. */
static pqcoap_err try_client(const pqcoap_identity *id, const pqcoap_store *st, int version,
                             const pqcoap_pubkey *server)
{
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    pqcoap_sign_client *c = NULL;
    cfg.version = version;
    pqcoap_err err = pqcoap_sign_client_open("coap://127.0.0.1:9/", id, st, &cfg, &c, NULL, 0);
    if (err == PQCOAP_OK)
        err = pqcoap_sign_client_pin(c, server);
    pqcoap_sign_client_free(c);
    return err;
}

static void test_setup_refused(const pqcoap_store *st)
{
    /* Server: v1 needs a v1 identity and v1 client keys, v2 a general identity. */
    CHECK_EQ_INT(try_server(&gw, st, PQCOAP_SIGN_V1_ONLY, &dev_v1.pub, 1), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_server(&gw_v1, st, PQCOAP_SIGN_V1_ONLY, &dev.pub, 1), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_server(&gw_v1, st, PQCOAP_SIGN_V2_ONLY, NULL, 0), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_server(&gw_v1, st, PQCOAP_SIGN_V1_ONLY, &dev_v1.pub, 1), PQCOAP_OK);
    CHECK_EQ_INT(try_server(&gw, st, PQCOAP_SIGN_V2_ONLY, NULL, 0), PQCOAP_OK);
    /* One identity cannot answer both versions: the server takes one policy. */
    CHECK_EQ_INT(try_server(&gw, st, PQCOAP_SIGN_V1_AND_V2, &dev_v1.pub, 1), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(try_server(&gw_v1, st, PQCOAP_SIGN_V1_AND_V2, &dev_v1.pub, 1), PQCOAP_ERR_ARG);

    /* Client: v1 needs a v1 identity and a v1 server key, v2 general ones. */
    CHECK_EQ_INT(try_client(&dev, st, 1, &gw_v1.pub), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_client(&dev_v1, st, 1, &gw.pub), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_client(&dev_v1, st, 2, &gw.pub), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_client(&dev, st, 2, &gw_v1.pub), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(try_client(&dev_v1, st, 1, &gw_v1.pub), PQCOAP_OK);
    CHECK_EQ_INT(try_client(&dev, st, 2, &gw.pub), PQCOAP_OK);
}

/* A v2 server whose trust store pins the device's key for v1 only: a v2 request signed
 * with that key (by code that ignores the mark) gets 4.01, the handler does not run. A
 * device pinned as general is served. */
static void test_v1_peer_refused_in_v2(void)
{
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    pqcoap_peer peer;
    CHECK_EQ_INT(pqcoap_peer_from_pubkey("old-device", &dev_v1.pub, 1, &peer), PQCOAP_OK);
    peer.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_store_peer_add(&sstore, &peer), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sstore, "device", &dev.pub), PQCOAP_OK);
    sign_server srv;
    CHECK(sign_server_start(&srv, &gw, &sstore, NULL));
    uint16_t port = sign_server_port(&srv);

    pqcoap_identity posing = with_usage(&dev_v1, PQCOAP_USAGE_GENERAL);
    pqcoap_sign_client *c = sign_client(port, "echo", &posing, &cstore, 2);
    CHECK(c != NULL);
    if (c) {
        pqcoap_reply r;
        int runs = atomic_load(&handler_runs);
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &gw.pub), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_sign_client_post(c, NULL, (const uint8_t *)"x", 1, &r),
                     PQCOAP_ERR_REJECTED);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 1));
        CHECK_EQ_INT(atomic_load(&handler_runs), runs);
        pqcoap_reply_free(&r);
    }
    pqcoap_sign_client_free(c);
    pqcoap_identity_wipe(&posing);

    c = sign_client(port, "echo", &dev, &cstore, 2);
    CHECK(c != NULL);
    if (c) {
        pqcoap_reply r;
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &gw.pub), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_sign_client_post(c, NULL, (const uint8_t *)"x", 1, &r), PQCOAP_OK);
        pqcoap_reply_free(&r);
    }
    pqcoap_sign_client_free(c);
    sign_server_stop(&srv);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
}

int main(void)
{
    pqcoap_identity tmp;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &gw), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &dev), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &tmp), PQCOAP_OK);
    gw_v1 = with_usage(&tmp, PQCOAP_USAGE_SIGN_V1);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &tmp), PQCOAP_OK);
    dev_v1 = with_usage(&tmp, PQCOAP_USAGE_SIGN_V1);
    pqcoap_identity_wipe(&tmp);
    pqcoap_store st;
    CHECK_EQ_INT(pqcoap_store_open_memory(&st), PQCOAP_OK);

    test_setup_refused(&st);
    test_v1_peer_refused_in_v2();

    pqcoap_store_close(&st);
    pqcoap_identity_wipe(&gw);
    pqcoap_identity_wipe(&gw_v1);
    pqcoap_identity_wipe(&dev);
    pqcoap_identity_wipe(&dev_v1);
    return check_done();
}
