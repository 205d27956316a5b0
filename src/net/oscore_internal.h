/* Pieces shared by the OSCORE client and server layers (oscore_client.c, oscore_server.c):
 * moving messages between the core's views and the endpoints' builders, store names. */
#ifndef PQCOAP_OSCORE_INTERNAL_H_NET
#define PQCOAP_OSCORE_INTERNAL_H_NET

#include "pqcoap/layer.h"
#include "pqcoap/oscore.h"
#include "pqcoap/oscore_endpoint.h"
#include "pqcoap/store.h"

/** Options a message may carry through the OSCORE layers. */
#define PQCOAP_OSCORE_LAYER_OPTS 64
/** Bytes a protected payload may add: the encrypted code, options, marker and tag. */
#define PQCOAP_OSCORE_LAYER_OVERHEAD (PQCOAP_OPTS_MAX + PQCOAP_OSCORE_OVERHEAD)

/** "oscore:" and 32 hex digits naming the Sender Sequence Number counter of a Sender Key
 *  (a hash of it), NUL-terminated. */
#define PQCOAP_OSCORE_SSN_NAME_LEN (7 + 32 + 1)

/** Option number OSCORE registers as critical (9). */
extern const uint16_t pqcoap_oscore_critical_opts[1];

/** Writes the store name of ctx's Sender Sequence Number counter. */
pqcoap_err pqcoap_oscore_ssn_name(const pqcoap_oscore_ctx *ctx,
                                  char out[PQCOAP_OSCORE_SSN_NAME_LEN]);

/** The room the core writes into: `opts` for options and b's payload array for the rest. */
pqcoap_oscore_out pqcoap_oscore_room(pqcoap_msgbuf *b, pqcoap_opt *opts, size_t n_opts);

/** Copies m (whose option values and payload may lie in b's payload array) into b:
 *  code, options, then payload. Errors of pqcoap_msgbuf_*. */
pqcoap_err pqcoap_oscore_fill(pqcoap_msgbuf *b, const pqcoap_msg *m);

/** Decodes the OSCORE option of `m`: PQCOAP_ERR_NOT_FOUND when it has none,
 *  PQCOAP_ERR_MALFORMED when it does not decode. */
pqcoap_err pqcoap_oscore_find_option(const pqcoap_msg *m, pqcoap_oscore_option *out);

/** pqcoap_oscore_client_open over the context of `p` (its byte strings used during the
 *  call), Sender Sequence Numbers reserved ssn_freq ahead. */
pqcoap_err pqcoap_oscore_client_open_params(const char *uri, const pqcoap_oscore_params *p,
                                            uint64_t ssn_freq, const pqcoap_store *store,
                                            const pqcoap_client_config *net,
                                            pqcoap_oscore_client **out, char *msg,
                                            size_t msg_cap);

/* ---- contexts keyed by the handshake (oscore_server.c, oscore_client.c, oscore_keying.c) ---- */

/** What a keyed client needs to make its handshake again (oscore_keying.c). */
typedef struct pqcoap_oscore_rekey pqcoap_oscore_rekey;

/** Makes a new handshake with rk's settings and puts the context it keys into c
 *  (pqcoap_oscore_client_set_context). Errors as pqcoap_oscore_client_open_keyed; `msg`
 *  says why. */
pqcoap_err pqcoap_oscore_client_rekey(pqcoap_oscore_client *c, pqcoap_oscore_rekey *rk,
                                      char *msg, size_t msg_cap);

/** Frees rk (its copy of the secret key wiped). NULL is fine. */
void pqcoap_oscore_rekey_free(pqcoap_oscore_rekey *rk);

/** Replaces c's context by the one derived from p (the old one wiped), with a Sender
 *  Sequence Number counter for its Sender Key in the same store. On error c is unchanged.
 *  Errors: those of pqcoap_oscore_derive and pqcoap_seq_counter_init. */
pqcoap_err pqcoap_oscore_client_set_context(pqcoap_oscore_client *c,
                                            const pqcoap_oscore_params *p);

/** Makes c answer 4.01 "Security context not found" with one new handshake (rk owned by c
 *  from then on). */
void pqcoap_oscore_client_set_rekey(pqcoap_oscore_client *c, pqcoap_oscore_rekey *rk);

/** The handshake side of an OSCORE server (oscore_keying.c). */
typedef struct pqcoap_oscore_keying pqcoap_oscore_keying;

/** Adds a context keyed by a handshake, derived from p: its window starts known (fresh
 *  keys), it ends at expires_ms or after max_msgs requests, and `serial` names its entry in
 *  the handshake's table. Errors: PQCOAP_ERR_EXISTS (its Recipient ID is held),
 *  PQCOAP_ERR_LIMIT, those of pqcoap_oscore_derive and of the store. */
pqcoap_err pqcoap_oscore_server_add_keyed(pqcoap_oscore_server *s, const pqcoap_oscore_params *p,
                                          uint64_t serial, uint64_t expires_ms,
                                          uint32_t max_msgs);

/** Removes every keyed context whose entry is no longer live (live(arg, serial) == 0);
 *  returns how many. */
size_t pqcoap_oscore_server_drop_keyed(pqcoap_oscore_server *s,
                                       int (*live)(void *arg, uint64_t serial), void *arg);

/** 1 if a context with Recipient ID kid[0..len) is held. */
int pqcoap_oscore_server_has_kid(const pqcoap_oscore_server *s, const uint8_t *kid, size_t len);

/** Attaches the handshake side (owned by s from then on: freed with it). */
void pqcoap_oscore_server_set_keying(pqcoap_oscore_server *s, pqcoap_oscore_keying *k);

/** 1 if s has its handshake side. */
int pqcoap_oscore_server_has_keying(const pqcoap_oscore_server *s);

/** I/O thread: adds the contexts of the handshakes made since the last call and ends those
 *  whose entries ended (lifetime over, replaced, or the peer revoked: PROTOCOL.md
 *  "Revocation", the handshake thread reads the store's change count every 250 ms); does
 *  nothing for 250 ms after a call unless a handshake was made. Returns the time it read
 *  (pqcoap_net_now_ms). */
uint64_t pqcoap_oscore_keying_refresh(pqcoap_oscore_keying *k);

/** The lock every change of the server's contexts holds while it has a handshake side (the
 *  handshake thread reads them under it). */
void pqcoap_oscore_keying_lock(pqcoap_oscore_keying *k);
void pqcoap_oscore_keying_unlock(pqcoap_oscore_keying *k);

/** Makes s and its contexts use `to` instead of the store handle `from` (the same ops and
 *  ctx), for Sender Sequence Numbers: `to` serialises it with the handshake thread. */
void pqcoap_oscore_server_share_store(pqcoap_oscore_server *s, const pqcoap_store *from,
                                      const pqcoap_store *to);

/** 1 if m is a POST to pqc/session/init. */
int pqcoap_oscore_keying_is_init(const pqcoap_msg *m);

/** Stops the handshake thread (pqcoap_oscore_server_stop). NULL is fine. */
void pqcoap_oscore_keying_stop(pqcoap_oscore_keying *k);

/** Frees the handshake side (its keys wiped), stopping its thread first. NULL is fine. */
void pqcoap_oscore_keying_free(pqcoap_oscore_keying *k);

#endif
