/* DoS limits in front of Mode B: while peers hold the pending block-wise requests the server
 * allows and are refused more, an existing session keeps being served (a new handshake, whose
 * INIT goes block-wise, waits for room), and a block-wise request announcing more than
 * max_body is refused before the layer sees it. */
#include "check.h"
#include "raw_coap.h"
#include "session/snet.h"

int main(void)
{
    snet_init();
    pqcoap_store cstore; /* the client's counters */
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    cfg.coap.max_body = 8192;
    cfg.coap.max_transfers = 2;
    cfg.coap.max_transfers_per_peer = 1;
    cfg.coap.transfer_timeout_s = 30;
    snet_server t;
    snet_server_start(&t, &cfg);
    pqcoap_session_client_config ccfg = snet_client_cfg("client", &id_client, &id_server, &cstore);
    pqcoap_session_client *sc = snet_client(t.port, &ccfg);
    CHECK(snet_echo(sc, PQCOAP_POST, "before"));

    int a = raw_socket(t.port), b = raw_socket(t.port);
    CHECK(a >= 0 && b >= 0);
    answer r;
    /* Size1 over max_body: 4.13 with Size1 on the first block. */
    CHECK(exchange(a, "echo", 0x10, 0, 1, 1u << 20, 0, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == 8192);
    /* Peer a holds its one pending transfer; a second one gets 5.03 with Max-Age. */
    CHECK(exchange(a, "echo", 0x11, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "echo", 0x12, 0, 1, 0, 2, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));
    CHECK(r.has_max_age && r.max_age == 30);
    CHECK(snet_echo(sc, PQCOAP_POST, "while a is refused"));
    /* Peer b takes the last place in the total; the session is still served. */
    CHECK(exchange(b, "echo", 0x20, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(b, "echo", 0x21, 0, 1, 0, 2, 1024, &r) && r.code == PQCOAP_CODE(5, 3));
    CHECK(snet_echo(sc, PQCOAP_GET, "full table"));
    CHECK(snet_echo(sc, PQCOAP_PUT, "still served"));
    CHECK_EQ_INT(snet_stats(&t).sessions_created, 1);
    /* A new handshake (its INIT goes block-wise) waits for room in the table too. */
    static uint8_t init[2000];
    pqcoap_client *cl = snet_plain_client(t.port);
    pqcoap_req req = snet_init_req(init, sizeof(init));
    pqcoap_reply rep;
    CHECK(pqcoap_client_request(cl, &req, &rep) == PQCOAP_OK);
    CHECK_EQ_INT(rep.msg.code, PQCOAP_CODE(5, 3));
    pqcoap_reply_free(&rep);
    pqcoap_client_free(cl);

    close(a);
    close(b);
    pqcoap_session_client_free(sc);
    snet_server_stop(&t);
    pqcoap_store_close(&cstore);
    snet_fini();
    return check_done();
}
