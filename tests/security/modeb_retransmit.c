/* Regression (Mode B kept-response amplification): the session server answered any datagram
 * carrying the bytes of a session's last request with the kept protected response, whatever
 * its message ID, source address or age, so a short datagram from a spoofed address drew a
 * response ~30 times larger, again and again. Only a retransmission (RFC 7252 section 4.5:
 * the same message ID from the same address, within EXCHANGE_LIFETIME) gets the kept
 * response, at most 5 times; anything else with an n already seen is a replay, answered
 * with a short 4.01 "rejected". Real UDP sockets on loopback, protected requests by hand. */
#include "check.h"
#include "modeb_raw.h"

#define DATA_LEN 1000
#define RESENDS_MAX 5

static atomic_int data_runs;

/* "data", GET: counts the run, answers DATA_LEN bytes. */
static pqcoap_err h_data(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    atomic_fetch_add(&data_runs, 1);
    memset(resp->payload, 'd', DATA_LEN);
    resp->payload_len = DATA_LEN;
    return PQCOAP_OK;
}

static void test_retransmissions(uint16_t port, pqcoap_session_server *ss)
{
    pqcoap_session s;
    CHECK_EQ_INT(raw_handshake(port, "client", &id_client, 1, &s), PQCOAP_OK);
    int a = raw_socket_to(port), b = raw_socket_to(port);
    CHECK(a >= 0 && b >= 0);

    static uint8_t req[RAW_DGRAM_MAX], other_mid[RAW_DGRAM_MAX];
    static raw_answer first, again;
    size_t n = raw_protected(&s, PQCOAP_GET, "data", "", 0x1234, req);
    CHECK(n > 0 && n < 40);
    CHECK(raw_exchange(a, req, n, 0x1234, &first));
    CHECK_EQ_INT(first.code, PQCOAP_CODE(2, 5));
    CHECK(first.len > DATA_LEN);
    CHECK_EQ_INT(atomic_load(&data_runs), 1);

    /* a retransmission: same message ID, same address -> the same datagram, no handler run */
    CHECK(raw_exchange(a, req, n, 0x1234, &again));
    CHECK(again.len == first.len && memcmp(again.d, first.d, first.len) == 0);
    CHECK_EQ_INT(atomic_load(&data_runs), 1);

    /* the same bytes under another message ID: a replay, answered short */
    memcpy(other_mid, req, n);
    other_mid[2] = 0x43;
    other_mid[3] = 0x21;
    CHECK(raw_exchange(a, other_mid, n, 0x4321, &again));
    CHECK_EQ_INT(again.code, PQCOAP_CODE(4, 1));
    CHECK(raw_payload_is(&again, "rejected"));
    CHECK(again.len < n);

    /* the same datagram from another source address (socket b): a replay too */
    CHECK(raw_exchange(b, req, n, 0x1234, &again));
    CHECK_EQ_INT(again.code, PQCOAP_CODE(4, 1));
    CHECK(raw_payload_is(&again, "rejected"));
    CHECK(again.len < n);
    CHECK_EQ_INT(atomic_load(&data_runs), 1);

    /* the kept response goes out at most RESENDS_MAX times in all (one above); the server
     * recognises the duplicates before the session layer (RFC 7252 section 4.5, dedup.c)
     * and stays silent after that */
    int resent = 1, silent = 0;
    for (int i = 0; i < RESENDS_MAX + 2; i++) {
        if (!raw_exchange(a, req, n, 0x1234, &again))
            silent++;
        else if (again.len == first.len && memcmp(again.d, first.d, first.len) == 0)
            resent++;
    }
    CHECK_EQ_INT(resent, RESENDS_MAX);
    CHECK_EQ_INT(silent, 3);
    CHECK_EQ_INT(atomic_load(&data_runs), 1);
    pqcoap_session_server_stats st;
    CHECK_EQ_INT(pqcoap_session_server_stats_get(ss, &st), PQCOAP_OK);
    CHECK_EQ_INT(st.retransmissions, 0); /* none reached the session layer */

    /* the session goes on: the next request is served */
    n = raw_protected(&s, PQCOAP_GET, "data", "", 0x1235, req);
    CHECK(raw_exchange(a, req, n, 0x1235, &again));
    CHECK_EQ_INT(again.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(atomic_load(&data_runs), 2);

    close(a);
    close(b);
    pqcoap_session_wipe(&s);
}

int main(void)
{
    snet_init();
    pqcoap_session_server_config cfg = snet_server_cfg(&trust, 0);
    snet_server srv;
    char msg[160];
    snet_must(pqcoap_session_server_create(&cfg, &srv.ss, msg, sizeof msg) == PQCOAP_OK,
              "session server");
    pqcoap_server *coap = pqcoap_session_server_coap(srv.ss);
    snet_must(pqcoap_server_handle(coap, "data", PQCOAP_GET, h_data, NULL) == PQCOAP_OK,
              "handle");
    srv.port = pqcoap_server_port(coap);
    snet_must(pthread_create(&srv.thread, NULL, snet_server_main, &srv) == 0, "thread");

    test_retransmissions(srv.port, srv.ss);

    snet_server_stop(&srv);
    snet_fini();
    return check_done();
}
