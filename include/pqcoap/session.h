/* Mode B sessions, sans-I/O (docs/PROTOCOL.md "Mode B"): the handshake (INIT/RESP, version 2,
 * suites offered by the initiator and chosen by the responder), the
 * per-message key chains, the receive window and protected requests/responses. No sockets,
 * no clocks (time is the argument now_ms, milliseconds), no allocation: every state object
 * below is a plain struct the caller allocates; its fields are private to the library. */
#ifndef PQCOAP_SESSION_H
#define PQCOAP_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/msg.h"
#include "pqcoap/oscore.h"
#include "pqcoap/rng.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- sizes (bytes) ---- */

/** Receive window W: the default and the largest value a session can be configured with.
 *  A session holds W message keys of 32 bytes for out-of-order delivery. */
#define PQCOAP_WINDOW_DEFAULT 64
#ifndef PQCOAP_WINDOW_MAX
#define PQCOAP_WINDOW_MAX 64
#endif
/** Suites an INIT offers at most (PROTOCOL.md "Handshake"). */
#define PQCOAP_OFFER_MAX 8
/** Largest parameters of the protection an INIT or RESP asks for (PROTOCOL.md
 *  "Handshake"). */
#define PQCOAP_HS_PARAMS_MAX 32
/** Largest INIT and RESP with any supported KEM and signature algorithm, up to ML-DSA-87's
 *  4627-byte signature (output buffers of this size always fit). */
#define PQCOAP_INIT_MAX 6437
#define PQCOAP_RESP_MAX 6279
/** Largest identity secret key (ML-DSA-87) and KEM secret key (ML-KEM-1024) supported. */
#define PQCOAP_SESSION_SK_MAX 4896
#define PQCOAP_SESSION_KEM_SK_MAX 3168
/** Protected payload overhead: request 1 + varint(sid) + varint(n) + 16, response
 *  1 + varint(n) + 16; at most these many bytes. */
#define PQCOAP_PROTECTED_REQ_OVERHEAD_MAX (1 + 5 + 8 + 16)
#define PQCOAP_PROTECTED_RESP_OVERHEAD_MAX (1 + 8 + 16)
/** Number of RESPs a responder keeps for identical-INIT retransmissions. */
#define PQCOAP_RESP_CACHE_SLOTS 8
/** Number of handshakes a responder lets be between pqcoap_responder_hs_reserve and
 *  pqcoap_responder_hs_commit at once (each holds a sid). */
#define PQCOAP_HS_PENDING_MAX 8

/** Defaults of the responder's session parameters. max_msgs = 16384 keeps varint(n) at
 *  1..2 bytes. */
#define PQCOAP_LIFETIME_S_DEFAULT 3600
#define PQCOAP_MAX_MSGS_DEFAULT 16384
/** Max-Age (seconds) suggested with a 5.03 when the session table is full. */
#define PQCOAP_BUSY_MAX_AGE_S 10

/* ---- state objects (caller-allocated; fields are private) ---- */

/** Sending side of a key chain: chain key of message number n. */
typedef struct pqcoap_chain {
    uint8_t ck[32];
    uint64_t n;
} pqcoap_chain;

/** Receiving side of a key chain with the window W of PROTOCOL.md "Receive rules": chain
 *  key of number `next`, and the message keys of numbers in [next - W, next) not yet
 *  accepted (slot k mod W, bit k mod W of `held`). */
typedef struct pqcoap_window {
    uint8_t ck[32];
    uint64_t next;
    uint16_t w;
    uint8_t held[(PQCOAP_WINDOW_MAX + 7) / 8];
    uint8_t mk[PQCOAP_WINDOW_MAX][32];
} pqcoap_window;

/** One Mode B session, on either side (about 2.3 KiB at W = 64). An all-zero struct is
 *  "no session". */
typedef struct pqcoap_session {
    uint8_t live;                   /* 1 while the session exists */
    uint8_t initiator;              /* 1 on the initiator (client) side */
    uint8_t suite;
    uint8_t protection;             /* responder: PQCOAP_PROTECTION_OSCORE for the entry of an
                                       OSCORE context (no Mode B keys) */
    uint32_t sid;
    uint32_t max_msgs;
    uint64_t expires_ms;
    uint64_t serial;                /* responder: distinguishes successive owners of a sid */
    uint64_t last_used_ms;          /* responder: for least-recently-used eviction */
    pqcoap_chain send;
    pqcoap_window recv;
    char peer_id[PQCOAP_ID_MAX + 1]; /* responder: initiator_id */
    uint8_t peer_pk_hash[32];       /* responder: SHA-256 of its key at the handshake */
    uint8_t has_last_req;           /* responder: retransmission record is set */
    uint64_t last_req_n;            /* the request accepted last: its n, */
    size_t last_req_len;            /* the length of its ciphertext and tag, */
    uint8_t last_req_tag[16];       /* and its tag */
} pqcoap_session;

/* ---- suites (PROTOCOL.md "Algorithms") ---- */

/** The suite byte named `name` ("falcon512-mlkem768", "falcon1024-mlkem1024",
 *  "mldsa65-mlkem768", "mldsa87-mlkem1024"), or 0 if there is none. */
uint8_t pqcoap_suite_id(const char *name);

/** The name of suite `id`, a static string, or NULL if unsupported. */
const char *pqcoap_suite_name(uint8_t id);

/** The signature algorithm of suite `id` (the responder's: "ml-dsa-65"), or NULL. */
const char *pqcoap_suite_sig_alg(uint8_t id);

/** The suite whose signature algorithm is `alg` ("falcon-512"), or 0 (ml-dsa-44 has none). */
uint8_t pqcoap_suite_for_alg(const char *alg);

/* ---- what a handshake keys (PROTOCOL.md "Handshake", "OSCORE keyed by the handshake") ---- */

#define PQCOAP_PROTECTION_SESSION 0x00  /**< a Mode B session */
#define PQCOAP_PROTECTION_OSCORE 0x01   /**< an OSCORE security context */
/** Bit of a protection in pqcoap_responder_cfg.protections. */
#define PQCOAP_PROTECT(p) (1u << (p))

/** Master Secret and Master Salt lengths of a context keyed by the handshake. */
#define PQCOAP_HS_OSCORE_SECRET_LEN 32
#define PQCOAP_HS_OSCORE_SALT_LEN 8

/** The OSCORE context an initiator asks for in INIT. */
typedef struct pqcoap_oscore_request {
    int aead_alg;                   /**< PQCOAP_COSE_A256GCM (the default),
                                         PQCOAP_COSE_AES_CCM_16_128_256 or
                                         PQCOAP_COSE_AES_CCM_16_64_128 */
    const uint8_t *recipient_id;    /**< the initiator's Recipient ID (C_I), 0 bytes or more
                                         up to the AEAD's nonce length - 6 and
                                         PQCOAP_OSCORE_ID_MAX; may be NULL when empty */
    size_t recipient_id_len;
} pqcoap_oscore_request;

/** What a handshake keyed for OSCORE gives one side: the input of the context derivation
 *  (RFC 8613 section 3.2) from this side's view, and the limits of the context. Secret
 *  (Master Secret): wipe it. */
typedef struct pqcoap_hs_oscore {
    int aead_alg;
    int hkdf_alg;
    uint8_t master_secret[PQCOAP_HS_OSCORE_SECRET_LEN];
    uint8_t master_salt[PQCOAP_HS_OSCORE_SALT_LEN];
    uint8_t sender_id[PQCOAP_OSCORE_ID_MAX];
    size_t sender_id_len;
    uint8_t recipient_id[PQCOAP_OSCORE_ID_MAX];
    size_t recipient_id_len;
    uint32_t lifetime_s;            /**< the context ends after this long */
    uint32_t max_msgs;              /**< and after this many requests */
} pqcoap_hs_oscore;

/** Fills *p (borrowing from k) for pqcoap_oscore_derive: k's secret, salt, IDs and
 *  algorithms, no ID Context, replay window PQCOAP_OSCORE_WINDOW_DEFAULT. */
void pqcoap_hs_oscore_params(const pqcoap_hs_oscore *k, pqcoap_oscore_params *p);

/* ---- initiator (client) ---- */

/** A further suite an initiator offers, with the responder's pinned public key of that
 *  suite's signature algorithm (a suite names the responder's algorithm). */
typedef struct pqcoap_suite_offer {
    uint8_t suite;
    const uint8_t *responder_pk;
    size_t responder_pk_len;
    pqcoap_key_usage responder_usage; /**< must be PQCOAP_USAGE_GENERAL */
} pqcoap_suite_offer;

struct pqcoap_expanded_key;

/** Initiator configuration. Pointers are borrowed for the duration of the call only. */
typedef struct pqcoap_initiator_cfg {
    const char *id;                 /**< own initiator_id, 1..64 bytes UTF-8 */
    const uint8_t *sk;              /**< own identity secret key */
    size_t sk_len;
    pqcoap_key_usage usage;         /**< usage of the own key: must be PQCOAP_USAGE_GENERAL */
    const char *responder_id;       /**< responder_id to address */
    const uint8_t *responder_pk;    /**< pinned public key of the responder, of the
                                         signature algorithm of `suite` */
    size_t responder_pk_len;
    pqcoap_key_usage responder_usage; /**< usage of the pinned key: must be
                                           PQCOAP_USAGE_GENERAL */
    uint8_t suite;                  /**< the preferred suite (its KEM is the INIT's); 0 = the
                                         suite of responder_pk's algorithm; default 0x01 */
    uint16_t window;                /**< W for responses, 1..PQCOAP_WINDOW_MAX, default 64 */
    const char *alg;                /**< own key's signature algorithm ("ml-dsa-65"); NULL =
                                         the signature algorithm of `suite` */
    const pqcoap_suite_offer *more; /**< further suites offered, less preferred, each with
                                         the KEM of `suite`; may be NULL */
    size_t n_more;                  /**< at most PQCOAP_OFFER_MAX - 1 */
    const pqcoap_oscore_request *oscore; /**< NULL: key a Mode B session; else key this
                                              OSCORE context */
    const struct pqcoap_expanded_key *ek; /**< sk's expanded form (pqcoap/keys.h), signed
                                               from when set; NULL = sign from sk */
} pqcoap_initiator_cfg;

#define PQCOAP_INITIATOR_CFG_INIT {NULL, NULL, 0, PQCOAP_USAGE_GENERAL, NULL, NULL, 0, \
    PQCOAP_USAGE_GENERAL, 0x01, PQCOAP_WINDOW_DEFAULT, NULL, NULL, 0, NULL, NULL}

/** Initiator state between sending INIT and receiving RESP (ephemeral secrets, the INIT
 *  bytes and the pinned responder key). Wiped when the handshake completes. */
typedef struct pqcoap_initiator {
    uint8_t started;
    uint8_t protection;             /* what INIT asked for */
    uint8_t params[PQCOAP_HS_PARAMS_MAX]; /* and its parameters */
    size_t params_len;
    uint8_t n_offer;
    uint8_t offer[PQCOAP_OFFER_MAX]; /* suites offered, in preference order */
    uint16_t window;
    uint8_t kem_sk[PQCOAP_SESSION_KEM_SK_MAX];
    uint8_t x25519_sk[32];
    uint8_t responder_pk[PQCOAP_OFFER_MAX][PQCOAP_PK_MAX]; /* per offered suite */
    uint8_t init[PQCOAP_INIT_MAX];
    size_t init_len;
} pqcoap_initiator;

/** Starts a handshake: makes ephemeral ML-KEM (of the preferred suite's KEM) and X25519 key
 *  pairs and nonce_i from `rng` (NULL = system RNG), builds INIT offering `suite` then
 *  `more` with `session_seq` (>= 1; the caller reserves it through its store so it
 *  increases across restarts) and `timestamp_ms` (0 if no clock), signs it with the own key
 *  (algorithm `alg`), keeps what the RESP needs in `st` and writes INIT to out[0..cap).
 *  Errors: PQCOAP_ERR_ARG (NULL, bad id, session_seq 0, own key length not its algorithm's,
 *  a responder key not of its suite's algorithm, a suite offered twice or with another
 *  KEM, too many suites, W out of range), PQCOAP_ERR_KEY_USAGE (the own key or a pinned
 *  responder key is not of usage PQCOAP_USAGE_GENERAL: a sign-v1 key is never used in a
 *  handshake; nothing is written), PQCOAP_ERR_UNSUPPORTED (suite or alg unknown),
 *  PQCOAP_ERR_BUFFER (cap < INIT length; st is then wiped), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_initiator_start(pqcoap_initiator *st, const pqcoap_initiator_cfg *cfg,
                                  uint64_t session_seq, uint64_t timestamp_ms,
                                  const pqcoap_rng *rng, uint8_t *out, size_t cap,
                                  size_t *out_len);

/** Processes RESP: strict decode, the chosen suite must be one INIT offered, verifies sig_r
 *  against the pinned responder key of that suite over
 *  "pqcoap v2 resp" || SHA-256(INIT) || RESP-before-sig, and only then decapsulates and
 *  derives the session keys into `out` (expires at now_ms + lifetime_s). On success `st` is
 *  wiped. On any error `out` is left untouched and `st` is kept, so a genuine RESP can still
 *  complete the handshake (wipe it with pqcoap_initiator_wipe to give up).
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_STATE (not started), PQCOAP_ERR_MALFORMED,
 *  PQCOAP_ERR_UNSUPPORTED (version or suite), PQCOAP_ERR_HANDSHAKE (a suite INIT did not
 *  offer, or other parameters than INIT asked for), PQCOAP_ERR_AUTH (signature or X25519
 *  key), PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_initiator_finish(pqcoap_initiator *st, const uint8_t *resp, size_t resp_len,
                                   uint64_t now_ms, pqcoap_session *out);

/** As pqcoap_initiator_finish for a handshake that asked for an OSCORE context
 *  (cfg->oscore): RESP must repeat its AEAD and HKDF algorithms and carry the responder's
 *  Recipient ID (not the initiator's). *out gets the context's input from the initiator's
 *  view (Sender ID = the responder's Recipient ID) and its limits. Errors as
 *  pqcoap_initiator_finish; PQCOAP_ERR_ARG also if INIT asked for a Mode B session (and
 *  pqcoap_initiator_finish refuses one that asked for OSCORE). */
pqcoap_err pqcoap_initiator_finish_oscore(pqcoap_initiator *st, const uint8_t *resp,
                                          size_t resp_len, pqcoap_hs_oscore *out);

/** Wipes the initiator state (ephemeral secrets included). NULL is allowed. */
void pqcoap_initiator_wipe(pqcoap_initiator *st);

/** Client: protects a request. `req` gives code, options (bound via the AAD, sent in clear;
 *  the token is not bound) and the plaintext payload. Writes the protected payload
 *  0x10 || varint(sid) || varint(n) || ciphertext || tag (exactly payload_len + 1 +
 *  varint(sid) + varint(n) + 16 bytes) to out[0..cap), which must not overlap the payload,
 *  and the request number n to *request_n (needed to unprotect the response).
 *  The session changes only on success. Errors: PQCOAP_ERR_ARG (also: not a client
 *  session), PQCOAP_ERR_EXPIRED (lifetime over or max_msgs requests sent: re-handshake),
 *  PQCOAP_ERR_MALFORMED / PQCOAP_ERR_TOO_LARGE (options), PQCOAP_ERR_BUFFER,
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_session_protect_request(pqcoap_session *s, const pqcoap_msg *req,
                                          uint64_t now_ms, uint8_t *out, size_t cap,
                                          size_t *out_len, uint64_t *request_n);

/** Client: unprotects the response `resp` (its payload is the protected payload) to the
 *  request numbered `request_n`; writes the plaintext (payload_len - 1 - varint(n) - 16
 *  bytes) to out[0..cap). Transactional: the session changes only if the tag verifies.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_MALFORMED (not a protected response),
 *  PQCOAP_ERR_EXPIRED (n >= max_msgs or lifetime over), PQCOAP_ERR_REPLAY (replayed or
 *  out of window), PQCOAP_ERR_AUTH (bad tag), PQCOAP_ERR_BUFFER, PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_session_unprotect_response(pqcoap_session *s, uint64_t request_n,
                                             const pqcoap_msg *resp, uint64_t now_ms,
                                             uint8_t *out, size_t cap, size_t *out_len);

/** Client: unprotects a notification (RFC 7641) of the observation registered by request
 *  `request_n`: a protected response to that request with its own n (PROTOCOL.md
 *  "Observe"). When `seen` is set, `last_n` is the n of the newest notification accepted
 *  for this observation, and a notification whose n is not above it is refused with
 *  PQCOAP_ERR_REPLAY before any key is derived (replayed, or overtaken by a newer one);
 *  otherwise the rules of pqcoap_session_unprotect_response apply (window, transactional).
 *  On PQCOAP_OK *n (the n to keep as the new last_n) and the plaintext are set. Errors as
 *  pqcoap_session_unprotect_response. */
pqcoap_err pqcoap_session_unprotect_notification(pqcoap_session *s, uint64_t request_n,
                                                 int seen, uint64_t last_n,
                                                 const pqcoap_msg *resp, uint64_t now_ms,
                                                 uint8_t *out, size_t cap, size_t *out_len,
                                                 uint64_t *n);

/** Client: 1 when `resp` is a protected response whose n lies more than W ahead of the
 *  session's receive window (PROTOCOL.md "Receive rules"), so that no later response of
 *  this session can be opened either: the responder sent more than W messages that never
 *  arrived, e.g. notifications while the client was away. Says nothing about who sent it
 *  (nothing is verified); the client's answer is a new handshake (PROTOCOL.md "Errors").
 *  0 otherwise, and for anything that is not a protected response of a live session. */
int pqcoap_session_beyond_window(const pqcoap_session *s, const pqcoap_msg *resp);

/** PQCOAP_OK if the client session can still send at now_ms; PQCOAP_ERR_EXPIRED if its
 *  lifetime is over or max_msgs requests were sent; PQCOAP_ERR_ARG if it is not live. */
pqcoap_err pqcoap_session_usable(const pqcoap_session *s, uint64_t now_ms);

/** Wipes a session (chain and message keys included); it is then "no session". */
void pqcoap_session_wipe(pqcoap_session *s);

/* ---- responder (server) ---- */

/** Identities a responder holds at most: one per suite. */
#define PQCOAP_RESPONDER_KEYS_MAX 4
/** Bytes a responder keeps for the expanded forms of its identity keys (pqcoap/keys.h
 *  pqcoap_expanded_key): one Falcon-512 and one Falcon-1024 key. */
#define PQCOAP_RESPONDER_EK_MAX (57344 + 122880)

/** A further identity of a responder: the secret key of the signature algorithm of `suite`. */
typedef struct pqcoap_responder_key {
    uint8_t suite;
    const uint8_t *sk;
    size_t sk_len;
    pqcoap_key_usage usage;         /**< must be PQCOAP_USAGE_GENERAL */
} pqcoap_responder_key;

/** Responder configuration. Its policy: the suite of its first identity it can use is
 *  chosen, in the order sk (most preferred), then more[0], more[1], ... */
typedef struct pqcoap_responder_cfg {
    const char *id;                 /**< own responder_id, 1..64 bytes UTF-8 (copied) */
    const uint8_t *sk;              /**< own (most preferred) identity secret key (copied) */
    size_t sk_len;
    pqcoap_key_usage usage;         /**< usage of the identity key: must be
                                         PQCOAP_USAGE_GENERAL */
    uint8_t suite;                  /**< the suite of that key's algorithm, default 0x01 */
    uint32_t lifetime_s;            /**< session lifetime, default 3600 */
    uint32_t max_msgs;              /**< messages per direction, default 16384 */
    uint16_t window;                /**< W for requests, default 64 */
    uint64_t evict_idle_ms;         /**< when the table is full, evict the least recently
                                         used session idle this long; 0 = never evict */
    const pqcoap_store *store;      /**< trust look-up and floors; borrowed, must outlive
                                         the responder */
    const pqcoap_rng *rng;          /**< NULL = system RNG; borrowed */
    const pqcoap_responder_key *more; /**< further identities, less preferred, each of
                                           another suite (copied); may be NULL */
    size_t n_more;                  /**< at most PQCOAP_RESPONDER_KEYS_MAX - 1 */
    unsigned protections;           /**< what it keys: PQCOAP_PROTECT(PQCOAP_PROTECTION_*)
                                         bits; default Mode B sessions only */
    /** Ids the table must not hand out (NULL: none), e.g. numbers whose minimal big-endian
     *  bytes are the Recipient ID of a provisioned OSCORE context: called with each
     *  candidate id, 1 if taken. */
    int (*id_taken)(void *ctx, uint64_t id);
    void *id_taken_ctx;
} pqcoap_responder_cfg;

#define PQCOAP_RESPONDER_CFG_INIT {NULL, NULL, 0, PQCOAP_USAGE_GENERAL, 0x01, \
    PQCOAP_LIFETIME_S_DEFAULT, PQCOAP_MAX_MSGS_DEFAULT, PQCOAP_WINDOW_DEFAULT, 0, NULL, NULL, \
    NULL, 0, PQCOAP_PROTECT(PQCOAP_PROTECTION_SESSION), NULL, NULL}

/** A RESP kept for retransmissions of the identical INIT. */
typedef struct pqcoap_resp_cache {
    uint64_t serial;                /* session it created; 0 = empty */
    uint8_t init_hash[32];
    uint8_t resp[PQCOAP_RESP_MAX];
    size_t resp_len;
} pqcoap_resp_cache;

/** The table of live peer contexts of a responder: the caller's array of entries, each the
 *  context a handshake made with one peer (its id, the hash of the key it signed with, its
 *  expiry and the short id the responder chose for it), at most one per peer. Fields are
 *  private. */
typedef struct pqcoap_peer_table {
    pqcoap_session *slots;
    size_t n_slots;
    uint64_t next_serial;           /* serials are next_serial * n_slots + slot */
    uint64_t evict_idle_ms;
    uint64_t next_expiry_ms;        /* no live entry ends before this */
    uint32_t *index;                /* optional: slot + 1 of the entry whose id is i mod
                                       index_cap (0 = none), so look-ups by id take one step */
    size_t index_cap;
    int (*id_taken)(void *ctx, uint64_t id);
    void *id_taken_ctx;
    uint32_t pending_id[PQCOAP_HS_PENDING_MAX]; /* ids of handshakes in progress; 0 = free */
} pqcoap_peer_table;

/** The responder: configuration, identity key, the caller's session table and the RESP
 *  cache. The session table is an array of `n_slots` pqcoap_session owned by the caller;
 *  n_slots is the limit of live sessions (a look-up by sid scans it, unless the table has
 *  the index the session server gives it; one by request context takes one step). A
 *  responder, like every
 *  object here, is used by one thread at a time. The RESP of the identical INIT is served
 *  again only while it is among the last PQCOAP_RESP_CACHE_SLOTS RESPs and its session is
 *  live; otherwise that INIT is refused as a rollback (the initiator starts anew with a
 *  higher session_seq). */
typedef struct pqcoap_responder {
    pqcoap_responder_cfg cfg;
    char id[PQCOAP_ID_MAX + 1];
    size_t n_keys;
    uint8_t suites[PQCOAP_RESPONDER_KEYS_MAX];           /* of each identity, preferred first */
    uint8_t sk[PQCOAP_RESPONDER_KEYS_MAX][PQCOAP_SESSION_SK_MAX];
    /* the expanded forms of those keys whose algorithm has one, each in ek from byte
     * ek_at[i], ek_len[i] bytes (0: none), made once so that a RESP is signed from it */
    uint64_t ek[PQCOAP_RESPONDER_EK_MAX / 8];
    size_t ek_at[PQCOAP_RESPONDER_KEYS_MAX], ek_len[PQCOAP_RESPONDER_KEYS_MAX];
    pqcoap_peer_table table;
    pqcoap_resp_cache cache[PQCOAP_RESP_CACHE_SLOTS];
} pqcoap_responder;

/** Identifies the request a response answers (filled by pqcoap_responder_unprotect). */
typedef struct pqcoap_req_ctx {
    uint32_t sid;
    uint64_t serial;
    uint64_t request_n;
} pqcoap_req_ctx;

/** Initialises `r` with a copy of `cfg` (id and secret keys copied; store and rng borrowed)
 *  over the caller's session table slots[0..n_slots), which it zeroes; slots must outlive
 *  r. Errors: PQCOAP_ERR_ARG (NULL, n_slots 0, bad id, a key length not its suite's, two
 *  identities of one suite, too many, W or limits out of range, no store),
 *  PQCOAP_ERR_KEY_USAGE (an identity key is not of usage PQCOAP_USAGE_GENERAL: a sign-v1
 *  key never signs a RESP), PQCOAP_ERR_UNSUPPORTED (suite). */
pqcoap_err pqcoap_responder_init(pqcoap_responder *r, const pqcoap_responder_cfg *cfg,
                                 pqcoap_session *slots, size_t n_slots);

/** Handles an INIT (PROTOCOL.md "Handshake") and writes the RESP to out[0..cap): strict
 *  decode; the suite chosen by the responder's policy among those offered; trust look-up of
 *  initiator_id; responder_id must be ours; sig_i verified (by the algorithm of the
 *  initiator's pinned key); then
 *  the anti-rollback floor: session_seq below it -> PQCOAP_ERR_ROLLBACK; equal with the
 *  same SHA-256(INIT) -> the cached RESP byte for byte (no new signature, keys or session);
 *  equal with another INIT -> PQCOAP_ERR_ROLLBACK; above -> a new session replacing that
 *  initiator's old one, the floor raised and persisted through the store before the RESP is
 *  written. On any error no session is created or changed and nothing is written.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_MALFORMED, PQCOAP_ERR_UNSUPPORTED (version, no
 *  offered suite the responder holds an identity for, parameters),
 *  PQCOAP_ERR_UNKNOWN_PEER (initiator not trusted, or INIT for another responder),
 *  PQCOAP_ERR_KEY_USAGE (the initiator is pinned with a sign-v1 key: refused before sig_i is
 *  verified), PQCOAP_ERR_AUTH (sig_i, X25519 key), PQCOAP_ERR_ROLLBACK, PQCOAP_ERR_LIMIT
 *  (table full; answer 5.03), PQCOAP_ERR_BUFFER (cap < PQCOAP_RESP_MAX is always enough),
 *  store errors, PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_responder_handshake(pqcoap_responder *r, const uint8_t *init, size_t init_len,
                                      uint64_t now_ms, uint8_t *out, size_t cap,
                                      size_t *out_len);

/* ---- responder handshake in phases ----
 * pqcoap_responder_handshake does all of the work in one call. A server that must not stall
 * its protected traffic while a handshake runs (Falcon and ML-KEM take milliseconds) does
 * the same work in four phases instead, on a worker thread:
 *   1. pqcoap_responder_hs_verify   no session table access: strict decode, trust look-up,
 *                                   responder_id, sig_i, the anti-rollback floor (store);
 *   2. pqcoap_responder_hs_reserve  short, under the caller's table lock: the cached RESP of
 *                                   an identical INIT, or a sid reserved for a new session;
 *   3. pqcoap_responder_hs_respond  no session table access: ML-KEM, X25519, sig_r, key
 *                                   schedule, then the floor checked again and raised
 *                                   durably through the store;
 *   4. pqcoap_responder_hs_commit   short, under the table lock: the session is installed
 *                                   and the RESP released (or pqcoap_responder_hs_abort
 *                                   after a failed phase, also under the lock).
 * Phases 1 and 3 read only the responder's configuration and key, which do not change after
 * pqcoap_responder_init, and use its store; the store is used by one thread at a time, so
 * run the phases 1 and 3 of all handshakes of one responder on one thread (a second thread
 * racing on the same initiator's floor gets PQCOAP_ERR_ROLLBACK in phase 3, never a second
 * session for one session_seq). Phases 2 and 4 and every other responder call must be
 * serialised by the caller (a mutex held only for them). */

/** A handshake between its phases: copies of what the later phases need, the RESP and the
 *  chain keys once made (secret: wiped by commit and abort). Caller-allocated, about
 *  6.3 KiB; fields private. */
typedef struct pqcoap_hs_pending {
    uint8_t stage;                  /* 0 none, 1 verified, 2 reserved, 3 responded */
    uint8_t resend;                 /* identical INIT: `resp` is the cached RESP */
    uint8_t suite;                  /* the suite chosen */
    uint8_t key;                    /* the identity that signs the RESP */
    uint8_t protection;             /* what INIT asked for */
    uint64_t serial;                /* resend: the entry the cached RESP made */
    pqcoap_hs_oscore oscore;        /* OSCORE: the responder's view of the context */
    uint32_t sid;                   /* reserved sid (new sessions) */
    uint64_t session_seq;
    uint8_t init_hash[32];
    char peer_id[PQCOAP_ID_MAX + 1];
    uint8_t peer_pk_hash[32];
    uint8_t ck_c2s[32];
    uint8_t ck_s2c[32];
    uint8_t resp[PQCOAP_RESP_MAX];
    size_t resp_len;
} pqcoap_hs_pending;

/** Phase 1: decodes INIT strictly, looks up the pinned key of initiator_id, checks that
 *  responder_id is ours, verifies sig_i and compares session_seq with the initiator's floor
 *  (PROTOCOL.md "Handshake"). Fills *p (any previous content is wiped). Touches no session.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_MALFORMED, PQCOAP_ERR_UNSUPPORTED,
 *  PQCOAP_ERR_UNKNOWN_PEER, PQCOAP_ERR_KEY_USAGE (initiator pinned with a sign-v1 key),
 *  PQCOAP_ERR_AUTH, PQCOAP_ERR_ROLLBACK (below the floor, or equal with another INIT), store
 *  errors. On error *p is wiped. */
pqcoap_err pqcoap_responder_hs_verify(const pqcoap_responder *r, const uint8_t *init,
                                      size_t init_len, pqcoap_hs_pending *p);

/** Phase 2 (under the table lock): for an INIT equal to the floor's, copies the cached RESP
 *  into *p while the session it created is live (else PQCOAP_ERR_ROLLBACK); for a new
 *  session, checks that a table slot can take it (ending sessions whose lifetime is over
 *  at now_ms) and reserves a sid no live session or other pending handshake uses.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_STATE (p not verified), PQCOAP_ERR_ROLLBACK,
 *  PQCOAP_ERR_LIMIT (table full, or PQCOAP_HS_PENDING_MAX handshakes pending). On error *p
 *  is wiped and nothing is reserved. */
pqcoap_err pqcoap_responder_hs_reserve(pqcoap_responder *r, uint64_t now_ms,
                                       pqcoap_hs_pending *p);

/** Phase 3: for a new session, makes the ephemeral X25519 key and the ML-KEM ciphertext for
 *  the INIT's keys, signs the RESP carrying the reserved sid, derives the chain keys, then
 *  reads the initiator's floor again (it must still be below session_seq, else
 *  PQCOAP_ERR_ROLLBACK) and raises it durably through the store. `init` must be the INIT
 *  given to phase 1. Nothing to do for a resend. On error call pqcoap_responder_hs_abort.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_STATE (p not reserved), PQCOAP_ERR_MALFORMED (another
 *  INIT), PQCOAP_ERR_AUTH (X25519 key), PQCOAP_ERR_ROLLBACK, store errors,
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_responder_hs_respond(const pqcoap_responder *r, const uint8_t *init,
                                       size_t init_len, pqcoap_hs_pending *p);

/** Phase 4 (under the table lock): installs the new session with the reserved sid in the
 *  slot of that initiator's old session (replaced), else a free slot, else (evict_idle_ms)
 *  the least recently used idle one; keeps the RESP for identical INITs; writes the RESP to
 *  out[0..cap). For a resend, writes the cached RESP. Always releases the reservation and
 *  wipes *p. Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_STATE (p not responded),
 *  PQCOAP_ERR_LIMIT (no slot any more: the floor stays raised, the initiator starts anew),
 *  PQCOAP_ERR_BUFFER (cap < PQCOAP_RESP_MAX is always enough). */
pqcoap_err pqcoap_responder_hs_commit(pqcoap_responder *r, uint64_t now_ms,
                                      pqcoap_hs_pending *p, uint8_t *out, size_t cap,
                                      size_t *out_len);

/** What a handshake made (pqcoap_responder_handshake_ex). */
typedef struct pqcoap_hs_result {
    uint8_t protection;             /**< PQCOAP_PROTECTION_* asked for and keyed */
    int resent;                     /**< 1: an identical INIT, answered with the cached RESP
                                         (the entry and context exist already) */
    uint32_t id;                    /**< the table id of the entry (a Mode B sid; for OSCORE
                                         the number whose bytes are the Recipient ID) */
    uint64_t serial;                /**< the entry's serial (pqcoap_responder_entry_live) */
    char peer_id[PQCOAP_ID_MAX + 1];
    pqcoap_hs_oscore oscore;        /**< OSCORE and not resent: the responder's view of the
                                         context (secret: wipe it) */
} pqcoap_hs_result;

/** As pqcoap_responder_handshake, and *res (may be NULL) tells what it made. A responder
 *  keys what INIT asks for if cfg.protections has it (else PQCOAP_ERR_UNSUPPORTED): a Mode
 *  B session, or the entry of an OSCORE context (PROTOCOL.md "OSCORE keyed by the
 *  handshake") whose keys are in res->oscore only; protected messages of Mode B never use
 *  such an entry. Errors as pqcoap_responder_handshake. */
pqcoap_err pqcoap_responder_handshake_ex(pqcoap_responder *r, const uint8_t *init,
                                         size_t init_len, uint64_t now_ms, uint8_t *out,
                                         size_t cap, size_t *out_len, pqcoap_hs_result *res);

/** 1 if the table entry with this serial is live at now_ms (within its lifetime), else 0:
 *  ended by lifetime, replaced by a newer handshake of its peer, evicted or revoked. */
int pqcoap_responder_entry_live(pqcoap_responder *r, uint64_t serial, uint64_t now_ms);

/** Gives up a handshake at any phase (under the table lock): releases its reserved sid and
 *  wipes *p. NULL p or a wiped p is fine. */
void pqcoap_responder_hs_abort(pqcoap_responder *r, pqcoap_hs_pending *p);

/** Server: unprotects the request `req` (its payload is the protected payload); writes the
 *  plaintext to out[0..cap) and fills *ctx for pqcoap_responder_protect. Transactional: the
 *  session changes only if the tag verifies.
 *  Retransmission contract: if the request is byte for byte the most recently accepted
 *  request of its session (same n, code, options and payload), it returns
 *  PQCOAP_ERR_RETRANSMIT with *ctx filled and writes nothing; the caller must not run the
 *  handler again. Only if the CoAP message is a retransmission of that request (RFC 7252
 *  section 4.5: the same message ID from the same source address, within EXCHANGE_LIFETIME)
 *  does it resend the protected response it made for (ctx->sid, ctx->request_n), and at
 *  most MAX_RETRANSMIT + 1 = 5 times; otherwise it answers as for PQCOAP_ERR_REPLAY (or
 *  drops the request if it has no response yet), so that a copied datagram from anywhere
 *  cannot draw the response again. Any other repeat is PQCOAP_ERR_REPLAY.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_MALFORMED, PQCOAP_ERR_UNKNOWN_SESSION,
 *  PQCOAP_ERR_EXPIRED (lifetime over or replies used up: the session is ended; or n >=
 *  max_msgs), PQCOAP_ERR_RETRANSMIT, PQCOAP_ERR_REPLAY, PQCOAP_ERR_AUTH,
 *  PQCOAP_ERR_MALFORMED / PQCOAP_ERR_TOO_LARGE (options), PQCOAP_ERR_BUFFER,
 *  PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_responder_unprotect(pqcoap_responder *r, const pqcoap_msg *req,
                                      uint64_t now_ms, uint8_t *out, size_t cap,
                                      size_t *out_len, pqcoap_req_ctx *ctx);

/** Server: protects a response (code, options, plaintext payload of `resp`; the token
 *  is not bound) to the
 *  request `ctx`, bound to its request_n (several responses to one request, e.g. Observe
 *  notifications, are allowed). Writes 0x11 || varint(n) || ciphertext || tag (exactly
 *  payload_len + 1 + varint(n) + 16 bytes) to out[0..cap), which must not overlap the
 *  payload. Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_UNKNOWN_SESSION (session gone or replaced),
 *  PQCOAP_ERR_EXPIRED (lifetime over or max_msgs responses sent), PQCOAP_ERR_MALFORMED /
 *  PQCOAP_ERR_TOO_LARGE (options), PQCOAP_ERR_BUFFER, PQCOAP_ERR_CRYPTO. */
pqcoap_err pqcoap_responder_protect(pqcoap_responder *r, const pqcoap_req_ctx *ctx,
                                    const pqcoap_msg *resp, uint64_t now_ms, uint8_t *out,
                                    size_t cap, size_t *out_len);

/** Ends every session whose lifetime is over at now_ms and sets *next_ms (may be NULL) to
 *  the earliest time another one ends (UINT64_MAX if none): call again then. */
void pqcoap_responder_expire(pqcoap_responder *r, uint64_t now_ms, uint64_t *next_ms);

/** Number of live sessions. */
size_t pqcoap_responder_live(const pqcoap_responder *r);

/** Ends every live session whose initiator is no longer trusted with the key it made the
 *  session with (PROTOCOL.md "Revocation"): removed from the trust store, its key replaced,
 *  or its key now of usage sign-v1. One store look-up per live session; call it whenever
 *  the store's change count (pqcoap_store_change_count) differs from the last call's.
 *  *ended (may be NULL) gets the number of sessions ended. Errors: PQCOAP_ERR_ARG, store
 *  errors (sessions checked before stay decided; call again). */
pqcoap_err pqcoap_responder_revalidate(pqcoap_responder *r, size_t *ended);

/** The check of pqcoap_responder_revalidate for one session, for a caller that looks up the
 *  store apart from its table lock (as the phases of a handshake): PQCOAP_OK if the trust
 *  store still pins, under peer_id, a key of usage PQCOAP_USAGE_GENERAL whose SHA-256 is
 *  pk_hash (the session's peer_pk_hash); PQCOAP_ERR_UNKNOWN_PEER (removed
 *  or replaced), PQCOAP_ERR_KEY_USAGE (now a sign-v1 key), PQCOAP_ERR_ARG, store errors.
 *  Reads only r's configuration and store. */
pqcoap_err pqcoap_responder_peer_trusted(const pqcoap_responder *r, const char *peer_id,
                                         const uint8_t pk_hash[32]);

/** Wipes the responder: its secret key, RESP cache and every session of its table. */
void pqcoap_responder_wipe(pqcoap_responder *r);

/* ---- errors on the wire (PROTOCOL.md "Errors") ---- */

/** An unprotected CoAP error response. */
typedef struct pqcoap_coap_error {
    uint8_t code;                   /**< PQCOAP_CODE(4, 0), PQCOAP_CODE(4, 1), ... */
    const char *diagnostic;         /**< static diagnostic payload */
    uint32_t max_age_s;             /**< Max-Age for 5.03, else 0 (no option) */
} pqcoap_coap_error;

/** Where an error happened: on pqc/session/init or on a protected message. */
typedef enum pqcoap_err_where {
    PQCOAP_WHERE_HANDSHAKE = 0,
    PQCOAP_WHERE_PROTECTED = 1
} pqcoap_err_where;

/** Maps a server-side error to the CoAP error response PROTOCOL.md prescribes: malformed
 *  (or unsupported) -> 4.00; handshake authentication errors (unknown initiator, a sign-v1
 *  key, bad signature, rollback) -> 4.01 "handshake rejected"; unknown or expired session -> 4.01
 *  "unknown session"; replay, out of window, bad tag -> 4.01 "rejected"; limits -> 5.03 with
 *  Max-Age; too large -> 4.13; anything else -> 5.00. Returns PQCOAP_ERR_ARG for PQCOAP_OK,
 *  PQCOAP_ERR_RETRANSMIT (serve the cached response instead) or a NULL out. */
pqcoap_err pqcoap_error_to_coap(pqcoap_err err, pqcoap_err_where where, pqcoap_coap_error *out);

/** Client side: the pqcoap_err for a received unprotected response (PROTOCOL.md "Errors"):
 *  4.01 with diagnostic "handshake rejected" -> PQCOAP_ERR_HANDSHAKE, "unknown session" ->
 *  PQCOAP_ERR_UNKNOWN_SESSION, "rejected" -> PQCOAP_ERR_REJECTED; 4.00 "unsupported" ->
 *  PQCOAP_ERR_UNSUPPORTED, any other 4.00 -> PQCOAP_ERR_MALFORMED; 5.03 -> PQCOAP_ERR_BUSY;
 *  any other code or diagnostic (2.05, 4.04, 5.00, ...) -> PQCOAP_ERR_UNAUTHENTICATED: the protocol never sends it unprotected, so it
 *  cannot be told from a forgery. */
pqcoap_err pqcoap_error_from_coap(uint8_t code, const uint8_t *diagnostic, size_t diag_len);

#ifdef __cplusplus
}
#endif
#endif
