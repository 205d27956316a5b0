/* Helpers shared by the libcoap client and server: start-up, conversion between libcoap
 * PDUs and pqcoap_msg views, owned message copies, clocks. Only src/net includes libcoap. */
#ifndef PQCOAP_NET_INTERNAL_H
#define PQCOAP_NET_INTERNAL_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>
#include "crypto/crypto_internal.h"
#include "pqcoap/error.h"
#include "pqcoap/layer.h"
#include "pqcoap/msg.h"
#include "pqcoap/server.h"
#include "pqcoap/session.h"

/** Most options one message may carry through the endpoints. */
#define PQCOAP_NET_MAX_OPTS 64
/** Bytes of option values a builder given to a hook or handler can hold. */
#define PQCOAP_NET_OPT_VALS 8192
/** Option numbers not in msg.h (RFC 7252 section 5.10). */
#define PQCOAP_OPT_ETAG 4
#define PQCOAP_OPT_ACCEPT 17
/** Largest block size (RFC 7959: SZX 6). */
#define PQCOAP_NET_BLOCK_MAX 1024

/** Starts libcoap once per process and sets its log level (0..7). */
void pqcoap_net_startup(int log_level);

/** True for the options that libcoap's block-wise transfer manages in a request
 *  (is_request = 1) or a response: Block1, Block2, Request-Tag, and Size1 in requests or
 *  Size2 in responses. They are kept out of every view that hooks, handlers and callers see
 *  (a Size1 in a 4.13 response stays visible). */
int pqcoap_net_hidden_opt(uint16_t number, int is_request);

/** Size of m encoded as a CoAP message (RFC 7252 section 3): 4-byte header, token, options
 *  with their delta/length headers, and 0xFF + payload when there is a payload. */
size_t pqcoap_net_msg_size(const pqcoap_msg *m);

/** Fills `out` with a view of `pdu`: code, token, the options that are not hidden (into
 *  opts[0..cap)) and the payload. Values point into the PDU. Every length is bounded by the
 *  one datagram the PDU came in: libcoap's parse allows a token of at most 8 bytes, option
 *  numbers up to 65535 and values within the datagram, and neither endpoint lets libcoap
 *  reassemble a block-wise body (the client and server do that themselves, within their
 *  limits). Returns PQCOAP_OK, PQCOAP_ERR_TOO_LARGE when there are more than `cap`
 *  options, or PQCOAP_ERR_MALFORMED when the option deltas pass option number 65535. */
pqcoap_err pqcoap_net_view(const coap_pdu_t *pdu, pqcoap_opt *opts, size_t cap,
                           pqcoap_msg *out);

/** pqcoap_net_view with every option, the hidden ones too (in wire order). */
pqcoap_err pqcoap_net_view_all(const coap_pdu_t *pdu, pqcoap_opt *opts, size_t cap,
                               pqcoap_msg *out);

/** Makes `out` the view of `all` (from pqcoap_net_view_all) without its hidden options,
 *  into opts[0..cap): what pqcoap_net_view gives for the same PDU. PQCOAP_OK, or
 *  PQCOAP_ERR_TOO_LARGE when more than `cap` options are left. */
pqcoap_err pqcoap_net_visible(const pqcoap_msg *all, pqcoap_opt *opts, size_t cap,
                              pqcoap_msg *out);

/** Adds the options of `m` to `pdu` in order, skipping number `skip` (0 = none).
 *  Returns PQCOAP_OK or PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_net_put_opts(coap_pdu_t *pdu, const pqcoap_msg *m, uint16_t skip);

/** Registers the layer's critical option numbers with libcoap (RFC 7252 5.4.1). */
void pqcoap_net_register_opts(coap_context_t *ctx, const pqcoap_layer *layer);

/** Fills `x` from a peer address and the request PDU. */
void pqcoap_net_exchange(pqcoap_exchange *x, const coap_address_t *peer, const coap_pdu_t *pdu);

/** Scratch builder with its own storage for options and option values; payload storage is
 *  allocated by pqcoap_net_scratch_alloc. */
typedef struct pqcoap_net_scratch {
    pqcoap_msgbuf b;
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    uint8_t vals[PQCOAP_NET_OPT_VALS];
} pqcoap_net_scratch;

/** Allocates `payload_cap` bytes of payload for `s`. PQCOAP_OK or PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_net_scratch_alloc(pqcoap_net_scratch *s, size_t payload_cap);
/** Empties `s` for a new message with `code` and `token`. */
void pqcoap_net_scratch_start(pqcoap_net_scratch *s, uint8_t code, const uint8_t *token,
                              size_t token_len);
/** Wipes and frees the payload storage of `s`. */
void pqcoap_net_scratch_free(pqcoap_net_scratch *s);

/** A body reassembled from blocks (RFC 7959), in order; its storage never exceeds `limit`
 *  bytes. Start from all zeroes with `limit` set. */
typedef struct pqcoap_net_body {
    uint8_t *data;
    size_t len, cap, limit;
} pqcoap_net_body;

/** Writes p[0..n) at `offset` of the body (a block). A block that ends before b->len (one
 *  received before) leaves the body as it is. Returns PQCOAP_OK; PQCOAP_ERR_MALFORMED when
 *  offset > b->len (a block is missing); PQCOAP_ERR_TOO_LARGE when offset + n > b->limit;
 *  PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_net_body_put(pqcoap_net_body *b, size_t offset, const uint8_t *p, size_t n);

/** Wipes and frees the body's storage and empties it (the limit stays). */
void pqcoap_net_body_free(pqcoap_net_body *b);

/** Leaves a request unanswered for now (deferred): an empty ACK for a CON request when `ack`
 *  is set (RFC 7252 section 5.2.2; not while it is held back for a piggybacked response) and
 *  nothing else, as libcoap sends nothing for an empty NON response. */
void pqcoap_net_answer_later(coap_session_t *session, const coap_pdu_t *request,
                             coap_pdu_t *response, int ack);

/** Appends to in[*n..] two spans per option of `pdu` (wire order) that `skip` (NULL: none)
 *  does not leave out: `u16 number || u16 length` (written into heads[0..max)) and the
 *  value, so that a digest over the spans tells options apart. PQCOAP_ERR_TOO_LARGE for
 *  more than `max` options kept. */
pqcoap_err pqcoap_net_opt_spans(const coap_pdu_t *pdu, int (*skip)(uint16_t number),
                                uint8_t (*heads)[4], size_t max, pqcoap_span *in, size_t *n);

/** The requests a server answered, kept for their duplicates (RFC 7252 section 4.5; dedup.c):
 *  entries taken in turn (the oldest is forgotten first), found by message ID through
 *  buckets. Start from all zeroes. */
typedef struct pqcoap_net_dedup {
    struct pqcoap_net_kept *kept;
    unsigned n;
    unsigned oldest;            /* the entry the next request takes */
    uint32_t *buckets;          /* mask + 1 chains of entries (index + 1, 0: none) */
    uint32_t mask;
    uint8_t *key;               /* the key of the request being looked up or kept */
} pqcoap_net_dedup;

/** Makes room for `n` requests. PQCOAP_OK or PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_net_dedup_init(pqcoap_net_dedup *d, unsigned n);

/** Frees what `d` keeps; a zeroed `d` is fine. */
void pqcoap_net_dedup_free(pqcoap_net_dedup *d);

/** Returns 1 if `request` (from the session's peer, received at `now_ms`; `all` its view
 *  with every option, from pqcoap_net_view_all) duplicates one answered within
 *  EXCHANGE_LIFETIME: `response` is then filled with the answer to send again, or left to
 *  be dropped. Returns 0 otherwise. */
int pqcoap_net_dedup_answer(pqcoap_net_dedup *d, coap_session_t *session,
                            const coap_pdu_t *request, const pqcoap_msg *all,
                            coap_pdu_t *response, uint64_t now_ms);

/** Keeps what the server left in `response` for duplicates of `request` (`all`, received at
 *  `now_ms`, as for pqcoap_net_dedup_answer). */
void pqcoap_net_dedup_keep(pqcoap_net_dedup *d, coap_session_t *session,
                           const coap_pdu_t *request, const pqcoap_msg *all,
                           const coap_pdu_t *response, uint64_t now_ms);

/** Bytes of storage a server holds for the bodies of block-wise requests, being received
 *  or kept after they were served (for tests of the limits). Call from the I/O thread. */
size_t pqcoap_net_server_body_bytes(const pqcoap_server *srv);
/** 1 if m's Uri-Path is exactly pqc/session/init (session_server.c). */
int pqcoap_net_is_init_path(const pqcoap_msg *m);

/** Makes b the unprotected error answer PROTOCOL.md "Errors" gives for err (5.00 "internal
 *  error" if it gives none), with Max-Age max_age_s (0: the error's own) when it has one
 *  (session_server.c). */
void pqcoap_net_hs_error(pqcoap_msgbuf *b, pqcoap_err err, pqcoap_err_where where,
                         uint32_t max_age_s);

/** Monotonic clock in milliseconds. */
uint64_t pqcoap_net_now_ms(void);

/** snprintf into a message buffer of `cap` bytes (NULL or 0: nothing). */
void pqcoap_net_msg(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
