/* Routing of PQClean's randomness (PQCLEAN_randombytes) to the pqcoap_rng of the current
 * signature or KEM call: a wrapper installs its rng for this thread around each PQClean call. */
#ifndef PQCOAP_RNG_INTERNAL_H
#define PQCOAP_RNG_INTERNAL_H

#include "pqcoap/rng.h"

/** What pqcoap_rng_enter replaced, restored by pqcoap_rng_leave. */
typedef struct pqcoap_rng_scope {
    const pqcoap_rng *prev_rng;
    pqcoap_err prev_err;
} pqcoap_rng_scope;

/** Makes PQCLEAN_randombytes draw from `rng` (NULL = system RNG) on this thread until
 *  pqcoap_rng_leave(scope). Scopes nest. */
void pqcoap_rng_enter(pqcoap_rng_scope *scope, const pqcoap_rng *rng);
/** Ends the scope; returns PQCOAP_ERR_CRYPTO if any draw inside it failed, else PQCOAP_OK. */
pqcoap_err pqcoap_rng_leave(const pqcoap_rng_scope *scope);

/** Runs a PQClean key pair function (Falcon or ML-KEM) drawing from `rng`. Returns
 *  PQCOAP_ERR_CRYPTO (with sk[0..sk_len) wiped) if it or the rng failed. */
pqcoap_err pqcoap_rng_keypair(const pqcoap_rng *rng, int (*keypair)(uint8_t *pk, uint8_t *sk),
                              uint8_t *pk, uint8_t *sk, size_t sk_len);

#endif
