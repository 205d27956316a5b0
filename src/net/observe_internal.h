/* Server side of Observe (RFC 7641): the table of observations the server accepted, with
 * its limits, kept beside libcoap's own subscriptions (which libcoap sends from). */
#ifndef PQCOAP_NET_OBSERVE_INTERNAL_H
#define PQCOAP_NET_OBSERVE_INTERNAL_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

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

/* One accepted observation: the registering request's session and token. */
typedef struct pqcoap_obs {
    coap_session_t *sess;       /* referenced while the entry lives */
    uint8_t token[8];
    size_t token_len;
    uint8_t key[32];            /* SHA-256 of the request's options and payload without
                                   token and ETag: libcoap's cache key, which makes a new
                                   registration replace an older one of the same session */
    pqcoap_obs_res *res;
    struct pqcoap_obs *next;
} pqcoap_obs;

typedef struct pqcoap_obs_table {
    pqcoap_obs_res *res;
    pqcoap_obs *obs;
    unsigned max_total;
    unsigned count_total;
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
 * carries no Observe) drops it. */
void pqcoap_obs_served(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *request,
                       const coap_pdu_t *response);

/* The peer answered a CON notification with RST (RFC 7641 section 3.6), or never
 * acknowledged it (section 4.5): the observation with this token ends. */
void pqcoap_obs_forget(pqcoap_obs_table *t, coap_session_t *session, const coap_pdu_t *sent);

/* Releases every entry and path (the libcoap resources go with the context). */
void pqcoap_obs_clear(pqcoap_obs_table *t);

#endif
