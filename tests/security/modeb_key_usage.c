/* Regression (Mode B key separation): a key made for sign-v1 signs bare messages chosen by
 * others, so Mode B never uses one: not as the initiator's own key or its pinned responder
 * key (pqcoap_initiator_start, pqcoap_session_client_open), not as the responder's identity
 * (pqcoap_responder_init, pqcoap_session_server_create), and an initiator whose trust-store
 * entry is a sign-v1 key gets 4.01 "handshake rejected" and no session. In the sans-I/O
 * core and over real UDP on loopback. */
#include "check.h"
#include "session/snet.h"

/* Re-pins `who` as `id` with the given usage. */
static void pin_with_usage(pqcoap_store *store, const char *id, const pqcoap_identity *who,
                           pqcoap_key_usage usage)
{
    pqcoap_peer peer;
    snet_must(pqcoap_peer_from_pubkey(id, &who->pub, 0, &peer) == PQCOAP_OK, "peer");
    peer.usage = usage;
    snet_must(pqcoap_store_peer_add(store, &peer) == PQCOAP_OK, "peer_add");
}

/* The initiator: a responder key pinned as a sign-v1 key, or an own sign-v1 key, is refused
 * before anything is signed or sent, so a RESP the responder validly signs cannot complete a
 * handshake. */
static void test_core_initiator(void)
{
    static fixture fx;
    static pqcoap_initiator st, genuine;
    static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len = 0, resp_len = 0;
    fx_setup(&fx, "modeb key usage initiator", 2, 0, 0, 0);

    /* a RESP signed by the responder's key, for an initiator that pinned it as general */
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(pqcoap_initiator_start(&genuine, &cfg, 1, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, init_len, 1, resp,
                                            sizeof resp, &resp_len), PQCOAP_OK);

    /* the same responder key pinned as a sign-v1 key: no INIT, no state, no session */
    cfg.responder_usage = PQCOAP_USAGE_SIGN_V1;
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 2, 0, &fx.rng, init, sizeof init, &len),
                 PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(len, 0);
    pqcoap_session s;
    memset(&s, 0, sizeof s);
    CHECK(pqcoap_initiator_finish(&st, resp, resp_len, 1, &s) != PQCOAP_OK);
    CHECK(!s.live);

    /* an own sign-v1 key */
    cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    cfg.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 3, 0, &fx.rng, init, sizeof init, &len),
                 PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(len, 0);

    pqcoap_initiator_wipe(&genuine);
    pqcoap_initiator_wipe(&st);
    fx_teardown(&fx);
}

/* The responder: no sign-v1 identity; an initiator pinned as a sign-v1 key is refused
 * ("handshake rejected") with nothing created and no floor raised. */
static void test_core_responder(void)
{
    static fixture fx;
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len = 0, resp_len = 0;
    fx_setup(&fx, "modeb key usage responder", 2, 0, 0, 0);

    static pqcoap_responder r;
    static pqcoap_session slots[2];
    pqcoap_responder_cfg rcfg = fx.cfg;
    rcfg.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_responder_init(&r, &rcfg, slots, 2), PQCOAP_ERR_KEY_USAGE);

    pin_with_usage(&fx.mem, "client", &fx.client, PQCOAP_USAGE_SIGN_V1);
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, init_len, 1, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_KEY_USAGE);
    CHECK_EQ_INT(resp_len, 0);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    pqcoap_floor floor;
    CHECK_EQ_INT(pqcoap_store_floor_get(&fx.mem, "client", &floor), PQCOAP_ERR_NOT_FOUND);
    pqcoap_coap_error e;
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_ERR_KEY_USAGE, PQCOAP_WHERE_HANDSHAKE, &e),
                 PQCOAP_OK);
    CHECK_EQ_INT(e.code, PQCOAP_CODE(4, 1));
    CHECK(strcmp(e.diagnostic, "handshake rejected") == 0);

    pqcoap_initiator_wipe(&st);
    fx_teardown(&fx);
}

/* The endpoints over UDP: a session client that pinned the server's key as a sign-v1 key
 * (or holds a sign-v1 key itself) refuses at open, before any handshake reaches the server,
 * which would have signed a valid RESP; a session server cannot be created with a sign-v1
 * identity; a client pinned as a sign-v1 key gets "handshake rejected". */
static void test_endpoints(void)
{
    pqcoap_store cstore;
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    pin_with_usage(&trust, "v1client", &id_stranger, PQCOAP_USAGE_SIGN_V1);

    char msg[160];
    pqcoap_session_server *bad = NULL;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK_EQ_INT(pqcoap_session_server_create(&scfg, &bad, msg, sizeof msg),
                 PQCOAP_ERR_KEY_USAGE);
    CHECK(bad == NULL);
    if (bad)
        pqcoap_session_server_free(bad);

    snet_server srv;
    scfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &scfg);
    char uri[64];
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", srv.port);

    /* the genuine server key, pinned as a sign-v1 key */
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server,
                                                       &cstore);
    cfg.server_usage = PQCOAP_USAGE_SIGN_V1;
    pqcoap_session_client *sc = NULL;
    pqcoap_err err = pqcoap_session_client_open(uri, &cfg, &sc, msg, sizeof msg);
    CHECK_EQ_INT(err, PQCOAP_ERR_KEY_USAGE);
    if (sc) {
        CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_KEY_USAGE);
        pqcoap_session_client_free(sc);
        sc = NULL;
    }
    /* an own sign-v1 key */
    cfg = snet_client_cfg("client", &id_client, &id_server, &cstore);
    cfg.usage = PQCOAP_USAGE_SIGN_V1;
    err = pqcoap_session_client_open(uri, &cfg, &sc, msg, sizeof msg);
    CHECK_EQ_INT(err, PQCOAP_ERR_KEY_USAGE);
    if (sc) {
        CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_KEY_USAGE);
        pqcoap_session_client_free(sc);
        sc = NULL;
    }
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 0);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_refused, 0);

    /* an initiator the server's trust store lists with a sign-v1 key */
    cfg = snet_client_cfg("v1client", &id_stranger, &id_server, &cstore);
    sc = snet_client(srv.port, &cfg);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_HANDSHAKE);
    pqcoap_session_client_free(sc);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 0);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_refused, 1);

    /* the same keys as general keys work */
    cfg = snet_client_cfg("client", &id_client, &id_server, &cstore);
    sc = snet_client(srv.port, &cfg);
    CHECK(snet_echo(sc, PQCOAP_GET, "general keys"));
    pqcoap_session_client_free(sc);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);

    snet_server_stop(&srv);
    pqcoap_store_close(&cstore);
}

int main(void)
{
    snet_init();
    test_core_initiator();
    test_core_responder();
    test_endpoints();
    snet_fini();
    return check_done();
}
