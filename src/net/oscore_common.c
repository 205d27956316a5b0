/* Helpers of the OSCORE layers: store names, moving views into message builders. */
#include "net/oscore_internal.h"
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"

#include <stdio.h>
#include <string.h>

const uint16_t pqcoap_oscore_critical_opts[1] = {PQCOAP_OPT_OSCORE};

pqcoap_err pqcoap_oscore_ssn_name(const pqcoap_oscore_ctx *ctx,
                                  char out[PQCOAP_OSCORE_SSN_NAME_LEN])
{
    static const char label[] = "pqcoap oscore ssn";
    const pqcoap_cose_aead *alg = pqcoap_cose_aead_find(ctx->aead_alg);
    if (alg == NULL)
        return PQCOAP_ERR_ARG;
    /* One counter per Sender Key: a key never sees an SSN twice, and the name reveals
     * nothing of the key (a hash with its own label). */
    pqcoap_span in[2] = {{(const uint8_t *)label, sizeof label - 1},
                         {ctx->sender_key, alg->key_len}};
    uint8_t h[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_sha256(in, 2, h));
    memcpy(out, "oscore:", 7);
    for (size_t i = 0; i < 16; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", h[i]);
    return PQCOAP_OK;
}

pqcoap_oscore_out pqcoap_oscore_room(pqcoap_msgbuf *b, pqcoap_opt *opts, size_t n_opts)
{
    pqcoap_oscore_out room = {opts, n_opts, b->payload, b->payload_cap};
    return room;
}

pqcoap_err pqcoap_oscore_fill(pqcoap_msgbuf *b, const pqcoap_msg *m)
{
    pqcoap_msgbuf_reset(b);
    b->code = m->code;
    /* Options first: their values may lie in the payload array the payload then moves in.
     * The core's views list them in encoded order, so they are appended as they come (once
     * per message each way: no insertion search); anything else goes through copy_opts. */
    if (m->n_opts > b->opts_cap)
        return PQCOAP_ERR_BUFFER;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (i > 0 && o->number < m->opts[i - 1].number) {
            pqcoap_msgbuf_reset(b);
            PQCOAP_TRY(pqcoap_msgbuf_copy_opts(b, m));
            break;
        }
        if (o->len > b->vals_cap - b->vals_len)
            return PQCOAP_ERR_BUFFER;
        uint8_t *copy = b->vals + b->vals_len;
        if (o->len)
            memmove(copy, o->value, o->len);
        b->vals_len += o->len;
        b->opts[i] = (pqcoap_opt){o->number, copy, o->len};
        b->n_opts = i + 1;
    }
    return pqcoap_msgbuf_set_payload(b, m->payload, m->payload_len);
}

pqcoap_err pqcoap_oscore_find_option(const pqcoap_msg *m, pqcoap_oscore_option *out)
{
    const pqcoap_opt *o = pqcoap_msg_find_opt(m, PQCOAP_OPT_OSCORE);
    if (o == NULL)
        return PQCOAP_ERR_NOT_FOUND;
    return pqcoap_oscore_option_parse(o->value, o->len, out) == PQCOAP_OK
               ? PQCOAP_OK : PQCOAP_ERR_MALFORMED;
}
