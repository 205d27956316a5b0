/* Downgrades of the suite are refused (PROTOCOL.md "Handshake"): sig_i covers the suites
 * offered, sig_r covers SHA-256(INIT) and the suite chosen, and the initiator takes only a
 * suite it offered. An attacker on the path who strikes the preferred suite out of an INIT
 * (re-encoding it, the signature kept) makes the responder refuse it; a RESP naming a suite
 * not offered is refused even when signed by the responder's key of that suite. */
#include "suites.h"

static pqcoap_initiator st;
static uint8_t init[PQCOAP_INIT_MAX], forged[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
static size_t init_len, forged_len, resp_len;

/* Re-encodes the decoded INIT `v` (its signature kept) with the offer offer[0..n). */
static size_t reencode(const pqcoap_init_view *v, const uint8_t *offer, size_t n)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, forged, sizeof forged);
    pqcoap_wr_u8(&w, 2);
    pqcoap_wr_str8(&w, offer, n);
    pqcoap_wr_str8(&w, v->initiator_id, v->initiator_id_len);
    pqcoap_wr_str8(&w, v->responder_id, v->responder_id_len);
    pqcoap_wr_u64(&w, v->session_seq);
    pqcoap_wr_u64(&w, v->timestamp_ms);
    pqcoap_wr_bytes(&w, v->nonce_i, 16);
    pqcoap_wr_str16(&w, v->kem_pk, v->suite->kem->pk_len);
    pqcoap_wr_bytes(&w, v->x25519_pk, 32);
    pqcoap_wr_u8(&w, v->protection);
    pqcoap_wr_str8(&w, v->params, v->params_len);
    pqcoap_wr_str16(&w, v->sig.sig, v->sig.sig_len);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    return w.len;
}

static void test_preferred_suite_struck_out(void)
{
    /* the responder holds ML-DSA-65 (preferred) and Falcon-512, two suites of one KEM */
    const uint8_t both[] = {3, 1}, weaker[] = {1};
    responder_with(both, 2);
    pqcoap_initiator_cfg cfg = offer_of("client", &fx.client, both, 2);
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 1, 0, &fx.rng, init, sizeof init, &init_len),
                 PQCOAP_OK);
    pqcoap_init_view v;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &v), PQCOAP_OK);
    /* the same INIT offering Falcon-512 only: well formed, but sig_i no longer verifies */
    const pqcoap_suite *kem_of_weaker = pqcoap_suite_find(1);
    CHECK(kem_of_weaker->kem == v.suite->kem);
    forged_len = reencode(&v, weaker, 1);
    pqcoap_init_view fv;
    CHECK_EQ_INT(pqcoap_init_decode(forged, forged_len, &fv), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, forged, forged_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    pqcoap_coap_error e;
    CHECK_EQ_INT(pqcoap_error_to_coap(PQCOAP_ERR_AUTH, PQCOAP_WHERE_HANDSHAKE, &e), PQCOAP_OK);
    CHECK(e.code == PQCOAP_CODE(4, 1) && strcmp(e.diagnostic, "handshake rejected") == 0);
    /* reordered (the responder's policy decides anyway): refused as well */
    const uint8_t reordered[] = {1, 3};
    forged_len = reencode(&v, reordered, 2);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, forged, forged_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_AUTH);
    /* the genuine INIT: ML-DSA-65, as the responder prefers */
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, init_len, 0, resp, sizeof resp,
                                            &resp_len), PQCOAP_OK);
    pqcoap_session c;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 3);
    CHECK(fx_session_works(&fx, &c, 0));
    pqcoap_session_wipe(&c);
}

/* A RESP to the INIT in init[] choosing `suite`, signed with the server's key of that suite,
 * with the protection byte `protection`. */
static size_t resp_choosing(uint8_t suite, uint8_t protection)
{
    pqcoap_init_view v;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &v), PQCOAP_OK);
    const pqcoap_suite *s = pqcoap_suite_find(suite);
    uint8_t ct[PQCOAP_KEM_CT_MAX], ss[32], x_pk[32], x_sk[32], h[32];
    CHECK_EQ_INT(s->kem->encaps(&fx.rng, v.kem_pk, ct, ss), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_keygen(&fx.rng, x_pk, x_sk), PQCOAP_OK);
    const pqcoap_span in = {init, init_len};
    CHECK_EQ_INT(pqcoap_sha256(&in, 1, h), PQCOAP_OK);
    const pqcoap_resp_view rv = {.suite = s, .sid = 1, .lifetime_s = 60, .max_msgs = 100,
                                 .kem_ct = ct, .x25519_pk = x_pk, .protection = protection};
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_hs_encode(PQCOAP_HS_RESP, &rv, s->sig, srv_key[suite].sk, NULL, 0, h,
                                  &fx.rng, resp, sizeof resp, &len), PQCOAP_OK);
    return len;
}

static void test_resp_not_offered(void)
{
    const uint8_t falcon[] = {1}, both[] = {1, 3};
    pqcoap_session c;
    memset(&c, 0, sizeof c);
    /* INIT offers 0x01 only; a RESP choosing 0x03 (ML-KEM-768 as well), validly signed by
     * the server's ML-DSA-65 key, is refused */
    pqcoap_initiator_cfg cfg = offer_of("client", &fx.client, falcon, 1);
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 2, 0, &fx.rng, init, sizeof init, &init_len),
                 PQCOAP_OK);
    resp_len = resp_choosing(3, 0);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_ERR_HANDSHAKE);
    CHECK(!c.live);
    /* the same RESP choosing 0x01 completes: the check above is the suite, nothing else */
    resp_len = resp_choosing(1, 0);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 1);
    pqcoap_session_wipe(&c);

    /* both offered: a RESP asking for another protection than INIT's is refused */
    cfg = offer_of("client", &fx.client, both, 2);
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, 3, 0, &fx.rng, init, sizeof init, &init_len),
                 PQCOAP_OK);
    resp_len = resp_choosing(3, 1);
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_ERR_HANDSHAKE);
    /* a RESP of the offered suite 0x03 whose signature is changed does not verify against
     * the pinned ML-DSA-65 key; the genuine one does */
    resp_len = resp_choosing(3, 0);
    resp[resp_len - 1] ^= 1;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_ERR_AUTH);
    resp[resp_len - 1] ^= 1;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, 0, &c), PQCOAP_OK);
    CHECK_EQ_INT(c.suite, 3);
    pqcoap_session_wipe(&c);
    pqcoap_initiator_wipe(&st);
}

int main(void)
{
    suites_setup("pqcoap suites downgrade");
    test_preferred_suite_struck_out();
    test_resp_not_offered();
    suites_teardown();
    return check_done();
}
