/* libFuzzer target: the server's unprotect of arbitrary request payloads and the client's
 * unprotect of arbitrary response payloads, over a fixed established session. The first
 * input byte picks the direction and the CoAP code; the rest is the payload. */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_session fs;
    static pqcoap_session pristine_slots[2], client;
    static int ready;
    static const uint8_t token[2] = {0x12, 0x34};
    static const pqcoap_opt opts[] = {{PQCOAP_OPT_URI_PATH, (const uint8_t *)"x", 1}};
    if (!ready) {
        fuzz_session_setup(&fs);
        memcpy(pristine_slots, fs.slots, sizeof pristine_slots);
        ready = 1;
    }
    if (size == 0)
        return 0;
    memcpy(fs.slots, pristine_slots, sizeof pristine_slots);
    client = fs.client_session;
    client.send.n = 4; /* requests 0..3 were sent: responses may refer to them */

    pqcoap_msg m = {(uint8_t)(data[0] >> 1), token, sizeof token, opts, 1, data + 1, size - 1};
    uint8_t plain[2048];
    size_t plain_len;
    if (data[0] & 1) {
        pqcoap_req_ctx ctx;
        (void)pqcoap_responder_unprotect(&fs.responder, &m, 1000, plain, sizeof plain,
                                         &plain_len, &ctx);
    } else {
        (void)pqcoap_session_unprotect_response(&client, data[0] % 4, &m, 1000, plain,
                                                sizeof plain, &plain_len);
    }
    return 0;
}
