/* CoAP option list encoding and decoding (RFC 7252 section 3.1) over the bounded reader. */
#include "core/coapopt_internal.h"

/* The 4-bit field and extension bytes of a delta or length (RFC 7252 section 3.1). */
static void wr_ext_nibble(uint32_t v, uint8_t *nib, uint8_t ext[2], size_t *ext_len)
{
    if (v < 13) {
        *nib = (uint8_t)v;
        *ext_len = 0;
    } else if (v < 269) {
        *nib = 13;
        ext[0] = (uint8_t)(v - 13);
        *ext_len = 1;
    } else {
        *nib = 14;
        ext[0] = (uint8_t)((v - 269) >> 8);
        ext[1] = (uint8_t)(v - 269);
        *ext_len = 2;
    }
}

pqcoap_err pqcoap_coapopt_write(pqcoap_writer *w, const pqcoap_opt *opts, size_t n,
                                int (*keep)(uint16_t number))
{
    uint16_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const pqcoap_opt *o = &opts[i];
        if (i > 0 && o->number < opts[i - 1].number)
            return PQCOAP_ERR_MALFORMED;
        if (o->len > UINT16_MAX - 269 || (o->len > 0 && o->value == NULL))
            return PQCOAP_ERR_MALFORMED;
        if (keep != NULL && !keep(o->number))
            continue;
        uint8_t dn, ln, de[2], le[2];
        size_t dl, ll;
        wr_ext_nibble((uint32_t)(o->number - prev), &dn, de, &dl);
        wr_ext_nibble((uint32_t)o->len, &ln, le, &ll);
        pqcoap_wr_u8(w, (uint8_t)(dn << 4 | ln));
        pqcoap_wr_bytes(w, de, dl);
        pqcoap_wr_bytes(w, le, ll);
        pqcoap_wr_bytes(w, o->value, o->len);
        prev = o->number;
    }
    return PQCOAP_OK;
}

/* Reads the extension bytes of nibble `nib` into *v. */
static pqcoap_err rd_ext_nibble(pqcoap_reader *r, uint8_t nib, uint32_t *v)
{
    if (nib < 13) {
        *v = nib;
    } else if (nib == 13) {
        uint8_t b;
        PQCOAP_TRY(pqcoap_rd_u8(r, &b));
        *v = 13u + b;
    } else if (nib == 14) {
        uint16_t b;
        PQCOAP_TRY(pqcoap_rd_u16(r, &b));
        *v = 269u + b;
    } else {
        return PQCOAP_ERR_MALFORMED; /* 15 is reserved (payload marker only as 0xFF) */
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_coapopt_read(pqcoap_reader *r, pqcoap_opt *opts, size_t cap, size_t *n,
                               const uint8_t **payload, size_t *payload_len)
{
    uint32_t number = 0;
    *n = 0;
    *payload = NULL;
    *payload_len = 0;
    while (pqcoap_rd_left(r) > 0) {
        uint8_t b;
        PQCOAP_TRY(pqcoap_rd_u8(r, &b));
        if (b == 0xFF) {
            size_t left = pqcoap_rd_left(r);
            if (left == 0)
                return PQCOAP_ERR_MALFORMED; /* RFC 7252 section 3: marker, no payload */
            PQCOAP_TRY(pqcoap_rd_bytes(r, left, payload));
            *payload_len = left;
            return PQCOAP_OK;
        }
        uint32_t delta, len;
        if (rd_ext_nibble(r, (uint8_t)(b >> 4), &delta) != PQCOAP_OK ||
            rd_ext_nibble(r, (uint8_t)(b & 0x0F), &len) != PQCOAP_OK)
            return PQCOAP_ERR_MALFORMED;
        number += delta;
        if (number > UINT16_MAX)
            return PQCOAP_ERR_MALFORMED;
        if (*n == cap)
            return PQCOAP_ERR_LIMIT;
        const uint8_t *v;
        if (pqcoap_rd_bytes(r, len, &v) != PQCOAP_OK)
            return PQCOAP_ERR_MALFORMED;
        opts[*n].number = (uint16_t)number;
        opts[*n].value = v;
        opts[*n].len = len;
        (*n)++;
    }
    return PQCOAP_OK;
}
