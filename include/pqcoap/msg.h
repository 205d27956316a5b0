/* Neutral view of a CoAP message (code, token, options, payload) used by the sans-I/O core,
 * and the option canonicalisation opts() of docs/PROTOCOL.md. No libcoap, no sockets. */
#ifndef PQCOAP_MSG_H
#define PQCOAP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CoAP codes (RFC 7252 section 12.1): class << 5 | detail. */
#define PQCOAP_CODE(c, d) ((uint8_t)(((c) << 5) | (d)))
#define PQCOAP_GET    PQCOAP_CODE(0, 1)
#define PQCOAP_POST   PQCOAP_CODE(0, 2)
#define PQCOAP_PUT    PQCOAP_CODE(0, 3)
#define PQCOAP_DELETE PQCOAP_CODE(0, 4)
#define PQCOAP_FETCH  PQCOAP_CODE(0, 5)
#define PQCOAP_PATCH  PQCOAP_CODE(0, 6)
#define PQCOAP_IPATCH PQCOAP_CODE(0, 7)

/* Option numbers used by pqcoap (RFC 7252 section 12.2, RFC 7959, PROTOCOL.md). */
#define PQCOAP_OPT_URI_HOST 3
#define PQCOAP_OPT_OBSERVE 6
#define PQCOAP_OPT_URI_PORT 7
#define PQCOAP_OPT_URI_PATH 11
#define PQCOAP_OPT_CONTENT_FORMAT 12
#define PQCOAP_OPT_MAX_AGE 14
#define PQCOAP_OPT_URI_QUERY 15
#define PQCOAP_OPT_BLOCK2 23
#define PQCOAP_OPT_BLOCK1 27
#define PQCOAP_OPT_SIZE2 28
#define PQCOAP_OPT_PROXY_URI 35
#define PQCOAP_OPT_PROXY_SCHEME 39
#define PQCOAP_OPT_SIZE1 60
#define PQCOAP_OPT_REQUEST_TAG 292
#define PQCOAP_OPT_PQ_SIG 65003

/** Largest opts() encoding the core accepts (bytes); larger gives PQCOAP_ERR_TOO_LARGE. */
#define PQCOAP_OPTS_MAX 1024
/** Largest token (RFC 7252: 0..8 bytes). */
#define PQCOAP_TOKEN_MAX 8

/** One CoAP option. `value` points into memory owned by the caller. */
typedef struct pqcoap_opt {
    uint16_t number;
    const uint8_t *value;
    size_t len;
} pqcoap_opt;

/** A CoAP message as the core sees it. All pointers are borrowed from the caller.
 *  `opts` must be in encoded order: ascending number, repeated options in order. */
typedef struct pqcoap_msg {
    uint8_t code;
    const uint8_t *token;
    size_t token_len;
    const pqcoap_opt *opts;
    size_t n_opts;
    const uint8_t *payload;
    size_t payload_len;
} pqcoap_msg;

/** Default initialiser: code 0, no token, no options, empty payload. */
#define PQCOAP_MSG_INIT {0, NULL, 0, NULL, 0, NULL, 0}

/** True if option `number` is left out of opts() (PROTOCOL.md "Option canonicalisation"). */
int pqcoap_opt_excluded(uint16_t number);

/** Writes opts(msg) = u16 count || (u16 number || str16(value))* of the options that are not
 *  excluded, into out[0..cap). Returns PQCOAP_OK and sets *out_len; PQCOAP_ERR_MALFORMED if
 *  options are not in ascending order, a value exceeds 65535 bytes or the token exceeds 8;
 *  PQCOAP_ERR_TOO_LARGE above PQCOAP_OPTS_MAX; PQCOAP_ERR_BUFFER if cap is too small;
 *  PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_opts(const pqcoap_msg *msg, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
