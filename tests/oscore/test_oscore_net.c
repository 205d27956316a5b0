/* OSCORE on the CoAP endpoints over real UDP on loopback, over IPv4 and again over IPv6:
 * every method, block-wise bodies both ways, the refusals of RFC 8613 section 8.2 on raw
 * datagrams, replay of a captured request, and a server restart recovered through Echo
 * (Appendix B.1.2) without running a replayed request. */
#include "check.h"
#include "loopback.h"
#include "net/net_test.h"
#include "oscore/coap_wire.h"
#include "pqcoap/oscore_endpoint.h"
#include "net/oscore_internal.h"

#include <poll.h>
#include <stdlib.h>

static const char server_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "master_salt,hex,9e7ca92223786340\n"
    "sender_id,hex,01\n"
    "recipient_id,hex,\"\"\n"
    "recipient_id,ascii,dev2\n"
    "ssn_freq,integer,8\n";
static const char client_conf[] =
    "master_secret,hex,0102030405060708090a0b0c0d0e0f10\n"
    "master_salt,hex,9e7ca92223786340\n"
    "sender_id,hex,\"\"\n"
    "recipient_id,hex,01\n"
    "ssn_freq,integer,8\n";

static int handled;
static int family; /* of this pass: AF_INET (127.0.0.1) or AF_INET6 (::1) */

static pqcoap_err on_temp(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    handled++;
    return pqcoap_msgbuf_set_payload(resp, (const uint8_t *)"21.5", 4);
}

static pqcoap_err on_echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                          pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    handled++;
    const pqcoap_opt *q = pqcoap_msg_find_opt(req, PQCOAP_OPT_URI_QUERY);
    if (q != NULL)
        PQCOAP_TRY(pqcoap_msgbuf_add_opt(resp, 65000, q->value, q->len));
    return pqcoap_msgbuf_set_payload(resp, req->payload, req->payload_len);
}

/* GET big: a body of 3000 bytes, sent in blocks (outer block-wise). */
static uint8_t big_body[3000];

static pqcoap_err on_big(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req,
                         pqcoap_msgbuf *resp)
{
    (void)arg;
    (void)rq;
    (void)req;
    handled++;
    return pqcoap_msgbuf_set_payload(resp, big_body, sizeof big_body);
}

static void parse_conf(const char *text, pqcoap_oscore_conf *c)
{
    char msg[128];
    if (pqcoap_oscore_conf_parse(text, strlen(text), c, msg, sizeof msg) != PQCOAP_OK) {
        fprintf(stderr, "conf: %s\n", msg);
        exit(1);
    }
}

/* An OSCORE server on 127.0.0.1 or ::1 over `store` with the two handlers. */
static pqcoap_oscore_server *start(test_server *ts, const pqcoap_store *store)
{
    pqcoap_oscore_conf conf;
    parse_conf(server_conf, &conf);
    pqcoap_oscore_server *os = NULL;
    CHECK_EQ_INT(pqcoap_oscore_server_new(store, NULL, &os), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_server_add_conf(os, &conf), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_server_add_conf(os, &conf), PQCOAP_ERR_EXISTS);
    pqcoap_oscore_conf_wipe(&conf);
    pqcoap_server *srv = test_server_new(ts, loopback_bind(family),
                                         pqcoap_oscore_server_layer(os), 0);
    CHECK(srv != NULL);
    pqcoap_server_handle(srv, "sensors/temp", PQCOAP_GET, on_temp, NULL);
    pqcoap_server_handle(srv, "big", PQCOAP_GET, on_big, NULL);
    for (uint8_t m = PQCOAP_GET; m <= PQCOAP_FETCH; m++)
        pqcoap_server_handle(srv, "echo", m, on_echo, NULL);
    CHECK(test_server_start(ts));
    return os;
}

static pqcoap_oscore_client *client(const test_server *ts, const pqcoap_store *store,
                                    const char *conf_text)
{
    char uri[128];
    test_uri(uri, sizeof uri, loopback_uri_host(family), ts, "sensors/temp");
    pqcoap_oscore_conf conf;
    parse_conf(conf_text, &conf);
    pqcoap_client_config net = PQCOAP_CLIENT_CONFIG_INIT;
    net.timeout_ms = 5000;
    pqcoap_oscore_client *c = NULL;
    char msg[160];
    if (pqcoap_oscore_client_open(uri, &conf, store, &net, &c, msg, sizeof msg) != PQCOAP_OK)
        fprintf(stderr, "client: %s\n", msg);
    pqcoap_oscore_conf_wipe(&conf);
    return c;
}

static pqcoap_err get(pqcoap_oscore_client *c, pqcoap_reply *r)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    return pqcoap_oscore_client_request(c, &req, r);
}

static void test_methods(const test_server *ts, const pqcoap_store *cstore)
{
    pqcoap_oscore_client *c = client(ts, cstore, client_conf);
    CHECK(c != NULL);
    pqcoap_reply r;
    int before = handled;
    CHECK_EQ_INT(get(c, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(r.msg.payload_len, 4);
    CHECK_MEM(r.msg.payload, "21.5", 4);
    CHECK_EQ_INT(handled, before + 1);
    pqcoap_reply_free(&r);
    /* Every method with a 5 KiB body both ways (block-wise outside OSCORE) and a query. */
    static uint8_t body[5 * 1024];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    const uint8_t methods[] = {PQCOAP_POST, PQCOAP_PUT, PQCOAP_FETCH, PQCOAP_DELETE};
    for (size_t m = 0; m < sizeof methods; m++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = methods[m];
        req.path = "echo?k=v";
        req.payload = methods[m] == PQCOAP_DELETE ? NULL : body;
        req.payload_len = methods[m] == PQCOAP_DELETE ? 0 : sizeof body;
        CHECK_EQ_INT(pqcoap_oscore_client_request(c, &req, &r), PQCOAP_OK);
        CHECK_EQ_INT(r.msg.payload_len, req.payload_len);
        if (r.msg.payload_len == req.payload_len && req.payload_len > 0)
            CHECK_MEM(r.msg.payload, body, sizeof body);
        const pqcoap_opt *q = pqcoap_msg_find_opt(&r.msg, 65000);
        CHECK(q != NULL && q->len == 3 && memcmp(q->value, "k=v", 3) == 0);
        pqcoap_reply_free(&r);
    }
    /* A response larger than one block, to a request that fits in one (GET): the client
     * asks for each further block with the protected request again, which the server
     * answers from the protected response it kept, not as a replay. */
    for (size_t i = 0; i < sizeof big_body; i++)
        big_body[i] = (uint8_t)(i * 13 + 5);
    for (int bs = 64; bs <= 1024; bs *= 16) {
        char uri[128];
        test_uri(uri, sizeof uri, loopback_uri_host(family), ts, "big");
        pqcoap_oscore_conf conf;
        parse_conf(client_conf, &conf);
        pqcoap_client_config net = PQCOAP_CLIENT_CONFIG_INIT;
        net.block_size = (uint16_t)bs;
        pqcoap_oscore_client *bc = NULL;
        CHECK_EQ_INT(pqcoap_oscore_client_open(uri, &conf, cstore, &net, &bc, NULL, 0),
                     PQCOAP_OK);
        pqcoap_oscore_conf_wipe(&conf);
        before = handled;
        pqcoap_err e = get(bc, &r);
        if (e != PQCOAP_OK)
            fprintf(stderr, "GET big, %d-byte blocks: %s\n", bs, pqcoap_oscore_client_last_error(bc));
        CHECK_EQ_INT(e, PQCOAP_OK);
        CHECK_EQ_INT(r.msg.payload_len, sizeof big_body);
        if (r.msg.payload_len == sizeof big_body)
            CHECK_MEM(r.msg.payload, big_body, sizeof big_body);
        CHECK_EQ_INT(handled, before + 1);
        pqcoap_reply_free(&r);
        pqcoap_oscore_client_free(bc);
    }
    /* Unknown path: the 4.04 is protected like any answer. */
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.path = "nothing/here";
    CHECK_EQ_INT(pqcoap_oscore_client_request(c, &req, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&r);
    pqcoap_oscore_client_free(c);
    /* Another Master Secret: the server cannot decrypt and says so, unprotected. */
    char wrong[sizeof client_conf];
    memcpy(wrong, client_conf, sizeof client_conf);
    wrong[strlen("master_secret,hex,0")] = 'f';
    c = client(ts, cstore, wrong);
    before = handled;
    CHECK_EQ_INT(get(c, &r), PQCOAP_ERR_REJECTED);
    CHECK(strstr(pqcoap_oscore_client_last_error(c), "Decryption failed") != NULL);
    CHECK_EQ_INT(handled, before);
    pqcoap_reply_free(&r);
    pqcoap_oscore_client_free(c);
}

/* ---- raw datagrams ---- */

static int raw_fd = -1;

/* Sends d[0..n) to the server and reads one answer into *ans (borrowing buf). */
static int raw_exchange_fd(int fd, const test_server *ts, const uint8_t *d, size_t n,
                           uint8_t *buf, size_t cap, wire_msg *ans);

static int raw_exchange(const test_server *ts, const uint8_t *d, size_t n, uint8_t *buf,
                        size_t cap, wire_msg *ans)
{
    return raw_exchange_fd(raw_fd, ts, d, n, buf, cap, ans);
}

/* Sends d[0..n) from socket fd and reads one answer into *ans (borrowing buf). */
static int raw_exchange_fd(int fd, const test_server *ts, const uint8_t *d, size_t n,
                           uint8_t *buf, size_t cap, wire_msg *ans)
{
    struct sockaddr_storage a;
    socklen_t al = loopback_addr(family, pqcoap_server_port(ts->srv), &a);
    if (sendto(fd, d, n, 0, (struct sockaddr *)&a, al) != (ssize_t)n)
        return 0;
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        if (poll(&p, 1, 3000) != 1)
            return 0;
        ssize_t got = recv(fd, buf, cap, 0);
        if (got < 4)
            return 0;
        if ((buf[0] & 0x30) == 0x20 && buf[1] == 0)
            continue; /* an empty ACK before a separate response */
        return wire_parse(buf, (size_t)got, ans);
    }
}

#define ECHO_LEN 8 /* the server's Echo values */

/* A CON datagram of the GET sensors/temp request, with an inner Block1 option of value
 * `block1` when it is not -1 and an inner Echo option of value echo[0..ECHO_LEN) when echo
 * is not NULL, protected with ctx and ssn, MID mid; its binding in *bind. */
static size_t protected_req(const pqcoap_oscore_ctx *ctx, uint64_t ssn, uint16_t mid,
                            int block1, const uint8_t *echo, uint8_t *out, size_t cap,
                            pqcoap_oscore_binding *bind)
{
    static const uint8_t token[2] = {0x51, 0x52};
    uint8_t bv = (uint8_t)block1;
    pqcoap_opt opts[4] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
                          {PQCOAP_OPT_URI_PATH, (const uint8_t *)"temp", 4}};
    size_t n_opts = 2;
    if (block1 == -2) { /* GET big */
        opts[0] = (pqcoap_opt){PQCOAP_OPT_URI_PATH, (const uint8_t *)"big", 3};
        n_opts = 1;
    }
    if (block1 >= 0)
        opts[n_opts++] = (pqcoap_opt){PQCOAP_OPT_BLOCK1, &bv, bv != 0};
    if (echo != NULL)
        opts[n_opts++] = (pqcoap_opt){PQCOAP_OPT_ECHO, echo, ECHO_LEN};
    const pqcoap_msg m = {PQCOAP_GET, token, 2, opts, n_opts, NULL, 0};
    pqcoap_opt o[8];
    uint8_t buf[256];
    const pqcoap_oscore_out room = {o, 8, buf, sizeof buf};
    pqcoap_msg prot;
    if (pqcoap_oscore_protect_request(ctx, ssn, 0, &m, &room, &prot, bind) != PQCOAP_OK)
        return 0;
    wire_msg hdr = {0x40, {(uint8_t)(mid >> 8), (uint8_t)mid}, {{0, NULL, 0}}, PQCOAP_MSG_INIT};
    return wire_write(&hdr, &prot, out, cap);
}

static size_t protected_get(const pqcoap_oscore_ctx *ctx, uint64_t ssn, uint16_t mid,
                            uint8_t *out, size_t cap)
{
    pqcoap_oscore_binding b;
    return protected_req(ctx, ssn, mid, -1, NULL, out, cap, &b);
}

/* Opens the protected answer `ans` to the request of binding `bind` into *dec (borrowing
 * room); 1 on success. */
static int open_answer(const pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *bind,
                       const wire_msg *ans, const pqcoap_oscore_out *room, pqcoap_msg *dec)
{
    pqcoap_oscore_option opt;
    const pqcoap_opt *o = pqcoap_msg_find_opt(&ans->msg, PQCOAP_OPT_OSCORE);
    return o != NULL && pqcoap_oscore_option_parse(o->value, o->len, &opt) == PQCOAP_OK &&
           pqcoap_oscore_unprotect_response(ctx, bind, &ans->msg, &opt, room, dec) ==
               PQCOAP_OK;
}

static void set_mid(uint8_t *d, uint16_t mid)
{
    d[2] = (uint8_t)(mid >> 8);
    d[3] = (uint8_t)mid;
}

static int diag_is(const wire_msg *m, uint8_t code, const char *diag)
{
    const pqcoap_opt *age = pqcoap_msg_find_opt(&m->msg, PQCOAP_OPT_MAX_AGE);
    return m->msg.code == code && m->msg.payload_len == strlen(diag) &&
           memcmp(m->msg.payload, diag, strlen(diag)) == 0 && age != NULL && age->len == 0;
}

static void client_ctx(pqcoap_oscore_ctx *ctx, const char *conf_text)
{
    pqcoap_oscore_conf conf;
    pqcoap_oscore_params p;
    parse_conf(conf_text, &conf);
    CHECK_EQ_INT(pqcoap_oscore_conf_params(&conf, 0, &p), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, ctx), PQCOAP_OK);
    pqcoap_oscore_conf_wipe(&conf);
}

/* Captured requests: replayed under a new message ID they are refused and never run. */
static void test_raw(const test_server *ts, uint8_t *captured, size_t *captured_len)
{
    pqcoap_oscore_ctx ctx;
    client_ctx(&ctx, client_conf);
    uint8_t d[512], buf[1500];
    wire_msg ans;
    /* SSNs far above the client's counter, so the API client above never used them. */
    size_t n = protected_get(&ctx, 100000, 0x1001, d, sizeof d);
    int before = handled;
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK_EQ_INT(ans.msg.code, PQCOAP_CODE(2, 4)); /* outer code of a protected answer */
    CHECK(pqcoap_msg_find_opt(&ans.msg, PQCOAP_OPT_OSCORE) != NULL);
    CHECK_EQ_INT(handled, before + 1);
    memcpy(captured, d, n);
    *captured_len = n;
    set_mid(d, 0x1002);
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 1), "Replay detected"));
    CHECK_EQ_INT(handled, before + 1);
    /* A flipped ciphertext byte: 4.00 Decryption failed. */
    n = protected_get(&ctx, 100001, 0x1003, d, sizeof d);
    d[n - 1] ^= 0x01;
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 0), "Decryption failed"));
    /* An unknown kid: 4.01 Security context not found. */
    pqcoap_oscore_ctx other = ctx;
    other.sender_id[0] = 0x77;
    other.sender_id_len = 1;
    n = protected_get(&other, 5, 0x1004, d, sizeof d);
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 1), "Security context not found"));
    /* A plain request: 4.01 OSCORE required. A reserved flag bit: 4.02 Bad Option. */
    static const uint8_t plain[] = {0x40, 0x01, 0x10, 0x05, 0xb4, 't', 'e', 'm', 'p'};
    CHECK(raw_exchange(ts, plain, sizeof plain, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 1), "OSCORE required"));
    static const uint8_t bad_opt[] = {0x40, 0x02, 0x10, 0x06, 0x92, 0x89, 0x14, 0xff, 0x00};
    CHECK(raw_exchange(ts, bad_opt, sizeof bad_opt, buf, sizeof buf, &ans));
    CHECK_EQ_INT(ans.msg.code, PQCOAP_CODE(4, 2));
    CHECK_EQ_INT(handled, before + 1);
    /* Inner block-wise: one complete block is served; the first of several gets a
     * protected 4.02 and never reaches the handler with part of the body. */
    pqcoap_oscore_binding bind;
    for (int more = 0; more <= 1; more++) {
        n = protected_req(&ctx, 100010 + (uint64_t)more, (uint16_t)(0x1005 + more),
                          more ? 0x0e : 0x06, NULL, d, sizeof d, &bind);
        CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
        pqcoap_opt dopts[8];
        uint8_t dbuf[256];
        const pqcoap_oscore_out room = {dopts, 8, dbuf, sizeof dbuf};
        pqcoap_msg dec;
        CHECK(open_answer(&ctx, &bind, &ans, &room, &dec));
        CHECK_EQ_INT(dec.code, more ? PQCOAP_CODE(4, 2) : PQCOAP_CODE(2, 5));
        CHECK_EQ_INT(handled, before + 2);
    }
    /* Outer block-wise: a later block of a protected response is asked for with the
     * protected request again, without payload, and an outer Block2; only the address the
     * request came from gets it, anyone else's copy is a replay. */
    n = protected_req(&ctx, 100020, 0x1010, -2, NULL, d, sizeof d, &bind);
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK_EQ_INT(ans.msg.code, PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(ans.msg.payload_len, 1024);
    CHECK(pqcoap_msg_find_opt(&ans.msg, 4 /* ETag */) != NULL);
    wire_msg req;
    CHECK(wire_parse(d, n, &req));
    pqcoap_opt again_opts[8];
    size_t k = 0;
    for (size_t i = 0; i < req.msg.n_opts && k < 7; i++)
        again_opts[k++] = req.msg.opts[i];
    static const uint8_t block1_of_1024[1] = {0x16}; /* num 1, M 0, SZX 6 */
    again_opts[k++] = (pqcoap_opt){PQCOAP_OPT_BLOCK2, block1_of_1024, 1};
    pqcoap_msg again = req.msg;
    again.opts = again_opts;
    again.n_opts = k;
    again.payload = NULL;
    again.payload_len = 0;
    wire_msg hdr2 = req;
    hdr2.mid[1] = 0x11;
    uint8_t d2[512];
    size_t n2 = wire_write(&hdr2, &again, d2, sizeof d2);
    CHECK(raw_exchange(ts, d2, n2, buf, sizeof buf, &ans));
    CHECK_EQ_INT(ans.msg.code, PQCOAP_CODE(2, 4));
    CHECK_EQ_INT(ans.msg.payload_len, 1024);
    int sock2 = loopback_socket(family, NULL);
    d2[3] = 0x12;
    CHECK(raw_exchange_fd(sock2, ts, d2, n2, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 1), "Replay detected"));
    close(sock2);
    CHECK_EQ_INT(handled, before + 3);
    pqcoap_oscore_wipe(&ctx);
    pqcoap_oscore_wipe(&other);
}

/* Sends a GET protected with ctx and ssn (carrying Echo `echo` unless NULL) under MID mid;
 * 1 if the answer is the server's protected 4.01 with an Echo value, copied to got_echo. */
static int echo_challenge(const test_server *ts, const pqcoap_oscore_ctx *ctx, uint64_t ssn,
                          uint16_t mid, const uint8_t *echo, uint8_t got_echo[ECHO_LEN])
{
    uint8_t d[512], buf[1500], dbuf[256];
    pqcoap_opt dopts[8];
    const pqcoap_oscore_out room = {dopts, 8, dbuf, sizeof dbuf};
    pqcoap_oscore_binding bind;
    wire_msg ans;
    pqcoap_msg dec;
    size_t n = protected_req(ctx, ssn, mid, -1, echo, d, sizeof d, &bind);
    if (n == 0 || !raw_exchange(ts, d, n, buf, sizeof buf, &ans) ||
        !open_answer(ctx, &bind, &ans, &room, &dec) || dec.code != PQCOAP_CODE(4, 1))
        return 0;
    const pqcoap_opt *o = pqcoap_msg_find_opt(&dec, PQCOAP_OPT_ECHO);
    if (o == NULL || o->len != ECHO_LEN)
        return 0;
    memcpy(got_echo, o->value, ECHO_LEN);
    return 1;
}

/* After a restart the server has no replay window: a request captured before it gets a
 * protected 4.01 with Echo and does not run, and so does a request whose Echo is not the
 * value the server sent (a request captured with the Echo of an earlier start); the client
 * recovers transparently. */
static void test_restart(test_server *ts, const pqcoap_store *sstore,
                         const pqcoap_store *cstore, const uint8_t *captured, size_t n)
{
    pqcoap_oscore_server *os = start(ts, sstore);
    uint8_t d[512], buf[1500];
    memcpy(d, captured, n);
    set_mid(d, 0x2001);
    wire_msg ans;
    int before = handled;
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK_EQ_INT(ans.msg.code, PQCOAP_CODE(2, 4)); /* a protected answer: the Echo 4.01 */
    pqcoap_oscore_option opt;
    const pqcoap_opt *o = pqcoap_msg_find_opt(&ans.msg, PQCOAP_OPT_OSCORE);
    CHECK(o != NULL && pqcoap_oscore_option_parse(o->value, o->len, &opt) == PQCOAP_OK &&
          opt.piv_len > 0); /* its own Partial IV, never the request's nonce */
    CHECK_EQ_INT(handled, before);
    /* A request returning another Echo value than the server's is challenged again. */
    pqcoap_oscore_ctx ctx;
    uint8_t echo[ECHO_LEN], again[ECHO_LEN];
    client_ctx(&ctx, client_conf);
    CHECK(echo_challenge(ts, &ctx, 100030, 0x2003, NULL, echo));
    echo[ECHO_LEN - 1] ^= 1;
    CHECK(echo_challenge(ts, &ctx, 100031, 0x2004, echo, again));
    echo[ECHO_LEN - 1] ^= 1;
    CHECK_MEM(again, echo, ECHO_LEN);
    CHECK_EQ_INT(handled, before);
    /* The real client has moved on past the captured request's SSN, as a client does. */
    char name[PQCOAP_OSCORE_SSN_NAME_LEN];
    uint64_t first;
    CHECK_EQ_INT(pqcoap_oscore_ssn_name(&ctx, name), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_seq_reserve(cstore, name, 200000, &first), PQCOAP_OK);
    pqcoap_oscore_wipe(&ctx);
    pqcoap_oscore_client *c = client(ts, cstore, client_conf);
    pqcoap_reply r;
    CHECK_EQ_INT(get(c, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(handled, before + 1);
    pqcoap_reply_free(&r);
    /* The window is known again: the captured request is an old replay now. */
    set_mid(d, 0x2002);
    CHECK(raw_exchange(ts, d, n, buf, sizeof buf, &ans));
    CHECK(diag_is(&ans, PQCOAP_CODE(4, 1), "Replay detected"));
    CHECK_EQ_INT(handled, before + 1);
    pqcoap_oscore_client_free(c);
    test_server_end(ts);
    pqcoap_oscore_server_free(os);
}

/* The whole sequence over the loopback address of `f`, with stores of its own. */
static void pass(int f)
{
    family = f;
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    raw_fd = loopback_socket(f, NULL);
    CHECK(raw_fd >= 0);
    test_server ts;
    pqcoap_oscore_server *os = start(&ts, &sstore);
    /* The first request after a start meets the Echo exchange; the client hides it. */
    test_methods(&ts, &cstore);
    uint8_t captured[512];
    size_t captured_len = 0;
    test_raw(&ts, captured, &captured_len);
    test_server_end(&ts);
    pqcoap_oscore_server_free(os);
    test_restart(&ts, &sstore, &cstore, captured, captured_len);
    close(raw_fd);
    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
}

int main(void)
{
    pass(AF_INET);
    pass(AF_INET6);
    return check_done();
}
