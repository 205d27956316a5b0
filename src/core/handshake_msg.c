/* Mode B handshake messages (PROTOCOL.md "Handshake"): INIT and RESP as a table of
 * message handlers (encode / decode / verify) over one bounds-checked reader and writer. */
#include "core/handshake_internal.h"
#include "common/buf_internal.h"

#include <string.h>

_Static_assert(PQCOAP_INIT_MAX == 1 + 1 + PQCOAP_OFFER_MAX + 2 * (1 + PQCOAP_ID_MAX) + 8 + 8
               + PQCOAP_NONCE_I_LEN + 2 + PQCOAP_KEM_PK_MAX + PQCOAP_X25519_LEN + 1 + 1
               + PQCOAP_HS_PARAMS_MAX + 2 + PQCOAP_SIG_MAX, "PQCOAP_INIT_MAX");
_Static_assert(PQCOAP_RESP_MAX == 2 + 4 + 4 + 4 + 2 + PQCOAP_KEM_CT_MAX + PQCOAP_X25519_LEN
               + 1 + 1 + PQCOAP_HS_PARAMS_MAX + 2 + PQCOAP_SIG_MAX, "PQCOAP_RESP_MAX");
_Static_assert(PQCOAP_SESSION_SK_MAX >= PQCOAP_SIG_SK_MAX, "PQCOAP_SESSION_SK_MAX too small");
_Static_assert(PQCOAP_SESSION_KEM_SK_MAX >= PQCOAP_KEM_SK_MAX, "KEM secret key too large");
_Static_assert(PQCOAP_PK_MAX >= PQCOAP_SIG_PK_MAX, "PQCOAP_PK_MAX too small");

int pqcoap_id_valid(const uint8_t *id, size_t len)
{
    /* PROTOCOL.md: ids are 1..64 bytes of UTF-8 (U+0000 refused: ids are also C strings) */
    if (!id || len < 1 || len > PQCOAP_ID_MAX)
        return 0;
    size_t i = 0;
    while (i < len) {
        uint8_t b = id[i];
        size_t extra;
        uint32_t cp, min;
        if (b == 0)
            return 0;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xe0) == 0xc0) {
            extra = 1; cp = b & 0x1fu; min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            extra = 2; cp = b & 0x0fu; min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            extra = 3; cp = b & 0x07u; min = 0x10000;
        } else {
            return 0;
        }
        if (len - i - 1 < extra)
            return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((id[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (id[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0; /* overlong, beyond Unicode, or a surrogate */
        i += 1 + extra;
    }
    return 1;
}

/* ---- message bodies: the fields between "u8 version" and str16(sig) ---- */

/* u8 protection || str8(params), the last fields of both messages */
static pqcoap_err decode_protection(pqcoap_reader *r, uint8_t *protection,
                                    const uint8_t **params, size_t *params_len)
{
    PQCOAP_TRY(pqcoap_rd_u8(r, protection));
    PQCOAP_TRY(pqcoap_rd_str8(r, params, params_len));
    return *params_len <= PQCOAP_HS_PARAMS_MAX ? PQCOAP_OK : PQCOAP_ERR_MALFORMED;
}

static void init_encode_body(pqcoap_writer *w, const void *view)
{
    const pqcoap_init_view *v = view;
    pqcoap_wr_str8(w, v->offer, v->n_offer);
    pqcoap_wr_str8(w, v->initiator_id, v->initiator_id_len);
    pqcoap_wr_str8(w, v->responder_id, v->responder_id_len);
    pqcoap_wr_u64(w, v->session_seq);
    pqcoap_wr_u64(w, v->timestamp_ms);
    pqcoap_wr_bytes(w, v->nonce_i, PQCOAP_NONCE_I_LEN);
    pqcoap_wr_str16(w, v->kem_pk, v->suite->kem->pk_len);
    pqcoap_wr_bytes(w, v->x25519_pk, PQCOAP_X25519_LEN);
    pqcoap_wr_u8(w, v->protection);
    pqcoap_wr_str8(w, v->params, v->params_len);
}

int pqcoap_init_offers(const pqcoap_init_view *v, uint8_t id)
{
    for (size_t i = 0; i < v->n_offer; i++)
        if (v->offer[i] == id)
            return 1;
    return 0;
}

/* The offer: 1..OFFER_MAX distinct suite bytes; the first is known (kem_pk is of its KEM);
 * a later known one has the same KEM (the responder may choose it); unknown ones are
 * ignored. */
static pqcoap_err decode_offer(pqcoap_reader *r, pqcoap_init_view *v)
{
    PQCOAP_TRY(pqcoap_rd_str8(r, &v->offer, &v->n_offer));
    if (v->n_offer == 0 || v->n_offer > PQCOAP_OFFER_MAX)
        return PQCOAP_ERR_MALFORMED;
    for (size_t i = 0; i < v->n_offer; i++)
        for (size_t j = 0; j < i; j++)
            if (v->offer[i] == v->offer[j])
                return PQCOAP_ERR_MALFORMED;
    v->suite = pqcoap_suite_find(v->offer[0]);
    if (!v->suite)
        return PQCOAP_ERR_UNSUPPORTED;
    for (size_t i = 1; i < v->n_offer; i++) {
        const pqcoap_suite *other = pqcoap_suite_find(v->offer[i]);
        if (other && other->kem != v->suite->kem)
            return PQCOAP_ERR_MALFORMED;
    }
    return PQCOAP_OK;
}

static pqcoap_err init_decode_body(pqcoap_reader *r, void *view)
{
    pqcoap_init_view *v = view;
    size_t kem_pk_len;
    PQCOAP_TRY(decode_offer(r, v));
    PQCOAP_TRY(pqcoap_rd_str8(r, &v->initiator_id, &v->initiator_id_len));
    PQCOAP_TRY(pqcoap_rd_str8(r, &v->responder_id, &v->responder_id_len));
    if (!pqcoap_id_valid(v->initiator_id, v->initiator_id_len)
        || !pqcoap_id_valid(v->responder_id, v->responder_id_len))
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_u64(r, &v->session_seq));
    if (v->session_seq == 0) /* session_seq >= 1 */
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_u64(r, &v->timestamp_ms));
    PQCOAP_TRY(pqcoap_rd_bytes(r, PQCOAP_NONCE_I_LEN, &v->nonce_i));
    PQCOAP_TRY(pqcoap_rd_str16(r, &v->kem_pk, &kem_pk_len));
    if (kem_pk_len != v->suite->kem->pk_len)
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_bytes(r, PQCOAP_X25519_LEN, &v->x25519_pk));
    return decode_protection(r, &v->protection, &v->params, &v->params_len);
}

static void resp_encode_body(pqcoap_writer *w, const void *view)
{
    const pqcoap_resp_view *v = view;
    pqcoap_wr_u8(w, v->suite->id);
    pqcoap_wr_u32(w, v->sid);
    pqcoap_wr_u32(w, v->lifetime_s);
    pqcoap_wr_u32(w, v->max_msgs);
    pqcoap_wr_str16(w, v->kem_ct, v->suite->kem->ct_len);
    pqcoap_wr_bytes(w, v->x25519_pk, PQCOAP_X25519_LEN);
    pqcoap_wr_u8(w, v->protection);
    pqcoap_wr_str8(w, v->params, v->params_len);
}

static pqcoap_err resp_decode_body(pqcoap_reader *r, void *view)
{
    pqcoap_resp_view *v = view;
    size_t kem_ct_len;
    uint8_t suite_id;
    PQCOAP_TRY(pqcoap_rd_u8(r, &suite_id));
    v->suite = pqcoap_suite_find(suite_id);
    if (!v->suite)
        return PQCOAP_ERR_UNSUPPORTED;
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->sid));
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->lifetime_s));
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->max_msgs));
    if (v->sid == 0 || v->lifetime_s == 0 || v->max_msgs == 0) /* sid is never 0 */
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_str16(r, &v->kem_ct, &kem_ct_len));
    if (kem_ct_len != v->suite->kem->ct_len)
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_bytes(r, PQCOAP_X25519_LEN, &v->x25519_pk));
    return decode_protection(r, &v->protection, &v->params, &v->params_len);
}

/* ---- the handler table and the code shared by both messages ---- */

typedef struct hs_handler {
    const char *label;        /* signature context string */
    int binds_init;           /* the signature also covers SHA-256(INIT) */
    void (*encode_body)(pqcoap_writer *w, const void *view);
    pqcoap_err (*decode_body)(pqcoap_reader *r, void *view);
    /* longest signature the message may carry: a RESP's is of its suite's algorithm, an
     * INIT's of the initiator's key, known only from the trust store */
    size_t (*sig_max)(const void *view);
} hs_handler;

static size_t init_sig_max(const void *view)
{
    (void)view;
    return PQCOAP_SIG_MAX;
}

static size_t resp_sig_max(const void *view)
{
    return ((const pqcoap_resp_view *)view)->suite->sig->sig_max;
}

/* sig_i over "pqcoap v2 init" || INIT before sig_i;
 * sig_r over "pqcoap v2 resp" || SHA-256(INIT) || RESP before sig_r */
static const hs_handler HS[] = {
    [PQCOAP_HS_INIT] = {"pqcoap v2 init", 0, init_encode_body, init_decode_body, init_sig_max},
    [PQCOAP_HS_RESP] = {"pqcoap v2 resp", 1, resp_encode_body, resp_decode_body, resp_sig_max},
};

/* The pieces the signature of a message covers; returns how many. */
static size_t hs_signed_input(int kind, const uint8_t *msg, size_t signed_len,
                              const uint8_t *init_hash, pqcoap_span span[3])
{
    size_t n = 0;
    span[n++] = (pqcoap_span){(const uint8_t *)HS[kind].label, strlen(HS[kind].label)};
    if (HS[kind].binds_init)
        span[n++] = (pqcoap_span){init_hash, PQCOAP_SHA256_LEN};
    span[n++] = (pqcoap_span){msg, signed_len};
    return n;
}

pqcoap_err pqcoap_hs_encode(int kind, const void *view, const pqcoap_sig_alg *sig,
                            const uint8_t *sk, const void *ek, size_t ek_len,
                            const uint8_t *init_hash, const pqcoap_rng *rng, uint8_t *out,
                            size_t cap, size_t *out_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, PQCOAP_PROTOCOL_VERSION);
    HS[kind].encode_body(&w, view);
    if (w.err != PQCOAP_OK)
        return w.err;
    pqcoap_span span[3];
    size_t n = hs_signed_input(kind, out, w.len, init_hash, span);
    uint8_t signature[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    PQCOAP_TRY(pqcoap_sig_sign(sig, rng, sk, ek, ek_len, span, n, signature, &sig_len));
    pqcoap_wr_str16(&w, signature, sig_len);
    if (w.err != PQCOAP_OK)
        return w.err;
    *out_len = w.len;
    return PQCOAP_OK;
}

/* Strict decode of a whole message: version 2 (version 1 is refused, never read as 2), the
 * body, a signature of 1..sig_max bytes, nothing trailing. */
static pqcoap_err hs_decode(int kind, const uint8_t *in, size_t len, void *view,
                            pqcoap_hs_sig *sig)
{
    pqcoap_reader r;
    uint8_t version;
    if (!in || !view)
        return PQCOAP_ERR_ARG;
    pqcoap_rd_init(&r, in, len);
    PQCOAP_TRY(pqcoap_rd_u8(&r, &version));
    if (version != PQCOAP_PROTOCOL_VERSION)
        return PQCOAP_ERR_UNSUPPORTED;
    PQCOAP_TRY(HS[kind].decode_body(&r, view));
    sig->signed_len = r.pos;
    PQCOAP_TRY(pqcoap_rd_str16(&r, &sig->sig, &sig->sig_len));
    if (sig->sig_len == 0 || sig->sig_len > HS[kind].sig_max(view))
        return PQCOAP_ERR_MALFORMED;
    return pqcoap_rd_end(&r);
}

pqcoap_err pqcoap_hs_verify(int kind, const uint8_t *msg, const pqcoap_sig_alg *sig,
                            const pqcoap_hs_sig *s, const uint8_t *pk,
                            const uint8_t *init_hash)
{
    pqcoap_span span[3];
    size_t n = hs_signed_input(kind, msg, s->signed_len, init_hash, span);
    return sig->verify(pk, span, n, s->sig, s->sig_len) == PQCOAP_OK ? PQCOAP_OK
                                                                      : PQCOAP_ERR_AUTH;
}

pqcoap_err pqcoap_init_decode(const uint8_t *in, size_t len, pqcoap_init_view *v)
{
    return v ? hs_decode(PQCOAP_HS_INIT, in, len, v, &v->sig) : PQCOAP_ERR_ARG;
}

pqcoap_err pqcoap_resp_decode(const uint8_t *in, size_t len, pqcoap_resp_view *v)
{
    return v ? hs_decode(PQCOAP_HS_RESP, in, len, v, &v->sig) : PQCOAP_ERR_ARG;
}
