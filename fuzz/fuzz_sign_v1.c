/* libFuzzer target: Mode A v1 verification of arbitrary bytes as a signed payload
 * (message || signature || u16 len) against a fixed pinned key. */
#include "fuzz_common.h"
#include "pqcoap/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pqcoap_pubkey key = fuzz_sign_identity()->pub;
    key.usage = PQCOAP_USAGE_SIGN_V1; /* v1 verifies with v1 keys only */
    const uint8_t *m = NULL;
    size_t n = 0;
    if (pqcoap_verify_v1(&key, data, size, &m, &n) != PQCOAP_OK)
        return 0;
    /* accepted: the message is the payload's head, before at least 2 + 41 bytes */
    if (m != data || n + 2 + PQCOAP_SIGN_SIG_MIN > size)
        __builtin_trap();
    return 0;
}
