/* libFuzzer target: the client's Block2 handling (pqcoap_client_block2_take, src/net/client.c)
 * driven by a sequence of response blocks; a transfer that ends (complete or refused) is
 * followed by a new one, as the client's next request.
 * Input: u8 limit || u8 overhead || block*, each block
 *   u8 flags (bits 0-2 SZX mod 7, 3 M, 4 Size2, 5 ETag, 6 payload from the input, 7 NUM from
 *   the input) || [u8 NUM bits 16-19 || u16 NUM bits 0-15] || [varint Size2] || [str8 ETag]
 *   || u16 length (bit 15: one whole block, else bits 0-10) || [payload].
 * Without NUM from the input a block is the next one after the body so far; a payload not
 * from the input is the transfer's pattern. Checked after every block: the body stays within
 * the limit, a block is taken exactly when it is the next one in order, of its full size
 * while M is set, with block 0's ETag, no past the limit, announced or received, and a
 * complete body is the concatenation of the blocks taken, in order. */
#include "fuzz_common.h"
#include "net/client_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAYLOAD 2048

static uint8_t pattern(unsigned transfer, size_t pos)
{
    return (uint8_t)(pos * 131 + (pos >> 8) * 7 + transfer);
}

/* What the harness knows of the transfer: the blocks taken, concatenated. */
typedef struct model {
    uint8_t body[256 * 64 + 255];
    size_t len;
    uint8_t etag[8];
    size_t etag_len;
    unsigned transfer;
} model;

/* The error a block must get (PQCOAP_OK: it must be taken), by RFC 7959 section 2.4 and
 * section 4 over the blocks taken so far. */
static pqcoap_err expected(const model *m, const pqcoap_client_block *b, size_t limit)
{
    size_t bs = (size_t)16 << b->szx, offset = (size_t)b->num * bs;
    if (b->size2 > limit)
        return PQCOAP_ERR_TOO_LARGE;
    if (offset != m->len || (b->more && b->payload_len != bs))
        return PQCOAP_ERR_MALFORMED;
    if (offset == 0 && b->etag_len > sizeof m->etag)
        return PQCOAP_ERR_MALFORMED; /* no ETag of block 0 can be kept: the next differs */
    if (offset > 0 && (b->etag_len != m->etag_len ||
                       (b->etag_len && memcmp(b->etag, m->etag, b->etag_len) != 0)))
        return PQCOAP_ERR_MALFORMED;
    if (offset + b->payload_len > limit)
        return PQCOAP_ERR_TOO_LARGE;
    return PQCOAP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static model m;
    static uint8_t payload[MAX_PAYLOAD];
    pqcoap_reader r;
    uint8_t lim, overhead;
    pqcoap_rd_init(&r, data, size);
    if (pqcoap_rd_u8(&r, &lim) != PQCOAP_OK || pqcoap_rd_u8(&r, &overhead) != PQCOAP_OK)
        return 0;
    size_t max_body = ((size_t)lim + 1) * 64, limit = max_body + overhead;
    pqcoap_client_b2 b2;
    memset(&b2, 0, sizeof b2);
    b2.body.limit = limit;
    memset(&m, 0, sizeof m);

    for (;;) {
        uint8_t flags, num_hi = 0;
        uint16_t num_lo = 0, plen;
        uint64_t size2 = 0;
        const uint8_t *etag = NULL, *input_payload = NULL;
        size_t etag_len = 0;
        if (pqcoap_rd_u8(&r, &flags) != PQCOAP_OK ||
            ((flags & 0x80) && (pqcoap_rd_u8(&r, &num_hi) != PQCOAP_OK ||
                                pqcoap_rd_u16(&r, &num_lo) != PQCOAP_OK)) ||
            ((flags & 0x10) && pqcoap_rd_varint(&r, &size2) != PQCOAP_OK) ||
            ((flags & 0x20) && pqcoap_rd_str8(&r, &etag, &etag_len) != PQCOAP_OK) ||
            pqcoap_rd_u16(&r, &plen) != PQCOAP_OK)
            break;
        unsigned szx = (flags & 7) % 7;
        size_t bs = (size_t)16 << szx;
        size_t len = (plen & 0x8000) ? bs : (size_t)(plen & 0x7ff);
        uint32_t num = (flags & 0x80) ? (uint32_t)(num_hi & 15) << 16 | num_lo
                                      : (uint32_t)(m.len / bs);
        size_t offset = (size_t)num * bs;
        if ((flags & 0x40) && pqcoap_rd_bytes(&r, len, &input_payload) != PQCOAP_OK)
            break;
        if (!input_payload)
            for (size_t i = 0; i < len; i++)
                payload[i] = pattern(m.transfer, offset + i);
        const pqcoap_client_block b = {num, (flags >> 3) & 1, szx, size2, etag, etag_len,
                                       input_payload ? input_payload : payload, len};
        pqcoap_err want = expected(&m, &b, limit);

        char msg[256] = "";
        int done = -1;
        size_t before = b2.body.len;
        pqcoap_err err = pqcoap_client_block2_take(&b2, &b, max_body, msg, sizeof msg, &done);
        if (b2.body.len > limit || b2.body.cap > limit || done < 0)
            __builtin_trap();
        if (err != want)
            __builtin_trap();
        if (err == PQCOAP_OK) {
            /* taken: the next block in order, appended to the body */
            if (offset != before || b2.body.len != offset + len || done != !b.more)
                __builtin_trap();
            if (offset == 0) {
                if (etag_len)
                    memcpy(m.etag, etag, etag_len);
                m.etag_len = etag_len;
            }
            if (len)
                memcpy(m.body + m.len, b.payload, len);
            m.len += len;
            if (b2.body.len != m.len || (m.len && memcmp(b2.body.data, m.body, m.len) != 0))
                __builtin_trap();
            if (!done)
                continue;
        } else if (msg[0] == '\0' || done != 0) {
            __builtin_trap();
        }
        /* the transfer is over, complete or refused: the client's next request starts anew */
        pqcoap_net_body_free(&b2.body);
        memset(&b2, 0, sizeof b2);
        b2.body.limit = limit;
        m.len = 0;
        m.etag_len = 0;
        m.transfer++;
    }
    pqcoap_net_body_free(&b2.body);
    return 0;
}
