/* Wiping of secrets and constant-time comparison (OpenSSL's implementations). */
#include "crypto/crypto_internal.h"

#include <openssl/crypto.h>

void pqcoap_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}

int pqcoap_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
