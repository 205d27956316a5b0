/* The COSE AEAD algorithms OSCORE uses (RFC 8613 section 3.1, RFC 8152 section 10):
 * AES-CCM-16-64-128, AES-CCM-16-128-256 and A256GCM, over nettle. A key is set once into a
 * caller-owned pqcoap_cose_aead_key (the AES key schedule and, for GCM, GHASH's key table);
 * each message then only keys its nonce, in a small state on the stack. No allocation. */
#include "crypto/crypto_internal.h"

#include <limits.h>
#include <string.h>

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

pqcoap_err pqcoap_cose_key_set(pqcoap_cose_aead_key *k, const pqcoap_cose_aead *alg,
                               const uint8_t *key)
{
    if (k == NULL || alg == NULL || key == NULL)
        return PQCOAP_ERR_ARG;
    memset(k, 0, sizeof *k);
    if (alg->id == 10) {
        aes128_set_encrypt_key(&k->u.aes128, key);
    } else if (alg->id == 31) {
        aes256_set_encrypt_key(&k->u.aes256, key);
    } else if (alg->id == 3) {
        aes256_set_encrypt_key(&k->u.gcm.aes, key);
        gcm_set_key(&k->u.gcm.h, &k->u.gcm.aes, (nettle_cipher_func *)aes256_encrypt);
    } else {
        return PQCOAP_ERR_UNSUPPORTED;
    }
    k->alg = alg;
    return PQCOAP_OK;
}

/* Encrypts (enc) or decrypts len bytes of in into out under key k, with the AAD in one
 * piece, and writes the tag the data gives to tag[k->alg->tag_len]. k is only read. */
static void run(const pqcoap_cose_aead_key *k, int enc, const uint8_t *nonce,
                const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                uint8_t *out, uint8_t *tag)
{
    static const uint8_t none[1];
    if (aad_len == 0)
        aad = none;
    const pqcoap_cose_aead *alg = k->alg;
    if (alg->id == 3) {
        nettle_cipher_func *aes = (nettle_cipher_func *)aes256_encrypt;
        struct gcm_ctx c;
        gcm_set_iv(&c, &k->u.gcm.h, alg->nonce_len, nonce);
        gcm_update(&c, &k->u.gcm.h, aad_len, aad);
        (enc ? gcm_encrypt : gcm_decrypt)(&c, &k->u.gcm.h, &k->u.gcm.aes, aes, len, out, in);
        gcm_digest(&c, &k->u.gcm.h, &k->u.gcm.aes, aes, alg->tag_len, tag);
        pqcoap_wipe(&c, sizeof c);
        return;
    }
    nettle_cipher_func *aes = alg->id == 10 ? (nettle_cipher_func *)aes128_encrypt
                                            : (nettle_cipher_func *)aes256_encrypt;
    struct ccm_ctx c;
    ccm_set_nonce(&c, &k->u, aes, alg->nonce_len, nonce, aad_len, len, alg->tag_len);
    ccm_update(&c, &k->u, aes, aad_len, aad);
    (enc ? ccm_encrypt : ccm_decrypt)(&c, &k->u, aes, len, out, in);
    ccm_digest(&c, &k->u, aes, alg->tag_len, tag);
    pqcoap_wipe(&c, sizeof c);
}

pqcoap_err pqcoap_cose_key_seal(const pqcoap_cose_aead_key *k, const uint8_t *nonce,
                                const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                                size_t pt_len, uint8_t *out)
{
    if (k == NULL || k->alg == NULL || nonce == NULL || (aad == NULL && aad_len > 0) ||
        (pt == NULL && pt_len > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    if (pt_len > 65535 || aad_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE; /* CCM-16 carries the length in 16 bits */
    run(k, 1, nonce, aad, aad_len, pt, pt_len, out, out + pt_len);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_cose_key_open(const pqcoap_cose_aead_key *k, const uint8_t *nonce,
                                const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                                size_t ct_len, uint8_t *out)
{
    if (k == NULL || k->alg == NULL || nonce == NULL || (aad == NULL && aad_len > 0) ||
        ct == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    size_t tag_len = k->alg->tag_len;
    if (ct_len < tag_len)
        return PQCOAP_ERR_MALFORMED;
    size_t len = ct_len - tag_len;
    if (len > 65535 || aad_len > INT_MAX)
        return PQCOAP_ERR_TOO_LARGE;
    uint8_t tag[PQCOAP_COSE_TAG_MAX], expect[PQCOAP_COSE_TAG_MAX];
    memcpy(tag, ct + len, tag_len); /* copied first: out may overlap ct */
    run(k, 0, nonce, aad, aad_len, ct, len, out, expect);
    if (!pqcoap_ct_equal(tag, expect, tag_len)) {
        pqcoap_wipe(out, len);
        return PQCOAP_ERR_AUTH;
    }
    return PQCOAP_OK;
}

/* The one-shot forms: a key state on the stack for one call (GCM's is 4.3 KB), wiped. */
static pqcoap_err one_call(int enc, const pqcoap_cose_aead *alg, const uint8_t *key,
                           const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t len, uint8_t *out)
{
    pqcoap_cose_aead_key k;
    pqcoap_err err = pqcoap_cose_key_set(&k, alg, key);
    if (err == PQCOAP_OK)
        err = (enc ? pqcoap_cose_key_seal : pqcoap_cose_key_open)(&k, nonce, aad, aad_len, in,
                                                                  len, out);
    pqcoap_wipe(&k, sizeof k);
    return err;
}

pqcoap_err pqcoap_cose_seal(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    return one_call(1, alg, key, nonce, aad, aad_len, pt, pt_len, out);
}

pqcoap_err pqcoap_cose_open(const pqcoap_cose_aead *alg, const uint8_t *key,
                            const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    return one_call(0, alg, key, nonce, aad, aad_len, ct, ct_len, out);
}
