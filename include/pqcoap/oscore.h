/* OSCORE (RFC 8613) sans-I/O core: security context derivation, the OSCORE option, and the
 * protection of requests and responses over the neutral message view. No sockets, no
 * clocks, no allocation, no storage: the caller keeps the Sender Sequence Number durable. */
#ifndef PQCOAP_OSCORE_H
#define PQCOAP_OSCORE_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/msg.h"
#include "pqcoap/replay.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PQCOAP_OPT_OSCORE 9             /**< RFC 8613 section 2 */
#define PQCOAP_OPT_ECHO 252             /**< RFC 9175 section 2.2 */

#define PQCOAP_COSE_AES_CCM_16_64_128 10    /**< mandatory to implement (RFC 8613 3.2) */
#define PQCOAP_COSE_AES_CCM_16_128_256 31
#define PQCOAP_COSE_A256GCM 3
#define PQCOAP_COSE_HKDF_SHA256 (-10)       /**< the only HKDF supported */

#define PQCOAP_OSCORE_ID_MAX 7          /**< Sender/Recipient ID: at most nonce length - 6 */
#define PQCOAP_OSCORE_CTXID_MAX 64      /**< ID Context bytes this library accepts */
#define PQCOAP_OSCORE_SECRET_MAX 64     /**< Master Secret and Master Salt bytes */
#define PQCOAP_OSCORE_PIV_MAX 5         /**< Partial IV: at most 40 bits (section 6.1) */
#define PQCOAP_OSCORE_SSN_MAX ((UINT64_C(1) << 40) - 1)
#define PQCOAP_OSCORE_WINDOW_DEFAULT 32 /**< replay window default; at most 64 */
/** Largest OSCORE option value: flags, Partial IV, s, ID Context, kid. */
#define PQCOAP_OSCORE_OPT_MAX (1 + PQCOAP_OSCORE_PIV_MAX + 1 + PQCOAP_OSCORE_CTXID_MAX + \
                               PQCOAP_OSCORE_ID_MAX)

/** Input of the context derivation (RFC 8613 section 3.2). Byte strings are borrowed.
 *  Default initialiser: PQCOAP_OSCORE_PARAMS_INIT (AES-CCM-16-64-128, HKDF SHA-256, no
 *  salt, no ID Context, window 32). */
typedef struct pqcoap_oscore_params {
    const uint8_t *master_secret;
    size_t master_secret_len;       /**< 1..PQCOAP_OSCORE_SECRET_MAX */
    const uint8_t *master_salt;     /**< NULL or empty: the default, the empty string */
    size_t master_salt_len;
    const uint8_t *id_context;      /**< used only when has_id_context */
    size_t id_context_len;
    int has_id_context;
    const uint8_t *sender_id;
    size_t sender_id_len;
    const uint8_t *recipient_id;
    size_t recipient_id_len;
    int aead_alg;                   /**< a PQCOAP_COSE_* AEAD identifier */
    int hkdf_alg;                   /**< PQCOAP_COSE_HKDF_SHA256 */
    unsigned replay_window;         /**< 1..64 */
} pqcoap_oscore_params;

#define PQCOAP_OSCORE_PARAMS_INIT {NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, \
    PQCOAP_COSE_AES_CCM_16_64_128, PQCOAP_COSE_HKDF_SHA256, PQCOAP_OSCORE_WINDOW_DEFAULT}

/** Room for the keyed AEAD state of one key (opaque): the AES key schedule and, for
 *  A256GCM, GHASH's key table. A Sender or Recipient Key is fixed for the life of its
 *  context (section 3.2), so this is made once, by pqcoap_oscore_derive, and each message
 *  does only the work of its nonce. */
#define PQCOAP_OSCORE_AEAD_KEY_WORDS 544
typedef struct pqcoap_oscore_aead_key {
    uint64_t opaque[PQCOAP_OSCORE_AEAD_KEY_WORDS];
} pqcoap_oscore_aead_key;

/** A derived security context (RFC 8613 section 3.1). Plain data owned by the caller (it
 *  may be copied; about 8.9 KB, most of it the keyed AEAD states); its keys are secret:
 *  wipe it with pqcoap_oscore_wipe. The Sender Sequence Number is not here: the caller
 *  hands one to each protection, reserved durably beforehand (Appendix B.1.1,
 *  pqcoap_seq_counter). */
typedef struct pqcoap_oscore_ctx {
    int aead_alg;
    uint8_t common_iv[13];
    uint8_t id_context[PQCOAP_OSCORE_CTXID_MAX];
    size_t id_context_len;
    int has_id_context;
    uint8_t sender_id[PQCOAP_OSCORE_ID_MAX];
    size_t sender_id_len;
    uint8_t sender_key[32];
    uint8_t recipient_id[PQCOAP_OSCORE_ID_MAX];
    size_t recipient_id_len;
    uint8_t recipient_key[32];
    /** Replay window of the Recipient Context over request Partial IVs (section 7.4). */
    pqcoap_replay_window window;
    unsigned window_size;
    /** 0 after a restart until the window is re-established (Appendix B.1.2, Echo). */
    int window_valid;
    pqcoap_oscore_aead_key sender_aead;     /**< sender_key, keyed */
    pqcoap_oscore_aead_key recipient_aead;  /**< recipient_key, keyed */
} pqcoap_oscore_ctx;

/** Derives the Sender Key, Recipient Key and Common IV of section 3.2.1 into *out (the
 *  window starts valid and empty). Errors: PQCOAP_ERR_ARG (NULL, a length out of range,
 *  an ID longer than the algorithm's nonce length - 6), PQCOAP_ERR_UNSUPPORTED (AEAD or
 *  HKDF algorithm), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_oscore_derive(const pqcoap_oscore_params *p, pqcoap_oscore_ctx *out);

/** Wipes the context (keys included). NULL is allowed. */
void pqcoap_oscore_wipe(pqcoap_oscore_ctx *ctx);

/** The OSCORE option value, decoded (section 6.1). Pointers borrow the option value. */
typedef struct pqcoap_oscore_option {
    const uint8_t *piv;
    size_t piv_len;                 /**< 0 = no Partial IV */
    const uint8_t *kid;
    size_t kid_len;
    int has_kid;
    const uint8_t *kid_context;
    size_t kid_context_len;
    int has_kid_context;
} pqcoap_oscore_option;

/** Decodes an OSCORE option value. PQCOAP_ERR_MALFORMED for reserved flag bits, n of 6 or
 *  7, a value shorter than its flags say, or bytes after the fields with no kid flag
 *  (RFC 8613 section 8.2 answers those with 4.02 Bad Option). PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_oscore_option_parse(const uint8_t *value, size_t len,
                                      pqcoap_oscore_option *out);

/** What binds a response to its request (section 5.4: request_kid and request_piv), kept
 *  by the client from protecting a request and by the server from unprotecting it. */
typedef struct pqcoap_oscore_binding {
    uint8_t kid[PQCOAP_OSCORE_ID_MAX];
    size_t kid_len;
    uint8_t piv[PQCOAP_OSCORE_PIV_MAX];
    size_t piv_len;
} pqcoap_oscore_binding;

/** Caller-owned room for a message the core writes: `opts[0..opts_cap)` for the options
 *  and `buf[0..cap)` for the OSCORE option value and the payload. The resulting view
 *  borrows from these arrays and from the input message's option values. */
typedef struct pqcoap_oscore_out {
    pqcoap_opt *opts;
    size_t opts_cap;
    uint8_t *buf;
    size_t cap;
} pqcoap_oscore_out;

/** Bytes of plaintext overhead a protected message adds beyond its options and payload:
 *  code, payload marker, tag. Size `buf` as options + payload + this + the option value. */
#define PQCOAP_OSCORE_OVERHEAD (2 + 16 + PQCOAP_OSCORE_OPT_MAX)

/** Protects request `in` (section 8.1) with Sender Sequence Number `ssn` (never used
 *  before with this Sender Key, <= PQCOAP_OSCORE_SSN_MAX). With `send_kid_context` the
 *  ID Context travels in the option (kid context). Class E options are encrypted, Class U
 *  options (Uri-Host, Uri-Port, Proxy-Uri, Proxy-Scheme) stay outer; Observe is both. The
 *  outer code is POST, or FETCH when the request has Observe (section 4.2). *out is the
 *  protected message (token of `in`); *bind what its response must answer.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_LIMIT (ssn beyond 2^40 - 1), PQCOAP_ERR_BUFFER,
 *  PQCOAP_ERR_MALFORMED (options out of order), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_oscore_protect_request(const pqcoap_oscore_ctx *ctx, uint64_t ssn,
                                         int send_kid_context, const pqcoap_msg *in,
                                         const pqcoap_oscore_out *room, pqcoap_msg *out,
                                         pqcoap_oscore_binding *bind);

/** Verifies and decrypts request `in` whose OSCORE option decoded to `opt` (section 8.2),
 *  on the context the caller found by opt->kid (and kid context). Checks the Partial IV
 *  against the replay window and changes the window only once the tag verified. *out is
 *  the unprotected request: inner code, outer Class U options and the inner options in
 *  order, inner payload. Errors: PQCOAP_ERR_MALFORMED (no Partial IV or kid, bad inner
 *  message: 4.02 / 4.00), PQCOAP_ERR_REPLAY (4.01 "Replay detected"), PQCOAP_ERR_AUTH
 *  (4.00 "Decryption failed"), PQCOAP_ERR_STATE (window not valid: answer with Echo,
 *  Appendix B.1.2), PQCOAP_ERR_BUFFER, PQCOAP_ERR_ARG. On error ctx is unchanged. */
pqcoap_err pqcoap_oscore_unprotect_request(pqcoap_oscore_ctx *ctx, const pqcoap_msg *in,
                                           const pqcoap_oscore_option *opt,
                                           const pqcoap_oscore_out *room, pqcoap_msg *out,
                                           pqcoap_oscore_binding *bind);

/** Protects response `in` to the request `bind` (section 8.3). With `with_piv` the
 *  response carries its own Partial IV `ssn` (a fresh Sender Sequence Number; mandatory
 *  for Observe notifications), else it reuses the request's nonce. The outer code is 2.04
 *  Changed, or 2.05 Content when the response has Observe. Errors as
 *  pqcoap_oscore_protect_request. */
pqcoap_err pqcoap_oscore_protect_response(const pqcoap_oscore_ctx *ctx,
                                          const pqcoap_oscore_binding *bind, int with_piv,
                                          uint64_t ssn, const pqcoap_msg *in,
                                          const pqcoap_oscore_out *room, pqcoap_msg *out);

/** Protects notification `in` (RFC 7641) of the observation registered by the request
 *  `bind` (section 4.1.3.5.2): its own Partial IV `ssn` (a fresh Sender Sequence Number),
 *  the AAD with the registration's request_kid and request_piv, the inner Observe empty and
 *  the outer Observe with the value of `in` (none: the last answer of the observation).
 *  Errors as pqcoap_oscore_protect_response. */
pqcoap_err pqcoap_oscore_protect_notification(const pqcoap_oscore_ctx *ctx,
                                              const pqcoap_oscore_binding *bind, uint64_t ssn,
                                              const pqcoap_msg *in,
                                              const pqcoap_oscore_out *room, pqcoap_msg *out);

/** Verifies and decrypts response `in` to the request `bind` (section 8.4); `opt` is its
 *  decoded OSCORE option (a Partial IV in it selects the nonce). Errors:
 *  PQCOAP_ERR_MALFORMED, PQCOAP_ERR_AUTH, PQCOAP_ERR_BUFFER, PQCOAP_ERR_ARG. */
pqcoap_err pqcoap_oscore_unprotect_response(const pqcoap_oscore_ctx *ctx,
                                            const pqcoap_oscore_binding *bind,
                                            const pqcoap_msg *in,
                                            const pqcoap_oscore_option *opt,
                                            const pqcoap_oscore_out *room, pqcoap_msg *out);

/** Verifies and decrypts notification `in` of the observation registered by `bind`
 *  (sections 4.1.3.5.2, 7.4.1). When `seen` is set, `number` is the observation's
 *  Notification Number (the largest Partial IV accepted for it). A notification without
 *  Partial IV, or whose Partial IV is not above the Notification Number, is refused with
 *  PQCOAP_ERR_REPLAY before anything is decrypted. On PQCOAP_OK *piv is its Partial IV, the
 *  new Notification Number. Errors as pqcoap_oscore_unprotect_response. */
pqcoap_err pqcoap_oscore_unprotect_notification(const pqcoap_oscore_ctx *ctx,
                                                const pqcoap_oscore_binding *bind,
                                                const pqcoap_msg *in,
                                                const pqcoap_oscore_option *opt, int seen,
                                                uint64_t number, const pqcoap_oscore_out *room,
                                                pqcoap_msg *out, uint64_t *piv);

/** Re-establishes the replay window of `ctx` after a restart (Appendix B.1.2): call it once
 *  a request that pqcoap_oscore_unprotect_request answered with PQCOAP_ERR_STATE carried
 *  the Echo value this server sent; its Partial IV (in `bind`) becomes the highest seen,
 *  so it and everything below the window are replays. PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_oscore_window_init(pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *bind);

/** OSCORE class of option `number` (section 4.1): 'E' encrypted, 'U' outer only, 'B' both
 *  (an inner and an outer value, e.g. Observe, Max-Age, Block options). Unknown options
 *  are 'E'. */
char pqcoap_oscore_opt_class(uint16_t number);

/** The CoAP answer section 8.2 / 8.4 gives for `err` from the functions above: code and a
 *  static diagnostic ("Decryption failed", "Replay detected", "Security context not found"
 *  for PQCOAP_ERR_UNKNOWN_PEER, ...). 0 for PQCOAP_OK. */
uint8_t pqcoap_oscore_error_code(pqcoap_err err, const char **diag);

/* ---- provisioned contexts: libcoap's OSCORE configuration format ---- */

#define PQCOAP_OSCORE_CONF_MAX 8192     /**< no valid configuration file is larger */
#define PQCOAP_OSCORE_RECIPIENTS_MAX 16 /**< recipient_id lines one file may hold */

/** A parsed OSCORE configuration (coap-oscore-conf(5): `keyword,encoding,value` lines;
 *  encodings ascii, hex, integer, text, bool; `#` comments and empty lines ignored). Plain
 *  data holding the Master Secret: wipe it with pqcoap_oscore_conf_wipe. */
typedef struct pqcoap_oscore_conf {
    uint8_t master_secret[PQCOAP_OSCORE_SECRET_MAX];
    size_t master_secret_len;
    uint8_t master_salt[PQCOAP_OSCORE_SECRET_MAX];
    size_t master_salt_len;
    uint8_t id_context[PQCOAP_OSCORE_CTXID_MAX];
    size_t id_context_len;
    int has_id_context;
    uint8_t sender_id[PQCOAP_OSCORE_ID_MAX];
    size_t sender_id_len;
    uint8_t recipient_id[PQCOAP_OSCORE_RECIPIENTS_MAX][PQCOAP_OSCORE_ID_MAX];
    size_t recipient_id_len[PQCOAP_OSCORE_RECIPIENTS_MAX];
    size_t n_recipients;            /**< at least 1 */
    int aead_alg;                   /**< default AES-CCM-16-64-128 (10) */
    int hkdf_alg;                   /**< default HKDF SHA-256 (-10) */
    unsigned replay_window;         /**< default 32 */
    uint64_t ssn_freq;              /**< default 1: SSNs reserved ahead per store write */
    int rfc8613_b_1_2;              /**< default 1: Echo recovery after a restart */
    int rfc8613_b_2;                /**< default 0: Appendix B.2 (not supported: refused) */
} pqcoap_oscore_conf;

/** Parses the configuration text in[0..len) into *out. Every required keyword
 *  (master_secret, sender_id, recipient_id) must be present and every line well formed;
 *  an unknown keyword or encoding, a value out of range, a repeated keyword (but
 *  recipient_id), an ID too long for the AEAD algorithm, or rfc8613_b_2 true is refused
 *  with PQCOAP_ERR_MALFORMED (PQCOAP_ERR_UNSUPPORTED for an algorithm this library lacks)
 *  and a one-line reason naming the line in msg[0..msg_cap) (NUL-terminated; msg may be
 *  NULL when msg_cap is 0). On error *out is wiped. PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_oscore_conf_parse(const char *in, size_t len, pqcoap_oscore_conf *out,
                                    char *msg, size_t msg_cap);

/** Fills *p from conf for its recipient number `recipient` (0 for the first); the byte
 *  strings of *p borrow from conf. PQCOAP_ERR_ARG on NULL or a recipient out of range. */
pqcoap_err pqcoap_oscore_conf_params(const pqcoap_oscore_conf *conf, size_t recipient,
                                     pqcoap_oscore_params *p);

/** Wipes the configuration. NULL is allowed. */
void pqcoap_oscore_conf_wipe(pqcoap_oscore_conf *conf);

#ifdef __cplusplus
}
#endif
#endif
