/* libFuzzer target: RESP decoding and the initiator's handling of arbitrary RESP bytes. */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_session fs;
    static pqcoap_initiator st;
    static int ready;
    if (!ready) {
        fuzz_session_setup(&fs);
        ready = 1;
    }
    st = fs.initiator; /* every input meets the same waiting initiator */
    pqcoap_resp_view v;
    pqcoap_session out;
    memset(&out, 0, sizeof out);
    (void)pqcoap_resp_decode(data, size, &v);
    (void)pqcoap_initiator_finish(&st, data, size, 1000, &out);
    pqcoap_session_wipe(&out);
    return 0;
}
