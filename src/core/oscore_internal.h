/* Internals of the OSCORE core exposed for the RFC 8613 Appendix C vector tests: the HKDF
 * info, the nonce and the AAD. */
#ifndef PQCOAP_OSCORE_INTERNAL_H
#define PQCOAP_OSCORE_INTERNAL_H

#include "pqcoap/oscore.h"

/** info = [id, id_context / nil, alg_aead, type, L] of section 3.2.1 into info[0..cap). */
pqcoap_err pqcoap_oscore_info(const pqcoap_oscore_params *p, const uint8_t *id, size_t id_len,
                              const char *type, size_t len, uint8_t *info, size_t cap,
                              size_t *info_len);

/** The AEAD nonce of section 5.2 for Partial IV piv of the endpoint with Sender ID id
 *  (ctx's algorithm gives the length, 12 or 13 bytes). */
void pqcoap_oscore_nonce(const pqcoap_oscore_ctx *ctx, const uint8_t *id, size_t id_len,
                         const uint8_t *piv, size_t piv_len, uint8_t nonce[13]);

/** The AAD of section 5.4 (Enc_structure with external_aad) for binding b. */
pqcoap_err pqcoap_oscore_aad(const pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *b,
                             uint8_t *aad, size_t cap, size_t *len);

#endif
