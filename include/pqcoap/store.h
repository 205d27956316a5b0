/* Persistence interface for security state: trust store (peer id -> pinned key), Mode B
 * anti-rollback floors, Mode A replay floors and crash-safe sequence reservations. SQLite by default, in-memory
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
#define PQCOAP_PK_MAX 2592      /**< largest public key of any supported algorithm (ML-DSA-87) */

/** What a key may be used for (key separation, PROTOCOL.md "Key usage"). A key made for
 *  the seed's v1 format signs bare messages chosen by others, so it is never accepted
 *  anywhere else, and sign-v1 accepts only such keys. */
typedef enum pqcoap_key_usage {
    PQCOAP_USAGE_GENERAL = 0,       /**< Mode A v2, Mode B and everything but sign-v1 */
    PQCOAP_USAGE_SIGN_V1 = 1        /**< Mode A v1 (sign-v1) only */
} pqcoap_key_usage;

/** A trusted peer. `id` is NUL-terminated. */
typedef struct pqcoap_peer {
    char id[PQCOAP_ID_MAX + 1];
    char alg[16];                   /**< signature algorithm name, "falcon-512" */
    pqcoap_key_usage usage;         /**< what the pinned key may be used for */
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
    /** Mode A floors, apart from Mode B's: the highest accepted seq of a sender kid. */
    pqcoap_err (*sign_floor_get)(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq);
    pqcoap_err (*sign_floor_set)(void *ctx, const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq);
    /** Atomically and durably moves counter `name` forward by `count` and returns the first
     *  reserved value: the caller may use [*first, *first + count). Counters start at 1. */
    pqcoap_err (*seq_reserve)(void *ctx, const char *name, uint64_t count, uint64_t *first);
    /** Stores in *next the value the next reservation of `name` would return (1 for a
     *  counter never reserved); changes nothing. */
    pqcoap_err (*seq_peek)(void *ctx, const char *name, uint64_t *next);
    void (*close)(void *ctx);
    /** Stores in *count a number that changes whenever the peers may have changed: written
     *  through this handle or, for a shared file, committed by any other connection. May
     *  be NULL (pqcoap_store_change_count then returns PQCOAP_ERR_UNSUPPORTED). */
    pqcoap_err (*change_count)(void *ctx, uint64_t *count);
} pqcoap_store_ops;

/** A store: a backend's operations and its context. A store handle is used by one thread
 *  at a time; several processes may open the same SQLite file. */
typedef struct pqcoap_store {
    const pqcoap_store_ops *ops;
    void *ctx;
} pqcoap_store;

/** Counters never pass this value: a reservation that would move a counter beyond it fails
 *  with PQCOAP_ERR_LIMIT (SQLite integers are signed 64-bit). */
#define PQCOAP_SEQ_LIMIT ((uint64_t)INT64_MAX)

/* ---- opening and closing ---- */

/** Opens an empty in-memory store (for tests and for endpoints without persistence).
 *  Close it with pqcoap_store_close. Errors: PQCOAP_ERR_ARG (out NULL), PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_store_open_memory(pqcoap_store *out);

/** Opens (or creates) the SQLite store file of one endpoint at `path`. Before anything is
 *  written, the file is checked, and left byte for byte unmodified when it fails:
 *  - PQCOAP_ERR_STORE_CORRUPT: not an SQLite database, or a pqcoap database that fails
 *    SQLite's structural check (PRAGMA quick_check);
 *  - PQCOAP_ERR_STORE_FOREIGN: an SQLite database of another application (another
 *    application_id, or tables without the pqcoap application_id);
 *  - PQCOAP_ERR_STORE_NEWER: a pqcoap schema newer than this library.
 *  Then the file is put in WAL mode with synchronous=FULL and migrated to the current
 *  schema. Other errors: PQCOAP_ERR_ARG, PQCOAP_ERR_NOMEM, PQCOAP_ERR_STORE (cannot open,
 *  I/O, locked longer than the busy timeout). On failure *out is untouched.
 *  Close the store with pqcoap_store_close. docs/STORE.md describes the file. */
pqcoap_err pqcoap_store_open_sqlite(const char *path, pqcoap_store *out);

/** As pqcoap_store_open_sqlite; on failure also writes a one-line, NUL-terminated,
 *  human-readable reason (naming the file) into msg[msg_cap] (truncated if longer; msg may
 *  be NULL when msg_cap is 0). On success msg is the empty string. */
pqcoap_err pqcoap_store_open_sqlite_msg(const char *path, char *msg, size_t msg_cap,
                                        pqcoap_store *out);

/** Closes the store and frees its context; *store is zeroed. NULL or a zeroed store is
 *  accepted and does nothing. */
void pqcoap_store_close(pqcoap_store *store);

/* ---- operations (checked wrappers of pqcoap_store_ops) ----
 * Ids and counter names are NUL-terminated strings of 1..PQCOAP_ID_MAX bytes; the store
 * treats them as opaque bytes. Every function returns PQCOAP_ERR_ARG for a NULL or zeroed
 * store, NULL pointers or ids out of range; backend errors pass through: PQCOAP_ERR_STORE,
 * PQCOAP_ERR_STORE_CORRUPT (a row fails its shape check), PQCOAP_ERR_NOMEM. */

/** Pins `peer` (copied): id 1..64 bytes, alg non-empty and NUL-terminated, 1 <= pk_len <=
 *  PQCOAP_PK_MAX, usage PQCOAP_USAGE_GENERAL or PQCOAP_USAGE_SIGN_V1 (kept with the key and
 *  returned by every look-up). The caller computes kid and sets added_s. An existing peer with the same
 *  id is replaced; PQCOAP_ERR_EXISTS if another id already has the same kid. */
pqcoap_err pqcoap_store_peer_add(const pqcoap_store *store, const pqcoap_peer *peer);

/** Removes peer `id`. PQCOAP_ERR_NOT_FOUND if there is none. */
pqcoap_err pqcoap_store_peer_remove(const pqcoap_store *store, const char *id);

/** Copies peer `id` into *out. PQCOAP_ERR_NOT_FOUND if there is none. */
pqcoap_err pqcoap_store_peer_by_id(const pqcoap_store *store, const char *id,
                                   pqcoap_peer *out);

/** Copies the peer whose kid is `kid` into *out. PQCOAP_ERR_NOT_FOUND if there is none. */
pqcoap_err pqcoap_store_peer_by_kid(const pqcoap_store *store,
                                    const uint8_t kid[PQCOAP_KID_LEN], pqcoap_peer *out);

/** Calls cb(arg, peer) for each peer in id order (bytewise); the peer is only valid during
 *  the call, and cb must not modify the store. Stops at and returns cb's first error. */
pqcoap_err pqcoap_store_peer_list(const pqcoap_store *store,
                                  pqcoap_err (*cb)(void *arg, const pqcoap_peer *peer),
                                  void *arg);

/** Copies the anti-rollback floor of initiator `id` into *out. PQCOAP_ERR_NOT_FOUND if no
 *  floor was ever set for it. */
pqcoap_err pqcoap_store_floor_get(const pqcoap_store *store, const char *id,
                                  pqcoap_floor *out);

/** Sets (replaces) the floor of initiator `id`; durable before it returns. The caller
 *  enforces that floors only rise (PROTOCOL.md Mode B). */
pqcoap_err pqcoap_store_floor_set(const pqcoap_store *store, const char *id,
                                  const pqcoap_floor *floor);

/** Copies the Mode A replay floor of sender `kid` into *seq: the highest v2 seq accepted
 *  from it (PROTOCOL.md Mode A v2, receiver state). Mode A floors are kept apart from the
 *  Mode B floors of pqcoap_store_floor_get, whatever a Mode B peer id looks like.
 *  PQCOAP_ERR_NOT_FOUND if none was ever set for kid. */
pqcoap_err pqcoap_store_sign_floor_get(const pqcoap_store *store,
                                       const uint8_t kid[PQCOAP_KID_LEN], uint64_t *seq);

/** Sets (replaces) the Mode A replay floor of sender `kid`; durable before it returns. The
 *  caller only raises it. */
pqcoap_err pqcoap_store_sign_floor_set(const pqcoap_store *store,
                                       const uint8_t kid[PQCOAP_KID_LEN], uint64_t seq);

/** Reserves [*first, *first + count) of counter `name` (counters start at 1), durably
 *  before it returns; no later reservation, in this or any process, returns any of these
 *  values again. count >= 1. PQCOAP_ERR_LIMIT if the counter would pass PQCOAP_SEQ_LIMIT. */
pqcoap_err pqcoap_store_seq_reserve(const pqcoap_store *store, const char *name,
                                    uint64_t count, uint64_t *first);

/** Stores in *next the first value the next reservation of `name` would return (1 for a
 *  counter never reserved). Reads only. */
pqcoap_err pqcoap_store_seq_peek(const pqcoap_store *store, const char *name,
                                 uint64_t *next);

/** Stores in *count the store's change count: a reading that differs from an earlier one
 *  whenever the trust store may have changed in between, by a write through this handle or,
 *  for an SQLite file, by a commit of any other connection or process (other writes may
 *  change it too: compare readings for equality only). Cheap (SQLite: PRAGMA data_version),
 *  for noticing revocations while sessions are live. Errors: PQCOAP_ERR_ARG,
 *  PQCOAP_ERR_UNSUPPORTED (the backend keeps no count: assume a change), backend errors. */
pqcoap_err pqcoap_store_change_count(const pqcoap_store *store, uint64_t *count);

/* ---- sequence counter with reservation ahead (RFC 8613 Appendix B.1.1) ---- */

/** Hands out the numbers of one store counter one by one. It reserves `block` numbers
 *  ahead in the store (durably, before the first of them is handed out) and uses them from
 *  memory, so the store is written once per block. After a crash the numbers reserved but
 *  not handed out are skipped: a number is never handed out twice, even across processes
 *  and restarts. Plain struct owned by the caller; its fields are private. It copies the
 *  store handle, which must stay open while the counter is used. */
typedef struct pqcoap_seq_counter {
    pqcoap_store store;
    char name[PQCOAP_ID_MAX + 1];
    uint64_t block;
    uint64_t next;                  /**< next number to hand out */
    uint64_t end;                   /**< first number not reserved; next == end: reserve */
} pqcoap_seq_counter;

/** Sets up *ctr over counter `name` of `store`, reserving `block` (1..PQCOAP_SEQ_LIMIT)
 *  numbers at a time. Writes nothing to the store. Errors: PQCOAP_ERR_ARG. */
pqcoap_err pqcoap_seq_counter_init(pqcoap_seq_counter *ctr, const pqcoap_store *store,
                                   const char *name, uint64_t block);

/** Stores the next number of the counter in *value, reserving a new block first when the
 *  current one is used up. Errors: PQCOAP_ERR_ARG, and those of pqcoap_store_seq_reserve
 *  (then *value is untouched and the counter can be called again). */
pqcoap_err pqcoap_seq_next(pqcoap_seq_counter *ctr, uint64_t *value);

#ifdef __cplusplus
}
#endif
#endif
