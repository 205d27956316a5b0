/* libFuzzer target: the client's unprotect of an arbitrary response (message view read from
 * the input, layout in fuzz_common.h; the payload is the protected payload) on the client
 * session of fuzz_session.h. Extra bits 0-1: the request number it answers. */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session *fs = fuzz_session_get();
    fuzz_msg fm;
    fuzz_msg_read(data, size, &fm);
    pqcoap_session *client = &fs->client_session;
    client->send.n = 4; /* requests 0..3 count as sent: responses may answer any of them */
    pqcoap_session before = *client;
    uint8_t plain[2048];
    size_t plain_len = 0;
    pqcoap_err err = pqcoap_session_unprotect_response(client, fm.extra & 3, &fm.msg, 1000,
                                                       plain, sizeof plain, &plain_len);
    /* a forged, replayed or malformed response changes nothing (PROTOCOL.md) */
    if (err != PQCOAP_OK && memcmp(client, &before, sizeof before) != 0)
        __builtin_trap();
    if (err == PQCOAP_OK && plain_len > fm.msg.payload_len)
        __builtin_trap();
    return 0;
}
