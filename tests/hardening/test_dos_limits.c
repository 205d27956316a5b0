/* DoS limits of the CoAP server over real UDP on loopback: a block-wise request announcing
 * or reaching more than max_body gets 4.13 with Size1 at once, a peer opening more pending
 * block-wise requests than allowed gets 5.03 with Max-Age, so does anyone over the total,
 * and other clients keep being served meanwhile; a retransmitted last block is served
 * again from the kept body. */
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"
#include "net/net_test.h"
#include "raw_coap.h"

#define MAX_BODY 4096
#define PER_PEER 2
#define TOTAL 4
#define TIMEOUT_S 30

static atomic_int upload_runs;

/* POST "up": answers 2.04 with the length of the body received, as text. */
static pqcoap_err upload(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    char len[24];
    int n = snprintf(len, sizeof(len), "%zu", req->payload_len);
    atomic_fetch_add(&upload_runs, 1);
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)len, (size_t)n);
}

static pqcoap_err hello(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"hi", 2);
}

/* A body of `len` bytes POSTed block-wise by a pqcoap client with Content-Format `cf`
 * (-1 = none) gets "len" back. */
static int client_upload(const test_server *ts, size_t len, int cf)
{
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, "up");
    pqcoap_client *cl = test_client(uri, NULL);
    uint8_t *body = calloc(1, len);
    int ok = 0;
    if (cl && body) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply r;
        char want[24];
        snprintf(want, sizeof(want), "%zu", len);
        req.method = PQCOAP_POST;
        req.content_format = cf;
        req.payload = body;
        req.payload_len = len;
        ok = pqcoap_client_request(cl, &req, &r) == PQCOAP_OK &&
             r.msg.code == PQCOAP_CODE(2, 4) && r.msg.payload_len == strlen(want) &&
             memcmp(r.msg.payload, want, strlen(want)) == 0;
        pqcoap_reply_free(&r);
    }
    free(body);
    pqcoap_client_free(cl);
    return ok;
}

/* Two block-wise POSTs from one client, Content-Format 0 and then 60. */
static int client_upload2(const test_server *ts)
{
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, "up");
    pqcoap_client *cl = test_client(uri, NULL);
    static uint8_t body[2500];
    int ok = cl != NULL;
    for (int cf = 0; ok && cf <= 60; cf += 60) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply r;
        req.method = PQCOAP_POST;
        req.content_format = cf;
        req.payload = body;
        req.payload_len = sizeof(body);
        ok = pqcoap_client_request(cl, &req, &r) == PQCOAP_OK && r.msg.code == PQCOAP_CODE(2, 4);
        if (!ok)
            fprintf(stderr, "upload cf %d: code %d.%02d\n", cf, r.msg.code >> 5, r.msg.code & 31);
        pqcoap_reply_free(&r);
    }
    pqcoap_client_free(cl);
    return ok;
}

int main(void)
{
    test_server ts;
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    char msg[160];
    cfg.addr = "127.0.0.1";
    cfg.port = 0;
    cfg.max_body = MAX_BODY;
    cfg.max_transfers = TOTAL;
    cfg.max_transfers_per_peer = PER_PEER;
    cfg.transfer_timeout_s = TIMEOUT_S;
    ts.running = 0;
    if (pqcoap_server_create(&cfg, &ts.srv, msg, sizeof(msg)) != PQCOAP_OK) {
        fprintf(stderr, "server: %s\n", msg);
        return 1;
    }
    CHECK(pqcoap_server_handle(ts.srv, "up", PQCOAP_POST, upload, NULL) == PQCOAP_OK);
    CHECK(pqcoap_server_handle(ts.srv, "hello", PQCOAP_GET, hello, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    uint16_t port = pqcoap_server_port(ts.srv);
    int a = raw_socket(port), b = raw_socket(port), c = raw_socket(port);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    answer r;

    /* RFC 7959 section 4: the first block announces 100000 bytes; 4.13 with Size1 at once. */
    CHECK(exchange(a, "up", 0x100, 0, 1, 100000, 0, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    /* No Size1, but block 5 of 1024 bytes already ends past max_body. */
    CHECK(exchange(a, "up", 0x101, 5, 1, 0, 0, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    /* Blocks 0..3 fill max_body; one more byte in block 4 is too much. */
    CHECK(exchange(a, "up", 0x103, 0, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "up", 0x104, 1, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "up", 0x105, 2, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "up", 0x106, 3, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "up", 0x107, 4, 0, 0, 7, 1, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    CHECK_EQ_INT(atomic_load(&upload_runs), 0);

    /* Peer a opens PER_PEER transfers; the next one gets 5.03 with Max-Age. */
    CHECK(exchange(a, "up", 0x200, 0, 1, 2048, 1, 1024, &r));
    CHECK_EQ_INT(r.code, CODE_CONTINUE);
    CHECK(r.has_block1);
    CHECK(exchange(a, "up", 0x201, 0, 1, 2048, 2, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, "up", 0x202, 0, 1, 2048, 3, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));
    CHECK(r.has_max_age && r.max_age == TIMEOUT_S);
    /* Another client is served meanwhile, also block-wise. */
    CHECK_EQ_INT(test_get_count(&ts, "hello", "hi", 3), 3);
    CHECK(client_upload(&ts, 3000, -1));
    CHECK_EQ_INT(atomic_load(&upload_runs), 1);
    /* Two uploads in a row on one client with different Content-Formats both succeed. */
    CHECK(client_upload2(&ts));
    CHECK_EQ_INT(atomic_load(&upload_runs), 3);

    /* Peer b takes the rest of the total; peer c is refused although it has none. */
    CHECK(exchange(b, "up", 0x300, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(b, "up", 0x301, 0, 1, 0, 2, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, "up", 0x400, 0, 1, 0, 1, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));
    CHECK(r.has_max_age);
    CHECK_EQ_INT(test_get_count(&ts, "hello", "hi", 2), 2);

    /* A missing block ends the transfer with 4.08 (RFC 7959 section 2.9.2), freeing room. */
    CHECK(exchange(b, "up", 0x302, 2, 0, 0, 2, 10, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 8));
    /* Peer a completes one transfer: the handler gets the whole body. */
    CHECK(exchange(a, "up", 0x203, 1, 0, 0, 1, 1000, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(2, 4));
    CHECK(strcmp(r.payload, "2024") == 0);
    CHECK_EQ_INT(atomic_load(&upload_runs), 4);
    /* Its response was "lost": the same last block again (same message ID) is served from the
     * kept body, not refused as incomplete (RFC 7252 section 4.5). */
    CHECK(exchange(a, "up", 0x203, 1, 0, 0, 1, 1000, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(2, 4));
    CHECK(strcmp(r.payload, "2024") == 0);
    /* A later block of that finished body that is not its last block is incomplete. */
    CHECK(exchange(a, "up", 0x205, 1, 1, 0, 1, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 8));
    /* Now there is room again, for a and for c. */
    CHECK(exchange(a, "up", 0x204, 0, 1, 0, 3, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, "up", 0x401, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, "up", 0x402, 0, 1, 0, 2, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));

    /* Pending transfers are left open: freeing the server releases them (ASan). */
    close(a);
    close(b);
    close(c);
    test_server_end(&ts);
    return check_done();
}
