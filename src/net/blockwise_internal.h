/* Block-wise transfers of the server, without sockets or clocks, so that the server and the
 * fuzz target run the same code: Block1 reassembly (RFC 7959 section 2.5, RFC 9175
 * Request-Tag), the table of block-wise requests being received and the decision for each
 * block; Block2 (section 2.4), the responses whose later blocks peers still fetch. */
#ifndef PQCOAP_BLOCKWISE_INTERNAL_H
#define PQCOAP_BLOCKWISE_INTERNAL_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>
#include "net/net_internal.h"

/** Longest path (Uri-Path options joined with '/', NUL included) a transfer is kept for. */
#define PQCOAP_BW_PATH_LEN 256
/** Longest Request-Tag (RFC 9175 section 3.2: 0 to 8 bytes). */
#define PQCOAP_BW_RTAG_MAX 8

/** A block-wise request being received, or one whose body was served (kept for a
 *  retransmitted last block). */
typedef struct pqcoap_bw_transfer {
    coap_address_t peer;
    char path[PQCOAP_BW_PATH_LEN];
    uint8_t rtag[PQCOAP_BW_RTAG_MAX];
    size_t rtag_len;
    pqcoap_net_body body;       /* the body so far; storage at most max_body + overhead */
    uint64_t last_ms;           /* when the last block arrived */
    int done;                   /* the body was served; kept for a retransmitted last block */
    struct pqcoap_bw_transfer *next;
} pqcoap_bw_transfer;

/** Time a block-wise response stays kept after its last block went out, for a repeated
 *  request for a block (4 * ACK_TIMEOUT, RFC 7252 section 4.8). */
#define PQCOAP_BW_SENT_KEEP_MS 8000

/** A block-wise response being sent (RFC 7959 section 2.4): the whole response, from which
 *  the peer's requests for its blocks are answered. One per peer and target. */
typedef struct pqcoap_bw_reply {
    coap_address_t peer;
    char target[PQCOAP_BW_PATH_LEN]; /* path, '?' and query */
    unsigned szx;                    /* block size 2^(szx+4) */
    pqcoap_reply resp;               /* code, options (with its ETag) and the whole body */
    uint64_t last_ms;                /* when a block of it was last sent */
    int all_sent;                    /* its last block was sent */
    struct pqcoap_bw_reply *next;
} pqcoap_bw_reply;

/** The transfers of one server and its limits. Zero-initialise, set the limits, free with
 *  pqcoap_bw_clear. */
typedef struct pqcoap_bw_table {
    pqcoap_bw_transfer *transfers;
    unsigned n_pending;         /* transfers not done */
    size_t max_body;            /* largest plaintext body; a 4.13 carries it as Size1 */
    size_t overhead;            /* the layer's overhead: bodies may be max_body + overhead */
    unsigned max_transfers;     /* pending transfers in all, and served bodies kept in all */
    unsigned max_per_peer;      /* pending transfers of one peer address */
    unsigned timeout_s;         /* a transfer without a block for this long is dropped */
    pqcoap_bw_reply *replies;   /* block-wise responses, at most max_transfers */
    unsigned n_replies;
} pqcoap_bw_table;

/** One received block of a request, as taken from the request's options. */
typedef struct pqcoap_bw_block {
    const coap_address_t *peer;
    const char *path;           /* Uri-Path joined with '/'; NULL when it does not fit */
    uint32_t num;               /* Block1 NUM (< 2^20) */
    int more;                   /* Block1 M */
    unsigned szx;               /* Block1 SZX, 0..6 */
    uint64_t size1;             /* Size1, 0 when absent */
    const uint8_t *rtag;        /* Request-Tag value, NULL when absent */
    size_t rtag_len;
    const uint8_t *payload;
    size_t payload_len;
} pqcoap_bw_block;

/** The answer to a block when no whole body is ready: `code` (2.31 Continue or an error),
 *  a diagnostic payload `diag` (NULL for 2.31) and, when `opt` is not 0, option `opt` with
 *  the unsigned value `val` (Size1 with 4.13, Max-Age with 5.03). */
typedef struct pqcoap_bw_answer {
    uint8_t code;
    const char *diag;
    uint16_t opt;
    uint32_t val;
} pqcoap_bw_answer;

/** Takes block `b` at time `now_ms`. Returns the transfer holding the whole body after the
 *  last block (serve body.data[0..body.len), then call pqcoap_bw_done), or NULL with the
 *  answer in *ans: 2.31 for a block that is not the last; 4.04 when the path does not fit;
 *  4.02 for a Request-Tag over 8 bytes; 4.13 with Size1 when Size1 or the blocks so far
 *  exceed max_body + overhead; 4.00 for a block with M set that is shorter than its size or
 *  for a last block that ends inside the body the earlier blocks brought; 5.03 with Max-Age
 *  when a new transfer would pass max_transfers or max_per_peer; 4.08 for a block that does
 *  not follow the ones received; 5.00 when memory is short. */
pqcoap_bw_transfer *pqcoap_bw_receive(pqcoap_bw_table *tab, const pqcoap_bw_block *b,
                                      uint64_t now_ms, pqcoap_bw_answer *ans);

/** Marks the body of t served at `now_ms`: kept (the peer's latest only, at most
 *  max_transfers in all) for a retransmission of its last block. */
void pqcoap_bw_done(pqcoap_bw_table *tab, pqcoap_bw_transfer *t, uint64_t now_ms);

/** Keeps the response `resp` (with the ETag its blocks carry) to a request of `peer` for
 *  `target` (path, '?' and query), sent in blocks of 2^(szx+4) bytes, in place of the peer's
 *  earlier one for the same target (a request for a later block may come with another
 *  code: an OSCORE client's outer code); the oldest goes when max_transfers are kept. Returns PQCOAP_OK, PQCOAP_ERR_ARG when target does not fit
 *  (then later blocks reach the handler) or PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_bw_keep_reply(pqcoap_bw_table *tab, const coap_address_t *peer,
                                const char *target, const pqcoap_msg *resp, unsigned szx,
                                uint64_t now_ms, pqcoap_bw_reply **out);

/** The kept response for `peer` and `target`, or NULL. */
pqcoap_bw_reply *pqcoap_bw_find_reply(pqcoap_bw_table *tab, const coap_address_t *peer,
                                      const char *target);

/** Notes that a block of r ending at body offset `end` was sent at `now_ms` (the last one:
 *  r goes PQCOAP_BW_SENT_KEEP_MS later). */
void pqcoap_bw_reply_sent(pqcoap_bw_reply *r, size_t end, uint64_t now_ms);

/** Drops the transfers without a block for timeout_s at `now_ms`, and the kept responses
 *  whose last block went out PQCOAP_BW_SENT_KEEP_MS ago or that no block was asked of for
 *  timeout_s. */
void pqcoap_bw_expire(pqcoap_bw_table *tab, uint64_t now_ms);

/** Bytes of storage the table holds for bodies, being received, kept after they were
 *  served, or kept responses being sent. */
size_t pqcoap_bw_bytes(const pqcoap_bw_table *tab);

/** Frees every transfer and kept response of the table. */
void pqcoap_bw_clear(pqcoap_bw_table *tab);

/** For tests: the block-wise state `srv` holds, its kept responses (*replies) and its
 *  Block1 transfers, pending or kept (*transfers). Not while another thread serves it. */
void pqcoap_server_bw_counts(const pqcoap_server *srv, unsigned *replies, unsigned *transfers);

#endif
