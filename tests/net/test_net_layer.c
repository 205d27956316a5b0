/* The security-layer hooks on client and server, with a test layer that reverses payload
 * bytes and adds the critical option 65003 carrying a tag and a hash of the message's other
 * options: it proves where each hook runs, that the per-exchange state flows from check to
 * protect, that the options a layer binds are those the peer receives (also block-wise),
 * and that a refused request never reaches the handler. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net_test.h"

#define OPT_TAG PQCOAP_OPT_PQ_SIG   /* 65003: critical, unsafe to forward */
#define OPT_SEEN 65010              /* elective: the handler reports what it saw */

#define PQCOAP_TRY_T(expr) do { pqcoap_err e_ = (expr); if (e_ != PQCOAP_OK) return e_; } while (0)

typedef struct layer_state {
    uint8_t tag;                    /* from the request, echoed in the response */
    int checked;                    /* check_request or protect_request ran */
} layer_state;

typedef struct layer_ctx {
    int ends;                       /* `end` calls */
    int bad_states;                 /* protect/check saw a state not set by its partner */
    uint8_t next_tag;
} layer_ctx;

static const uint16_t critical[] = {OPT_TAG};

/* FNV-1a over opts(m): what this layer "binds". */
static uint32_t opts_hash(const pqcoap_msg *m)
{
    uint8_t buf[PQCOAP_OPTS_MAX];
    size_t len = 0;
    uint32_t h = 2166136261u;
    if (pqcoap_opts(m, buf, sizeof(buf), &len) != PQCOAP_OK)
        return 0;
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf[i]) * 16777619u;
    return h;
}

/* Sets b's payload to p[0..n) reversed. */
static pqcoap_err set_reversed(pqcoap_msgbuf *b, const uint8_t *p, size_t n)
{
    if (n > b->payload_cap)
        return PQCOAP_ERR_TOO_LARGE;
    for (size_t i = 0; i < n; i++)
        b->payload[i] = p[n - 1 - i];
    b->payload_len = n;
    return PQCOAP_OK;
}

/* wire = m with the payload reversed and OPT_TAG = tag || hash(opts). */
static pqcoap_err protect(const pqcoap_msg *m, uint8_t tag, pqcoap_msgbuf *wire)
{
    PQCOAP_TRY_T(pqcoap_msgbuf_copy_opts(wire, m));
    PQCOAP_TRY_T(set_reversed(wire, m->payload, m->payload_len));
    pqcoap_msg view;
    pqcoap_msgbuf_view(wire, &view);
    uint32_t h = opts_hash(&view);
    uint8_t v[5] = {tag, (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
    return pqcoap_msgbuf_add_opt(wire, OPT_TAG, v, sizeof(v));
}

/* plain = wire without OPT_TAG, payload reversed; checks the hash; returns the tag. */
static pqcoap_err unprotect(const pqcoap_msg *wire, pqcoap_msgbuf *plain, uint8_t *tag)
{
    const pqcoap_opt *t = pqcoap_msg_find_opt(wire, OPT_TAG);
    if (!t || t->len != 5)
        return PQCOAP_ERR_AUTH;
    uint32_t h = opts_hash(wire);
    if (((uint32_t)t->value[1] << 24 | (uint32_t)t->value[2] << 16 | (uint32_t)t->value[3] << 8 |
         t->value[4]) != h)
        return PQCOAP_ERR_AUTH;
    *tag = t->value[0];
    PQCOAP_TRY_T(pqcoap_msgbuf_copy_opts(plain, wire));
    pqcoap_msgbuf_remove_opt(plain, OPT_TAG);
    return set_reversed(plain, wire->payload, wire->payload_len);
}

static pqcoap_err protect_request(void *ctx, void *state, const pqcoap_exchange *x,
                                  const pqcoap_msg *req, pqcoap_msgbuf *wire)
{
    layer_ctx *c = ctx;
    layer_state *st = state;
    (void)x;
    if (st->checked)
        c->bad_states++;
    st->checked = 1;
    st->tag = ++c->next_tag;
    return protect(req, st->tag, wire);
}

static pqcoap_err check_response(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *plain)
{
    layer_ctx *c = ctx;
    layer_state *st = state;
    uint8_t tag;
    (void)x;
    if (!st->checked)
        c->bad_states++;
    PQCOAP_TRY_T(unprotect(wire, plain, &tag));
    return tag == st->tag ? PQCOAP_OK : PQCOAP_ERR_AUTH; /* bound to its request */
}

static pqcoap_err check_request(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict)
{
    layer_ctx *c = ctx;
    layer_state *st = state;
    (void)x;
    if (st->checked)
        c->bad_states++;
    st->checked = 1;
    PQCOAP_TRY_T(unprotect(wire, out, &st->tag));
    if (out->payload_len >= 4 && memcmp(out->payload, "deny", 4) == 0) {
        pqcoap_msgbuf_error(out, PQCOAP_CODE(4, 3), "denied by layer");
        *verdict = PQCOAP_LAYER_ANSWER;
    } else if (out->payload_len >= 5 && memcmp(out->payload, "cache", 5) == 0) {
        /* Answered by the layer itself, e.g. a cached protected response. */
        static const uint8_t cached[] = "cache";
        pqcoap_msg answer = {PQCOAP_CODE(2, 5), wire->token, wire->token_len, NULL, 0, cached, 5};
        pqcoap_msgbuf_reset(out);
        out->code = answer.code;
        PQCOAP_TRY_T(protect(&answer, st->tag, out));
        *verdict = PQCOAP_LAYER_ANSWER;
    } else {
        *verdict = PQCOAP_LAYER_HANDLE;
    }
    return PQCOAP_OK;
}

static pqcoap_err protect_response(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire)
{
    layer_ctx *c = ctx;
    layer_state *st = state;
    (void)x;
    if (!st->checked)
        c->bad_states++;
    return protect(resp, st->tag, wire);
}

static void end(void *ctx, void *state)
{
    (void)state;
    ((layer_ctx *)ctx)->ends++;
}

static pqcoap_layer make_layer(layer_ctx *c)
{
    pqcoap_layer l;
    memset(&l, 0, sizeof(l));
    l.ctx = c;
    l.state_size = sizeof(layer_state);
    l.overhead = 0;
    l.critical_opts = critical;
    l.n_critical_opts = 1;
    l.protect_request = protect_request;
    l.check_response = check_response;
    l.check_request = check_request;
    l.protect_response = protect_response;
    l.end = end;
    return l;
}

static int handler_runs;

/* Replies "echo:" + payload and reports in OPT_SEEN whether it saw OPT_TAG (1) or not (0). */
static pqcoap_err echo(void *arg, pqcoap_server_req *rq, const pqcoap_msg *req, pqcoap_msgbuf *resp)
{
    static uint8_t body[8192];
    (void)arg;
    (void)rq;
    handler_runs++;
    uint8_t seen = pqcoap_msg_find_opt(req, OPT_TAG) != NULL;
    PQCOAP_TRY_T(pqcoap_msgbuf_add_opt(resp, OPT_SEEN, &seen, 1));
    if (req->payload_len + 5 > sizeof(body))
        return PQCOAP_ERR_TOO_LARGE;
    memcpy(body, "echo:", 5);
    memcpy(body + 5, req->payload, req->payload_len);
    return pqcoap_msgbuf_set_payload(resp, body, req->payload_len + 5);
}

static pqcoap_err post(pqcoap_client *cl, const uint8_t *p, size_t n, int no_layer, pqcoap_reply *r)
{
    pqcoap_req req = PQCOAP_REQ_INIT;
    req.method = PQCOAP_POST;
    req.payload = p;
    req.payload_len = n;
    req.no_layer = no_layer;
    return pqcoap_client_request(cl, &req, r);
}

int main(void)
{
    layer_ctx sctx = {0, 0, 0}, cctx = {0, 0, 0};
    pqcoap_layer slayer = make_layer(&sctx), clayer = make_layer(&cctx);
    test_server ts;
    CHECK(test_server_new(&ts, "127.0.0.1", &slayer, 0) != NULL);
    if (!ts.srv)
        return check_done();
    CHECK_EQ_INT(pqcoap_server_handle(ts.srv, "echo", PQCOAP_POST, echo, NULL), PQCOAP_OK);
    CHECK(test_server_start(&ts));
    char uri[128];
    test_uri(uri, sizeof(uri), "127.0.0.1", &ts, "echo");
    pqcoap_client_config cfg = PQCOAP_CLIENT_CONFIG_INIT;
    cfg.layer = &clayer;
    pqcoap_client *cl = test_client(uri, &cfg);
    /* A client without hooks that still knows the critical option number. */
    pqcoap_layer opts_only;
    memset(&opts_only, 0, sizeof(opts_only));
    opts_only.critical_opts = critical;
    opts_only.n_critical_opts = 1;
    pqcoap_client_config pcfg = PQCOAP_CLIENT_CONFIG_INIT;
    pcfg.layer = &opts_only;
    pqcoap_client *plain = test_client(uri, &pcfg);
    CHECK(cl && plain);
    if (!cl || !plain)
        return check_done();
    pqcoap_reply r;

    /* Both hooks on both sides: the handler sees plaintext without the tag option, the caller
     * sees the handler's response. */
    CHECK_EQ_INT(post(cl, (const uint8_t *)"hello", 5, 0, &r), PQCOAP_OK);
    CHECK(r.msg.payload_len == 10 && memcmp(r.msg.payload, "echo:hello", 10) == 0);
    const pqcoap_opt *seen = pqcoap_msg_find_opt(&r.msg, OPT_SEEN);
    CHECK(seen && seen->len == 1 && seen->value[0] == 0);
    CHECK(pqcoap_msg_find_opt(&r.msg, OPT_TAG) == NULL);
    CHECK_EQ_INT(handler_runs, 1);
    pqcoap_reply_free(&r);

    /* What travels is protected: a plain client sending the reversed payload and a valid tag
     * by hand gets the reversed response with the tag option. */
    {
        uint8_t wirebuf[64];
        pqcoap_opt wopts[8];
        uint8_t wvals[64];
        pqcoap_msgbuf w;
        pqcoap_msgbuf_init(&w, wopts, 8, wvals, sizeof(wvals), wirebuf, sizeof(wirebuf));
        const uint8_t path[] = "echo";
        pqcoap_opt uri_path = {PQCOAP_OPT_URI_PATH, path, 4};
        pqcoap_msg m = {PQCOAP_POST, NULL, 0, &uri_path, 1, (const uint8_t *)"abc", 3};
        CHECK_EQ_INT(protect(&m, 77, &w), PQCOAP_OK);
        const pqcoap_opt *tag = pqcoap_msg_find_opt(&(pqcoap_msg){0, NULL, 0, w.opts, w.n_opts, NULL, 0}, OPT_TAG);
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.method = PQCOAP_POST;
        req.opts = tag;
        req.n_opts = 1;
        req.payload = w.payload;
        req.payload_len = w.payload_len;
        CHECK_EQ_INT(pqcoap_client_request(plain, &req, &r), PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 4));
        CHECK(r.msg.payload_len == 8 && memcmp(r.msg.payload, "cba:ohce", 8) == 0);
        const pqcoap_opt *rt = pqcoap_msg_find_opt(&r.msg, OPT_TAG);
        CHECK(rt && rt->len == 5 && rt->value[0] == 77);
        pqcoap_reply_free(&r);
        CHECK_EQ_INT(handler_runs, 2);
    }

    /* check_request refuses (no tag option): 4.01 back, the handler did not run. */
    CHECK_EQ_INT(post(plain, (const uint8_t *)"hello", 5, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 1));
    CHECK(r.msg.payload_len > 0);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(post(cl, (const uint8_t *)"hello", 5, 1, &r), PQCOAP_OK); /* no_layer */
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 1));
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(handler_runs, 2);

    /* check_request answers with its own error code and diagnostic: handler not run. The
     * unprotected answer fails the client's check_response, which the caller learns. */
    CHECK_EQ_INT(post(cl, (const uint8_t *)"deny me", 7, 0, &r), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 3));
    CHECK(r.msg.payload_len == 15 && memcmp(r.msg.payload, "denied by layer", 15) == 0);
    CHECK(strstr(pqcoap_client_last_error(cl), "security layer") != NULL);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(handler_runs, 2);

    /* The layer answers by itself (a cache): protected answer, handler not run. */
    CHECK_EQ_INT(post(cl, (const uint8_t *)"cache", 5, 0, &r), PQCOAP_OK);
    CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(2, 5));
    CHECK(r.msg.payload_len == 5 && memcmp(r.msg.payload, "cache", 5) == 0);
    pqcoap_reply_free(&r);
    CHECK_EQ_INT(handler_runs, 2);

    /* Unknown path and method: the server's 4.04 / 4.05 are protected too. */
    {
        pqcoap_req req = PQCOAP_REQ_INIT;
        req.path = "missing";
        CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 4));
        pqcoap_reply_free(&r);
        req.path = NULL;
        CHECK_EQ_INT(pqcoap_client_request(cl, &req, &r), PQCOAP_OK);
        CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 5));
        pqcoap_reply_free(&r);
    }

    /* Block-wise through the layer, 64-byte blocks both ways: the options bound by the
     * layer on one side (ETag included) are those the other side receives. */
    {
        pqcoap_client_config bcfg = cfg;
        bcfg.block_size = 64;
        pqcoap_client *bcl = test_client(uri, &bcfg);
        CHECK(bcl != NULL);
        static uint8_t body[3000];
        for (size_t i = 0; i < sizeof(body); i++)
            body[i] = (uint8_t)(i * 7 + 1);
        if (bcl) {
            CHECK_EQ_INT(post(bcl, body, sizeof(body), 0, &r), PQCOAP_OK);
            CHECK(r.msg.payload_len == sizeof(body) + 5 && memcmp(r.msg.payload + 5, body, sizeof(body)) == 0);
            pqcoap_reply_free(&r);
            pqcoap_client_free(bcl);
        }
    }
    /* A layered client against a server without the layer: the critical 65003 is unknown
     * there (4.02 Bad Option), and that answer fails check_response. */
    {
        test_server bare;
        CHECK(test_server_new(&bare, "127.0.0.1", NULL, 0) != NULL);
        CHECK_EQ_INT(pqcoap_server_handle(bare.srv, "echo", PQCOAP_POST, echo, NULL), PQCOAP_OK);
        CHECK(test_server_start(&bare));
        char buri[128];
        test_uri(buri, sizeof(buri), "127.0.0.1", &bare, "echo");
        pqcoap_client *bcl = test_client(buri, &cfg);
        CHECK(bcl != NULL);
        if (bcl) {
            CHECK_EQ_INT(post(bcl, (const uint8_t *)"x", 1, 0, &r), PQCOAP_ERR_AUTH);
            CHECK_EQ_INT(r.msg.code, PQCOAP_CODE(4, 2));
            pqcoap_reply_free(&r);
            pqcoap_client_free(bcl);
        }
        test_server_end(&bare);
    }

    pqcoap_client_free(cl);
    pqcoap_client_free(plain);
    test_server_end(&ts);
    CHECK_EQ_INT(sctx.bad_states, 0);
    CHECK_EQ_INT(cctx.bad_states, 0);
    /* `end` ran once per exchange: 9 requests reached the layered server (handled, refused
     * or answered by the layer), 7 went through the client's layer. */
    CHECK_EQ_INT(sctx.ends, 9);
    CHECK_EQ_INT(cctx.ends, 7);
    return check_done();
}
