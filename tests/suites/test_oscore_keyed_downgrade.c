/* OSCORE keyed by the handshake in memory (PROTOCOL.md "OSCORE keyed by the handshake"):
 * both sides derive mirror contexts that protect and verify each other's messages; nothing
 * about the context can be changed on the path or by a RESP: a re-encoded INIT asking for
 * another AEAD or for a Mode B session instead fails sig_i, a RESP naming another AEAD,
 * another protection or the initiator's own Recipient ID is refused; a responder keys only
 * the protections it provides; an OSCORE entry is never a Mode B session. */
#include "suites.h"
#include "pqcoap/layer.h"

static pqcoap_initiator st;
static uint8_t init[PQCOAP_INIT_MAX], forged[PQCOAP_INIT_MAX], resp[PQCOAP_RESP_MAX];
static size_t init_len, forged_len, resp_len;
static uint64_t seq = 1;

static void responder_for(unsigned protections)
{
    fx.cfg.protections = protections;
    fx.cfg.suite = 0x01;
    fx.cfg.sk = fx.server.sk;
    fx.cfg.sk_len = pqcoap_identity_sk_len(&fx.server);
    fx.cfg.more = NULL;
    fx.cfg.n_more = 0;
    fx_restart_responder(&fx, FX_SLOTS);
}

/* Starts an INIT of "client" asking for OSCORE with `aead` and Recipient ID rid[0..n). */
static void start_oscore(int aead, const uint8_t *rid, size_t n)
{
    const pqcoap_oscore_request req = {aead, rid, n};
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    cfg.oscore = &req;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, seq++, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
}

/* Re-encodes the INIT in init[] (signature kept) with `protection` and params[0..n). */
static void reencode(uint8_t protection, const uint8_t *params, size_t n)
{
    pqcoap_init_view v;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &v), PQCOAP_OK);
    pqcoap_writer w;
    pqcoap_wr_init(&w, forged, sizeof forged);
    pqcoap_wr_u8(&w, 2);
    pqcoap_wr_str8(&w, v.offer, v.n_offer);
    pqcoap_wr_str8(&w, v.initiator_id, v.initiator_id_len);
    pqcoap_wr_str8(&w, v.responder_id, v.responder_id_len);
    pqcoap_wr_u64(&w, v.session_seq);
    pqcoap_wr_u64(&w, v.timestamp_ms);
    pqcoap_wr_bytes(&w, v.nonce_i, 16);
    pqcoap_wr_str16(&w, v.kem_pk, v.suite->kem->pk_len);
    pqcoap_wr_bytes(&w, v.x25519_pk, 32);
    pqcoap_wr_u8(&w, protection);
    pqcoap_wr_str8(&w, params, n);
    pqcoap_wr_str16(&w, v.sig.sig, v.sig.sig_len);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    forged_len = w.len;
}

/* A RESP to init[] of suite 1 signed with the server's key, with `protection` and
 * params i8 aead || i8 hkdf || str8(c_r). */
static void signed_resp(uint8_t protection, int aead, const uint8_t *c_r, size_t c_r_len)
{
    pqcoap_init_view v;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &v), PQCOAP_OK);
    const pqcoap_suite *s = pqcoap_suite_find(1);
    uint8_t ct[PQCOAP_KEM_CT_MAX], ss[32], x_pk[32], x_sk[32], h[32], params[16];
    CHECK_EQ_INT(s->kem->encaps(&fx.rng, v.kem_pk, ct, ss), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_x25519_keygen(&fx.rng, x_pk, x_sk), PQCOAP_OK);
    const pqcoap_span in = {init, init_len};
    CHECK_EQ_INT(pqcoap_sha256(&in, 1, h), PQCOAP_OK);
    pqcoap_writer w;
    pqcoap_wr_init(&w, params, sizeof params);
    pqcoap_wr_u8(&w, (uint8_t)(int8_t)aead);
    pqcoap_wr_u8(&w, (uint8_t)(int8_t)PQCOAP_COSE_HKDF_SHA256);
    pqcoap_wr_str8(&w, c_r, c_r_len);
    const pqcoap_resp_view rv = {.suite = s, .sid = 1, .lifetime_s = 60, .max_msgs = 100,
                                 .kem_ct = ct, .x25519_pk = x_pk, .protection = protection,
                                 .params = params, .params_len = protection ? w.len : 0};
    CHECK_EQ_INT(pqcoap_hs_encode(PQCOAP_HS_RESP, &rv, s->sig, fx.server.sk, NULL, 0, h,
                                  &fx.rng, resp, sizeof resp, &resp_len), PQCOAP_OK);
}

static void test_mirror_contexts(void)
{
    responder_for(PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE));
    start_oscore(PQCOAP_COSE_A256GCM, NULL, 0);
    pqcoap_hs_result res;
    CHECK_EQ_INT(pqcoap_responder_handshake_ex(&fx.responder, init, init_len, 0, resp,
                                               sizeof resp, &resp_len, &res), PQCOAP_OK);
    pqcoap_hs_oscore mine;
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &mine), PQCOAP_OK);
    CHECK_EQ_INT(res.protection, PQCOAP_PROTECTION_OSCORE);
    CHECK_EQ_INT(mine.aead_alg, PQCOAP_COSE_A256GCM);
    CHECK_EQ_INT(res.oscore.aead_alg, PQCOAP_COSE_A256GCM);
    CHECK(memcmp(mine.master_secret, res.oscore.master_secret, 32) == 0);
    CHECK(memcmp(mine.master_salt, res.oscore.master_salt, 8) == 0);
    /* C_I empty, C_R = the table id's bytes */
    CHECK(mine.recipient_id_len == 0 && res.oscore.sender_id_len == 0);
    CHECK(mine.sender_id_len == 1 && mine.sender_id[0] == res.id);
    CHECK(res.oscore.recipient_id_len == 1 && res.oscore.recipient_id[0] == res.id);

    /* the contexts protect and verify each other's request */
    pqcoap_oscore_params pc, ps;
    pqcoap_oscore_ctx client, server;
    pqcoap_hs_oscore_params(&mine, &pc);
    pqcoap_hs_oscore_params(&res.oscore, &ps);
    CHECK_EQ_INT(pqcoap_oscore_derive(&pc, &client), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_oscore_derive(&ps, &server), PQCOAP_OK);
    pqcoap_opt o1[8], o2[8];
    uint8_t b1[256], b2[256];
    const pqcoap_oscore_out r1 = {o1, 8, b1, sizeof b1}, r2 = {o2, 8, b2, sizeof b2};
    pqcoap_msg req = fx_request(PQCOAP_GET, (const uint8_t *)"t", 1, (const uint8_t *)"hi", 2);
    pqcoap_msg wire, plain;
    pqcoap_oscore_binding bc, bs;
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&client, 1, 0, &req, &r1, &wire, &bc), PQCOAP_OK);
    pqcoap_oscore_option opt;
    const pqcoap_opt *oo = pqcoap_msg_find_opt(&wire, PQCOAP_OPT_OSCORE);
    CHECK(oo != NULL);
    if (oo) {
        CHECK_EQ_INT(pqcoap_oscore_option_parse(oo->value, oo->len, &opt), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_oscore_unprotect_request(&server, &wire, &opt, &r2, &plain, &bs),
                     PQCOAP_OK);
        CHECK(plain.payload_len == 2 && memcmp(plain.payload, "hi", 2) == 0);
    }
    /* the entry of an OSCORE context is no Mode B session */
    uint8_t prot[64];
    const uint8_t fake[] = {0x10, (uint8_t)res.id, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                            13, 14, 15, 16};
    pqcoap_msg m = fx_request(PQCOAP_GET, NULL, 0, fake, sizeof fake);
    size_t len;
    pqcoap_req_ctx ctx;
    CHECK_EQ_INT(pqcoap_responder_unprotect(&fx.responder, &m, 0, prot, sizeof prot, &len, &ctx),
                 PQCOAP_ERR_UNKNOWN_SESSION);
    pqcoap_oscore_wipe(&client);
    pqcoap_oscore_wipe(&server);
    pqcoap_wipe(&res, sizeof res);
    pqcoap_wipe(&mine, sizeof mine);
}

static void test_init_downgrades(void)
{
    responder_for(PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE) |
                  PQCOAP_PROTECT(PQCOAP_PROTECTION_SESSION));
    start_oscore(PQCOAP_COSE_A256GCM, NULL, 0);
    /* the AEAD changed to AES-CCM-16-64-128 on the path: sig_i fails */
    const uint8_t ccm[] = {10, (uint8_t)(int8_t)PQCOAP_COSE_HKDF_SHA256, 0};
    reencode(PQCOAP_PROTECTION_OSCORE, ccm, sizeof ccm);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, forged, forged_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_AUTH);
    /* the request for OSCORE turned into a Mode B session: sig_i fails */
    reencode(PQCOAP_PROTECTION_SESSION, NULL, 0);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, forged, forged_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_AUTH);
    CHECK_EQ_INT(pqcoap_responder_live(&fx.responder), 0);
    /* the genuine INIT */
    pqcoap_hs_result res;
    CHECK_EQ_INT(pqcoap_responder_handshake_ex(&fx.responder, init, init_len, 0, resp,
                                               sizeof resp, &resp_len, &res), PQCOAP_OK);
    CHECK_EQ_INT(res.oscore.aead_alg, PQCOAP_COSE_A256GCM);
    pqcoap_wipe(&res, sizeof res);

    /* a responder keys only what it provides */
    responder_for(PQCOAP_PROTECT(PQCOAP_PROTECTION_SESSION));
    start_oscore(PQCOAP_COSE_A256GCM, NULL, 0);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, init_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_UNSUPPORTED);
    responder_for(PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE));
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, seq++, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init, init_len, 0, resp,
                                            sizeof resp, &resp_len), PQCOAP_ERR_UNSUPPORTED);
    /* finishing the other kind of handshake is a caller error */
    pqcoap_hs_oscore k;
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_ERR_ARG);
    /* an AEAD the library lacks, a Recipient ID too long for the AEAD */
    const uint8_t long_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const pqcoap_oscore_request bad_aead = {99, NULL, 0}, too_long = {10, long_id, 8};
    cfg.oscore = &bad_aead;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, seq++, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_ERR_UNSUPPORTED);
    cfg.oscore = &too_long;
    CHECK_EQ_INT(pqcoap_initiator_start(&st, &cfg, seq++, 0, &fx.rng, init, sizeof init,
                                        &init_len), PQCOAP_ERR_ARG);
    pqcoap_initiator_wipe(&st);
}

static void test_resp_downgrades(void)
{
    pqcoap_hs_oscore k;
    const uint8_t c_r[] = {0x05}, c_i[] = {0x07};
    start_oscore(PQCOAP_COSE_A256GCM, c_i, sizeof c_i);
    /* another AEAD than INIT asked for, signed by the server's key: refused */
    signed_resp(PQCOAP_PROTECTION_OSCORE, PQCOAP_COSE_AES_CCM_16_64_128, c_r, sizeof c_r);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_ERR_HANDSHAKE);
    /* a Mode B session instead of the OSCORE context asked for */
    signed_resp(PQCOAP_PROTECTION_SESSION, 0, NULL, 0);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_ERR_HANDSHAKE);
    /* the initiator's own Recipient ID as the responder's, or none */
    signed_resp(PQCOAP_PROTECTION_OSCORE, PQCOAP_COSE_A256GCM, c_i, sizeof c_i);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_ERR_HANDSHAKE);
    signed_resp(PQCOAP_PROTECTION_OSCORE, PQCOAP_COSE_A256GCM, NULL, 0);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_ERR_HANDSHAKE);
    /* as asked: taken */
    signed_resp(PQCOAP_PROTECTION_OSCORE, PQCOAP_COSE_A256GCM, c_r, sizeof c_r);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_OK);
    CHECK(k.sender_id_len == 1 && k.sender_id[0] == 0x05);
    CHECK(k.recipient_id_len == 1 && k.recipient_id[0] == 0x07);
    pqcoap_wipe(&k, sizeof k);

    /* the responder never gives C_R = C_I: with C_I = 01 and table id 1 free, C_R is 02 */
    responder_for(PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE));
    const uint8_t one[] = {0x01};
    start_oscore(PQCOAP_COSE_A256GCM, one, 1);
    pqcoap_hs_result res;
    CHECK_EQ_INT(pqcoap_responder_handshake_ex(&fx.responder, init, init_len, 0, resp,
                                               sizeof resp, &resp_len, &res), PQCOAP_OK);
    CHECK_EQ_INT(res.id, 2);
    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&st, resp, resp_len, &k), PQCOAP_OK);
    CHECK(k.sender_id_len == 1 && k.sender_id[0] == 0x02);
    pqcoap_wipe(&res, sizeof res);
    pqcoap_wipe(&k, sizeof k);
}

int main(void)
{
    suites_setup("pqcoap oscore keyed downgrade");
    test_mirror_contexts();
    test_init_downgrades();
    test_resp_downgrades();
    suites_teardown();
    return check_done();
}
