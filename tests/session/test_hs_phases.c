/* Mode B responder handshake in phases (verify, reserve, respond, commit): the same RESP
 * rules as the one-call handshake, sids held by pending handshakes, protected traffic
 * between the phases, races on one initiator's floor, abort and the limits. */
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "common/buf_internal.h"

static fixture fx;

#define NOW 2000000

/* One initiator's handshake in progress on both sides. */
typedef struct hs {
    pqcoap_initiator st;
    uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len;
    pqcoap_hs_pending p;
} hs;

static hs a, b, c;

static pqcoap_err start(hs *h, const pqcoap_identity *who, const char *id, uint64_t seq)
{
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, who, id);
    return pqcoap_initiator_start(&h->st, &cfg, seq, NOW, &fx.rng, h->init, sizeof h->init,
                                  &h->init_len);
}

/* Phases 1 and 2. */
static pqcoap_err verify_reserve(hs *h)
{
    PQCOAP_TRY(pqcoap_responder_hs_verify(&fx.responder, h->init, h->init_len, &h->p));
    return pqcoap_responder_hs_reserve(&fx.responder, NOW, &h->p);
}

/* Phases 3 and 4, then the initiator's finish into *s; the RESP goes to resp. */
static pqcoap_err respond_commit(hs *h, uint8_t *resp, size_t *resp_len, pqcoap_session *s)
{
    pqcoap_err err = pqcoap_responder_hs_respond(&fx.responder, h->init, h->init_len, &h->p);
    if (err != PQCOAP_OK) {
        pqcoap_responder_hs_abort(&fx.responder, &h->p);
        return err;
    }
    PQCOAP_TRY(pqcoap_responder_hs_commit(&fx.responder, NOW, &h->p, resp, PQCOAP_RESP_MAX,
                                          resp_len));
    return s ? pqcoap_initiator_finish(&h->st, resp, *resp_len, NOW, s) : PQCOAP_OK;
}

static uint64_t floor_of(const char *id)
{
    pqcoap_floor floor;
    return pqcoap_store_floor_get(&fx.mem, id, &floor) == PQCOAP_OK ? floor.session_seq : 0;
}

/* A GET protected by the client session s is accepted by the responder. */
static int works(pqcoap_session *s)
{
    return fx_session_works(&fx, s, NOW);
}

static uint8_t resp1[PQCOAP_RESP_MAX], resp2[PQCOAP_RESP_MAX];
static pqcoap_session s1, s2, s3;

/* The phases give a working session; the sid is held from reserve to commit, so another
 * handshake in progress gets another sid, and sessions keep working between the phases. */
static void test_phases_and_sids(void)
{
    size_t len1, len2;
    fx_restart_responder(&fx, 3);
    CHECK_EQ_INT(start(&a, &fx.client, "client", 10), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(a.p.sid, 1);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0); /* nothing installed yet */
    CHECK_EQ_INT(floor_of("client"), 0);                    /* nor the floor raised */

    /* meanwhile "other" completes a whole handshake: it must not get sid 1 */
    CHECK_EQ_INT(fx_handshake(&fx, &fx.other, "other", 1, NOW, &s2), PQCOAP_OK);
    CHECK_EQ_INT(s2.sid, 2);
    CHECK(works(&s2));

    CHECK_EQ_INT(pqcoap_responder_hs_respond(&fx.responder, a.init, a.init_len, &a.p), PQCOAP_OK);
    CHECK_EQ_INT(floor_of("client"), 10); /* durable before the RESP is released */
    CHECK(works(&s2));                    /* protected traffic between respond and commit */
    CHECK_EQ_INT(pqcoap_responder_hs_commit(&fx.responder, NOW, &a.p, resp1, sizeof resp1,
                                            &len1), PQCOAP_OK);
    CHECK_EQ_INT(a.p.stage, 0); /* wiped */
    CHECK_EQ_INT(pqcoap_initiator_finish(&a.st, resp1, len1, NOW, &s1), PQCOAP_OK);
    CHECK_EQ_INT(s1.sid, 1);
    CHECK(works(&s1));
    CHECK(works(&s2));

    /* the identical INIT again, through the phases: the same RESP, no new session */
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK(a.p.resend);
    CHECK_EQ_INT(respond_commit(&a, resp2, &len2, NULL), PQCOAP_OK);
    CHECK_EQ_INT(len2, len1);
    CHECK_MEM(resp2, resp1, len1);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 2);
    CHECK(works(&s1));
}

/* An aborted handshake frees its sid and leaves no session and no floor behind. */
static void test_abort(void)
{
    size_t len;
    fx_restart_responder(&fx, 3);
    CHECK_EQ_INT(start(&a, &fx.client, "client", 20), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(a.p.sid, 1);
    pqcoap_responder_hs_abort(&fx.responder, &a.p);
    CHECK_EQ_INT(floor_of("client"), 10);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    CHECK_EQ_INT(start(&b, &fx.client, "client", 21), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&b), PQCOAP_OK);
    CHECK_EQ_INT(b.p.sid, 1); /* reused */
    CHECK_EQ_INT(respond_commit(&b, resp1, &len, &s1), PQCOAP_OK);
    CHECK(works(&s1));

    /* a failing floor write in phase 3: abort, no session, floor unchanged */
    CHECK_EQ_INT(start(&c, &fx.client, "client", 22), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&c), PQCOAP_OK);
    fx.fail_floor_set = 1;
    CHECK_EQ_INT(respond_commit(&c, resp1, &len, NULL), PQCOAP_ERR_STORE);
    fx.fail_floor_set = 0;
    CHECK_EQ_INT(floor_of("client"), 21);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(works(&s1)); /* the old session is untouched */
}

/* Two handshakes of one initiator in flight at once: the one whose floor write comes second
 * is refused as a rollback; there is only ever one session per session_seq. */
static void test_floor_races(void)
{
    size_t len;
    fx_restart_responder(&fx, 3);
    /* seq 31 and 30 verified against the same floor; 31 commits first */
    CHECK_EQ_INT(start(&a, &fx.client, "client", 30), PQCOAP_OK);
    CHECK_EQ_INT(start(&b, &fx.client, "client", 31), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&b), PQCOAP_OK);
    CHECK(a.p.sid != b.p.sid);
    CHECK_EQ_INT(respond_commit(&b, resp1, &len, &s2), PQCOAP_OK);
    CHECK_EQ_INT(respond_commit(&a, resp2, &len, NULL), PQCOAP_ERR_ROLLBACK);
    CHECK_EQ_INT(floor_of("client"), 31);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(works(&s2));

    /* the identical INIT twice in flight: the second is refused, not a second session */
    CHECK_EQ_INT(start(&a, &fx.client, "client", 32), PQCOAP_OK);
    memcpy(b.init, a.init, a.init_len);
    b.init_len = a.init_len;
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&b), PQCOAP_OK);
    CHECK(!a.p.resend && !b.p.resend);
    CHECK_EQ_INT(respond_commit(&a, resp1, &len, &s1), PQCOAP_OK);
    CHECK_EQ_INT(respond_commit(&b, resp2, &len, NULL), PQCOAP_ERR_ROLLBACK);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(works(&s1));

    /* phase 3 with another INIT than phase 1 verified */
    CHECK_EQ_INT(start(&a, &fx.client, "client", 40), PQCOAP_OK);
    CHECK_EQ_INT(start(&b, &fx.client, "client", 41), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_hs_respond(&fx.responder, b.init, b.init_len, &a.p),
                 PQCOAP_ERR_MALFORMED);
    pqcoap_responder_hs_abort(&fx.responder, &a.p);
    CHECK_EQ_INT(floor_of("client"), 32);
}

/* Phases out of order, the pending limit, and a table that fills up between reserve and
 * commit. */
static void test_states_and_limits(void)
{
    size_t len;
    fx_restart_responder(&fx, 1);
    CHECK_EQ_INT(start(&a, &fx.client, "client", 50), PQCOAP_OK);
    memset(&a.p, 0, sizeof a.p);
    CHECK_EQ_INT(pqcoap_responder_hs_reserve(&fx.responder, NOW, &a.p), PQCOAP_ERR_STATE);
    CHECK_EQ_INT(pqcoap_responder_hs_respond(&fx.responder, a.init, a.init_len, &a.p),
                 PQCOAP_ERR_STATE);
    CHECK_EQ_INT(pqcoap_responder_hs_verify(&fx.responder, a.init, a.init_len, &a.p), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_hs_respond(&fx.responder, a.init, a.init_len, &a.p),
                 PQCOAP_ERR_STATE);
    CHECK_EQ_INT(pqcoap_responder_hs_commit(&fx.responder, NOW, &a.p, resp1, sizeof resp1, &len),
                 PQCOAP_ERR_STATE);

    /* one free slot, two initiators reserve; the second commit finds the table full */
    CHECK_EQ_INT(start(&a, &fx.client, "client", 51), PQCOAP_OK);
    CHECK_EQ_INT(start(&b, &fx.other, "other", 51), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&b), PQCOAP_OK);
    CHECK_EQ_INT(respond_commit(&a, resp1, &len, &s1), PQCOAP_OK);
    CHECK_EQ_INT(respond_commit(&b, resp2, &len, NULL), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 1);
    CHECK(works(&s1));
    /* now the table is full: "other" is refused at reserve, before any crypto */
    CHECK_EQ_INT(start(&b, &fx.other, "other", 52), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&b), PQCOAP_ERR_LIMIT);
    CHECK_EQ_INT(b.p.stage, 0);

    /* at most PQCOAP_HS_PENDING_MAX handshakes hold a sid at once */
    static hs many[PQCOAP_HS_PENDING_MAX];
    fx_restart_responder(&fx, 2);
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX; i++) {
        CHECK_EQ_INT(start(&many[i], &fx.client, "client", 100 + i), PQCOAP_OK);
        CHECK_EQ_INT(verify_reserve(&many[i]), PQCOAP_OK);
        for (size_t j = 0; j < i; j++)
            CHECK(many[i].p.sid != many[j].p.sid);
    }
    CHECK_EQ_INT(start(&a, &fx.client, "client", 200), PQCOAP_OK);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_ERR_LIMIT);
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX; i++)
        pqcoap_responder_hs_abort(&fx.responder, &many[i].p);
    CHECK_EQ_INT(verify_reserve(&a), PQCOAP_OK);
    CHECK_EQ_INT(respond_commit(&a, resp1, &len, &s3), PQCOAP_OK);
    CHECK_EQ_INT(s3.sid, 1);
    CHECK(works(&s3));
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX; i++)
        pqcoap_initiator_wipe(&many[i].st);
}

int main(void)
{
    fx_setup(&fx, "pqcoap handshake phases", FX_SLOTS, 0, 0, 0);
    test_phases_and_sids();
    test_abort();
    test_floor_races();
    test_states_and_limits();
    pqcoap_initiator_wipe(&a.st);
    pqcoap_initiator_wipe(&b.st);
    pqcoap_initiator_wipe(&c.st);
    fx_teardown(&fx);
    return check_done();
}
