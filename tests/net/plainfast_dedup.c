/* The server's table of answered requests (RFC 7252 section 4.5) over real UDP on loopback,
 * with room for two: a duplicate gets its first response byte for byte, also after its entry
 * held a smaller or a larger response before; when the table is full the request answered
 * longest ago is forgotten first (a duplicate of it is handled again), whatever was sent
 * again since; the same bytes under a message ID that differs only in its high bits, or from
 * another source port, are new requests. */
#include <stdatomic.h>

#include "check.h"
#include "hardening/raw_coap.h"
#include "net/net_test.h"

static atomic_int runs;

/* POST count: answers the number of its runs followed by one '.' per request payload byte. */
static pqcoap_err count(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq;
    uint8_t text[1024];
    int n = snprintf((char *)text, 16, "%d", atomic_fetch_add(&runs, 1) + 1);
    size_t len = (size_t)n;
    for (size_t i = 0; i < req->payload_len && len < sizeof text; i++)
        text[len++] = '.';
    return pqcoap_msgbuf_set_payload(resp, text, len);
}

/* A CON POST count with message ID `mid` (token = mid) and `dots` payload bytes. */
static size_t post(uint8_t *d, uint16_t mid, size_t dots)
{
    uint16_t last;
    size_t n = raw_request(d, 1, PQCOAP_POST, mid, "count", &last);
    if (dots) {
        d[n++] = 0xff;
        memset(d + n, 'x', dots);
        n += dots;
    }
    return n;
}

/* One exchange: sends d[0..n) on s, the answer into r; its length (0: none). */
static size_t ask(int s, const uint8_t *d, size_t n, uint8_t *r, size_t cap)
{
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    ssize_t got = recv(s, r, cap, 0);
    return got > 0 ? (size_t)got : 0;
}

/* True if answer r[0..n) came with message ID `mid` and a payload starting with `want`,
 * `len` bytes in all. */
static int answers(const uint8_t *r, size_t n, uint16_t mid, const char *want, size_t len)
{
    answer a;
    return n && parse(r, n, &a) && a.mid == mid && a.payload_len == len &&
           strncmp(a.payload, want, strlen(want)) == 0 &&
           (strlen(want) == len || a.payload[strlen(want)] == '.');
}

/* Sends d[0..n) again and checks that the same bytes as first[0..first_len) come back. */
static int same_again(int s, const uint8_t *d, size_t n, const uint8_t *first, size_t first_len)
{
    uint8_t r[1200];
    size_t got = ask(s, d, n, r, sizeof r);
    return got == first_len && memcmp(r, first, got) == 0;
}

int main(void)
{
    pqcoap_server_config cfg = PQCOAP_SERVER_CONFIG_INIT;
    test_server ts = {NULL, 0, 0};
    cfg.addr = "127.0.0.1", cfg.port = 0, cfg.max_kept_responses = 2; /* room for two */
    CHECK_EQ_INT(pqcoap_server_create(&cfg, &ts.srv, NULL, 0), PQCOAP_OK);
    if (!ts.srv)
        return check_done();
    CHECK(pqcoap_server_handle(ts.srv, "count", PQCOAP_POST, count, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    int s = raw_socket(pqcoap_server_port(ts.srv)), t = raw_socket(pqcoap_server_port(ts.srv));
    CHECK(s >= 0 && t >= 0);

    uint8_t a[1200], b[1200], c[1200], ra[1200], rb[1200], rc[1200];
    size_t na = post(a, 0x0001, 0), nb = post(b, 0x0002, 600), nc = post(c, 0x0003, 700);
    size_t ra_len = ask(s, a, na, ra, sizeof ra);
    CHECK(answers(ra, ra_len, 0x0001, "1", 1));
    size_t rb_len = ask(s, b, nb, rb, sizeof rb);
    CHECK(answers(rb, rb_len, 0x0002, "2", 601));
    CHECK(same_again(s, a, na, ra, ra_len));
    CHECK(same_again(s, b, nb, rb, rb_len));
    /* A third request takes the place of the first, although the first was sent again last:
     * the one answered longest ago goes. Its entry held a 1-byte response, now 700. */
    size_t rc_len = ask(s, c, nc, rc, sizeof rc);
    CHECK(answers(rc, rc_len, 0x0003, "3", 701));
    CHECK(same_again(s, c, nc, rc, rc_len));
    CHECK(same_again(s, b, nb, rb, rb_len));
    ra_len = ask(s, a, na, ra, sizeof ra); /* forgotten: handled again, in b's place */
    CHECK(answers(ra, ra_len, 0x0001, "4", 1));
    CHECK(same_again(s, a, na, ra, ra_len));
    CHECK(same_again(s, c, nc, rc, rc_len));
    rb_len = ask(s, b, nb, rb, sizeof rb);
    CHECK(answers(rb, rb_len, 0x0002, "5", 601));
    CHECK_EQ_INT(atomic_load(&runs), 5);

    /* The same bytes under a message ID that differs in its high bits only: a new request. */
    size_t n = post(a, 0x0101, 0);
    ra_len = ask(s, a, n, ra, sizeof ra);
    CHECK(answers(ra, ra_len, 0x0101, "6", 1));
    a[2] ^= 0x80; /* message ID 0x8101, token unchanged */
    rb_len = ask(s, a, n, rb, sizeof rb);
    CHECK(answers(rb, rb_len, 0x8101, "7", 1));
    CHECK(same_again(s, a, n, rb, rb_len));
    a[2] ^= 0x80;
    CHECK(same_again(s, a, n, ra, ra_len));
    /* ... and from another source port too. */
    rc_len = ask(t, a, n, rc, sizeof rc);
    CHECK(answers(rc, rc_len, 0x0101, "8", 1));
    CHECK(same_again(t, a, n, rc, rc_len));
    CHECK_EQ_INT(atomic_load(&runs), 8);

    close(s);
    close(t);
    test_server_end(&ts);
    return check_done();
}
