/* Server side of Observe (RFC 7641): the table of observations the server accepted, with
 * its limits, kept beside libcoap's own subscriptions (which libcoap sends from). */
#ifndef PQCOAP_NET_OBSERVE_INTERNAL_H
#define PQCOAP_NET_OBSERVE_INTERNAL_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"
#include "pqcoap/layer.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/session_endpoint.h"
#include "pqcoap/sign_endpoint.h"

#define PQCOAP_OBS_PATH_LEN 256

/* An observable path: one libcoap resource of its own (libcoap keeps observers per resource
 * and cannot observe its "unknown resource"). */
typedef struct pqcoap_obs_res {
    char path[PQCOAP_OBS_PATH_LEN];
    coap_resource_t *r;         /* owned by the libcoap context */
    unsigned max;               /* observers of this path at most */
    unsigned count;             /* accepted observations now */
    unsigned refused;           /* libcoap subscriptions of refused registrations left
                                   until the next notification round purges them */
    struct pqcoap_obs_res *next;
} pqcoap_obs_res;

/* One accepted observation: the registering request's session and token. With a security
 * layer the server sends the notifications itself (pqcoap_obs_secured) and keeps what they
 * need: the registration's layer state, its plaintext request and its wire request. */
typedef struct pqcoap_obs {
    coap_session_t *sess;       /* referenced while the entry lives */
    uint8_t token[8];
    size_t token_len;
    uint8_t key[32];            /* SHA-256 of the request's options and payload without
                                   token and ETag: libcoap's cache key, which makes a new
                                   registration replace an older one of the same session */
    pqcoap_obs_res *res;
    void *state;                /* secured: the layer's obs_state (state_size bytes) */
    pqcoap_reply plain;         /* secured: the registering request, as the handler saw it */
    coap_pdu_t *request;        /* secured: a copy of its wire request (type, token, Block2) */
    pqcoap_exchange x;          /* secured: the observer's address */
    uint32_t observe;           /* secured: the Observe value sent last */
    struct pqcoap_obs *next;
} pqcoap_obs;

typedef struct pqcoap_obs_table {
    pqcoap_obs_res *res;
    pqcoap_obs *obs;
    unsigned max_total;
    unsigned count_total;
    const pqcoap_layer *layer;  /* secured: whose end_observation ends an observation */
} pqcoap_obs_table;

/* What a call of the request handler is, for an observable resource. */
typedef enum pqcoap_obs_call {
    PQCOAP_OBS_REQUEST = 0,     /* an ordinary request (also a refused registration) */
    PQCOAP_OBS_NOTIFY = 1,      /* a notification of an accepted observation */
    PQCOAP_OBS_PURGE = 2        /* a notification of an observation that is over: the
                                   response has been made one libcoap drops silently */
} pqcoap_obs_call;

/* The observable path `path`, or NULL. */
pqcoap_obs_res *pqcoap_obs_find_res(pqcoap_obs_table *t, const char *path);

/* Looks at one call of the request handler before it is served: registers, refuses
 * (rewriting `response` without Observe) or deregisters per RFC 7641 section 4.1, and tells
 * notifications apart. `allow` is 0 when the server cannot protect notifications. */
pqcoap_obs_call pqcoap_obs_classify(pqcoap_obs_table *t, coap_resource_t *resource,
                                    coap_session_t *session, const coap_pdu_t *request,
                                    coap_pdu_t *response, int allow);

/* After the call was served: an answer that ends the observation (not 2.xx, RFC 7641
 * sections 3.2 and 4.2; or an empty ACK of a deferred registration, whose separate response
 * carries no Observe) drops it. Secured observations are left alone. */
void pqcoap_obs_served(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *request,
                       const coap_pdu_t *response);

/* The peer answered a CON notification with RST (RFC 7641 section 3.6), or never
 * acknowledged it (section 4.5): the observation with this token ends. */
void pqcoap_obs_forget(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *sent);

/* With a security layer (PROTOCOL.md "Observe"): after the layer accepted `plain`, the
 * plaintext request of `session` whose wire request is `request`, for observable `res`,
 * and its handler ran: a registration (Observe 0) ends an observation with the same token
 * and, when the handler `answered` 2.xx at once and the limits allow, makes a new one and
 * returns it (the caller adds Observe to the response and keeps the layer state in it once
 * the response is protected); a deregistration (Observe 1) ends the observation with its
 * token. Returns NULL when no observation is made. */
pqcoap_obs *pqcoap_obs_secured(pqcoap_obs_table *t, pqcoap_obs_res *res,
                               coap_session_t *session, const coap_pdu_t *request,
                               const pqcoap_msg *plain, const pqcoap_exchange *x,
                               int answered, size_t state_size);

/* Ends observation `o` (its layer state wiped after end_observation). */
void pqcoap_obs_end(pqcoap_obs_table *t, pqcoap_obs *o);

/* The security layer of a Mode A, Mode B or OSCORE client (owned by the client), for tests
 * that drive its hooks (protect_request, check_response, check_notification) over a socket
 * of their own. */
const pqcoap_layer *pqcoap_sign_client_layer(const pqcoap_sign_client *c);
const pqcoap_layer *pqcoap_session_client_layer(const pqcoap_session_client *c);
const pqcoap_layer *pqcoap_oscore_client_layer(const pqcoap_oscore_client *c);

/* Releases every entry and path (the libcoap resources go with the context). */
void pqcoap_obs_clear(pqcoap_obs_table *t);

#endif
