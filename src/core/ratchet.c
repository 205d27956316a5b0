/* Mode B key schedule and symmetric KDF chains (PROTOCOL.md "Key schedule"). */
#include "core/session_internal.h"
#include "common/buf_internal.h"

#include <string.h>

static const char LABEL_C2S[] = "pqcoap v1 c2s";
static const char LABEL_S2C[] = "pqcoap v1 s2c";

pqcoap_err pqcoap_key_schedule(const uint8_t *init, size_t init_len,
                               const uint8_t *resp, size_t resp_len,
                               const uint8_t kem_ss[32], const uint8_t x25519_ss[32],
                               uint8_t ck_c2s[32], uint8_t ck_s2c[32])
{
    /* TH = SHA-256(INIT || RESP) */
    const pqcoap_span transcript[2] = {{init, init_len}, {resp, resp_len}};
    uint8_t th[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_sha256(transcript, 2, th));
    /* PRK = HKDF-Extract(salt = TH, IKM = kem_ss || x25519_ss) */
    const pqcoap_span ikm[2] = {{kem_ss, PQCOAP_KEM_SS_LEN}, {x25519_ss, PQCOAP_X25519_LEN}};
    uint8_t prk[PQCOAP_SHA256_LEN];
    pqcoap_err err = pqcoap_hkdf_extract(th, sizeof th, ikm, 2, prk);
    /* ck_c2s_0 = HKDF-Expand(PRK, "pqcoap v1 c2s", 32), ck_s2c_0 likewise */
    if (err == PQCOAP_OK)
        err = pqcoap_hkdf_expand(prk, sizeof prk, (const uint8_t *)LABEL_C2S,
                                 sizeof LABEL_C2S - 1, ck_c2s, 32);
    if (err == PQCOAP_OK)
        err = pqcoap_hkdf_expand(prk, sizeof prk, (const uint8_t *)LABEL_S2C,
                                 sizeof LABEL_S2C - 1, ck_s2c, 32);
    pqcoap_wipe(prk, sizeof prk);
    return err;
}

pqcoap_err pqcoap_chain_step(uint8_t ck[32], uint8_t mk[32])
{
    /* mk_n = HMAC-SHA256(ck_n, 0x01); ck_n+1 = HMAC-SHA256(ck_n, 0x02) */
    static const uint8_t one = 0x01, two = 0x02;
    const pqcoap_span in_mk = {&one, 1}, in_ck = {&two, 1};
    uint8_t next[32];
    pqcoap_err err = pqcoap_hmac_sha256(ck, 32, &in_mk, 1, mk);
    if (err == PQCOAP_OK)
        err = pqcoap_hmac_sha256(ck, 32, &in_ck, 1, next);
    if (err == PQCOAP_OK)
        memcpy(ck, next, 32);
    else
        pqcoap_wipe(mk, 32);
    pqcoap_wipe(next, sizeof next);
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
