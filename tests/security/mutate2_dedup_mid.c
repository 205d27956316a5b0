/* The server's duplicate detection (RFC 7252 section 4.5) keys on the message ID: a request
 * whose bytes repeat an answered one, token included (a client may use a token again once
 * its exchange is over), but under a new message ID is a new request. Its handler runs and
 * it gets a response of its own, not the one kept for the earlier request. Real UDP on
 * loopback. */
#include <stdatomic.h>

#include "check.h"
#include "hardening/raw_coap.h"
#include "net/net_test.h"

static atomic_int runs;

/* POST count: counts its runs and answers the count as text. */
static pqcoap_err count(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                        pqcoap_msgbuf *resp)
{
    (void)arg, (void)rq, (void)req;
    char text[16];
    int n = snprintf(text, sizeof text, "%d", atomic_fetch_add(&runs, 1) + 1);
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* Sends d[0..n) on s with message ID mid and reads the answer; 1 if it came with that
 * message ID and the payload `want`. */
static int answered(int s, uint8_t *d, size_t n, uint16_t mid, const char *want)
{
    uint8_t r[256];
    answer a;
    d[2] = (uint8_t)(mid >> 8);
    d[3] = (uint8_t)mid;
    if (send(s, d, n, 0) != (ssize_t)n)
        return 0;
    ssize_t got = recv(s, r, sizeof r, 0);
    return got > 0 && parse(r, (size_t)got, &a) && a.mid == mid && strcmp(a.payload, want) == 0;
}

int main(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK(pqcoap_server_handle(ts.srv, "count", PQCOAP_POST, count, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    int s = raw_socket(pqcoap_server_port(ts.srv));
    CHECK(s >= 0);

    uint8_t d[64];
    uint16_t last;
    size_t n = raw_request(d, 1, PQCOAP_POST, 0x0100, "count", &last);
    d[n++] = 0xff;
    d[n++] = 'x';
    CHECK(answered(s, d, n, 0x0100, "1"));
    CHECK(answered(s, d, n, 0x0100, "1"));  /* a duplicate: the kept response */
    CHECK(answered(s, d, n, 0x0101, "2"));  /* the same bytes, a new message ID: handled */
    CHECK(answered(s, d, n, 0x0101, "2"));
    CHECK_EQ_INT(atomic_load(&runs), 2);

    close(s);
    test_server_end(&ts);
    return check_done();
}
