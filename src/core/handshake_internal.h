/* Internal interface of the Mode B handshake in the core: the INIT/RESP codec table
 * (handshake_msg.c) and the key schedule (handshake.c). The handshake uses the record layer
 * (record_internal.h) and the table of live peer contexts (peer_table_internal.h); neither
 * includes this header. */
#ifndef PQCOAP_HANDSHAKE_INTERNAL_H
#define PQCOAP_HANDSHAKE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/session.h"
#include "crypto/crypto_internal.h"

#define PQCOAP_PROTOCOL_VERSION 1
#define PQCOAP_NONCE_I_LEN 16

/* ---- handshake messages (handshake_msg.c) ---- */

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

/** The two messages of the handler table. */
enum { PQCOAP_HS_INIT, PQCOAP_HS_RESP };

/** Writes u8 version || u8 suite || body of `view` (a pqcoap_init_view or pqcoap_resp_view
 *  as `kind`) || str16(signature with sk) into out[0..cap); a RESP's signature also covers
 *  init_hash = SHA-256(INIT). */
pqcoap_err pqcoap_hs_encode(int kind, const void *view, const pqcoap_suite *suite,
                            const uint8_t *sk, const uint8_t *init_hash,
                            const pqcoap_rng *rng, uint8_t *out, size_t cap, size_t *out_len);

/** Verifies the signature `sig` of the decoded message `msg` under pk: PQCOAP_OK or
 *  PQCOAP_ERR_AUTH. */
pqcoap_err pqcoap_hs_verify(int kind, const uint8_t *msg, const pqcoap_suite *suite,
                            const pqcoap_hs_sig *sig, const uint8_t *pk,
                            const uint8_t *init_hash);

/** 1 if id[0..len) is 1..64 bytes of UTF-8 without U+0000, else 0. */
int pqcoap_id_valid(const uint8_t *id, size_t len);

/* ---- key schedule (handshake.c) ---- */

/** PROTOCOL.md "Key schedule": TH = SHA-256(INIT || RESP), PRK = HKDF-Extract(TH,
 *  kem_ss || x25519_ss), ck_c2s_0 and ck_s2c_0. PRK is wiped before returning. */
pqcoap_err pqcoap_key_schedule(const uint8_t *init, size_t init_len,
                               const uint8_t *resp, size_t resp_len,
                               const uint8_t kem_ss[32], const uint8_t x25519_ss[32],
                               uint8_t ck_c2s[32], uint8_t ck_s2c[32]);

#endif
