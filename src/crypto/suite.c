/* The suites named by the suite byte of PROTOCOL.md "Algorithms", and their names in the
 * public API (pqcoap/session.h). */
#include "crypto/crypto_internal.h"
#include "pqcoap/session.h"

#include <string.h>

static const pqcoap_suite suites[] = {
    {0x01, "falcon512-mlkem768", &pqcoap_sig_falcon512, &pqcoap_kem_mlkem768},
    {0x02, "falcon1024-mlkem1024", &pqcoap_sig_falcon1024, &pqcoap_kem_mlkem1024},
    {0x03, "mldsa65-mlkem768", &pqcoap_sig_mldsa65, &pqcoap_kem_mlkem768},
    {0x04, "mldsa87-mlkem1024", &pqcoap_sig_mldsa87, &pqcoap_kem_mlkem1024},
};

#define N_SUITES (sizeof suites / sizeof suites[0])

const pqcoap_suite *pqcoap_suite_at(size_t i)
{
    return i < N_SUITES ? &suites[i] : NULL;
}

const pqcoap_suite *pqcoap_suite_find(uint8_t id)
{
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

const pqcoap_suite *pqcoap_suite_by_name(const char *name)
{
    for (size_t i = 0; name && i < N_SUITES; i++)
        if (strcmp(suites[i].name, name) == 0)
            return &suites[i];
    return NULL;
}

const pqcoap_suite *pqcoap_suite_for_sig(const pqcoap_sig_alg *sig)
{
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].sig == sig)
            return &suites[i];
    return NULL;
}

uint8_t pqcoap_suite_id(const char *name)
{
    const pqcoap_suite *s = pqcoap_suite_by_name(name);
    return s ? s->id : 0;
}

const char *pqcoap_suite_name(uint8_t id)
{
    const pqcoap_suite *s = pqcoap_suite_find(id);
    return s ? s->name : NULL;
}

const char *pqcoap_suite_sig_alg(uint8_t id)
{
    const pqcoap_suite *s = pqcoap_suite_find(id);
    return s ? s->sig->name : NULL;
}

uint8_t pqcoap_suite_for_alg(const char *alg)
{
    const pqcoap_sig_alg *sig = alg ? pqcoap_sig_alg_by_name((const uint8_t *)alg, strlen(alg))
                                    : NULL;
    const pqcoap_suite *s = sig ? pqcoap_suite_for_sig(sig) : NULL;
    return s ? s->id : 0;
}
