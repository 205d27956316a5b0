/* The suite of a handshake (PROTOCOL.md "Algorithms", "Handshake"): every suite end to end
 * in memory, the responder's choice by its own preference among the suites offered that it
 * holds an identity for, each side signing with its own key's algorithm, and the settings
 * an initiator or responder refuses. */
#include "suites.h"

static pqcoap_initiator st;
static uint8_t init[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
static size_t init_len, resp_len;

/* A handshake of `cfg` with the responder; *out gets the client session. */
static pqcoap_err handshake(const pqcoap_initiator_cfg *cfg, uint64_t seq, pqcoap_session *out)
{
    PQCOAP_TRY(pqcoap_initiator_start(&st, cfg, seq, 0, &fx.rng, init, sizeof init, &init_len));
    pqcoap_err err = pqcoap_responder_handshake(&fx.responder, init, init_len, 0, resp,
                                                sizeof resp, &resp_len);
    if (err == PQCOAP_OK)
        err = pqcoap_initiator_finish(&st, resp, resp_len, 0, out);
    pqcoap_initiator_wipe(&st);
    return err;
}

static void test_each_suite(void)
{
    for (uint8_t s = 1; s <= 4; s++) {
        const uint8_t one[] = {s};
        responder_with(one, 1);
        pqcoap_initiator_cfg cfg = offer_of("client", &fx.client, one, 1);
        pqcoap_session c;
        CHECK_EQ_INT(handshake(&cfg, s, &c), PQCOAP_OK);
        CHECK_EQ_INT(c.suite, s);
        CHECK(fx_session_works(&fx, &c, 0));
        /* the RESP carries the suite's KEM ciphertext and signature */
        pqcoap_resp_view rv;
        CHECK_EQ_INT(pqcoap_resp_decode(resp, resp_len, &rv), PQCOAP_OK);
        CHECK(rv.suite == pqcoap_suite_find(s));
        pqcoap_session_wipe(&c);
    }
}

static void test_responder_policy(void)
{
    const uint8_t mldsa_first[] = {3, 1}, falcon_first[] = {1, 3}, falcon[] = {1};
    const uint8_t offer_1_3[] = {1, 3}, offer_3_1[] = {3, 1}, offer_2[] = {2}, offer_1[] = {1};
    pqcoap_session c;
    uint64_t seq = 100;

    /* the responder prefers ML-DSA-65: it chooses 0x03 whatever the initiator prefers */
    responder_with(mldsa_first, 2);
    pqcoap_initiator_cfg cfg = offer_of("client", &fx.client, offer_1_3, 2);
    CHECK_EQ_INT(handshake(&cfg, ++seq, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 3);
    CHECK(fx_session_works(&fx, &c, 0));
    cfg = offer_of("client", &fx.client, offer_3_1, 2);
    CHECK_EQ_INT(handshake(&cfg, ++seq, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 3);
    /* only 0x01 offered: 0x01 */
    cfg = offer_of("client", &fx.client, offer_1, 1);
    CHECK_EQ_INT(handshake(&cfg, ++seq, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 1);
    CHECK(fx_session_works(&fx, &c, 0));

    /* the responder prefers Falcon-512 */
    responder_with(falcon_first, 2);
    cfg = offer_of("client", &fx.client, offer_3_1, 2);
    CHECK_EQ_INT(handshake(&cfg, ++seq, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 1);

    /* no suite offered that the responder holds an identity for: 4.00 "unsupported" */
    responder_with(falcon, 1);
    size_t live = pqcoap_responder_live(&fx.responder);
    cfg = offer_of("client", &fx.client, offer_2, 1);
    CHECK_EQ_INT(handshake(&cfg, ++seq, &c), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), live);
    pqcoap_coap_error e;
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_ERR_UNSUPPORTED, PQCOAP_WHERE_HANDSHAKE, &e),
                 PQCOAP_OK);
    CHECK(e.code == PQCOAP_CODE(4, 0) && strcmp(e.diagnostic, "unsupported") == 0);
    pqcoap_session_wipe(&c);
}

static void test_own_algorithm(void)
{
    const uint8_t falcon[] = {1}, mldsa87[] = {4};
    pqcoap_session c;
    /* an ML-DSA-65 device and a Falcon-512 server: each side signs with its own key */
    responder_with(falcon, 1);
    pqcoap_initiator_cfg cfg = offer_of("mldsa", &dev_mldsa, falcon, 1);
    CHECK_EQ_INT(handshake(&cfg, 1, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 1);
    CHECK(fx_session_works(&fx, &c, 0));
    pqcoap_init_view iv;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &iv), PQCOAP_OK);
    CHECK_EQ_INT(iv.sig.sig_len, pqcoap_sig_mldsa65.sig_max);
    /* and with an ML-DSA-87 server */
    responder_with(mldsa87, 1);
    cfg = offer_of("mldsa", &dev_mldsa, mldsa87, 1);
    CHECK_EQ_INT(handshake(&cfg, 2, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 4);
    CHECK(fx_session_works(&fx, &c, 0));

    /* a device pinned with its Falcon-512 key that signs with an ML-DSA-65 key under that
     * id: the responder verifies with the pinned key's algorithm, and refuses */
    responder_with(falcon, 1);
    cfg = offer_of("client", &dev_mldsa, falcon, 1);
    CHECK_EQ_INT(handshake(&cfg, 3, &c), PQCOAP_ERR_AUTH);
    pqcoap_session_wipe(&c);
}

static void test_initiator_settings(void)
{
    uint8_t out[PQCOAP_INIT_MAX];
    size_t len;
    const uint8_t kems_differ[] = {1, 2}, twice[] = {1, 1}, ok[] = {1, 3};
#define START(cfg) pqcoap_initiator_start(&st, &(cfg), 1, 0, &fx.rng, out, sizeof out, &len)
    pqcoap_initiator_cfg cfg = offer_of("client", &fx.client, ok, 2);
    CHECK_EQ_INT(START(cfg), PQCOAP_OK);
    cfg = offer_of("client", &fx.client, kems_differ, 2);
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_ARG); /* one INIT carries one KEM key */
    cfg = offer_of("client", &fx.client, twice, 2);
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_ARG);
    /* a pinned server key of another algorithm than the suite's */
    cfg = offer_of("client", &fx.client, ok, 1);
    cfg.responder_pk = srv_key[3].pub.pk;
    cfg.responder_pk_len = srv_key[3].pub.pk_len;
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_ARG);
    /* suite 0: the suite of the pinned key's algorithm */
    cfg.suite = 0;
    CHECK_EQ_INT(START(cfg), PQCOAP_OK);
    pqcoap_init_view iv;
    CHECK_EQ_INT(pqcoap_init_decode(out, len, &iv), PQCOAP_OK);
    CHECK(iv.n_offer == 1 && iv.offer[0] == 3);
    /* own key of another length than its algorithm's, unknown algorithm or suite */
    cfg = offer_of("client", &fx.client, ok, 1);
    cfg.alg = "ml-dsa-65";
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_ARG);
    cfg.alg = "rsa";
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_UNSUPPORTED);
    cfg.alg = NULL;
    cfg.suite = 0x7f;
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_UNSUPPORTED);
    /* a further suite's pinned key of usage sign-v1 */
    cfg = offer_of("client", &fx.client, ok, 2);
    pqcoap_suite_offer v1 = cfg.more[0];
    v1.responder_usage = PQCOAP_USAGE_SIGN_V1;
    cfg.more = &v1;
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_KEY_USAGE);
    cfg.n_more = PQCOAP_OFFER_MAX;
    CHECK_EQ_INT(START(cfg), PQCOAP_ERR_ARG);
#undef START
    pqcoap_initiator_wipe(&st);
}

static void test_responder_settings(void)
{
    pqcoap_responder r;
    pqcoap_session slots[2];
    pqcoap_responder_cfg cfg = fx.cfg;
    pqcoap_responder_key more[PQCOAP_RESPONDER_KEYS_MAX];
    cfg.suite = 1;
    cfg.sk = srv_key[1].sk;
    cfg.sk_len = srv_key[1].pub.alg->sk_len;
    cfg.more = more;
    cfg.n_more = 3;
    for (uint8_t s = 2; s <= 4; s++)
        more[s - 2] = (pqcoap_responder_key){s, srv_key[s].sk, srv_key[s].pub.alg->sk_len,
                                             PQCOAP_USAGE_GENERAL};
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_OK);
    CHECK_EQ_INT(r.n_keys, 4);
    more[3] = more[2];
    cfg.n_more = 4;                                 /* five identities */
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_ERR_ARG);
    cfg.n_more = 1;
    more[0].suite = 1;                              /* two identities of one suite */
    more[0].sk = srv_key[1].sk;
    more[0].sk_len = srv_key[1].pub.alg->sk_len;
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_ERR_ARG);
    more[0] = (pqcoap_responder_key){3, srv_key[2].sk, srv_key[2].pub.alg->sk_len,
                                     PQCOAP_USAGE_GENERAL}; /* a key not of its suite */
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_ERR_ARG);
    more[0] = (pqcoap_responder_key){3, srv_key[3].sk, srv_key[3].pub.alg->sk_len,
                                     PQCOAP_USAGE_SIGN_V1};
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_ERR_KEY_USAGE);
    more[0].usage = PQCOAP_USAGE_GENERAL;
    more[0].suite = 0x7f;
    CHECK_EQ_INT(pqcoap_responder_init(&r, &cfg, slots, 2), PQCOAP_ERR_UNSUPPORTED);
    pqcoap_responder_wipe(&r);
}

int main(void)
{
    suites_setup("pqcoap suites choice");
    test_each_suite();
    test_responder_policy();
    test_own_algorithm();
    test_initiator_settings();
    test_responder_settings();
    suites_teardown();
    return check_done();
}
