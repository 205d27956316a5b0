/* Mode B handshake (PROTOCOL.md "Handshake"): the initiator's start and finish, and the
 * responder: its identity, the phases of its side and the RESP cache; sessions go into the
 * table of live peer contexts (peer_table.c), keyed for the record layer (record.c). */
#include "core/handshake_internal.h"
#include "core/record_internal.h"
#include "core/peer_table_internal.h"
#include "common/buf_internal.h"
#include "pqcoap/keys.h"

#include <string.h>

/* ---- key schedule ---- */

static const char LABEL_C2S[] = "pqcoap v1 c2s";
static const char LABEL_S2C[] = "pqcoap v1 s2c";

pqcoap_err pqcoap_handshake_prk(const uint8_t *init, size_t init_len, const uint8_t *resp,
                                size_t resp_len, const uint8_t kem_ss[32],
                                const uint8_t x25519_ss[32], uint8_t prk[32])
{
    /* TH = SHA-256(INIT || RESP) */
    const pqcoap_span transcript[2] = {{init, init_len}, {resp, resp_len}};
    uint8_t th[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_sha256(transcript, 2, th));
    /* PRK = HKDF-Extract(salt = TH, IKM = kem_ss || x25519_ss) */
    const pqcoap_span ikm[2] = {{kem_ss, PQCOAP_KEM_SS_LEN}, {x25519_ss, PQCOAP_X25519_LEN}};
    return pqcoap_hkdf_extract(th, sizeof th, ikm, 2, prk);
}

/* ck_c2s_0 = HKDF-Expand(PRK, "pqcoap v1 c2s", 32), ck_s2c_0 likewise */
static pqcoap_err chains(const uint8_t prk[32], uint8_t ck_c2s[32], uint8_t ck_s2c[32])
{
    PQCOAP_TRY(pqcoap_hkdf_expand(prk, 32, (const uint8_t *)LABEL_C2S, sizeof LABEL_C2S - 1,
                                  ck_c2s, 32));
    return pqcoap_hkdf_expand(prk, 32, (const uint8_t *)LABEL_S2C, sizeof LABEL_S2C - 1,
                              ck_s2c, 32);
}

pqcoap_err pqcoap_key_schedule(const uint8_t *init, size_t init_len,
                               const uint8_t *resp, size_t resp_len,
                               const uint8_t kem_ss[32], const uint8_t x25519_ss[32],
                               uint8_t ck_c2s[32], uint8_t ck_s2c[32])
{
    uint8_t prk[PQCOAP_SHA256_LEN];
    pqcoap_err err = pqcoap_handshake_prk(init, init_len, resp, resp_len, kem_ss, x25519_ss,
                                          prk);
    if (err == PQCOAP_OK)
        err = chains(prk, ck_c2s, ck_s2c);
    pqcoap_wipe(prk, sizeof prk);
    return err;
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

/* The preferred suite: cfg->suite, or (0) the suite of the pinned responder key's
 * algorithm, told by its length (every algorithm has a public key of another length). */
static const pqcoap_suite *preferred_suite(const pqcoap_initiator_cfg *cfg)
{
    if (cfg->suite)
        return pqcoap_suite_find(cfg->suite);
    for (size_t i = 0; pqcoap_suite_at(i); i++)
        if (pqcoap_suite_at(i)->sig->pk_len == cfg->responder_pk_len)
            return pqcoap_suite_at(i);
    return NULL;
}

/* Checks the offer (the preferred suite, then cfg->more) and copies it with the responder's
 * pinned key of each suite into st. */
static pqcoap_err take_offer(pqcoap_initiator *st, const pqcoap_initiator_cfg *cfg,
                             const pqcoap_suite *first)
{
    if (cfg->n_more > PQCOAP_OFFER_MAX - 1 || (cfg->n_more && !cfg->more))
        return PQCOAP_ERR_ARG;
    for (size_t i = 0; i <= cfg->n_more; i++) {
        const pqcoap_suite_offer *o = i ? &cfg->more[i - 1] : NULL;
        const pqcoap_suite *suite = o ? pqcoap_suite_find(o->suite) : first;
        const uint8_t *pk = o ? o->responder_pk : cfg->responder_pk;
        size_t pk_len = o ? o->responder_pk_len : cfg->responder_pk_len;
        pqcoap_key_usage usage = o ? o->responder_usage : cfg->responder_usage;
        if (!suite)
            return PQCOAP_ERR_UNSUPPORTED;
        /* one INIT carries one KEM public key: every suite offered shares its KEM */
        if (!pk || pk_len != suite->sig->pk_len || suite->kem != first->kem)
            return PQCOAP_ERR_ARG;
        for (size_t j = 0; j < i; j++)
            if (st->offer[j] == suite->id)
                return PQCOAP_ERR_ARG;
        /* key separation: a sign-v1 key signs bare messages, so it never verifies a RESP
         * (a RESP "signed" through a sign-v1 endpoint would verify) */
        if (usage != PQCOAP_USAGE_GENERAL)
            return PQCOAP_ERR_KEY_USAGE;
        st->offer[i] = suite->id;
        memcpy(st->responder_pk[i], pk, pk_len);
    }
    st->n_offer = (uint8_t)(cfg->n_more + 1);
    return PQCOAP_OK;
}

pqcoap_err pqcoap_initiator_start(pqcoap_initiator *st, const pqcoap_initiator_cfg *cfg,
                                  uint64_t session_seq, uint64_t timestamp_ms,
                                  const pqcoap_rng *rng, uint8_t *out, size_t cap,
                                  size_t *out_len)
{
    if (!st || !cfg || !out || !out_len || !cfg->sk || !cfg->responder_pk)
        return PQCOAP_ERR_ARG;
    const pqcoap_suite *suite = preferred_suite(cfg);
    const pqcoap_sig_alg *own = cfg->alg
        ? pqcoap_sig_alg_by_name((const uint8_t *)cfg->alg, strlen(cfg->alg))
        : suite ? suite->sig : NULL;
    if (!suite || !own)
        return PQCOAP_ERR_UNSUPPORTED;
    size_t id_len = id_len_of(cfg->id), rid_len = id_len_of(cfg->responder_id);
    if (!id_len || !rid_len || session_seq == 0 || cfg->sk_len != own->sk_len
        || cfg->window == 0 || cfg->window > PQCOAP_WINDOW_MAX)
        return PQCOAP_ERR_ARG;
    /* key separation: a sign-v1 key signs bare messages, so it never signs a handshake */
    if (cfg->usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE;

    pqcoap_initiator_wipe(st);
    pqcoap_err err = take_offer(st, cfg, suite);
    if (err == PQCOAP_OK && cfg->oscore) {
        st->protection = PQCOAP_PROTECTION_OSCORE;
        err = pqcoap_hs_oscore_request_encode(cfg->oscore, st->params, sizeof st->params,
                                              &st->params_len);
    }
    if (err != PQCOAP_OK) {
        pqcoap_initiator_wipe(st);
        return err;
    }
    uint8_t kem_pk[PQCOAP_KEM_PK_MAX], x25519_pk[PQCOAP_X25519_LEN], nonce_i[PQCOAP_NONCE_I_LEN];
    err = suite->kem->keygen(rng, kem_pk, st->kem_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_keygen(rng, x25519_pk, st->x25519_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_random(rng, nonce_i, sizeof nonce_i);
    if (err == PQCOAP_OK) {
        const pqcoap_init_view v = {
            .offer = st->offer, .n_offer = st->n_offer, .suite = suite,
            .initiator_id = (const uint8_t *)cfg->id, .initiator_id_len = id_len,
            .responder_id = (const uint8_t *)cfg->responder_id, .responder_id_len = rid_len,
            .session_seq = session_seq, .timestamp_ms = timestamp_ms,
            .nonce_i = nonce_i, .kem_pk = kem_pk, .x25519_pk = x25519_pk,
            .protection = st->protection, .params = st->params, .params_len = st->params_len,
        };
        err = pqcoap_hs_encode(PQCOAP_HS_INIT, &v, own, cfg->sk, cfg->ek ? cfg->ek->k : NULL,
                               cfg->ek ? cfg->ek->len : 0, NULL, rng, st->init,
                               sizeof st->init, &st->init_len);
    }
    if (err == PQCOAP_OK && cap < st->init_len)
        err = PQCOAP_ERR_BUFFER;
    if (err != PQCOAP_OK) {
        pqcoap_initiator_wipe(st);
        return err;
    }
    memcpy(out, st->init, st->init_len);
    *out_len = st->init_len;
    st->window = cfg->window;
    st->started = 1;
    return PQCOAP_OK;
}

/* The common part of finishing: RESP decoded into *v, of a suite INIT offered and keying
 * what INIT asked for (an OSCORE context: *k from the initiator's view), sig_r verified
 * against the pinned key of that suite, and only then the KEM and X25519 secrets and PRK. */
static pqcoap_err finish_prk(const pqcoap_initiator *st, const uint8_t *resp, size_t resp_len,
                             pqcoap_resp_view *v, pqcoap_hs_oscore *k, uint8_t prk[32])
{
    PQCOAP_TRY(pqcoap_resp_decode(resp, resp_len, v));
    /* the responder chooses among the suites offered, and keys what INIT asked for */
    size_t i = 0;
    while (i < st->n_offer && st->offer[i] != v->suite->id)
        i++;
    if (i == st->n_offer || v->protection != st->protection)
        return PQCOAP_ERR_HANDSHAKE;
    if (st->protection == PQCOAP_PROTECTION_OSCORE)
        PQCOAP_TRY(pqcoap_hs_oscore_resp_check(st->params, st->params_len, v->params,
                                               v->params_len, k));
    else if (v->params_len != 0)
        return PQCOAP_ERR_HANDSHAKE;
    uint8_t init_hash[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(sha256_of(st->init, st->init_len, init_hash));
    /* only after sig_r verifies against the pinned key does the initiator decapsulate */
    PQCOAP_TRY(pqcoap_hs_verify(PQCOAP_HS_RESP, resp, v->suite->sig, &v->sig,
                                st->responder_pk[i], init_hash));

    uint8_t kem_ss[PQCOAP_KEM_SS_LEN], x25519_ss[PQCOAP_X25519_LEN];
    pqcoap_err err = v->suite->kem->decaps(st->kem_sk, v->kem_ct, kem_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_derive(st->x25519_sk, v->x25519_pk, x25519_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_handshake_prk(st->init, st->init_len, resp, resp_len, kem_ss, x25519_ss,
                                   prk);
    pqcoap_wipe(kem_ss, sizeof kem_ss);
    pqcoap_wipe(x25519_ss, sizeof x25519_ss);
    return err;
}

pqcoap_err pqcoap_initiator_finish(pqcoap_initiator *st, const uint8_t *resp, size_t resp_len,
                                   uint64_t now_ms, pqcoap_session *out)
{
    if (!st || !resp || !out)
        return PQCOAP_ERR_ARG;
    if (!st->started)
        return PQCOAP_ERR_STATE;
    if (st->protection != PQCOAP_PROTECTION_SESSION)
        return PQCOAP_ERR_ARG;
    pqcoap_resp_view v;
    uint8_t prk[PQCOAP_SHA256_LEN], c2s[32], s2c[32];
    pqcoap_err err = finish_prk(st, resp, resp_len, &v, NULL, prk);
    if (err == PQCOAP_OK)
        err = chains(prk, c2s, s2c);
    if (err == PQCOAP_OK) {
        pqcoap_session_setup(out, 1, v.suite->id, v.sid, v.max_msgs,
                             pqcoap_expiry(now_ms, v.lifetime_s), c2s, s2c, st->window);
        pqcoap_initiator_wipe(st); /* ephemeral secrets are done */
    }
    pqcoap_wipe(prk, sizeof prk);
    pqcoap_wipe(c2s, sizeof c2s);
    pqcoap_wipe(s2c, sizeof s2c);
    return err;
}

pqcoap_err pqcoap_initiator_finish_oscore(pqcoap_initiator *st, const uint8_t *resp,
                                          size_t resp_len, pqcoap_hs_oscore *out)
{
    if (!st || !resp || !out)
        return PQCOAP_ERR_ARG;
    if (!st->started)
        return PQCOAP_ERR_STATE;
    if (st->protection != PQCOAP_PROTECTION_OSCORE)
        return PQCOAP_ERR_ARG;
    pqcoap_resp_view v;
    pqcoap_hs_oscore k;
    uint8_t prk[PQCOAP_SHA256_LEN];
    memset(&k, 0, sizeof k);
    pqcoap_err err = finish_prk(st, resp, resp_len, &v, &k, prk);
    if (err == PQCOAP_OK)
        err = pqcoap_hs_oscore_export(prk, &k);
    if (err == PQCOAP_OK) {
        k.lifetime_s = v.lifetime_s;
        k.max_msgs = v.max_msgs;
        *out = k;
        pqcoap_initiator_wipe(st); /* ephemeral secrets are done */
    }
    pqcoap_wipe(prk, sizeof prk);
    pqcoap_wipe(&k, sizeof k);
    return err;
}

/* ---- responder ---- */

_Static_assert(PQCOAP_RESPONDER_EK_MAX == PQCOAP_FALCON512_EK_LEN + PQCOAP_FALCON1024_EK_LEN &&
               PQCOAP_FALCON512_EK_LEN % 8 == 0, "session.h: room for one expanded key of each "
               "Falcon parameter set, each 8-byte aligned");

/* Copies identity i (suite, secret key) into r after checking it. */
static pqcoap_err take_identity(pqcoap_responder *r, size_t i, uint8_t suite_id,
                                const uint8_t *sk, size_t sk_len, pqcoap_key_usage usage)
{
    const pqcoap_suite *suite = pqcoap_suite_find(suite_id);
    if (!suite)
        return PQCOAP_ERR_UNSUPPORTED;
    if (!sk || sk_len != suite->sig->sk_len)
        return PQCOAP_ERR_ARG;
    for (size_t j = 0; j < i; j++)
        if (r->suites[j] == suite_id)
            return PQCOAP_ERR_ARG; /* one identity per suite */
    if (usage != PQCOAP_USAGE_GENERAL)
        return PQCOAP_ERR_KEY_USAGE; /* a sign-v1 key never signs a RESP */
    r->suites[i] = suite_id;
    memcpy(r->sk[i], sk, sk_len);
    /* the expanded key, after those of the identities before, where there is room (one
     * Falcon-512 and one Falcon-1024 key); without it the RESP is signed from sk */
    size_t at = i > 0 ? r->ek_at[i - 1] + r->ek_len[i - 1] : 0, len = suite->sig->ek_len;
    r->ek_at[i] = at;
    if (len > 0 && len <= sizeof r->ek - at) {
        if (suite->sig->expand(sk, (uint8_t *)r->ek + at) != PQCOAP_OK)
            return PQCOAP_ERR_ARG; /* not a key of the suite's algorithm */
        r->ek_len[i] = len;
    }
    return PQCOAP_OK;
}

pqcoap_err pqcoap_responder_init(pqcoap_responder *r, const pqcoap_responder_cfg *cfg,
                                 pqcoap_session *slots, size_t n_slots)
{
    if (!r || !cfg || !slots || n_slots == 0 || n_slots >= UINT32_MAX - PQCOAP_HS_PENDING_MAX
        || !cfg->id || !cfg->sk || !cfg->store || !cfg->store->ops
        || cfg->n_more > PQCOAP_RESPONDER_KEYS_MAX - 1 || (cfg->n_more && !cfg->more))
        return PQCOAP_ERR_ARG;
    size_t id_len = strnlen(cfg->id, PQCOAP_ID_MAX + 1);
    if (!pqcoap_id_valid((const uint8_t *)cfg->id, id_len)
        || cfg->window == 0 || cfg->window > PQCOAP_WINDOW_MAX || cfg->lifetime_s == 0
        || cfg->max_msgs == 0)
        return PQCOAP_ERR_ARG;
    memset(r, 0, sizeof *r);
    pqcoap_err err = take_identity(r, 0, cfg->suite, cfg->sk, cfg->sk_len, cfg->usage);
    for (size_t i = 0; err == PQCOAP_OK && i < cfg->n_more; i++)
        err = take_identity(r, i + 1, cfg->more[i].suite, cfg->more[i].sk, cfg->more[i].sk_len,
                            cfg->more[i].usage);
    if (err != PQCOAP_OK) {
        pqcoap_wipe(r, sizeof *r);
        return err;
    }
    r->n_keys = cfg->n_more + 1;
    memcpy(r->id, cfg->id, id_len);
    r->cfg = *cfg;
    r->cfg.id = r->id; /* the copies, not the caller's memory */
    r->cfg.sk = r->sk[0];
    r->cfg.more = NULL;
    r->cfg.n_more = 0;
    pqcoap_peer_table_init(&r->table, slots, n_slots, cfg->evict_idle_ms);
    r->table.id_taken = cfg->id_taken;
    r->table.id_taken_ctx = cfg->id_taken_ctx;
    return PQCOAP_OK;
}

void pqcoap_responder_wipe(pqcoap_responder *r)
{
    if (!r)
        return;
    pqcoap_peer_table_wipe(&r->table);
    pqcoap_wipe(r, sizeof *r);
}

size_t pqcoap_responder_live(const pqcoap_responder *r)
{
    return r ? pqcoap_peer_table_live(&r->table) : 0;
}

void pqcoap_responder_expire(pqcoap_responder *r, uint64_t now_ms, uint64_t *next_ms)
{
    if (r)
        pqcoap_peer_table_expire(&r->table, now_ms, next_ms);
    else if (next_ms)
        *next_ms = UINT64_MAX;
}

pqcoap_err pqcoap_responder_revalidate(pqcoap_responder *r, size_t *ended)
{
    if (!r || !r->table.slots) {
        if (ended)
            *ended = 0;
        return PQCOAP_ERR_ARG;
    }
    return pqcoap_peer_table_revalidate(&r->table, r->cfg.store, ended);
}

/* The trusted key of initiator `id` and its signature algorithm. Unknown, or a key of an
 * algorithm the handshake does not know: PQCOAP_ERR_UNKNOWN_PEER; a sign-v1 key:
 * PQCOAP_ERR_KEY_USAGE. */
static pqcoap_err trusted_key(const pqcoap_responder *r, const char *id, pqcoap_peer *peer,
                              const pqcoap_sig_alg **alg)
{
    PQCOAP_TRY(pqcoap_peer_trusted_key(r->cfg.store, id, NULL, peer));
    *alg = pqcoap_sig_alg_by_name((const uint8_t *)peer->alg, strnlen(peer->alg,
                                                                      sizeof peer->alg));
    return *alg && peer->pk_len == (*alg)->pk_len ? PQCOAP_OK : PQCOAP_ERR_UNKNOWN_PEER;
}

/* The responder's policy: its first identity (in the configured order) whose suite the INIT
 * offered; the decoder made sure every known suite offered has the INIT's KEM. */
static pqcoap_err choose_suite(const pqcoap_responder *r, const pqcoap_init_view *v,
                               pqcoap_hs_pending *p)
{
    for (size_t i = 0; i < r->n_keys; i++) {
        if (pqcoap_init_offers(v, r->suites[i])) {
            p->suite = r->suites[i];
            p->key = (uint8_t)i;
            return PQCOAP_OK;
        }
    }
    return PQCOAP_ERR_UNSUPPORTED;
}

pqcoap_err pqcoap_responder_peer_trusted(const pqcoap_responder *r, const char *peer_id,
                                         const uint8_t pk_hash[32])
{
    if (!r || !peer_id || !pk_hash)
        return PQCOAP_ERR_ARG;
    return pqcoap_peer_still_trusted(r->cfg.store, peer_id, pk_hash);
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
        if (c->serial == 0 || !pqcoap_peer_table_by_serial(&r->table, c->serial)) {
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
    /* what INIT asks for: a protection the responder provides, with parameters it takes */
    if (v.protection > PQCOAP_PROTECTION_OSCORE ||
        !(r->cfg.protections & PQCOAP_PROTECT(v.protection)))
        return PQCOAP_ERR_UNSUPPORTED;
    if (v.protection == PQCOAP_PROTECTION_OSCORE)
        PQCOAP_TRY(pqcoap_hs_oscore_init_decode(v.params, v.params_len, &p->oscore));
    else if (v.params_len != 0)
        return PQCOAP_ERR_MALFORMED;
    p->protection = v.protection;
    PQCOAP_TRY(choose_suite(r, &v, p));

    /* look up the pinned key of initiator_id, check responder_id is ours, verify sig_i by
     * the algorithm of that key: sig_i covers the offer, so no suite can be struck out */
    memcpy(p->peer_id, v.initiator_id, v.initiator_id_len);
    pqcoap_peer peer;
    const pqcoap_sig_alg *alg;
    PQCOAP_TRY(trusted_key(r, p->peer_id, &peer, &alg));
    if (v.responder_id_len != strlen(r->id) || memcmp(v.responder_id, r->id, v.responder_id_len))
        return PQCOAP_ERR_UNKNOWN_PEER;
    PQCOAP_TRY(pqcoap_hs_verify(PQCOAP_HS_INIT, init, alg, &v.sig, peer.pk, NULL));
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
            || !pqcoap_peer_table_by_serial(&r->table, c->serial))
            continue;
        memcpy(p->resp, c->resp, c->resp_len);
        p->resp_len = c->resp_len;
        p->serial = c->serial;
        return PQCOAP_OK;
    }
    return PQCOAP_ERR_ROLLBACK;
}

/* A slot must be able to take the new session; its sid is reserved until commit or abort.
 * For an OSCORE context the sid's bytes are the responder's Recipient ID C_R, which must
 * differ from the initiator's C_I (our Sender ID): if they match, the next free id. */
static pqcoap_err reserve_sid(pqcoap_responder *r, uint64_t now_ms, pqcoap_hs_pending *p)
{
    pqcoap_hs_oscore *k = &p->oscore;
    PQCOAP_TRY(pqcoap_peer_table_pend(&r->table, p->peer_id, now_ms, &p->sid));
    k->recipient_id_len = pqcoap_hs_oscore_id(p->sid, k->recipient_id);
    if (p->protection != PQCOAP_PROTECTION_OSCORE || k->recipient_id_len != k->sender_id_len ||
        memcmp(k->recipient_id, k->sender_id, k->sender_id_len) != 0)
        return PQCOAP_OK;
    uint32_t clash = p->sid;
    pqcoap_err err = pqcoap_peer_table_pend(&r->table, p->peer_id, now_ms, &p->sid);
    pqcoap_peer_table_release(&r->table, clash);
    k->recipient_id_len = pqcoap_hs_oscore_id(p->sid, k->recipient_id);
    return err;
}

pqcoap_err pqcoap_responder_hs_reserve(pqcoap_responder *r, uint64_t now_ms,
                                       pqcoap_hs_pending *p)
{
    if (!r || !r->table.slots || !p)
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
 * and the chain keys (or the OSCORE Master Secret and Salt), into *p. */
static pqcoap_err make_resp(const pqcoap_responder *r, const uint8_t *init, size_t init_len,
                            pqcoap_hs_pending *p)
{
    pqcoap_init_view v;
    uint8_t hash[PQCOAP_SHA256_LEN];
    PQCOAP_TRY(pqcoap_init_decode(init, init_len, &v));
    PQCOAP_TRY(sha256_of(init, init_len, hash));
    if (!pqcoap_ct_equal(hash, p->init_hash, sizeof hash))
        return PQCOAP_ERR_MALFORMED; /* not the INIT of phase 1 */

    const pqcoap_suite *suite = pqcoap_suite_find(p->suite);
    const pqcoap_rng *rng = r->cfg.rng;
    uint8_t kem_ct[PQCOAP_KEM_CT_MAX], kem_ss[PQCOAP_KEM_SS_LEN], prk[PQCOAP_SHA256_LEN];
    uint8_t x25519_pk[PQCOAP_X25519_LEN], x25519_sk[PQCOAP_X25519_LEN], x25519_ss[32];
    uint8_t params[PQCOAP_HS_PARAMS_MAX];
    size_t params_len = 0;
    int oscore = p->protection == PQCOAP_PROTECTION_OSCORE;
    pqcoap_err err = oscore ? pqcoap_hs_oscore_resp_encode(&p->oscore, params, sizeof params,
                                                           &params_len)
                            : PQCOAP_OK;
    if (err == PQCOAP_OK)
        err = suite->kem->encaps(rng, v.kem_pk, kem_ct, kem_ss);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_keygen(rng, x25519_pk, x25519_sk);
    if (err == PQCOAP_OK)
        err = pqcoap_x25519_derive(x25519_sk, v.x25519_pk, x25519_ss);
    if (err == PQCOAP_OK) {
        const pqcoap_resp_view rv = {
            .suite = suite, .sid = p->sid, .lifetime_s = r->cfg.lifetime_s,
            .max_msgs = r->cfg.max_msgs, .kem_ct = kem_ct, .x25519_pk = x25519_pk,
            .protection = p->protection, .params = params, .params_len = params_len,
        };
        err = pqcoap_hs_encode(PQCOAP_HS_RESP, &rv, suite->sig, r->sk[p->key],
                               (const uint8_t *)r->ek + r->ek_at[p->key], r->ek_len[p->key],
                               p->init_hash, rng, p->resp, sizeof p->resp, &p->resp_len);
    }
    if (err == PQCOAP_OK)
        err = pqcoap_handshake_prk(init, init_len, p->resp, p->resp_len, kem_ss, x25519_ss,
                                   prk);
    if (err == PQCOAP_OK)
        err = oscore ? pqcoap_hs_oscore_export(prk, &p->oscore) : chains(prk, p->ck_c2s,
                                                                         p->ck_s2c);
    p->oscore.lifetime_s = r->cfg.lifetime_s;
    p->oscore.max_msgs = r->cfg.max_msgs;
    pqcoap_wipe(prk, sizeof prk);
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
    if (r)
        pqcoap_peer_table_release(&r->table, p->sid);
    pqcoap_wipe(p, sizeof *p);
}

/* The new session (or the entry of an OSCORE context, without Mode B keys) replaces
 * whatever was in its slot; the RESP is kept for identical INITs. */
static pqcoap_err install(pqcoap_responder *r, uint64_t now_ms, pqcoap_hs_pending *p)
{
    size_t slot;
    uint32_t unused_sid;
    PQCOAP_TRY(pqcoap_peer_table_reserve(&r->table, p->peer_id, now_ms, &slot, &unused_sid));
    pqcoap_session *s = &r->table.slots[slot];
    pqcoap_session_setup(s, 0, p->suite, p->sid, r->cfg.max_msgs,
                         pqcoap_expiry(now_ms, r->cfg.lifetime_s), p->ck_s2c, p->ck_c2s,
                         r->cfg.window);
    pqcoap_peer_table_stamp(&r->table, s, p->peer_id, p->peer_pk_hash, now_ms);
    s->protection = p->protection;
    p->serial = s->serial;
    cache_resp(r, s->serial, p->init_hash, p->resp, p->resp_len);
    return PQCOAP_OK;
}

/* Phase 4 without the final release: *p still tells what was made. */
static pqcoap_err commit(pqcoap_responder *r, uint64_t now_ms, pqcoap_hs_pending *p,
                         uint8_t *out, size_t cap, size_t *out_len)
{
    if (!r || !r->table.slots || !p || !out || !out_len)
        return PQCOAP_ERR_ARG;
    pqcoap_err err = p->stage != 3 ? PQCOAP_ERR_STATE
                   : cap < p->resp_len ? PQCOAP_ERR_BUFFER : PQCOAP_OK;
    if (err == PQCOAP_OK && !p->resend)
        err = install(r, now_ms, p);
    if (err == PQCOAP_OK) {
        memcpy(out, p->resp, p->resp_len);
        *out_len = p->resp_len;
    }
    return err;
}

pqcoap_err pqcoap_responder_hs_commit(pqcoap_responder *r, uint64_t now_ms,
                                      pqcoap_hs_pending *p, uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    pqcoap_err err = commit(r, now_ms, p, out, cap, out_len);
    if (r && p)
        pqcoap_responder_hs_abort(r, p);
    return err;
}

int pqcoap_responder_entry_live(pqcoap_responder *r, uint64_t serial, uint64_t now_ms)
{
    const pqcoap_session *s = r ? pqcoap_peer_table_by_serial(&r->table, serial) : NULL;
    return s && now_ms < s->expires_ms;
}

pqcoap_err pqcoap_responder_handshake(pqcoap_responder *r, const uint8_t *init, size_t init_len,
                                      uint64_t now_ms, uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    return pqcoap_responder_handshake_ex(r, init, init_len, now_ms, out, cap, out_len, NULL);
}

pqcoap_err pqcoap_responder_handshake_ex(pqcoap_responder *r, const uint8_t *init,
                                         size_t init_len, uint64_t now_ms, uint8_t *out,
                                         size_t cap, size_t *out_len, pqcoap_hs_result *res)
{
    if (!r || !r->table.slots || !init || !out || !out_len)
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
    err = commit(r, now_ms, &p, out, cap, out_len);
    if (err == PQCOAP_OK && res) {
        memset(res, 0, sizeof *res);
        res->protection = p.protection;
        res->resent = p.resend;
        res->serial = p.serial;
        const pqcoap_session *s = pqcoap_peer_table_by_serial(&r->table, p.serial);
        res->id = s ? s->sid : 0;
        memcpy(res->peer_id, p.peer_id, sizeof res->peer_id);
        if (p.protection == PQCOAP_PROTECTION_OSCORE && !p.resend)
            res->oscore = p.oscore;
    }
    pqcoap_responder_hs_abort(r, &p);
    return err;
}
