/* The keyed AEAD state an OSCORE context keeps (set once at derivation): two contexts with
 * different keys used in turn each give what a one-call AEAD under their own key gives; a
 * failed open leaves the state as it was; wiping a context, or deriving or keying anew over
 * an old one, leaves nothing of the old state. */
#include "check.h"
#include "core/oscore_internal.h"
#include "crypto/crypto_internal.h"

static const uint8_t secret_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t secret_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
static const uint8_t cid[1] = {0x01}, sid[1] = {0x02};
static const uint8_t ZERO[sizeof(pqcoap_oscore_ctx)];

static const uint8_t path[] = "temp", body[] = "21.5 C";
static const pqcoap_opt req_opts[] = {{PQCOAP_OPT_URI_PATH, path, sizeof path - 1}};
static const uint8_t token[] = {0x7a};
static const pqcoap_msg request = {PQCOAP_POST, token, 1, req_opts, 1, body, sizeof body - 1};

/* Parameters of alg under secret with Sender ID snd and Recipient ID rcp. */
static pqcoap_oscore_params params(int alg, const uint8_t *secret, const uint8_t *snd,
                                   size_t snd_len, const uint8_t *rcp, size_t rcp_len)
{
    return (pqcoap_oscore_params){secret, 16, NULL, 0, NULL, 0, 0, snd, snd_len, rcp, rcp_len,
                                  alg, PQCOAP_COSE_HKDF_SHA256, PQCOAP_OSCORE_WINDOW_DEFAULT};
}

/* Client (sender cid) and server (sender sid) contexts of alg under secret. */
static void pair(int alg, const uint8_t *secret, pqcoap_oscore_ctx *c, pqcoap_oscore_ctx *s)
{
    pqcoap_oscore_params p = params(alg, secret, cid, 1, sid, 1);
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, c), PQCOAP_OK);
    p = params(alg, secret, sid, 1, cid, 1);
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, s), PQCOAP_OK);
}

/* One protected request: the message view, its room and its decoded OSCORE option. */
typedef struct sent {
    pqcoap_opt opts[8];
    uint8_t buf[256];
    pqcoap_msg msg;
    pqcoap_oscore_binding bind;
    pqcoap_oscore_option opt;
} sent;

static void send_req(const pqcoap_oscore_ctx *c, uint64_t ssn, sent *out)
{
    const pqcoap_oscore_out room = {out->opts, 8, out->buf, sizeof out->buf};
    CHECK_EQ_INT(pqcoap_oscore_protect_request(c, ssn, 0, &request, &room, &out->msg,
                                               &out->bind), PQCOAP_OK);
    const pqcoap_opt *o = &out->msg.opts[0];
    CHECK_EQ_INT(o->number, PQCOAP_OPT_OSCORE);
    CHECK_EQ_INT(pqcoap_oscore_option_parse(o->value, o->len, &out->opt), PQCOAP_OK);
}

static pqcoap_err receive(pqcoap_oscore_ctx *s, const sent *in)
{
    pqcoap_opt opts[8];
    uint8_t buf[256];
    const pqcoap_oscore_out room = {opts, 8, buf, sizeof buf};
    pqcoap_msg dec;
    pqcoap_oscore_binding b;
    pqcoap_err err = pqcoap_oscore_unprotect_request(s, &in->msg, &in->opt, &room, &dec, &b);
    if (err == PQCOAP_OK)
        CHECK(dec.payload_len == sizeof body - 1 &&
              memcmp(dec.payload, body, sizeof body - 1) == 0);
    return err;
}

/* The payload of `in` is what one AEAD call under c's Sender Key, with a key state made
 * for that call, gives for the request's plaintext (code, Uri-Path, 0xFF, body). */
static void check_one_call(const pqcoap_oscore_ctx *c, const sent *in)
{
    const pqcoap_cose_aead *alg = pqcoap_cose_aead_find(c->aead_alg);
    uint8_t pt[64] = {PQCOAP_POST, 0xB4, 't', 'e', 'm', 'p', 0xFF};
    size_t pt_len = 7 + sizeof body - 1;
    memcpy(pt + 7, body, sizeof body - 1);
    uint8_t nonce[13], aad[64], ct[64 + 16];
    size_t aad_len;
    pqcoap_oscore_nonce(c, c->sender_id, c->sender_id_len, in->bind.piv, in->bind.piv_len,
                        nonce);
    CHECK_EQ_INT(pqcoap_oscore_aad(c, &in->bind, aad, sizeof aad, &aad_len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_cose_seal(alg, c->sender_key, nonce, aad, aad_len, pt, pt_len, ct),
                 PQCOAP_OK);
    CHECK_EQ_INT(in->msg.payload_len, pt_len + alg->tag_len);
    CHECK_MEM(in->msg.payload, ct, pt_len + alg->tag_len);
}

/* Two contexts with the same IDs and different keys, used in turn: each message is right
 * for its own key, each is refused by the other context, and a refused one changes
 * nothing of the refusing context. */
static void test_interleaved(int alg)
{
    static pqcoap_oscore_ctx c1, s1, c2, s2, before;
    pair(alg, secret_a, &c1, &s1);
    pair(alg, secret_b, &c2, &s2);
    for (uint64_t ssn = 0; ssn < 4; ssn++) {
        sent m1, m2;
        send_req(&c1, ssn, &m1);
        send_req(&c2, ssn, &m2);
        check_one_call(&c1, &m1);
        check_one_call(&c2, &m2);
        CHECK(memcmp(m1.msg.payload, m2.msg.payload, m1.msg.payload_len) != 0);
        before = s2;
        CHECK_EQ_INT(receive(&s2, &m1), PQCOAP_ERR_AUTH);
        CHECK(memcmp(&before, &s2, sizeof s2) == 0);
        before = s1;
        CHECK_EQ_INT(receive(&s1, &m2), PQCOAP_ERR_AUTH);
        CHECK(memcmp(&before, &s1, sizeof s1) == 0);
        CHECK_EQ_INT(receive(&s2, &m2), PQCOAP_OK);
        CHECK_EQ_INT(receive(&s1, &m1), PQCOAP_OK);
    }
    pqcoap_oscore_wipe(&c1);
    pqcoap_oscore_wipe(&s1);
    pqcoap_oscore_wipe(&c2);
    pqcoap_oscore_wipe(&s2);
    pqcoap_oscore_wipe(&before);
}

/* A wiped context holds no byte of its keys or their AEAD state, and protects nothing. */
static void test_wipe(int alg)
{
    static pqcoap_oscore_ctx c, s;
    pair(alg, secret_a, &c, &s);
    pqcoap_oscore_wipe(&c);
    CHECK_MEM(&c, ZERO, sizeof c);
    sent m;
    const pqcoap_oscore_out room = {m.opts, 8, m.buf, sizeof m.buf};
    CHECK_EQ_INT(pqcoap_oscore_protect_request(&c, 0, 0, &request, &room, &m.msg, &m.bind),
                 PQCOAP_ERR_ARG);
    pqcoap_oscore_wipe(&s);
    CHECK_MEM(&s, ZERO, sizeof s);
}

/* A context derived over an old one (other algorithm, key, IDs and ID Context) is the
 * context derived into zeroed memory: nothing of the old one, its GHASH table included,
 * stays. */
static void test_derive_over(void)
{
    static pqcoap_oscore_ctx old, c, fresh, s;
    const uint8_t idc[3] = {7, 7, 7}, long_id[3] = {5, 6, 7};
    pqcoap_oscore_params p = params(PQCOAP_COSE_A256GCM, secret_b, long_id, 3, long_id, 2);
    p.id_context = idc;
    p.id_context_len = 3;
    p.has_id_context = 1;
    CHECK_EQ_INT(pqcoap_oscore_derive(&p, &old), PQCOAP_OK);
    c = old;
    pair(PQCOAP_COSE_AES_CCM_16_64_128, secret_a, &c, &s);
    memset(&fresh, 0, sizeof fresh);
    pair(PQCOAP_COSE_AES_CCM_16_64_128, secret_a, &fresh, &s);
    CHECK(memcmp(&c, &fresh, sizeof c) == 0);
    sent m;
    send_req(&c, 0, &m);
    CHECK_EQ_INT(receive(&s, &m), PQCOAP_OK);
    pqcoap_oscore_wipe(&old);
    pqcoap_oscore_wipe(&c);
    pqcoap_oscore_wipe(&fresh);
    pqcoap_oscore_wipe(&s);
}

/* Keying a state again (GCM, then CCM) leaves it as keying zeroed memory does. */
static void test_key_over(void)
{
    static pqcoap_cose_aead_key k, fresh;
    const uint8_t key[32] = {0x42};
    CHECK_EQ_INT(pqcoap_cose_key_set(&k, pqcoap_cose_aead_find(PQCOAP_COSE_A256GCM), key),
                 PQCOAP_OK);
    memset(&fresh, 0, sizeof fresh);
    const pqcoap_cose_aead *ccm = pqcoap_cose_aead_find(PQCOAP_COSE_AES_CCM_16_64_128);
    CHECK_EQ_INT(pqcoap_cose_key_set(&k, ccm, key), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_cose_key_set(&fresh, ccm, key), PQCOAP_OK);
    CHECK(memcmp(&k, &fresh, sizeof k) == 0);
    pqcoap_wipe(&k, sizeof k);
    pqcoap_wipe(&fresh, sizeof fresh);
}

int main(void)
{
    static const int algs[] = {PQCOAP_COSE_AES_CCM_16_64_128, PQCOAP_COSE_AES_CCM_16_128_256,
                               PQCOAP_COSE_A256GCM};
    for (size_t i = 0; i < 3; i++) {
        test_interleaved(algs[i]);
        test_wipe(algs[i]);
    }
    test_derive_over();
    test_key_over();
    return check_done();
}
