/* Parts of the CoAP client reachable from tests and fuzz targets: the parsers of the URI a
 * client is opened with and of the path of a request. */
#ifndef PQCOAP_CLIENT_INTERNAL_H
#define PQCOAP_CLIENT_INTERNAL_H

#include <coap3/coap.h>
#include "pqcoap/error.h"
#include "pqcoap/layer.h"

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

#endif
