/* ML-KEM-512, ML-KEM-768 and ML-KEM-1024 (FIPS 203, PQClean clean implementations) behind
 * pqcoap_kem_alg tables. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include "crypto_kem/ml-kem-1024/clean/api.h"
#include "crypto_kem/ml-kem-512/clean/api.h"
#include "crypto_kem/ml-kem-768/clean/api.h"

/* The PQClean entry points of one parameter set. */
typedef struct mlkem_impl {
    int (*keypair)(uint8_t *pk, uint8_t *sk);
    int (*enc)(uint8_t *ct, uint8_t *ss, const uint8_t *pk);
    int (*dec)(uint8_t *ss, const uint8_t *ct, const uint8_t *sk);
    size_t sk_len;
} mlkem_impl;

static const mlkem_impl k512 = {
    PQCLEAN_MLKEM512_CLEAN_crypto_kem_keypair, PQCLEAN_MLKEM512_CLEAN_crypto_kem_enc,
    PQCLEAN_MLKEM512_CLEAN_crypto_kem_dec, PQCLEAN_MLKEM512_CLEAN_CRYPTO_SECRETKEYBYTES,
};
static const mlkem_impl k768 = {
    PQCLEAN_MLKEM768_CLEAN_crypto_kem_keypair, PQCLEAN_MLKEM768_CLEAN_crypto_kem_enc,
    PQCLEAN_MLKEM768_CLEAN_crypto_kem_dec, PQCLEAN_MLKEM768_CLEAN_CRYPTO_SECRETKEYBYTES,
};
static const mlkem_impl k1024 = {
    PQCLEAN_MLKEM1024_CLEAN_crypto_kem_keypair, PQCLEAN_MLKEM1024_CLEAN_crypto_kem_enc,
    PQCLEAN_MLKEM1024_CLEAN_crypto_kem_dec, PQCLEAN_MLKEM1024_CLEAN_CRYPTO_SECRETKEYBYTES,
};

static pqcoap_err mlkem_encaps(const mlkem_impl *k, const pqcoap_rng *rng, const uint8_t *pk,
                               uint8_t *ct, uint8_t *ss)
{
    if (pk == NULL || ct == NULL || ss == NULL)
        return PQCOAP_ERR_ARG;
    pqcoap_rng_scope scope;
    pqcoap_rng_enter(&scope, rng);
    int rc = k->enc(ct, ss, pk);
    pqcoap_err err = pqcoap_rng_leave(&scope);
    if (err == PQCOAP_OK && rc != 0)
        err = PQCOAP_ERR_CRYPTO;
    if (err != PQCOAP_OK)
        pqcoap_wipe(ss, PQCOAP_KEM_SS_LEN);
    return err;
}

/* FIPS 203 decapsulation never fails on a well-sized ciphertext: a forged one yields an
 * unrelated secret (implicit rejection). */
static pqcoap_err mlkem_decaps(const mlkem_impl *k, const uint8_t *sk, const uint8_t *ct,
                               uint8_t *ss)
{
    if (sk == NULL || ct == NULL || ss == NULL)
        return PQCOAP_ERR_ARG;
    if (k->dec(ss, ct, sk) != 0) {
        pqcoap_wipe(ss, PQCOAP_KEM_SS_LEN);
        return PQCOAP_ERR_CRYPTO;
    }
    return PQCOAP_OK;
}

static pqcoap_err k512_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, k512.keypair, pk, sk, k512.sk_len);
}
static pqcoap_err k512_encaps(const pqcoap_rng *rng, const uint8_t *pk, uint8_t *ct, uint8_t *ss)
{
    return mlkem_encaps(&k512, rng, pk, ct, ss);
}
static pqcoap_err k512_decaps(const uint8_t *sk, const uint8_t *ct, uint8_t *ss)
{
    return mlkem_decaps(&k512, sk, ct, ss);
}

static pqcoap_err k768_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, k768.keypair, pk, sk, k768.sk_len);
}
static pqcoap_err k768_encaps(const pqcoap_rng *rng, const uint8_t *pk, uint8_t *ct, uint8_t *ss)
{
    return mlkem_encaps(&k768, rng, pk, ct, ss);
}
static pqcoap_err k768_decaps(const uint8_t *sk, const uint8_t *ct, uint8_t *ss)
{
    return mlkem_decaps(&k768, sk, ct, ss);
}

static pqcoap_err k1024_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, k1024.keypair, pk, sk, k1024.sk_len);
}
static pqcoap_err k1024_encaps(const pqcoap_rng *rng, const uint8_t *pk, uint8_t *ct,
                               uint8_t *ss)
{
    return mlkem_encaps(&k1024, rng, pk, ct, ss);
}
static pqcoap_err k1024_decaps(const uint8_t *sk, const uint8_t *ct, uint8_t *ss)
{
    return mlkem_decaps(&k1024, sk, ct, ss);
}

const pqcoap_kem_alg pqcoap_kem_mlkem512 = {
    "ml-kem-512", PQCLEAN_MLKEM512_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLKEM512_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLKEM512_CLEAN_CRYPTO_CIPHERTEXTBYTES,
    PQCLEAN_MLKEM512_CLEAN_CRYPTO_BYTES, k512_keygen, k512_encaps, k512_decaps,
};

const pqcoap_kem_alg pqcoap_kem_mlkem768 = {
    "ml-kem-768", PQCLEAN_MLKEM768_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLKEM768_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLKEM768_CLEAN_CRYPTO_CIPHERTEXTBYTES,
    PQCLEAN_MLKEM768_CLEAN_CRYPTO_BYTES, k768_keygen, k768_encaps, k768_decaps,
};

const pqcoap_kem_alg pqcoap_kem_mlkem1024 = {
    "ml-kem-1024", PQCLEAN_MLKEM1024_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_MLKEM1024_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_MLKEM1024_CLEAN_CRYPTO_CIPHERTEXTBYTES,
    PQCLEAN_MLKEM1024_CLEAN_CRYPTO_BYTES, k1024_keygen, k1024_encaps, k1024_decaps,
};
