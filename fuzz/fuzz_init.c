/* libFuzzer target: INIT decoding and the responder's handling of arbitrary INIT bytes,
 * every input against the same responder state (fuzz_session.h). */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session *fs = fuzz_session_get();
    pqcoap_init_view v;
    uint8_t resp[PQCOAP_RESP_MAX];
    size_t resp_len = 0;
    (void)pqcoap_init_decode(data, size, &v);
    pqcoap_err err = pqcoap_responder_handshake(&fs->responder, data, size, 1000, resp,
                                                sizeof resp, &resp_len);
    if (err == PQCOAP_OK) {
        /* the RESP written is a well-formed RESP */
        pqcoap_resp_view rv;
        if (resp_len > sizeof resp || pqcoap_resp_decode(resp, resp_len, &rv) != PQCOAP_OK)
            __builtin_trap();
    } else if (memcmp(fs->slots, fs->pristine_slots, sizeof fs->slots) != 0) {
        __builtin_trap(); /* a rejected INIT creates or changes no session */
    }
    return 0;
}
