/* One server, two identities (ML-DSA-65, preferred, and Falcon-512), over real UDP: an
 * ML-DSA-65 device pinning the server's ML-DSA-65 key and a Falcon-512 device pinning its
 * Falcon-512 key each get a session in their suite, side by side. A pinned server key of
 * another algorithm than the suite asked for is refused at open with a clear message; a
 * device that signs with a key of another algorithm than the one the server pinned for it
 * is refused; a suite the server holds no identity for is refused as unsupported. */
#include "check.h"
#include "session/snet.h"

static pqcoap_identity gw_mldsa, gw_falcon, gw_mldsa87, dev_mldsa, dev_falcon;

static pqcoap_session_client *open_client(uint16_t port, pqcoap_session_client_config *cfg,
                                          pqcoap_err *err, char *msg, size_t cap)
{
    char uri[64];
    pqcoap_session_client *sc = NULL;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", port);
    *err = pqcoap_session_client_open(uri, cfg, &sc, msg, cap);
    return sc;
}

int main(void)
{
    snet_must(pqcoap_identity_generate("ml-dsa-65", NULL, &gw_mldsa) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &gw_falcon) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("ml-dsa-87", NULL, &gw_mldsa87) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("ml-dsa-65", NULL, &dev_mldsa) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate("falcon-512", NULL, &dev_falcon) == PQCOAP_OK, "key");
    snet_must(pqcoap_store_open_memory(&trust) == PQCOAP_OK, "store");
    fx_trust(&trust, "dev-mldsa", &dev_mldsa);
    fx_trust(&trust, "dev-falcon", &dev_falcon);

    snet_server srv;
    id_server = gw_mldsa;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.suite = 0x03;
    const pqcoap_responder_key falcon = {0x01, gw_falcon.sk, gw_falcon.pub.alg->sk_len,
                                         PQCOAP_USAGE_GENERAL};
    scfg.more = &falcon;
    scfg.n_more = 1;
    snet_server_start(&srv, &scfg);

    pqcoap_store s1, s2, s3;
    snet_must(pqcoap_store_open_memory(&s1) == PQCOAP_OK && pqcoap_store_open_memory(&s2) ==
              PQCOAP_OK && pqcoap_store_open_memory(&s3) == PQCOAP_OK, "stores");
    pqcoap_session_client_config ca = snet_client_cfg("dev-mldsa", &dev_mldsa, &gw_mldsa, &s1);
    pqcoap_session_client_config cb = snet_client_cfg("dev-falcon", &dev_falcon, &gw_falcon, &s2);
    pqcoap_session_client *a = snet_client(srv.port, &ca), *b = snet_client(srv.port, &cb);
    CHECK(snet_echo(a, PQCOAP_GET, "from ml-dsa"));
    CHECK(snet_echo(b, PQCOAP_POST, "from falcon"));
    CHECK(snet_echo(a, PQCOAP_POST, "again"));
    pqcoap_session_client_info ia, ib;
    CHECK_EQ_INT(pqcoap_session_client_info_get(a, &ia), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_session_client_info_get(b, &ib), PQCOAP_OK);
    CHECK_EQ_INT(ia.suite, 0x03);
    CHECK_EQ_INT(ib.suite, 0x01);
    CHECK(ia.live && ib.live && ia.handshakes == 1 && ib.handshakes == 1);
    CHECK_EQ_INT(snet_stats(&srv).live_sessions, 2);

    /* suite 0x03 asked for, but the pinned server key is Falcon-512: refused at open */
    char msg[256];
    pqcoap_err err;
    pqcoap_session_client_config wrong = snet_client_cfg("dev-mldsa", &dev_mldsa, &gw_falcon, &s3);
    wrong.suite = 0x03;
    pqcoap_session_client *c = open_client(srv.port, &wrong, &err, msg, sizeof msg);
    CHECK(c == NULL);
    CHECK_EQ_INT(err, PQCOAP_ERR_UNSUPPORTED);
    CHECK(strstr(msg, "ml-dsa-65") != NULL && strstr(msg, "mldsa65-mlkem768") != NULL);
    if (!strstr(msg, "ml-dsa-65"))
        fprintf(stderr, "message: %s\n", msg);

    /* "dev-falcon" signing with an ML-DSA-65 key: the server verifies with the pinned
     * Falcon-512 key's algorithm and refuses */
    pqcoap_session_client_config impostor = snet_client_cfg("dev-falcon", &dev_mldsa, &gw_falcon,
                                                            &s3);
    c = snet_client(srv.port, &impostor);
    CHECK_EQ_INT(pqcoap_session_client_connect(c), PQCOAP_ERR_HANDSHAKE);
    pqcoap_session_client_free(c);

    /* a device offering ML-DSA-87 only: the server holds no such identity */
    pqcoap_session_client_config none = snet_client_cfg("dev-mldsa", &dev_mldsa, &gw_mldsa87, &s3);
    c = snet_client(srv.port, &none);
    CHECK_EQ_INT(pqcoap_session_client_connect(c), PQCOAP_ERR_UNSUPPORTED);
    CHECK(strstr(pqcoap_session_client_last_error(c), "4.00") != NULL);
    pqcoap_session_client_free(c);

    /* the sessions of the two devices are untouched */
    CHECK(snet_echo(a, PQCOAP_GET, "still"));
    CHECK(snet_echo(b, PQCOAP_GET, "still"));
    pqcoap_session_client_free(a);
    pqcoap_session_client_free(b);
    snet_server_stop(&srv);
    pqcoap_store_close(&s1);
    pqcoap_store_close(&s2);
    pqcoap_store_close(&s3);
    pqcoap_identity_wipe(&gw_mldsa);
    pqcoap_identity_wipe(&gw_falcon);
    pqcoap_identity_wipe(&gw_mldsa87);
    pqcoap_identity_wipe(&dev_mldsa);
    pqcoap_identity_wipe(&dev_falcon);
    snet_fini();
    return check_done();
}
