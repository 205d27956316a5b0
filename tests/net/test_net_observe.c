/* Observe (RFC 7641) on the server: libcoap's coap-client observes our server; raw CoAP
 * datagrams check the observer limits, RST and deregistration. */
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"
#include "net_test.h"

#define COAP_CLIENT "/usr/bin/coap-client-notls"

static atomic_int calls; /* handler calls of "obs" */

static pqcoap_err obs_get(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg; (void)rq; (void)req;
    char text[32];
    int n = snprintf(text, sizeof(text), "n=%d", atomic_fetch_add(&calls, 1));
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, (size_t)n);
}

/* A raw UDP socket connected to the server. */
static int raw_socket(const test_server *ts)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(pqcoap_server_port(ts->srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(s);
        return -1;
    }
    return s;
}

/* Sends CON GET /obs with token `tok` (1 byte), message ID mid and Observe `observe`
 * (-1: none). */
static void send_get(int s, uint8_t tok, uint16_t mid, int observe)
{
    uint8_t m[16];
    size_t n = 0;
    m[n++] = 0x41; /* version 1, CON, token length 1 */
    m[n++] = 0x01;
    m[n++] = (uint8_t)(mid >> 8);
    m[n++] = (uint8_t)mid;
    m[n++] = tok;
    if (observe == 0) {
        m[n++] = 0x60;          /* Observe, empty = 0 */
    } else if (observe == 1) {
        m[n++] = 0x61;
        m[n++] = 1;
    }
    m[n++] = observe >= 0 ? 0x53 : 0xb3; /* Uri-Path "obs" (delta 5 after 6, or 11) */
    memcpy(m + n, "obs", 3);
    n += 3;
    CHECK(send(s, m, n, 0) == (ssize_t)n);
}

/* Sends an empty ACK (type 2) or RST (type 3) for message ID mid. */
static void send_empty(int s, int type, uint16_t mid)
{
    uint8_t m[4] = {(uint8_t)(0x40 | (type << 4)), 0, (uint8_t)(mid >> 8), (uint8_t)mid};
    CHECK(send(s, m, 4, 0) == 4);
}

typedef struct rx {
    int type;
    uint8_t code;
    uint16_t mid;
    int has_observe;
} rx;

/* Waits (bounded: 10 s) for a datagram and decodes what the tests look at; 0 if none. */
static int recv_msg(int s, rx *r)
{
    struct pollfd p = {s, POLLIN, 0};
    uint8_t m[512];
    if (poll(&p, 1, 10000) != 1)
        return 0;
    ssize_t n = recv(s, m, sizeof(m), 0);
    if (n < 4)
        return 0;
    r->type = (m[0] >> 4) & 3;
    r->code = m[1];
    r->mid = (uint16_t)(m[2] << 8 | m[3]);
    r->has_observe = 0;
    size_t i = 4 + (m[0] & 15);
    unsigned num = 0;
    while (i < (size_t)n && m[i] != 0xff) {
        unsigned d = m[i] >> 4, l = m[i] & 15;
        i++;
        if (d == 13)
            d = 13 + m[i++];
        if (l == 13)
            l = 13 + m[i++];
        num += d;
        if (num == 6)
            r->has_observe = 1;
        i += l;
    }
    return 1;
}

/* A plain GET from a socket of its own: once answered, the server has gone through every
 * notification that was due before it. */
static void sync_get(const test_server *ts)
{
    static uint16_t mid = 0x7000;
    int s = raw_socket(ts);
    rx r;
    send_get(s, 0x99, mid++, -1);
    CHECK(recv_msg(s, &r) && r.code == PQCOAP_CODE(2, 5));
    close(s);
}

static void limits_rst_deregistration(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "obs", PQCOAP_GET, obs_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(ts.srv, "obs", 2), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    int a = raw_socket(&ts), b = raw_socket(&ts), c = raw_socket(&ts);
    rx r;
    /* two observers fit, the third is answered as a plain GET (RFC 7641 section 4.1) */
    send_get(a, 0xa, 1, 0);
    CHECK(recv_msg(a, &r) && r.code == PQCOAP_CODE(2, 5) && r.has_observe);
    send_get(b, 0xb, 1, 0);
    CHECK(recv_msg(b, &r) && r.code == PQCOAP_CODE(2, 5) && r.has_observe);
    send_get(c, 0xc, 1, 0);
    CHECK(recv_msg(c, &r) && r.code == PQCOAP_CODE(2, 5) && !r.has_observe);
    /* one notification each to a and b, CON; c gets none */
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    CHECK(recv_msg(a, &r) && r.type == 0 && r.has_observe && r.code == PQCOAP_CODE(2, 5));
    send_empty(a, 2, r.mid);
    CHECK(recv_msg(b, &r) && r.type == 0 && r.has_observe);
    send_empty(b, 3, r.mid); /* RST: b stops observing (section 3.6) */
    sync_get(&ts);
    CHECK_EQ_INT(atomic_load(&calls), 3); /* a, b, the sync GET */
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    CHECK(recv_msg(a, &r) && r.type == 0 && r.has_observe);
    send_empty(a, 2, r.mid);
    sync_get(&ts);
    CHECK_EQ_INT(atomic_load(&calls), 2); /* a and the sync GET: nothing for b */
    /* a deregisters (Observe 1, same token): no more notifications */
    send_get(a, 0xa, 2, 1);
    CHECK(recv_msg(a, &r) && r.code == PQCOAP_CODE(2, 5) && !r.has_observe);
    atomic_store(&calls, 0);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    sync_get(&ts);
    CHECK_EQ_INT(atomic_load(&calls), 1);
    /* both places are free again (b's RST and a's deregistration ended theirs) */
    send_get(c, 0xd, 2, 0);
    CHECK(recv_msg(c, &r) && r.code == PQCOAP_CODE(2, 5) && r.has_observe);
    int e = raw_socket(&ts);
    send_get(e, 0xe, 1, 0);
    CHECK(recv_msg(e, &r) && r.code == PQCOAP_CODE(2, 5) && r.has_observe);
    close(e);
    close(a);
    close(b);
    close(c);
    test_server_end(&ts);
}

typedef struct notifier {
    pqcoap_server *srv;
    atomic_int stop;
} notifier;

static void *notify_loop(void *arg)
{
    notifier *n = arg;
    for (int i = 0; i < 100 && !atomic_load(&n->stop); i++) { /* bounded: 100 x 100 ms */
        pqcoap_server_notify(n->srv, "obs");
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* libcoap's client observes our server for 2 s (-s 2) and deregisters at the end. */
static void libcoap_client_observes(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "obs", PQCOAP_GET, obs_get, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_observable(ts.srv, "obs", 0), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char dir[] = "/tmp/pqcoap-obs-XXXXXX", out[64], uri[96];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(out, sizeof(out), "%s/out", dir);
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "obs");
    atomic_store(&calls, 0);
    notifier n = {ts.srv, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, notify_loop, &n) == 0);
    char *argv[] = {COAP_CLIENT, "-s", "2", "-o", out, uri, NULL};
    CHECK_EQ_INT(proc_run(argv), 0);
    atomic_store(&n.stop, 1);
    pthread_join(th, NULL);
    /* the registration's answer and the notifications, in order */
    FILE *f = fopen(out, "rb");
    char buf[4096];
    size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[got] = '\0';
    CHECK(strncmp(buf, "n=0", 3) == 0);
    CHECK(strstr(buf, "n=1") != NULL && strstr(buf, "n=2") != NULL);
    /* it deregistered on exit: a notification now reaches nobody */
    int before = atomic_load(&calls);
    CHECK_EQ_INT(pqcoap_server_notify(ts.srv, "obs"), PQCOAP_OK);
    sync_get(&ts);
    CHECK_EQ_INT(atomic_load(&calls), before + 1);
    unlink(out);
    rmdir(dir);
    test_server_end(&ts);
}

int main(void)
{
    limits_rst_deregistration();
    if (access(COAP_CLIENT, X_OK) == 0)
        libcoap_client_observes();
    else
        CHECK(!"libcoap3-bin tools missing (scripts/bootstrap.sh installs them)");
    return check_done();
}
