/* OSCORE (RFC 8613) on the CoAP endpoints: a client over pqcoap_client and a security layer
 * for pqcoap_server, each over contexts provisioned from libcoap-format files
 * (pqcoap_oscore_conf) or keyed by the post-quantum handshake (PROTOCOL.md "OSCORE keyed by
 * the handshake"), with Sender Sequence Numbers kept in a store. */
#ifndef PQCOAP_OSCORE_ENDPOINT_H
#define PQCOAP_OSCORE_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/client.h"
#include "pqcoap/error.h"
#include "pqcoap/layer.h"
#include "pqcoap/oscore.h"
#include "pqcoap/server.h"
#include "pqcoap/session.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------------------- */

/** An OSCORE client: a pqcoap_client whose requests are protected with one security
 *  context and whose responses must verify under it. Not thread-safe. */
typedef struct pqcoap_oscore_client pqcoap_oscore_client;

/** Opens an OSCORE client for `uri` (as pqcoap_client_open; net.layer is ignored) with the
 *  context of `conf` toward its first recipient_id. `store` (borrowed, open while the
 *  client lives) keeps the Sender Sequence Number: counter "oscore:<32 hex>" named after a
 *  hash of the Sender Key, reserved conf->ssn_freq numbers ahead (RFC 8613 Appendix
 *  B.1.1), so a restarted client never reuses one. `net` NULL = default transport.
 *  Errors: PQCOAP_ERR_ARG, PQCOAP_ERR_UNSUPPORTED (algorithm), PQCOAP_ERR_NOMEM, those of
 *  pqcoap_client_open; `msg` (may be NULL) gets a reason of at most msg_cap bytes. */
pqcoap_err pqcoap_oscore_client_open(const char *uri, const pqcoap_oscore_conf *conf,
                                     const pqcoap_store *store,
                                     const pqcoap_client_config *net,
                                     pqcoap_oscore_client **out, char *msg, size_t msg_cap);

/** Opens an OSCORE client for `uri` whose context comes from a handshake: INIT (asking for
 *  an OSCORE context with `aead_alg`, 0 = PQCOAP_COSE_A256GCM, and the empty Recipient ID)
 *  as a POST to pqc/session/init, RESP verified against the pinned server key, then the
 *  context derived from the handshake's secret (PROTOCOL.md "OSCORE keyed by the
 *  handshake"). No key crosses the network. `cfg` is a session client's settings (ids,
 *  keys, suite, store, CoAP transport; window and seq_block unused): its store keeps the
 *  session_seq counter, shared with the session client, and the Sender Sequence Numbers.
 *  Errors: those of pqcoap_session_client_open and of pqcoap_session_client_connect
 *  (PQCOAP_ERR_HANDSHAKE, PQCOAP_ERR_AUTH, PQCOAP_ERR_UNSUPPORTED, PQCOAP_ERR_BUSY,
 *  PQCOAP_ERR_UNAUTHENTICATED, PQCOAP_ERR_TIMEOUT, ...); `msg` says why. */
pqcoap_err pqcoap_oscore_client_open_keyed(const char *uri,
                                           const pqcoap_session_client_config *cfg,
                                           int aead_alg, pqcoap_oscore_client **out, char *msg,
                                           size_t msg_cap);

/** Closes the client and wipes its context. NULL is fine. */
void pqcoap_oscore_client_free(pqcoap_oscore_client *c);

/** Sends `req` protected (its method, Uri-Path, Uri-Query, payload and other Class E
 *  options are encrypted) and waits. On PQCOAP_OK `reply` (caller frees) is the verified,
 *  decrypted response. A protected 4.01 carrying Echo (the server lost its replay window,
 *  RFC 8613 Appendix B.1.2 / RFC 9175) is answered transparently: the request is sent once
 *  more with that Echo value and a new Sender Sequence Number. A client opened with
 *  pqcoap_oscore_client_open_keyed answers an unprotected 4.01 "Security context not found"
 *  (the server restarted, or the context ended: lifetime, max_msgs, a newer handshake,
 *  revocation; RFC 8613 section 8.2, nothing was processed) with one new handshake and the
 *  request sent once more under the new context; a handshake that fails returns its error
 *  (e.g. PQCOAP_ERR_HANDSHAKE for a revoked device), and a second 4.01 right after it is
 *  PQCOAP_ERR_REJECTED, never a further attempt. Errors, besides those of
 *  pqcoap_client_request:
 *  - PQCOAP_ERR_REJECTED: the server refused the request with an unprotected 4.00
 *    ("Decryption failed"), 4.01 ("Security context not found", "Replay detected") or
 *    4.02; pqcoap_oscore_client_last_error gives its diagnostic;
 *  - PQCOAP_ERR_BUSY / PQCOAP_ERR_TOO_LARGE: an unprotected 5.03 / 4.13;
 *  - PQCOAP_ERR_UNAUTHENTICATED: any other answer without valid protection;
 *  - PQCOAP_ERR_AUTH / PQCOAP_ERR_MALFORMED: a protected response that does not verify
 *    under the context or is not bound to this request;
 *  - PQCOAP_ERR_LIMIT: Sender Sequence Numbers used up (2^40), a new context is needed;
 *  - store errors while reserving Sender Sequence Numbers. */
pqcoap_err pqcoap_oscore_client_request(pqcoap_oscore_client *c, const pqcoap_req *req,
                                        pqcoap_reply *reply);

/** pqcoap_client_observe / _observe_cancel (client.h) with OSCORE-protected
 *  notifications (RFC 8613 section 4.1.3.5). Same results; PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_oscore_client_observe(pqcoap_oscore_client *c, const pqcoap_req *req,
                                        pqcoap_observe_fn fn, void *user, uint32_t *id);
pqcoap_err pqcoap_oscore_client_observe_cancel(pqcoap_oscore_client *c, uint32_t id);

/** The underlying client (its layer is the OSCORE one), e.g. for
 *  pqcoap_client_last_bytes. Owned by `c`. */
pqcoap_client *pqcoap_oscore_client_net(pqcoap_oscore_client *c);

/** The kid and Partial IV of the last request sent (its OSCORE option, for -v). */
pqcoap_err pqcoap_oscore_client_last_request(const pqcoap_oscore_client *c,
                                             pqcoap_oscore_binding *out);

/** Why the last failed request failed (the OSCORE layer's reason, else the transport's);
 *  owned by `c`, "" if nothing failed. */
const char *pqcoap_oscore_client_last_error(const pqcoap_oscore_client *c);

/* ---------------------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------------------- */

/** OSCORE server layer settings. Start from PQCOAP_OSCORE_SERVER_CONFIG_INIT. */
typedef struct pqcoap_oscore_server_config {
    size_t max_contexts;        /**< security contexts held at once; default 1024 */
} pqcoap_oscore_server_config;

#define PQCOAP_OSCORE_SERVER_CONFIG_INIT {1024}

/** An OSCORE server layer: many security contexts, found by kid and kid context in O(1). */
typedef struct pqcoap_oscore_server pqcoap_oscore_server;

/** Creates an empty OSCORE server layer. `store` (borrowed; open while the layer lives,
 *  used only from the server's I/O thread) keeps each context's Sender Sequence Number
 *  (for responses that carry their own Partial IV). `cfg` NULL = defaults. Errors:
 *  PQCOAP_ERR_ARG, PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_oscore_server_new(const pqcoap_store *store,
                                    const pqcoap_oscore_server_config *cfg,
                                    pqcoap_oscore_server **out);

/** Adds one context per recipient_id of `conf` (the server's own ID is conf's sender_id).
 *  When conf->rfc8613_b_1_2 is set (the default) a context starts without a replay
 *  window: the first request of each client is answered with a protected 4.01 carrying
 *  an Echo option, and the window starts at the request that returns it (Appendix B.1.2),
 *  so a request captured before a restart is never executed after it. Errors:
 *  PQCOAP_ERR_EXISTS (a context with the same recipient ID and ID Context is held),
 *  PQCOAP_ERR_LIMIT (max_contexts), PQCOAP_ERR_UNSUPPORTED, PQCOAP_ERR_ARG; on error
 *  nothing is added. */
pqcoap_err pqcoap_oscore_server_add_conf(pqcoap_oscore_server *s,
                                         const pqcoap_oscore_conf *conf);

/** Settings of OSCORE contexts keyed by the post-quantum handshake on a server. Start from
 *  PQCOAP_OSCORE_KEYING_CONFIG_INIT. Ids and keys are copied. */
typedef struct pqcoap_oscore_keying_config {
    const char *id;                 /**< own responder_id */
    const uint8_t *sk;              /**< own (most preferred) identity secret key */
    size_t sk_len;
    pqcoap_key_usage usage;         /**< must be PQCOAP_USAGE_GENERAL */
    uint8_t suite;                  /**< the suite of that key's algorithm; default 0x01 */
    const pqcoap_responder_key *more; /**< further identities, one per suite */
    size_t n_more;
    /** Trust store (initiator id -> pinned key) and anti-rollback floors; borrowed. While
     *  the server lives, the handshake thread and (when it is also the OSCORE server's store)
     *  the I/O thread use it, one at a time; open a second handle of the same SQLite file
     *  for anything else. Required. */
    const pqcoap_store *store;
    uint32_t lifetime_s;            /**< a context ends after this long; default 3600 */
    uint32_t max_msgs;              /**< or after this many requests; default 16384 */
    size_t max_peers;               /**< contexts keyed at once (one per device); default 64 */
    /** Handshakes per second per source IP address (token bucket of that many tokens);
     *  beyond: 5.03 with Max-Age. 0 = no limit. Default 20 (as Mode B's). */
    uint32_t handshakes_per_s;
    /** Handshakes waiting for the handshake thread at most; beyond: 5.03. Default 32. */
    size_t max_pending_handshakes;
} pqcoap_oscore_keying_config;

#define PQCOAP_OSCORE_KEYING_CONFIG_INIT {NULL, NULL, 0, PQCOAP_USAGE_GENERAL, 0x01, NULL, 0, \
    NULL, PQCOAP_LIFETIME_S_DEFAULT, PQCOAP_MAX_MSGS_DEFAULT, 64, 20, 32}

/** Lets devices get their own context by the post-quantum handshake (PROTOCOL.md "OSCORE
 *  keyed by the handshake"): registers POST pqc/session/init on `srv` (a server whose layer
 *  is s's), which this layer lets through unprotected. Each handshake from a trusted device
 *  (the store pins its key) adds a context whose Recipient ID the server chose, replacing
 *  that device's previous one; it ends after lifetime_s, after max_msgs requests, or when the
 *  device is removed from the store or its key replaced (checked every 250 ms). Handshakes
 *  run on a handshake thread of their own, as Mode B's (session_endpoint.h): at most
 *  handshakes_per_s per source address and max_pending_handshakes waiting, beyond which
 *  an INIT gets 5.03 with Max-Age at once, so a flood of INITs does not hold up protected
 *  requests. Provisioned contexts (add_conf) stay, and their Recipient IDs are never
 *  handed out; add them before. Errors: PQCOAP_ERR_ARG,
 *  PQCOAP_ERR_KEY_USAGE, PQCOAP_ERR_UNSUPPORTED, PQCOAP_ERR_NOMEM, PQCOAP_ERR_EXISTS (done
 *  twice); `msg` says why. */
pqcoap_err pqcoap_oscore_server_keying(pqcoap_oscore_server *s, pqcoap_server *srv,
                                       const pqcoap_oscore_keying_config *cfg, char *msg,
                                       size_t msg_cap);

/** The layer to set as pqcoap_server_config.layer. Requests without a valid OSCORE option
 *  never reach a handler: no OSCORE option 4.01 "OSCORE required", an undecodable option
 *  4.02, an unknown kid or kid context 4.01 "Security context not found", a replay 4.01
 *  "Replay detected", a failed decryption 4.00 "Decryption failed" (RFC 8613 section 8.2;
 *  unprotected, with Max-Age 0). Every other response is protected. Owned by `s`. */
const pqcoap_layer *pqcoap_oscore_server_layer(const pqcoap_oscore_server *s);

/** Stops the handshake thread of pqcoap_oscore_server_keying (handshakes not answered yet
 *  are dropped): call it before pqcoap_server_free of the server `s` keys contexts for, as
 *  that thread answers through it. Nothing to do without keying; NULL is fine. */
void pqcoap_oscore_server_stop(pqcoap_oscore_server *s);

/** Releases the layer and wipes every context. Call pqcoap_oscore_server_stop, then free the
 *  server, then this. NULL is fine. */
void pqcoap_oscore_server_free(pqcoap_oscore_server *s);

#ifdef __cplusplus
}
#endif
#endif
