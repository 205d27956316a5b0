/* Regression tests for what fuzz_block1 found in the server's Block1 reassembly, each first
 * against the transfer table (src/net/blockwise.c) with the blocks of the fuzzer's input,
 * then as datagrams to a real server on loopback:
 * - a last block (M = 0) that ends inside the body already received is refused with 4.00
 *   and the handler does not run; before the fix it was taken for a block received before
 *   and the longer body was served;
 * - the last block of a served empty body, sent again (its response lost), is served again;
 *   before the fix its comparison with the kept body computed NULL + 0 and passed NULL to
 *   memcmp (undefined behaviour: the sanitizer build aborted);
 * - at most max_transfers served bodies are kept; before the fix a body served in the same
 *   millisecond as the oldest kept one was taken for the oldest itself and nothing was
 *   dropped, so bodies served within one millisecond by many peers were all kept (table
 *   only: a test cannot choose the millisecond). */
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"
#include "hardening/raw_coap.h"
#include "net/blockwise_internal.h"
#include "net/net_test.h"

static pqcoap_bw_table tab;
static coap_address_t peer;

static void table_start(void)
{
    memset(&tab, 0, sizeof tab);
    tab.max_body = 2048;
    tab.max_transfers = 4;
    tab.max_per_peer = 2;
    tab.timeout_s = 5;
    coap_address_init(&peer);
    peer.addr.sin.sin_family = AF_INET;
    peer.addr.sin.sin_port = htons(40000);
    peer.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer.size = sizeof peer.addr.sin;
}

/* Takes block b; when it completes a body, checks it is want[0..want_len) and serves it. */
static void table_block(const pqcoap_bw_block *b, uint64_t now, const uint8_t *want,
                        size_t want_len)
{
    pqcoap_bw_answer ans;
    pqcoap_bw_transfer *t = pqcoap_bw_receive(&tab, b, now, &ans);
    if (b->more) {
        CHECK(t == NULL && ans.code == PQCOAP_CODE(2, 31));
        return;
    }
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(t->body.len, want_len);
        CHECK(t->body.len == want_len &&
              (want_len == 0 || memcmp(t->body.data, want, want_len) == 0));
        pqcoap_bw_done(&tab, t, now);
    }
}

/* The crash input: SZX 2 (64 bytes), blocks 0, 1, 2 with M and Size1 200 on the first,
 * then block 1 with M = 0 and 8 bytes: 4.00, and the transfer is dropped. */
static void table_last_inside(void)
{
    uint8_t data[3 * 64];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    table_start();
    for (uint32_t num = 0; num < 3; num++) {
        pqcoap_bw_block b = {&peer, "up", num, 1, 2, num ? 0 : 200, NULL, 0,
                             data + 64 * num, 64};
        table_block(&b, 1000 + num, NULL, 0);
    }
    pqcoap_bw_block last = {&peer, "up", 1, 0, 2, 0, NULL, 0, data + 64, 8};
    pqcoap_bw_answer ans;
    CHECK(pqcoap_bw_receive(&tab, &last, 1003, &ans) == NULL);
    CHECK_EQ_INT(ans.code, PQCOAP_CODE(4, 0));
    CHECK(tab.transfers == NULL && tab.n_pending == 0);
    pqcoap_bw_clear(&tab);
}

/* Block 0 without M and without payload, twice: the same empty body both times. */
static void table_empty_again(void)
{
    table_start();
    pqcoap_bw_block b = {&peer, "a/b", 0, 0, 0, 0, NULL, 0, NULL, 0};
    table_block(&b, 1000, NULL, 0);
    table_block(&b, 1001, NULL, 0);
    pqcoap_bw_clear(&tab);
}

/* The crash input: max_transfers 1; two peers each send a one-block body at the same time;
 * one served body is kept, not two. */
static void table_kept_bound(void)
{
    table_start();
    tab.max_transfers = 1;
    coap_address_t other = peer;
    other.addr.sin.sin_port = htons(40001);
    static const uint8_t data[5] = "hello";
    pqcoap_bw_block a = {&peer, "up", 0, 0, 0, 0, NULL, 0, data, 5};
    pqcoap_bw_block b = {&other, "up", 0, 0, 0, 0, NULL, 0, data, 5};
    table_block(&a, 1000, data, 5);
    table_block(&b, 1000, data, 5);
    unsigned kept = 0;
    for (const pqcoap_bw_transfer *t = tab.transfers; t; t = t->next)
        kept += t->done;
    CHECK_EQ_INT(kept, 1);
    pqcoap_bw_clear(&tab);
}

static atomic_int uploads; /* runs of upload, on the server's thread */

/* POST "up": answers 2.04 with "<body length> <1 if every byte is 'x', else 0>". */
static pqcoap_err upload(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    uploads++;
    int all_x = 1;
    for (size_t i = 0; i < req->payload_len; i++)
        all_x &= req->payload[i] == 'x';
    char text[32];
    int n = snprintf(text, sizeof(text), "%zu %d", req->payload_len, all_x);
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* Sends block `num` of "up" (SZX 6) with message ID mid; for a last block, checks that
 * the answer is 2.04 with `body`, else 2.31. */
static void server_block(int s, uint16_t mid, uint32_t num, int m, size_t len, const char *body)
{
    answer r;
    CHECK(exchange(s, "up", mid, num, m, 0, 0, len, &r));
    if (m) {
        CHECK_EQ_INT(r.code, CODE_CONTINUE);
        return;
    }
    CHECK_EQ_INT(r.code, PQCOAP_CODE(2, 4));
    CHECK(strcmp(r.payload, body) == 0);
    if (strcmp(r.payload, body) != 0)
        fprintf(stderr, "  body served: \"%s\", expected \"%s\"\n", r.payload, body);
}

static void server(void)
{
    test_server ts;
    if (!test_server_new(&ts, "127.0.0.1", NULL, 0)) {
        CHECK(0);
        return;
    }
    CHECK(pqcoap_server_handle(ts.srv, "up", PQCOAP_POST, upload, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    int s = raw_socket(pqcoap_server_port(ts.srv));
    CHECK(s >= 0);
    /* blocks 0, 1, 2 of 1024 bytes, then block 1 as the last with 10 bytes: 4.00 */
    for (uint32_t num = 0; num < 3; num++)
        server_block(s, (uint16_t)(0x100 + num), num, 1, 1024, NULL);
    answer r;
    CHECK(exchange(s, "up", 0x103, 1, 0, 0, 0, 10, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 0));
    CHECK_EQ_INT(atomic_load(&uploads), 0);
    /* an empty body in one block, twice */
    server_block(s, 0x104, 0, 0, 0, "0 1");
    server_block(s, 0x105, 0, 0, 0, "0 1");
    close(s);
    test_server_end(&ts);
}

int main(void)
{
    table_last_inside();
    table_empty_again();
    table_kept_bound();
    server();
    return check_done();
}
