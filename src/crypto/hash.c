/* SHA-256 and HMAC-SHA256 (OpenSSL), and HKDF-SHA256 (RFC 5869) built on that HMAC. */
#include "crypto/crypto_internal.h"
#include "crypto/ossl_internal.h"

#include <openssl/evp.h>

pqcoap_err pqcoap_sha256(const pqcoap_span *in, size_t n, uint8_t out[32])
{
    if ((in == NULL && n > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    const pqcoap_ossl *o = pqcoap_ossl_get();
    if (o->sha256 == NULL)
        return PQCOAP_ERR_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return PQCOAP_ERR_CRYPTO;
    int ok = EVP_DigestInit_ex2(ctx, o->sha256, NULL);
    for (size_t i = 0; ok && i < n; i++)
        if (in[i].n > 0)
            ok = EVP_DigestUpdate(ctx, in[i].p, in[i].n);
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == PQCOAP_SHA256_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? PQCOAP_OK : PQCOAP_ERR_CRYPTO;
}

pqcoap_err pqcoap_hmac_sha256(const uint8_t *key, size_t key_len,
                              const pqcoap_span *in, size_t n, uint8_t out[32])
{
    static const uint8_t empty_key[1];
    if ((key == NULL && key_len > 0) || (in == NULL && n > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    /* A NULL key would make EVP_MAC_init keep the template's key: pass a real pointer. */
    if (key == NULL)
        key = empty_key;
    const pqcoap_ossl *o = pqcoap_ossl_get();
    if (o->hmac == NULL)
        return PQCOAP_ERR_CRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(o->hmac);
    if (ctx == NULL)
        return PQCOAP_ERR_CRYPTO;
    int ok = EVP_MAC_init(ctx, key, key_len, NULL);
    for (size_t i = 0; ok && i < n; i++)
        if (in[i].n > 0)
            ok = EVP_MAC_update(ctx, in[i].p, in[i].n);
    size_t len = 0;
    ok = ok && EVP_MAC_final(ctx, out, &len, PQCOAP_SHA256_LEN) && len == PQCOAP_SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok ? PQCOAP_OK : PQCOAP_ERR_CRYPTO;
}

pqcoap_err pqcoap_hkdf_extract(const uint8_t *salt, size_t salt_len,
                               const pqcoap_span *ikm, size_t n, uint8_t prk[32])
{
    /* RFC 5869 section 2.2: salt not provided -> HashLen zeros. */
    static const uint8_t zero_salt[PQCOAP_SHA256_LEN];
    if (salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    return pqcoap_hmac_sha256(salt, salt_len, ikm, n, prk);
}

pqcoap_err pqcoap_hkdf_expand(const uint8_t *prk, size_t prk_len,
                              const uint8_t *info, size_t info_len,
                              uint8_t *out, size_t out_len)
{
    /* RFC 5869 section 2.3: PRK of at least HashLen octets, L <= 255*HashLen. */
    if (prk == NULL || prk_len < PQCOAP_SHA256_LEN || (info == NULL && info_len > 0) ||
        (out == NULL && out_len > 0) || out_len > 255 * PQCOAP_SHA256_LEN)
        return PQCOAP_ERR_ARG;
    uint8_t t[PQCOAP_SHA256_LEN];
    size_t t_len = 0;
    pqcoap_err err = PQCOAP_OK;
    for (size_t done = 0, i = 1; done < out_len; i++) {
        /* T(i) = HMAC-Hash(PRK, T(i-1) | info | i) */
        const uint8_t ctr = (uint8_t)i;
        const pqcoap_span in[3] = {{t, t_len}, {info, info_len}, {&ctr, 1}};
        err = pqcoap_hmac_sha256(prk, prk_len, in, 3, t);
        if (err != PQCOAP_OK)
            break;
        t_len = sizeof t;
        size_t take = out_len - done < t_len ? out_len - done : t_len;
        for (size_t k = 0; k < take; k++)
            out[done + k] = t[k];
        done += take;
    }
    pqcoap_wipe(t, sizeof t);
    if (err != PQCOAP_OK)
        pqcoap_wipe(out, out_len);
    return err;
}
