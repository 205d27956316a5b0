/* Library version and build information (pqcoap_version, pqcoap_build_info). */
#include "pqcoap/pqcoap.h"

#include <pthread.h>
#include <stdio.h>
#include <openssl/crypto.h>

static char build_info[640];
static pthread_once_t build_info_once = PTHREAD_ONCE_INIT;

const char *pqcoap_version(void)
{
    return PQCOAP_VERSION_STRING;
}

static void build_info_init(void)
{
    /* The OpenSSL version is the one loaded at run time; the others are fixed at build. */
    snprintf(build_info, sizeof build_info,
             "pqcoap %s (suites: 0x01 falcon512-mlkem768 (Falcon-512 + ML-KEM-768), "
             "0x02 falcon1024-mlkem1024 (Falcon-1024 + ML-KEM-1024), "
             "0x03 mldsa65-mlkem768 (ML-DSA-65 + ML-KEM-768), "
             "0x04 mldsa87-mlkem1024 (ML-DSA-87 + ML-KEM-1024), each with X25519, AES-256-GCM, "
             "HKDF-SHA256; "
             "keys: falcon-512, falcon-1024, ml-dsa-44, ml-dsa-65, ml-dsa-87; "
             "%s, libcoap %s, PQClean %s)",
             PQCOAP_VERSION_STRING, OpenSSL_version(OPENSSL_VERSION), PQCOAP_LIBCOAP_VERSION,
             PQCOAP_PQCLEAN_VERSION);
}

const char *pqcoap_build_info(void)
{
    pthread_once(&build_info_once, build_info_init);
    return build_info;
}
