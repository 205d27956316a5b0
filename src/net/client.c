/* CoAP client on libcoap: one context and UDP session per client, a table of requests in
 * flight matched to responses by token, overall timeouts, block-wise bodies (sent and
 * received here, within the body limit), layer hooks. */
#include "pqcoap/client.h"
#include "net/client_internal.h"
#include "net/net_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 1024

/* Block size to SZX (RFC 7959 section 2.2: size = 2^(SZX+4)); -1 if not a valid size. */
static int block_szx(uint16_t size)
{
    for (int szx = 0; szx <= 6; szx++)
        if ((16u << szx) == size)
            return szx;
    return -1;
}

/* Appends the Uri-Path (query = 0) or Uri-Query (query = 1) options of s[0..len) to b,
 * percent-decoded by libcoap. */
static pqcoap_err add_uri_opts(pqcoap_msgbuf *b, const char *s, size_t len, int query)
{
    uint8_t buf[4 * PATH_MAX_LEN];
    size_t buflen = sizeof(buf);
    if (len == 0)
        return PQCOAP_OK;
    if (len > PATH_MAX_LEN)
        return PQCOAP_ERR_BAD_URI;
    int n = query ? coap_split_query((const uint8_t *)s, len, buf, &buflen)
                  : coap_split_path((const uint8_t *)s, len, buf, &buflen);
    if (n < 0)
        return PQCOAP_ERR_BAD_URI;
    const uint8_t *p = buf;
    for (int i = 0; i < n; i++) {
        pqcoap_err err = pqcoap_msgbuf_add_opt(b, query ? PQCOAP_OPT_URI_QUERY : PQCOAP_OPT_URI_PATH,
                                               coap_opt_value(p), coap_opt_length(p));
        if (err != PQCOAP_OK)
            return err == PQCOAP_ERR_BUFFER ? PQCOAP_ERR_BAD_URI : err;
        p += coap_opt_size(p);
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_path_query(pqcoap_msgbuf *b, const char *pq)
{
    const char *q = strchr(pq, '?');
    size_t plen = q ? (size_t)(q - pq) : strlen(pq);
    while (plen && pq[0] == '/') {
        pq++;
        plen--;
    }
    PQCOAP_TRY(add_uri_opts(b, pq, plen, 0));
    return q ? add_uri_opts(b, q + 1, strlen(q + 1), 1) : PQCOAP_OK;
}

/* ---- slots ------------------------------------------------------------------------- */

static pqcoap_client_slot *slot_by_token(pqcoap_client *cl, const uint8_t *tok, size_t len)
{
    for (size_t i = 0; i < cl->n_slots; i++) {
        pqcoap_client_slot *s = &cl->slots[i];
        if (s->state == PQCOAP_SLOT_PENDING && s->token_len == len && memcmp(s->token, tok, len) == 0)
            return s;
    }
    return NULL;
}

/* Ends the layer's part of the exchange and marks the slot done. */
static void slot_finish(pqcoap_client *cl, pqcoap_client_slot *s, pqcoap_err err)
{
    if (s->use_layer && cl->layer.end)
        cl->layer.end(cl->layer.ctx, s->state_mem);
    if (s->state_mem)
        pqcoap_wipe(s->state_mem, cl->layer.state_size);
    pqcoap_reply_free(&s->wire_req);
    pqcoap_net_body_free(&s->b2.body);
    s->err = err;
    s->state = PQCOAP_SLOT_DONE;
    s->done_seq = ++cl->done_counter;
}

/* Writes the diagnostic payload of an error response, printable characters only. */
static void describe_code(char *dst, size_t cap, const pqcoap_msg *m)
{
    char diag[96];
    size_t n = 0;
    for (size_t i = 0; i < m->payload_len && n + 1 < sizeof(diag); i++)
        diag[n++] = (m->payload[i] >= 0x20 && m->payload[i] < 0x7f) ? (char)m->payload[i] : '?';
    diag[n] = '\0';
    pqcoap_net_msg(dst, cap, "server answered %u.%02u%s%s", m->code >> 5, m->code & 31,
                   n ? ": " : "", diag);
}

/* ---- block-wise transfer ------------------------------------------------------------ */

/* Adds Block option `number` (RFC 7959 section 2.2). Returns 0 when it does not fit. */
static int add_block_opt(coap_pdu_t *pdu, uint16_t number, uint32_t num, int more, int szx)
{
    uint8_t buf[4];
    unsigned v = (unsigned)(num << 4 | (more ? 8u : 0u) | (unsigned)szx);
    return coap_add_option(pdu, number, coap_encode_var_safe(buf, sizeof(buf), v), buf) != 0;
}

/* Fills the fresh `pdu` with slot s's request and sends it (libcoap retransmits a CON one
 * and owns the PDU from then on). With `block2` < 0: the body, or when it takes more than one
 * block the Block1 block at s->off1 (RFC 7959 section 2.5) with Size1 (section 4) and the
 * first token as Request-Tag (RFC 9175 section 3); with `block2` >= 0: the request for
 * response block `block2` of 2^(szx+4) bytes (section 2.4), without body. */
static pqcoap_err send_step(pqcoap_client *cl, pqcoap_client_slot *s, coap_pdu_t *pdu, long block2, int szx)
{
    const pqcoap_msg *w = &s->wire_req.msg;
    const uint8_t *data = w->payload;
    size_t len = w->payload_len;
    /* RFC 7959 section 2.6: the requests for later blocks of a registration's answer carry
     * no Observe (plain CoAP; a layer's wire request stays as it protected it) */
    uint16_t skip = block2 > 0 && !s->use_layer ? PQCOAP_OPT_OBSERVE : 0;
    int ok = coap_add_token(pdu, s->token_len, s->token) &&
             pqcoap_net_put_opts(pdu, w, skip) == PQCOAP_OK;
    if (block2 >= 0) {
        ok = ok && add_block_opt(pdu, PQCOAP_OPT_BLOCK2, (uint32_t)block2, 0, szx);
        len = 0;
    } else {
        /* Early negotiation of the response block size (RFC 7959 section 2.4). */
        if (cl->cfg.block_size < PQCOAP_NET_BLOCK_MAX)
            ok = ok && add_block_opt(pdu, PQCOAP_OPT_BLOCK2, 0, 0, block_szx(cl->cfg.block_size));
        if (len > cl->cfg.block_size) {
            size_t bs = (size_t)16 << s->szx1;
            uint8_t size1[8];
            data += s->off1;
            len = w->payload_len - s->off1 < bs ? w->payload_len - s->off1 : bs;
            ok = ok &&
                 add_block_opt(pdu, PQCOAP_OPT_BLOCK1, (uint32_t)(s->off1 / bs),
                               s->off1 + len < w->payload_len, s->szx1) &&
                 coap_add_option(pdu, PQCOAP_OPT_SIZE1,
                                 coap_encode_var_safe8(size1, sizeof(size1), w->payload_len),
                                 size1) &&
                 coap_add_option(pdu, PQCOAP_OPT_REQUEST_TAG, w->token_len, w->token);
        }
    }
    if (!ok || (len && !coap_add_data(pdu, len, data))) {
        coap_delete_pdu(pdu);
        return PQCOAP_ERR_NOMEM;
    }
    return coap_send(cl->sess, pdu) == COAP_INVALID_MID ? PQCOAP_ERR_IO : PQCOAP_OK;
}

/* Sends the next message of slot s's request (see send_step) under a fresh token. */
static pqcoap_err next_step(pqcoap_client *cl, pqcoap_client_slot *s, long block2, int szx)
{
    coap_pdu_t *pdu = coap_new_pdu(s->con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON,
                                   (coap_pdu_code_t)s->wire_req.msg.code, cl->sess);
    if (!pdu)
        return PQCOAP_ERR_NOMEM;
    coap_session_new_token(cl->sess, &s->token_len, s->token);
    return send_step(cl, s, pdu, block2, szx);
}

/* RFC 7959 section 2.5: 2.31 (Continue) acknowledges the Block1 block in flight and asks for
 * the next one, in the block size it gives when that is smaller. Sends it; returns the
 * error that ends the request, or PQCOAP_OK. */
static pqcoap_err block1_continue(pqcoap_client *cl, pqcoap_client_slot *s, const coap_pdu_t *pdu)
{
    coap_block_b_t b;
    size_t total = s->wire_req.msg.payload_len;
    if (total <= cl->cfg.block_size || !coap_get_block_b(cl->sess, pdu, COAP_OPTION_BLOCK1, &b)) {
        pqcoap_net_msg(s->msg, sizeof(s->msg), "server answered 2.31 Continue to no block");
        return PQCOAP_ERR_MALFORMED;
    }
    s->off1 += (size_t)16 << s->szx1;
    if (s->off1 >= total) {
        pqcoap_net_msg(s->msg, sizeof(s->msg), "server asked for a block after the last one");
        return PQCOAP_ERR_MALFORMED;
    }
    if ((int)b.szx < s->szx1)
        s->szx1 = (int)b.szx;
    return next_step(cl, s, -1, 0);
}

pqcoap_err pqcoap_client_block2_take(pqcoap_client_b2 *b2, const pqcoap_client_block *b,
                                     size_t max_body, char *msg, size_t cap, int *done)
{
    size_t bs = (size_t)16 << b->szx;
    size_t offset = (size_t)b->num * bs; /* num < 2^20 and bs <= 1024 */
    *done = 0;
    if (b->size2 > b2->body.limit) {
        pqcoap_net_msg(msg, cap, "response announces %llu bytes (Size2), over the limit of %zu",
                       (unsigned long long)b->size2, max_body);
        return PQCOAP_ERR_TOO_LARGE;
    }
    if (offset != b2->body.len || (b->more && b->payload_len != bs)) {
        pqcoap_net_msg(msg, cap, "response block %u out of order or short", (unsigned)b->num);
        return PQCOAP_ERR_MALFORMED;
    }
    if (offset == 0 && b->etag_len <= sizeof(b2->etag)) {
        b2->etag_len = b->etag_len;
        if (b->etag_len)
            memcpy(b2->etag, b->etag, b->etag_len);
    } else if (b->etag_len != b2->etag_len ||
               (b->etag_len && memcmp(b2->etag, b->etag, b->etag_len) != 0)) {
        pqcoap_net_msg(msg, cap, "response changed during the block-wise transfer (ETag)");
        return PQCOAP_ERR_MALFORMED;
    }
    pqcoap_err err = pqcoap_net_body_put(&b2->body, offset, b->payload, b->payload_len);
    if (err == PQCOAP_ERR_TOO_LARGE)
        pqcoap_net_msg(msg, cap, "response body exceeds the limit of %zu", max_body);
    if (err != PQCOAP_OK)
        return err;
    *done = !b->more;
    return PQCOAP_OK;
}

/* RFC 7959 section 2.4: takes block b of a block-wise response to slot s (see
 * pqcoap_client_block2_take) and asks for the next block while M is set. Returns PQCOAP_OK,
 * with *done = 1 once the body is complete in s->b2.body, or the error that ends the
 * request. */
static pqcoap_err block2_take(pqcoap_client *cl, pqcoap_client_slot *s, const coap_pdu_t *pdu,
                              const coap_block_b_t *b, const pqcoap_msg *wire, int *done)
{
    coap_opt_iterator_t it;
    coap_opt_t *size2 = coap_check_option(pdu, COAP_OPTION_SIZE2, &it);
    coap_opt_t *etag = coap_check_option(pdu, COAP_OPTION_ETAG, &it);
    const pqcoap_client_block blk = {
        b->num, (int)b->m, b->szx,
        size2 ? coap_decode_var_bytes8(coap_opt_value(size2), coap_opt_length(size2)) : 0,
        etag ? coap_opt_value(etag) : NULL, etag ? coap_opt_length(etag) : 0,
        wire->payload, wire->payload_len};
    PQCOAP_TRY(pqcoap_client_block2_take(&s->b2, &blk, cl->cfg.max_body, s->msg,
                                         sizeof(s->msg), done));
    return *done ? PQCOAP_OK : next_step(cl, s, (long)b->num + 1, (int)b->szx);
}

/* A response for slot s arrived: check it through the layer and keep the result. */
static void slot_response(pqcoap_client *cl, pqcoap_client_slot *s, const coap_pdu_t *pdu)
{
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg wire;
    pqcoap_err view_err = pqcoap_net_view(pdu, opts, PQCOAP_NET_MAX_OPTS, &wire);
    if (view_err != PQCOAP_OK) {
        if (view_err == PQCOAP_ERR_TOO_LARGE)
            pqcoap_net_msg(s->msg, sizeof(s->msg), "response carries more than %d options",
                           PQCOAP_NET_MAX_OPTS);
        else
            pqcoap_net_msg(s->msg, sizeof(s->msg), "response options are malformed");
        slot_finish(cl, s, PQCOAP_ERR_MALFORMED);
        return;
    }
    pqcoap_err err = PQCOAP_OK;
    coap_block_b_t b;
    if (wire.code == PQCOAP_CODE(2, 31)) {
        err = block1_continue(cl, s, pdu);
        if (err != PQCOAP_OK)
            slot_finish(cl, s, err);
        return;
    }
    int has_block2 = coap_get_block_b(cl->sess, pdu, COAP_OPTION_BLOCK2, &b);
    if ((wire.code >> 5) == 2 && (s->b2.body.len || (has_block2 && (b.num || b.m)))) {
        int done = 0;
        if (!has_block2) {
            /* A block-wise response under way: a success without Block2 is no block of it. */
            pqcoap_net_msg(s->msg, sizeof(s->msg), "response block without Block2 option");
            err = PQCOAP_ERR_MALFORMED;
        } else {
            coap_opt_iterator_t it;
            coap_opt_t *obs = b.num == 0 ? coap_check_option(pdu, COAP_OPTION_OBSERVE, &it) : NULL;
            if (obs && coap_opt_length(obs) <= 3)
                s->observe0 = (long)coap_decode_var_bytes(coap_opt_value(obs),
                                                          coap_opt_length(obs)) + 1;
            err = block2_take(cl, s, pdu, &b, &wire, &done);
        }
        if (err != PQCOAP_OK)
            slot_finish(cl, s, err);
        if (err != PQCOAP_OK || !done)
            return;
        wire.payload = s->b2.body.data;
        wire.payload_len = s->b2.body.len;
    }
    wire.token = s->wire_req.msg.token; /* the request's, as the caller knows it */
    wire.token_len = s->wire_req.msg.token_len;
    if (wire.payload_len > cl->cfg.max_body + cl->layer.overhead) {
        pqcoap_net_msg(s->msg, sizeof(s->msg), "response body of %zu bytes exceeds the limit of %zu",
                       wire.payload_len, cl->cfg.max_body);
        slot_finish(cl, s, PQCOAP_ERR_TOO_LARGE);
        return;
    }
    cl->last_received = pqcoap_net_msg_size(&wire);
    const pqcoap_msg *shown = &wire;
    pqcoap_msg plain;
    if (s->use_layer && cl->layer.check_response) {
        pqcoap_net_scratch_start(&cl->plain, wire.code, wire.token, wire.token_len);
        err = cl->layer.check_response(cl->layer.ctx, s->state_mem, &s->x, &wire, &cl->plain.b);
        if (err == PQCOAP_OK) {
            pqcoap_msgbuf_view(&cl->plain.b, &plain);
            shown = &plain;
        } else {
            pqcoap_net_msg(s->msg, sizeof(s->msg), "response rejected by the security layer: %s",
                           pqcoap_strerror(err));
        }
    }
    if (err == PQCOAP_OK && s->use_layer && s->kind == PQCOAP_SLOT_REGISTER)
        pqcoap_client_obs_keep_state(cl, s, shown); /* before `end` and the wipe */
    if (err == PQCOAP_OK && shown->payload_len > cl->cfg.max_body) {
        pqcoap_net_msg(s->msg, sizeof(s->msg), "response body of %zu bytes exceeds the limit of %zu",
                       shown->payload_len, cl->cfg.max_body);
        err = PQCOAP_ERR_TOO_LARGE;
    }
    if (err == PQCOAP_OK && (shown->code >> 5) >= 4) {
        describe_code(s->msg, sizeof(s->msg), shown);
        if (s->expect_success)
            err = PQCOAP_ERR_COAP;
    }
    if (pqcoap_reply_copy(&s->reply, shown) != PQCOAP_OK) {
        pqcoap_net_msg(s->msg, sizeof(s->msg), "out of memory copying the response");
        err = PQCOAP_ERR_NOMEM;
    }
    slot_finish(cl, s, err);
}

/* ---- libcoap callbacks -------------------------------------------------------------- */

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    (void)sent;
    (void)mid;
    pqcoap_client *cl = coap_session_get_app_data(session);
    coap_bin_const_t tok = coap_pdu_get_token(received);
    pqcoap_client_slot *s = cl ? slot_by_token(cl, tok.s, tok.length) : NULL;
    /* a deregistration carries its observation's token (RFC 7641 section 3.6): a
     * notification that crosses it (a CON or NON with Observe) is not its answer, and the
     * observation is over: acknowledged and dropped */
    coap_opt_iterator_t it;
    if (s && s->kind == PQCOAP_SLOT_DEREGISTER &&
        coap_pdu_get_type(received) != COAP_MESSAGE_ACK &&
        coap_check_option(received, COAP_OPTION_OBSERVE, &it))
        return COAP_RESPONSE_OK;
    /* unknown or abandoned: Reset (RFC 7252 section 4.2) */
    if (s) {
        slot_response(cl, s, received);
        return COAP_RESPONSE_OK;
    }
    /* a notification of an observation (RFC 7641); libcoap acknowledges a CON one when the
     * handler returns OK, and answers Reset otherwise */
    return cl && pqcoap_client_obs_notification(cl, received) ? COAP_RESPONSE_OK
                                                               : COAP_RESPONSE_FAIL;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    (void)mid;
    pqcoap_client *cl = coap_session_get_app_data(session);
    if (!cl || !sent)
        return;
    coap_bin_const_t tok = coap_pdu_get_token(sent);
    pqcoap_client_slot *s = slot_by_token(cl, tok.s, tok.length);
    if (!s)
        return;
    switch (reason) {
    case COAP_NACK_TOO_MANY_RETRIES:
        pqcoap_net_msg(s->msg, sizeof(s->msg), "no answer after %u retransmissions",
                       (unsigned)coap_session_get_max_retransmit(session));
        slot_finish(cl, s, PQCOAP_ERR_TIMEOUT);
        break;
    case COAP_NACK_RST:
        pqcoap_net_msg(s->msg, sizeof(s->msg), "server answered with Reset (RST)");
        slot_finish(cl, s, PQCOAP_ERR_COAP);
        break;
    case COAP_NACK_ICMP_ISSUE:
    case COAP_NACK_NOT_DELIVERABLE:
        /* ICMP is unauthenticated: note it, keep waiting until the deadline. */
        s->icmp = 1;
        break;
    case COAP_NACK_TLS_FAILED:
    default:
        pqcoap_net_msg(s->msg, sizeof(s->msg), "transport failure");
        slot_finish(cl, s, PQCOAP_ERR_IO);
        break;
    }
}

/* ---- session ------------------------------------------------------------------------ */

/* RFC 7252 section 4.8: ACK_TIMEOUT, the configured one or the default 2 s. */
static uint32_t ack_timeout_of(const pqcoap_client_config *cfg)
{
    return cfg->ack_timeout_ms ? cfg->ack_timeout_ms : 2000u;
}

/* Retransmissions that fit in the overall timeout: the last one is given up by
 * ACK_TIMEOUT * (2^(n+1) - 1) * ACK_RANDOM_FACTOR (RFC 7252 section 4.8.2), so that a
 * request abandoned at the deadline does not hold back the next one for long. */
static uint16_t retransmits_for(uint32_t timeout_ms, uint32_t ack_ms)
{
    uint64_t worst = (uint64_t)ack_ms * 3 / 2; /* ACK_RANDOM_FACTOR 1.5 */
    uint16_t n = 0;
    while (n < 4 && worst * ((1u << (n + 2)) - 1) <= timeout_ms)
        n++;
    return n;
}

static pqcoap_err session_open(pqcoap_client *cl)
{
    cl->sess = coap_new_client_session(cl->ctx, NULL, &cl->dst, COAP_PROTO_UDP);
    if (!cl->sess)
        return PQCOAP_ERR_IO;
    coap_session_set_app_data(cl->sess, cl);
    /* libcoap counts tokens from 0 in every session: this one goes on from the last one's
     * (an observation of the old session may still hold one of its tokens) */
    if (cl->next_token_len)
        coap_session_init_token(cl->sess, cl->next_token_len, cl->next_token);
    uint32_t ack_ms = ack_timeout_of(&cl->cfg);
    coap_fixed_point_t ack = {(uint16_t)(ack_ms / 1000), (uint16_t)(ack_ms % 1000)};
    coap_session_set_ack_timeout(cl->sess, ack);
    coap_session_set_max_retransmit(cl->sess, retransmits_for(cl->cfg.timeout_ms, ack_ms));
    coap_session_set_nstart(cl->sess, cl->cfg.nstart);
    return PQCOAP_OK;
}

static void session_close(pqcoap_client *cl)
{
    if (cl->sess) {
        coap_session_new_token(cl->sess, &cl->next_token_len, cl->next_token);
        coap_session_set_app_data(cl->sess, NULL);
        coap_session_release(cl->sess);
        cl->sess = NULL;
    }
}

/* Abandoned CON messages stay in libcoap's queue, where NSTART holds new ones back; once
 * nothing is in flight a fresh session drops them. */
static pqcoap_err session_refresh(pqcoap_client *cl)
{
    for (size_t i = 0; i < cl->n_slots; i++)
        if (cl->slots[i].state == PQCOAP_SLOT_PENDING)
            return PQCOAP_OK;
    session_close(cl);
    pqcoap_client_obs_moved(cl); /* notifications went to the old port */
    return session_open(cl);
}

void pqcoap_client_new_session(pqcoap_client *cl)
{
    if (session_refresh(cl) != PQCOAP_OK)
        session_close(cl); /* the next request opens one */
}

/* ---- open / free -------------------------------------------------------------------- */

static pqcoap_err resolve(pqcoap_client *cl, const coap_uri_t *uri, char *msg, size_t cap)
{
    if (uri->host.length == 0 || uri->host.length >= sizeof(cl->host)) {
        pqcoap_net_msg(msg, cap, "URI has no usable host");
        return PQCOAP_ERR_BAD_URI;
    }
    memcpy(cl->host, uri->host.s, uri->host.length);
    cl->host[uri->host.length] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST;
    cl->host_is_name = getaddrinfo(cl->host, NULL, &hints, &res) != 0;
    if (cl->host_is_name) {
        hints.ai_flags = 0;
        int rc = getaddrinfo(cl->host, NULL, &hints, &res);
        if (rc != 0) {
            pqcoap_net_msg(msg, cap, "cannot resolve host %s: %s", cl->host, gai_strerror(rc));
            return PQCOAP_ERR_UNREACHABLE;
        }
    }
    coap_address_init(&cl->dst);
    if (res->ai_addrlen > sizeof(cl->dst.addr)) {
        freeaddrinfo(res);
        return PQCOAP_ERR_UNREACHABLE;
    }
    memcpy(&cl->dst.addr, res->ai_addr, res->ai_addrlen);
    cl->dst.size = res->ai_addrlen;
    freeaddrinfo(res);
    if (cl->dst.addr.sa.sa_family == AF_INET)
        cl->dst.addr.sin.sin_port = htons(uri->port);
    else
        cl->dst.addr.sin6.sin6_port = htons(uri->port);
    return PQCOAP_OK;
}

static pqcoap_err check_config(const pqcoap_client_config *cfg)
{
    if (cfg->timeout_ms == 0 || cfg->max_body == 0 || cfg->max_body > SIZE_MAX / 4 ||
        block_szx(cfg->block_size) < 0 || cfg->max_in_flight == 0 ||
        cfg->max_in_flight > 65536 || cfg->nstart == 0 || cfg->max_observe > 1024 ||
        (cfg->ack_timeout_ms && (cfg->ack_timeout_ms < 1000 || cfg->ack_timeout_ms > 60000)))
        return PQCOAP_ERR_ARG;
    if (cfg->layer && cfg->layer->overhead > SIZE_MAX / 4)
        return PQCOAP_ERR_ARG;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_parse_uri(const char *uri_str, coap_uri_t *uri, pqcoap_msgbuf *opts,
                                   char *msg, size_t cap)
{
    size_t ulen = strlen(uri_str);
    if (ulen < 7 || strncmp(uri_str, "coap://", 7) != 0 ||
        coap_split_uri((const uint8_t *)uri_str, ulen, uri) < 0 ||
        uri->scheme != COAP_URI_SCHEME_COAP) {
        pqcoap_net_msg(msg, cap, "bad URI \"%s\": expected coap://host[:port]/path?query", uri_str);
        return PQCOAP_ERR_BAD_URI;
    }
    if (add_uri_opts(opts, (const char *)uri->path.s, uri->path.length, 0) != PQCOAP_OK ||
        add_uri_opts(opts, (const char *)uri->query.s, uri->query.length, 1) != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "bad URI \"%s\": path or query too long or malformed", uri_str);
        return PQCOAP_ERR_BAD_URI;
    }
    return PQCOAP_OK;
}

static pqcoap_err client_setup(pqcoap_client *cl, const char *uri_str, char *msg, size_t cap)
{
    coap_uri_t uri;
    pqcoap_msgbuf_init(&cl->uri, cl->uri_opts, PQCOAP_CLIENT_URI_OPTS_MAX, cl->uri_vals, PQCOAP_CLIENT_URI_VALS_MAX, NULL, 0);
    PQCOAP_TRY(pqcoap_client_parse_uri(uri_str, &uri, &cl->uri, msg, cap));
    PQCOAP_TRY(resolve(cl, &uri, msg, cap));

    size_t body_cap = cl->cfg.max_body + cl->layer.overhead;
    if (pqcoap_net_scratch_alloc(&cl->req, 0) != PQCOAP_OK ||
        pqcoap_net_scratch_alloc(&cl->wire, body_cap) != PQCOAP_OK ||
        pqcoap_net_scratch_alloc(&cl->plain, body_cap) != PQCOAP_OK)
        return PQCOAP_ERR_NOMEM;
    cl->n_slots = cl->cfg.max_in_flight;
    cl->slots = calloc(cl->n_slots, sizeof(pqcoap_client_slot));
    if (!cl->slots)
        return PQCOAP_ERR_NOMEM;
    for (size_t i = 0; i < cl->n_slots && cl->layer.state_size; i++)
        if (!(cl->slots[i].state_mem = calloc(1, cl->layer.state_size)))
            return PQCOAP_ERR_NOMEM;
    if (!cl->cfg.max_observe)
        cl->cfg.max_observe = 8;
    if (!(cl->obs = calloc(cl->cfg.max_observe, sizeof(*cl->obs))))
        return PQCOAP_ERR_NOMEM;

    cl->ctx = coap_new_context(NULL);
    if (!cl->ctx) {
        pqcoap_net_msg(msg, cap, "cannot create a libcoap context");
        return PQCOAP_ERR_IO;
    }
    /* No block-wise handling by libcoap: libcoap 4.3.1 (COAP_BLOCK_USE_LIBCOAP) reassembles a
     * Block2 response before the client sees any of it, allocating what Size2 announces and
     * asking for blocks as long as the server sets M, with no body limit and no hook before
     * the whole body is in; without COAP_BLOCK_SINGLE_BODY it shows each block but has
     * already asked for the next and cannot be stopped. So the client runs block-wise
     * transfer itself, within max_body (send_step, block2_take). */
    coap_context_set_block_mode(cl->ctx, 0);
    coap_register_response_handler(cl->ctx, on_response);
    coap_register_nack_handler(cl->ctx, on_nack);
    pqcoap_net_register_opts(cl->ctx, cl->has_layer ? &cl->layer : NULL);
    if (session_open(cl) != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "cannot open a UDP session to %s", cl->host);
        return PQCOAP_ERR_IO;
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_open(const char *uri, const pqcoap_client_config *cfg,
                              pqcoap_client **out, char *msg, size_t msg_cap)
{
    pqcoap_client_config defaults = PQCOAP_CLIENT_CONFIG_INIT;
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!uri || !out) {
        pqcoap_net_msg(msg, msg_cap, "NULL argument");
        return PQCOAP_ERR_ARG;
    }
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (check_config(cfg) != PQCOAP_OK) {
        pqcoap_net_msg(msg, msg_cap, "invalid client settings (timeout, body limit, block size "
                       "16..1024 power of two, in-flight window or NSTART)");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_client *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    cl->cfg = *cfg;
    cl->cfg.layer = NULL;
    if (cfg->layer) {
        cl->layer = *cfg->layer;
        cl->has_layer = 1;
    }
    pqcoap_net_startup(cfg->log_level);
    pqcoap_err err = client_setup(cl, uri, msg, msg_cap);
    if (err != PQCOAP_OK) {
        if (err == PQCOAP_ERR_NOMEM)
            pqcoap_net_msg(msg, msg_cap, "out of memory");
        pqcoap_client_free(cl);
        return err;
    }
    *out = cl;
    return PQCOAP_OK;
}

void pqcoap_client_free(pqcoap_client *cl)
{
    if (!cl)
        return;
    pqcoap_client_obs_free(cl);
    session_close(cl);
    if (cl->ctx)
        coap_free_context(cl->ctx);
    for (size_t i = 0; cl->slots && i < cl->n_slots; i++) {
        pqcoap_client_slot *s = &cl->slots[i];
        if (s->state == PQCOAP_SLOT_PENDING)
            slot_finish(cl, s, PQCOAP_ERR_STATE);
        pqcoap_client_slot_release(s);
        free(s->state_mem);
    }
    free(cl->slots);
    pqcoap_net_scratch_free(&cl->req);
    pqcoap_net_scratch_free(&cl->wire);
    pqcoap_net_scratch_free(&cl->plain);
    free(cl);
}

/* ---- sending ------------------------------------------------------------------------ */

/* Builds the request as the caller asked into cl->req (payload borrowed from req). */
static pqcoap_err build_request(pqcoap_client *cl, const pqcoap_req *req, const pqcoap_client_slot *s,
                                pqcoap_msg *view)
{
    pqcoap_msgbuf *b = &cl->req.b;
    pqcoap_net_scratch_start(&cl->req, req->method, s->token, s->token_len);
    /* RFC 7252 section 6.4 step 5: Uri-Host only when the host is not an IP literal. */
    if (cl->host_is_name)
        PQCOAP_TRY(pqcoap_msgbuf_add_opt(b, PQCOAP_OPT_URI_HOST, (const uint8_t *)cl->host,
                                         strlen(cl->host)));
    if (req->path) {
        PQCOAP_TRY(pqcoap_client_path_query(b, req->path));
    } else {
        pqcoap_msg uri;
        pqcoap_msgbuf_view(&cl->uri, &uri);
        PQCOAP_TRY(pqcoap_msgbuf_copy_opts(b, &uri));
    }
    if (req->content_format >= 0)
        PQCOAP_TRY(pqcoap_msgbuf_add_uint(b, PQCOAP_OPT_CONTENT_FORMAT, (uint32_t)req->content_format));
    if (req->accept >= 0)
        PQCOAP_TRY(pqcoap_msgbuf_add_uint(b, PQCOAP_OPT_ACCEPT, (uint32_t)req->accept));
    for (size_t i = 0; i < req->n_opts; i++) {
        if (pqcoap_net_hidden_opt(req->opts[i].number, 1))
            return PQCOAP_ERR_ARG;
        PQCOAP_TRY(pqcoap_msgbuf_add_opt(b, req->opts[i].number, req->opts[i].value,
                                         req->opts[i].len));
    }
    pqcoap_msgbuf_view(b, view);
    view->payload = req->payload_len ? req->payload : NULL;
    view->payload_len = req->payload_len;
    return PQCOAP_OK;
}

/* Keeps the wire request `w` in slot s and sends its first message in `pdu`. */
static pqcoap_err start_request(pqcoap_client *cl, pqcoap_client_slot *s, const pqcoap_msg *w, coap_pdu_t *pdu)
{
    s->szx1 = block_szx(cl->cfg.block_size);
    s->b2.body.limit = cl->cfg.max_body + cl->layer.overhead;
    if (pqcoap_reply_copy(&s->wire_req, w) != PQCOAP_OK) {
        coap_delete_pdu(pdu);
        return PQCOAP_ERR_NOMEM;
    }
    return send_step(cl, s, pdu, -1, 0);
}

pqcoap_err pqcoap_client_start(pqcoap_client *cl, const pqcoap_req *req, int kind, size_t obs,
                               const uint8_t *token, size_t token_len,
                               pqcoap_client_slot **out)
{
    if (!req || req->method == 0 || req->method > PQCOAP_IPATCH || (req->n_opts && !req->opts) ||
        (req->payload_len && !req->payload)) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "invalid request (method, options or payload)");
        return PQCOAP_ERR_ARG;
    }
    if (req->payload_len > cl->cfg.max_body) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "request body of %zu bytes exceeds the limit of %zu",
                       req->payload_len, cl->cfg.max_body);
        return PQCOAP_ERR_TOO_LARGE;
    }
    pqcoap_client_slot *s = NULL;
    for (size_t i = 0; i < cl->n_slots && !s; i++)
        if (cl->slots[i].state == PQCOAP_SLOT_FREE)
            s = &cl->slots[i];
    if (!s) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "%zu requests already in flight or not polled",
                       cl->n_slots);
        return PQCOAP_ERR_LIMIT;
    }
    if (!cl->sess && session_open(cl) != PQCOAP_OK) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "cannot open a UDP session to %s", cl->host);
        return PQCOAP_ERR_IO;
    }
    void *state_mem = s->state_mem;
    memset(s, 0, sizeof(*s));
    s->state_mem = state_mem;
    if (state_mem)
        memset(state_mem, 0, cl->layer.state_size);
    if (token && token_len <= sizeof(s->token)) {
        memcpy(s->token, token, token_len);
        s->token_len = token_len;
    } else {
        coap_session_new_token(cl->sess, &s->token_len, s->token);
    }
    s->kind = kind;
    s->obs = obs;
    s->con = !req->non;
    s->expect_success = req->expect_success;
    s->use_layer = cl->has_layer && !req->no_layer;

    pqcoap_msg view, w;
    pqcoap_err err = build_request(cl, req, s, &view);
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "cannot build the request options: %s",
                       pqcoap_strerror(err));
        return err == PQCOAP_ERR_BUFFER ? PQCOAP_ERR_TOO_LARGE : err;
    }
    coap_pdu_t *pdu = coap_new_pdu(req->non ? COAP_MESSAGE_NON : COAP_MESSAGE_CON,
                                   (coap_pdu_code_t)req->method, cl->sess);
    if (!pdu) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    pqcoap_net_exchange(&s->x, &cl->dst, pdu);
    w = view;
    if (s->use_layer && cl->layer.protect_request) {
        pqcoap_net_scratch_start(&cl->wire, view.code, view.token, view.token_len);
        err = cl->layer.protect_request(cl->layer.ctx, s->state_mem, &s->x, &view, &cl->wire.b);
        if (err == PQCOAP_OK)
            pqcoap_msgbuf_view(&cl->wire.b, &w);
    }
    if (err == PQCOAP_OK) {
        cl->last_sent = pqcoap_net_msg_size(&w);
        err = start_request(cl, s, &w, pdu);
    } else {
        coap_delete_pdu(pdu);
    }
    if (err != PQCOAP_OK) {
        pqcoap_net_msg(cl->err, sizeof(cl->err), "%s: %s",
                       err == PQCOAP_ERR_IO || err == PQCOAP_ERR_NOMEM ? "cannot send the request"
                                                                        : "security layer refused the request",
                       pqcoap_strerror(err));
        if (s->use_layer && cl->layer.end)
            cl->layer.end(cl->layer.ctx, s->state_mem);
        if (s->state_mem)
            pqcoap_wipe(s->state_mem, cl->layer.state_size);
        pqcoap_reply_free(&s->wire_req);
        return err;
    }
    if (++cl->next_id == 0)
        cl->next_id = 1;
    s->id = cl->next_id;
    s->deadline_ms = pqcoap_net_now_ms() + cl->cfg.timeout_ms;
    s->state = PQCOAP_SLOT_PENDING;
    *out = s;
    return PQCOAP_OK;
}

/* ---- waiting ------------------------------------------------------------------------ */

/* Ends pending requests whose deadline has passed. */
static void expire(pqcoap_client *cl, uint64_t now)
{
    int expired = 0;
    for (size_t i = 0; i < cl->n_slots; i++) {
        pqcoap_client_slot *s = &cl->slots[i];
        if (s->state != PQCOAP_SLOT_PENDING || now < s->deadline_ms)
            continue;
        pqcoap_net_msg(s->msg, sizeof(s->msg), "no response within %u ms%s", cl->cfg.timeout_ms,
                       s->icmp ? " (ICMP: destination unreachable)" : "");
        slot_finish(cl, s, PQCOAP_ERR_TIMEOUT);
        expired = 1;
    }
    if (expired)
        session_refresh(cl);
}

pqcoap_err pqcoap_client_pump(pqcoap_client *cl, uint64_t until_ms)
{
    uint64_t now = pqcoap_net_now_ms();
    uint64_t due = pqcoap_client_obs_service(cl, now);
    if (due < until_ms)
        until_ms = due;
    for (size_t i = 0; i < cl->n_slots; i++)
        if (cl->slots[i].state == PQCOAP_SLOT_PENDING && cl->slots[i].deadline_ms < until_ms)
            until_ms = cl->slots[i].deadline_ms;
    if (until_ms > now) {
        uint64_t wait = until_ms - now;
        /* COAP_IO_WAIT (0) would block without limit. */
        if (cl->sess && coap_io_process(cl->ctx, (uint32_t)(wait ? wait : 1)) < 0) {
            pqcoap_net_msg(cl->err, sizeof(cl->err), "libcoap I/O processing failed");
            return PQCOAP_ERR_IO;
        }
    }
    expire(cl, pqcoap_net_now_ms());
    pqcoap_client_obs_service(cl, pqcoap_net_now_ms());
    return PQCOAP_OK;
}

/* Hands a finished slot to the caller and frees it. */
static void take(pqcoap_client *cl, pqcoap_client_slot *s, pqcoap_completion *c)
{
    c->id = s->id;
    c->user = s->user;
    c->err = s->err;
    c->reply = s->reply;
    memset(&s->reply, 0, sizeof(s->reply));
    if (s->err != PQCOAP_OK)
        memcpy(cl->err, s->msg, sizeof(cl->err));
    s->state = PQCOAP_SLOT_FREE;
}

pqcoap_err pqcoap_client_send(pqcoap_client *cl, const pqcoap_req *req, void *user, uint32_t *id)
{
    if (!cl || !id)
        return PQCOAP_ERR_ARG;
    pqcoap_client_slot *s;
    PQCOAP_TRY(pqcoap_client_start(cl, req, PQCOAP_SLOT_USER, 0, NULL, 0, &s));
    s->user = user;
    *id = s->id;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_client_poll(pqcoap_client *cl, uint32_t wait_ms, pqcoap_completion *c, int *done)
{
    if (!cl || !c || !done)
        return PQCOAP_ERR_ARG;
    *done = 0;
    memset(c, 0, sizeof(*c));
    uint64_t until = pqcoap_net_now_ms() + wait_ms;
    for (;;) {
        pqcoap_client_slot *first = NULL;
        int pending = 0;
        for (size_t i = 0; i < cl->n_slots; i++) {
            pqcoap_client_slot *s = &cl->slots[i];
            if (s->kind != PQCOAP_SLOT_USER)
                continue;
            if (s->state == PQCOAP_SLOT_DONE && (!first || s->done_seq < first->done_seq))
                first = s;
            pending |= s->state == PQCOAP_SLOT_PENDING;
        }
        if (first) {
            take(cl, first, c);
            *done = 1;
            return PQCOAP_OK;
        }
        if (!pending && !pqcoap_client_obs_count(cl)) {
            pqcoap_net_msg(cl->err, sizeof(cl->err), "no request in flight nor observation");
            return PQCOAP_ERR_STATE;
        }
        if (pqcoap_net_now_ms() >= until)
            return PQCOAP_OK;
        PQCOAP_TRY(pqcoap_client_pump(cl, until));
    }
}

pqcoap_err pqcoap_client_request(pqcoap_client *cl, const pqcoap_req *req, pqcoap_reply *reply)
{
    if (!cl || !reply)
        return PQCOAP_ERR_ARG;
    memset(reply, 0, sizeof(*reply));
    pqcoap_client_slot *s;
    PQCOAP_TRY(pqcoap_client_start(cl, req, PQCOAP_SLOT_USER, 0, NULL, 0, &s));
    while (s->state == PQCOAP_SLOT_PENDING) {
        pqcoap_err err = pqcoap_client_pump(cl, s->deadline_ms);
        if (err != PQCOAP_OK)
            return err;
    }
    pqcoap_completion c;
    take(cl, s, &c);
    *reply = c.reply;
    return c.err;
}

size_t pqcoap_client_pending(const pqcoap_client *cl)
{
    size_t n = 0;
    for (size_t i = 0; cl && i < cl->n_slots; i++)
        n += cl->slots[i].kind == PQCOAP_SLOT_USER && cl->slots[i].state != PQCOAP_SLOT_FREE;
    return n;
}

const char *pqcoap_client_last_error(const pqcoap_client *cl)
{
    return cl ? cl->err : "";
}

void pqcoap_client_last_bytes(const pqcoap_client *cl, size_t *sent, size_t *received)
{
    *sent = cl->last_sent;
    *received = cl->last_received;
}

void pqcoap_client_slot_release(pqcoap_client_slot *s)
{
    pqcoap_reply_free(&s->reply);
    s->state = PQCOAP_SLOT_FREE;
}
