/* SHA-256 and HMAC-SHA256 (nettle), and HKDF-SHA256 (RFC 5869) built on that HMAC. Every
 * state lives on the caller's stack for one call: no allocation, nothing kept between calls. */
#include "crypto/crypto_internal.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>

pqcoap_err pqcoap_sha256(const pqcoap_span *in, size_t n, uint8_t out[32])
{
    if ((in == NULL && n > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < n; i++)
        if (in[i].n > 0)
            sha256_update(&ctx, in[i].n, in[i].p);
    sha256_digest(&ctx, PQCOAP_SHA256_LEN, out);
    return PQCOAP_OK;
}

/* Keys ctx with key[0..key_len); NULL with length 0 is the empty key. */
static void hmac_key(struct hmac_sha256_ctx *ctx, const uint8_t *key, size_t key_len)
{
    static const uint8_t empty_key[1];
    hmac_sha256_set_key(ctx, key_len, key != NULL ? key : empty_key);
}

static void hmac_pieces(struct hmac_sha256_ctx *ctx, const pqcoap_span *in, size_t n,
                        uint8_t out[32])
{
    for (size_t i = 0; i < n; i++)
        if (in[i].n > 0)
            hmac_sha256_update(ctx, in[i].n, in[i].p);
    /* The digest also puts ctx back to its keyed start, ready for the next message. */
    hmac_sha256_digest(ctx, PQCOAP_SHA256_LEN, out);
}

pqcoap_err pqcoap_hmac_sha256(const uint8_t *key, size_t key_len,
                              const pqcoap_span *in, size_t n, uint8_t out[32])
{
    if ((key == NULL && key_len > 0) || (in == NULL && n > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    struct hmac_sha256_ctx ctx;
    hmac_key(&ctx, key, key_len);
    hmac_pieces(&ctx, in, n, out);
    pqcoap_wipe(&ctx, sizeof ctx);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_hmac_sha256_each(const uint8_t *key, size_t key_len, const pqcoap_span *in,
                                   size_t n, uint8_t (*out)[PQCOAP_SHA256_LEN])
{
    if ((key == NULL && key_len > 0) || (in == NULL && n > 0) || (out == NULL && n > 0))
        return PQCOAP_ERR_ARG;
    struct hmac_sha256_ctx ctx;
    hmac_key(&ctx, key, key_len); /* the inner and outer pads, once for all n messages */
    for (size_t i = 0; i < n; i++)
        hmac_pieces(&ctx, &in[i], 1, out[i]);
    pqcoap_wipe(&ctx, sizeof ctx);
    return PQCOAP_OK;
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
    struct hmac_sha256_ctx ctx;
    hmac_key(&ctx, prk, prk_len); /* one key for every block */
    uint8_t t[PQCOAP_SHA256_LEN];
    size_t t_len = 0;
    for (size_t done = 0, i = 1; done < out_len; i++) {
        /* T(i) = HMAC-Hash(PRK, T(i-1) | info | i) */
        const uint8_t ctr = (uint8_t)i;
        const pqcoap_span in[3] = {{t, t_len}, {info, info_len}, {&ctr, 1}};
        hmac_pieces(&ctx, in, 3, t);
        t_len = sizeof t;
        size_t take = out_len - done < t_len ? out_len - done : t_len;
        for (size_t k = 0; k < take; k++)
            out[done + k] = t[k];
        done += take;
    }
    pqcoap_wipe(t, sizeof t);
    pqcoap_wipe(&ctx, sizeof ctx);
    return PQCOAP_OK;
}
