/* Randomness: the system RNG (OpenSSL RAND_bytes), the deterministic test RNG, and
 * PQCLEAN_randombytes, which makes PQClean draw from the rng of the current call. */
#include "crypto/crypto_internal.h"
#include "crypto/rng_internal.h"

#include <limits.h>
#include <openssl/rand.h>

#include "common/randombytes.h"

static pqcoap_err system_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(out, chunk) != 1)
            return PQCOAP_ERR_CRYPTO;
        out += chunk;
        len -= (size_t)chunk;
    }
    return PQCOAP_OK;
}

static const pqcoap_rng system_rng = {system_fill, NULL};

const pqcoap_rng *pqcoap_rng_system(void)
{
    return &system_rng;
}

pqcoap_err pqcoap_random(const pqcoap_rng *rng, uint8_t *out, size_t len)
{
    if (out == NULL && len > 0)
        return PQCOAP_ERR_ARG;
    if (rng == NULL)
        rng = &system_rng;
    if (rng->fill == NULL)
        return PQCOAP_ERR_ARG;
    return len > 0 ? rng->fill(rng->ctx, out, len) : PQCOAP_OK;
}

/* Test RNG: block i = SHA-256(SHA-256(seed) || u64 i), big-endian i. Predictable. */
static pqcoap_err test_fill(void *ctx, uint8_t *out, size_t len)
{
    pqcoap_test_rng *st = ctx;
    for (size_t i = 0; i < len; i++) {
        if (st->used == sizeof st->block) {
            uint8_t ctr[8];
            for (int k = 0; k < 8; k++)
                ctr[k] = (uint8_t)(st->counter >> (56 - 8 * k));
            const pqcoap_span in[2] = {{st->seed, sizeof st->seed}, {ctr, sizeof ctr}};
            pqcoap_err err = pqcoap_sha256(in, 2, st->block);
            if (err != PQCOAP_OK)
                return err;
            st->counter++;
            st->used = 0;
        }
        out[i] = st->block[st->used++];
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_test_rng_init(pqcoap_test_rng *st, pqcoap_rng *rng,
                                const uint8_t *seed, size_t seed_len)
{
    if (st == NULL || rng == NULL || (seed == NULL && seed_len > 0))
        return PQCOAP_ERR_ARG;
    const pqcoap_span in = {seed, seed_len};
    pqcoap_err err = pqcoap_sha256(&in, 1, st->seed);
    if (err != PQCOAP_OK)
        return err;
    st->counter = 0;
    st->used = sizeof st->block;
    rng->fill = test_fill;
    rng->ctx = st;
    return PQCOAP_OK;
}

/* The rng installed by the signature or KEM call running on this thread (NULL = system)
 * and whether a draw failed during it. */
static _Thread_local const pqcoap_rng *call_rng;
static _Thread_local pqcoap_err call_err;

void pqcoap_rng_enter(pqcoap_rng_scope *scope, const pqcoap_rng *rng)
{
    scope->prev_rng = call_rng;
    scope->prev_err = call_err;
    call_rng = rng;
    call_err = PQCOAP_OK;
}

pqcoap_err pqcoap_rng_leave(const pqcoap_rng_scope *scope)
{
    pqcoap_err err = call_err;
    call_rng = scope->prev_rng;
    call_err = scope->prev_err;
    return err != PQCOAP_OK ? PQCOAP_ERR_CRYPTO : PQCOAP_OK;
}

pqcoap_err pqcoap_rng_keypair(const pqcoap_rng *rng, int (*keypair)(uint8_t *pk, uint8_t *sk),
                              uint8_t *pk, uint8_t *sk, size_t sk_len)
{
    if (pk == NULL || sk == NULL)
        return PQCOAP_ERR_ARG;
    pqcoap_rng_scope scope;
    pqcoap_rng_enter(&scope, rng);
    int rc = keypair(pk, sk);
    pqcoap_err err = pqcoap_rng_leave(&scope);
    if (err == PQCOAP_OK && rc != 0)
        err = PQCOAP_ERR_CRYPTO;
    if (err != PQCOAP_OK)
        pqcoap_wipe(sk, sk_len);
    return err;
}

/* Replaces PQClean's common/randombytes.c (removed by scripts/fetch-pqclean.sh). */
int PQCLEAN_randombytes(uint8_t *output, size_t n)
{
    pqcoap_err err = pqcoap_random(call_rng, output, n);
    if (err != PQCOAP_OK) {
        call_err = err;
        pqcoap_wipe(output, n);
        return -1;
    }
    return 0;
}
