/* Mode A client against the Mode A server layer over UDP on loopback: every method,
 * block-wise bodies under the signature, a lost response, signed 4.04 / 4.05, pinning
 * errors (a request for another pinned key is refused), an unknown client key, and the
 * v2-only and v1-only policies. */
#include "sign_net.h"
#include "udp_proxy.h"

static pqcoap_identity server_id, client_id, stranger_id, other_id;
/* Keys made for v1 (PROTOCOL.md "Key usage"). */
static pqcoap_identity server_v1_id, client_v1_id, stranger_v1_id, other_v1_id;

/* Checks a successful exchange: code and payload "echo:" || body. */
static void check_echo(pqcoap_err err, const pqcoap_reply *r, uint8_t code,
                       const uint8_t *body, size_t len, pqcoap_sign_client *c)
{
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (err != PQCOAP_OK) {
        fprintf(stderr, "  %s\n", pqcoap_sign_client_last_error(c));
        return;
    }
    CHECK_EQ_INT(r->msg.code, code);
    CHECK_EQ_INT(r->msg.payload_len, len + 5);
    CHECK(r->msg.payload_len == len + 5 && memcmp(r->msg.payload, "echo:", 5) == 0 &&
          (len == 0 || memcmp(r->msg.payload + 5, body, len) == 0));
    /* The caller sees neither the PQ-Sig option nor the signature. */
    CHECK(pqcoap_msg_find_opt(&r->msg, PQCOAP_OPT_PQ_SIG) == NULL);
}

/* v2: GET, POST, PUT, DELETE and FETCH with and without payloads; the query is echoed. */
static void test_methods(uint16_t port, const pqcoap_store *cstore)
{
    pqcoap_sign_client *c = sign_client(port, "echo?k=v", &client_id, cstore, 2);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
    static const uint8_t body[] = "sensor reading 21.5";
    for (int with = 0; with < 2; with++) {
        size_t len = with ? sizeof body - 1 : 0;
        const uint8_t *p = with ? body : NULL;
        pqcoap_reply r;
        pqcoap_err err = pqcoap_sign_client_get(c, NULL, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 5), NULL, 0, c);
        const pqcoap_opt *q = pqcoap_msg_find_opt(&r.msg, 65000);
        CHECK(q && q->len == 3 && memcmp(q->value, "k=v", 3) == 0);
        pqcoap_reply_free(&r);
        err = pqcoap_sign_client_post(c, NULL, p, len, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 4), p, len, c);
        pqcoap_reply_free(&r);
        err = pqcoap_sign_client_put(c, NULL, p, len, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 4), p, len, c);
        pqcoap_reply_free(&r);
        err = pqcoap_sign_client_delete(c, NULL, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 2), NULL, 0, c);
        pqcoap_reply_free(&r);
        err = pqcoap_sign_client_fetch(c, NULL, p, len, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 5), p, len, c);
        pqcoap_reply_free(&r);
    }
    /* A deferred response is signed and bound like any other. */
    pqcoap_reply d;
    CHECK_EQ_INT(pqcoap_sign_client_get(c, "later", &d), PQCOAP_OK);
    CHECK(d.msg.code == PQCOAP_CODE(2, 5) && d.msg.payload_len == 5 &&
          memcmp(d.msg.payload, "later", 5) == 0);
    pqcoap_reply_free(&d);
    /* 4.04 and 4.05 are signed too: the client accepts them as verified answers. */
    pqcoap_reply r;
    CHECK_EQ_INT(pqcoap_sign_client_get(c, "nothing", &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 4));
    pqcoap_reply_free(&r);
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_PATCH;
    CHECK_EQ_INT(pqcoap_sign_client_request(c, &req, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 5));
    pqcoap_reply_free(&r);
    /* A request that names the PQ-Sig option itself is refused before sending. */
    uint8_t v[PQCOAP_SIG_OPT_LEN] = {2};
    pqcoap_opt own = {PQCOAP_OPT_PQ_SIG, v, sizeof v};
    req.method = PQCOAP_GET;
    req.opts = &own;
    req.n_opts = 1;
    CHECK_EQ_INT(pqcoap_sign_client_request(c, &req, &r), PQCOAP_ERR_ARG);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
}

/* Body and code of the 5 KiB response to GET "big". */
static void check_big(pqcoap_err err, const pqcoap_reply *r, pqcoap_sign_client *c)
{
    CHECK_EQ_INT(err, PQCOAP_OK);
    if (err != PQCOAP_OK) {
        fprintf(stderr, "  %s\n", pqcoap_sign_client_last_error(c));
        return;
    }
    CHECK_EQ_INT(r->msg.code, PQCOAP_CODE(2, 5));
    CHECK_EQ_INT(r->msg.payload_len, BIG_LEN);
    int same = r->msg.payload_len == BIG_LEN;
    for (size_t i = 0; same && i < BIG_LEN; i++)
        same = r->msg.payload[i] == BIG_BYTE(i);
    CHECK(same);
}

/* v2 with 64-byte blocks: a 5 KiB request and a 5 KiB response, each verified as one
 * message. libcoap sends every block under a token of its own; PROTOCOL.md "The token":
 * the token is not signed, so that changes nothing. The handler runs once per request. */
static void test_blockwise(uint16_t port, const pqcoap_store *cstore)
{
    pqcoap_sign_client *c = sign_client_blocks(port, "big", &client_id, cstore, 2, 64);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
    pqcoap_reply r;
    check_big(pqcoap_sign_client_get(c, NULL, &r), &r, c);
    pqcoap_reply_free(&r);
    static uint8_t body[BIG_LEN];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = BIG_BYTE(i);
    int runs = atomic_load(&handler_runs);
    pqcoap_err err = pqcoap_sign_client_post(c, "echo", body, sizeof body, &r);
    check_echo(err, &r, PQCOAP_CODE(2, 4), body, sizeof body, c);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
}

/* v2 through a proxy that loses the response to a POST: the client's retransmission (same
 * message ID) gets the signed response the server kept, and the handler ran once. */
static void test_lost_response(uint16_t port, const pqcoap_store *cstore)
{
    udp_proxy_cfg pcfg;
    memset(&pcfg, 0, sizeof pcfg);
    uint16_t pport = 0;
    udp_proxy *proxy = udp_proxy_start(&pcfg, port, &pport);
    CHECK(proxy != NULL);
    if (!proxy)
        return;
    pqcoap_sign_client *c = sign_client(pport, "echo", &client_id, cstore, 2);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
        static const uint8_t once[] = "exactly once", next[] = "next";
        pqcoap_reply r;
        int runs = atomic_load(&handler_runs);
        udp_proxy_drop_next_reply(proxy);
        pqcoap_err err = pqcoap_sign_client_post(c, NULL, once, sizeof once - 1, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 4), once, sizeof once - 1, c);
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&handler_runs), runs + 1);
        err = pqcoap_sign_client_post(c, NULL, next, sizeof next - 1, &r);
        check_echo(err, &r, PQCOAP_CODE(2, 4), next, sizeof next - 1, c);
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(atomic_load(&handler_runs), runs + 2);
    }
    pqcoap_sign_client_free(c);
    udp_proxy_stats ps;
    udp_proxy_stop(proxy, &ps);
    CHECK_EQ_INT(ps.dropped, 1);
}

/* v1 with 64-byte blocks: 5 KiB bodies both ways. */
static void test_blockwise_v1(uint16_t port)
{
    pqcoap_sign_client *c = sign_client_blocks(port, "echo", &client_v1_id, NULL, 1, 64);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_v1_id.pub), PQCOAP_OK);
    static uint8_t body[BIG_LEN];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = BIG_BYTE(i);
    pqcoap_reply r;
    pqcoap_err err = pqcoap_sign_client_post(c, NULL, body, sizeof body, &r);
    check_echo(err, &r, PQCOAP_CODE(2, 4), body, sizeof body, c);
    pqcoap_reply_free(&r);
    check_big(pqcoap_sign_client_get(c, "big", &r), &r, c);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
}

/* A window of signed requests in flight through the underlying client (send + poll). */
static void test_window(uint16_t port, const pqcoap_store *cstore)
{
    char uri[96], msg[160];
    pqcoap_sign_client_config cfg = PQCOAP_SIGN_CLIENT_CONFIG_INIT;
    pqcoap_sign_client *c = NULL;
    cfg.net.nstart = 4;
    snprintf(uri, sizeof uri, "coap://127.0.0.1:%u/echo", port);
    CHECK_EQ_INT(pqcoap_sign_client_open(uri, &client_id, cstore, &cfg, &c, msg, sizeof msg),
                 PQCOAP_OK);
    if (!c)
        return;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
    pqcoap_client *net = pqcoap_sign_client_net(c);
    static const uint8_t bodies[4][2] = {"a", "b", "c", "d"};
    uint32_t ids[4];
    for (size_t i = 0; i < 4; i++) {
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = PQCOAP_POST;
        req.payload = bodies[i];
        req.payload_len = 1;
        CHECK_EQ_INT(pqcoap_client_send(net, &req, (void *)bodies[i], &ids[i]), PQCOAP_OK);
    }
    int seen = 0;
    for (int polls = 0; polls < 4; polls++) {
        pqcoap_completion done;
        int got = 0;
        CHECK_EQ_INT(pqcoap_client_poll(net, 10000, &done, &got), PQCOAP_OK);
        if (!got)
            break;
        const uint8_t *want = done.user;
        check_echo(done.err, &done.reply, PQCOAP_CODE(2, 4), want, 1, c);
        seen++;
        pqcoap_reply_free(&done.reply);
    }
    CHECK_EQ_INT(seen, 4);
    pqcoap_sign_client_free(c);
}

/* No pinned key, a wrong pinned key, an unknown client key. */
static void test_keys(uint16_t port, const pqcoap_store *cstore)
{
    pqcoap_sign_client *c = sign_client(port, "echo", &client_id, cstore, 2);
    CHECK(c != NULL);
    if (!c)
        return;
    pqcoap_reply r;
    int runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(pqcoap_sign_client_get(c, NULL, &r), PQCOAP_ERR_NO_PEER_KEY);
    CHECK(strstr(pqcoap_sign_client_last_error(c), "pin") != NULL);
    CHECK(strstr(pqcoap_strerror(PQCOAP_ERR_NO_PEER_KEY), "pin") != NULL);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs); /* nothing was sent */
    pqcoap_reply_free(&r);

    /* Another key pinned: the request is signed for that key's holder, so this server
     * refuses it (4.01) and its handler does not run. */
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &other_id.pub), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_sign_client_get(c, NULL, &r), PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);

    /* A client whose key the server's trust store does not hold: 4.01, handler not run. */
    c = sign_client(port, "echo", &stranger_id, cstore, 2);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, &server_id.pub), PQCOAP_OK);
    runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(pqcoap_sign_client_post(c, NULL, (const uint8_t *)"x", 1, &r),
                 PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 1));
    CHECK(strstr(pqcoap_sign_client_last_error(c), "4.01") != NULL);
    CHECK(strstr(pqcoap_sign_client_last_error(c), "trust store") != NULL);
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
}

/* One POST of client `id` in `version`, pinning `server`, to the server at port: the
 * result and, for a rejection, the CoAP code received. */
static pqcoap_err post_once(uint16_t port, const pqcoap_identity *id,
                            const pqcoap_pubkey *server, const pqcoap_store *cstore,
                            int version, uint8_t *code)
{
    pqcoap_sign_client *c = sign_client(port, "echo", id, cstore, version);
    if (!c)
        return PQCOAP_ERR_IO;
    CHECK_EQ_INT(pqcoap_sign_client_pin(c, server), PQCOAP_OK);
    pqcoap_reply r;
    pqcoap_err err = pqcoap_sign_client_post(c, NULL, (const uint8_t *)"m", 1, &r);
    *code = r.msg.code;
    if (err == PQCOAP_OK)
        CHECK(r.msg.payload_len == 6 && memcmp(r.msg.payload, "echo:m", 6) == 0);
    pqcoap_reply_free(&r);
    pqcoap_sign_client_free(c);
    return err;
}

/* `pk` marked for `usage`: a key of one usage presented as the other. */
static pqcoap_pubkey marked(const pqcoap_pubkey *pk, pqcoap_key_usage usage)
{
    pqcoap_pubkey m = *pk;
    m.usage = usage;
    return m;
}

/* Policies: v1 to v2-only is refused (no downgrade); v1-only with a list of v1 keys (v1
 * keys: PROTOCOL.md "Key usage"); a server takes one policy. */
static void test_policies(uint16_t v2_port, const pqcoap_store *cstore)
{
    uint8_t code = 0;
    /* The running v2 server's store belongs to its thread: these servers get their own. */
    pqcoap_store own;
    const pqcoap_store *sstore = &own;
    CHECK_EQ_INT(pqcoap_store_open_memory(&own), PQCOAP_OK);
    /* A v1 request to the v2 server (the client holds its key as if made for v1). */
    pqcoap_pubkey server_as_v1 = marked(&server_id.pub, PQCOAP_USAGE_SIGN_V1);
    int runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(post_once(v2_port, &client_v1_id, &server_as_v1, NULL, 1, &code),
                 PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(code, PQCOAP_CODE(4, 1));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);

    /* v1 only: the client's key is the second of the pinned v1 keys. */
    pqcoap_pubkey v1_keys[2] = {stranger_v1_id.pub, client_v1_id.pub};
    pqcoap_sign_server_config cfg = PQCOAP_SIGN_SERVER_CONFIG_INIT;
    cfg.policy = PQCOAP_SIGN_V1_ONLY;
    cfg.v1_keys = v1_keys;
    cfg.n_v1_keys = 2;
    sign_server v1;
    CHECK(sign_server_start(&v1, &server_v1_id, sstore, &cfg));
    uint16_t port = sign_server_port(&v1);
    CHECK_EQ_INT(post_once(port, &client_v1_id, &server_v1_id.pub, NULL, 1, &code), PQCOAP_OK);
    test_blockwise_v1(port);
    CHECK_EQ_INT(post_once(port, &stranger_v1_id, &server_v1_id.pub, NULL, 1, &code),
                 PQCOAP_OK);
    runs = atomic_load(&handler_runs);
    CHECK_EQ_INT(post_once(port, &other_v1_id, &server_v1_id.pub, NULL, 1, &code),
                 PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(code, PQCOAP_CODE(4, 1));
    /* A v2 request to a v1-only endpoint: 4.02 (its critical option is not supported). */
    pqcoap_pubkey v1_server_as_general = marked(&server_v1_id.pub, PQCOAP_USAGE_GENERAL);
    CHECK_EQ_INT(post_once(port, &client_id, &v1_server_as_general, cstore, 2, &code),
                 PQCOAP_ERR_REJECTED);
    CHECK_EQ_INT(code, PQCOAP_CODE(4, 2));
    CHECK_EQ_INT(atomic_load(&handler_runs), runs);
    sign_server_stop(&v1);

    /* A v1 server needs v1 keys; v1 and v2 at once would need two identities. */
    pqcoap_sign_server *s = NULL;
    cfg.n_v1_keys = 0;
    CHECK_EQ_INT(pqcoap_sign_server_new(&server_v1_id, sstore, &cfg, &s), PQCOAP_ERR_ARG);
    CHECK(s == NULL);
    cfg.n_v1_keys = 2;
    cfg.policy = PQCOAP_SIGN_V1_AND_V2;
    CHECK_EQ_INT(pqcoap_sign_server_new(&server_v1_id, sstore, &cfg, &s), PQCOAP_ERR_ARG);
    CHECK(s == NULL);
    pqcoap_store_close(&own);
}

int main(void)
{
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &server_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &client_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &stranger_id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &other_id), PQCOAP_OK);
    pqcoap_identity *v1[] = {&server_v1_id, &client_v1_id, &stranger_v1_id, &other_v1_id};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, v1[i]), PQCOAP_OK);
        v1[i]->pub.usage = PQCOAP_USAGE_SIGN_V1;
    }
    pqcoap_store sstore, cstore;
    CHECK_EQ_INT(pqcoap_store_open_memory(&sstore), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_store_open_memory(&cstore), PQCOAP_OK);
    CHECK_EQ_INT(trust(&sstore, "client", &client_id.pub), PQCOAP_OK);

    /* A v2 client needs a store for its sequence numbers. */
    pqcoap_sign_client *c = NULL;
    CHECK_EQ_INT(pqcoap_sign_client_open("coap://127.0.0.1/", &client_id, NULL, NULL, &c,
                                         NULL, 0), PQCOAP_ERR_ARG);

    sign_server srv;
    CHECK(sign_server_start(&srv, &server_id, &sstore, NULL));
    uint16_t port = sign_server_port(&srv);
    test_methods(port, &cstore);
    test_blockwise(port, &cstore);
    test_lost_response(port, &cstore);
    test_window(port, &cstore);
    test_keys(port, &cstore);
    test_policies(port, &cstore);
    sign_server_stop(&srv);

    pqcoap_store_close(&sstore);
    pqcoap_store_close(&cstore);
    pqcoap_identity_wipe(&server_id);
    pqcoap_identity_wipe(&client_id);
    pqcoap_identity_wipe(&stranger_id);
    pqcoap_identity_wipe(&other_id);
    for (size_t i = 0; i < 4; i++)
        pqcoap_identity_wipe(v1[i]);
    return check_done();
}
