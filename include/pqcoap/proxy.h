/* A pair of CoAP proxies that secures an existing CoAP application without changing it: the
 * device proxy takes plain CoAP from local applications and protects each request toward a
 * gateway; the gateway proxy checks the protected requests and forwards them in plain CoAP
 * to the backend server, and protects the backend's answers on the way back. */
#ifndef PQCOAP_PROXY_H
#define PQCOAP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/keys.h"
#include "pqcoap/oscore.h"
#include "pqcoap/server.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The option a gateway with forward_identity adds to each forwarded request: the
 *  authenticated id of the device (1..64 bytes UTF-8). From the experimental range (RFC 7252
 *  section 12.2); elective (even: a backend that does not know it serves the request as
 *  before), safe to forward and part of the cache key (RFC 7252 section 5.4.6: a cache
 *  between gateway and backend keeps the answers of different devices apart). */
#define PQCOAP_OPT_PEER_ID 65004

/** How the two proxies protect the hop between them. */
typedef enum pqcoap_proxy_mode {
    PQCOAP_PROXY_PLAIN = 0,     /**< no protection (for testing the forwarding alone) */
    PQCOAP_PROXY_SIGN = 1,      /**< Mode A v2: signed requests and responses */
    PQCOAP_PROXY_SESSION = 2,   /**< Mode B: a session, encrypted payloads */
    PQCOAP_PROXY_OSCORE = 3     /**< OSCORE (RFC 8613) with a provisioned context */
} pqcoap_proxy_mode;

/** Receives one line (no newline) about a request the proxy could not forward or protect, or
 *  an answer that failed verification. Called from the proxy's forwarding thread. */
typedef void (*pqcoap_proxy_log_fn)(void *arg, const char *line);

/** Proxy settings. Start from PQCOAP_PROXY_CONFIG_INIT. Strings, keys and the store are
 *  borrowed during create only, except `store`, which must stay open while the proxy lives
 *  (a device proxy uses it only from its forwarding thread; a gateway as the sign or session
 *  server does, pqcoap_sign_server_new / pqcoap_session_server_create). */
typedef struct pqcoap_proxy_config {
    pqcoap_proxy_mode mode;
    const char *addr;           /**< numeric address to listen on; default "127.0.0.1" */
    uint16_t port;              /**< UDP port; 0 = ephemeral; default 5683 */
    const char *to;             /**< where requests go: coap://host[:port][/prefix] (the
                                     gateway, or the backend), required; a path in it is put
                                     in front of every request's path */
    const pqcoap_identity *identity; /**< own key (sign: any algorithm of Mode A v2;
                                          session: Falcon-512) */
    const char *id;             /**< own id: Mode B initiator id (device) or responder id
                                     (gateway) */
    const pqcoap_pubkey *peer;  /**< device: the gateway's key, pinned (sign, session) */
    const char *peer_id;        /**< device: the gateway's id (session) */
    const pqcoap_store *store;  /**< device: sequence counters; gateway: trust store of the
                                     devices, floors, counters (sign, session) */
    const pqcoap_oscore_conf *oscore; /**< oscore: the context (device: toward the gateway,
                                     its first recipient; gateway: one per recipient) */
    int forward_identity;       /**< gateway: add PQCOAP_OPT_PEER_ID (sign, session) */
    size_t max_body;            /**< largest request and response body; default 65536 */
    size_t max_in_flight;       /**< requests queued or being forwarded; over it 5.03 with
                                     Max-Age; default 16 */
    uint32_t timeout_ms;        /**< time for one forwarded exchange, handshake included;
                                     0 = 15000 (device) or 5000 (gateway): a device's must
                                     exceed its gateway's, so that a gateway's 5.04 arrives */
    unsigned ack_delay_ms;      /**< pqcoap_server_config.ack_delay_ms of the listener;
                                     default 1500 */
    int log_level;              /**< libcoap log level 0..7; default 0 */
    pqcoap_proxy_log_fn log;    /**< NULL: no lines */
    void *log_arg;
} pqcoap_proxy_config;

#define PQCOAP_PROXY_CONFIG_INIT {PQCOAP_PROXY_PLAIN, "127.0.0.1", 5683, NULL, NULL, NULL, \
    NULL, NULL, NULL, NULL, 0, 65536, 16, 0, 1500, 0, NULL, NULL}

typedef struct pqcoap_proxy pqcoap_proxy;

/** Creates a device proxy: a plain CoAP server on cfg->addr whose every request (any path,
 *  any method) is forwarded to cfg->to through the mode's client (pqcoap_client, the Mode A
 *  signing client with cfg->peer pinned, or the Mode B session client: one session for all
 *  requests, made at start and again when needed), one exchange at a time as NSTART = 1
 *  asks (RFC 7252 section 4.7). The verified answer goes back to the application: code,
 *  options, body. Hop-by-hop parts are the proxy's own (RFC 7252 section 5.7): message IDs,
 *  tokens, Uri-Host and Uri-Port (dropped), block-wise transfer (each side reassembles and
 *  splits again); Observe and No-Response are dropped; a request with Proxy-Uri or
 *  Proxy-Scheme gets 5.05, one with an unsafe option the proxy does not know 5.02 (section
 *  5.7.1). No answer from the gateway in time gives 5.04; a Reset 5.02; a request the
 *  protection refused or an answer that does not verify 5.02 with a diagnostic payload and
 *  one log line; nothing unverified is passed on. Run it with pqcoap_server_run on
 *  pqcoap_proxy_server(). Errors: PQCOAP_ERR_ARG (NULL, no `to`, keys, ids or store missing
 *  for the mode), PQCOAP_ERR_BAD_URI (`to` with a query), PQCOAP_ERR_UNSUPPORTED (session: keys
 *  not Falcon-512; sign: keys of no Mode A v2 algorithm), those of the clients' and the
 *  server's create functions, PQCOAP_ERR_NOMEM.
 *  `msg` (may be NULL) receives a reason of at most msg_cap bytes on failure. */
pqcoap_err pqcoap_proxy_device_create(const pqcoap_proxy_config *cfg, pqcoap_proxy **out,
                                      char *msg, size_t msg_cap);

/** Creates a gateway proxy: the mode's server on cfg->addr (the Mode A server layer over the
 *  trust store, or the Mode B session server; plain: none), whose every verified request is
 *  forwarded to the backend cfg->to with pqcoap_client (plain CoAP), one at a time, with the
 *  same option rules as the device proxy; the backend's answer is protected back (a deferred
 *  response: the I/O thread is not held while the backend works). Requests that fail the
 *  mode's checks are refused by the layer and never forwarded. Any PQCOAP_OPT_PEER_ID in a
 *  request is removed; with forward_identity the authenticated id is added. No answer from
 *  the backend in time gives 5.04, a Reset or a malformed answer 5.02. In Mode B the path
 *  pqc/session/init is the handshake's. Errors as pqcoap_proxy_device_create. */
pqcoap_err pqcoap_proxy_gateway_create(const pqcoap_proxy_config *cfg, pqcoap_proxy **out,
                                       char *msg, size_t msg_cap);

/** The CoAP server of the proxy: run, step, stop, port. Owned by `p`. */
pqcoap_server *pqcoap_proxy_server(pqcoap_proxy *p);

/** Stops the forwarding thread (after the exchange in progress, at most timeout_ms), frees
 *  the server, the client and every queued request, and wipes the keys. The server's I/O
 *  loop must have returned. NULL is fine. */
void pqcoap_proxy_free(pqcoap_proxy *p);

#ifdef __cplusplus
}
#endif
#endif
