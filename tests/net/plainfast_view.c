/* The server reads a request's options once (pqcoap_net_view_all) and makes the handlers' view
 * from it (pqcoap_net_visible): for requests and responses with hidden and visible options,
 * at and past the option limit and with option numbers past 65535, that gives what
 * pqcoap_net_view gives. Then on loopback: the Block2 size a request asks for (SZX 0, and an
 * empty Block2 value, which is SZX 0 too) sizes the blocks of its response. */
#include <stdatomic.h>

#include "check.h"
#include "hardening/raw_coap.h"
#include "net/net_internal.h"
#include "net/net_test.h"

/* Views datagram d[0..n) both ways and checks that they agree; returns pqcoap_net_view's
 * result. *n_all gets the number of options pqcoap_net_view_all saw. */
static pqcoap_err both_views(const uint8_t *d, size_t n, size_t *n_all)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, n);
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS], all_opts[PQCOAP_NET_MAX_OPTS + 8],
        vis[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg m, all, v;
    CHECK(pdu && coap_pdu_parse(COAP_PROTO_UDP, d, n, pdu));
    pqcoap_err err = pqcoap_net_view(pdu, opts, PQCOAP_NET_MAX_OPTS, &m);
    pqcoap_err err_all = pqcoap_net_view_all(pdu, all_opts, PQCOAP_NET_MAX_OPTS + 8, &all);
    *n_all = err_all == PQCOAP_OK ? all.n_opts : 0;
    if (err_all == PQCOAP_OK)
        err_all = pqcoap_net_visible(&all, vis, PQCOAP_NET_MAX_OPTS, &v);
    CHECK_EQ_INT(err_all, err);
    if (err == PQCOAP_OK && err_all == PQCOAP_OK) {
        CHECK(v.code == m.code && v.token == m.token && v.token_len == m.token_len &&
              v.payload == m.payload && v.payload_len == m.payload_len && v.n_opts == m.n_opts);
        for (size_t i = 0; i < m.n_opts && i < v.n_opts; i++)
            CHECK(vis[i].number == opts[i].number && vis[i].value == opts[i].value &&
                  vis[i].len == opts[i].len);
    }
    coap_delete_pdu(pdu);
    return err;
}

static void views(void)
{
    uint8_t d[1200];
    uint16_t last;
    size_t n_all;
    /* GET a/b?q with Block2 (SZX 2) and Size1, which a request hides, and a payload */
    size_t n = raw_request(d, 1, PQCOAP_GET, 1, "a", &last);
    n = put_opt(d, n, &last, PQCOAP_OPT_URI_PATH, (const uint8_t *)"b", 1);
    n = put_opt(d, n, &last, PQCOAP_OPT_URI_QUERY, (const uint8_t *)"q", 1);
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK2, 2);
    n = put_uint(d, n, &last, PQCOAP_OPT_SIZE1, 100);
    d[n++] = 0xff, d[n++] = 'p';
    CHECK_EQ_INT(both_views(d, n, &n_all), PQCOAP_OK);
    CHECK_EQ_INT(n_all, 5);
    /* a block of a POST: Content-Format, Block1, Size1, Request-Tag */
    n = block_post(d, "up", 2, 1, 1, 3000, 7, 64);
    CHECK_EQ_INT(both_views(d, n, &n_all), PQCOAP_OK);
    CHECK_EQ_INT(n_all, 4);
    /* a response: Block2 and Size2 hidden, Size1 shown (4.13) */
    n = raw_request(d, 0, PQCOAP_CODE(4, 13), 3, "x", &last);
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK2, 0x16);
    n = put_uint(d, n, &last, PQCOAP_OPT_SIZE2, 5000);
    n = put_uint(d, n, &last, PQCOAP_OPT_SIZE1, 1024);
    CHECK_EQ_INT(both_views(d, n, &n_all), PQCOAP_OK);
    /* PQCOAP_NET_MAX_OPTS shown options and a Block1: fine; one shown more: too many */
    n = raw_request(d, 1, PQCOAP_POST, 4, "m", &last);
    for (int i = 1; i < PQCOAP_NET_MAX_OPTS; i++)
        n = put_opt(d, n, &last, PQCOAP_OPT_URI_QUERY, (const uint8_t *)"q", 1);
    size_t at_limit = n;
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK1, 0x0e);
    CHECK_EQ_INT(both_views(d, n, &n_all), PQCOAP_OK);
    n = put_opt(d, at_limit, &(uint16_t){PQCOAP_OPT_URI_QUERY}, PQCOAP_OPT_URI_QUERY,
                (const uint8_t *)"q", 1);
    CHECK_EQ_INT(both_views(d, n, &n_all), PQCOAP_ERR_TOO_LARGE);
    /* option numbers past 65535 (RFC 7252 section 5.4.6) */
    static const uint8_t wrap[] = {0x42, PQCOAP_POST, 0x12, 0x34, 0x12, 0x34,
                                   0xb2, 'c', 'f', 0xe0, 0xfe, 0xf4};
    CHECK_EQ_INT(both_views(wrap, sizeof wrap, &n_all), PQCOAP_ERR_MALFORMED);
}

/* GET forty: 40 bytes of text. */
static pqcoap_err forty(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"0123456789012345678901234567890123456789", 40);
}

/* GET forty with a Block2 option of `len` bytes (value v); the first answer into *a. */
static int get_block(int s, uint16_t mid, size_t len, uint8_t v, answer *a)
{
    uint8_t d[64], r[256];
    uint16_t last;
    size_t n = raw_request(d, 1, PQCOAP_GET, mid, "forty", &last);
    n = put_opt(d, n, &last, PQCOAP_OPT_BLOCK2, &v, len);
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    ssize_t got = recv(s, r, sizeof r, 0);
    return got > 0 && parse(r, (size_t)got, a) && a->mid == mid;
}

static void block_sizes(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return;
    CHECK(pqcoap_server_handle(ts.srv, "forty", PQCOAP_GET, forty, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    int s = raw_socket(pqcoap_server_port(ts.srv));
    CHECK(s >= 0);
    answer a;
    /* block 0 of 16 bytes, more to come */
    CHECK(get_block(s, 0x0501, 1, 0x00, &a) && a.code == PQCOAP_CODE(2, 5) && a.has_block2 &&
          (a.block2 & 7) == 0 && (a.block2 & 8) && a.payload_len == 16);
    CHECK(get_block(s, 0x0502, 0, 0, &a) && a.has_block2 && (a.block2 & 7) == 0 &&
          a.payload_len == 16);
    /* SZX 2 (64 bytes): the whole body at once */
    CHECK(get_block(s, 0x0503, 1, 0x02, &a) && a.code == PQCOAP_CODE(2, 5) &&
          a.payload_len == 40);
    close(s);
    test_server_end(&ts);
}

int main(void)
{
    pqcoap_net_startup(0);
    views();
    block_sizes();
    return check_done();
}
