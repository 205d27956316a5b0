/* Both sides of a handshake sign from expanded Falcon keys: the responder expands each of
 * its identity keys once (one Falcon-512 and one Falcon-1024 key beside ML-DSA ones), signs
 * its RESP from them and the initiator's verifier accepts it; an initiator given its
 * expanded key sends the very INIT it sends without it; a wiped responder is all zero,
 * expanded keys included. */
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "crypto/crypto_internal.h"

#define T0 5000000

static fixture fx;
static pqcoap_expanded_key want;
static pqcoap_identity keys[4];
static pqcoap_responder r;

static const uint8_t ZERO[sizeof(pqcoap_responder)];

/* The responder of suite `suite` keeps its key expanded and signs RESPs the initiator
 * accepts; once wiped, nothing of it is left. */
static void test_responder(uint8_t suite, size_t ek_len)
{
    fx_setup_suite(&fx, "expanded keys", suite, FX_SLOTS, 0, 0, 0);
    const pqcoap_sig_alg *alg = pqcoap_suite_find(suite)->sig;
    CHECK_EQ_INT(fx.responder.ek_len[0], ek_len);
    CHECK_EQ_INT(fx.responder.ek_at[0], 0);
    CHECK_EQ_INT(pqcoap_expanded_key_make(alg->name, fx.server.sk, alg->sk_len, &want),
                 PQCOAP_OK);
    CHECK_MEM(fx.responder.ek, want.k, ek_len);
    pqcoap_session client;
    CHECK_EQ_INT(fx_handshake(&fx, &fx.client, "client", 1, T0, &client), PQCOAP_OK);
    CHECK(fx_session_works(&fx, &client, T0));
    pqcoap_session_wipe(&client);
    pqcoap_responder_wipe(&fx.responder);
    CHECK_MEM(&fx.responder, ZERO, sizeof fx.responder);
    fx_teardown(&fx);
}

/* An initiator signing from its expanded key sends the same INIT (same randomness), and the
 * handshake completes. */
static void test_initiator(void)
{
    fx_setup(&fx, "expanded initiator", FX_SLOTS, 0, 0, 0);
    static pqcoap_initiator st;
    static uint8_t init[2][PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
    size_t init_len[2], resp_len;
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(fx.client.ek.len, PQCOAP_FALCON512_EK_LEN);
    const pqcoap_test_rng start = fx.rng_state;
    for (int i = 0; i < 2; i++) {
        fx.rng_state = start;
        cfg.ek = i == 0 ? NULL : &fx.client.ek;
        CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 7, T0, &fx.rng, init[i], sizeof init[i],
                                            &init_len[i]), PQCOAP_OK);
    }
    CHECK_EQ_INT(init_len[1], init_len[0]);
    CHECK_MEM(init[1], init[0], init_len[0]);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init[1], init_len[1], T0, resp,
                                            sizeof resp, &resp_len), PQCOAP_OK);
    pqcoap_session client;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, T0, &client), PQCOAP_OK);
    CHECK(fx_session_works(&fx, &client, T0));
    pqcoap_session_wipe(&client);
    pqcoap_initiator_wipe(&st);
    fx_teardown(&fx);
}

/* Four identities, one per suite: the two Falcon keys are expanded one after the other, the
 * ML-DSA ones have none. */
static void test_several_identities(void)
{
    static pqcoap_session slots[2];
    pqcoap_store store;
    CHECK_EQ_INT(pqcoap_store_open_memory(&store), PQCOAP_OK);
    pqcoap_responder_key more[3];
    for (uint8_t s = 1; s <= 4; s++) {
        const pqcoap_sig_alg *alg = pqcoap_suite_find(s)->sig;
        CHECK_EQ_INT(pqcoap_identity_generate(alg->name, NULL, &keys[s - 1]), PQCOAP_OK);
        if (s > 1)
            more[s - 2] = (pqcoap_responder_key){s, keys[s - 1].sk, alg->sk_len,
                                                 PQCOAP_USAGE_GENERAL};
    }
    pqcoap_responder_cfg cfg = PQCOAP_RESPONDER_CFG_INIT;
    cfg.id = "server";
    cfg.sk = keys[0].sk;
    cfg.sk_len = pqcoap_identity_sk_len(&keys[0]);
    cfg.store = &store;
    cfg.more = more;
    cfg.n_more = 3;
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_OK);
    CHECK_EQ_INT(r.ek_len[0], PQCOAP_FALCON512_EK_LEN);
    CHECK_EQ_INT(r.ek_at[1], PQCOAP_FALCON512_EK_LEN);
    CHECK_EQ_INT(r.ek_len[1], PQCOAP_FALCON1024_EK_LEN);
    CHECK_EQ_INT(r.ek_len[2], 0);
    CHECK_EQ_INT(r.ek_len[3], 0);
    CHECK_MEM((const uint8_t *)r.ek + r.ek_at[1], keys[1].ek.k, PQCOAP_FALCON1024_EK_LEN);
    pqcoap_responder_wipe(&r);
    CHECK_MEM(&r, ZERO, sizeof r);
    for (int i = 0; i < 4; i++)
        pqcoap_identity_wipe(&keys[i]);
    pqcoap_store_close(&store);
}

int main(void)
{
    test_responder(0x01, PQCOAP_FALCON512_EK_LEN);
    test_responder(0x02, PQCOAP_FALCON1024_EK_LEN);
    test_initiator();
    test_several_identities();
    return check_done();
}
