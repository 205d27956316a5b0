/* Mode B protected messages: receive window edges on both sides, forged messages leave the
 * session byte for byte unchanged, retransmissions, expiry at max_msgs and lifetime_s, and
 * the exact overhead on the wire. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "common/buf_internal.h"

#define T0 5000000
#define MAXMSG 200

static fixture fx;

/* Messages produced ahead of delivery: protected payload and the view fields it needs. */
typedef struct wire {
    uint8_t token[2];
    uint8_t prot[96];
    size_t len;
    uint64_t n;                     /* request number (requests) */
} wire;

static wire msgs[MAXMSG];
static pqcoap_session client, client2;
static uint8_t snap_a[PQCOAP_SNAPSHOT_MAX], snap_b[PQCOAP_SNAPSHOT_MAX];
static pqcoap_req_ctx last_ctx;

static void set_token(wire *m, size_t i)
{
    m->token[0] = (uint8_t)(i >> 8);
    m->token[1] = (uint8_t)i;
}

/* Client c protects request i into msgs[i]. */
static pqcoap_err make_request(pqcoap_session *c, size_t i, uint64_t now)
{
    char text[16];
    int n = snprintf(text, sizeof text, "req %zu", i);
    set_token(&msgs[i], i);
    pqcoap_msg m = fx_request(PQCOAP_GET, msgs[i].token, 2, (const uint8_t *)text, (size_t)n);
    return pqcoap_session_protect_request(c, &m, now, msgs[i].prot, sizeof msgs[i].prot,
                                          &msgs[i].len, &msgs[i].n);
}

static pqcoap_msg request_view(size_t i)
{
    return fx_request(PQCOAP_GET, msgs[i].token, 2, msgs[i].prot, msgs[i].len);
}

/* Delivers request i to the responder; checks the plaintext on success. */
static pqcoap_err server_take(size_t i, uint64_t now)
{
    uint8_t plain[64];
    size_t plain_len = 0;
    char text[16];
    int n = snprintf(text, sizeof text, "req %zu", i);
    pqcoap_msg m = request_view(i);
    pqcoap_err err = pqcoap_responder_unprotect(&fx.responder, &m, now, plain, sizeof plain,
                                                &plain_len, &last_ctx);
    if (err == PQCOAP_OK)
        CHECK(plain_len == (size_t)n && memcmp(plain, text, plain_len) == 0);
    return err;
}

/* The responder protects response i (to request ctx) into msgs[i]. */
static pqcoap_err make_response(const pqcoap_req_ctx *ctx, size_t i, uint64_t now)
{
    char text[16];
    int n = snprintf(text, sizeof text, "resp %zu", i);
    set_token(&msgs[i], i);
    pqcoap_msg m = fx_response(PQCOAP_CODE(2, 5), msgs[i].token, 2, (const uint8_t *)text,
                               (size_t)n);
    return pqcoap_responder_protect(&fx.responder, ctx, &m, now, msgs[i].prot,
                                    sizeof msgs[i].prot, &msgs[i].len);
}

static uint64_t resp_request_n;

static pqcoap_err client_take(size_t i, uint64_t now)
{
    uint8_t plain[64];
    size_t plain_len = 0;
    pqcoap_msg m = fx_response(PQCOAP_CODE(2, 5), msgs[i].token, 2, msgs[i].prot, msgs[i].len);
    return pqcoap_session_unprotect_response(&client, resp_request_n, &m, now, plain,
                                             sizeof plain, &plain_len);
}

typedef pqcoap_err (*take_fn)(size_t i, uint64_t now);

/* Delivers message i and checks the result; for a rejection, that the session is byte for
 * byte unchanged. */
static void expect(take_fn take, const pqcoap_session *s, size_t i, pqcoap_err want, int line)
{
    size_t a = fx_snapshot(s, snap_a);
    pqcoap_err got = take(i, T0);
    if (got != want)
        fprintf(stderr, "line %d: message %zu: got %d, want %d\n", line, i, got, want);
    CHECK_EQ_INT(got, want);
    if (want != PQCOAP_OK) {
        size_t b = fx_snapshot(s, snap_b);
        CHECK(a == b && memcmp(snap_a, snap_b, a) == 0);
    }
}

#define EXPECT(take, s, i, want) expect(take, s, i, want, __LINE__)

/* Window edges with messages 0..w+2 made ahead, s the receiving session. A repeat of the
 * message just accepted gives `repeat_last` (a retransmission on the server side). */
static void window_edges(take_fn take, const pqcoap_session *s, size_t w, pqcoap_err repeat_last)
{
    EXPECT(take, s, w + 1, PQCOAP_ERR_REPLAY); /* one beyond the upper edge */
    EXPECT(take, s, w, PQCOAP_OK);             /* exactly W ahead */
    EXPECT(take, s, 0, PQCOAP_ERR_REPLAY);     /* key discarded: one beyond the lower edge */
    EXPECT(take, s, 1, PQCOAP_OK);             /* the oldest held key, once */
    EXPECT(take, s, 1, repeat_last);
    for (size_t i = w - 1; i >= 2; i--)        /* the rest of the window, newest first */
        EXPECT(take, s, i, PQCOAP_OK);
    EXPECT(take, s, w + 1, PQCOAP_OK);
    EXPECT(take, s, w + 2, PQCOAP_OK);
    for (size_t i = 0; i <= w + 2; i++)        /* every replay */
        EXPECT(take, s, i, i == w + 2 ? repeat_last : PQCOAP_ERR_REPLAY);
}

static void test_window_requests(uint16_t w, uint64_t seq)
{
    fx.cfg.window = w;
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", seq, T0, &client), PQCOAP_OK);
    for (size_t i = 0; i <= (size_t)w + 2; i++)
        CHECK_EQ_INT(make_request(&client, i, T0), PQCOAP_OK);
    window_edges(server_take, fx_server_session(&fx, client.sid), w, PQCOAP_ERR_RETRANSMIT);
    fx.cfg.window = PQCOAP_WINDOW_DEFAULT;
}

static void test_window_responses(void)
{
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 100, T0, &client), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 0, T0), PQCOAP_OK);
    resp_request_n = msgs[0].n;
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_OK);
    pqcoap_req_ctx ctx = last_ctx;
    /* several responses to one request (as Observe notifications) */
    for (size_t i = 0; i <= PQCOAP_WINDOW_DEFAULT + 2; i++)
        CHECK_EQ_INT(make_response(&ctx, i, T0), PQCOAP_OK);
    window_edges(client_take, &client, PQCOAP_WINDOW_DEFAULT, PQCOAP_ERR_REPLAY);
}

/* Rewrites msgs[i] as type || varint(sid) || varint(n) || the same ciphertext and tag. */
static void reframe(size_t i, uint64_t sid, uint64_t n)
{
    pqcoap_reader r;
    uint8_t type;
    uint64_t old_sid, old_n;
    const uint8_t *ct;
    pqcoap_rd_init(&r, msgs[i].prot, msgs[i].len);
    pqcoap_rd_u8(&r, &type);
    pqcoap_rd_varint(&r, &old_sid);
    pqcoap_rd_varint(&r, &old_n);
    size_t ct_len = pqcoap_rd_left(&r);
    pqcoap_rd_bytes(&r, ct_len, &ct);
    uint8_t tmp[96];
    memcpy(tmp, ct, ct_len);
    pqcoap_writer w;
    pqcoap_wr_init(&w, msgs[i].prot, sizeof msgs[i].prot);
    pqcoap_wr_u8(&w, type);
    pqcoap_wr_varint(&w, sid);
    pqcoap_wr_varint(&w, n);
    pqcoap_wr_bytes(&w, tmp, ct_len);
    msgs[i].len = w.len;
}

/* Delivers request `m` (a view over msgs[0]) and checks the result and that neither
 * session of the responder changed. */
static void forged(const pqcoap_msg *m, pqcoap_err want, int line)
{
    pqcoap_session *s1 = fx_server_session(&fx, client.sid);
    pqcoap_session *s2 = fx_server_session(&fx, client2.sid);
    static uint8_t s1a[PQCOAP_SNAPSHOT_MAX], s1b[PQCOAP_SNAPSHOT_MAX];
    static uint8_t s2a[PQCOAP_SNAPSHOT_MAX], s2b[PQCOAP_SNAPSHOT_MAX];
    size_t l1 = fx_snapshot(s1, s1a), l2 = fx_snapshot(s2, s2a);
    uint8_t plain[64];
    size_t plain_len;
    pqcoap_req_ctx ctx;
    pqcoap_err got = pqcoap_responder_unprotect(&fx.responder, m, T0 + 1, plain, sizeof plain,
                                                &plain_len, &ctx);
    if (got != want)
        fprintf(stderr, "line %d: got %d, want %d\n", line, got, want);
    CHECK_EQ_INT(got, want);
    CHECK(fx_snapshot(s1, s1b) == l1 && memcmp(s1a, s1b, l1) == 0);
    CHECK(fx_snapshot(s2, s2b) == l2 && memcmp(s2a, s2b, l2) == 0);
}

#define FORGED(m, want) forged(m, want, __LINE__)

/* Delivers the request view m and checks that it is accepted with plaintext `text`. */
static void accepted(const pqcoap_msg *m, const char *text)
{
    uint8_t plain[64];
    size_t plain_len = 0;
    pqcoap_req_ctx ctx;
    CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, m, T0, plain, sizeof plain,
                                            &plain_len, &ctx), PQCOAP_OK);
    CHECK(plain_len == strlen(text) && memcmp(plain, text, plain_len) == 0);
}

static void test_forged(void)
{
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 200, T0, &client), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 200, T0, &client2), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 0, T0), PQCOAP_OK);
    const wire genuine = msgs[0];
    pqcoap_msg m = request_view(0);

    msgs[0].prot[msgs[0].len - 1] ^= 1;                           /* tag */
    FORGED(&m, PQCOAP_ERR_AUTH);
    msgs[0] = genuine;
    msgs[0].prot[3] ^= 1;                                         /* ciphertext */
    FORGED(&m, PQCOAP_ERR_AUTH);
    msgs[0] = genuine;
    m.code = PQCOAP_POST;                                         /* code */
    FORGED(&m, PQCOAP_ERR_AUTH);
    m = request_view(0);
    const pqcoap_opt changed[] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
                                  {PQCOAP_OPT_URI_PATH, (const uint8_t *)"tamp", 4}};
    const pqcoap_opt added[] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
                                {PQCOAP_OPT_URI_PATH, (const uint8_t *)"temp", 4},
                                {PQCOAP_OPT_URI_QUERY, (const uint8_t *)"all", 3}};
    m.opts = changed;                                             /* option value */
    FORGED(&m, PQCOAP_ERR_AUTH);
    m.opts = added;                                               /* option added */
    m.n_opts = 3;
    FORGED(&m, PQCOAP_ERR_AUTH);
    m.n_opts = 1;                                                 /* option removed */
    FORGED(&m, PQCOAP_ERR_AUTH);
    m = request_view(0);
    reframe(0, client2.sid, 0);                                   /* another live session */
    m = request_view(0);
    FORGED(&m, PQCOAP_ERR_AUTH);
    reframe(0, 77, 0);                                            /* no such session */
    m = request_view(0);
    FORGED(&m, PQCOAP_ERR_UNKNOWN_SESSION);
    reframe(0, client.sid, 1);                                    /* n */
    m = request_view(0);
    FORGED(&m, PQCOAP_ERR_AUTH);
    reframe(0, client.sid, PQCOAP_WINDOW_DEFAULT);                /* far ahead, in window */
    m = request_view(0);
    FORGED(&m, PQCOAP_ERR_AUTH);
    msgs[0] = genuine;
    msgs[0].prot[0] = 0x11;                                       /* type */
    FORGED(&m, PQCOAP_ERR_MALFORMED);
    msgs[0] = genuine;
    m.payload_len = 3 + 15;                                       /* shorter than a tag */
    FORGED(&m, PQCOAP_ERR_MALFORMED);

    /* options left out of opts() (Uri-Host, Block2) may change; the message is accepted */
    static const uint8_t block[] = {0x06};
    const pqcoap_opt unbound[] = {{PQCOAP_OPT_URI_HOST, (const uint8_t *)"example", 7},
                                  {PQCOAP_OPT_URI_PATH, (const uint8_t *)"sensors", 7},
                                  {PQCOAP_OPT_URI_PATH, (const uint8_t *)"temp", 4},
                                  {PQCOAP_OPT_BLOCK2, block, 1}};
    m = request_view(0);
    m.opts = unbound;
    m.n_opts = 4;
    accepted(&m, "req 0");
    pqcoap_session_wipe(&client2);
}

/* PROTOCOL.md "The token": the token is matched by CoAP but not bound, as block-wise
 * transfer may change it. A request and a response under other tokens are accepted; a
 * response presented for another request (another request_n) is rejected and changes
 * nothing, whatever its token. */
static void test_token_not_bound(void)
{
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 250, T0, &client), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 0, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 1, T0), PQCOAP_OK);
    msgs[0].token[0] ^= 0xff;                                     /* another token */
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_OK);
    const pqcoap_req_ctx ctx0 = last_ctx;
    pqcoap_msg m = request_view(1);                               /* no token at all */
    m.token = NULL;
    m.token_len = 0;
    accepted(&m, "req 1");
    /* the response to request 0, presented as the response to request 1: rejected */
    CHECK_EQ_INT(make_response(&ctx0, 2, T0), PQCOAP_OK);
    resp_request_n = msgs[1].n;
    EXPECT(client_take, &client, 2, PQCOAP_ERR_AUTH);
    msgs[2].token[1] ^= 0xff;
    EXPECT(client_take, &client, 2, PQCOAP_ERR_AUTH);
    /* for request 0, under a token other than the one it was protected with: accepted */
    resp_request_n = msgs[0].n;
    EXPECT(client_take, &client, 2, PQCOAP_OK);
}

static void test_retransmission(void)
{
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 300, T0, &client), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 0, T0), PQCOAP_OK);
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_OK);
    const pqcoap_req_ctx first = last_ctx;
    /* the server answers; the net layer keeps this response for (sid, request_n) */
    uint8_t cached[96];
    size_t cached_len;
    static const uint8_t token[2] = {0, 0};
    pqcoap_msg r = fx_response(PQCOAP_CODE(2, 5), token, 2, (const uint8_t *)"21.5", 4);
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &first, &r, T0, cached, sizeof cached,
                                          &cached_len), PQCOAP_OK);
    /* the response is lost and the client retransmits the same request: recognised, the
     * session unchanged, nothing decrypted */
    pqcoap_session *s = fx_server_session(&fx, client.sid);
    size_t a = fx_snapshot(s, snap_a);
    pqcoap_msg m = request_view(0);
    uint8_t plain[64];
    size_t plain_len = 12345;
    pqcoap_req_ctx again;
    CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &m, T0 + 2000, plain, sizeof plain,
                                            &plain_len, &again), PQCOAP_ERR_RETRANSMIT);
    CHECK_EQ_INT(plain_len, 12345);
    CHECK(again.sid == first.sid && again.serial == first.serial
          && again.request_n == first.request_n);
    CHECK(fx_snapshot(s, snap_b) == a && memcmp(snap_a, snap_b, a) == 0);
    /* the cached response, served again, is what the client accepts */
    r.payload = cached;
    r.payload_len = cached_len;
    CHECK_EQ_INT(pqcoap_session_unprotect_response(&client, msgs[0].n, &r, T0, plain,
                                                   sizeof plain, &plain_len), PQCOAP_OK);
    CHECK(plain_len == 4 && memcmp(plain, "21.5", 4) == 0);
    CHECK_EQ_INT(pqcoap_session_unprotect_response(&client, msgs[0].n, &r, T0, plain,
                                                   sizeof plain, &plain_len),
                 PQCOAP_ERR_REPLAY);
    /* the same n with other bytes is not a retransmission */
    msgs[0].prot[msgs[0].len - 1] ^= 1;
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_ERR_REPLAY);
    msgs[0].prot[msgs[0].len - 1] ^= 1;
    /* once a newer request is accepted, the old one is a replay */
    CHECK_EQ_INT(make_request(&client, 1, T0), PQCOAP_OK);
    CHECK_EQ_INT(server_take(1, T0), PQCOAP_OK);
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_ERR_REPLAY);
}

static void test_max_msgs(void)
{
    fx.cfg.max_msgs = 4;
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 400, T0, &client), PQCOAP_OK);
    CHECK_EQ_INT(client.max_msgs, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_INT(make_request(&client, i, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 4, T0), PQCOAP_ERR_EXPIRED);
    CHECK_EQ_INT(pqcoap_session_usable(&client, T0), PQCOAP_ERR_EXPIRED);
    /* a request numbered max_msgs (made by a client that ignores the limit) is refused
     * without touching the session */
    pqcoap_session greedy = client;
    greedy.max_msgs = 10;
    CHECK_EQ_INT(make_request(&greedy, 4, T0), PQCOAP_OK);
    pqcoap_session *s = fx_server_session(&fx, client.sid);
    EXPECT(server_take, s, 4, PQCOAP_ERR_EXPIRED);
    /* two requests, four responses: the replies are used up, the session ends */
    CHECK_EQ_INT(server_take(0, T0), PQCOAP_OK);
    pqcoap_req_ctx c0 = last_ctx;
    CHECK_EQ_INT(server_take(1, T0), PQCOAP_OK);
    pqcoap_req_ctx c1 = last_ctx;
    CHECK_EQ_INT(make_response(&c0, 10, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_response(&c0, 11, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_response(&c1, 12, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_response(&c1, 13, T0), PQCOAP_OK);
    CHECK_EQ_INT(make_response(&c1, 14, T0), PQCOAP_ERR_EXPIRED);
    CHECK_EQ_INT(server_take(2, T0), PQCOAP_ERR_EXPIRED);
    CHECK_EQ_INT(server_take(3, T0), PQCOAP_ERR_UNKNOWN_SESSION);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    pqcoap_session_wipe(&greedy);
    fx.cfg.max_msgs = PQCOAP_MAX_MSGS_DEFAULT;
}

static void test_lifetime(void)
{
    fx.cfg.lifetime_s = 10;
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 500, T0, &client), PQCOAP_OK);
    uint64_t next_ms = 0;
    pqcoap_responder_expire(&fx.responder, T0 + 9999, &next_ms);
    CHECK(next_ms == T0 + 10000);
    CHECK_EQ_INT(make_request(&client, 0, T0 + 9999), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 1, T0 + 9999), PQCOAP_OK);
    CHECK_EQ_INT(make_request(&client, 2, T0 + 10000), PQCOAP_ERR_EXPIRED);
    CHECK_EQ_INT(server_take(0, T0 + 9999), PQCOAP_OK);
    CHECK_EQ_INT(server_take(1, T0 + 10000), PQCOAP_ERR_EXPIRED);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    CHECK_EQ_INT(server_take(1, T0 + 10000), PQCOAP_ERR_UNKNOWN_SESSION);
    /* the sweep ends sessions too and reports when it is next needed */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 501, T0, &client), PQCOAP_OK);
    pqcoap_responder_expire(&fx.responder, T0 + 10000, &next_ms);
    CHECK(next_ms == UINT64_MAX);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    fx.cfg.lifetime_s = PQCOAP_LIFETIME_S_DEFAULT;
}

static void test_overhead(void)
{
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 600, T0, &client), PQCOAP_OK);
    static const uint8_t body[40] = {1, 2, 3};
    static const uint8_t token[2] = {0xaa, 0xbb};
    uint8_t req[128], resp[128], plain[64];
    for (size_t i = 0; i < 140; i++) {
        size_t plain_len = i % 41, req_len, resp_len, got;
        uint64_t n;
        pqcoap_req_ctx ctx;
        pqcoap_msg m = fx_request(PQCOAP_PUT, token, 2, body, plain_len);
        CHECK_EQ_INT(pqcoap_session_protect_request(&client, &m, T0, req, sizeof req, &req_len,
                                                    &n), PQCOAP_OK);
        CHECK_EQ_INT(req_len, plain_len + 1 + pqcoap_varint_len(client.sid)
                     + pqcoap_varint_len(n) + 16);
        m.payload = req;
        m.payload_len = req_len;
        CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain,
                                                &got, &ctx), PQCOAP_OK);
        CHECK_EQ_INT(got, plain_len);
        pqcoap_msg r = fx_response(PQCOAP_CODE(2, 4), token, 2, body, plain_len);
        CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &ctx, &r, T0, resp, sizeof resp,
                                              &resp_len), PQCOAP_OK);
        CHECK_EQ_INT(resp_len, plain_len + 1 + pqcoap_varint_len(i) + 16); /* n of response i */
        r.payload = resp;
        r.payload_len = resp_len;
        CHECK_EQ_INT(pqcoap_session_unprotect_response(&client, n, &r, T0, plain, sizeof plain,
                                                       &got), PQCOAP_OK);
        CHECK_EQ_INT(got, plain_len);
        CHECK_MEM(plain, body, plain_len);
    }
    /* output buffer one byte short: refused, nothing consumed */
    pqcoap_msg m = fx_request(PQCOAP_GET, token, 2, body, 10);
    size_t len;
    uint64_t n, before = client.send.n;
    CHECK_EQ_INT(pqcoap_session_protect_request(&client, &m, T0, req,
                                                10 + 1 + 1 + 2 + 16 - 1, &len, &n),
                 PQCOAP_ERR_BUFFER);
    CHECK(client.send.n == before);
}

int main(void)
{
    fx_setup(&fx, "pqcoap protected message tests", FX_SLOTS, 0, 0, 0);
    test_window_requests(PQCOAP_WINDOW_DEFAULT, 10);
    test_window_requests(8, 11);
    test_window_responses();
    test_forged();
    test_token_not_bound();
    test_retransmission();
    test_max_msgs();
    test_lifetime();
    test_overhead();
    pqcoap_session_wipe(&client);
    fx_teardown(&fx);
    return check_done();
}
