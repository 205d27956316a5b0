/* The one bounds-checked reader and writer of pqcoap, and the LEB128 varint of
 * PROTOCOL.md. Every decoder of untrusted bytes goes through pqcoap_rd_*. */
#ifndef PQCOAP_BUF_INTERNAL_H
#define PQCOAP_BUF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "pqcoap/error.h"

/** Cursor over borrowed bytes. Reads never pass `len`; a failed read leaves pos unchanged. */
typedef struct pqcoap_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
} pqcoap_reader;

/** Cursor over a caller-owned output buffer with a sticky error: once a write does not fit,
 *  err is PQCOAP_ERR_BUFFER and later writes do nothing. */
typedef struct pqcoap_writer {
    uint8_t *p;
    size_t cap;
    size_t len;
    pqcoap_err err;
} pqcoap_writer;

#define PQCOAP_VARINT_MAX_LEN 8
#define PQCOAP_VARINT_MAX ((UINT64_C(1) << 56) - 1)

void pqcoap_rd_init(pqcoap_reader *r, const uint8_t *p, size_t len);
size_t pqcoap_rd_left(const pqcoap_reader *r);
pqcoap_err pqcoap_rd_u8(pqcoap_reader *r, uint8_t *v);
pqcoap_err pqcoap_rd_u16(pqcoap_reader *r, uint16_t *v);
pqcoap_err pqcoap_rd_u32(pqcoap_reader *r, uint32_t *v);
pqcoap_err pqcoap_rd_u64(pqcoap_reader *r, uint64_t *v);
/** Borrows the next n bytes: *p points into the reader's buffer. */
pqcoap_err pqcoap_rd_bytes(pqcoap_reader *r, size_t n, const uint8_t **p);
/** Copies the next n bytes into out. */
pqcoap_err pqcoap_rd_copy(pqcoap_reader *r, uint8_t *out, size_t n);
/** str8 / str16: length prefix then borrowed bytes. */
pqcoap_err pqcoap_rd_str8(pqcoap_reader *r, const uint8_t **p, size_t *n);
pqcoap_err pqcoap_rd_str16(pqcoap_reader *r, const uint8_t **p, size_t *n);
/** Minimal LEB128, at most 8 bytes; non-minimal or longer is PQCOAP_ERR_MALFORMED. */
pqcoap_err pqcoap_rd_varint(pqcoap_reader *r, uint64_t *v);
/** PQCOAP_OK only if every byte was consumed, else PQCOAP_ERR_MALFORMED. */
pqcoap_err pqcoap_rd_end(const pqcoap_reader *r);

void pqcoap_wr_init(pqcoap_writer *w, uint8_t *p, size_t cap);
void pqcoap_wr_u8(pqcoap_writer *w, uint8_t v);
void pqcoap_wr_u16(pqcoap_writer *w, uint16_t v);
void pqcoap_wr_u32(pqcoap_writer *w, uint32_t v);
void pqcoap_wr_u64(pqcoap_writer *w, uint64_t v);
void pqcoap_wr_bytes(pqcoap_writer *w, const uint8_t *p, size_t n);
/** str8 / str16; a value too long for the prefix sets err to PQCOAP_ERR_ARG. */
void pqcoap_wr_str8(pqcoap_writer *w, const uint8_t *p, size_t n);
void pqcoap_wr_str16(pqcoap_writer *w, const uint8_t *p, size_t n);
/** Minimal LEB128; v > PQCOAP_VARINT_MAX sets err to PQCOAP_ERR_ARG. */
void pqcoap_wr_varint(pqcoap_writer *w, uint64_t v);
/** Reserves n bytes and returns where they start (NULL and sticky error if they don't fit). */
uint8_t *pqcoap_wr_reserve(pqcoap_writer *w, size_t n);

/** Number of bytes varint(v) takes (v <= PQCOAP_VARINT_MAX). */
size_t pqcoap_varint_len(uint64_t v);

/** Returns from the enclosing function if `expr` is not PQCOAP_OK. */
#define PQCOAP_TRY(expr) do { pqcoap_err try_err_ = (expr); \
    if (try_err_ != PQCOAP_OK) return try_err_; } while (0)

#endif
