/* Randomness interface: every random byte pqcoap uses (also inside Falcon and ML-KEM) comes
 * through a pqcoap_rng, so tests can run the protocol deterministically. */
#ifndef PQCOAP_RNG_H
#define PQCOAP_RNG_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A source of random bytes. `fill` writes `len` bytes to `out`; returns PQCOAP_OK or
 *  PQCOAP_ERR_CRYPTO. A NULL `const pqcoap_rng *` anywhere in the API means the system RNG. */
typedef struct pqcoap_rng {
    pqcoap_err (*fill)(void *ctx, uint8_t *out, size_t len);
    void *ctx;
} pqcoap_rng;

/** The system RNG (OpenSSL RAND_bytes). This is the default everywhere. */
const pqcoap_rng *pqcoap_rng_system(void);

/** State of the deterministic test RNG. FOR TESTS ONLY: its output is predictable. */
typedef struct pqcoap_test_rng {
    uint8_t seed[32];
    uint64_t counter;
    uint8_t block[32];
    size_t used;
} pqcoap_test_rng;

/** Initialises `st` from `seed` (any length) and fills `rng` to draw from it: block i of
 *  the output stream is SHA-256(SHA-256(seed) || u64 i). Deterministic, NOT secure; it is
 *  never selected by default. `st` must outlive `rng`. Returns PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_test_rng_init(pqcoap_test_rng *st, pqcoap_rng *rng,
                                const uint8_t *seed, size_t seed_len);

/** Fills `out` with `len` bytes from `rng` (NULL = system RNG). Returns PQCOAP_OK or
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_random(const pqcoap_rng *rng, uint8_t *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
