/* The responder's session table with the index the session server gives it: 1024 live
 * sessions each resolve to their own, by sid and by request context, wherever they sit; an
 * ended sid, a sid taken again by a new session, a slot reused under another sid, and forged
 * sids and serials reach no session; ids skip index entries in use; and sessions end at their
 * expiry to the millisecond, also when the sweep is skipped until the earliest expiry. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "common/buf_internal.h"

#define N 1024
#define CAP PQCOAP_PEER_INDEX_CAP(N)
#define T0 9000000

static fixture fx;
static pqcoap_session slots[N];
static pqcoap_session clients[N];
static uint32_t index_mem[CAP];

/* A session of peer "p<i>" made as the responder's phase 4 makes one (no handshake: chain
 * keys made from i), its client side in clients[i]. */
static void install(size_t i, uint64_t now)
{
    pqcoap_peer_table *t = &fx.responder.table;
    char id[PQCOAP_ID_MAX + 1] = {0};
    uint8_t c2s[32], s2c[32], pk_hash[32] = {0};
    uint32_t sid = 0, unused;
    size_t slot = 0;
    snprintf(id, sizeof id, "p%zu", i);
    memset(c2s, 0x5c, sizeof c2s);
    memset(s2c, 0xa3, sizeof s2c);
    c2s[0] = s2c[0] = (uint8_t)i;
    c2s[1] = s2c[1] = (uint8_t)(i >> 8);
    c2s[2] = s2c[2] = (uint8_t)(now >> 3);
    CHECK_EQ_INT(pqcoap_peer_table_pend(t, id, now, &sid), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_peer_table_reserve(t, id, now, &slot, &unused), PQCOAP_OK);
    pqcoap_session *s = &t->slots[slot];
    uint64_t expires = pqcoap_expiry(now, fx.cfg.lifetime_s);
    pqcoap_session_setup(s, 0, 0x01, sid, PQCOAP_MAX_MSGS_DEFAULT, expires, s2c, c2s, 64);
    pqcoap_peer_table_stamp(t, s, id, pk_hash, now);
    pqcoap_peer_table_release(t, sid);
    pqcoap_session_setup(&clients[i], 1, 0x01, sid, PQCOAP_MAX_MSGS_DEFAULT, expires, c2s, s2c,
                         64);
}

/* Client c protects request "m<tag>" into prot. */
static void make(pqcoap_session *c, size_t tag, uint8_t prot[64], size_t *len, uint64_t *n)
{
    char text[16];
    int k = snprintf(text, sizeof text, "m%zu", tag);
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"t", 1, (const uint8_t *)text,
                              (size_t)k);
    CHECK_EQ_INT(pqcoap_session_protect_request(c, &m, T0, prot, 64, len, n), PQCOAP_OK);
}

static pqcoap_err take(const uint8_t *prot, size_t len, pqcoap_req_ctx *ctx)
{
    uint8_t plain[64];
    size_t plain_len;
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"t", 1, prot, len);
    return pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain, &plain_len,
                                      ctx);
}

/* A request and its response between client c and the responder: the request reaches c's
 * session (its plaintext and sid), the response comes back for it. */
static pqcoap_err round_trip(pqcoap_session *c, size_t tag, pqcoap_req_ctx *ctx)
{
    uint8_t prot[64], plain[64], resp[64];
    size_t len, plain_len, resp_len;
    uint64_t n;
    char text[16];
    int k = snprintf(text, sizeof text, "m%zu", tag);
    make(c, tag, prot, &len, &n);
    pqcoap_msg m = fx_request(PQCOAP_GET, (const uint8_t *)"t", 1, prot, len);
    PQCOAP_TRY(pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain,
                                          &plain_len, ctx));
    CHECK(plain_len == (size_t)k && memcmp(plain, text, plain_len) == 0);
    CHECK_EQ_INT(ctx->sid, c->sid);
    pqcoap_msg r = fx_response(PQCOAP_CODE(2, 5), (const uint8_t *)"t", 1, plain, plain_len);
    PQCOAP_TRY(pqcoap_responder_protect(&fx.responder, ctx, &r, T0, resp, sizeof resp,
                                        &resp_len));
    r.payload = resp;
    r.payload_len = resp_len;
    PQCOAP_TRY(pqcoap_session_unprotect_response(c, n, &r, T0, plain, sizeof plain,
                                                 &plain_len));
    CHECK(plain_len == (size_t)k && memcmp(plain, text, plain_len) == 0);
    return PQCOAP_OK;
}

/* prot rewritten as type || varint(sid) || varint(n) || the same ciphertext and tag. */
static size_t reframe(uint8_t prot[64], size_t len, uint64_t sid)
{
    pqcoap_reader r;
    uint8_t type, rest[64];
    uint64_t old_sid, n;
    const uint8_t *ct;
    pqcoap_rd_init(&r, prot, len);
    pqcoap_rd_u8(&r, &type);
    pqcoap_rd_varint(&r, &old_sid);
    pqcoap_rd_varint(&r, &n);
    size_t ct_len = pqcoap_rd_left(&r);
    pqcoap_rd_bytes(&r, ct_len, &ct);
    memcpy(rest, ct, ct_len);
    pqcoap_writer w;
    pqcoap_wr_init(&w, prot, 64);
    pqcoap_wr_u8(&w, type);
    pqcoap_wr_varint(&w, sid);
    pqcoap_wr_varint(&w, n);
    pqcoap_wr_bytes(&w, rest, ct_len);
    return w.len;
}

/* Client c's next request, sent under sid: refused with `want`. */
static void under_sid(pqcoap_session *c, uint64_t sid, pqcoap_err want, int line)
{
    uint8_t prot[64];
    size_t len;
    uint64_t n;
    pqcoap_req_ctx ctx;
    make(c, 0, prot, &len, &n);
    len = reframe(prot, len, sid);
    pqcoap_err got = take(prot, len, &ctx);
    if (got != want)
        fprintf(stderr, "line %d: sid %llu: got %d\n", line, (unsigned long long)sid, got);
    CHECK_EQ_INT(got, want);
}

#define UNDER_SID(c, sid, want) under_sid(c, sid, want, __LINE__)

static void test_live_sessions(void)
{
    pqcoap_peer_table *t = &fx.responder.table;
    pqcoap_session mine, old5, old7;
    pqcoap_req_ctx ctx, ctx5;
    pqcoap_responder_wipe(&fx.responder);
    CHECK_EQ_INT(pqcoap_responder_init(&fx.responder, &fx.cfg, slots, N), PQCOAP_OK);
    pqcoap_peer_table_index(t, index_mem, CAP);
    for (size_t i = 0; i + 1 < N; i++)
        install(i, T0);
    /* ours is made by a handshake, last in the table */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 40, T0, &mine), PQCOAP_OK);
    CHECK_EQ_INT(mine.sid, N);
    CHECK(pqcoap_peer_table_by_id(t, N) == &slots[N - 1]);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), N);
    for (size_t i = 0; i + 1 < N; i++)
        CHECK_EQ_INT(round_trip(&clients[i], i, &ctx), PQCOAP_OK);
    CHECK_EQ_INT(round_trip(&mine, 1, &ctx), PQCOAP_OK);
    CHECK(pqcoap_peer_table_by_serial(t, ctx.serial) == &slots[N - 1]);

    /* forged sids: none live, or sharing the index entry of a live one */
    UNDER_SID(&mine, 0, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&mine, N + 1, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&mine, N + CAP, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&mine, 5 + 2 * CAP, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&mine, UINT32_MAX, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&mine, clients[9].sid, PQCOAP_ERR_AUTH); /* another live session: its keys */
    CHECK_EQ_INT(round_trip(&mine, 2, &ctx), PQCOAP_OK);

    /* forged request contexts: the serial of the same slot's next owner, another slot's */
    CHECK_EQ_INT(round_trip(&clients[5], 3, &ctx5), PQCOAP_OK);
    uint8_t resp[64];
    size_t resp_len;
    pqcoap_msg r = fx_response(PQCOAP_CODE(2, 5), NULL, 0, (const uint8_t *)"x", 1);
    pqcoap_req_ctx forged = ctx5;
    forged.serial += N;
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &forged, &r, T0, resp, sizeof resp,
                                          &resp_len), PQCOAP_ERR_UNKNOWN_SESSION);
    forged.serial = ctx5.serial + 1;
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &forged, &r, T0, resp, sizeof resp,
                                          &resp_len), PQCOAP_ERR_UNKNOWN_SESSION);

    /* session 5 ends; a new session takes its slot and its sid */
    old5 = clients[5];
    pqcoap_session_wipe(pqcoap_peer_table_by_serial(t, ctx5.serial));
    UNDER_SID(&old5, old5.sid, PQCOAP_ERR_UNKNOWN_SESSION);
    install(N - 1, T0 + 8);
    CHECK_EQ_INT(clients[N - 1].sid, old5.sid);
    CHECK(pqcoap_peer_table_by_id(t, old5.sid) == &slots[5]);
    static uint8_t a[PQCOAP_SNAPSHOT_MAX], b[PQCOAP_SNAPSHOT_MAX];
    size_t la = fx_snapshot(&slots[5], a);
    UNDER_SID(&old5, old5.sid, PQCOAP_ERR_AUTH); /* the old keys open nothing */
    CHECK(fx_snapshot(&slots[5], b) == la && memcmp(a, b, la) == 0);
    CHECK_EQ_INT(pqcoap_responder_protect(&fx.responder, &ctx5, &r, T0, resp, sizeof resp,
                                          &resp_len), PQCOAP_ERR_UNKNOWN_SESSION);
    CHECK_EQ_INT(round_trip(&clients[N - 1], 4, &ctx), PQCOAP_OK);

    /* peer 7 makes a new session: the same slot, a new sid; its old sid reaches nothing */
    old7 = clients[7];
    install(7, T0 + 16);
    CHECK_EQ_INT(clients[7].sid, N + 1);
    CHECK(pqcoap_peer_table_by_id(t, N + 1) == &slots[7]);
    UNDER_SID(&old7, old7.sid, PQCOAP_ERR_UNKNOWN_SESSION);
    UNDER_SID(&clients[7], N + 1 + CAP, PQCOAP_ERR_UNKNOWN_SESSION);
    CHECK_EQ_INT(round_trip(&clients[7], 5, &ctx), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), N);
    for (size_t i = 0; i < N; i++) /* clients[5] is old5 still */
        CHECK_EQ_INT(round_trip(&clients[i], i, &ctx), i == 5 ? PQCOAP_ERR_AUTH : PQCOAP_OK);
    CHECK_EQ_INT(round_trip(&mine, 6, &ctx), PQCOAP_OK);
    for (size_t i = 0; i < N; i++)
        pqcoap_session_wipe(&clients[i]);
    pqcoap_session_wipe(&mine);
    pqcoap_session_wipe(&old5);
    pqcoap_session_wipe(&old7);
}

/* ids 2..CAP are taken (as an OSCORE Recipient ID may be) */
static int taken_low(void *ctx, uint64_t id)
{
    (void)ctx;
    return id >= 2 && id <= PQCOAP_PEER_INDEX_CAP(4);
}

static void test_ids_skip_index_entries(void)
{
    static uint32_t small[PQCOAP_PEER_INDEX_CAP(4)];
    const size_t cap = PQCOAP_PEER_INDEX_CAP(4);
    pqcoap_peer_table *t = &fx.responder.table;
    pqcoap_req_ctx ctx;
    fx.cfg.id_taken = taken_low;
    fx_restart_responder(&fx, FX_SLOTS);
    pqcoap_peer_table_index(t, small, cap);
    install(0, T0);
    install(1, T0);
    CHECK_EQ_INT(clients[0].sid, 1);
    /* cap + 1 is free but shares sid 1's index entry */
    CHECK_EQ_INT(clients[1].sid, cap + 2);
    CHECK_EQ_INT(round_trip(&clients[0], 0, &ctx), PQCOAP_OK);
    CHECK_EQ_INT(round_trip(&clients[1], 1, &ctx), PQCOAP_OK);
    UNDER_SID(&clients[0], cap + 1, PQCOAP_ERR_UNKNOWN_SESSION);
    fx.cfg.id_taken = NULL;
    pqcoap_session_wipe(&clients[0]);
    pqcoap_session_wipe(&clients[1]);
}

static void test_expiry_boundary(void)
{
    pqcoap_session a, a2, b;
    fx.cfg.lifetime_s = 10;
    fx_restart_responder(&fx, FX_SLOTS);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 50, T0, &a), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 50, T0 + 5000, &b), PQCOAP_OK);
    /* a sweep before the earliest expiry ends nothing; at it, exactly that session ends */
    pqcoap_responder_expire(&fx.responder, T0 + 9999, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 2);
    CHECK(fx_session_works(&fx, &a, T0 + 9999));
    pqcoap_responder_expire(&fx.responder, T0 + 10000, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(fx_server_session(&fx, a.sid) == NULL);
    CHECK(fx_session_works(&fx, &b, T0 + 10000));
    pqcoap_responder_expire(&fx.responder, T0 + 14999, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    pqcoap_responder_expire(&fx.responder, T0 + 15000, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    /* a session that ends early (replaced) leaves the sweep's time early, never late */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 51, T0 + 20000, &a), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 51, T0 + 21000, &b), PQCOAP_OK);
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 52, T0 + 22000, &a2), PQCOAP_OK);
    pqcoap_responder_expire(&fx.responder, T0 + 30000, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 2);
    pqcoap_responder_expire(&fx.responder, T0 + 31000, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(fx_session_works(&fx, &a2, T0 + 31999));
    pqcoap_responder_expire(&fx.responder, T0 + 32000, NULL);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    fx.cfg.lifetime_s = PQCOAP_LIFETIME_S_DEFAULT;
    pqcoap_session_wipe(&a);
    pqcoap_session_wipe(&a2);
    pqcoap_session_wipe(&b);
}

int main(void)
{
    fx_setup(&fx, "sessfast-table", FX_SLOTS, 0, 0, 0);
    test_live_sessions();
    test_ids_skip_index_entries();
    test_expiry_boundary();
    fx_teardown(&fx);
    return check_done();
}
