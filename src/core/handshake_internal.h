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

#define PQCOAP_PROTOCOL_VERSION 2
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
    const uint8_t *offer;           /* suite bytes offered, preferred first; 1..OFFER_MAX */
    size_t n_offer;
    const pqcoap_suite *suite;      /* offer[0], the suite of kem_pk (known) */
    const uint8_t *initiator_id;
    size_t initiator_id_len;
    const uint8_t *responder_id;
    size_t responder_id_len;
    uint64_t session_seq;
    uint64_t timestamp_ms;
    const uint8_t *nonce_i;         /* 16 bytes */
    const uint8_t *kem_pk;          /* suite->kem->pk_len bytes */
    const uint8_t *x25519_pk;       /* 32 bytes */
    uint8_t protection;             /* PQCOAP_PROTECTION_* asked for */
    const uint8_t *params;          /* its parameters, 0..PQCOAP_HS_PARAMS_MAX bytes */
    size_t params_len;
    pqcoap_hs_sig sig;
} pqcoap_init_view;

/** RESP fields, as pqcoap_init_view. */
typedef struct pqcoap_resp_view {
    const pqcoap_suite *suite;      /* the suite chosen */
    uint32_t sid;
    uint32_t lifetime_s;
    uint32_t max_msgs;
    const uint8_t *kem_ct;          /* suite->kem->ct_len bytes */
    const uint8_t *x25519_pk;       /* 32 bytes */
    uint8_t protection;
    const uint8_t *params;
    size_t params_len;
    pqcoap_hs_sig sig;
} pqcoap_resp_view;

/** Strict decoders (every field, nothing trailing; an INIT offers 1..PQCOAP_OFFER_MAX
 *  distinct suites, the first known, every known one with the first one's KEM).
 *  Errors: PQCOAP_ERR_MALFORMED, PQCOAP_ERR_UNSUPPORTED (version, or the first or chosen
 *  suite unknown). */
pqcoap_err pqcoap_init_decode(const uint8_t *in, size_t len, pqcoap_init_view *v);
pqcoap_err pqcoap_resp_decode(const uint8_t *in, size_t len, pqcoap_resp_view *v);

/** 1 if the INIT offered suite `id`. */
int pqcoap_init_offers(const pqcoap_init_view *v, uint8_t id);

/** The two messages of the handler table. */
enum { PQCOAP_HS_INIT, PQCOAP_HS_RESP };

/** Writes u8 version || body of `view` (a pqcoap_init_view or pqcoap_resp_view as `kind`)
 *  || str16(signature by `sig` with sk, from its expanded form ek[0..ek_len) when given,
 *  pqcoap_sig_sign) into out[0..cap); a RESP's signature also covers
 *  init_hash = SHA-256(INIT). */
pqcoap_err pqcoap_hs_encode(int kind, const void *view, const pqcoap_sig_alg *sig,
                            const uint8_t *sk, const void *ek, size_t ek_len,
                            const uint8_t *init_hash, const pqcoap_rng *rng, uint8_t *out,
                            size_t cap, size_t *out_len);

/** Verifies the signature `s` of the decoded message `msg` under pk of algorithm `sig`:
 *  PQCOAP_OK or PQCOAP_ERR_AUTH. */
pqcoap_err pqcoap_hs_verify(int kind, const uint8_t *msg, const pqcoap_sig_alg *sig,
                            const pqcoap_hs_sig *s, const uint8_t *pk,
                            const uint8_t *init_hash);

/** 1 if id[0..len) is 1..64 bytes of UTF-8 without U+0000, else 0. */
int pqcoap_id_valid(const uint8_t *id, size_t len);

/* ---- key schedule (handshake.c) ---- */

/** PROTOCOL.md "Key schedule": PRK = HKDF-Extract(salt = SHA-256(INIT || RESP),
 *  IKM = kem_ss || x25519_ss). */
pqcoap_err pqcoap_handshake_prk(const uint8_t *init, size_t init_len, const uint8_t *resp,
                                size_t resp_len, const uint8_t kem_ss[32],
                                const uint8_t x25519_ss[32], uint8_t prk[32]);

/** PROTOCOL.md "Key schedule": TH = SHA-256(INIT || RESP), PRK = HKDF-Extract(TH,
 *  kem_ss || x25519_ss), ck_c2s_0 and ck_s2c_0. PRK is wiped before returning. */
pqcoap_err pqcoap_key_schedule(const uint8_t *init, size_t init_len,
                               const uint8_t *resp, size_t resp_len,
                               const uint8_t kem_ss[32], const uint8_t x25519_ss[32],
                               uint8_t ck_c2s[32], uint8_t ck_s2c[32]);

/* ---- OSCORE keyed by the handshake (hs_oscore.c) ---- */

/** INIT params of an OSCORE request: i8 aead || i8 hkdf || str8(C_I). Errors:
 *  PQCOAP_ERR_ARG (NULL, C_I too long for the AEAD), PQCOAP_ERR_UNSUPPORTED (AEAD). */
pqcoap_err pqcoap_hs_oscore_request_encode(const pqcoap_oscore_request *req, uint8_t *out,
                                           size_t cap, size_t *out_len);

/** Responder: reads INIT params into k (algorithms; Sender ID = C_I). Errors:
 *  PQCOAP_ERR_MALFORMED, PQCOAP_ERR_UNSUPPORTED (an AEAD or HKDF it lacks, or a C_I too
 *  long for the AEAD). */
pqcoap_err pqcoap_hs_oscore_init_decode(const uint8_t *params, size_t len, pqcoap_hs_oscore *k);

/** The minimal big-endian bytes of id >= 1 (1..4): the responder's Recipient ID C_R of the
 *  table entry `id`. Returns the length. */
size_t pqcoap_hs_oscore_id(uint32_t id, uint8_t out[4]);

/** Responder: RESP params i8 aead || i8 hkdf || str8(C_R) with C_R = k's Recipient ID. */
pqcoap_err pqcoap_hs_oscore_resp_encode(const pqcoap_hs_oscore *k, uint8_t *out, size_t cap,
                                        size_t *out_len);

/** Initiator: RESP params must repeat INIT's algorithms and name a C_R (1..nonce - 6 bytes)
 *  other than C_I; fills k from the initiator's view (Sender ID = C_R, Recipient ID = C_I).
 *  Error: PQCOAP_ERR_HANDSHAKE. */
pqcoap_err pqcoap_hs_oscore_resp_check(const uint8_t *init_params, size_t init_len,
                                       const uint8_t *resp_params, size_t resp_len,
                                       pqcoap_hs_oscore *k);

/** Master Secret and Master Salt of k from the handshake's PRK (PROTOCOL.md "OSCORE keyed
 *  by the handshake"). */
pqcoap_err pqcoap_hs_oscore_export(const uint8_t prk[32], pqcoap_hs_oscore *k);

#endif
