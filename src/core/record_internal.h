/* Internal interface of the Mode B record layer in the core: the session state, the KDF
 * chains (ratchet.c), the receive window (window.c) and the test snapshot (record.c). It
 * knows nothing of the handshake. */
#ifndef PQCOAP_RECORD_INTERNAL_H
#define PQCOAP_RECORD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/session.h"
#include "crypto/crypto_internal.h"

#define PQCOAP_TYPE_REQUEST 0x10
#define PQCOAP_TYPE_RESPONSE 0x11

/* ---- chains (ratchet.c) ---- */

/** One chain step: mk = HMAC(ck, 0x01), ck = HMAC(ck, 0x02) (ck replaced in place, the old
 *  value wiped). */
pqcoap_err pqcoap_chain_step(uint8_t ck[32], uint8_t mk[32]);

/** Sending: mk of number chain->n, then advances the chain to n + 1. */
pqcoap_err pqcoap_chain_next(pqcoap_chain *chain, uint8_t mk[32], uint64_t *n);

/** AEAD nonce of message n: 0x00000000 || u64 n. */
void pqcoap_msg_nonce(uint64_t n, uint8_t nonce[12]);

/* ---- receive window (window.c) ---- */

/** Starts a receive chain at number 0 with chain key ck and window w (1..WINDOW_MAX). */
void pqcoap_window_init(pqcoap_window *win, const uint8_t ck[32], uint16_t w);

/** What accepting message n changes in a receive window: the message key of n and, for n
 *  at or above next, the chain key after n and the keys of the numbers skipped before it.
 *  Secret; only the parts written are wiped. */
typedef struct pqcoap_window_step {
    uint64_t n;
    uint8_t mk[32];
    uint8_t ck[32];
    size_t n_skipped;
    uint8_t skipped[PQCOAP_WINDOW_MAX][32];
} pqcoap_window_step;

/** Works out in *st what accepting n would change, leaving the window as it is: for n >= next
 *  (at most W ahead) derives the skipped keys and n's from a copy of the chain key; for n
 *  below next copies the held key. Errors (*st wiped): PQCOAP_ERR_REPLAY (out of window,
 *  already accepted or key discarded), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_window_peek(const pqcoap_window *win, uint64_t n, pqcoap_window_step *st);

/** Applies a step from pqcoap_window_peek on the unchanged window (once the tag verified):
 *  holds the skipped keys, advances, forgets n's key; then wipes *st. */
void pqcoap_window_accept(pqcoap_window *win, pqcoap_window_step *st);

/** Wipes what pqcoap_window_peek wrote to *st (a step not accepted). */
void pqcoap_window_step_wipe(pqcoap_window_step *st);

/* ---- session state (record.c) ---- */

/** Makes `s` a live session with the given chain keys (copied; the caller wipes its own). */
void pqcoap_session_setup(pqcoap_session *s, int initiator, uint8_t suite, uint32_t sid,
                          uint32_t max_msgs, uint64_t expires_ms, const uint8_t ck_send[32],
                          const uint8_t ck_recv[32], uint16_t w);

/** now_ms + lifetime_s seconds, saturating. */
uint64_t pqcoap_expiry(uint64_t now_ms, uint32_t lifetime_s);

/* ---- test support (record.c) ---- */

/** Serialises a session's state (counters, chain keys, held message keys, retransmission
 *  record, timers) to out[0..cap) so tests can compare it byte for byte before and after a
 *  message. The output contains secret keys: for tests only; wipe it after use.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_BUFFER. */
pqcoap_err pqcoap_session_snapshot(const pqcoap_session *s, uint8_t *out, size_t cap,
                                   size_t *out_len);

/** Largest snapshot. */
#define PQCOAP_SNAPSHOT_MAX (sizeof(pqcoap_session) + 64)

#endif
