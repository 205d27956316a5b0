/* Receive window of a Mode B key chain (PROTOCOL.md "Receive rules"): accepts n at most W
 * ahead of the next expected number, or below it while its skipped key is still held. */
#include "core/record_internal.h"
#include "common/buf_internal.h"

#include <string.h>

static size_t slot_of(const pqcoap_window *win, uint64_t n) { return (size_t)(n % win->w); }

static int is_held(const pqcoap_window *win, size_t slot)
{
    return (win->held[slot / 8] >> (slot % 8)) & 1;
}

static void hold(pqcoap_window *win, size_t slot, const uint8_t mk[32])
{
    memcpy(win->mk[slot], mk, 32);
    win->held[slot / 8] = (uint8_t)(win->held[slot / 8] | (1u << (slot % 8)));
}

static void forget(pqcoap_window *win, size_t slot)
{
    pqcoap_wipe(win->mk[slot], 32);
    win->held[slot / 8] = (uint8_t)(win->held[slot / 8] & ~(1u << (slot % 8)));
}

void pqcoap_window_init(pqcoap_window *win, const uint8_t ck[32], uint16_t w)
{
    pqcoap_wipe(win, sizeof *win);
    memcpy(win->ck, ck, 32);
    win->next = 0;
    win->w = w;
}

pqcoap_err pqcoap_window_take(pqcoap_window *win, uint64_t n, uint8_t mk[32])
{
    if (n < win->next) {
        /* below next: only while its skipped key is held (never accepted, not discarded) */
        if (win->next - n > win->w || !is_held(win, slot_of(win, n)))
            return PQCOAP_ERR_REPLAY;
        memcpy(mk, win->mk[slot_of(win, n)], 32);
        forget(win, slot_of(win, n));
        return PQCOAP_OK;
    }
    if (n - win->next > win->w)
        return PQCOAP_ERR_REPLAY; /* more than W ahead of the next expected number */
    /* Skipped numbers next..n-1 keep their keys in slot k mod W, ascending, so a key more
     * than W below the new next is overwritten (discarded oldest first); n's slot is freed. */
    uint8_t skipped[32];
    for (uint64_t k = win->next; k < n; k++) {
        pqcoap_err err = pqcoap_chain_step(win->ck, skipped);
        if (err != PQCOAP_OK) {
            pqcoap_wipe(skipped, sizeof skipped);
            return err;
        }
        hold(win, slot_of(win, k), skipped);
    }
    pqcoap_wipe(skipped, sizeof skipped);
    PQCOAP_TRY(pqcoap_chain_step(win->ck, mk));
    forget(win, slot_of(win, n));
    win->next = n + 1;
    return PQCOAP_OK;
}
