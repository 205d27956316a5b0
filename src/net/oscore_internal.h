/* Pieces shared by the OSCORE client and server layers (oscore_client.c, oscore_server.c):
 * moving messages between the core's views and the endpoints' builders, store names. */
#ifndef PQCOAP_OSCORE_INTERNAL_H_NET
#define PQCOAP_OSCORE_INTERNAL_H_NET

#include "pqcoap/layer.h"
#include "pqcoap/oscore.h"
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

#endif
