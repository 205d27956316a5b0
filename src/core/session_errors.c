/* Mode B errors on the wire (PROTOCOL.md "Errors"): the CoAP error response of each
 * server-side error, and the error a client takes from an unprotected response. */
#include "pqcoap/session.h"

#include <string.h>

static const char DIAG_HANDSHAKE[] = "handshake rejected";
static const char DIAG_UNKNOWN_SESSION[] = "unknown session";
static const char DIAG_REJECTED[] = "rejected";

pqcoap_err pqcoap_error_to_coap(pqcoap_err err, pqcoap_err_where where, pqcoap_coap_error *out)
{
    if (!out || err == PQCOAP_OK || err == PQCOAP_ERR_RETRANSMIT)
        return PQCOAP_ERR_ARG;
    out->max_age_s = 0;
    switch (err) {
    case PQCOAP_ERR_MALFORMED:
        out->code = PQCOAP_CODE(4, 0);
        out->diagnostic = "malformed";
        break;
    case PQCOAP_ERR_UNSUPPORTED:
        out->code = PQCOAP_CODE(4, 0);
        out->diagnostic = "unsupported";
        break;
    case PQCOAP_ERR_TOO_LARGE:
        out->code = PQCOAP_CODE(4, 13);
        out->diagnostic = "too large";
        break;
    case PQCOAP_ERR_UNKNOWN_PEER:
    case PQCOAP_ERR_KEY_USAGE:
    case PQCOAP_ERR_ROLLBACK:
    case PQCOAP_ERR_HANDSHAKE:
        out->code = PQCOAP_CODE(4, 1);
        out->diagnostic = DIAG_HANDSHAKE;
        break;
    case PQCOAP_ERR_AUTH: /* a bad signature in a handshake, a bad tag in a session */
        out->code = PQCOAP_CODE(4, 1);
        out->diagnostic = where == PQCOAP_WHERE_HANDSHAKE ? DIAG_HANDSHAKE : DIAG_REJECTED;
        break;
    case PQCOAP_ERR_UNKNOWN_SESSION:
    case PQCOAP_ERR_EXPIRED:
        out->code = PQCOAP_CODE(4, 1);
        out->diagnostic = DIAG_UNKNOWN_SESSION;
        break;
    case PQCOAP_ERR_REPLAY:
    case PQCOAP_ERR_REJECTED:
        out->code = PQCOAP_CODE(4, 1);
        out->diagnostic = DIAG_REJECTED;
        break;
    case PQCOAP_ERR_LIMIT:
    case PQCOAP_ERR_BUSY:
        out->code = PQCOAP_CODE(5, 3);
        out->diagnostic = "busy";
        out->max_age_s = PQCOAP_BUSY_MAX_AGE_S;
        break;
    default:
        out->code = PQCOAP_CODE(5, 0);
        out->diagnostic = "internal error";
        break;
    }
    return PQCOAP_OK;
}

static int diag_is(const uint8_t *diag, size_t len, const char *want)
{
    return diag && len == strlen(want) && memcmp(diag, want, len) == 0;
}

pqcoap_err pqcoap_error_from_coap(uint8_t code, const uint8_t *diagnostic, size_t diag_len)
{
    /* PROTOCOL.md "Errors": only these come unprotected; anyone on the path can send any
     * other code, so no other unprotected answer is taken as the peer's */
    if (code == PQCOAP_CODE(4, 1)) {
        if (diag_is(diagnostic, diag_len, DIAG_HANDSHAKE))
            return PQCOAP_ERR_HANDSHAKE;
        if (diag_is(diagnostic, diag_len, DIAG_UNKNOWN_SESSION))
            return PQCOAP_ERR_UNKNOWN_SESSION;
        if (diag_is(diagnostic, diag_len, DIAG_REJECTED))
            return PQCOAP_ERR_REJECTED;
    }
    if (code == PQCOAP_CODE(4, 0))
        return diag_is(diagnostic, diag_len, "unsupported") ? PQCOAP_ERR_UNSUPPORTED
                                                            : PQCOAP_ERR_MALFORMED;
    if (code == PQCOAP_CODE(5, 3))
        return PQCOAP_ERR_BUSY;
    return PQCOAP_ERR_UNAUTHENTICATED;
}
