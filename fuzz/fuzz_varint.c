/* libFuzzer target: the varint decoder (PROTOCOL.md: LEB128, at most 8 bytes, minimal) over
 * the input read as a sequence of varints. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pqcoap_reader r;
    pqcoap_rd_init(&r, data, size);
    for (;;) {
        size_t start = r.pos;
        uint64_t v;
        if (pqcoap_rd_varint(&r, &v) != PQCOAP_OK)
            break;
        /* an accepted varint re-encodes to exactly the bytes read (minimal, <= 8 bytes) */
        uint8_t enc[PQCOAP_VARINT_MAX_LEN];
        pqcoap_writer w;
        pqcoap_wr_init(&w, enc, sizeof enc);
        pqcoap_wr_varint(&w, v);
        if (w.err != PQCOAP_OK || w.len != r.pos - start || w.len != pqcoap_varint_len(v) ||
            memcmp(enc, data + start, w.len) != 0)
            __builtin_trap();
    }
    return 0;
}
