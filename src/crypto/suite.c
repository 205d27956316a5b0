/* The suites named by the suite byte of PROTOCOL.md. */
#include "crypto/crypto_internal.h"

static const pqcoap_suite suites[] = {
    {0x01, &pqcoap_sig_falcon512, &pqcoap_kem_mlkem768},   /* PROTOCOL.md suite 0x01 */
    {0x02, &pqcoap_sig_falcon1024, &pqcoap_kem_mlkem1024}, /* PROTOCOL.md suite 0x02 */
};

const pqcoap_suite *pqcoap_suite_find(uint8_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}
