/* CoAP server over UDP (libcoap underneath): resources by path with a handler per method,
 * block-wise bodies up to a limit, deferred responses completed from any thread, optional
 * security layer, blocking run or a step function for an external event loop. */
#ifndef PQCOAP_SERVER_H
#define PQCOAP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/msg.h"
#include "pqcoap/layer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Server settings. Start from PQCOAP_SERVER_CONFIG_INIT and change what you need. */
typedef struct pqcoap_server_config {
    const char *addr;           /**< numeric IPv4 or IPv6 address to bind; default "0.0.0.0" */
    uint16_t port;              /**< UDP port; 0 = ephemeral (see pqcoap_server_port);
                                     default 5683 */
    size_t max_body;            /**< largest request and response body (plaintext) in bytes;
                                     a larger request gets 4.13 with Size1; default 65536 */
    int log_level;              /**< libcoap log level 0..7 (process-wide); default 0 */
    const pqcoap_layer *layer;  /**< security layer, NULL = plain CoAP; copied at create, its
                                     ctx must outlive the server */
    /* Denial-of-service limits; 0 in any of them means its default. */
    unsigned max_peers;         /**< peers (libcoap sessions) kept while idle; over it the
                                     oldest idle one is dropped; default 1000 */
    unsigned peer_idle_s;       /**< an idle peer is forgotten after this; default 60 s */
    unsigned max_transfers;     /**< block-wise (Block1) requests being received, all peers
                                     together; a new one over it gets 5.03 with Max-Age;
                                     also block-wise responses kept for their later blocks
                                     (the oldest goes); default 64 */
    unsigned max_transfers_per_peer; /**< the same per peer address (IP and port);
                                          default 4 */
    unsigned transfer_timeout_s; /**< a block-wise request without a new block for this long
                                      is dropped; default 60 s */
    /** How long a deferred CON request waits for its empty ACK (RFC 7252 section 5.2.2): a
     *  response completed within it goes back piggybacked in the ACK (section 5.2.1), later
     *  ones as separate responses. libcoap 4.3.1 clients receive a response larger than one
     *  block only piggybacked (see pqcoap_server_defer). Keep it below the clients'
     *  ACK_TIMEOUT (2 s by default; PROCESSING_DELAY, section 4.8.2), so that they do not
     *  retransmit meanwhile; retransmissions that come are not answered until then.
     *  0..60000 ms; default 0: the empty ACK goes at once. */
    unsigned ack_delay_ms;
    unsigned max_kept_responses; /**< requests remembered for duplicate detection (RFC 7252
                                      section 4.5): a request repeated byte for byte (message
                                      ID, type, code, token, options, payload) from the same
                                      address and port within EXCHANGE_LIFETIME (247 s) is
                                      not handled again;
                                      a CON one gets the same response again (at most 5
                                      times), a NON one nothing. Over the limit the least
                                      recently used is forgotten. Each keeps one response
                                      datagram (a block-wise one's first block); default 256 */
    unsigned max_observers;     /**< observations (RFC 7641) kept, all paths together; a
                                     registration over it or over its path's limit
                                     (pqcoap_server_observable) is answered as a plain GET,
                                     without Observe (section 4.1); default 64 */
} pqcoap_server_config;

/** Default server settings (see the field comments). A block-wise request whose Size1 or
 *  whose blocks so far exceed max_body gets 4.13 with Size1 at once; the bodies being
 *  received take at most max_transfers * max_body bytes (plus the layer's overhead each). */
#define PQCOAP_SERVER_CONFIG_INIT {"0.0.0.0", 5683, 65536, 0, NULL, 1000, 60, 64, 4, 60, 0, \
                                   256, 64}

typedef struct pqcoap_server pqcoap_server;

/** The request being handled; valid only during the handler call. */
typedef struct pqcoap_server_req pqcoap_server_req;

/** A request handler. `req` is the plaintext request after block-wise reassembly and the
 *  layer's check (views valid only during the call); `resp` comes pre-set with code 2.05
 *  (GET, FETCH), 2.04 (POST, PUT, PATCH, IPATCH) or 2.02 (DELETE), the request's token, no
 *  options and an empty payload of capacity max_body: the handler sets code, options and
 *  payload. Returning an error code instead sends the response pqcoap_msgbuf_from_err gives
 *  (e.g. PQCOAP_ERR_MALFORMED -> 4.00). To answer later, call pqcoap_server_defer and return
 *  PQCOAP_OK; `resp` is then ignored. */
typedef pqcoap_err (*pqcoap_handler_fn)(void *arg, pqcoap_server_req *rq,
                                        const pqcoap_msg *req, pqcoap_msgbuf *resp);

/** Creates a server bound to cfg->addr / cfg->port (NULL cfg = defaults), not yet running.
 *  *out owns it (pqcoap_server_free). Returns PQCOAP_OK; PQCOAP_ERR_ARG for an address that
 *  is not a numeric IPv4/IPv6 address or bad settings; PQCOAP_ERR_IO when the port cannot be
 * bound; PQCOAP_ERR_UNSUPPORTED when libcoap lacks epoll support; PQCOAP_ERR_NOMEM.
 *  `msg` (may be NULL) receives a reason of at most msg_cap bytes on failure. */
pqcoap_err pqcoap_server_create(const pqcoap_server_config *cfg, pqcoap_server **out,
                                char *msg, size_t msg_cap);

/** Stops serving and releases everything. Deferred requests not completed are dropped. */
void pqcoap_server_free(pqcoap_server *srv);

/** The UDP port the server is bound to (the chosen one when cfg->port was 0). */
uint16_t pqcoap_server_port(const pqcoap_server *srv);

/** Serves `path` ("a/b", no leading or trailing '/', segments as they appear decoded in
 *  Uri-Path options; "" is the root) with `fn` for request method `method`
 *  (PQCOAP_GET ... PQCOAP_IPATCH); `arg` is passed to fn. A request for a path without any
 *  handler gets 4.04, for a registered path but another method 4.05. Registering the same
 *  path and method again replaces the handler. Call before running or from the I/O thread.
 *  Returns PQCOAP_OK, PQCOAP_ERR_ARG (NULL, bad method, path over 255 bytes),
 *  PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_server_handle(pqcoap_server *srv, const char *path, uint8_t method,
                                pqcoap_handler_fn fn, void *arg);

/** Serves every request whose path has no handler of its own (any method) with `fn`,
 *  instead of answering 4.04: a proxy's forwarding. A path registered with
 *  pqcoap_server_handle keeps its handlers (and 4.05 for its other methods). Setting it
 *  again replaces it. Call before running or from the I/O thread. Returns PQCOAP_OK,
 *  PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_server_handle_default(pqcoap_server *srv, pqcoap_handler_fn fn, void *arg);

/** Makes `path` observable (RFC 7641): a GET or FETCH with Observe 0 that its handler answers
 *  with 2.xx registers the client, which then gets a notification, the handler's answer to
 *  the registering request made again, each time pqcoap_server_notify(srv, path) is called.
 *  Notifications are CON. An observation ends when the client deregisters (Observe 1, same
 *  token), answers a notification with RST or leaves one unacknowledged, when the handler
 *  answers other than 2.xx, or when the server is freed. At most `max_observers`
 *  observations of this path (0 = 16) and cfg.max_observers in total: a registration over
 *  either is answered without Observe. The path still needs a GET (or FETCH) handler from
 *  pqcoap_server_handle; that handler must answer at once (pqcoap_server_defer fails with
 *  PQCOAP_ERR_STATE while it makes a notification, and a deferred registration is answered
 *  without Observe). With a security layer (PROTOCOL.md "Observe") a registration is
 *  accepted only once the layer verified it and only if the layer has protect_notification
 *  (else it is answered without Observe); the server then sends the notifications itself,
 *  each protected by protect_notification with the registration's layer state, and ends the
 *  observation, without a message, when that fails (its session or context ended).
 *  Call again to change the limit. Call before running or from the I/O thread. Returns
 *  PQCOAP_OK, PQCOAP_ERR_ARG (NULL, path over 255 bytes), PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_server_observable(pqcoap_server *srv, const char *path,
                                    unsigned max_observers);

/** Sends a notification to every observer of `path` (see pqcoap_server_observable): the
 *  I/O thread runs the handler once per observer during its next step. Callable from any
 *  thread; a path that is not observable, or has no observers, is ignored. Returns
 *  PQCOAP_OK, PQCOAP_ERR_ARG (NULL, path over 255 bytes), PQCOAP_ERR_NOMEM, PQCOAP_ERR_IO. */
pqcoap_err pqcoap_server_notify(pqcoap_server *srv, const char *path);

/** Inside a handler: defers the response. Sets *ticket (never 0); the handler returns
 *  PQCOAP_OK and later someone calls pqcoap_server_complete(srv, *ticket, ...) exactly once.
 *  A CON request is acknowledged with an empty ACK (at once, or after cfg.ack_delay_ms
 *  unless the response is piggybacked in the ACK before then) and the response follows as a
 *  separate CON message (RFC 7252 section 5.2.2; NON for a NON request); retransmissions of
 *  the request meanwhile are acknowledged again and do not reach the handler. The layer
 *  state of the exchange is kept for protect_response. The request view is NOT kept: copy
 *  what the work needs before returning. A separate response larger than one block reaches
 *  pqcoap clients in any case, but clients built on libcoap 4.3.1's block-wise handling only
 *  if the request itself was sent block-wise or as NON. Returns PQCOAP_OK, PQCOAP_ERR_STATE
 *  when called twice for the same request, PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_server_defer(pqcoap_server_req *rq, uint64_t *ticket);

/** Exchange details (peer address, message ID) of the request being handled. */
const pqcoap_exchange *pqcoap_server_req_exchange(const pqcoap_server_req *rq);

/** The authenticated id of the peer that sent the request being handled, as the security
 *  layer established it (pqcoap_layer.peer_id: in Mode A v2 the trust-store id of the key
 *  that signed it, in Mode B the initiator_id of its session). NUL-terminated, valid only
 *  during the handler call (copy it before deferring); "" for plain CoAP, a layer that does
 *  not name peers, or NULL. */
const char *pqcoap_server_req_peer(const pqcoap_server_req *rq);

/** Completes deferred request `ticket` with `resp` (code, options, payload; token ignored),
 *  which is copied. Callable from any thread; the I/O thread runs protect_response and sends
 *  it during its next step. Returns PQCOAP_OK, PQCOAP_ERR_ARG (NULL, ticket 0, code not a
 *  response code), PQCOAP_ERR_NOMEM. A ticket that is unknown or whose client has gone is
 *  dropped silently on the I/O thread. */
pqcoap_err pqcoap_server_complete(pqcoap_server *srv, uint64_t ticket, const pqcoap_msg *resp);

/** A file descriptor that becomes readable when the server has work (a datagram, a timer,
 *  a completed deferred request, a stop request); for an external event loop that then calls
 *  pqcoap_server_step(srv, 0). Owned by the server. With cfg.ack_delay_ms, also call
 *  pqcoap_server_step at least every ack_delay_ms while requests are deferred. */
int pqcoap_server_fd(const pqcoap_server *srv);

/** Waits up to timeout_ms (-1 = until something happens) and does the work that is due:
 *  receives and answers requests, sends completed deferred responses, retransmits. Returns
 *  PQCOAP_OK, PQCOAP_ERR_STATE once pqcoap_server_stop was called, PQCOAP_ERR_IO. */
pqcoap_err pqcoap_server_step(pqcoap_server *srv, int timeout_ms);

/** Serves until pqcoap_server_stop. Returns PQCOAP_OK after a stop, PQCOAP_ERR_IO on a
 *  failure of the event loop. */
pqcoap_err pqcoap_server_run(pqcoap_server *srv);

/** Asks the server to stop: pqcoap_server_run returns, pqcoap_server_step returns
 *  PQCOAP_ERR_STATE. Async-signal-safe and callable from any thread. */
void pqcoap_server_stop(pqcoap_server *srv);

#ifdef __cplusplus
}
#endif
#endif
