/* Regression test for what fuzz_net_view found: a datagram whose option deltas carry the
 * option number past 65535 is malformed (RFC 7252 sections 3.1 and 5.4.6: option numbers
 * are 16 bits). libcoap 4.3.1 adds the deltas in 16 bits and hands out the number wrapped
 * around; before the fix pqcoap_net_view showed that option (here Content-Format, which
 * the peer never sent) to handlers and hooks. First the fuzzer's datagram and two smaller
 * ones through pqcoap_net_view, then a request to a real server on loopback. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "check.h"
#include "hex.h"
#include "net/net_internal.h"
#include "net/net_test.h"

/* The fuzzer's input without its first byte (the option capacity): a CON POST with 44
 * empty options 0, then delta 269 + 0xfeff from 0, which libcoap reads as option 12. */
static const char crash_hex[] =
    "42160000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000e0feffffffff000000000000000000000000000000626264";

/* POST "cf" with Uri-Path "cf" (11), then delta 269 + 0xfef4 = 65537: option 65548, which
 * wraps around to 12 (Content-Format, empty: text/plain). */
static const uint8_t wrap_up[] = {0x42, PQCOAP_POST, 0x12, 0x34, 0x12, 0x34,
                                  0xb2, 'c', 'f', 0xe0, 0xfe, 0xf4};
/* The same path, then delta 269 + 0xfeed = 65530 from 11: option 65541, wrapping to 5
 * (libcoap refuses this one itself, as the number goes down). */
static const uint8_t wrap_down[] = {0x42, PQCOAP_POST, 0x12, 0x35, 0x12, 0x35,
                                    0xb2, 'c', 'f', 0xe0, 0xfe, 0xed};

static pqcoap_err view_of(const uint8_t *d, size_t n)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, n);
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg m;
    pqcoap_err err = PQCOAP_ERR_ARG;
    if (pdu && coap_pdu_parse(COAP_PROTO_UDP, d, n, pdu))
        err = pqcoap_net_view(pdu, opts, PQCOAP_NET_MAX_OPTS, &m);
    coap_delete_pdu(pdu);
    return err;
}

static void views(void)
{
    uint8_t d[128];
    size_t n = unhex(crash_hex, d, sizeof d);
    CHECK(n != (size_t)-1);
    CHECK_EQ_INT(view_of(d, n), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(view_of(wrap_up, sizeof wrap_up), PQCOAP_ERR_MALFORMED);
    CHECK(view_of(wrap_down, sizeof wrap_down) != PQCOAP_OK);
    /* the same request with option 12 encoded as it should be is fine */
    static const uint8_t ok[] = {0x42, PQCOAP_POST, 0x12, 0x36, 0x12, 0x36, 0xb2, 'c', 'f', 0x10};
    CHECK_EQ_INT(view_of(ok, sizeof ok), PQCOAP_OK);
}

static int handler_runs;

static pqcoap_err cf(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                     pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    handler_runs++;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"ran", 3);
}

/* Sends datagram d from a fresh socket to 127.0.0.1:port and returns the code of the
 * answer with its message ID, or -1 when none came within 2 s. */
static int answer_code(uint16_t port, const uint8_t *d, size_t n)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0), code = -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    struct timeval tv = {2, 0};
    uint8_t buf[256];
    if (s >= 0 && setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        connect(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        send(s, d, n, 0) == (ssize_t)n) {
        ssize_t got = recv(s, buf, sizeof buf, 0);
        if (got >= 4 && buf[2] == d[2] && buf[3] == d[3])
            code = buf[1];
    }
    if (s >= 0)
        close(s);
    return code;
}

static void server(void)
{
    test_server ts;
    if (!test_server_new(&ts, "127.0.0.1", NULL, 0)) {
        CHECK(0);
        return;
    }
    CHECK(pqcoap_server_handle(ts.srv, "cf", PQCOAP_POST, cf, NULL) == PQCOAP_OK);
    CHECK(test_server_start(&ts));
    CHECK_EQ_INT(answer_code(pqcoap_server_port(ts.srv), wrap_up, sizeof wrap_up),
                 PQCOAP_CODE(4, 0));
    test_server_end(&ts);
    CHECK_EQ_INT(handler_runs, 0);
}

int main(void)
{
    pqcoap_net_startup(0);
    views();
    server();
    return check_done();
}
