/* Security-layer hooks of the CoAP endpoints (client.h, server.h) and the message builder
 * they and request handlers fill. Plain CoAP is the identity layer (no layer set). */
#ifndef PQCOAP_LAYER_H
#define PQCOAP_LAYER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "pqcoap/error.h"
#include "pqcoap/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Message builder
 * ------------------------------------------------------------------------------------- */

/** A message under construction, over buffers owned by whoever created it (an endpoint
 *  gives one to a handler or a layer hook; code that builds its own passes its own arrays
 *  to pqcoap_msgbuf_init). Options are kept in encoded order (ascending number, repeated
 *  numbers in the order added), so pqcoap_msgbuf_view() always gives a valid pqcoap_msg.
 *  Fields may be read directly; a hook may also write its payload straight into
 *  `payload[0..payload_cap)` and then set `payload_len`. */
typedef struct pqcoap_msgbuf {
    uint8_t code;               /**< method or response code */
    const uint8_t *token;       /**< set by the endpoint; hooks leave the token alone */
    size_t token_len;
    pqcoap_opt *opts;           /**< options, values point into `vals` or outlive the message */
    size_t n_opts;
    size_t opts_cap;
    uint8_t *vals;              /**< storage for copied option values */
    size_t vals_len;
    size_t vals_cap;
    uint8_t *payload;
    size_t payload_len;
    size_t payload_cap;
} pqcoap_msgbuf;

/** Makes `b` an empty message (code 0, no options, empty payload) over the given arrays:
 *  room for `opts_cap` options, `vals_cap` bytes of option values and `payload_cap` bytes
 *  of payload. The arrays stay owned by the caller and must outlive `b`. */
void pqcoap_msgbuf_init(pqcoap_msgbuf *b, pqcoap_opt *opts, size_t opts_cap,
                        uint8_t *vals, size_t vals_cap, uint8_t *payload, size_t payload_cap);

/** Drops every option and the payload; keeps code and token. */
void pqcoap_msgbuf_reset(pqcoap_msgbuf *b);

/** Adds option `number` with a copy of value[0..len), after any options with the same
 *  number. Returns PQCOAP_OK; PQCOAP_ERR_BUFFER when the option table or value storage is
 *  full; PQCOAP_ERR_ARG on NULL (value may be NULL when len is 0) or len > 65535. */
pqcoap_err pqcoap_msgbuf_add_opt(pqcoap_msgbuf *b, uint16_t number, const uint8_t *value,
                                 size_t len);

/** Adds an option whose value is the unsigned integer v in the shortest big-endian form
 *  (RFC 7252 section 3.2 "uint": 0 is the empty value). Errors as pqcoap_msgbuf_add_opt. */
pqcoap_err pqcoap_msgbuf_add_uint(pqcoap_msgbuf *b, uint16_t number, uint32_t v);

/** Adds every option of `m` (copies of the values). Errors as pqcoap_msgbuf_add_opt. */
pqcoap_err pqcoap_msgbuf_copy_opts(pqcoap_msgbuf *b, const pqcoap_msg *m);

/** Removes every option numbered `number`. */
void pqcoap_msgbuf_remove_opt(pqcoap_msgbuf *b, uint16_t number);

/** Sets the payload to a copy of p[0..len) (p may point into b->payload). Returns
 *  PQCOAP_OK, PQCOAP_ERR_TOO_LARGE when len > payload_cap, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_msgbuf_set_payload(pqcoap_msgbuf *b, const uint8_t *p, size_t len);

/** Makes `b` an error answer: code `code`, no options, payload = the text `diag` (a CoAP
 *  diagnostic payload, RFC 7252 section 5.5.2; truncated to payload_cap; NULL = empty). */
void pqcoap_msgbuf_error(pqcoap_msgbuf *b, uint8_t code, const char *diag);

/** Fills `out` with a view of `b` (borrowing b's arrays). */
void pqcoap_msgbuf_view(const pqcoap_msgbuf *b, pqcoap_msg *out);

/** Returns the first option numbered `number` in `m`, or NULL. */
const pqcoap_opt *pqcoap_msg_find_opt(const pqcoap_msg *m, uint16_t number);

/** Decodes an option value as a CoAP uint (RFC 7252 section 3.2, at most 4 bytes).
 *  Returns PQCOAP_OK, PQCOAP_ERR_MALFORMED if longer than 4 bytes, PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_opt_uint(const pqcoap_opt *o, uint32_t *v);

/** A message the caller owns (e.g. a client's response): `msg` (code, token, options in
 *  encoded order, payload) points into `mem`. Free with pqcoap_reply_free. */
typedef struct pqcoap_reply {
    pqcoap_msg msg;
    void *mem;
} pqcoap_reply;

/** Releases what `r` owns and empties it. NULL or an empty reply is fine. */
void pqcoap_reply_free(pqcoap_reply *r);

/** Makes `r` an owned copy of `m` (options, token and payload copied). Returns PQCOAP_OK,
 *  PQCOAP_ERR_NOMEM, PQCOAP_ERR_ARG on NULL. `r` must be empty or freed before. */
pqcoap_err pqcoap_reply_copy(pqcoap_reply *r, const pqcoap_msg *m);

/* ---------------------------------------------------------------------------------------
 * Security layer
 * ------------------------------------------------------------------------------------- */

/** What the transport knows about one request/response exchange. */
typedef struct pqcoap_exchange {
    struct sockaddr_storage peer;   /**< the other endpoint's address */
    socklen_t peer_len;
    uint16_t mid;                   /**< CoAP message ID of the request (first block) */
    int confirmable;                /**< 1 for a CON request, 0 for NON */
    /** The server's monotonic clock in milliseconds, read once per request: when it took the
     *  request (check_request, protect_response) or, for a deferred response or a
     *  notification, when it sends it. 0 where the transport did not read it (the client):
     *  the layer reads the clock itself. */
    uint64_t now_ms;
} pqcoap_exchange;

/** Decision of check_request. */
typedef enum pqcoap_layer_verdict {
    /** `out` holds the plaintext request: route it to the handler, then protect_response. */
    PQCOAP_LAYER_HANDLE = 0,
    /** `out` holds the complete wire response (an error, or a cached protected response to a
     *  retransmission): it goes back as it is; neither the handler nor protect_response runs. */
    PQCOAP_LAYER_ANSWER = 1
} pqcoap_layer_verdict;

/** A security layer: the ONE place where outgoing messages are transformed and incoming
 *  ones checked, set on a client (pqcoap_client_config.layer) or a server
 *  (pqcoap_server_config.layer). Every hook may be NULL, meaning "identity" for that step.
 *
 *  Order of calls for one exchange:
 *    client: protect_request -> (network) -> check_response -> end
 *    server: check_request -> handler -> protect_response -> end
 *  (On the server, `end` also runs after an ANSWER verdict or an error; on the client it runs
 *  when the request completes in any way, including a timeout.)
 *
 *  Messages seen by the hooks:
 *  - Views are of whole messages: block-wise transfer (RFC 7959) has been undone on the way
 *    in and is applied after protection on the way out, so payloads are complete bodies.
 *    The options block-wise transfer manages (Block1 27, Block2 23, Request-Tag 292, and
 *    Size1 60 in requests, Size2 28 in responses) are never shown to hooks, handlers or
 *    callers and must not be added by them.
 *  - The token is the exchange's token (the endpoint chooses it; hooks must not change it).
 *  - A response that will go block-wise gets an ETag before protect_response when it has
 *    none (libcoap needs one for Block2); an ETag a handler sets for such a response must be
 *    1..8 bytes without a leading zero byte, since libcoap carries it as an integer.
 *  - `out` / `wire` / `plain` builders come from the endpoint, pre-set with the code and
 *    token of the input message and otherwise empty: the hook adds the options it wants
 *    (pqcoap_msgbuf_copy_opts then add its own, e.g. PQ-Sig 65003) and the payload. Their
 *    payload capacity is the endpoint's body limit plus `overhead`.
 *  - All input views are valid only during the call.
 *
 *  Per-exchange state: `state` points at `state_size` bytes (zeroed at the start of every
 *  exchange) owned by the endpoint, the same bytes for every hook of one exchange; this is
 *  how e.g. the request's kid/seq (Mode A) or n and session (Mode B) flow from check_request
 *  to protect_response, or from protect_request to check_response. The endpoint may move
 *  the state with memcpy (a deferred request keeps a copy), so it must not point into
 *  itself. After `end` the endpoint wipes it.
 *
 *  Errors:
 *  - protect_request / check_response: a non-OK return ends the request with that error;
 *    the caller gets it with a message naming the hook.
 *  - check_request: return PQCOAP_OK with a verdict; to refuse a request either set
 *    PQCOAP_LAYER_ANSWER with an error response in `out` (pqcoap_msgbuf_error(out, 0x81,
 *    "rejected")), or return an error code, which the server maps to a response:
 *    PQCOAP_ERR_MALFORMED 4.00, authentication class 4.01, PQCOAP_ERR_TOO_LARGE 4.13,
 *    PQCOAP_ERR_BUSY / PQCOAP_ERR_LIMIT 5.03, anything else 5.00, with pqcoap_strerror()
 *    as diagnostic payload. Either way the handler does not run.
 *  - protect_response: a non-OK return sends 5.00 "response protection failed" instead.
 *
 *  Threads: hooks run on the endpoint's I/O thread (the caller of the client functions, or
 *  of pqcoap_server_run/step), also for deferred responses (pqcoap_server_complete only
 *  queues). They must not call back into the endpoint. */
typedef struct pqcoap_layer {
    void *ctx;                      /**< passed to every hook */
    size_t state_size;              /**< bytes of per-exchange state (0: hooks get NULL) */
    size_t overhead;                /**< most bytes a protect hook adds to a payload (on
                                         either side of the exchange) */
    size_t response_overhead;       /**< server: most bytes protect_response adds, where that
                                         is less than `overhead` (e.g. Mode A, whose
                                         clients may sign with longer signatures); it
                                         decides which responses go block-wise and so get
                                         an ETag first. 0 = `overhead`; at most `overhead` */
    /** Option numbers the layer uses that are critical (odd): registered with libcoap so a
     *  message carrying them is not refused as having an unknown critical option. */
    const uint16_t *critical_opts;
    size_t n_critical_opts;

    /** Client: turns the request `req` into the wire request `wire`. */
    pqcoap_err (*protect_request)(void *ctx, void *state, const pqcoap_exchange *x,
                                  const pqcoap_msg *req, pqcoap_msgbuf *wire);
    /** Client: checks the wire response `wire` (any code, also unprotected 4.xx/5.xx) and
     *  writes what the caller sees into `plain`. */
    pqcoap_err (*check_response)(void *ctx, void *state, const pqcoap_exchange *x,
                                 const pqcoap_msg *wire, pqcoap_msgbuf *plain);
    /** Server: checks the wire request `wire` from x->peer; writes the plaintext request
     *  (HANDLE) or a complete answer (ANSWER) into `out`. */
    pqcoap_err (*check_request)(void *ctx, void *state, const pqcoap_exchange *x,
                                const pqcoap_msg *wire, pqcoap_msgbuf *out,
                                pqcoap_layer_verdict *verdict);
    /** Server: turns the handler's response `resp` (also a 4.04 / 4.05 the server makes for
     *  an unknown path or method) into the wire response `wire`. */
    pqcoap_err (*protect_response)(void *ctx, void *state, const pqcoap_exchange *x,
                                   const pqcoap_msg *resp, pqcoap_msgbuf *wire);
    /** Both: the exchange is over (success or not); release anything tied to `state`. */
    void (*end)(void *ctx, void *state);
    /** Server: the authenticated id of the peer whose request check_request accepted into
     *  `state` (NUL-terminated, pointing into `state` or ctx), or NULL if none; read by
     *  pqcoap_server_req_peer while the handler runs. */
    const char *(*peer_id)(void *ctx, const void *state);

    /* Observe (RFC 7641). An observation is the exchange of its registration kept alive:
     * its `state` (state_size bytes) is copied when the registration is accepted (server:
     * after protect_response of the first response carrying Observe; client: after
     * check_response accepted such a response) and handed to the hooks below for every
     * notification, until end_observation. A layer without protect_notification has its
     * registrations answered without Observe; a client whose layer has no
     * check_notification refuses to observe (PQCOAP_ERR_UNSUPPORTED). */

    /** Server: turns the handler's notification `resp` (a 2.xx with Observe, or the last
     *  answer ending the observation) into the wire notification `wire`. `x` is the
     *  observer's address and the notification's message ID. */
    pqcoap_err (*protect_notification)(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                       const pqcoap_msg *resp, pqcoap_msgbuf *wire);
    /** Client: checks the wire notification `wire` of the observation `obs_state` and writes
     *  what the caller sees into `plain`. A non-OK return drops the notification (the
     *  observation goes on); the client never shows it. */
    pqcoap_err (*check_notification)(void *ctx, void *obs_state, const pqcoap_exchange *x,
                                     const pqcoap_msg *wire, pqcoap_msgbuf *plain);
    /** Both: the observation is over; release anything tied to `obs_state` (then wiped). */
    void (*end_observation)(void *ctx, void *obs_state);
} pqcoap_layer;

/** The CoAP response a server sends for an error code returned by a handler or by
 *  check_request (see pqcoap_layer): sets b's code and diagnostic payload. */
void pqcoap_msgbuf_from_err(pqcoap_msgbuf *b, pqcoap_err err);

#ifdef __cplusplus
}
#endif
#endif
