/* libFuzzer target: a raw UDP datagram parsed by libcoap as the endpoints receive it
 * (coap_pdu_parse), then turned into a message view by pqcoap_net_view (src/net/net.c).
 * Input: u8 option capacity (mod PQCOAP_NET_MAX_OPTS + 1) || the datagram. */
#include "fuzz_common.h"
#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Views opts[0..n) of m: shown options only, in order, and each inside [lo, hi). */
static void check_opts(const pqcoap_msg *m, const uint8_t *lo, const uint8_t *hi)
{
    int is_request = m->code >= 1 && m->code <= 31;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (pqcoap_net_hidden_opt(o->number, is_request) ||
            (i && o->number < m->opts[i - 1].number) ||
            (o->len && (o->value < lo || o->len > (size_t)(hi - o->value))))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int started;
    if (!started) {
        pqcoap_net_startup(0);
        started = 1;
    }
    if (size < 1)
        return 0;
    size_t cap = data[0] % (PQCOAP_NET_MAX_OPTS + 1);
    const uint8_t *dgram = data + 1;
    size_t len = size - 1;
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, len);
    if (!pdu)
        return 0;
    if (!coap_pdu_parse(COAP_PROTO_UDP, dgram, len, pdu)) {
        coap_delete_pdu(pdu);
        return 0;
    }
    /* every option of the datagram, hidden ones included: each takes at least one byte */
    size_t n_all = 0;
    coap_opt_iterator_t it;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while (coap_option_next(&it))
        n_all++;
    pqcoap_opt *all = malloc((n_all + 1) * sizeof *all);
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg full, m;
    if (!all)
        abort();
    pqcoap_err err = pqcoap_net_view(pdu, all, n_all, &full);
    if (err == PQCOAP_ERR_MALFORMED) {
        /* option deltas past 65535: malformed with any room, or too many options first */
        err = pqcoap_net_view(pdu, opts, cap, &m);
        if (err != PQCOAP_ERR_MALFORMED && err != PQCOAP_ERR_TOO_LARGE)
            __builtin_trap();
        free(all);
        coap_delete_pdu(pdu);
        return 0;
    }
    if (err != PQCOAP_OK)
        __builtin_trap();

    /* the header fields and the payload are those of the datagram; the payload is its tail
     * after the 0xFF marker; the option values lie in the PDU's copy of the datagram */
    size_t tkl = dgram[0] & 0x0f;
    coap_bin_const_t tok = coap_pdu_get_token(pdu);
    if (full.code != dgram[1] || full.token_len != tkl || full.token != tok.s ||
        (tkl && memcmp(full.token, dgram + 4, tkl) != 0) || full.n_opts > n_all ||
        (full.payload_len && (full.payload_len + 5 + tkl > len ||
                              dgram[len - full.payload_len - 1] != 0xff ||
                              memcmp(full.payload, dgram + len - full.payload_len,
                                     full.payload_len) != 0)) ||
        (!full.payload_len && full.payload))
        __builtin_trap();
    check_opts(&full, tok.s, tok.s + (len - 4));
    /* the size reported as received is that of the datagram, less the hidden options */
    size_t msg_size = pqcoap_net_msg_size(&full);
    if (msg_size > len || (full.n_opts == n_all && msg_size != len))
        __builtin_trap();

    /* with room for `cap` options: the same view, or PQCOAP_ERR_TOO_LARGE if it has more */
    err = pqcoap_net_view(pdu, opts, cap, &m);
    if (full.n_opts > cap ? err != PQCOAP_ERR_TOO_LARGE
                          : err != PQCOAP_OK || m.n_opts != full.n_opts ||
                                m.payload != full.payload || m.payload_len != full.payload_len)
        __builtin_trap();
    for (size_t i = 0; err == PQCOAP_OK && i < m.n_opts; i++)
        if (opts[i].number != all[i].number || opts[i].value != all[i].value ||
            opts[i].len != all[i].len)
            __builtin_trap();
    free(all);
    coap_delete_pdu(pdu);
    return 0;
}
