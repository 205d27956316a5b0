/* Each signed field of INIT and RESP (PROTOCOL.md "Handshake", version 2) changed to another
 * valid value, one at a time, keeping the signature: the other side refuses it and keeps no
 * state. The fields include the offered suites, the protection and its params, for a Mode B
 * session and for an OSCORE context. Also a RESP made for one INIT presented for another, an
 * INIT for one responder presented to a second responder that trusts the same client, an
 * INIT one below the floor, and the exact input each signature covers. */
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "common/buf_internal.h"

#define NOW 6000000

static fixture fx;
static pqcoap_initiator st, st2;
static uint8_t init[PQCOAP_INIT_MAX], init2[PQCOAP_INIT_MAX], forged[PQCOAP_INIT_MAX];
static uint8_t resp[PQCOAP_RESP_MAX], resp2[PQCOAP_RESP_MAX];
static size_t init_len, init2_len, resp_len, resp2_len;
/* an OSCORE context asked for with C_I = 0x0a, and the params of another C_I */
static const uint8_t c_i[1] = {0x0a}, c_i_other[1] = {0x0b};
static const pqcoap_oscore_request oscore_req = {PQCOAP_COSE_A256GCM, c_i, 1};

/* INIT from its fields and a signature (the encoding of PROTOCOL.md); returns the length. */
static size_t encode_init(uint8_t version, const pqcoap_init_view *v, uint8_t *out)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, PQCOAP_INIT_MAX);
    pqcoap_wr_u8(&w, version);
    pqcoap_wr_str8(&w, v->offer, v->n_offer);
    pqcoap_wr_str8(&w, v->initiator_id, v->initiator_id_len);
    pqcoap_wr_str8(&w, v->responder_id, v->responder_id_len);
    pqcoap_wr_u64(&w, v->session_seq);
    pqcoap_wr_u64(&w, v->timestamp_ms);
    pqcoap_wr_bytes(&w, v->nonce_i, PQCOAP_NONCE_I_LEN);
    pqcoap_wr_str16(&w, v->kem_pk, v->suite->kem->pk_len);
    pqcoap_wr_bytes(&w, v->x25519_pk, PQCOAP_X25519_LEN);
    pqcoap_wr_u8(&w, v->protection);
    pqcoap_wr_str8(&w, v->params, v->params_len);
    pqcoap_wr_str16(&w, v->sig.sig, v->sig.sig_len);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    return w.len;
}

static size_t encode_resp(uint8_t version, uint8_t suite, const pqcoap_resp_view *v,
                          uint8_t *out)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, PQCOAP_RESP_MAX);
    pqcoap_wr_u8(&w, version);
    pqcoap_wr_u8(&w, suite);
    pqcoap_wr_u32(&w, v->sid);
    pqcoap_wr_u32(&w, v->lifetime_s);
    pqcoap_wr_u32(&w, v->max_msgs);
    pqcoap_wr_str16(&w, v->kem_ct, v->suite->kem->ct_len);
    pqcoap_wr_bytes(&w, v->x25519_pk, PQCOAP_X25519_LEN);
    pqcoap_wr_u8(&w, v->protection);
    pqcoap_wr_str8(&w, v->params, v->params_len);
    pqcoap_wr_str16(&w, v->sig.sig, v->sig.sig_len);
    CHECK_EQ_INT(w.err, PQCOAP_OK);
    return w.len;
}

static uint64_t floor_of(const char *id)
{
    pqcoap_floor floor;
    return pqcoap_store_floor_get(&fx.mem, id, &floor) == PQCOAP_OK ? floor.session_seq : 0;
}

/* INIT of "client" with session_seq seq, asking for a Mode B session or (oscore) for the
 * OSCORE context of oscore_req. */
static pqcoap_err start_for(pqcoap_initiator *s, uint64_t seq, int oscore, uint8_t *out,
                            size_t *len)
{
    pqcoap_initiator_cfg cfg = fx_initiator_cfg(&fx, &fx.client, "client");
    cfg.oscore = oscore ? &oscore_req : NULL;
    return pqcoap_initiator_start(s, &cfg, seq, NOW, &fx.rng, out, PQCOAP_INIT_MAX, len);
}

static pqcoap_err start(pqcoap_initiator *s, uint64_t seq, uint8_t *out, size_t *len)
{
    return start_for(s, seq, 0, out, len);
}

/* The INIT params of an OSCORE request with Recipient ID id[0..1), into out; returns the
 * length. */
static size_t oscore_params(const uint8_t *id, uint8_t *out, size_t cap)
{
    const pqcoap_oscore_request req = {PQCOAP_COSE_A256GCM, id, 1};
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_hs_oscore_request_encode(&req, out, cap, &len), PQCOAP_OK);
    return len;
}

/* The responder r refuses INIT bytes[0..len): no RESP, no new session, the floor unchanged. */
static void init_refused(pqcoap_responder *r, const uint8_t *bytes, size_t len, int line)
{
    uint64_t floor = floor_of("client");
    size_t live = pqcoap_responder_live(r), out_len = 0;
    pqcoap_err err = pqcoap_responder_handshake(r, bytes, len, NOW, resp2, sizeof resp2,
                                                &out_len);
    if (err == PQCOAP_OK)
        fprintf(stderr, "line %d: a changed INIT was accepted\n", line);
    CHECK(err != PQCOAP_OK);
    CHECK_EQ_INT(out_len, 0);
    CHECK_EQ_INT(pqcoap_responder_live(r), live);
    CHECK_EQ_INT(floor_of("client"), floor);
}

#define INIT_REFUSED(r, v, version) \
    init_refused(r, forged, encode_init(version, v, forged), __LINE__)

static void test_init_fields(void)
{
    pqcoap_init_view v, changed;
    CHECK_EQ_INT(start(&st, 10, init, &init_len), PQCOAP_OK);
    CHECK_EQ_INT(start(&st2, 11, init2, &init2_len), PQCOAP_OK); /* another INIT's keys */
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &v), PQCOAP_OK);
    pqcoap_init_view v2;
    CHECK_EQ_INT(pqcoap_init_decode(init2, init2_len, &v2), PQCOAP_OK);
    /* the encoder above gives back the INIT byte for byte */
    CHECK_EQ_INT(encode_init(2, &v, forged), init_len);
    CHECK_MEM(forged, init, init_len);
    CHECK_EQ_INT(v.n_offer, 1);
    CHECK_EQ_INT(v.protection, PQCOAP_PROTECTION_SESSION);

    pqcoap_responder *r = &fx.responder;
    INIT_REFUSED(r, &v, 1);                                      /* version */
    /* offer: another suite of the same KEM added after the responder's (which it still
     * chooses), and an unknown suite byte, which the responder ignores */
    static const uint8_t offer_more[2] = {0x01, 0x03}, offer_unknown[2] = {0x01, 0x7f};
    changed = v;
    changed.offer = offer_more;
    changed.n_offer = 2;
    INIT_REFUSED(r, &changed, 2);
    changed.offer = offer_unknown;
    INIT_REFUSED(r, &changed, 2);
    /* protection: an OSCORE context (which this responder also provides) with valid params */
    uint8_t params[PQCOAP_HS_PARAMS_MAX];
    changed = v;
    changed.protection = PQCOAP_PROTECTION_OSCORE;
    changed.params = params;
    changed.params_len = oscore_params(c_i, params, sizeof params);
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.initiator_id = (const uint8_t *)"other";             /* initiator_id */
    changed.initiator_id_len = 5;
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.responder_id = (const uint8_t *)"serveR";            /* responder_id */
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.session_seq = v.session_seq + 1;                     /* session_seq */
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.timestamp_ms = v.timestamp_ms + 1;                   /* timestamp_ms */
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.nonce_i = v2.nonce_i;                                /* nonce_i */
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.kem_pk = v2.kem_pk;                                  /* kem_pk */
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.x25519_pk = v2.x25519_pk;                            /* x25519_pk */
    INIT_REFUSED(r, &changed, 2);

    /* the genuine INIT still gets a RESP */
    CHECK_EQ_INT(pqcoap_responder_handshake(r, init, init_len, NOW, resp, sizeof resp,
                                            &resp_len), PQCOAP_OK);
}

/* An INIT addressed to "server", relabelled for "server2" (which trusts the same client
 * through the same store) and sent there: refused. */
static void test_init_other_responder(void)
{
    static pqcoap_responder r2;
    static pqcoap_session slots2[2];
    pqcoap_init_view v;
    pqcoap_responder_cfg cfg = fx.cfg;
    cfg.id = "server2";
    cfg.sk = fx.other.sk;
    CHECK_EQ_INT(pqcoap_responder_init(&r2, &cfg, slots2, 2), PQCOAP_OK);
    CHECK_EQ_INT(start(&st2, 20, init2, &init2_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_init_decode(init2, init2_len, &v), PQCOAP_OK);
    init_refused(&r2, init2, init2_len, __LINE__);               /* as sent: not for server2 */
    v.responder_id = (const uint8_t *)"server2";
    v.responder_id_len = 7;
    INIT_REFUSED(&r2, &v, 2);
    pqcoap_responder_wipe(&r2);
    pqcoap_initiator_wipe(&st2);
}

/* The initiator i refuses RESP bytes[0..len) and stays able to finish with the real one
 * (for a Mode B session; with oscore, for an OSCORE context). */
static void resp_refused_by(pqcoap_initiator *i, int oscore, const uint8_t *bytes, size_t len,
                            int line)
{
    pqcoap_session s;
    pqcoap_hs_oscore k;
    memset(&s, 0, sizeof s);
    pqcoap_err err = oscore ? pqcoap_initiator_finish_oscore(i, bytes, len, &k)
                            : pqcoap_initiator_finish(i, bytes, len, NOW, &s);
    if (err == PQCOAP_OK)
        fprintf(stderr, "line %d: a changed RESP was accepted\n", line);
    CHECK(err != PQCOAP_OK);
    CHECK_EQ_INT(s.live, 0);
    pqcoap_session_wipe(&s);
    pqcoap_wipe(&k, sizeof k);
}

static void resp_refused(const uint8_t *bytes, size_t len, int line)
{
    resp_refused_by(&st, 0, bytes, len, line);
}

#define RESP_REFUSED(v, version, suite) \
    resp_refused(forged, encode_resp(version, suite, v, forged), __LINE__)

static void test_resp_fields(void)
{
    pqcoap_resp_view v, v2, changed;
    /* resp answers init (test_init_fields); a second RESP, for another INIT, gives other
     * valid keys to swap in */
    CHECK_EQ_INT(start(&st2, 30, init2, &init2_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init2, init2_len, NOW, resp2,
                                            sizeof resp2, &resp2_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_resp_decode(resp, resp_len, &v), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_resp_decode(resp2, resp2_len, &v2), PQCOAP_OK);
    CHECK_EQ_INT(encode_resp(2, 1, &v, forged), resp_len);
    CHECK_MEM(forged, resp, resp_len);

    RESP_REFUSED(&v, 1, 1);                                      /* version */
    RESP_REFUSED(&v, 2, 3);                                      /* suite: not offered */
    changed = v;
    changed.sid = v.sid + 1;                                     /* sid */
    RESP_REFUSED(&changed, 2, 1);
    changed = v;
    changed.lifetime_s = v.lifetime_s + 1;                       /* lifetime_s */
    RESP_REFUSED(&changed, 2, 1);
    changed = v;
    changed.max_msgs = v.max_msgs + 1;                           /* max_msgs */
    RESP_REFUSED(&changed, 2, 1);
    changed = v;
    changed.kem_ct = v2.kem_ct;                                  /* kem_ct */
    RESP_REFUSED(&changed, 2, 1);
    changed = v;
    changed.x25519_pk = v2.x25519_pk;                            /* x25519_pk */
    RESP_REFUSED(&changed, 2, 1);
    /* protection: an OSCORE context with valid params, which INIT did not ask for */
    uint8_t params[PQCOAP_HS_PARAMS_MAX];
    const pqcoap_hs_oscore k = {.aead_alg = PQCOAP_COSE_A256GCM, .hkdf_alg = PQCOAP_COSE_HKDF_SHA256,
                                .recipient_id = {0x01}, .recipient_id_len = 1};
    changed = v;
    changed.protection = PQCOAP_PROTECTION_OSCORE;
    changed.params = params;
    CHECK_EQ_INT(pqcoap_hs_oscore_resp_encode(&k, params, sizeof params, &changed.params_len),
                 PQCOAP_OK);
    RESP_REFUSED(&changed, 2, 1);
    /* the RESP made for the other INIT, as it is: not for this initiator's INIT */
    resp_refused(resp2, resp2_len, __LINE__);

    pqcoap_session s;
    CHECK_EQ_INT(pqcoap_initiator_finish(&st, resp, resp_len, NOW, &s), PQCOAP_OK);
    pqcoap_session_wipe(&s);
    pqcoap_initiator_wipe(&st2);
}

/* An INIT and a RESP keying an OSCORE context: their protection and params changed one at a
 * time (each to another valid value) are refused; the genuine ones make the context. */
static void test_oscore_fields(void)
{
    static pqcoap_initiator so;
    static uint8_t init3[PQCOAP_INIT_MAX], resp3[PQCOAP_RESP_MAX];
    size_t init3_len, resp3_len;
    pqcoap_init_view v, changed;
    uint8_t params[PQCOAP_HS_PARAMS_MAX];
    CHECK_EQ_INT(start_for(&so, 40, 1, init3, &init3_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_init_decode(init3, init3_len, &v), PQCOAP_OK);
    CHECK_EQ_INT(v.protection, PQCOAP_PROTECTION_OSCORE);
    CHECK_EQ_INT(encode_init(2, &v, forged), init3_len);
    CHECK_MEM(forged, init3, init3_len);

    pqcoap_responder *r = &fx.responder;
    changed = v;
    changed.protection = PQCOAP_PROTECTION_SESSION;              /* protection */
    changed.params_len = 0;
    INIT_REFUSED(r, &changed, 2);
    changed = v;
    changed.params = params;                                     /* params: another C_I */
    changed.params_len = oscore_params(c_i_other, params, sizeof params);
    INIT_REFUSED(r, &changed, 2);
    CHECK_EQ_INT(pqcoap_responder_handshake(r, init3, init3_len, NOW, resp3, sizeof resp3,
                                            &resp3_len), PQCOAP_OK);

    pqcoap_resp_view rv, rchanged;
    CHECK_EQ_INT(pqcoap_resp_decode(resp3, resp3_len, &rv), PQCOAP_OK);
    CHECK_EQ_INT(rv.protection, PQCOAP_PROTECTION_OSCORE);
    CHECK_EQ_INT(encode_resp(2, 1, &rv, forged), resp3_len);
    CHECK_MEM(forged, resp3, resp3_len);
    rchanged = rv;
    rchanged.protection = PQCOAP_PROTECTION_SESSION;             /* protection */
    rchanged.params_len = 0;
    resp_refused_by(&so, 1, forged, encode_resp(2, 1, &rchanged, forged), __LINE__);
    /* params: another C_R (valid: not C_I), the algorithms kept */
    pqcoap_hs_oscore k = {.aead_alg = PQCOAP_COSE_A256GCM,
                          .hkdf_alg = PQCOAP_COSE_HKDF_SHA256, .recipient_id_len = 1};
    CHECK(rv.params_len >= 1);
    k.recipient_id[0] = (uint8_t)(rv.params[rv.params_len - 1] == 0x01 ? 0x02 : 0x01);
    rchanged = rv;
    rchanged.params = params;
    CHECK_EQ_INT(pqcoap_hs_oscore_resp_encode(&k, params, sizeof params, &rchanged.params_len),
                 PQCOAP_OK);
    CHECK_EQ_INT(rchanged.params_len, rv.params_len);
    CHECK(memcmp(params, rv.params, rv.params_len) != 0);
    resp_refused_by(&so, 1, forged, encode_resp(2, 1, &rchanged, forged), __LINE__);

    CHECK_EQ_INT(pqcoap_initiator_finish_oscore(&so, resp3, resp3_len, &k), PQCOAP_OK);
    pqcoap_wipe(&k, sizeof k);
    pqcoap_initiator_wipe(&so);
}

/* sig_i and sig_r verify, under the suite's signature algorithm, over the inputs PROTOCOL.md
 * spells out: "pqcoap v2 init" || INIT before sig_i, and "pqcoap v2 resp" || SHA-256(INIT) ||
 * RESP before sig_r (the signature is the str16 at the end of each message). */
static void test_signed_input(void)
{
    const pqcoap_sig_alg *alg = pqcoap_suite_find(1)->sig;
    uint8_t hash[32];
    const pqcoap_span whole_init = {init, init_len};
    CHECK_EQ_INT(pqcoap_sha256(&whole_init, 1, hash), PQCOAP_OK);
    pqcoap_init_view iv;
    pqcoap_resp_view rv;
    CHECK_EQ_INT(pqcoap_init_decode(init, init_len, &iv), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_resp_decode(resp, resp_len, &rv), PQCOAP_OK);
    const size_t sig_i_len = iv.sig.sig_len, sig_r_len = rv.sig.sig_len;
    const size_t init_signed = init_len - 2 - sig_i_len, resp_signed = resp_len - 2 - sig_r_len;
    const pqcoap_span in_i[2] = {{(const uint8_t *)"pqcoap v2 init", 14}, {init, init_signed}};
    const pqcoap_span in_r[3] = {{(const uint8_t *)"pqcoap v2 resp", 14}, {hash, 32},
                                 {resp, resp_signed}};
    CHECK_EQ_INT(alg->verify(fx.client.pub.pk, in_i, 2, init + init_signed + 2, sig_i_len),
                 PQCOAP_OK);
    CHECK_EQ_INT(alg->verify(fx.server.pub.pk, in_r, 3, resp + resp_signed + 2, sig_r_len),
                 PQCOAP_OK);
}

/* session_seq one below the floor, validly signed: refused in phase 1 already, before the
 * responder spends randomness, an encapsulation or a signature on it. */
static void test_rollback_refused_early(void)
{
    static pqcoap_hs_pending p;
    uint64_t below = floor_of("client") - 1;
    size_t out_len = 0;
    CHECK_EQ_INT(start(&st2, below, init2, &init2_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_responder_hs_verify(&fx.responder, init2, init2_len, &p),
                 PQCOAP_ERR_ROLLBACK);
    uint64_t counter = fx.rng_state.counter;
    size_t used = fx.rng_state.used;
    CHECK_EQ_INT(pqcoap_responder_handshake(&fx.responder, init2, init2_len, NOW, resp2,
                                            sizeof resp2, &out_len), PQCOAP_ERR_ROLLBACK);
    CHECK(fx.rng_state.counter == counter && fx.rng_state.used == used);
    CHECK_EQ_INT(out_len, 0);
    pqcoap_initiator_wipe(&st2);
}

int main(void)
{
    fx_setup(&fx, "pqcoap handshake field tests", FX_SLOTS, 0, 0, 0);
    /* the responder keys both, so that a changed protection reaches the signature check */
    fx.cfg.protections = PQCOAP_PROTECT(PQCOAP_PROTECTION_SESSION)
                         | PQCOAP_PROTECT(PQCOAP_PROTECTION_OSCORE);
    fx_restart_responder(&fx, FX_SLOTS);
    test_init_fields();
    test_init_other_responder();
    test_resp_fields();
    test_signed_input();
    test_oscore_fields();
    test_rollback_refused_early();
    fx_teardown(&fx);
    return check_done();
}
