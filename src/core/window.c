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

void pqcoap_window_step_wipe(pqcoap_window_step *st)
{
    pqcoap_wipe(st->mk, sizeof st->mk);
    pqcoap_wipe(st->ck, sizeof st->ck);
    pqcoap_wipe(st->skipped, st->n_skipped * sizeof st->skipped[0]);
    st->n_skipped = 0;
}

pqcoap_err pqcoap_window_peek(const pqcoap_window *win, uint64_t n, pqcoap_window_step *st)
{
    st->n = n;
    st->n_skipped = 0;
    if (n < win->next) {
        /* below next: only while its skipped key is held (never accepted, not discarded) */
        if (win->next - n > win->w || !is_held(win, slot_of(win, n)))
            return PQCOAP_ERR_REPLAY;
        memcpy(st->mk, win->mk[slot_of(win, n)], 32);
        return PQCOAP_OK;
    }
    if (n - win->next > win->w)
        return PQCOAP_ERR_REPLAY; /* more than W ahead of the next expected number */
    /* the keys of the skipped numbers next..n-1, then n's, from a copy of the chain key */
    pqcoap_err err = PQCOAP_OK;
    memcpy(st->ck, win->ck, 32);
    for (uint64_t k = win->next; k < n && err == PQCOAP_OK; k++)
        err = pqcoap_chain_step(st->ck, st->skipped[st->n_skipped++]);
    if (err == PQCOAP_OK)
        err = pqcoap_chain_step(st->ck, st->mk);
    if (err != PQCOAP_OK)
        pqcoap_window_step_wipe(st);
    return err;
}

void pqcoap_window_accept(pqcoap_window *win, pqcoap_window_step *st)
{
    if (st->n < win->next) {
        forget(win, slot_of(win, st->n)); /* its held key is used up */
    } else {
        /* Skipped numbers keep their keys in slot k mod W, ascending, so a key more than W
         * below the new next is overwritten (discarded oldest first); n's slot is freed. */
        for (size_t i = 0; i < st->n_skipped; i++)
            hold(win, slot_of(win, win->next + i), st->skipped[i]);
        memcpy(win->ck, st->ck, 32);
        forget(win, slot_of(win, st->n));
        win->next = st->n + 1;
    }
    pqcoap_window_step_wipe(st);
}
