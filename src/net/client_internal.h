/* Parts of the CoAP client reachable from tests and fuzz targets: the parsers of the URI a
 * client is opened with and of the path of a request, and the taking of Block2 blocks. */
#ifndef PQCOAP_CLIENT_INTERNAL_H
#define PQCOAP_CLIENT_INTERNAL_H

#include <coap3/coap.h>
#include "pqcoap/error.h"
#include "pqcoap/layer.h"
#include "net/net_internal.h"

/** Splits `uri_str` (NUL-terminated, "coap://host[:port]/path?query") into *uri (views into
 *  uri_str) and appends its Uri-Path and Uri-Query options, percent-decoded, to `opts`.
 *  Returns PQCOAP_OK or PQCOAP_ERR_BAD_URI with a reason in msg[cap]: another scheme, a
 *  URI libcoap cannot split, a path or query over 1024 bytes or with more options or
 *  option bytes than `opts` holds. */
pqcoap_err pqcoap_client_parse_uri(const char *uri_str, coap_uri_t *uri, pqcoap_msgbuf *opts,
                                   char *msg, size_t cap);

/** Appends the Uri-Path and Uri-Query options of `pq` ("path?query", NUL-terminated, leading
 *  '/' ignored), percent-decoded, to b. Returns PQCOAP_OK, PQCOAP_ERR_BAD_URI (malformed, a
 *  part over 1024 bytes, or b full) or the error of pqcoap_msgbuf_add_opt. */
pqcoap_err pqcoap_client_path_query(pqcoap_msgbuf *b, const char *pq);

/** A block-wise response being received (RFC 7959 section 2.4): the body so far and the ETag
 *  of its block 0. Start from all zeroes with body.limit set; free with
 *  pqcoap_net_body_free(&b2->body). */
typedef struct pqcoap_client_b2 {
    pqcoap_net_body body;
    uint8_t etag[8];
    size_t etag_len;
} pqcoap_client_b2;

/** One block of a response as received: its Block2 option as libcoap reads it
 *  (num < 2^20, szx 0..6), its Size2 option (0: none), its first ETag option (NULL and 0:
 *  none) and its payload. */
typedef struct pqcoap_client_block {
    uint32_t num;
    int more;
    unsigned szx;
    uint64_t size2;
    const uint8_t *etag;
    size_t etag_len;
    const uint8_t *payload;
    size_t payload_len;
} pqcoap_client_block;

/** Takes block b into the response b2 is receiving. The blocks come in order, each but the
 *  last of the size it gives, all with the ETag of block 0 (else the resource changed
 *  meanwhile), and the body stays within b2->body.limit, announced (Size2, section 4) or
 *  received. Returns PQCOAP_OK with *done = 1 when b was the last block (M unset: the body
 *  is complete in b2->body) or 0 when the next one is due; else the error that ends the
 *  transfer, with a reason in msg[cap] naming max_body as the limit: PQCOAP_ERR_TOO_LARGE
 *  (Size2 or the body past the limit), PQCOAP_ERR_MALFORMED (out of order, short with M,
 *  another ETag), PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_client_block2_take(pqcoap_client_b2 *b2, const pqcoap_client_block *b,
                                     size_t max_body, char *msg, size_t cap, int *done);

#endif
