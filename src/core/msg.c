/* Option canonicalisation opts() of PROTOCOL.md over the neutral message view. */
#include "pqcoap/msg.h"
#include "common/buf_internal.h"

int pqcoap_opt_excluded(uint16_t number)
{
    switch (number) {
    case PQCOAP_OPT_URI_HOST: case PQCOAP_OPT_URI_PORT: case PQCOAP_OPT_MAX_AGE:
    case PQCOAP_OPT_BLOCK2: case PQCOAP_OPT_BLOCK1: case PQCOAP_OPT_SIZE2:
    case PQCOAP_OPT_PROXY_URI: case PQCOAP_OPT_PROXY_SCHEME: case PQCOAP_OPT_SIZE1:
    case PQCOAP_OPT_REQUEST_TAG:
    case PQCOAP_OPT_PQ_SIG:
        return 1;
    default:
        return 0;
    }
}

pqcoap_err pqcoap_opts(const pqcoap_msg *msg, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!msg || !out_len || (msg->n_opts && !msg->opts))
        return PQCOAP_ERR_ARG;
    if (msg->token_len > PQCOAP_TOKEN_MAX)
        return PQCOAP_ERR_MALFORMED;
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u16(&w, 0); /* count, patched below */
    size_t count = 0, total = 2;
    for (size_t i = 0; i < msg->n_opts; i++) {
        const pqcoap_opt *o = &msg->opts[i];
        if (i > 0 && o->number < msg->opts[i - 1].number)
            return PQCOAP_ERR_MALFORMED; /* opts() follows the encoded (ascending) order */
        if (o->len > UINT16_MAX || (o->len && !o->value))
            return PQCOAP_ERR_MALFORMED;
        if (pqcoap_opt_excluded(o->number))
            continue;
        total += 4 + o->len;
        if (total > PQCOAP_OPTS_MAX)
            return PQCOAP_ERR_TOO_LARGE;
        pqcoap_wr_u16(&w, o->number);
        pqcoap_wr_str16(&w, o->value, o->len);
        count++;
    }
    if (w.err != PQCOAP_OK)
        return w.err;
    out[0] = (uint8_t)(count >> 8);
    out[1] = (uint8_t)count;
    *out_len = w.len;
    return PQCOAP_OK;
}
