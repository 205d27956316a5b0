/* Mode B handshake (PROTOCOL.md "Handshake"): INIT and RESP as a table of message handlers
 * (encode / decode / verify), the initiator's start and finish, and the responder's side. */
#include "core/session_internal.h"
#include "common/buf_internal.h"

#include <string.h>

_Static_assert(PQCOAP_INIT_MAX >= 2 + 2 * (1 + PQCOAP_ID_MAX) + 8 + 8 + PQCOAP_NONCE_I_LEN
               + 2 + PQCOAP_KEM_PK_MAX + PQCOAP_X25519_LEN + 2 + PQCOAP_SIG_MAX,
               "PQCOAP_INIT_MAX too small");
_Static_assert(PQCOAP_RESP_MAX >= 2 + 4 + 4 + 4 + 2 + PQCOAP_KEM_CT_MAX + PQCOAP_X25519_LEN
               + 2 + PQCOAP_SIG_MAX, "PQCOAP_RESP_MAX too small");
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

/* ---- message bodies: the fields between "u8 version || u8 suite" and str16(sig) ---- */

static void init_encode_body(pqcoap_writer *w, const void *view)
{
    const pqcoap_init_view *v = view;
    pqcoap_wr_str8(w, v->initiator_id, v->initiator_id_len);
    pqcoap_wr_str8(w, v->responder_id, v->responder_id_len);
    pqcoap_wr_u64(w, v->session_seq);
    pqcoap_wr_u64(w, v->timestamp_ms);
    pqcoap_wr_bytes(w, v->nonce_i, PQCOAP_NONCE_I_LEN);
    pqcoap_wr_str16(w, v->kem_pk, v->suite->kem->pk_len);
    pqcoap_wr_bytes(w, v->x25519_pk, PQCOAP_X25519_LEN);
}

static pqcoap_err init_decode_body(pqcoap_reader *r, const pqcoap_suite *suite, void *view)
{
    pqcoap_init_view *v = view;
    size_t kem_pk_len;
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
    if (kem_pk_len != suite->kem->pk_len)
        return PQCOAP_ERR_MALFORMED;
    return pqcoap_rd_bytes(r, PQCOAP_X25519_LEN, &v->x25519_pk);
}

static void resp_encode_body(pqcoap_writer *w, const void *view)
{
    const pqcoap_resp_view *v = view;
    pqcoap_wr_u32(w, v->sid);
    pqcoap_wr_u32(w, v->lifetime_s);
    pqcoap_wr_u32(w, v->max_msgs);
    pqcoap_wr_str16(w, v->kem_ct, v->suite->kem->ct_len);
    pqcoap_wr_bytes(w, v->x25519_pk, PQCOAP_X25519_LEN);
}

static pqcoap_err resp_decode_body(pqcoap_reader *r, const pqcoap_suite *suite, void *view)
{
    pqcoap_resp_view *v = view;
    size_t kem_ct_len;
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->sid));
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->lifetime_s));
    PQCOAP_TRY(pqcoap_rd_u32(r, &v->max_msgs));
    if (v->sid == 0 || v->lifetime_s == 0 || v->max_msgs == 0) /* sid is never 0 */
        return PQCOAP_ERR_MALFORMED;
    PQCOAP_TRY(pqcoap_rd_str16(r, &v->kem_ct, &kem_ct_len));
    if (kem_ct_len != suite->kem->ct_len)
        return PQCOAP_ERR_MALFORMED;
    return pqcoap_rd_bytes(r, PQCOAP_X25519_LEN, &v->x25519_pk);
}

/* ---- the handler table and the code shared by both messages ---- */

enum { HS_INIT, HS_RESP };

typedef struct hs_handler {
    const char *label;        /* signature context string */
    int binds_init;           /* the signature also covers SHA-256(INIT) */
    void (*encode_body)(pqcoap_writer *w, const void *view);
    pqcoap_err (*decode_body)(pqcoap_reader *r, const pqcoap_suite *suite, void *view);
} hs_handler;

/* sig_i over "pqcoap v1 init" || INIT before sig_i;
 * sig_r over "pqcoap v1 resp" || SHA-256(INIT) || RESP before sig_r */
static const hs_handler HS[] = {
    [HS_INIT] = {"pqcoap v1 init", 0, init_encode_body, init_decode_body},
    [HS_RESP] = {"pqcoap v1 resp", 1, resp_encode_body, resp_decode_body},
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

/* Writes u8 version || u8 suite || body || str16(signature) into out[0..cap). */
static pqcoap_err hs_encode(int kind, const void *view, const pqcoap_suite *suite,
                            const uint8_t *sk, const uint8_t *init_hash,
                            const pqcoap_rng *rng, uint8_t *out, size_t cap, size_t *out_len)
{
    pqcoap_writer w;
    pqcoap_wr_init(&w, out, cap);
    pqcoap_wr_u8(&w, PQCOAP_PROTOCOL_VERSION);
    pqcoap_wr_u8(&w, suite->id);
    HS[kind].encode_body(&w, view);
    if (w.err != PQCOAP_OK)
        return w.err;
    pqcoap_span span[3];
    size_t n = hs_signed_input(kind, out, w.len, init_hash, span);
    uint8_t sig[PQCOAP_SIG_MAX];
    size_t sig_len = 0;
    PQCOAP_TRY(suite->sig->sign(rng, sk, span, n, sig, &sig_len));
    pqcoap_wr_str16(&w, sig, sig_len);
    if (w.err != PQCOAP_OK)
        return w.err;
    *out_len = w.len;
    return PQCOAP_OK;
}

/* Strict decode of a whole message: version 1, a known suite, the body, a signature of
 * 1..sig_max bytes, nothing trailing. */
static pqcoap_err hs_decode(int kind, const uint8_t *in, size_t len, void *view,
                            const pqcoap_suite **suite, pqcoap_hs_sig *sig)
{
    pqcoap_reader r;
    uint8_t version, suite_id;
    if (!in || !view)
        return PQCOAP_ERR_ARG;
    pqcoap_rd_init(&r, in, len);
    PQCOAP_TRY(pqcoap_rd_u8(&r, &version));
    PQCOAP_TRY(pqcoap_rd_u8(&r, &suite_id));
    if (version != PQCOAP_PROTOCOL_VERSION)
        return PQCOAP_ERR_UNSUPPORTED;
    *suite = pqcoap_suite_find(suite_id);
    if (!*suite)
        return PQCOAP_ERR_UNSUPPORTED;
    PQCOAP_TRY(HS[kind].decode_body(&r, *suite, view));
    sig->signed_len = r.pos;
    PQCOAP_TRY(pqcoap_rd_str16(&r, &sig->sig, &sig->sig_len));
    if (sig->sig_len == 0 || sig->sig_len > (*suite)->sig->sig_max)
        return PQCOAP_ERR_MALFORMED;
    return pqcoap_rd_end(&r);
}

static pqcoap_err hs_verify(int kind, const uint8_t *msg, const pqcoap_suite *suite,
                            const pqcoap_hs_sig *sig, const uint8_t *pk,
                            const uint8_t *init_hash)
{
    pqcoap_span span[3];
    size_t n = hs_signed_input(kind, msg, sig->signed_len, init_hash, span);
    return suite->sig->verify(pk, span, n, sig->sig, sig->sig_len) == PQCOAP_OK
        ? PQCOAP_OK : PQCOAP_ERR_AUTH;
}

pqcoap_err pqcoap_init_decode(const uint8_t *in, size_t len, pqcoap_init_view *v)
{
    return v ? hs_decode(HS_INIT, in, len, v, &v->suite, &v->sig) : PQCOAP_ERR_ARG;
}

pqcoap_err pqcoap_resp_decode(const uint8_t *in, size_t len, pqcoap_resp_view *v)
{
    return v ? hs_decode(HS_RESP, in, len, v, &v->suite, &v->sig) : PQCOAP_ERR_ARG;
}

static pqcoap_err sha256_of(const uint8_t *p, size_t n, uint8_t out[32])
{
    const pqcoap_span span = {p, n};
    return pqcoap_sha256(&span, 1, out);
}

/* Length of a NUL-terminated id if it is a valid id, else 0. */
static size_t id_len_of(const char *id)
{
    if (!id)
        return 0;
    size_t n = strnlen(id, PQCOAP_ID_MAX + 1);
    return pqcoap_id_valid((const uint8_t *)id, n) ? n : 0;
}

/* ---- initiator ---- */

void pqcoap_initiator_wipe(pqcoap_initiator *st)
{
    if (st)
        pqcoap_wipe(st, sizeof *st);
}

pqcoap_err pqcoap_initiator_start(pqcoap_initiator *st, const pqcoap_initiator_cfg *cfg,
                                  uint64_t session_seq, uint64_t timestamp_ms,
                                  const pqcoap_rng *rng, uint8_t *out, size_t cap,
                                  size_t *out_len)
{
    if (!st || !cfg || !out || !out_len || !cfg->sk || !cfg->responder_pk)
        return PQCOAP_ERR_ARG;
    const pqcoap_suite *suite = pqcoap_suite_find(cfg->suite);
    if (!suite)
        return PQCOAP_ERR_UNSUPPORTED;
    size_t id_len = id_len_of(cfg->id), rid_len = id_len_of(cfg->responder_id);
    if (!id_len || !rid_len || session_seq == 0 || cfg->sk_len != suite->sig->sk_len
        || cfg->responder_pk_len != suite->sig->pk_len || cfg->window == 0
        || cfg->window > PQCOAP_WINDOW_MAX)
        return PQCOAP_ERR_ARG;
    /* key separation: a sign-v1 key signs bare messages, so it never signs or verifies a
     * handshake (a RESP "signed" through a sign-v1 endpoint would verify) */
    if (cfg->usage != PQCOAP_USAGE_GENERAL || cfg->responder_usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE;

    pqcoap_initiator_wipe(st);
    uint8_t kem_pk[PQCOAP_KEM_PK_MAX], x25519_pk[PQCOAP_X25519_LEN], nonce_i[PQCOAP_NONCE_I_LEN];
    pqcoap_err err = suite->kem->keygen(rng, kem_pk, st->kem_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_keygen(rng, x25519_pk, st->x25519_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_random(rng, nonce_i, sizeof nonce_i);
    if (err == PQCOAP_OK) {
        const pqcoap_init_view v = {
            .suite = suite,
            .initiator_id = (const uint8_t *)cfg->id, .initiator_id_len = id_len,
            .responder_id = (const uint8_t *)cfg->responder_id, .responder_id_len = rid_len,
            .session_seq = session_seq, .timestamp_ms = timestamp_ms,
            .nonce_i = nonce_i, .kem_pk = kem_pk, .x25519_pk = x25519_pk,
        };
        err = hs_encode(HS_INIT, &v, suite, cfg->sk, NULL, rng, st->init, sizeof st->init,
                        &st->init_len);
    }
    if (err == PQCOAP_OK && cap < st->init_len)
        err = PQCOAP_ERR_BUFFER;
    if (err != PQCOAP_OK) {
        pqcoap_initiator_wipe(st);
        return err;
    }
    memcpy(out, st->init, st->init_len);
    *out_len = st->init_len;
    memcpy(st->responder_pk, cfg->responder_pk, cfg->responder_pk_len);
    st->responder_pk_len = cfg->responder_pk_len;
    st->suite = suite->id;
    st->window = cfg->window;
    st->started = 1;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_initiator_finish(pqcoap_initiator *st, const uint8_t *resp, size_t resp_len,
                                   uint64_t now_ms, pqcoap_session *out)
{
    if (!st || !resp || !out)
        return PQCOAP_ERR_ARG;
    if (!st->started)
        return PQCOAP_ERR_STATE;
    pqcoap_resp_view v;
    PQCOAP_TRY(pqcoap_resp_decode(resp, resp_len, &v));
    if (v.suite->id != st->suite)
        return PQCOAP_ERR_MALFORMED; /* the RESP must use the INIT's suite */
    uint8_t init_hash[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(sha256_of(st->init, st->init_len, init_hash));
    /* only after sig_r verifies against the pinned key does the initiator decapsulate */
    PQCOAP_TRY(hs_verify(HS_RESP, resp, v.suite, &v.sig, st->responder_pk, init_hash));

    uint8_t kem_ss[PQCOAP_KEM_SS_LEN], x25519_ss[PQCOAP_X25519_LEN], c2s[32], s2c[32];
    pqcoap_err err = v.suite->kem->decaps(st->kem_sk, v.kem_ct, kem_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_derive(st->x25519_sk, v.x25519_pk, x25519_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_key_schedule(st->init, st->init_len, resp, resp_len, kem_ss, x25519_ss,
                                  c2s, s2c);
    if (err == PQCOAP_OK) {
        pqcoap_session_setup(out, 1, st->suite, v.sid, v.max_msgs,
                             pqcoap_expiry(now_ms, v.lifetime_s), c2s, s2c, st->window);
        pqcoap_initiator_wipe(st); /* ephemeral secrets are done */
    }
    pqcoap_wipe(kem_ss, sizeof kem_ss);
    pqcoap_wipe(x25519_ss, sizeof x25519_ss);
    pqcoap_wipe(c2s, sizeof c2s);
    pqcoap_wipe(s2c, sizeof s2c);
    return err;
}

/* ---- responder ---- */

/* The trusted key of initiator `id` for `suite`. Unknown, or a key of another algorithm:
 * PQCOAP_ERR_UNKNOWN_PEER; a sign-v1 key: PQCOAP_ERR_KEY_USAGE. */
static pqcoap_err trusted_key(const pqcoap_responder *r, const char *id,
                              const pqcoap_suite *suite, pqcoap_peer *peer)
{
    pqcoap_err err = pqcoap_store_peer_by_id(r->cfg.store, id, peer);
    if (err == PQCOAP_ERR_NOT_FOUND)
        return PQCOAP_ERR_UNKNOWN_PEER;
    if (err != PQCOAP_OK)
        return err;
    if (strcmp(peer->alg, suite->sig->name) != 0 || peer->pk_len != suite->sig->pk_len)
        return PQCOAP_ERR_UNKNOWN_PEER;
    /* key separation: a sign-v1 key is refused before its signature is looked at */
    if (peer->usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_peer_trusted(const pqcoap_responder *r, const char *peer_id,
                                         const uint8_t pk_hash[32])
{
    if (!r || !peer_id || !pk_hash)
        return PQCOAP_ERR_ARG;
    const pqcoap_suite *suite = pqcoap_suite_find(r->cfg.suite);
    pqcoap_peer peer;
    uint8_t hash[PQCOAP_SHA256_LEN];
    if (!suite)
        return PQCOAP_ERR_ARG;
    PQCOAP_TRY(trusted_key(r, peer_id, suite, &peer));
    PQCOAP_TRY(sha256_of(peer.pk, peer.pk_len, hash));
    return pqcoap_ct_equal(hash, pk_hash, sizeof hash) ? PQCOAP_OK : PQCOAP_ERR_UNKNOWN_PEER;
}

/* The anti-rollback floor of initiator `id`; none yet: 0, below every session_seq >= 1. */
static pqcoap_err floor_of(const pqcoap_responder *r, const char *id, pqcoap_floor *floor)
{
    pqcoap_err err = pqcoap_store_floor_get(r->cfg.store, id, floor);
    if (err == PQCOAP_ERR_NOT_FOUND) {
        memset(floor, 0, sizeof *floor);
        return PQCOAP_OK;
    }
    return err;
}

/* Keeps a RESP for retransmissions of its INIT: in an empty entry, else in one whose
 * session has ended, else in place of the oldest. */
static void cache_resp(pqcoap_responder *r, uint64_t serial, const uint8_t init_hash[32],
                       const uint8_t *resp, size_t resp_len)
{
    pqcoap_resp_cache *pick = &r->cache[0];
    for (size_t i = 0; i < PQCOAP_RESP_CACHE_SLOTS; i++) {
        pqcoap_resp_cache *c = &r->cache[i];
        if (c->serial == 0 || !pqcoap_responder_by_serial(r, c->serial)) {
            pick = c;
            break;
        }
        if (c->serial < pick->serial)
            pick = c;
    }
    pick->serial = serial;
    memcpy(pick->init_hash, init_hash, 32);
    memcpy(pick->resp, resp, resp_len);
    pick->resp_len = resp_len;
}

static pqcoap_err verify_init(const pqcoap_responder *r, const uint8_t *init, size_t init_len,
                              pqcoap_hs_pending *p)
{
    pqcoap_init_view v;
    PQCOAP_TRY(pqcoap_init_decode(init, init_len, &v));
    if (v.suite->id != r->cfg.suite)
        return PQCOAP_ERR_UNSUPPORTED;

    /* look up the pinned key of initiator_id, check responder_id is ours, verify sig_i */
    memcpy(p->peer_id, v.initiator_id, v.initiator_id_len);
    pqcoap_peer peer;
    PQCOAP_TRY(trusted_key(r, p->peer_id, v.suite, &peer));
    if (v.responder_id_len != strlen(r->id) || memcmp(v.responder_id, r->id, v.responder_id_len))
        return PQCOAP_ERR_UNKNOWN_PEER;
    PQCOAP_TRY(hs_verify(HS_INIT, init, v.suite, &v.sig, peer.pk, NULL));
    /* the session remembers which key made it (PROTOCOL.md "Revocation") */
    PQCOAP_TRY(sha256_of(peer.pk, peer.pk_len, p->peer_pk_hash));

    /* anti-rollback floor: below it rejected; equal with the same SHA-256(INIT) gets the
     * cached RESP again; equal with another INIT rejected; above it a new session */
    PQCOAP_TRY(sha256_of(init, init_len, p->init_hash));
    pqcoap_floor floor;
    PQCOAP_TRY(floor_of(r, p->peer_id, &floor));
    if (v.session_seq < floor.session_seq)
        return PQCOAP_ERR_ROLLBACK;
    if (v.session_seq == floor.session_seq
        && !pqcoap_ct_equal(floor.init_hash, p->init_hash, 32))
        return PQCOAP_ERR_ROLLBACK;
    p->resend = v.session_seq == floor.session_seq;
    p->session_seq = v.session_seq;
    p->suite = v.suite->id;
    p->stage = 1;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_hs_verify(const pqcoap_responder *r, const uint8_t *init,
                                      size_t init_len, pqcoap_hs_pending *p)
{
    if (!p)
        return PQCOAP_ERR_ARG;
    pqcoap_wipe(p, sizeof *p);
    if (!r || !init)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = verify_init(r, init, init_len, p);
    if (err != PQCOAP_OK)
        pqcoap_wipe(p, sizeof *p);
    return err;
}

/* The cached RESP of the identical INIT, while the session it created is live; otherwise
 * the INIT is a rollback. */
static pqcoap_err cached_resp(pqcoap_responder *r, pqcoap_hs_pending *p)
{
    for (size_t i = 0; i < PQCOAP_RESP_CACHE_SLOTS; i++) {
        const pqcoap_resp_cache *c = &r->cache[i];
        if (c->serial == 0 || !pqcoap_ct_equal(c->init_hash, p->init_hash, 32)
            || !pqcoap_responder_by_serial(r, c->serial))
            continue;
        memcpy(p->resp, c->resp, c->resp_len);
        p->resp_len = c->resp_len;
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_ROLLBACK;
}

/* A slot must be able to take the new session; its sid is reserved until commit or abort. */
static pqcoap_err reserve_sid(pqcoap_responder *r, uint64_t now_ms, pqcoap_hs_pending *p)
{
    size_t free_i = PQCOAP_HS_PENDING_MAX, slot;
    for (size_t i = 0; i < PQCOAP_HS_PENDING_MAX && free_i == PQCOAP_HS_PENDING_MAX; i++)
        if (r->pending_sid[i] == 0)
            free_i = i;
    if (free_i == PQCOAP_HS_PENDING_MAX)
        return PQCOAP_ERR_LIMIT;
    PQCOAP_TRY(pqcoap_responder_reserve(r, p->peer_id, now_ms, &slot, &p->sid));
    r->pending_sid[free_i] = p->sid;
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_hs_reserve(pqcoap_responder *r, uint64_t now_ms,
                                       pqcoap_hs_pending *p)
{
    if (!r || !r->slots || !p)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = p->stage != 1 ? PQCOAP_ERR_STATE
                   : p->resend ? cached_resp(r, p) : reserve_sid(r, now_ms, p);
    if (err != PQCOAP_OK)
        pqcoap_wipe(p, sizeof *p);
    else
        p->stage = 2;
    return err;
}

/* New ephemeral X25519 key and ML-KEM ciphertext, the RESP signed with the reserved sid,
 * and the chain keys, into *p. */
static pqcoap_err make_resp(const pqcoap_responder *r, const uint8_t *init, size_t init_len,
                            pqcoap_hs_pending *p)
{
    pqcoap_init_view v;
    uint8_t hash[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_init_decode(init, init_len, &v));
    PQCOAP_TRY(sha256_of(init, init_len, hash));
    if (!pqcoap_ct_equal(hash, p->init_hash, sizeof hash) || v.suite->id != p->suite)
        return PQCOAP_ERR_MALFORMED; /* not the INIT of phase 1 */

    const pqcoap_suite *suite = v.suite;
    const pqcoap_rng *rng = r->cfg.rng;
    uint8_t kem_ct[PQCOAP_KEM_CT_MAX], kem_ss[PQCOAP_KEM_SS_LEN];
    uint8_t x25519_pk[PQCOAP_X25519_LEN], x25519_sk[PQCOAP_X25519_LEN], x25519_ss[32];
    pqcoap_err err = suite->kem->encaps(rng, v.kem_pk, kem_ct, kem_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_keygen(rng, x25519_pk, x25519_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_derive(x25519_sk, v.x25519_pk, x25519_ss);
    if (err == PQCOAP_OK) {
        const pqcoap_resp_view rv = {
            .suite = suite, .sid = p->sid, .lifetime_s = r->cfg.lifetime_s,
            .max_msgs = r->cfg.max_msgs, .kem_ct = kem_ct, .x25519_pk = x25519_pk,
        };
        err = hs_encode(HS_RESP, &rv, suite, r->sk, p->init_hash, rng, p->resp,
                        sizeof p->resp, &p->resp_len);
    }
    if (err == PQCOAP_OK)
        err = pqcoap_key_schedule(init, init_len, p->resp, p->resp_len, kem_ss, x25519_ss,
                                  p->ck_c2s, p->ck_s2c);
    pqcoap_wipe(kem_ss, sizeof kem_ss);
    pqcoap_wipe(x25519_sk, sizeof x25519_sk);
    pqcoap_wipe(x25519_ss, sizeof x25519_ss);
    return err;
}

/* The floor, read again, must still be below session_seq; then it is raised durably, before
 * the RESP leaves. */
static pqcoap_err raise_floor(const pqcoap_responder *r, pqcoap_hs_pending *p)
{
    pqcoap_floor floor;
    PQCOAP_TRY(floor_of(r, p->peer_id, &floor));
    if (p->session_seq <= floor.session_seq)
        return PQCOAP_ERR_ROLLBACK;
    floor.session_seq = p->session_seq;
    memcpy(floor.init_hash, p->init_hash, 32);
    return pqcoap_store_floor_set(r->cfg.store, p->peer_id, &floor);
}

pqcoap_err pqcoap_responder_hs_respond(const pqcoap_responder *r, const uint8_t *init,
                                       size_t init_len, pqcoap_hs_pending *p)
{
    if (!r || !init || !p)
        return PQCOAP_ERR_ARG;
    if (p->stage != 2)
        return PQCOAP_ERR_STATE;
    if (!p->resend) {
        PQCOAP_TRY(make_resp(r, init, init_len, p));
        PQCOAP_TRY(raise_floor(r, p));
    }
    p->stage = 3;
    return PQCOAP_OK;
}

void pqcoap_responder_hs_abort(pqcoap_responder *r, pqcoap_hs_pending *p)
{
    if (!p)
        return;
    for (size_t i = 0; r && p->sid && i < PQCOAP_HS_PENDING_MAX; i++)
        if (r->pending_sid[i] == p->sid)
            r->pending_sid[i] = 0;
    pqcoap_wipe(p, sizeof *p);
}

/* The new session replaces whatever was in its slot; the RESP is kept for identical INITs. */
static pqcoap_err install(pqcoap_responder *r, uint64_t now_ms, const pqcoap_hs_pending *p)
{
    size_t slot;
    uint32_t unused_sid;
    PQCOAP_TRY(pqcoap_responder_reserve(r, p->peer_id, now_ms, &slot, &unused_sid));
    pqcoap_session *s = &r->slots[slot];
    pqcoap_session_setup(s, 0, p->suite, p->sid, r->cfg.max_msgs,
                         pqcoap_expiry(now_ms, r->cfg.lifetime_s), p->ck_s2c, p->ck_c2s,
                         r->cfg.window);
    s->serial = ++r->next_serial;
    s->last_used_ms = now_ms;
    memcpy(s->peer_id, p->peer_id, sizeof s->peer_id);
    memcpy(s->peer_pk_hash, p->peer_pk_hash, sizeof s->peer_pk_hash);
    cache_resp(r, s->serial, p->init_hash, p->resp, p->resp_len);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_hs_commit(pqcoap_responder *r, uint64_t now_ms,
                                      pqcoap_hs_pending *p, uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    if (!r || !r->slots || !p || !out || !out_len) {
        if (r && p)
            pqcoap_responder_hs_abort(r, p);
        return PQCOAP_ERR_ARG;
    }
    pqcoap_err err = p->stage != 3 ? PQCOAP_ERR_STATE
                   : cap < p->resp_len ? PQCOAP_ERR_BUFFER : PQCOAP_OK;
    if (err == PQCOAP_OK && !p->resend)
        err = install(r, now_ms, p);
    if (err == PQCOAP_OK) {
        memcpy(out, p->resp, p->resp_len);
        *out_len = p->resp_len;
    }
    pqcoap_responder_hs_abort(r, p);
    return err;
}

pqcoap_err pqcoap_responder_handshake(pqcoap_responder *r, const uint8_t *init, size_t init_len,
                                      uint64_t now_ms, uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    if (!r || !r->slots || !init || !out || !out_len)
        return PQCOAP_ERR_ARG;
    pqcoap_hs_pending p;
    pqcoap_err err = pqcoap_responder_hs_verify(r, init, init_len, &p);
    if (err == PQCOAP_OK)
        err = pqcoap_responder_hs_reserve(r, now_ms, &p);
    if (err == PQCOAP_OK && !p.resend) {
        err = make_resp(r, init, init_len, &p);
        /* a RESP that does not fit changes nothing, the floor included */
        if (err == PQCOAP_OK && cap < p.resp_len)
            err = PQCOAP_ERR_BUFFER;
        if (err == PQCOAP_OK)
            err = raise_floor(r, &p);
    }
    if (err != PQCOAP_OK) {
        pqcoap_responder_hs_abort(r, &p);
        return err;
    }
    p.stage = 3;
    return pqcoap_responder_hs_commit(r, now_ms, &p, out, cap, out_len);
}
