/* Duplicate detection of the server (RFC 7252 section 4.5): the requests it answered, with the
 * response each got, so that a duplicate gets the same response and is not handled again. */
#include "net/net_internal.h"

#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"
#include <stdlib.h>
#include <string.h>

/* RFC 7252 section 4.8.2: EXCHANGE_LIFETIME with the default transmission parameters. */
#define EXCHANGE_LIFETIME_MS 247000u
/* A kept response goes out again at most this many times (RFC 7252 section 4.5 asks for it
 * on every duplicate; the bound keeps one request from drawing responses without end). */
#define KEPT_RESENDS 5

/* A request answered: the same message (message ID, and the digest of the rest) from the
 * same endpoint (IP and port) within EXCHANGE_LIFETIME is a duplicate. */
typedef struct pqcoap_net_kept {
    coap_address_t peer;
    uint16_t mid;
    uint8_t digest[PQCOAP_NET_DIGEST_LEN]; /* request_digest */
    int con;                    /* CON (duplicates get the response again) or NON (ignored) */
    uint64_t at_ms;             /* when it was answered; 0 = free entry */
    uint64_t used;              /* last use, for least recently used replacement */
    unsigned resent;
    pqcoap_reply resp;          /* CON: the response as the server left it, every option
                                   included (block options too); code 0 = deferred */
} kept;

pqcoap_err pqcoap_net_dedup_init(pqcoap_net_dedup *d, unsigned n)
{
    memset(d, 0, sizeof(*d));
    d->kept = calloc(n ? n : 1, sizeof(kept));
    if (!d->kept)
        return PQCOAP_ERR_NOMEM;
    d->n = n;
    return PQCOAP_OK;
}

void pqcoap_net_dedup_free(pqcoap_net_dedup *d)
{
    for (unsigned i = 0; d->kept && i < d->n; i++)
        pqcoap_reply_free(&d->kept[i].resp);
    free(d->kept);
    memset(d, 0, sizeof(*d));
}

/* SHA-256 over what a duplicate repeats besides its endpoint and message ID: type, code,
 * token, options and payload. Only a copy byte for byte is a duplicate, so a corrupted or
 * forged datagram under the message ID of a genuine request is handled on its own and
 * cannot take the genuine one's place. PQCOAP_ERR_TOO_LARGE over PQCOAP_NET_MAX_OPTS
 * options (such a request is refused anyway, and not remembered). */
static pqcoap_err request_digest(const coap_pdu_t *request, uint8_t out[PQCOAP_NET_DIGEST_LEN])
{
    coap_bin_const_t tok = coap_pdu_get_token(request);
    /* type, code, token length || token || (u16 number, u16 length, value)* || payload
     * || u32 payload length: each part delimited (option values lie within one datagram) */
    uint8_t head[3] = {(uint8_t)coap_pdu_get_type(request), (uint8_t)coap_pdu_get_code(request),
                       (uint8_t)tok.length};
    uint8_t opt_heads[PQCOAP_NET_MAX_OPTS][4], tail[4];
    pqcoap_span in[2 + 2 * PQCOAP_NET_MAX_OPTS + 2];
    size_t n = 0;
    in[n++] = (pqcoap_span){head, sizeof(head)};
    in[n++] = (pqcoap_span){tok.s, tok.length};
    PQCOAP_TRY(pqcoap_net_opt_spans(request, NULL, opt_heads, PQCOAP_NET_MAX_OPTS, in, &n));
    size_t plen = 0;
    const uint8_t *payload = NULL;
    if (!coap_get_data(request, &plen, &payload))
        plen = 0;
    in[n++] = (pqcoap_span){payload, plen};
    for (int i = 0; i < 4; i++)
        tail[i] = (uint8_t)(plen >> (24 - 8 * i));
    in[n++] = (pqcoap_span){tail, sizeof(tail)};
    return pqcoap_sha256(in, n, out);
}

/* Answers a duplicate: a CON request with the kept response again (an empty ACK again if it
 * was deferred), at most KEPT_RESENDS times; a NON request, and any later copy, with nothing. */
static void resend(pqcoap_net_dedup *d, kept *k, coap_session_t *session,
                   const coap_pdu_t *request, coap_pdu_t *response)
{
    k->used = ++d->clock;
    if (!k->con || k->resent >= KEPT_RESENDS) {
        coap_pdu_set_type(response, COAP_MESSAGE_NON); /* an empty NON is not sent */
        coap_pdu_set_code(response, COAP_EMPTY_CODE);
        return;
    }
    k->resent++;
    const pqcoap_msg *m = &k->resp.msg;
    if (m->code == COAP_EMPTY_CODE) {
        pqcoap_net_answer_later(session, request, response, 1);
        return;
    }
    coap_pdu_set_code(response, (coap_pdu_code_t)m->code);
    for (size_t i = 0; i < m->n_opts; i++) {
        coap_opt_iterator_t it;
        /* libcoap may have put an option in already (Block1 of a block-wise request, from
         * the same request: the same value); libcoap 4.3.1 exports no way to remove one. */
        if (coap_check_option(response, m->opts[i].number, &it))
            continue;
        if (!coap_add_option(response, m->opts[i].number, m->opts[i].len, m->opts[i].value))
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    }
    if (m->payload_len && !coap_add_data(response, m->payload_len, m->payload))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

int pqcoap_net_dedup_answer(pqcoap_net_dedup *d, coap_session_t *session,
                            const coap_pdu_t *request, coap_pdu_t *response,
                            uint8_t digest[PQCOAP_NET_DIGEST_LEN], int *known)
{
    *known = request_digest(request, digest) == PQCOAP_OK;
    if (!*known)
        return 0;
    const coap_address_t *peer = coap_session_get_addr_remote(session);
    uint64_t now = pqcoap_net_now_ms();
    uint16_t mid = (uint16_t)coap_pdu_get_mid(request);
    for (unsigned i = 0; i < d->n; i++) {
        kept *k = &d->kept[i];
        if (k->at_ms && now - k->at_ms < EXCHANGE_LIFETIME_MS && k->mid == mid &&
            memcmp(k->digest, digest, PQCOAP_NET_DIGEST_LEN) == 0 &&
            coap_address_equals(&k->peer, peer)) {
            resend(d, k, session, request, response);
            return 1;
        }
    }
    return 0;
}

/* Keeps the response in a free or expired entry, else in the least recently used one, as a
 * whole PDU's code, options and payload (the first block of a block-wise response), so that a
 * duplicate gets the same bytes. Out of memory or too many options: nothing is kept. */
void pqcoap_net_dedup_keep(pqcoap_net_dedup *d, coap_session_t *session,
                           const coap_pdu_t *request, const uint8_t digest[PQCOAP_NET_DIGEST_LEN],
                           const coap_pdu_t *response)
{
    if (!d->n)
        return;
    uint64_t now = pqcoap_net_now_ms();
    kept *k = &d->kept[0];
    for (unsigned i = 0; i < d->n; i++) {
        kept *e = &d->kept[i];
        if (!e->at_ms || now - e->at_ms >= EXCHANGE_LIFETIME_MS) {
            k = e;
            break;
        }
        if (e->used < k->used)
            k = e;
    }
    pqcoap_reply_free(&k->resp);
    memset(k, 0, sizeof(*k));
    int con = coap_pdu_get_type(request) == COAP_MESSAGE_CON;
    if (con) {
        pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
        pqcoap_msg m = {(uint8_t)coap_pdu_get_code(response), NULL, 0, opts, 0, NULL, 0};
        coap_opt_iterator_t it;
        coap_opt_t *o;
        coap_option_iterator_init(response, &it, COAP_OPT_ALL);
        while ((o = coap_option_next(&it)) != NULL) {
            if (m.n_opts == PQCOAP_NET_MAX_OPTS)
                return;
            opts[m.n_opts].number = it.number;
            opts[m.n_opts].value = coap_opt_value(o);
            opts[m.n_opts].len = coap_opt_length(o);
            m.n_opts++;
        }
        if (!coap_get_data(response, &m.payload_len, &m.payload))
            m.payload_len = 0;
        if (pqcoap_reply_copy(&k->resp, &m) != PQCOAP_OK)
            return;
    }
    coap_address_copy(&k->peer, coap_session_get_addr_remote(session));
    k->mid = (uint16_t)coap_pdu_get_mid(request);
    memcpy(k->digest, digest, PQCOAP_NET_DIGEST_LEN);
    k->con = con;
    k->at_ms = now;
    k->used = ++d->clock;
}
