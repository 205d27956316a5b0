/* Message builder over caller buffers (pqcoap_msgbuf), owned message copies (pqcoap_reply),
 * option helpers and the mapping of pqcoap_err codes to CoAP error responses. */
#include "pqcoap/layer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void pqcoap_msgbuf_init(pqcoap_msgbuf *b, pqcoap_opt *opts, size_t opts_cap,
                        uint8_t *vals, size_t vals_cap, uint8_t *payload, size_t payload_cap)
{
    memset(b, 0, sizeof(*b));
    b->opts = opts;
    b->opts_cap = opts ? opts_cap : 0;
    b->vals = vals;
    b->vals_cap = vals ? vals_cap : 0;
    b->payload = payload;
    b->payload_cap = payload ? payload_cap : 0;
}

void pqcoap_msgbuf_reset(pqcoap_msgbuf *b)
{
    b->n_opts = 0;
    b->vals_len = 0;
    b->payload_len = 0;
}

pqcoap_err pqcoap_msgbuf_add_opt(pqcoap_msgbuf *b, uint16_t number, const uint8_t *value,
                                 size_t len)
{
    if (!b || (len && !value) || len > UINT16_MAX)
        return PQCOAP_ERR_ARG;
    if (b->n_opts >= b->opts_cap || len > b->vals_cap - b->vals_len)
        return PQCOAP_ERR_BUFFER;
    uint8_t *copy = b->vals + b->vals_len;
    if (len)
        memmove(copy, value, len);
    b->vals_len += len;
    /* Insert after every option with a number <= `number`: encoded order (RFC 7252 3.1). */
    size_t at = b->n_opts;
    while (at > 0 && b->opts[at - 1].number > number)
        at--;
    if (at < b->n_opts)
        memmove(&b->opts[at + 1], &b->opts[at], (b->n_opts - at) * sizeof(b->opts[0]));
    b->opts[at].number = number;
    b->opts[at].value = copy;
    b->opts[at].len = len;
    b->n_opts++;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_msgbuf_add_uint(pqcoap_msgbuf *b, uint16_t number, uint32_t v)
{
    uint8_t be[4];
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        uint8_t byte = (uint8_t)(v >> shift);
        if (n || byte)
            be[n++] = byte;
    }
    return pqcoap_msgbuf_add_opt(b, number, be, n);
}

pqcoap_err pqcoap_msgbuf_copy_opts(pqcoap_msgbuf *b, const pqcoap_msg *m)
{
    if (!b || !m || (m->n_opts && !m->opts))
        return PQCOAP_ERR_ARG;
    for (size_t i = 0; i < m->n_opts; i++) {
        pqcoap_err err = pqcoap_msgbuf_add_opt(b, m->opts[i].number, m->opts[i].value,
                                               m->opts[i].len);
        if (err != PQCOAP_OK)
            return err;
    }
    return PQCOAP_OK;
}

void pqcoap_msgbuf_remove_opt(pqcoap_msgbuf *b, uint16_t number)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->n_opts; i++)
        if (b->opts[i].number != number)
            b->opts[kept++] = b->opts[i];
    b->n_opts = kept;
}

pqcoap_err pqcoap_msgbuf_set_payload(pqcoap_msgbuf *b, const uint8_t *p, size_t len)
{
    if (!b || (len && !p))
        return PQCOAP_ERR_ARG;
    if (len > b->payload_cap)
        return PQCOAP_ERR_TOO_LARGE;
    if (len)
        memmove(b->payload, p, len);
    b->payload_len = len;
    return PQCOAP_OK;
}

void pqcoap_msgbuf_error(pqcoap_msgbuf *b, uint8_t code, const char *diag)
{
    size_t len = diag ? strlen(diag) : 0;
    b->code = code;
    pqcoap_msgbuf_reset(b);
    if (len > b->payload_cap)
        len = b->payload_cap;
    if (len)
        memcpy(b->payload, diag, len);
    b->payload_len = len;
}

void pqcoap_msgbuf_view(const pqcoap_msgbuf *b, pqcoap_msg *out)
{
    out->code = b->code;
    out->token = b->token;
    out->token_len = b->token_len;
    out->opts = b->opts;
    out->n_opts = b->n_opts;
    out->payload = b->payload;
    out->payload_len = b->payload_len;
}

const pqcoap_opt *pqcoap_msg_find_opt(const pqcoap_msg *m, uint16_t number)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n_opts; i++)
        if (m->opts[i].number == number)
            return &m->opts[i];
    return NULL;
}

pqcoap_err pqcoap_opt_uint(const pqcoap_opt *o, uint32_t *v)
{
    if (!o || !v || (o->len && !o->value))
        return PQCOAP_ERR_ARG;
    if (o->len > 4)
        return PQCOAP_ERR_MALFORMED;
    uint32_t x = 0;
    for (size_t i = 0; i < o->len; i++)
        x = (x << 8) | o->value[i];
    *v = x;
    return PQCOAP_OK;
}

void pqcoap_msgbuf_from_err(pqcoap_msgbuf *b, pqcoap_err err)
{
    uint8_t code;
    if (err == PQCOAP_ERR_MALFORMED)
        code = PQCOAP_CODE(4, 0);       /* 4.00 Bad Request */
    else if (PQCOAP_IS_AUTH_ERR(err))
        code = PQCOAP_CODE(4, 1);       /* 4.01 Unauthorized */
    else if (err == PQCOAP_ERR_NOT_FOUND)
        code = PQCOAP_CODE(4, 4);       /* 4.04 Not Found */
    else if (err == PQCOAP_ERR_TOO_LARGE)
        code = PQCOAP_CODE(4, 13);      /* 4.13 Request Entity Too Large */
    else if (err == PQCOAP_ERR_BUSY || err == PQCOAP_ERR_LIMIT)
        code = PQCOAP_CODE(5, 3);       /* 5.03 Service Unavailable */
    else
        code = PQCOAP_CODE(5, 0);       /* 5.00 Internal Server Error */
    pqcoap_msgbuf_error(b, code, pqcoap_strerror(err));
}

void pqcoap_reply_free(pqcoap_reply *r)
{
    if (!r)
        return;
    free(r->mem);
    memset(r, 0, sizeof(*r));
}

pqcoap_err pqcoap_reply_copy(pqcoap_reply *r, const pqcoap_msg *m)
{
    if (!r || !m || (m->n_opts && !m->opts) || (m->payload_len && !m->payload) ||
        (m->token_len && !m->token) || m->n_opts > SIZE_MAX / sizeof(pqcoap_opt))
        return PQCOAP_ERR_ARG;
    /* One allocation: the option table, then token, option values and payload bytes. */
    size_t total = m->n_opts * sizeof(pqcoap_opt) + m->token_len + m->payload_len;
    for (size_t i = 0; i < m->n_opts; i++)
        total += m->opts[i].len;
    uint8_t *mem = malloc(total ? total : 1);
    if (!mem)
        return PQCOAP_ERR_NOMEM;
    pqcoap_opt *opts = (pqcoap_opt *)(void *)mem;
    uint8_t *p = mem + m->n_opts * sizeof(pqcoap_opt);
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->msg.code = m->code;
    r->msg.token = p;
    r->msg.token_len = m->token_len;
    if (m->token_len)
        memcpy(p, m->token, m->token_len);
    p += m->token_len;
    for (size_t i = 0; i < m->n_opts; i++) {
        opts[i].number = m->opts[i].number;
        opts[i].len = m->opts[i].len;
        opts[i].value = p;
        if (m->opts[i].len)
            memcpy(p, m->opts[i].value, m->opts[i].len);
        p += m->opts[i].len;
    }
    r->msg.opts = m->n_opts ? opts : NULL;
    r->msg.n_opts = m->n_opts;
    r->msg.payload = p;
    r->msg.payload_len = m->payload_len;
    if (m->payload_len)
        memcpy(p, m->payload, m->payload_len);
    return PQCOAP_OK;
}
