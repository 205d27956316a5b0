/* Parts of the CoAP client shared by its files (client.c: requests; observe_client.c:
 * Observe) and reachable from tests and fuzz targets: the client's state, the parsers of the
 * URI a client is opened with and of the path of a request, and the taking of Block2 blocks. */
#ifndef PQCOAP_CLIENT_INTERNAL_H
#define PQCOAP_CLIENT_INTERNAL_H

#include <coap3/coap.h>
#include "pqcoap/client.h"
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


#define PQCOAP_CLIENT_URI_OPTS_MAX 32
#define PQCOAP_CLIENT_URI_VALS_MAX 1024
#define PQCOAP_CLIENT_MSG_LEN 256

enum { PQCOAP_SLOT_FREE, PQCOAP_SLOT_PENDING, PQCOAP_SLOT_DONE };

/* Who waits for a slot's result: the caller (send/poll, request), or the Observe code for a
 * registration (also a re-registration) or a deregistration of observation `obs`. */
enum { PQCOAP_SLOT_USER, PQCOAP_SLOT_REGISTER, PQCOAP_SLOT_DEREGISTER };

/* One request in flight or completed but not yet collected. */
typedef struct pqcoap_client_slot {
    int state;
    int kind;                   /* PQCOAP_SLOT_USER, _REGISTER, _DEREGISTER */
    size_t obs;                 /* observation index + 1 of a registration (0: none left) */
    int state_kept;             /* the layer state was copied for the observation */
    uint32_t id;
    void *user;
    uint8_t token[8];
    size_t token_len;
    uint64_t deadline_ms;
    uint64_t done_seq;          /* completion order */
    int expect_success;
    int use_layer;
    int icmp;                   /* an ICMP error was reported for it */
    pqcoap_exchange x;
    void *state_mem;            /* layer state, layer.state_size bytes */
    pqcoap_err err;
    pqcoap_reply reply;
    char msg[PQCOAP_CLIENT_MSG_LEN];
    /* Block-wise transfer (RFC 7959), run here and not by libcoap (see client_setup). Each
     * block is a request of its own with a fresh token (the slot's `token` from then on). */
    int con;                    /* the request and its blocks are CON (else NON) */
    pqcoap_reply wire_req;      /* the request as sent: code, options, whole body, first token */
    size_t off1;                /* Block1: offset of the block in flight */
    int szx1;                   /* Block1: block size exponent */
    pqcoap_client_b2 b2;        /* Block2: the response body so far, ETag of block 0 */
    long observe0;              /* Observe of a block-wise response's block 0, plus 1 (0:
                                   none): RFC 7959 section 2.6, the later blocks have none */
} pqcoap_client_slot;

/* One observation (RFC 7641) of the client (observe_client.c). */
typedef struct pqcoap_client_obs {
    int used;
    uint32_t id;
    pqcoap_observe_fn fn;
    void *user;
    /* the registering request as the caller gave it (copies), Observe excluded */
    uint8_t method;
    int non;
    int content_format;
    int accept;
    char *path;                 /* NULL: the client's URI */
    pqcoap_reply extra;         /* the caller's options and payload */
    /* the live registration */
    uint8_t token[8];           /* the token notifications come with */
    size_t token_len;
    void *state;                /* the layer's kept exchange state (layer.state_size) */
    void *new_state;            /* a registration's state, until it is taken */
    int has_state;              /* `state` is kept (end_observation owed) */
    int new_kept;               /* `new_state` is kept */
    int live;                   /* registered (the first response carried Observe) */
    pqcoap_err failed;          /* why the first registration failed */
    uint32_t seq;               /* V1 and T1 of RFC 7641 section 3.4 */
    uint64_t seq_ms;
    uint64_t fresh_until_ms;    /* Max-Age of the latest notification plus a margin */
    uint64_t rereg_at_ms;       /* re-register then (0: not due) */
    int rereg_inflight;
    int moved;                  /* went to a new UDP session since the last notification */
} pqcoap_client_obs;

struct pqcoap_client {
    pqcoap_client_config cfg;
    pqcoap_layer layer;
    int has_layer;
    coap_context_t *ctx;
    coap_session_t *sess;
    coap_address_t dst;
    char host[256];
    int host_is_name;
    /* Uri-Path and Uri-Query options of the URI. */
    pqcoap_msgbuf uri;
    pqcoap_opt uri_opts[PQCOAP_CLIENT_URI_OPTS_MAX];
    uint8_t uri_vals[PQCOAP_CLIENT_URI_VALS_MAX];
    pqcoap_client_slot *slots;
    size_t n_slots;
    uint32_t next_id;
    uint64_t done_counter;
    pqcoap_net_scratch req;     /* request options as the caller asked */
    pqcoap_net_scratch wire;    /* output of protect_request */
    pqcoap_net_scratch plain;   /* output of check_response / check_notification */
    size_t last_sent;           /* CoAP message sizes of the last request and response */
    size_t last_received;
    pqcoap_client_obs *obs;     /* cfg.max_observe observations */
    /* A security layer's upkeep for observations (session_client.c, oscore_client.c):
     * `stale` says that its session or context is over or out of step with the server's,
     * `renew` makes a new one (a handshake) before a re-registration; its error ends the
     * observation unless it is transient. NULL: none. */
    int (*stale)(void *ctx);
    pqcoap_err (*renew)(void *ctx);
    void *renew_ctx;
    int layer_busy;             /* the layer runs an exchange of its own (a handshake) on
                                   this client: no re-registration meanwhile */
    uint8_t next_token[8];      /* where a new UDP session's tokens go on from, so that */
    size_t next_token_len;      /* no token is used twice while the client lives */
    char err[PQCOAP_CLIENT_MSG_LEN];
};

/* A request from client.c's point of view: `req` as the caller gave it, the slot kind and
 * observation (see pqcoap_client_slot), and the token to use (NULL: a fresh one). */
pqcoap_err pqcoap_client_start(pqcoap_client *cl, const pqcoap_req *req, int kind, size_t obs,
                               const uint8_t *token, size_t token_len,
                               pqcoap_client_slot **out);

/* Runs libcoap until `until_ms`, a request deadline or an observation's timer, whichever is
 * first; then ends expired requests and serves the observations. */
pqcoap_err pqcoap_client_pump(pqcoap_client *cl, uint64_t until_ms);

/* Frees a finished slot of the Observe code (its reply included). */
void pqcoap_client_slot_release(pqcoap_client_slot *s);

/* observe_client.c, called by client.c: */

/* A response whose token no request waits for: a notification of an observation? Returns 1
 * when it was one (taken or dropped), 0 when the token is unknown (the caller answers RST). */
int pqcoap_client_obs_notification(pqcoap_client *cl, const coap_pdu_t *pdu);

/* check_response accepted the response `shown` to registration slot s: keeps the exchange
 * state for the observation when the response starts one (2.xx with Observe). */
void pqcoap_client_obs_keep_state(pqcoap_client *cl, pqcoap_client_slot *s,
                                  const pqcoap_msg *shown);

/* Takes finished registration and deregistration slots, and re-registers the observations
 * whose time has come. Returns the time the next timer is due (UINT64_MAX: none). */
uint64_t pqcoap_client_obs_service(pqcoap_client *cl, uint64_t now_ms);

/* The client's UDP session was opened anew (its local port changed): every observation
 * re-registers. */
void pqcoap_client_obs_moved(pqcoap_client *cl);

/* client.c, called by observe_client.c: opens the UDP session anew (a new local port) when
 * no request is in flight; every observation then re-registers (pqcoap_client_obs_moved). */
void pqcoap_client_new_session(pqcoap_client *cl);

/* Live observations. */
size_t pqcoap_client_obs_count(const pqcoap_client *cl);

/* Ends every observation (end_observation, wipe) and frees the table. */
void pqcoap_client_obs_free(pqcoap_client *cl);

#endif
