/* Anti-replay sliding window of Mode A v2 (PROTOCOL.md): per sender kid the highest seq
 * seen and a 64-entry bitmap below it, kept in a fixed-capacity table in caller memory. */
#ifndef PQCOAP_REPLAY_H
#define PQCOAP_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of sequence numbers a window covers: the highest seen and the 63 below it. */
#define PQCOAP_REPLAY_WINDOW 64

/** Sliding window of one sender (RFC 6347 section 4.1.2.6, RFC 4303 section 3.4.3).
 *  Bit i of `bitmap` set = seq `top - i` was accepted; bit 0 is `top` itself. A window
 *  with `bitmap == 0` has accepted nothing yet. Plain data: a caller may save and restore
 *  it. Default initialiser: PQCOAP_REPLAY_WINDOW_INIT. */
typedef struct pqcoap_replay_window {
    uint64_t top;
    uint64_t bitmap;
} pqcoap_replay_window;

#define PQCOAP_REPLAY_WINDOW_INIT {0, 0}

/** Returns PQCOAP_OK if `seq` may be accepted by `w`: above the highest seen, or inside
 *  the window and not yet marked. PQCOAP_ERR_REPLAY if it is already marked or lies below
 *  the window (top - seq >= 64). Does not modify `w`. PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_replay_check(const pqcoap_replay_window *w, uint64_t seq);

/** Marks `seq` as accepted, sliding the window forward when seq is above the highest seen.
 *  Call only after pqcoap_replay_check returned PQCOAP_OK for seq and the message carrying
 *  it was authenticated. Returns PQCOAP_ERR_REPLAY (and changes nothing) if the check would
 *  fail, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_replay_update(pqcoap_replay_window *w, uint64_t seq);

/** One slot of a replay table: a sender kid and its window. */
typedef struct pqcoap_replay_entry {
    uint8_t kid[8];
    uint8_t used;                   /**< 1 if the slot belongs to `kid` */
    pqcoap_replay_window window;
} pqcoap_replay_entry;

/** A table of per-kid windows in caller-owned memory: `entries[0..cap)`. A slot is taken
 *  the first time a message of a new kid is accepted and kept for the table's lifetime;
 *  nothing is ever evicted (evicting would forget what was seen and allow replays). Size
 *  it for the number of peers in the trust store. The table is not thread-safe. */
typedef struct pqcoap_replay_table {
    pqcoap_replay_entry *entries;
    size_t cap;
} pqcoap_replay_table;

/** Makes `t` use `entries[0..cap)` (caller-owned, must outlive `t`) and clears them.
 *  PQCOAP_ERR_ARG on NULL or cap 0. */
pqcoap_err pqcoap_replay_table_init(pqcoap_replay_table *t, pqcoap_replay_entry *entries,
                                    size_t cap);

/** pqcoap_replay_check on the window of `kid` (an unseen kid accepts any seq). Returns
 *  PQCOAP_ERR_LIMIT if `kid` is unseen and every slot is taken, PQCOAP_ERR_REPLAY,
 *  PQCOAP_ERR_ARG on NULL. Does not modify `t`. */
pqcoap_err pqcoap_replay_table_check(const pqcoap_replay_table *t, const uint8_t kid[8],
                                     uint64_t seq);

/** pqcoap_replay_update on the window of `kid`, taking a free slot for an unseen kid.
 *  Same errors as pqcoap_replay_table_check; on error nothing changes. */
pqcoap_err pqcoap_replay_table_update(pqcoap_replay_table *t, const uint8_t kid[8],
                                      uint64_t seq);

#ifdef __cplusplus
}
#endif
#endif
