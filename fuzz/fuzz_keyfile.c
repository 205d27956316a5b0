/* libFuzzer target: the secret and public key file parsers (docs/KEYS.md) over arbitrary
 * bytes. */
#include "fuzz_common.h"
#include "crypto/crypto_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted file is exactly the canonical encoding of the key it holds: the encoder's
 * result (err, text[0..len)) equals the input. */
static void same_as_input(pqcoap_err err, const uint8_t *text, size_t len, const uint8_t *data,
                          size_t size)
{
    if (err != PQCOAP_OK || len != size || memcmp(text, data, size) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t text[PQCOAP_KEYFILE_MAX];
    size_t len = 0;
    pqcoap_pubkey pub;
    pqcoap_identity id;
    if (pqcoap_pubkey_parse(data, size, &pub) == PQCOAP_OK)
        same_as_input(pqcoap_pubkey_encode(&pub, text, sizeof text, &len), text, len, data, size);
    if (pqcoap_identity_parse(data, size, &id) == PQCOAP_OK)
        same_as_input(pqcoap_identity_encode(&id, text, sizeof text, &len), text, len, data,
                      size);
    pqcoap_wipe(text, sizeof text);
    pqcoap_identity_wipe(&id);
    return 0;
}
