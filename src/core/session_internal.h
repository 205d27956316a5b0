/* Internal interface of Mode B in the core: INIT/RESP codec table (handshake.c), key
 * schedule and KDF chains (ratchet.c), receive window (window.c), test snapshot (session.c). */
#ifndef PQCOAP_SESSION_INTERNAL_H
#define PQCOAP_SESSION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/session.h"
#include "crypto/crypto_internal.h"

#define PQCOAP_PROTOCOL_VERSION 1
#define PQCOAP_NONCE_I_LEN 16
#define PQCOAP_TYPE_REQUEST 0x10
#define PQCOAP_TYPE_RESPONSE 0x11

/* ---- handshake messages (handshake.c) ---- */

/** Signature of a decoded handshake message: sig borrows the input; signed_len is the
 *  length of the bytes before str16(sig). */
typedef struct pqcoap_hs_sig {
    const uint8_t *sig;
    size_t sig_len;
    size_t signed_len;
} pqcoap_hs_sig;

/** INIT fields. Pointers borrow the decoded input (or, to encode, the caller's data). */
typedef struct pqcoap_init_view {
    const pqcoap_suite *suite;
    const uint8_t *initiator_id;
    size_t initiator_id_len;
    const uint8_t *responder_id;
    size_t responder_id_len;
    uint64_t session_seq;
    uint64_t timestamp_ms;
    const uint8_t *nonce_i;         /* 16 bytes */
    const uint8_t *kem_pk;          /* suite->kem->pk_len bytes */
    const uint8_t *x25519_pk;       /* 32 bytes */
    pqcoap_hs_sig sig;
} pqcoap_init_view;

/** RESP fields, as pqcoap_init_view. */
typedef struct pqcoap_resp_view {
    const pqcoap_suite *suite;
    uint32_t sid;
    uint32_t lifetime_s;
    uint32_t max_msgs;
    const uint8_t *kem_ct;          /* suite->kem->ct_len bytes */
    const uint8_t *x25519_pk;       /* 32 bytes */
    pqcoap_hs_sig sig;
} pqcoap_resp_view;

/** Strict decoders (every field, nothing trailing). Errors: PQCOAP_ERR_MALFORMED,
 *  PQCOAP_ERR_UNSUPPORTED (version or suite). */
pqcoap_err pqcoap_init_decode(const uint8_t *in, size_t len, pqcoap_init_view *v);
pqcoap_err pqcoap_resp_decode(const uint8_t *in, size_t len, pqcoap_resp_view *v);

/** 1 if id[0..len) is 1..64 bytes of UTF-8 without U+0000, else 0. */
int pqcoap_id_valid(const uint8_t *id, size_t len);

/* ---- key schedule and chains (ratchet.c) ---- */

/** PROTOCOL.md "Key schedule": TH = SHA-256(INIT || RESP), PRK = HKDF-Extract(TH,
 *  kem_ss || x25519_ss), ck_c2s_0 and ck_s2c_0. PRK is wiped before returning. */
pqcoap_err pqcoap_key_schedule(const uint8_t *init, size_t init_len,
                               const uint8_t *resp, size_t resp_len,
                               const uint8_t kem_ss[32], const uint8_t x25519_ss[32],
                               uint8_t ck_c2s[32], uint8_t ck_s2c[32]);

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

/* ---- sessions and the responder's table (session.c) ---- */

/** Makes `s` a live session with the given chain keys (copied; the caller wipes its own). */
void pqcoap_session_setup(pqcoap_session *s, int initiator, uint8_t suite, uint32_t sid,
                          uint32_t max_msgs, uint64_t expires_ms, const uint8_t ck_send[32],
                          const uint8_t ck_recv[32], uint16_t w);

/** now_ms + lifetime_s seconds, saturating. */
uint64_t pqcoap_expiry(uint64_t now_ms, uint32_t lifetime_s);

/** Chooses where a new session of initiator `peer_id` goes, changing nothing but ending
 *  sessions whose lifetime is over: the slot of that initiator's live session (replaced),
 *  else a free slot, else (if evict_idle_ms) the least recently used session idle that
 *  long; and the smallest sid >= 1 no live session or pending handshake uses.
 *  Error: PQCOAP_ERR_LIMIT. */
pqcoap_err pqcoap_responder_reserve(pqcoap_responder *r, const char *peer_id, uint64_t now_ms,
                                    size_t *slot, uint32_t *sid);

/** The live session of the responder with this serial, or NULL. */
pqcoap_session *pqcoap_responder_by_serial(pqcoap_responder *r, uint64_t serial);

/* ---- test support (session.c) ---- */

/** Serialises a session's state (counters, chain keys, held message keys, retransmission
 *  record, timers) to out[0..cap) so tests can compare it byte for byte before and after a
 *  message. The output contains secret keys: for tests only; wipe it after use.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_BUFFER. */
pqcoap_err pqcoap_session_snapshot(const pqcoap_session *s, uint8_t *out, size_t cap,
                                   size_t *out_len);

/** Largest snapshot. */
#define PQCOAP_SNAPSHOT_MAX (sizeof(pqcoap_session) + 64)

#endif
