/* Persistence interface for security state: trust store (peer id -> pinned key), Mode B
 * anti-rollback floors and crash-safe sequence reservations. SQLite by default, in-memory
 * for tests; other backends implement pqcoap_store_ops. */
#ifndef PQCOAP_STORE_H
#define PQCOAP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PQCOAP_ID_MAX 64        /**< ids are 1..64 bytes of UTF-8 */
#define PQCOAP_KID_LEN 8        /**< kid = first 8 bytes of SHA-256(public key) */
#define PQCOAP_PK_MAX 1793      /**< largest public key of any supported algorithm */

/** A trusted peer. `id` is NUL-terminated. */
typedef struct pqcoap_peer {
    char id[PQCOAP_ID_MAX + 1];
    char alg[16];                   /**< signature algorithm name, "falcon-512" */
    uint8_t kid[PQCOAP_KID_LEN];
    uint8_t pk[PQCOAP_PK_MAX];
    size_t pk_len;
    int64_t added_s;                /**< Unix time when added */
} pqcoap_peer;

/** Anti-rollback floor of one initiator (PROTOCOL.md Mode B). */
typedef struct pqcoap_floor {
    uint64_t session_seq;           /**< highest accepted session_seq */
    uint8_t init_hash[32];          /**< SHA-256 of the INIT that set it */
} pqcoap_floor;

/** Operations of a store backend. Every function returns pqcoap_err; look-ups of absent
 *  entries return PQCOAP_ERR_NOT_FOUND. Writes of floors and reservations are durable
 *  before they return. */
typedef struct pqcoap_store_ops {
    pqcoap_err (*peer_add)(void *ctx, const pqcoap_peer *peer);   /* replaces same id */
    pqcoap_err (*peer_remove)(void *ctx, const char *id);
    pqcoap_err (*peer_by_id)(void *ctx, const char *id, pqcoap_peer *out);
    pqcoap_err (*peer_by_kid)(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], pqcoap_peer *out);
    /** Calls cb for each peer in id order; stops early and returns cb's error if not OK. */
    pqcoap_err (*peer_list)(void *ctx, pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                            void *arg);
    pqcoap_err (*floor_get)(void *ctx, const char *id, pqcoap_floor *out);
    pqcoap_err (*floor_set)(void *ctx, const char *id, const pqcoap_floor *floor);
    /** Atomically and durably moves counter `name` forward by `count` and returns the first
     *  reserved value: the caller may use [*first, *first + count). Counters start at 1. */
    pqcoap_err (*seq_reserve)(void *ctx, const char *name, uint64_t count, uint64_t *first);
    void (*close)(void *ctx);
} pqcoap_store_ops;

/** A store: a backend's operations and its context. */
typedef struct pqcoap_store {
    const pqcoap_store_ops *ops;
    void *ctx;
} pqcoap_store;

#ifdef __cplusplus
}
#endif
#endif
