/* Observe (RFC 7641) on the client against a scripted server made of raw CoAP datagrams: CON
 * notifications are acknowledged; the sequence rule of section 3.4 drops duplicates, older
 * and too-far numbers and follows the wrap-around; an unknown token gets Reset; a
 * notification without Observe and the end of Max-Age make the client register again; a
 * 4.04 notification ends the observation; a block-wise one is refused. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loopback.h"
#include "net/net_test.h"

#define NO_OBS (-1L)

/* The scripted server's socket and the client it talks to. */
typedef struct raw {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint16_t mid;
} raw;

/* A datagram as the tests look at it. */
typedef struct rx {
    int type;
    uint8_t code;
    uint16_t mid;
    uint8_t token[8];
    size_t token_len;
    long observe;               /* NO_OBS: none */
} rx;

static int put_opt(uint8_t *m, size_t *n, unsigned *last, unsigned num, const uint8_t *v,
                   size_t len)
{
    unsigned d = num - *last;
    *last = num;
    uint8_t *h = &m[(*n)++];
    *h = 0;
    if (d < 13) {
        *h = (uint8_t)(d << 4);
    } else {
        *h = 13 << 4;
        m[(*n)++] = (uint8_t)(d - 13);
    }
    *h |= (uint8_t)len; /* values here are < 13 bytes */
    memcpy(m + *n, v, len);
    *n += len;
    return 1;
}

/* Bytes of v as a CoAP uint (shortest big-endian) into b; returns the length. */
static size_t uint_bytes(uint32_t v, uint8_t b[4])
{
    size_t n = 0;
    for (int s = 24; s >= 0; s -= 8)
        if (n || (v >> s) & 0xff)
            b[n++] = (uint8_t)(v >> s);
    return n;
}

/* Sends a response: type (0 CON, 1 NON, 2 ACK), code, mid, token, Observe (NO_OBS: none),
 * Max-Age (-1: none), Block2 value (-1: none), payload. */
static void send_resp(raw *r, int type, uint8_t code, uint16_t mid, const uint8_t *tok,
                      size_t tok_len, long observe, long max_age, long block2, const char *payload)
{
    uint8_t m[128], b[4];
    size_t n = 0;
    unsigned last = 0;
    m[n++] = (uint8_t)(0x40 | type << 4 | tok_len);
    m[n++] = code;
    m[n++] = (uint8_t)(mid >> 8);
    m[n++] = (uint8_t)mid;
    memcpy(m + n, tok, tok_len);
    n += tok_len;
    if (observe != NO_OBS)
        put_opt(m, &n, &last, 6, b, uint_bytes((uint32_t)observe, b));
    if (max_age >= 0)
        put_opt(m, &n, &last, 14, b, uint_bytes((uint32_t)max_age, b));
    if (block2 >= 0)
        put_opt(m, &n, &last, 23, b, uint_bytes((uint32_t)block2, b));
    if (payload && *payload) {
        m[n++] = 0xff;
        memcpy(m + n, payload, strlen(payload));
        n += strlen(payload);
    }
    CHECK(sendto(r->fd, m, n, 0, (struct sockaddr *)&r->peer, r->peer_len) == (ssize_t)n);
}

/* Waits (bounded: wait_ms) for a datagram from the client; 0 if none. */
static int recv_msg_within(raw *r, rx *x, int wait_ms)
{
    struct pollfd p = {r->fd, POLLIN, 0};
    uint8_t m[1500];
    if (poll(&p, 1, wait_ms) != 1)
        return 0;
    r->peer_len = sizeof(r->peer);
    ssize_t n = recvfrom(r->fd, m, sizeof(m), 0, (struct sockaddr *)&r->peer, &r->peer_len);
    if (n < 4)
        return 0;
    x->type = (m[0] >> 4) & 3;
    x->code = m[1];
    x->mid = (uint16_t)(m[2] << 8 | m[3]);
    x->token_len = m[0] & 15;
    if (x->token_len > 8 || 4 + x->token_len > (size_t)n)
        return 0;
    memcpy(x->token, m + 4, x->token_len);
    x->observe = NO_OBS;
    size_t i = 4 + x->token_len;
    unsigned num = 0;
    while (i < (size_t)n && m[i] != 0xff) {
        unsigned d = m[i] >> 4, l = m[i] & 15;
        i++;
        if (d == 13)
            d = 13 + m[i++];
        else if (d == 14)
            d = 269 + (m[i] << 8 | m[i + 1]), i += 2;
        if (l == 13)
            l = 13 + m[i++];
        num += d;
        if (num == 6) {
            long v = 0;
            for (unsigned k = 0; k < l; k++)
                v = v << 8 | m[i + k];
            x->observe = v;
        }
        i += l;
    }
    return 1;
}

static int recv_msg(raw *r, rx *x) { return recv_msg_within(r, x, 10000); }

static uint16_t peer_port(const raw *r)
{
    return ntohs(((const struct sockaddr_in *)&r->peer)->sin_port);
}

/* What the client delivered. */
typedef struct seen {
    pthread_mutex_t lock;
    char text[16][16];
    uint32_t seq[16];
    int n;
    pqcoap_err ended;
} seen;

static void on_note(void *user, const pqcoap_notification *nt)
{
    seen *s = user;
    pthread_mutex_lock(&s->lock);
    if (nt->err != PQCOAP_OK) {
        s->ended = nt->err;
    } else if (s->n < 16) {
        size_t len = nt->msg->payload_len < 15 ? nt->msg->payload_len : 15;
        memcpy(s->text[s->n], nt->msg->payload, len);
        s->text[s->n][len] = '\0';
        s->seq[s->n++] = nt->seq;
    }
    pthread_mutex_unlock(&s->lock);
}

/* The client runs in a thread of its own: observe, then poll until told to stop. */
typedef struct client_run {
    char uri[96];
    seen *s;
    atomic_int stop;
    pqcoap_err observe_err;
} client_run;

static void *client_main(void *arg)
{
    client_run *c = arg;
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 5000;
    pqcoap_client *cl = test_client(c->uri, &cfg);
    pqcoap_req req = PQCOAP_REQ_INIT;
    uint32_t id = 0;
    c->observe_err = cl ? pqcoap_client_observe(cl, &req, on_note, c->s, &id) : PQCOAP_ERR_IO;
    for (int i = 0; i < 600 && !atomic_load(&c->stop); i++) { /* at most 60 s */
        pqcoap_completion done_c;
        int done = 0;
        if (pqcoap_client_poll(cl, 100, &done_c, &done) != PQCOAP_OK)
            break;
    }
    pqcoap_client_free(cl);
    return NULL;
}

/* Sends a CON notification and checks that the client acknowledges it (same message ID). */
static void con_note(raw *r, const uint8_t *tok, size_t tl, long observe, const char *payload)
{
    uint16_t mid = ++r->mid;
    send_resp(r, 0, PQCOAP_CODE(2, 5), mid, tok, tl, observe, -1, -1, payload);
    rx x;
    CHECK(recv_msg(r, &x) && x.type == 2 && x.mid == mid && x.code == 0);
}

static int delivered(seen *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Starts the scripted server's socket in *r and the client for it in *th. */
static void start_pair(raw *r, uint16_t mid, seen *s, client_run *c, pthread_t *th)
{
    uint16_t port = 0;
    r->fd = loopback_socket(AF_INET, &port);
    r->peer_len = 0;
    r->mid = mid;
    CHECK(r->fd >= 0);
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    memset(c, 0, sizeof(*c));
    snprintf(c->uri, sizeof(c->uri), "coap://127.0.0.1:%u/obs", port);
    c->s = s;
    CHECK(pthread_create(th, NULL, client_main, c) == 0);
}

static void run(void)
{
    raw r;
    seen s;
    client_run c;
    pthread_t th;
    start_pair(&r, 0x4000, &s, &c, &th);

    /* the registration: GET with Observe 0, answered with Observe 5 */
    rx reg;
    CHECK(recv_msg(&r, &reg) && reg.type == 0 && reg.code == PQCOAP_GET && reg.observe == 0);
    uint8_t tok[8];
    size_t tl = reg.token_len;
    memcpy(tok, reg.token, tl);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, tok, tl, 5, -1, -1, "a");

    con_note(&r, tok, tl, 6, "b");
    con_note(&r, tok, tl, 6, "dup");                  /* the same number: dropped */
    con_note(&r, tok, tl, 4, "old");                  /* older: dropped */
    con_note(&r, tok, tl, 6 + (1L << 23) + 10, "far"); /* more than 2^23 ahead: older */
    con_note(&r, tok, tl, 9, "c");
    con_note(&r, tok, tl, 9 + (1L << 23) - 1, "d");    /* just within 2^23 ahead: newer */
    con_note(&r, tok, tl, 3, "e");                     /* wrapped around: newer */

    /* a response to a token the client does not know: Reset */
    uint8_t other[2] = {0xde, 0xad};
    uint16_t mid = ++r.mid;
    send_resp(&r, 0, PQCOAP_CODE(2, 5), mid, other, 2, 7, -1, -1, "x");
    rx x;
    CHECK(recv_msg(&r, &x) && x.type == 3 && x.mid == mid);

    /* a notification without Observe: the server dropped us; the client registers again
     * (fresh token), answered here with Max-Age 1 */
    mid = ++r.mid;
    send_resp(&r, 0, PQCOAP_CODE(2, 5), mid, tok, tl, NO_OBS, -1, -1, "none");
    CHECK(recv_msg(&r, &x) && x.type == 2 && x.mid == mid);
    CHECK(recv_msg(&r, &reg) && reg.code == PQCOAP_GET && reg.observe == 0);
    CHECK(reg.token_len != tl || memcmp(reg.token, tok, tl) != 0);
    tl = reg.token_len;
    memcpy(tok, reg.token, tl);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, tok, tl, 100, 1, -1, "f");

    /* nothing for Max-Age (1 s) plus the margin: registered again */
    CHECK(recv_msg(&r, &reg) && reg.code == PQCOAP_GET && reg.observe == 0);
    tl = reg.token_len;
    memcpy(tok, reg.token, tl);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, tok, tl, 50, -1, -1, "g");
    con_note(&r, tok, tl, 51, "h");

    /* a notification in blocks (RFC 7959 section 2.6): refused, Reset */
    mid = ++r.mid;
    send_resp(&r, 0, PQCOAP_CODE(2, 5), mid, tok, tl, 52, -1, 0x08 /* num 0, M, 16 B */,
              "0123456789abcdef");
    CHECK(recv_msg(&r, &x) && x.type == 3 && x.mid == mid);

    for (int i = 0; i < 100 && delivered(&s) < 8; i++) { /* bounded */
        struct pollfd p = {r.fd, 0, 0};
        poll(&p, 1, 10);
    }
    atomic_store(&c.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ_INT(c.observe_err, PQCOAP_OK);
    static const char *const want[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const uint32_t want_seq[] = {5, 6, 9, 9 + (1u << 23) - 1, 3, 100, 50, 51};
    CHECK_EQ_INT(s.n, 8);
    for (int i = 0; i < 8 && i < s.n; i++) {
        CHECK(strcmp(s.text[i], want[i]) == 0);
        CHECK_EQ_INT(s.seq[i], want_seq[i]);
    }
    CHECK_EQ_INT(s.ended, PQCOAP_ERR_UNSUPPORTED);
    close(r.fd);
    pthread_mutex_destroy(&s.lock);
}

/* A notification with 4.04 ends the observation (RFC 7641 section 3.2): the callback gets
 * PQCOAP_ERR_COAP with the message, and nothing more is registered. */
static void not_found_ends(void)
{
    raw r;
    seen s;
    client_run c;
    pthread_t th;
    start_pair(&r, 0x5000, &s, &c, &th);
    rx reg, x;
    CHECK(recv_msg(&r, &reg) && reg.observe == 0);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, reg.token, reg.token_len, 1, -1, -1, "a");
    uint16_t mid = ++r.mid;
    send_resp(&r, 0, PQCOAP_CODE(4, 4), mid, reg.token, reg.token_len, NO_OBS, -1, -1, "gone");
    CHECK(recv_msg(&r, &x) && x.type == 2 && x.mid == mid);
    for (int i = 0; i < 100; i++) { /* bounded */
        pthread_mutex_lock(&s.lock);
        int ended = s.ended != PQCOAP_OK;
        pthread_mutex_unlock(&s.lock);
        if (ended)
            break;
        struct pollfd p = {r.fd, 0, 0};
        poll(&p, 1, 10);
    }
    atomic_store(&c.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ_INT(s.ended, PQCOAP_ERR_COAP);
    CHECK_EQ_INT(s.n, 1);
    close(r.fd);
    pthread_mutex_destroy(&s.lock);
}

/* Stale notifications (Max-Age 1 passed), and the server answers the re-registration
 * without Observe (not observed this time): the client moves to a new port once, with a
 * token never used before, then asks again every 2 s from that port, not at once and not
 * from yet another port. */
static void stale_retries_paced(void)
{
    raw r;
    seen s;
    client_run c;
    pthread_t th;
    start_pair(&r, 0x6000, &s, &c, &th);
    rx reg;
    CHECK(recv_msg(&r, &reg) && reg.observe == 0);
    uint16_t first_port = peer_port(&r);
    rx first = reg;
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, reg.token, reg.token_len, 1, 1, -1, "a");
    CHECK(recv_msg(&r, &reg) && reg.observe == 0); /* after Max-Age and the margin */
    uint16_t moved_port = peer_port(&r);
    CHECK(moved_port != first_port);
    /* the new UDP session's tokens go on from the old one's */
    CHECK(reg.token_len != first.token_len || memcmp(reg.token, first.token, reg.token_len) != 0);
    int asked = 1, same_port = 1;
    for (int i = 0; i < 500 && asked < 50; i++) { /* 5 s of 10 ms polls, or 50 requests */
        if (reg.observe == 0) {
            send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, reg.token, reg.token_len, NO_OBS, 1,
                      -1, "plain");
            reg.observe = NO_OBS;
        }
        if (recv_msg_within(&r, &reg, 10) && reg.observe == 0) {
            asked++;
            same_port &= peer_port(&r) == moved_port;
        }
    }
    fprintf(stderr, "re-registrations in 5 s after going stale: %d\n", asked);
    CHECK(asked >= 2 && asked <= 4);
    CHECK(same_port);
    /* observed again: it goes on */
    if (reg.observe != 0)
        CHECK(recv_msg(&r, &reg) && reg.observe == 0);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, reg.token, reg.token_len, 7, 60, -1, "b");
    for (int i = 0; i < 100 && delivered(&s) < 3; i++) { /* bounded */
        struct pollfd p = {r.fd, 0, 0};
        poll(&p, 1, 10);
    }
    atomic_store(&c.stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ_INT(s.ended, PQCOAP_OK);
    CHECK(delivered(&s) >= 2);
    close(r.fd);
    pthread_mutex_destroy(&s.lock);
}

/* The client of cancel_waits_for_answer: observes, then cancels when told to and notes
 * whether the server had answered the deregistration by the time cancel returned. */
typedef struct cancel_run {
    char uri[96];
    seen *s;
    atomic_int go;              /* set by the server side: cancel now */
    atomic_int answered;        /* set by the server side right before it answers */
    int answered_at_return;
    pqcoap_err cancel_err;
} cancel_run;

static void *cancel_main(void *arg)
{
    cancel_run *c = arg;
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 5000;
    pqcoap_client *cl = test_client(c->uri, &cfg);
    pqcoap_req req = PQCOAP_REQ_INIT;
    uint32_t id = 0;
    c->cancel_err = PQCOAP_ERR_IO;
    if (!cl || pqcoap_client_observe(cl, &req, on_note, c->s, &id) != PQCOAP_OK) {
        pqcoap_client_free(cl);
        return NULL;
    }
    for (int i = 0; i < 1000 && !atomic_load(&c->go); i++) { /* at most 10 s */
        struct pollfd p = {-1, 0, 0};
        poll(&p, 0, 10);
    }
    c->cancel_err = pqcoap_client_observe_cancel(cl, id);
    c->answered_at_return = atomic_load(&c->answered);
    pqcoap_client_free(cl);
    return NULL;
}

/* A notification crosses the deregistration (it has the same token, RFC 7641 section 3.6):
 * it is not the deregistration's answer, so cancel returns only once the server answered. */
static void cancel_waits_for_answer(void)
{
    raw r;
    seen s;
    uint16_t port = 0;
    r.fd = loopback_socket(AF_INET, &port);
    r.mid = 0x7000;
    CHECK(r.fd >= 0);
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.lock, NULL);
    static cancel_run c;
    memset(&c, 0, sizeof(c));
    snprintf(c.uri, sizeof(c.uri), "coap://127.0.0.1:%u/obs", port);
    c.s = &s;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, cancel_main, &c) == 0);
    rx reg, dereg;
    CHECK(recv_msg(&r, &reg) && reg.observe == 0);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), reg.mid, reg.token, reg.token_len, 1, -1, -1, "a");
    atomic_store(&c.go, 1);
    CHECK(recv_msg(&r, &dereg) && dereg.observe == 1);
    CHECK(dereg.token_len == reg.token_len && memcmp(dereg.token, reg.token, reg.token_len) == 0);
    /* a notification sent before the deregistration arrived, then the answer */
    con_note(&r, reg.token, reg.token_len, 2, "b");
    struct pollfd p = {-1, 0, 0};
    poll(&p, 0, 200);
    atomic_store(&c.answered, 1);
    send_resp(&r, 2, PQCOAP_CODE(2, 5), dereg.mid, dereg.token, dereg.token_len, NO_OBS, -1, -1,
              "last");
    pthread_join(th, NULL);
    CHECK_EQ_INT(c.cancel_err, PQCOAP_OK);
    CHECK_EQ_INT(c.answered_at_return, 1);
    close(r.fd);
    pthread_mutex_destroy(&s.lock);
}

int main(void)
{
    cancel_waits_for_answer();
    run();
    not_found_ends();
    stale_retries_paced();
    return check_done();
}
