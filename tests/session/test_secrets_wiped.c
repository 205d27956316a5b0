/* Mode B secrets are wiped when they are used up or replaced (PROTOCOL.md "Key schedule",
 * DESIGN.md): a skipped message key once its message is accepted, a session whose lifetime
 * is over, a handshake's pending state after commit and abort, the initiator's ephemeral
 * state after finish. Checked on the state objects themselves, byte for byte. */
#include <string.h>

#include "check.h"
#include "fixture.h"

#define T0 4000000

static fixture fx;
static const uint8_t ZERO[sizeof(pqcoap_session) + sizeof(pqcoap_hs_pending)
                          + sizeof(pqcoap_initiator)];

static int is_zero(const void *p, size_t n)
{
    return memcmp(p, ZERO, n) == 0;
}

/* Requests 0..2 delivered as 2, 0, 1: keys 0 and 1 are held as skipped keys, then handed out
 * one by one; each slot is all zero once its key is used. */
static void test_skipped_keys(void)
{
    pqcoap_session client;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, T0, &client), PQCOAP_OK);
    pqcoap_session *s = fx_server_session(&fx, client.sid);
    CHECK(s != NULL);
    if (!s)
        return;
    uint8_t prot[3][64], plain[16];
    size_t len[3], plain_len;
    uint64_t n;
    pqcoap_req_ctx ctx;
    pqcoap_msg req = fx_request(PQCOAP_GET, NULL, 0, (const uint8_t *)"x", 1);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(pqcoap_session_protect_request(&client, &req, T0, prot[i], sizeof prot[i],
                                                    &len[i], &n), PQCOAP_OK);
    static const int order[3] = {2, 0, 1};
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        pqcoap_msg m = req;
        m.payload = prot[i];
        m.payload_len = len[i];
        CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &m, T0, plain, sizeof plain,
                                                &plain_len, &ctx), PQCOAP_OK);
        if (i == 2) { /* keys 0 and 1 held */
            CHECK(!is_zero(s->recv.mk[0], 32));
            CHECK(!is_zero(s->recv.mk[1], 32));
        } else {
            CHECK(is_zero(s->recv.mk[i], 32));
        }
    }
    CHECK(is_zero(s->recv.held, sizeof s->recv.held));
    CHECK(is_zero(s->recv.mk, sizeof s->recv.mk));
    pqcoap_session_wipe(&client);
    CHECK(is_zero(&client, sizeof client));
}

/* A session whose lifetime is over is all zero in the table, keys included. */
static void test_ended_session(void)
{
    fx.cfg.lifetime_s = 10;
    fx_restart_responder(&fx, FX_SLOTS);
    pqcoap_session client;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 2, T0, &client), PQCOAP_OK);
    pqcoap_session *s = fx_server_session(&fx, client.sid);
    CHECK(s != NULL && !is_zero(s->send.ck, 32));
    pqcoap_responder_expire(&fx.responder, T0 + 10000, NULL);
    for (size_t i = 0; i < FX_SLOTS; i++)
        CHECK(is_zero(&fx.slots[i], sizeof fx.slots[i]));
    pqcoap_session_wipe(&client);
    fx.cfg.lifetime_s = PQCOAP_LIFETIME_S_DEFAULT;
    fx_restart_responder(&fx, FX_SLOTS);
}

/* The pending state holds the chain keys and the RESP between the phases: commit and abort
 * leave it all zero; a finished initiator is all zero too. */
static void test_handshake_state(void)
{
    static pqcoap_initiator st;
    static pqcoap_hs_pending p;
    static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len, resp_len;
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    for (int abort = 0; abort <= 1; abort++) {
        CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 3 + (uint64_t)abort, T0, &fx.rng, init,
                                            sizeof init, &init_len), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_responder_hs_verify(&fx.responder, init, init_len, &p), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_responder_hs_reserve(&fx.responder, T0, &p), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_responder_hs_respond(&fx.responder, init, init_len, &p), PQCOAP_OK);
        CHECK(!is_zero(p.ck_c2s, 32));
        if (abort) {
            pqcoap_responder_hs_abort(&fx.responder, &p);
        } else {
            CHECK_EQ_INT(pqcoap_responder_hs_commit(&fx.responder, T0, &p, resp, sizeof resp,
                                                    &resp_len), PQCOAP_OK);
            pqcoap_session client;
            CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, T0, &client), PQCOAP_OK);
            CHECK(is_zero(&st, sizeof st));
            pqcoap_session_wipe(&client);
        }
        CHECK(is_zero(&p, sizeof p));
        pqcoap_initiator_wipe(&st);
    }
}

int main(void)
{
    fx_setup(&fx, "pqcoap secrets wiped tests", FX_SLOTS, 0, 0, 0);
    test_skipped_keys();
    test_ended_session();
    test_handshake_state();
    fx_teardown(&fx);
    return check_done();
}
