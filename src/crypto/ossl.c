/* Fetches the OpenSSL algorithms of the crypto layer once per process (pthread_once). */
#include "crypto/ossl_internal.h"

#include <pthread.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

static pqcoap_ossl ossl;
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

static EVP_MAC_CTX *hmac_template(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (ctx == NULL)
        return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* A throw-away key makes the template complete, so EVP_MAC_CTX_dup can copy it; every
     * copy is re-keyed by EVP_MAC_init before use. */
    static const uint8_t placeholder_key[1];
    if (EVP_MAC_init(ctx, placeholder_key, sizeof placeholder_key, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void ossl_init(void)
{
    ossl.sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    ossl.aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    ossl.aes128ccm = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
    ossl.aes256ccm = EVP_CIPHER_fetch(NULL, "AES-256-CCM", NULL);
    ossl.hmac = hmac_template();
}

const pqcoap_ossl *pqcoap_ossl_get(void)
{
    pthread_once(&ossl_once, ossl_init);
    return &ossl;
}
