/* CoAP option list encoding (RFC 7252 section 3.1: delta and length nibbles) for messages
 * the core builds itself, e.g. the OSCORE plaintext; decoding goes through the one reader. */
#ifndef PQCOAP_COAPOPT_INTERNAL_H
#define PQCOAP_COAPOPT_INTERNAL_H

#include "common/buf_internal.h"
#include "pqcoap/msg.h"

/** Writes the options of opts[0..n) for which keep(number) is non-zero (all when keep is
 *  NULL), in order, as a CoAP option list. PQCOAP_ERR_MALFORMED if they are not in
 *  ascending order; write errors stay in w->err. */
pqcoap_err pqcoap_coapopt_write(pqcoap_writer *w, const pqcoap_opt *opts, size_t n,
                                int (*keep)(uint16_t number));

/** Reads a CoAP option list up to the end of r or a payload marker 0xFF, into
 *  opts[0..cap), setting *n; then the payload (the bytes after the marker, which must be
 *  at least one). Values borrow r's bytes. PQCOAP_ERR_MALFORMED for a reserved nibble (15),
 *  an option past the end, a number above 65535 or a marker with no payload;
 *  PQCOAP_ERR_LIMIT for more than cap options. */
pqcoap_err pqcoap_coapopt_read(pqcoap_reader *r, pqcoap_opt *opts, size_t cap, size_t *n,
                               const uint8_t **payload, size_t *payload_len);

#endif
