/* Mode B record layer (PROTOCOL.md "Protected message", "Receive rules"): the session
 * state, protected requests and responses on both sides, the retransmission record. */
#include "core/record_internal.h"
#include "core/peer_table_internal.h"
#include "common/buf_internal.h"

#include <string.h>

/* an idle session costs about 2.3 KiB at W = 64 (the target is at most 4 KiB) */
_Static_assert(PQCOAP_WINDOW_MAX != 64 || sizeof(pqcoap_session) <= 4096,
               "pqcoap_session larger than 4 KiB at W = 64");

_Static_assert(sizeof(((pqcoap_session *)0)->last_req_tag) == PQCOAP_AEAD_TAG_LEN,
               "the retransmission record keeps one AEAD tag");

static const char AAD_LABEL[] = "pqcoap v1 msg";

/* ---- session state ---- */

uint64_t pqcoap_expiry(uint64_t now_ms, uint32_t lifetime_s)
{
    uint64_t life_ms = (uint64_t)lifetime_s * 1000;
    return now_ms > UINT64_MAX - life_ms ? UINT64_MAX : now_ms + life_ms;
}

void pqcoap_session_setup(pqcoap_session *s, int initiator, uint8_t suite, uint32_t sid,
                          uint32_t max_msgs, uint64_t expires_ms, const uint8_t ck_send[32],
                          const uint8_t ck_recv[32], uint16_t w)
{
    pqcoap_session_wipe(s);
    s->live = 1;
    s->initiator = initiator ? 1 : 0;
    s->suite = suite;
    s->sid = sid;
    s->max_msgs = max_msgs;
    s->expires_ms = expires_ms;
    memcpy(s->send.ck, ck_send, 32);
    s->send.n = 0;
    pqcoap_window_init(&s->recv, ck_recv, w);
}

void pqcoap_session_wipe(pqcoap_session *s)
{
    if (s)
        pqcoap_wipe(s, sizeof *s);
}

pqcoap_err pqcoap_session_usable(const pqcoap_session *s, uint64_t now_ms)
{
    if (!s || !s->live)
        return PQCOAP_ERR_ARG;
    /* sessions end at max_msgs in either direction or after lifetime_s */
    if (now_ms >= s->expires_ms || s->send.n >= s->max_msgs)
        return PQCOAP_ERR_EXPIRED;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_session_snapshot(const pqcoap_session *s, uint8_t *out, size_t cap,
                                   size_t *out_len)
{
    if (!s || !out || !out_len)
        return PQCOAP_ERR_ARG;
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, s->live);
    pqcoap_wr_u8(&w, s->initiator);
    pqcoap_wr_u8(&w, s->suite);
    pqcoap_wr_u32(&w, s->sid);
    pqcoap_wr_u32(&w, s->max_msgs);
    pqcoap_wr_u64(&w, s->expires_ms);
    pqcoap_wr_u64(&w, s->serial);
    pqcoap_wr_u64(&w, s->last_used_ms);
    pqcoap_wr_bytes(&w, s->send.ck, 32);
    pqcoap_wr_u64(&w, s->send.n);
    pqcoap_wr_bytes(&w, s->recv.ck, 32);
    pqcoap_wr_u64(&w, s->recv.next);
    pqcoap_wr_u16(&w, s->recv.w);
    pqcoap_wr_bytes(&w, s->recv.held, sizeof s->recv.held);
    for (size_t i = 0; i < s->recv.w && i < PQCOAP_WINDOW_MAX; i++)
        if ((s->recv.held[i / 8] >> (i % 8)) & 1)
            pqcoap_wr_bytes(&w, s->recv.mk[i], 32);
    pqcoap_wr_str8(&w, (const uint8_t *)s->peer_id, strnlen(s->peer_id, PQCOAP_ID_MAX));
    pqcoap_wr_bytes(&w, s->peer_pk_hash, sizeof s->peer_pk_hash);
    pqcoap_wr_u8(&w, s->has_last_req);
    pqcoap_wr_u64(&w, s->last_req_n);
    pqcoap_wr_u64(&w, s->last_req_len);
    pqcoap_wr_bytes(&w, s->last_req_tag, sizeof s->last_req_tag);
    if (w.err != PQCOAP_OK)
        return w.err;
    *out_len = w.len;
    return PQCOAP_OK;
}

/* ---- AAD and AEAD of protected messages ---- */

/* AAD = "pqcoap v1 msg" || u8 type || u32 sid || u64 n || u8 code || opts(msg)
 *       [|| u64 request_n, responses only], kept as three pieces. The token is not part of
 *       it (PROTOCOL.md "The token"). */
typedef struct aad_buf {
    uint8_t head[sizeof AAD_LABEL - 1 + 1 + 4 + 8 + 1];
    uint8_t opts[PQCOAP_OPTS_MAX];
    uint8_t tail[8];
    pqcoap_span span[3];
} aad_buf;

static pqcoap_err build_aad(aad_buf *a, uint8_t type, uint32_t sid, uint64_t n,
                            const pqcoap_msg *m, uint64_t request_n)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, a->head, sizeof a->head);
    pqcoap_wr_bytes(&w, (const uint8_t *)AAD_LABEL, sizeof AAD_LABEL - 1);
    pqcoap_wr_u8(&w, type);
    pqcoap_wr_u32(&w, sid);
    pqcoap_wr_u64(&w, n);
    pqcoap_wr_u8(&w, m->code);
    if (w.err != PQCOAP_OK)
        return w.err;
    a->span[0] = (pqcoap_span){a->head, w.len};
    size_t opts_len;
    PQCOAP_TRY(pqcoap_opts(m, a->opts, sizeof a->opts, &opts_len));
    a->span[1] = (pqcoap_span){a->opts, opts_len};
    pqcoap_wr_init(&w, a->tail, sizeof a->tail);
    if (type == PQCOAP_TYPE_RESPONSE)
        pqcoap_wr_u64(&w, request_n);
    a->span[2] = (pqcoap_span){a->tail, w.len};
    return PQCOAP_OK;
}

/* Sends one message on s->send: writes type || [varint(sid), requests] || varint(n) ||
 * ciphertext || tag with mk_n. The chain advances only on success. */
static pqcoap_err protect(pqcoap_session *s, uint8_t type, const pqcoap_msg *m,
                          uint64_t request_n, uint8_t *out, size_t cap, size_t *out_len,
                          uint64_t *n_out)
{
    if (!m || (m->payload_len && !m->payload) || !out || !out_len)
        return PQCOAP_ERR_ARG;
    if (s->send.n >= s->max_msgs)
        return PQCOAP_ERR_EXPIRED;
    if (m->payload_len > cap)
        return PQCOAP_ERR_BUFFER;
    const uint8_t *pt = m->payload_len ? m->payload : (const uint8_t *)"";
    pqcoap_chain next = s->send;
    uint8_t mk[32], nonce[PQCOAP_AEAD_NONCE_LEN];
    uint64_t n = 0;
    aad_buf aad;
    pqcoap_writer w;
    pqcoap_err err = pqcoap_chain_next(&next, mk, &n);
    if (err == PQCOAP_OK)
        err = build_aad(&aad, type, s->sid, n, m, request_n);
    if (err == PQCOAP_OK) {
        pqcoap_wr_init(&w, out, cap);
        pqcoap_wr_u8(&w, type);
        if (type == PQCOAP_TYPE_REQUEST)
            pqcoap_wr_varint(&w, s->sid);
        pqcoap_wr_varint(&w, n);
        uint8_t *ct = pqcoap_wr_reserve(&w, m->payload_len + PQCOAP_AEAD_TAG_LEN);
        err = w.err;
        if (err == PQCOAP_OK) {
            pqcoap_msg_nonce(n, nonce);
            err = pqcoap_aead_seal(mk, nonce, aad.span, 3, pt, m->payload_len, ct);
        }
    }
    if (err == PQCOAP_OK) {
        s->send = next;
        *out_len = w.len;
        if (n_out)
            *n_out = n;
    }
    pqcoap_wipe(mk, sizeof mk);
    pqcoap_wipe(&next, sizeof next);
    return err;
}

/* Receives message n on s->recv: the key comes from a step worked out beside the window,
 * and the step is applied to the window only if the tag verifies. */
static pqcoap_err open_transactional(pqcoap_session *s, uint64_t n, const aad_buf *aad,
                                     const uint8_t *ct, size_t ct_len, uint8_t *out,
                                     size_t cap, size_t *out_len)
{
    uint8_t none;
    if (ct_len - PQCOAP_AEAD_TAG_LEN > cap || (!out && ct_len > PQCOAP_AEAD_TAG_LEN))
        return PQCOAP_ERR_BUFFER;
    pqcoap_window_step step;
    uint8_t nonce[PQCOAP_AEAD_NONCE_LEN];
    PQCOAP_TRY(pqcoap_window_peek(&s->recv, n, &step));
    pqcoap_msg_nonce(n, nonce);
    pqcoap_err err = pqcoap_aead_open(step.mk, nonce, aad->span, 3, ct, ct_len,
                                      out ? out : &none);
    if (err == PQCOAP_OK) {
        pqcoap_window_accept(&s->recv, &step);
        *out_len = ct_len - PQCOAP_AEAD_TAG_LEN;
    } else {
        pqcoap_window_step_wipe(&step);
    }
    return err;
}

/* A decoded protected payload: type || [varint(sid)] || varint(n) || ct || tag[16]. */
typedef struct protected_view {
    uint64_t sid;
    uint64_t n;
    const uint8_t *ct;
    size_t ct_len;                  /* ciphertext and tag */
    const uint8_t *tag;             /* the last PQCOAP_AEAD_TAG_LEN bytes of ct */
} protected_view;

static pqcoap_err decode_protected(const pqcoap_msg *m, uint8_t type, protected_view *v)
{
    pqcoap_reader r;
    uint8_t t;
    if (!m || (m->payload_len && !m->payload))
        return PQCOAP_ERR_ARG;
    pqcoap_rd_init(&r, m->payload, m->payload_len);
    PQCOAP_TRY(pqcoap_rd_u8(&r, &t));
    if (t != type)
        return PQCOAP_ERR_MALFORMED;
    v->sid = 0;
    if (type == PQCOAP_TYPE_REQUEST) {
        PQCOAP_TRY(pqcoap_rd_varint(&r, &v->sid));
        if (v->sid > UINT32_MAX) /* sid is a u32 in the AAD */
            return PQCOAP_ERR_MALFORMED;
    }
    PQCOAP_TRY(pqcoap_rd_varint(&r, &v->n));
    v->ct_len = pqcoap_rd_left(&r);
    if (v->ct_len < PQCOAP_AEAD_TAG_LEN)
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_bytes(&r, v->ct_len - PQCOAP_AEAD_TAG_LEN, &v->ct));
    return pqcoap_rd_bytes(&r, PQCOAP_AEAD_TAG_LEN, &v->tag);
}

/* ---- client side ---- */

pqcoap_err pqcoap_session_protect_request(pqcoap_session *s, const pqcoap_msg *req,
                                          uint64_t now_ms, uint8_t *out, size_t cap,
                                          size_t *out_len, uint64_t *request_n)
{
    if (!s || !s->live || !s->initiator || !request_n)
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(pqcoap_session_usable(s, now_ms));
    return protect(s, PQCOAP_TYPE_REQUEST, req, 0, out, cap, out_len, request_n);
}

pqcoap_err pqcoap_session_unprotect_response(pqcoap_session *s, uint64_t request_n,
                                             const pqcoap_msg *resp, uint64_t now_ms,
                                             uint8_t *out, size_t cap, size_t *out_len)
{
    if (!s || !s->live || !s->initiator || !out_len || request_n >= s->send.n)
        return PQCOAP_ERR_ARG;
    protected_view v;
    aad_buf aad;
    PQCOAP_TRY(decode_protected(resp, PQCOAP_TYPE_RESPONSE, &v));
    if (now_ms >= s->expires_ms || v.n >= s->max_msgs)
        return PQCOAP_ERR_EXPIRED;
    PQCOAP_TRY(build_aad(&aad, PQCOAP_TYPE_RESPONSE, s->sid, v.n, resp, request_n));
    return open_transactional(s, v.n, &aad, v.ct, v.ct_len, out, cap, out_len);
}

int pqcoap_session_beyond_window(const pqcoap_session *s, const pqcoap_msg *resp)
{
    protected_view v;
    if (!s || !s->live || !resp || decode_protected(resp, PQCOAP_TYPE_RESPONSE, &v) != PQCOAP_OK)
        return 0;
    return v.n > s->recv.next && v.n - s->recv.next > s->recv.w;
}

pqcoap_err pqcoap_session_unprotect_notification(pqcoap_session *s, uint64_t request_n,
                                                 int seen, uint64_t last_n,
                                                 const pqcoap_msg *resp, uint64_t now_ms,
                                                 uint8_t *out, size_t cap, size_t *out_len,
                                                 uint64_t *n)
{
    if (!n)
        return PQCOAP_ERR_ARG;
    protected_view v;
    PQCOAP_TRY(decode_protected(resp, PQCOAP_TYPE_RESPONSE, &v));
    /* PROTOCOL.md "Observe": only a notification newer than the newest one accepted */
    if (seen && v.n <= last_n)
        return PQCOAP_ERR_REPLAY;
    PQCOAP_TRY(pqcoap_session_unprotect_response(s, request_n, resp, now_ms, out, cap,
                                                 out_len));
    *n = v.n;
    return PQCOAP_OK;
}

/* ---- responder side ---- */

/* The session of sid, ending it if its lifetime is over or it cannot answer any more. */
static pqcoap_err responder_session(pqcoap_responder *r, uint64_t sid, uint64_t now_ms,
                                    pqcoap_session **out)
{
    pqcoap_session *s = pqcoap_peer_table_by_id(&r->table, sid);
    if (!s || s->protection != PQCOAP_PROTECTION_SESSION) /* an OSCORE context's entry */
        return PQCOAP_ERR_UNKNOWN_SESSION;
    if (pqcoap_session_usable(s, now_ms) != PQCOAP_OK) {
        pqcoap_session_wipe(s);
        return PQCOAP_ERR_EXPIRED;
    }
    *out = s;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_unprotect(pqcoap_responder *r, const pqcoap_msg *req,
                                      uint64_t now_ms, uint8_t *out, size_t cap,
                                      size_t *out_len, pqcoap_req_ctx *ctx)
{
    if (!r || !r->table.slots || !out_len || !ctx)
        return PQCOAP_ERR_ARG;
    protected_view v;
    pqcoap_session *s;
    aad_buf aad;
    PQCOAP_TRY(decode_protected(req, PQCOAP_TYPE_REQUEST, &v));
    PQCOAP_TRY(responder_session(r, v.sid, now_ms, &s));
    if (v.n >= s->max_msgs)
        return PQCOAP_ERR_EXPIRED;
    PQCOAP_TRY(build_aad(&aad, PQCOAP_TYPE_REQUEST, s->sid, v.n, req, 0));
    const pqcoap_req_ctx found = {s->sid, s->serial, v.n};
    /* a retransmitted request gets the same response again; the handler does not run. It is
     * the request accepted last: the same n, length and tag (PROTOCOL.md "Receive rules") */
    if (s->has_last_req && s->last_req_n == v.n && s->last_req_len == v.ct_len
        && pqcoap_ct_equal(s->last_req_tag, v.tag, PQCOAP_AEAD_TAG_LEN)) {
        *ctx = found;
        return PQCOAP_ERR_RETRANSMIT;
    }
    PQCOAP_TRY(open_transactional(s, v.n, &aad, v.ct, v.ct_len, out, cap, out_len));
    s->has_last_req = 1;
    s->last_req_n = v.n;
    s->last_req_len = v.ct_len;
    memcpy(s->last_req_tag, v.tag, PQCOAP_AEAD_TAG_LEN);
    s->last_used_ms = now_ms;
    *ctx = found;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_protect(pqcoap_responder *r, const pqcoap_req_ctx *ctx,
                                    const pqcoap_msg *resp, uint64_t now_ms, uint8_t *out,
                                    size_t cap, size_t *out_len)
{
    if (!r || !r->table.slots || !ctx)
        return PQCOAP_ERR_ARG;
    pqcoap_session *s = pqcoap_peer_table_by_serial(&r->table, ctx->serial);
    if (!s || s->sid != ctx->sid || s->protection != PQCOAP_PROTECTION_SESSION)
        return PQCOAP_ERR_UNKNOWN_SESSION;
    if (ctx->request_n >= s->recv.next)
        return PQCOAP_ERR_ARG; /* not a request this session accepted */
    if (now_ms >= s->expires_ms) {
        pqcoap_session_wipe(s);
        return PQCOAP_ERR_EXPIRED;
    }
    PQCOAP_TRY(protect(s, PQCOAP_TYPE_RESPONSE, resp, ctx->request_n, out, cap, out_len, NULL));
    s->last_used_ms = now_ms;
    return PQCOAP_OK;
}
