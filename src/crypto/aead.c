/* AES-256-GCM with a 12-byte nonce and 16-byte tag (nettle), AAD given as spans. The cipher
 * state lives on the stack for one call: no allocation, nothing kept between messages. */
#include "crypto/crypto_internal.h"

#include <limits.h>
#include <string.h>

#include <nettle/gcm.h>

/* Keys ctx and feeds it the nonce and the AAD pieces. nettle takes AAD in whole blocks
 * except for the last call, so the pieces go through a one-block buffer. */
static void gcm_begin(struct gcm_aes256_ctx *ctx, const uint8_t key[32], const uint8_t nonce[12],
                      const pqcoap_span *aad, size_t naad)
{
    gcm_aes256_set_key(ctx, key);
    gcm_aes256_set_iv(ctx, PQCOAP_AEAD_NONCE_LEN, nonce);
    uint8_t block[GCM_BLOCK_SIZE];
    size_t held = 0;
    for (size_t i = 0; i < naad; i++) {
        const uint8_t *p = aad[i].p;
        size_t n = aad[i].n;
        if (n == 0)
            continue;
        if (held > 0) {
            size_t take = n < GCM_BLOCK_SIZE - held ? n : GCM_BLOCK_SIZE - held;
            memcpy(block + held, p, take);
            held += take;
            p += take;
            n -= take;
            if (held < GCM_BLOCK_SIZE)
                continue;
            gcm_aes256_update(ctx, GCM_BLOCK_SIZE, block);
            held = 0;
        }
        size_t whole = n - n % GCM_BLOCK_SIZE;
        if (whole > 0)
            gcm_aes256_update(ctx, whole, p);
        if (n > whole)
            memcpy(block, p + whole, n - whole);
        held = n - whole;
    }
    if (held > 0)
        gcm_aes256_update(ctx, held, block);
}

pqcoap_err pqcoap_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    if (key == NULL || nonce == NULL || (aad == NULL && naad > 0) ||
        (pt == NULL && pt_len > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    for (size_t i = 0; i < naad; i++)
        if (aad[i].p == NULL && aad[i].n > 0)
            return PQCOAP_ERR_ARG;
    if (pt_len > INT_MAX - PQCOAP_AEAD_TAG_LEN)
        return PQCOAP_ERR_TOO_LARGE;
    struct gcm_aes256_ctx ctx;
    gcm_begin(&ctx, key, nonce, aad, naad);
    if (pt_len > 0)
        gcm_aes256_encrypt(&ctx, pt_len, out, pt);
    gcm_aes256_digest(&ctx, PQCOAP_AEAD_TAG_LEN, out + pt_len);
    pqcoap_wipe(&ctx, sizeof ctx);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_aead_open(const uint8_t key[32], const uint8_t nonce[12],
                            const pqcoap_span *aad, size_t naad,
                            const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    if (key == NULL || nonce == NULL || (aad == NULL && naad > 0) || ct == NULL ||
        (out == NULL && ct_len > PQCOAP_AEAD_TAG_LEN))
        return PQCOAP_ERR_ARG;
    for (size_t i = 0; i < naad; i++)
        if (aad[i].p == NULL && aad[i].n > 0)
            return PQCOAP_ERR_ARG;
    if (ct_len < PQCOAP_AEAD_TAG_LEN)
        return PQCOAP_ERR_MALFORMED;
    if (ct_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE;
    size_t pt_len = ct_len - PQCOAP_AEAD_TAG_LEN;
    /* The tag is copied first: out may overlap ct. */
    uint8_t tag[PQCOAP_AEAD_TAG_LEN], expect[PQCOAP_AEAD_TAG_LEN];
    memcpy(tag, ct + pt_len, sizeof tag);
    struct gcm_aes256_ctx ctx;
    gcm_begin(&ctx, key, nonce, aad, naad);
    if (pt_len > 0)
        gcm_aes256_decrypt(&ctx, pt_len, out, ct);
    gcm_aes256_digest(&ctx, sizeof expect, expect);
    pqcoap_wipe(&ctx, sizeof ctx);
    if (!pqcoap_ct_equal(tag, expect, sizeof tag)) {
        if (pt_len > 0)
            pqcoap_wipe(out, pt_len);
        return PQCOAP_ERR_AUTH;
    }
    return PQCOAP_OK;
}
