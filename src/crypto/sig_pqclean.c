/* Signing and verifying through PQClean's detached-signature functions, shared by the
 * signature families (sig_falcon.c, sig_mldsa.c): the message given as spans is made
 * contiguous and signing draws its randomness from the rng of the call. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include <stdlib.h>
#include <string.h>

/* Messages up to this size are joined on the stack; larger ones on the heap. */
#define JOIN_STACK 2048

/* A message given as spans, made contiguous: `p` is the message, `heap` what to free. */
typedef struct joined {
    const uint8_t *p;
    size_t n;
    uint8_t *heap;
} joined;

/* out->p is never NULL on success, so PQClean never gets a NULL message pointer. */
static pqcoap_err join(const pqcoap_span *msg, size_t n, uint8_t stack[JOIN_STACK], joined *out)
{
    out->heap = NULL;
    if (msg == NULL && n > 0)
        return PQCOAP_ERR_ARG;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if ((msg[i].p == NULL && msg[i].n > 0) || msg[i].n > SIZE_MAX - total)
            return PQCOAP_ERR_ARG;
        total += msg[i].n;
    }
    out->n = total;
    if (n == 1 && msg[0].p != NULL) { /* already contiguous */
        out->p = msg[0].p;
        return PQCOAP_OK;
    }
    uint8_t *dst = stack;
    if (total > JOIN_STACK) {
        dst = out->heap = malloc(total);
        if (dst == NULL)
            return PQCOAP_ERR_NOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (msg[i].n > 0)
            memcpy(dst + at, msg[i].p, msg[i].n);
        at += msg[i].n;
    }
    out->p = dst;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_pqclean_sign(const pqcoap_pqclean_sig *impl, const pqcoap_rng *rng,
                               const uint8_t *sk, const pqcoap_span *msg, size_t n,
                               uint8_t *sig, size_t *sig_len)
{
    if (sk == NULL || sig == NULL || sig_len == NULL)
        return PQCOAP_ERR_ARG;
    uint8_t stack[JOIN_STACK];
    joined m;
    pqcoap_err err = join(msg, n, stack, &m);
    if (err != PQCOAP_OK)
        return err;
    pqcoap_rng_scope scope;
    pqcoap_rng_enter(&scope, rng);
    size_t len = 0;
    int rc = impl->signature(sig, &len, m.p, m.n, sk);
    err = pqcoap_rng_leave(&scope);
    if (err == PQCOAP_OK && (rc != 0 || len == 0 || len > impl->sig_max))
        err = PQCOAP_ERR_CRYPTO;
    free(m.heap);
    *sig_len = err == PQCOAP_OK ? len : 0;
    return err;
}

pqcoap_err pqcoap_pqclean_verify(const pqcoap_pqclean_sig *impl, const uint8_t *pk,
                                 const pqcoap_span *msg, size_t n, const uint8_t *sig,
                                 size_t sig_len)
{
    if (pk == NULL || sig == NULL)
        return PQCOAP_ERR_ARG;
    if (sig_len == 0 || sig_len > impl->sig_max)
        return PQCOAP_ERR_MALFORMED;
    uint8_t stack[JOIN_STACK];
    joined m;
    pqcoap_err err = join(msg, n, stack, &m);
    if (err != PQCOAP_OK)
        return err;
    int rc = impl->verify(sig, sig_len, m.p, m.n, pk);
    free(m.heap);
    return rc == 0 ? PQCOAP_OK : PQCOAP_ERR_AUTH;
}
