/* Mode A of PROTOCOL.md, sans-I/O: signed CoAP payloads, v1 (the seed's
 * `message || signature || u16 len`, Falcon-512) and v2 (bound to code, options, a sequence
 * number and the recipient through the PQ-Sig option 65003, with anti-replay; the token is
 * not bound; any signature algorithm of PROTOCOL.md Mode A v2 "Algorithms").
 * Keys are kept apart by usage (PROTOCOL.md "Key usage"): v1 signs and verifies only with
 * keys of PQCOAP_USAGE_SIGN_V1, v2 only with PQCOAP_USAGE_GENERAL ones. No allocation: every
 * buffer is caller-owned; every pointer in a struct is borrowed. */
#ifndef PQCOAP_SIGN_H
#define PQCOAP_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/keys.h"
#include "pqcoap/msg.h"
#include "pqcoap/replay.h"
#include "pqcoap/rng.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PQCOAP_SIGN_PK_LEN 897        /**< Falcon-512 public key (Mode A v1) */
#define PQCOAP_SIGN_SK_LEN 1281       /**< Falcon-512 secret key (Mode A v1) */
#define PQCOAP_SIGN_SIG_MIN 41        /**< v1: shortest accepted signature length L; also the
                                           shortest Falcon signature (header, 40-byte nonce) */
#define PQCOAP_SIGN_SIG_MAX 752       /**< v1: longest Falcon-512 signature */
#define PQCOAP_SIGN_V2_SIG_MAX 4627   /**< v2: longest signature of any algorithm (ML-DSA-87) */
/** Bytes a signed payload may add to the message, whatever the algorithm: signature and
 *  u16 length. Output buffers of the sign functions need at most message length +
 *  PQCOAP_SIGN_OVERHEAD_MAX (the exact need is the signer's algorithm's longest signature
 *  + 2). */
#define PQCOAP_SIGN_OVERHEAD_MAX (PQCOAP_SIGN_V2_SIG_MAX + 2)
#define PQCOAP_SIG_OPT_LEN 17         /**< PQ-Sig option value: version, kid[8], u64 seq */
#define PQCOAP_SIG_OPT_VERSION 2

/** Which Mode A versions an endpoint accepts. The default is v2 only; v1 must be chosen
 *  explicitly. A message without the PQ-Sig option is v1. */
typedef enum pqcoap_sign_policy {
    PQCOAP_SIGN_V2_ONLY = 0,   /**< v1 messages: PQCOAP_ERR_DOWNGRADE */
    PQCOAP_SIGN_V1_ONLY = 1,   /**< v2 messages: PQCOAP_ERR_UNSUPPORTED */
    PQCOAP_SIGN_V1_AND_V2 = 2  /**< both, each verified by its own rules */
} pqcoap_sign_policy;

/** A sender's identity. Set it up with pqcoap_signer_init or pqcoap_signer_from_identity;
 *  `sk` and `rng` are borrowed and must outlive the signer. */
typedef struct pqcoap_signer {
    const struct pqcoap_sig_alg *alg; /**< the key's algorithm (a library-owned table) */
    const uint8_t *sk;              /**< secret key of that algorithm's length */
    uint8_t kid[PQCOAP_KID_LEN];    /**< kid of the matching public key */
    pqcoap_key_usage usage;         /**< the key's usage: pqcoap_sign_v1 needs
                                         PQCOAP_USAGE_SIGN_V1, pqcoap_sign_v2 GENERAL */
    const pqcoap_rng *rng;          /**< randomness for signing; NULL = system RNG */
    const pqcoap_expanded_key *ek;  /**< sk's expanded form, signed from when set (borrowed
                                         like sk); NULL = sign from sk */
} pqcoap_signer;

/** Fills `s` with the borrowed Falcon-512 secret key `sk`, the kid of its public key `pk`
 *  (pqcoap_kid) and the key's `usage` (keys of the other algorithms: from an identity,
 *  pqcoap_signer_from_identity). Returns PQCOAP_ERR_ARG on NULL, a key of the wrong
 *  length or an unknown usage, PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_signer_init(pqcoap_signer *s, const uint8_t *sk, size_t sk_len,
                              const uint8_t *pk, size_t pk_len, pqcoap_key_usage usage,
                              const pqcoap_rng *rng);

/** Fills `s` from an identity (include/pqcoap/keys.h) of any algorithm of Mode A v2
 *  (PROTOCOL.md "Algorithms"), borrowing its secret key (and its expanded form, when the
 *  identity holds one) and taking its algorithm and usage
 *  (id->pub.usage): `id` must outlive `s`. Returns PQCOAP_ERR_UNSUPPORTED for an identity of
 *  no such algorithm, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_signer_from_identity(pqcoap_signer *s, const pqcoap_identity *id,
                                       const pqcoap_rng *rng);

/* ---- v1 ---- */

/** v1 sign: writes `message || signature || u16 len(signature)` to out[0..cap), signature
 *  over `message` alone. A signature over a bare message could stand for any other
 *  signed input, so the key must be of usage PQCOAP_USAGE_SIGN_V1, and v1 is Falcon-512
 *  only. cap must be at least msg_len + PQCOAP_SIGN_SIG_MAX + 2; `out` may equal `message`
 *  (in place), otherwise they must not overlap. Returns PQCOAP_OK and sets *out_len;
 *  PQCOAP_ERR_KEY_USAGE for a key of another usage; PQCOAP_ERR_UNSUPPORTED for a key of
 *  another algorithm; PQCOAP_ERR_BUFFER if cap is too small; PQCOAP_ERR_ARG on NULL;
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_sign_v1(const pqcoap_signer *s, const uint8_t *message, size_t msg_len,
                          uint8_t *out, size_t cap, size_t *out_len);

/** v1 verify of a signed payload against the pinned key `pk` (NULL = none pinned), which
 *  must be a Falcon-512 key of usage PQCOAP_USAGE_SIGN_V1. On PQCOAP_OK, *message /
 *  *msg_len are the message slice of `payload`. Errors: PQCOAP_ERR_MALFORMED unless
 *  41 <= L <= 752 and L <= payload_len - 2 (L = last two bytes); PQCOAP_ERR_NO_PEER_KEY
 *  without a pinned key; PQCOAP_ERR_KEY_USAGE for a key of another usage (nothing is
 *  verified); PQCOAP_ERR_ARG if pk is not a Falcon-512 key; PQCOAP_ERR_AUTH if the
 *  signature does not verify. */
pqcoap_err pqcoap_verify_v1(const pqcoap_pubkey *pk, const uint8_t *payload,
                            size_t payload_len, const uint8_t **message, size_t *msg_len);

/* ---- v2 ---- */

/** Encodes the PQ-Sig option value `u8 2 || kid[8] || u64 seq` into out (17 bytes). */
void pqcoap_sig_opt_encode(const uint8_t kid[8], uint64_t seq,
                           uint8_t out[PQCOAP_SIG_OPT_LEN]);

/** Parses a PQ-Sig option value strictly: exactly 17 bytes with version 2, else
 *  PQCOAP_ERR_MALFORMED. PQCOAP_ERR_ARG on NULL outputs. */
pqcoap_err pqcoap_sig_opt_parse(const uint8_t *value, size_t len, uint8_t kid[8],
                                uint64_t *seq);

/** The request a response answers: the PQ-Sig kid and seq it carried. The server takes
 *  them from the pqcoap_sig_info its verification returned; the client takes its own kid
 *  and the seq it signed with. The token is not bound (PROTOCOL.md "The token"): kid and
 *  seq never repeat, so they alone tie a response to its request. */
typedef struct pqcoap_sig_req {
    uint8_t kid[8];
    uint64_t seq;
} pqcoap_sig_req;

/** v2 sign, with the signer's algorithm (any of PROTOCOL.md Mode A v2 "Algorithms"). `msg`
 *  is the message to send: code and options as they will go on the wire (a PQ-Sig option
 *  in it is ignored: opts() leaves it out; the token is not signed) and `payload` the
 *  message. A request names its recipient: `recipient_kid` is the kid of the
 *  key the request is meant for (the pinned server key), and `req` is NULL. A response has
 *  `req`, the request it answers, and `recipient_kid` is not used (may be NULL): the
 *  request's kid binds it to its recipient. The key must be of usage
 *  PQCOAP_USAGE_GENERAL. Writes the PQ-Sig option value to opt_value and
 *  `message || signature || u16 len` to out[0..cap) (cap >= payload_len + the algorithm's
 *  longest signature + 2, which PQCOAP_SIGN_OVERHEAD_MAX always covers; out must not
 *  overlap the message); the caller adds the option
 *  and sends out[0..*out_len) as the payload. `seq` must be strictly increasing per key
 *  (persisted ahead of use). Signature input (PROTOCOL.md):
 *    request:  "pqcoap v2 req"  || u8 code || opts(msg) || kid || u64 seq
 *              || recipient_kid || message
 *    response: "pqcoap v2 resp" || u8 code || opts(msg) || kid || u64 seq
 *              || request_kid || u64 request_seq || message
 *  Errors: PQCOAP_ERR_ARG on NULL (also a request without recipient_kid);
 *  PQCOAP_ERR_KEY_USAGE for a key of another usage;
 *  PQCOAP_ERR_MALFORMED / PQCOAP_ERR_TOO_LARGE from opts(); PQCOAP_ERR_BUFFER;
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_sign_v2(const pqcoap_signer *s, uint64_t seq, const pqcoap_msg *msg,
                          const uint8_t *recipient_kid, const pqcoap_sig_req *req,
                          uint8_t opt_value[PQCOAP_SIG_OPT_LEN], uint8_t *out, size_t cap,
                          size_t *out_len);

/** v2 notification sign (RFC 7641, PROTOCOL.md "Observe"): as pqcoap_sign_v2 for a
 *  response to `req` (the registering request's kid and seq, required), with its own fresh
 *  `seq` and the notification label, so that no request or response signature is a
 *  notification signature and no notification signature is either of those:
 *    "pqcoap v2 notif" || u8 code || opts(msg) || kid || u64 seq || request_kid
 *    || u64 request_seq || message
 *  opts(msg) covers the Observe option the notification carries. Errors as
 *  pqcoap_sign_v2 (PQCOAP_ERR_ARG also for req NULL). */
pqcoap_err pqcoap_sign_v2_notification(const pqcoap_signer *s, uint64_t seq,
                                       const pqcoap_msg *msg, const pqcoap_sig_req *req,
                                       uint8_t opt_value[PQCOAP_SIG_OPT_LEN], uint8_t *out,
                                       size_t cap, size_t *out_len);

/** Finds a sender's pinned key by kid. Sets *key (borrowed; valid until the next call with
 *  the same ctx), with its usage; returns PQCOAP_ERR_UNKNOWN_PEER or PQCOAP_ERR_NOT_FOUND
 *  for an unknown kid, or another error of the backing store. */
typedef pqcoap_err (*pqcoap_key_lookup)(void *ctx, const uint8_t kid[8],
                                        const pqcoap_pubkey **key);

/** How an endpoint verifies Mode A messages. Default initialiser: PQCOAP_VERIFIER_INIT
 *  (v2 only, no keys, no replay table, no own kid). Every pointer is borrowed. */
typedef struct pqcoap_verifier {
    pqcoap_sign_policy policy;
    const pqcoap_pubkey *v1_key;    /**< v1: the pinned peer key (usage SIGN_V1), or NULL */
    pqcoap_key_lookup lookup;       /**< v2: sender key by kid (usage GENERAL) */
    void *lookup_ctx;
    pqcoap_replay_table *replay;    /**< v2: per-kid replay windows; required for requests;
                                         NULL for responses, which are fresh by their
                                         binding to their request (PROTOCOL.md) */
    const uint8_t *own_kid;         /**< v2 requests: the kid of the receiver's own key; a
                                         request is accepted only if signed for it */
} pqcoap_verifier;

#define PQCOAP_VERIFIER_INIT {PQCOAP_SIGN_V2_ONLY, NULL, NULL, NULL, NULL, NULL}

/** What verification established about an accepted message. */
typedef struct pqcoap_sig_info {
    int version;                    /**< 1 or 2 */
    uint8_t kid[8];                 /**< v2: sender kid (zero for v1) */
    uint64_t seq;                   /**< v2: sender seq (zero for v1) */
} pqcoap_sig_info;

/** v2 verify of a received message `msg` (its options include the PQ-Sig option). `req`
 *  is NULL for a request, which must be bound to v->own_kid (a request signed for another
 *  recipient does not verify), or the request this response must answer (its kid and seq
 *  are bound; the token is not). Steps: parse the one PQ-Sig option, split the payload
 *  (1 <= L <= PQCOAP_SIGN_V2_SIG_MAX, L <= payload_len - 2), look up the key by kid, check
 *  the replay window, check the key's usage (a key pinned for v1 is refused, never tried),
 *  check that L is a length of the key's algorithm (pqcoap_sign_v2_len_ok: a signature of
 *  another algorithm is refused unverified), verify the signature with that algorithm and
 *  only then mark seq in the window. On PQCOAP_OK fills *info (may be NULL) and sets *message / *msg_len to the
 *  message slice of msg->payload. Errors: PQCOAP_ERR_MALFORMED (PQ-Sig option missing,
 *  repeated or malformed, payload layout, options out of order); PQCOAP_ERR_TOO_LARGE
 *  (opts() above PQCOAP_OPTS_MAX); PQCOAP_ERR_AUTH (bad signature, including a response
 *  signed for another request kid or seq, a request signed for another recipient and a
 *  signature whose length the key's algorithm never makes);
 *  PQCOAP_ERR_UNKNOWN_PEER; PQCOAP_ERR_KEY_USAGE (the kid's key is not of usage GENERAL);
 *  PQCOAP_ERR_REPLAY; PQCOAP_ERR_LIMIT (replay table full); PQCOAP_ERR_ARG (NULL, no lookup,
 *  a request without replay table or v->own_kid, a key of no Mode A v2 algorithm or of the
 *  wrong length); a lookup error. On any error the replay table is unchanged. */
pqcoap_err pqcoap_verify_v2(const pqcoap_verifier *v, const pqcoap_msg *msg,
                            const pqcoap_sig_req *req, pqcoap_sig_info *info,
                            const uint8_t **message, size_t *msg_len);

/** v2 verify of a notification of the observation registered by `req` (its kid and seq,
 *  required): the notification signature input of pqcoap_sign_v2_notification, signed by a
 *  key v->lookup finds (v->replay may be NULL: the order below replaces the window). When
 *  `seen` is set, `last_seq` is the seq of the newest notification accepted for this
 *  observation, and a notification whose seq is not above it is refused with
 *  PQCOAP_ERR_REPLAY before its signature is checked (replayed, or overtaken by a newer
 *  one: RFC 7641 section 3.4). On PQCOAP_OK *info (may be NULL) holds the seq to keep as
 *  the new last_seq. Errors as pqcoap_verify_v2; PQCOAP_ERR_AUTH also for a request or
 *  response signature, or a notification of another observation. */
pqcoap_err pqcoap_verify_v2_notification(const pqcoap_verifier *v, const pqcoap_msg *msg,
                                         const pqcoap_sig_req *req, int seen,
                                         uint64_t last_seq, pqcoap_sig_info *info,
                                         const uint8_t **message, size_t *msg_len);

/** Verifies `msg` under the endpoint's policy: a message with a PQ-Sig option is v2
 *  (pqcoap_verify_v2 with `req`), one without is v1 (pqcoap_verify_v1 with v->v1_key;
 *  `req` is not used: v1 binds nothing). Errors as those functions, plus
 *  PQCOAP_ERR_DOWNGRADE for a v1 message when the policy is v2 only and
 *  PQCOAP_ERR_UNSUPPORTED for a v2 message when it is v1 only. */
pqcoap_err pqcoap_verify_msg(const pqcoap_verifier *v, const pqcoap_msg *msg,
                             const pqcoap_sig_req *req, pqcoap_sig_info *info,
                             const uint8_t **message, size_t *msg_len);

/** Key look-up over a pqcoap_store: pass pqcoap_store_key_lookup as `lookup` and a
 *  pqcoap_store_lookup (with `store` set) as `lookup_ctx`. The found peer is copied into
 *  `peer` and its key, with the peer's usage, into `key`, which the look-up returns. */
typedef struct pqcoap_store_lookup {
    const pqcoap_store *store;
    pqcoap_peer peer;
    pqcoap_pubkey key;
} pqcoap_store_lookup;

/** pqcoap_key_lookup over ctx = pqcoap_store_lookup *: the store's peer_by_kid, with the
 *  algorithm the entry records. Returns PQCOAP_ERR_UNKNOWN_PEER if the kid is not stored or
 *  its entry is not a key of a Mode A v2 algorithm of that algorithm's length, or the
 *  store's error. */
pqcoap_err pqcoap_store_key_lookup(void *ctx, const uint8_t kid[8], const pqcoap_pubkey **key);

/** Whether `key` is one Mode A `version` signs and verifies with (PROTOCOL.md "Algorithms"
 *  of Mode A v2, "Key usage"): v1 takes Falcon-512 keys of usage PQCOAP_USAGE_SIGN_V1, v2
 *  keys of any Mode A v2 algorithm (Falcon-512, Falcon-1024, ML-DSA-44, ML-DSA-65,
 *  ML-DSA-87) of usage PQCOAP_USAGE_GENERAL. Returns PQCOAP_OK, PQCOAP_ERR_UNSUPPORTED
 *  (another algorithm, or a key of the wrong length), PQCOAP_ERR_KEY_USAGE, or
 *  PQCOAP_ERR_ARG (NULL, version not 1 or 2). */
pqcoap_err pqcoap_sign_key_check(const pqcoap_pubkey *key, int version);

/** 1 if a Mode A v2 signature of sig_len bytes can be one of `key`'s algorithm (PROTOCOL.md
 *  Mode A v2 "Algorithms": ML-DSA exactly its one length, Falcon 41 up to its longest),
 *  else 0, also for NULL or a key of no Mode A v2 algorithm. pqcoap_verify_v2 refuses a
 *  signature of any other length as not verifying, before any signature check. */
int pqcoap_sign_v2_len_ok(const pqcoap_pubkey *key, size_t sig_len);

/** CoAP response code a server sends when verification of a request failed with `err`:
 *  4.00 Bad Request for malformed input, 4.01 Unauthorized for a bad signature, unknown
 *  kid, a key of another usage, replay, downgrade or no pinned key, 4.02 Bad Option for an unsupported version,
 *  4.13 Request Entity Too Large for PQCOAP_ERR_TOO_LARGE, 5.03 Service Unavailable for
 *  PQCOAP_ERR_LIMIT, 5.00 Internal Server Error otherwise (PQCOAP_OK gives 0). */
uint8_t pqcoap_sign_error_code(pqcoap_err err);

#ifdef __cplusplus
}
#endif
#endif
