/* OSCORE keyed by the handshake (PROTOCOL.md "OSCORE keyed by the handshake"): the OSCORE
 * parameters INIT and RESP carry, and the Master Secret and Master Salt exported from the
 * handshake's PRK, as EDHOC keys OSCORE (RFC 9528 Appendix A.1) with labels of our own. */
#include "core/handshake_internal.h"
#include "common/buf_internal.h"

#include <string.h>

static const char LABEL_SECRET[] = "pqcoap v2 oscore master secret";
static const char LABEL_SALT[] = "pqcoap v2 oscore master salt";

_Static_assert(PQCOAP_HS_PARAMS_MAX >= 1 + 1 + 1 + PQCOAP_OSCORE_ID_MAX, "params too small");

void pqcoap_hs_oscore_params(const pqcoap_hs_oscore *k, pqcoap_oscore_params *p)
{
    const pqcoap_oscore_params init = PQCOAP_OSCORE_PARAMS_INIT;
    *p = init;
    p->master_secret = k->master_secret;
    p->master_secret_len = sizeof k->master_secret;
    p->master_salt = k->master_salt;
    p->master_salt_len = sizeof k->master_salt;
    p->sender_id = k->sender_id;
    p->sender_id_len = k->sender_id_len;
    p->recipient_id = k->recipient_id;
    p->recipient_id_len = k->recipient_id_len;
    p->aead_alg = k->aead_alg;
    p->hkdf_alg = k->hkdf_alg;
}

/* The longest Sender or Recipient ID the AEAD allows (RFC 8613 section 3.3: nonce - 6),
 * within PQCOAP_OSCORE_ID_MAX; 0 with *ok = 0 if the AEAD is unknown. */
static size_t id_max(int aead, int *ok)
{
    const pqcoap_cose_aead *a = pqcoap_cose_aead_find(aead);
    *ok = a != NULL;
    if (!a)
        return 0;
    size_t n = a->nonce_len - 6;
    return n < PQCOAP_OSCORE_ID_MAX ? n : PQCOAP_OSCORE_ID_MAX;
}

/* i8 aead || i8 hkdf || str8(id) */
static pqcoap_err encode(int aead, int hkdf, const uint8_t *id, size_t id_len, uint8_t *out,
                         size_t cap, size_t *out_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, (uint8_t)(int8_t)aead);
    pqcoap_wr_u8(&w, (uint8_t)(int8_t)hkdf);
    pqcoap_wr_str8(&w, id, id_len);
    if (w.err != PQCOAP_OK)
        return w.err;
    *out_len = w.len;
    return PQCOAP_OK;
}

static pqcoap_err decode(const uint8_t *in, size_t len, int *aead, int *hkdf,
                         const uint8_t **id, size_t *id_len)
{
    pqcoap_reader r;
    uint8_t a, h;
    pqcoap_rd_init(&r, in, len);
    PQCOAP_TRY(pqcoap_rd_u8(&r, &a));
    PQCOAP_TRY(pqcoap_rd_u8(&r, &h));
    PQCOAP_TRY(pqcoap_rd_str8(&r, id, id_len));
    *aead = (int8_t)a;
    *hkdf = (int8_t)h;
    return pqcoap_rd_end(&r);
}

pqcoap_err pqcoap_hs_oscore_request_encode(const pqcoap_oscore_request *req, uint8_t *out,
                                           size_t cap, size_t *out_len)
{
    int ok;
    if (!req || (req->recipient_id_len && !req->recipient_id))
        return PQCOAP_ERR_ARG;
    size_t max = id_max(req->aead_alg, &ok);
    if (!ok)
        return PQCOAP_ERR_UNSUPPORTED;
    if (req->recipient_id_len > max)
        return PQCOAP_ERR_ARG;
    return encode(req->aead_alg, PQCOAP_COSE_HKDF_SHA256, req->recipient_id,
                  req->recipient_id_len, out, cap, out_len);
}

pqcoap_err pqcoap_hs_oscore_init_decode(const uint8_t *params, size_t len, pqcoap_hs_oscore *k)
{
    const uint8_t *id;
    size_t id_len;
    int ok;
    PQCOAP_TRY(decode(params, len, &k->aead_alg, &k->hkdf_alg, &id, &id_len));
    size_t max = id_max(k->aead_alg, &ok);
    if (!ok || k->hkdf_alg != PQCOAP_COSE_HKDF_SHA256 || id_len > max)
        return PQCOAP_ERR_UNSUPPORTED;
    memcpy(k->sender_id, id, id_len); /* the initiator's Recipient ID is our Sender ID */
    k->sender_id_len = id_len;
    return PQCOAP_OK;
}

size_t pqcoap_hs_oscore_id(uint32_t id, uint8_t out[4])
{
    size_t n = id > 0xffffffu ? 4 : id > 0xffffu ? 3 : id > 0xffu ? 2 : 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(id >> (8 * (n - 1 - i)));
    return n;
}

pqcoap_err pqcoap_hs_oscore_resp_encode(const pqcoap_hs_oscore *k, uint8_t *out, size_t cap,
                                        size_t *out_len)
{
    return encode(k->aead_alg, k->hkdf_alg, k->recipient_id, k->recipient_id_len, out, cap,
                  out_len);
}

pqcoap_err pqcoap_hs_oscore_resp_check(const uint8_t *init_params, size_t init_len,
                                       const uint8_t *resp_params, size_t resp_len,
                                       pqcoap_hs_oscore *k)
{
    int aead, hkdf, ok;
    const uint8_t *c_i, *c_r;
    size_t c_i_len, c_r_len;
    if (decode(init_params, init_len, &aead, &hkdf, &c_i, &c_i_len) != PQCOAP_OK ||
        decode(resp_params, resp_len, &k->aead_alg, &k->hkdf_alg, &c_r, &c_r_len) != PQCOAP_OK)
        return PQCOAP_ERR_HANDSHAKE;
    size_t max = id_max(aead, &ok);
    /* what INIT asked for, no other algorithm; C_R other than C_I (RFC 9528 3.3.3) */
    if (k->aead_alg != aead || k->hkdf_alg != hkdf || c_r_len == 0 || c_r_len > max ||
        (c_r_len == c_i_len && memcmp(c_r, c_i, c_r_len) == 0))
        return PQCOAP_ERR_HANDSHAKE;
    memcpy(k->sender_id, c_r, c_r_len);
    k->sender_id_len = c_r_len;
    memcpy(k->recipient_id, c_i, c_i_len);
    k->recipient_id_len = c_i_len;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_hs_oscore_export(const uint8_t prk[32], pqcoap_hs_oscore *k)
{
    /* Master Secret = HKDF-Expand(PRK, "pqcoap v2 oscore master secret", 32),
     * Master Salt = HKDF-Expand(PRK, "pqcoap v2 oscore master salt", 8) */
    PQCOAP_TRY(pqcoap_hkdf_expand(prk, 32, (const uint8_t *)LABEL_SECRET,
                                  sizeof LABEL_SECRET - 1, k->master_secret,
                                  sizeof k->master_secret));
    return pqcoap_hkdf_expand(prk, 32, (const uint8_t *)LABEL_SALT, sizeof LABEL_SALT - 1,
                              k->master_salt, sizeof k->master_salt);
}
