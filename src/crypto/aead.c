/* AES-256-GCM with a 12-byte nonce and 16-byte tag (OpenSSL EVP), AAD given as spans. */
#include "crypto/crypto_internal.h"
#include "crypto/ossl_internal.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* Sets up ctx for one message: key, nonce and the AAD pieces. */
static int gcm_begin(EVP_CIPHER_CTX *ctx, int enc, const uint8_t key[32],
                     const uint8_t nonce[12], const pqcoap_span *aad, size_t naad)
{
    const pqcoap_ossl *o = pqcoap_ossl_get();
    if (o->aes256gcm == NULL)
        return 0;
    /* GCM's default IV length is 12 bytes, the one PQCOAP_AEAD_NONCE_LEN names. */
    if (EVP_CipherInit_ex2(ctx, o->aes256gcm, key, nonce, enc, NULL) != 1)
        return 0;
    for (size_t i = 0; i < naad; i++) {
        int len = 0;
        if (aad[i].n > INT_MAX)
            return 0;
        if (aad[i].n > 0 && EVP_CipherUpdate(ctx, NULL, &len, aad[i].p, (int)aad[i].n) != 1)
            return 0;
    }
    return 1;
}

pqcoap_err pqcoap_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    if (key == NULL || nonce == NULL || (aad == NULL && naad > 0) ||
        (pt == NULL && pt_len > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    if (pt_len > INT_MAX - PQCOAP_AEAD_TAG_LEN)
        return PQCOAP_ERR_TOO_LARGE;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return PQCOAP_ERR_CRYPTO;
    int len = 0, fin = 0;
    int ok = gcm_begin(ctx, 1, key, nonce, aad, naad);
    if (ok && pt_len > 0)
        ok = EVP_EncryptUpdate(ctx, out, &len, pt, (int)pt_len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + len, &fin) == 1 && (size_t)(len + fin) == pt_len;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + pt_len,
                                          PQCOAP_AEAD_TAG_LEN),
        OSSL_PARAM_construct_end(),
    };
    ok = ok && EVP_CIPHER_CTX_get_params(ctx, params) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        pqcoap_wipe(out, pt_len + PQCOAP_AEAD_TAG_LEN);
        return PQCOAP_ERR_CRYPTO;
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_aead_open(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    if (key == NULL || nonce == NULL || (aad == NULL && naad > 0) || ct == NULL ||
        (out == NULL && ct_len > PQCOAP_AEAD_TAG_LEN))
        return PQCOAP_ERR_ARG;
    if (ct_len < PQCOAP_AEAD_TAG_LEN)
        return PQCOAP_ERR_MALFORMED;
    if (ct_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE;
    size_t pt_len = ct_len - PQCOAP_AEAD_TAG_LEN;
    /* The tag is copied first: out may overlap ct. */
    uint8_t tag[PQCOAP_AEAD_TAG_LEN];
    for (size_t i = 0; i < sizeof tag; i++)
        tag[i] = ct[pt_len + i];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return PQCOAP_ERR_CRYPTO;
    int len = 0, fin = 0;
    pqcoap_err err = PQCOAP_ERR_CRYPTO;
    if (gcm_begin(ctx, 0, key, nonce, aad, naad) &&
        (pt_len == 0 || EVP_DecryptUpdate(ctx, out, &len, ct, (int)pt_len) == 1)) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof tag),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_CIPHER_CTX_set_params(ctx, params) == 1) {
            /* OpenSSL compares the tag in constant time. */
            uint8_t none[1];
            uint8_t *end = out != NULL ? out + len : none;
            err = EVP_DecryptFinal_ex(ctx, end, &fin) == 1 && (size_t)(len + fin) == pt_len
                      ? PQCOAP_OK : PQCOAP_ERR_AUTH;
        }
    }
    EVP_CIPHER_CTX_free(ctx);
    if (err != PQCOAP_OK)
        pqcoap_wipe(out, pt_len);
    return err;
}
