/* libFuzzer target: option canonicalisation opts() (PROTOCOL.md) over a message view read
 * from the input (layout in fuzz_common.h). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_msg fm;
    fuzz_msg_read(data, size, &fm);
    uint8_t out[PQCOAP_OPTS_MAX];
    size_t out_len;
    if (pqcoap_opts(&fm.msg, out, sizeof out, &out_len) != PQCOAP_OK)
        return 0;
    /* accepted: u16 count of the options not left out, then each as u16 number ||
     * str16(value), in input order, and nothing else */
    pqcoap_reader r;
    uint16_t count;
    pqcoap_rd_init(&r, out, out_len);
    if (pqcoap_rd_u16(&r, &count) != PQCOAP_OK)
        __builtin_trap();
    size_t kept = 0;
    for (size_t i = 0; i < fm.msg.n_opts; i++) {
        const pqcoap_opt *o = &fm.msg.opts[i];
        if (pqcoap_opt_excluded(o->number))
            continue;
        uint16_t num;
        const uint8_t *val;
        size_t len;
        if (pqcoap_rd_u16(&r, &num) != PQCOAP_OK || pqcoap_rd_str16(&r, &val, &len) != PQCOAP_OK ||
            num != o->number || len != o->len || (len && memcmp(val, o->value, len) != 0))
            __builtin_trap();
        kept++;
    }
    if (count != kept || pqcoap_rd_end(&r) != PQCOAP_OK)
        __builtin_trap();
    return 0;
}
