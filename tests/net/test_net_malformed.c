/* 1000 malformed datagrams sent raw to the server (truncated headers, reserved option delta
 * and length 15, option values running past the end, token lengths 9-15, bad versions, a
 * payload marker without payload, random bytes): each is dropped or answered with Reset or
 * 4.00, the handler never runs for them, and the server still answers a valid request. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "net_test.h"

static int handler_runs;

static pqcoap_err hello(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    handler_runs++;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"hello", 5);
}

static uint32_t rng_state = 12345;

static uint8_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

enum { KINDS = 8 };

/* Builds malformed datagram number i of kind `kind` into d; returns its length. A header is
 * version 1, CON, GET, with a fresh message ID unless the kind says otherwise. */
static size_t make_bad(int kind, unsigned i, uint8_t *d)
{
    size_t n = 0;
    uint8_t mid_hi = (uint8_t)(i >> 8), mid_lo = (uint8_t)i;
    switch (kind) {
    case 0: /* truncated header: 1..3 bytes */
        n = 1 + i % 3;
        d[0] = 0x40;
        for (size_t k = 1; k < n; k++)
            d[k] = rnd();
        return n;
    case 1: /* option delta 15 without the payload marker (reserved, RFC 7252 3.1) */
        d[n++] = 0x40; d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        d[n++] = (uint8_t)(0xF0 | (i % 15));
        d[n++] = rnd();
        return n;
    case 2: /* option length 15 (reserved) */
        d[n++] = 0x40; d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        d[n++] = (uint8_t)(((i % 14) << 4) | 0x0F);
        d[n++] = rnd();
        d[n++] = rnd();
        return n;
    case 3: /* TKL 9..15 (message format error, RFC 7252 3) */
        d[n++] = (uint8_t)(0x40 | (9 + i % 7)); d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        for (int k = 0; k < 15; k++)
            d[n++] = rnd();
        return n;
    case 4: /* version 0, 2 or 3 */
        d[n++] = (uint8_t)(((i % 3 == 0 ? 0 : i % 3 == 1 ? 2 : 3) << 6) | 0x00);
        d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        d[n++] = 0xB4; memcpy(d + n, "test", 4); n += 4;
        return n;
    case 5: /* option value runs past the end of the datagram */
        d[n++] = 0x40; d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        d[n++] = 0xBD; d[n++] = (uint8_t)(1 + i % 200); /* Uri-Path, 13 + ext bytes */
        d[n++] = 'a'; d[n++] = 'b';
        return n;
    case 6: /* payload marker followed by no payload (format error, RFC 7252 3) */
        d[n++] = 0x40; d[n++] = 0x01; d[n++] = mid_hi; d[n++] = mid_lo;
        d[n++] = 0xB5; memcpy(d + n, "hello", 5); n += 5;
        d[n++] = 0xFF;
        return n;
    default: /* random bytes, version bits forced to 0 so they cannot be valid CoAP */
        n = i % 100;
        for (size_t k = 0; k < n; k++)
            d[k] = rnd();
        if (n)
            d[0] &= 0x3F;
        return n;
    }
}

/* True if an answer to a malformed datagram is acceptable: Reset, or 4.00 Bad Request. */
static int acceptable(const uint8_t *a, size_t n)
{
    if (n < 4 || (a[0] >> 6) != 1)
        return 0;
    int type = (a[0] >> 4) & 3;
    return (type == 3 && a[1] == 0) || a[1] == PQCOAP_CODE(4, 0);
}

/* Reads answers until the reply to our valid NON probe (token "probe") arrives or nothing
 * comes for a while; counts the answers that are not acceptable. Returns 1 if the probe
 * was answered with 2.05. */
static int drain(int s, int *bad, int *answers)
{
    uint8_t buf[1500];
    for (int idle = 0; idle < 20;) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
            idle++;
            continue;
        }
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        if (n <= 0)
            continue;
        if (n >= 9 && (buf[0] & 0x0F) == 5 && memcmp(buf + 4, "probe", 5) == 0)
            return buf[1] == PQCOAP_CODE(2, 5);
        (*answers)++;
        if (!acceptable(buf, (size_t)n))
            (*bad)++;
    }
    return 0;
}

int main(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "hello", PQCOAP_GET, hello, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(pqcoap_server_port(ts.srv));
    CHECK(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0);

    /* A valid NON GET hello with token "probe": answered after everything sent before it.
     * Each probe has a message ID of its own, else it would be a duplicate (RFC 7252 4.5). */
    uint8_t probe[] = {0x55, 0x01, 0xFF, 0x00, 'p', 'r', 'o', 'b', 'e',
                       0xB5, 'h', 'e', 'l', 'l', 'o'};
    int bad = 0, answers = 0, probes_ok = 0, sent = 0;
    for (int kind = 0; kind < KINDS; kind++) {
        for (unsigned i = 0; i < 125; i++) {
            uint8_t d[256];
            size_t n = make_bad(kind, (unsigned)kind * 1000u + i, d);
            if (send(s, d, n, 0) == (ssize_t)n)
                sent++;
            if (i % 25 == 24) {
                probe[3]++;
                CHECK(send(s, probe, sizeof(probe), 0) == (ssize_t)sizeof(probe));
                probes_ok += drain(s, &bad, &answers);
            }
        }
    }
    CHECK_EQ_INT(sent, 1000);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(probes_ok, KINDS * 5);
    CHECK_EQ_INT(handler_runs, probes_ok);
    close(s);

    /* Our client still gets its answer. */
    CHECK_EQ_INT(test_get_count(&ts, "hello", "hello", 1), 1);
    printf("malformed datagrams answered: %d\n", answers);
    test_server_end(&ts);
    return check_done();
}
