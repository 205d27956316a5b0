/* Pieces shared by the Mode A client and server layers (sign_client.c, sign_server.c):
 * signing a plaintext message into a wire message, unwrapping a verified one, store names. */
#ifndef PQCOAP_SIGN_INTERNAL_H
#define PQCOAP_SIGN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/keys.h"
#include "pqcoap/layer.h"
#include "pqcoap/sign.h"
#include "pqcoap/store.h"

/** "sign:" and 16 hex digits of a kid, NUL-terminated. */
#define PQCOAP_SIGN_NAME_LEN (5 + 2 * PQCOAP_KID_LEN + 1)

/** The option numbers a Mode A layer registers as critical: PQ-Sig (65003). */
extern const uint16_t pqcoap_sign_critical_opts[1];

/** Writes "sign:<kid in lowercase hex>", the store name of the sequence counter of an own
 *  kid (its replay floors are pqcoap_store_sign_floor_*). */
void pqcoap_sign_name(const uint8_t kid[PQCOAP_KID_LEN], char out[PQCOAP_SIGN_NAME_LEN]);

/** Turns the plaintext message `plain` into the wire message `wire` (pre-set with code and
 *  token): its options, then for version 2 a PQ-Sig option with the next number of `ctr`
 *  and the v2 signed payload (a request: `req` NULL and `recipient_kid` the kid of the key
 *  it is meant for; a response: `req` the request it answers), for version 1 the v1 signed
 *  payload. Stores the v2 seq in *seq (0 for v1).
 *  Errors: PQCOAP_ERR_ARG if `plain` carries a PQ-Sig option, those of pqcoap_seq_next,
 *  pqcoap_sign_v1 / v2 and pqcoap_msgbuf_add_opt. */
pqcoap_err pqcoap_sign_wrap(const pqcoap_signer *s, int version, pqcoap_seq_counter *ctr,
                            const pqcoap_msg *plain, const uint8_t *recipient_kid,
                            const pqcoap_sig_req *req, pqcoap_msgbuf *out, uint64_t *seq);

/** As pqcoap_sign_wrap for a v2 notification (pqcoap_sign_v2_notification) of the
 *  observation registered by `req`, with the next number of `ctr`. */
pqcoap_err pqcoap_sign_wrap_notification(const pqcoap_signer *s, pqcoap_seq_counter *ctr,
                                         const pqcoap_msg *plain, const pqcoap_sig_req *req,
                                         pqcoap_msgbuf *out);

/** Writes the verified message into `plain` (pre-set with code and token): the options of
 *  `wire` without PQ-Sig and the payload message[0..len). Errors of pqcoap_msgbuf_*. */
pqcoap_err pqcoap_sign_unwrap(const pqcoap_msg *wire, const uint8_t *message, size_t len,
                              pqcoap_msgbuf *plain);

#endif
