/* Duplicate detection of the server (RFC 7252 section 4.5): the requests it answered, with the
 * response each got, so that a duplicate gets the same response and is not handled again. */
#include "net/net_internal.h"

#include "common/buf_internal.h"
#include <stdlib.h>
#include <string.h>

/* RFC 7252 section 4.8.2: EXCHANGE_LIFETIME with the default transmission parameters. */
#define EXCHANGE_LIFETIME_MS 247000u
/* A kept response goes out again at most this many times (RFC 7252 section 4.5 asks for it
 * on every duplicate; the bound keeps one request from drawing responses without end). */
#define KEPT_RESENDS 5
/* Longest request key (request_key): a datagram as libcoap receives it (COAP_RXBUFFER_SIZE)
 * with 4 bytes of number and length for each of up to PQCOAP_NET_MAX_OPTS options. A request
 * with a longer key (more options) is not kept. */
#define KEY_CAP (COAP_RXBUFFER_SIZE + 4 * PQCOAP_NET_MAX_OPTS)
/* Least storage of an entry: a small response and its request fit without a new allocation. */
#define MEM_MIN 256u

/* A request answered: the same message (message ID, and the rest byte for byte) from the
 * same endpoint (IP and port) within EXCHANGE_LIFETIME is a duplicate. */
typedef struct pqcoap_net_kept {
    coap_address_t peer;
    uint64_t at_ms;             /* when it was answered; 0 = free entry */
    uint32_t next;              /* the next entry of its bucket, + 1 (0: none) */
    uint16_t mid;
    uint8_t con;                /* CON (duplicates get the response again) or NON (ignored) */
    uint8_t resent;
    size_t key_len;             /* the request's key (request_key) at key */
    const uint8_t *key;
    pqcoap_msg resp;            /* CON: the response as the server left it, every option
                                   included (block options too); code 0 = deferred */
    uint8_t *mem;               /* storage of key and resp: option table, key, option values,
                                   payload; kept for the next request the entry takes */
    size_t cap;
} kept;

pqcoap_err pqcoap_net_dedup_init(pqcoap_net_dedup *d, unsigned n)
{
    memset(d, 0, sizeof(*d));
    /* Buckets by message ID: a power of two, at least n (so that a client's consecutive
     * message IDs each have one), at most one per message ID. */
    unsigned buckets = 1;
    while (buckets < n && buckets < 65536u)
        buckets <<= 1;
    d->kept = calloc(n ? n : 1, sizeof(kept));
    d->buckets = calloc(buckets, sizeof(uint32_t));
    d->key = malloc(KEY_CAP);
    if (!d->kept || !d->buckets || !d->key) {
        pqcoap_net_dedup_free(d);
        return PQCOAP_ERR_NOMEM;
    }
    d->n = n;
    d->mask = buckets - 1;
    return PQCOAP_OK;
}

void pqcoap_net_dedup_free(pqcoap_net_dedup *d)
{
    for (unsigned i = 0; d->kept && i < d->n; i++)
        free(d->kept[i].mem);
    free(d->kept);
    free(d->buckets);
    free(d->key);
    memset(d, 0, sizeof(*d));
}

/* What a duplicate repeats besides its endpoint and message ID: type, code, token, options and
 * payload, as u8 type || u8 code || str8 token || (u16 number || str16 value)* || payload (the
 * rest), from `all` (every option of `request`). Only a copy byte for byte is a duplicate, so
 * a corrupted or forged datagram under the message ID of a genuine request is handled on its
 * own and cannot take the genuine one's place. Writes out[0..KEY_CAP); PQCOAP_ERR_BUFFER
 * when the key does not fit. */
static pqcoap_err request_key(const coap_pdu_t *request, const pqcoap_msg *all, uint8_t *out,
                              size_t *len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, KEY_CAP);
    pqcoap_wr_u8(&w, (uint8_t)coap_pdu_get_type(request));
    pqcoap_wr_u8(&w, all->code);
    pqcoap_wr_str8(&w, all->token, all->token_len);
    for (size_t i = 0; i < all->n_opts; i++) {
        pqcoap_wr_u16(&w, all->opts[i].number);
        pqcoap_wr_str16(&w, all->opts[i].value, all->opts[i].len);
    }
    pqcoap_wr_bytes(&w, all->payload, all->payload_len);
    *len = w.len;
    return w.err;
}

/* The bucket of the requests with message ID `mid`. */
static uint32_t *bucket(pqcoap_net_dedup *d, uint16_t mid)
{
    return &d->buckets[mid & d->mask];
}

/* True if entry k kept `request` byte for byte. Its key is made into d->key on the first call
 * of a lookup (*len 0 before; SIZE_MAX for a request without a key, which is no duplicate). */
static int same_request(pqcoap_net_dedup *d, const kept *k, const coap_pdu_t *request,
                        const pqcoap_msg *all, size_t *len)
{
    if (*len == 0 && request_key(request, all, d->key, len) != PQCOAP_OK)
        *len = SIZE_MAX;
    return k->key_len == *len && memcmp(k->key, d->key, *len) == 0;
}

/* Answers a duplicate: a CON request with the kept response again (an empty ACK again if it
 * was deferred), at most KEPT_RESENDS times; a NON request, and any later copy, with nothing. */
static void resend(kept *k, coap_session_t *session, const coap_pdu_t *request,
                   coap_pdu_t *response)
{
    if (!k->con || k->resent >= KEPT_RESENDS) {
        coap_pdu_set_type(response, COAP_MESSAGE_NON); /* an empty NON is not sent */
        coap_pdu_set_code(response, COAP_EMPTY_CODE);
        return;
    }
    k->resent++;
    const pqcoap_msg *m = &k->resp;
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
                            const coap_pdu_t *request, const pqcoap_msg *all,
                            coap_pdu_t *response, uint64_t now)
{
    if (!d->n)
        return 0;
    const coap_address_t *peer = coap_session_get_addr_remote(session);
    uint16_t mid = (uint16_t)coap_pdu_get_mid(request);
    size_t key_len = 0;
    for (uint32_t i = *bucket(d, mid); i; i = d->kept[i - 1].next) {
        kept *k = &d->kept[i - 1];
        if (k->at_ms && now - k->at_ms < EXCHANGE_LIFETIME_MS && k->mid == mid &&
            coap_address_equals(&k->peer, peer) &&
            same_request(d, k, request, all, &key_len)) {
            resend(k, session, request, response);
            return 1;
        }
    }
    return 0;
}

/* Takes entry k out of its bucket and frees it (its storage stays for the next request). */
static void forget(pqcoap_net_dedup *d, kept *k)
{
    uint32_t self = (uint32_t)(k - d->kept) + 1;
    for (uint32_t *p = bucket(d, k->mid); *p; p = &d->kept[*p - 1].next) {
        if (*p == self) {
            *p = k->next;
            break;
        }
    }
    k->at_ms = 0;
    k->next = 0;
}

/* Makes k's storage hold at least `size` bytes. PQCOAP_OK or PQCOAP_ERR_NOMEM. */
static pqcoap_err reserve(kept *k, size_t size)
{
    if (size <= k->cap)
        return PQCOAP_OK;
    size_t cap = size > MEM_MIN ? size : MEM_MIN;
    uint8_t *mem = malloc(cap);
    if (!mem)
        return PQCOAP_ERR_NOMEM;
    free(k->mem);
    k->mem = mem;
    k->cap = cap;
    return PQCOAP_OK;
}

/* Keeps the response in the entry answered longest ago (the oldest is forgotten first; one
 * past EXCHANGE_LIFETIME is free anyway), in the storage that entry already has when it is
 * large enough: the whole PDU's code, options and payload (the first block of a block-wise
 * response), so that a duplicate gets the same bytes. Out of memory, or a request key or
 * response over the limits: nothing is kept. */
void pqcoap_net_dedup_keep(pqcoap_net_dedup *d, coap_session_t *session,
                           const coap_pdu_t *request, const pqcoap_msg *all,
                           const coap_pdu_t *response, uint64_t now)
{
    if (!d->n)
        return;
    kept *k = &d->kept[d->oldest];
    d->oldest = (d->oldest + 1) % d->n;
    if (k->at_ms)
        forget(d, k);
    size_t key_len;
    if (request_key(request, all, d->key, &key_len) != PQCOAP_OK)
        return;
    int con = coap_pdu_get_type(request) == COAP_MESSAGE_CON;
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg m = {0, NULL, 0, opts, 0, NULL, 0};
    size_t size = key_len;
    if (con) {
        m.code = (uint8_t)coap_pdu_get_code(response);
        coap_opt_iterator_t it;
        coap_opt_t *o;
        coap_option_iterator_init(response, &it, COAP_OPT_ALL);
        while ((o = coap_option_next(&it)) != NULL) {
            if (m.n_opts == PQCOAP_NET_MAX_OPTS)
                return;
            opts[m.n_opts].number = it.number;
            opts[m.n_opts].value = coap_opt_value(o);
            opts[m.n_opts].len = coap_opt_length(o);
            size += sizeof(pqcoap_opt) + opts[m.n_opts].len;
            m.n_opts++;
        }
        if (!coap_get_data(response, &m.payload_len, &m.payload))
            m.payload_len = 0;
        size += m.payload_len;
    }
    if (reserve(k, size) != PQCOAP_OK)
        return;
    /* the option table first (malloc's alignment), then the bytes */
    pqcoap_opt *table = (pqcoap_opt *)(void *)k->mem;
    uint8_t *p = k->mem + m.n_opts * sizeof(pqcoap_opt);
    memcpy(p, d->key, key_len);
    k->key = p;
    k->key_len = key_len;
    p += key_len;
    for (size_t i = 0; i < m.n_opts; i++) {
        table[i] = opts[i];
        table[i].value = p;
        if (opts[i].len)
            memcpy(p, opts[i].value, opts[i].len);
        p += opts[i].len;
    }
    if (m.payload_len)
        memcpy(p, m.payload, m.payload_len);
    k->resp = (pqcoap_msg){m.code, NULL, 0, table, m.n_opts, p, m.payload_len};
    coap_address_copy(&k->peer, coap_session_get_addr_remote(session));
    k->mid = (uint16_t)coap_pdu_get_mid(request);
    k->con = (uint8_t)con;
    k->resent = 0;
    k->at_ms = now;
    uint32_t *head = bucket(d, k->mid);
    k->next = *head;
    *head = (uint32_t)(k - d->kept) + 1;
}
