/* DoS limits of the CoAP server over real UDP on loopback: a block-wise request announcing
 * or reaching more than max_body gets 4.13 with Size1 at once, a peer opening more pending
 * block-wise requests than allowed gets 5.03 with Max-Age, so does anyone over the total,
 * and other clients keep being served meanwhile. */
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>
#include "check.h"
#include "net/net_test.h"

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

/* ---- raw CoAP datagrams (RFC 7252 section 3) ---------------------------------------- */

/* Appends option `num` after option `*last` with value v of `len` bytes. */
static size_t put_opt(uint8_t *d, size_t n, uint16_t *last, uint16_t num, const uint8_t *v,
                      size_t len)
{
    unsigned delta = num - *last;
    uint8_t *head = &d[n++];
    if (delta < 13) {
        *head = (uint8_t)(delta << 4);
    } else if (delta < 269) {
        *head = 13 << 4;
        d[n++] = (uint8_t)(delta - 13);
    } else {
        *head = 14 << 4;
        d[n++] = (uint8_t)((delta - 269) >> 8);
        d[n++] = (uint8_t)(delta - 269);
    }
    *head |= (uint8_t)len; /* values here are under 13 bytes */
    memcpy(d + n, v, len);
    *last = num;
    return n + len;
}

/* Appends option `num` holding the unsigned integer v in as few bytes as possible. */
static size_t put_uint(uint8_t *d, size_t n, uint16_t *last, uint16_t num, uint32_t v)
{
    uint8_t b[4];
    size_t len = 0;
    for (int shift = 24; shift >= 0; shift -= 8)
        if (len || (v >> shift) & 0xff)
            b[len++] = (uint8_t)(v >> shift);
    return put_opt(d, n, last, num, b, len);
}

/* A CON POST of "up" with token = mid, Block1 (num, m, SZX 6) and, when not 0, Size1 and a
 * one-byte Request-Tag; `payload_len` bytes of 'x'. */
static size_t block_post(uint8_t *d, uint16_t mid, uint32_t num, int m, uint32_t size1,
                         uint8_t rtag, size_t payload_len)
{
    size_t n = 0;
    uint16_t last = 0;
    d[n++] = 0x42; /* version 1, CON, token length 2 */
    d[n++] = PQCOAP_POST;
    d[n++] = (uint8_t)(mid >> 8);
    d[n++] = (uint8_t)mid;
    d[n++] = (uint8_t)(mid >> 8);
    d[n++] = (uint8_t)mid;
    n = put_opt(d, n, &last, PQCOAP_OPT_URI_PATH, (const uint8_t *)"up", 2);
    n = put_uint(d, n, &last, PQCOAP_OPT_BLOCK1, num << 4 | (uint32_t)m << 3 | 6);
    if (size1)
        n = put_uint(d, n, &last, PQCOAP_OPT_SIZE1, size1);
    if (rtag)
        n = put_opt(d, n, &last, PQCOAP_OPT_REQUEST_TAG, &rtag, 1);
    if (payload_len) {
        d[n++] = 0xff;
        memset(d + n, 'x', payload_len);
        n += payload_len;
    }
    return n;
}

/* An answer as seen on the wire. */
typedef struct answer {
    uint8_t code;
    int has_size1, has_max_age, has_block1;
    uint32_t size1, max_age;
    char payload[32];
} answer;

/* Reads the options of datagram d (n bytes) into a. 0 if it is not well formed. */
static int parse(const uint8_t *d, size_t n, answer *a)
{
    memset(a, 0, sizeof(*a));
    if (n < 4 || (d[0] & 0x0f) > 8 || n < 4u + (d[0] & 0x0f))
        return 0;
    a->code = d[1];
    size_t i = 4u + (d[0] & 0x0f);
    unsigned num = 0;
    while (i < n && d[i] != 0xff) {
        unsigned delta = d[i] >> 4, len = d[i] & 0x0f;
        i++;
        if (delta == 13 && i < n)
            delta = 13u + d[i++];
        else if (delta == 14 && i + 1 < n)
            delta = 269u + ((unsigned)d[i] << 8 | d[i + 1]), i += 2;
        if (len == 13 && i < n)
            len = 13u + d[i++];
        if (delta > 14 + 255 + 65535 || len > 12 || i + len > n)
            return 0;
        num += delta;
        uint32_t v = 0;
        for (unsigned k = 0; k < len; k++)
            v = v << 8 | d[i + k];
        if (num == PQCOAP_OPT_SIZE1)
            a->has_size1 = 1, a->size1 = v;
        if (num == PQCOAP_OPT_MAX_AGE)
            a->has_max_age = 1, a->max_age = v;
        if (num == PQCOAP_OPT_BLOCK1)
            a->has_block1 = 1;
        i += len;
    }
    if (i < n && n - i - 1 < sizeof(a->payload))
        memcpy(a->payload, d + i + 1, n - i - 1);
    return 1;
}

/* A UDP socket on 127.0.0.1 connected to the server, with a 2 s receive timeout. */
static int raw_socket(const test_server *ts)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(pqcoap_server_port(ts->srv));
    struct timeval tv = {2, 0};
    if (s >= 0 && (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
                   connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)) {
        close(s);
        s = -1;
    }
    return s;
}

/* Sends the block request and reads the piggybacked answer with the same message ID.
 * Returns 1 and fills *a, or 0 when none came within the receive timeout. */
static int exchange(int s, uint16_t mid, uint32_t num, int m, uint32_t size1, uint8_t rtag,
                    size_t payload_len, answer *a)
{
    uint8_t d[1200];
    size_t n = block_post(d, mid, num, m, size1, rtag, payload_len);
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    for (int tries = 0; tries < 8; tries++) {
        ssize_t got = recv(s, d, sizeof(d), 0);
        if (got < 0)
            return 0;
        if (got >= 4 && (d[2] << 8 | d[3]) == mid && parse(d, (size_t)got, a))
            return 1;
    }
    return 0;
}

#define CODE_CONTINUE PQCOAP_CODE(2, 31)

/* A body of `len` bytes POSTed block-wise by a pqcoap client gets "len" back. */
static int client_upload(const test_server *ts, size_t len)
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
    int a = raw_socket(&ts), b = raw_socket(&ts), c = raw_socket(&ts);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    answer r;

    /* RFC 7959 section 4: the first block announces 100000 bytes; 4.13 with Size1 at once. */
    CHECK(exchange(a, 0x100, 0, 1, 100000, 0, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    /* No Size1, but block 5 of 1024 bytes already ends past max_body. */
    CHECK(exchange(a, 0x101, 5, 1, 0, 0, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    /* Blocks 0..3 fill max_body; one more byte in block 4 is too much. */
    CHECK(exchange(a, 0x103, 0, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, 0x104, 1, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, 0x105, 2, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, 0x106, 3, 1, 0, 7, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, 0x107, 4, 0, 0, 7, 1, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 13));
    CHECK(r.has_size1 && r.size1 == MAX_BODY);
    CHECK_EQ_INT(atomic_load(&upload_runs), 0);

    /* Peer a opens PER_PEER transfers; the next one gets 5.03 with Max-Age. */
    CHECK(exchange(a, 0x200, 0, 1, 2048, 1, 1024, &r));
    CHECK_EQ_INT(r.code, CODE_CONTINUE);
    CHECK(r.has_block1);
    CHECK(exchange(a, 0x201, 0, 1, 2048, 2, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(a, 0x202, 0, 1, 2048, 3, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));
    CHECK(r.has_max_age && r.max_age == TIMEOUT_S);
    /* Another client is served meanwhile, also block-wise. */
    CHECK_EQ_INT(test_get_count(&ts, "hello", "hi", 3), 3);
    CHECK(client_upload(&ts, 3000));
    CHECK_EQ_INT(atomic_load(&upload_runs), 1);

    /* Peer b takes the rest of the total; peer c is refused although it has none. */
    CHECK(exchange(b, 0x300, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(b, 0x301, 0, 1, 0, 2, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, 0x400, 0, 1, 0, 1, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));
    CHECK(r.has_max_age);
    CHECK_EQ_INT(test_get_count(&ts, "hello", "hi", 2), 2);

    /* A missing block ends the transfer with 4.08 (RFC 7959 section 2.9.2), freeing room. */
    CHECK(exchange(b, 0x302, 2, 0, 0, 2, 10, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(4, 8));
    /* Peer a completes one transfer: the handler gets the whole body. */
    CHECK(exchange(a, 0x203, 1, 0, 0, 1, 1000, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(2, 4));
    CHECK(strcmp(r.payload, "2024") == 0);
    CHECK_EQ_INT(atomic_load(&upload_runs), 2);
    /* Now there is room again, for a and for c. */
    CHECK(exchange(a, 0x204, 0, 1, 0, 3, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, 0x401, 0, 1, 0, 1, 1024, &r) && r.code == CODE_CONTINUE);
    CHECK(exchange(c, 0x402, 0, 1, 0, 2, 1024, &r));
    CHECK_EQ_INT(r.code, PQCOAP_CODE(5, 3));

    /* Pending transfers are left open: freeing the server releases them (ASan). */
    close(a);
    close(b);
    close(c);
    test_server_end(&ts);
    return check_done();
}
