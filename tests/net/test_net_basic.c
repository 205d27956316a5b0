/* Our client against our server over UDP on loopback: every method, payloads, options,
 * block-wise bodies, NON, IPv4 and IPv6, limits, errors, timeouts and a window of requests. */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "net_test.h"

#define OPT_ECHO_QUERY 65000    /* elective: the server puts each Uri-Query here */
#define OPT_EXTRA 2048          /* elective option the client sends and the server echoes */

/* Echoes the payload, the Content-Format and OPT_EXTRA, and each Uri-Query as OPT_ECHO_QUERY. */
static pqcoap_err echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    for (size_t i = 0; i < req->n_opts; i++) {
        const pqcoap_opt *o = &req->opts[i];
        uint16_t n = o->number == PQCOAP_OPT_URI_QUERY ? OPT_ECHO_QUERY : o->number;
        if (n == OPT_ECHO_QUERY || n == OPT_EXTRA || n == PQCOAP_OPT_CONTENT_FORMAT)
            { pqcoap_err e_ = pqcoap_msgbuf_add_opt(resp, n, o->value, o->len); if (e_ != PQCOAP_OK) return e_; }
    }
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

static pqcoap_err hello(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"hello", 5);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void register_all(pqcoap_server *srv)
{
    static const uint8_t methods[] = {PQCOAP_GET, PQCOAP_POST, PQCOAP_PUT, PQCOAP_DELETE, PQCOAP_FETCH};
    for (size_t i = 0; i < sizeof(methods); i++)
        CHECK_EQ_INT(pqcoap_server_handle(srv, "echo", methods[i], echo, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(srv, "a/b", PQCOAP_GET, hello, NULL), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_server_handle(srv, "", PQCOAP_GET, hello, NULL), PQCOAP_OK);
}

/* Every method with empty and non-empty payloads, options round trip. */
static void test_methods(const char *host, test_server *ts, int non)
{
    char uri[128];
    test_uri(uri, sizeof(uri), host, ts, "echo?first=1&second");
    pqcoap_client *cl = test_client(uri, NULL);
    CHECK(cl != NULL);
    if (!cl)
        return;
    static const uint8_t methods[] = {PQCOAP_GET, PQCOAP_POST, PQCOAP_PUT, PQCOAP_DELETE, PQCOAP_FETCH};
    static const uint8_t codes[] = {PQCOAP_CODE(2, 5), PQCOAP_CODE(2, 4), PQCOAP_CODE(2, 4),
                                    PQCOAP_CODE(2, 2), PQCOAP_CODE(2, 5)};
    const uint8_t extra_val[3] = {1, 2, 3};
    pqcoap_opt extra = {OPT_EXTRA, extra_val, sizeof(extra_val)};
    for (size_t m = 0; m < sizeof(methods); m++) {
        for (int with_payload = 0; with_payload < 2; with_payload++) {
            pqcoap_req req = PQCOAP_REQ_INIT;
            pqcoap_reply reply;
            req.method = methods[m];
            req.non = non;
            req.content_format = with_payload ? 42 : -1;
            req.opts = &extra;
            req.n_opts = 1;
            req.payload = (const uint8_t *)"payload bytes";
            req.payload_len = with_payload ? 13 : 0;
            pqcoap_err err = pqcoap_client_request(cl, &req, &reply);
            CHECK_EQ_INT(err, PQCOAP_OK);
            if (err != PQCOAP_OK) {
                fprintf(stderr, "  %s\n", pqcoap_client_last_error(cl));
                continue;
            }
            CHECK_EQ_INT(reply.msg.code, codes[m]);
            CHECK_EQ_INT(reply.msg.payload_len, req.payload_len);
            CHECK(req.payload_len == 0 || memcmp(reply.msg.payload, req.payload, req.payload_len) == 0);
            /* Options in encoded order: Content-Format (if sent), OPT_EXTRA, two queries. */
            size_t k = 0;
            CHECK_EQ_INT(reply.msg.n_opts, 3 + (size_t)with_payload);
            if (reply.msg.n_opts == 3 + (size_t)with_payload) {
                if (with_payload) {
                    CHECK_EQ_INT(reply.msg.opts[0].number, PQCOAP_OPT_CONTENT_FORMAT);
                    CHECK(reply.msg.opts[0].len == 1 && reply.msg.opts[0].value[0] == 42);
                    k = 1;
                }
                CHECK_EQ_INT(reply.msg.opts[k].number, OPT_EXTRA);
                CHECK(reply.msg.opts[k].len == 3 && memcmp(reply.msg.opts[k].value, extra_val, 3) == 0);
                CHECK_EQ_INT(reply.msg.opts[k + 1].number, OPT_ECHO_QUERY);
                CHECK(reply.msg.opts[k + 1].len == 7 && memcmp(reply.msg.opts[k + 1].value, "first=1", 7) == 0);
                CHECK_EQ_INT(reply.msg.opts[k + 2].number, OPT_ECHO_QUERY);
                CHECK(reply.msg.opts[k + 2].len == 6 && memcmp(reply.msg.opts[k + 2].value, "second", 6) == 0);
            }
            pqcoap_reply_free(&reply);
        }
    }
    /* Path override, multi-segment path and the root. */
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply reply;
    req.path = "a/b";
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_OK);
    CHECK(reply.msg.payload_len == 5 && memcmp(reply.msg.payload, "hello", 5) == 0);
    pqcoap_reply_free(&reply);
    req.path = "";
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(2, 5));
    pqcoap_reply_free(&reply);
    pqcoap_client_free(cl);
}

/* A 5 KiB body in both directions with 64-byte blocks. */
static void test_blockwise(const char *host, test_server *ts)
{
    char uri[128];
    test_uri(uri, sizeof(uri), host, ts, "echo");
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.block_size = 64;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    if (!cl)
        return;
    static uint8_t body[5120];
    fill(body, sizeof(body), 7);
    static const uint8_t methods[] = {PQCOAP_POST, PQCOAP_PUT, PQCOAP_FETCH};
    for (size_t m = 0; m < sizeof(methods); m++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply reply;
        req.method = methods[m];
        req.payload = body;
        req.payload_len = sizeof(body);
        pqcoap_err err = pqcoap_client_request(cl, &req, &reply);
        CHECK_EQ_INT(err, PQCOAP_OK);
        if (err != PQCOAP_OK)
            fprintf(stderr, "  blockwise: %s\n", pqcoap_client_last_error(cl));
        CHECK_EQ_INT(reply.msg.payload_len, sizeof(body));
        CHECK(reply.msg.payload_len == sizeof(body) && memcmp(reply.msg.payload, body, sizeof(body)) == 0);
        /* The block-wise options never reach the caller. */
        CHECK(pqcoap_msg_find_opt(&reply.msg, PQCOAP_OPT_BLOCK2) == NULL);
        CHECK(pqcoap_msg_find_opt(&reply.msg, PQCOAP_OPT_SIZE2) == NULL);
        pqcoap_reply_free(&reply);
    }
    pqcoap_client_free(cl);
}

/* 4.04, 4.05, 4.13 + Size1, expect_success, client-side body limit. */
static void test_errors(test_server *ts)
{
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, "nothing/here");
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.max_body = 16384;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    if (!cl)
        return;
    pqcoap_req req = PQCOAP_REQ_INIT;
    pqcoap_reply reply;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&reply);

    req.expect_success = 1;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_ERR_COAP);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(4, 4));
    CHECK(strstr(pqcoap_client_last_error(cl), "4.04") != NULL);
    pqcoap_reply_free(&reply);

    req = (pqcoap_req)PQCOAP_REQ_INIT;
    req.path = "a/b";
    req.method = PQCOAP_PUT;
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(4, 5));
    pqcoap_reply_free(&reply);

    /* The server's limit is 8192: 9000 bytes get 4.13 with Size1 = 8192. */
    static uint8_t big[9000];
    fill(big, sizeof(big), 3);
    req.path = "echo";
    req.method = PQCOAP_POST;
    req.payload = big;
    req.payload_len = sizeof(big);
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_OK);
    CHECK_EQ_INT(reply.msg.code, PQCOAP_CODE(4, 13));
    const pqcoap_opt *size1 = pqcoap_msg_find_opt(&reply.msg, PQCOAP_OPT_SIZE1);
    uint32_t v = 0;
    CHECK(size1 != NULL && pqcoap_opt_uint(size1, &v) == PQCOAP_OK && v == 8192);
    pqcoap_reply_free(&reply);

    /* Above the client's own limit nothing is sent. */
    static uint8_t huge[16385];
    req.payload = huge;
    req.payload_len = sizeof(huge);
    CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_ERR_TOO_LARGE);
    CHECK(strstr(pqcoap_client_last_error(cl), "exceeds") != NULL);
    pqcoap_client_free(cl);
}

/* A window of requests in flight with send + poll. */
static void test_window(test_server *ts)
{
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", ts, "echo");
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.max_in_flight = 8;
    cfg.nstart = 8;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    if (!cl)
        return;
    enum { TOTAL = 200 };
    uint8_t vals[TOTAL];
    int seen[TOTAL] = {0};
    size_t sent = 0, received = 0, bad = 0;
    for (size_t i = 0; i < TOTAL; i++)
        vals[i] = (uint8_t)i;
    while (received < TOTAL) {
        while (sent < TOTAL && pqcoap_client_pending(cl) < 8) {
            pqcoap_req req = PQCOAP_REQ_INIT;
            uint32_t id;
            req.method = PQCOAP_POST;
            req.payload = &vals[sent];
            req.payload_len = 1;
            if (pqcoap_client_send(cl, &req, &vals[sent], &id) != PQCOAP_OK)
                break;
            sent++;
        }
        pqcoap_completion c;
        int done = 0;
        if (pqcoap_client_poll(cl, 5000, &c, &done) != PQCOAP_OK || !done)
            break;
        const uint8_t *want = c.user;
        if (c.err != PQCOAP_OK || c.reply.msg.payload_len != 1 || c.reply.msg.payload[0] != *want)
            bad++;
        else
            seen[*want]++;
        pqcoap_reply_free(&c.reply);
        received++;
    }
    CHECK_EQ_INT(received, TOTAL);
    CHECK_EQ_INT(bad, 0);
    size_t once = 0;
    for (size_t i = 0; i < TOTAL; i++)
        once += seen[i] == 1;
    CHECK_EQ_INT(once, TOTAL);
    /* Nothing in flight: poll says so. */
    pqcoap_completion c;
    int done = 1;
    CHECK_EQ_INT(pqcoap_client_poll(cl, 0, &c, &done), PQCOAP_ERR_STATE);
    CHECK_EQ_INT(done, 0);
    pqcoap_client_free(cl);
}

/* Nothing listens: PQCOAP_ERR_TIMEOUT, well within a generous bound. */
static void test_timeout(void)
{
    uint16_t port = test_free_port();
    CHECK(port != 0);
    char uri[64];
    snprintf(uri, sizeof(uri), "coap://127.0.0.1:%u/x", port);
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.timeout_ms = 2000;
    pqcoap_client *cl = test_client(uri, &cfg);
    CHECK(cl != NULL);
    if (!cl)
        return;
    for (int non = 0; non < 2; non++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        pqcoap_reply reply;
        req.non = non;
        uint64_t t0 = now_ms();
        CHECK_EQ_INT(pqcoap_client_request(cl, &req, &reply), PQCOAP_ERR_TIMEOUT);
        CHECK(now_ms() - t0 < 4 * 2000);
        CHECK(strstr(pqcoap_client_last_error(cl), "no response") != NULL);
        CHECK(reply.mem == NULL);
    }
    pqcoap_client_free(cl);
}

/* An external event loop: poll(pqcoap_server_fd) then pqcoap_server_step(srv, 0), stopped
 * from a signal handler. */
static pqcoap_server *signal_srv;

static void on_signal(int sig)
{
    (void)sig;
    pqcoap_server_stop(signal_srv);
}

static void *external_loop(void *arg)
{
    pqcoap_server *srv = arg;
    for (int i = 0; i < 100000; i++) {
        struct pollfd p = {pqcoap_server_fd(srv), POLLIN, 0};
        if (poll(&p, 1, -1) < 0)
            continue;
        if (pqcoap_server_step(srv, 0) != PQCOAP_OK)
            break;
    }
    return NULL;
}

static void test_external_loop(void)
{
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return;
    register_all(ts.srv);
    CHECK(pqcoap_server_fd(ts.srv) >= 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, external_loop, ts.srv) == 0);
    CHECK_EQ_INT(test_get_count(&ts, "a/b", "hello", 20), 20);
    signal_srv = ts.srv;
    signal(SIGUSR1, on_signal);
    CHECK(raise(SIGUSR1) == 0);
    pthread_join(t, NULL);
    CHECK_EQ_INT(pqcoap_server_step(ts.srv, 0), PQCOAP_ERR_STATE);
    pqcoap_server_free(ts.srv);
}

static void test_bad_uris(void)
{
    static const char *bad[] = {"http://127.0.0.1/x", "coaps://127.0.0.1/x", "coap://", "127.0.0.1",
                                "coap://[::1/x", "coap://127.0.0.1:99999/x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pqcoap_client *cl = NULL;
        char msg[160];
        pqcoap_err err = pqcoap_client_open(bad[i], NULL, &cl, msg, sizeof(msg));
        CHECK_EQ_INT(err, PQCOAP_ERR_BAD_URI);
        if (err != PQCOAP_ERR_BAD_URI)
            fprintf(stderr, "  uri \"%s\" gave %d\n", bad[i], err);
        CHECK(cl == NULL);
        CHECK(strlen(msg) > 0);
    }
    pqcoap_client *cl = NULL;
    char msg[160];
    CHECK_EQ_INT(pqcoap_client_open("coap://no-such-host.invalid/x", NULL, &cl, msg, sizeof(msg)),
                 PQCOAP_ERR_UNREACHABLE);
    CHECK(strstr(msg, "no-such-host.invalid") != NULL);
    /* A host name that resolves (localhost) is accepted. */
    CHECK_EQ_INT(pqcoap_client_open("coap://localhost/x", NULL, &cl, msg, sizeof(msg)), PQCOAP_OK);
    pqcoap_client_free(cl);
}

int main(void)
{
    test_server v4, v6;
    CHECK(test_server_new(&v4, "127.0.0.1", NULL, 8192) != NULL);
    CHECK(test_server_new(&v6, "::1", NULL, 8192) != NULL);
    if (!v4.srv || !v6.srv)
        return check_done();
    CHECK(pqcoap_server_port(v4.srv) != 0);
    register_all(v4.srv);
    register_all(v6.srv);
    CHECK(test_server_start(&v4));
    CHECK(test_server_start(&v6));

    test_methods("127.0.0.1", &v4, 0);
    test_methods("127.0.0.1", &v4, 1);
    test_methods("[::1]", &v6, 0);
    test_blockwise("127.0.0.1", &v4);
    test_blockwise("[::1]", &v6);
    test_errors(&v4);
    test_window(&v4);
    test_timeout();
    test_bad_uris();
    test_external_loop();

    test_server_end(&v4);
    test_server_end(&v6);
    return check_done();
}
