/* Helpers shared by the libcoap client and server (see net_internal.h). */
#include "net/net_internal.h"

#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t startup_once = PTHREAD_ONCE_INIT;

static void startup(void) { coap_startup(); }

void pqcoap_net_startup(int log_level)
{
    pthread_once(&startup_once, startup);
    if (log_level < LOG_EMERG)
        log_level = LOG_EMERG;
    if (log_level > LOG_DEBUG)
        log_level = LOG_DEBUG;
    coap_set_log_level(log_level);
}

int pqcoap_net_hidden_opt(uint16_t number, int is_request)
{
    return number == PQCOAP_OPT_BLOCK1 || number == PQCOAP_OPT_BLOCK2 ||
           number == PQCOAP_OPT_REQUEST_TAG ||
           number == (is_request ? PQCOAP_OPT_SIZE1 : PQCOAP_OPT_SIZE2);
}

/* The option delta of the option starting at o, as written (RFC 7252 section 3.1: 0..12,
 * 13 + u8, 269 + u16). libcoap has checked that these header bytes are there. */
static uint32_t opt_delta(const coap_opt_t *o)
{
    uint32_t nibble = o[0] >> 4;
    if (nibble == 13)
        return 13u + o[1];
    if (nibble == 14)
        return 269u + ((uint32_t)o[1] << 8 | o[2]);
    return nibble;
}

/* pqcoap_net_view, with the hidden options too when `all` is set. */
static pqcoap_err view(const coap_pdu_t *pdu, int all, pqcoap_opt *opts, size_t cap,
                       pqcoap_msg *out)
{
    coap_bin_const_t token = coap_pdu_get_token(pdu);
    out->code = (uint8_t)coap_pdu_get_code(pdu);
    out->token = token.s;
    out->token_len = token.length;
    out->opts = opts;
    out->n_opts = 0;
    coap_opt_iterator_t it;
    coap_opt_t *o;
    int is_request = out->code >= 1 && out->code <= 31;
    uint32_t number = 0;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((o = coap_option_next(&it)) != NULL) {
        /* Option numbers are 16 bits (RFC 7252 section 5.4.6); libcoap 4.3.1 adds the
         * deltas in 16 bits and would hand out a number past 65535 wrapped around. */
        number += opt_delta(o);
        if (number > UINT16_MAX)
            return PQCOAP_ERR_MALFORMED;
        if (!all && pqcoap_net_hidden_opt(it.number, is_request))
            continue;
        if (out->n_opts == cap)
            return PQCOAP_ERR_TOO_LARGE;
        opts[out->n_opts].number = it.number;
        opts[out->n_opts].value = coap_opt_value(o);
        opts[out->n_opts].len = coap_opt_length(o);
        out->n_opts++;
    }
    size_t len = 0;
    const uint8_t *data = NULL;
    /* One datagram's data: no endpoint sets COAP_BLOCK_SINGLE_BODY. */
    if (!coap_get_data(pdu, &len, &data))
        len = 0;
    out->payload = len ? data : NULL;
    out->payload_len = len;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_net_view(const coap_pdu_t *pdu, pqcoap_opt *opts, size_t cap,
                           pqcoap_msg *out)
{
    return view(pdu, 0, opts, cap, out);
}

pqcoap_err pqcoap_net_view_all(const coap_pdu_t *pdu, pqcoap_opt *opts, size_t cap,
                               pqcoap_msg *out)
{
    return view(pdu, 1, opts, cap, out);
}

pqcoap_err pqcoap_net_visible(const pqcoap_msg *all, pqcoap_opt *opts, size_t cap,
                              pqcoap_msg *out)
{
    int is_request = all->code >= 1 && all->code <= 31;
    *out = *all;
    out->opts = opts;
    out->n_opts = 0;
    for (size_t i = 0; i < all->n_opts; i++) {
        if (pqcoap_net_hidden_opt(all->opts[i].number, is_request))
            continue;
        if (out->n_opts == cap)
            return PQCOAP_ERR_TOO_LARGE;
        opts[out->n_opts++] = all->opts[i];
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_net_put_opts(coap_pdu_t *pdu, const pqcoap_msg *m, uint16_t skip)
{
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (skip && o->number == skip)
            continue;
        if (coap_add_option(pdu, o->number, o->len, o->value) == 0)
            return PQCOAP_ERR_NOMEM;
    }
    return PQCOAP_OK;
}

void pqcoap_net_register_opts(coap_context_t *ctx, const pqcoap_layer *layer)
{
    if (!layer || !layer->critical_opts)
        return;
    for (size_t i = 0; i < layer->n_critical_opts; i++)
        coap_register_option(ctx, layer->critical_opts[i]);
}

void pqcoap_net_exchange(pqcoap_exchange *x, const coap_address_t *peer, const coap_pdu_t *pdu)
{
    memset(x, 0, sizeof(*x));
    if (peer && peer->size <= sizeof(x->peer)) {
        memcpy(&x->peer, &peer->addr, peer->size);
        x->peer_len = peer->size;
    }
    x->mid = (uint16_t)coap_pdu_get_mid(pdu);
    x->confirmable = coap_pdu_get_type(pdu) == COAP_MESSAGE_CON;
}

void pqcoap_net_answer_later(coap_session_t *session, const coap_pdu_t *request,
                             coap_pdu_t *response, int ack)
{
    if (ack && coap_pdu_get_type(request) == COAP_MESSAGE_CON)
        coap_send_ack(session, request);
    coap_pdu_set_type(response, COAP_MESSAGE_NON);
    coap_pdu_set_code(response, COAP_EMPTY_CODE);
}

pqcoap_err pqcoap_net_opt_spans(const coap_pdu_t *pdu, int (*skip)(uint16_t number),
                                uint8_t (*heads)[4], size_t max, pqcoap_span *in, size_t *n)
{
    size_t k = 0;
    coap_opt_iterator_t it;
    coap_opt_t *o;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((o = coap_option_next(&it)) != NULL) {
        if (skip && skip(it.number))
            continue;
        if (k == max)
            return PQCOAP_ERR_TOO_LARGE;
        uint32_t len = coap_opt_length(o);
        uint8_t *h = heads[k++];
        h[0] = (uint8_t)(it.number >> 8);
        h[1] = (uint8_t)it.number;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        in[(*n)++] = (pqcoap_span){h, 4};
        in[(*n)++] = (pqcoap_span){coap_opt_value(o), len};
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_net_scratch_alloc(pqcoap_net_scratch *s, size_t payload_cap)
{
    uint8_t *p = malloc(payload_cap ? payload_cap : 1);
    if (!p)
        return PQCOAP_ERR_NOMEM;
    pqcoap_msgbuf_init(&s->b, s->opts, PQCOAP_NET_MAX_OPTS, s->vals, sizeof(s->vals),
                       p, payload_cap);
    return PQCOAP_OK;
}

void pqcoap_net_scratch_start(pqcoap_net_scratch *s, uint8_t code, const uint8_t *token,
                              size_t token_len)
{
    pqcoap_msgbuf_reset(&s->b);
    s->b.code = code;
    s->b.token = token;
    s->b.token_len = token_len;
}

void pqcoap_net_scratch_free(pqcoap_net_scratch *s)
{
    if (s->b.payload) {
        pqcoap_wipe(s->b.payload, s->b.payload_cap);
        free(s->b.payload);
    }
    pqcoap_wipe(s->vals, sizeof(s->vals));
    memset(&s->b, 0, sizeof(s->b));
}

pqcoap_err pqcoap_net_body_put(pqcoap_net_body *b, size_t offset, const uint8_t *p, size_t n)
{
    if (offset > b->len)
        return PQCOAP_ERR_MALFORMED;
    if (n > b->limit || offset > b->limit - n)
        return PQCOAP_ERR_TOO_LARGE;
    if (offset + n < b->len)
        return PQCOAP_OK;
    if (offset + n > b->cap) {
        /* Doubling, from one block, but never past the limit. */
        size_t cap = b->cap ? b->cap : PQCOAP_NET_BLOCK_MAX;
        while (cap < offset + n)
            cap *= 2;
        if (cap > b->limit)
            cap = b->limit;
        uint8_t *data = malloc(cap);
        if (!data)
            return PQCOAP_ERR_NOMEM;
        if (b->data) {
            memcpy(data, b->data, b->len);
            pqcoap_wipe(b->data, b->cap);
            free(b->data);
        }
        b->data = data;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + offset, p, n);
    b->len = offset + n;
    return PQCOAP_OK;
}

void pqcoap_net_body_free(pqcoap_net_body *b)
{
    if (b->data) {
        pqcoap_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

uint64_t pqcoap_net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pqcoap_net_msg(char *dst, size_t cap, const char *fmt, ...)
{
    if (!dst || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

size_t pqcoap_net_msg_size(const pqcoap_msg *m)
{
    size_t n = 4 + m->token_len;
    uint16_t prev = 0;
    for (size_t i = 0; i < m->n_opts; i++) {
        n += coap_opt_encode_size((uint16_t)(m->opts[i].number - prev), m->opts[i].len);
        prev = m->opts[i].number;
    }
    return n + (m->payload_len ? 1 + m->payload_len : 0);
}
