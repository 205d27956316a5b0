/* Falcon signing from the expanded secret key (pqcoap_expanded_key): from the same
 * randomness it gives the very signature signing from the secret key gives, over a message
 * in one piece or several; our verifier accepts it; a malformed key is refused; an identity
 * made or loaded holds its key expanded, signs from it, and is all zero once wiped. */
#include <string.h>

#include "check.h"
#include "pqcoap/keys.h"
#include "pqcoap/sign.h"
#include "crypto/crypto_internal.h"

static uint8_t pk[PQCOAP_SIG_PK_MAX], sk[PQCOAP_SIG_SK_MAX];
static uint8_t sig[PQCOAP_SIG_MAX], sig_ek[PQCOAP_SIG_MAX];
static pqcoap_expanded_key ek, ek2;
static pqcoap_identity id, id2;
static uint8_t text[PQCOAP_KEYFILE_MAX];

static const uint8_t ZERO[sizeof(pqcoap_identity)];

/* A fresh deterministic rng for one signature. */
static const pqcoap_rng *rng_of(pqcoap_test_rng *st, pqcoap_rng *rng, const char *seed)
{
    pqcoap_test_rng_init(st, rng, (const uint8_t *)seed, strlen(seed));
    return rng;
}

static void test_same_signatures(const pqcoap_sig_alg *alg, size_t ek_len)
{
    pqcoap_test_rng st;
    pqcoap_rng rng;
    CHECK_EQ_INT(alg->keygen(rng_of(&st, &rng, alg->name), pk, sk), PQCOAP_OK);
    CHECK_EQ_INT(alg->ek_len, ek_len);
    CHECK_EQ_INT(pqcoap_expanded_key_make(alg->name, sk, alg->sk_len, &ek), PQCOAP_OK);
    CHECK_EQ_INT(ek.len, ek_len);
    CHECK(memcmp(ek.k, ZERO, ek.len) != 0);
    static const uint8_t msg[] = "a CoAP payload signed from the expanded key";
    const pqcoap_span whole = {msg, sizeof msg - 1};
    const pqcoap_span pieces[3] = {{msg, 5}, {NULL, 0}, {msg + 5, sizeof msg - 6}};
    for (int i = 0; i < 3; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "signature %d", i);
        size_t len = 0, len_ek = 0;
        CHECK_EQ_INT(alg->sign(rng_of(&st, &rng, seed), sk, &whole, 1, sig, &len), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_sig_sign(alg, rng_of(&st, &rng, seed), sk, ek.k, ek.len,
                                     i == 1 ? pieces : &whole, i == 1 ? 3 : 1, sig_ek,
                                     &len_ek), PQCOAP_OK);
        CHECK_EQ_INT(len_ek, len);
        CHECK_MEM(sig_ek, sig, len);
        CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig_ek, len_ek), PQCOAP_OK);
        const pqcoap_span shorter = {msg, sizeof msg - 2};
        CHECK_EQ_INT(alg->verify(pk, &shorter, 1, sig_ek, len_ek), PQCOAP_ERR_AUTH);
    }
    /* without an expanded key of the algorithm's length, pqcoap_sig_sign signs from sk */
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_sig_sign(alg, NULL, sk, ek.k, ek.len - 8, &whole, 1, sig, &len),
                 PQCOAP_OK);
    CHECK_EQ_INT(alg->verify(pk, &whole, 1, sig, len), PQCOAP_OK);
    /* a secret key that does not decode has no expanded form */
    uint8_t bad[PQCOAP_SIG_SK_MAX];
    memcpy(bad, sk, alg->sk_len);
    bad[0] ^= 0x01;
    CHECK_EQ_INT(pqcoap_expanded_key_make(alg->name, bad, alg->sk_len, &ek2), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(ek2.len, 0);
    pqcoap_wipe(&ek, sizeof ek);
}

static void test_make_args(void)
{
    CHECK_EQ_INT(pqcoap_expanded_key_make("falcon-512", sk, 1280, &ek2), PQCOAP_ERR_ARG);
    CHECK_EQ_INT(pqcoap_expanded_key_make("falcon-2048", sk, 1281, &ek2), PQCOAP_ERR_UNSUPPORTED);
    CHECK_EQ_INT(pqcoap_expanded_key_make("falcon-512", NULL, 1281, &ek2), PQCOAP_ERR_ARG);
    /* ML-DSA has no expanded form: nothing to keep, not an error */
    CHECK_EQ_INT(pqcoap_identity_generate("ml-dsa-44", NULL, &id2), PQCOAP_OK);
    CHECK_EQ_INT(id2.ek.len, 0);
    CHECK_EQ_INT(pqcoap_expanded_key_make("ml-dsa-44", id2.sk, pqcoap_identity_sk_len(&id2),
                                          &ek2), PQCOAP_OK);
    CHECK_EQ_INT(ek2.len, 0);
    pqcoap_identity_wipe(&id2);
}

/* An identity holds its key expanded once made or loaded; a signer made from it signs from
 * the expanded key; wiping the identity leaves no byte of it. */
static void test_identity(const char *alg, size_t ek_len)
{
    CHECK_EQ_INT(pqcoap_identity_generate(alg, NULL, &id), PQCOAP_OK);
    CHECK_EQ_INT(id.ek.len, ek_len);
    CHECK_EQ_INT(pqcoap_expanded_key_make(alg, id.sk, pqcoap_identity_sk_len(&id), &ek),
                 PQCOAP_OK);
    CHECK_MEM(id.ek.k, ek.k, ek_len);
    size_t len = 0;
    CHECK_EQ_INT(pqcoap_identity_encode(&id, text, sizeof text, &len), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_parse(text, len, &id2), PQCOAP_OK);
    CHECK_EQ_INT(id2.ek.len, ek_len);
    CHECK_MEM(id2.ek.k, ek.k, ek_len);
    pqcoap_signer s;
    CHECK_EQ_INT(pqcoap_signer_from_identity(&s, &id2, NULL), PQCOAP_OK);
    CHECK(s.ek == &id2.ek);
    pqcoap_identity_wipe(&id2);
    CHECK_MEM(&id2, ZERO, sizeof id2);
    pqcoap_identity_wipe(&id);
    CHECK_MEM(&id, ZERO, sizeof id);
    pqcoap_wipe(text, sizeof text);
    pqcoap_wipe(&ek, sizeof ek);
}

int main(void)
{
    test_same_signatures(&pqcoap_sig_falcon512, 57344);
    test_same_signatures(&pqcoap_sig_falcon1024, 122880);
    test_make_args();
    test_identity("falcon-512", 57344);
    test_identity("falcon-1024", 122880);
    return check_done();
}
