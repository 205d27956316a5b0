/* Names of pqcoap_err codes (pqcoap_strerror). */
#include "pqcoap/error.h"

const char *pqcoap_strerror(pqcoap_err err)
{
    switch (err) {
    case PQCOAP_OK: return "ok";
    case PQCOAP_ERR_ARG: return "invalid argument";
    case PQCOAP_ERR_BUFFER: return "output buffer too small";
    case PQCOAP_ERR_STATE: return "not valid in the current state";
    case PQCOAP_ERR_NO_PEER_KEY: return "no pinned peer key: pin the peer's public key first";
    case PQCOAP_ERR_BAD_URI: return "bad URI: expected coap://host[:port]/path?query";
    case PQCOAP_ERR_UNSUPPORTED: return "not supported";
    case PQCOAP_ERR_NOT_FOUND: return "not found";
    case PQCOAP_ERR_EXISTS: return "already exists";
    case PQCOAP_ERR_KEY_USAGE: return "key made for another mode (sign-v1 keys only in sign-v1)";
    case PQCOAP_ERR_MALFORMED: return "malformed input";
    case PQCOAP_ERR_KEYFILE: return "key file is wrong, truncated or of another kind";
    case PQCOAP_ERR_AUTH: return "signature or tag does not verify";
    case PQCOAP_ERR_UNKNOWN_PEER: return "unknown peer: not in the trust store";
    case PQCOAP_ERR_REPLAY: return "replayed or out-of-window message";
    case PQCOAP_ERR_ROLLBACK: return "handshake older than the anti-rollback floor";
    case PQCOAP_ERR_HANDSHAKE: return "handshake rejected";
    case PQCOAP_ERR_UNKNOWN_SESSION: return "unknown session";
    case PQCOAP_ERR_SESSION_LOST: return "session lost: request not retried, it may not be idempotent";
    case PQCOAP_ERR_REJECTED: return "protected message rejected by the peer";
    case PQCOAP_ERR_DOWNGRADE: return "weaker protection than the endpoint accepts";
    case PQCOAP_ERR_RETRANSMIT: return "retransmitted request: resend its protected response";
    case PQCOAP_ERR_UNAUTHENTICATED: return "response not authenticated: no valid signature or protection";
    case PQCOAP_ERR_WRONG_RECIPIENT: return "request is bound to another recipient";
    case PQCOAP_ERR_TOO_LARGE: return "too large";
    case PQCOAP_ERR_LIMIT: return "limit reached";
    case PQCOAP_ERR_EXPIRED: return "session expired";
    case PQCOAP_ERR_BUSY: return "peer busy or rate limiting";
    case PQCOAP_ERR_NOMEM: return "out of memory";
    case PQCOAP_ERR_IO: return "I/O error";
    case PQCOAP_ERR_TIMEOUT: return "timeout";
    case PQCOAP_ERR_UNREACHABLE: return "host unreachable or unknown";
    case PQCOAP_ERR_COAP: return "CoAP error response";
    case PQCOAP_ERR_STORE: return "database error";
    case PQCOAP_ERR_STORE_CORRUPT: return "database file is corrupt or not a database";
    case PQCOAP_ERR_STORE_FOREIGN: return "database belongs to another application";
    case PQCOAP_ERR_STORE_NEWER: return "database is newer than this version of pqcoap";
    case PQCOAP_ERR_CRYPTO: return "cryptographic backend failure";
    }
    return "unknown error";
}
