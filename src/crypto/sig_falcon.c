/* Falcon-512 and Falcon-1024 signatures (PQClean clean implementations, detached,
 * compressed, variable length) behind pqcoap_sig_alg tables. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto_sign/falcon-1024/clean/api.h"
#include "crypto_sign/falcon-512/clean/api.h"

/* The PQClean entry points of one parameter set. */
typedef struct falcon_impl {
    int (*keypair)(uint8_t *pk, uint8_t *sk);
    int (*signature)(uint8_t *sig, size_t *siglen, const uint8_t *m, size_t mlen,
                     const uint8_t *sk);
    int (*verify)(const uint8_t *sig, size_t siglen, const uint8_t *m, size_t mlen,
                  const uint8_t *pk);
    size_t sk_len, sig_max;
} falcon_impl;

static const falcon_impl f512 = {
    PQCLEAN_FALCON512_CLEAN_crypto_sign_keypair, PQCLEAN_FALCON512_CLEAN_crypto_sign_signature,
    PQCLEAN_FALCON512_CLEAN_crypto_sign_verify,
    PQCLEAN_FALCON512_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON512_CLEAN_CRYPTO_BYTES,
};
static const falcon_impl f1024 = {
    PQCLEAN_FALCON1024_CLEAN_crypto_sign_keypair, PQCLEAN_FALCON1024_CLEAN_crypto_sign_signature,
    PQCLEAN_FALCON1024_CLEAN_crypto_sign_verify,
    PQCLEAN_FALCON1024_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON1024_CLEAN_CRYPTO_BYTES,
};

/* Messages up to this size are joined on the stack; larger ones on the heap. */
#define JOIN_STACK 2048

/* A message given as spans, made contiguous: `p` is the message, `heap` what to free. */
typedef struct joined {
    const uint8_t *p;
    size_t n;
    uint8_t *heap;
} joined;

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
    if (n == 1) { /* already contiguous */
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

static pqcoap_err falcon_sign(const falcon_impl *f, const pqcoap_rng *rng, const uint8_t *sk,
                              const pqcoap_span *msg, size_t n, uint8_t *sig, size_t *sig_len)
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
    int rc = f->signature(sig, &len, m.p, m.n, sk);
    err = pqcoap_rng_leave(&scope);
    if (err == PQCOAP_OK && (rc != 0 || len == 0 || len > f->sig_max))
        err = PQCOAP_ERR_CRYPTO;
    free(m.heap);
    *sig_len = err == PQCOAP_OK ? len : 0;
    return err;
}

static pqcoap_err falcon_verify(const falcon_impl *f, const uint8_t *pk, const pqcoap_span *msg,
                                size_t n, const uint8_t *sig, size_t sig_len)
{
    if (pk == NULL || sig == NULL)
        return PQCOAP_ERR_ARG;
    if (sig_len == 0 || sig_len > f->sig_max)
        return PQCOAP_ERR_MALFORMED;
    uint8_t stack[JOIN_STACK];
    joined m;
    pqcoap_err err = join(msg, n, stack, &m);
    if (err != PQCOAP_OK)
        return err;
    int rc = f->verify(sig, sig_len, m.p, m.n, pk);
    free(m.heap);
    return rc == 0 ? PQCOAP_OK : PQCOAP_ERR_AUTH;
}

static pqcoap_err f512_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, f512.keypair, pk, sk, f512.sk_len);
}
static pqcoap_err f512_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                            size_t n, uint8_t *sig, size_t *sig_len)
{
    return falcon_sign(&f512, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err f512_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                              const uint8_t *sig, size_t sig_len)
{
    return falcon_verify(&f512, pk, msg, n, sig, sig_len);
}

static pqcoap_err f1024_keygen(const pqcoap_rng *rng, uint8_t *pk, uint8_t *sk)
{
    return pqcoap_rng_keypair(rng, f1024.keypair, pk, sk, f1024.sk_len);
}
static pqcoap_err f1024_sign(const pqcoap_rng *rng, const uint8_t *sk, const pqcoap_span *msg,
                             size_t n, uint8_t *sig, size_t *sig_len)
{
    return falcon_sign(&f1024, rng, sk, msg, n, sig, sig_len);
}
static pqcoap_err f1024_verify(const uint8_t *pk, const pqcoap_span *msg, size_t n,
                               const uint8_t *sig, size_t sig_len)
{
    return falcon_verify(&f1024, pk, msg, n, sig, sig_len);
}

const pqcoap_sig_alg pqcoap_sig_falcon512 = {
    "falcon-512", PQCLEAN_FALCON512_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_FALCON512_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON512_CLEAN_CRYPTO_BYTES,
    f512_keygen, f512_sign, f512_verify,
};

const pqcoap_sig_alg pqcoap_sig_falcon1024 = {
    "falcon-1024", PQCLEAN_FALCON1024_CLEAN_CRYPTO_PUBLICKEYBYTES,
    PQCLEAN_FALCON1024_CLEAN_CRYPTO_SECRETKEYBYTES, PQCLEAN_FALCON1024_CLEAN_CRYPTO_BYTES,
    f1024_keygen, f1024_sign, f1024_verify,
};
