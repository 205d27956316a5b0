/* Mode B sessions over CoAP/UDP (docs/PROTOCOL.md "Mode B"): a session client that
 * handshakes on pqc/session/init and protects every other request, and a session server that
 * answers handshakes on a worker thread and hands its handlers plaintext. */
#ifndef PQCOAP_SESSION_ENDPOINT_H
#define PQCOAP_SESSION_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/client.h"
#include "pqcoap/error.h"
#include "pqcoap/server.h"
#include "pqcoap/session.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Uri-Path of the handshake (PROTOCOL.md "Handshake") and its Content-Format
 *  (application/octet-stream). */
#define PQCOAP_SESSION_INIT_PATH "pqc/session/init"
#define PQCOAP_SESSION_INIT_FORMAT 42

/* ---------------------------------------------------------------------------------------
 * Session client
 * ------------------------------------------------------------------------------------- */

/** Session client settings. Start from PQCOAP_SESSION_CLIENT_CONFIG_INIT. Keys and ids are
 *  copied at open. */
typedef struct pqcoap_session_client_config {
    const char *id;                 /**< own initiator_id, 1..64 bytes UTF-8 */
    const uint8_t *sk;              /**< own identity secret key (of algorithm `alg`) */
    size_t sk_len;
    pqcoap_key_usage usage;         /**< usage of the own key (identity.pub.usage): must be
                                         PQCOAP_USAGE_GENERAL */
    const char *server_id;          /**< the server's responder_id */
    const uint8_t *server_pk;       /**< the server's pinned public key (its algorithm is
                                         the suite's: PROTOCOL.md "Algorithms") */
    size_t server_pk_len;
    pqcoap_key_usage server_usage;  /**< usage of the pinned key (pqcoap_pubkey.usage): must
                                         be PQCOAP_USAGE_GENERAL */
    /** Store of the persisted session_seq counter, reserved ahead (seq_block numbers per
     *  write) so that no session_seq is used twice across restarts. Borrowed: it must stay
     *  open while the client lives and is used only inside the client's calls. Required. */
    const pqcoap_store *store;
    uint8_t suite;                  /**< suite byte; 0 (the default) = the suite of the
                                         server key's algorithm */
    uint16_t window;                /**< W for responses, 1..PQCOAP_WINDOW_MAX; default 64 */
    uint32_t seq_block;             /**< session_seq numbers reserved per store write;
                                         default 16 */
    const char *alg;                /**< own key's algorithm ("ml-dsa-65", as
                                         pqcoap_pubkey_alg); NULL = the suite's */
    /** CoAP settings: timeout per request, body limit, block size, log level, ... Its
     *  `layer` must be NULL (the session client installs its own). */
    pqcoap_client_config coap;
} pqcoap_session_client_config;

#define PQCOAP_SESSION_CLIENT_CONFIG_INIT {NULL, NULL, 0, PQCOAP_USAGE_GENERAL, NULL, NULL, 0, \
    PQCOAP_USAGE_GENERAL, NULL, 0, PQCOAP_WINDOW_DEFAULT, 16, NULL, PQCOAP_CLIENT_CONFIG_INIT}

/** What the client knows about its session and its last exchanges. Byte counts are of CoAP
 *  messages as whole bodies: 4-byte header, token, options, payload marker and payload
 *  (block-wise splitting into several datagrams, empty ACKs and UDP/IP headers are not
 *  counted). */
typedef struct pqcoap_session_client_info {
    int live;                       /**< 1 while a session is established */
    uint32_t sid;                   /**< its sid (0 if none) */
    uint8_t suite;                  /**< its suite, chosen by the server (0 if none) */
    uint64_t session_seq;           /**< its session_seq (0 if none) */
    uint64_t sent;                  /**< protected requests sent in it */
    uint32_t max_msgs;              /**< its max_msgs */
    uint64_t expires_in_ms;         /**< time left of its lifetime */
    uint64_t handshakes;            /**< handshakes completed by this client */
    uint64_t handshake_us;          /**< duration of the last completed handshake: from making
                                         INIT to the session keys, the round trip included */
    size_t handshake_bytes_sent;    /**< the last INIT request */
    size_t handshake_bytes_received; /**< the RESP (or refusal) it got */
    size_t last_bytes_sent;         /**< the last protected request */
    size_t last_bytes_received;     /**< the response it got (protected, or an error) */
} pqcoap_session_client_info;

typedef struct pqcoap_session_client pqcoap_session_client;

/** Opens a session client for `uri` = coap://host[:port]/path?query (as pqcoap_client_open)
 *  with settings `cfg`. No handshake yet: the first request (or pqcoap_session_client_connect)
 *  makes one. *out owns the client (pqcoap_session_client_free). Errors: PQCOAP_ERR_ARG
 *  (NULL, ids, key lengths not their algorithm's, W, no store, a coap.layer set),
 *  PQCOAP_ERR_KEY_USAGE (cfg->usage or cfg->server_usage is not PQCOAP_USAGE_GENERAL: a key
 *  made for sign-v1 is never used in a session), PQCOAP_ERR_UNSUPPORTED (suite or alg
 *  unknown, or a server key of another algorithm than the suite's: the message says
 *  which), and those
 *  of pqcoap_client_open. `msg` (may be NULL)
 *  receives a NUL-terminated reason of at most msg_cap bytes on failure. */
pqcoap_err pqcoap_session_client_open(const char *uri, const pqcoap_session_client_config *cfg,
                                      pqcoap_session_client **out, char *msg, size_t msg_cap);

/** Closes the client; its session keys are wiped. NULL is fine. */
void pqcoap_session_client_free(pqcoap_session_client *sc);

/** Makes a new handshake now (a new session_seq, replacing any current session): INIT as a
 *  POST to pqc/session/init, RESP verified against the pinned server key before anything
 *  else. Errors: PQCOAP_ERR_HANDSHAKE (server answered 4.01 "handshake rejected": unknown
 *  initiator, bad signature, older session_seq), PQCOAP_ERR_BUSY (5.03: table full or rate
 *  limit; back off for its Max-Age), PQCOAP_ERR_AUTH (RESP not signed by the pinned server
 *  key: no session), PQCOAP_ERR_MALFORMED (malformed RESP, or 4.00),
 *  PQCOAP_ERR_UNAUTHENTICATED (any other unprotected answer, e.g. 4.04), PQCOAP_ERR_TIMEOUT
 *  and the other errors of pqcoap_client_request, store errors (session_seq reservation),
 *  PQCOAP_ERR_CRYPTO. On error there is no session. */
pqcoap_err pqcoap_session_client_connect(pqcoap_session_client *sc);

/** Sends `req` protected in the session and waits for the response; `reply` (caller frees
 *  it with pqcoap_reply_free) gets the plaintext response: code, options, payload. Before
 *  sending, a handshake is made when there is no session or the current one is in the last
 *  eighth of its lifetime or of its max_msgs. If the server answers 4.01 "unknown session"
 *  (it restarted, or the session expired there), the client re-handshakes once and repeats
 *  a GET, PUT, DELETE or FETCH once; a POST, PATCH or iPATCH is not repeated but reported as
 *  PQCOAP_ERR_SESSION_LOST (it may or may not have been executed; never twice). Results:
 *  PQCOAP_OK with the response (any code; with req->expect_success a 4.xx/5.xx gives
 *  PQCOAP_ERR_COAP); PQCOAP_ERR_SESSION_LOST; PQCOAP_ERR_UNKNOWN_SESSION (still unknown
 *  after the re-handshake); PQCOAP_ERR_REJECTED (4.01 "rejected": replayed or forged
 *  request); PQCOAP_ERR_UNAUTHENTICATED (an unprotected response of a code PROTOCOL.md
 *  "Errors" does not leave unprotected, success or not: 2.05, 4.04, 5.00, a 4.01 with
 *  another diagnostic; it cannot be told from a forgery); PQCOAP_ERR_AUTH /
 *  PQCOAP_ERR_REPLAY / PQCOAP_ERR_MALFORMED / PQCOAP_ERR_EXPIRED (the protected response
 *  does not verify); PQCOAP_ERR_BUSY (5.03); the errors of pqcoap_session_client_connect
 *  and of pqcoap_client_request; PQCOAP_ERR_ARG (NULL, req->no_layer set). For an error
 *  answer `reply` holds the unprotected response as received. */
pqcoap_err pqcoap_session_client_request(pqcoap_session_client *sc, const pqcoap_req *req,
                                         pqcoap_reply *reply);

/** pqcoap_client_observe (client.h) in the session: makes a handshake first when there is
 *  no fresh session (and once more if the server answers "unknown session"), then registers
 *  with a protected GET or FETCH; each notification is checked by the layer's
 *  check_notification against the registering request. A re-registration the client makes
 *  by itself goes in the session it has; if the server no longer knows it, the observation
 *  ends (the callback gets the error) and the caller observes again. Results as
 *  pqcoap_client_observe, the errors of pqcoap_session_client_connect, PQCOAP_ERR_ARG on
 *  NULL. */
pqcoap_err pqcoap_session_client_observe(pqcoap_session_client *sc, const pqcoap_req *req,
                                         pqcoap_observe_fn fn, void *user, uint32_t *id);

/** pqcoap_client_observe_cancel in the session (the deregistration is protected). */
pqcoap_err pqcoap_session_client_observe_cancel(pqcoap_session_client *sc, uint32_t id);

/** The underlying client (its layer is the session's), for pqcoap_client_poll while
 *  observing. Owned by `sc`. */
pqcoap_client *pqcoap_session_client_net(pqcoap_session_client *sc);

/** Fills *out with the state of the session and the sizes and timing of the last exchanges.
 *  Returns PQCOAP_OK, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_session_client_info_get(const pqcoap_session_client *sc,
                                          pqcoap_session_client_info *out);

/** What went wrong in the last failed call on `sc`, a NUL-terminated string owned by the
 *  client and valid until the next call; "" if nothing failed yet. */
const char *pqcoap_session_client_last_error(const pqcoap_session_client *sc);

/* ---------------------------------------------------------------------------------------
 * Session server
 * ------------------------------------------------------------------------------------- */

/** Session server settings. Start from PQCOAP_SESSION_SERVER_CONFIG_INIT. */
typedef struct pqcoap_session_server_config {
    const char *id;                 /**< own responder_id, 1..64 bytes UTF-8 (copied) */
    const uint8_t *sk;              /**< own identity secret key (copied) */
    size_t sk_len;
    pqcoap_key_usage usage;         /**< usage of the identity key (identity.pub.usage): must
                                         be PQCOAP_USAGE_GENERAL */
    uint8_t suite;                  /**< the suite of the identity key; default 0x01 */
    /** Further identities, one per suite (PROTOCOL.md "Algorithms"), less preferred than
     *  `sk`: the server chooses the suite of its first identity an INIT offers (copied). */
    const pqcoap_responder_key *more;
    size_t n_more;                  /**< at most PQCOAP_RESPONDER_KEYS_MAX - 1 */
    /** Trust store (initiator id -> pinned key) and anti-rollback floors. Borrowed: it must
     *  outlive the server, and while the server lives only its handshake thread uses it (open
     *  a second handle of the same SQLite file for anything else, e.g. removing a peer).
     *  Required. */
    const pqcoap_store *store;
    uint32_t lifetime_s;            /**< session lifetime; default 3600 */
    uint32_t max_msgs;              /**< messages per direction and session; default 16384 */
    uint16_t window;                /**< W for requests; default 64 */
    size_t max_sessions;            /**< live sessions at most (table size); default 64 */
    /** With a full table: evict the least recently used session idle this long (ms);
     *  0 = never, a new handshake gets 5.03 with Max-Age instead. Default 0. */
    uint64_t evict_idle_ms;
    /** Handshakes per second per source IP address (token bucket of that many tokens);
     *  beyond: 5.03 with Max-Age. 0 = no limit. Default 20. */
    uint32_t handshakes_per_s;
    /** Handshakes waiting for the handshake thread at most; beyond: 5.03. Default 32. */
    size_t max_pending_handshakes;
    /** CoAP settings: bind address and port, body limit, log level. Its `layer` must be
     *  NULL (the session server installs its own). */
    pqcoap_server_config coap;
} pqcoap_session_server_config;

#define PQCOAP_SESSION_SERVER_CONFIG_INIT {NULL, NULL, 0, PQCOAP_USAGE_GENERAL, 0x01, NULL, 0, NULL, \
    PQCOAP_LIFETIME_S_DEFAULT, PQCOAP_MAX_MSGS_DEFAULT, PQCOAP_WINDOW_DEFAULT, 64, 0, 20, 32, \
    PQCOAP_SERVER_CONFIG_INIT}

/** Counters of a session server (pqcoap_session_server_stats). */
typedef struct pqcoap_session_server_stats {
    size_t live_sessions;           /**< sessions now */
    uint64_t sessions_created;      /**< handshakes that created a session */
    uint64_t resp_resent;           /**< identical INITs answered with the cached RESP */
    uint64_t handshakes_refused;    /**< handshakes answered with an error (4.xx, 5.xx) */
    uint64_t handshakes_busy;       /**< of which 5.03: rate limit, full queue or table */
    uint64_t retransmissions;       /**< retransmitted requests answered with the kept
                                         protected response (the handler not run again) */
} pqcoap_session_server_stats;

typedef struct pqcoap_session_server pqcoap_session_server;

/** Creates a session server: a CoAP server (cfg->coap) whose layer lets POSTs to
 *  pqc/session/init through unprotected and protects everything else, the handler of
 *  pqc/session/init, and the handshake thread. Application handlers are registered on
 *  pqcoap_session_server_coap(ss) with pqcoap_server_handle and see plaintext requests and
 *  write plaintext responses (the path pqc/session/init is taken). Run it with
 *  pqcoap_server_run / pqcoap_server_step on that server, from one I/O thread.
 *  Protected requests and responses are handled on the I/O thread; handshakes (signature
 *  checks, ML-KEM, signing) on the handshake thread, so they never hold up the sessions.
 *  A retransmitted request (the same protected bytes, the same CoAP message ID, from the same
 *  address, within EXCHANGE_LIFETIME = 247 s) gets the kept protected response again, at most
 *  5 times, and does not run the handler twice; the same bytes under another message ID or
 *  from another address are a replay (4.01 "rejected"). The last protected response of each
 *  session is kept (up to max_body bytes each) until the session ends.
 *  An INIT from an initiator pinned with a sign-v1 key is refused (4.01 "handshake rejected").
 *  A session ends within about 250 ms once its initiator is removed from the store or its
 *  key replaced, also by another process on the same SQLite file (PROTOCOL.md
 *  "Revocation"): the handshake thread reads the store's change count that often.
 *  Errors: PQCOAP_ERR_ARG (NULL, id, key, limits, no store, a coap.layer set),
 *  PQCOAP_ERR_KEY_USAGE (an identity key is not of usage PQCOAP_USAGE_GENERAL),
 *  PQCOAP_ERR_UNSUPPORTED (suite), PQCOAP_ERR_NOMEM, and those of pqcoap_server_create.
 *  `msg` (may be NULL) receives a reason of at most msg_cap bytes on failure. */
pqcoap_err pqcoap_session_server_create(const pqcoap_session_server_config *cfg,
                                        pqcoap_session_server **out, char *msg,
                                        size_t msg_cap);

/** Stops the handshake thread, frees the CoAP server and wipes every session and key. The
 *  I/O loop must have returned (pqcoap_server_stop, then join its thread). NULL is fine. */
void pqcoap_session_server_free(pqcoap_session_server *ss);

/** The CoAP server underneath: register handlers, run, step, stop, port. Owned by ss. */
pqcoap_server *pqcoap_session_server_coap(pqcoap_session_server *ss);

/** Copies the counters into *out. Callable from any thread. Returns PQCOAP_OK,
 *  PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_session_server_stats_get(pqcoap_session_server *ss,
                                           pqcoap_session_server_stats *out);

#ifdef __cplusplus
}
#endif
#endif
