/* Mode B endpoints over real UDP on loopback: handshake and protected requests of every
 * method, 20 KiB bodies both ways, handshake refusals (wrong pinned key, unknown initiator,
 * rolled-back counter), an identical INIT sent twice, client restart, session expiry. */
#include <time.h>

#include "check.h"
#include "snet.h"

static snet_server srv;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_methods_and_bodies(pqcoap_store *cstore)
{
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, cstore);
    pqcoap_session_client *sc = snet_client(srv.port, &cfg);
    pqcoap_session_client_info info;
    uint64_t created = snet_stats(&srv).sessions_created;

    /* the first request connects */
    CHECK(snet_echo(sc, PQCOAP_GET, ""));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, created + 1);
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(info.live);
    CHECK_EQ_INT(info.sid, 1);
    CHECK_EQ_INT(info.handshakes, 1);
    CHECK(info.handshake_us > 0);
    /* INIT (~1.9 KB) and RESP (~1.8 KB) as whole CoAP messages */
    CHECK(info.handshake_bytes_sent > 1500 && info.handshake_bytes_sent < PQCOAP_INIT_MAX + 64);
    CHECK(info.handshake_bytes_received > 1000 &&
          info.handshake_bytes_received < PQCOAP_RESP_MAX + 64);

    int before[8];
    for (int m = 1; m < 8; m++)
        before[m] = atomic_load(&runs[m]);
    CHECK(snet_echo(sc, PQCOAP_GET, "get"));
    CHECK(snet_echo(sc, PQCOAP_POST, "post"));
    CHECK(snet_echo(sc, PQCOAP_PUT, "put"));
    CHECK(snet_echo(sc, PQCOAP_DELETE, "delete"));
    CHECK(snet_echo(sc, PQCOAP_FETCH, "fetch"));
    for (int m = PQCOAP_GET; m <= PQCOAP_FETCH; m++)
        CHECK_EQ_INT(atomic_load(&runs[m]), before[m] + 1);

    /* one protected request on the wire: plaintext + 1 + varint(sid) + varint(n) + 16 */
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK_EQ_INT(info.sent, 6);
    size_t fetch_sent = info.last_bytes_sent;
    CHECK(snet_echo(sc, PQCOAP_FETCH, "fetch+1"));
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK_EQ_INT(info.last_bytes_sent, fetch_sent + 2);
    CHECK(info.last_bytes_received > 2 + 19);

    /* an unknown path is a protected 4.04, not a session error */
    pqcoap_reply r;
    CHECK_EQ_INT(snet_req(sc, PQCOAP_GET, "nothing/here", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&r);

    /* 20 KiB both ways, block-wise under the protection */
    CHECK(snet_big_bodies(sc));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, created + 1); /* all in one session */

    /* connect makes a new session, replacing the old one at the server */
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK);
    CHECK(snet_echo(sc, PQCOAP_GET, "again"));
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, created + 2);
    CHECK_EQ_INT(snet_stats(&srv).live_sessions, 1);
    pqcoap_session_client_free(sc);
}

/* A client restarted on the same store continues above the floor; one whose store was
 * rolled back is refused; the wrong pinned key and an unknown initiator give no session. */
static void test_refusals(pqcoap_store *cstore)
{
    pqcoap_session_client_info info;
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, cstore);
    pqcoap_session_client *sc = snet_client(srv.port, &cfg);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_OK); /* no lockout */
    CHECK(snet_echo(sc, PQCOAP_GET, "restarted"));
    pqcoap_session_client_free(sc);

    /* a counter store rolled back: session_seq below the floor */
    pqcoap_store fresh;
    CHECK_EQ_INT(pqcoap_store_open_memory(&fresh), PQCOAP_OK);
    cfg = snet_client_cfg("client", &id_client, &id_server, &fresh);
    sc = snet_client(srv.port, &cfg);
    uint64_t refused = snet_stats(&srv).handshakes_refused;
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_HANDSHAKE);
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(!info.live);
    CHECK_EQ_INT(snet_stats(&srv).handshakes_refused, refused + 1);
    /* a request reports the same refusal */
    pqcoap_reply r;
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "echo";
    CHECK_EQ_INT(pqcoap_session_client_request(sc, &req, &r), PQCOAP_ERR_HANDSHAKE);
    pqcoap_reply_free(&r);
    pqcoap_session_client_free(sc);

    /* the wrong server key pinned: the RESP does not verify, no session */
    cfg = snet_client_cfg("client", &id_client, &id_other, cstore);
    sc = snet_client(srv.port, &cfg);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(!info.live);
    CHECK_EQ_INT(info.handshakes, 0);
    CHECK(strstr(pqcoap_session_client_last_error(sc), "pinned") != NULL);
    pqcoap_session_client_free(sc);

    /* an initiator the server does not trust: 4.01 "handshake rejected" */
    cfg = snet_client_cfg("stranger", &id_stranger, &id_server, &fresh);
    sc = snet_client(srv.port, &cfg);
    CHECK_EQ_INT(pqcoap_session_client_connect(sc), PQCOAP_ERR_HANDSHAKE);
    CHECK_EQ_INT(pqcoap_session_client_info_get(sc, &info), PQCOAP_OK);
    CHECK(!info.live);
    pqcoap_session_client_free(sc);
    pqcoap_store_close(&fresh);
}

/* The same INIT posted twice by a plain client: the same RESP byte for byte, one session. */
static void test_identical_init(void)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len;
    pqcoap_initiator_cfg icfg = PQCOAP_INITIATOR_CFG_INIT;
    icfg.id = "other";
    icfg.sk = id_other.sk;
    icfg.sk_len = id_other.pub.alg->sk_len;
    icfg.responder_id = "server";
    icfg.responder_pk = id_server.pub.pk;
    icfg.responder_pk_len = id_server.pub.pk_len;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &icfg, 1000, 0, NULL, init, sizeof init, &init_len),
                 PQCOAP_OK);

    pqcoap_client *cl = snet_plain_client(srv.port);
    pqcoap_req req = snet_init_req(init, init_len);
    pqcoap_session_server_stats s0 = snet_stats(&srv);
    pqcoap_reply r1, r2;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r1), PQCOAP_OK);
    CHECK_EQ_INT(r1.msg.code, PQCOAP_CODE(2, 4));
    const pqcoap_opt *cf = pqcoap_msg_find_opt(&r1.msg, PQCOAP_OPT_CONTENT_FORMAT);
    uint32_t v = 0;
    CHECK(cf && pqcoap_opt_uint(cf, &v) == PQCOAP_OK && v == PQCOAP_SESSION_INIT_FORMAT);
    pqcoap_session_server_stats s1 = snet_stats(&srv);
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r2), PQCOAP_OK);
    pqcoap_session_server_stats s2 = snet_stats(&srv);
    CHECK_EQ_INT(r2.msg.code, PQCOAP_CODE(2, 4));
    CHECK(r1.msg.payload_len == r2.msg.payload_len &&
          memcmp(r1.msg.payload, r2.msg.payload, r1.msg.payload_len) == 0);
    CHECK_EQ_INT(s1.sessions_created, s0.sessions_created + 1);
    CHECK_EQ_INT(s2.sessions_created, s1.sessions_created);
    CHECK_EQ_INT(s2.resp_resent, s1.resp_resent + 1);
    CHECK_EQ_INT(s2.live_sessions, s1.live_sessions);
    /* and the RESP completes the handshake */
    pqcoap_session sess;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, r2.msg.payload, r2.msg.payload_len, 1, &sess),
                 PQCOAP_OK);
    pqcoap_session_wipe(&sess);
    pqcoap_initiator_wipe(&st);
    pqcoap_reply_free(&r1);
    pqcoap_reply_free(&r2);
    pqcoap_client_free(cl);
}

/* Sessions end at max_msgs and at lifetime_s; the client re-handshakes cleanly. */
static void test_expiry(pqcoap_store *cstore)
{
    snet_server small;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    scfg.max_msgs = 3;
    snet_server_start(&small, &scfg);
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server, cstore);
    pqcoap_session_client *sc = snet_client(small.port, &cfg);
    int ok = 1;
    for (int i = 0; i < 7; i++)
        ok &= snet_echo(sc, PQCOAP_POST, "m");
    CHECK(ok);
    CHECK_EQ_INT(snet_stats(&small).sessions_created, 3); /* 3 + 3 + 1 requests */
    CHECK_EQ_INT(snet_stats(&small).handshakes_refused, 0);
    pqcoap_session_client_free(sc);
    snet_server_stop(&small);

    scfg = snet_server_cfg(&trust, 0);
    scfg.lifetime_s = 1;
    snet_server_start(&small, &scfg);
    sc = snet_client(small.port, &cfg);
    CHECK(snet_echo(sc, PQCOAP_POST, "before"));
    sleep_ms(1100);
    CHECK(snet_echo(sc, PQCOAP_POST, "after"));
    CHECK_EQ_INT(snet_stats(&small).sessions_created, 2);
    CHECK_EQ_INT(snet_stats(&small).live_sessions, 1);
    pqcoap_session_client_free(sc);
    snet_server_stop(&small);
}

int main(void)
{
    snet_init();
    pqcoap_store cstore; /* the client's counters */
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &scfg);
    test_methods_and_bodies(&cstore);
    test_refusals(&cstore);
    test_identical_init();
    snet_server_stop(&srv);
    test_expiry(&cstore);
    pqcoap_store_close(&cstore);
    snet_fini();
    return check_done();
}
