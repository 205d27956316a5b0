/* pqcoap error codes: every fallible function returns one; 0 is success, classes are ranges. */
#ifndef PQCOAP_ERROR_H
#define PQCOAP_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible pqcoap function. Negative values are grouped by class:
 *  -1..-19 usage, -20..-39 malformed input, -40..-59 authentication,
 *  -60..-79 resource limit, -80..-99 I/O. */
typedef enum pqcoap_err {
    PQCOAP_OK = 0,

    /* usage */
    PQCOAP_ERR_ARG = -1,            /**< invalid argument */
    PQCOAP_ERR_BUFFER = -2,         /**< caller's output buffer too small */
    PQCOAP_ERR_STATE = -3,          /**< call not valid in the object's current state */
    PQCOAP_ERR_NO_PEER_KEY = -4,    /**< no pinned peer key: pin the peer's public key first */
    PQCOAP_ERR_BAD_URI = -5,        /**< URI not of the form coap://host[:port]/path?query */
    PQCOAP_ERR_UNSUPPORTED = -6,    /**< algorithm, suite, version or method not supported */
    PQCOAP_ERR_NOT_FOUND = -7,      /**< no such entry (store look-up, resource) */
    PQCOAP_ERR_EXISTS = -8,         /**< entry already exists */
    PQCOAP_ERR_KEY_USAGE = -9,      /**< key made for another mode (a sign-v1 key outside
                                         sign-v1, or another key in sign-v1) */

    /* malformed input */
    PQCOAP_ERR_MALFORMED = -20,     /**< malformed input bytes */
    PQCOAP_ERR_KEYFILE = -21,       /**< key file wrong, truncated or of another kind */

    /* authentication */
    PQCOAP_ERR_AUTH = -40,          /**< signature or tag does not verify */
    PQCOAP_ERR_UNKNOWN_PEER = -41,  /**< peer id or key id not in the trust store */
    PQCOAP_ERR_REPLAY = -42,        /**< replayed or out-of-window sequence number */
    PQCOAP_ERR_ROLLBACK = -43,      /**< handshake older than the anti-rollback floor */
    PQCOAP_ERR_HANDSHAKE = -44,     /**< peer rejected the handshake (4.01 "handshake rejected") */
    PQCOAP_ERR_UNKNOWN_SESSION = -45, /**< peer does not know the session (4.01 "unknown session") */
    PQCOAP_ERR_SESSION_LOST = -46,  /**< session lost; a non-idempotent request was not retried */
    PQCOAP_ERR_REJECTED = -47,      /**< peer rejected a protected message (4.01 "rejected") */
    PQCOAP_ERR_DOWNGRADE = -48,     /**< message of a weaker mode than the endpoint accepts */
    PQCOAP_ERR_RETRANSMIT = -49,    /**< retransmitted request: resend its protected response */
    PQCOAP_ERR_UNAUTHENTICATED = -50, /**< response without valid signature or protection, and
                                           not one of the codes the protocol leaves unprotected */
    PQCOAP_ERR_WRONG_RECIPIENT = -51, /**< request bound to another recipient key (Mode A v2) */

    /* resource limits */
    PQCOAP_ERR_TOO_LARGE = -60,     /**< body or field larger than the configured limit */
    PQCOAP_ERR_LIMIT = -61,         /**< too many sessions, transfers or peers */
    PQCOAP_ERR_EXPIRED = -62,       /**< session reached max_msgs or its lifetime */
    PQCOAP_ERR_BUSY = -63,          /**< peer is overloaded or rate limiting (5.03) */
    PQCOAP_ERR_NOMEM = -64,         /**< out of memory */

    /* I/O */
    PQCOAP_ERR_IO = -80,            /**< socket or file error */
    PQCOAP_ERR_TIMEOUT = -81,       /**< no answer within the configured time */
    PQCOAP_ERR_UNREACHABLE = -82,   /**< host name does not resolve or host unreachable */
    PQCOAP_ERR_COAP = -83,          /**< peer answered with a CoAP error code */
    PQCOAP_ERR_STORE = -84,         /**< database error */
    PQCOAP_ERR_STORE_CORRUPT = -85, /**< database file corrupt or not a database */
    PQCOAP_ERR_STORE_FOREIGN = -86, /**< database belongs to another application */
    PQCOAP_ERR_STORE_NEWER = -87,   /**< database schema newer than this library */
    PQCOAP_ERR_CRYPTO = -88         /**< cryptographic backend failure */
} pqcoap_err;

/** Returns a static, human-readable name for `err` ("ok", "signature or tag does not
 *  verify", ...). Never NULL; unknown values give "unknown error". */
const char *pqcoap_strerror(pqcoap_err err);

/** True when `err` is in the authentication class (-40..-59). */
#define PQCOAP_IS_AUTH_ERR(err) ((err) <= -40 && (err) > -60)

#ifdef __cplusplus
}
#endif
#endif
