/* Internal interface of the table of live peer contexts (peer_table.c): the contexts a
 * responder made by handshakes with its peers, each under a short id it chose (a Mode B
 * sid), with the peer's id and key hash, expiry, id allocation, and the trust check that
 * ends the contexts of revoked peers. It knows nothing of the handshake or the record. */
#ifndef PQCOAP_PEER_TABLE_INTERNAL_H
#define PQCOAP_PEER_TABLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/session.h"
#include "pqcoap/store.h"

/** Takes the caller's entries slots[0..n_slots) (zeroed here) and the idle time after which
 *  the least recently used entry may be evicted when the table is full (0 = never). */
void pqcoap_peer_table_init(pqcoap_peer_table *t, pqcoap_session *slots, size_t n_slots,
                            uint64_t evict_idle_ms);

/** Wipes every entry of the table. */
void pqcoap_peer_table_wipe(pqcoap_peer_table *t);

/** Size of an index for a table of n_slots entries: every id the table hands out without
 *  id_taken is below it, so such ids never share an index entry. */
#define PQCOAP_PEER_INDEX_CAP(n_slots) (2 * (size_t)(n_slots) + PQCOAP_HS_PENDING_MAX + 2)

/** Gives the empty table the caller's index[0..cap) (zeroed here; cap >= 1, e.g.
 *  PQCOAP_PEER_INDEX_CAP(n_slots)), which must outlive it: look-ups by id then take one
 *  step, and a new id is also one whose index entry (id mod cap) no live entry or pending id
 *  holds (without id_taken, every id below PQCOAP_PEER_INDEX_CAP(n_slots) has its own). */
void pqcoap_peer_table_index(pqcoap_peer_table *t, uint32_t *index, size_t cap);

/** The live entry with this id, or NULL: one step with an index, else a scan. */
pqcoap_session *pqcoap_peer_table_by_id(pqcoap_peer_table *t, uint64_t id);

/** The live entry with this serial (distinguishes successive owners of an id), or NULL; one
 *  step (a serial names its slot). */
pqcoap_session *pqcoap_peer_table_by_serial(pqcoap_peer_table *t, uint64_t serial);

/** Number of live entries. */
size_t pqcoap_peer_table_live(const pqcoap_peer_table *t);

/** Ends every entry whose lifetime is over at now_ms; *next_ms (may be NULL) gets the
 *  earliest time another one ends (UINT64_MAX if none). The table keeps a time before which
 *  no entry ends: without next_ms, a call before it does nothing (no pass over the table). */
void pqcoap_peer_table_expire(pqcoap_peer_table *t, uint64_t now_ms, uint64_t *next_ms);

/** Chooses where a new context of peer `peer_id` goes, changing nothing but ending entries
 *  whose lifetime is over: the slot of that peer's live entry (replaced), else a free slot,
 *  else (if evict_idle_ms) the least recently used entry idle that long; and the smallest
 *  id >= 1 no live entry or pending id uses. One pass over the table (another per 8192 ids
 *  in use below the free one). Error: PQCOAP_ERR_LIMIT. */
pqcoap_err pqcoap_peer_table_reserve(pqcoap_peer_table *t, const char *peer_id, uint64_t now_ms,
                                     size_t *slot, uint32_t *id);

/** As pqcoap_peer_table_reserve, and holds the id as pending (no other reservation gets it)
 *  until pqcoap_peer_table_release. Errors: PQCOAP_ERR_LIMIT (table full, or
 *  PQCOAP_HS_PENDING_MAX ids pending). */
pqcoap_err pqcoap_peer_table_pend(pqcoap_peer_table *t, const char *peer_id, uint64_t now_ms,
                                  uint32_t *id);

/** Releases a pending id (0 or an id not pending: nothing). */
void pqcoap_peer_table_release(pqcoap_peer_table *t, uint32_t id);

/** Marks entry s, just set up with its id and expiry, as the context of peer_id made with
 *  the key of SHA-256 pk_hash at now_ms: gives it a new serial (a counter times n_slots plus
 *  its slot), enters its id in the index and its expiry in the table's next expiry. */
void pqcoap_peer_table_stamp(pqcoap_peer_table *t, pqcoap_session *s, const char *peer_id,
                             const uint8_t pk_hash[32], uint64_t now_ms);

/** The trusted key of peer `id` in the store: PQCOAP_ERR_UNKNOWN_PEER if not pinned or
 *  pinned with a key of another algorithm than `alg` (NULL: any), PQCOAP_ERR_KEY_USAGE if
 *  pinned with a key not of usage PQCOAP_USAGE_GENERAL, store errors. */
pqcoap_err pqcoap_peer_trusted_key(const pqcoap_store *store, const char *id, const char *alg,
                                   pqcoap_peer *peer);

/** PQCOAP_OK if the store still pins, under peer_id, a key of general usage whose SHA-256
 *  is pk_hash (so of the same algorithm); PQCOAP_ERR_UNKNOWN_PEER (removed or replaced),
 *  PQCOAP_ERR_KEY_USAGE, store errors. */
pqcoap_err pqcoap_peer_still_trusted(const pqcoap_store *store, const char *peer_id,
                                     const uint8_t pk_hash[32]);

/** Ends every live entry whose peer is no longer trusted with the key that made it
 *  (PROTOCOL.md "Revocation"); *ended (may be NULL) gets the number ended. Errors: store
 *  errors (entries checked before stay decided). */
pqcoap_err pqcoap_peer_table_revalidate(pqcoap_peer_table *t, const pqcoap_store *store,
                                        size_t *ended);

#endif
