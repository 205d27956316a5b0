/* Falcon-512 signing with an expanded private key (falcon_tree.h). */
#include "crypto_sign/falcon-512/clean/api.h"
#include "crypto_sign/falcon-512/clean/inner.h"

#define FALCON_LOGN 9
#define FALCON_NS(x) PQCLEAN_FALCON512_CLEAN_##x
#define FALCON_FN(x) pqcoap_falcon512_##x
#include "crypto/falcon_tree.h"
