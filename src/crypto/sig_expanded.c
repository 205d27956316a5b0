/* Expanded secret keys (pqcoap_expanded_key): making them, and signing from one where the
 * holder keeps it. */
#include "pqcoap/keys.h"

#include <string.h>

#include "crypto/crypto_internal.h"

_Static_assert(PQCOAP_EK_MAX >= PQCOAP_FALCON512_EK_LEN && PQCOAP_EK_MAX >= PQCOAP_FALCON1024_EK_LEN,
               "PQCOAP_EK_MAX too small");

pqcoap_err pqcoap_sig_expand(const pqcoap_sig_alg *alg, const uint8_t *sk,
                             pqcoap_expanded_key *out)
{
    if (alg == NULL || sk == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    out->len = 0;
    if (alg->ek_len == 0)
        return PQCOAP_OK;
    pqcoap_err err = alg->expand(sk, out->k);
    if (err != PQCOAP_OK) {
        pqcoap_wipe(out->k, alg->ek_len);
        return err;
    }
    out->len = alg->ek_len;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_expanded_key_make(const char *alg, const uint8_t *sk, size_t sk_len,
                                    pqcoap_expanded_key *out)
{
    if (alg == NULL || sk == NULL || out == NULL)
        return PQCOAP_ERR_ARG;
    const pqcoap_sig_alg *a = pqcoap_sig_alg_by_name((const uint8_t *)alg, strlen(alg));
    if (a == NULL)
        return PQCOAP_ERR_UNSUPPORTED;
    if (sk_len != a->sk_len)
        return PQCOAP_ERR_ARG;
    return pqcoap_sig_expand(a, sk, out);
}

pqcoap_err pqcoap_sig_sign(const pqcoap_sig_alg *alg, const pqcoap_rng *rng, const uint8_t *sk,
                           const void *ek, size_t ek_len, const pqcoap_span *msg, size_t n,
                           uint8_t *sig, size_t *sig_len)
{
    if (alg == NULL)
        return PQCOAP_ERR_ARG;
    if (ek != NULL && ek_len != 0 && ek_len == alg->ek_len)
        return alg->sign_ek(rng, ek, msg, n, sig, sig_len);
    return alg->sign(rng, sk, msg, n, sig, sig_len);
}
