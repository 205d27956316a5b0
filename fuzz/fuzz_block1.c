/* libFuzzer target: the server's Block1 reassembly (src/net/blockwise.c) driven by a
 * sequence of blocks from several peers, paths and Request-Tags, with Size1, any offsets,
 * out-of-order, repeated and restarted blocks, and time passing.
 * Input: u8 limits || u8 limits || block*, each block
 *   u8 flags (bits 0-1 peer, 2-3 path, 4 M, 5 Size1, 6 Request-Tag, 7 payload from input)
 *   || u8 (bits 0-2 SZX mod 7, 3-6 NUM bits 16-19, 7 time in seconds) || u16 NUM bits 0-15
 *   || [varint Size1] || [str8 Request-Tag] || u16 payload length || [payload]
 *   || u8 time passed before the block (x 50 ms, or x 1 s).
 * A payload not from the input is the transfer's pattern (pattern() below), so that a body
 * made only of such blocks must equal the pattern. */
#include "fuzz_common.h"
#include "net/blockwise_internal.h"
#include "net/net_internal.h"

#include <arpa/inet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_PEERS 4
#define N_KEYS 64
#define MAX_PAYLOAD 4096

static const char *const paths[] = {"up", "a/b", "", NULL};

/* Which blocks went into the body of one (peer, path, Request-Tag). */
typedef struct key {
    unsigned peer, path;
    uint8_t rtag[PQCOAP_BW_RTAG_MAX];
    size_t rtag_len;
    int dirty;                  /* a block from the input may be in the body */
} key;

static uint8_t pattern(const key *k, size_t pos)
{
    size_t seed = k->peer * 16 + k->path * 4 + k->rtag_len;
    for (size_t i = 0; i < k->rtag_len; i++)
        seed += k->rtag[i];
    return (uint8_t)(pos * 131 + (pos >> 8) * 7 + seed);
}

static void make_peers(coap_address_t peers[N_PEERS])
{
    for (unsigned i = 0; i < N_PEERS; i++) {
        coap_address_init(&peers[i]);
        if (i < 3) {
            peers[i].addr.sin.sin_family = AF_INET;
            peers[i].addr.sin.sin_port = htons(i == 1 ? 40001 : 40000);
            peers[i].addr.sin.sin_addr.s_addr = htonl(i == 2 ? 0x7f000002 : 0x7f000001);
            peers[i].size = sizeof peers[i].addr.sin;
        } else {
            peers[i].addr.sin6.sin6_family = AF_INET6;
            peers[i].addr.sin6.sin6_port = htons(40000);
            peers[i].addr.sin6.sin6_addr.s6_addr[15] = 1;
            peers[i].size = sizeof peers[i].addr.sin6;
        }
    }
}

/* The tracked key of a block; NULL when the table of keys is full (then not checked). */
static key *key_of(key *keys, size_t *n_keys, unsigned peer, unsigned path,
                   const uint8_t *rtag, size_t rtag_len)
{
    for (size_t i = 0; i < *n_keys; i++)
        if (keys[i].peer == peer && keys[i].path == path && keys[i].rtag_len == rtag_len &&
            (rtag_len == 0 || memcmp(keys[i].rtag, rtag, rtag_len) == 0))
            return &keys[i];
    if (*n_keys == N_KEYS || rtag_len > PQCOAP_BW_RTAG_MAX)
        return NULL;
    key *k = &keys[(*n_keys)++];
    memset(k, 0, sizeof *k);
    k->peer = peer;
    k->path = path;
    if (rtag_len)
        memcpy(k->rtag, rtag, rtag_len);
    k->rtag_len = rtag_len;
    return k;
}

/* The limits hold after every block: pending transfers in all and per peer, one kept body
 * per peer and max_transfers in all, bodies within the limit, one transfer per key. */
static void check_table(const pqcoap_bw_table *tab, const coap_address_t peers[N_PEERS])
{
    unsigned pending = 0, kept = 0;
    for (const pqcoap_bw_transfer *t = tab->transfers; t; t = t->next) {
        pending += !t->done;
        kept += t->done;
        if (t->body.len > t->body.cap || t->body.cap > tab->max_body + tab->overhead ||
            t->rtag_len > PQCOAP_BW_RTAG_MAX || !memchr(t->path, '\0', sizeof t->path))
            __builtin_trap();
        for (const pqcoap_bw_transfer *o = t->next; o; o = o->next)
            if (coap_address_equals(&o->peer, &t->peer) && strcmp(o->path, t->path) == 0 &&
                o->rtag_len == t->rtag_len && memcmp(o->rtag, t->rtag, t->rtag_len) == 0)
                __builtin_trap();
    }
    if (pending != tab->n_pending || pending > tab->max_transfers || kept > tab->max_transfers)
        __builtin_trap();
    for (unsigned i = 0; i < N_PEERS; i++) {
        unsigned peer_pending = 0, peer_kept = 0;
        for (const pqcoap_bw_transfer *t = tab->transfers; t; t = t->next) {
            if (coap_address_equals(&t->peer, &peers[i])) {
                peer_pending += !t->done;
                peer_kept += t->done;
            }
        }
        if (peer_pending > tab->max_per_peer || peer_kept > 1)
            __builtin_trap();
    }
}

/* The answer to a block that completes no body. */
static void check_answer(const pqcoap_bw_table *tab, const pqcoap_bw_block *b,
                         const pqcoap_bw_answer *ans)
{
    uint8_t c = ans->code;
    if ((!b->path && c != PQCOAP_CODE(4, 4)) ||
        (b->path && b->rtag_len > PQCOAP_BW_RTAG_MAX && c != PQCOAP_CODE(4, 2)) ||
        (c == PQCOAP_CODE(2, 31) && (!b->more || ans->diag || ans->opt)) ||
        (c == PQCOAP_CODE(4, 13) &&
         (ans->opt != PQCOAP_OPT_SIZE1 || ans->val != (uint32_t)tab->max_body)) ||
        (c == PQCOAP_CODE(5, 3) && (ans->opt != PQCOAP_OPT_MAX_AGE || ans->val != tab->timeout_s)))
        __builtin_trap();
    if (c != PQCOAP_CODE(2, 31) && c != PQCOAP_CODE(4, 4) && c != PQCOAP_CODE(4, 2) &&
        c != PQCOAP_CODE(4, 13) && c != PQCOAP_CODE(4, 0) && c != PQCOAP_CODE(5, 3) &&
        c != PQCOAP_CODE(4, 8))
        __builtin_trap();
    if (c != PQCOAP_CODE(2, 31) && !ans->diag)
        __builtin_trap();
}

/* A whole body: the last block ends it, holds the block's bytes, and is the pattern when
 * only pattern blocks went into it. */
static void check_body(const pqcoap_bw_transfer *t, const pqcoap_bw_block *b,
                       const key *k, const coap_address_t *peer, size_t offset)
{
    if (b->more || t->body.len != offset + b->payload_len ||
        (b->payload_len && memcmp(t->body.data + offset, b->payload, b->payload_len) != 0) ||
        !coap_address_equals(&t->peer, peer) || strcmp(t->path, b->path) != 0 ||
        t->rtag_len != b->rtag_len || (b->rtag_len && memcmp(t->rtag, b->rtag, b->rtag_len)))
        __builtin_trap();
    for (size_t i = 0; k && !k->dirty && i < t->body.len; i++)
        if (t->body.data[i] != pattern(k, i))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static coap_address_t peers[N_PEERS];
    static uint8_t payload[MAX_PAYLOAD];
    static int ready;
    if (!ready) {
        pqcoap_net_startup(0);
        make_peers(peers);
        ready = 1;
    }
    pqcoap_reader r;
    uint8_t lim1, lim2;
    pqcoap_rd_init(&r, data, size);
    if (pqcoap_rd_u8(&r, &lim1) != PQCOAP_OK || pqcoap_rd_u8(&r, &lim2) != PQCOAP_OK)
        return 0;
    pqcoap_bw_table tab;
    memset(&tab, 0, sizeof tab);
    tab.max_body = (size_t)16 << (lim1 & 7);
    tab.overhead = (size_t)((lim1 >> 3) & 3) * 16;
    tab.max_transfers = 1 + (lim2 & 3);
    tab.max_per_peer = 1 + ((lim2 >> 2) & 3);
    tab.timeout_s = 1 + (lim2 >> 4);
    key keys[N_KEYS];
    size_t n_keys = 0;
    uint64_t now = 1000000;

    for (;;) {
        uint8_t flags, b1, dt;
        uint16_t num_lo, plen;
        uint64_t size1 = 0;
        const uint8_t *rtag = NULL, *input_payload = NULL;
        size_t rtag_len = 0;
        if (pqcoap_rd_u8(&r, &flags) != PQCOAP_OK || pqcoap_rd_u8(&r, &b1) != PQCOAP_OK ||
            pqcoap_rd_u16(&r, &num_lo) != PQCOAP_OK ||
            ((flags & 0x20) && pqcoap_rd_varint(&r, &size1) != PQCOAP_OK) ||
            ((flags & 0x40) && pqcoap_rd_str8(&r, &rtag, &rtag_len) != PQCOAP_OK) ||
            pqcoap_rd_u16(&r, &plen) != PQCOAP_OK)
            break;
        if (plen > MAX_PAYLOAD)
            plen = MAX_PAYLOAD;
        if ((flags & 0x80) && pqcoap_rd_bytes(&r, plen, &input_payload) != PQCOAP_OK)
            break;
        if (pqcoap_rd_u8(&r, &dt) != PQCOAP_OK)
            break;
        unsigned peer = flags & 3, path = (flags >> 2) & 3;
        pqcoap_bw_block b = {&peers[peer], paths[path], (uint32_t)((b1 >> 3) & 15) << 16 | num_lo,
                             (flags >> 4) & 1, (b1 & 7) % 7, size1, rtag, rtag_len,
                             NULL, plen};
        size_t offset = (size_t)b.num * ((size_t)16 << b.szx);
        key *k = key_of(keys, &n_keys, peer, path, rtag, rtag_len);
        if (input_payload) {
            b.payload = input_payload;
            if (k)
                k->dirty = 1;
        } else {
            for (size_t i = 0; i < plen; i++)
                payload[i] = k ? pattern(k, offset + i) : 0;
            b.payload = payload;
            if (k && b.num == 0)
                k->dirty = 0;
        }

        /* the server's loop drops idle transfers before it reads the next datagram */
        now += (b1 & 0x80) ? (uint64_t)dt * 1000 : (uint64_t)dt * 50;
        pqcoap_bw_expire(&tab, now);
        pqcoap_bw_answer ans;
        memset(&ans, 0, sizeof ans);
        pqcoap_bw_transfer *t = pqcoap_bw_receive(&tab, &b, now, &ans);
        if (t) {
            check_body(t, &b, k, &peers[peer], offset);
            pqcoap_bw_done(&tab, t, now); /* served */
        } else {
            check_answer(&tab, &b, &ans);
        }
        check_table(&tab, peers);
    }
    pqcoap_bw_clear(&tab);
    return 0;
}
