/* Mode B symmetric KDF chains (PROTOCOL.md "Key schedule": mk_n and ck_n+1). */
#include "core/record_internal.h"
#include "common/buf_internal.h"

#include <string.h>

pqcoap_err pqcoap_chain_step(uint8_t ck[32], uint8_t mk[32])
{
    /* mk_n = HMAC-SHA256(ck_n, 0x01); ck_n+1 = HMAC-SHA256(ck_n, 0x02) */
    static const uint8_t one = 0x01, two = 0x02;
    const pqcoap_span in[2] = {{&one, 1}, {&two, 1}};
    uint8_t out[2][32];
    pqcoap_err err = pqcoap_hmac_sha256_each(ck, 32, in, 2, out);
    if (err == PQCOAP_OK) {
        memcpy(mk, out[0], 32);
        memcpy(ck, out[1], 32);
    } else {
        pqcoap_wipe(mk, 32);
    }
    pqcoap_wipe(out, sizeof out);
    return err;
}

pqcoap_err pqcoap_chain_next(pqcoap_chain *chain, uint8_t mk[32], uint64_t *n)
{
    PQCOAP_TRY(pqcoap_chain_step(chain->ck, mk));
    *n = chain->n++;
    return PQCOAP_OK;
}

void pqcoap_msg_nonce(uint64_t n, uint8_t nonce[12])
{
    /* nonce = 0x00000000 || u64 n */
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(n >> (8 * (7 - i)));
}
