/* Mode B handshake tests: what a responder and an initiator accept or reject, byte for byte
 * (wrong keys, unknown peers, every tampered byte, rollback, identical INIT, limits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "common/buf_internal.h"

static fixture fx;
static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX], resp2[PQCOAP_RESP_MAX];
static uint8_t bad[PQCOAP_INIT_MAX + 1];
static pqcoap_initiator st;

#define NOW 1000000

static pqcoap_err start(const pqcoap_identity *who, const char *id, uint64_t seq, size_t *len)
{
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, who, id);
    return pqcoap_initiator_start(&st, &cfg, seq, NOW, &fx.rng, init, sizeof init, len);
}

/* session_seq of the floor of `id`, 0 if none. */
static uint64_t floor_of(const char *id)
{
    pqcoap_floor floor;
    return pqcoap_store_floor_get(&fx.mem, id, &floor) == PQCOAP_OK ? floor.session_seq : 0;
}

static pqcoap_err respond(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    return pqcoap_responder_handshake(&fx.responder, in, len, NOW, out, PQCOAP_RESP_MAX, out_len);
}

/* INIT of "client" with seq and the responder's RESP: both must succeed. */
static int init_and_resp(uint64_t seq, size_t *init_len, size_t *resp_len)
{
    return start(&fx.client, "client", seq, init_len) == PQCOAP_OK
        && respond(init, *init_len, resp, resp_len) == PQCOAP_OK;
}

/* A request protected by c and accepted by the responder: the session pair works. */
static int session_pair_works(pqcoap_session *c)
{
    return fx_session_works(&fx, c, NOW);
}

static void test_happy_path(void)
{
    size_t init_len, resp_len;
    pqcoap_session c;
    memset(&c, 0, sizeof c);
    CHECK(init_and_resp(1, &init_len, &resp_len));
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, NOW, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.live, 1);
    CHECK_EQ_INT(c.sid, 1); /* small values first, never 0 */
    CHECK(session_pair_works(&c));
    /* the floor is persisted with SHA-256(INIT) */
    pqcoap_floor floor;
    uint8_t hash[32];
    const pqcoap_span span = {init, init_len};
    CHECK_EQ_INT(pqcoap_store_floor_get(&fx.mem, "client", &floor), PQCOAP_OK);
    CHECK_EQ_INT(floor.session_seq, 1);
    CHECK_EQ_INT(pqcoap_sha256(&span, 1, hash), PQCOAP_OK);
    CHECK_MEM(floor.init_hash, hash, 32);
    /* a finished initiator cannot finish again */
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, NOW, &c), PQCOAP_ERR_STATE);
    pqcoap_session_wipe(&c);
}

static void test_wrong_server_key(void)
{
    size_t init_len, resp_len;
    pqcoap_session c;
    memset(&c, 0, sizeof c);
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    cfg.responder_pk = fx.other.pub.pk; /* pinned: not the server's key */
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 2, NOW, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, NOW, &c), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(c.live, 0);
    pqcoap_initiator_wipe(&st);
}

static void test_unknown_initiator(void)
{
    size_t init_len, resp_len = 0;
    uint64_t floor_before = floor_of("client");
    /* an id not in the trust store */
    CHECK_EQ_INT(start(&fx.other, "mallory", 1, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_UNKNOWN_PEER);
    /* a trusted id, signed with another key */
    CHECK_EQ_INT(start(&fx.other, "client", 1, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_AUTH);
    /* addressed to another responder */
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    cfg.responder_id = "elsewhere";
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, NOW, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_UNKNOWN_PEER);
    CHECK_EQ_INT(resp_len, 0); /* nothing written */
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(floor_of("client") == floor_before);
    CHECK(floor_of("mallory") == 0);
    pqcoap_initiator_wipe(&st);
}

/* Every single-byte change, every truncation and a trailing byte of INIT are rejected and
 * leave no session and no floor; the genuine INIT still works afterwards. */
static void test_tampered_init(void)
{
    size_t init_len, resp_len;
    CHECK_EQ_INT(start(&fx.client, "client", 7, &init_len), PQCOAP_OK);
    uint64_t floor_before = floor_of("client");
    size_t live = pqcoap_responder_live(&fx.responder);
    int accepted = 0;
    for (size_t i = 0; i < init_len; i++) {
        memcpy(bad, init, init_len);
        bad[i] ^= 0x01;
        accepted += respond(bad, init_len, resp, &resp_len) == PQCOAP_OK;
    }
    for (size_t len = 0; len < init_len; len++)
        accepted += respond(init, len, resp, &resp_len) == PQCOAP_OK;
    memcpy(bad, init, init_len);
    bad[init_len] = 0;
    accepted += respond(bad, init_len + 1, resp, &resp_len) == PQCOAP_OK;
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), live);
    CHECK(floor_of("client") == floor_before);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_OK);
    CHECK_EQ_INT(floor_of("client"), 7);
    pqcoap_initiator_wipe(&st);
}

/* Every single-byte change, truncation and trailing byte of RESP is rejected without a
 * session; the initiator then still completes with the genuine RESP. */
static void test_tampered_resp(void)
{
    size_t init_len, resp_len;
    pqcoap_session c;
    memset(&c, 0, sizeof c);
    CHECK(init_and_resp(8, &init_len, &resp_len));
    int accepted = 0;
    for (size_t i = 0; i < resp_len; i++) {
        memcpy(bad, resp, resp_len);
        bad[i] ^= 0x01;
        accepted += pqcoap_initiator_finish(&st, bad, resp_len, NOW, &c) == PQCOAP_OK;
    }
    for (size_t len = 0; len < resp_len; len++)
        accepted += pqcoap_initiator_finish(&st, resp, len, NOW, &c) == PQCOAP_OK;
    memcpy(bad, resp, resp_len);
    bad[resp_len] = 0;
    accepted += pqcoap_initiator_finish(&st, bad, resp_len + 1, NOW, &c) == PQCOAP_OK;
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(c.live, 0);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, NOW, &c), PQCOAP_OK);
    CHECK(session_pair_works(&c));
    pqcoap_session_wipe(&c);
}

static void test_floor(void)
{
    size_t init_len, resp_len, resp2_len;
    uint64_t before;
    pqcoap_session c, old;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 20, NOW, &old), PQCOAP_OK);
    uint32_t old_sid = old.sid;

    /* older session_seq */
    CHECK_EQ_INT(start(&fx.client, "client", 19, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_ROLLBACK);
    /* same session_seq, another INIT */
    CHECK_EQ_INT(start(&fx.client, "client", 20, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_ROLLBACK);
    CHECK(session_pair_works(&old));

    /* a newer INIT, then the identical INIT again: byte-identical RESP, no randomness drawn
     * (no new signature or keys), still one session */
    CHECK_EQ_INT(start(&fx.client, "client", 21, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    before = fx.rng_state.counter;
    size_t used_before = fx.rng_state.used;
    CHECK_EQ_INT(respond(init, init_len, resp2, &resp2_len), PQCOAP_OK);
    CHECK_EQ_INT(resp2_len, resp_len);
    CHECK_MEM(resp2, resp, resp_len);
    CHECK(fx.rng_state.counter == before && fx.rng_state.used == used_before);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp2, resp2_len, NOW, &c), PQCOAP_OK);
    /* the new session replaced the old one, under another sid */
    CHECK(c.sid != old_sid);
    CHECK(session_pair_works(&c));
    CHECK(!session_pair_works(&old));
    CHECK_EQ_INT(floor_of("client"), 21);
    pqcoap_session_wipe(&c);
    pqcoap_session_wipe(&old);
}

static void test_floor_not_persisted(void)
{
    size_t init_len, resp_len = 0;
    CHECK_EQ_INT(start(&fx.client, "client", 100, &init_len), PQCOAP_OK);
    fx.fail_floor_set = 1;
    size_t live = pqcoap_responder_live(&fx.responder);
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_ERR_STORE);
    CHECK_EQ_INT(resp_len, 0); /* no RESP released */
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), live);
    fx.fail_floor_set = 0;
    CHECK_EQ_INT(respond(init, init_len, resp, &resp_len), PQCOAP_OK);
    pqcoap_initiator_wipe(&st);
}

static void test_limits(void)
{
    pqcoap_session a, b;
    pqcoap_coap_error e;
    /* one slot: a second initiator is refused, 5.03 with Max-Age */
    fx_restart_responder(&fx, 1);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 200, NOW, &a), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 1, NOW, &b), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_ERR_LIMIT, PQCOAP_WHERE_HANDSHAKE, &e), PQCOAP_OK);
    CHECK_EQ_INT(e.code, PQCOAP_CODE(5, 3));
    CHECK(e.max_age_s > 0);
    /* the same initiator re-handshakes into its own slot */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 201, NOW, &a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    pqcoap_session_wipe(&a);
    /* with idle eviction, the least recently used session idle long enough makes room */
    fx.cfg.evict_idle_ms = 5000;
    fx_restart_responder(&fx, 1);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 300, NOW, &a), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 2, NOW + 1000, &b), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 3, NOW + 5000, &b), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK_EQ_INT(b.sid, 2); /* unique among live sessions, the evicted one included */
    CHECK(fx_server_session(&fx, 1) == NULL);
    /* two slots: sids 1 and 2, small values first */
    fx.cfg.evict_idle_ms = 0;
    fx_restart_responder(&fx, 2);
    pqcoap_session_wipe(&a);
    pqcoap_session_wipe(&b);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 301, NOW, &a), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 4, NOW, &b), PQCOAP_OK);
    CHECK_EQ_INT(a.sid, 1);
    CHECK_EQ_INT(b.sid, 2);
    /* three slots: repeated re-handshakes keep sids small (1-byte varint) and the old
     * session ends each time, its sid not reused by the session that replaces it */
    fx_restart_responder(&fx, 3);
    pqcoap_session_wipe(&a);
    uint32_t prev = 0;
    for (uint64_t seq = 400; seq < 406; seq++) {
        CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", seq, NOW, &a), PQCOAP_OK);
        CHECK(a.sid >= 1 && a.sid <= 2 && a.sid != prev);
        CHECK(fx_server_session(&fx, a.sid) != NULL);
        CHECK(prev == 0 || fx_server_session(&fx, prev) == NULL);
        CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
        prev = a.sid;
        pqcoap_session_wipe(&a);
    }
    fx_restart_responder(&fx, FX_SLOTS);
    pqcoap_session_wipe(&a);
    pqcoap_session_wipe(&b);
}

/* A table of thousands of sessions: the sid a new session gets is still the smallest one
 * free, also beyond the first 8192 and in a gap (the search marks sids in windows). */
static void test_sid_search(void)
{
    enum { N = 9000 };
    pqcoap_session *big = calloc(N, sizeof *big);
    pqcoap_session c;
    CHECK(big != NULL);
    if (!big)
        return;
    CHECK_EQ_INT(pqcoap_responder_init(&fx.responder, &fx.cfg, big, N), PQCOAP_OK);
    /* slots 1..N-1 hold live sessions with sids 1..N-1 of other initiators; slot 0 is free */
    for (uint32_t i = 1; i < N; i++) {
        big[i].live = 1;
        big[i].sid = i;
        big[i].expires_ms = UINT64_MAX;
        snprintf(big[i].peer_id, sizeof big[i].peer_id, "p%u", (unsigned)i);
    }
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 500, NOW, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.sid, N); /* 1..N-1 taken, in both windows */
    CHECK(big[0].live && big[0].sid == N);
    pqcoap_session_wipe(&c);
    /* a gap at sid 4321: the replacing session of "client" takes it */
    pqcoap_session_wipe(&big[4321]);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 501, NOW, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.sid, 4321);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), N - 1);
    pqcoap_session_wipe(&c);
    pqcoap_responder_wipe(&fx.responder);
    free(big);
    fx_restart_responder(&fx, FX_SLOTS);
}

/* ---- strict decoding of individual fields ---- */

static const uint8_t ZERO[PQCOAP_SIG_MAX + 1];

/* INIT with chosen fields and a dummy signature; suite 1 sizes unless told otherwise. */
static size_t make_init(uint8_t version, uint8_t suite, const char *iid, size_t iid_len,
                        uint64_t seq, size_t kem_pk_len, size_t sig_len, int trailing)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, bad, sizeof bad);
    pqcoap_wr_u8(&w, version);
    pqcoap_wr_str8(&w, &suite, 1);
    pqcoap_wr_str8(&w, (const uint8_t *)iid, iid_len);
    pqcoap_wr_str8(&w, (const uint8_t *)"server", 6);
    pqcoap_wr_u64(&w, seq);
    pqcoap_wr_u64(&w, 0);
    pqcoap_wr_bytes(&w, ZERO, 16);
    pqcoap_wr_str16(&w, ZERO, kem_pk_len);
    pqcoap_wr_bytes(&w, ZERO, 32);
    pqcoap_wr_u8(&w, 0);
    pqcoap_wr_str8(&w, ZERO, 0);
    pqcoap_wr_str16(&w, ZERO, sig_len);
    if (trailing)
        pqcoap_wr_u8(&w, 0);
    return w.err == PQCOAP_OK ? w.len : 0;
}

/* INIT of version 2 with the offer offer[0..n) and params of params_len bytes, suite 1
 * sizes. */
static size_t make_init_offer(const uint8_t *offer, size_t n, size_t params_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, bad, sizeof bad);
    pqcoap_wr_u8(&w, 2);
    pqcoap_wr_str8(&w, offer, n);
    pqcoap_wr_str8(&w, (const uint8_t *)"client", 6);
    pqcoap_wr_str8(&w, (const uint8_t *)"server", 6);
    pqcoap_wr_u64(&w, 1);
    pqcoap_wr_u64(&w, 0);
    pqcoap_wr_bytes(&w, ZERO, 16);
    pqcoap_wr_str16(&w, ZERO, 1184);
    pqcoap_wr_bytes(&w, ZERO, 32);
    pqcoap_wr_u8(&w, 0);
    pqcoap_wr_str8(&w, ZERO, params_len);
    pqcoap_wr_str16(&w, ZERO, 600);
    return w.err == PQCOAP_OK ? w.len : 0;
}

static size_t make_resp(uint8_t suite, uint32_t sid, uint32_t lifetime, uint32_t max_msgs,
                        size_t ct_len, size_t sig_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, bad, sizeof bad);
    pqcoap_wr_u8(&w, 2);
    pqcoap_wr_u8(&w, suite);
    pqcoap_wr_u32(&w, sid);
    pqcoap_wr_u32(&w, lifetime);
    pqcoap_wr_u32(&w, max_msgs);
    pqcoap_wr_str16(&w, ZERO, ct_len);
    pqcoap_wr_bytes(&w, ZERO, 32);
    pqcoap_wr_u8(&w, 0);
    pqcoap_wr_str8(&w, ZERO, 0);
    pqcoap_wr_str16(&w, ZERO, sig_len);
    return w.err == PQCOAP_OK ? w.len : 0;
}

static void test_decode_fields(void)
{
    pqcoap_init_view iv;
    pqcoap_resp_view rv;
    const char *id64 = "0123456789012345678901234567890123456789012345678901234567890123";
#define INIT_DEC(...) pqcoap_init_decode(bad, make_init(__VA_ARGS__), &iv)
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1184, 600, 0), PQCOAP_OK);
    CHECK_EQ_INT(iv.session_seq, 1);
    CHECK_EQ_INT(iv.sig.sig_len, 600);
    CHECK_EQ_INT(INIT_DEC(2, 1, id64, 64, 1, 1184, 752, 0), PQCOAP_OK);
    /* an INIT's signature is of the initiator's key, up to the longest of any algorithm */
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1184, 4627, 0), PQCOAP_OK);
    CHECK_EQ_INT(INIT_DEC(1, 1, "client", 6, 1, 1184, 600, 0), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(INIT_DEC(3, 1, "client", 6, 1, 1184, 600, 0), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(INIT_DEC(2, 0x7f, "client", 6, 1, 1184, 600, 0), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "", 0, 1, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "0123456789012345678901234567890123456789012345678901234567890123x",
                          65, 1, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "a\xff", 2, 1, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "a\0b", 3, 1, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 0, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1183, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1185, 600, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1184, 0, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1184, 4628, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 1, "client", 6, 1, 1184, 600, 1), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(INIT_DEC(2, 3, "client", 6, 1, 1184, 600, 0), PQCOAP_OK); /* ML-KEM-768 */
    CHECK_EQ_INT(INIT_DEC(2, 2, "client", 6, 1, 1184, 600, 0), PQCOAP_ERR_MALFORMED);
#undef INIT_DEC
    /* the offer: the first suite known, then any; no suite twice; known ones of one KEM */
#define OFFER_DEC(params, ...) pqcoap_init_decode(bad, make_init_offer((const uint8_t[]){ \
        __VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), params), &iv)
    CHECK_EQ_INT(OFFER_DEC(0, 1, 3), PQCOAP_OK);
    CHECK_EQ_INT(iv.n_offer, 2);
    CHECK(pqcoap_init_offers(&iv, 3) && !pqcoap_init_offers(&iv, 2));
    CHECK_EQ_INT(OFFER_DEC(0, 1, 0x7f), PQCOAP_OK);        /* unknown later: ignored */
    CHECK_EQ_INT(OFFER_DEC(0, 0x7f, 1), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(OFFER_DEC(0, 1, 2), PQCOAP_ERR_MALFORMED); /* ML-KEM-1024 with a 768 key */
    CHECK_EQ_INT(OFFER_DEC(0, 1, 4), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(OFFER_DEC(0, 1, 3, 1), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(OFFER_DEC(0, 1, 3, 5, 6, 7, 8, 9, 10), PQCOAP_OK);
    CHECK_EQ_INT(OFFER_DEC(0, 1, 3, 5, 6, 7, 8, 9, 10, 11), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(pqcoap_init_decode(bad, make_init_offer(NULL, 0, 0), &iv), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(OFFER_DEC(PQCOAP_HS_PARAMS_MAX, 1), PQCOAP_OK);
    CHECK_EQ_INT(OFFER_DEC(PQCOAP_HS_PARAMS_MAX + 1, 1), PQCOAP_ERR_MALFORMED);
#undef OFFER_DEC
#define RESP_DEC(...) pqcoap_resp_decode(bad, make_resp(__VA_ARGS__), &rv)
    CHECK_EQ_INT(RESP_DEC(1, 1, 60, 10, 1088, 600), PQCOAP_OK);
    CHECK_EQ_INT(rv.sid, 1);
    CHECK_EQ_INT(RESP_DEC(1, 0, 60, 10, 1088, 600), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(1, 1, 0, 10, 1088, 600), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(1, 1, 60, 0, 1088, 600), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(1, 1, 60, 10, 1087, 600), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(1, 1, 60, 10, 1088, 0), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(1, 1, 60, 10, 1088, 753), PQCOAP_ERR_MALFORMED);
    /* a RESP's signature is of its suite's algorithm: ML-DSA-65 signatures are 3309 bytes */
    CHECK_EQ_INT(RESP_DEC(3, 1, 60, 10, 1088, 3309), PQCOAP_OK);
    CHECK_EQ_INT(RESP_DEC(3, 1, 60, 10, 1088, 3310), PQCOAP_ERR_MALFORMED);
    CHECK_EQ_INT(RESP_DEC(4, 1, 60, 10, 1568, 600), PQCOAP_OK);
    CHECK_EQ_INT(RESP_DEC(0x7f, 1, 60, 10, 1088, 600), PQCOAP_ERR_UNSUPPORTED);
#undef RESP_DEC
}

static void test_ids(void)
{
    CHECK(pqcoap_id_valid((const uint8_t *)"a", 1));
    CHECK(pqcoap_id_valid((const uint8_t *)"caf\xc3\xa9", 5));              /* é */
    CHECK(pqcoap_id_valid((const uint8_t *)"\xf0\x9f\x94\x91", 4));         /* U+1F511 */
    CHECK(!pqcoap_id_valid((const uint8_t *)"", 0));
    CHECK(!pqcoap_id_valid((const uint8_t *)"\xc0\xaf", 2));                /* overlong */
    CHECK(!pqcoap_id_valid((const uint8_t *)"\xed\xa0\x80", 3));            /* surrogate */
    CHECK(!pqcoap_id_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));        /* > U+10FFFF */
    CHECK(!pqcoap_id_valid((const uint8_t *)"\xc3", 1));                    /* truncated */
    CHECK(!pqcoap_id_valid((const uint8_t *)"\x80", 1));                    /* continuation */
}

static void test_error_mapping(void)
{
    static const struct {
        pqcoap_err err;
        pqcoap_err_where where;
        uint8_t code;
        const char *diag;
        pqcoap_err client;
    } map[] = {
        {PQCOAP_ERR_MALFORMED, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(4, 0), "malformed", PQCOAP_ERR_MALFORMED},
        {PQCOAP_ERR_MALFORMED, PQCOAP_WHERE_PROTECTED, PQCOAP_CODE(4, 0), "malformed", PQCOAP_ERR_MALFORMED},
        /* no suite in common, an unknown version: the client says so */
        {PQCOAP_ERR_UNSUPPORTED, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(4, 0), "unsupported", PQCOAP_ERR_UNSUPPORTED},
        {PQCOAP_ERR_UNKNOWN_PEER, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(4, 1), "handshake rejected", PQCOAP_ERR_HANDSHAKE},
        {PQCOAP_ERR_AUTH, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(4, 1), "handshake rejected", PQCOAP_ERR_HANDSHAKE},
        {PQCOAP_ERR_ROLLBACK, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(4, 1), "handshake rejected", PQCOAP_ERR_HANDSHAKE},
        {PQCOAP_ERR_UNKNOWN_SESSION, PQCOAP_WHERE_PROTECTED, PQCOAP_CODE(4, 1), "unknown session", PQCOAP_ERR_UNKNOWN_SESSION},
        {PQCOAP_ERR_EXPIRED, PQCOAP_WHERE_PROTECTED, PQCOAP_CODE(4, 1), "unknown session", PQCOAP_ERR_UNKNOWN_SESSION},
        {PQCOAP_ERR_REPLAY, PQCOAP_WHERE_PROTECTED, PQCOAP_CODE(4, 1), "rejected", PQCOAP_ERR_REJECTED},
        {PQCOAP_ERR_AUTH, PQCOAP_WHERE_PROTECTED, PQCOAP_CODE(4, 1), "rejected", PQCOAP_ERR_REJECTED},
        {PQCOAP_ERR_LIMIT, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(5, 3), "busy", PQCOAP_ERR_BUSY},
        /* not an error PROTOCOL.md leaves unprotected: the client cannot trust it */
        {PQCOAP_ERR_STORE, PQCOAP_WHERE_HANDSHAKE, PQCOAP_CODE(5, 0), "internal error", PQCOAP_ERR_UNAUTHENTICATED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        pqcoap_coap_error e;
        CHECK_EQ_INT(pqcoap_error_to_coap(map[i].err, map[i].where, &e), PQCOAP_OK);
        CHECK_EQ_INT(e.code, map[i].code);
        CHECK(strcmp(e.diagnostic, map[i].diag) == 0);
        CHECK_EQ_INT(pqcoap_error_from_coap(e.code, (const uint8_t *)e.diagnostic,
                                            strlen(e.diagnostic)), map[i].client);
    }
    pqcoap_coap_error e;
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_OK, PQCOAP_WHERE_PROTECTED, &e), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_ERR_RETRANSMIT, PQCOAP_WHERE_PROTECTED, &e),
                 PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_error_from_coap(PQCOAP_CODE(4, 1), (const uint8_t *)"other", 5),
                 PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(pqcoap_error_from_coap(PQCOAP_CODE(4, 4), NULL, 0), PQCOAP_ERR_UNAUTHENTICATED);
    CHECK_EQ_INT(pqcoap_error_from_coap(PQCOAP_CODE(2, 5), NULL, 0), PQCOAP_ERR_UNAUTHENTICATED);
}

static void test_bad_arguments(void)
{
    size_t len;
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 0, NOW, &fx.rng, init, sizeof init, &len),
                 PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, NOW, &fx.rng, init, 100, &len),
                 PQCOAP_ERR_BUFFER);
    cfg.suite = 0x7f;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, NOW, &fx.rng, init, sizeof init, &len),
                 PQCOAP_ERR_UNSUPPORTED);
    cfg = fx_initiator_cfg(&fx, &fx.client, "");
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, NOW, &fx.rng, init, sizeof init, &len),
                 PQCOAP_ERR_ARG);
    /* a RESP buffer too small: nothing created */
    CHECK_EQ_INT(start(&fx.client, "client", 500, &len), PQCOAP_OK);
    size_t live = pqcoap_responder_live(&fx.responder);
    size_t resp_len;
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, len, NOW, resp, 100, &resp_len),
                 PQCOAP_ERR_BUFFER);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), live);
    pqcoap_initiator_wipe(&st);
}

int main(void)
{
    fx_setup(&fx, "pqcoap session handshake tests", FX_SLOTS, 0, 0, 0);
    test_happy_path();
    test_wrong_server_key();
    test_unknown_initiator();
    test_tampered_init();
    test_tampered_resp();
    test_floor();
    test_floor_not_persisted();
    test_limits();
    test_decode_fields();
    test_ids();
    test_error_mapping();
    test_bad_arguments();
    test_sid_search(); /* last: it raises the floor of "client" */
    fx_teardown(&fx);
    return check_done();
}
