/* The COSE AEAD algorithms OSCORE uses (RFC 8613 section 3.1, RFC 8152 section 10):
 * AES-CCM-16-64-128, AES-CCM-16-128-256 and A256GCM, over OpenSSL EVP. */
#include "crypto/crypto_internal.h"
#include "crypto/ossl_internal.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static const pqcoap_cose_aead algs[] = {
    {10, 16, 13, 8},    /* AES-CCM-16-64-128: 16-bit length field, 64-bit tag, 128-bit key */
    {31, 32, 13, 16},   /* AES-CCM-16-128-256 */
    {3, 32, 12, 16},    /* A256GCM */
};

const pqcoap_cose_aead *pqcoap_cose_aead_find(int id)
{
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (algs[i].id == id)
            return &algs[i];
    return NULL;
}

static const EVP_CIPHER *cipher_of(const pqcoap_cose_aead *alg)
{
    const pqcoap_ossl *o = pqcoap_ossl_get();
    switch (alg->id) {
    case 10: return o->aes128ccm;
    case 31: return o->aes256ccm;
    case 3: return o->aes256gcm;
    default: return NULL;
    }
}

static int is_ccm(const pqcoap_cose_aead *alg)
{
    return alg->nonce_len == 13;
}

/* One message of the algorithm: key, nonce, tag length (CCM), the expected tag when
 * decrypting (CCM wants it before the data), the total length (CCM) and the AAD; then the
 * data. Returns 1 when every step succeeded (for CCM decryption: the tag verified). */
static int run(const pqcoap_cose_aead *alg, int enc, const uint8_t *key, const uint8_t *nonce,
               const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
               uint8_t *out, uint8_t *tag)
{
    const EVP_CIPHER *c = cipher_of(alg);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (c == NULL || ctx == NULL) {
        EVP_CIPHER_CTX_free(ctx);
        return 0;
    }
    size_t nonce_len = alg->nonce_len, tag_len = alg->tag_len;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &nonce_len),
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, enc ? NULL : tag,
                                          tag_len),
        OSSL_PARAM_construct_end(),
    };
    int l = 0, ok = EVP_CipherInit_ex2(ctx, c, NULL, NULL, enc, NULL) == 1;
    if (is_ccm(alg))
        ok = ok && EVP_CIPHER_CTX_set_params(ctx, params) == 1;
    ok = ok && EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc, NULL) == 1;
    if (is_ccm(alg))
        ok = ok && EVP_CipherUpdate(ctx, NULL, &l, NULL, (int)len) == 1;
    if (aad_len > 0)
        ok = ok && EVP_CipherUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1;
    if (!is_ccm(alg) && !enc)
        ok = ok && EVP_CIPHER_CTX_set_params(ctx, params + 1) == 1;
    /* CCM must see the data in one call even when it is empty. */
    if (len > 0 || is_ccm(alg)) {
        uint8_t none[1];
        ok = ok && EVP_CipherUpdate(ctx, len > 0 ? out : none, &l, len > 0 ? in : none,
                                    (int)len) == 1;
    }
    if (!is_ccm(alg)) {
        uint8_t fin[16];
        ok = ok && EVP_CipherFinal_ex(ctx, fin, &l) == 1 && l == 0;
    }
    if (enc) {
        OSSL_PARAM get[] = {
            OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, tag_len),
            OSSL_PARAM_construct_end(),
        };
        ok = ok && EVP_CIPHER_CTX_get_params(ctx, get) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

pqcoap_err pqcoap_cose_seal(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    if (alg == NULL || key == NULL || nonce == NULL || (aad == NULL && aad_len > 0) ||
        (pt == NULL && pt_len > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    if (pt_len > 65535 || aad_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE; /* CCM-16 carries the length in 16 bits */
    if (!run(alg, 1, key, nonce, aad, aad_len, pt, pt_len, out, out + pt_len)) {
        pqcoap_wipe(out, pt_len + alg->tag_len);
        return PQCOAP_ERR_CRYPTO;
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_cose_open(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    if (alg == NULL || key == NULL || nonce == NULL || (aad == NULL && aad_len > 0) ||
        ct == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    if (ct_len < alg->tag_len)
        return PQCOAP_ERR_MALFORMED;
    size_t len = ct_len - alg->tag_len;
    if (len > 65535 || aad_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE;
    uint8_t tag[PQCOAP_COSE_TAG_MAX];
    for (size_t i = 0; i < alg->tag_len; i++) /* copied first: out may overlap ct */
        tag[i] = ct[len + i];
    /* OpenSSL compares the tag in constant time. */
    if (!run(alg, 0, key, nonce, aad, aad_len, ct, len, out, tag)) {
        pqcoap_wipe(out, len);
        return PQCOAP_ERR_AUTH;
    }
    return PQCOAP_OK;
}
