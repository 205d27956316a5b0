/* Falcon signing with an expanded private key (the B0 matrix in FFT form and the LDL tree,
 * PQClean's expand_privkey and sign_tree), for the one parameter set named by the including
 * file: FALCON_LOGN, FALCON_NS(x) (the PQClean prefix), FALCON_FN(x) (the exported names);
 * that file includes the set's inner.h and api.h first. The signature is the one
 * crypto_sign_signature makes: header byte 0x30 + logn, 40-byte nonce, compressed s. */
#include <string.h>

#include "common/randombytes.h"
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#define FALCON_N ((size_t)1 << FALCON_LOGN)
#define FALCON_NONCE 40

/* Scratch of expand_privkey and of sign_tree (48 * n bytes each), 64-bit aligned; on the
 * stack, as PQClean's own signing keeps its larger scratch. */
typedef union falcon_tmp {
    uint8_t b[48 * FALCON_N];
    fpr align;
} falcon_tmp;

pqcoap_err FALCON_FN(expand)(const uint8_t *sk, void *ek)
{
    if (sk == NULL || ek == NULL)
        return PQCOAP_ERR_ARG;
    const size_t sk_len = FALCON_NS(CRYPTO_SECRETKEYBYTES);
    struct {
        int8_t f[FALCON_N], g[FALCON_N], F[FALCON_N], G[FALCON_N];
        falcon_tmp tmp;
    } key, *k = &key;
    /* The private key: header 0x50 + logn, then f, g and F (pqclean.c, "private key"). */
    size_t u = 1, v = 0;
    int ok = sk[0] == 0x50 + FALCON_LOGN;
    ok = ok && (v = FALCON_NS(trim_i8_decode)(k->f, FALCON_LOGN,
                FALCON_NS(max_fg_bits)[FALCON_LOGN], sk + u, sk_len - u)) != 0;
    u += v;
    ok = ok && (v = FALCON_NS(trim_i8_decode)(k->g, FALCON_LOGN,
                FALCON_NS(max_fg_bits)[FALCON_LOGN], sk + u, sk_len - u)) != 0;
    u += v;
    ok = ok && (v = FALCON_NS(trim_i8_decode)(k->F, FALCON_LOGN,
                FALCON_NS(max_FG_bits)[FALCON_LOGN], sk + u, sk_len - u)) != 0;
    u += v;
    ok = ok && u == sk_len &&
         FALCON_NS(complete_private)(k->G, k->f, k->g, k->F, FALCON_LOGN, k->tmp.b);
    if (ok)
        FALCON_NS(expand_privkey)((fpr *)ek, k->f, k->g, k->F, k->G, FALCON_LOGN, k->tmp.b);
    pqcoap_wipe(k, sizeof *k);
    return ok ? PQCOAP_OK : PQCOAP_ERR_ARG;
}

pqcoap_err FALCON_FN(sign_ek)(const pqcoap_rng *rng, const void *ek, const pqcoap_span *msg,
                              size_t n, uint8_t *sig, size_t *sig_len)
{
    if (ek == NULL || (msg == NULL && n > 0) || sig == NULL || sig_len == NULL)
        return PQCOAP_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (msg[i].p == NULL && msg[i].n > 0)
            return PQCOAP_ERR_ARG;
    *sig_len = 0;
    falcon_tmp scratch, *tmp = &scratch;
    struct {
        int16_t sig[FALCON_N];
        uint16_t hm[FALCON_N];
        uint8_t seed[48];
    } r;
    const size_t value_max = FALCON_NS(CRYPTO_BYTES) - 1 - FALCON_NONCE;
    size_t value_len = 0;
    pqcoap_rng_scope scope;
    pqcoap_rng_enter(&scope, rng);
    /* The encoding fails (rarely) when s does not fit: sign again with a new nonce, as the
     * Falcon reference does. */
    for (int attempt = 0; attempt < 8 && value_len == 0; attempt++) {
        inner_shake256_context sc;
        /* hm = HashToPoint(nonce || message) */
        randombytes(sig + 1, FALCON_NONCE);
        inner_shake256_init(&sc);
        inner_shake256_inject(&sc, sig + 1, FALCON_NONCE);
        for (size_t i = 0; i < n; i++)
            if (msg[i].n > 0)
                inner_shake256_inject(&sc, msg[i].p, msg[i].n);
        inner_shake256_flip(&sc);
        FALCON_NS(hash_to_point_ct)(&sc, r.hm, FALCON_LOGN, tmp->b);
        inner_shake256_ctx_release(&sc);
        /* the sampler's randomness */
        randombytes(r.seed, sizeof r.seed);
        inner_shake256_init(&sc);
        inner_shake256_inject(&sc, r.seed, sizeof r.seed);
        inner_shake256_flip(&sc);
        FALCON_NS(sign_tree)(r.sig, &sc, (const fpr *)ek, r.hm, FALCON_LOGN, tmp->b);
        inner_shake256_ctx_release(&sc);
        value_len = FALCON_NS(comp_encode)(sig + 1 + FALCON_NONCE, value_max, r.sig, FALCON_LOGN);
    }
    pqcoap_err err = pqcoap_rng_leave(&scope);
    pqcoap_wipe(tmp, sizeof *tmp);
    pqcoap_wipe(&r, sizeof r);
    if (err == PQCOAP_OK && value_len == 0)
        err = PQCOAP_ERR_CRYPTO;
    if (err != PQCOAP_OK)
        return err;
    sig[0] = 0x30 + FALCON_LOGN;
    *sig_len = 1 + FALCON_NONCE + value_len;
    return PQCOAP_OK;
}
