/* Lengths the server takes from block-wise requests, over real UDP on loopback (the test steps
 * the server itself, so it can look at what the server holds between datagrams): the storage
 * of a body being received never exceeds max_body; a last block that ends inside the body
 * received so far is refused, not served with the longer body; a Block2 option asking for
 * blocks of 2048 bytes (SZX 7, reserved for BERT over reliable transports, RFC 8323) gets
 * blocks of 1024. */
#include "check.h"
#include "hardening/raw_coap.h"
#include "net/net_internal.h"
#include "net/net_test.h"

#define MAX_BODY 5000   /* not a power of two: doubling storage would overshoot it */
#define BIG 1500

static int up_runs;

/* POST up: answers the length of the body received, as text. */
static pqcoap_err up(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    char len[24];
    int n = snprintf(len, sizeof(len), "%zu", req->payload_len);
    up_runs++;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)len, (size_t)n);
}

/* GET big: BIG bytes, more than one block. */
static pqcoap_err big(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    static uint8_t body[BIG];
    memset(body, 'b', sizeof(body));
    return pqcoap_msgbuf_set_payload(resp, body, sizeof(body));
}

/* Sends d[0..n) over s and steps the server until the answer comes; 1 with it in *a. */
static int ask(pqcoap_server *srv, int s, const uint8_t *d, size_t n, answer *a)
{
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    for (int i = 0; i < 50; i++) {
        if (pqcoap_server_step(srv, 100) != PQCOAP_OK)
            return 0;
        uint8_t r[1500];
        ssize_t got = recv(s, r, sizeof(r), MSG_DONTWAIT);
        if (got > 0)
            return parse(r, (size_t)got, a);
    }
    return 0;
}

/* Block `num` of a POST up with Request-Tag `rtag`: `len` bytes, M = m. */
static int block(pqcoap_server *srv, int s, uint16_t mid, uint32_t num, int m, uint8_t rtag,
                 size_t len, answer *a)
{
    uint8_t d[1200];
    return ask(srv, s, d, block_post(d, "up", mid, num, m, 0, rtag, len), a);
}

int main(void)
{
    test_server ts;
    pqcoap_server *srv = test_server_new(&ts, "127.0.0.1", NULL, MAX_BODY);
    CHECK(srv != NULL);
    if (!srv)
        return check_done();
    CHECK(pqcoap_server_handle(srv, "up", PQCOAP_POST, up, NULL) == PQCOAP_OK);
    CHECK(pqcoap_server_handle(srv, "big", PQCOAP_GET, big, NULL) == PQCOAP_OK);
    int s = raw_socket(pqcoap_server_port(srv));
    CHECK(s >= 0);
    answer a;

    /* A body of exactly max_body in blocks of 1024: served, and never more storage than
     * max_body held for it. */
    for (uint32_t num = 0; num < 4; num++) {
        CHECK(block(srv, s, (uint16_t)(0x100 + num), num, 1, 1, 1024, &a));
        CHECK_EQ_INT(a.code, CODE_CONTINUE);
        CHECK(pqcoap_net_server_body_bytes(srv) <= MAX_BODY);
    }
    CHECK(block(srv, s, 0x104, 4, 0, 1, MAX_BODY - 4096, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(2, 4));
    CHECK(strcmp(a.payload, "5000") == 0);
    CHECK_EQ_INT(pqcoap_net_server_body_bytes(srv), MAX_BODY);

    /* Blocks 0..2 with M set, then a last block 1 of 10 bytes: the body it describes ends
     * inside what came before. Refused; the handler does not run. */
    int runs = up_runs;
    for (uint32_t num = 0; num < 3; num++)
        CHECK(block(srv, s, (uint16_t)(0x200 + num), num, 1, 2, 1024, &a) &&
              a.code == CODE_CONTINUE);
    CHECK(block(srv, s, 0x203, 1, 0, 2, 10, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(4, 0));
    CHECK_EQ_INT(up_runs, runs);

    /* GET with Block2 SZX 7: answered in blocks of 1024 bytes. */
    uint8_t d[64];
    uint16_t last;
    size_t n = raw_request(d, 1, PQCOAP_GET, 0x300, "big", &last);
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK2, 7);
    CHECK(ask(srv, s, d, n, &a));
    CHECK_EQ_INT(a.code, PQCOAP_CODE(2, 5));
    CHECK(a.has_block2 && (a.block2 & 7) == 6 && (a.block2 & 8) && a.payload_len == 1024);

    close(s);
    test_server_end(&ts);
    return check_done();
}
