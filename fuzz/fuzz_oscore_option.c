/* libFuzzer target: the OSCORE option value (RFC 8613 section 6.1). An accepted value must
 * be exactly the encoding of the fields it decoded to, every field inside the input. */
#include "fuzz_common.h"
#include "pqcoap/oscore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pqcoap_oscore_option o;
    if (pqcoap_oscore_option_parse(data, size, &o) != PQCOAP_OK)
        return 0;
    if (size == 0) {
        if (o.piv_len || o.has_kid || o.has_kid_context)
            __builtin_trap();
        return 0;
    }
    uint8_t again[300];
    pqcoap_writer w;
    pqcoap_wr_init(&w, again, sizeof again);
    pqcoap_wr_u8(&w, (uint8_t)(o.piv_len | (o.has_kid ? 0x08 : 0) |
                               (o.has_kid_context ? 0x10 : 0)));
    pqcoap_wr_bytes(&w, o.piv, o.piv_len);
    if (o.has_kid_context)
        pqcoap_wr_str8(&w, o.kid_context, o.kid_context_len);
    if (o.has_kid)
        pqcoap_wr_bytes(&w, o.kid, o.kid_len);
    if (o.piv_len > PQCOAP_OSCORE_PIV_MAX || w.err != PQCOAP_OK || w.len != size ||
        memcmp(again, data, size) != 0)
        __builtin_trap();
    return 0;
}
