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

/** Takes the message key of n out of the window, updating it as if n were accepted: for
 *  n >= next (at most W ahead) derives and holds the skipped keys and advances; for n below
 *  next hands out and forgets the held key. Call it on a scratch copy and keep the copy only
 *  if the tag verifies. Errors: PQCOAP_ERR_REPLAY (out of window, already accepted or key
 *  discarded), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_window_take(pqcoap_window *win, uint64_t n, uint8_t mk[32]);

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
