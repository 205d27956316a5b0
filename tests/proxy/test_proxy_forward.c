/* The forwarding rules of the library's proxy (proxy.h), with a device proxy in plain mode
 * in-process between a client and our own server as the upstream, on loopback: path and
 * query reach the upstream exactly (percent-encoding, the prefix of `to`), end-to-end
 * options pass both ways and hop-by-hop ones do not, Proxy-Uri gets 5.05 and an unknown
 * unsafe option 5.02 without reaching the upstream, requests over max_in_flight get 5.03
 * with Max-Age, a silent upstream gives 5.04, a Reset or a malformed answer 5.02, and the
 * settings are checked. */
#include <poll.h>

#include "check.h"
#include "net/net_test.h"
#include "pqcoap/proxy.h"

#define OPT_ETAG 4
#define OPT_ACCEPT 17
#define OPT_ELECTIVE_SAFE 65000   /* unknown, elective, safe to forward */
#define OPT_ELECTIVE_UNSAFE 65002 /* unknown, elective, unsafe to forward */

static int requests_seen;           /* by the upstream, I/O thread */
static uint64_t held_ticket;        /* of the request on "hold" */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* Upstream: ".../hold" is deferred until main completes it; anything else is answered with
 * "path|...|?query|...|opts n,n,..." and a fixed set of answer options. */
static pqcoap_err upstream(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                           pqcoap_msgbuf *resp)
{
    (void)arg;
    requests_seen++;
    const pqcoap_opt *last = NULL;
    for (size_t i = 0; i < req->n_opts; i++)
        if (req->opts[i].number == PQCOAP_OPT_URI_PATH)
            last = &req->opts[i];
    if (last && last->len == 4 && memcmp(last->value, "hold", 4) == 0) {
        uint64_t t;
        pqcoap_err err = pqcoap_server_defer(rq, &t);
        pthread_mutex_lock(&held_lock);
        held_ticket = t;
        pthread_mutex_unlock(&held_lock);
        return err;
    }
    char text[512];
    size_t n = 0;
    for (size_t i = 0; i < req->n_opts && n + 80 < sizeof text; i++) {
        const pqcoap_opt *o = &req->opts[i];
        if (o->number == PQCOAP_OPT_URI_PATH || o->number == PQCOAP_OPT_URI_QUERY)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%.*s|",
                                  o->number == PQCOAP_OPT_URI_QUERY ? "?" : "", (int)o->len,
                                  (const char *)o->value);
    }
    n += (size_t)snprintf(text + n, sizeof text - n, "opts");
    for (size_t i = 0; i < req->n_opts && n + 8 < sizeof text; i++)
        if (req->opts[i].number != PQCOAP_OPT_URI_PATH && req->opts[i].number != PQCOAP_OPT_URI_QUERY)
            n += (size_t)snprintf(text + n, sizeof text - n, " %u", req->opts[i].number);
    static const uint8_t etag[] = {0x01, 0x02};
    resp->code = PQCOAP_CODE(2, 5);
    if (pqcoap_msgbuf_add_opt(resp, OPT_ETAG, etag, 2) != PQCOAP_OK ||
        pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_OBSERVE, 7) != PQCOAP_OK ||
        pqcoap_msgbuf_add_opt(resp, 8, (const uint8_t *)"loc", 3) != PQCOAP_OK ||
        pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_CONTENT_FORMAT, 50) != PQCOAP_OK ||
        pqcoap_msgbuf_add_uint(resp, PQCOAP_OPT_MAX_AGE, 30) != PQCOAP_OK)
        return PQCOAP_ERR_BUFFER;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)text, n);
}

/* A device proxy run by a thread. */
typedef struct running {
    pqcoap_proxy *px;
    pthread_t thread;
} running;

static void *run_main(void *arg)
{
    pqcoap_server_run(pqcoap_proxy_server(((running *)arg)->px));
    return NULL;
}

static void stop_device(running *rn)
{
    pqcoap_server_stop(pqcoap_proxy_server(rn->px));
    pthread_join(rn->thread, NULL);
    pqcoap_proxy_free(rn->px);
}

/* Starts a device proxy toward `to` and returns a client of it (the application), or NULL
 * with nothing left running. */
static pqcoap_client *start_device(running *rn, const char *to, size_t max_in_flight,
                                   uint32_t timeout_ms)
{
    pqcoap_proxy_config cfg = PQCOAP_PROXY_CONFIG_INIT;
    char msg[200];
    cfg.port = 0;
    cfg.to = to;
    cfg.max_in_flight = max_in_flight;
    cfg.timeout_ms = timeout_ms;
    rn->px = NULL;
    if (pqcoap_proxy_device_create(&cfg, &rn->px, msg, sizeof msg) != PQCOAP_OK) {
        fprintf(stderr, "device: %s\n", msg);
        return NULL;
    }
    if (pthread_create(&rn->thread, NULL, run_main, rn) != 0) {
        pqcoap_proxy_free(rn->px);
        return NULL;
    }
    char uri[64];
    pqcoap_client_config app = PQCOAP_CLIENT_CONFIG_INIT;
    app.timeout_ms = 20000;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/", pqcoap_server_port(pqcoap_proxy_server(rn->px)));
    pqcoap_client *cl = test_client(uri, &app);
    if (!cl)
        stop_device(rn);
    return cl;
}


static pqcoap_err get(pqcoap_client *app, const char *path, const pqcoap_opt *opts, size_t n,
                      pqcoap_reply *r)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = path;
    req.opts = opts;
    req.n_opts = n;
    return pqcoap_client_request(app, &req, r);
}

static int body_is(const pqcoap_reply *r, const char *text)
{
    int ok = r->msg.payload_len == strlen(text) && memcmp(r->msg.payload, text, strlen(text)) == 0;
    if (!ok)
        fprintf(stderr, "body '%.*s', wanted '%s'\n", (int)r->msg.payload_len,
                r->msg.payload ? (const char *)r->msg.payload : "", text);
    return ok;
}

static void options_and_paths(pqcoap_client *app)
{
    static const uint8_t etag[] = {0x0a};
    pqcoap_opt opts[] = {
        {OPT_ETAG, etag, 1},
        {PQCOAP_OPT_OBSERVE, NULL, 0},      /* registration: not relayed */
        {OPT_ACCEPT, (const uint8_t *)"\x32", 1},
        {258, NULL, 0},                     /* No-Response: the proxies always answer */
        {OPT_ELECTIVE_SAFE, (const uint8_t *)"x", 1},
    };
    pqcoap_reply r;
    CHECK_EQ_INT(get(app, "a%2Fb/c.d/%2E%2E/e%3Ff?x=1&y=%26z", opts, 5, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK(body_is(&r, "pre|fix|a/b|c.d|..|e?f|?x=1|?y=&z|opts 4 17 65000"));
    /* the upstream's answer options come back, but not its Observe */
    const pqcoap_opt *o;
    CHECK((o = pqcoap_msg_find_opt(&r.msg, OPT_ETAG)) && o->len == 2);
    CHECK((o = pqcoap_msg_find_opt(&r.msg, 8)) && o->len == 3 && memcmp(o->value, "loc", 3) == 0);
    uint32_t v = 0;
    CHECK((o = pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_CONTENT_FORMAT)) &&
          pqcoap_opt_uint(o, &v) == PQCOAP_OK && v == 50);
    CHECK((o = pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_MAX_AGE)) &&
          pqcoap_opt_uint(o, &v) == PQCOAP_OK && v == 30);
    CHECK(pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_OBSERVE) == NULL);
    pqcoap_reply_free(&r);

    /* refused at the proxy, never forwarded */
    int before = requests_seen;
    pqcoap_opt proxy_uri = {PQCOAP_OPT_PROXY_URI, (const uint8_t *)"coap://elsewhere/", 17};
    CHECK_EQ_INT(get(app, "x", &proxy_uri, 1, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 5));
    pqcoap_reply_free(&r);
    pqcoap_opt unsafe = {OPT_ELECTIVE_UNSAFE, (const uint8_t *)"x", 1};
    CHECK_EQ_INT(get(app, "x", &unsafe, 1, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 2));
    CHECK(body_is(&r, "unsafe option 65002 not forwarded"));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(requests_seen, before);
}

static uint64_t held(void)
{
    pthread_mutex_lock(&held_lock);
    uint64_t t = held_ticket;
    pthread_mutex_unlock(&held_lock);
    return t;
}

/* max_in_flight = 1: while "hold" waits at the upstream, the next request gets 5.03. */
static void in_flight_limit(pqcoap_client *app, pqcoap_server *up)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "hold";
    uint32_t id;
    CHECK_EQ_INT(pqcoap_client_send(app, &req, NULL, &id), PQCOAP_OK);
    pqcoap_completion c;
    int done = 0;
    for (int i = 0; i < 400 && !held(); i++)
        CHECK_EQ_INT(pqcoap_client_poll(app, 50, &c, &done), PQCOAP_OK);
    CHECK(held() != 0 && !done);
    pqcoap_reply r;
    CHECK_EQ_INT(get(app, "other", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 3));
    uint32_t v = 0;
    const pqcoap_opt *o = pqcoap_msg_find_opt(&r.msg, PQCOAP_OPT_MAX_AGE);
    CHECK(o && pqcoap_opt_uint(o, &v) == PQCOAP_OK && v == 15); /* the device's timeout */
    pqcoap_reply_free(&r);
    pqcoap_msg m = {PQCOAP_CODE(2, 5), NULL, 0, NULL, 0, (const uint8_t *)"late", 4};
    CHECK_EQ_INT(pqcoap_server_complete(up, held(), &m), PQCOAP_OK);
    for (int i = 0; i < 400 && !done; i++)
        CHECK_EQ_INT(pqcoap_client_poll(app, 50, &c, &done), PQCOAP_OK);
    CHECK(done && c.err == PQCOAP_OK && c.reply.msg.code == PQCOAP_CODE(2, 5) &&
          body_is(&c.reply, "late"));
    pqcoap_reply_free(&c.reply);
    /* the place is free again */
    CHECK_EQ_INT(get(app, "again", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    pqcoap_reply_free(&r);
}

/* A raw UDP socket as the upstream: silent (5.04), then a Reset (5.02), then an answer with
 * more options than a client accepts (5.02). */
static void bad_upstream(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char to[64];
    snprintf(to, sizeof to, "coap://127.0.0.1:%u", ntohs(a.sin_port));
    running rn;
    pqcoap_client *app = start_device(&rn, to, 4, 3000);
    CHECK(app != NULL);
    if (!app) {
        close(fd);
        return;
    }
    pqcoap_reply r;
    CHECK_EQ_INT(get(app, "silent", NULL, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(5, 4));
    pqcoap_reply_free(&r);
    for (int kind = 0; kind < 2; kind++) {
        uint8_t d[1024];
        ssize_t n;
        while ((n = recv(fd, d, sizeof d, MSG_DONTWAIT)) > 0)
            continue; /* what the silent round left */
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.path = kind ? "many" : "reset";
        uint32_t id;
        CHECK_EQ_INT(pqcoap_client_send(app, &req, NULL, &id), PQCOAP_OK);
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        pqcoap_completion c;
        int done = 0;
        n = -1;
        for (int i = 0; i < 400 && n <= 0; i++) {
            CHECK_EQ_INT(pqcoap_client_poll(app, 50, &c, &done), PQCOAP_OK);
            n = recvfrom(fd, d, sizeof d, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        }
        CHECK(n >= 4 && !done);
        size_t tkl = d[0] & 15, len;
        if (!kind) {
            d[0] = 0x70; /* RST, no token */
            d[1] = 0;
            len = 4;
        } else {
            d[0] = (uint8_t)(0x60 | tkl); /* ACK 2.05 with 65 ETag options */
            d[1] = PQCOAP_CODE(2, 5);
            len = 4 + tkl;
            d[len++] = (uint8_t)(OPT_ETAG << 4 | 1);
            d[len++] = 1;
            for (int k = 1; k < 65; k++) {
                d[len++] = 0x01;
                d[len++] = 1;
            }
        }
        CHECK(sendto(fd, d, len, 0, (struct sockaddr *)&from, fl) == (ssize_t)len);
        for (int i = 0; i < 400 && !done; i++)
            CHECK_EQ_INT(pqcoap_client_poll(app, 50, &c, &done), PQCOAP_OK);
        CHECK(done && c.err == PQCOAP_OK && c.reply.msg.code == PQCOAP_CODE(5, 2));
        pqcoap_reply_free(&c.reply);
    }
    pqcoap_client_free(app);
    stop_device(&rn);
    close(fd);
}

static void settings(void)
{
    pqcoap_proxy_config cfg = PQCOAP_PROXY_CONFIG_INIT;
    pqcoap_proxy *px = (pqcoap_proxy *)&cfg;
    char msg[200];
    cfg.port = 0;
    CHECK_EQ_INT(pqcoap_proxy_device_create(&cfg, &px, msg, sizeof msg), PQCOAP_ERR_ARG);
    CHECK(px == NULL && msg[0]);
    cfg.to = "coap://127.0.0.1:9/x?y=1";
    CHECK_EQ_INT(pqcoap_proxy_device_create(&cfg, &px, msg, sizeof msg), PQCOAP_ERR_BAD_URI);
    cfg.to = "coap://127.0.0.1:9";
    cfg.mode = PQCOAP_PROXY_SIGN; /* no keys, no store */
    CHECK_EQ_INT(pqcoap_proxy_device_create(&cfg, &px, msg, sizeof msg), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_proxy_gateway_create(&cfg, &px, msg, sizeof msg), PQCOAP_ERR_ARG);
    cfg.mode = PQCOAP_PROXY_PLAIN;
    cfg.forward_identity = 1; /* only a secured gateway knows who asked */
    CHECK_EQ_INT(pqcoap_proxy_gateway_create(&cfg, &px, msg, sizeof msg), PQCOAP_ERR_ARG);
    CHECK(px == NULL);
}

int main(void)
{
    settings();
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", NULL, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK_EQ_INT(pqcoap_server_handle_default(ts.srv, upstream, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char to[64];
    snprintf(to, sizeof to, "coap://127.0.0.1:%u/pre/fix/", pqcoap_server_port(ts.srv));
    running rn;
    pqcoap_client *app = start_device(&rn, to, 1, 0);
    CHECK(app != NULL);
    if (app) {
        options_and_paths(app);
        in_flight_limit(app, ts.srv);
        pqcoap_client_free(app);
        stop_device(&rn);
    }
    test_server_end(&ts);
    bad_upstream();
    return check_done();
}
