/* libFuzzer target: the server's unprotect of an arbitrary request (message view read from
 * the input, layout in fuzz_common.h; the payload is the protected payload) against the
 * responder of fuzz_session.h with its live session sid 1. */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session *fs = fuzz_session_get();
    fuzz_msg fm;
    fuzz_msg_read(data, size, &fm);
    uint8_t plain[2048];
    size_t plain_len = 0;
    pqcoap_req_ctx ctx;
    pqcoap_err err = pqcoap_responder_unprotect(&fs->responder, &fm.msg, 1000, plain,
                                                sizeof plain, &plain_len, &ctx);
    /* a forged, replayed or malformed request changes nothing (PROTOCOL.md) */
    if (err != PQCOAP_OK && err != PQCOAP_ERR_EXPIRED &&
        memcmp(fs->slots, fs->pristine_slots, sizeof fs->slots) != 0)
        __builtin_trap();
    if (err == PQCOAP_OK && plain_len > fm.msg.payload_len)
        __builtin_trap();
    return 0;
}
