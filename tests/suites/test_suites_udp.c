/* One suite over real UDP on loopback (argument: the suite byte in hex, e.g. 03): a server
 * and a device with identities of the suite's algorithm make a session in that suite, and
 * GET, POST and a 20 KiB body go through it protected. */
#include "check.h"
#include "session/snet.h"

int main(int argc, char **argv)
{
    const pqcoap_suite *suite = argc > 1 ? pqcoap_suite_find((uint8_t)strtoul(argv[1], NULL, 16))
                                         : NULL;
    snet_must(suite != NULL, "usage: test_suites_udp SUITE");
    snet_must(pqcoap_identity_generate(suite->sig->name, NULL, &id_client) == PQCOAP_OK, "key");
    snet_must(pqcoap_identity_generate(suite->sig->name, NULL, &id_server) == PQCOAP_OK, "key");
    snet_must(pqcoap_store_open_memory(&trust) == PQCOAP_OK, "store");
    fx_trust(&trust, "client", &id_client);

    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.suite = suite->id;
    snet_server_start(&srv, &scfg);

    pqcoap_store cstore;
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "store");
    /* the suite follows from the pinned server key */
    pqcoap_session_client_config ccfg = snet_client_cfg("client", &id_client, &id_server, &cstore);
    pqcoap_session_client *sc = snet_client(srv.port, &ccfg);
    CHECK(snet_echo(sc, PQCOAP_GET, "get"));
    CHECK(snet_echo(sc, PQCOAP_POST, "post in the suite"));
    pqcoap_session_client_info info;
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(info.live);
    CHECK_EQ_INT(info.suite, suite->id);
    CHECK_EQ_INT(info.handshakes, 1);
    /* INIT and RESP carry the suite's KEM key or ciphertext and a signature of its algorithm */
    CHECK(info.handshake_bytes_sent > suite->kem->pk_len + 32);
    CHECK(info.handshake_bytes_received > suite->kem->ct_len + 32);
    CHECK(info.handshake_bytes_received < suite->kem->ct_len + suite->sig->sig_max + 200);

    pqcoap_reply r;
    CHECK_EQ_INT(snet_req(sc, PQCOAP_GET, "big", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.payload_len, BIG_LEN);
    int same = r.msg.payload_len == BIG_LEN;
    for (size_t i = 0; same && i < BIG_LEN; i++)
        same = r.msg.payload[i] == big_byte(i);
    CHECK(same);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, 1);

    pqcoap_session_client_free(sc);
    snet_server_stop(&srv);
    pqcoap_store_close(&cstore);
    snet_fini();
    return check_done();
}
