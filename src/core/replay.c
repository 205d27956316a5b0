/* Anti-replay sliding window (PROTOCOL.md Mode A v2) and its fixed-capacity per-kid table. */
#include "pqcoap/replay.h"

#include <string.h>

pqcoap_err pqcoap_replay_check(const pqcoap_replay_window *w, uint64_t seq)
{
    if (!w)
        return PQCOAP_ERR_ARG;
    if (w->bitmap == 0 || seq > w->top)
        return PQCOAP_OK; /* nothing seen yet, or new highest */
    uint64_t diff = w->top - seq;
    /* RFC 4303 section 3.4.3: below the window, or inside and already received: reject. */
    if (diff >= PQCOAP_REPLAY_WINDOW)
        return PQCOAP_ERR_REPLAY;
    if ((w->bitmap >> diff) & 1u)
        return PQCOAP_ERR_REPLAY;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_replay_update(pqcoap_replay_window *w, uint64_t seq)
{
    pqcoap_err err = pqcoap_replay_check(w, seq);
    if (err != PQCOAP_OK)
        return err;
    if (w->bitmap == 0) {
        w->top = seq;
        w->bitmap = 1;
    } else if (seq > w->top) {
        uint64_t shift = seq - w->top;
        w->bitmap = shift >= PQCOAP_REPLAY_WINDOW ? 1 : (w->bitmap << shift) | 1;
        w->top = seq;
    } else {
        w->bitmap |= UINT64_C(1) << (w->top - seq);
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_replay_table_init(pqcoap_replay_table *t, pqcoap_replay_entry *entries,
                                    size_t cap)
{
    if (!t || !entries || cap == 0)
        return PQCOAP_ERR_ARG;
    memset(entries, 0, cap * sizeof *entries);
    t->entries = entries;
    t->cap = cap;
    return PQCOAP_OK;
}

/* Finds the slot of kid; if absent, *slot is a free slot (or NULL when the table is full).
 * Returns 1 if found. */
static int table_find(const pqcoap_replay_table *t, const uint8_t kid[8],
                      pqcoap_replay_entry **slot)
{
    pqcoap_replay_entry *free_slot = NULL;
    for (size_t i = 0; i < t->cap; i++) {
        pqcoap_replay_entry *e = &t->entries[i];
        if (e->used && memcmp(e->kid, kid, sizeof e->kid) == 0) {
            *slot = e;
            return 1;
        }
        if (!e->used && !free_slot)
            free_slot = e;
    }
    *slot = free_slot;
    return 0;
}

pqcoap_err pqcoap_replay_table_check(const pqcoap_replay_table *t, const uint8_t kid[8],
                                     uint64_t seq)
{
    if (!t || !t->entries || !kid)
        return PQCOAP_ERR_ARG;
    pqcoap_replay_entry *e;
    if (!table_find(t, kid, &e))
        return e ? PQCOAP_OK : PQCOAP_ERR_LIMIT;
    return pqcoap_replay_check(&e->window, seq);
}

pqcoap_err pqcoap_replay_table_update(pqcoap_replay_table *t, const uint8_t kid[8],
                                      uint64_t seq)
{
    if (!t || !t->entries || !kid)
        return PQCOAP_ERR_ARG;
    pqcoap_replay_entry *e;
    if (!table_find(t, kid, &e)) {
        if (!e)
            return PQCOAP_ERR_LIMIT;
        memcpy(e->kid, kid, sizeof e->kid);
        e->used = 1;
        e->window = (pqcoap_replay_window)PQCOAP_REPLAY_WINDOW_INIT;
    }
    return pqcoap_replay_update(&e->window, seq);
}
