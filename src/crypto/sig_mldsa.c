/* ML-DSA-44, ML-DSA-65 and ML-DSA-87 signatures (FIPS 204, PQClean clean implementations,
 * fixed length) behind pqcoap_sig_alg tables. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include "crypto_sign/ml-dsa-44/clean/api.h"
#include "crypto_sign/ml-dsa-65/clean/api.h"
#include "crypto_sign/ml-dsa-87/clean/api.h"

/* pqclean 0.8.1 has crypto_sign_signature_ctx / crypto_sign_verify_ctx with a context
 * string; crypto_sign_signature / crypto_sign_verify, used here, call them with the empty
 * context: pure ML-DSA of FIPS 204 section 5.2 (Algorithms 2 and 3) with ctx = "". Signing
 * is hedged: the 32-byte rnd of Algorithm 7 comes from randombytes, so from the rng of the
 * call, as does the 32-byte seed of key generation. */
static const pqcoap_pqclean_sig d44 = {
    PQCLEAN_MLDSA44_CLEAN_crypto_sign_keypair, PQCLEAN_MLDSA44_CLEAN_crypto_sign_signature,
    PQCLEAN_MLDSA44_CLEAN_crypto_sign_verify,
    PQCLEAN_MLDSA44_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA44_CLEAN_CRYPTO_BYTES,
};
static const pqcoap_pqclean_sig d65 = {
    PQCLEAN_MLDSA65_CLEAN_crypto_sign_keypair, PQCLEAN_MLDSA65_CLEAN_crypto_sign_signature,
    PQCLEAN_MLDSA65_CLEAN_crypto_sign_verify,
    PQCLEAN_MLDSA65_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA65_CLEAN_CRYPTO_BYTES,
};
static const pqcoap_pqclean_sig d87 = {
    PQCLEAN_MLDSA87_CLEAN_crypto_sign_keypair, PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature,
    PQCLEAN_MLDSA87_CLEAN_crypto_sign_verify,
    PQCLEAN_MLDSA87_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES,
};

static pqcoap_err d44_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, d44.keypair, pk, sk, d44.sk_len);
}
static pqcoap_err d44_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                           size_t n, uint8_t *sig, size_t *sig_len)
{
    return pqcoap_pqclean_sign(&d44, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err d44_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                             const uint8_t *sig, size_t sig_len)
{
    return pqcoap_pqclean_verify(&d44, pk, msg, n, sig, sig_len);
}

static pqcoap_err d65_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, d65.keypair, pk, sk, d65.sk_len);
}
static pqcoap_err d65_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                           size_t n, uint8_t *sig, size_t *sig_len)
{
    return pqcoap_pqclean_sign(&d65, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err d65_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                             const uint8_t *sig, size_t sig_len)
{
    return pqcoap_pqclean_verify(&d65, pk, msg, n, sig, sig_len);
}

static pqcoap_err d87_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, d87.keypair, pk, sk, d87.sk_len);
}
static pqcoap_err d87_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                           size_t n, uint8_t *sig, size_t *sig_len)
{
    return pqcoap_pqclean_sign(&d87, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err d87_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                             const uint8_t *sig, size_t sig_len)
{
    return pqcoap_pqclean_verify(&d87, pk, msg, n, sig, sig_len);
}

const pqcoap_sig_alg pqcoap_sig_mldsa44 = {
    "ml-dsa-44", PQCLEAN_MLDSA44_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLDSA44_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA44_CLEAN_CRYPTO_BYTES,
    d44_keygen, d44_sign, d44_verify, 0, NULL, NULL, /* no expanded key */
};

const pqcoap_sig_alg pqcoap_sig_mldsa65 = {
    "ml-dsa-65", PQCLEAN_MLDSA65_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLDSA65_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA65_CLEAN_CRYPTO_BYTES,
    d65_keygen, d65_sign, d65_verify, 0, NULL, NULL, /* no expanded key */
};

const pqcoap_sig_alg pqcoap_sig_mldsa87 = {
    "ml-dsa-87", PQCLEAN_MLDSA87_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLDSA87_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES,
    d87_keygen, d87_sign, d87_verify, 0, NULL, NULL, /* no expanded key */
};
