/* The COSE AEAD algorithms OSCORE uses (RFC 8613 section 3.1, RFC 8152 section 10):
 * AES-CCM-16-64-128, AES-CCM-16-128-256 and A256GCM, over nettle. The cipher state lives on
 * the stack for one call: no allocation, nothing kept between messages. */
#include "crypto/crypto_internal.h"

#include <limits.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/ccm.h>
#include <nettle/gcm.h>

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

/* The cipher states of one call: AES-128 or AES-256 under CCM, or AES-256-GCM. */
typedef struct cose_ctx {
    union {
        struct aes128_ctx aes128;
        struct aes256_ctx aes256;
    } aes;
    struct ccm_ctx ccm;
    struct gcm_aes256_ctx gcm;
} cose_ctx;

/* Encrypts (enc) or decrypts len bytes of in into out under the algorithm, with the AAD in
 * one piece, and writes the tag the data gives to tag[alg->tag_len]. Returns 0 for an
 * unknown algorithm. */
static int run(const pqcoap_cose_aead *alg, int enc, const uint8_t *key, const uint8_t *nonce,
               const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
               uint8_t *out, uint8_t *tag)
{
    static const uint8_t none[1];
    if (aad_len == 0)
        aad = none;
    cose_ctx c;
    nettle_cipher_func *aes = NULL; /* CCM's block cipher, keyed in c.aes */
    if (alg->id == 10) {
        aes128_set_encrypt_key(&c.aes.aes128, key);
        aes = (nettle_cipher_func *)aes128_encrypt;
    } else if (alg->id == 31) {
        aes256_set_encrypt_key(&c.aes.aes256, key);
        aes = (nettle_cipher_func *)aes256_encrypt;
    } else if (alg->id != 3) {
        return 0;
    }
    if (aes != NULL) {
        ccm_set_nonce(&c.ccm, &c.aes, aes, alg->nonce_len, nonce, aad_len, len, alg->tag_len);
        ccm_update(&c.ccm, &c.aes, aes, aad_len, aad);
        (enc ? ccm_encrypt : ccm_decrypt)(&c.ccm, &c.aes, aes, len, out, in);
        ccm_digest(&c.ccm, &c.aes, aes, alg->tag_len, tag);
        pqcoap_wipe(&c.aes, sizeof c.aes);
        pqcoap_wipe(&c.ccm, sizeof c.ccm);
    } else {
        gcm_aes256_set_key(&c.gcm, key);
        gcm_aes256_set_iv(&c.gcm, alg->nonce_len, nonce);
        gcm_aes256_update(&c.gcm, aad_len, aad);
        (enc ? gcm_aes256_encrypt : gcm_aes256_decrypt)(&c.gcm, len, out, in);
        gcm_aes256_digest(&c.gcm, alg->tag_len, tag);
        pqcoap_wipe(&c.gcm, sizeof c.gcm); /* only the state used: GCM's is 4.4 KB */
    }
    return 1;
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
    uint8_t tag[PQCOAP_COSE_TAG_MAX], expect[PQCOAP_COSE_TAG_MAX];
    memcpy(tag, ct + len, alg->tag_len); /* copied first: out may overlap ct */
    if (!run(alg, 0, key, nonce, aad, aad_len, ct, len, out, expect) ||
        !pqcoap_ct_equal(tag, expect, alg->tag_len)) {
        pqcoap_wipe(out, len);
        return PQCOAP_ERR_AUTH;
    }
    return PQCOAP_OK;
}
