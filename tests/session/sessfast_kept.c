/* The Mode B session server's kept protected responses, through its layer (no sockets): a
 * retransmission (same request bytes, message ID and address) gets exactly the response
 * kept for it when the slot's buffer is reused for a larger and then a smaller response;
 * another request under the same n gets 4.01 "rejected", not the kept response. The layer
 * takes the time from the exchange (the server's one clock read per request): a kept
 * response answers only within EXCHANGE_LIFETIME (247 s) of its request, a request that
 * comes after the session's lifetime is refused, and a response protected after it is an
 * error. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "net/net_internal.h"
#include "net/session_server_internal.h"

static fixture fx;
static const pqcoap_layer *layer;
static pqcoap_responder *resp;
static pqcoap_net_scratch in, out, wire;
static uint8_t state[512];
/* the exchange's time at check_request and at protect_response (0: the layer reads the
 * clock) */
static uint64_t check_ms, protect_ms;

#define LIFETIME_MS (3600u * 1000u) /* the session server's default lifetime */
#define EXCHANGE_LIFETIME_MS 247000u

/* What the layer answered: the code and the payload on the wire. */
typedef struct answer {
    int handled;                    /* the handler ran (else the layer answered itself) */
    uint8_t code;
    uint8_t payload[1200];
    size_t len;
} answer;

static void exchange(uint16_t mid, pqcoap_exchange *x)
{
    struct sockaddr_in *a = (struct sockaddr_in *)(void *)&x->peer;
    memset(x, 0, sizeof *x);
    a->sin_family = AF_INET;
    a->sin_port = htons(40000);
    a->sin_addr.s_addr = htonl(0x7f000001);
    x->peer_len = sizeof *a;
    x->confirmable = 1;
    x->mid = mid;
}

/* Serves the protected request prot[0..len) under message ID mid as the server does; the
 * handler answers with body_len bytes of `fill`. */
static void serve(const uint8_t *prot, size_t len, uint16_t mid, size_t body_len, uint8_t fill,
                  answer *a)
{
    static uint8_t body[1024];
    pqcoap_exchange x;
    pqcoap_layer_verdict verdict;
    exchange(mid, &x);
    x.now_ms = check_ms;
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"tk", 2, prot, len);
    memset(state, 0, layer->state_size);
    pqcoap_net_scratch_start(&in, m.code, m.token, m.token_len);
    CHECK_EQ_INT(layer->check_request(layer->ctx, state, &x, &m, &in.b, &verdict), PQCOAP_OK);
    pqcoap_msgbuf *w = &in.b;
    a->handled = verdict == PQCOAP_LAYER_HANDLE;
    if (a->handled) {
        memset(body, fill, body_len);
        pqcoap_net_scratch_start(&out, PQCOAP_CODE(2, 5), m.token, m.token_len);
        CHECK_EQ_INT(pqcoap_msgbuf_add_uint(&out.b, PQCOAP_OPT_CONTENT_FORMAT, 0), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_msgbuf_set_payload(&out.b, body, body_len), PQCOAP_OK);
        pqcoap_msg r;
        pqcoap_msgbuf_view(&out.b, &r);
        pqcoap_net_scratch_start(&wire, r.code, r.token, r.token_len);
        x.now_ms = protect_ms;
        CHECK_EQ_INT(layer->protect_response(layer->ctx, state, &x, &r, &wire.b), PQCOAP_OK);
        w = &wire.b;
    }
    if (layer->end)
        layer->end(layer->ctx, state);
    a->code = w->code;
    a->len = w->payload_len < sizeof a->payload ? w->payload_len : sizeof a->payload;
    memcpy(a->payload, w->payload, a->len);
}

/* Client c's request "r<k>": protected into prot; returns its n. */
static uint64_t request(pqcoap_session *c, size_t k, uint8_t prot[64], size_t *len)
{
    char text[8] = {'r', (char)('0' + k % 10), 0};
    uint64_t n;
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"tk", 2, (const uint8_t *)text, 2);
    CHECK_EQ_INT(pqcoap_session_protect_request(c, &m, pqcoap_net_now_ms(), prot, 64, len, &n),
                 PQCOAP_OK);
    return n;
}

static int says(const answer *a, uint8_t code, const char *text)
{
    return a->code == code && a->len == strlen(text) && memcmp(a->payload, text, a->len) == 0;
}

/* The client opens a: body_len bytes of fill. */
static void opens(pqcoap_session *c, uint64_t n, const answer *a, size_t body_len,
                  uint8_t fill)
{
    static const uint8_t cf[1] = {0};
    const pqcoap_opt opt = {PQCOAP_OPT_CONTENT_FORMAT, cf, 0};
    pqcoap_msg m = {a->code, (const uint8_t *)"tk", 2, &opt, 1, a->payload, a->len};
    uint8_t plain[1024];
    size_t plain_len = 0;
    CHECK_EQ_INT(pqcoap_session_unprotect_response(c, n, &m, pqcoap_net_now_ms(), plain,
                                                   sizeof plain, &plain_len), PQCOAP_OK);
    CHECK_EQ_INT(plain_len, body_len);
    for (size_t i = 0; i < plain_len && i < body_len; i++)
        if (plain[i] != fill) {
            CHECK(plain[i] == fill);
            break;
        }
}

/* A request answered with body_len bytes, then retransmitted: the same bytes again. */
static void answered_and_resent(pqcoap_session *c, size_t k, uint16_t mid, size_t body_len)
{
    static answer first, again;
    uint8_t prot[64];
    size_t len;
    uint64_t n = request(c, k, prot, &len);
    serve(prot, len, mid, body_len, (uint8_t)k, &first);
    CHECK(first.handled && first.code == PQCOAP_CODE(2, 5));
    serve(prot, len, mid, body_len, 0xee, &again);
    CHECK(!again.handled);
    CHECK(again.code == first.code && again.len == first.len &&
          memcmp(again.payload, first.payload, first.len) == 0);
    opens(c, n, &again, body_len, (uint8_t)k);
}

/* A session of client c with the layer's responder, made at now (seq: its session_seq; it
 * replaces the client's session before). */
static void session(pqcoap_session *c, uint64_t seq, uint64_t now)
{
    static pqcoap_initiator st;
    static uint8_t init[PQCOAP_INIT_MAX], resp_msg[PQCOAP_RESP_MAX];
    size_t init_len, resp_len;
    pqcoap_initiator_cfg icfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &icfg, seq, now, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(resp, init, init_len, now, resp_msg,
                                            sizeof resp_msg, &resp_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp_msg, resp_len, now, c), PQCOAP_OK);
    pqcoap_initiator_wipe(&st);
}

int main(void)
{
    fx_setup(&fx, "sessfast-kept", FX_SLOTS, 0, 0, 0);
    pqcoap_session_server_config cfg = PQCOAP_SESSION_SERVER_CONFIG_INIT;
    cfg.id = "server";
    cfg.sk = fx.server.sk;
    cfg.sk_len = fx.server.pub.alg->sk_len;
    cfg.store = &fx.store;
    cfg.max_sessions = 4;
    pqcoap_session_server *ss = NULL;
    CHECK_EQ_INT(pqcoap_session_server_layer_only(&cfg, &ss, &layer, &resp), PQCOAP_OK);
    CHECK(layer->state_size <= sizeof state);
    if (!ss || layer->state_size > sizeof state)
        return check_done();
    CHECK_EQ_INT(pqcoap_net_scratch_alloc(&in, 1200), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_net_scratch_alloc(&out, 1024), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_net_scratch_alloc(&wire, 1200), PQCOAP_OK);

    /* a session with the layer's responder, made at the clock the layer reads */
    pqcoap_session c;
    uint64_t now = pqcoap_net_now_ms();
    session(&c, 60, now);

    /* the slot's kept buffer: small, then larger (it grows), then small again */
    answered_and_resent(&c, 1, 0x100, 10);
    answered_and_resent(&c, 2, 0x101, 700);
    answered_and_resent(&c, 3, 0x102, 5);
    answered_and_resent(&c, 4, 0x103, 0);

    /* another request under the n of the one answered last: a replay, a short 4.01 */
    static answer a, b;
    uint8_t pa[64], pb[64];
    size_t la, lb;
    pqcoap_session fork = c;
    uint64_t na = request(&c, 5, pa, &la);
    CHECK_EQ_INT(request(&fork, 6, pb, &lb), na);
    serve(pa, la, 0x104, 300, 5, &a);
    CHECK(a.handled);
    serve(pb, lb, 0x104, 300, 6, &b);
    CHECK(!b.handled && b.code == PQCOAP_CODE(4, 1));
    CHECK(b.len == strlen("rejected") && memcmp(b.payload, "rejected", b.len) == 0);
    serve(pa, la, 0x104, 300, 0xee, &b); /* the genuine copy still gets the kept one */
    CHECK(!b.handled && b.len == a.len && memcmp(b.payload, a.payload, a.len) == 0);

    /* the exchange's time: the kept response until EXCHANGE_LIFETIME after the request,
     * then a replay */
    CHECK_EQ_INT(cfg.lifetime_s * 1000u, LIFETIME_MS);
    uint64_t at = pqcoap_net_now_ms() + 1;
    check_ms = protect_ms = at;
    na = request(&c, 7, pa, &la);
    serve(pa, la, 0x105, 20, 7, &a);
    CHECK(a.handled);
    check_ms = at + EXCHANGE_LIFETIME_MS - 1;
    serve(pa, la, 0x105, 20, 0xee, &b);
    CHECK(!b.handled && b.len == a.len && memcmp(b.payload, a.payload, a.len) == 0);
    check_ms = at + EXCHANGE_LIFETIME_MS;
    serve(pa, la, 0x105, 20, 0xee, &b);
    CHECK(!b.handled && says(&b, PQCOAP_CODE(4, 1), "rejected"));
    /* a request taken in time whose response is protected after the lifetime: an error */
    session(&c, 61, now);
    check_ms = now + LIFETIME_MS - 1;
    protect_ms = now + LIFETIME_MS;
    request(&c, 8, pa, &la);
    serve(pa, la, 0x106, 20, 8, &a);
    CHECK(a.handled && says(&a, PQCOAP_CODE(4, 1), "unknown session"));
    /* a request that comes after the lifetime (the check ends every session whose lifetime
     * is over: this one comes last) */
    session(&c, 62, now);
    check_ms = now + LIFETIME_MS;
    request(&c, 9, pa, &la);
    serve(pa, la, 0x107, 20, 9, &a);
    CHECK(!a.handled && says(&a, PQCOAP_CODE(4, 1), "unknown session"));

    pqcoap_session_wipe(&fork);
    pqcoap_session_wipe(&c);
    pqcoap_net_scratch_free(&in);
    pqcoap_net_scratch_free(&out);
    pqcoap_net_scratch_free(&wire);
    pqcoap_session_server_free(ss);
    fx_teardown(&fx);
    return check_done();
}
