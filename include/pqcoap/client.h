/* CoAP client over UDP (libcoap underneath): blocking requests, or a window of requests in
 * flight with send + poll; block-wise bodies, CON retransmission, optional security layer. */
#ifndef PQCOAP_CLIENT_H
#define PQCOAP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/msg.h"
#include "pqcoap/layer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Client settings. Start from PQCOAP_CLIENT_CONFIG_INIT and change what you need. */
typedef struct pqcoap_client_config {
    uint32_t timeout_ms;        /**< overall time per request (all retransmissions and
                                     blocks included); default 10000 */
    size_t max_body;            /**< largest request and response body in bytes; default
                                     65536. A block-wise response is refused as soon as its
                                     Size2 or its blocks so far pass it: the client holds and
                                     asks for no more than that */
    uint16_t block_size;        /**< block-wise block size, a power of two 16..1024; default 1024 */
    size_t max_in_flight;       /**< requests in flight at once (send + poll); default 16 */
    uint16_t nstart;            /**< CON requests libcoap lets be outstanding at once
                                     (RFC 7252 NSTART); default 1, as the RFC asks */
    int log_level;              /**< libcoap log level, 0 (emergencies only) .. 7 (debug);
                                     default 0. libcoap's level is process-wide. */
    const pqcoap_layer *layer;  /**< security layer, NULL = plain CoAP; copied at open, its
                                     ctx must outlive the client */
    uint32_t ack_timeout_ms;    /**< RFC 7252 ACK_TIMEOUT: wait before the first
                                     retransmission of a CON message (then doubled each
                                     time, randomised by ACK_RANDOM_FACTOR 1.5); 1000..60000
                                     (libcoap 4.3 takes whole seconds upwards),
                                     0 = the RFC's default 2000 */
    unsigned max_observe;       /**< observations (pqcoap_client_observe) at once; 0 = 8 */
} pqcoap_client_config;

/** Default client settings (see the field comments). */
#define PQCOAP_CLIENT_CONFIG_INIT {10000, 65536, 1024, 16, 1, 0, NULL, 0, 8}

/** One request. Start from PQCOAP_REQ_INIT. */
typedef struct pqcoap_req {
    uint8_t method;             /**< PQCOAP_GET, _POST, _PUT, _DELETE, _FETCH (or _PATCH, _IPATCH) */
    const char *path;           /**< "a/b?x=1" (percent-encoded as in a URI) replacing the
                                     path and query of the client's URI; NULL = the URI's */
    int non;                    /**< 1: send as NON (no retransmission); 0: CON */
    int content_format;         /**< Content-Format option value, -1 = none */
    int accept;                 /**< Accept option value, -1 = none */
    const pqcoap_opt *opts;     /**< extra options, any order (not Uri-Host/Port/Path/Query,
                                     not the block-wise options) */
    size_t n_opts;
    const uint8_t *payload;     /**< request body (copied), up to max_body bytes */
    size_t payload_len;
    int expect_success;         /**< 1: a 4.xx/5.xx answer makes the call return PQCOAP_ERR_COAP
                                     (the reply is still filled) */
    int no_layer;               /**< 1: bypass the security layer for this request (e.g. the
                                     Mode B handshake itself) */
} pqcoap_req;

/** Default request: CON GET of the client's URI, no options, no payload. */
#define PQCOAP_REQ_INIT {PQCOAP_GET, NULL, 0, -1, -1, NULL, 0, NULL, 0, 0, 0}

/** A finished request from pqcoap_client_poll. */
typedef struct pqcoap_completion {
    uint32_t id;                /**< the id pqcoap_client_send gave */
    void *user;                 /**< the pointer given to pqcoap_client_send */
    pqcoap_err err;             /**< the request's result (as pqcoap_client_request would give) */
    pqcoap_reply reply;         /**< filled when a response arrived (err OK or PQCOAP_ERR_COAP,
                                     or an error from check_response); caller frees */
} pqcoap_completion;

typedef struct pqcoap_client pqcoap_client;

/** Opens a client for `uri` = coap://host[:port]/path?query (host: IPv4, [IPv6] or a name;
 *  port default 5683) with settings `cfg` (NULL = defaults). One libcoap context and one
 *  UDP session serve every request of the client. On success *out owns the client (free
 *  with pqcoap_client_free). Returns PQCOAP_OK; PQCOAP_ERR_BAD_URI for a malformed URI or a
 *  scheme other than coap; PQCOAP_ERR_UNREACHABLE when the host name does not resolve;
 *  PQCOAP_ERR_ARG for bad settings or NULL; PQCOAP_ERR_IO or PQCOAP_ERR_NOMEM when libcoap
 *  cannot set up. `msg` (may be NULL) receives a NUL-terminated reason of `msg_cap` bytes at
 *  most when the call fails. */
pqcoap_err pqcoap_client_open(const char *uri, const pqcoap_client_config *cfg,
                              pqcoap_client **out, char *msg, size_t msg_cap);

/** Closes the client, abandoning requests in flight and dropping unpolled completions. */
void pqcoap_client_free(pqcoap_client *cl);

/** Sends `req` and waits for its response (blocking). Any CoAP response fills `reply`
 *  (caller frees it) and gives PQCOAP_OK, or PQCOAP_ERR_COAP for a 4.xx/5.xx answer when
 *  req->expect_success is set. Other results: PQCOAP_ERR_TIMEOUT when no complete response
 *  came within the configured timeout; PQCOAP_ERR_TOO_LARGE when the request or response
 *  body exceeds max_body (a block-wise response at the first block, or the Size2, that
 *  passes it); PQCOAP_ERR_MALFORMED when the blocks of a response come out of order, short,
 *  with another ETag or without Block2, or a 2.31 Continue answers no block; PQCOAP_ERR_COAP when the
 *  server answered with Reset; any error of
 *  the layer's hooks; PQCOAP_ERR_ARG on bad input; PQCOAP_ERR_NOMEM / PQCOAP_ERR_IO. The
 *  reason of a failure is in pqcoap_client_last_error. Completions of requests started with
 *  pqcoap_client_send that finish meanwhile stay queued for pqcoap_client_poll. */
pqcoap_err pqcoap_client_request(pqcoap_client *cl, const pqcoap_req *req, pqcoap_reply *reply);

/** Starts `req` without waiting; its completion comes from pqcoap_client_poll with `user`.
 *  Sets *id (never 0). Returns PQCOAP_OK, PQCOAP_ERR_LIMIT when max_in_flight requests are in
 *  flight or unpolled, or the errors of pqcoap_client_request that arise before sending. */
pqcoap_err pqcoap_client_send(pqcoap_client *cl, const pqcoap_req *req, void *user, uint32_t *id);

/** Runs the network for up to `wait_ms` milliseconds until a request started with
 *  pqcoap_client_send finishes, then fills `c` (caller frees c->reply) and sets *done = 1;
 *  *done = 0 if none finished in time. Completions come in the order they finished.
 *  Returns PQCOAP_OK, PQCOAP_ERR_STATE when nothing is in flight or queued, PQCOAP_ERR_IO. */
pqcoap_err pqcoap_client_poll(pqcoap_client *cl, uint32_t wait_ms, pqcoap_completion *c, int *done);

/** Sizes of the last request sent and the last response received on `cl` as CoAP messages
 *  on the wire (header, token, options, payload, after the security layer; block-wise
 *  splitting, ACKs and UDP/IP headers not counted); 0 before the first. */
void pqcoap_client_last_bytes(const pqcoap_client *cl, size_t *sent, size_t *received);

/** Number of requests in flight or completed but not yet polled. */
size_t pqcoap_client_pending(const pqcoap_client *cl);

/** What went wrong in the last failed call on `cl` (timeout, unreachable, body too large,
 *  CoAP error code received, ...): a NUL-terminated string owned by the client, valid until
 *  the next call on it; "" if nothing failed yet. */
const char *pqcoap_client_last_error(const pqcoap_client *cl);

/* ---------------------------------------------------------------------------------------
 * Observe (RFC 7641)
 * ------------------------------------------------------------------------------------- */

/** What an observation's callback gets. */
typedef struct pqcoap_notification {
    uint32_t id;                /**< the observation (pqcoap_client_observe's *id) */
    pqcoap_err err;             /**< PQCOAP_OK: `msg` is a verified notification (the
                                     registration's response first); otherwise the
                                     observation is over and this says why (`msg`, when not
                                     NULL, is the server's last answer, e.g. a 4.04) */
    const pqcoap_msg *msg;      /**< the message as the security layer passed it (plaintext),
                                     valid during the call; NULL when there is none */
    uint32_t seq;               /**< its Observe sequence number (24 bits) when err is OK */
    size_t wire_len;            /**< its size as a CoAP message on the wire */
} pqcoap_notification;

/** Called once per verified notification, in the order of the sequence rule, and once more
 *  with an error when the observation ends without pqcoap_client_observe_cancel. It runs
 *  inside pqcoap_client_poll / _request / _observe on the caller's thread and must not call
 *  the client. */
typedef void (*pqcoap_observe_fn)(void *user, const pqcoap_notification *n);

/** Observes `req` (a GET or FETCH; Observe 0 is added, so req->opts must not carry Observe):
 *  sends the registration and waits for its response (blocking, as
 *  pqcoap_client_request), which goes through the layer's check_response like any
 *  response and is the first call of `fn`. When it carries Observe the observation lives
 *  (*id set, never 0): later notifications come while the caller runs the client
 *  (pqcoap_client_poll, which then waits even with no request in flight, or any blocking
 *  call), each checked by the layer's check_notification with the registration's kept
 *  exchange state; CON notifications are acknowledged. RFC 7641 section 3.4 applies: a
 *  notification that is not newer than the last one delivered (its sequence number is not
 *  ahead, within 2^23, and it came within 128 s of it) is dropped, never delivered, so
 *  duplicates and reordered ones are not seen. A notification that does not verify is
 *  dropped and the observation goes on. A notification larger than one block (RFC 7959
 *  section 2.6) is not fetched block-wise: the observation ends with
 *  PQCOAP_ERR_UNSUPPORTED (a registration's block-wise response is fetched as for any
 *  request). The client re-registers by itself, with a fresh token and a new layer
 *  exchange, when no notification came for Max-Age (default 60 s) plus 2 s (then from a
 *  new UDP session, once until a notification comes again, so that a server stuck
 *  retransmitting an earlier notification sees a new peer), when a notification comes
 *  without Observe (the server dropped the observation, e.g. it restarted), or when its
 *  UDP session had to be opened anew; the sequence rule starts again from the new
 *  registration's response. A re-registration that gets no answer, an answer the layer
 *  does not verify or a Mode B "unknown session" is tried again 2 s later (Mode B first
 *  makes a new handshake when its session is over or out of step, and every observation
 *  then registers again in it); one answered with an error, or whose new handshake is
 *  refused, ends the observation (`fn` gets the error). Returns PQCOAP_OK;
 *  PQCOAP_ERR_UNSUPPORTED when the layer cannot check
 *  notifications (no check_notification) or when the server answered without Observe
 *  (the resource is not observable, or its observer limit is reached: RFC 7641 section
 *  4.1; `fn` got that answer); PQCOAP_ERR_LIMIT when cfg.max_observe observations live;
 *  PQCOAP_ERR_COAP for a 4.xx/5.xx answer; PQCOAP_ERR_ARG (NULL, another method, Observe
 *  in req->opts, req->no_layer); the errors of pqcoap_client_request. The reason of a
 *  failure is in pqcoap_client_last_error. */
pqcoap_err pqcoap_client_observe(pqcoap_client *cl, const pqcoap_req *req, pqcoap_observe_fn fn,
                                 void *user, uint32_t *id);

/** Ends observation `id`: its kept layer state is released (end_observation) and wiped, and
 *  the client deregisters (RFC 7641 section 3.6: the same request with Observe 1 and the
 *  registration's token), waiting for the answer at most the configured timeout (a
 *  notification that crosses it with the same token is not taken for the answer); a
 *  notification that comes later is answered with Reset. `fn` is not called again. Returns
 *  PQCOAP_OK (also when the deregistration got no answer: the server then drops the
 *  observation at its next notification, answered with Reset), PQCOAP_ERR_NOT_FOUND for an
 *  unknown id, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_client_observe_cancel(pqcoap_client *cl, uint32_t id);

/** Ends observation `id` as pqcoap_client_observe_cancel does but without deregistering:
 *  the server learns it from the Reset that answers its next notification (RFC 7641
 *  section 3.6). Returns PQCOAP_OK, PQCOAP_ERR_NOT_FOUND, PQCOAP_ERR_ARG. */
pqcoap_err pqcoap_client_observe_forget(pqcoap_client *cl, uint32_t id);

#ifdef __cplusplus
}
#endif
#endif
