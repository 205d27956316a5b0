/* Mode A (signed payloads, PROTOCOL.md) on the CoAP endpoints: a signing client over
 * pqcoap_client and a security layer for pqcoap_server that verifies requests and signs
 * responses. Both are pqcoap_layer hooks (layer.h); plain CoAP is the endpoints without them. */
#ifndef PQCOAP_SIGN_ENDPOINT_H
#define PQCOAP_SIGN_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/client.h"
#include "pqcoap/error.h"
#include "pqcoap/keys.h"
#include "pqcoap/layer.h"
#include "pqcoap/rng.h"
#include "pqcoap/server.h"
#include "pqcoap/sign.h"
#include "pqcoap/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------------------- */

/** Signing client settings. Start from PQCOAP_SIGN_CLIENT_CONFIG_INIT. */
typedef struct pqcoap_sign_client_config {
    int version;                /**< Mode A version of requests: 2 (default) or 1 */
    uint64_t seq_block;         /**< v2: sequence numbers reserved in the store per write;
                                     default 64 (numbers of a block not used before a
                                     restart are skipped, never reused) */
    const pqcoap_rng *rng;      /**< randomness for signing; NULL = system RNG */
    pqcoap_client_config net;   /**< transport settings (client.h); net.layer is ignored:
                                     the signing layer takes its place */
} pqcoap_sign_client_config;

/** Default signing client settings: v2, blocks of 64, system RNG, default transport. */
#define PQCOAP_SIGN_CLIENT_CONFIG_INIT {2, 64, NULL, PQCOAP_CLIENT_CONFIG_INIT}

/** A Mode A client: a pqcoap_client whose requests are signed with the client's identity
 *  and whose responses must be signed by the pinned server key. Not thread-safe. */
typedef struct pqcoap_sign_client pqcoap_sign_client;

/** Opens a signing client for `uri` (as pqcoap_client_open). `id` is the client's identity
 *  (copied; the copy is wiped by pqcoap_sign_client_free): Falcon-512 for v1, any algorithm
 *  of PROTOCOL.md Mode A v2 "Algorithms" for v2, whatever the server's key is. `store` (borrowed, must
 *  stay open while the client lives, used only from the client's thread) holds the v2
 *  sequence counter "sign:<kid in hex>" of the identity, reserved ahead through
 *  pqcoap_seq_counter so that sequence numbers survive restarts and are never reused; it
 *  may be NULL for a v1 client. `cfg` NULL = defaults. No server key is pinned yet: every
 *  request fails with PQCOAP_ERR_NO_PEER_KEY until pqcoap_sign_client_pin. On success *out
 *  owns the client. Errors: PQCOAP_ERR_ARG (NULL, version not 1 or 2, seq_block 0, no store
 *  for v2); PQCOAP_ERR_UNSUPPORTED (identity of another algorithm
 *  than the version signs with); PQCOAP_ERR_KEY_USAGE (PROTOCOL.md
 *  "Key usage": a v1 client needs an identity of usage PQCOAP_USAGE_SIGN_V1, a v2 client one
 *  of usage PQCOAP_USAGE_GENERAL); PQCOAP_ERR_NOMEM; those of pqcoap_client_open. `msg` (may be NULL) receives a reason of at most msg_cap bytes. */
pqcoap_err pqcoap_sign_client_open(const char *uri, const pqcoap_identity *id,
                                   const pqcoap_store *store,
                                   const pqcoap_sign_client_config *cfg,
                                   pqcoap_sign_client **out, char *msg, size_t msg_cap);

/** Closes the client (pqcoap_client_free) and wipes its copy of the identity. NULL is fine. */
void pqcoap_sign_client_free(pqcoap_sign_client *c);

/** Pins the server's public key (copied): requests are signed for it (v2) and responses are
 *  accepted only when signed by it, with its algorithm (a response whose signature has a
 *  length of another algorithm is PQCOAP_ERR_AUTH, and the last error says so). Pinning
 *  again replaces the key. Returns PQCOAP_ERR_ARG on NULL, PQCOAP_ERR_UNSUPPORTED if the key
 *  is not Falcon-512 (v1) or of no Mode A v2 algorithm (v2), PQCOAP_ERR_KEY_USAGE if its usage is not the client's version's (v1:
 *  PQCOAP_USAGE_SIGN_V1, v2: PQCOAP_USAGE_GENERAL). */
pqcoap_err pqcoap_sign_client_pin(pqcoap_sign_client *c, const pqcoap_pubkey *server_pk);

/** Sends `req` (client.h; its payload and options are signed) and waits. On PQCOAP_OK
 *  `reply` (caller frees) is the verified response with the PQ-Sig option and the signature
 *  removed: its code (which may be a signed 4.04 or 4.05) and unsigned payload. v2 accepts
 *  a response only when it is signed by the pinned key and bound to this request (the
 *  request's kid and seq, which never repeat; the token is not bound, so block-wise
 *  requests and responses work in both versions), whatever order responses to requests in
 *  flight together come in; v1 only checks the signature. Errors, besides those of
 *  pqcoap_client_request:
 *  - PQCOAP_ERR_NO_PEER_KEY: no server key pinned (nothing is sent);
 *  - answers without a valid signature (v2: without PQ-Sig option; v1: not verifying), of
 *    which a Mode A server sends only its refusals (PROTOCOL.md "Unsigned answers"):
 *    PQCOAP_ERR_REJECTED for 4.00, 4.01 or 4.02 (bad signature, unknown client key,
 *    replay, downgrade, malformed); PQCOAP_ERR_TOO_LARGE for 4.13; PQCOAP_ERR_BUSY for
 *    5.03; PQCOAP_ERR_COAP for 4.08 and 5.00; `reply` holds that answer and
 *    pqcoap_sign_client_last_error its diagnostic. Any other code without a valid
 *    signature (a 2.05 or 4.04 made by an on-path attacker, a plain server's answer) is
 *    PQCOAP_ERR_UNAUTHENTICATED;
 *  - PQCOAP_ERR_AUTH: a v2 response not signed by the pinned key or not bound to this
 *    request; PQCOAP_ERR_MALFORMED: a malformed signed payload or PQ-Sig option;
 *  - store errors while reserving sequence numbers;
 *  - PQCOAP_ERR_ARG if req carries a PQ-Sig option itself. */
pqcoap_err pqcoap_sign_client_request(pqcoap_sign_client *c, const pqcoap_req *req,
                                      pqcoap_reply *reply);

/** Convenience requests on `path` ("a/b?x=1" replacing the URI's path and query; NULL =
 *  the URI's) as pqcoap_sign_client_request with a CON request of that method and, for
 *  POST, PUT and FETCH, the body payload[0..len) (no Content-Format). */
pqcoap_err pqcoap_sign_client_get(pqcoap_sign_client *c, const char *path, pqcoap_reply *reply);
pqcoap_err pqcoap_sign_client_post(pqcoap_sign_client *c, const char *path,
                                   const uint8_t *payload, size_t len, pqcoap_reply *reply);
pqcoap_err pqcoap_sign_client_put(pqcoap_sign_client *c, const char *path,
                                  const uint8_t *payload, size_t len, pqcoap_reply *reply);
pqcoap_err pqcoap_sign_client_delete(pqcoap_sign_client *c, const char *path,
                                     pqcoap_reply *reply);
pqcoap_err pqcoap_sign_client_fetch(pqcoap_sign_client *c, const char *path,
                                    const uint8_t *payload, size_t len, pqcoap_reply *reply);

/** pqcoap_client_observe / _observe_cancel (client.h) on the client's signed exchanges:
 *  each notification is checked by the layer's check_notification against the registering
 *  request. Same results; PQCOAP_ERR_ARG on NULL. */
pqcoap_err pqcoap_sign_client_observe(pqcoap_sign_client *c, const pqcoap_req *req,
                                      pqcoap_observe_fn fn, void *user, uint32_t *id);
pqcoap_err pqcoap_sign_client_observe_cancel(pqcoap_sign_client *c, uint32_t id);

/** The underlying client with the signing layer set, for pqcoap_client_send / poll (a window
 *  of signed requests in flight; completions carry the errors listed above). Owned by `c`. */
pqcoap_client *pqcoap_sign_client_net(pqcoap_sign_client *c);

/** What went wrong in the last failed pqcoap_sign_client_* request: the signing layer's
 *  reason (e.g. "server rejected the request: 4.01 replayed or out-of-window sequence
 *  number") or else the transport's (pqcoap_client_last_error). Owned by `c`, valid until
 *  the next call on it; "" if nothing failed. */
const char *pqcoap_sign_client_last_error(const pqcoap_sign_client *c);

/* ---------------------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------------------- */

/** Mode A server layer settings. Start from PQCOAP_SIGN_SERVER_CONFIG_INIT. */
typedef struct pqcoap_sign_server_config {
    pqcoap_sign_policy policy;  /**< accepted version: v2 only (default) or v1 only (seed
                                     compatibility); a server takes one, since the two need
                                     identities of different usage (run one of each to
                                     serve both) */
    const pqcoap_pubkey *v1_keys; /**< v1: the pinned client keys, of usage
                                     PQCOAP_USAGE_SIGN_V1 (copied at create); a v1 request
                                     is accepted if one of them verifies it */
    size_t n_v1_keys;
    size_t max_v1_keys;         /**< v1: most keys the server takes (default 8). A v1
                                     request names no key, so each one, forged or not, costs
                                     up to n_v1_keys signature checks on the I/O thread
                                     (~60 us each on a 2-core Xeon): this bounds that cost */
    size_t max_peers;           /**< v2: replay windows kept in memory (one per client kid
                                     whose request verified; beyond, the least recently used
                                     is dropped and later reloaded from its floor); default
                                     256 */
    uint64_t seq_block;         /**< v2: response sequence numbers reserved per store write;
                                     default 64 */
    const pqcoap_rng *rng;      /**< randomness for signing; NULL = system RNG */
} pqcoap_sign_server_config;

/** Default server layer settings: v2 only, no v1 keys (at most 8), 256 peers, blocks of 64. */
#define PQCOAP_SIGN_SERVER_CONFIG_INIT {PQCOAP_SIGN_V2_ONLY, NULL, 0, 8, 256, 64, NULL}

/** The state of a Mode A server layer: identity, trust store, replay windows. */
typedef struct pqcoap_sign_server pqcoap_sign_server;

/** Creates a Mode A server layer signing with `id` (copied and wiped at free; Falcon-512 for
 *  the v1 policy, any algorithm of PROTOCOL.md Mode A v2 "Algorithms" for v2;
 *  PROTOCOL.md "Key usage": of usage PQCOAP_USAGE_SIGN_V1 for the v1 policy, GENERAL for
 *  v2). `store` (borrowed; open while the layer lives and used only from the server's I/O
 *  thread) is the trust store: a v2 request is verified against the peer whose kid it
 *  names, with the algorithm its entry records, if that peer's usage is GENERAL (a peer
 *  pinned for v1 is refused with 4.01; a signature of another algorithm than the entry's
 *  gets 4.01 as one that does not verify). It
 *  also holds the response sequence counter "sign:<own kid in hex>" and, per client kid,
 *  the highest accepted request seq as its Mode A floor (pqcoap_store_sign_floor_set),
 *  written before the request reaches its handler. A kid's replay window is kept in memory
 *  once a request of it verified (max_peers of them; when all are taken the least recently
 *  used is dropped). A window not in memory (after a start, or dropped) is initialised from
 *  the floor, so a request captured before a restart is still a replay after it
 *  (PROTOCOL.md, receiver state). Requests that fail verification are answered, unsigned,
 *  with 4.00 (malformed), 4.01 (bad signature, unknown key, key of the other usage, replay,
 *  downgrade), 4.02 (v2 to a v1-only endpoint) or 5.00 (store failure) and a short
 *  diagnostic; their handler never runs. Every other response, 4.04 and 4.05 included, is
 *  signed: v2 bound to the request, v1 as a v1 payload. `cfg` NULL = defaults. Errors:
 *  PQCOAP_ERR_ARG (NULL, a policy other than v2 only or v1 only, max_peers or seq_block 0,
 *  no v1 keys for the v1 policy); PQCOAP_ERR_UNSUPPORTED (identity of another
 *  algorithm than the policy signs with, a v1 key not Falcon-512); PQCOAP_ERR_KEY_USAGE (the identity or a v1 key of the other usage);
 *  PQCOAP_ERR_LIMIT (more than max_v1_keys v1 keys); PQCOAP_ERR_NOMEM. */
pqcoap_err pqcoap_sign_server_new(const pqcoap_identity *id, const pqcoap_store *store,
                                  const pqcoap_sign_server_config *cfg,
                                  pqcoap_sign_server **out);

/** The layer to set as pqcoap_server_config.layer (it registers PQ-Sig 65003 as a critical
 *  option). Owned by `s`, which must outlive the server using it. */
const pqcoap_layer *pqcoap_sign_server_layer(const pqcoap_sign_server *s);

/** Releases the layer state and wipes the identity copy. Free the server first. NULL is fine. */
void pqcoap_sign_server_free(pqcoap_sign_server *s);

#ifdef __cplusplus
}
#endif
#endif
