/* Falcon-1024 signing with an expanded private key (falcon_tree.h). */
#include "crypto_sign/falcon-1024/clean/api.h"
#include "crypto_sign/falcon-1024/clean/inner.h"

#define FALCON_LOGN 10
#define FALCON_NS(x) PQCLEAN_FALCON1024_CLEAN_##x
#define FALCON_FN(x) pqcoap_falcon1024_##x
#include "crypto/falcon_tree.h"
