/* Block-wise transfers of the server: the table of block-wise requests being received and
 * the answer to each block, and the block-wise responses being sent (see
 * blockwise_internal.h). */
#include "net/blockwise_internal.h"

#include <stdlib.h>
#include <string.h>
#include "net/net_internal.h"

static void transfer_free(pqcoap_bw_table *tab, pqcoap_bw_transfer *t)
{
    for (pqcoap_bw_transfer **pp = &tab->transfers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            if (!t->done)
                tab->n_pending--;
            break;
        }
    }
    pqcoap_net_body_free(&t->body);
    free(t);
}

/* Keeps the served body of t for a retransmitted last block: no longer pending; only the
 * peer's latest served body is kept, and at most max_transfers served bodies in all (the
 * oldest other than t goes first, also when it was served in the same millisecond), so
 * kept bodies are bounded like pending ones. */
void pqcoap_bw_done(pqcoap_bw_table *tab, pqcoap_bw_transfer *t, uint64_t now_ms)
{
    if (!t->done)
        tab->n_pending--;
    t->done = 1;
    t->last_ms = now_ms;
    unsigned kept = 0;
    pqcoap_bw_transfer *o = tab->transfers, *oldest = NULL;
    while (o) {
        pqcoap_bw_transfer *next = o->next;
        if (o != t && o->done && coap_address_equals(&o->peer, &t->peer)) {
            transfer_free(tab, o);
        } else if (o->done) {
            kept++;
            if (o != t && (!oldest || o->last_ms < oldest->last_ms))
                oldest = o;
        }
        o = next;
    }
    if (kept > tab->max_transfers && oldest)
        transfer_free(tab, oldest);
}

static void reply_free(pqcoap_bw_table *tab, pqcoap_bw_reply *r)
{
    for (pqcoap_bw_reply **pp = &tab->replies; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            tab->n_replies--;
            break;
        }
    }
    pqcoap_reply_free(&r->resp);
    free(r);
}

void pqcoap_bw_expire(pqcoap_bw_table *tab, uint64_t now_ms)
{
    pqcoap_bw_transfer *t = tab->transfers;
    while (t) {
        pqcoap_bw_transfer *next = t->next;
        if (now_ms - t->last_ms >= (uint64_t)tab->timeout_s * 1000)
            transfer_free(tab, t);
        t = next;
    }
    pqcoap_bw_reply *r = tab->replies;
    while (r) {
        pqcoap_bw_reply *next = r->next;
        uint64_t keep = r->all_sent ? PQCOAP_BW_SENT_KEEP_MS : (uint64_t)tab->timeout_s * 1000;
        if (now_ms - r->last_ms >= keep)
            reply_free(tab, r);
        r = next;
    }
}

pqcoap_bw_reply *pqcoap_bw_find_reply(pqcoap_bw_table *tab, const coap_address_t *peer,
                                      const char *target)
{
    for (pqcoap_bw_reply *r = tab->replies; r; r = r->next)
        if (strcmp(r->target, target) == 0 && coap_address_equals(&r->peer, peer))
            return r;
    return NULL;
}

pqcoap_err pqcoap_bw_keep_reply(pqcoap_bw_table *tab, const coap_address_t *peer,
                                const char *target, const pqcoap_msg *resp, unsigned szx,
                                uint64_t now_ms, pqcoap_bw_reply **out)
{
    *out = NULL;
    if (strnlen(target, PQCOAP_BW_PATH_LEN) == PQCOAP_BW_PATH_LEN || tab->max_transfers == 0)
        return PQCOAP_ERR_ARG;
    pqcoap_bw_reply *r = pqcoap_bw_find_reply(tab, peer, target);
    if (r)
        reply_free(tab, r);
    if (tab->n_replies >= tab->max_transfers) {
        pqcoap_bw_reply *oldest = tab->replies;
        for (pqcoap_bw_reply *o = tab->replies; o; o = o->next)
            if (o->last_ms < oldest->last_ms)
                oldest = o;
        reply_free(tab, oldest);
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return PQCOAP_ERR_NOMEM;
    pqcoap_err err = pqcoap_reply_copy(&r->resp, resp);
    if (err != PQCOAP_OK) {
        free(r);
        return err;
    }
    coap_address_copy(&r->peer, peer);
    memcpy(r->target, target, strlen(target) + 1);
    r->szx = szx;
    r->last_ms = now_ms;
    r->next = tab->replies;
    tab->replies = r;
    tab->n_replies++;
    *out = r;
    return PQCOAP_OK;
}

void pqcoap_bw_reply_sent(pqcoap_bw_reply *r, size_t end, uint64_t now_ms)
{
    r->last_ms = now_ms;
    r->all_sent = end >= r->resp.msg.payload_len;
}

size_t pqcoap_bw_bytes(const pqcoap_bw_table *tab)
{
    size_t n = 0;
    for (const pqcoap_bw_transfer *t = tab->transfers; t; t = t->next)
        n += t->body.cap;
    for (const pqcoap_bw_reply *r = tab->replies; r; r = r->next)
        n += r->resp.msg.payload_len;
    return n;
}

void pqcoap_bw_clear(pqcoap_bw_table *tab)
{
    while (tab->transfers)
        transfer_free(tab, tab->transfers);
    while (tab->replies)
        reply_free(tab, tab->replies);
}

/* The transfer of `peer` for `path` and Request-Tag `rtag` (RFC 9175 section 3.3: blocks
 * belong together when endpoint, options other than block options and Request-Tag match),
 * and in *n_peer the number of transfers of the peer. */
static pqcoap_bw_transfer *find_transfer(pqcoap_bw_table *tab, const coap_address_t *peer,
                                         const char *path, const uint8_t *rtag,
                                         size_t rtag_len, unsigned *n_peer)
{
    pqcoap_bw_transfer *found = NULL;
    *n_peer = 0;
    for (pqcoap_bw_transfer *t = tab->transfers; t; t = t->next) {
        if (!coap_address_equals(&t->peer, peer))
            continue;
        *n_peer += !t->done;
        if (strcmp(t->path, path) == 0 && t->rtag_len == rtag_len &&
            (rtag_len == 0 || memcmp(t->rtag, rtag, rtag_len) == 0))
            found = t;
    }
    return found;
}

/* Starts a transfer; NULL when the limits are reached or memory is short. */
static pqcoap_bw_transfer *new_transfer(pqcoap_bw_table *tab, const coap_address_t *peer,
                                        const char *path, const uint8_t *rtag,
                                        size_t rtag_len, unsigned n_peer)
{
    if (tab->n_pending >= tab->max_transfers || n_peer >= tab->max_per_peer)
        return NULL;
    pqcoap_bw_transfer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    coap_address_copy(&t->peer, peer);
    t->body.limit = tab->max_body + tab->overhead;
    memcpy(t->path, path, strlen(path) + 1);
    if (rtag_len)
        memcpy(t->rtag, rtag, rtag_len);
    t->rtag_len = rtag_len;
    t->next = tab->transfers;
    tab->transfers = t;
    tab->n_pending++;
    return t;
}

static pqcoap_bw_transfer *answer(pqcoap_bw_answer *ans, uint8_t code, const char *diag,
                                  uint16_t opt, uint32_t val)
{
    ans->code = code;
    ans->diag = diag;
    ans->opt = opt;
    ans->val = val;
    return NULL;
}

/* RFC 7959 section 2.9.3: 4.13 with Size1 = the largest body accepted. */
static pqcoap_bw_transfer *too_large(const pqcoap_bw_table *tab, pqcoap_bw_answer *ans)
{
    return answer(ans, PQCOAP_CODE(4, 13), "request body too large", PQCOAP_OPT_SIZE1,
                  tab->max_body > UINT32_MAX ? UINT32_MAX : (uint32_t)tab->max_body);
}

/* Block1 (RFC 7959 section 2.5): collects the blocks of a request in order and answers
 * 2.31 to all but the last. Refuses early: a Size1 (section 4) or blocks beyond the limit
 * get 4.13, a new transfer over the limits 5.03 with Max-Age, a last block that ends inside
 * the body the earlier blocks brought 4.00. The body's storage never exceeds the limit. */
pqcoap_bw_transfer *pqcoap_bw_receive(pqcoap_bw_table *tab, const pqcoap_bw_block *b,
                                      uint64_t now_ms, pqcoap_bw_answer *ans)
{
    size_t limit = tab->max_body + tab->overhead;
    size_t bsize = (size_t)16 << b->szx;
    size_t offset = (size_t)b->num * bsize; /* num < 2^20 and bsize <= 1024 */
    if (!b->path || strnlen(b->path, PQCOAP_BW_PATH_LEN) == PQCOAP_BW_PATH_LEN)
        return answer(ans, PQCOAP_CODE(4, 4), "not found", 0, 0);
    if (b->rtag_len > PQCOAP_BW_RTAG_MAX)
        return answer(ans, PQCOAP_CODE(4, 2), "bad Request-Tag", 0, 0);
    unsigned n_peer;
    pqcoap_bw_transfer *t = find_transfer(tab, b->peer, b->path, b->rtag, b->rtag_len, &n_peer);
    if (b->size1 > limit || offset + b->payload_len > limit) {
        if (t)
            transfer_free(tab, t);
        return too_large(tab, ans);
    }
    if (b->more && b->payload_len != bsize) {
        /* RFC 7959 section 2.2: every block but the last has the size SZX says. */
        if (t)
            transfer_free(tab, t);
        return answer(ans, PQCOAP_CODE(4, 0), "block shorter than its size", 0, 0);
    }
    if (t && t->done) {
        /* RFC 7252 section 4.5: the last block again (its response was lost) is served again
         * from the kept body, so the layer's retransmission handling can answer it. */
        if (!b->more && offset + b->payload_len == t->body.len &&
            (b->payload_len == 0 ||
             memcmp(t->body.data + offset, b->payload, b->payload_len) == 0))
            return t;
        transfer_free(tab, t);
        t = NULL;
    }
    if (b->num == 0 && !t) {
        pqcoap_bw_expire(tab, now_ms);
        find_transfer(tab, b->peer, b->path, b->rtag, b->rtag_len, &n_peer); /* recount */
        t = new_transfer(tab, b->peer, b->path, b->rtag, b->rtag_len, n_peer);
        if (!t)
            return answer(ans, PQCOAP_CODE(5, 3), "too many block-wise requests",
                          PQCOAP_OPT_MAX_AGE, tab->timeout_s);
    }
    if (b->num == 0)
        t->body.len = 0; /* a new body, also when the peer restarts one */
    if (!t || offset > t->body.len) {
        if (t)
            transfer_free(tab, t);
        /* RFC 7959 section 2.9.2: 4.08 when blocks are missing. */
        return answer(ans, PQCOAP_CODE(4, 8), "request entity incomplete", 0, 0);
    }
    if (!b->more && offset + b->payload_len < t->body.len) {
        /* The last block ends inside what earlier blocks with M set brought. */
        transfer_free(tab, t);
        return answer(ans, PQCOAP_CODE(4, 0), "last block ends inside the body", 0, 0);
    }
    if (pqcoap_net_body_put(&t->body, offset, b->payload, b->payload_len) != PQCOAP_OK) {
        transfer_free(tab, t);
        return answer(ans, PQCOAP_CODE(5, 0), "out of memory", 0, 0);
    }
    t->last_ms = now_ms;
    if (b->more)
        return answer(ans, PQCOAP_CODE(2, 31), NULL, 0, 0); /* 2.31 Continue */
    return t;
}
