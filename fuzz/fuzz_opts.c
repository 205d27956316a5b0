/* libFuzzer target: the varint decoder and opts() over an option list decoded from the input. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf_internal.h"
#include "pqcoap/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pqcoap_reader r;
    uint64_t v;
    pqcoap_rd_init(&r, data, size);
    if (pqcoap_rd_varint(&r, &v) == PQCOAP_OK) {
        uint8_t enc[PQCOAP_VARINT_MAX_LEN];
        pqcoap_writer w;
        pqcoap_wr_init(&w, enc, sizeof enc);
        pqcoap_wr_varint(&w, v);
        /* a decoded varint re-encodes to exactly the bytes read (minimality) */
        if (w.err != PQCOAP_OK || w.len != r.pos)
            __builtin_trap();
    }

    /* input as a list of (u16 number, str8 value) options */
    pqcoap_opt opts[32];
    size_t n = 0;
    pqcoap_rd_init(&r, data, size);
    while (n < 32) {
        uint16_t num;
        const uint8_t *val;
        size_t len;
        if (pqcoap_rd_u16(&r, &num) != PQCOAP_OK || pqcoap_rd_str8(&r, &val, &len) != PQCOAP_OK)
            break;
        opts[n].number = num;
        opts[n].value = val;
        opts[n].len = len;
        n++;
    }
    pqcoap_msg m = PQCOAP_MSG_INIT;
    m.opts = opts;
    m.n_opts = n;
    uint8_t out[PQCOAP_OPTS_MAX];
    size_t out_len;
    if (pqcoap_opts(&m, out, sizeof out, &out_len) == PQCOAP_OK && out_len < 2)
        __builtin_trap();
    return 0;
}
