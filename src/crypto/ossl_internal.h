/* OpenSSL algorithm objects of the crypto layer, fetched once per process (not per call) so
 * that the per-message primitives of the Mode B ratchet stay cheap. */
#ifndef PQCOAP_OSSL_INTERNAL_H
#define PQCOAP_OSSL_INTERNAL_H

#include <openssl/evp.h>

/** The fetched algorithms; NULL members mean the fetch failed (callers return
 *  PQCOAP_ERR_CRYPTO). `hmac` is an HMAC-SHA256 context carrying the digest but no key:
 *  duplicate it with EVP_MAC_CTX_dup and key the copy with EVP_MAC_init. All members are
 *  read-only after the first call, so threads may share them. */
typedef struct pqcoap_ossl {
    EVP_MD *sha256;
    EVP_CIPHER *aes256gcm;
    EVP_CIPHER *aes128ccm;
    EVP_CIPHER *aes256ccm;
    EVP_MAC_CTX *hmac;
} pqcoap_ossl;

/** The process-wide algorithms, fetched on first use (thread-safe). Never NULL. */
const pqcoap_ossl *pqcoap_ossl_get(void);

#endif
