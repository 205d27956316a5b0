/* libFuzzer target: RESP decoding and the initiator's handling of arbitrary RESP bytes,
 * every input against the same waiting initiator (fuzz_session.h). */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pqcoap_session none;
    fuzz_session *fs = fuzz_session_get();
    pqcoap_resp_view v;
    pqcoap_session out;
    memset(&out, 0, sizeof out);
    (void)pqcoap_resp_decode(data, size, &v);
    pqcoap_err err = pqcoap_initiator_finish(&fs->initiator, data, size, 1000, &out);
    /* a rejected RESP leaves no session behind and the initiator still waiting */
    if (err != PQCOAP_OK &&
        (memcmp(&out, &none, sizeof out) != 0 ||
         memcmp(&fs->initiator, &fs->pristine_initiator, sizeof fs->initiator) != 0))
        __builtin_trap();
    if (err == PQCOAP_OK && !out.live)
        __builtin_trap();
    pqcoap_session_wipe(&out);
    return 0;
}
