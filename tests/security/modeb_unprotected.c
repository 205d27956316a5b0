/* Regression (Mode B unsigned error codes): the session client reported any unprotected
 * response code as the server's (an unprotected 4.04 as PQCOAP_ERR_COAP, "4.04 Not Found"),
 * though anyone on the path can send one. Only the codes PROTOCOL.md "Errors" leaves
 * unprotected (4.00, 4.01 with its three diagnostics, 5.03) keep their meaning; any other
 * response without valid protection is PQCOAP_ERR_UNAUTHENTICATED. A proxy on loopback
 * rewrites the protected responses of a real session server, and a raw UDP server answers
 * handshakes. */
#include <poll.h>

#include "check.h"
#include "modeb_raw.h"

/* What the proxy or the raw server answers instead: a code and a diagnostic payload. */
static struct {
    pthread_mutex_t m;
    int on;
    uint8_t code;
    char diag[32];
} forged = {PTHREAD_MUTEX_INITIALIZER, 0, 0, ""};

static void forge(int on, uint8_t code, const char *diag)
{
    pthread_mutex_lock(&forged.m);
    forged.on = on;
    forged.code = code;
    snprintf(forged.diag, sizeof forged.diag, "%s", diag);
    pthread_mutex_unlock(&forged.m);
}

/* Makes d[0..*n) (a response) the forged answer: same type, message ID and token, the
 * forged code, no options, the diagnostic as payload. 0 if nothing is forged now. */
static int forge_answer(uint8_t *d, size_t *n)
{
    pthread_mutex_lock(&forged.m);
    int on = forged.on;
    if (on) {
        size_t k = 4u + (d[0] & 0x0f), len = strlen(forged.diag);
        d[1] = forged.code;
        if (len) {
            d[k++] = 0xff;
            memcpy(d + k, forged.diag, len);
        }
        *n = k + len;
    }
    pthread_mutex_unlock(&forged.m);
    return on;
}

/* A socket bound to 127.0.0.1 on an ephemeral port (returned in *port). */
static int bound_socket(uint16_t *port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snet_must(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(s, (struct sockaddr *)&a, &len) == 0, "socket");
    *port = ntohs(a.sin_port);
    return s;
}

/* ---- a proxy that forges the answers to protected requests ---- */

typedef struct proxy {
    int front, back;                /* to the client, to the server */
    uint16_t port;
    volatile int stop;
    pthread_t thread;
    uint16_t protected_mids[16];    /* message IDs of the last protected requests */
    size_t next;
} proxy;

/* 1 if d[0..n) is a protected request (payload 0x10 ..., not block-wise). */
static int is_protected_request(const uint8_t *d, size_t n)
{
    int blockwise;
    size_t off = raw_payload_offset(d, n, &blockwise);
    return off && off < n && d[1] >= 1 && d[1] <= 31 && !blockwise && d[off] == 0x10;
}

static void *proxy_main(void *arg)
{
    proxy *p = arg;
    static uint8_t d[RAW_DGRAM_MAX];
    struct sockaddr_in client;
    socklen_t client_len = 0;
    struct pollfd fds[2] = {{p->front, POLLIN, 0}, {p->back, POLLIN, 0}};
    while (!p->stop) {
        if (poll(fds, 2, 50) <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            client_len = sizeof client;
            ssize_t n = recvfrom(p->front, d, sizeof d, 0, (struct sockaddr *)&client,
                                 &client_len);
            if (n >= 4 && is_protected_request(d, (size_t)n))
                p->protected_mids[p->next++ % 16] = (uint16_t)(d[2] << 8 | d[3]);
            if (n > 0)
                (void)send(p->back, d, (size_t)n, 0);
        }
        if (fds[1].revents & POLLIN) {
            ssize_t got = recv(p->back, d, sizeof d, 0);
            if (got < 4 || client_len == 0)
                continue;
            size_t n = (size_t)got;
            uint16_t mid = (uint16_t)(d[2] << 8 | d[3]);
            for (size_t i = 0; i < 16; i++)
                if (p->protected_mids[i] == mid && forge_answer(d, &n))
                    break;
            (void)sendto(p->front, d, n, 0, (struct sockaddr *)&client, client_len);
        }
    }
    return NULL;
}

static void proxy_start(proxy *p, uint16_t server_port)
{
    memset(p, 0, sizeof *p);
    p->front = bound_socket(&p->port);
    p->back = raw_socket_to(server_port);
    snet_must(p->back >= 0, "proxy socket");
    snet_must(pthread_create(&p->thread, NULL, proxy_main, p) == 0, "proxy thread");
}

static void proxy_stop(proxy *p)
{
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->front);
    close(p->back);
}

/* The error of a GET on "echo" while the proxy forges `code` with `diag`. */
static pqcoap_err forged_get(pqcoap_session_client *sc, uint8_t code, const char *diag)
{
    pqcoap_reply r;
    forge(1, code, diag);
    int before = atomic_load(&runs[PQCOAP_GET]);
    pqcoap_err err = snet_req(sc, PQCOAP_GET, "echo", "x", 1, &r);
    forge(0, 0, "");
    pqcoap_reply_free(&r);
    CHECK(atomic_load(&runs[PQCOAP_GET]) > before); /* the server did answer */
    return err;
}

static void test_protected_responses(void)
{
    pqcoap_store cstore;
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    snet_server srv;
    pqcoap_session_server_config scfg = snet_server_cfg(&trust, 0);
    snet_server_start(&srv, &scfg);
    proxy p;
    proxy_start(&p, srv.port);
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server,
                                                       &cstore);
    pqcoap_session_client *sc = snet_client(p.port, &cfg);
    CHECK(snet_echo(sc, PQCOAP_GET, "through the proxy"));

    /* codes the protocol never leaves unprotected: unauthenticated, whatever they say */
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(4, 4), "not found"), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(2, 5), "hello"), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(2, 5), ""), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(4, 1), "other"), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(5, 0), "internal error"),
                 PQCOAP_ERR_UNAUTHENTICATED);
    CHECK(snet_echo(sc, PQCOAP_GET, "the session still works"));

    /* the unprotected codes of PROTOCOL.md "Errors" keep their meaning */
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(4, 0), "malformed"), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(4, 1), "rejected"), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(5, 3), "busy"), PQCOAP_ERR_BUSY);
    uint64_t handshakes = snet_stats(&srv).sessions_created;
    /* "unknown session": a new handshake and the GET once more (forged again) */
    CHECK_EQ_INT(forged_get(sc, PQCOAP_CODE(4, 1), "unknown session"),
                 PQCOAP_ERR_UNKNOWN_SESSION);
    CHECK_EQ_INT(snet_stats(&srv).sessions_created, handshakes + 1);
    CHECK(snet_echo(sc, PQCOAP_GET, "and it works again"));

    pqcoap_session_client_free(sc);
    proxy_stop(&p);
    snet_server_stop(&srv);
    pqcoap_store_close(&cstore);
}

/* ---- a raw server answering every request (the INIT) with the forged code ---- */

typedef struct raw_server {
    int s;
    uint16_t port;
    volatile int stop;
    pthread_t thread;
} raw_server;

static void *raw_server_main(void *arg)
{
    raw_server *t = arg;
    static uint8_t d[RAW_DGRAM_MAX];
    struct pollfd fd = {t->s, POLLIN, 0};
    while (!t->stop) {
        if (poll(&fd, 1, 50) <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom(t->s, d, sizeof d, 0, (struct sockaddr *)&from, &from_len);
        if (got < 4 || (d[0] & 0x30) != 0) /* CON requests only */
            continue;
        size_t n = (size_t)got;
        d[0] = (uint8_t)((d[0] & 0xcf) | 0x20); /* ACK, piggybacked */
        if (forge_answer(d, &n))
            (void)sendto(t->s, d, n, 0, (struct sockaddr *)&from, from_len);
    }
    return NULL;
}

static pqcoap_err connect_with(raw_server *t, pqcoap_store *cstore, uint8_t code,
                               const char *diag)
{
    pqcoap_session_client_config cfg = snet_client_cfg("client", &id_client, &id_server,
                                                       cstore);
    pqcoap_session_client *sc = snet_client(t->port, &cfg);
    forge(1, code, diag);
    pqcoap_err err = pqcoap_session_client_connect(sc);
    forge(0, 0, "");
    pqcoap_session_client_free(sc);
    return err;
}

static void test_handshake_answers(void)
{
    pqcoap_store cstore;
    snet_must(pqcoap_store_open_memory(&cstore) == PQCOAP_OK, "client store");
    raw_server t;
    memset(&t, 0, sizeof t);
    t.s = bound_socket(&t.port);
    snet_must(pthread_create(&t.thread, NULL, raw_server_main, &t) == 0, "thread");

    CHECK_EQ_INT(connect_with(&t, &cstore, PQCOAP_CODE(4, 4), "not found"),
                 PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(connect_with(&t, &cstore, PQCOAP_CODE(4, 1), "other"),
                 PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(connect_with(&t, &cstore, PQCOAP_CODE(4, 1), "handshake rejected"),
                 PQCOAP_ERR_HANDSHAKE);
    CHECK_EQ_INT(connect_with(&t, &cstore, PQCOAP_CODE(4, 0), "malformed"),
                 PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(connect_with(&t, &cstore, PQCOAP_CODE(5, 3), "busy"), PQCOAP_ERR_BUSY);

    t.stop = 1;
    pthread_join(t.thread, NULL);
    close(t.s);
    pqcoap_store_close(&cstore);
}

int main(void)
{
    snet_init();
    test_protected_responses();
    test_handshake_answers();
    snet_fini();
    return check_done();
}
