/* What the proxies need of the server, on the wire: with ack_delay_ms a deferred response
 * that is ready in time goes back piggybacked in the ACK (RFC 7252 section 5.2.1), which is
 * how a response larger than one block to a CON request reaches a libcoap 4.3.1 client;
 * one that is not ready gets the empty ACK when the delay is over and then comes as a
 * separate CON response (section 5.2.2). The default handler serves paths without a route
 * of their own, and a request without a security layer names no peer. */
#include <poll.h>

#include "check.h"
#include "net/net_test.h"

#define BIG 3000

static uint8_t big[BIG];
static uint64_t held;               /* the ticket of the request on "held" */
static int peer_named;              /* a handler saw pqcoap_server_req_peer() != "" */

/* Default handler: defers; "big" and "now" are completed at once, "held" later by main. */
static pqcoap_err later(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    pqcoap_server *srv = arg;
    (void)resp;
    peer_named |= pqcoap_server_req_peer(rq)[0] != '\0';
    const pqcoap_opt *path = pqcoap_msg_find_opt(req, PQCOAP_OPT_URI_PATH);
    uint64_t ticket;
    if (pqcoap_server_defer(rq, &ticket) != PQCOAP_OK)
        return PQCOAP_ERR_NOMEM;
    if (path && path->len == 4 && memcmp(path->value, "held", 4) == 0) {
        held = ticket;
        return PQCOAP_OK;
    }
    int is_big = path && path->len == 3 && memcmp(path->value, "big", 3) == 0;
    pqcoap_msg m = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, is_big ? big : (const uint8_t *)"now",
                    is_big ? BIG : 3};
    return pqcoap_server_complete(srv, ticket, &m);
}

static pqcoap_err fixed(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"fixed", 5);
}

/* A CON GET of `path` (under 13 bytes) with message ID `mid` and a 4-byte token. */
static size_t con_get(uint8_t *d, uint16_t mid, const char *path)
{
    size_t n = strlen(path);
    d[0] = 0x44; /* version 1, CON, token length 4 */
    d[1] = PQCOAP_GET;
    d[2] = (uint8_t)(mid >> 8);
    d[3] = (uint8_t)mid;
    memcpy(d + 4, "tokn", 4);
    d[8] = (uint8_t)(PQCOAP_OPT_URI_PATH << 4 | n);
    memcpy(d + 9, path, n);
    return 9 + n;
}

/* Receives one datagram (waiting at most 30 s); its length or 0. */
static size_t recv_one(int fd, uint8_t *d, size_t cap)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1)
        return 0;
    ssize_t n = recv(fd, d, cap, 0);
    return n > 0 ? (size_t)n : 0;
}

#define TYPE(d) (((d)[0] >> 4) & 3)
#define MID(d) ((uint16_t)((d)[2] << 8 | (d)[3]))

static void raw_exchanges(uint16_t port, pqcoap_server *srv)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    uint8_t d[2048];
    size_t n;

    /* ready in time: the answer is the ACK itself */
    n = con_get(d, 0x1234, "now");
    CHECK(send(fd, d, n, 0) == (ssize_t)n);
    n = recv_one(fd, d, sizeof d);
    CHECK(n == 4 + 4 + 1 + 3 && TYPE(d) == 2 && d[1] == PQCOAP_CODE(2, 5) && MID(d) == 0x1234 &&
          memcmp(d + 4, "tokn", 4) == 0 && d[8] == 0xff && memcmp(d + 9, "now", 3) == 0);

    /* not ready: an empty ACK when the delay is over, then the separate response */
    held = 0;
    n = con_get(d, 0x2345, "held");
    CHECK(send(fd, d, n, 0) == (ssize_t)n);
    n = recv_one(fd, d, sizeof d);
    CHECK(n == 4 && TYPE(d) == 2 && d[1] == 0 && MID(d) == 0x2345);
    CHECK(held != 0);
    pqcoap_msg m = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, (const uint8_t *)"late", 4};
    CHECK_EQ_INT(pqcoap_server_complete(srv, held, &m), PQCOAP_OK);
    n = recv_one(fd, d, sizeof d);
    CHECK(n == 4 + 4 + 1 + 4 && TYPE(d) == 0 && d[1] == PQCOAP_CODE(2, 5) && MID(d) != 0x2345 &&
          memcmp(d + 4, "tokn", 4) == 0 && memcmp(d + 9, "late", 4) == 0);
    uint8_t ack[4] = {0x60, 0, d[2], d[3]};
    CHECK(send(fd, ack, 4, 0) == 4);
    close(fd);
}

int main(void)
{
    for (size_t i = 0; i < BIG; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 8));
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    cfg.addr = "127.0.0.1";
    cfg.port = 0;
    cfg.ack_delay_ms = 1000;
    test_server ts;
    ts.running = 0;
    char msg[160];
    CHECK_EQ_INT(pqcoap_server_create(&cfg, &ts.srv, msg, sizeof msg), PQCOAP_OK);
    cfg.ack_delay_ms = 60001;
    pqcoap_server *bad = NULL;
    CHECK_EQ_INT(pqcoap_server_create(&cfg, &bad, msg, sizeof msg), PQCOAP_ERR_ARG);
    if (!ts.srv)
        return check_done();
    CHECK_EQ_INT(pqcoap_server_handle_default(ts.srv, later, ts.srv), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "fixed", PQCOAP_GET, fixed, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    uint16_t port = pqcoap_server_port(ts.srv);

    raw_exchanges(port, ts.srv);

    /* libcoap's own client: three blocks, the first in the ACK */
    char uri[96];
    test_uri(uri, sizeof uri, "127.0.0.1", &ts, "big");
    pqcoap_client *cl = test_client(uri, NULL);
    CHECK(cl != NULL);
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply r;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
    CHECK(r.msg.code == PQCOAP_CODE(2, 5) && r.msg.payload_len == BIG &&
          memcmp(r.msg.payload, big, BIG) == 0);
    pqcoap_reply_free(&r);

    /* routes first, the default handler for the rest */
    req.path = "fixed";
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
    CHECK(r.msg.payload_len == 5 && memcmp(r.msg.payload, "fixed", 5) == 0);
    pqcoap_reply_free(&r);
    req.method = PQCOAP_POST;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 5));
    pqcoap_reply_free(&r);
    req.path = "any/other/path";
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
    CHECK(r.msg.code == PQCOAP_CODE(2, 5) && r.msg.payload_len == 3);
    pqcoap_reply_free(&r);
    pqcoap_client_free(cl);

    CHECK(!peer_named);
    test_server_end(&ts);
    return check_done();
}
