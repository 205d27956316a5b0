/* Duplicated requests (RFC 7252 section 4.5) over real UDP on loopback: a CON request sent
 * again with the same message ID from the same endpoint gets the same response, byte for byte,
 * and its handler runs once; another message ID, another source port or another datagram
 * under the same message ID is a new request; a kept response is resent at most 5 times; a
 * duplicated NON request is ignored; the same holds
 * for the last block of a block-wise request, for a deferred request after its separate
 * response, and for a Mode A v1 request whose response was lost. */
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"
#include "hardening/raw_coap.h"
#include "net/net_test.h"
#include "pqcoap/keys.h"
#include "pqcoap/sign_endpoint.h"
#include "pqcoap/store.h"
#include "udp_proxy.h"

static atomic_int counter_runs, slow_runs;
static atomic_ullong slow_ticket;

/* POST counter: counts its runs and answers the count as text. */
static pqcoap_err counter(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    char text[16];
    int n = snprintf(text, sizeof(text), "%d", atomic_fetch_add(&counter_runs, 1) + 1);
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* POST slow: defers; the test completes the ticket. */
static pqcoap_err slow(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                       pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)req;
    (void)resp;
    uint64_t t;
    atomic_fetch_add(&slow_runs, 1);
    pqcoap_err err = pqcoap_server_defer(rq, &t);
    atomic_store(&slow_ticket, t);
    return err;
}

/* A POST of `path` with token = mid (2 bytes) and a 3-byte payload, CON or NON. */
static size_t post(uint8_t *d, const char *path, uint16_t mid, int con)
{
    uint16_t last;
    size_t n = raw_request(d, con, PQCOAP_POST, mid, path, &last);
    d[n++] = 0xff;
    memcpy(d + n, "abc", 3);
    return n + 3;
}

/* Sends d[0..n) on s and returns the length of the next datagram received into r (0 when none
 * comes within the socket's receive timeout). */
static size_t send_recv(int s, const uint8_t *d, size_t n, uint8_t *r, size_t cap)
{
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    ssize_t got = recv(s, r, cap, 0);
    return got > 0 ? (size_t)got : 0;
}

/* True if the next datagram on s answers a fresh CON POST counter with message ID `mid`:
 * so nothing was sent in between. */
static int next_is_fresh_answer(int s, uint16_t mid)
{
    uint8_t d[256], r[256];
    answer a;
    size_t n = send_recv(s, d, post(d, "counter", mid, 1), r, sizeof(r));
    return n && parse(r, n, &a) && a.mid == mid && a.code == PQCOAP_CODE(2, 4);
}

static void test_plain(uint16_t port)
{
    int a = raw_socket(port), b = raw_socket(port);
    CHECK(a >= 0 && b >= 0);
    uint8_t d[1200], first[256], again[256];
    answer r;
    size_t n = post(d, "counter", 0x1000, 1);
    size_t n1 = send_recv(a, d, n, first, sizeof(first));
    CHECK(n1 && parse(first, n1, &r) && r.mid == 0x1000 && strcmp(r.payload, "1") == 0);
    /* The same datagram again: the same bytes back, the handler did not run. Five times. */
    for (int i = 0; i < 5; i++) {
        size_t n2 = send_recv(a, d, n, again, sizeof(again));
        CHECK(n2 == n1 && memcmp(first, again, n1) == 0);
    }
    CHECK_EQ_INT(atomic_load(&counter_runs), 1);
    /* A sixth time it is dropped: the next datagram answers the next request. */
    CHECK(send(a, d, n, 0) == (ssize_t)n);
    CHECK(next_is_fresh_answer(a, 0x1001));
    CHECK_EQ_INT(atomic_load(&counter_runs), 2);
    /* The same message ID and token from another source port is another request. */
    size_t n3 = send_recv(b, d, n, again, sizeof(again));
    CHECK(n3 && parse(again, n3, &r) && strcmp(r.payload, "3") == 0);
    /* A duplicated NON request is ignored (RFC 7252 section 4.5). */
    n = post(d, "counter", 0x1002, 0);
    size_t n4 = send_recv(a, d, n, again, sizeof(again));
    CHECK(n4 && parse(again, n4, &r) && r.type == 1 && strcmp(r.payload, "4") == 0);
    CHECK(send(a, d, n, 0) == (ssize_t)n);
    CHECK(next_is_fresh_answer(a, 0x1003));
    CHECK_EQ_INT(atomic_load(&counter_runs), 5);

    /* Block-wise: the last block again gets the same response; the handler ran once. */
    answer cont;
    CHECK(exchange(a, "counter", 0x1100, 0, 1, 0, 9, 1024, &cont) && cont.code == CODE_CONTINUE);
    n = block_post(d, "counter", 0x1101, 1, 0, 0, 9, 10);
    n1 = send_recv(a, d, n, first, sizeof(first));
    CHECK(n1 && parse(first, n1, &r) && strcmp(r.payload, "6") == 0);
    size_t n5 = send_recv(a, d, n, again, sizeof(again));
    CHECK(n5 == n1 && memcmp(first, again, n1) == 0);
    CHECK_EQ_INT(atomic_load(&counter_runs), 6);

    /* Another datagram under the same message ID (a corrupted or forged copy) is handled on
     * its own and does not take the place of the genuine request. */
    n = post(d, "counter", 0x1200, 1);
    n1 = send_recv(a, d, n, first, sizeof(first));
    CHECK(n1 && parse(first, n1, &r) && strcmp(r.payload, "7") == 0);
    d[n - 1] ^= 1;
    size_t n6 = send_recv(a, d, n, again, sizeof(again));
    CHECK(n6 && parse(again, n6, &r) && strcmp(r.payload, "8") == 0);
    d[n - 1] ^= 1;
    n6 = send_recv(a, d, n, again, sizeof(again));
    CHECK(n6 == n1 && memcmp(first, again, n1) == 0);
    CHECK_EQ_INT(atomic_load(&counter_runs), 8);
    close(a);
    close(b);
}

/* A deferred request sent again after its separate response gets the empty ACK again; the
 * handler does not run again. */
static void test_deferred(pqcoap_server *srv, uint16_t port)
{
    int s = raw_socket(port);
    CHECK(s >= 0);
    uint8_t d[256], r[256];
    answer a;
    size_t n = post(d, "slow", 0x2000, 1);
    size_t got = send_recv(s, d, n, r, sizeof(r));
    CHECK(got && parse(r, got, &a) && a.type == 2 && a.code == 0 && a.mid == 0x2000);
    pqcoap_msg done = {PQCOAP_CODE(2, 4), NULL, 0, NULL, 0, (const uint8_t *)"done", 4};
    CHECK_EQ_INT(pqcoap_server_complete(srv, atomic_load(&slow_ticket), &done), PQCOAP_OK);
    /* The separate response: CON with the request's token; acknowledge it. */
    ssize_t sep = recv(s, r, sizeof(r), 0);
    CHECK(sep > 0 && parse(r, (size_t)sep, &a) && a.type == 0 && strcmp(a.payload, "done") == 0);
    uint8_t ack[4] = {0x60, 0, (uint8_t)(a.mid >> 8), (uint8_t)a.mid};
    CHECK(send(s, ack, sizeof(ack), 0) == (ssize_t)sizeof(ack));
    got = send_recv(s, d, n, r, sizeof(r));
    CHECK(got && parse(r, got, &a) && a.type == 2 && a.code == 0 && a.mid == 0x2000);
    CHECK_EQ_INT(atomic_load(&slow_runs), 1);
    close(s);
}

/* Mode A v1 has no retransmission cache of its own: the response to a POST is lost, the
 * client retransmits it, and the server answers from its kept response. */
static void test_sign_v1(void)
{
    pqcoap_identity client, server;
    pqcoap_store store;
    CHECK(pqcoap_identity_generate("falcon-512", NULL, &client) == PQCOAP_OK);
    CHECK(pqcoap_identity_generate("falcon-512", NULL, &server) == PQCOAP_OK);
    client.pub.usage = PQCOAP_USAGE_SIGN_V1;
    server.pub.usage = PQCOAP_USAGE_SIGN_V1;
    CHECK(pqcoap_store_open_memory(&store) == PQCOAP_OK);
    pqcoap_sign_server_config lcfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    lcfg.policy = PQCOAP_SIGN_V1_ONLY;
    lcfg.v1_keys = &client.pub;
    lcfg.n_v1_keys = 1;
    pqcoap_sign_server *layer = NULL;
    CHECK(pqcoap_sign_server_new(&server, &store, &lcfg, &layer) == PQCOAP_OK);
    test_server ts;
    CHECK(layer && test_server_new(&ts, "127.0.0.1", pqcoap_sign_server_layer(layer), 0));
    CHECK(pqcoap_server_handle(ts.srv, "counter", PQCOAP_POST, counter, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    udp_proxy_cfg clean;
    memset(&clean, 0, sizeof(clean));
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start(&clean, pqcoap_server_port(ts.srv), &pport);
    CHECK(proxy != NULL);

    char uri[64], msg[160];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u", pport);
    pqcoap_sign_client_config ccfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    ccfg.version = 1;
    ccfg.net.ack_timeout_ms = 1000;
    pqcoap_sign_client *c = NULL;
    CHECK(pqcoap_sign_client_open(uri, &client, NULL, &ccfg, &c, msg, sizeof(msg)) == PQCOAP_OK);
    CHECK(c && pqcoap_sign_client_pin(c, &server.pub) == PQCOAP_OK);
    int before = atomic_load(&counter_runs);
    udp_proxy_drop_next_reply(proxy);
    pqcoap_reply r;
    memset(&r, 0, sizeof(r));
    CHECK_EQ_INT(c ? pqcoap_sign_client_post(c, "counter", (const uint8_t *)"x", 1, &r)
                   : PQCOAP_ERR_ARG, PQCOAP_OK);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(atomic_load(&counter_runs), before + 1);
    udp_proxy_stats ps;
    udp_proxy_stop(proxy, &ps);
    CHECK_EQ_INT(ps.dropped, 1);
    pqcoap_sign_client_free(c);
    test_server_end(&ts);
    pqcoap_sign_server_free(layer);
    pqcoap_store_close(&store);
    pqcoap_identity_wipe(&client);
    pqcoap_identity_wipe(&server);
}

int main(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK(pqcoap_server_handle(ts.srv, "counter", PQCOAP_POST, counter, NULL) == PQCOAP_OK);
    CHECK(pqcoap_server_handle(ts.srv, "slow", PQCOAP_POST, slow, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    test_plain(pqcoap_server_port(ts.srv));
    test_deferred(ts.srv, pqcoap_server_port(ts.srv));
    test_server_end(&ts);
    test_sign_v1();
    return check_done();
}
