/* A CoAP datagram (RFC 7252 section 3) to and from the neutral message view, for tests that
 * compare whole messages byte for byte. */
#ifndef PQCOAP_TEST_COAP_WIRE_H
#define PQCOAP_TEST_COAP_WIRE_H

#include "core/coapopt_internal.h"
#include "pqcoap/msg.h"

typedef struct wire_msg {
    uint8_t first;              /* version, type, token length */
    uint8_t mid[2];
    pqcoap_opt opts[32];
    pqcoap_msg msg;
} wire_msg;

/* Parses d[0..n) into *m (borrowing d). Returns 1 on success. */
static int wire_parse(const uint8_t *d, size_t n, wire_msg *m)
{
    if (n < 4 || (size_t)(4 + (d[0] & 0x0F)) > n)
        return 0;
    m->first = d[0];
    m->mid[0] = d[2];
    m->mid[1] = d[3];
    size_t tkl = d[0] & 0x0F;
    pqcoap_reader r;
    pqcoap_rd_init(&r, d + 4 + tkl, n - 4 - tkl);
    size_t nopts;
    const uint8_t *payload;
    size_t plen;
    if (pqcoap_coapopt_read(&r, m->opts, 32, &nopts, &payload, &plen) != PQCOAP_OK)
        return 0;
    m->msg = (pqcoap_msg){d[1], d + 4, tkl, m->opts, nopts, payload, plen};
    return 1;
}

/* Encodes msg with the header fields of `hdr` into out[0..cap); returns the length or 0. */
static size_t wire_write(const wire_msg *hdr, const pqcoap_msg *msg, uint8_t *out, size_t cap)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, (uint8_t)((hdr->first & 0xF0) | msg->token_len));
    pqcoap_wr_u8(&w, msg->code);
    pqcoap_wr_bytes(&w, hdr->mid, 2);
    pqcoap_wr_bytes(&w, msg->token, msg->token_len);
    if (pqcoap_coapopt_write(&w, msg->opts, msg->n_opts, NULL) != PQCOAP_OK)
        return 0;
    if (msg->payload_len > 0) {
        pqcoap_wr_u8(&w, 0xFF);
        pqcoap_wr_bytes(&w, msg->payload, msg->payload_len);
    }
    return w.err == PQCOAP_OK ? w.len : 0;
}

#endif
