/* Bounds-checked reader and writer with big-endian integers, str8/str16 and minimal varint. */
#include "common/buf_internal.h"

#include <string.h>

void pqcoap_rd_init(pqcoap_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->pos = 0;
}

size_t pqcoap_rd_left(const pqcoap_reader *r) { return r->len - r->pos; }

pqcoap_err pqcoap_rd_bytes(pqcoap_reader *r, size_t n, const uint8_t **p)
{
    if (n > pqcoap_rd_left(r))
        return PQCOAP_ERR_MALFORMED;
    *p = r->p + r->pos;
    r->pos += n;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_copy(pqcoap_reader *r, uint8_t *out, size_t n)
{
    const uint8_t *p;
    PQCOAP_TRY(pqcoap_rd_bytes(r, n, &p));
    if (n)
        memcpy(out, p, n);
    return PQCOAP_OK;
}

/* Reads an n-byte big-endian unsigned integer (n <= 8). */
static pqcoap_err rd_be(pqcoap_reader *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    uint64_t x = 0;
    PQCOAP_TRY(pqcoap_rd_bytes(r, n, &p));
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | p[i];
    *v = x;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_u8(pqcoap_reader *r, uint8_t *v)
{
    uint64_t x;
    PQCOAP_TRY(rd_be(r, 1, &x));
    *v = (uint8_t)x;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_u16(pqcoap_reader *r, uint16_t *v)
{
    uint64_t x;
    PQCOAP_TRY(rd_be(r, 2, &x));
    *v = (uint16_t)x;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_u32(pqcoap_reader *r, uint32_t *v)
{
    uint64_t x;
    PQCOAP_TRY(rd_be(r, 4, &x));
    *v = (uint32_t)x;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_u64(pqcoap_reader *r, uint64_t *v) { return rd_be(r, 8, v); }

pqcoap_err pqcoap_rd_str8(pqcoap_reader *r, const uint8_t **p, size_t *n)
{
    size_t start = r->pos;
    uint8_t len;
    PQCOAP_TRY(pqcoap_rd_u8(r, &len));
    if (pqcoap_rd_bytes(r, len, p) != PQCOAP_OK) {
        r->pos = start;
        return PQCOAP_ERR_MALFORMED;
    }
    *n = len;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_rd_str16(pqcoap_reader *r, const uint8_t **p, size_t *n)
{
    size_t start = r->pos;
    uint16_t len;
    PQCOAP_TRY(pqcoap_rd_u16(r, &len));
    if (pqcoap_rd_bytes(r, len, p) != PQCOAP_OK) {
        r->pos = start;
        return PQCOAP_ERR_MALFORMED;
    }
    *n = len;
    return PQCOAP_OK;
}

/* PROTOCOL.md: unsigned LEB128, at most 8 bytes, minimal encoding required. */
pqcoap_err pqcoap_rd_varint(pqcoap_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    size_t start = r->pos;
    for (size_t i = 0; i < PQCOAP_VARINT_MAX_LEN; i++) {
        uint8_t b;
        if (pqcoap_rd_u8(r, &b) != PQCOAP_OK)
            break;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) /* a final zero group makes the encoding non-minimal */
                break;
            *v = x;
            return PQCOAP_OK;
        }
    }
    r->pos = start;
    return PQCOAP_ERR_MALFORMED;
}

pqcoap_err pqcoap_rd_end(const pqcoap_reader *r)
{
    return r->pos == r->len ? PQCOAP_OK : PQCOAP_ERR_MALFORMED;
}

void pqcoap_wr_init(pqcoap_writer *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->cap = p ? cap : 0;
    w->len = 0;
    w->err = PQCOAP_OK;
}

uint8_t *pqcoap_wr_reserve(pqcoap_writer *w, size_t n)
{
    if (w->err != PQCOAP_OK)
        return NULL;
    if (n > w->cap - w->len) {
        w->err = PQCOAP_ERR_BUFFER;
        return NULL;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

void pqcoap_wr_bytes(pqcoap_writer *w, const uint8_t *p, size_t n)
{
    uint8_t *at = pqcoap_wr_reserve(w, n);
    if (at && n)
        memcpy(at, p, n);
}

/* Writes v as an n-byte big-endian integer. */
static void wr_be(pqcoap_writer *w, uint64_t v, size_t n)
{
    uint8_t *at = pqcoap_wr_reserve(w, n);
    if (!at)
        return;
    for (size_t i = 0; i < n; i++)
        at[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void pqcoap_wr_u8(pqcoap_writer *w, uint8_t v) { wr_be(w, v, 1); }
void pqcoap_wr_u16(pqcoap_writer *w, uint16_t v) { wr_be(w, v, 2); }
void pqcoap_wr_u32(pqcoap_writer *w, uint32_t v) { wr_be(w, v, 4); }
void pqcoap_wr_u64(pqcoap_writer *w, uint64_t v) { wr_be(w, v, 8); }

void pqcoap_wr_str8(pqcoap_writer *w, const uint8_t *p, size_t n)
{
    if (n > UINT8_MAX) {
        if (w->err == PQCOAP_OK)
            w->err = PQCOAP_ERR_ARG;
        return;
    }
    pqcoap_wr_u8(w, (uint8_t)n);
    pqcoap_wr_bytes(w, p, n);
}

void pqcoap_wr_str16(pqcoap_writer *w, const uint8_t *p, size_t n)
{
    if (n > UINT16_MAX) {
        if (w->err == PQCOAP_OK)
            w->err = PQCOAP_ERR_ARG;
        return;
    }
    pqcoap_wr_u16(w, (uint16_t)n);
    pqcoap_wr_bytes(w, p, n);
}

size_t pqcoap_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void pqcoap_wr_varint(pqcoap_writer *w, uint64_t v)
{
    if (v > PQCOAP_VARINT_MAX) {
        if (w->err == PQCOAP_OK)
            w->err = PQCOAP_ERR_ARG;
        return;
    }
    while (v >= 0x80) {
        pqcoap_wr_u8(w, (uint8_t)(0x80 | (v & 0x7f)));
        v >>= 7;
    }
    pqcoap_wr_u8(w, (uint8_t)v);
}
