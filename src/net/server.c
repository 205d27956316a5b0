/* CoAP server on libcoap: every request that is not a duplicate (dedup.c) goes through one
 * dispatcher (libcoap's "unknown resource"), which runs the layer's check, routes by path and
 * method, runs the handler or defers it, protects the response and hands it to libcoap
 * (block-wise as needed).
 * Deferred responses come back through a locked queue and an eventfd and are sent by the
 * I/O thread as separate responses (RFC 7252 section 5.2.2). */
#include "pqcoap/server.h"
#include "net/blockwise_internal.h"
#include "net/net_internal.h"
#include "net/observe_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include "common/buf_internal.h"
#include "crypto/crypto_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PATH_LEN 256
#define N_METHODS 8     /* codes 0.01 .. 0.07 index 1..7 */
#define MSG_LEN 160

typedef struct route {
    char path[PATH_LEN];
    pqcoap_handler_fn fn[N_METHODS];
    void *arg[N_METHODS];
    struct route *next;
} route;

/* A deferred request, owned by the I/O thread. */
typedef struct ticket {
    uint64_t id;
    coap_session_t *sess;       /* referenced while the ticket lives */
    coap_pdu_t *request;        /* copy of the request (options, token, type, MID) */
    pqcoap_exchange x;
    void *state;                /* copy of the layer state */
    uint64_t ack_due_ms;        /* a CON request not acknowledged yet: its empty ACK is due
                                   then (cfg.ack_delay_ms); 0 once acknowledged, or NON */
    struct ticket *next;
} ticket;

/* A path handed over by pqcoap_server_notify. */
typedef struct notice {
    struct notice *next;
    char path[];
} notice;

/* A completion handed over by pqcoap_server_complete. */
typedef struct completion {
    uint64_t ticket;
    pqcoap_reply resp;
    struct completion *next;
} completion;

struct pqcoap_server {
    pqcoap_server_config cfg;
    pqcoap_layer layer;
    int has_layer;
    coap_context_t *ctx;
    coap_resource_t *dispatcher;  /* libcoap's "unknown resource": every request */
    uint16_t port;
    int wake_fd;                /* eventfd: completions and stop */
    int poll_fd;                /* epoll over libcoap's fd and wake_fd */
    route *routes;
    pqcoap_handler_fn default_fn; /* requests for paths without a route */
    void *default_arg;
    ticket *tickets;
    pqcoap_bw_table bw;         /* block-wise requests being received (blockwise.c) */
    pqcoap_net_dedup dedup;     /* requests answered, for their duplicates */
    uint64_t next_ticket;
    uint32_t next_etag;
    pthread_mutex_t lock;       /* guards queue */
    completion *queue;
    notice *notices;            /* guarded by lock */
    pqcoap_obs_table obs;       /* observations (observe.c) */
    atomic_int stop;
    void *state;                /* layer state of the request being handled */
    pqcoap_net_scratch in;      /* check_request output */
    pqcoap_net_scratch out;     /* handler response */
    pqcoap_net_scratch wire;    /* protect_response output */
    const coap_pdu_t *scanned;  /* the request being dispatched, whose options were read */
    size_t scanned_limit;       /* ... and the largest block its peer may receive */
};

struct pqcoap_server_req {
    pqcoap_server *srv;
    const pqcoap_exchange *x;
    coap_session_t *sess;
    const coap_pdu_t *request;
    int deferred;
    struct ticket *ticket;      /* set by pqcoap_server_defer */
    int notification;           /* the handler makes a notification (RFC 7641) */
};

/* ---- responses ---------------------------------------------------------------------- */

/* Largest block the peer may receive: its Block2 request (RFC 7959 section 2.4: SZX in the
 * last byte; an empty value is block 0 of SZX 0) or, without one, 1024. SZX 7 is no block
 * size over UDP (RFC 8323 BERT); libcoap then sends 1024-byte blocks. */
static size_t limit_of(const pqcoap_opt *block2)
{
    unsigned szx = block2 && block2->len ? block2->value[block2->len - 1] & 7u : 0;
    return block2 && szx < 7 ? (size_t)16 << szx : PQCOAP_NET_BLOCK_MAX;
}

/* limit_of the request's Block2 option, known already for the request being dispatched. */
static size_t block_limit(const pqcoap_server *srv, const coap_pdu_t *request)
{
    if (request == srv->scanned)
        return srv->scanned_limit;
    coap_opt_iterator_t it;
    coap_opt_t *o = coap_check_option(request, COAP_OPTION_BLOCK2, &it);
    pqcoap_opt b2 = {COAP_OPTION_BLOCK2, o ? coap_opt_value(o) : NULL, o ? coap_opt_length(o) : 0};
    return limit_of(o ? &b2 : NULL);
}

/* The target of a request as kept block-wise responses are found by: each Uri-Path option
 * after a '/', then '?' and the query when there is one; 0 if it does not fit. */
static int target_of(const coap_pdu_t *request, const coap_string_t *query, char *out, size_t cap)
{
    coap_opt_filter_t f;
    coap_opt_iterator_t it;
    coap_option_filter_clear(&f);
    coap_option_filter_set(&f, COAP_OPTION_URI_PATH);
    coap_option_iterator_init(request, &it, &f);
    size_t n = 0;
    for (coap_opt_t *o; (o = coap_option_next(&it));) {
        size_t len = coap_opt_length(o);
        if (n + len + 2 > cap)
            return 0;
        out[n++] = '/';
        memcpy(out + n, coap_opt_value(o), len);
        n += len;
    }
    if (query && query->length) {
        if (n + query->length + 2 > cap)
            return 0;
        out[n++] = '?';
        memcpy(out + n, query->s, query->length);
        n += query->length;
    }
    out[n] = '\0';
    return 1;
}

/* Puts block `num` of 2^(szx+4) bytes of the whole response `m` into `response` (RFC 7959
 * section 2.4): m's code and options (Observe on block 0 only, section 2.6), Block2, Size2
 * on block 0 (section 4) and that part of the body; 4.02 for a block past the body. Returns
 * the body offset where the block ends. */
static size_t put_block(coap_pdu_t *response, const pqcoap_msg *m, unsigned szx, uint32_t num)
{
    size_t bs = (size_t)16 << szx, off = (size_t)num * bs; /* num < 2^20 */
    uint8_t buf[8];
    if (off >= m->payload_len) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_OPTION);
        coap_add_data(response, sizeof("no such block") - 1, (const uint8_t *)"no such block");
        return 0;
    }
    size_t len = m->payload_len - off < bs ? m->payload_len - off : bs;
    unsigned more = off + len < m->payload_len;
    coap_pdu_set_code(response, (coap_pdu_code_t)m->code);
    if (pqcoap_net_put_opts(response, m, num ? PQCOAP_OPT_OBSERVE : 0) != PQCOAP_OK ||
        !coap_add_option(response, COAP_OPTION_BLOCK2,
                         coap_encode_var_safe(buf, sizeof(buf), num << 4 | more << 3 | szx), buf) ||
        (num == 0 && !coap_add_option(response, COAP_OPTION_SIZE2,
                                      coap_encode_var_safe8(buf, sizeof(buf), m->payload_len),
                                      buf)) ||
        !coap_add_data(response, len, m->payload + off))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    return off + len;
}

/* The largest block size (as SZX) the peer takes (block_limit) with which a block and the
 * options of `m` fit into one datagram to it. */
static unsigned block_szx(const pqcoap_server *srv, coap_session_t *session,
                          const coap_pdu_t *request, const pqcoap_msg *m)
{
    size_t limit = block_limit(srv, request), max_pdu = coap_session_max_pdu_size(session);
    /* header, token and options, Block2 and Size2 (at most 6 bytes each), payload marker */
    size_t head = pqcoap_net_msg_size(m) - (m->payload_len ? 1 + m->payload_len : 0) + 13;
    unsigned szx = 6;
    while (szx > 0 && (((size_t)16 << szx) > limit || head + ((size_t)16 << szx) > max_pdu))
        szx--;
    return szx;
}

/* Fills libcoap's response PDU from the wire view `w`. A body over one block goes
 * block-wise (RFC 7959 section 2.4): the whole response is kept (blockwise.c) with an ETag,
 * so that the peer's requests for later blocks are answered from it (answer_kept_block) and
 * every block carries the ETag; the block the request asks for is sent. */
static void put_response(pqcoap_server *srv, coap_session_t *session, const coap_pdu_t *request,
                         const coap_string_t *query, coap_pdu_t *response, const pqcoap_msg *w)
{
    if (w->payload_len <= block_limit(srv, request)) {
        coap_pdu_set_code(response, (coap_pdu_code_t)w->code);
        if (pqcoap_net_put_opts(response, w, 0) != PQCOAP_OK ||
            (w->payload_len && !coap_add_data(response, w->payload_len, w->payload)))
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS + 1];
    uint8_t etag[8];
    pqcoap_msg whole = *w;
    if (!pqcoap_msg_find_opt(w, PQCOAP_OPT_ETAG)) {
        /* No ETag on the wire (OSCORE encrypts the handler's): one from the body itself, so
         * that the blocks of one body carry the same ETag however often it is sent. */
        uint64_t v = 14695981039346656037u; /* FNV-1a 64 */
        for (size_t i = 0; i < w->payload_len; i++)
            v = (v ^ w->payload[i]) * 1099511628211u;
        for (size_t i = 0; i < sizeof(etag); i++)
            etag[i] = (uint8_t)(v >> (56 - 8 * i));
        if (w->n_opts > PQCOAP_NET_MAX_OPTS) {
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
            return;
        }
        if (w->n_opts)
            memcpy(opts, w->opts, w->n_opts * sizeof(opts[0]));
        opts[w->n_opts] = (pqcoap_opt){PQCOAP_OPT_ETAG, etag, sizeof(etag)};
        whole.opts = opts;
        whole.n_opts = w->n_opts + 1;
    }
    unsigned szx = block_szx(srv, session, request, &whole);
    coap_block_b_t blk;
    uint32_t num = 0;
    if (coap_get_block_b(session, request, COAP_OPTION_BLOCK2, &blk) && blk.num) {
        num = blk.num; /* a later block that reached the handler: in the peer's block size */
        szx = blk.szx < szx ? blk.szx : szx;
    }
    char target[PQCOAP_BW_PATH_LEN];
    pqcoap_bw_reply *r = NULL;
    uint64_t now = pqcoap_net_now_ms();
    if (target_of(request, query, target, sizeof(target)))
        pqcoap_bw_keep_reply(&srv->bw, coap_session_get_addr_remote(session), target, &whole,
                             szx, now, &r);
    size_t end = put_block(response, &whole, szx, num);
    if (r)
        pqcoap_bw_reply_sent(r, end, now);
}

/* RFC 7959 section 2.4: a request for a later block of a response this server keeps
 * (put_response) is answered from it, without the handler; 0 if there is none. */
static int answer_kept_block(pqcoap_server *srv, coap_session_t *session,
                             const coap_pdu_t *request, const coap_string_t *query,
                             coap_pdu_t *response)
{
    coap_block_b_t blk;
    char target[PQCOAP_BW_PATH_LEN];
    if (!coap_get_block_b(session, request, COAP_OPTION_BLOCK2, &blk) || blk.num == 0 ||
        !target_of(request, query, target, sizeof(target)))
        return 0;
    pqcoap_bw_reply *r = pqcoap_bw_find_reply(&srv->bw, coap_session_get_addr_remote(session),
                                              target);
    if (!r || blk.szx > r->szx)
        return 0;
    size_t end = put_block(response, &r->resp.msg, blk.szx, blk.num);
    pqcoap_bw_reply_sent(r, end, pqcoap_net_now_ms());
    return 1;
}

/* Sends an unprotected error answer made before or instead of the layer, with option
 * `opt` = `val` when opt is not 0. */
static void put_error(pqcoap_server *srv, coap_session_t *session, const coap_pdu_t *request,
                      const coap_string_t *query, coap_pdu_t *response, uint8_t code,
                      const char *diag, uint16_t opt, uint32_t val)
{
    coap_bin_const_t tok = coap_pdu_get_token(request);
    pqcoap_net_scratch_start(&srv->wire, code, tok.s, tok.length);
    pqcoap_msgbuf_error(&srv->wire.b, code, diag);
    if (opt)
        pqcoap_msgbuf_add_uint(&srv->wire.b, opt, val);
    pqcoap_msg w;
    pqcoap_msgbuf_view(&srv->wire.b, &w);
    put_response(srv, session, request, query, response, &w);
}

/* Gives a response that may go block-wise an ETag libcoap can carry, before the layer
 * protects it, so that the options the layer binds are those the client receives. */
static void add_etag_if_blockwise(pqcoap_server *srv, pqcoap_msgbuf *b, const coap_pdu_t *request)
{
    pqcoap_msg m;
    pqcoap_msgbuf_view(b, &m);
    size_t overhead = srv->layer.response_overhead ? srv->layer.response_overhead
                                                   : srv->layer.overhead;
    if (b->payload_len + overhead <= block_limit(srv, request) ||
        pqcoap_msg_find_opt(&m, PQCOAP_OPT_ETAG))
        return;
    uint32_t v = 0x80000000u | (++srv->next_etag & 0x7fffffffu);
    pqcoap_msgbuf_add_uint(b, PQCOAP_OPT_ETAG, v);
}

/* Protects the plaintext response `resp` (state from check_request) and sends it. */
static void protect_and_put(pqcoap_server *srv, void *state, const pqcoap_exchange *x,
                            pqcoap_msgbuf *resp, coap_session_t *session,
                            const coap_pdu_t *request,
                            const coap_string_t *query, coap_pdu_t *response)
{
    add_etag_if_blockwise(srv, resp, request);
    pqcoap_msg plain, w;
    pqcoap_msgbuf_view(resp, &plain);
    if (srv->has_layer && srv->layer.protect_response) {
        pqcoap_net_scratch_start(&srv->wire, plain.code, plain.token, plain.token_len);
        pqcoap_err err = srv->layer.protect_response(srv->layer.ctx, state, x, &plain, &srv->wire.b);
        if (err != PQCOAP_OK)
            pqcoap_msgbuf_error(&srv->wire.b, PQCOAP_CODE(5, 0), "response protection failed");
        pqcoap_msgbuf_view(&srv->wire.b, &w);
    } else {
        w = plain;
    }
    put_response(srv, session, request, query, response, &w);
}

static void layer_end(pqcoap_server *srv, void *state)
{
    if (srv->has_layer && srv->layer.end)
        srv->layer.end(srv->layer.ctx, state);
    if (state)
        pqcoap_wipe(state, srv->layer.state_size);
}

/* ---- dispatch ----------------------------------------------------------------------- */

/* Joins the Uri-Path options of m with '/'; 0 if the path does not fit. */
static int path_of(const pqcoap_msg *m, char *path, size_t cap)
{
    size_t n = 0;
    int first = 1;
    for (size_t i = 0; i < m->n_opts; i++) {
        const pqcoap_opt *o = &m->opts[i];
        if (o->number != PQCOAP_OPT_URI_PATH)
            continue;
        if (n + o->len + 2 > cap)
            return 0;
        if (!first)
            path[n++] = '/';
        if (o->len)
            memcpy(path + n, o->value, o->len);
        n += o->len;
        first = 0;
    }
    path[n] = '\0';
    return 1;
}

static const route *find_route(const pqcoap_server *srv, const char *path)
{
    for (const route *r = srv->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0)
            return r;
    return NULL;
}

static uint8_t default_code(uint8_t method)
{
    if (method == PQCOAP_DELETE)
        return PQCOAP_CODE(2, 2);       /* 2.02 Deleted */
    if (method == PQCOAP_GET || method == PQCOAP_FETCH)
        return PQCOAP_CODE(2, 5);       /* 2.05 Content */
    return PQCOAP_CODE(2, 4);           /* 2.04 Changed */
}

/* Routes the plaintext request `req` and fills srv->out with the handler's response.
 * Returns 1 if the handler deferred. */
static int run_handler(pqcoap_server *srv, const pqcoap_msg *req, pqcoap_server_req *rq)
{
    pqcoap_msgbuf *out = &srv->out.b;
    pqcoap_net_scratch_start(&srv->out, default_code(req->code), req->token, req->token_len);
    char path[PATH_LEN];
    const route *r = path_of(req, path, sizeof(path)) ? find_route(srv, path) : NULL;
    if (!r && !srv->default_fn) {
        pqcoap_msgbuf_error(out, PQCOAP_CODE(4, 4), "not found");
        return 0;
    }
    if (r && (req->code >= N_METHODS || !r->fn[req->code])) {
        pqcoap_msgbuf_error(out, PQCOAP_CODE(4, 5), "method not allowed");
        return 0;
    }
    pqcoap_err err = r ? r->fn[req->code](r->arg[req->code], rq, req, out)
                       : srv->default_fn(srv->default_arg, rq, req, out);
    if (rq->deferred)
        return 1;
    if (err != PQCOAP_OK)
        pqcoap_msgbuf_from_err(out, err);
    else if ((out->code >> 5) < 2 || (out->code >> 5) > 5)
        pqcoap_msgbuf_error(out, PQCOAP_CODE(5, 0), "handler gave no response code");
    return 0;
}

static void ticket_free(pqcoap_server *srv, ticket *t)
{
    for (ticket **pp = &srv->tickets; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    layer_end(srv, t->state);
    coap_delete_pdu(t->request);
    coap_session_release(t->sess);
    free(t->state);
    free(t);
}

/* The pending ticket of a request with this session and token (a retransmission), if any. */
static ticket *ticket_of(pqcoap_server *srv, coap_session_t *session, coap_bin_const_t tok)
{
    for (ticket *t = srv->tickets; t; t = t->next) {
        coap_bin_const_t tt = coap_pdu_get_token(t->request);
        if (t->sess == session && tt.length == tok.length &&
            (tok.length == 0 || memcmp(tt.s, tok.s, tok.length) == 0))
            return t;
    }
    return NULL;
}

/* Sends the completed response `resp` of ticket t and frees the ticket. */
static void send_deferred(pqcoap_server *srv, ticket *t, const pqcoap_msg *resp)
{
    coap_bin_const_t tok = coap_pdu_get_token(t->request);
    int con = coap_pdu_get_type(t->request) == COAP_MESSAGE_CON;
    /* RFC 7252 section 5.2.1: piggybacked in the ACK (the request's MID) while the ACK is
     * still held back; else section 5.2.2: a separate response, CON for a CON request
     * (libcoap retransmits it until acknowledged), NON for a NON request, with a fresh MID. */
    coap_pdu_type_t type = t->ack_due_ms ? COAP_MESSAGE_ACK
                                         : con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON;
    coap_mid_t mid = t->ack_due_ms ? coap_pdu_get_mid(t->request) : coap_new_message_id(t->sess);
    coap_pdu_t *pdu = coap_pdu_init(type, COAP_EMPTY_CODE, mid, coap_session_max_pdu_size(t->sess));
    coap_string_t *query = coap_get_query(t->request);
    if (pdu && coap_add_token(pdu, tok.length, tok.s)) {
        pqcoap_net_scratch_start(&srv->out, resp->code, tok.s, tok.length);
        if (pqcoap_msgbuf_copy_opts(&srv->out.b, resp) != PQCOAP_OK ||
            pqcoap_msgbuf_set_payload(&srv->out.b, resp->payload, resp->payload_len) != PQCOAP_OK)
            pqcoap_msgbuf_error(&srv->out.b, PQCOAP_CODE(5, 0), "deferred response too large");
        t->x.now_ms = pqcoap_net_now_ms(); /* protected now, not when it came */
        protect_and_put(srv, t->state, &t->x, &srv->out.b, t->sess, t->request,
                        query, pdu);
        coap_send(t->sess, pdu); /* takes the PDU */
    } else {
        coap_delete_pdu(pdu);
    }
    coap_delete_string(query);
    ticket_free(srv, t);
}

/* ---- block-wise requests ------------------------------------------------------------ */

/* RFC 7959 section 2.9.3: 4.13 with Size1 = the largest body accepted. */
static void too_large(pqcoap_server *srv, coap_session_t *session, const coap_pdu_t *request,
                      const coap_string_t *query, coap_pdu_t *response)
{
    put_error(srv, session, request, query, response, PQCOAP_CODE(4, 13),
              "request body too large", PQCOAP_OPT_SIZE1,
              srv->cfg.max_body > UINT32_MAX ? UINT32_MAX : (uint32_t)srv->cfg.max_body);
}

/* Block1 (RFC 7959 section 2.5): hands the block to the transfer table (blockwise.c) and
 * answers 2.31 to all but the last or the table's error. Returns the transfer holding the
 * whole body after the last block, NULL when the answer is in `response`. */
static pqcoap_bw_transfer *receive_block(pqcoap_server *srv, coap_session_t *session,
                                         const coap_pdu_t *request,
                                         const coap_string_t *query, coap_pdu_t *response,
                                         const coap_block_b_t *blk, const pqcoap_msg *wire)
{
    coap_opt_iterator_t it;
    coap_opt_t *o = coap_check_option(request, COAP_OPTION_SIZE1, &it);
    char path[PATH_LEN];
    pqcoap_bw_block b = {coap_session_get_addr_remote(session),
                         path_of(wire, path, sizeof(path)) ? path : NULL,
                         blk->num, (int)blk->m, blk->szx,
                         o ? coap_decode_var_bytes8(coap_opt_value(o), coap_opt_length(o)) : 0,
                         NULL, 0, wire->payload, wire->payload_len};
    o = coap_check_option(request, COAP_OPTION_RTAG, &it);
    if (o) {
        b.rtag = coap_opt_value(o);
        b.rtag_len = coap_opt_length(o);
    }
    pqcoap_bw_answer ans;
    pqcoap_bw_transfer *t = pqcoap_bw_receive(&srv->bw, &b, pqcoap_net_now_ms(), &ans);
    if (t)
        return t;
    if (ans.code == PQCOAP_CODE(2, 31)) {
        /* 2.31 Continue with the Block1 option of the block taken (RFC 7959 section 2.3) */
        uint8_t buf[4];
        coap_pdu_set_code(response, COAP_RESPONSE_CODE(231));
        coap_add_option(response, COAP_OPTION_BLOCK1,
                        coap_encode_var_safe(buf, sizeof(buf), blk->num << 4 | 8u | blk->szx),
                        buf);
    } else
        put_error(srv, session, request, query, response, ans.code, ans.diag,
                  ans.opt, ans.val);
    return NULL;
}

static void serve(pqcoap_server *srv, coap_session_t *session,
                  const coap_pdu_t *request, const coap_string_t *query, coap_pdu_t *response,
                  const pqcoap_msg *wire, uint64_t now);

/* Every request that is not a duplicate: answers it, or defers it. `all` is its view with
 * every option (pqcoap_net_view_all), or `view_err` why there is none; `now` the clock read
 * when it came. */
static void dispatch(pqcoap_server *srv, coap_session_t *session,
                     const coap_pdu_t *request, const coap_string_t *query,
                     coap_pdu_t *response, const pqcoap_msg *all, pqcoap_err view_err,
                     uint64_t now)
{
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg wire;
    if (view_err == PQCOAP_OK)
        view_err = pqcoap_net_visible(all, opts, PQCOAP_NET_MAX_OPTS, &wire);
    if (view_err != PQCOAP_OK) {
        put_error(srv, session, request, query, response, PQCOAP_CODE(4, 0),
                  view_err == PQCOAP_ERR_TOO_LARGE ? "too many options" : "malformed options",
                  0, 0);
        return;
    }
    if (wire.payload_len > srv->cfg.max_body + srv->layer.overhead) {
        too_large(srv, session, request, query, response);
        return;
    }
    srv->scanned = request;
    srv->scanned_limit = limit_of(pqcoap_msg_find_opt(all, PQCOAP_OPT_BLOCK2));
    coap_block_b_t blk;
    pqcoap_bw_transfer *t = NULL;
    if (pqcoap_msg_find_opt(all, PQCOAP_OPT_BLOCK1) &&
        coap_get_block_b(session, request, COAP_OPTION_BLOCK1, &blk)) {
        t = receive_block(srv, session, request, query, response, &blk, &wire);
        if (!t) {
            srv->scanned = NULL;
            return;
        }
        wire.payload = t->body.data;
        wire.payload_len = t->body.len;
    }
    serve(srv, session, request, query, response, &wire, now);
    if (t)
        pqcoap_bw_done(&srv->bw, t, pqcoap_net_now_ms());
    srv->scanned = NULL;
}

/* A notification (RFC 7641 section 4.2): the handler answers the registering request again,
 * which libcoap kept; the response goes as libcoap prepared it (CON, Observe, token). */
static void serve_notification(pqcoap_server *srv, coap_session_t *session,
                               const coap_pdu_t *request,
                               const coap_string_t *query, coap_pdu_t *response)
{
    pqcoap_opt opts[PQCOAP_NET_MAX_OPTS];
    pqcoap_msg req;
    pqcoap_exchange x;
    pqcoap_net_exchange(&x, coap_session_get_addr_remote(session), request);
    x.now_ms = pqcoap_net_now_ms();
    if (pqcoap_net_view(request, opts, PQCOAP_NET_MAX_OPTS, &req) != PQCOAP_OK) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    pqcoap_server_req rq = {srv, &x, session, request, 0, NULL, 1};
    run_handler(srv, &req, &rq); /* pqcoap_server_defer refuses a notification */
    pqcoap_msgbuf_remove_opt(&srv->out.b, PQCOAP_OPT_OBSERVE); /* libcoap's is there */
    protect_and_put(srv, NULL, &x, &srv->out.b, session, request, query, response);
}

/* The one libcoap request handler: every method, every path. A duplicate (RFC 7252 section
 * 4.5) gets the kept response; any other request goes to the dispatcher, whose response is
 * kept for its duplicates. */
static void on_request(coap_resource_t *resource, coap_session_t *session,
                       const coap_pdu_t *request, const coap_string_t *query,
                       coap_pdu_t *response)
{
    pqcoap_server *srv = coap_resource_get_userdata(resource);
    /* Observe (observe.c) of plain CoAP on libcoap's subscriptions; with a layer the
     * server registers in serve() and notifies itself (notify_secured) */
    pqcoap_obs_call call = pqcoap_obs_classify(&srv->obs, resource, session, request, response,
                                               !srv->has_layer);
    if (call == PQCOAP_OBS_PURGE)
        return;
    if (call == PQCOAP_OBS_NOTIFY) {
        serve_notification(srv, session, request, query, response);
        pqcoap_obs_served(&srv->obs, session, request, response);
        return;
    }
    ticket *pending = ticket_of(srv, session, coap_pdu_get_token(request));
    if (pending) {
        /* a retransmission of a deferred request: still working; its empty ACK may be held
         * back for a piggybacked response (ack_delay_ms) */
        pqcoap_net_answer_later(session, request, response, pending->ack_due_ms == 0);
        return;
    }
    /* every option read once: for the duplicate detection and the dispatcher */
    pqcoap_opt all_opts[PQCOAP_NET_MAX_OPTS + 8];
    pqcoap_msg all;
    pqcoap_err view_err = pqcoap_net_view_all(request, all_opts, PQCOAP_NET_MAX_OPTS + 8, &all);
    const pqcoap_msg *key = view_err == PQCOAP_OK ? &all : NULL;
    uint64_t now = pqcoap_net_now_ms();
    if (key && pqcoap_net_dedup_answer(&srv->dedup, session, request, key, response, now))
        return;
    if (!answer_kept_block(srv, session, request, query, response)) {
        dispatch(srv, session, request, query, response, &all, view_err, now);
        pqcoap_obs_served(&srv->obs, session, request, response);
    }
    if (key)
        pqcoap_net_dedup_keep(&srv->dedup, session, request, key, response, now);
}

/* PROTOCOL.md "Observe": with a layer that protects notifications, a registration of an
 * observable path (the plaintext request `req`, answered in srv->out) is accepted here,
 * after the layer checked it; the response then carries Observe, bound by the layer. */
static pqcoap_obs *register_secured(pqcoap_server *srv, coap_session_t *session,
                                    const coap_pdu_t *request, const pqcoap_msg *req,
                                    const pqcoap_exchange *x)
{
    char path[PATH_LEN];
    pqcoap_obs_res *res = srv->layer.protect_notification && srv->layer.protect_response &&
                                  srv->state && path_of(req, path, sizeof(path))
                              ? pqcoap_obs_find_res(&srv->obs, path) : NULL;
    if (!res)
        return NULL;
    pqcoap_obs *o = pqcoap_obs_secured(&srv->obs, res, session, request, req, x,
                                       (srv->out.b.code >> 5) == 2, srv->layer.state_size);
    if (o && pqcoap_msgbuf_add_uint(&srv->out.b, PQCOAP_OPT_OBSERVE, 0) != PQCOAP_OK) {
        pqcoap_obs_end(&srv->obs, o);
        o = NULL;
    }
    return o;
}

/* PROTOCOL.md "Observe": one notification of the secured observation o, sent by the server
 * itself as a CON message: the handler answers the registering request again, the layer
 * protects the answer with the observation's state (with Observe unless it ends the
 * observation). An observation whose protection fails (its session or context ended) ends
 * without a word; one whose handler answers other than 2.xx ends after that answer. */
static void notify_secured(pqcoap_server *srv, pqcoap_obs *o)
{
    pqcoap_exchange x = o->x;
    x.mid = (uint16_t)coap_new_message_id(o->sess);
    x.confirmable = 1;
    x.now_ms = pqcoap_net_now_ms();
    memcpy(srv->state, o->state, srv->layer.state_size); /* pqcoap_server_req_peer */
    pqcoap_server_req rq = {srv, &x, o->sess, o->request, 0, NULL, 1};
    run_handler(srv, &o->plain.msg, &rq);
    pqcoap_wipe(srv->state, srv->layer.state_size);
    pqcoap_msgbuf *out = &srv->out.b;
    int last = (out->code >> 5) != 2;
    pqcoap_msgbuf_remove_opt(out, PQCOAP_OPT_OBSERVE);
    o->observe = (o->observe + 1) & 0xffffff; /* RFC 7641 section 3.4: 24 bits */
    pqcoap_err err = last ? PQCOAP_OK : pqcoap_msgbuf_add_uint(out, PQCOAP_OPT_OBSERVE,
                                                               o->observe);
    add_etag_if_blockwise(srv, out, o->request);
    pqcoap_msg plain, w;
    pqcoap_msgbuf_view(out, &plain);
    pqcoap_net_scratch_start(&srv->wire, plain.code, plain.token, plain.token_len);
    if (err == PQCOAP_OK)
        err = srv->layer.protect_notification(srv->layer.ctx, o->state, &x, &plain,
                                              &srv->wire.b);
    coap_pdu_t *pdu = err == PQCOAP_OK ? coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, x.mid,
                                                       coap_session_max_pdu_size(o->sess))
                                       : NULL;
    if (pdu && coap_add_token(pdu, o->token_len, o->token)) {
        coap_string_t *query = coap_get_query(o->request);
        pqcoap_msgbuf_view(&srv->wire.b, &w);
        put_response(srv, o->sess, o->request, query, pdu, &w);
        coap_delete_string(query);
        coap_send(o->sess, pdu); /* takes the PDU */
    } else {
        coap_delete_pdu(pdu);
        last = 1;
    }
    if (last)
        pqcoap_obs_end(&srv->obs, o);
}

/* Runs the layer's check, the handler and protect_response for the request `wire`, which
 * came at `now`. */
static void serve(pqcoap_server *srv, coap_session_t *session,
                  const coap_pdu_t *request, const coap_string_t *query, coap_pdu_t *response,
                  const pqcoap_msg *wire, uint64_t now)
{
    pqcoap_exchange x;
    pqcoap_net_exchange(&x, coap_session_get_addr_remote(session), request);
    x.now_ms = now;
    if (srv->state)
        memset(srv->state, 0, srv->layer.state_size);
    const pqcoap_msg *req = wire;
    pqcoap_msg plain;
    if (srv->has_layer && srv->layer.check_request) {
        pqcoap_layer_verdict verdict = PQCOAP_LAYER_HANDLE;
        pqcoap_net_scratch_start(&srv->in, wire->code, wire->token, wire->token_len);
        pqcoap_err err = srv->layer.check_request(srv->layer.ctx, srv->state, &x, wire,
                                                  &srv->in.b, &verdict);
        if (err != PQCOAP_OK) {
            pqcoap_msgbuf_from_err(&srv->in.b, err);
            verdict = PQCOAP_LAYER_ANSWER;
        }
        if (verdict != PQCOAP_LAYER_HANDLE) {
            pqcoap_msg answer;
            pqcoap_msgbuf_view(&srv->in.b, &answer);
            put_response(srv, session, request, query, response, &answer);
            layer_end(srv, srv->state);
            return;
        }
        pqcoap_msgbuf_view(&srv->in.b, &plain);
        req = &plain;
    }
    pqcoap_server_req rq = {srv, &x, session, request, 0, NULL, 0};
    if (run_handler(srv, req, &rq)) {
        /* deferred: the state went to the ticket */
        pqcoap_net_answer_later(session, request, response, rq.ticket->ack_due_ms == 0);
        if (srv->state)
            pqcoap_wipe(srv->state, srv->layer.state_size);
        return;
    }
    pqcoap_obs *o = register_secured(srv, session, request, req, &x);
    protect_and_put(srv, srv->state, &x, &srv->out.b, session, request, query, response);
    if (o && (srv->wire.b.code >> 5) == 2) /* protected: the observation's state */
        memcpy(o->state, srv->state, srv->layer.state_size);
    else if (o)
        pqcoap_obs_end(&srv->obs, o);
    layer_end(srv, srv->state);
}

pqcoap_err pqcoap_server_defer(pqcoap_server_req *rq, uint64_t *ticket_out)
{
    if (!rq || !ticket_out)
        return PQCOAP_ERR_ARG;
    if (rq->deferred || rq->notification)
        return PQCOAP_ERR_STATE;
    pqcoap_server *srv = rq->srv;
    ticket *t = calloc(1, sizeof(*t));
    if (!t || (srv->layer.state_size && !(t->state = malloc(srv->layer.state_size)))) {
        free(t);
        return PQCOAP_ERR_NOMEM;
    }
    coap_bin_const_t tok = coap_pdu_get_token(rq->request);
    t->request = coap_pdu_duplicate(rq->request, rq->sess, tok.length, tok.s, NULL);
    if (!t->request) {
        free(t->state);
        free(t);
        return PQCOAP_ERR_NOMEM;
    }
    coap_pdu_set_type(t->request, coap_pdu_get_type(rq->request));
    coap_pdu_set_mid(t->request, coap_pdu_get_mid(rq->request)); /* for the ACK */
    if (srv->cfg.ack_delay_ms && coap_pdu_get_type(rq->request) == COAP_MESSAGE_CON)
        t->ack_due_ms = pqcoap_net_now_ms() + srv->cfg.ack_delay_ms;
    if (t->state)
        memcpy(t->state, srv->state, srv->layer.state_size);
    t->x = *rq->x;
    t->sess = coap_session_reference(rq->sess);
    t->id = ++srv->next_ticket;
    t->next = srv->tickets;
    srv->tickets = t;
    rq->deferred = 1;
    rq->ticket = t;
    *ticket_out = t->id;
    return PQCOAP_OK;
}

const pqcoap_exchange *pqcoap_server_req_exchange(const pqcoap_server_req *rq)
{
    return rq ? rq->x : NULL;
}

const char *pqcoap_server_req_peer(const pqcoap_server_req *rq)
{
    const pqcoap_server *srv = rq ? rq->srv : NULL;
    const char *id = srv && srv->has_layer && srv->layer.peer_id
                         ? srv->layer.peer_id(srv->layer.ctx, srv->state) : NULL;
    return id ? id : "";
}

pqcoap_err pqcoap_server_complete(pqcoap_server *srv, uint64_t ticket_id, const pqcoap_msg *resp)
{
    if (!srv || !ticket_id || !resp || (resp->code >> 5) < 2 || (resp->code >> 5) > 5)
        return PQCOAP_ERR_ARG;
    completion *c = calloc(1, sizeof(*c));
    if (!c)
        return PQCOAP_ERR_NOMEM;
    pqcoap_msg m = *resp;
    m.token = NULL;
    m.token_len = 0;
    pqcoap_err err = pqcoap_reply_copy(&c->resp, &m);
    if (err != PQCOAP_OK) {
        free(c);
        return err;
    }
    c->ticket = ticket_id;
    pthread_mutex_lock(&srv->lock);
    c->next = srv->queue;
    srv->queue = c;
    pthread_mutex_unlock(&srv->lock);
    uint64_t one = 1;
    if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return PQCOAP_ERR_IO;
    return PQCOAP_OK;
}

/* Sends the responses queued by pqcoap_server_complete, oldest first. */
static void drain_completions(pqcoap_server *srv)
{
    uint64_t count;
    while (read(srv->wake_fd, &count, sizeof(count)) > 0)
        continue;
    pthread_mutex_lock(&srv->lock);
    completion *c = srv->queue, *fifo = NULL;
    srv->queue = NULL;
    notice *ns = srv->notices;
    srv->notices = NULL;
    pthread_mutex_unlock(&srv->lock);
    while (ns) { /* libcoap sends the notifications in its next round */
        notice *next = ns->next;
        pqcoap_obs_res *res = pqcoap_obs_find_res(&srv->obs, ns->path);
        for (pqcoap_obs *o = res && !res->r ? srv->obs.obs : NULL, *after; o; o = after) {
            after = o->next; /* o may end */
            if (o->res == res)
                notify_secured(srv, o);
        }
        if (res && res->r)
            coap_resource_notify_observers(res->r, NULL);
        free(ns);
        ns = next;
    }
    while (c) { /* the queue is newest first */
        completion *next = c->next;
        c->next = fifo;
        fifo = c;
        c = next;
    }
    for (c = fifo; c; c = fifo) {
        fifo = c->next;
        ticket *t = srv->tickets;
        while (t && t->id != c->ticket)
            t = t->next;
        if (t)
            send_deferred(srv, t, &c->resp.msg);
        pqcoap_reply_free(&c->resp);
        free(c);
    }
}

/* Sends the empty ACKs that are due (RFC 7252 section 5.2.2: the response will come
 * separately) and returns the time the next one is due (0: none). */
static uint64_t send_due_acks(pqcoap_server *srv)
{
    if (!srv->tickets)
        return 0; /* no clock read when nothing is deferred */
    uint64_t now = pqcoap_net_now_ms(), next = 0;
    for (ticket *t = srv->tickets; t; t = t->next) {
        if (t->ack_due_ms && t->ack_due_ms <= now) {
            coap_send_ack(t->sess, t->request);
            t->ack_due_ms = 0;
        } else if (t->ack_due_ms && (!next || t->ack_due_ms < next)) {
            next = t->ack_due_ms;
        }
    }
    return next;
}

/* ---- set-up and event loop ---------------------------------------------------------- */

/* The port libcoap bound: coap_endpoint_str() gives "address:port PROTO". */
static uint16_t bound_port(const coap_endpoint_t *ep)
{
    const char *s = coap_endpoint_str(ep);
    const char *sp = s ? strchr(s, ' ') : NULL;
    const char *colon = NULL;
    for (const char *p = s; p && p < (sp ? sp : s + strlen(s)); p++)
        if (*p == ':')
            colon = p;
    if (!colon)
        return 0;
    unsigned long port = strtoul(colon + 1, NULL, 10);
    return port <= 65535 ? (uint16_t)port : 0;
}

static pqcoap_err parse_addr(const char *addr, uint16_t port, coap_address_t *out)
{
    coap_address_init(out);
    if (inet_pton(AF_INET, addr, &out->addr.sin.sin_addr) == 1) {
        out->addr.sin.sin_family = AF_INET;
        out->addr.sin.sin_port = htons(port);
        out->size = sizeof(out->addr.sin);
        return PQCOAP_OK;
    }
    if (inet_pton(AF_INET6, addr, &out->addr.sin6.sin6_addr) == 1) {
        out->addr.sin6.sin6_family = AF_INET6;
        out->addr.sin6.sin6_port = htons(port);
        out->size = sizeof(out->addr.sin6);
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_ARG;
}

/* A CON message the peer did not take: for a notification (RFC 7641 section 3.6: RST;
 * section 4.5: never acknowledged) the observation ends. */
static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    (void)mid;
    pqcoap_server *srv = coap_get_app_data(coap_session_get_context(session));
    if (srv && sent && (reason == COAP_NACK_RST || reason == COAP_NACK_TOO_MANY_RETRIES) &&
        COAP_RESPONSE_CLASS(coap_pdu_get_code(sent)) == 2)
        pqcoap_obs_forget(&srv->obs, session, sent);
}

/* Registers the dispatcher for every method on `r`. */
static void dispatch_all(pqcoap_server *srv, coap_resource_t *r)
{
    static const coap_request_t methods[] = {
        COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_PUT, COAP_REQUEST_DELETE,
        COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        coap_register_handler(r, methods[i], on_request);
    coap_resource_set_userdata(r, srv);
    coap_add_resource(srv->ctx, r);
}

static pqcoap_err server_setup(pqcoap_server *srv, char *msg, size_t cap)
{
    coap_address_t addr;
    if (parse_addr(srv->cfg.addr, srv->cfg.port, &addr) != PQCOAP_OK) {
        pqcoap_net_msg(msg, cap, "bind address \"%s\" is not a numeric IPv4 or IPv6 address",
                       srv->cfg.addr);
        return PQCOAP_ERR_ARG;
    }
    size_t body_cap = srv->cfg.max_body + srv->layer.overhead;
    if (pqcoap_net_scratch_alloc(&srv->in, body_cap) != PQCOAP_OK ||
        pqcoap_net_scratch_alloc(&srv->out, srv->cfg.max_body) != PQCOAP_OK ||
        pqcoap_net_scratch_alloc(&srv->wire, body_cap) != PQCOAP_OK ||
        pqcoap_net_dedup_init(&srv->dedup, srv->cfg.max_kept_responses) != PQCOAP_OK ||
        (srv->layer.state_size && !(srv->state = calloc(1, srv->layer.state_size)))) {
        pqcoap_net_msg(msg, cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    srv->ctx = coap_new_context(NULL);
    if (!srv->ctx) {
        pqcoap_net_msg(msg, cap, "cannot create a libcoap context");
        return PQCOAP_ERR_IO;
    }
    /* No block-wise handling by libcoap: each Block1 block reaches the dispatcher, which
     * collects them under the limits (receive_block), and Block2 responses are kept and
     * sent by put_response. libcoap 4.3.1 would keep its own state per transfer on the
     * session, every Block1 body until MAX_TRANSMIT_WAIT after its last block, and walk
     * all of it on every pass of its I/O loop. */
    coap_context_set_block_mode(srv->ctx, 0);
    coap_context_set_max_idle_sessions(srv->ctx, srv->cfg.max_peers);
    coap_context_set_session_timeout(srv->ctx, srv->cfg.peer_idle_s);
    pqcoap_net_register_opts(srv->ctx, srv->has_layer ? &srv->layer : NULL);
    coap_set_app_data(srv->ctx, srv);
    coap_register_nack_handler(srv->ctx, on_nack);
    coap_endpoint_t *ep = coap_new_endpoint(srv->ctx, &addr, COAP_PROTO_UDP);
    if (!ep || !(srv->port = bound_port(ep))) {
        pqcoap_net_msg(msg, cap, "cannot bind UDP %s port %u", srv->cfg.addr, srv->cfg.port);
        return PQCOAP_ERR_IO;
    }
    int coap_fd = coap_context_get_coap_fd(srv->ctx);
    if (coap_fd < 0) {
        pqcoap_net_msg(msg, cap, "libcoap was built without epoll support");
        return PQCOAP_ERR_UNSUPPORTED;
    }
    /* Every request, known path or not, goes to the dispatcher; ".well-known/core" too, so
     * that nothing is answered around the layer. */
    coap_resource_t *unknown = coap_resource_unknown_init2(on_request, 0);
    coap_resource_t *wkc = coap_resource_init(coap_make_str_const(".well-known/core"), 0);
    if (!unknown || !wkc) {
        pqcoap_net_msg(msg, cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    srv->dispatcher = unknown;
    dispatch_all(srv, unknown);
    dispatch_all(srv, wkc);

    srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    int ok = srv->wake_fd >= 0 && srv->poll_fd >= 0;
    ev.data.fd = coap_fd;
    ok = ok && epoll_ctl(srv->poll_fd, EPOLL_CTL_ADD, coap_fd, &ev) == 0;
    ev.data.fd = srv->wake_fd;
    ok = ok && epoll_ctl(srv->poll_fd, EPOLL_CTL_ADD, srv->wake_fd, &ev) == 0;
    if (!ok) {
        pqcoap_net_msg(msg, cap, "cannot set up the event loop: %s", strerror(errno));
        return PQCOAP_ERR_IO;
    }
    /* Lets libcoap arm its timers before the first wait. */
    coap_io_process(srv->ctx, COAP_IO_NO_WAIT);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_server_create(const pqcoap_server_config *cfg, pqcoap_server **out,
                                char *msg, size_t msg_cap)
{
    pqcoap_server_config defaults = PQCOAP_SERVER_CONFIG_INIT;
    pqcoap_net_msg(msg, msg_cap, "%s", "");
    if (!out) {
        pqcoap_net_msg(msg, msg_cap, "NULL argument");
        return PQCOAP_ERR_ARG;
    }
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!cfg->addr || cfg->max_body == 0 || cfg->max_body > SIZE_MAX / 4 ||
        cfg->ack_delay_ms > 60000 ||
        (cfg->layer && (cfg->layer->overhead > SIZE_MAX / 4 ||
                        cfg->layer->response_overhead > cfg->layer->overhead))) {
        pqcoap_net_msg(msg, msg_cap, "invalid server settings (address, body limit, ACK delay, "
                       "layer)");
        return PQCOAP_ERR_ARG;
    }
    pqcoap_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        pqcoap_net_msg(msg, msg_cap, "out of memory");
        return PQCOAP_ERR_NOMEM;
    }
    srv->cfg = *cfg;
    srv->cfg.layer = NULL;
    /* 0 = the default of each limit */
    if (!srv->cfg.max_peers)
        srv->cfg.max_peers = defaults.max_peers;
    if (!srv->cfg.peer_idle_s)
        srv->cfg.peer_idle_s = defaults.peer_idle_s;
    if (!srv->cfg.max_transfers)
        srv->cfg.max_transfers = defaults.max_transfers;
    if (!srv->cfg.max_transfers_per_peer)
        srv->cfg.max_transfers_per_peer = defaults.max_transfers_per_peer;
    if (!srv->cfg.transfer_timeout_s)
        srv->cfg.transfer_timeout_s = defaults.transfer_timeout_s;
    if (!srv->cfg.max_kept_responses)
        srv->cfg.max_kept_responses = defaults.max_kept_responses;
    if (!srv->cfg.max_observers)
        srv->cfg.max_observers = defaults.max_observers;
    srv->obs.max_total = srv->cfg.max_observers;
    if (cfg->layer) {
        srv->layer = *cfg->layer;
        srv->has_layer = 1;
        srv->obs.layer = &srv->layer;
    }
    srv->bw.max_body = srv->cfg.max_body;
    srv->bw.overhead = srv->layer.overhead;
    srv->bw.max_transfers = srv->cfg.max_transfers;
    srv->bw.max_per_peer = srv->cfg.max_transfers_per_peer;
    srv->bw.timeout_s = srv->cfg.transfer_timeout_s;
    srv->wake_fd = -1;
    srv->poll_fd = -1;
    atomic_init(&srv->stop, 0);
    pthread_mutex_init(&srv->lock, NULL);
    pqcoap_net_startup(cfg->log_level);
    pqcoap_err err = server_setup(srv, msg, msg_cap);
    if (err != PQCOAP_OK) {
        pqcoap_server_free(srv);
        return err;
    }
    srv->cfg.addr = NULL; /* the caller's string is not kept */
    *out = srv;
    return PQCOAP_OK;
}

void pqcoap_server_free(pqcoap_server *srv)
{
    if (!srv)
        return;
    while (srv->tickets)
        ticket_free(srv, srv->tickets);
    pqcoap_obs_clear(&srv->obs); /* releases sessions: before the context goes */
    while (srv->notices) {
        notice *n = srv->notices;
        srv->notices = n->next;
        free(n);
    }
    pqcoap_bw_clear(&srv->bw);
    pqcoap_net_dedup_free(&srv->dedup);
    if (srv->ctx)
        coap_free_context(srv->ctx);
    while (srv->queue) {
        completion *c = srv->queue;
        srv->queue = c->next;
        pqcoap_reply_free(&c->resp);
        free(c);
    }
    while (srv->routes) {
        route *r = srv->routes;
        srv->routes = r->next;
        free(r);
    }
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->poll_fd >= 0)
        close(srv->poll_fd);
    pthread_mutex_destroy(&srv->lock);
    if (srv->state) {
        pqcoap_wipe(srv->state, srv->layer.state_size);
        free(srv->state);
    }
    pqcoap_net_scratch_free(&srv->in);
    pqcoap_net_scratch_free(&srv->out);
    pqcoap_net_scratch_free(&srv->wire);
    free(srv);
}

size_t pqcoap_net_server_body_bytes(const pqcoap_server *srv)
{
    return pqcoap_bw_bytes(&srv->bw);
}

uint16_t pqcoap_server_port(const pqcoap_server *srv)
{
    return srv ? srv->port : 0;
}

pqcoap_err pqcoap_server_handle_default(pqcoap_server *srv, pqcoap_handler_fn fn, void *arg)
{
    if (!srv || !fn)
        return PQCOAP_ERR_ARG;
    srv->default_fn = fn;
    srv->default_arg = arg;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_server_handle(pqcoap_server *srv, const char *path, uint8_t method,
                                pqcoap_handler_fn fn, void *arg)
{
    if (!srv || !path || !fn || method == 0 || method >= N_METHODS || strlen(path) >= PATH_LEN)
        return PQCOAP_ERR_ARG;
    route *r = (route *)find_route(srv, path);
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return PQCOAP_ERR_NOMEM;
        memcpy(r->path, path, strlen(path) + 1);
        r->next = srv->routes;
        srv->routes = r;
    }
    r->fn[method] = fn;
    r->arg[method] = arg;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_server_observable(pqcoap_server *srv, const char *path, unsigned max_observers)
{
    if (!srv || !path || strlen(path) >= PQCOAP_OBS_PATH_LEN)
        return PQCOAP_ERR_ARG;
    pqcoap_obs_res *res = pqcoap_obs_find_res(&srv->obs, path);
    if (res) {
        res->max = max_observers ? max_observers : 16;
        return PQCOAP_OK;
    }
    res = calloc(1, sizeof(*res));
    if (res && srv->has_layer) {
        /* PROTOCOL.md "Observe": the server registers after the layer's check and sends
         * the notifications itself (libcoap would see only wire requests, and no path in
         * an OSCORE one) */
        memcpy(res->path, path, strlen(path) + 1);
        res->max = max_observers ? max_observers : 16;
        res->next = srv->obs.res;
        srv->obs.res = res;
        return PQCOAP_OK;
    }
    coap_str_const_t *uri = res ? coap_new_str_const((const uint8_t *)path, strlen(path)) : NULL;
    /* A libcoap resource of its own: libcoap keeps observers per resource and cannot
     * observe its "unknown resource"; every method still goes to the one dispatcher. */
    coap_resource_t *r = uri ? coap_resource_init(uri, COAP_RESOURCE_FLAGS_RELEASE_URI |
                                                       COAP_RESOURCE_FLAGS_NOTIFY_CON)
                             : NULL;
    if (!r) {
        coap_delete_str_const(uri);
        free(res);
        return PQCOAP_ERR_NOMEM;
    }
    dispatch_all(srv, r);
    coap_resource_set_get_observable(r, 1);
    memcpy(res->path, path, strlen(path) + 1);
    res->r = r;
    res->max = max_observers ? max_observers : 16;
    res->next = srv->obs.res;
    srv->obs.res = res;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_server_notify(pqcoap_server *srv, const char *path)
{
    if (!srv || !path || strlen(path) >= PQCOAP_OBS_PATH_LEN)
        return PQCOAP_ERR_ARG;
    size_t len = strlen(path) + 1;
    notice *n = malloc(sizeof(*n) + len);
    if (!n)
        return PQCOAP_ERR_NOMEM;
    memcpy(n->path, path, len);
    pthread_mutex_lock(&srv->lock);
    n->next = srv->notices;
    srv->notices = n;
    pthread_mutex_unlock(&srv->lock);
    uint64_t one = 1;
    if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return PQCOAP_ERR_IO;
    return PQCOAP_OK;
}

void pqcoap_server_bw_counts(const pqcoap_server *srv, unsigned *replies, unsigned *transfers)
{
    *replies = srv->bw.n_replies;
    *transfers = 0;
    for (const pqcoap_bw_transfer *t = srv->bw.transfers; t; t = t->next)
        ++*transfers;
}

int pqcoap_server_fd(const pqcoap_server *srv)
{
    return srv ? srv->poll_fd : -1;
}

pqcoap_err pqcoap_server_step(pqcoap_server *srv, int timeout_ms)
{
    if (!srv)
        return PQCOAP_ERR_ARG;
    if (atomic_load(&srv->stop))
        return PQCOAP_ERR_STATE;
    struct epoll_event ev[4];
    uint64_t ack_due = send_due_acks(srv), now = ack_due ? pqcoap_net_now_ms() : 0;
    uint64_t ack_wait = ack_due > now ? ack_due - now : 0;
    if (ack_due && (timeout_ms < 0 || ack_wait < (uint64_t)timeout_ms))
        timeout_ms = (int)ack_wait; /* below cfg.ack_delay_ms */
    int n = epoll_wait(srv->poll_fd, ev, 4, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0 && errno != EINTR)
        return PQCOAP_ERR_IO;
    /* The eventfd is read only when it fired, so that a request costs no extra system call;
     * pqcoap_server_complete writes it after queueing, so a queued completion makes it fire. */
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == srv->wake_fd) {
            drain_completions(srv);
            break;
        }
    }
    if (srv->bw.transfers || srv->bw.replies) /* no clock read while nothing is kept */
        pqcoap_bw_expire(&srv->bw, pqcoap_net_now_ms());
    send_due_acks(srv);
    if (coap_io_process(srv->ctx, COAP_IO_NO_WAIT) < 0)
        return PQCOAP_ERR_IO;
    return atomic_load(&srv->stop) ? PQCOAP_ERR_STATE : PQCOAP_OK;
}

pqcoap_err pqcoap_server_run(pqcoap_server *srv)
{
    for (;;) {
        pqcoap_err err = pqcoap_server_step(srv, -1);
        if (err == PQCOAP_ERR_STATE)
            return PQCOAP_OK;
        if (err != PQCOAP_OK)
            return err;
    }
}

void pqcoap_server_stop(pqcoap_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stop, 1);
    uint64_t one = 1;
    ssize_t rc = write(srv->wake_fd, &one, sizeof(one));
    (void)rc; /* a full counter already wakes the loop */
}
