/* libFuzzer target: INIT decoding and the responder's handling of arbitrary INIT bytes. */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_session fs;
    static pqcoap_session pristine[2];
    static int ready;
    if (!ready) {
        fuzz_session_setup(&fs);
        memcpy(pristine, fs.slots, sizeof pristine);
        ready = 1;
    }
    memcpy(fs.slots, pristine, sizeof pristine); /* every input meets the same table */
    pqcoap_init_view v;
    uint8_t resp[PQCOAP_RESP_MAX];
    size_t resp_len;
    (void)pqcoap_init_decode(data, size, &v);
    (void)pqcoap_responder_handshake(&fs.responder, data, size, 1000, resp, sizeof resp,
                                     &resp_len);
    return 0;
}
