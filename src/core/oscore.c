/* OSCORE message protection (RFC 8613): context derivation (3.2), the OSCORE option (6.1),
 * nonce (5.2), AAD (5.4), option classes (4.1) and request/response processing (8.1-8.4). */
#include "pqcoap/oscore.h"
#include "common/buf_internal.h"
#include "core/coapopt_internal.h"
#include "core/oscore_internal.h"
#include "crypto/crypto_internal.h"

#include <string.h>

#define CODE_POST PQCOAP_CODE(0, 2)
#define CODE_FETCH PQCOAP_CODE(0, 5)
#define CODE_CHANGED PQCOAP_CODE(2, 4)
#define CODE_CONTENT PQCOAP_CODE(2, 5)
#define AAD_MAX (64 + PQCOAP_OSCORE_ID_MAX + PQCOAP_OSCORE_PIV_MAX)

/* The context's room for a keyed AEAD state holds the crypto layer's (plain data, no
 * pointers into itself, so contexts may be copied). */
_Static_assert(sizeof(pqcoap_cose_aead_key) <= sizeof(pqcoap_oscore_aead_key) &&
               _Alignof(pqcoap_cose_aead_key) <= _Alignof(pqcoap_oscore_aead_key),
               "pqcoap_oscore_aead_key too small for the keyed AEAD state");

static pqcoap_cose_aead_key *aead_key(pqcoap_oscore_aead_key *room)
{
    return (pqcoap_cose_aead_key *)(void *)room->opaque;
}

static const pqcoap_cose_aead_key *aead_key_c(const pqcoap_oscore_aead_key *room)
{
    return (const pqcoap_cose_aead_key *)(const void *)room->opaque;
}

/* ---- CBOR, only what the info and Enc_structure need (RFC 8949 section 3) ---- */

static void cbor_head(pqcoap_writer *w, uint8_t major, uint64_t v)
{
    if (v < 24) {
        pqcoap_wr_u8(w, (uint8_t)(major << 5 | v));
    } else if (v < 256) {
        pqcoap_wr_u8(w, (uint8_t)(major << 5 | 24));
        pqcoap_wr_u8(w, (uint8_t)v);
    } else {
        pqcoap_wr_u8(w, (uint8_t)(major << 5 | 25));
        pqcoap_wr_u16(w, (uint16_t)v);
    }
}

static void cbor_bstr(pqcoap_writer *w, const uint8_t *p, size_t n)
{
    cbor_head(w, 2, n);
    pqcoap_wr_bytes(w, p, n);
}

static void cbor_tstr(pqcoap_writer *w, const char *s)
{
    cbor_head(w, 3, strlen(s));
    pqcoap_wr_bytes(w, (const uint8_t *)s, strlen(s));
}

static void cbor_int(pqcoap_writer *w, int v)
{
    if (v >= 0)
        cbor_head(w, 0, (uint64_t)v);
    else
        cbor_head(w, 1, (uint64_t)(-1 - (int64_t)v));
}

/* ---- security context (section 3.2) ---- */

pqcoap_err pqcoap_oscore_info(const pqcoap_oscore_params *p, const uint8_t *id, size_t id_len,
                              const char *type, size_t len, uint8_t *info, size_t cap,
                              size_t *info_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, info, cap);
    pqcoap_wr_u8(&w, 0x85);
    cbor_bstr(&w, id, id_len);
    if (p->has_id_context)
        cbor_bstr(&w, p->id_context, p->id_context_len);
    else
        pqcoap_wr_u8(&w, 0xF6); /* nil */
    cbor_int(&w, p->aead_alg);
    cbor_tstr(&w, type);
    cbor_head(&w, 0, len);
    *info_len = w.len;
    return w.err;
}

/* One HKDF-Expand of section 3.2.1 from prk. */
static pqcoap_err derive_one(const uint8_t prk[32], const pqcoap_oscore_params *p,
                             const uint8_t *id, size_t id_len, const char *type,
                             uint8_t *out, size_t len)
{
    uint8_t info[128];
    size_t info_len;
    PQCOAP_TRY(pqcoap_oscore_info(p, id, id_len, type, len, info, sizeof info, &info_len));
    return pqcoap_hkdf_expand(prk, 32, info, info_len, out, len);
}

pqcoap_err pqcoap_oscore_derive(const pqcoap_oscore_params *p, pqcoap_oscore_ctx *out)
{
    if (p == NULL || out == NULL || p->master_secret == NULL || p->master_secret_len == 0 ||
        p->master_secret_len > PQCOAP_OSCORE_SECRET_MAX ||
        p->master_salt_len > PQCOAP_OSCORE_SECRET_MAX ||
        (p->master_salt_len > 0 && p->master_salt == NULL) ||
        (p->has_id_context && (p->id_context_len > PQCOAP_OSCORE_CTXID_MAX ||
                               (p->id_context_len > 0 && p->id_context == NULL))) ||
        (p->sender_id_len > 0 && p->sender_id == NULL) ||
        (p->recipient_id_len > 0 && p->recipient_id == NULL) ||
        p->replay_window == 0 || p->replay_window > PQCOAP_REPLAY_WINDOW)
        return PQCOAP_ERR_ARG;
    const pqcoap_cose_aead *alg = pqcoap_cose_aead_find(p->aead_alg);
    if (alg == NULL || p->hkdf_alg != PQCOAP_COSE_HKDF_SHA256)
        return PQCOAP_ERR_UNSUPPORTED;
    /* Section 3.3: an ID is at most nonce length - 6 bytes long. */
    size_t id_max = alg->nonce_len - 6;
    if (p->sender_id_len > id_max || p->recipient_id_len > id_max)
        return PQCOAP_ERR_ARG;
    memset(out, 0, sizeof *out);
    uint8_t prk[32];
    pqcoap_span ikm = {p->master_secret, p->master_secret_len};
    pqcoap_err err = pqcoap_hkdf_extract(p->master_salt, p->master_salt_len, &ikm, 1, prk);
    if (err == PQCOAP_OK)
        err = derive_one(prk, p, p->sender_id, p->sender_id_len, "Key", out->sender_key,
                         alg->key_len);
    if (err == PQCOAP_OK)
        err = derive_one(prk, p, p->recipient_id, p->recipient_id_len, "Key",
                         out->recipient_key, alg->key_len);
    if (err == PQCOAP_OK)
        err = derive_one(prk, p, NULL, 0, "IV", out->common_iv, alg->nonce_len);
    pqcoap_wipe(prk, sizeof prk);
    /* The keys are fixed for the life of the context: their AEAD state is made once. */
    if (err == PQCOAP_OK)
        err = pqcoap_cose_key_set(aead_key(&out->sender_aead), alg, out->sender_key);
    if (err == PQCOAP_OK)
        err = pqcoap_cose_key_set(aead_key(&out->recipient_aead), alg, out->recipient_key);
    if (err != PQCOAP_OK) {
        pqcoap_oscore_wipe(out);
        return err;
    }
    out->aead_alg = p->aead_alg;
    out->has_id_context = p->has_id_context;
    out->id_context_len = p->has_id_context ? p->id_context_len : 0;
    if (out->id_context_len > 0)
        memcpy(out->id_context, p->id_context, out->id_context_len);
    out->sender_id_len = p->sender_id_len;
    if (p->sender_id_len > 0)
        memcpy(out->sender_id, p->sender_id, p->sender_id_len);
    out->recipient_id_len = p->recipient_id_len;
    if (p->recipient_id_len > 0)
        memcpy(out->recipient_id, p->recipient_id, p->recipient_id_len);
    out->window_size = p->replay_window;
    out->window_valid = 1;
    return PQCOAP_OK;
}

void pqcoap_oscore_wipe(pqcoap_oscore_ctx *ctx)
{
    if (ctx != NULL)
        pqcoap_wipe(ctx, sizeof *ctx);
}

/* ---- the OSCORE option (section 6.1) ---- */

pqcoap_err pqcoap_oscore_option_parse(const uint8_t *value, size_t len,
                                      pqcoap_oscore_option *out)
{
    if ((value == NULL && len > 0) || out == NULL)
        return PQCOAP_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return PQCOAP_OK; /* all flags zero: the option value is empty */
    if (len > 255)
        return PQCOAP_ERR_MALFORMED; /* section 2: the option is 0-255 bytes long */
    pqcoap_reader r;
    pqcoap_rd_init(&r, value, len);
    uint8_t flags;
    PQCOAP_TRY(pqcoap_rd_u8(&r, &flags));
    size_t n = flags & 0x07;
    if ((flags & 0xE0) != 0 || n > PQCOAP_OSCORE_PIV_MAX)
        return PQCOAP_ERR_MALFORMED; /* reserved bits, n = 6 or 7 */
    out->piv_len = n;
    if (pqcoap_rd_bytes(&r, n, &out->piv) != PQCOAP_OK)
        return PQCOAP_ERR_MALFORMED;
    if (flags & 0x10) {
        out->has_kid_context = 1;
        if (pqcoap_rd_str8(&r, &out->kid_context, &out->kid_context_len) != PQCOAP_OK)
            return PQCOAP_ERR_MALFORMED;
    }
    if (flags & 0x08) {
        out->has_kid = 1;
        out->kid_len = pqcoap_rd_left(&r);
        return pqcoap_rd_bytes(&r, out->kid_len, &out->kid);
    }
    return pqcoap_rd_end(&r);
}

/* Writes the option value: flags, Partial IV, kid context, kid (only those present). */
static void option_write(pqcoap_writer *w, const uint8_t *piv, size_t piv_len,
                         const uint8_t *kid, size_t kid_len, int has_kid,
                         const uint8_t *kid_ctx, size_t kid_ctx_len, int has_kid_ctx)
{
    uint8_t flags = (uint8_t)(piv_len | (has_kid ? 0x08 : 0) | (has_kid_ctx ? 0x10 : 0));
    if (flags == 0)
        return; /* section 6.1: all zero -> empty value */
    pqcoap_wr_u8(w, flags);
    pqcoap_wr_bytes(w, piv, piv_len);
    if (has_kid_ctx)
        pqcoap_wr_str8(w, kid_ctx, kid_ctx_len);
    if (has_kid)
        pqcoap_wr_bytes(w, kid, kid_len);
}

/* ---- nonce (section 5.2) and AAD (section 5.4) ---- */

/* Partial IV bytes of ssn: big-endian without leading zeros, at least one byte. */
static size_t piv_encode(uint64_t ssn, uint8_t piv[PQCOAP_OSCORE_PIV_MAX])
{
    size_t n = 1;
    while (n < PQCOAP_OSCORE_PIV_MAX && (ssn >> (8 * n)) != 0)
        n++;
    for (size_t i = 0; i < n; i++)
        piv[i] = (uint8_t)(ssn >> (8 * (n - 1 - i)));
    return n;
}

static uint64_t piv_value(const uint8_t *piv, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | piv[i];
    return v;
}

/* nonce = (u8 len(id) || id left-padded to nonce_len - 6 || piv left-padded to 5) XOR
 * Common IV. */
void pqcoap_oscore_nonce(const pqcoap_oscore_ctx *ctx, const uint8_t *id, size_t id_len,
                         const uint8_t *piv, size_t piv_len, uint8_t nonce[13])
{
    size_t nl = pqcoap_cose_aead_find(ctx->aead_alg)->nonce_len;
    memset(nonce, 0, nl);
    nonce[0] = (uint8_t)id_len;
    memcpy(nonce + 1 + (nl - 6 - id_len), id, id_len);
    memcpy(nonce + nl - piv_len, piv, piv_len);
    for (size_t i = 0; i < nl; i++)
        nonce[i] ^= ctx->common_iv[i];
}

/* Enc_structure = ["Encrypt0", h'', external_aad] with external_aad = bstr(aad_array),
 * aad_array = [1, [alg_aead], request_kid, request_piv, options = h''] (no Class I
 * options are defined). */
pqcoap_err pqcoap_oscore_aad(const pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *b,
                             uint8_t *aad, size_t cap, size_t *len)
{
    /* kid and Partial IV are shorter than 24 bytes: one-byte CBOR heads throughout */
    _Static_assert(PQCOAP_OSCORE_ID_MAX < 24 && PQCOAP_OSCORE_PIV_MAX < 24, "short heads");
    if (b->kid_len > PQCOAP_OSCORE_ID_MAX || b->piv_len > PQCOAP_OSCORE_PIV_MAX)
        return PQCOAP_ERR_BUFFER;
    uint8_t arr[8 + PQCOAP_OSCORE_ID_MAX + PQCOAP_OSCORE_PIV_MAX];
    size_t n = 0;
    arr[n++] = 0x85; /* [1, [alg_aead], request_kid, request_piv, options] */
    arr[n++] = 0x01;
    arr[n++] = 0x81;
    int alg = ctx->aead_alg; /* CBOR int, in one or two bytes (COSE AEAD ids) */
    uint64_t v = alg >= 0 ? (uint64_t)alg : (uint64_t)(-1 - (int64_t)alg);
    uint8_t major = alg >= 0 ? 0x00 : 0x20;
    if (v >= 256)
        return PQCOAP_ERR_UNSUPPORTED;
    if (v < 24) {
        arr[n++] = (uint8_t)(major | v);
    } else {
        arr[n++] = (uint8_t)(major | 24);
        arr[n++] = (uint8_t)v;
    }
    arr[n++] = (uint8_t)(0x40 | b->kid_len);
    memcpy(arr + n, b->kid, b->kid_len);
    n += b->kid_len;
    arr[n++] = (uint8_t)(0x40 | b->piv_len);
    memcpy(arr + n, b->piv, b->piv_len);
    n += b->piv_len;
    arr[n++] = 0x40;
    /* ["Encrypt0", h'', bstr(arr)]; arr is shorter than 24 bytes too */
    static const uint8_t head[] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};
    if (cap < sizeof head + 1 + n)
        return PQCOAP_ERR_BUFFER;
    memcpy(aad, head, sizeof head);
    aad[sizeof head] = (uint8_t)(0x40 | n);
    memcpy(aad + sizeof head + 1, arr, n);
    *len = sizeof head + 1 + n;
    return PQCOAP_OK;
}

/* ---- option classes (section 4.1, RFC 9175 for Echo and Request-Tag) ---- */

char pqcoap_oscore_opt_class(uint16_t number)
{
    switch (number) {
    case PQCOAP_OPT_URI_HOST: case PQCOAP_OPT_URI_PORT: case PQCOAP_OPT_OSCORE:
    case PQCOAP_OPT_PROXY_URI: case PQCOAP_OPT_PROXY_SCHEME:
        return 'U';
    case PQCOAP_OPT_OBSERVE: case PQCOAP_OPT_MAX_AGE: case PQCOAP_OPT_BLOCK2:
    case PQCOAP_OPT_BLOCK1: case PQCOAP_OPT_SIZE2: case PQCOAP_OPT_SIZE1:
    case 258: /* No-Response */
        return 'B';
    default:
        return 'E';
    }
}

/* Inner options: Class E, and the inner value of those of both classes. */
static int is_inner(uint16_t number)
{
    return pqcoap_oscore_opt_class(number) != 'U';
}

/* Outer options of a protected message built here: Class U (never a second OSCORE
 * option), and Observe, whose outer copy lets proxies relay notifications (4.1.3.5). */
static int is_outer(uint16_t number)
{
    return (pqcoap_oscore_opt_class(number) == 'U' && number != PQCOAP_OPT_OSCORE) ||
           number == PQCOAP_OPT_OBSERVE;
}

static int has_observe(const pqcoap_msg *m)
{
    for (size_t i = 0; i < m->n_opts; i++)
        if (m->opts[i].number == PQCOAP_OPT_OBSERVE)
            return 1;
    return 0;
}

/* ---- protection (sections 8.1, 8.3) ---- */

/* Seals `in` as a protected message with option value opt[0..opt_len) (already at the
 * start of room->buf), nonce and binding; *out gets code `code`, the outer options of `in`
 * with the OSCORE option in order, and the ciphertext as payload. */
static pqcoap_err seal(const pqcoap_oscore_ctx *ctx, const pqcoap_cose_aead *alg,
                       const uint8_t nonce[PQCOAP_COSE_NONCE_MAX],
                       const pqcoap_oscore_binding *bind, size_t opt_len, uint8_t code,
                       const pqcoap_msg *in, int notification, const pqcoap_oscore_out *room,
                       pqcoap_msg *out)
{
    /* Plaintext (section 5.3): code || inner options || 0xFF || payload. */
    pqcoap_writer w;
    pqcoap_wr_init(&w, room->buf + opt_len, room->cap - opt_len);
    pqcoap_wr_u8(&w, in->code);
    const pqcoap_opt *inner = in->opts;
    if (notification) {
        /* section 4.1.3.5.2: the inner Observe of a notification is empty; the outer one
         * keeps the value (room->opts holds the inner list until the outer one is made) */
        if (in->n_opts > room->opts_cap)
            return PQCOAP_ERR_BUFFER;
        for (size_t i = 0; i < in->n_opts; i++) {
            room->opts[i] = in->opts[i];
            if (in->opts[i].number == PQCOAP_OPT_OBSERVE)
                room->opts[i].len = 0;
        }
        inner = room->opts;
    }
    PQCOAP_TRY(pqcoap_coapopt_write(&w, inner, in->n_opts, is_inner));
    if (in->payload_len > 0) {
        pqcoap_wr_u8(&w, 0xFF);
        pqcoap_wr_bytes(&w, in->payload, in->payload_len);
    }
    uint8_t *pt = room->buf + opt_len;
    size_t pt_len = w.len;
    if (pqcoap_wr_reserve(&w, alg->tag_len) == NULL || w.err != PQCOAP_OK)
        return PQCOAP_ERR_BUFFER;
    uint8_t aad[AAD_MAX];
    size_t aad_len;
    PQCOAP_TRY(pqcoap_oscore_aad(ctx, bind, aad, sizeof aad, &aad_len));
    PQCOAP_TRY(pqcoap_cose_key_seal(aead_key_c(&ctx->sender_aead), nonce, aad, aad_len, pt,
                                    pt_len, pt));
    /* Outer options in order, the OSCORE option (9) among them. */
    size_t n = 0;
    int oscore_done = 0;
    for (size_t i = 0; i <= in->n_opts; i++) {
        const pqcoap_opt *o = i < in->n_opts ? &in->opts[i] : NULL;
        if (!oscore_done && (o == NULL || o->number > PQCOAP_OPT_OSCORE)) {
            if (n == room->opts_cap)
                return PQCOAP_ERR_BUFFER;
            room->opts[n++] = (pqcoap_opt){PQCOAP_OPT_OSCORE, room->buf, opt_len};
            oscore_done = 1;
        }
        if (o != NULL && is_outer(o->number)) {
            if (n == room->opts_cap)
                return PQCOAP_ERR_BUFFER;
            room->opts[n++] = *o;
        }
    }
    *out = (pqcoap_msg){code, in->token, in->token_len, room->opts, n, pt,
                        pt_len + alg->tag_len};
    return PQCOAP_OK;
}

static pqcoap_err check_args(const pqcoap_oscore_ctx *ctx, const pqcoap_msg *in,
                             const pqcoap_oscore_out *room, const pqcoap_msg *out,
                             const pqcoap_cose_aead **alg)
{
    if (ctx == NULL || in == NULL || room == NULL || out == NULL || room->buf == NULL ||
        room->opts == NULL || (in->n_opts > 0 && in->opts == NULL) ||
        (in->payload_len > 0 && in->payload == NULL))
        return PQCOAP_ERR_ARG;
    *alg = pqcoap_cose_aead_find(ctx->aead_alg);
    /* a context derived (keyed for its algorithm), not wiped */
    return *alg != NULL && aead_key_c(&ctx->sender_aead)->alg == *alg &&
                   aead_key_c(&ctx->recipient_aead)->alg == *alg
               ? PQCOAP_OK
               : PQCOAP_ERR_ARG;
}

pqcoap_err pqcoap_oscore_protect_request(const pqcoap_oscore_ctx *ctx, uint64_t ssn,
                                         int send_kid_context, const pqcoap_msg *in,
                                         const pqcoap_oscore_out *room, pqcoap_msg *out,
                                         pqcoap_oscore_binding *bind)
{
    const pqcoap_cose_aead *alg;
    PQCOAP_TRY(check_args(ctx, in, room, out, &alg));
    if (bind == NULL)
        return PQCOAP_ERR_ARG;
    if (ssn > PQCOAP_OSCORE_SSN_MAX)
        return PQCOAP_ERR_LIMIT; /* section 7.2.1: the context must be renewed */
    pqcoap_oscore_binding b;
    b.piv_len = piv_encode(ssn, b.piv);
    b.kid_len = ctx->sender_id_len;
    memcpy(b.kid, ctx->sender_id, ctx->sender_id_len);
    pqcoap_writer w;
    pqcoap_wr_init(&w, room->buf, room->cap);
    option_write(&w, b.piv, b.piv_len, b.kid, b.kid_len, 1, ctx->id_context,
                 ctx->id_context_len, send_kid_context && ctx->has_id_context);
    if (w.err != PQCOAP_OK)
        return PQCOAP_ERR_BUFFER;
    uint8_t nonce[PQCOAP_COSE_NONCE_MAX];
    pqcoap_oscore_nonce(ctx, ctx->sender_id, ctx->sender_id_len, b.piv, b.piv_len, nonce);
    PQCOAP_TRY(seal(ctx, alg, nonce, &b, w.len, has_observe(in) ? CODE_FETCH : CODE_POST, in, 0,
                    room, out));
    *bind = b;
    return PQCOAP_OK;
}

/* Protects a response, with its own Partial IV ssn when with_piv; a notification gets an
 * empty inner Observe. */
static pqcoap_err protect_resp(const pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *bind,
                               int with_piv, uint64_t ssn, const pqcoap_msg *in,
                               int notification, const pqcoap_oscore_out *room, pqcoap_msg *out)
{
    const pqcoap_cose_aead *alg;
    PQCOAP_TRY(check_args(ctx, in, room, out, &alg));
    if (bind == NULL || bind->kid_len > PQCOAP_OSCORE_ID_MAX ||
        bind->piv_len > PQCOAP_OSCORE_PIV_MAX)
        return PQCOAP_ERR_ARG;
    if (with_piv && ssn > PQCOAP_OSCORE_SSN_MAX)
        return PQCOAP_ERR_LIMIT;
    uint8_t piv[PQCOAP_OSCORE_PIV_MAX];
    size_t piv_len = with_piv ? piv_encode(ssn, piv) : 0;
    pqcoap_writer w;
    pqcoap_wr_init(&w, room->buf, room->cap);
    option_write(&w, piv, piv_len, NULL, 0, 0, NULL, 0, 0);
    if (w.err != PQCOAP_OK)
        return PQCOAP_ERR_BUFFER;
    /* Section 5.2 / 8.3: a response with its own Partial IV uses the server's Sender ID
     * and it; otherwise the request's nonce (the client's ID and the request's PIV). */
    uint8_t nonce[PQCOAP_COSE_NONCE_MAX];
    if (with_piv)
        pqcoap_oscore_nonce(ctx, ctx->sender_id, ctx->sender_id_len, piv, piv_len, nonce);
    else
        pqcoap_oscore_nonce(ctx, bind->kid, bind->kid_len, bind->piv, bind->piv_len, nonce);
    return seal(ctx, alg, nonce, bind, w.len, has_observe(in) ? CODE_CONTENT : CODE_CHANGED,
                in, notification, room, out);
}

pqcoap_err pqcoap_oscore_protect_response(const pqcoap_oscore_ctx *ctx,
                                          const pqcoap_oscore_binding *bind, int with_piv,
                                          uint64_t ssn, const pqcoap_msg *in,
                                          const pqcoap_oscore_out *room, pqcoap_msg *out)
{
    return protect_resp(ctx, bind, with_piv, ssn, in, 0, room, out);
}

pqcoap_err pqcoap_oscore_protect_notification(const pqcoap_oscore_ctx *ctx,
                                              const pqcoap_oscore_binding *bind, uint64_t ssn,
                                              const pqcoap_msg *in,
                                              const pqcoap_oscore_out *room, pqcoap_msg *out)
{
    /* section 4.1.3.5.2: every notification carries a Partial IV of its own */
    return protect_resp(ctx, bind, 1, ssn, in, 1, room, out);
}

/* ---- verification (sections 8.2, 8.4) ---- */

/* Opens the payload of protected message `in` into room->buf and fills *out with the inner
 * code, the outer Class U options of `in` merged in order with the inner options, and the
 * inner payload. An outer option of another class is not passed on (section 4.1). */
static pqcoap_err open_msg(const pqcoap_oscore_ctx *ctx, const pqcoap_cose_aead *alg,
                           const uint8_t nonce[PQCOAP_COSE_NONCE_MAX],
                           const pqcoap_oscore_binding *bind, const pqcoap_msg *in,
                           const pqcoap_oscore_out *room, pqcoap_msg *out)
{
    if (in->payload_len < alg->tag_len + 1)
        return PQCOAP_ERR_MALFORMED; /* at least the code and the tag */
    size_t pt_len = in->payload_len - alg->tag_len;
    if (pt_len > room->cap)
        return PQCOAP_ERR_BUFFER;
    uint8_t aad[AAD_MAX];
    size_t aad_len;
    PQCOAP_TRY(pqcoap_oscore_aad(ctx, bind, aad, sizeof aad, &aad_len));
    PQCOAP_TRY(pqcoap_cose_key_open(aead_key_c(&ctx->recipient_aead), nonce, aad, aad_len,
                                    in->payload, in->payload_len, room->buf));
    /* Inner options go to the end of room->opts, then are merged with the outer ones from
     * the start; the merge never overtakes the inner entries it still has to read. */
    pqcoap_reader r;
    pqcoap_rd_init(&r, room->buf, pt_len);
    uint8_t code;
    size_t n_outer = 0, n_inner;
    const uint8_t *payload;
    size_t payload_len;
    for (size_t i = 0; i < in->n_opts; i++)
        n_outer += pqcoap_oscore_opt_class(in->opts[i].number) == 'U' &&
                   in->opts[i].number != PQCOAP_OPT_OSCORE;
    if (n_outer > room->opts_cap)
        return PQCOAP_ERR_BUFFER;
    pqcoap_opt *inner = room->opts + n_outer;
    pqcoap_err err = pqcoap_rd_u8(&r, &code);
    if (err == PQCOAP_OK)
        err = pqcoap_coapopt_read(&r, inner, room->opts_cap - n_outer, &n_inner, &payload,
                                  &payload_len);
    if (err != PQCOAP_OK) {
        pqcoap_wipe(room->buf, pt_len);
        return err == PQCOAP_ERR_LIMIT ? PQCOAP_ERR_BUFFER : PQCOAP_ERR_MALFORMED;
    }
    size_t n = 0, j = 0;
    for (size_t i = 0; i < in->n_opts; i++) {
        const pqcoap_opt *o = &in->opts[i];
        if (pqcoap_oscore_opt_class(o->number) != 'U' || o->number == PQCOAP_OPT_OSCORE)
            continue;
        while (j < n_inner && inner[j].number < o->number)
            room->opts[n++] = inner[j++];
        room->opts[n++] = *o;
    }
    while (j < n_inner)
        room->opts[n++] = inner[j++];
    *out = (pqcoap_msg){code, in->token, in->token_len, room->opts, n, payload, payload_len};
    return PQCOAP_OK;
}

static int window_check(const pqcoap_oscore_ctx *ctx, uint64_t seq)
{
    const pqcoap_replay_window *w = &ctx->window;
    if (w->bitmap != 0 && seq <= w->top && w->top - seq >= ctx->window_size)
        return 0;
    return pqcoap_replay_check(w, seq) == PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_unprotect_request(pqcoap_oscore_ctx *ctx, const pqcoap_msg *in,
                                           const pqcoap_oscore_option *opt,
                                           const pqcoap_oscore_out *room, pqcoap_msg *out,
                                           pqcoap_oscore_binding *bind)
{
    const pqcoap_cose_aead *alg;
    PQCOAP_TRY(check_args(ctx, in, room, out, &alg));
    if (opt == NULL || bind == NULL)
        return PQCOAP_ERR_ARG;
    /* Section 8.2 step 2: a request without kid or Partial IV cannot be processed. */
    if (!opt->has_kid || opt->piv_len == 0 || opt->kid_len > PQCOAP_OSCORE_ID_MAX)
        return PQCOAP_ERR_MALFORMED;
    /* The caller found ctx by kid and kid context; a context of another peer is refused. */
    if (opt->kid_len != ctx->recipient_id_len ||
        memcmp(opt->kid, ctx->recipient_id, opt->kid_len) != 0 ||
        (opt->has_kid_context &&
         (!ctx->has_id_context || opt->kid_context_len != ctx->id_context_len ||
          memcmp(opt->kid_context, ctx->id_context, opt->kid_context_len) != 0)))
        return PQCOAP_ERR_UNKNOWN_PEER;
    uint64_t seq = piv_value(opt->piv, opt->piv_len);
    if (ctx->window_valid && !window_check(ctx, seq))
        return PQCOAP_ERR_REPLAY;
    pqcoap_oscore_binding b;
    b.kid_len = opt->kid_len;
    memcpy(b.kid, opt->kid, opt->kid_len);
    b.piv_len = opt->piv_len;
    memcpy(b.piv, opt->piv, opt->piv_len);
    uint8_t nonce[PQCOAP_COSE_NONCE_MAX];
    pqcoap_oscore_nonce(ctx, b.kid, b.kid_len, b.piv, b.piv_len, nonce);
    PQCOAP_TRY(open_msg(ctx, alg, nonce, &b, in, room, out));
    *bind = b;
    if (!ctx->window_valid)
        return PQCOAP_ERR_STATE; /* Appendix B.1.2: the caller checks Echo first */
    return pqcoap_replay_update(&ctx->window, seq);
}

pqcoap_err pqcoap_oscore_window_init(pqcoap_oscore_ctx *ctx, const pqcoap_oscore_binding *bind)
{
    if (ctx == NULL || bind == NULL || bind->piv_len == 0 ||
        bind->piv_len > PQCOAP_OSCORE_PIV_MAX)
        return PQCOAP_ERR_ARG;
    ctx->window.top = piv_value(bind->piv, bind->piv_len);
    ctx->window.bitmap = 1;
    ctx->window_valid = 1;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_oscore_unprotect_response(const pqcoap_oscore_ctx *ctx,
                                            const pqcoap_oscore_binding *bind,
                                            const pqcoap_msg *in,
                                            const pqcoap_oscore_option *opt,
                                            const pqcoap_oscore_out *room, pqcoap_msg *out)
{
    const pqcoap_cose_aead *alg;
    PQCOAP_TRY(check_args(ctx, in, room, out, &alg));
    if (opt == NULL || bind == NULL || bind->kid_len > PQCOAP_OSCORE_ID_MAX ||
        bind->piv_len > PQCOAP_OSCORE_PIV_MAX)
        return PQCOAP_ERR_ARG;
    uint8_t nonce[PQCOAP_COSE_NONCE_MAX];
    if (opt->piv_len > 0)
        pqcoap_oscore_nonce(ctx, ctx->recipient_id, ctx->recipient_id_len, opt->piv,
                   opt->piv_len, nonce);
    else
        pqcoap_oscore_nonce(ctx, bind->kid, bind->kid_len, bind->piv, bind->piv_len, nonce);
    return open_msg(ctx, alg, nonce, bind, in, room, out);
}

pqcoap_err pqcoap_oscore_unprotect_notification(const pqcoap_oscore_ctx *ctx,
                                                const pqcoap_oscore_binding *bind,
                                                const pqcoap_msg *in,
                                                const pqcoap_oscore_option *opt, int seen,
                                                uint64_t number, const pqcoap_oscore_out *room,
                                                pqcoap_msg *out, uint64_t *piv)
{
    if (opt == NULL || piv == NULL)
        return PQCOAP_ERR_ARG;
    /* Sections 4.1.3.5.2 and 7.4.1: a notification carries its own Partial IV, and only
     * one above the Notification Number is fresh; one without (the request's nonce) is
     * the oldest of all. Refused before any decryption. */
    if (opt->piv_len == 0)
        return PQCOAP_ERR_REPLAY;
    uint64_t p = piv_value(opt->piv, opt->piv_len);
    if (seen && p <= number)
        return PQCOAP_ERR_REPLAY;
    PQCOAP_TRY(pqcoap_oscore_unprotect_response(ctx, bind, in, opt, room, out));
    *piv = p;
    return PQCOAP_OK;
}

uint8_t pqcoap_oscore_error_code(pqcoap_err err, const char **diag)
{
    const char *d = NULL;
    uint8_t code;
    switch (err) {
    case PQCOAP_OK: code = 0; break;
    case PQCOAP_ERR_MALFORMED: code = PQCOAP_CODE(4, 2); break; /* 8.2 step 2: Bad Option */
    case PQCOAP_ERR_UNKNOWN_PEER: code = PQCOAP_CODE(4, 1); d = "Security context not found"; break;
    case PQCOAP_ERR_REPLAY: code = PQCOAP_CODE(4, 1); d = "Replay detected"; break;
    case PQCOAP_ERR_AUTH: code = PQCOAP_CODE(4, 0); d = "Decryption failed"; break;
    default: code = PQCOAP_CODE(5, 0); break;
    }
    if (diag != NULL)
        *diag = d;
    return code;
}
