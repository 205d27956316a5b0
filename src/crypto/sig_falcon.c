/* Falcon-512 and Falcon-1024 signatures (PQClean clean implementations, detached,
 * compressed, variable length) behind pqcoap_sig_alg tables. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include "crypto_sign/falcon-1024/clean/api.h"
#include "crypto_sign/falcon-512/clean/api.h"

static const pqcoap_pqclean_sig f512 = {
    PQCLEAN_FALCON512_CLEAN_crypto_sign_keypair, PQCLEAN_FALCON512_CLEAN_crypto_sign_signature,
    PQCLEAN_FALCON512_CLEAN_crypto_sign_verify,
    PQCLEAN_FALCON512_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON512_CLEAN_CRYPTO_BYTES,
};
static const pqcoap_pqclean_sig f1024 = {
    PQCLEAN_FALCON1024_CLEAN_crypto_sign_keypair, PQCLEAN_FALCON1024_CLEAN_crypto_sign_signature,
    PQCLEAN_FALCON1024_CLEAN_crypto_sign_verify,
    PQCLEAN_FALCON1024_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON1024_CLEAN_CRYPTO_BYTES,
};

static pqcoap_err f512_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, f512.keypair, pk, sk, f512.sk_len);
}
static pqcoap_err f512_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                            size_t n, uint8_t *sig, size_t *sig_len)
{
    return pqcoap_pqclean_sign(&f512, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err f512_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                              const uint8_t *sig, size_t sig_len)
{
    return pqcoap_pqclean_verify(&f512, pk, msg, n, sig, sig_len);
}

static pqcoap_err f1024_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, f1024.keypair, pk, sk, f1024.sk_len);
}
static pqcoap_err f1024_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                             size_t n, uint8_t *sig, size_t *sig_len)
{
    return pqcoap_pqclean_sign(&f1024, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err f1024_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                               const uint8_t *sig, size_t sig_len)
{
    return pqcoap_pqclean_verify(&f1024, pk, msg, n, sig, sig_len);
}

const pqcoap_sig_alg pqcoap_sig_falcon512 = {
    "falcon-512", PQCLEAN_FALCON512_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_FALCON512_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON512_CLEAN_CRYPTO_BYTES,
    f512_keygen, f512_sign, f512_verify,
    PQCOAP_FALCON512_EK_LEN, pqcoap_falcon512_expand, pqcoap_falcon512_sign_ek,
};

const pqcoap_sig_alg pqcoap_sig_falcon1024 = {
    "falcon-1024", PQCLEAN_FALCON1024_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_FALCON1024_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON1024_CLEAN_CRYPTO_BYTES,
    f1024_keygen, f1024_sign, f1024_verify,
    PQCOAP_FALCON1024_EK_LEN, pqcoap_falcon1024_expand, pqcoap_falcon1024_sign_ek,
};
