/* The fixed OSCORE contexts of the fuzz targets and their seeds: RFC 8613 Appendix C.1
 * (client and server) and the binding of its C.4 request. */
#ifndef PQCOAP_FUZZ_OSCORE_H
#define PQCOAP_FUZZ_OSCORE_H

#include "fuzz_common.h"
#include "pqcoap/oscore.h"

static const uint8_t fuzz_oscore_secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                               14, 15, 16};
static const uint8_t fuzz_oscore_salt[8] = {0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40};
static const uint8_t fuzz_oscore_id1[1] = {0x01};

/* A context of the C.1 Master Secret and Salt with the given Sender and Recipient IDs. */
static inline void fuzz_oscore_ctx_ids(const uint8_t *sender_id, size_t sender_id_len,
                                       const uint8_t *recipient_id, size_t recipient_id_len,
                                       pqcoap_oscore_ctx *out)
{
    pqcoap_oscore_params p = PQCOAP_OSCORE_PARAMS_INIT;
    p.master_secret = fuzz_oscore_secret;
    p.master_secret_len = sizeof fuzz_oscore_secret;
    p.master_salt = fuzz_oscore_salt;
    p.master_salt_len = sizeof fuzz_oscore_salt;
    p.sender_id = sender_id;
    p.sender_id_len = sender_id_len;
    p.recipient_id = recipient_id;
    p.recipient_id_len = recipient_id_len;
    fuzz_must(pqcoap_oscore_derive(&p, out));
}

/* The C.1 context of the server (server = 1) or of the client. */
static inline void fuzz_oscore_ctx(int server, pqcoap_oscore_ctx *out)
{
    if (server)
        fuzz_oscore_ctx_ids(fuzz_oscore_id1, 1, NULL, 0, out);
    else
        fuzz_oscore_ctx_ids(NULL, 0, fuzz_oscore_id1, 1, out);
}

/* The binding of the C.4 request: kid '' and Partial IV 0x14. */
static const pqcoap_oscore_binding fuzz_oscore_bind = {{0}, 0, {0x14}, 1};

#endif
