/* The table of live peer contexts of a responder (PROTOCOL.md "Handshake", "Revocation"):
 * entries made by handshakes, id allocation (small ids first), expiry, eviction, and the
 * trust check that ends the contexts of revoked peers. */
#include "core/peer_table_internal.h"
#include "crypto/crypto_internal.h"
#include "common/buf_internal.h"

#include <string.h>

void pqcoap_peer_table_init(pqcoap_peer_table *t, pqcoap_session *slots, size_t n_slots,
                            uint64_t evict_idle_ms)
{
    memset(t, 0, sizeof *t);
    t->slots = slots;
    t->n_slots = n_slots;
    t->evict_idle_ms = evict_idle_ms;
    t->next_expiry_ms = UINT64_MAX;
    for (size_t i = 0; i < n_slots; i++)
        pqcoap_wipe(&slots[i], sizeof slots[i]);
}

void pqcoap_peer_table_wipe(pqcoap_peer_table *t)
{
    for (size_t i = 0; t->slots && i < t->n_slots; i++)
        pqcoap_wipe(&t->slots[i], sizeof t->slots[i]);
}

void pqcoap_peer_table_index(pqcoap_peer_table *t, uint32_t *index, size_t cap)
{
    memset(index, 0, cap * sizeof *index);
    t->index = index;
    t->index_cap = cap;
}

/* The index entry of id: it names the one entry whose id may be id (ids are chosen so that
 * no two live entries or pending ids share one). */
static uint32_t *index_of(const pqcoap_peer_table *t, uint64_t id)
{
    return &t->index[id % t->index_cap];
}

pqcoap_session *pqcoap_peer_table_by_id(pqcoap_peer_table *t, uint64_t id)
{
    if (t->index) {
        uint32_t e = *index_of(t, id);
        pqcoap_session *s = e ? &t->slots[e - 1] : NULL;
        /* the entry named may have ended or taken another id since */
        return s && s->live && s->sid == id ? s : NULL;
    }
    for (size_t i = 0; i < t->n_slots; i++)
        if (t->slots[i].live && t->slots[i].sid == id)
            return &t->slots[i];
    return NULL;
}

pqcoap_session *pqcoap_peer_table_by_serial(pqcoap_peer_table *t, uint64_t serial)
{
    /* serial mod n_slots is the slot (pqcoap_peer_table_stamp); 0 is nobody's */
    pqcoap_session *s = &t->slots[serial % t->n_slots];
    return serial && s->live && s->serial == serial ? s : NULL;
}

size_t pqcoap_peer_table_live(const pqcoap_peer_table *t)
{
    size_t live = 0;
    for (size_t i = 0; i < t->n_slots; i++)
        live += t->slots[i].live;
    return live;
}

void pqcoap_peer_table_expire(pqcoap_peer_table *t, uint64_t now_ms, uint64_t *next_ms)
{
    if (!next_ms && now_ms < t->next_expiry_ms)
        return; /* no entry ends before next_expiry_ms */
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < t->n_slots; i++) {
        pqcoap_session *s = &t->slots[i];
        if (!s->live)
            continue;
        if (now_ms >= s->expires_ms)
            pqcoap_wipe(s, sizeof *s); /* contexts end after their lifetime */
        else if (s->expires_ms < next)
            next = s->expires_ms;
    }
    t->next_expiry_ms = next;
    if (next_ms)
        *next_ms = next;
}

/* The id search looks at this many candidates per pass over the table (a bitmap on the
 * stack): one pass while fewer entries and pending ids use ids below it. */
#define ID_WINDOW 8192

/* Marks id in the bitmap of the window [base, base + ID_WINDOW). */
static void mark_id(uint8_t used[ID_WINDOW / 8], uint64_t base, uint64_t id)
{
    if (id >= base && id - base < ID_WINDOW)
        used[(id - base) / 8] |= (uint8_t)(1u << ((id - base) % 8));
}

/* 1 if the index entry of id is held by a live entry with another id or a pending id (so
 * that a look-up by id takes one step, no two may share one). */
static int index_taken(const pqcoap_peer_table *t, uint64_t id)
{
    if (!t->index)
        return 0;
    uint32_t e = *index_of(t, id);
    const pqcoap_session *s = e ? &t->slots[e - 1] : NULL;
    if (s && s->live && s->sid % t->index_cap == id % t->index_cap)
        return 1;
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX; i++)
        if (t->pending_id[i] && t->pending_id[i] % t->index_cap == id % t->index_cap)
            return 1;
    return 0;
}

/* The smallest id >= base no live entry or pending id uses, if one is in the window
 * [base, base + ID_WINDOW); 0 if not. `used` holds the live entries' marks. */
static uint64_t free_id_in(const pqcoap_peer_table *t, uint8_t used[ID_WINDOW / 8],
                           uint64_t base)
{
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX; i++)
        mark_id(used, base, t->pending_id[i]);
    for (uint64_t j = 0; j < ID_WINDOW; j++)
        if (!(used[j / 8] >> (j % 8) & 1) &&
            !(t->id_taken && t->id_taken(t->id_taken_ctx, base + j)) &&
            !index_taken(t, base + j))
            return base + j;
    return 0;
}

pqcoap_err pqcoap_peer_table_reserve(pqcoap_peer_table *t, const char *peer_id, uint64_t now_ms,
                                     size_t *slot, uint32_t *id)
{
    size_t own = SIZE_MAX, free_slot = SIZE_MAX, lru = SIZE_MAX;
    uint8_t used[ID_WINDOW / 8];
    memset(used, 0, sizeof used);
    /* one pass: end entries whose lifetime is over, find the slot, mark the ids in use */
    for (size_t i = 0; i < t->n_slots; i++) {
        pqcoap_session *s = &t->slots[i];
        if (s->live && now_ms >= s->expires_ms)
            pqcoap_wipe(s, sizeof *s); /* contexts end after their lifetime */
        if (!s->live) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
            continue;
        }
        mark_id(used, 1, s->sid);
        if (strcmp(s->peer_id, peer_id) == 0) {
            own = i; /* a new context replaces that peer's old one */
        } else if (t->evict_idle_ms && now_ms >= s->last_used_ms
                   && now_ms - s->last_used_ms >= t->evict_idle_ms
                   && (lru == SIZE_MAX || s->last_used_ms < t->slots[lru].last_used_ms)) {
            lru = i;
        }
    }
    size_t pick = own != SIZE_MAX ? own : free_slot != SIZE_MAX ? free_slot : lru;
    if (pick == SIZE_MAX)
        return PQCOAP_ERR_LIMIT;
    /* id: unique among live entries (the one being replaced included) and pending ids,
     * never 0 nor taken (id_taken), smallest first; among n_slots live entries and
     * PQCOAP_HS_PENDING_MAX pending ids one of 1..n_slots+PQCOAP_HS_PENDING_MAX+1 is free
     * of those, so the search ends below UINT32_MAX (pqcoap_responder_init bounds n_slots;
     * id_taken must leave ids free) */
    uint64_t base = 1, cand;
    while ((cand = free_id_in(t, used, base)) == 0) {
        base += ID_WINDOW;
        memset(used, 0, sizeof used);
        for (size_t i = 0; i < t->n_slots; i++)
            if (t->slots[i].live)
                mark_id(used, base, t->slots[i].sid);
    }
    *slot = pick;
    *id = (uint32_t)cand;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_peer_table_pend(pqcoap_peer_table *t, const char *peer_id, uint64_t now_ms,
                                  uint32_t *id)
{
    size_t free_i = PQCOAP_HS_PENDING_MAX, slot;
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX && free_i == PQCOAP_HS_PENDING_MAX; i++)
        if (t->pending_id[i] == 0)
            free_i = i;
    if (free_i == PQCOAP_HS_PENDING_MAX)
        return PQCOAP_ERR_LIMIT;
    PQCOAP_TRY(pqcoap_peer_table_reserve(t, peer_id, now_ms, &slot, id));
    t->pending_id[free_i] = *id;
    return PQCOAP_OK;
}

void pqcoap_peer_table_release(pqcoap_peer_table *t, uint32_t id)
{
    for (size_t i = 0; id && i < PQCOAP_HS_PENDING_MAX; i++)
        if (t->pending_id[i] == id)
            t->pending_id[i] = 0;
}

void pqcoap_peer_table_stamp(pqcoap_peer_table *t, pqcoap_session *s, const char *peer_id,
                             const uint8_t pk_hash[32], uint64_t now_ms)
{
    size_t slot = (size_t)(s - t->slots);
    s->serial = ++t->next_serial * t->n_slots + slot;
    if (t->index)
        *index_of(t, s->sid) = (uint32_t)slot + 1;
    if (s->expires_ms < t->next_expiry_ms)
        t->next_expiry_ms = s->expires_ms;
    s->last_used_ms = now_ms;
    memcpy(s->peer_id, peer_id, sizeof s->peer_id);
    memcpy(s->peer_pk_hash, pk_hash, sizeof s->peer_pk_hash);
}

pqcoap_err pqcoap_peer_trusted_key(const pqcoap_store *store, const char *id, const char *alg,
                                   pqcoap_peer *peer)
{
    pqcoap_err err = pqcoap_store_peer_by_id(store, id, peer);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return PQCOAP_ERR_UNKNOWN_PEER;
    if (err != PQCOAP_OK)
        return err;
    if (alg && strcmp(peer->alg, alg) != 0)
        return PQCOAP_ERR_UNKNOWN_PEER;
    /* key separation: a sign-v1 key is refused before its signature is looked at */
    if (peer->usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_peer_still_trusted(const pqcoap_store *store, const char *peer_id,
                                     const uint8_t pk_hash[32])
{
    pqcoap_peer peer;
    uint8_t hash[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_peer_trusted_key(store, peer_id, NULL, &peer));
    const pqcoap_span in = {peer.pk, peer.pk_len};
    PQCOAP_TRY(pqcoap_sha256(&in, 1, hash));
    return pqcoap_ct_equal(hash, pk_hash, sizeof hash) ? PQCOAP_OK : PQCOAP_ERR_UNKNOWN_PEER;
}

pqcoap_err pqcoap_peer_table_revalidate(pqcoap_peer_table *t, const pqcoap_store *store,
                                        size_t *ended)
{
    size_t n = 0;
    pqcoap_err err = PQCOAP_OK;
    for (size_t i = 0; err == PQCOAP_OK && i < t->n_slots; i++) {
        pqcoap_session *s = &t->slots[i];
        if (!s->live)
            continue;
        /* PROTOCOL.md "Revocation": a context lives only while its peer is trusted with the
         * key that made it */
        err = pqcoap_peer_still_trusted(store, s->peer_id, s->peer_pk_hash);
        if (err == PQCOAP_ERR_UNKNOWN_PEER || err == PQCOAP_ERR_KEY_USAGE) {
            pqcoap_wipe(s, sizeof *s);
            n++;
            err = PQCOAP_OK;
        }
    }
    if (ended)
        *ended = n;
    return err;
}
