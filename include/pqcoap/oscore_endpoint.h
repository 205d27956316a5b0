/* OSCORE (RFC 8613) on the CoAP endpoints: a client over pqcoap_client and a security layer
 * for pqcoap_server, each over contexts provisioned from libcoap-format files
 * (pqcoap_oscore_conf), with Sender Sequence Numbers kept in a store. */
#ifndef PQCOAP_OSCORE_ENDPOINT_H
#define PQCOAP_OSCORE_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/client.h"
#include "pqcoap/error.h"
#include "pqcoap/layer.h"
#include "pqcoap/oscore.h"
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

/** Closes the client and wipes its context. NULL is fine. */
void pqcoap_oscore_client_free(pqcoap_oscore_client *c);

/** Sends `req` protected (its method, Uri-Path, Uri-Query, payload and other Class E
 *  options are encrypted) and waits. On PQCOAP_OK `reply` (caller frees) is the verified,
 *  decrypted response. A protected 4.01 carrying Echo (the server lost its replay window,
 *  RFC 8613 Appendix B.1.2 / RFC 9175) is answered transparently: the request is sent once
 *  more with that Echo value and a new Sender Sequence Number. Errors, besides those of
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

/** The layer to set as pqcoap_server_config.layer. Requests without a valid OSCORE option
 *  never reach a handler: no OSCORE option 4.01 "OSCORE required", an undecodable option
 *  4.02, an unknown kid or kid context 4.01 "Security context not found", a replay 4.01
 *  "Replay detected", a failed decryption 4.00 "Decryption failed" (RFC 8613 section 8.2;
 *  unprotected, with Max-Age 0). Every other response is protected. Owned by `s`. */
const pqcoap_layer *pqcoap_oscore_server_layer(const pqcoap_oscore_server *s);

/** Releases the layer and wipes every context. Free the server first. NULL is fine. */
void pqcoap_oscore_server_free(pqcoap_oscore_server *s);

#ifdef __cplusplus
}
#endif
#endif
