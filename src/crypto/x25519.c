/* X25519 Diffie-Hellman (RFC 7748) over OpenSSL raw keys. */
#include "crypto/crypto_internal.h"

#include <openssl/evp.h>

pqcoap_err pqcoap_x25519_public(const uint8_t sk[32], uint8_t pk[32])
{
    if (sk == NULL || pk == NULL)
        return PQCOAP_ERR_ARG;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, sk, PQCOAP_X25519_LEN);
    size_t len = PQCOAP_X25519_LEN;
    int ok = key != NULL && EVP_PKEY_get_raw_public_key(key, pk, &len) == 1 &&
             len == PQCOAP_X25519_LEN;
    EVP_PKEY_free(key);
    return ok ? PQCOAP_OK : PQCOAP_ERR_CRYPTO;
}

pqcoap_err pqcoap_x25519_keygen(const pqcoap_rng *rng, uint8_t pk[32], uint8_t sk[32])
{
    if (pk == NULL || sk == NULL)
        return PQCOAP_ERR_ARG;
    /* RFC 7748 section 6.1: the secret key is 32 random bytes (clamped by X25519 itself). */
    pqcoap_err err = pqcoap_random(rng, sk, PQCOAP_X25519_LEN);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_public(sk, pk);
    if (err != PQCOAP_OK)
        pqcoap_wipe(sk, PQCOAP_X25519_LEN);
    return err;
}

pqcoap_err pqcoap_x25519_derive(const uint8_t sk[32], const uint8_t peer_pk[32], uint8_t ss[32])
{
    if (sk == NULL || peer_pk == NULL || ss == NULL)
        return PQCOAP_ERR_ARG;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, sk, PQCOAP_X25519_LEN);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pk,
                                                    PQCOAP_X25519_LEN);
    EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
    pqcoap_err err = PQCOAP_ERR_CRYPTO;
    if (ctx != NULL && peer != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
        EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1) {
        size_t len = PQCOAP_X25519_LEN;
        /* OpenSSL refuses to output the all-zero value of a low-order peer point. */
        err = EVP_PKEY_derive(ctx, ss, &len) == 1 && len == PQCOAP_X25519_LEN
                  ? PQCOAP_OK : PQCOAP_ERR_AUTH;
    }
    /* RFC 7748 section 6.1: check that the shared secret is not all zero. */
    static const uint8_t zero[PQCOAP_X25519_LEN];
    if (err == PQCOAP_OK && pqcoap_ct_equal(ss, zero, sizeof zero))
        err = PQCOAP_ERR_AUTH;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    if (err != PQCOAP_OK)
        pqcoap_wipe(ss, PQCOAP_X25519_LEN);
    return err;
}
